import { SchedulerRegistry } from '@nestjs/schedule';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Cluster, Redis } from 'ioredis';
import {
  CACHE,
  PersistentCacheModuleOptions,
  SNAPSHOT_INTERVAL_NAME,
  SnapshotService,
} from '../lib';
import { STORE_FILE } from '../lib/store/data-dir';
import { PERSISTENCE_DISABLED } from '../lib/snapshots/snapshots.messages';
import { allKeys, expectSameData, portableDigest } from './support/digest';
import { bootWith, durable, type Harness, removeTempDirs, tempDir } from './support/harness';
import { bootLogged, CapturingLogger } from './support/logs';
import { freePort } from './support/free-port';
import { startRedisCluster } from './support/redis-cluster';
import { findRedisServer, startRedisServer, type RedisServer } from './support/redis-server';

/**
 * The cache behaviours the module promises, whichever mode it runs in: the same tests run against the embedded
 * cache (ioredis-mock over our keyspace, snapshotted to LMDB), against a real redis-server in `redis` mode, and
 * against a real 3-primary Redis Cluster (`redis.cluster`).
 *
 * On a cluster, keys that one command (MGET, SINTER, EXISTS of several keys) or one transaction or pipeline uses
 * together share a hash tag (`{tx}a`, `{tx}list`), as an application's must: the tests name them so on every
 * target. Not run on a cluster: the `keys` test (KEYS, DBSIZE and FLUSHALL answer for the one node the client sends
 * them to, and MSET, DEL, EXISTS and RENAME across slots are refused with CROSSSLOT) and the tests of the module in
 * redis mode (they are about one server's URL).
 *
 * Where the embedded cache differs from Redis, the tests assert what both do, and the differences are listed here
 * rather than hidden behind weak assertions (ioredis-mock 8.13.1 unless said otherwise):
 * - TYPE: ioredis-mock reports a stream as `list`, and `none` for a string set from a Buffer; Redis says `stream`
 *   and `string`. TYPE is asserted for strings set from text, hashes, lists, sets and sorted sets.
 * - Stream IDs: given an explicit ID `1-1`, ioredis-mock stores and returns `1-1-0`. Streams use `*` IDs here and
 *   the tests compare XRANGE's IDs with the ones XADD returned, plus counts and fields.
 * - Scores of ±infinity: Redis prints `inf`/`-inf`, ioredis-mock `Infinity`/`-Infinity` (both parse to the same
 *   number, which is compared). ZADD with the strings `+inf`/`-inf` gives NaN scores in ioredis-mock, so the
 *   tests pass the numbers `Infinity`/`-Infinity` (sent as "Infinity", which Redis accepts too).
 * - Errors: the embedded client answers commands that write (and those that take members) with Redis's errors
 *   (test/command-fidelity.e2e-spec.ts compares them); read-only commands are left as ioredis-mock answers them:
 *   HGET of a string answers null (Redis: WRONGTYPE), LLEN of a hash throws an error of ioredis-mock's wording. A
 *   command that fails inside a pipeline rejects the whole `exec()` in ioredis-mock, whereas ioredis gives it an
 *   `[error]` slot and runs the rest. Pipelines and transactions are asserted with commands that succeed.
 * - STRLEN and GETRANGE count UTF-16 characters in ioredis-mock and bytes in Redis; not asserted on non-ASCII.
 * - A sorted set emptied by ZREM: Redis deletes the key; ioredis-mock keeps an empty one (EXISTS says 1). Not
 *   asserted; ZCARD is 0 on both.
 * - Expiry: Redis removes an expired key lazily or by its background cycle; ioredis-mock on access. Both answer
 *   as if it were gone once the time has passed, which is what is asserted.
 *
 * Restart semantics: embedded — the data survives `app.close()` (final snapshot) and a new app on the same data
 * dir; redis — the data survives `app.close()` and a new app against the same server, which keeps it.
 */

interface Target {
  readonly name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Options of a cache with no data yet (the caller clears what the server may still hold). */
  fresh(): PersistentCacheModuleOptions;
  /** Deletes every key the cache holds (on a cluster, of every primary). */
  clear(cache: Redis): Promise<unknown>;
  readonly restart: string;
  /** A Redis Cluster: the commands of a test that uses keys of several slots at once do not apply. */
  readonly cluster?: boolean;
}

const embedded: Target = {
  name: 'embedded mode',
  start: () => Promise.resolve(),
  stop: () => Promise.resolve(),
  fresh: () => durable(tempDir()),
  clear: (cache) => cache.flushall(),
  restart: 'a new app on the same data dir restores it',
};

/**
 * A target whose server `startServer` starts once before the first test that uses it and stops after the last.
 * `options` are the module's options for that server.
 */
function serverTarget<S extends { stop(): Promise<void> }>(
  target: Omit<Target, 'start' | 'stop' | 'fresh'> & {
    startServer(): Promise<S>;
    options(server: S): PersistentCacheModuleOptions;
  },
): Target & { server(): S } {
  let server: Promise<S> | undefined;
  let started: S | undefined;
  let users = 0;
  const running = (): S => {
    if (started === undefined) throw new Error(`the server of ${target.name} is not running`);
    return started;
  };
  return {
    name: target.name,
    restart: target.restart,
    cluster: target.cluster,
    clear: target.clear,
    start: async () => {
      users++;
      server ??= target.startServer();
      started = await server;
    },
    stop: async () => {
      if (--users > 0 || server === undefined) return;
      const stopping = server;
      server = undefined;
      started = undefined;
      await (await stopping).stop();
    },
    fresh: () => target.options(running()),
    server: running,
  };
}

/** The redis-server of this file: started once before its first test, stopped after its last. */
function redisTarget(binary: string): Target & { server(): RedisServer } {
  return serverTarget({
    name: 'redis mode (real redis-server)',
    startServer: () => startRedisServer(binary),
    options: (server) => ({
      mode: 'redis',
      redis: { url: server.url },
      // Ignored in redis mode; a test below checks nothing is created there.
      persistence: { dataDir: join(tempDir(), 'data'), snapshotInterval: '1s' },
    }),
    clear: (cache) => cache.flushall(),
    restart: 'a new app against the same server finds it there',
  });
}

/** A Redis Cluster of 3 primaries, the cache an ioredis `Cluster` connected to them. */
function clusterTarget(binary: string): Target {
  return serverTarget({
    name: 'redis mode (real 3-primary Redis Cluster)',
    startServer: () => startRedisCluster(binary),
    options: (cluster) => ({
      mode: 'redis',
      redis: { cluster: { nodes: [...cluster.startupNodes] } },
    }),
    // FLUSHALL goes to one node: every primary is flushed, once the client knows them all.
    clear: async (cache) => {
      await cache.ping();
      await Promise.all((cache as unknown as Cluster).nodes('master').map((n) => n.flushall()));
    },
    restart: 'a new app against the same cluster finds it there',
    cluster: true,
  });
}

