import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Keyspace } from '../lib/keyspace/keyspace';
import { KEYSPACE } from '../lib/persistent-cache.constants';
import { trackApps } from './support/apps';
import { whileWriting } from './support/concurrent-writes';
import { digest, expectSameData } from './support/digest';
import { bootWith, durable, removeTempDirs, tempDir, type Harness } from './support/harness';
import { describeWithRedisServer } from './support/redis-suite';
import { restoredDigest } from './support/stores';

/**
 * SETBIT, SETRANGE, APPEND and BITFIELD change a string of 16 KiB or more in place, with spare capacity grown as
 * Redis grows its strings (a new copy at each write cost the string's length: half a second a SETBIT on 64 MB, and
 * APPENDs the square of the length). From the outside nothing changes but the time: the same answers, values read
 * that later writes do not change, a memory estimate that counts the capacity, OOM refusals, and snapshots that hold
 * each string as it was when they began while writes change it in place.
 */

afterAll(removeTempDirs);
const apps = trackApps<Harness>();

const keyspaceOf = (h: Harness): Keyspace => h.app.get<Keyspace>(KEYSPACE);
const sha = (bytes: Buffer | null): string =>
  bytes === null ? 'nil' : createHash('sha256').update(bytes).digest('hex');

/** 8 MiB. */
const MIB8 = 8 * 1024 * 1024;

