import { resolve } from 'node:path';
import {
  CLUSTER_NODES_ACCEPTED,
  optionsFromEnv,
  PERSISTENT_CACHE_ENV,
  SENTINELS_ACCEPTED,
} from './persistent-cache.config';
import { Logger } from '@nestjs/common';
import {
  ENV_CONFLICT,
  ENV_ENTRIES_DISAGREE,
  ENV_NEEDS_PARTNER,
  ENV_NEEDS_REDIS_MODE,
  INVALID_ENV,
  INVALID_ENV_BECAUSE,
  INVALID_ENV_ENTRY,
  INVALID_OPTION,
  INVALID_OPTION_BECAUSE,
  REDIS_URL_NEEDED,
  UNKNOWN_OPTION,
} from './persistent-cache.messages';
import { getHeapStatistics } from 'node:v8';
import { SIZE_ACCEPTED } from './util/sizes';
import { DB_ACCEPTED, PORT_ACCEPTED, REDIS_URL_ACCEPTED } from './util/redis-url';
import {
  CLUSTER_NODE_ACCEPTED,
  DEFAULTS,
  DURATION_ACCEPTED,
  MAXMEMORY_POLICIES,
  SAMPLES_ACCEPTED,
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

const GROUP_ACCEPTED = 'an object (left out, for the defaults)';

describe('resolveOptions', () => {
  it('applies the defaults', () => {
    expect(resolveOptions(undefined)).toEqual({
      mode: 'embedded',
      persistence: {
        enabled: DEFAULTS.persistence.enabled,
        dataDir: resolve(DEFAULTS.persistence.dataDir),
        snapshotIntervalMs: 300_000,
        snapshotOnShutdown: true,
        restoreOnStartup: true,
        onRestoreError: 'fail',
      },
      redis: undefined,
      health: { maxSnapshotAgeIntervals: 3 },
      memory: {
        maxBytes: Math.floor(getHeapStatistics().heap_size_limit / 2),
        maxBytesGiven: '50%',
        policy: 'noeviction',
        samples: 5,
        packAfter: 10_000,
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
        onRestoreError: 'start-empty',
      },
      health: { maxSnapshotAgeIntervals: 1.5 },
    });
    expect(resolved.persistence).toEqual({
      enabled: false,
      dataDir: resolve('rel/dir'),
      snapshotIntervalMs: 2000,
      snapshotOnShutdown: false,
      restoreOnStartup: false,
      onRestoreError: 'start-empty',
    });
    expect(resolved.health.maxSnapshotAgeIntervals).toBe(1.5);
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
    // null is a value, not "use the default", for every option
    [{ memory: { maxBytes: null } }, INVALID_OPTION('memory.maxBytes', SIZE_ACCEPTED, null)],
    [
      { memory: { samples: null } },
      INVALID_OPTION('memory.samples', 'a whole number from 1 to 64', null),
    ],
    [{ memory: { packAfter: null } }, INVALID_OPTION('memory.packAfter', DURATION_ACCEPTED, null)],
    [
      { persistence: { snapshotInterval: null } },
      INVALID_OPTION('persistence.snapshotInterval', DURATION_ACCEPTED, null),
    ],
    [
      { persistence: { dataDir: null } },
      INVALID_OPTION('persistence.dataDir', 'a non-empty directory path', null),
    ],
    [{ persistence: [] }, INVALID_OPTION('persistence', GROUP_ACCEPTED, [])],
    // a group too: `persistence: null` meant as "no persistence" must not turn the default persistence on
    [{ persistence: null }, INVALID_OPTION('persistence', GROUP_ACCEPTED, null)],
    [{ memory: null }, INVALID_OPTION('memory', GROUP_ACCEPTED, null)],
    [{ health: null }, INVALID_OPTION('health', GROUP_ACCEPTED, null)],
    [{ redis: null }, INVALID_OPTION('redis', GROUP_ACCEPTED, null)],
    [
      { mode: 'redis', redis: { cluster: null } },
      INVALID_OPTION('redis.cluster', GROUP_ACCEPTED, null),
    ],
    ['nope', INVALID_OPTION('options', 'an object', 'nope')],
    [
      { persistance: {} },
      UNKNOWN_OPTION('persistance', ['mode', 'persistence', 'redis', 'health', 'memory']),
    ],
    [
      { persistence: { snapshotIntervall: '5m' } },
      UNKNOWN_OPTION(
        'persistence.snapshotIntervall',
        Object.keys(DEFAULTS.persistence).map((k) => `persistence.${k}`),
      ),
    ],
    [
      { persistence: { onRestoreError: 'ignore' } },
      INVALID_OPTION('persistence.onRestoreError', 'one of "fail", "start-empty"', 'ignore'),
    ],
    [{ mode: 'cluster' }, INVALID_OPTION('mode', 'one of "embedded", "redis"', 'cluster')],
    [
      { mode: 'redis' },
      INVALID_OPTION(
        'redis',
        'a url, ioredis options or a cluster when mode is "redis"',
        undefined,
      ),
    ],
    [
      { mode: 'redis', redis: { url: 'localhost:6379' } },
      INVALID_OPTION_BECAUSE(
        'redis.url',
        REDIS_URL_ACCEPTED,
        'localhost:6379',
        'it does not start with redis:// or rediss://',
      ),
    ],
    [
      { mode: 'redis', redis: { options: 'fast' } },
      INVALID_OPTION('redis.options', 'an ioredis options object', 'fast'),
    ],
    [
      { mode: 'redis', redis: { cluster: { nodes: [] } } },
      INVALID_OPTION('redis.cluster.nodes', 'a non-empty array of ioredis cluster nodes', []),
    ],
    [
      { mode: 'redis', redis: { host: 'x' } },
      UNKNOWN_OPTION('redis.host', ['redis.url', 'redis.options', 'redis.cluster']),
    ],
    [
      { health: { maxSnapshotAgeIntervals: 0 } },
      INVALID_OPTION('health.maxSnapshotAgeIntervals', 'a number of intervals, at least 1', 0),
    ],
  ])('refuses %j', (options, message) => {
    expect(() => resolveOptions(options)).toThrow(message);
  });

  it('takes redis mode with a URL, and then persists nothing itself', () => {
    const resolved = resolveOptions({
      mode: 'redis',
      redis: { url: 'redis://127.0.0.1:6390/2', options: { connectTimeout: 500 } },
    });
    expect(resolved.mode).toBe('redis');
    expect(resolved.persistence.enabled).toBe(false);
    expect(resolved.redis).toEqual({
      url: 'redis://127.0.0.1:6390/2',
      options: { connectTimeout: 500 },
      cluster: undefined,
    });
    const cluster = resolveOptions({
      mode: 'redis',
      redis: { cluster: { nodes: [{ host: '127.0.0.1', port: 7000 }] } },
    });
    expect(cluster.redis?.cluster).toEqual({
      nodes: [{ host: '127.0.0.1', port: 7000 }],
      options: {},
    });
  });

  it.each([
    [0, 0],
    [1_048_576, 1_048_576],
    ['0', 0],
    ['4096', 4096],
    ['100b', 100],
    ['1k', 1000],
    ['1kb', 1024],
    ['512mb', 512 * 1024 ** 2],
    ['2GB', 2 * 1024 ** 3],
    ['3g', 3e9],
    ['25%', Math.floor(getHeapStatistics().heap_size_limit / 4)],
    ['100%', getHeapStatistics().heap_size_limit],
  ])('takes memory.maxBytes %p as %p bytes', (given, bytes) => {
    expect(resolveOptions({ memory: { maxBytes: given } }).memory.maxBytes).toBe(bytes);
  });

  it("takes each of Redis's eight policies and the samples", () => {
    for (const policy of MAXMEMORY_POLICIES) {
      expect(resolveOptions({ memory: { policy, samples: 10 } }).memory).toMatchObject({
        policy,
        samples: 10,
      });
    }
    expect(MAXMEMORY_POLICIES).toHaveLength(8);
  });

  it.each([
    ['150%', /a share of the V8 heap limit above 0% and at most 100%/],
    ['0%', /a share of the V8 heap limit above 0% and at most 100%/],
    ['99999999999999999999', /at most 2\^53 - 1 bytes/],
    ['9000000gb', /at most 2\^53 - 1 bytes/],
  ])('says why memory.maxBytes %p is refused', (given, why) => {
    expect(() => resolveOptions({ memory: { maxBytes: given } })).toThrow(why);
  });

  it.each([
    [0, 0],
    ['0', 0],
    [2500, 2500],
    ['30s', 30_000],
    ['5m', 300_000],
  ])('takes memory.packAfter %p as %p ms', (given, ms) => {
    expect(resolveOptions({ memory: { packAfter: given } }).memory.packAfter).toBe(ms);
  });

  it.each([
    ['maxBytes', -1, SIZE_ACCEPTED],
    ['maxBytes', 1.5, SIZE_ACCEPTED],
    ['maxBytes', '12 parsecs', SIZE_ACCEPTED],
    ['maxBytes', '150%', SIZE_ACCEPTED],
    ['maxBytes', '0%', SIZE_ACCEPTED],
    ['maxBytes', '-5mb', SIZE_ACCEPTED],
    ['maxBytes', true, SIZE_ACCEPTED],
    ['policy', 'lru', `one of ${MAXMEMORY_POLICIES.map((p) => `"${p}"`).join(', ')}`],
    ['policy', 'ALLKEYS-LRU', `one of ${MAXMEMORY_POLICIES.map((p) => `"${p}"`).join(', ')}`],
    ['samples', 0, SAMPLES_ACCEPTED],
    ['samples', 65, SAMPLES_ACCEPTED],
    ['samples', 2.5, SAMPLES_ACCEPTED],
    ['samples', '5', SAMPLES_ACCEPTED],
    ['packAfter', -1, DURATION_ACCEPTED],
    ['packAfter', 1.5, DURATION_ACCEPTED],
    ['packAfter', 'soon', DURATION_ACCEPTED],
    ['packAfter', '10 minutes', DURATION_ACCEPTED],
    ['packAfter', '30d', DURATION_ACCEPTED],
    ['packAfter', false, DURATION_ACCEPTED],
  ])('refuses memory.%s %p, naming what it accepts', (field, given, accepted) => {
    expect(() => resolveOptions({ memory: { [field]: given } })).toThrow(
      INVALID_OPTION(`memory.${field}`, accepted, given),
    );
  });

  it('refuses an unknown memory option', () => {
    expect(() => resolveOptions({ memory: { maxmemory: '1gb' } })).toThrow(
      UNKNOWN_OPTION('memory.maxmemory', [
        'memory.maxBytes',
        'memory.policy',
        'memory.samples',
        'memory.packAfter',
      ]),
    );
  });

  it('names the option and what it accepts', () => {
    expect(() => resolveOptions({ persistence: { snapshotInterval: '5 minutes' } })).toThrow(
      'Invalid PersistentCacheModule option "persistence.snapshotInterval": expected a number of milliseconds',
    );
  });
});

describe('optionsFromEnv', () => {
  it('warns about PERSISTENT_CACHE_ variables it does not know (a misspelling), and reads the rest', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    try {
      const options = optionsFromEnv({
        PERSISTENT_CACHE_DATADIR: '/var/cache/app',
        [PERSISTENT_CACHE_ENV.mode]: 'embedded',
        PERSISTENT_CACHE_REQUIRE_REDIS: '1',
      });
      expect(options.mode).toBe('embedded');
      expect(warn).toHaveBeenCalledTimes(1);
      expect(warn).toHaveBeenCalledWith(
        expect.stringMatching(
          /^Unknown environment variable PERSISTENT_CACHE_DATADIR: ignored\. nestjs-persistent-cache reads .*PERSISTENT_CACHE_DATA_DIR/,
        ),
      );
    } finally {
      warn.mockRestore();
    }
  });

  it('shows at most the start of a long value in an error', () => {
    const long = 'x'.repeat(100_000);
    let message = '';
    try {
      optionsFromEnv({ [PERSISTENT_CACHE_ENV.mode]: long });
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(
      /^Invalid environment variable PERSISTENT_CACHE_MODE: .*\(100002 characters in all\)\.$/,
    );
    expect(message.length).toBeLessThan(400);
  });

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
      [PERSISTENT_CACHE_ENV.onRestoreError]: 'start-empty',
      [PERSISTENT_CACHE_ENV.maxSnapshotAgeIntervals]: '4',
      [PERSISTENT_CACHE_ENV.maxBytes]: '256mb',
      [PERSISTENT_CACHE_ENV.policy]: 'volatile-ttl',
      [PERSISTENT_CACHE_ENV.samples]: '10',
      [PERSISTENT_CACHE_ENV.packAfter]: '2m',
    });
    expect(resolveOptions(options)).toMatchObject({
      mode: 'embedded',
      persistence: {
        enabled: false,
        dataDir: '/var/cache/app',
        snapshotIntervalMs: 30_000,
        snapshotOnShutdown: false,
        restoreOnStartup: true,
        onRestoreError: 'start-empty',
      },
      health: { maxSnapshotAgeIntervals: 4 },
      memory: {
        maxBytes: 256 * 1024 ** 2,
        policy: 'volatile-ttl',
        samples: 10,
        packAfter: 120_000,
      },
    });
    const redis = optionsFromEnv({
      [PERSISTENT_CACHE_ENV.mode]: 'redis',
      [PERSISTENT_CACHE_ENV.redisUrl]: 'redis://cache:6379',
    });
    expect(resolveOptions(redis)).toMatchObject({
      mode: 'redis',
      redis: { url: 'redis://cache:6379' },
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
    expect(() => optionsFromEnv({ [PERSISTENT_CACHE_ENV.mode]: 'memory' })).toThrow(
      INVALID_ENV(PERSISTENT_CACHE_ENV.mode, 'one of embedded, redis', 'memory'),
    );
    expect(() => optionsFromEnv({ [PERSISTENT_CACHE_ENV.onRestoreError]: 'skip' })).toThrow(
      INVALID_ENV(PERSISTENT_CACHE_ENV.onRestoreError, 'one of fail, start-empty', 'skip'),
    );
    expect(() =>
      optionsFromEnv({ [PERSISTENT_CACHE_ENV.maxSnapshotAgeIntervals]: 'three' }),
    ).toThrow(
      INVALID_ENV(
        PERSISTENT_CACHE_ENV.maxSnapshotAgeIntervals,
        'a number of intervals, at least 1',
        'three',
      ),
    );
    expect(() => optionsFromEnv({ [PERSISTENT_CACHE_ENV.samples]: 'abc' })).toThrow(
      INVALID_ENV(PERSISTENT_CACHE_ENV.samples, 'a whole number from 1 to 64', 'abc'),
    );
    expect(() => optionsFromEnv({ [PERSISTENT_CACHE_ENV.snapshotInterval]: 'soon' })).toThrow(
      INVALID_ENV(PERSISTENT_CACHE_ENV.snapshotInterval, DURATION_ACCEPTED, 'soon'),
    );
    expect(() => optionsFromEnv({ [PERSISTENT_CACHE_ENV.packAfter]: 'idle' })).toThrow(
      INVALID_ENV(PERSISTENT_CACHE_ENV.packAfter, DURATION_ACCEPTED, 'idle'),
    );
    expect(() => optionsFromEnv({ [PERSISTENT_CACHE_ENV.maxBytes]: 'half' })).toThrow(
      INVALID_ENV(PERSISTENT_CACHE_ENV.maxBytes, SIZE_ACCEPTED, 'half'),
    );
    expect(() => optionsFromEnv({ [PERSISTENT_CACHE_ENV.policy]: 'lru' })).toThrow(
      INVALID_ENV(PERSISTENT_CACHE_ENV.policy, `one of ${MAXMEMORY_POLICIES.join(', ')}`, 'lru'),
    );
    // Values a variable holds that only the options check can judge are named by their variable too.
    expect(() => optionsFromEnv({ [PERSISTENT_CACHE_ENV.samples]: '100' })).toThrow(
      INVALID_ENV(PERSISTENT_CACHE_ENV.samples, SAMPLES_ACCEPTED, '100'),
    );
    for (const factor of ['0', '0.5']) {
      expect(() =>
        optionsFromEnv({ [PERSISTENT_CACHE_ENV.maxSnapshotAgeIntervals]: factor }),
      ).toThrow(
        INVALID_ENV(
          PERSISTENT_CACHE_ENV.maxSnapshotAgeIntervals,
          'a number of intervals, at least 1',
          factor,
        ),
      );
    }
    expect(() => optionsFromEnv({ [PERSISTENT_CACHE_ENV.mode]: 'redis' })).toThrow(
      REDIS_URL_NEEDED(PERSISTENT_CACHE_ENV.mode, [
        PERSISTENT_CACHE_ENV.redisUrl,
        `${PERSISTENT_CACHE_ENV.redisClusterNodes} (host:port,host:port)`,
        `${PERSISTENT_CACHE_ENV.redisSentinels} with ${PERSISTENT_CACHE_ENV.redisSentinelName}`,
      ]),
    );
    expect(() => optionsFromEnv({ [PERSISTENT_CACHE_ENV.mode]: 'redis' })).toThrow(
      'Invalid environment: PERSISTENT_CACHE_MODE=redis needs PERSISTENT_CACHE_REDIS_URL ' +
        '(redis[s]://[[user]:password@]host[:port][/db]), ' +
        'or PERSISTENT_CACHE_REDIS_CLUSTER_NODES (host:port,host:port) or PERSISTENT_CACHE_REDIS_SENTINELS with ' +
        'PERSISTENT_CACHE_REDIS_SENTINEL_NAME; none is set.',
    );
    expect(() => optionsFromEnv({ [PERSISTENT_CACHE_ENV.redisUrl]: 'http://cache' })).toThrow(
      INVALID_ENV_BECAUSE(
        PERSISTENT_CACHE_ENV.redisUrl,
        REDIS_URL_ACCEPTED,
        'http://cache',
        'its scheme is "http", not redis or rediss',
      ),
    );
    // Numbers are decimal: not hexadecimal, not exponents, not blank.
    for (const number of ['0x10', '1e1', '10abc']) {
      expect(() => optionsFromEnv({ [PERSISTENT_CACHE_ENV.samples]: number })).toThrow(
        INVALID_ENV(PERSISTENT_CACHE_ENV.samples, 'a whole number from 1 to 64', number),
      );
    }
  });
});

