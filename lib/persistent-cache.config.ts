import { registerAs } from '@nestjs/config';
import { CONFIG_NAMESPACE } from './persistent-cache.constants';
import type { PersistentCacheModuleOptions } from './persistent-cache.interfaces';
import { Logger } from '@nestjs/common';
import { INVALID_ENV, REDIS_URL_NEEDED, UNKNOWN_ENV } from './persistent-cache.messages';
import { LOG_CONTEXT } from './util/log-context';
import { parseSize, SIZE_ACCEPTED } from './util/sizes';
import {
  DURATION_ACCEPTED,
  MAXMEMORY_POLICIES,
  MODES,
  parseDuration,
  resolveOptions,
  RESTORE_ERROR_POLICIES,
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
  maxSnapshotAgeIntervals: 'PERSISTENT_CACHE_HEALTH_MAX_SNAPSHOT_AGE_INTERVALS',
  maxBytes: 'PERSISTENT_CACHE_MEMORY_MAX_BYTES',
  policy: 'PERSISTENT_CACHE_MEMORY_POLICY',
  samples: 'PERSISTENT_CACHE_MEMORY_SAMPLES',
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

function envNumber(env: NodeJS.ProcessEnv, variable: string): number | undefined {
  const value = envString(env, variable);
  if (value === undefined) return undefined;
  // Decimal only: Number() would also take "0x10" as 16, "1e3" as 1000 and "" as 0.
  if (!/^-?\d+(?:\.\d+)?$/.test(value)) throw new Error(INVALID_ENV(variable, 'a number', value));
  return Number(value);
}

function envSize(env: NodeJS.ProcessEnv, variable: string): string | undefined {
  const value = envString(env, variable);
  if (value !== undefined && parseSize(value) === undefined) {
    throw new Error(INVALID_ENV(variable, SIZE_ACCEPTED, value));
  }
  return value;
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
};

/** Variables of this prefix that are not options: the test suite's. */
const NOT_OPTIONS = ['PERSISTENT_CACHE_REQUIRE_REDIS'];
const PREFIX = 'PERSISTENT_CACHE_';

/** An error of {@link resolveOptions} about options read from `env`, told in terms of the variables. */
function inTermsOfVariables(error: unknown, env: NodeJS.ProcessEnv): unknown {
  const message = error instanceof Error ? error.message : '';
  if (message.startsWith(`Invalid PersistentCacheModule option "redis"`)) {
    return new Error(REDIS_URL_NEEDED(PERSISTENT_CACHE_ENV.mode, PERSISTENT_CACHE_ENV.redisUrl));
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
 * Reads the module's options from environment variables ({@link PERSISTENT_CACHE_ENV}); unset ones keep defaults.
 * Every value is checked here, and a bad one named by its variable; a variable of the `PERSISTENT_CACHE_` prefix that
 * is not one of them (a misspelling, say) is reported with a warning.
 */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): PersistentCacheModuleOptions {
  const known: readonly string[] = Object.values(PERSISTENT_CACHE_ENV);
  const unknown = Object.keys(env).filter(
    (name) => name.startsWith(PREFIX) && !known.includes(name) && !NOT_OPTIONS.includes(name),
  );
  if (unknown.length > 0) new Logger(LOG_CONTEXT).warn(UNKNOWN_ENV(unknown.sort(), known));
  const options = readEnv(env);
  try {
    resolveOptions(options);
  } catch (error) {
    throw inTermsOfVariables(error, env);
  }
  return options;
}

function readEnv(env: NodeJS.ProcessEnv): PersistentCacheModuleOptions {
  const redisUrl = envString(env, PERSISTENT_CACHE_ENV.redisUrl);
  return {
    mode: envChoice(env, PERSISTENT_CACHE_ENV.mode, MODES),
    persistence: {
      enabled: envBoolean(env, PERSISTENT_CACHE_ENV.enabled),
      dataDir: envString(env, PERSISTENT_CACHE_ENV.dataDir),
      snapshotInterval: envDuration(env, PERSISTENT_CACHE_ENV.snapshotInterval),
      snapshotOnShutdown: envBoolean(env, PERSISTENT_CACHE_ENV.snapshotOnShutdown),
      restoreOnStartup: envBoolean(env, PERSISTENT_CACHE_ENV.restoreOnStartup),
      onRestoreError: envChoice(env, PERSISTENT_CACHE_ENV.onRestoreError, RESTORE_ERROR_POLICIES),
    },
    redis: redisUrl === undefined ? undefined : { url: redisUrl },
    health: {
      maxSnapshotAgeIntervals: envNumber(env, PERSISTENT_CACHE_ENV.maxSnapshotAgeIntervals),
    },
    memory: {
      maxBytes: envSize(env, PERSISTENT_CACHE_ENV.maxBytes),
      policy: envChoice(env, PERSISTENT_CACHE_ENV.policy, MAXMEMORY_POLICIES),
      samples: envNumber(env, PERSISTENT_CACHE_ENV.samples),
    },
  };
}

/**
 * `@nestjs/config` factory of the module's options, read from the environment:
 * `PersistentCacheModule.forRootAsync(persistentCacheConfig.asProvider())`.
 */
export const persistentCacheConfig = registerAs(CONFIG_NAMESPACE, () => optionsFromEnv());
