import { execFileSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { getHeapStatistics } from 'node:v8';
import { METRICS } from '../lib';
import type { Keyspace } from '../lib/keyspace/keyspace';
import { KEYSPACE } from '../lib/persistent-cache.constants';
import { trackApps } from './support/apps';
import { digest, expectSameData } from './support/digest';
import { bootWith, durable, removeTempDirs, tempDir, type Harness } from './support/harness';
import { counterValue, metricValue } from './support/metrics';
import { restoredDigest } from './support/stores';

const ROOT = resolve(__dirname, '..');
const OOM = "OOM command not allowed when used memory > 'maxmemory'.";

afterAll(removeTempDirs);
const apps = trackApps<Harness>();

const keyspaceOf = (h: Harness): Keyspace => h.app.get<Keyspace>(KEYSPACE);

/** Waits until `done()` holds, or `ms` pass; returns whether it held. */
async function until(done: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!done() && Date.now() < end) await sleep(20);
  return done();
}

/** `INFO <section>` as a map of field → value. */
async function info(h: Harness, section: string): Promise<Map<string, string>> {
  const text = await h.redis.info(section);
  const fields = new Map<string, string>();
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields.set(line.slice(0, at), line.slice(at + 1));
  }
  return fields;
}

describe('memory limit of the embedded cache', () => {
  it("defaults to half of V8's heap limit under noeviction, and says so in INFO and CONFIG GET", async () => {
    const h = await apps.track(bootWith({ persistence: { enabled: false } }));
    const limit = Math.floor(getHeapStatistics().heap_size_limit / 2);
    const memory = await info(h, 'memory');
    expect(memory.get('maxmemory')).toBe(String(limit));
    expect(memory.get('maxmemory_policy')).toBe('noeviction');
    expect(await h.redis.config('GET', 'maxmemory*')).toEqual([
      'maxmemory',
      String(limit),
      'maxmemory-policy',
      'noeviction',
      'maxmemory-samples',
      '5',
    ]);
    await sleep(150); // the gauges are set at startup and after each cycle
    expect(await metricValue(METRICS.maxMemoryBytes)).toBe(limit);
  });

  it('answers INFO memory/stats/keyspace, MEMORY USAGE and DBSIZE from the real figures', async () => {
    const h = await apps.track(
      bootWith({ persistence: { enabled: false }, memory: { maxBytes: '8mb' } }),
    );
    await h.redis.set('plain', 'x'.repeat(1000));
    await h.redis.set('ttl', 'y', 'EX', 100);
    await h.redis.hset('hash', 'a', '1', 'b', '2');
    const usage = await h.redis.memory('USAGE', 'plain');
    expect(usage).toBeGreaterThan(1000);
    expect(usage).toBeLessThan(1400);
    expect(await h.redis.memory('USAGE', 'missing')).toBeNull();
    const memory = await info(h, 'memory');
    expect(Number(memory.get('used_memory'))).toBe(keyspaceOf(h).usedBytes);
    expect(memory.get('maxmemory')).toBe(String(8 * 1024 * 1024));
    // avg_ttl is active expiry's running estimate, as Redis's: 0 until a cycle sampled the key.
    expect((await info(h, 'keyspace')).get('db0')).toMatch(/^keys=3,expires=1,avg_ttl=\d+$/);
    await until(() => keyspaceOf(h).averageTtl > 0, 2_000);
    const avgTtl = Number(/avg_ttl=(\d+)/.exec((await info(h, 'keyspace')).get('db0') ?? '')?.[1]);
    expect(avgTtl).toBeGreaterThan(95_000);
    expect(avgTtl).toBeLessThanOrEqual(100_000);
    expect(await h.redis.dbsize()).toBe(3);
    await h.redis.set('gone', 'z', 'PX', 1);
    await sleep(20);
    expect(await h.redis.get('gone')).toBeNull();
    expect((await info(h, 'stats')).get('expired_keys')).toBe('1');
    // INFO with no section has ioredis-mock's other sections too.
    expect(await h.redis.info()).toMatch(
      /# Server\r\n[\s\S]*# Memory\r\n[\s\S]*# Keyspace\r\ndb0:keys=3/,
    );
  });

  it('CONFIG SET changes the limit and the policy at run time; a lower limit evicts at once', async () => {
    const h = await apps.track(
      bootWith({ persistence: { enabled: false }, memory: { maxBytes: 0 } }),
    );
    const keyspace = keyspaceOf(h);
    const pipeline = h.redis.pipeline();
    for (let i = 0; i < 2_000; i++) pipeline.set(`k${i}`, 'v'.repeat(100));
    await pipeline.exec();
    const full = keyspace.usedBytes;
    const evictedBefore = await counterValue(METRICS.evictedKeys);
    expect(
      await h.redis.config(
        'SET',
        'maxmemory-policy',
        'allkeys-lru',
        'maxmemory',
        String(full >> 1),
      ),
    ).toBe('OK');
    // Evicted in slices: before the next write and by the background cycle.
    expect(await until(() => keyspace.usedBytes <= full >> 1, 3_000)).toBe(true);
    const evicted = keyspace.evictedKeys;
    expect(evicted).toBeGreaterThan(900);
    expect(await h.redis.dbsize()).toBe(2_000 - evicted);
    await sleep(250);
    expect((await counterValue(METRICS.evictedKeys)) - evictedBefore).toBe(evicted);
    expect(await metricValue(METRICS.memoryBytes)).toBe(keyspace.usedBytes);
    await expect(h.redis.config('SET', 'maxmemory', 'lots')).rejects.toThrow(
      "ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value",
    );
    await expect(h.redis.config('SET', 'maxmemory-policy', 'lru')).rejects.toThrow(
      /argument\(s\) must be one of/,
    );
    await expect(
      h.redis.config('SET', 'maxmemory', '1gb', 'maxmemory-samples', '0'),
    ).rejects.toThrow(/maxmemory-samples/);
    expect(keyspace.memory.maxBytes).toBe(full >> 1); // nothing of a refused CONFIG SET is applied
  });

  it('noeviction: refuses writes with the OOM error and counts them; reads, deletes and expiry go on', async () => {
    const h = await apps.track(
      bootWith({
        persistence: { enabled: false },
        memory: { maxBytes: '100kb', policy: 'noeviction' },
      }),
    );
    const rejectedBefore = await counterValue(METRICS.oomRejections);
    await h.redis.set('expiring', 'e', 'PX', 300);
    let written = 0;
    let refusal: unknown;
    while (refusal === undefined) {
      await h.redis.set(`k${written}`, 'v'.repeat(200)).then(
        () => written++,
        (error: unknown) => (refusal = error),
      );
    }
    expect(refusal).toEqual(expect.objectContaining({ message: OOM }));
    await expect(h.redis.rpush('list', 'a')).rejects.toThrow(OOM);
    await expect(h.redis.eval("return redis.call('SET', 'viaLua', '1')", 0)).rejects.toThrow(OOM);
    expect(await h.redis.get('k0')).toBe('v'.repeat(200));
    expect(await h.redis.exists('list', 'viaLua')).toBe(0);
    expect(await h.redis.dbsize()).toBe(written + 1);
    await sleep(400);
    expect(await h.redis.exists('expiring')).toBe(0);
    expect(await h.redis.del('k0', 'k1', 'k2')).toBe(3);
    await expect(h.redis.set('after', 'delete')).resolves.toBe('OK');
    await sleep(250);
    expect((await counterValue(METRICS.oomRejections)) - rejectedBefore).toBe(3);
    const expiredBefore = await counterValue(METRICS.expiredKeys);
    expect((await info(h, 'stats')).get('rejected_oom_commands')).toBe('3');
    expect((await info(h, 'stats')).get('expired_keys')).toBe('1');
    // CONFIG RESETSTAT zeroes INFO's counters, as in Redis; the metrics' counters never go back.
    expect(await h.redis.config('RESETSTAT')).toBe('OK');
    expect((await info(h, 'stats')).get('rejected_oom_commands')).toBe('0');
    expect((await info(h, 'memory')).get('expired_keys')).toBe('0');
    await sleep(250);
    expect((await counterValue(METRICS.oomRejections)) - rejectedBefore).toBe(3);
    expect(await counterValue(METRICS.expiredKeys)).toBe(expiredBefore);
  });

  it("refuses SORT, BITFIELD and PFADD over the limit as Redis's denyoom commands, even unchanged; answers their reads", async () => {
    const h = await apps.track(
      bootWith({
        persistence: { enabled: false },
        memory: { maxBytes: '100kb', policy: 'noeviction' },
      }),
    );
    await h.redis.rpush('list', '3', '1', '2');
    await h.redis.pfadd('visitors', 'ann');
    await h.redis.set('text', 'abc');
    for (let i = 0; ; i++) {
      const refused = await h.redis.set(`k${i}`, 'v'.repeat(200)).then(
        () => false,
        () => true,
      );
      if (refused) break;
    }
    await expect(h.redis.pfadd('visitors', 'ann')).rejects.toThrow(OOM);
    await expect(h.redis.sort('list')).rejects.toThrow(OOM);
    await expect(h.redis.call('bitfield', 'text', 'GET', 'u8', 0)).rejects.toThrow(OOM);
    expect(await h.redis.sort_ro('list')).toEqual(['1', '2', '3']);
    expect(await h.redis.call('bitfield_ro', 'text', 'GET', 'u8', 0)).toEqual([97]);
    expect(await h.redis.pfcount('visitors')).toBe(1);
    expect(await h.redis.lcs('text', 'missing')).toBe('');
  });

  it('publishes expired and evicted keys when notifications are turned on', async () => {
    const h = await apps.track(
      bootWith({
        persistence: { enabled: false },
        memory: { maxBytes: 0, policy: 'allkeys-random' },
      }),
    );
    expect(await h.redis.config('SET', 'notify-keyspace-events', 'Exe')).toBe('OK');
    // Redis's normalised form of the setting.
    expect(await h.redis.config('GET', 'notify-keyspace-events')).toEqual([
      'notify-keyspace-events',
      'xeE',
    ]);
    const subscriber = h.redis.duplicate();
    const events: string[] = [];
    subscriber.on('message', (channel: string, key: string) => events.push(`${channel} ${key}`));
    await subscriber.subscribe('__keyevent@0__:expired', '__keyevent@0__:evicted');
    try {
      await h.redis.set('short', '1', 'PX', 50);
      await h.redis.set('a', 'x'.repeat(100));
      await h.redis.config('SET', 'maxmemory', '1');
      await h.redis.set('b', 'y'); // evicts everything it can first
      expect(await until(() => events.length >= 2, 2_000)).toBe(true);
      expect(events).toEqual(expect.arrayContaining(['__keyevent@0__:evicted a']));
      expect(
        events.some(
          (e) => e === '__keyevent@0__:evicted short' || e === '__keyevent@0__:expired short',
        ),
      ).toBe(true);
    } finally {
      subscriber.disconnect();
    }
  });
});

