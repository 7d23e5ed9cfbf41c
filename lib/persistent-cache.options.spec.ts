import { resolve } from 'node:path';
import { optionsFromEnv, PERSISTENT_CACHE_ENV } from './persistent-cache.config';
import { INVALID_ENV, INVALID_OPTION, UNKNOWN_OPTION } from './persistent-cache.messages';
import {
  DEFAULTS,
  DURATION_ACCEPTED,
  MAX_INTERVAL_MS,
  parseDuration,
  resolveOptions,
} from './persistent-cache.options';

describe('parseDuration', () => {
  it.each([
    [0, 0],
    [1500, 1500],
    ['250', 250],
    ['250ms', 250],
    ['30s', 30_000],
    [' 5m ', 300_000],
    ['1.5h', 5_400_000],
    ['1d', 86_400_000],
    [MAX_INTERVAL_MS, MAX_INTERVAL_MS],
  ])('reads %p as %p ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([
    [-1],
    [1.5],
    [NaN],
    [Infinity],
    [MAX_INTERVAL_MS + 1],
    ['30d'],
    ['5 minutes'],
    ['-5s'],
    [''],
    ['1e3'],
    [true],
    [null],
  ])('refuses %p', (input) => {
    expect(parseDuration(input)).toBeUndefined();
  });
});

describe('resolveOptions', () => {
  it('applies the defaults', () => {
    expect(resolveOptions(undefined)).toEqual({
      persistence: {
        enabled: DEFAULTS.enabled,
        dataDir: resolve(DEFAULTS.dataDir),
        snapshotIntervalMs: 300_000,
        snapshotOnShutdown: true,
        restoreOnStartup: true,
      },
    });
  });

  it('keeps given values and makes the data dir absolute', () => {
    const resolved = resolveOptions({
      persistence: {
        enabled: false,
        dataDir: 'rel/dir',
        snapshotInterval: '2s',
        snapshotOnShutdown: false,
        restoreOnStartup: false,
      },
    });
    expect(resolved.persistence).toEqual({
      enabled: false,
      dataDir: resolve('rel/dir'),
      snapshotIntervalMs: 2000,
      snapshotOnShutdown: false,
      restoreOnStartup: false,
    });
    expect(resolveOptions({ persistence: { dataDir: '/abs' } }).persistence.dataDir).toBe('/abs');
  });

  it.each([
    [
      { persistence: { enabled: 'yes' } },
      INVALID_OPTION('persistence.enabled', 'true or false', 'yes'),
    ],
    [
      { persistence: { dataDir: '' } },
      INVALID_OPTION('persistence.dataDir', 'a non-empty directory path', ''),
    ],
    [
      { persistence: { dataDir: 42 } },
      INVALID_OPTION('persistence.dataDir', 'a non-empty directory path', 42),
    ],
    [
      { persistence: { snapshotInterval: '5 minutes' } },
      INVALID_OPTION('persistence.snapshotInterval', DURATION_ACCEPTED, '5 minutes'),
    ],
    [
      { persistence: { snapshotInterval: -1 } },
      INVALID_OPTION('persistence.snapshotInterval', DURATION_ACCEPTED, -1),
    ],
    [
      { persistence: { snapshotOnShutdown: 1 } },
      INVALID_OPTION('persistence.snapshotOnShutdown', 'true or false', 1),
    ],
    [
      { persistence: { restoreOnStartup: null } },
      INVALID_OPTION('persistence.restoreOnStartup', 'true or false', null),
    ],
    [{ persistence: [] }, INVALID_OPTION('persistence', 'an object', [])],
    ['nope', INVALID_OPTION('options', 'an object', 'nope')],
    [{ persistance: {} }, UNKNOWN_OPTION('persistance', ['persistence'])],
    [
      { persistence: { snapshotIntervall: '5m' } },
      UNKNOWN_OPTION(
        'persistence.snapshotIntervall',
        Object.keys(DEFAULTS).map((k) => `persistence.${k}`),
      ),
    ],
  ])('refuses %j', (options, message) => {
    expect(() => resolveOptions(options)).toThrow(message);
  });

  it('names the option and what it accepts', () => {
    expect(() => resolveOptions({ persistence: { snapshotInterval: '5 minutes' } })).toThrow(
      'Invalid PersistentCacheModule option "persistence.snapshotInterval": expected a number of milliseconds',
    );
  });
});

describe('optionsFromEnv', () => {
  it('leaves unset variables to the defaults', () => {
    expect(resolveOptions(optionsFromEnv({}))).toEqual(resolveOptions({}));
  });

  it('reads every variable', () => {
    const options = optionsFromEnv({
      [PERSISTENT_CACHE_ENV.enabled]: 'false',
      [PERSISTENT_CACHE_ENV.dataDir]: '/var/cache/app',
      [PERSISTENT_CACHE_ENV.snapshotInterval]: '30s',
      [PERSISTENT_CACHE_ENV.snapshotOnShutdown]: 'no',
      [PERSISTENT_CACHE_ENV.restoreOnStartup]: 'ON',
    });
    expect(resolveOptions(options).persistence).toEqual({
      enabled: false,
      dataDir: '/var/cache/app',
      snapshotIntervalMs: 30_000,
      snapshotOnShutdown: false,
      restoreOnStartup: true,
    });
  });

  it('names the variable when a value is invalid', () => {
    expect(() => optionsFromEnv({ [PERSISTENT_CACHE_ENV.enabled]: 'maybe' })).toThrow(
      INVALID_ENV(
        PERSISTENT_CACHE_ENV.enabled,
        'one of true, 1, yes, on, false, 0, no, off',
        'maybe',
      ),
    );
    expect(() => optionsFromEnv({ [PERSISTENT_CACHE_ENV.snapshotInterval]: 'soon' })).toThrow(
      INVALID_ENV(PERSISTENT_CACHE_ENV.snapshotInterval, DURATION_ACCEPTED, 'soon'),
    );
  });
});
