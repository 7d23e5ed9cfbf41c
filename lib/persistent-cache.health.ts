import { Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef, ModulesContainer } from '@nestjs/core';
import type { HealthIndicatorService } from '@nestjs/terminus';
import { Cluster, type Redis } from 'ioredis';
import {
  clusterHealth,
  type PersistentCacheClusterNodeHealth,
} from './persistent-cache.cluster-health';
import { describeRedisTarget, lastConnectionError } from './persistent-cache.client';
import type { CacheMode } from './persistent-cache.interfaces';
import { type CacheInstance, cachesOf } from './persistent-cache.registry';
import { withTimeout } from './util/timeout';
import { messageOf } from './util/errors';
import {
  HEALTH_LAST_SNAPSHOT_FAILED,
  HEALTH_CLOSED,
  HEALTH_OUT_OF_MEMORY,
  HEALTH_PROVIDER_MISSING,
  HEALTH_SNAPSHOT_TOO_OLD,
  HEALTH_UNSTORABLE_KEYS,
  TERMINUS_MISSING,
  UNKNOWN_CACHE,
} from './persistent-cache.messages';

/** How long the health check waits for Redis to answer PING in `redis` mode. */
export const HEALTH_PING_TIMEOUT_MS = 1_000;

/** What the indicator reports besides `status`; which fields are set depends on the mode and the state. */
export interface PersistentCacheHealthDetails {
  readonly mode: CacheMode;
  /** The cache's name, for a named cache (`forRoot({ name })`). */
  readonly cache?: string;
  /** Why the cache is down. */
  readonly message?: string;
  /** Embedded mode with persistence off. */
  readonly persistence?: 'disabled';
  /** Embedded mode with `persistence.snapshotInterval` 0. */
  readonly periodicSnapshots?: 'disabled';
  /**
   * ISO time of the point in time the last successful snapshot holds; before the first since startup, the restored
   * one's.
   */
  readonly lastSnapshotAt?: string;
  /** Keys in the last successful snapshot. */
  readonly lastSnapshotKeys?: number;
  /** Milliseconds since the last successful snapshot began (or since startup, when there has been none). */
  readonly snapshotAgeMs?: number;
  /** The age above which the indicator reports down: `health.maxSnapshotAgeIntervals` × the interval. */
  readonly maxSnapshotAgeMs?: number;
  /** ISO time of the last snapshot's failure, when the last snapshot failed. */
  readonly lastFailureAt?: string;
  /** Embedded mode: the keys' estimated bytes (`INFO memory`'s `used_memory`). */
  readonly memoryBytes?: number;
  /** Embedded mode: the memory limit in bytes, 0 for none. */
  readonly maxMemoryBytes?: number;
  /** Redis mode: where the client connects (never with a password). */
  readonly redis?: string;
  /** Redis mode: the ioredis connection status (`ready`, `reconnecting`, …). */
  readonly connection?: string;
  /** Redis mode: PING's round trip in milliseconds (on a cluster, each node's is in `nodes`). */
  readonly pingMs?: number;
  /** Redis through Sentinel: the `host:port` of the primary the client is connected to now. */
  readonly primary?: string;
  /** Redis Cluster: `cluster_state` as the first reachable primary reports it. */
  readonly clusterState?: string;
  /** Redis Cluster: each primary, with the slots it serves and whether it answered PING. */
  readonly nodes?: readonly PersistentCacheClusterNodeHealth[];
}

/**
 * The indicator's result, shaped like `@nestjs/terminus`'s `HealthIndicatorResult` (so it can be returned from a
 * `HealthCheckService.check([...])` function) without naming terminus's types in this library's public types.
 */
export type PersistentCacheHealthResult<Key extends string = string> = Record<
  Key,
  { status: 'up' | 'down' } & PersistentCacheHealthDetails
>;

type Terminus = typeof import('@nestjs/terminus');

/** `@nestjs/terminus` is an optional peer dependency: it is loaded when the indicator is first used. */
function loadTerminus(): Terminus {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@nestjs/terminus') as Terminus;
  } catch (error) {
    throw new Error(TERMINUS_MISSING(messageOf(error)));
  }
}

