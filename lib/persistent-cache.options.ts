import { resolve } from 'node:path';
import type { ClusterNode, ClusterOptions } from 'ioredis';
import { MAXMEMORY_POLICIES } from './keyspace/eviction';
import { parseSize, SIZE_ACCEPTED } from './util/sizes';
import type {
  CacheMode,
  PersistentCacheModuleOptions,
  ResolvedPersistentCacheOptions,
  ResolvedRedisOptions,
  RestoreErrorPolicy,
} from './persistent-cache.interfaces';
import {
  INVALID_OPTION,
  INVALID_OPTION_BECAUSE,
  UNKNOWN_OPTION,
} from './persistent-cache.messages';
import { redactUrl } from './util/redact-url';
import { ConfigError } from './util/errors';
import {
  checkRedisUrl,
  CLUSTER_DB_ONLY,
  DB_ACCEPTED,
  isDbIndex,
  isPort,
  PORT_ACCEPTED,
  REDIS_URL_ACCEPTED,
  REDIS_URL_FORM,
  type RedisUrl,
} from './util/redis-url';

/** The defaults, in one place. */
export const DEFAULTS = {
  mode: 'embedded',
  persistence: {
    enabled: true,
    dataDir: './data',
    snapshotInterval: '5m',
    snapshotOnShutdown: true,
    restoreOnStartup: true,
    onRestoreError: 'fail',
  },
  health: {
    maxSnapshotAgeIntervals: 3,
  },
  memory: {
    maxBytes: '50%',
    policy: 'noeviction',
    samples: 5,
    packAfter: '10s',
  },
} as const;

export const MODES: readonly CacheMode[] = ['embedded', 'redis'];
export const RESTORE_ERROR_POLICIES: readonly RestoreErrorPolicy[] = ['fail', 'start-empty'];
export { MAXMEMORY_POLICIES };
export const SAMPLES_ACCEPTED = 'a whole number from 1 to 64';
export const MAX_AGE_ACCEPTED = 'a number of intervals, at least 1';

/** `setInterval` takes at most a signed 32-bit delay; a larger one fires after 1 ms instead. */
export const MAX_INTERVAL_MS = 2 ** 31 - 1;

export const DURATION_ACCEPTED =
  `a number of milliseconds (0 to disable, at most ${MAX_INTERVAL_MS}) ` +
  'or a duration string such as "250ms", "30s", "5m", "1h", "1d"';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration: a number of milliseconds, or a string of digits with an optional unit
 * (`ms`, `s`, `m`, `h`, `d`; no unit means milliseconds). Returns `undefined` when it is not one, or when it is
 * over `max` (by default what `setInterval` takes).
 */
export function parseDuration(value: unknown, max = MAX_INTERVAL_MS): number | undefined {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$/.exec(value);
    if (match === null) return undefined;
    ms = Number(match[1]) * UNIT_MS[match[2] ?? 'ms'];
  } else {
    return undefined;
  }
  if (!Number.isFinite(ms) || ms < 0 || ms > max || !Number.isInteger(ms)) return undefined;
  return ms;
}

const TOP_LEVEL = ['mode', 'persistence', 'redis', 'health', 'memory'] as const;
const MEMORY_KEYS = Object.keys(DEFAULTS.memory);
const PERSISTENCE_KEYS = Object.keys(DEFAULTS.persistence);
const REDIS_KEYS = ['url', 'options', 'cluster'] as const;
const HEALTH_KEYS = Object.keys(DEFAULTS.health);

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function checkKeys(
  object: Record<string, unknown>,
  known: readonly string[],
  prefix: string,
): void {
  for (const key of Object.keys(object)) {
    if (!known.includes(key)) {
      throw new Error(
        UNKNOWN_OPTION(
          `${prefix}${key}`,
          known.map((k) => `${prefix}${k}`),
        ),
      );
    }
  }
}

/**
 * A group of options (`persistence`, `memory`, …), `{}` when it is not given. `null` is refused like any other value
 * that is not an object: `persistence: null` meant as "no persistence" would have turned the default persistence on.
 */
