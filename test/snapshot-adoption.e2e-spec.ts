import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Keyspace } from '../lib/keyspace/keyspace';
import type { Entries } from '../lib/keyspace/entries';
import { KEYSPACE } from '../lib/persistent-cache.constants';
import type { SnapshotService } from '../lib/snapshots/snapshot.service';
import { trackApps } from './support/apps';
import { fillEveryType, writeEveryType } from './support/every-type';
import { digest, expectSameData } from './support/digest';
import { bootWith, durable, removeTempDirs, tempDir, type Harness } from './support/harness';
import { prng } from './support/prng';
import { randomWrite } from './support/random-writes';
import { restoredDigest } from './support/stores';

/**
 * After a full snapshot commits, the keys it stored that have not changed since give up their objects for records
 * over the snapshot's bytes, as a restore would have made them (`Keyspace.adopt`). From the outside nothing changes:
 * every read and write answers as before, writes made while it runs are kept, eviction sees the same uses, and the
 * next snapshots and restarts hold the same data. Inside, the keys are held as bytes, and repeated rounds do not grow
 * the index.
 */

afterAll(removeTempDirs);
const apps = trackApps<Harness>();

const keyspaceOf = (h: Harness): Keyspace => h.app.get<Keyspace>(KEYSPACE);
const entriesOf = (h: Harness): Entries => keyspaceOf(h)['entries'];

/** Resolves once the service has nothing running or queued (the adoption runs after the snapshot's promise). */
async function idle(snapshots: SnapshotService): Promise<void> {
  while (snapshots.busy) await sleep(1);
}

/** Keys of every type, a stream among them, and `bulk` strings. */
async function fill(redis: Redis, bulk: number): Promise<void> {
  await fillEveryType(redis);
  await redis.xadd('st', '5-1', 'field', 'value');
  await redis.set('n', '41');
  const pipeline = redis.pipeline();
  for (let i = 0; i < bulk; i++) pipeline.set(`k:${i}`, `value ${i}`);
  await pipeline.exec();
}

/** Reads of every type, through the rules and through ioredis-mock. */
async function reads(redis: Redis): Promise<unknown[]> {
  return [
    await redis.get('s'),
    await redis.getBuffer('bin'),
    await redis.strlen('big'),
    (await redis.pttl('ttl')) > 500_000,
    await redis.hgetall('h'),
    await redis.hmget('h', 'f', 'nope'),
    await redis.lrange('l', 0, -1),
    (await redis.smembers('set')).sort(),
    await redis.sismember('set', 'm2'),
    await redis.zrange('z', 0, -1, 'WITHSCORES'),
    await redis.zrangebyscore('z', '-inf', 2),
    await redis.xrange('st', '-', '+'),
    await redis.type('st'),
    await redis.get('k:7'),
    await redis.mget('k:1', 'k:2', 'missing'),
    await redis.exists('s', 'h', 'missing'),
    await redis.dbsize(),
  ];
}

/** Writes of every type, to adopted keys. */
async function writes(redis: Redis): Promise<unknown[]> {
  return [
    ...(await writeEveryType(redis)),
    await redis.xadd('st', '6-1', 'more', 'fields'),
    await redis.del('k:3'),
    await redis.expire('k:4', 1000),
    await redis.rename('k:5', 'k:renamed'),
  ];
}

