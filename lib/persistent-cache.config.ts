import { registerAs } from '@nestjs/config';
import { CONFIG_NAMESPACE } from './persistent-cache.constants';
import type { PersistentCacheModuleOptions } from './persistent-cache.interfaces';
import { Logger } from '@nestjs/common';
import type { ClusterOptions, RedisOptions } from 'ioredis';
import {
  ENV_CONFLICT,
  ENV_ENTRIES_DISAGREE,
  ENV_NEEDS_PARTNER,
  ENV_NEEDS_REDIS_MODE,
  INVALID_ENV,
  INVALID_ENV_BECAUSE,
  INVALID_ENV_ENTRY,
  REDIS_URL_NEEDED,
  UNKNOWN_ENV,
} from './persistent-cache.messages';
import { parseUrl, redactUrl } from './util/redact-url';
import { checkRedisUrl, REDIS_URL_ACCEPTED } from './util/redis-url';
import { ConfigError } from './util/errors';
import { LOG_CONTEXT } from './util/log-context';
import { parseSize, SIZE_ACCEPTED } from './util/sizes';
import {
  DURATION_ACCEPTED,
  MAXMEMORY_POLICIES,
  MODES,
  parseDuration,
  resolveOptions,
  MAX_AGE_ACCEPTED,
  RESTORE_ERROR_POLICIES,
  SAMPLES_ACCEPTED,
} from './persistent-cache.options';

/** Environment variables read by {@link persistentCacheConfig}, by option. */
export const PERSISTENT_CACHE_ENV = {
  enabled: 'PERSISTENT_CACHE_ENABLED',
  dataDir: 'PERSISTENT_CACHE_DATA_DIR',
  snapshotInterval: 'PERSISTENT_CACHE_SNAPSHOT_INTERVAL',
  snapshotOnShutdown: 'PERSISTENT_CACHE_SNAPSHOT_ON_SHUTDOWN',
  restoreOnStartup: 'PERSISTENT_CACHE_RESTORE_ON_STARTUP',
  onRestoreError: 'PERSISTENT_CACHE_ON_RESTORE_ERROR',
  mode: 'PERSISTENT_CACHE_MODE',
  redisUrl: 'PERSISTENT_CACHE_REDIS_URL',
  redisClusterNodes: 'PERSISTENT_CACHE_REDIS_CLUSTER_NODES',
  redisSentinels: 'PERSISTENT_CACHE_REDIS_SENTINELS',
  redisSentinelName: 'PERSISTENT_CACHE_REDIS_SENTINEL_NAME',
  maxSnapshotAgeIntervals: 'PERSISTENT_CACHE_HEALTH_MAX_SNAPSHOT_AGE_INTERVALS',
  maxBytes: 'PERSISTENT_CACHE_MEMORY_MAX_BYTES',
  policy: 'PERSISTENT_CACHE_MEMORY_POLICY',
  samples: 'PERSISTENT_CACHE_MEMORY_SAMPLES',
  packAfter: 'PERSISTENT_CACHE_MEMORY_PACK_AFTER',
} as const;

const TRUE = ['true', '1', 'yes', 'on'];
const FALSE = ['false', '0', 'no', 'off'];

function envBoolean(env: NodeJS.ProcessEnv, variable: string): boolean | undefined {
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = raw.trim().toLowerCase();
  if (TRUE.includes(value)) return true;
  if (FALSE.includes(value)) return false;
  throw new Error(INVALID_ENV(variable, `one of ${[...TRUE, ...FALSE].join(', ')}`, raw));
}

function envDuration(env: NodeJS.ProcessEnv, variable: string): number | undefined {
  const raw = env[variable];
  if (raw === undefined || raw.trim() === '') return undefined;
  const ms = parseDuration(raw);
  if (ms === undefined) throw new Error(INVALID_ENV(variable, DURATION_ACCEPTED, raw));
  return ms;
}

