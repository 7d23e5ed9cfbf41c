import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SnapshotStore } from '../lib/store/snapshot-store';
import { SNAPSHOT_STORE } from '../lib/persistent-cache.constants';
import { digest, expectSameData } from './support/digest';
import { bootWith, durable, removeTempDirs, tempDir } from './support/harness';
import { fill, keyOf } from './support/datasets';
import { restoredDigest } from './support/stores';
import { whileWriting } from './support/concurrent-writes';

afterAll(removeTempDirs);

/** Key `i` of the mixed dataset the caches hold: the five types in turn (`i % 5`), one key in ten with a TTL. */
const mixedKey = (i: number): string => keyOf('mixed', i);

/** One random write of every kind the snapshot must not see: sets, deletes, TTL changes, expiries, flushes of keys. */
async function mutate(redis: Redis, n: number, step: number): Promise<void> {
  const i = (step * 7919) % n;
  const key = mixedKey(i);
  switch (step % 8) {
    case 0:
      await redis.set(key, `overwritten ${step}`);
      break;
    case 1:
      await redis.del(key);
      break;
    case 2:
      await redis.set(`new:${step}`, 'added during the snapshot');
      break;
    case 3:
      await redis.pexpire(key, 1); // expires a moment later
      break;
    case 4:
      await redis.persist(mixedKey(Math.floor(i / 10) * 10 + 3)); // drops a TTL (hasTtl(): i % 10 === 3)
      break;
    case 5:
      await redis.pexpire(key, 99_000_000);
      break;
    case 6:
      await redis.hset(mixedKey(i - (i % 5) + 1), 'c', step); // the hash among the five keys around i
      break;
    default:
      await redis.rename(key, `renamed:${step}`).catch(() => undefined);
  }
}

describe('point-in-time snapshots', () => {
  it('hold exactly what the cache held when they began, while writes go on (concurrent mutations)', async () => {
    const dataDir = tempDir();
    const n = 40_000;
    const h = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    await fill(h.redis, 'mixed', n);

    for (const round of [1, 2, 3]) {
      if (round > 1) {
        // Make the next one incremental: change some keys first.
        for (let step = 0; step < 200; step++) await mutate(h.redis, n, step * round);
      }
      await sleep(5); // let keys given a 1 ms TTL expire, so that the digest below reads a still keyspace
      const atStart = await digest(h.redis);
      const { result: report, writes: writesDuringSnapshot } = await whileWriting(
        h.snapshots.snapshot(),
        round * 100_000,
        10,
        (step) => mutate(h.redis, n, step),
      );

      expect(report.kind).toBe(round === 1 ? 'full' : 'incremental');
      expect(writesDuringSnapshot).toBeGreaterThan(10);
      const live = await digest(h.redis);
      expect(live.hash).not.toBe(atStart.hash);
      expectSameData(await restoredDigest(dataDir), atStart);
    }
    await h.app.close();
    // About 18 s alone (40,000 keys, three snapshots under writes); on a loaded CI machine several times that.
  }, 180_000);
});

describe('store size over many snapshots', () => {
  it('stays bounded over 100 incremental cycles of 1% changes', async () => {
    const dataDir = tempDir();
    const n = 10_000;
    const h = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    const store = h.app.get<SnapshotStore>(SNAPSHOT_STORE);
    await fill(h.redis, 'mixed', n);
    await h.snapshots.snapshot();
    const afterFirst = store.fileSize();
    const kinds = new Map<string, number>();
    for (let cycle = 0; cycle < 100; cycle++) {
      for (let k = 0; k < n / 100; k++) {
        const i = (cycle * 101 + k * 37) % n;
        // Values of about 0.5 KB: within 100 cycles, the increments outweigh three quarters of the full one.
        await h.redis.set(mixedKey(i), `cycle ${cycle} `.repeat(60));
      }
      const report = await h.snapshots.snapshot();
      kinds.set(report.kind, (kinds.get(report.kind) ?? 0) + 1);
    }
    // Chains are folded into a full snapshot now and then, and freed pages are reused.
    expect(kinds.get('full')).toBeGreaterThanOrEqual(2);
    expect(kinds.get('incremental')).toBeGreaterThanOrEqual(50);
    // The values grew the data: the file is bounded by the chain's full generation (peak: a full beside the chain).
    const full = store.manifest()?.generations[0].bytes ?? 0;
    expect(full).toBeGreaterThan(afterFirst);
    expect(store.fileSize()).toBeLessThanOrEqual(full * 3);
    const live = await digest(h.redis);
    await h.app.close();
    expectSameData(await restoredDigest(dataDir), live);
  });
});
