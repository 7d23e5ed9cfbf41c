import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRICS } from '../lib';
import { STORE_FILE } from '../lib/store/data-dir';
import type { Keyspace } from '../lib/keyspace/keyspace';
import { KEYSPACE, SNAPSHOT_STORE } from '../lib/persistent-cache.constants';
import { ActiveExpiryService } from '../lib/persistent-cache.expiry';
import { STORE_CLOSED, STORE_FILE_REPLACED } from '../lib/store/store.messages';
import type { SnapshotStore } from '../lib/store/snapshot-store';
import { digest, expectSameData } from './support/digest';
import { bootWith, durable, removeTempDirs, tempDir } from './support/harness';
import { load, type Entry, type KeyRecord } from './support/datasets';
import { storedStates } from './support/keyspace-states';
import { counterValue, metricValue } from './support/metrics';
import { readStreams, restoredDigest } from './support/stores';

afterAll(removeTempDirs);

// ---- a random dataset of every type: records, written by load() (test/support/datasets.ts) ----------------

const bytes = fc.uint8Array({ maxLength: 24 }).map((a) => Buffer.from(a));
const text = fc.oneof(fc.string({ maxLength: 24 }), fc.string({ unit: 'grapheme', maxLength: 12 }));
const payload = fc.oneof(text, bytes);
// ioredis-mock's XADD refuses empty fields and values, and reads "=" and "~" anywhere as MAXLEN modifiers.
const streamText = fc.string({ minLength: 1, maxLength: 12 }).filter((s) => s !== '=' && s !== '~');
const key = fc.oneof(
  fc.string({ maxLength: 16 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
  fc.constantFrom('', ' ', '\0', '_meta:version', 'chunks', 'manifest', 'stream:x:1-0'),
);
const score = fc.oneof(
  fc.double({ noNaN: true }),
  fc.constantFrom(Infinity, -Infinity, 0.1, -2.5, 1e-300),
);

// ioredis-mock's own TYPE throws on a hash with a field named `valueOf`, and its HSET drops a `__proto__` field; the
// snapshot keeps such hashes exactly as the cache holds them (tested on their own below).
const fieldName = text.filter((f) => f !== 'valueOf' && f !== '__proto__');

const entry: fc.Arbitrary<Entry> = fc.oneof(
  payload.map((value) => ({ type: 'string' as const, value })),
  fc
    .array(fc.tuple(fieldName, payload), { minLength: 1, maxLength: 6 })
    .map((value) => ({ type: 'hash' as const, value })),
  fc
    .array(payload, { minLength: 1, maxLength: 6 })
    .map((value) => ({ type: 'list' as const, value })),
  fc
    .array(payload, { minLength: 1, maxLength: 6 })
    .map((value) => ({ type: 'set' as const, value })),
  fc
    .array(fc.tuple(score, text), { minLength: 1, maxLength: 6 })
    .map((value) => ({ type: 'zset' as const, value })),
  fc
    .array(fc.tuple(streamText, streamText), { minLength: 1, maxLength: 4 })
    .map((value) => ({ type: 'stream' as const, value })),
);

const dataset: fc.Arbitrary<KeyRecord[]> = fc.uniqueArray(
  fc
    .record({ key, entry, ttlMs: fc.option(fc.integer({ min: 5_000, max: 10 ** 9 })) })
    // ioredis-mock's XADD refuses an empty key.
    .filter((r) => r.key !== '' || r.entry.type !== 'stream'),
  { selector: (r) => r.key, maxLength: 40 },
);

describe('round trip', () => {
  it('restores a random dataset of every type exactly (digest after reload)', async () => {
    await fc.assert(
      fc.asyncProperty(dataset, async (records) => {
        const dataDir = tempDir();
        const h = await bootWith(durable(dataDir));
        const streams = await load(h.redis, records);
        const before = await digest(h.redis);
        const streamsBefore = await readStreams(h.redis, streams);
        await h.app.close();

        const after = await restoredDigest(dataDir, { streams });
        expectSameData(after, before);
        expect(after.streams).toEqual(streamsBefore);
      }),
      { numRuns: 25 },
    );
    // 50 app starts, each with its store check in a child process: slow when the suite's other files load the machine.
  }, 300_000);

  it('keeps keys longer than LMDB keys can be, binary values byte for byte, and internal-looking keys', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir));
    const longKey = 'k'.repeat(10 * 1024);
    const binary = Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0xc3, 0x28]);
    await h.redis.set(longKey, 'long');
    await h.redis.set('binary', binary);
    await h.redis.set('text', 'żółw 🐢');
    await h.redis.set('_meta:version', '999');
    await h.redis.hset('h', 'f', binary);
    await h.redis.zadd('z', Infinity, 'top', -Infinity, 'bottom', 0.1, 'tenth', 1 / 3, 'third');
    await h.redis.xadd('events', '1-1', 'type', 'login');
    await h.redis.xadd('events', '*', 'type', 'logout');
    const before = await digest(h.redis);
    await h.app.close();

    const r = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    try {
      expectSameData(await digest(r.redis), before);
      expect(await r.redis.get(longKey)).toBe('long');
      expect(await r.redis.getBuffer('binary')).toEqual(binary);
      expect(await r.redis.get('text')).toBe('żółw 🐢');
      expect(await r.redis.get('_meta:version')).toBe('999');
      expect(await r.redis.hgetBuffer('h', 'f')).toEqual(binary);
      expect(await r.redis.zrange('z', 0, -1, 'WITHSCORES')).toEqual([
        'bottom',
        '-inf',
        'tenth',
        '0.10000000000000001', // redis-server 7.0 writes scores with 17 significant digits
        'third',
        '0.33333333333333331',
        'top',
        'inf',
      ]);
      const events = await r.redis.xrange('events', '-', '+');
      expect(events).toHaveLength(2);
      expect(events[0]).toEqual(['1-1', ['type', 'login']]);
      expect(events[1][1]).toEqual(['type', 'logout']);
      expect(await r.redis.xlen('events')).toBe(2);
      // The restored stream keeps working.
      await r.redis.xadd('events', '*', 'type', 'again');
      expect(await r.redis.xlen('events')).toBe(3);
    } finally {
      await r.app.close();
    }
  });

  it('restores a snapshot of a hundred chunks byte for byte (chunk buffers are written into again once committed)', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir));
    const expected = new Map<string, string>();
    const batch = h.redis.pipeline();
    for (let i = 0; i < 30_000; i++) {
      const value = randomBytes(512).toString('hex'); // 1 KB, different for every key
      expected.set(`k:${i}`, value);
      batch.set(`k:${i}`, value);
    }
    await batch.exec();
    const report = await h.snapshots.snapshot();
    expect(report.bytes).toBeGreaterThan(100 * 256 * 1024);
    await h.app.close();

    const r = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    try {
      const keys = [...expected.keys()];
      expect(await r.redis.dbsize()).toBe(keys.length);
      for (let i = 0; i < keys.length; i += 1000) {
        const slice = keys.slice(i, i + 1000);
        expect(await r.redis.mget(slice)).toEqual(slice.map((k) => expected.get(k)));
      }
    } finally {
      await r.app.close();
    }
  });

  it('keeps hash fields named like Object.prototype members', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir));
    const fields = [
      'valueOf',
      'toString',
      'constructor',
      'hasOwnProperty',
      'polled',
      '__defineGetter__',
    ];
    await h.redis.hset('h', ...fields.flatMap((f, i) => [f, `v${i}`]));
    await h.redis.hset('b', 'toString', Buffer.from([0xff, 0x00]));
    await h.app.close();

    const r = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    try {
      expect(await r.redis.hgetall('h')).toEqual(
        Object.fromEntries(fields.map((f, i) => [f, `v${i}`])),
      );
      expect(await r.redis.hkeys('h')).toEqual(fields);
      expect(await r.redis.hgetBuffer('b', 'toString')).toEqual(Buffer.from([0xff, 0x00]));
      expect(await r.redis.hlen('h')).toBe(fields.length);
      await r.redis.hdel('h', 'valueOf');
      expect(await r.redis.type('h')).toBe('hash');
    } finally {
      await r.app.close();
    }
  });
});

