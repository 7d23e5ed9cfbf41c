import type { ClusterNode, ClusterOptions, RedisOptions } from 'ioredis';

/** `embedded`: an in-process cache (ioredis-mock) made durable by snapshots. `redis`: a real Redis or Valkey. */
export type CacheMode = 'embedded' | 'redis';

/** What to do when the snapshot cannot be restored at startup. */
export type RestoreErrorPolicy = 'fail' | 'start-empty';

/** Options of {@link PersistentCacheModule}. Every field is optional; defaults are listed per field. */
export interface PersistentCacheModuleOptions {
  /** Where the data lives. Default `"embedded"`. */
  mode?: CacheMode;
  /** How the embedded cache is made durable (ignored in `redis` mode: Redis keeps its own data). */
  persistence?: PersistenceOptions;
  /** The Redis to connect to in `redis` mode. */
  redis?: RedisConnectionOptions;
  health?: HealthOptions;
  /** How much memory the embedded cache may hold, and what happens at the limit (ignored in `redis` mode). */
  memory?: MemoryOptions;
}

/** Redis's `maxmemory-policy` values: what to do when a write would go over the memory limit. */
export type MaxMemoryPolicy =
  | 'noeviction'
  | 'allkeys-lru'
  | 'allkeys-lfu'
  | 'allkeys-random'
  | 'volatile-lru'
  | 'volatile-lfu'
  | 'volatile-random'
  | 'volatile-ttl';

/** The embedded cache's memory limit, as Redis's `maxmemory` settings (see the README's "Memory"). */
export interface MemoryOptions {
  /**
   * The most the keys may hold (their estimated size, as `INFO memory`'s `used_memory`): bytes, a size such as
   * `"512mb"` or `"2gb"`, a share of V8's heap limit such as `"50%"`, or `0` for no limit. Default `"50%"`.
   */
  maxBytes?: number | string;
  /** What to do at the limit (Redis's `maxmemory-policy`). Default `"noeviction"`: refuse writes with an OOM error. */
  policy?: MaxMemoryPolicy;
  /** Keys sampled for each eviction (Redis's `maxmemory-samples`), 1 to 64. Default `5`. */
  samples?: number;
  /**
   * Keys unused for this long are packed into their encoded bytes in the background, about the size redis-server
   * needs for them (see the README's "Memory"): ms or a duration string such as `"30s"`, `0` to never pack.
   * Default `"10s"`.
   */
  packAfter?: number | string;
}

/** How the embedded cache is made durable. */
export interface PersistenceOptions {
  /** Snapshot the cache to disk and restore it on startup. `false` gives a plain in-memory cache. Default `true`. */
  enabled?: boolean;
  /** Directory of the snapshot store, created with mode 0700 if missing. Default `./data` (from the cwd). */
  dataDir?: string;
  /**
   * Time between periodic snapshots: milliseconds, or a duration such as `"30s"`, `"5m"`, `"1h"`, `"250ms"`.
   * `0` disables periodic snapshots. Default `"5m"`.
   */
  snapshotInterval?: number | string;
  /** Take a final snapshot when the application shuts down. Default `true`. */
  snapshotOnShutdown?: boolean;
  /** Restore the last snapshot when the module starts. Default `true`. */
  restoreOnStartup?: boolean;
  /**
   * When the snapshot's content is damaged (or in a format this version does not read): `"fail"` stops the
   * bootstrap with an error naming the problem; `"start-empty"` moves the snapshot aside (into
   * `<dataDir>/quarantine/<time>/`), logs an error and starts with an empty cache. Default `"fail"`. Problems that
   * are not damage (permissions, a full disk, a file of the wrong kind) always stop the bootstrap.
   */
  onRestoreError?: RestoreErrorPolicy;
}

/** The Redis (or Valkey) of `redis` mode: a URL, ioredis options (sentinels included), or both; or a cluster. */
export interface RedisConnectionOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`. */
  url?: string;
  /** ioredis options, merged over what the URL gives. */
  options?: RedisOptions;
  /** A Redis Cluster: the client is then an ioredis `Cluster` (it answers the same commands). */
  cluster?: { nodes: ClusterNode[]; options?: ClusterOptions };
}

export interface HealthOptions {
  /** The health indicator reports down when the last snapshot is older than this many intervals. Default `3`. */
  maxSnapshotAgeIntervals?: number;
}

export interface ResolvedRedisOptions {
  readonly url: string | undefined;
  readonly options: RedisOptions;
  readonly cluster: { readonly nodes: ClusterNode[]; readonly options: ClusterOptions } | undefined;
}

/** The options after defaults and validation: what the module runs with. */
export interface ResolvedPersistentCacheOptions {
  readonly mode: CacheMode;
  readonly persistence: {
    /** Always `false` in `redis` mode. */
    readonly enabled: boolean;
    /** Absolute path. */
    readonly dataDir: string;
    /** Milliseconds; `0` when periodic snapshots are disabled. */
    readonly snapshotIntervalMs: number;
    readonly snapshotOnShutdown: boolean;
    readonly restoreOnStartup: boolean;
    readonly onRestoreError: RestoreErrorPolicy;
  };
  /** Set in `redis` mode. */
  readonly redis: ResolvedRedisOptions | undefined;
  readonly health: { readonly maxSnapshotAgeIntervals: number };
  readonly memory: {
    /** Bytes; 0 for no limit. */
    readonly maxBytes: number;
    /** As given (e.g. `"50%"`), for log lines. */
    readonly maxBytesGiven: number | string;
    readonly policy: MaxMemoryPolicy;
    readonly samples: number;
    /** Ms; 0: keys are never packed. */
    readonly packAfter: number;
  };
}