describe('large strings changed in place', () => {
  it('hand out values that later writes do not change, and keep the bytes the app gave', async () => {
    const h = await apps.track(bootWith({ persistence: { enabled: false } }));
    const r = h.redis;
    const given = Buffer.alloc(20_000, 0x41);
    await r.set('s', given);
    expect(await r.setbit('s', 7, 0)).toBe(1);
    expect(given[0]).toBe(0x41); // the app's Buffer was copied, not changed
    const got = await r.getBuffer('s');
    const text = await r.get('s');
    const range = await r.getrangeBuffer('s', 0, 9);
    const [fromMget] = await r.mgetBuffer('s');
    const fromLua = (await r.callBuffer(
      'EVAL',
      "return redis.call('GET', KEYS[1])",
      1,
      's',
    )) as Buffer;
    const gotBefore = sha(got);
    for (const write of [
      () => r.setbit('s', 1, 0),
      () => r.setrange('s', 2, 'zz'),
      () => r.append('s', 'tail'),
      () => r.bitfield('s', 'SET', 'u8', 8 * 5, 0x30),
    ]) {
      await write();
    }
    expect(sha(got)).toBe(gotBefore);
    expect(text?.slice(0, 10)).toBe('@AAAAAAAAA');
    expect(range?.toString()).toBe('@AAAAAAAAA');
    expect(fromMget?.subarray(0, 10).toString()).toBe('@AAAAAAAAA');
    expect(fromLua.subarray(0, 10).toString()).toBe('@AAAAAAAAA');
    expect(await r.getrange('s', 0, 9)).toBe('\0AzzA0AAAA');
    expect(await r.strlen('s')).toBe(20_004);
    expect(await r.getrange('s', -4, -1)).toBe('tail');

    // A COPY and a RENAME hold their own bytes: a write to one leaves the other.
    expect(await r.copy('s', 'copied')).toBe(1);
    await r.setrange('s', 0, 'SOURCE');
    expect(await r.getrange('copied', 0, 5)).toBe('\0AzzA0');
    expect(await r.rename('copied', 'renamed')).toBe('OK');
    await r.setrange('renamed', 0, 'RENAMED');
    expect(await r.getrange('s', 0, 6)).toBe('SOURCEA');
    expect(await r.getrange('renamed', 0, 6)).toBe('RENAMED');
  });

  it('count the capacity in the memory estimate, as Redis sizes its strings', async () => {
    const h = await apps.track(bootWith({ persistence: { enabled: false } }));
    const r = h.redis;
    const keyspace = keyspaceOf(h);
    // A new key is sized exactly (Redis's `sdsnewlen`).
    await r.setbit('bm', MIB8 * 8 - 1, 1);
    const exact = keyspace.memoryUsage('bm') as number;
    expect(exact).toBeGreaterThanOrEqual(MIB8);
    expect(exact).toBeLessThan(MIB8 + 1024);
    // Writes within it change nothing of its size.
    const used = keyspace.usedBytes;
    for (let i = 0; i < 1000; i++) await r.setbit('bm', (i * 7919) % (MIB8 * 8), i & 1);
    expect(keyspace.usedBytes).toBe(used);
    // One byte more: 1 MiB of room is added (Redis's `sdsMakeRoomFor` past 1 MiB).
    await r.setbit('bm', MIB8 * 8, 1);
    expect((keyspace.memoryUsage('bm') as number) - exact).toBe(1 + 1024 * 1024);
    expect(await r.strlen('bm')).toBe(MIB8 + 1);
    expect(await r.bitcount('bm', -2, -1)).toBe(2);
    // Under 1 MiB a string that grows doubles its room; APPENDs then fill it without growing it.
    await r.set('ap', 'x'.repeat(16_384));
    await r.append('ap', 'y');
    const doubled = keyspace.memoryUsage('ap') as number;
    await r.append('ap', 'z'.repeat(16_000));
    expect(keyspace.memoryUsage('ap')).toBe(doubled);
    expect(await r.strlen('ap')).toBe(32_385);
    await r.append('ap', 'w'.repeat(500));
    expect(keyspace.memoryUsage('ap')).toBe(doubled - 32_770 + 2 * 32_885);
    // Its size is its capacity, however it is read.
    expect(await r.call('MEMORY', 'USAGE', 'ap')).toBe(keyspace.memoryUsage('ap'));
  });

  it('are refused when memory is over the limit, and count as written (WATCH, LRU)', async () => {
    const h = await apps.track(
      bootWith({
        persistence: { enabled: false },
        memory: { maxBytes: '4mb', policy: 'noeviction' },
      }),
    );
    const r = h.redis;
    const keyspace = keyspaceOf(h);
    await r.setbit('bm', 2 * 1024 * 1024 * 8, 1); // 2 MiB, under the limit
    // A WATCH sees a change in place.
    const watcher = r.duplicate();
    await watcher.watch('bm');
    await r.setbit('bm', 3, 1);
    expect(await watcher.multi().set('after-watch', '1').exec()).toBeNull();
    watcher.disconnect();
    // So does LRU: the write is a use of the key.
    keyspace.reader.writer?.keepUse('bm', 0);
    await r.setbit('bm', 4, 1);
    expect(keyspace.reader.writer?.useOf('bm')).toBeGreaterThan(0);
    // Growing past the limit is admitted once (Redis checks before a command), then every write is refused.
    await r.setrange('bm', 3 * 1024 * 1024, 'x');
    expect(keyspace.usedBytes).toBeGreaterThan(4 * 1024 * 1024);
    const before = sha(await r.getBuffer('bm'));
    for (const refused of [
      () => r.setbit('bm', 5, 1),
      () => r.setrange('bm', 0, 'y'),
      () => r.append('bm', 'z'),
      () => r.bitfield('bm', 'INCRBY', 'u8', 0, 1),
    ]) {
      await expect(refused()).rejects.toThrow('OOM');
    }
    expect(sha(await r.getBuffer('bm'))).toBe(before);
    expect(await r.getbit('bm', 4)).toBe(1);
  });

  it('snapshot each string as it was when the snapshot began, while writes change it in place', async () => {
    const dataDir = tempDir();
    const h = await apps.track(bootWith(durable(dataDir, { snapshotOnShutdown: false })));
    const r = h.redis;
    // Small keys first: the capture reads them before the large ones, whose state as it began it must then read
    // from the copies kept aside.
    const pipeline = r.pipeline();
    for (let i = 0; i < 40_000; i++) pipeline.set(`small:${i}`, 'v');
    await pipeline.exec();
    await r.setbit('bm', 2 * 1024 * 1024 * 8, 1);
    await r.set('ap', 'a'.repeat(20_000));
    await r.setrange('sr', 100_000, 'x');
    await r.bitfield('bf', 'SET', 'u8', 8 * 30_000, 1);
    // And a large hash, changed in place as well: a TTL set first kept only a reference to it.
    const fields: string[] = [];
    for (let i = 0; i < 20_000; i++) fields.push(`f${i}`, `v${i}`);
    await r.hset('h', ...fields);
    const change = async (step: number): Promise<unknown> => {
      switch (step % 6) {
        case 0:
          // A TTL first (a reference kept aside), then a change in place of the same object.
          await r.pexpire(step % 12 === 0 ? 'bm' : 'h', 1_000_000);
          return step % 12 === 0 ? r.setbit('bm', step * 8, 1) : r.hset('h', `f${step}`, 'x');
        case 1:
          return r.append('ap', `+${step}`);
        case 2:
          return r.setrange('sr', step % 100_000, `s${step}`);
        case 3:
          return r.bitfield('bf', 'INCRBY', 'u16', `#${step % 1000}`, step);
        case 4:
          return r.setbit('bm', (step * 7919) % (2 * 1024 * 1024 * 8), 1);
        default:
          return r.persist(step % 2 === 0 ? 'bm' : 'h');
      }
    };
    for (const round of [1, 2, 3]) {
      const atStart = await digest(r);
      const { result: report, writes } = await whileWriting(
        h.snapshots.snapshot(),
        round * 100_000,
        5,
        change,
      );
      if (round === 1) expect(report.kind).toBe('full');
      expect(writes).toBeGreaterThan(5);
      expect((await digest(r)).hash).not.toBe(atStart.hash);
      expectSameData(await restoredDigest(dataDir), atStart);
    }
  });

  it('are changes an incremental snapshot holds, and go on changing in place after a restart', async () => {
    const dataDir = tempDir();
    const h = await apps.track(bootWith(durable(dataDir, { snapshotOnShutdown: false })));
    const r = h.redis;
    const pipeline = r.pipeline();
    for (let i = 0; i < 5_000; i++) pipeline.set(`small:${i}`, 'v'.repeat(20));
    await pipeline.exec();
    await r.setbit('bm', 20_000 * 8, 1);
    await r.append('ap', 'a'.repeat(17_000));
    expect((await h.snapshots.snapshot()).kind).toBe('full');
    await r.setbit('bm', 9, 1);
    await r.append('ap', 'after');
    const expected = await digest(r);
    const report = await h.snapshots.snapshot();
    expect({ kind: report.kind, records: report.records }).toEqual({
      kind: 'incremental',
      records: 2,
    });
    expectSameData(await restoredDigest(dataDir), expected);
    // A restart restores them, and writes in place go on from the restored bytes.
    await apps.close(h);
    const restarted = await apps.track(bootWith(durable(dataDir)));
    expectSameData(await digest(restarted.redis), expected);
    expect(await restarted.redis.setbit('bm', 9, 0)).toBe(1);
    expect(await restarted.redis.getbit('bm', 20_000 * 8)).toBe(1);
    expect(await restarted.redis.append('ap', '!')).toBe(17_006);
    expect(await restarted.redis.getrange('ap', -6, -1)).toBe('after!');
    expect(await restarted.redis.getrange('ap', 0, 2)).toBe('aaa');
  });
});