function group(value: unknown, name: string, known: readonly string[]): Record<string, unknown> {
  const object = value === undefined ? {} : value;
  if (!isPlainObject(object)) {
    throw new Error(INVALID_OPTION(name, 'an object (left out, for the defaults)', object));
  }
  checkKeys(object, known, `${name}.`);
  return object;
}

function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new Error(INVALID_OPTION(name, 'true or false', value));
  return value;
}

/**
 * An option's value, or its default when it is not given. Only `undefined` is "not given": `null` is a value, refused
 * with the option's message (as the boolean and one-of options refuse it), not taken for the default (`maxBytes:
 * null` meant as "no limit" would have set the default limit).
 */
function orDefault<T>(value: unknown, fallback: T): unknown {
  return value === undefined ? fallback : value;
}

function oneOf<T extends string>(
  value: unknown,
  name: string,
  accepted: readonly T[],
  fallback: T,
): T {
  if (value === undefined) return fallback;
  if (!accepted.includes(value as T)) {
    throw new Error(
      INVALID_OPTION(name, `one of ${accepted.map((a) => `"${a}"`).join(', ')}`, value),
    );
  }
  return value as T;
}

function resolvePersistence(value: unknown): ResolvedPersistentCacheOptions['persistence'] {
  const persistence = group(value, 'persistence', PERSISTENCE_KEYS);
  const defaults = DEFAULTS.persistence;
  const dataDir = orDefault(persistence.dataDir, defaults.dataDir);
  if (typeof dataDir !== 'string' || dataDir.trim() === '' || dataDir.includes('\0')) {
    throw new Error(INVALID_OPTION('persistence.dataDir', 'a non-empty directory path', dataDir));
  }
  const interval = orDefault(persistence.snapshotInterval, defaults.snapshotInterval);
  const snapshotIntervalMs = parseDuration(interval);
  if (snapshotIntervalMs === undefined) {
    throw new Error(INVALID_OPTION('persistence.snapshotInterval', DURATION_ACCEPTED, interval));
  }
  return {
    enabled: booleanOption(persistence.enabled, 'persistence.enabled', defaults.enabled),
    // Normalised (`/d/`, `/d/./` and `/x/../d` are `/d`): two caches on one directory are found by its path.
    dataDir: resolve(dataDir),
    snapshotIntervalMs,
    snapshotOnShutdown: booleanOption(
      persistence.snapshotOnShutdown,
      'persistence.snapshotOnShutdown',
      defaults.snapshotOnShutdown,
    ),
    restoreOnStartup: booleanOption(
      persistence.restoreOnStartup,
      'persistence.restoreOnStartup',
      defaults.restoreOnStartup,
    ),
    onRestoreError: oneOf(
      persistence.onRestoreError,
      'persistence.onRestoreError',
      RESTORE_ERROR_POLICIES,
      defaults.onRestoreError,
    ),
  };
}

/** `redis.url`, and URL entries of `redis.cluster.nodes`: checked here, once, rather than by ioredis (see `redis-url.ts`). */
function checkUrl(value: unknown, name: string, accepted = REDIS_URL_ACCEPTED): RedisUrl {
  if (typeof value !== 'string') throw new Error(INVALID_OPTION(name, accepted, value));
  const checked = checkRedisUrl(value);
  if ('problem' in checked) {
    throw new Error(INVALID_OPTION_BECAUSE(name, accepted, redactUrl(value), checked.problem));
  }
  return checked.url;
}

/**
 * A port or database of ioredis options: a number, or a string of digits (ioredis reads those with `parseInt`, which
 * would also take `"6379abc"`). Returns the number, `undefined` when not given.
 */
function wholeNumber(
  value: unknown,
  name: string,
  accepted: string,
  valid: (n: number) => boolean,
): number | undefined {
  if (value === undefined) return undefined;
  const n = typeof value === 'string' && /^\d+$/.test(value) ? Number(value) : value;
  if (typeof n !== 'number' || !valid(n)) throw new Error(INVALID_OPTION(name, accepted, value));
  return n;
}