describe('optionsFromEnv: a Redis Cluster or Sentinel', () => {
  const { mode, redisUrl, redisClusterNodes, redisSentinels, redisSentinelName } =
    PERSISTENT_CACHE_ENV;

  it('reads cluster nodes as host:port, [ipv6]:port or redis:// URLs, into redis.cluster', () => {
    const options = optionsFromEnv({
      [mode]: 'redis',
      [redisClusterNodes]: ' 10.0.0.1:7000, node-2.internal:7001 ,[::1]:7002,redis://node-4:7003',
    });
    expect(options.mode).toBe('redis');
    expect(options.redis).toEqual({
      cluster: {
        nodes: [
          { host: '10.0.0.1', port: 7000 },
          { host: 'node-2.internal', port: 7001 },
          { host: '::1', port: 7002 },
          { host: 'node-4', port: 7003 },
        ],
        options: {},
      },
    });
    expect(resolveOptions(options).redis?.cluster?.nodes).toHaveLength(4);
    // One node is enough: the client finds the others.
    expect(optionsFromEnv({ [mode]: 'redis', [redisClusterNodes]: 'redis://n1' }).redis).toEqual({
      cluster: { nodes: [{ host: 'n1', port: 6379 }], options: {} },
    });
  });

  it('takes TLS, user and password of redis:// entries for every node', () => {
    const options = optionsFromEnv({
      [mode]: 'redis',
      [redisClusterNodes]: 'rediss://app:s%40cret@n1:7000,rediss://app:s%40cret@n2:7000/0',
    });
    expect(options.redis?.cluster).toEqual({
      nodes: [
        { host: 'n1', port: 7000 },
        { host: 'n2', port: 7000 },
      ],
      options: { redisOptions: { tls: {}, username: 'app', password: 's@cret' } },
    });
    expect(() =>
      optionsFromEnv({ [mode]: 'redis', [redisClusterNodes]: 'redis://n1:7000,rediss://n2:7000' }),
    ).toThrow(ENV_ENTRIES_DISAGREE(redisClusterNodes, 'scheme'));
    expect(() =>
      optionsFromEnv({
        [mode]: 'redis',
        [redisClusterNodes]: 'redis://:a@n1:7000,redis://:b@n2:7000',
      }),
    ).toThrow(ENV_ENTRIES_DISAGREE(redisClusterNodes, 'password'));
  });

  it('names the bad entry, its place and what an entry may be, without its password', () => {
    const bad: [string, string, number, number][] = [
      ['n1:7000,n2', 'n2', 2, 2],
      ['n1:7000,,n3:7000', '', 2, 3],
      ['n1:70000', 'n1:70000', 1, 1],
      ['n1:0', 'n1:0', 1, 1],
      ['http://n1:7000', 'http://n1:7000', 1, 1],
      ['redis://n1:7000/2', 'redis://n1:7000/2', 1, 1],
      ['redis://:pw@n1:7000/2', 'redis://:***@n1:7000/2', 1, 1],
      ['redis://n1:7000?tls=1', 'redis://n1:7000?tls=1', 1, 1],
      ['n1 :7000', 'n1 :7000', 1, 1],
      ['::1:7000', '::1:7000', 1, 1],
    ];
    for (const [value, entry, position, count] of bad) {
      expect(() => optionsFromEnv({ [mode]: 'redis', [redisClusterNodes]: value })).toThrow(
        INVALID_ENV_ENTRY(redisClusterNodes, CLUSTER_NODES_ACCEPTED, entry, position, count),
      );
    }
    expect(INVALID_ENV_ENTRY(redisClusterNodes, CLUSTER_NODES_ACCEPTED, 'n2', 2, 2)).toBe(
      'Invalid environment variable PERSISTENT_CACHE_REDIS_CLUSTER_NODES: expected a comma-separated list of ' +
        'cluster nodes, each host:port or redis://[user:password@]host:port (rediss:// for TLS; no database: a ' +
        'Redis Cluster has only database 0); entry 2 of 2 is "n2".',
    );
  });

  it('needs PERSISTENT_CACHE_MODE=redis, and refuses a second kind of Redis beside a cluster or sentinels', () => {
    for (const given of [undefined, 'embedded'] as const) {
      const env = given === undefined ? {} : { [mode]: given };
      expect(() => optionsFromEnv({ ...env, [redisClusterNodes]: 'n1:7000' })).toThrow(
        ENV_NEEDS_REDIS_MODE(redisClusterNodes, mode, given ?? ''),
      );
      expect(() =>
        optionsFromEnv({ ...env, [redisSentinels]: 's1:26379', [redisSentinelName]: 'main' }),
      ).toThrow(ENV_NEEDS_REDIS_MODE(redisSentinels, mode, given ?? ''));
    }
    expect(ENV_NEEDS_REDIS_MODE(redisClusterNodes, mode, '')).toBe(
      'Invalid environment: PERSISTENT_CACHE_REDIS_CLUSTER_NODES is set, but PERSISTENT_CACHE_MODE is not set ' +
        '(embedded mode): the cache uses that Redis only in redis mode. Set PERSISTENT_CACHE_MODE=redis, or unset ' +
        'PERSISTENT_CACHE_REDIS_CLUSTER_NODES.',
    );
    const why =
      'they name different Redis setups (one server, a cluster, a Sentinel-managed primary)';
    expect(() =>
      optionsFromEnv({
        [mode]: 'redis',
        [redisUrl]: 'redis://cache:6379',
        [redisClusterNodes]: 'n1:7000',
      }),
    ).toThrow(ENV_CONFLICT([redisUrl, redisClusterNodes], why));
    expect(() =>
      optionsFromEnv({
        [mode]: 'redis',
        [redisClusterNodes]: 'n1:7000',
        [redisSentinels]: 's1:26379',
        [redisSentinelName]: 'main',
      }),
    ).toThrow(ENV_CONFLICT([redisClusterNodes, redisSentinels], why));
    expect(() =>
      optionsFromEnv({
        [mode]: 'redis',
        [redisUrl]: 'redis://cache:6379',
        [redisSentinels]: 's1:26379',
        [redisSentinelName]: 'main',
      }),
    ).toThrow(ENV_CONFLICT([redisUrl, redisSentinels], why));
  });

  it('reads sentinels (host:port) with the name of the primary they watch, into redis.options', () => {
    const options = optionsFromEnv({
      [mode]: 'redis',
      [redisSentinels]: 's1:26379,s2:26380,[::1]:26381',
      [redisSentinelName]: 'main',
    });
    expect(options.redis).toEqual({
      options: {
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 26380 },
          { host: '::1', port: 26381 },
        ],
        name: 'main',
      },
    });
    expect(() =>
      optionsFromEnv({
        [mode]: 'redis',
        [redisSentinels]: 'redis://s1:26379',
        [redisSentinelName]: 'main',
      }),
    ).toThrow(INVALID_ENV_ENTRY(redisSentinels, SENTINELS_ACCEPTED, 'redis://s1:26379', 1, 1));
    expect(() => optionsFromEnv({ [mode]: 'redis', [redisSentinels]: 's1:26379' })).toThrow(
      ENV_NEEDS_PARTNER(
        redisSentinels,
        redisSentinelName,
        'the sentinels are asked for a primary by the name they monitor it under (`sentinel monitor <name> …`)',
      ),
    );
    expect(() => optionsFromEnv({ [mode]: 'redis', [redisSentinelName]: 'main' })).toThrow(
      ENV_NEEDS_PARTNER(redisSentinelName, redisSentinels, 'it names a primary the sentinels know'),
    );
  });
});

