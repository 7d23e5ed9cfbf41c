import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Keyspace } from '../lib/keyspace/keyspace';
import type { RestoredStates } from '../lib/keyspace/restored-states';
import { KEYSPACE } from '../lib/persistent-cache.constants';
import { trackApps } from './support/apps';
import { fillEveryType, writeEveryType } from './support/every-type';
import { digest, expectSameData } from './support/digest';
import { bootWith, durable, removeTempDirs, tempDir, type Harness } from './support/harness';
import { restoredDigest } from './support/stores';

/**
 * Reads of a restored cache that the library answers itself read small values from the snapshot's bytes and build
 * nothing (see `restored-states.ts`). From the outside: every way of sending them answers as before the restart,
 * writes after such reads change the key as they would have, and the reads count as uses for eviction.
 */

afterAll(removeTempDirs);
const apps = trackApps<Harness>();

const restoredOf = (h: Harness): RestoredStates =>
  h.app.get<Keyspace>(KEYSPACE)['entries'].restored;

/** The reads the rules answer, each sent as a command, in a pipeline, in MULTI/EXEC and from a Lua script. */
async function reads(redis: Redis): Promise<unknown[]> {
  const single = [
    await redis.get('s'),
    await redis.getBuffer('bin'),
    (await redis.get('big'))?.length,
    await redis.strlen('big'),
    await redis.hget('h', 'f'),
    await redis.hmget('h', 'f', 'nope', 'g'),
    await redis.hgetall('h'),
    await redis.lrange('l', 0, -1),
    await redis.lindex('l', -1),
    await redis.llen('l'),
    (await redis.smembers('set')).sort(),
    await redis.scard('set'),
    await redis.zrange('z', 0, -1, 'WITHSCORES'),
    await redis.zscore('z', 'b'),
    await redis.type('h'),
    await redis.exists('s', 'h', 'missing'),
    (await redis.pttl('ttl')) > 500_000,
  ];
  const piped = await redis.pipeline().get('s').hgetall('h').zrange('z', 0, 1).scard('set').exec();
  const multi = await redis.multi().lrange('l', 1, 2).hget('h', 'g').get('bin').exec();
  const script = await redis.eval(
    "return {redis.call('GET', KEYS[1]), redis.call('HGET', KEYS[2], 'f'), redis.call('LLEN', KEYS[3])}",
    3,
    's',
    'h',
    'l',
  );
  return [single, piped, multi, script];
}

describe('reads of a restored cache', () => {
  it('answer as before the restart in every form, and writes after them change the keys as they would have', async () => {
    const dataDir = tempDir();
    const before = await apps.track(bootWith(durable(dataDir, { snapshotOnShutdown: false })));
    await fillEveryType(before.redis);
    const expectedReads = await reads(before.redis);
    await before.snapshots.snapshot();
    const expectedWrites = await writeEveryType(before.redis);
    const expected = await digest(before.redis);
    await before.app.close();

    // The restarted app's snapshot is the one taken before the writes: the same writes must give the same data.
    const after = await apps.track(bootWith(durable(dataDir, { snapshotOnShutdown: false })));
    const restored = restoredOf(after);
    expect(await reads(after.redis)).toEqual(expectedReads);
    // Nothing was built but the value over the limit.
    for (const key of ['s', 'bin', 'ttl', 'h', 'l', 'set', 'z']) {
      expect([key, restored.madeEntry(key)]).toEqual([key, undefined]);
    }
    expect(restored.madeEntry('big')?.value).toBe('x'.repeat(5000));

    expect(await writeEveryType(after.redis)).toEqual(expectedWrites);
    const live = await digest(after.redis);
    expectSameData(live, expected);
    await after.snapshots.snapshot();
    expectSameData(await restoredDigest(dataDir), live);
  });

  it('count as uses of the keys read: LRU eviction keeps them and evicts keys nobody read', async () => {
    const dataDir = tempDir();
    const before = await apps.track(bootWith(durable(dataDir)));
    const keys = Array.from({ length: 400 }, (_, i) => `k:${i}`);
    await before.redis.mset(Object.fromEntries(keys.map((k) => [k, `value of ${k} `.repeat(4)])));
    await before.app.close();

    const after = await apps.track(
      bootWith({
        ...durable(dataDir, { snapshotOnShutdown: false }),
        memory: { maxBytes: 0, policy: 'allkeys-lru' },
      }),
    );
    await sleep(5); // reads in a later millisecond than the restore
    const read = keys.filter((_, i) => i % 4 === 0);
    for (const key of read) expect(await after.redis.get(key)).toBe(`value of ${key} `.repeat(4));
    expect(restoredOf(after).madeEntry(read[0])).toBeUndefined();

    const used = async (): Promise<number> =>
      Number(/used_memory:(\d+)/.exec(await after.redis.info('memory'))?.[1]);
    const limit = Math.floor((await used()) * 0.6);
    // Lowering the limit evicts at once within a time budget; the background task goes on ten times a second.
    await after.redis.config('SET', 'maxmemory', String(limit));
    for (let tries = 0; tries < 100 && (await used()) > limit; tries++) await sleep(20);
    expect(await used()).toBeLessThanOrEqual(limit);
    const left = new Set(await after.redis.keys('k:*'));
    const unread = keys.filter((k) => !read.includes(k));
    const keptRead = read.filter((k) => left.has(k)).length;
    const keptUnread = unread.filter((k) => left.has(k)).length;
    expect(left.size).toBeLessThan(keys.length * 0.7);
    expect(keptRead).toBe(read.length);
    expect(keptUnread).toBeLessThan(unread.length * 0.6);
  });

  it('count as uses under LFU too: OBJECT FREQ of a key read in place grows, of one nobody read it does not', async () => {
    const dataDir = tempDir();
    const before = await apps.track(bootWith(durable(dataDir)));
    await before.redis.mset({ hot: 'h', cold: 'c' });
    await before.app.close();

    const after = await apps.track(
      bootWith({
        ...durable(dataDir, { snapshotOnShutdown: false }),
        memory: { maxBytes: 0, policy: 'allkeys-lfu' },
      }),
    );
    for (let i = 0; i < 300; i++) expect(await after.redis.get('hot')).toBe('h');
    expect(restoredOf(after).madeEntry('hot')).toBeUndefined();
    // Redis's counter starts at 5 and grows logarithmically: 300 hits take it well past 5, never to 255.
    const hot = Number(await after.redis.object('FREQ', 'hot'));
    expect(hot).toBeGreaterThan(6);
    expect(hot).toBeLessThan(255);
    expect(await after.redis.object('FREQ', 'cold')).toBe(5);
  });
});