/** A database given where a cluster is: a Redis Cluster has only database 0 (ioredis would drop or fail it). */
function refuseClusterDb(db: number | undefined, name: string, got: unknown): void {
  if (db === undefined || db === 0) return;
  throw new Error(
    INVALID_OPTION_BECAUSE(
      name,
      'no database or database 0 with redis.cluster',
      got,
      `it names database ${db}, and ${CLUSTER_DB_ONLY}`,
    ),
  );
}

/** What an entry of `redis.cluster.nodes` may be. */
export const CLUSTER_NODE_ACCEPTED =
  `"host:port", a URL ${REDIS_URL_FORM} without a database other than 0, a port, ` +
  'or { host, port }';

function checkClusterNode(node: unknown, name: string): void {
  if (typeof node === 'number') {
    wholeNumber(node, name, CLUSTER_NODE_ACCEPTED, isPort);
  } else if (typeof node === 'string') {
    // ioredis reads a node without a scheme as a redis:// URL.
    const url = checkUrl(
      /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(node) ? node : `redis://${node}`,
      name,
      CLUSTER_NODE_ACCEPTED,
    );
    refuseClusterDb(url.db, name, redactUrl(node));
  } else if (isPlainObject(node)) {
    if (node.host !== undefined && (typeof node.host !== 'string' || node.host === '')) {
      throw new Error(INVALID_OPTION(`${name}.host`, 'a host name or address', node.host));
    }
    wholeNumber(node.port, `${name}.port`, PORT_ACCEPTED, isPort);
    refuseClusterDb(
      wholeNumber(node.db, `${name}.db`, DB_ACCEPTED, isDbIndex),
      `${name}.db`,
      node.db,
    );
  } else {
    throw new Error(INVALID_OPTION(name, CLUSTER_NODE_ACCEPTED, node));
  }
}

/** The ports and database of ioredis options (`redis.options`, `redis.cluster.options.redisOptions`). */
function checkRedisOptions(options: Record<string, unknown>, name: string): number | undefined {
  wholeNumber(options.port, `${name}.port`, PORT_ACCEPTED, isPort);
  if (options.sentinels !== undefined) {
    if (!Array.isArray(options.sentinels)) {
      throw new Error(
        INVALID_OPTION(`${name}.sentinels`, 'an array of { host, port }', options.sentinels),
      );
    }
    options.sentinels.forEach((sentinel: unknown, i) => {
      if (isPlainObject(sentinel)) {
        wholeNumber(sentinel.port, `${name}.sentinels[${i}].port`, PORT_ACCEPTED, isPort);
      }
    });
  }
  return wholeNumber(options.db, `${name}.db`, DB_ACCEPTED, isDbIndex);
}

function resolveRedis(value: unknown, mode: CacheMode): ResolvedRedisOptions | undefined {
  if (value === undefined && mode === 'embedded') return undefined;
  const redis = group(value, 'redis', REDIS_KEYS);
  const { url, options, cluster } = redis;
  const parsed = url === undefined ? undefined : checkUrl(url, 'redis.url');
  if (options !== undefined && !isPlainObject(options)) {
    throw new Error(INVALID_OPTION('redis.options', 'an ioredis options object', options));
  }
  const optionsDb = options === undefined ? undefined : checkRedisOptions(options, 'redis.options');
  let nodes: ClusterNode[] | undefined;
  let clusterOptions: ClusterOptions | undefined;
  if (cluster !== undefined) {
    const c = group(cluster, 'redis.cluster', ['nodes', 'options']);
    if (!Array.isArray(c.nodes) || c.nodes.length === 0) {
      throw new Error(
        INVALID_OPTION(
          'redis.cluster.nodes',
          'a non-empty array of ioredis cluster nodes',
          c.nodes,
        ),
      );
    }
    c.nodes.forEach((node: unknown, i) => checkClusterNode(node, `redis.cluster.nodes[${i}]`));
    if (c.options !== undefined && !isPlainObject(c.options)) {
      throw new Error(
        INVALID_OPTION('redis.cluster.options', 'an ioredis cluster options object', c.options),
      );
    }
    const redisOptions = c.options?.redisOptions;
    if (redisOptions !== undefined && !isPlainObject(redisOptions)) {
      throw new Error(
        INVALID_OPTION(
          'redis.cluster.options.redisOptions',
          'an ioredis options object',
          redisOptions,
        ),
      );
    }
    if (redisOptions !== undefined) {
      const db = checkRedisOptions(redisOptions, 'redis.cluster.options.redisOptions');
      refuseClusterDb(db, 'redis.cluster.options.redisOptions.db', redisOptions.db);
    }
    // The client is a Cluster: a database of redis.url or redis.options would be silently unused.
    refuseClusterDb(parsed?.db, 'redis.url', redactUrl(String(url)));
    refuseClusterDb(optionsDb, 'redis.options.db', options?.db);
    nodes = c.nodes as ClusterNode[];
    clusterOptions = c.options;
  }
  if (mode === 'redis' && url === undefined && options === undefined && cluster === undefined) {
    throw new Error(
      INVALID_OPTION('redis', 'a url, ioredis options or a cluster when mode is "redis"', value),
    );
  }
  return {
    url: parsed === undefined ? undefined : String(url),
    options: options ?? {},
    cluster: nodes === undefined ? undefined : { nodes, options: clusterOptions ?? {} },
  };
}

