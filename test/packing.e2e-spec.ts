import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { register } from 'prom-client';
import { getCacheToken, getSnapshotServiceToken, METRICS, PersistentCacheModule } from '../lib';
import type { Keyspace } from '../lib/keyspace/keyspace';
import { KEYSPACE } from '../lib/persistent-cache.constants';
import type { PersistentCacheModuleOptions } from '../lib/persistent-cache.interfaces';
import { trackApps } from './support/apps';
import { fillEveryType, writeEveryType } from './support/every-type';
import { digest, expectSameData } from './support/digest';
import {
  bootApp,
  bootWith,
  durable,
  removeTempDirs,
  tempDir,
  type Harness,
} from './support/harness';
import { prng } from './support/prng';
import { randomWrite } from './support/random-writes';
import { restoredDigest } from './support/stores';

/**
 * Keys nobody used for `memory.packAfter` are packed into their encoded bytes in the background (`Keyspace.pack`),
 * as a restore holds its keys. From the outside nothing changes but the memory they take: every read and write
 * answers as before, WATCH sees no write, snapshots and restarts hold the same data.
 */

afterAll(removeTempDirs);
const apps = trackApps<Harness>();

const keyspaceOf = (h: Harness): Keyspace => h.app.get<Keyspace>(KEYSPACE);

/** Waits until no key is held as an object but `left`, or `ms` pass; returns how many are. */
async function packedWithin(h: Harness, left: number, ms: number): Promise<number> {
  const until = Date.now() + ms;
  while (keyspaceOf(h).packCandidates > left && Date.now() < until) await sleep(20);
  return keyspaceOf(h).packCandidates;
}

/**
 * A cache named `name` in an app of its own: its metrics carry a `cache` label, so they do not overwrite the
 * default cache's series in the shared registry.
 */
async function bootNamed(name: string, options: PersistentCacheModuleOptions): Promise<Harness> {
  const { app, moduleRef } = await bootApp([PersistentCacheModule.forRoot({ ...options, name })]);
  return {
    app,
    moduleRef,
    redis: app.get<Redis>(getCacheToken(name)),
    snapshots: app.get(getSnapshotServiceToken(name)),
  };
}

/** The default cache's `persistent_cache_memory_bytes` once it is under `bytes` (it is reported every 100 ms). */
async function reportedMemoryUnder(bytes: number): Promise<number | undefined> {
  const until = Date.now() + 2_000;
  for (;;) {
    const metric = await register.getSingleMetric(METRICS.memoryBytes)?.get();
    const value = metric?.values.find((v) => v.labels.cache === undefined)?.value;
    if ((value !== undefined && value < bytes) || Date.now() > until) return value;
    await sleep(20);
  }
}

/** `INFO memory`'s `used_memory`. */
async function usedMemory(redis: Redis): Promise<number> {
  const info = await redis.info('memory');
  return Number(/used_memory:(\d+)/.exec(info)?.[1]);
}

/** Keys of every type, a stream, a counter, and `bulk` strings of 100 bytes. */
async function fill(redis: Redis, bulk: number): Promise<void> {
  await fillEveryType(redis);
  await redis.xadd('st', '5-1', 'field', 'value');
  await redis.set('n', '41');
  const pipeline = redis.pipeline();
  for (let i = 0; i < bulk; i++) pipeline.set(`k:${i}`, `${i} `.padEnd(100, 'v'));
  await pipeline.exec();
}

const packing = (options: PersistentCacheModuleOptions, packAfter: number | string) => ({
  ...options,
  memory: { ...options.memory, packAfter },
});