describe('TTLs', () => {
  it('stores absolute expiry times: 10 s left at snapshot, restored 4 s later, leaves about 6 s', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir));
    const setFrom = Date.now();
    await h.redis.set('session', 'x', 'PX', 10_000);
    const setTo = Date.now();
    await h.app.close();
    await sleep(4_000);
    const r = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    try {
      const askedFrom = Date.now();
      const pttl = await r.redis.pttl('session');
      const askedTo = Date.now();
      // The key expires 10 s after it was set, however long closing and booting took (a loaded machine can take
      // more than a second): neither restarted at 10 s on restore nor counted from the snapshot.
      expect(pttl).toBeGreaterThanOrEqual(setFrom + 10_000 - askedTo - 1);
      expect(pttl).toBeLessThanOrEqual(setTo + 10_000 - askedFrom + 1);
      expect(pttl).toBeLessThanOrEqual(6_000);
    } finally {
      await r.app.close();
    }
  });

  it('leaves out keys already expired at snapshot time, and counts them', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    // Active expiry stopped: 'gone' stays in memory once expired, as between two of its cycles.
    await h.app.get(ActiveExpiryService).onApplicationShutdown();
    await h.redis.set('gone', 'x', 'PX', 20);
    await h.redis.set('kept', 'y');
    await sleep(50);
    expect(h.app.get<Keyspace>(KEYSPACE).size).toBe(2);
    const report = await h.snapshots.snapshot();
    expect(report).toMatchObject({ keys: 2, expired: 1, records: 1 });
    await h.app.close();
    expect((await restoredDigest(dataDir)).dump).toEqual(['"kept" string "79"']);
  });

  it('leaves out keys that expired between snapshot and restore, and counts them', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir));
    await h.redis.set('short', 'x', 'PX', 300);
    await h.redis.set('long', 'y', 'EX', 3600);
    await h.app.close();
    await sleep(400);
    const r = await bootWith(
      durable(dataDir, { restoreOnStartup: false, snapshotOnShutdown: false }),
    );
    try {
      const report = await r.snapshots.restore();
      expect(report).toMatchObject({ keys: 1, expired: 1 });
      expect(await metricValue(METRICS.lastRestoreKeys)).toBe(1);
      expect(await metricValue(METRICS.lastRestoreExpiredKeys)).toBe(1);
      expect(await r.redis.keys('*')).toEqual(['long']);
    } finally {
      await r.app.close();
    }
  });
});