/**
 * A `@nestjs/terminus` health indicator of the cache.
 *
 * - Embedded mode: **down** when the last snapshot failed (with its error and time), when it left out keys whose
 *   values cannot be stored (naming them), or when the last successful
 *   snapshot — or the startup, before the first one — is older than `health.maxSnapshotAgeIntervals` ×
 *   `persistence.snapshotInterval`; **up** otherwise, with the age, time and key count of the last snapshot. With
 *   periodic snapshots off (interval 0) only a failure makes it down; with persistence off it is always up
 *   (`persistence: 'disabled'`).
 * - Redis mode: PINGs the client (waiting at most {@link HEALTH_PING_TIMEOUT_MS}); **down** with the error when
 *   PING fails or is not answered in time. On a Redis Cluster it PINGs every primary and reports each with its
 *   slots; **down** when some slot range has no primary that answers, or the cluster's own state is not `ok`.
 *   Through Sentinel it also reports the primary the client is connected to (`primary`).
 *
 * **Wiring.** `@nestjs/terminus` is an optional peer dependency: nothing in this library loads it unless this
 * indicator is used, so applications without health checks need not install it. To use it, install
 * `@nestjs/terminus` and list the indicator as a provider of a module that imports `TerminusModule`:
 *
 *     @Module({ imports: [TerminusModule], controllers: [HealthController], providers: [PersistentCacheHealthIndicator] })
 *     export class HealthModule {}
 *
 *     @Get('health') @HealthCheck()
 *     check() { return this.health.check([() => this.cache.isHealthy('cache')]); }
 *
 * The module it is provided in does not need to import `PersistentCacheModule`: like terminus's own indicators it
 * finds the caches anywhere in the application. `isHealthy(key)` reports the default cache (the first cache when the
 * application has no unnamed one), `isHealthy(key, 'sessions')` the cache named `sessions`. Startup fails with a
 * clear error when `TerminusModule` or `PersistentCacheModule` is missing.
 */
@Injectable()
export class PersistentCacheHealthIndicator implements OnModuleInit {
  private indicators!: HealthIndicatorService;
  /** Before the first snapshot, the age is counted from here. */
  private readonly startedAt = Date.now();

  constructor(
    private readonly moduleRef: ModuleRef,
    private readonly container: ModulesContainer,
  ) {}

  onModuleInit(): void {
    const terminus = loadTerminus();
    try {
      this.indicators = this.moduleRef.get(terminus.HealthIndicatorService, { strict: false });
    } catch {
      throw new Error(
        HEALTH_PROVIDER_MISSING(
          'HealthIndicatorService: import TerminusModule in the module that provides the indicator',
        ),
      );
    }
    if (cachesOf(this.container).length === 0) {
      throw new Error(
        HEALTH_PROVIDER_MISSING('PersistentCacheModule: import it in the application'),
      );
    }
  }

  /**
   * Reports the cache under `key` (e.g. `'cache'`): the default cache, or the one named `cache`. Never throws: a
   * name no cache has is reported down, naming the caches there are.
   */
  async isHealthy<const Key extends string>(
    key: Key,
    cache?: string,
  ): Promise<PersistentCacheHealthResult<Key>> {
    const session = this.indicators.check(key);
    const { status, ...details } = await this.healthOf(cache);
    const result = status === 'up' ? session.up(details) : session.down(details);
    return result;
  }

  private async healthOf(name: string | undefined): Promise<HealthState> {
    const caches = cachesOf(this.container);
    const found =
      name === undefined
        ? (caches.find((c) => c.name === null) ?? caches[0])
        : caches.find((c) => c.name === name);
    if (found === undefined) {
      const known = caches.map((c) => c.name);
      return { status: 'down', mode: 'embedded', message: UNKNOWN_CACHE(name ?? '', known) };
    }
    const state =
      found.options.mode === 'redis'
        ? (await redisHealth(found)).state
        : this.embeddedHealth(found);
    return found.name === null ? state : { ...state, cache: found.name };
  }

  private embeddedHealth(cache: CacheInstance): HealthState {
    const { keyspace } = cache;
    const memory = { memoryBytes: keyspace.usedBytes, maxMemoryBytes: keyspace.memory.maxBytes };
    const state = this.snapshotHealth(cache);
    if (keyspace.stopped) return { ...state, status: 'down', message: HEALTH_CLOSED, ...memory };
    if (state.status === 'up' && keyspace.refusingWrites) {
      const message = HEALTH_OUT_OF_MEMORY(
        memory.memoryBytes,
        memory.maxMemoryBytes,
        keyspace.memory.policy,
      );
      return { ...state, status: 'down', message, ...memory };
    }
    return { ...state, ...memory };
  }