describe('packing idle keys', () => {
  it('packs keys unused for memory.packAfter: reads, writes, WATCH, snapshots and restarts answer as before', async () => {
    const dataDir = tempDir();
    const h = await apps.track(bootWith(packing(durable(dataDir), 150)));
    const reference = await apps.track(
      bootNamed('reference', { persistence: { enabled: false }, memory: { packAfter: 0 } }),
    );
    for (const redis of [h.redis, reference.redis]) await fill(redis, 20_000);
    // One expiry time for both (the second fill may end seconds after the first on a loaded machine).
    const expiresAt = Date.now() + 600_000;
    for (const redis of [h.redis, reference.redis]) await redis.pexpireat('ttl', expiresAt);
    const watcher = h.redis.duplicate();
    await watcher.watch('s', 'h', 'k:7');
    const before = await usedMemory(h.redis);
    expect(keyspaceOf(h).packCandidates).toBe(20_010);

    expect(await packedWithin(h, 0, 10_000)).toBe(0);
    const after = await usedMemory(h.redis);
    // 100-byte strings as objects against their bytes (the estimate of `keyspace/memory.ts`).
    expect(after).toBeLessThan(before * 0.75);
    expect(await reportedMemoryUnder(before * 0.75)).toBeLessThan(before * 0.75);
    expect(keyspaceOf(reference).packCandidates).toBe(20_010); // packAfter: 0 packs nothing

    // Packing is no write: a transaction watching packed keys goes through.
    expect(await watcher.multi().set('watched', 'ok').exec()).toEqual([[null, 'OK']]);
    await reference.redis.set('watched', 'ok');
    watcher.disconnect();

    expectSameData(await digest(h.redis), await digest(reference.redis));
    expect(await h.redis.ttl('ttl')).toBeGreaterThan(590);
    expect(await h.redis.object('ENCODING', 'z')).toBe(
      await reference.redis.object('ENCODING', 'z'),
    );
    expect(await writeEveryType(h.redis)).toEqual(await writeEveryType(reference.redis));
    // Objects again: the 7 keys written, `watched`, and `big`, whose value is over the size read in place (built by
    // the reads of the digest).
    expect(keyspaceOf(h).packCandidates).toBe(9);
    const expected = await digest(reference.redis);
    expectSameData(await digest(h.redis), expected);

    const report = await h.snapshots.snapshot(); // the first one: every key, packed ones copied as bytes
    expect(report.kind).toBe('full');
    expectSameData(await restoredDigest(dataDir), expected);
    await apps.close(h);
    const restarted = await apps.track(bootWith(packing(durable(dataDir), 150)));
    expectSameData(await digest(restarted.redis), expected);
  });

  it('leaves the keys in use as they are', async () => {
    const h = await apps.track(
      bootWith({
        persistence: { enabled: false },
        memory: { policy: 'allkeys-lru', packAfter: 300 },
      }),
    );
    await fill(h.redis, 2_000);
    const entries = keyspaceOf(h)['entries'];
    for (let i = 0; i < 20; i++) {
      await h.redis.get('k:5');
      await h.redis.hget('h', 'f');
      await sleep(60);
    }
    expect(await packedWithin(h, 2, 3_000)).toBe(2);
    expect(entries.added.has('k:5')).toBe(true);
    expect(entries.added.has('h')).toBe(true);
    expect(entries.added.has('k:6')).toBe(false);
    expect(await h.redis.get('k:5')).toBe('5 '.padEnd(100, 'v'));
    expect(await h.redis.get('k:6')).toBe('6 '.padEnd(100, 'v'));
    expect(await h.redis.dbsize()).toBe(2_010);
  });

  it('answers as a cache that never packs through random writes, snapshots, adoptions and restarts', async () => {
    const dataDir = tempDir();
    const options = packing(durable(dataDir, { snapshotOnShutdown: false }), 50);
    let h = await apps.track(bootWith(options));
    const reference = await apps.track(
      bootWith({ persistence: { enabled: false }, memory: { packAfter: 0 } }),
    );
    const random = prng(0x9ac4);
    const pick = (n: number) => Math.floor(random() * n);
    const both = async (write: (redis: Redis) => Promise<unknown>) => {
      await write(h.redis);
      await write(reference.redis);
    };
    await both((redis) => fill(redis, 5_000));
    const expiresAt = Date.now() + 600_000; // one expiry time for both (see the first test)
    await both((redis) => redis.pexpireat('ttl', expiresAt));
    let packedAtSomePoint = 0;
    for (let round = 0; round < 30; round++) {
      for (let i = 0; i < 40; i++) {
        await both(randomWrite(pick, 5_000, `round ${round} ${i}`));
        if (pick(8) === 0) await sleep(pick(40));
      }
      packedAtSomePoint = Math.max(
        packedAtSomePoint,
        keyspaceOf(h).size - keyspaceOf(h).packCandidates,
      );
      if (pick(3) === 0) await h.snapshots.snapshot();
      if (pick(10) === 0) {
        // A restart from the last snapshot: the reference is brought to the same point by replaying nothing, so
        // both take a snapshot first.
        await h.snapshots.snapshot();
        await apps.close(h);
        h = await apps.track(bootWith(options));
      }
    }
    expect(packedAtSomePoint).toBeGreaterThan(1_000);
    const expected = await digest(reference.redis);
    expectSameData(await digest(h.redis), expected);
    await h.snapshots.snapshot();
    expectSameData(await restoredDigest(dataDir), expected);
  });
});