describe('restored values', () => {
  it('stay encoded until read, and a snapshot writes the unread ones back byte for byte', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir));
    const binary = Buffer.from([0x00, 0xff, 0x80]);
    await h.redis.set('s', 'text');
    await h.redis.set('b', binary);
    await h.redis.hset('h', 'f', 'v', 'bin', binary);
    await h.redis.rpush('l', 'x', 'y');
    await h.redis.sadd('set', 'm1', 'm2');
    await h.redis.zadd('z', 1.5, 'a', -Infinity, 'b');
    await h.redis.xadd('st', '1-1', 'k', 'v');
    await h.redis.set('ttl', 'soon', 'PX', 60_000);
    const before = await digest(h.redis);
    await h.app.close();

    const r = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    try {
      const keyspace = r.app.get<Keyspace>(KEYSPACE);
      const stillEncoded = (): string[] =>
        storedStates(keyspace)
          .filter(([, state]) => state.copyEncodedTo?.({ writeRange: () => undefined }) === true)
          .map(([key]) => key)
          .sort();
      expect(stillEncoded()).toEqual(
        before.dump.map((line) => JSON.parse(line.split(' ')[0]) as string).sort(),
      );
      // A read the library answers reads a small value from its bytes, and leaves it so...
      expect(await r.redis.hget('h', 'f')).toBe('v');
      expect(await r.redis.hgetall('h')).toEqual({ f: 'v', bin: binary.toString() });
      expect(stillEncoded()).toContain('h');
      // ...a command ioredis-mock answers decodes it, and the key keeps its decoded value.
      expect(await r.redis.hkeys('h')).toEqual(['f', 'bin']); // (answered by the library)
      expect(stillEncoded()).toContain('h');
      expect(await r.redis.hvals('h')).toEqual(['v', binary.toString()]);
      expect(stillEncoded()).not.toContain('h');
      // Enough new keys for a full snapshot, which copies the restored values nobody read.
      await r.redis.mset(
        Object.fromEntries(Array.from({ length: 1_001 }, (_, i) => [`new:${i}`, `${i}`])),
      );
      expect(stillEncoded()).toHaveLength(before.keys - 1);
      const report = await r.snapshots.snapshot();
      expect(report.kind).toBe('full');
      // Then every key the snapshot stored, written or decoded ones included, is held as its bytes.
      while (r.snapshots.busy) await sleep(1);
      expect(stillEncoded()).toHaveLength(before.keys + 1_001);
      const live = await digest(r.redis);
      expect(live.keys).toBe(before.keys + 1_001);
      expectSameData(await restoredDigest(dataDir), live);
    } finally {
      await r.app.close();
    }
  });
});