describe('resolveOptions: where Redis is (redis.url, redis.options, redis.cluster)', () => {
  const redisMode = (redis: unknown) => () => resolveOptions({ mode: 'redis', redis });
  const CLUSTER_DB = 'no database or database 0 with redis.cluster';

  it.each<[string, string]>([
    ['redis://127.0.0.1:6379/abc', `its database "abc" is not ${DB_ACCEPTED}`],
    ['redis://127.0.0.1:6379/-1', `its database "-1" is not ${DB_ACCEPTED}`],
    ['redis://127.0.0.1:6379/2.5', `its database "2.5" is not ${DB_ACCEPTED}`],
    ['redis://127.0.0.1:99999', 'its port 99999 is not from 1 to 65535'],
    ['redis://127.0.0.1:0/1', 'its port 0 is not from 1 to 65535'],
    ['redis://127.0.0.1:port', 'its port "port" is not a number from 1 to 65535'],
    ['http://127.0.0.1:6379', 'its scheme is "http", not redis or rediss'],
    ['redis://:6379', 'it names no host'],
    [
      'redis://127.0.0.1:6379?db=2',
      'it has a query string ("?db=2"), which is not part of the form',
    ],
  ])('refuses redis.url %s, naming the option, the form and the problem', (url, problem) => {
    expect(redisMode({ url })).toThrow(
      INVALID_OPTION_BECAUSE('redis.url', REDIS_URL_ACCEPTED, url, problem),
    );
  });

  it('shows a refused URL without its password, and says what the form is', () => {
    expect(redisMode({ url: 'redis://app:s3cret@cache:99999/1' })).toThrow(
      'Invalid PersistentCacheModule option "redis.url": expected redis[s]://[[user]:password@]host[:port][/db] ' +
        'with a port from 1 to 65535 (default 6379) and a db from 0 to 2147483647 (default 0), without a query ' +
        'string, got "redis://***@cache:99999/1": its port 99999 is not from 1 to 65535.',
    );
    expect(redisMode({ url: 'redis://:s3cret@cache/x' })).toThrow('got "redis://:***@cache/x"');
    expect(redisMode({ url: 42 })).toThrow(INVALID_OPTION('redis.url', REDIS_URL_ACCEPTED, 42));
  });

  it.each<[string, object, string, unknown]>([
    ['a negative db', { db: -1 }, 'redis.options.db', -1],
    ['a fractional db', { db: 1.5 }, 'redis.options.db', 1.5],
    ['a db that is not a number', { db: 'two' }, 'redis.options.db', 'two'],
    ['a db with trailing text', { db: '3x' }, 'redis.options.db', '3x'],
    ['a port over 65535', { port: 70000 }, 'redis.options.port', 70000],
    ['port 0', { port: 0 }, 'redis.options.port', 0],
    ['a port that parseInt would cut', { port: '6379abc' }, 'redis.options.port', '6379abc'],
    [
      "a sentinel's port",
      {
        sentinels: [
          { host: 's1', port: 26379 },
          { host: 's2', port: 263790 },
        ],
        name: 'm',
      },
      'redis.options.sentinels[1].port',
      263790,
    ],
  ])('refuses %s in redis.options', (_case, options, option, got) => {
    const accepted = option.endsWith('.db') ? DB_ACCEPTED : PORT_ACCEPTED;
    expect(redisMode({ url: 'redis://127.0.0.1:6379', options })).toThrow(
      INVALID_OPTION(option, accepted, got),
    );
    expect(redisMode({ options })).toThrow(INVALID_OPTION(option, accepted, got));
  });

  it('takes a database and a port as numbers or digits, as ioredis does', () => {
    for (const url of [
      'redis://h',
      'redis://h:6380/',
      'redis://h:1/15',
      'rediss://u:p@h:65535/0',
    ]) {
      expect(resolveOptions({ mode: 'redis', redis: { url } }).redis?.url).toBe(url);
    }
    const options = { db: '3', port: '6380', sentinels: [{ host: 's1' }], name: 'main' };
    expect(resolveOptions({ mode: 'redis', redis: { options } }).redis?.options).toEqual(options);
    expect(
      resolveOptions({ mode: 'redis', redis: { options: { db: 0, port: 1 } } }).redis?.options,
    ).toEqual({ db: 0, port: 1 });
  });

  it('refuses a database other than 0 wherever a cluster is given one: a cluster has only database 0', () => {
    const nodes = [{ host: 'n1', port: 7000 }];
    const why = (db: number) => `it names database ${db}, and a Redis Cluster has only database 0`;
    expect(redisMode({ cluster: { nodes: ['redis://n1:7000/3'] } })).toThrow(
      INVALID_OPTION_BECAUSE('redis.cluster.nodes[0]', CLUSTER_DB, 'redis://n1:7000/3', why(3)),
    );
    expect(redisMode({ cluster: { nodes: ['n1:7000', 'rediss://:pw@n2:7000/1'] } })).toThrow(
      INVALID_OPTION_BECAUSE(
        'redis.cluster.nodes[1]',
        CLUSTER_DB,
        'rediss://:***@n2:7000/1',
        why(1),
      ),
    );
    expect(redisMode({ cluster: { nodes: [{ host: 'n1', port: 7000, db: 2 }] } })).toThrow(
      INVALID_OPTION_BECAUSE('redis.cluster.nodes[0].db', CLUSTER_DB, 2, why(2)),
    );
    expect(redisMode({ cluster: { nodes, options: { redisOptions: { db: 5 } } } })).toThrow(
      INVALID_OPTION_BECAUSE('redis.cluster.options.redisOptions.db', CLUSTER_DB, 5, why(5)),
    );
    expect(redisMode({ url: 'redis://h:6379/4', cluster: { nodes } })).toThrow(
      INVALID_OPTION_BECAUSE('redis.url', CLUSTER_DB, 'redis://h:6379/4', why(4)),
    );
    expect(redisMode({ options: { db: 6 }, cluster: { nodes } })).toThrow(
      INVALID_OPTION_BECAUSE('redis.options.db', CLUSTER_DB, 6, why(6)),
    );
    // Database 0, or none, is what a cluster has.
    const fine = [
      'n1:7000',
      'redis://n2:7000',
      'redis://n3:7000/0',
      7004,
      { host: 'n5', port: 7005, db: 0 },
      { port: '7006' },
    ];
    expect(
      resolveOptions({
        mode: 'redis',
        redis: { cluster: { nodes: fine, options: { redisOptions: { db: 0 } } } },
      }).redis?.cluster?.nodes,
    ).toEqual(fine);
  });

  it('refuses a cluster node with a bad port or of another kind', () => {
    const refused: [unknown, string, string, unknown][] = [
      [70000, 'redis.cluster.nodes[0]', CLUSTER_NODE_ACCEPTED, 70000],
      [{ host: 'n1', port: 0 }, 'redis.cluster.nodes[0].port', PORT_ACCEPTED, 0],
      [{ host: '', port: 7000 }, 'redis.cluster.nodes[0].host', 'a host name or address', ''],
      [true, 'redis.cluster.nodes[0]', CLUSTER_NODE_ACCEPTED, true],
    ];
    for (const [node, option, accepted, got] of refused) {
      expect(redisMode({ cluster: { nodes: [node] } })).toThrow(
        INVALID_OPTION(option, accepted, got),
      );
    }
    expect(redisMode({ cluster: { nodes: ['n1:99999'] } })).toThrow(
      INVALID_OPTION_BECAUSE(
        'redis.cluster.nodes[0]',
        CLUSTER_NODE_ACCEPTED,
        'redis://n1:99999',
        'its port 99999 is not from 1 to 65535',
      ),
    );
  });
});

