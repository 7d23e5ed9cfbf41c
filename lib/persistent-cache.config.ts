import { registerAs } from '@nestjs/config';
import { CONFIG_NAMESPACE } from './persistent-cache.constants';
import type { PersistentCacheModuleOptions } from './persistent-cache.interfaces';
import { INVALID_ENV } from './persistent-cache.messages';
import { parseSize, SIZE_ACCEPTED } from './util/sizes';
import {
  DURATION_ACCEPTED,
  MAXMEMORY_POLICIES,
  MODES,
  parseDuration,
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
  const n = Number(value);
  if (!Number.isFinite(n)) throw new Error(INVALID_ENV(variable, 'a number', value));
  return n;
}

function envSize(env: NodeJS.ProcessEnv, variable: string): string | undefined {
  const value = envString(env, variable);
  if (value !== undefined && parseSize(value) === undefined) {
    throw new Error(INVALID_ENV(variable, SIZE_ACCEPTED, value));
  }
  return value;
}

/** Reads the module's options from environment variables ({@link PERSISTENT_CACHE_ENV}); unset ones keep defaults. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): PersistentCacheModuleOptions {
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