function envString(env: NodeJS.ProcessEnv, variable: string): string | undefined {
  const raw = env[variable];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

function envChoice<T extends string>(
  env: NodeJS.ProcessEnv,
  variable: string,
  accepted: readonly T[],
): T | undefined {
  const value = envString(env, variable);
  if (value === undefined) return undefined;
  if (!accepted.includes(value as T)) {
    throw new Error(INVALID_ENV(variable, `one of ${accepted.join(', ')}`, value));
  }
  return value as T;
}

/** A decimal number; `accepted` says what the option takes, for the error (its range is the option's to check). */
function envNumber(env: NodeJS.ProcessEnv, variable: string, accepted: string): number | undefined {
  const value = envString(env, variable);
  if (value === undefined) return undefined;
  // Decimal only: Number() would also take "0x10" as 16, "1e3" as 1000 and "" as 0.
  if (!/^-?\d+(?:\.\d+)?$/.test(value)) throw new Error(INVALID_ENV(variable, accepted, value));
  return Number(value);
}

function envSize(env: NodeJS.ProcessEnv, variable: string): string | undefined {
  const value = envString(env, variable);
  if (value !== undefined && parseSize(value) === undefined) {
    throw new Error(INVALID_ENV(variable, SIZE_ACCEPTED, value));
  }
  return value;
}

/** What {@link PERSISTENT_CACHE_ENV}`.redisClusterNodes` accepts. */
export const CLUSTER_NODES_ACCEPTED =
  'a comma-separated list of cluster nodes, each host:port or redis://[user:password@]host:port ' +
  '(rediss:// for TLS; no database: a Redis Cluster has only database 0)';
/** What {@link PERSISTENT_CACHE_ENV}`.redisSentinels` accepts. */
export const SENTINELS_ACCEPTED = 'a comma-separated list of sentinels, each host:port';

const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:/@[\]]+)):(\d{1,5})$/;

interface EnvNode {
  readonly host: string;
  readonly port: number;
}

/** One entry of a list of nodes: `host:port`, `[ipv6]:port`, or (when `url` is given) a redis:// URL without a path. */
function parseNode(entry: string, urls: boolean): { node: EnvNode; url?: URL } | undefined {
  const plain = HOST_PORT.exec(entry);
  if (plain !== null) {
    const port = Number(plain[3]);
    return port >= 1 && port <= 65535 ? { node: { host: plain[1] ?? plain[2], port } } : undefined;
  }
  const url = urls ? parseUrl(entry) : undefined;
  if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:'))
    return undefined;
  // A cluster has database 0 only; a query or fragment would be silently dropped.
  if (!['', '/', '/0'].includes(url.pathname) || url.search !== '' || url.hash !== '')
    return undefined;
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') return undefined;
  return { node: { host, port: url.port === '' ? 6379 : Number(url.port) }, url };
}

