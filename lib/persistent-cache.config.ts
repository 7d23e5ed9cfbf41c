import { registerAs } from '@nestjs/config';
import { CONFIG_NAMESPACE } from './persistent-cache.constants';
import type { PersistentCacheModuleOptions } from './persistent-cache.interfaces';
import { INVALID_ENV } from './persistent-cache.messages';
import { DURATION_ACCEPTED, parseDuration } from './persistent-cache.options';

/** Environment variables read by {@link persistentCacheConfig}, by option. */
export const PERSISTENT_CACHE_ENV = {
  enabled: 'PERSISTENT_CACHE_ENABLED',
  dataDir: 'PERSISTENT_CACHE_DATA_DIR',
  snapshotInterval: 'PERSISTENT_CACHE_SNAPSHOT_INTERVAL',
  snapshotOnShutdown: 'PERSISTENT_CACHE_SNAPSHOT_ON_SHUTDOWN',
  restoreOnStartup: 'PERSISTENT_CACHE_RESTORE_ON_STARTUP',
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

/** Reads the module's options from environment variables ({@link PERSISTENT_CACHE_ENV}); unset ones keep defaults. */
export function optionsFromEnv(env: NodeJS.ProcessEnv = process.env): PersistentCacheModuleOptions {
  const dataDir = env[PERSISTENT_CACHE_ENV.dataDir];
  return {
    persistence: {
      enabled: envBoolean(env, PERSISTENT_CACHE_ENV.enabled),
      dataDir: dataDir === undefined || dataDir.trim() === '' ? undefined : dataDir,
      snapshotInterval: envDuration(env, PERSISTENT_CACHE_ENV.snapshotInterval),
      snapshotOnShutdown: envBoolean(env, PERSISTENT_CACHE_ENV.snapshotOnShutdown),
      restoreOnStartup: envBoolean(env, PERSISTENT_CACHE_ENV.restoreOnStartup),
    },
  };
}

/**
 * `@nestjs/config` factory of the module's options, read from the environment:
 * `PersistentCacheModule.forRootAsync(persistentCacheConfig.asProvider())`.
 */
export const persistentCacheConfig = registerAs(CONFIG_NAMESPACE, () => optionsFromEnv());