  private snapshotHealth({ options, snapshots }: CacheInstance): HealthState {
    const { persistence, health } = options;
    if (!persistence.enabled) return { status: 'up', mode: 'embedded', persistence: 'disabled' };
    const last = snapshots.lastSnapshot;
    // Before the first snapshot since startup, the one the restore found.
    const restored = snapshots.restoredFrom;
    const lastSnapshot =
      last !== undefined
        ? { lastSnapshotAt: last.startedAt.toISOString(), lastSnapshotKeys: last.keys }
        : restored !== undefined
          ? { lastSnapshotAt: restored.at.toISOString(), lastSnapshotKeys: restored.keys }
          : {};
    const failure = snapshots.lastFailure;
    if (failure !== undefined) {
      return {
        status: 'down',
        mode: 'embedded',
        message: HEALTH_LAST_SNAPSHOT_FAILED(failure.message),
        lastFailureAt: failure.at.toISOString(),
        ...lastSnapshot,
      };
    }
    if (last !== undefined && last.unstorable > 0) {
      return {
        status: 'down',
        mode: 'embedded',
        message: HEALTH_UNSTORABLE_KEYS(
          last.unstorable,
          last.unstorableKeys
            .slice(0, 3)
            .map((u) => u.message)
            .join('; '),
        ),
        ...lastSnapshot,
      };
    }
    const intervalMs = persistence.snapshotIntervalMs;
    if (intervalMs === 0) {
      return { status: 'up', mode: 'embedded', periodicSnapshots: 'disabled', ...lastSnapshot };
    }
    const since = last?.startedAt.getTime() ?? this.startedAt;
    const snapshotAgeMs = Math.max(0, Date.now() - since);
    const maxSnapshotAgeMs = health.maxSnapshotAgeIntervals * intervalMs;
    const age = { snapshotAgeMs, maxSnapshotAgeMs, ...lastSnapshot };
    if (snapshotAgeMs > maxSnapshotAgeMs) {
      return {
        status: 'down',
        mode: 'embedded',
        message: HEALTH_SNAPSHOT_TOO_OLD(
          snapshotAgeMs,
          last !== undefined,
          health.maxSnapshotAgeIntervals,
          intervalMs,
        ),
        ...age,
      };
    }
    return { status: 'up', mode: 'embedded', ...age };
  }
}

type HealthState = { status: 'up' | 'down' } & PersistentCacheHealthDetails;

/** What {@link redisHealth} found: the health report, and what only the metrics show. */
export interface RedisHealth {
  readonly state: HealthState;
  /** On a Redis Cluster: the slots whose primary answered PING. */
  readonly slotsServed?: number;
}

/**
 * The health of a cache in `redis` mode, for the indicator and the metrics: a PING of the server (waiting at most
 * {@link HEALTH_PING_TIMEOUT_MS}), or of every primary of a cluster. Never throws.
 */
export async function redisHealth({ options, client }: CacheInstance): Promise<RedisHealth> {
  const redis = options.redis === undefined ? '' : describeRedisTarget(options.redis);
  if (client instanceof Cluster) {
    const { slotsServed, ...health } = await clusterHealth(client, HEALTH_PING_TIMEOUT_MS);
    return { state: { mode: 'redis', redis, connection: client.status, ...health }, slotsServed };
  }
  const started = Date.now();
  try {
    const reply = await withTimeout(
      client.ping(),
      HEALTH_PING_TIMEOUT_MS,
      `PING not answered within ${HEALTH_PING_TIMEOUT_MS} ms`,
    );
    if (reply !== 'PONG') throw new Error(`PING answered ${JSON.stringify(reply)}`);
    const primary = sentinelPrimary(options, client);
    return {
      state: {
        status: 'up',
        mode: 'redis',
        redis,
        connection: client.status,
        pingMs: Date.now() - started,
        ...(primary === undefined ? {} : { primary }),
      },
    };
  } catch (error) {
    const cause = lastConnectionError(client);
    const message = messageOf(error);
    return {
      state: {
        status: 'down',
        mode: 'redis',
        redis,
        connection: client.status,
        message:
          cause === undefined ? message : `${message} (last connection error: ${cause.message})`,
      },
    };
  }
}

/**
 * Through Sentinel the configuration names the sentinels, not the server: the address the connection reached is
 * the primary they named, which changes with a failover. `undefined` without sentinels, or while not connected.
 */
export function sentinelPrimary(
  options: CacheInstance['options'],
  client: Redis,
): string | undefined {
  const sentinels = options.redis?.options.sentinels;
  const { remoteAddress, remotePort } = client.stream ?? {};
  if (sentinels === undefined || sentinels.length === 0 || remotePort === undefined)
    return undefined;
  return `${remoteAddress?.replace(/^::ffff:/, '') ?? ''}:${remotePort}`;
}