describe('memory limit with snapshots', () => {
  it('a restore over the limit loads every key; noeviction then refuses writes, an eviction policy evicts to fit', async () => {
    const dataDir = tempDir();
    const first = await apps.track(bootWith(durable(dataDir, { snapshotOnShutdown: true })));
    const pipeline = first.redis.pipeline();
    for (let i = 0; i < 3_000; i++) pipeline.set(`k${i}`, 'v'.repeat(200));
    await pipeline.exec();
    const full = keyspaceOf(first).usedBytes;
    await apps.close(first);

    const strict = await apps.track(
      bootWith({
        ...durable(dataDir, { snapshotOnShutdown: false }),
        memory: { maxBytes: full >> 2 },
      }),
    );
    expect(keyspaceOf(strict).size).toBe(3_000);
    expect(keyspaceOf(strict).refusingWrites).toBe(true);
    await expect(strict.redis.set('new', '1')).rejects.toThrow(OOM);
    expect(await strict.redis.get('k2999')).toBe('v'.repeat(200));
    await apps.close(strict);

    const evicting = await apps.track(
      bootWith({
        ...durable(dataDir, { snapshotOnShutdown: false }),
        memory: { maxBytes: full >> 2, policy: 'allkeys-lru' },
      }),
    );
    const keyspace = keyspaceOf(evicting);
    expect(await until(() => !keyspace.overLimit, 5_000)).toBe(true);
    expect(keyspace.evictedKeys).toBeGreaterThan(1_000);
    expect(keyspace.size).toBe(3_000 - keyspace.evictedKeys);
    await expect(evicting.redis.set('new', '1')).resolves.toBe('OK');
  });

  it('evictions and expiries are changes like any other: incremental snapshots hold them, and a restore matches', async () => {
    const dataDir = tempDir();
    const h = await apps.track(
      bootWith({
        ...durable(dataDir),
        memory: { maxBytes: '400kb', policy: 'allkeys-lru' },
      }),
    );
    const keyspace = keyspaceOf(h);
    await h.snapshots.snapshot();
    for (let round = 0; round < 6; round++) {
      const pipeline = h.redis.pipeline();
      for (let i = 0; i < 400; i++) {
        const n = round * 400 + i;
        pipeline.set(`k${n}`, 'v'.repeat(300));
        if (i % 4 === 0) pipeline.set(`t${n}`, 'short-lived', 'PX', 50);
        if (i % 10 === 0) pipeline.hset(`h${n % 50}`, `f${n}`, String(n));
      }
      await pipeline.exec();
      await sleep(60);
      await h.snapshots.snapshot();
    }
    expect(keyspace.evictedKeys).toBeGreaterThan(1_000);
    expect(keyspace.expiredKeys).toBeGreaterThan(0);
    await sleep(150); // what is left of the short-lived keys expires
    await h.snapshots.snapshot();
    // A few evictions after a snapshot: the next, incremental, one holds a tombstone for each.
    const evicted = keyspace.evictedKeys;
    await h.redis.config('SET', 'maxmemory', String(keyspace.usedBytes - 2_000));
    await h.redis.set('last', 'write');
    // A write evicts for at most about 1 ms; on a busy machine the background cycle evicts the rest after it.
    expect(await until(() => !keyspace.overLimit, 5_000)).toBe(true);
    const few = keyspace.evictedKeys - evicted;
    expect(few).toBeGreaterThan(0);
    const report = await h.snapshots.snapshot();
    expect(report).toMatchObject({ kind: 'incremental', records: few + 1 });
    const before = await digest(h.redis);
    expect(before.keys).toBeGreaterThan(500);
    expectSameData(await restoredDigest(dataDir), before);
  });
});