/** `entry` as given, but for the password of a URL. */
const hidePassword = (entry: string) => entry.replace(/^([a-z]+:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');

/** The entries of a comma-separated list of nodes; each checked, a bad one named (its password hidden). */
function envNodes(
  env: NodeJS.ProcessEnv,
  variable: string,
  accepted: string,
  urls: boolean,
): { nodes: EnvNode[]; urls: URL[] } | undefined {
  const value = envString(env, variable);
  if (value === undefined) return undefined;
  const entries = value.split(',').map((entry) => entry.trim());
  const nodes: EnvNode[] = [];
  const given: URL[] = [];
  entries.forEach((entry, i) => {
    const parsed = parseNode(entry, urls);
    if (parsed === undefined) {
      throw new Error(
        INVALID_ENV_ENTRY(variable, accepted, hidePassword(entry), i + 1, entries.length),
      );
    }
    nodes.push(parsed.node);
    if (parsed.url !== undefined) given.push(parsed.url);
  });
  return { nodes, urls: given };
}

/**
 * What the redis:// entries of the cluster variable say besides where the nodes are: TLS, user and password, for
 * every node (ioredis connects to each node of a cluster, listed or found, with one `redisOptions`).
 */
function clusterConnection(variable: string, urls: readonly URL[]): ClusterOptions {
  if (urls.length === 0) return {};
  const same = (what: string, of: (url: URL) => string) => {
    if (new Set(urls.map(of)).size > 1) throw new Error(ENV_ENTRIES_DISAGREE(variable, what));
    return of(urls[0]);
  };
  const tls = same('scheme', (url) => url.protocol) === 'rediss:';
  const username = decodeURIComponent(same('user', (url) => url.username));
  const password = decodeURIComponent(same('password', (url) => url.password));
  const redisOptions: RedisOptions = {
    ...(tls ? { tls: {} } : {}),
    ...(username === '' ? {} : { username }),
    ...(password === '' ? {} : { password }),
  };
  return Object.keys(redisOptions).length === 0 ? {} : { redisOptions };
}

/**
 * The `redis` option from the variables that say where Redis is: one server (a URL), a cluster (its nodes) or a
 * Sentinel-managed primary (the sentinels and the name they know it by). They exclude one another, and the last two
 * are only read in redis mode: a cluster named while the cache stays embedded is a mistake, not a plan.
 */
function readRedis(
  env: NodeJS.ProcessEnv,
  mode: string | undefined,
): PersistentCacheModuleOptions['redis'] {
  const V = PERSISTENT_CACHE_ENV;
  const url = envString(env, V.redisUrl);
  const checked = url === undefined ? undefined : checkRedisUrl(url);
  if (url !== undefined && checked !== undefined && 'problem' in checked) {
    throw new Error(
      INVALID_ENV_BECAUSE(V.redisUrl, REDIS_URL_ACCEPTED, redactUrl(url), checked.problem),
    );
  }
  const cluster = envNodes(env, V.redisClusterNodes, CLUSTER_NODES_ACCEPTED, true);
  const sentinels = envNodes(env, V.redisSentinels, SENTINELS_ACCEPTED, false);
  const name = envString(env, V.redisSentinelName);
  const set = (variable: string, value: unknown) => (value === undefined ? [] : [variable]);
  const targets = [
    ...set(V.redisUrl, url),
    ...set(V.redisClusterNodes, cluster),
    ...set(V.redisSentinels, sentinels),
  ];
  if (targets.length > 1) {
    throw new Error(
      ENV_CONFLICT(
        [targets[0], targets[1]],
        'they name different Redis setups (one server, a cluster, a Sentinel-managed primary)',
      ),
    );
  }
  for (const variable of [
    ...set(V.redisClusterNodes, cluster),
    ...set(V.redisSentinels, sentinels),
  ]) {
    if (mode !== 'redis') throw new Error(ENV_NEEDS_REDIS_MODE(variable, V.mode, mode ?? ''));
  }
  if (sentinels !== undefined && name === undefined) {
    throw new Error(
      ENV_NEEDS_PARTNER(
        V.redisSentinels,
        V.redisSentinelName,
        'the sentinels are asked for a primary by the name they monitor it under (`sentinel monitor <name> …`)',
      ),
    );
  }
  if (name !== undefined && sentinels === undefined) {
    throw new Error(
      ENV_NEEDS_PARTNER(
        V.redisSentinelName,
        V.redisSentinels,
        'it names a primary the sentinels know',
      ),
    );
  }
  if (cluster !== undefined) {
    return {
      cluster: {
        nodes: cluster.nodes,
        options: clusterConnection(V.redisClusterNodes, cluster.urls),
      },
    };
  }
  if (sentinels !== undefined) return { options: { sentinels: sentinels.nodes, name } };
  return url === undefined ? undefined : { url };
}

/** The variable each option is read from, for errors found once the options are put together. */
const VARIABLE_OF: Record<string, string> = {
  mode: PERSISTENT_CACHE_ENV.mode,
  'persistence.enabled': PERSISTENT_CACHE_ENV.enabled,
  'persistence.dataDir': PERSISTENT_CACHE_ENV.dataDir,
  'persistence.snapshotInterval': PERSISTENT_CACHE_ENV.snapshotInterval,
  'persistence.snapshotOnShutdown': PERSISTENT_CACHE_ENV.snapshotOnShutdown,
  'persistence.restoreOnStartup': PERSISTENT_CACHE_ENV.restoreOnStartup,
  'persistence.onRestoreError': PERSISTENT_CACHE_ENV.onRestoreError,
  'redis.url': PERSISTENT_CACHE_ENV.redisUrl,
  'health.maxSnapshotAgeIntervals': PERSISTENT_CACHE_ENV.maxSnapshotAgeIntervals,
  'memory.maxBytes': PERSISTENT_CACHE_ENV.maxBytes,
  'memory.policy': PERSISTENT_CACHE_ENV.policy,
  'memory.samples': PERSISTENT_CACHE_ENV.samples,
  'memory.packAfter': PERSISTENT_CACHE_ENV.packAfter,
};

/** Variables of this prefix that are not options: the test suite's. */
const NOT_OPTIONS = ['PERSISTENT_CACHE_REQUIRE_REDIS'];
const PREFIX = 'PERSISTENT_CACHE_';

/** An error of {@link resolveOptions} about options read from `env`, told in terms of the variables. */
function inTermsOfVariables(error: unknown, env: NodeJS.ProcessEnv): unknown {
  const message = error instanceof Error ? error.message : '';
  if (message.startsWith(`Invalid PersistentCacheModule option "redis"`)) {
    const { mode, redisUrl, redisClusterNodes, redisSentinels, redisSentinelName } =
      PERSISTENT_CACHE_ENV;
    return new Error(
      REDIS_URL_NEEDED(mode, [
        redisUrl,
        `${redisClusterNodes} (host:port,host:port)`,
        `${redisSentinels} with ${redisSentinelName}`,
      ]),
    );
  }
  const invalid = /^Invalid PersistentCacheModule option "([^"]+)": expected (.*), got /s.exec(
    message,
  );
  const variable = invalid === null ? undefined : VARIABLE_OF[invalid[1]];
  const raw = variable === undefined ? undefined : env[variable];
  if (invalid === null || variable === undefined || raw === undefined) return error;
  return new Error(INVALID_ENV(variable, invalid[2], raw));
}

