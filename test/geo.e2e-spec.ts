import { isDeepStrictEqual } from 'node:util';
import type { Redis } from 'ioredis';
import { createEmbeddedClient } from '../lib/ioredis-mock/adapter';
import { Keyspace } from '../lib/keyspace/keyspace';
import { geoWorkload } from './support/geo-workloads';
import { bootWith, durable, removeTempDirs, tempDir } from './support/harness';
import { findRedisServer, startRedisServer, type RedisServer } from './support/redis-server';

/**
 * The GEO commands of the embedded client (GEOADD, GEOPOS, GEODIST, GEOHASH, GEOSEARCH, GEOSEARCHSTORE, GEORADIUS,
 * GEORADIUSBYMEMBER and their _RO forms), compared with a real redis-server reply for reply: edge cases, seeded
 * random points and searches, errors, pipelines, transactions, scripts, WATCH and the memory limit; then the
 * embedded client alone (no redis-server needed) and a geo index through a snapshot and a restore.
 */

const OOM = "OOM command not allowed when used memory > 'maxmemory'.";

/** A command's reply, or its error as `{ error }`. */
async function replyOf(client: Redis, command: readonly (string | Buffer)[]): Promise<unknown> {
  try {
    return await client.call(command[0] as string, ...command.slice(1));
  } catch (error) {
    return { error: (error as Error).message };
  }
}

async function repliesOf(
  client: Redis,
  commands: readonly (readonly string[])[],
): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const command of commands) out.push(await replyOf(client, command));
  return out;
}

/** Whether two `ZRANGE … WITHSCORES` replies hold the same members and the same scores to 13 significant digits. */
function sameStoredDistances(expected: unknown, actual: unknown): boolean {
  if (!Array.isArray(expected) || !Array.isArray(actual) || expected.length !== actual.length) {
    return false;
  }
  return expected.every((item, i) => {
    if (i % 2 === 0) return item === actual[i];
    const [a, b] = [Number(item), Number(actual[i])];
    return Math.abs(a - b) <= 1e-13 * Math.max(1, Math.abs(a));
  });
}

/** The commands whose replies differ, each with both replies: empty when the embedded client answers as Redis. */
function differences(
  commands: readonly (readonly string[])[],
  expected: readonly unknown[],
  actual: readonly unknown[],
  loose: ReadonlySet<number> = new Set(),
): string[] {
  const out: string[] = [];
  commands.forEach((command, i) => {
    const same = loose.has(i)
      ? sameStoredDistances(expected[i], actual[i])
      : isDeepStrictEqual(expected[i], actual[i]);
    if (!same) {
      const [redis, embedded] = [JSON.stringify(expected[i]), JSON.stringify(actual[i])];
      out.push(`${command.join(' ').slice(0, 200)}\n  redis:    ${redis}\n  embedded: ${embedded}`);
    }
  });
  return out;
}