describe('a full snapshot lets its bytes hold the keys it stored', () => {
  it('holds every unchanged key as bytes, answering reads and writes as before, through restarts', async () => {
    const dataDir = tempDir();
    const h = await apps.track(bootWith(durable(dataDir, { snapshotOnShutdown: false })));
    const reference = await apps.track(bootWith({ persistence: { enabled: false } }));
    await fill(h.redis, 2000);
    await fill(reference.redis, 2000);
    const expectedReads = await reads(reference.redis);
    expect(await reads(h.redis)).toEqual(expectedReads);
    const bytesBefore = keyspaceOf(h).usedBytes;

    expect((await h.snapshots.snapshot()).kind).toBe('full');
    await idle(h.snapshots);
    const entries = entriesOf(h);
    expect(entries.added.size).toBe(0);
    expect(entries.restored.size).toBe(2010);
    expect(entries.restored.builtCount).toBe(0);
    // Records over bytes are estimated, as they are, well under the objects they replace.
    expect(keyspaceOf(h).usedBytes).toBeLessThan(bytesBefore * 0.7);

    expect(await reads(h.redis)).toEqual(expectedReads);
    expect(await writes(h.redis)).toEqual(await writes(reference.redis));
    const live = await digest(h.redis);
    expectSameData(live, await digest(reference.redis));
    expect(await h.redis.xrange('st', '-', '+')).toEqual(
      await reference.redis.xrange('st', '-', '+'),
    );

    // The next snapshot is an increment on top of the adopted generation; a restart restores both.
    expect((await h.snapshots.snapshot()).kind).toBe('incremental');
    expectSameData(await restoredDigest(dataDir), live);
  });

  it('keeps the writes made while it runs, and adopts none of the keys they changed', async () => {
    const dataDir = tempDir();
    const h = await apps.track(bootWith(durable(dataDir, { snapshotOnShutdown: false })));
    const reference = await apps.track(bootWith({ persistence: { enabled: false } }));
    const keys = 30_000;
    await fill(h.redis, keys);
    await fill(reference.redis, keys);
    // One expiry time for both: each fill set its own, as far apart as the fills took.
    const ttlAt = Date.now() + 600_000;
    for (const redis of [h.redis, reference.redis]) await redis.pexpireat('ttl', ttlAt);

    await h.snapshots.snapshot();
    const random = prng(7);
    let duringAdoption = 0;
    const changed = new Set<string>();
    // Batches of writes until the adoption is done: each runs between two of its slices.
    while (h.snapshots.busy) {
      const ops = Array.from({ length: 50 }, () => {
        const key = `k:${Math.floor(random() * keys)}`;
        changed.add(key);
        const kind = Math.floor(random() * 4);
        const at = Date.now() + 3_600_000; // one expiry time for both caches
        return (redis: Redis) =>
          kind === 0
            ? redis.set(key, `rewritten ${key}`)
            : kind === 1
              ? redis.del(key)
              : kind === 2
                ? redis.pexpireat(key, at)
                : redis.append(key, '+');
      });
      for (const redis of [h.redis, reference.redis]) await Promise.all(ops.map((op) => op(redis)));
      duringAdoption += ops.length;
      // The embedded client answers without an event-loop turn: give the adoption's slices theirs, as I/O would.
      await sleep(0);
    }
    expect(duringAdoption).toBeGreaterThan(0);

    const live = await digest(h.redis);
    expectSameData(live, await digest(reference.redis));
    const entries = entriesOf(h);
    // Keys written during the adoption keep their entries (or are gone); every other key is bytes.
    const stillObjects = [...entries.added.keys()];
    for (const key of stillObjects) expect([key, changed.has(key)]).toEqual([key, true]);
    expect(entries.restored.size + entries.added.size).toBe(await h.redis.dbsize());

    await h.snapshots.snapshot();
    await idle(h.snapshots);
    expectSameData(await restoredDigest(dataDir), live);
  });

  it('keeps each key’s last use: OBJECT IDLETIME and LRU eviction see the same keys as before', async () => {
    const dataDir = tempDir();
    const h = await apps.track(
      bootWith({
        ...durable(dataDir, { snapshotOnShutdown: false }),
        memory: { maxBytes: 0, policy: 'allkeys-lru' },
      }),
    );
    const keys = Array.from({ length: 400 }, (_, i) => `k:${i}`);
    await h.redis.mset(Object.fromEntries(keys.map((k) => [k, `value of ${k} `.repeat(4)])));
    await sleep(2100); // two seconds of idle time for every key
    const read = keys.filter((_, i) => i % 4 === 0);
    for (const key of read) expect(await h.redis.get(key)).toBe(`value of ${key} `.repeat(4));

    await h.snapshots.snapshot();
    await idle(h.snapshots);
    expect(entriesOf(h).added.size).toBe(0);
    expect(Number(await h.redis.object('IDLETIME', read[0]))).toBeLessThan(2);
    expect(Number(await h.redis.object('IDLETIME', 'k:1'))).toBeGreaterThanOrEqual(2);

    const used = async (): Promise<number> =>
      Number(/used_memory:(\d+)/.exec(await h.redis.info('memory'))?.[1]);
    const limit = Math.floor((await used()) * 0.6);
    await h.redis.config('SET', 'maxmemory', String(limit));
    for (let tries = 0; tries < 100 && (await used()) > limit; tries++) await sleep(20);
    expect(await used()).toBeLessThanOrEqual(limit);
    const left = new Set(await h.redis.keys('k:*'));
    expect(left.size).toBeLessThan(keys.length * 0.7);
    expect(read.filter((k) => left.has(k)).length).toBe(read.length);
  });

  it('does not grow its index over rounds of churn and full snapshots', async () => {
    const dataDir = tempDir();
    const h = await apps.track(bootWith(durable(dataDir, { snapshotOnShutdown: false })));
    const live = 5000;
    let next = 0;
    const pipeline = h.redis.pipeline();
    for (; next < live; next++) pipeline.set(`k:${next}`, `v${next}`);
    await pipeline.exec();
    const restored = entriesOf(h).restored;
    let firstRecordCount = 0;
    for (let round = 0; round < 8; round++) {
      // Half the keys go, as many new ones come, a tenth of the rest is rewritten: a full snapshot is due.
      const churn = h.redis.pipeline();
      for (let i = next - live; i < next - live / 2; i++) churn.del(`k:${i}`);
      for (let i = 0; i < live / 2; i++, next++) churn.set(`k:${next}`, `v${next}`);
      for (let i = next - live / 2; i < next - live / 2 + live / 10; i++)
        churn.set(`k:${i}`, 'new');
      await churn.exec();
      expect((await h.snapshots.snapshot()).kind).toBe('full');
      await idle(h.snapshots);
      expect(entriesOf(h).added.size).toBe(0);
      expect(restored.size).toBe(live);
      if (round === 0) firstRecordCount = restored.recordCount;
    }
    // Records of gone keys are taken again by new ones.
    expect(restored.recordCount).toBeLessThanOrEqual(firstRecordCount * 1.5);
    expect(await h.redis.dbsize()).toBe(live);
    expect(await h.redis.get(`k:${next - 1}`)).toBe(`v${next - 1}`);
    expectSameData(await restoredDigest(dataDir), await digest(h.redis));
  });

  it('answers as a cache without snapshots through random writes, snapshots and adoptions stopped and resumed', async () => {
    const dataDir = tempDir();
    const h = await apps.track(bootWith(durable(dataDir, { snapshotOnShutdown: false })));
    const reference = await apps.track(bootWith({ persistence: { enabled: false } }));
    const random = prng(0xad0b7);
    const pick = (n: number) => Math.floor(random() * n);
    const both = async (write: (redis: Redis) => Promise<unknown>) => {
      await write(h.redis);
      await write(reference.redis);
    };
    await both(async (redis) => {
      await fill(redis, 5_000);
      // 1 MB more: a full generation of several chunks, so that an adoption stops and goes on past the first.
      const pipeline = redis.pipeline();
      for (let k = 0; k < 2_000; k++) pipeline.set(`big:${k}`, `${k} `.padEnd(500, 'x'));
      await pipeline.exec();
    });
    let full = 0;
    let incremental = 0;
    for (let round = 0; round < 40; round++) {
      // A few writes of every kind over the bulk keys, with the loop given turns so that an adoption runs between them.
      for (let i = 0; i < 50; i++) {
        await both(randomWrite(pick, 5_000, `round ${round} ${i}`));
        if (pick(10) === 0) await sleep(pick(3));
      }
      if (pick(4) === 0) {
        // Many keys rewritten at once: the next snapshot is a full one, and its adoption starts over.
        const value = `bulk ${round}`;
        await both(async (redis) => {
          const pipeline = redis.pipeline();
          for (let k = 0; k < 2_000; k++) pipeline.set(`k:${k}`, value);
          await pipeline.exec();
        });
      }
      const report = await h.snapshots.snapshot();
      if (report.kind === 'full') full++;
      else incremental++;
    }
    expect(full).toBeGreaterThan(3);
    expect(incremental).toBeGreaterThan(10);
    await idle(h.snapshots);
    expect(entriesOf(h).restored.size).toBeGreaterThan(5_000); // adopted, and still answering as the reference
    const expected = await digest(reference.redis);
    expectSameData(await digest(h.redis), expected);
    expectSameData(await restoredDigest(dataDir), expected);
  });

  it('ends when FLUSHALL or a restore makes its keys others, and the next full snapshot adopts the new ones', async () => {
    const dataDir = tempDir();
    const h = await apps.track(bootWith(durable(dataDir, { snapshotOnShutdown: false })));
    await fill(h.redis, 20_000);
    expect((await h.snapshots.snapshot()).kind).toBe('full');
    const all = entriesOf(h).added.size;
    for (let waited = 0; entriesOf(h).added.size === all && waited < 5_000; waited++)
      await sleep(1);
    await h.redis.flushall();
    await h.redis.set('after', 'flush');
    // FLUSHALL leaves nothing to compare with the full snapshot: the next snapshot is a full one.
    expect(await h.snapshots.snapshot()).toMatchObject({ kind: 'full', records: 1 });
    await idle(h.snapshots);
    expect(entriesOf(h).added.size).toBe(0);
    expect(entriesOf(h).restored.size).toBe(1);

    await fill(h.redis, 20_000);
    expect((await h.snapshots.snapshot()).kind).toBe('full');
    for (let waited = 0; entriesOf(h).restored.size <= 1 && waited < 5_000; waited++)
      await sleep(1);
    await h.redis.set('k:0', 'written after the full snapshot');
    expect((await h.snapshots.snapshot()).kind).toBe('incremental');
    const restored = await h.snapshots.restore();
    expect(restored?.keys).toBe(20_011);
    await idle(h.snapshots);
    // Every key is a record read from the chain: nothing was left to adopt, and nothing was adopted twice.
    expect(entriesOf(h).added.size).toBe(0);
    expect(entriesOf(h).restored.size).toBe(20_011);
    expect(await h.redis.get('k:0')).toBe('written after the full snapshot');
    expectSameData(await restoredDigest(dataDir), await digest(h.redis));
  });

  it('gives way to snapshots asked for meanwhile, and goes on after each from where it stopped', async () => {
    const dataDir = tempDir();
    const h = await apps.track(bootWith(durable(dataDir, { snapshotOnShutdown: false })));
    const keys = 30_000;
    await fill(h.redis, keys);
    expect((await h.snapshots.snapshot()).kind).toBe('full');
    // Stopped three times by an incremental snapshot, each with one more key changed, once it has adopted some keys.
    let held = entriesOf(h).added.size;
    const stoppedAt: number[] = [];
    for (let i = 0; i < 3; i++) {
      for (let waited = 0; entriesOf(h).added.size === held && waited < 5_000; waited++)
        await sleep(1);
      await h.redis.set(`k:${i}`, `changed after the full snapshot ${i}`);
      const incremental = await h.snapshots.snapshot();
      expect(incremental).toMatchObject({ kind: 'incremental', records: 1 });
      held = entriesOf(h).added.size;
      stoppedAt.push(held);
    }
    expect(stoppedAt[0]).toBeGreaterThan(1_000); // far from done when first stopped
    await idle(h.snapshots);
    // Every key but the three changed since the full snapshot (written to increments, not to its bytes).
    expect([...entriesOf(h).added.keys()].sort()).toEqual(['k:0', 'k:1', 'k:2']);
    expectSameData(await restoredDigest(dataDir), await digest(h.redis));
    expect(await h.redis.get('k:1')).toBe('changed after the full snapshot 1');

    // A third of the keys rewritten: the next snapshot is a full one, and its adoption runs to the end.
    const rewrite = h.redis.pipeline();
    for (let i = 0; i < keys / 3; i++) rewrite.set(`k:${i}`, `rewritten ${i}`);
    await rewrite.exec();
    expect((await h.snapshots.snapshot()).kind).toBe('full');
    await idle(h.snapshots);
    expect(entriesOf(h).added.size).toBe(0);
    expect(entriesOf(h).restored.size).toBe(keys + 10);
    expectSameData(await restoredDigest(dataDir), await digest(h.redis));
  });
});