function resolveHealth(value: unknown): ResolvedPersistentCacheOptions['health'] {
  const health = group(value, 'health', HEALTH_KEYS);
  const factor = orDefault(health.maxSnapshotAgeIntervals, DEFAULTS.health.maxSnapshotAgeIntervals);
  if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
    throw new Error(INVALID_OPTION('health.maxSnapshotAgeIntervals', MAX_AGE_ACCEPTED, factor));
  }
  return { maxSnapshotAgeIntervals: factor };
}

function resolveMemory(value: unknown): ResolvedPersistentCacheOptions['memory'] {
  const memory = group(value, 'memory', MEMORY_KEYS);
  const given = orDefault(memory.maxBytes, DEFAULTS.memory.maxBytes) as number | string;
  const maxBytes = parseSize(given);
  if (maxBytes === undefined)
    throw new Error(INVALID_OPTION('memory.maxBytes', SIZE_ACCEPTED, given));
  const samples = orDefault(memory.samples, DEFAULTS.memory.samples);
  if (typeof samples !== 'number' || !Number.isInteger(samples) || samples < 1 || samples > 64) {
    throw new Error(INVALID_OPTION('memory.samples', SAMPLES_ACCEPTED, samples));
  }
  const packAfterGiven = orDefault(memory.packAfter, DEFAULTS.memory.packAfter);
  const packAfter = parseDuration(packAfterGiven);
  if (packAfter === undefined)
    throw new Error(INVALID_OPTION('memory.packAfter', DURATION_ACCEPTED, packAfterGiven));
  return {
    maxBytes,
    maxBytesGiven: given,
    policy: oneOf(memory.policy, 'memory.policy', MAXMEMORY_POLICIES, DEFAULTS.memory.policy),
    samples,
    packAfter,
  };
}

/**
 * Applies the defaults and validates the options once, at startup. Throws an error naming the bad option and
 * what it accepts.
 */
export function resolveOptions(options: unknown): ResolvedPersistentCacheOptions {
  try {
    return resolveGiven(options);
  } catch (error) {
    throw ConfigError.from(error);
  }
}

function resolveGiven(options: unknown): ResolvedPersistentCacheOptions {
  const raw: unknown = options ?? {};
  if (!isPlainObject(raw)) throw new Error(INVALID_OPTION('options', 'an object', raw));
  checkKeys(raw, TOP_LEVEL, '');
  const mode = oneOf(raw.mode, 'mode', MODES, DEFAULTS.mode);
  const persistence = resolvePersistence(raw.persistence);
  return {
    mode,
    // A real Redis keeps its own data: nothing to snapshot.
    persistence: mode === 'redis' ? { ...persistence, enabled: false } : persistence,
    redis: resolveRedis(raw.redis, mode),
    health: resolveHealth(raw.health),
    memory: resolveMemory(raw.memory),
  };
}

export type { PersistentCacheModuleOptions };