/** Edge cases: Redis's documented example, errors in every position, the edges of the index, odd scores. */
const EDGE_CASES: readonly (readonly string[])[] = [
  ['geoadd', 'Sicily', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania'],
  ['geopos', 'Sicily', 'Palermo', 'Catania', 'nope'],
  ['geodist', 'Sicily', 'Palermo', 'Catania'],
  ['geodist', 'Sicily', 'Palermo', 'Catania', 'km'],
  ['geodist', 'Sicily', 'Palermo', 'Catania', 'MI'],
  ['geodist', 'Sicily', 'Palermo', 'Catania', 'ft'],
  ['geodist', 'Sicily', 'Palermo', 'Palermo'],
  ['geodist', 'Sicily', 'Palermo', 'nope'],
  ['geodist', 'nokey', 'Palermo', 'Catania'],
  ['geodist', 'Sicily', 'Palermo', 'Catania', 'yards'],
  ['geodist', 'Sicily', 'Palermo', 'Catania', 'km', 'extra'],
  ['geodist', 'Sicily', 'Palermo'],
  ['geohash', 'Sicily', 'Palermo', 'Catania', 'nope'],
  ['geohash', 'nokey', 'a'],
  ['geopos', 'nokey', 'a', 'b'],
  ['georadius', 'Sicily', '15', '37', '200', 'km', 'WITHDIST', 'WITHCOORD', 'WITHHASH'],
  ['georadius', 'Sicily', '15', '37', '200', 'km', 'withhash', 'withdist', 'asc'],
  ['georadius', 'Sicily', '15', '37', '200', 'km', 'DESC', 'COUNT', '1'],
  ['georadius', 'Sicily', '15', '37', '200', 'km', 'COUNT', '1', 'ANY'],
  ['georadius', 'Sicily', '15', '37', '200', 'km', 'COUNT', '5'],
  ['georadiusbymember', 'Sicily', 'Palermo', '200', 'km', 'WITHDIST'],
  ['georadiusbymember_ro', 'Sicily', 'Palermo', '0', 'm', 'WITHCOORD'],
  [
    'geosearch',
    'Sicily',
    'FROMLONLAT',
    '15',
    '37',
    'BYBOX',
    '400',
    '400',
    'km',
    'ASC',
    'WITHCOORD',
    'WITHDIST',
  ],
  ['geosearch', 'Sicily', 'BYRADIUS', '200', 'km', 'FROMMEMBER', 'Catania', 'DESC'],
  [
    'geosearchstore',
    'dst',
    'Sicily',
    'FROMLONLAT',
    '15',
    '37',
    'BYBOX',
    '400',
    '400',
    'km',
    'ASC',
    'STOREDIST',
  ],
  ['zrange', 'dst', '0', '-1', 'WITHSCORES'],
  ['type', 'dst'],
  [
    'geosearchstore',
    'dst',
    'Sicily',
    'FROMLONLAT',
    '15',
    '37',
    'BYRADIUS',
    '200',
    'km',
    'COUNT',
    '1',
  ],
  ['zrange', 'dst', '0', '-1', 'WITHSCORES'],
  ['georadius', 'Sicily', '15', '37', '200', 'km', 'STORE', 'dst2'],
  ['zrange', 'dst2', '0', '-1', 'WITHSCORES'],
  ['georadius', 'Sicily', '15', '37', '1', 'm', 'STORE', 'dst2'],
  ['exists', 'dst2'],
  ['set', 'dst3', 'a string'],
  ['georadius', 'nokey', '15', '37', '200', 'km', 'STORE', 'dst3'],
  ['exists', 'dst3'],
  // Coordinates: out of range (6 decimals, rounded as printf rounds), not numbers, at the limits.
  ['geoadd', 'Sicily', '200', '10', 'x'],
  ['geoadd', 'Sicily', '0.0078125', '90', 'x'],
  ['geoadd', 'Sicily', '-180.0000001', '0', 'x'],
  ['geoadd', 'Sicily', '0', '85.05112879', 'x'],
  ['geoadd', 'Sicily', 'inf', '1', 'x'],
  ['geoadd', 'Sicily', 'nan', '1', 'x'],
  ['geoadd', 'Sicily', 'a', '1', 'x'],
  ['geoadd', 'Sicily', '1', '1', 'ok', '1', 'b', 'x'],
  ['geoadd', 'Sicily', '1', '1'],
  ['geoadd', 'Sicily', 'nx', 'xx', '1', '1', 'a'],
  ['geoadd', 'Sicily', 'ch', 'ch', 'ch'],
  ['geoadd', 'Sicily', 'gt', '1', '1', 'a'],
  [
    'geoadd',
    'Sicily',
    '180',
    '85.05112878',
    'ne',
    '-180',
    '-85.05112878',
    'sw',
    '180',
    '0',
    'e',
    '-180',
    '0',
    'w',
  ],
  ['geopos', 'Sicily', 'ne', 'sw', 'e', 'w'],
  ['zmscore', 'Sicily', 'ne', 'sw', 'e', 'w'],
  ['geohash', 'Sicily', 'ne', 'sw', 'e', 'w'],
  ['geodist', 'Sicily', 'e', 'w'],
  ['geosearch', 'Sicily', 'FROMLONLAT', '180', '0', 'BYRADIUS', '1', 'km', 'WITHCOORD'],
  ['geosearch', 'Sicily', 'FROMLONLAT', '-179.9999', '0', 'BYRADIUS', '100', 'km', 'WITHCOORD'],
  ['geosearch', 'Sicily', 'FROMLONLAT', '0', '85', 'BYRADIUS', '50000', 'km', 'WITHDIST'],
  // GEOADD's options: NX, XX, CH, a member twice.
  ['geoadd', 'Sicily', 'xx', 'ch', '13', '38', 'Palermo', '1', '1', 'new'],
  ['geoadd', 'Sicily', 'nx', 'ch', '13.5', '38', 'Palermo', '1', '1', 'new'],
  ['geoadd', 'Sicily', 'ch', '1', '1', 'new', '1', '1', 'new'],
  ['geoadd', 'Sicily', 'CH', 'NX', '2', '2', 'twice', '3', '3', 'twice'],
  ['geopos', 'Sicily', 'twice', 'Palermo', 'new'],
  // Searches: radius 0, an infinite and a huge one, the same position for several members.
  [
    'geoadd',
    'dup',
    '10',
    '10',
    'c',
    '10',
    '10',
    'a',
    '10',
    '10',
    'b',
    '10.0001',
    '10',
    'z',
    '9.9999',
    '10',
    'y',
  ],
  ['georadius', 'dup', '10', '10', '0', 'm', 'WITHDIST'],
  ['georadius', 'dup', '10', '10', '100', 'm', 'WITHDIST'],
  ['georadius', 'dup', '10', '10', '100', 'm', 'ASC', 'WITHDIST'],
  ['georadius', 'dup', '10', '10', '100', 'm', 'DESC', 'WITHDIST'],
  ['georadius', 'dup', '10', '10', '100', 'm', 'COUNT', '2'],
  ['georadius', 'dup', '10', '10', '100', 'm', 'COUNT', '2', 'DESC'],
  ['georadius', 'dup', '10', '10', 'inf', 'm'],
  ['georadius', 'dup', '-170', '-80', '1e30', 'mi', 'WITHDIST'],
  ['geosearch', 'dup', 'FROMMEMBER', 'a', 'BYBOX', '0', '0', 'm'],
  ['geosearch', 'dup', 'FROMMEMBER', 'a', 'BYBOX', '30', '1', 'm', 'WITHDIST'],
  // Errors, in Redis's order.
  ['set', 'str', 'x'],
  ['geoadd', 'str', '1', '1', 'a'],
  ['geoadd', 'str', '1', '1000', 'a'],
  ['geopos', 'str', 'a'],
  ['geohash', 'str', 'a'],
  ['geodist', 'str', 'a', 'b'],
  ['geodist', 'str', 'a', 'b', 'yards'],
  ['georadius', 'str', 'a', '1', '1', 'm'],
  ['geosearch', 'str', 'nonsense'],
  ['geosearchstore', 'd', 'str', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1', 'm'],
  ['geosearchstore', 'str', 'Sicily', 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km'],
  ['type', 'str'],
  ['georadiusbymember', 'nokey', 'm', 'abc', 'xx'],
  ['georadiusbymember', 'nokey', 'm', '1', 'm', 'STORE'],
  ['georadiusbymember', 'Sicily', 'nomember', 'abc', 'xx'],
  ['georadiusbymember', 'Sicily', 'Palermo', 'abc', 'm'],
  ['georadius', 'Sicily', '1', '1', '-1', 'm'],
  ['georadius', 'Sicily', '1', '1', '1', 'yd'],
  ['georadius', 'Sicily', '1', '1', '1', 'm', 'COUNT'],
  ['georadius', 'Sicily', '1', '1', '1', 'm', 'ANY'],
  ['georadius', 'Sicily', '1', '1', '1', 'm', 'COUNT', '1', 'STORE', 'x', 'WITHDIST'],
  ['georadius_ro', 'Sicily', '1', '1', '1', 'm', 'STORE', 'x'],
  ['georadiusbymember_ro', 'Sicily', 'Palermo', '1', 'm', 'STOREDIST', 'x'],
  ['geosearch', 'Sicily', 'FROMMEMBER', 'Palermo'],
  ['geosearch', 'Sicily', 'BYRADIUS', '1', 'm'],
  ['geosearch', 'nokey', 'FROMMEMBER', 'a', 'BYRADIUS', '1', 'm'],
  ['geosearch', 'nokey', 'FROMMEMBER', 'a', 'BYRADIUS', '1', 'yd'],
  ['geosearch', 'Sicily', 'FROMMEMBER', 'x1', 'BYRADIUS', '1', 'm'],
  ['geosearch', 'Sicily', 'FROMMEMBER', 'Palermo', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1', 'm'],
  ['geosearch', 'Sicily', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1', 'm', 'BYBOX', '1', '1', 'm'],
  ['geosearch', 'Sicily', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1', 'm', 'ANY'],
  ['geosearch', 'Sicily', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1', 'm', 'COUNT', '0'],
  ['geosearch', 'Sicily', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1', 'm', 'COUNT', '-3'],
  ['geosearch', 'Sicily', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1', 'm', 'COUNT', 'x'],
  ['geosearch', 'Sicily', 'FROMLONLAT', '1', '1', 'BYRADIUS', 'x', 'm'],
  ['geosearch', 'Sicily', 'FROMLONLAT', '1', '1', 'BYBOX', '1', '-1', 'm'],
  ['geosearch', 'Sicily', 'FROMLONLAT', '1', '1', 'BYBOX', 'x', '1', 'm'],
  ['geosearch', 'Sicily', 'FROMLONLAT', '1', '1', 'BYBOX', '1', 'x', 'm'],
  ['geosearch', 'Sicily', 'FROMLONLAT', '1', '1', 'BYBOX', '1', '1', 'parsec'],
  ['geosearch', 'Sicily', 'FROMLONLAT', '1', '1', 'BYBOX', '1', '1'],
  ['geosearch', 'Sicily', 'FROMLONLAT', '1', '100', 'BYRADIUS', '1', 'm'],
  ['geosearch', 'Sicily', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1', 'm', 'STORE', 'x'],
  ['geosearch', 'Sicily', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1', 'm', 'STOREDIST'],
  ['geosearchstore', 'd', 'Sicily', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1', 'm', 'WITHDIST'],
  ['geosearchstore', 'd', 'Sicily', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1', 'm', 'STORE', 'x'],
  ['geosearchstore', 'd', 'Sicily', 'BYRADIUS', '1', 'm'],
  ['geoadd', 'Sicily'],
  ['geoadd', 'Sicily', '1', '1'],
  ['georadius', 'Sicily', '1', '1', '1'],
  ['geosearch', 'Sicily', 'FROMLONLAT', '1', '1'],
  ['geosearchstore', 'd', 'Sicily', 'FROMLONLAT', '1', '1'],
  ['geopos', 'Sicily'],
  ['geohash', 'Sicily'],
  // Sorted-set scores that are no geohash: as Redis decodes them.
  ['zadd', 'odd', '-1', 'neg', '1e300', 'huge', '5e15', 'big', '0.5', 'half', '0', 'zero'],
  ['geopos', 'odd', 'neg', 'huge', 'big', 'half', 'zero'],
  ['geohash', 'odd', 'neg', 'huge', 'big', 'half', 'zero'],
  ['geodist', 'odd', 'neg', 'zero'],
  ['geosearch', 'odd', 'FROMLONLAT', '-180', '-85', 'BYRADIUS', '10', 'km', 'WITHHASH'],
  ['zrem', 'Sicily', 'Palermo'],
  ['zscore', 'Sicily', 'Catania'],
  ['geopos', 'Sicily', 'Palermo', 'Catania'],
];

/** Commands in a pipeline, in a transaction (one refused when queued), and in scripts, with their replies. */
async function batches(client: Redis): Promise<unknown[]> {
  const settled = (promise: Promise<unknown>): Promise<unknown> =>
    promise.catch((error: unknown) => ({ error: (error as Error).message }));
  await client.del('p', 'pd', 't', 't2', 's', 's2');
  const out: unknown[] = [];
  out.push(
    await client
      .pipeline()
      .geoadd('p', '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania')
      .geopos('p', 'Palermo', 'nope')
      .geosearch(
        'p',
        'FROMLONLAT',
        '15',
        '37',
        'BYRADIUS',
        '200',
        'km',
        'ASC',
        'WITHDIST',
        'WITHHASH',
      )
      .geoadd('p', '200', '1', 'bad')
      .georadius('p', '15', '37', '200', 'km', 'STOREDIST', 'pd')
      .zrange('pd', 0, -1, 'WITHSCORES')
      .call('GEOHASH', 'p', 'Palermo')
      .call('GEORADIUS_RO', 'p', '15', '37', '200', 'km', 'COUNT', '1')
      .exec(),
  );
  out.push(
    await client
      .multi()
      .geoadd('t', '1', '2', 'a', '1.5', '2.5', 'b')
      .geodist('t', 'a', 'b', 'KM')
      .georadius('t', '1', '2', '100', 'km', 'STORE', 't2')
      .zrange('t2', 0, -1)
      .geoadd('t', 'xx', '1', '1000', 'c')
      .call('GEORADIUSBYMEMBER', 't', 'a', '100', 'km', 'WITHCOORD')
      .exec(),
  );
  out.push(
    await settled(client.multi().geoadd('t', '1', '2', 'c').call('geoadd', 't', '1', '2').exec()),
  );
  out.push(await client.exists('t', 't2'));
  const script = (body: string, ...keys: string[]): Promise<unknown> =>
    settled(client.eval(body, keys.length, ...keys));
  out.push(
    await script(
      "return redis.call('GEOADD', KEYS[1], '13.361389', '38.115556', 'Palermo', '15.087269', '37.502669', 'Catania')",
      's',
    ),
  );
  out.push(
    await script(
      "return redis.call('GEOSEARCH', KEYS[1], 'FROMLONLAT', '15', '37', 'BYRADIUS', '200', 'km', 'WITHCOORD', " +
        "'WITHDIST', 'WITHHASH', 'ASC')",
      's',
    ),
  );
  out.push(await script("return redis.call('GEOPOS', KEYS[1], 'Palermo', 'nope')", 's'));
  out.push(await script("return redis.call('GEODIST', KEYS[1], 'Palermo', 'Catania', 'mi')", 's'));
  out.push(await script("return redis.pcall('GEOADD', KEYS[1], '200', '100', 'x')", 's'));
  out.push(await script("return redis.call('GEOADD', KEYS[1], '1', '1')", 's'));
  out.push(
    await script(
      "return redis.call('GEORADIUS', KEYS[1], '15', '37', '200', 'km', 'STORE', KEYS[2])",
      's',
      's2',
    ),
  );
  out.push(await client.zrange('s2', 0, -1, 'WITHSCORES'));
  out.push(
    await settled(
      client.eval_ro(
        "return redis.call('GEORADIUS', KEYS[1], '15', '37', '200', 'km', 'STORE', 'x')",
        1,
        's',
      ),
    ),
  );
  out.push(
    await settled(
      client.eval_ro(
        "return redis.call('GEORADIUS_RO', KEYS[1], '15', '37', '200', 'km', 'DESC')",
        1,
        's',
      ),
    ),
  );
  return out;
}

/** WATCH of a geo index and of a store's destination: a GEOADD and a store abort the transaction. */
async function watches(client: Redis): Promise<unknown[]> {
  await client.del('w', 'wd');
  await client.geoadd('w', '1', '1', 'a');
  const watcher = client.duplicate();
  try {
    const out: unknown[] = [];
    await watcher.watch('w');
    await client.geoadd('w', '2', '2', 'b');
    out.push(await watcher.multi().geopos('w', 'b').exec());
    await watcher.watch('wd');
    await client.geosearchstore('wd', 'w', 'FROMLONLAT', '1', '1', 'BYRADIUS', '1000', 'km');
    out.push(await watcher.multi().zrange('wd', 0, -1).exec());
    await watcher.watch('w');
    await client.geopos('w', 'a');
    out.push(await watcher.multi().zrange('w', 0, -1).exec());
    return out;
  } finally {
    watcher.disconnect();
  }
}

/** The commands that may add memory refused while it is full (GEORADIUS too, whatever its options), reads not. */
async function memoryFull(client: Redis): Promise<unknown[]> {
  await client.del('f', 'fd');
  await client.geoadd('f', '1', '1', 'a');
  await client.config('SET', 'maxmemory', '1');
  try {
    const commands: string[][] = [
      ['geoadd', 'f', '2', '2', 'b'],
      ['geoadd', 'f', '1000', '2', 'b'],
      ['georadius', 'f', '1', '1', '10', 'km'],
      ['georadius', 'f', '1', '1', '10', 'km', 'STORE', 'fd'],
      ['georadiusbymember', 'f', 'a', '10', 'km'],
      ['geosearchstore', 'fd', 'f', 'FROMMEMBER', 'a', 'BYRADIUS', '10', 'km'],
      ['georadius_ro', 'f', '1', '1', '10', 'km'],
      ['georadiusbymember_ro', 'f', 'a', '10', 'km'],
      ['geosearch', 'f', 'FROMMEMBER', 'a', 'BYRADIUS', '10', 'km'],
      ['geopos', 'f', 'a'],
      ['geodist', 'f', 'a', 'a'],
      ['geohash', 'f', 'a'],
      ['exists', 'fd'],
    ];
    const out = await repliesOf(client, commands);
    out.push(
      await client
        .eval("return redis.call('GEOADD', KEYS[1], '3', '3', 'c')", 1, 'f')
        .catch((error: unknown) => ({ error: (error as Error).message })),
    );
    return out;
  } finally {
    await client.config('SET', 'maxmemory', '0');
  }
}

const redisServerBinary = findRedisServer('GEO commands suite (test/geo.e2e-spec.ts)');
if (redisServerBinary !== null) {
  describe('GEO commands of the embedded client, against a real redis-server', () => {
    let server: RedisServer;
    let redis: Redis;
    let embedded: Redis;

    beforeAll(async () => {
      server = await startRedisServer(redisServerBinary);
      redis = server.client();
      embedded = createEmbeddedClient(new Keyspace());
    });
    afterAll(async () => {
      embedded.disconnect();
      redis.disconnect();
      await server.stop();
    });
    beforeEach(async () => {
      await redis.flushall();
      await embedded.flushall();
    });

    it('answers the edge cases and every error as Redis does', async () => {
      const expected = await repliesOf(redis, EDGE_CASES);
      const actual = await repliesOf(embedded, EDGE_CASES);
      expect(differences(EDGE_CASES, expected, actual)).toEqual([]);
      // The comparison compares something: Redis's documented answers.
      expect(expected[2]).toBe('166274.1516');
      expect(expected[1]).toEqual([
        ['13.36138933897018433', '38.11555639549629859'],
        ['15.08726745843887329', '37.50266842333162032'],
        null,
      ]);
    });

    it.each([1, 2, 3])(
      'answers seeded random points and searches as Redis does (seed %i)',
      async (seed) => {
        const { commands, storedDistances } = geoWorkload(seed);
        const expected = await repliesOf(redis, commands);
        const actual = await repliesOf(embedded, commands);
        expect(differences(commands, expected, actual, storedDistances)).toEqual([]);
        // Most searches find something: the workload is not a comparison of empty replies.
        const found = expected.filter(
          (r) => (Array.isArray(r) && r.length > 0) || (typeof r === 'number' && r > 0),
        );
        expect(found.length).toBeGreaterThan(commands.length / 2);
      },
    );

    it('answers in pipelines, transactions and scripts as Redis does', async () => {
      const expected = await batches(redis);
      expect(await batches(embedded)).toEqual(expected);
      expect(expected[1]).toEqual([
        [null, 2],
        [null, '78.6185'],
        [null, 2],
        [null, ['a', 'b']],
        [
          expect.objectContaining({
            message: 'ERR invalid longitude,latitude pair 1.000000,1000.000000',
          }),
        ],
        [null, expect.any(Array)],
      ]);
    });

    it('aborts a transaction WATCHing a key GEOADD or a store writes, as Redis does', async () => {
      const expected = await watches(redis);
      expect(await watches(embedded)).toEqual(expected);
      expect(expected).toEqual([null, null, [[null, ['a', 'b']]]]);
    });

    it('refuses GEOADD, GEORADIUS[BYMEMBER] and GEOSEARCHSTORE while memory is full, as Redis does', async () => {
      const expected = await memoryFull(redis);
      expect(await memoryFull(embedded)).toEqual(expected);
      expect(expected[0]).toEqual({ error: OOM });
    });

    it('answers the Buffer forms with the members’ bytes, as Redis does', async () => {
      const member = Buffer.from([0xff, 0x00, 0xfe]);
      const run = async (client: Redis): Promise<unknown[]> => [
        await client.geoadd('b', '1', '1', member, '1.001', '1', 'text'),
        await client.callBuffer(
          'GEOSEARCH',
          'b',
          'FROMLONLAT',
          '1',
          '1',
          'BYRADIUS',
          '1',
          'km',
          'ASC',
        ),
        await client.callBuffer('GEOPOS', 'b', member),
        await client.call('GEOHASH', 'b', member),
      ];
      const expected = await run(redis);
      expect(await run(embedded)).toEqual(expected);
      expect(expected[1]).toEqual([member, Buffer.from('text')]);
    });
  });
}

describe('GEO commands of the embedded client alone', () => {
  let client: Redis;
  beforeEach(async () => {
    client = createEmbeddedClient(new Keyspace());
    await client.geoadd(
      'Sicily',
      '13.361389',
      '38.115556',
      'Palermo',
      '15.087269',
      '37.502669',
      'Catania',
    );
  });
  afterEach(() => client.disconnect());
  afterAll(removeTempDirs);

  it("answers Redis's documented replies", async () => {
    expect(await client.geodist('Sicily', 'Palermo', 'Catania')).toBe('166274.1516');
    expect(await client.geodist('Sicily', 'Palermo', 'Catania', 'KM')).toBe('166.2742');
    expect(await client.geodist('Sicily', 'Palermo', 'Catania', 'MI')).toBe('103.3182');
    expect(await client.geodist('Sicily', 'Palermo', 'Nope')).toBeNull();
    expect(await client.geopos('Sicily', 'Palermo', 'Catania', 'NonExisting')).toEqual([
      ['13.36138933897018433', '38.11555639549629859'],
      ['15.08726745843887329', '37.50266842333162032'],
      null,
    ]);
    expect(await client.geohash('Sicily', 'Palermo', 'Catania')).toEqual([
      'sqc8b49rny0',
      'sqdtr74hyu0',
    ]);
    expect(await client.georadius('Sicily', 15, 37, 200, 'km', 'WITHDIST')).toEqual([
      ['Palermo', '190.4424'],
      ['Catania', '56.4413'],
    ]);
    expect(await client.georadius('Sicily', 15, 37, 200, 'km', 'WITHCOORD')).toEqual([
      ['Palermo', ['13.36138933897018433', '38.11555639549629859']],
      ['Catania', ['15.08726745843887329', '37.50266842333162032']],
    ]);
    expect(
      await client.georadius('Sicily', 15, 37, 200, 'km', 'WITHDIST', 'WITHCOORD', 'WITHHASH'),
    ).toEqual([
      ['Palermo', '190.4424', 3479099956230698, ['13.36138933897018433', '38.11555639549629859']],
      ['Catania', '56.4413', 3479447370796909, ['15.08726745843887329', '37.50266842333162032']],
    ]);
    expect(await client.georadiusbymember('Sicily', 'Palermo', 200, 'km', 'ASC')).toEqual([
      'Palermo',
      'Catania',
    ]);
    expect(
      await client.geosearch(
        'Sicily',
        'FROMLONLAT',
        15,
        37,
        'BYBOX',
        400,
        400,
        'km',
        'ASC',
        'WITHCOORD',
        'WITHDIST',
      ),
    ).toEqual([
      ['Catania', '56.4413', ['15.08726745843887329', '37.50266842333162032']],
      ['Palermo', '190.4424', ['13.36138933897018433', '38.11555639549629859']],
    ]);
  });

  it('keeps a geo index as a sorted set: TYPE, ZSCORE, ZRANGE and ZREM see its geohashes', async () => {
    expect(await client.type('Sicily')).toBe('zset');
    expect(await client.zscore('Sicily', 'Palermo')).toBe('3479099956230698');
    expect(await client.zrange('Sicily', 0, -1)).toEqual(['Palermo', 'Catania']);
    expect(await client.zrem('Sicily', 'Palermo')).toBe(1);
    expect(await client.geopos('Sicily', 'Palermo')).toEqual([null]);
    await client.zadd('plain', 3479099956230698, 'p');
    expect(await client.geohash('plain', 'p')).toEqual(['sqc8b49rny0']);
  });

  it('answers GEOADD with NX, XX and CH as ZADD does, and refuses what Redis refuses', async () => {
    expect(await client.geoadd('Sicily', 'CH', 13, 38, 'Palermo', 1, 1, 'new')).toBe(2);
    expect(await client.geoadd('Sicily', 'XX', 'CH', 13, 38, 'Palermo', 2, 2, 'other')).toBe(0);
    expect(await client.geoadd('Sicily', 'NX', 14, 38, 'Palermo', 2, 2, 'other')).toBe(1);
    expect(await client.zcard('Sicily')).toBe(4);
    await expect(client.geoadd('Sicily', 200, 10, 'x')).rejects.toThrow(
      'ERR invalid longitude,latitude pair 200.000000,10.000000',
    );
    await expect(client.geoadd('Sicily', 'NX', 'XX', 1, 1, 'x')).rejects.toThrow(
      'ERR syntax error',
    );
    await expect(client.call('geoadd', 'Sicily', '1', '1')).rejects.toThrow(
      "ERR wrong number of arguments for 'geoadd' command",
    );
    await client.set('text', 'v');
    await expect(client.geoadd('text', 1, 1, 'x')).rejects.toThrow(/^WRONGTYPE/);
    await expect(client.geosearch('text', 'FROMLONLAT', 1, 1, 'BYRADIUS', 1, 'm')).rejects.toThrow(
      /^WRONGTYPE/,
    );
    expect(await client.get('text')).toBe('v');
  });

  it('replaces a store’s destination (its TTL gone) and deletes it for an empty result', async () => {
    await client.set('dest', 'old', 'EX', 100);
    expect(await client.georadius('Sicily', 15, 37, 200, 'km', 'STOREDIST', 'dest')).toBe(2);
    expect(await client.ttl('dest')).toBe(-1);
    expect(await client.zrange('dest', 0, -1, 'WITHSCORES')).toEqual([
      'Catania',
      '56.441257870158204',
      'Palermo',
      '190.44242984775784',
    ]);
    expect(
      await client.geosearchstore('dest', 'Sicily', 'FROMMEMBER', 'Palermo', 'BYRADIUS', 1, 'km'),
    ).toBe(1);
    expect(await client.zscore('dest', 'Palermo')).toBe('3479099956230698');
    expect(
      await client.geosearchstore('dest', 'Sicily', 'FROMLONLAT', 0, 0, 'BYRADIUS', 1, 'km'),
    ).toBe(0);
    expect(await client.exists('dest')).toBe(0);
  });

  it('deletes an expired destination of an empty store without reading it, as Redis does (not an expiry)', async () => {
    const expiredKeys = async (): Promise<string | undefined> =>
      /expired_keys:(\d+)/.exec(await client.info('stats'))?.[1];
    await client.set('gone', 'v', 'PX', 1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(await expiredKeys()).toBe('0');
    expect(await client.georadius('Sicily', 0, 0, 1, 'km', 'STORE', 'gone')).toBe(0);
    expect(await expiredKeys()).toBe('0');
    expect(await client.exists('gone')).toBe(0);
  });

  it('runs in pipelines, transactions and scripts', async () => {
    const piped = await client
      .pipeline()
      .geoadd('p', 1, 2, 'a')
      .geopos('p', 'a')
      .geoadd('p', 1, 200, 'b')
      .exec();
    expect(piped?.[0]).toEqual([null, 1]);
    expect(piped?.[1]).toEqual([null, [['0.99999994039535522', '2.0000001856465488']]]);
    expect((piped?.[2]?.[0] as Error).message).toBe(
      'ERR invalid longitude,latitude pair 1.000000,200.000000',
    );
    expect(
      await client.multi().geodist('p', 'a', 'a').georadius('p', 1, 2, 1, 'm', 'STORE', 'q').exec(),
    ).toEqual([
      [null, '0.0000'],
      [null, 1],
    ]);
    expect(await client.eval("return redis.call('GEOHASH', KEYS[1], 'a', 'b')", 1, 'p')).toEqual([
      's02equ04ve0',
      null,
    ]);
    expect(await client.eval("return redis.call('GEOADD', KEYS[1], '5', '5', 'c')", 1, 'p')).toBe(
      1,
    );
    expect(await client.zcard('p')).toBe(2);
  });

  it('refuses GEOADD while memory is full, as the other writes', async () => {
    await client.config('SET', 'maxmemory', '1');
    try {
      await expect(client.geoadd('Sicily', 1, 1, 'x')).rejects.toThrow(OOM);
      await expect(
        client.geosearchstore('d', 'Sicily', 'FROMMEMBER', 'Palermo', 'BYRADIUS', 1, 'km'),
      ).rejects.toThrow(OOM);
      expect(
        await client.geosearch('Sicily', 'FROMMEMBER', 'Palermo', 'BYRADIUS', 1, 'km'),
      ).toEqual(['Palermo']);
    } finally {
      await client.config('SET', 'maxmemory', '0');
    }
    expect(await client.zcard('Sicily')).toBe(2);
    expect(await client.exists('d')).toBe(0);
  });

  it('keeps a geo index through a snapshot and a restore', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir));
    let before: unknown;
    try {
      await h.redis.geoadd(
        'places',
        '13.361389',
        '38.115556',
        'Palermo',
        '15.087269',
        '37.502669',
        'Catania',
      );
      await h.redis.geoadd(
        'places',
        '180',
        '85.05112878',
        'corner',
        '-0.0001',
        '-0.0001',
        'origin',
      );
      await h.redis.geosearchstore(
        'near',
        'places',
        'FROMLONLAT',
        15,
        37,
        'BYRADIUS',
        200,
        'km',
        'STOREDIST',
      );
      before = await Promise.all([
        h.redis.geopos('places', 'Palermo', 'Catania', 'corner', 'origin'),
        h.redis.zrange('places', 0, -1, 'WITHSCORES'),
        h.redis.zrange('near', 0, -1, 'WITHSCORES'),
      ]);
      await h.snapshots.snapshot();
    } finally {
      await h.app.close();
    }
    const r = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    try {
      expect(
        await Promise.all([
          r.redis.geopos('places', 'Palermo', 'Catania', 'corner', 'origin'),
          r.redis.zrange('places', 0, -1, 'WITHSCORES'),
          r.redis.zrange('near', 0, -1, 'WITHSCORES'),
        ]),
      ).toEqual(before);
      expect(await r.redis.type('places')).toBe('zset');
      expect(await r.redis.geodist('places', 'Palermo', 'Catania')).toBe('166274.1516');
      expect(
        await r.redis.geosearch('places', 'FROMMEMBER', 'Palermo', 'BYRADIUS', 200, 'km', 'ASC'),
      ).toEqual(['Palermo', 'Catania']);
      expect(await r.redis.geoadd('places', 1, 1, 'new')).toBe(1);
    } finally {
      await r.app.close();
    }
  });
});