/** Text of `n` bytes for step `step`: ASCII, or, every third step, bytes that are not UTF-8. */
function chunk(step: number, n: number): string | Buffer {
  if (step % 3 === 0) return Buffer.alloc(n, 0x80 + (step % 64));
  return `${step}:`.padEnd(n, String.fromCharCode(97 + (step % 26)));
}

/** One write or read of strings around and above 16 KiB, of the kind `step` picks. */
async function stringStep(redis: Redis, step: number): Promise<unknown> {
  const offset = (step * 7919) % 400_000;
  switch (step % 12) {
    case 0:
      return redis.setbit('bm', offset * 8 + (step % 8), step % 5 === 0 ? 0 : 1);
    case 1:
      return redis.append('ap', chunk(step, 100 + (step % 300)));
    case 2:
      return redis.setrange('sr', (step * 31) % 60_000, chunk(step, 1 + (step % 50)));
    case 3:
      return redis.call(
        'BITFIELD',
        'bf',
        'OVERFLOW',
        step % 2 === 0 ? 'SAT' : 'FAIL',
        'INCRBY',
        'i16',
        `#${(step * 13) % 20_000}`,
        step * 97,
        'GET',
        'u8',
        offset,
        'SET',
        'u4',
        offset * 3,
        step % 16,
      );
    case 4:
      return [
        await redis.getbit('bm', offset * 8),
        await redis.bitcount('bm'),
        await redis.bitcount('bm', 1000, 50_000),
        await redis.bitpos('bm', 1, 100),
        await redis.strlen('bm'),
      ];
    case 5:
      return [
        sha(await redis.getrangeBuffer('ap', -500, -1)),
        await redis.strlen('ap'),
        sha(await redis.getBuffer('sr')),
      ];
    case 6:
      return redis.setbit('ttl', offset, 1);
    case 7:
      return [(await redis.ttl('ttl')) > 99_000, await redis.strlen('ttl')];
    case 8:
      return redis.call(
        'BITFIELD_RO',
        'bf',
        'GET',
        'i16',
        `#${step % 20_000}`,
        'GET',
        'u63',
        offset,
      );
    case 9:
      return redis.setrange(`new${step % 5}`, 16_384 + (step % 100), chunk(step, 10));
    case 10:
      return [sha(await redis.getBuffer('bm')), sha(await redis.getBuffer('bf'))];
    default:
      return [
        await redis.append(`new${step % 5}`, chunk(step, 20)),
        sha(await redis.getBuffer(`new${step % 5}`)),
      ];
  }
}

describeWithRedisServer(
  'large strings (test/large-strings.e2e-spec.ts)',
  'large strings against a real redis-server',
  (server) => {
    it('answer every write and read as Redis does', async () => {
      const redis = server().client();
      const h = await apps.track(bootWith({ persistence: { enabled: false } }));
      try {
        await redis.flushall();
        for (const client of [redis, h.redis]) {
          await client.set('ap', 'start:'.padEnd(15_000, '.')); // text below the size changed in place
          await client.set('ttl', Buffer.alloc(20_000, 7), 'EX', 100_000);
        }
        const differences: string[] = [];
        for (let step = 0; step < 1_500; step++) {
          const [theirs, ours] = await Promise.all(
            [redis, h.redis].map((client) => stringStep(client, step)),
          );
          if (JSON.stringify(theirs) !== JSON.stringify(ours)) {
            differences.push(
              `step ${step}: redis ${JSON.stringify(theirs)}, ours ${JSON.stringify(ours)}`,
            );
          }
        }
        expect(differences.slice(0, 5)).toEqual([]);
        for (const key of ['bm', 'ap', 'sr', 'bf', 'ttl', 'new0', 'new4']) {
          expect(sha(await h.redis.getBuffer(key))).toBe(sha(await redis.getBuffer(key)));
        }
        expect(await h.redis.strlen('ap')).toBeGreaterThan(40_000);
      } finally {
        redis.disconnect();
      }
    });
  },
);