describe('optionsFromEnv: PERSISTENT_CACHE_REDIS_URL', () => {
  const { mode, redisUrl } = PERSISTENT_CACHE_ENV;

  it.each<[string, string]>([
    ['redis://cache:6379/abc', `its database "abc" is not ${DB_ACCEPTED}`],
    ['redis://cache:99999', 'its port 99999 is not from 1 to 65535'],
    ['redis://cache:6379/-2', `its database "-2" is not ${DB_ACCEPTED}`],
    ['cache:6379', 'it does not start with redis:// or rediss://'],
  ])('refuses %s, naming the variable, the form and the problem', (url, problem) => {
    for (const env of [{ [mode]: 'redis' }, {}]) {
      expect(() => optionsFromEnv({ ...env, [redisUrl]: url })).toThrow(
        INVALID_ENV_BECAUSE(redisUrl, REDIS_URL_ACCEPTED, url, problem),
      );
    }
  });

  it('hides the password of a refused URL', () => {
    expect(() =>
      optionsFromEnv({ [mode]: 'redis', [redisUrl]: 'redis://:pw@cache:6379/x' }),
    ).toThrow(
      'Invalid environment variable PERSISTENT_CACHE_REDIS_URL: expected redis[s]://[[user]:password@]host' +
        '[:port][/db] with a port from 1 to 65535 (default 6379) and a db from 0 to 2147483647 (default 0), ' +
        'without a query string, got "redis://:***@cache:6379/x": its database "x" is not a whole number from 0 ' +
        'to 2147483647.',
    );
  });
});