describe('on-demand restore', () => {
  it('reads in slices while the cache serves its old content, then replaces it at once', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    try {
      const fill = h.redis.pipeline();
      for (let i = 0; i < 50_000; i++) fill.set(`k:${i}`, `value ${i} `.repeat(8));
      await fill.exec();
      await h.snapshots.snapshot();
      await h.redis.flushall();
      await h.redis.set('old', 'served');

      let restored = false;
      const restoring = h.snapshots.restore().finally(() => (restored = true));
      const servedMeanwhile: (string | null)[] = [];
      while (!restored) {
        await setImmediate();
        servedMeanwhile.push(await h.redis.get('old'));
        if (servedMeanwhile.length === 2) await h.redis.set('written meanwhile', 'lost');
      }
      const report = await restoring;

      expect(report?.keys).toBe(50_000);
      // The event loop kept turning, and the cache answered from its old content until the swap.
      expect(servedMeanwhile.length).toBeGreaterThan(3);
      expect(servedMeanwhile.slice(0, -1).every((v) => v === 'served')).toBe(true);
      expect(await h.redis.get('old')).toBeNull();
      expect(await h.redis.get('written meanwhile')).toBeNull();
      expect(await h.redis.dbsize()).toBe(50_000);
      expect(await h.redis.get('k:49999')).toBe('value 49999 '.repeat(8));
    } finally {
      await h.app.close();
    }
  });
});

describe('incremental snapshots', () => {
  it('a key deleted after snapshot N is absent after restoring snapshot N+1', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    await h.redis.mset({ a: '1', b: '2', c: '3' });
    expect((await h.snapshots.snapshot()).kind).toBe('full');
    await h.redis.del('a');
    await h.redis.set('d', '4');
    const second = await h.snapshots.snapshot();
    expect(second).toMatchObject({ kind: 'incremental', keys: 3, records: 2 });
    await h.redis.flushall();
    await h.redis.set('e', '5');
    await h.snapshots.snapshot();
    await h.app.close();
    expect((await restoredDigest(dataDir)).dump).toEqual(['"e" string "35"']);
  });

  it('writes only what changed, and the chain restores to the live keyspace', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    await h.redis.mset(
      Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, `v${i}`])),
    );
    await h.snapshots.snapshot();
    for (let round = 0; round < 5; round++) {
      await h.redis.set(`k${round}`, `changed ${round}`);
      await h.redis.del(`k${round + 100}`);
      await h.redis.hset(`h${round}`, 'f', round);
      await h.redis.pexpire(`k${round + 200}`, 60_000);
      const report = await h.snapshots.snapshot();
      expect(report).toMatchObject({ kind: 'incremental', records: 4 });
    }
    const live = await digest(h.redis);
    await h.app.close();
    expectSameData(await restoredDigest(dataDir), live);
  });
});

describe('a failed snapshot keeps the previous one', () => {
  it("when another file takes the store's place midway through the write", async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    await h.redis.mset({ a: '1', b: '2' });
    await h.snapshots.snapshot();
    const committed = await digest(h.redis);

    // Enough data for several chunks to reach LMDB before the commit finds the file replaced.
    const filler = 'x'.repeat(100);
    await h.redis.mset(
      Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`k${i}`, filler])),
    );
    const store = join(dataDir, STORE_FILE);
    const failuresBefore = await counterValue(METRICS.snapshots, { result: 'failure' });
    const snapshot = h.snapshots.snapshot();
    await setImmediate();
    renameSync(store, `${store}.aside`);
    writeFileSync(store, 'not a store');
    await expect(snapshot).rejects.toThrow(STORE_FILE_REPLACED(store));
    expect(await counterValue(METRICS.snapshots, { result: 'failure' })).toBe(failuresBefore + 1);
    // The app never writes a store it did not write: the other file is as it was.
    expect(readFileSync(store, 'utf8')).toBe('not a store');

    // Its own store, put back, holds the last good snapshot, and the next snapshot every change since.
    renameSync(`${store}.aside`, store);
    expectSameData(await restoredDigest(dataDir), committed);
    await h.redis.del('a');
    await h.snapshots.snapshot();
    const live = await digest(h.redis);
    await h.app.close();
    expectSameData(await restoredDigest(dataDir), live);
  });

  it('when the LMDB environment is closed under it', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    await h.redis.mset({ a: '1', b: '2' });
    await h.snapshots.snapshot();
    const committed = await digest(h.redis);
    const filler = 'y'.repeat(200);
    for (let batch = 0; batch < 5; batch++) {
      await h.redis.mset(
        Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${batch}:${i}`, filler])),
      );
    }

    const snapshot = h.snapshots.snapshot();
    await setImmediate();
    await h.app.get<SnapshotStore>(SNAPSHOT_STORE).close();
    await expect(snapshot).rejects.toThrow(STORE_CLOSED(dataDir));
    await h.app.close();
    expectSameData(await restoredDigest(dataDir), committed);
  });
});