/**
 * The warnings about unknown variables given so far: the README's setup reads the environment twice at startup
 * (`ConfigModule.forRoot({ load })` and `asProvider()` each call the factory), and one warning is enough.
 */
const warned = new Set<string>();

/**
 * Reads the module's options from environment variables ({@link PERSISTENT_CACHE_ENV}); unset ones keep defaults.
 * Every value is checked here, and a bad one named by its variable; a variable of the `PERSISTENT_CACHE_` prefix that
 * is not one of them (a misspelling, say) is reported with a warning.
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): PersistentCacheModuleOptions {
  const known: readonly string[] = Object.values(PERSISTENT_CACHE_ENV);
  const unknown = Object.keys(env).filter(
    (name) => name.startsWith(PREFIX) && !known.includes(name) && !NOT_OPTIONS.includes(name),
  );
  const warning = unknown.length > 0 ? UNKNOWN_ENV(unknown.sort(), known) : undefined;
  if (warning !== undefined && !warned.has(warning)) {
    warned.add(warning);
    new Logger(LOG_CONTEXT).warn(warning);
  }
  let options: PersistentCacheModuleOptions;
  try {
    options = readEnv(env);
  } catch (error) {
    throw ConfigError.from(error);
  }
  try {
    resolveOptions(options);
  } catch (error) {
    throw ConfigError.from(inTermsOfVariables(error, env));
  }
  return options;
}

function readEnv(env: NodeJS.ProcessEnv): PersistentCacheModuleOptions {
  const mode = envChoice(env, PERSISTENT_CACHE_ENV.mode, MODES);
  return {
    mode,
    persistence: {
      enabled: envBoolean(env, PERSISTENT_CACHE_ENV.enabled),
      dataDir: envString(env, PERSISTENT_CACHE_ENV.dataDir),
      snapshotInterval: envDuration(env, PERSISTENT_CACHE_ENV.snapshotInterval),
      snapshotOnShutdown: envBoolean(env, PERSISTENT_CACHE_ENV.snapshotOnShutdown),
      restoreOnStartup: envBoolean(env, PERSISTENT_CACHE_ENV.restoreOnStartup),
      onRestoreError: envChoice(env, PERSISTENT_CACHE_ENV.onRestoreError, RESTORE_ERROR_POLICIES),
    },
    redis: readRedis(env, mode),
    health: {
      maxSnapshotAgeIntervals: envNumber(
        env,
        PERSISTENT_CACHE_ENV.maxSnapshotAgeIntervals,
        MAX_AGE_ACCEPTED,
      ),
    },
    memory: {
      maxBytes: envSize(env, PERSISTENT_CACHE_ENV.maxBytes),
      policy: envChoice(env, PERSISTENT_CACHE_ENV.policy, MAXMEMORY_POLICIES),
      samples: envNumber(env, PERSISTENT_CACHE_ENV.samples, SAMPLES_ACCEPTED),
      packAfter: envDuration(env, PERSISTENT_CACHE_ENV.packAfter),
    },
  };
}

/**
 * `@nestjs/config` factory of the module's options, read from the environment:
 * `PersistentCacheModule.forRootAsync(persistentCacheConfig.asProvider())`.
 */
export const persistentCacheConfig = registerAs(CONFIG_NAMESPACE, () => optionsFromEnv());