describe('active expiry and the heap', () => {
  it('gives the heap back: after 100k keys SET … PX 200, five times, it is within 10% of its start each time', () => {
    const child = join(ROOT, 'dist', 'test', 'fixtures', 'expiry-probe-child.js');
    const output = execFileSync(process.execPath, ['--expose-gc', child, '100000', '5'], {
      encoding: 'utf8',
      timeout: 120_000,
    });
    const probe = JSON.parse(output) as {
      start: number;
      rounds: { heap: number; keys: number; held: number }[];
    };
    expect(probe.rounds).toHaveLength(5);
    for (const round of probe.rounds) {
      expect({ keys: round.keys, held: round.held }).toEqual({ keys: 0, held: 0 });
      expect(round.heap / probe.start).toBeLessThan(1.1);
    }
  });
});

describe('memory accounting', () => {
  it('estimates every type within ±25% of the V8 heap and external memory it takes', () => {
    const child = join(ROOT, 'dist', 'test', 'fixtures', 'accounting-child.js');
    const kinds = [
      'string 20 B',
      'string 1 KB',
      'string with TTL',
      'string, two-byte',
      'buffer 200 B',
      'bitmap of 60 KB by SETBIT',
      'string of 20 KB by APPEND',
      'hash of 10 fields',
      'hash of 100 fields',
      'list of 20',
      'set of 20',
      'sorted set of 20',
      'stream of 5',
    ];
    const rows = kinds.map((kind) => {
      // Each kind in a process of its own: what another kind left in the heap does not count.
      const line = execFileSync(process.execPath, ['--expose-gc', child, '10000', kind], {
        encoding: 'utf8',
        timeout: 60_000,
      });
      return JSON.parse(line) as { kind: string; keys: number; estimate: number; measured: number };
    });
    expect(rows.map((r) => r.kind)).toEqual(kinds);
    expect(
      rows.every((r) => r.keys >= (r.kind.includes(' by ') ? 250 : 1_000) && r.measured > 0),
    ).toBe(true);
    const outOfBand = rows
      .map(({ kind, estimate, measured }) => ({
        kind,
        ratio: Number((estimate / measured).toFixed(2)),
      }))
      .filter(({ ratio }) => ratio < 0.75 || ratio > 1.25);
    expect(outOfBand).toEqual([]);
  });
});