const redisServerBinary = findRedisServer('behaviour suite (test/behaviour.e2e-spec.ts)');
const redis = redisServerBinary === null ? undefined : redisTarget(redisServerBinary);
const targets: Target[] =
  redisServerBinary === null || redis === undefined
    ? [embedded]
    : [embedded, redis, clusterTarget(redisServerBinary)];

// One server for the whole file (each describe below also holds it while it runs).
beforeAll(() => redis?.start());
afterAll(async () => {
  await redis?.stop();
  removeTempDirs();
});

function sorted(values: string[]): string[] {
  return [...values].sort();
}

/** A flat `[member, score, …]` WITHSCORES reply as pairs with numeric scores (`inf` and `Infinity` alike). */
function scored(flat: string[]): [string, number][] {
  const pairs: [string, number][] = [];
  for (let i = 0; i < flat.length; i += 2) {
    const s = flat[i + 1].toLowerCase();
    const score =
      s === 'inf' || s === 'infinity'
        ? Infinity
        : s === '-inf' || s === '-infinity'
          ? -Infinity
          : Number(s);
    pairs.push([flat[i], score]);
  }
  return pairs;
}

if (redis !== undefined) {
  describe('redis mode: the module', () => {
    beforeAll(() => redis.start());
    afterAll(() => redis.stop());

    // First in the file: the disconnect() that ends this test's client leaves ioredis's 2 s timer (which destroys
    // a socket that does not close), and the tests after it outlast that timer.
    test('an unreachable Redis does not stop startup: one error names it without the password', async () => {
      const port = await freePort(); // nothing listens there
      const logger = new CapturingLogger();
      const app = await bootLogged(
        {
          mode: 'redis',
          // Retry every 20 ms, so that several attempts fail during the test.
          redis: {
            url: `redis://app:s3cret-pw@127.0.0.1:${port}/2`,
            options: { retryStrategy: () => 20 },
          },
        },
        logger,
      );
      const client = app.get<Redis>(CACHE);
      let attempts = 0;
      client.on('error', () => attempts++);
      for (let i = 0; i < 200 && attempts < 5; i++) await sleep(20);
      expect(attempts).toBeGreaterThanOrEqual(5);
      const errors = logger.lines.filter((line) => line.startsWith('ERROR'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(`Cannot reach Redis at redis://app:***@127.0.0.1:${port}/2:`);
      expect(errors[0]).toContain('ECONNREFUSED');
      expect(logger.lines.join('\n')).not.toContain('s3cret-pw');
      expect(client.status).not.toBe('ready');

      // Shutdown does not wait for a server that is not there, and the retries stop.
      await app.close();
      const after = attempts;
      await sleep(200);
      expect(attempts).toBe(after);
      expect(client.status).not.toBe('ready');
    });

    test('opens no LMDB store, registers no interval, and closes the client on app.close()', async () => {
      const dataDir = join(tempDir(), 'data');
      const h = await bootWith({
        mode: 'redis',
        redis: { url: redis.server().url },
        persistence: { dataDir, snapshotInterval: '100ms' },
      });
      const client = h.app.get<Redis>(CACHE);
      expect(client).toBe(h.redis);
      expect(await client.ping()).toBe('PONG');
      expect(client.status).toBe('ready');
      await client.set('written-in-redis-mode', 'yes');
      // The server holds it: a separate connection sees it.
      const direct = redis.server().client();
      expect(await direct.get('written-in-redis-mode')).toBe('yes');
      await direct.quit();

      const scheduler = h.app.get(SchedulerRegistry);
      expect(scheduler.doesExist('interval', SNAPSHOT_INTERVAL_NAME)).toBe(false);
      expect(scheduler.getIntervals()).toEqual([]);
      await expect(h.app.get(SnapshotService).snapshot()).rejects.toThrow(
        PERSISTENCE_DISABLED('take a snapshot', 'redis'),
      );
      expect(existsSync(dataDir)).toBe(false);

      await h.app.close();
      expect(client.status).toBe('end');
      expect(existsSync(dataDir)).toBe(false);
      expect(existsSync(join(dataDir, STORE_FILE))).toBe(false);
    });

    test('logs redis mode once, naming the server', async () => {
      const logger = new CapturingLogger();
      const app = await bootLogged({ mode: 'redis', redis: { url: redis.server().url } }, logger);
      const client = app.get<Redis>(CACHE);
      await client.ping();
      await app.close();
      const modeLines = logger.lines.filter((line) => line.includes('Redis mode'));
      expect(modeLines).toEqual([
        `LOG Redis mode: the cache is the Redis at ${redis.server().url}; no snapshot store is opened ` +
          'and no snapshot job runs.',
      ]);
      expect(logger.lines).toContain(`LOG Connected to Redis at ${redis.server().url}.`);
      expect(logger.lines.some((line) => line.includes('Snapshots every'))).toBe(false);
    });
  });
}

describe.each(targets)('cache behaviour: $name', (target) => {
  let h: Harness;
  let cache: Redis;
  let options: PersistentCacheModuleOptions;

  beforeAll(() => target.start());
  afterAll(() => target.stop());

  beforeEach(async () => {
    options = target.fresh();
    h = await bootWith(options);
    cache = h.redis;
    await target.clear(cache);
  });
  afterEach(async () => {
    await h.app.close();
  });

  describe('strings', () => {
    test('SET/GET text, unicode and empty values; GET of a missing key is null', async () => {
      await cache.set('greeting', 'hello');
      await cache.set('unicode', 'héllo wörld ✓ 🔑 日本');
      await cache.set('ключ 🔑', 'unicode key');
      await cache.set('empty', '');
      expect(await cache.get('greeting')).toBe('hello');
      expect(await cache.get('unicode')).toBe('héllo wörld ✓ 🔑 日本');
      expect(await cache.get('ключ 🔑')).toBe('unicode key');
      expect(await cache.get('empty')).toBe('');
      expect(await cache.get('missing')).toBeNull();
      expect(await cache.substr('greeting', 1, 3)).toBe('ell');
      expect(await cache.substr('missing', 0, 1)).toBe('');
      expect(await cache.type('greeting')).toBe('string');
      await cache.set('{mget}hello', 'hello');
      await cache.set('{mget}empty', '');
      expect(await cache.mget('{mget}hello', '{mget}missing', '{mget}empty')).toEqual([
        'hello',
        null,
        '',
      ]);
    });

    test('binary values and keys come back as the same bytes', async () => {
      const bytes = Buffer.from([0x00, 0xff, 0x80, 0x0d, 0x0a, 0xc3, 0x28, 0xfe]);
      await cache.set('bin', bytes);
      expect(await cache.getBuffer('bin')).toEqual(bytes);
      const key = Buffer.from('bin\u0000key');
      await cache.set(key, 'under a key with a NUL');
      expect(await cache.get(key)).toBe('under a key with a NUL');
      const big = Buffer.alloc(16 * 1024, 0xab);
      await cache.set('big', big);
      // Compared as hex: jest's deep equality walks a Buffer byte by byte.
      expect((await cache.getBuffer('big'))?.toString('hex')).toBe(big.toString('hex'));
    });

    test('SET NX/XX, GETSET, INCR/INCRBY/DECR/INCRBYFLOAT and APPEND', async () => {
      expect(await cache.set('once', 'first', 'NX')).toBe('OK');
      expect(await cache.set('once', 'second', 'NX')).toBeNull();
      expect(await cache.set('absent', 'x', 'XX')).toBeNull();
      expect(await cache.get('once')).toBe('first');
      expect(await cache.getset('once', 'replaced')).toBe('first');
      expect(await cache.get('once')).toBe('replaced');

      expect(await cache.incr('counter')).toBe(1);
      expect(await cache.incrby('counter', 41)).toBe(42);
      expect(await cache.decr('counter')).toBe(41);
      expect(await cache.get('counter')).toBe('41');
      expect(Number(await cache.incrbyfloat('float', '2.5'))).toBe(2.5);

      expect(await cache.append('log', 'a')).toBe(1);
      expect(await cache.append('log', 'bc')).toBe(3);
      expect(await cache.get('log')).toBe('abc');
    });

    test('LCS: the common subsequence, its length, its matching ranges', async () => {
      await cache.set('{lcs}a', 'ohmytext');
      await cache.set('{lcs}b', 'mynewtext');
      expect(await cache.lcs('{lcs}a', '{lcs}b')).toBe('mytext');
      expect(await cache.lcs('{lcs}a', '{lcs}b', 'LEN')).toBe(6);
      // Ranges last first: "text" at 4–7 of a and 5–8 of b, then "my" at 2–3 and 0–1.
      expect(await cache.lcs('{lcs}a', '{lcs}b', 'IDX', 'WITHMATCHLEN')).toEqual([
        'matches',
        [
          [[4, 7], [5, 8], 4],
          [[2, 3], [0, 1], 2],
        ],
        'len',
        6,
      ]);
      expect(await cache.lcs('{lcs}a', '{lcs}b', 'IDX', 'MINMATCHLEN', 3)).toEqual([
        'matches',
        [
          [
            [4, 7],
            [5, 8],
          ],
        ],
        'len',
        6,
      ]);
      expect(await cache.lcs('{lcs}a', '{lcs}missing')).toBe('');
      await expect(cache.lcs('{lcs}a', '{lcs}b', 'LEN', 'IDX')).rejects.toThrow(
        'ERR If you want both the length and indexes, please just use IDX.',
      );
      await cache.rpush('{lcs}list', 'x');
      // The keys' types are checked before the options.
      await expect(cache.call('lcs', '{lcs}list', '{lcs}a', 'FOO')).rejects.toThrow(
        'ERR The specified keys must contain string values',
      );
      await expect(cache.call('lcs', '{lcs}a', '{lcs}b', 'FOO')).rejects.toThrow(
        'ERR syntax error',
      );
    });

    test('BITFIELD and BITFIELD_RO: fields, OVERFLOW WRAP, SAT and FAIL, errors in Redis order', async () => {
      // Counters of 8 bits side by side, addressed by field (#n) or by bit.
      expect(
        await cache.call('bitfield', '{bf}c', 'INCRBY', 'u8', '#0', 250, 'INCRBY', 'u8', '#1', 1),
      ).toEqual([250, 1]);
      expect(await cache.getBuffer('{bf}c')).toEqual(Buffer.from([250, 1]));
      expect(
        await cache.call(
          'bitfield',
          '{bf}c',
          'INCRBY',
          'u8',
          0,
          10,
          'OVERFLOW',
          'SAT',
          'INCRBY',
          'u8',
          8,
          300,
        ),
      ).toEqual([4, 255]);
      // FAIL leaves the field as it was (and answers nil); SET answers the old value.
      expect(
        await cache.call(
          'bitfield',
          '{bf}c',
          'OVERFLOW',
          'FAIL',
          'INCRBY',
          'u8',
          0,
          252,
          'SET',
          'i8',
          0,
          -1,
        ),
      ).toEqual([null, 4]);
      expect(
        await cache.call('bitfield_ro', '{bf}c', 'GET', 'i8', 0, 'GET', 'u4', 8, 'GET', 'u16', 16),
      ).toEqual([-1, 15, 0]);
      // A signed SET of -2^63 into 32 bits saturates to the maximum under SAT, as Redis's 64-bit checks have it.
      expect(
        await cache.call(
          'bitfield',
          '{bf}s',
          'OVERFLOW',
          'SAT',
          'SET',
          'i32',
          0,
          '-9223372036854775808',
          'GET',
          'i32',
          0,
        ),
      ).toEqual([0, 2147483647]);
      // A write grows the string before it runs, even when it fails.
      expect(
        await cache.call('bitfield', '{bf}new', 'OVERFLOW', 'FAIL', 'SET', 'u8', 16, 300),
      ).toEqual([null]);
      expect(await cache.strlen('{bf}new')).toBe(3);
      await expect(cache.call('bitfield', '{bf}c', 'GET', 'u64', 0)).rejects.toThrow(
        'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.',
      );
      await expect(cache.call('bitfield', '{bf}c', 'GET', 'u8', -1)).rejects.toThrow(
        'ERR bit offset is not an integer or out of range',
      );
      await expect(cache.call('bitfield', '{bf}c', 'OVERFLOW', 'NONE')).rejects.toThrow(
        'ERR Invalid OVERFLOW type specified',
      );
      await expect(cache.call('bitfield_ro', '{bf}c', 'SET', 'u8', 0, 1)).rejects.toThrow(
        'ERR BITFIELD_RO only supports the GET subcommand',
      );
      await cache.rpush('{bf}list', 'x');
      // The subcommands are read before the key's type.
      await expect(cache.call('bitfield', '{bf}list', 'FOO')).rejects.toThrow('ERR syntax error');
      await expect(cache.call('bitfield', '{bf}list', 'GET', 'u8', 0)).rejects.toThrow('WRONGTYPE');
    });

    test("HyperLogLog: PFADD, PFCOUNT and PFMERGE give Redis's estimates and Redis's strings", async () => {
      const users = (from: number, to: number): string[] =>
        Array.from({ length: to - from }, (_, i) => `user:${from + i}`);
      expect(await cache.pfadd('{hll}a', ...users(0, 1000))).toBe(1);
      expect(await cache.pfadd('{hll}a', 'user:1')).toBe(0);
      expect(await cache.pfadd('{hll}b', ...users(500, 3000))).toBe(1);
      expect(await cache.pfcount('{hll}a')).toBe(1007);
      expect(await cache.pfcount('{hll}b')).toBe(2502);
      expect(await cache.pfcount('{hll}a', '{hll}b', '{hll}missing')).toBe(2996);
      expect(await cache.pfmerge('{hll}u', '{hll}a', '{hll}b')).toBe('OK');
      expect(await cache.pfcount('{hll}u')).toBe(2996);
      // Sparse while small, dense (16384 registers of 6 bits after a 16-byte header) once large, as in Redis.
      expect(await cache.strlen('{hll}a')).toBe(1910);
      // The sparse opcodes themselves, as Redis splits and merges them (after the PFCOUNT above cached the estimate).
      const sparse = (await cache.getBuffer('{hll}a')) ?? Buffer.alloc(0);
      expect(createHash('sha1').update(sparse).digest('hex')).toBe(
        'b6e2b5abfd10301c34afeb31708783fcbb1a7625',
      );
      expect(await cache.strlen('{hll}b')).toBe(12304);
      // PFCOUNT stores the estimate in the header: the string is the one Redis holds, byte for byte.
      expect(await cache.pfadd('{hll}c', 'x', 'y', 'z')).toBe(1);
      expect(await cache.pfcount('{hll}c')).toBe(3);
      expect(await cache.getBuffer('{hll}c')).toEqual(
        Buffer.from('48594c4c010000000300000000000000' + '61848058cd8845a08408', 'hex'),
      );
      await cache.set('{hll}text', 'not a sketch');
      await expect(cache.pfadd('{hll}text', 'x')).rejects.toThrow(
        'WRONGTYPE Key is not a valid HyperLogLog string value.',
      );
      // A sparse sketch whose opcodes cover one register too few.
      const header = Buffer.from('48594c4c010000000000000000000080', 'hex');
      await cache.set('{hll}bad', Buffer.concat([header, Buffer.from([0x7f, 0xfe])]));
      await expect(cache.pfcount('{hll}bad')).rejects.toThrow(
        'INVALIDOBJ Corrupted HLL object detected',
      );
      // One whose last run goes past the last register (refused since Redis's fix of CVE-2025-32023).
      await cache.set('{hll}over', Buffer.concat([header, Buffer.from([0x7f, 0xff, 0x80])]));
      await expect(cache.pfcount('{hll}over')).rejects.toThrow(
        'INVALIDOBJ Corrupted HLL object detected',
      );
      await cache.rpush('{hll}list', 'x');
      await expect(cache.pfcount('{hll}list')).rejects.toThrow(
        'WRONGTYPE Operation against a key holding the wrong kind of value',
      );
    });

    test('bitmaps: SETBIT, BITCOUNT, BITOP and BITPOS', async () => {
      // Two days of a daily-active-users bitmap: users 0, 3 and 9 on Monday, 3, 4 and 9 on Tuesday.
      for (const user of [0, 3, 9]) await cache.setbit('{dau}mon', user, 1);
      for (const user of [3, 4, 9]) await cache.setbit('{dau}tue', user, 1);
      expect(await cache.bitop('AND', '{dau}both', '{dau}mon', '{dau}tue')).toBe(2);
      expect(await cache.bitcount('{dau}both')).toBe(2);
      expect(await cache.getBuffer('{dau}both')).toEqual(Buffer.from([0b00010000, 0b01000000]));
      expect(await cache.bitop('OR', '{dau}either', '{dau}mon', '{dau}tue', '{dau}none')).toBe(2);
      expect(await cache.bitcount('{dau}either')).toBe(4);
      expect(await cache.bitop('XOR', '{dau}one', '{dau}mon', '{dau}tue')).toBe(2);
      expect(await cache.bitcount('{dau}one')).toBe(2);
      expect(await cache.bitop('NOT', '{dau}not', '{dau}mon')).toBe(2);
      expect(await cache.getBuffer('{dau}not')).toEqual(Buffer.from([0b01101111, 0b10111111]));
      // The first user of each day, the first absent, and in a range of bytes or of bits.
      expect(await cache.bitpos('{dau}tue', 1)).toBe(3);
      expect(await cache.bitpos('{dau}mon', 0)).toBe(1);
      expect(await cache.bitpos('{dau}mon', 1, 1)).toBe(9);
      expect(await cache.bitpos('{dau}mon', 1, 4, 8, 'BIT')).toBe(-1);
      expect(await cache.bitpos('{dau}mon', 1, 4, 9, 'BIT')).toBe(9);
      expect(await cache.bitpos('{dau}none', 0)).toBe(0);
      expect(await cache.bitpos('{dau}none', 1)).toBe(-1);
      await cache.set('{dau}full', Buffer.from([0xff, 0xff]));
      expect(await cache.bitpos('{dau}full', 0)).toBe(16);
      expect(await cache.bitpos('{dau}full', 0, 0, -1)).toBe(-1);
      // An empty result deletes the destination.
      expect(await cache.bitop('AND', '{dau}both', '{dau}none')).toBe(0);
      expect(await cache.exists('{dau}both')).toBe(0);
      await expect(cache.bitop('NOT', '{dau}x', '{dau}mon', '{dau}tue')).rejects.toThrow(
        'ERR BITOP NOT must be called with a single source key.',
      );
      await expect(cache.bitpos('{dau}mon', 2)).rejects.toThrow(
        'ERR The bit argument must be 1 or 0.',
      );
    });
  });

  describe('hashes', () => {
    test('HSET/HGET/HGETALL/HDEL/HINCRBY/HLEN/HEXISTS', async () => {
      expect(await cache.hset('user:1', { name: 'Ann', city: 'Zürich', visits: '1' })).toBe(3);
      expect(await cache.hget('user:1', 'city')).toBe('Zürich');
      expect(await cache.hgetall('user:1')).toEqual({ name: 'Ann', city: 'Zürich', visits: '1' });
      expect(await cache.hincrby('user:1', 'visits', 4)).toBe(5);
      expect(await cache.hexists('user:1', 'name')).toBe(1);
      expect(await cache.hdel('user:1', 'name', 'nope')).toBe(1);
      expect(await cache.hlen('user:1')).toBe(2);
      expect(sorted(await cache.hkeys('user:1'))).toEqual(['city', 'visits']);
      expect(await cache.hgetall('missing')).toEqual({});
      expect(await cache.type('user:1')).toBe('hash');
      const bytes = Buffer.from([0, 1, 2, 255]);
      await cache.hset('bin-hash', 'field', bytes);
      expect(await cache.hgetBuffer('bin-hash', 'field')).toEqual(bytes);
    });
  });

  describe('lists', () => {
    test('RPUSH/LPUSH keep order; LRANGE, LPOP, RPOP, LLEN, LINDEX', async () => {
      expect(await cache.rpush('queue', 'b', 'c')).toBe(2);
      expect(await cache.lpush('queue', 'a', 'z')).toBe(4); // z, a, b, c
      expect(await cache.rpush('queue', 'd')).toBe(5);
      expect(await cache.lrange('queue', 0, -1)).toEqual(['z', 'a', 'b', 'c', 'd']);
      expect(await cache.lrange('queue', 1, 2)).toEqual(['a', 'b']);
      expect(await cache.lindex('queue', -1)).toBe('d');
      expect(await cache.lpop('queue')).toBe('z');
      expect(await cache.rpop('queue')).toBe('d');
      expect(await cache.llen('queue')).toBe(3);
      expect(await cache.lrange('queue', 0, -1)).toEqual(['a', 'b', 'c']);
      expect(await cache.type('queue')).toBe('list');
      // Popping the last element removes the key.
      await cache.rpush('single', 'only');
      expect(await cache.lpop('single')).toBe('only');
      expect(await cache.exists('single')).toBe(0);
    });
  });

  describe('sets', () => {
    test('SADD/SREM/SMEMBERS/SISMEMBER/SCARD and set algebra', async () => {
      expect(await cache.sadd('{set}tags', 'red', 'green', 'blue', 'red')).toBe(3);
      expect(await cache.sadd('{set}other', 'green', 'yellow')).toBe(2);
      expect(await cache.sismember('{set}tags', 'red')).toBe(1);
      expect(await cache.sismember('{set}tags', 'pink')).toBe(0);
      expect(await cache.srem('{set}tags', 'blue', 'pink')).toBe(1);
      expect(await cache.scard('{set}tags')).toBe(2);
      expect(sorted(await cache.smembers('{set}tags'))).toEqual(['green', 'red']);
      expect(await cache.sinter('{set}tags', '{set}other')).toEqual(['green']);
      expect(sorted(await cache.sunion('{set}tags', '{set}other'))).toEqual([
        'green',
        'red',
        'yellow',
      ]);
      expect(await cache.type('{set}tags')).toBe('set');
    });

    test('SINTERCARD: the intersection counted, up to LIMIT', async () => {
      await cache.sadd('{card}a', 'x', 'y', 'z', 'w');
      await cache.sadd('{card}b', 'y', 'z', 'w', 'v');
      expect(await cache.sintercard(2, '{card}a', '{card}b')).toBe(3);
      expect(await cache.sintercard(2, '{card}a', '{card}b', 'LIMIT', 2)).toBe(2);
      expect(await cache.sintercard(1, '{card}a')).toBe(4);
      expect(await cache.sintercard(2, '{card}a', '{card}missing')).toBe(0);
      await cache.set('{card}text', 'v');
      await expect(cache.sintercard(2, '{card}missing', '{card}text')).rejects.toThrow('WRONGTYPE');
      await expect(cache.sintercard(0, '{card}a')).rejects.toThrow(
        'ERR numkeys should be greater than 0',
      );
      await expect(cache.sintercard(1, '{card}a', 'LIMIT', -1)).rejects.toThrow(
        "ERR LIMIT can't be negative",
      );
    });
  });

  describe('sorted sets', () => {
    test('scores incl. fractional and ±infinity; ZRANGE WITHSCORES, ZINCRBY, ZSCORE, ZRANK', async () => {
      await cache.zadd('board', 5, 'ann', 12, 'bob', 7.25, 'cid', -1.5, 'dee');
      await cache.zadd('board', Infinity, 'top', -Infinity, 'bottom');
      expect(scored(await cache.zrange('board', 0, -1, 'WITHSCORES'))).toEqual([
        ['bottom', -Infinity],
        ['dee', -1.5],
        ['ann', 5],
        ['cid', 7.25],
        ['bob', 12],
        ['top', Infinity],
      ]);
      expect(Number(await cache.zincrby('board', 0.5, 'ann'))).toBe(5.5);
      expect(Number(await cache.zincrby('board', 3, 'new'))).toBe(3);
      expect(Number(await cache.zscore('board', 'cid'))).toBe(7.25);
      expect(await cache.zrank('board', 'ann')).toBe(3);
      expect(await cache.zrevrange('board', 0, 1)).toEqual(['top', 'bob']);
      expect(await cache.zrangebyscore('board', 5, 10)).toEqual(['ann', 'cid']);
      expect(await cache.zcard('board')).toBe(7);
      expect(await cache.zrem('board', 'new')).toBe(1);
      expect(await cache.zcard('board')).toBe(6);
      expect(await cache.type('board')).toBe('zset');
      // Members with equal scores are ordered by their bytes.
      await cache.zadd('ties', 1, 'b', 1, 'a', 1, 'c');
      expect(await cache.zrange('ties', 0, -1)).toEqual(['a', 'b', 'c']);
    });

    test('lexicographic ranges: ZRANGEBYLEX and its kin, ZLEXCOUNT, ZREMRANGEBYLEX', async () => {
      // One score: the members within the range, by their bytes ('é' is 0xc3 0xa9, after every ASCII letter).
      await cache.zadd('names', 0, 'bob', 0, 'ann', 0, 'cid', 0, 'é', 0, 'abe', 0, 'dee');
      expect(await cache.zrangebylex('names', '[b', '(d')).toEqual(['bob', 'cid']);
      expect(await cache.zrangebylex('names', '(ann', '+', 'LIMIT', 1, 2)).toEqual(['cid', 'dee']);
      expect(await cache.zrevrangebylex('names', '[cid', '-')).toEqual([
        'cid',
        'bob',
        'ann',
        'abe',
      ]);
      expect(await cache.zrange('names', '+', '[d', 'BYLEX', 'REV', 'LIMIT', 0, 1)).toEqual(['é']);
      expect(await cache.zlexcount('names', '-', '+')).toBe(6);
      expect(await cache.zlexcount('names', '[a', '(b')).toBe(2);
      expect(await cache.zlexcount('names', '[z', '[a')).toBe(0);
      expect(await cache.zremrangebylex('names', '[ann', '[bob')).toBe(2);
      expect(await cache.zrange('names', 0, -1)).toEqual(['abe', 'cid', 'dee', 'é']);
      expect(await cache.zremrangebylex('names', '-', '+')).toBe(4);
      expect(await cache.exists('names')).toBe(0);
      await expect(cache.zlexcount('names', 'a', '+')).rejects.toThrow(
        'ERR min or max not valid string range item',
      );
      // Mixed scores: Redis walks the set in its order (score, then bytes) from the first member at least min, and on
      // while members are at most max (REV: from the last at most max, back while at least min).
      await cache.zadd('mixed', 0, 'c', 1, 'b', 2, 'a', 3, 'é', 4, 'hello', 5, 'd');
      expect(await cache.zrangebylex('mixed', '[b', '+')).toEqual([
        'c',
        'b',
        'a',
        'é',
        'hello',
        'd',
      ]);
      expect(await cache.zrangebylex('mixed', '[a', '[b', 'LIMIT', 2, 5)).toEqual([]);
      expect(await cache.zrevrangebylex('mixed', '[c', '[a')).toEqual(['a', 'b', 'c']);
      expect(await cache.zrevrangebylex('mixed', '(e', '-')).toEqual([
        'd',
        'hello',
        'é',
        'a',
        'b',
        'c',
      ]);
      expect(await cache.zlexcount('mixed', '[a', '[a')).toBe(0);
      expect(await cache.zlexcount('mixed', '[c', '(e')).toBe(3);
      expect(await cache.zremrangebylex('mixed', '[b', '[c')).toBe(3);
      expect(await cache.zrange('mixed', 0, -1)).toEqual(['é', 'hello', 'd']);
    });

    test('ZMPOP pops from the first key that exists; ZINTERCARD counts an intersection', async () => {
      await cache.zadd('{pop}a', 3, 'c', 1, 'a', 2, 'b');
      expect(await cache.zmpop(2, '{pop}missing', '{pop}a', 'MIN')).toEqual([
        '{pop}a',
        [['a', '1']],
      ]);
      expect(await cache.zmpop(1, '{pop}a', 'MAX', 'COUNT', 5)).toEqual([
        '{pop}a',
        [
          ['c', '3'],
          ['b', '2'],
        ],
      ]);
      expect(await cache.exists('{pop}a')).toBe(0);
      expect(await cache.zmpop(1, '{pop}a', 'MIN')).toBeNull();
      await expect(cache.zmpop(1, '{pop}a', 'MIN', 'COUNT', 0)).rejects.toThrow(
        'ERR count should be greater than 0',
      );

      await cache.zadd('{pop}x', 1, 'a', 2, 'b', 3, 'c');
      await cache.sadd('{pop}s', 'b', 'c', 'd');
      expect(await cache.zintercard(2, '{pop}x', '{pop}s')).toBe(2);
      expect(await cache.zintercard(2, '{pop}x', '{pop}s', 'LIMIT', 1)).toBe(1);
      await expect(cache.zintercard(0, '{pop}x')).rejects.toThrow(
        "ERR at least 1 input key is needed for 'zintercard' command",
      );
    });
  });

  describe('streams', () => {
    test('XADD/XRANGE/XLEN/XREVRANGE: entries, their order and fields', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) {
        const id = await cache.xadd(
          'events',
          '*',
          'n',
          String(i),
          'kind',
          i % 2 === 0 ? 'even' : 'odd',
        );
        expect(id).not.toBeNull();
        ids.push(id as string);
      }
      expect(new Set(ids).size).toBe(5);
      expect(await cache.xlen('events')).toBe(5);
      const all = await cache.xrange('events', '-', '+');
      expect(all.map(([id]) => id)).toEqual(ids);
      expect(all.map(([, fields]) => fields)).toEqual([
        ['n', '0', 'kind', 'even'],
        ['n', '1', 'kind', 'odd'],
        ['n', '2', 'kind', 'even'],
        ['n', '3', 'kind', 'odd'],
        ['n', '4', 'kind', 'even'],
      ]);
      expect((await cache.xrange('events', '-', '+', 'COUNT', 2)).map(([id]) => id)).toEqual(
        ids.slice(0, 2),
      );
      expect((await cache.xrevrange('events', '+', '-')).map(([id]) => id)).toEqual(
        [...ids].reverse(),
      );
      expect(await cache.xlen('missing')).toBe(0);
    });
  });

  describe('TTL', () => {
    test('EX/PX set a TTL; TTL/PTTL read it; PERSIST and EXPIRE change it; -1 and -2', async () => {
      await cache.set('ex', 'v', 'EX', 100);
      await cache.set('px', 'v', 'PX', 50_000);
      await cache.set('forever', 'v');
      const ttl = await cache.ttl('ex');
      expect(ttl).toBeGreaterThan(90);
      expect(ttl).toBeLessThanOrEqual(100);
      const pttl = await cache.pttl('px');
      expect(pttl).toBeGreaterThan(40_000);
      expect(pttl).toBeLessThanOrEqual(50_000);
      expect(await cache.ttl('forever')).toBe(-1);
      expect(await cache.ttl('missing')).toBe(-2);
      expect(await cache.pttl('missing')).toBe(-2);

      expect(await cache.persist('ex')).toBe(1);
      expect(await cache.ttl('ex')).toBe(-1);
      expect(await cache.persist('forever')).toBe(0);
      expect(await cache.expire('forever', 300)).toBe(1);
      expect(await cache.ttl('forever')).toBeGreaterThan(290);
      expect(await cache.expire('missing', 10)).toBe(0);
      // SET without KEEPTTL clears the TTL.
      await cache.set('px', 'overwritten');
      expect(await cache.pttl('px')).toBe(-1);

      await cache.hset('h', 'f', 'v');
      await cache.expire('h', 60);
      expect(await cache.ttl('h')).toBeGreaterThan(50);
    });

    test('a key is gone once its TTL has passed', async () => {
      await cache.set('{short}', 'v', 'PX', 30);
      await cache.rpush('{short}list', 'a');
      await cache.pexpire('{short}list', 30);
      await cache.set('long', 'v', 'EX', 600);
      // Expiry is a matter of time passing: wait well past it.
      await sleep(150);
      expect(await cache.get('{short}')).toBeNull();
      expect(await cache.exists('{short}', '{short}list')).toBe(0);
      expect(await cache.ttl('{short}')).toBe(-2);
      expect(await cache.lrange('{short}list', 0, -1)).toEqual([]);
      expect(await allKeys(cache)).toEqual(['long']);
    });
  });

  // Not on a cluster: see the top of the file.
  if (target.cluster !== true) {
    describe('keys', () => {
      test('DEL/EXISTS/KEYS with patterns/RENAME/DBSIZE', async () => {
        await cache.mset('user:1', 'a', 'user:2', 'b', 'user:10', 'c', 'session:1', 'd');
        await cache.hset('user:1:profile', 'name', 'Ann');
        expect(await cache.exists('user:1', 'user:2', 'missing')).toBe(2);
        expect(sorted(await cache.keys('user:*'))).toEqual([
          'user:1',
          'user:10',
          'user:1:profile',
          'user:2',
        ]);
        expect(sorted(await cache.keys('user:?'))).toEqual(['user:1', 'user:2']);
        expect(sorted(await cache.keys('user:[2-9]*'))).toEqual(['user:2']);
        expect(sorted(await cache.keys('*:1'))).toEqual(['session:1', 'user:1']);
        expect(await cache.keys('nothing:*')).toEqual([]);
        expect(await cache.dbsize()).toBe(5);

        expect(await cache.del('user:1', 'user:2', 'missing')).toBe(2);
        expect(await cache.exists('user:1')).toBe(0);
        expect(await cache.rename('session:1', 'session:renamed')).toBe('OK');
        expect(await cache.get('session:renamed')).toBe('d');
        expect(await cache.exists('session:1')).toBe(0);
        expect(await cache.dbsize()).toBe(3);
        expect(await cache.touch('session:renamed', 'missing', 'session:renamed')).toBe(2);
        expect(await cache.unlink('user:10')).toBe(1);
        expect(await cache.flushall()).toBe('OK');
        expect(await cache.dbsize()).toBe(0);
      });
    });
  }

  describe('SORT', () => {
    test('numbers, ALPHA, DESC and LIMIT over lists, sets and sorted sets; SORT_RO', async () => {
      await cache.rpush('{sort}list', '10', '-2.5', '0x1p4', ' 3', 'inf', '', '1e1');
      // Equal scores (10, 1e1) are ordered by their bytes; an empty element is 0; hexadecimal and spaces as strtod.
      expect(await cache.sort('{sort}list')).toEqual([
        '-2.5',
        '',
        ' 3',
        '10',
        '1e1',
        '0x1p4',
        'inf',
      ]);
      expect(await cache.call('sort', '{sort}list', 'desc', 'LIMIT', 1, 3)).toEqual([
        '0x1p4',
        '1e1',
        '10',
      ]);
      expect(await cache.sort('{sort}list', 'LIMIT', -5, 2)).toEqual(['-2.5', '']);
      expect(await cache.sort('{sort}list', 'LIMIT', 7, 1)).toEqual([]);
      expect(await cache.sort_ro('{sort}list', 'LIMIT', 0, 3)).toEqual(['-2.5', '', ' 3']);
      await cache.sadd('{sort}set', 'pear', 'apple', 'fig', 'banana');
      // ALPHA compares bytes (Redis: `strcoll`, the same for lower-case words in any locale).
      expect(await cache.sort('{sort}set', 'ALPHA')).toEqual(['apple', 'banana', 'fig', 'pear']);
      expect(await cache.sort_ro('{sort}set', 'LIMIT', 1, 2, 'ALPHA')).toEqual(['banana', 'fig']);
      expect(await cache.sort('{sort}set', 'ALPHA', 'DESC', 'LIMIT', 0, 2)).toEqual([
        'pear',
        'fig',
      ]);
      await cache.zadd('{sort}zset', 3, 'c', 1, 'b', 2, 'a');
      // BY a pattern without `*` does not sort: a sorted set keeps its order by score.
      expect(await cache.sort('{sort}zset', 'BY', 'nosort')).toEqual(['b', 'a', 'c']);
      expect(await cache.sort('{sort}zset', 'BY', 'nosort', 'DESC', 'LIMIT', 0, 2)).toEqual([
        'c',
        'a',
      ]);
      expect(await cache.sort('{sort}zset', 'ALPHA')).toEqual(['a', 'b', 'c']);
      expect(await cache.sort('{sort}missing')).toEqual([]);
    });

    test('SORT … STORE replaces the destination with a list without a TTL; an empty result deletes it', async () => {
      await cache.rpush('{sort}from', '3', '1', '2');
      await cache.set('{sort}to', 'old', 'EX', 1000);
      expect(await cache.sort('{sort}from', 'DESC', 'STORE', '{sort}to')).toBe(3);
      expect(await cache.type('{sort}to')).toBe('list');
      expect(await cache.lrange('{sort}to', 0, -1)).toEqual(['3', '2', '1']);
      expect(await cache.ttl('{sort}to')).toBe(-1);
      expect(await cache.sort('{sort}from', 'LIMIT', 0, 0, 'STORE', '{sort}to')).toBe(0);
      expect(await cache.exists('{sort}to')).toBe(0);
      expect(await cache.sort('{sort}none', 'STORE', '{sort}from')).toBe(0);
      expect(await cache.exists('{sort}from')).toBe(0);
    });

    test("SORT's errors: options before the key's type, then scores that are not numbers", async () => {
      await cache.set('{sort}text', 'v');
      await cache.rpush('{sort}words', '1', 'two');
      await expect(cache.sort('{sort}text', 'LIMIT', 0)).rejects.toThrow('ERR syntax error');
      await expect(cache.sort('{sort}text', 'LIMIT', 'a', 1)).rejects.toThrow(
        'ERR value is not an integer or out of range',
      );
      await expect(cache.call('sort_ro', '{sort}words', 'STORE', '{sort}to')).rejects.toThrow(
        'ERR syntax error',
      );
      await expect(cache.sort('{sort}text')).rejects.toThrow('WRONGTYPE');
      await expect(cache.sort('{sort}words')).rejects.toThrow(
        "ERR One or more scores can't be converted into double",
      );
      await expect(cache.sort('{sort}words', 'STORE', '{sort}to')).rejects.toThrow(
        "ERR One or more scores can't be converted into double",
      );
      expect(await cache.exists('{sort}to')).toBe(0);
      expect(await cache.sort('{sort}words', 'ALPHA', 'DESC')).toEqual(['two', '1']);
    });

    // BY and GET patterns name other keys: Redis Cluster refuses them.
    if (target.cluster !== true) {
      test('SORT BY and GET patterns: keys and hash fields, `#`, missing ones', async () => {
        await cache.rpush('ids', '1', '2', '3', '4');
        await cache.mset('weight_1', '40', 'weight_2', '10', 'weight_3', '30', 'name_1', 'one');
        await cache.hset('user_4', 'weight', '5', 'name', 'four');
        await cache.hset('user_2', 'name', 'two');
        // A missing weight is 0: 4's (it is in a hash) sorts first.
        expect(await cache.sort('ids', 'BY', 'weight_*')).toEqual(['4', '2', '3', '1']);
        expect(await cache.sort('ids', 'BY', 'user_*->weight', 'DESC')).toEqual([
          '4',
          '3',
          '2',
          '1',
        ]);
        expect(
          await cache.sort(
            'ids',
            'BY',
            'weight_*',
            'GET',
            '#',
            'GET',
            'name_*',
            'GET',
            'user_*->name',
          ),
        ).toEqual(['4', null, 'four', '2', null, 'two', '3', null, null, '1', 'one', null]);
        // ALPHA BY: a missing value sorts first.
        expect(await cache.sort('ids', 'BY', 'user_*->name', 'ALPHA')).toEqual([
          '1',
          '3',
          '4',
          '2',
        ]);
        expect(await cache.sort('ids', 'BY', 'weight_*', 'GET', 'name_*', 'STORE', 'names')).toBe(
          4,
        );
        expect(await cache.lrange('names', 0, -1)).toEqual(['', '', '', 'one']);
      });
    }
  });

  describe('blocking pops', () => {
    test('BLPOP, BRPOP, BLMOVE, BLMPOP and the sorted-set ones serve at once, or wait for a write', async () => {
      await cache.rpush('{q}jobs', 'a', 'b', 'c');
      expect(await cache.blpop('{q}none', '{q}jobs', 1)).toEqual(['{q}jobs', 'a']);
      expect(await cache.brpop('{q}jobs', 1)).toEqual(['{q}jobs', 'c']);
      expect(await cache.blmove('{q}jobs', '{q}done', 'LEFT', 'RIGHT', 1)).toBe('b');
      expect(await cache.exists('{q}jobs')).toBe(0);
      expect(await cache.lrange('{q}done', 0, -1)).toEqual(['b']);
      expect(await cache.blmpop(0.05, 2, '{q}jobs', '{q}none', 'LEFT')).toBeNull();
      await cache.zadd('{q}prio', 1, 'low', 9, 'high', 5, 'mid');
      expect(await cache.bzpopmax('{q}prio', 1)).toEqual(['{q}prio', 'high', '9']);
      expect(await cache.bzpopmin('{q}none', '{q}prio', 1)).toEqual(['{q}prio', 'low', '1']);
      expect(await cache.bzmpop(1, 1, '{q}prio', 'MIN', 'COUNT', 5)).toEqual([
        '{q}prio',
        [['mid', '5']],
      ]);
      // Waiting until another client writes.
      const other = cache.duplicate();
      try {
        const list = cache.blpop('{q}later', 5);
        await sleep(50);
        expect(await other.rpush('{q}later', 'x')).toBe(1);
        expect(await list).toEqual(['{q}later', 'x']);
        const zset = cache.bzpopmin('{q}zlater', 0);
        await sleep(20);
        await other.zadd('{q}zlater', 3, 'm');
        expect(await zset).toEqual(['{q}zlater', 'm', '3']);
        expect(await cache.exists('{q}later', '{q}zlater')).toBe(0);
      } finally {
        other.disconnect();
      }
      await expect(cache.blpop('{q}jobs', -1)).rejects.toThrow('ERR timeout is negative');
      await expect(cache.blpop('{q}jobs', 'soon')).rejects.toThrow(
        'ERR timeout is not a float or out of range',
      );
      await cache.set('{q}text', 'v');
      await expect(cache.blpop('{q}text', 1)).rejects.toThrow('WRONGTYPE');
      // A transaction does not wait.
      expect(await cache.multi().blpop('{q}none', 0).rpush('{q}m', 'v').exec()).toEqual([
        [null, null],
        [null, 1],
      ]);
    });
  });

  describe('call()', () => {
    test('sends any command by its name; a name Redis does not know fails as Redis fails it', async () => {
      expect(await cache.call('SET', '{call}a', '1')).toBe('OK');
      expect(await cache.call('incrby', '{call}a', 41)).toBe(42);
      expect(await cache.call('rpush', ['{call}list', 'x', 'y'])).toBe(2);
      expect(await cache.callBuffer('GET', '{call}a')).toEqual(Buffer.from('42'));
      await expect(cache.call('lpush', '{call}a', 'v')).rejects.toThrow('WRONGTYPE');
      await expect(cache.call('nosuchcommand', '{call}a', 'b')).rejects.toThrow(
        "ERR unknown command 'nosuchcommand', with args beginning with: '{call}a' 'b'",
      );
      const replies = await cache
        .pipeline()
        .call('get', '{call}a')
        .call('nosuchcommand', '{call}a')
        .call('lrange', '{call}list', 0, -1)
        .exec();
      expect(replies?.map(([error, reply]) => [error?.message ?? null, reply ?? null])).toEqual([
        [null, '42'],
        ["ERR unknown command 'nosuchcommand', with args beginning with: '{call}a' ", null],
        [null, ['x', 'y']],
      ]);
      expect(await cache.multi().call('incr', '{call}a').call('get', '{call}a').exec()).toEqual([
        [null, 43],
        [null, '43'],
      ]);
      await expect(
        cache.multi().call('incr', '{call}a').call('nosuchcommand').exec(),
      ).rejects.toThrow('EXECABORT');
      expect(await cache.get('{call}a')).toBe('43');
    });
  });

  describe('transactions and pipelines', () => {
    test('MULTI/EXEC applies all commands and returns their replies in order', async () => {
      const replies = await cache
        .multi()
        .set('{tx}a', '1')
        .incr('{tx}a')
        .rpush('{tx}list', 'x', 'y')
        .hset('{tx}hash', 'f', 'v')
        .get('{tx}a')
        .exec();
      expect(replies).toEqual([
        [null, 'OK'],
        [null, 2],
        [null, 2],
        [null, 1],
        [null, '2'],
      ]);
      expect(await cache.lrange('{tx}list', 0, -1)).toEqual(['x', 'y']);
    });

    test('a pipeline sends its commands in order and returns their replies', async () => {
      const replies = await cache
        .pipeline()
        .set('{p}1', 'a')
        .append('{p}1', 'b')
        .get('{p}1')
        .sadd('{p}set', 'x')
        .exec();
      expect(replies).toEqual([
        [null, 'OK'],
        [null, 2],
        [null, 'ab'],
        [null, 1],
      ]);
    });

    test('WATCH then MULTI/EXEC commits when the watched key did not change', async () => {
      await cache.set('watched', '1');
      expect(await cache.watch('watched')).toBe('OK');
      const replies = await cache.multi().incr('watched').exec();
      expect(replies).toEqual([[null, 2]]);
      expect(await cache.get('watched')).toBe('2');
    });

    test('WATCH aborts the EXEC when another client changed the watched key', async () => {
      const other = cache.duplicate();
      try {
        await cache.set('watched', '1');
        await cache.watch('watched');
        await other.set('watched', '5');
        expect(await cache.multi().incr('watched').exec()).toBeNull();
        expect(await cache.get('watched')).toBe('5');
      } finally {
        other.disconnect();
      }
    });
  });

  describe('restart', () => {
    test(`data of every type, with TTLs, survives app.close(): ${target.restart}`, async () => {
      await cache.set('s', 'text ✓');
      await cache.set('s:bin', Buffer.from([0, 255, 10]));
      await cache.set('s:ttl', 'expiring', 'EX', 600);
      await cache.hset('h', { a: '1', b: 'two' });
      await cache.rpush('l', 'a', 'b', 'c');
      await cache.sadd('set', 'x', 'y');
      await cache.zadd('z', 1.5, 'm', Infinity, 'top', -Infinity, 'bottom');
      await cache.xadd('stream', '*', 'f', 'v');
      await cache.xadd('stream', '*', 'g', 'w');
      const before = await portableDigest(cache);
      await h.app.close();

      h = await bootWith(options);
      cache = h.redis;
      const after = await portableDigest(cache);
      expectSameData(after, before);
      expect(await cache.getBuffer('s:bin')).toEqual(Buffer.from([0, 255, 10]));
      expect(await cache.xlen('stream')).toBe(2);
    });
  });
});
