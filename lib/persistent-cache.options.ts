import { isAbsolute, resolve } from 'node:path';
import type {
  PersistentCacheModuleOptions,
  ResolvedPersistentCacheOptions,
} from './persistent-cache.interfaces';
import { INVALID_OPTION, UNKNOWN_OPTION } from './persistent-cache.messages';

/** The defaults, in one place. */
export const DEFAULTS = {
  enabled: true,
  dataDir: './data',
  snapshotInterval: '5m',
  snapshotOnShutdown: true,
  restoreOnStartup: true,
} as const;

/** `setInterval` takes at most a signed 32-bit delay; a larger one fires after 1 ms instead. */
export const MAX_INTERVAL_MS = 2 ** 31 - 1;

export const DURATION_ACCEPTED =
  `a number of milliseconds (0 to disable, at most ${MAX_INTERVAL_MS}) ` +
  'or a duration string such as "250ms", "30s", "5m", "1h", "1d"';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Parses a duration: a number of milliseconds, or a string of digits with an optional unit
 * (`ms`, `s`, `m`, `h`, `d`; no unit means milliseconds). Returns `undefined` when it is not one.
 */
export function parseDuration(value: unknown): number | undefined {
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
  if (!Number.isFinite(ms) || ms < 0 || ms > MAX_INTERVAL_MS || !Number.isInteger(ms))
    return undefined;
  return ms;
}

const TOP_LEVEL = ['persistence'] as const;
const PERSISTENCE_KEYS = Object.keys(DEFAULTS);

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

function booleanOption(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw new Error(INVALID_OPTION(name, 'true or false', value));
  return value;
}

/**
 * Applies the defaults and validates the options once, at startup. Throws an error naming the bad option and
 * what it accepts.
 */
export function resolveOptions(options: unknown): ResolvedPersistentCacheOptions {
  const raw: unknown = options ?? {};
  if (!isPlainObject(raw)) throw new Error(INVALID_OPTION('options', 'an object', raw));
  checkKeys(raw, TOP_LEVEL, '');
  const persistence: unknown = raw.persistence ?? {};
  if (!isPlainObject(persistence)) {
    throw new Error(INVALID_OPTION('persistence', 'an object', persistence));
  }
  checkKeys(persistence, PERSISTENCE_KEYS, 'persistence.');

  const dataDir = persistence.dataDir ?? DEFAULTS.dataDir;
  if (typeof dataDir !== 'string' || dataDir.trim() === '' || dataDir.includes('\0')) {
    throw new Error(INVALID_OPTION('persistence.dataDir', 'a non-empty directory path', dataDir));
  }
  const interval = persistence.snapshotInterval ?? DEFAULTS.snapshotInterval;
  const snapshotIntervalMs = parseDuration(interval);
  if (snapshotIntervalMs === undefined) {
    throw new Error(INVALID_OPTION('persistence.snapshotInterval', DURATION_ACCEPTED, interval));
  }

  return {
    persistence: {
      enabled: booleanOption(persistence.enabled, 'persistence.enabled', DEFAULTS.enabled),
      dataDir: isAbsolute(dataDir) ? dataDir : resolve(dataDir),
      snapshotIntervalMs,
      snapshotOnShutdown: booleanOption(
        persistence.snapshotOnShutdown,
        'persistence.snapshotOnShutdown',
        DEFAULTS.snapshotOnShutdown,
      ),
      restoreOnStartup: booleanOption(
        persistence.restoreOnStartup,
        'persistence.restoreOnStartup',
        DEFAULTS.restoreOnStartup,
      ),
    },
  };
}

export type { PersistentCacheModuleOptions };
