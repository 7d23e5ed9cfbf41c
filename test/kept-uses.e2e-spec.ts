import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { PersistentCacheModuleOptions } from '../lib';
import { trackApps } from './support/apps';
import { bootWith, durable, removeTempDirs, tempDir, type Harness } from './support/harness';

/**
 * Snapshots keep how each key was used, as Redis's RDB does: under an LRU policy how long the key had been idle,
 * under an LFU one its counter (see `records.ts`). A restart then finds the keys as idle or as hot as they were, and
 * evicts by the policy what it would have evicted before: the time the cache was down does not count as idle.
 */

afterAll(removeTempDirs);
const apps = trackApps<Harness>();

const under = (
  dataDir: string,
  policy: NonNullable<PersistentCacheModuleOptions['memory']>['policy'],
  maxBytes = 0,
): PersistentCacheModuleOptions => ({ ...durable(dataDir), memory: { maxBytes, policy } });

const idle = async (redis: Redis, key: string): Promise<number> =>
  Number(await redis.object('IDLETIME', key));
const freq = async (redis: Redis, key: string): Promise<number> =>
  Number(await redis.object('FREQ', key));

const usedMemory = async (redis: Redis): Promise<number> =>
  Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1]);

/** Waits until the cache's memory is within `limit` (eviction goes on in the background after a restore). */
async function evictedTo(redis: Redis, limit: number): Promise<void> {
  for (let tries = 0; tries < 200 && (await usedMemory(redis)) > limit; tries++) await sleep(20);
  expect(await usedMemory(redis)).toBeLessThanOrEqual(limit);
}

describe('a restart keeps how each key was used', () => {
  it('LFU: each key comes back with its counter, written by a full snapshot and by an incremental one', async () => {
    const dataDir = tempDir();
    const before = await apps.track(bootWith(under(dataDir, 'allkeys-lfu')));
    await before.redis.mset({ hot: 'h', warm: 'w', cold: 'c' });
    for (let i = 0; i < 2000; i++) await before.redis.get('hot');
    await before.snapshots.snapshot(); // full: hot, warm and cold
    for (let i = 0; i < 100; i++) await before.redis.get('warm');
    await before.redis.set('warm', 'w2'); // in the incremental snapshot, with the counter it has then
    const counters = {
      hot: await freq(before.redis, 'hot'),
      warm: await freq(before.redis, 'warm'),
      cold: await freq(before.redis, 'cold'),
    };
    expect(counters.hot).toBeGreaterThan(counters.warm);
    expect(counters.warm).toBeGreaterThan(counters.cold);
    await before.app.close();
    expect(before.snapshots.lastSnapshot?.kind).toBe('incremental');

    const after = await apps.track(bootWith(under(dataDir, 'allkeys-lfu')));
    expect(await after.redis.get('warm')).toBe('w2');
    // OBJECT FREQ reads the counter decayed by the minutes since its last decay: a minute may have turned since.
    for (const [key, counter] of Object.entries(counters)) {
      const now = await freq(after.redis, key);
      expect(now).toBeLessThanOrEqual(counter + (key === 'warm' ? 1 : 0)); // the GET above may count once
      expect(now).toBeGreaterThanOrEqual(counter - 1);
    }
  });

  it('LRU: each key comes back as idle as it was when the snapshot began; the time down does not count', async () => {
    const dataDir = tempDir();
    const before = await apps.track(bootWith(under(dataDir, 'allkeys-lru')));
    await before.redis.mset({ old: 'o', recent: 'r' });
    await sleep(2_100);
    expect(await before.redis.get('recent')).toBe('r');
    await before.app.close();
    await sleep(3_000); // down for 3 s: counted, 'old' would be idle 5 s and 'recent' 3 s

    const after = await apps.track(bootWith(under(dataDir, 'allkeys-lru')));
    const old = await idle(after.redis, 'old');
    expect(old).toBeGreaterThanOrEqual(2);
    expect(old).toBeLessThanOrEqual(3);
    expect(await idle(after.redis, 'recent')).toBeLessThanOrEqual(1);
  });

  it('LRU over a chain: a key idle since the full snapshot counts the time to the last incremental one', async () => {
    const dataDir = tempDir();
    const before = await apps.track(bootWith(under(dataDir, 'allkeys-lru')));
    await before.redis.mset({ untouched: 'u', other: 'o' });
    expect(await before.snapshots.snapshot()).toMatchObject({ kind: 'full', records: 2 }); // both idle 0
    await sleep(2_100);
    await before.redis.set('other', 'o2');
    expect(await before.snapshots.snapshot()).toMatchObject({ kind: 'incremental', records: 1 });
    await before.app.close();

    const after = await apps.track(bootWith(under(dataDir, 'allkeys-lru')));
    expect(await idle(after.redis, 'untouched')).toBeGreaterThanOrEqual(2);
    expect(await idle(after.redis, 'other')).toBeLessThanOrEqual(1);
  });

  it('a restore over the limit evicts what the policy would have: the keys in use stay', async () => {
    for (const policy of ['allkeys-lfu', 'allkeys-lru'] as const) {
      const dataDir = tempDir();
      const before = await apps.track(bootWith(under(dataDir, policy)));
      const keys = Array.from({ length: 400 }, (_, i) => `k:${i}`);
      await before.redis.mset(Object.fromEntries(keys.map((k) => [k, 'v'.repeat(200)])));
      const inUse = keys.filter((_, i) => i % 10 === 0);
      if (policy === 'allkeys-lru') await sleep(1_100); // the others were last used a second before
      for (let round = 0; round < 20; round++) {
        for (const key of inUse) await before.redis.get(key);
      }
      // Restored keys take less room than written ones (their snapshot's bytes): a third of this evicts a quarter or more.
      const limit = Math.floor((await usedMemory(before.redis)) / 3);
      await before.app.close();

      const after = await apps.track(bootWith(under(dataDir, policy, limit)));
      await evictedTo(after.redis, limit);
      const left = new Set(await after.redis.keys('k:*'));
      expect(left.size).toBeLessThan(keys.length * 0.75);
      expect(inUse.filter((k) => !left.has(k))).toEqual([]);
      await after.app.close();
    }
  });

  it('keeps nothing under the other policies: a restart finds every key just used, as Redis does', async () => {
    const dataDir = tempDir();
    const before = await apps.track(bootWith(under(dataDir, 'noeviction')));
    await before.redis.set('k', 'v');
    await sleep(2_100);
    expect(await idle(before.redis, 'k')).toBeGreaterThanOrEqual(2);
    await before.app.close();

    const after = await apps.track(bootWith(under(dataDir, 'allkeys-lru')));
    expect(await idle(after.redis, 'k')).toBeLessThanOrEqual(1);
  });

  it('a counter kept under LFU means nothing to LRU, and an idle time nothing to LFU: each starts afresh', async () => {
    const dataDir = tempDir();
    const lfu = await apps.track(bootWith(under(dataDir, 'allkeys-lfu')));
    await lfu.redis.set('k', 'v');
    for (let i = 0; i < 2000; i++) await lfu.redis.get('k');
    expect(await freq(lfu.redis, 'k')).toBeGreaterThan(5);
    await lfu.app.close();

    const lru = await apps.track(bootWith(under(dataDir, 'allkeys-lru')));
    expect(await idle(lru.redis, 'k')).toBeLessThanOrEqual(1);
    await lru.redis.set('k', 'v2');
    await lru.app.close();

    const again = await apps.track(bootWith(under(dataDir, 'allkeys-lfu')));
    expect(await freq(again.redis, 'k')).toBe(5); // Redis's LFU_INIT_VAL
  });
});
