import type { Redis } from 'ioredis';
import type { Keyspace } from '../lib/keyspace/keyspace';
import { KEYSPACE } from '../lib/persistent-cache.constants';
import { trackApps } from './support/apps';
import { bootWith, durable, removeTempDirs, tempDir, type Harness } from './support/harness';
import { prng } from './support/prng';
import { describeWithRedisServer } from './support/redis-suite';

/**
 * SCAN, DBSIZE and KEYS of the embedded client over a restored cache and keys written since: Redis's SCAN guarantee
 * through the usual SCAN-and-DEL loop, pages of about COUNT, MATCH and TYPE as Redis filters them, and (with a real
 * redis-server) the same keys for the same patterns.
 */

afterAll(removeTempDirs);
const apps = trackApps<Harness>();

const keyspaceOf = (h: Harness): Keyspace => h.app.get<Keyspace>(KEYSPACE);

async function setMany(redis: Redis, keys: string[]): Promise<void> {
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.set(key, 'v');
  await pipeline.exec();
}

const range = (n: number, name: (i: number) => string): string[] =>
  Array.from({ length: n }, (_, i) => name(i));

/** A cache restarted from a snapshot of `restored` keys, with `added` keys written since. */
async function restartedWith(restored: string[], added: string[]): Promise<Harness> {
  const dataDir = tempDir();
  const first = await apps.track(bootWith(durable(dataDir)));
  await setMany(first.redis, restored);
  await first.snapshots.snapshot();
  await apps.close(first);
  const h = await apps.track(bootWith(durable(dataDir)));
  await setMany(h.redis, added);
  return h;
}

describe('SCAN, DBSIZE and KEYS of the embedded client', () => {
  it('deletes every matching key in a SCAN-and-DEL loop, restored keys and new ones alike', async () => {
    const h = await restartedWith(
      [...range(3_000, (i) => `session:${i}`), ...range(1_000, (i) => `other:${i}`)],
      range(2_000, (i) => `session:new:${i}`),
    );
    let cursor = '0';
    let calls = 0;
    let deleted = 0;
    do {
      const [next, keys] = await h.redis.scan(cursor, 'MATCH', 'session:*', 'COUNT', 100);
      if (keys.length > 0) deleted += await h.redis.del(...keys);
      cursor = next;
      calls++;
    } while (cursor !== '0');
    // Deleting during the walk moves no other key: every one is found (a list-position cursor would skip half).
    expect(deleted).toBe(5_000);
    expect(await h.redis.keys('session:*')).toEqual([]);
    expect(await h.redis.dbsize()).toBe(1_000);
    expect(calls).toBeGreaterThan(20); // pages, not the whole keyspace at once
    expect(keyspaceOf(h).size).toBe(1_000);
  });

  it('answers pages of about COUNT from a large restored cache, and a full walk returns every key', async () => {
    const h = await restartedWith(
      range(40_000, (i) => `k:${i}`),
      range(10_000, (i) => `n:${i}`),
    );
    const [cursor, page] = await h.redis.scan('0', 'COUNT', 10);
    expect(cursor).not.toBe('0');
    expect(page.length).toBeGreaterThanOrEqual(10);
    expect(page.length).toBeLessThan(100);
    const seen = new Set<string>();
    let at = '0';
    do {
      const [next, keys] = await h.redis.scan(at, 'COUNT', 1_000);
      for (const key of keys) seen.add(key);
      at = next;
    } while (at !== '0');
    expect(seen.size).toBe(50_000);
    expect(await h.redis.dbsize()).toBe(50_000);
    // Listing the restored keys built none of them.
    expect(keyspaceOf(h)['entries'].restored.builtCount).toBe(0);
    const [, buffers] = await h.redis.scanBuffer('0', 'MATCH', 'k:1234*', 'COUNT', 100_000);
    expect(buffers.map((b) => b.toString()).sort()).toEqual([
      'k:1234',
      'k:12340',
      'k:12341',
      'k:12342',
      'k:12343',
      'k:12344',
      'k:12345',
      'k:12346',
      'k:12347',
      'k:12348',
      'k:12349',
    ]);
  });

  it('filters by TYPE and MATCH, and answers argument errors with Redis texts', async () => {
    const h = await restartedWith(['s:1', 's:2'], []);
    await h.redis.hset('h:1', 'f', 'v');
    await h.redis.rpush('l:1', 'a');
    await h.redis.sadd('set:1', 'm');
    await h.redis.zadd('z:1', 1, 'm');
    await h.redis.xadd('x:1', '1-1', 'f', 'v');
    const typed = async (type: string): Promise<string[]> =>
      (await h.redis.scan('0', 'COUNT', 1_000, 'TYPE', type))[1].sort();
    expect(await typed('string')).toEqual(['s:1', 's:2']);
    expect(await typed('HASH')).toEqual(['h:1']);
    expect(await typed('list')).toEqual(['l:1']);
    expect(await typed('set')).toEqual(['set:1']);
    expect(await typed('zset')).toEqual(['z:1']);
    expect(await typed('stream')).toEqual(['x:1']);
    const duplicate = h.redis.duplicate(); // shares the keyspace, and answers the same way
    expect((await duplicate.scan('0', 'COUNT', 1_000, 'TYPE', 'zset'))[1]).toEqual(['z:1']);
    expect(await duplicate.dbsize()).toBe(7);
    duplicate.disconnect();
    expect((await h.redis.scan('0', 'MATCH', '[sz]:*', 'COUNT', 1_000))[1].sort()).toEqual([
      's:1',
      's:2',
      'z:1',
    ]);
    await expect(h.redis.scan('abc')).rejects.toThrow('ERR invalid cursor');
    await expect(h.redis.scan('0', 'COUNT', 0)).rejects.toThrow('ERR syntax error');
    await expect(h.redis.scan('0', 'COUNT', 'x')).rejects.toThrow(
      'ERR value is not an integer or out of range',
    );
    const scan = h.redis.scan.bind(h.redis) as unknown as (
      ...args: (string | number)[]
    ) => Promise<unknown>;
    await expect(scan('0', 'MATCH')).rejects.toThrow('ERR syntax error');
    await expect(scan('0', 'LIMIT', 5)).rejects.toThrow('ERR syntax error');
    // A cursor past every key ends the walk.
    expect(await h.redis.scan('99999999999', 'COUNT', 10)).toEqual(['0', []]);
  });

  it('answers RANDOMKEY with a live key, restored or new, and null when there is none', async () => {
    const h = await restartedWith(
      range(500, (i) => `r:${i}`),
      range(500, (i) => `a:${i}`),
    );
    const drawn = new Set<string>();
    for (let i = 0; i < 300; i++) drawn.add((await h.redis.randomkey()) as string);
    expect([...drawn].some((key) => key.startsWith('r:'))).toBe(true);
    expect([...drawn].some((key) => key.startsWith('a:'))).toBe(true);
    for (const key of drawn) expect(await h.redis.exists(key)).toBe(1);
    expect(keyspaceOf(h)['entries'].restored.builtCount).toBe(0);
    expect((await h.redis.randomkeyBuffer())?.toString()).toMatch(/^[ra]:\d+$/);
    await h.redis.flushall();
    expect(await h.redis.randomkey()).toBeNull();
  });

  it("counts each key with a TTL once in INFO keyspace's expires, restored, built or new", async () => {
    const dataDir = tempDir();
    const first = await apps.track(bootWith(durable(dataDir)));
    for (let i = 0; i < 5; i++) await first.redis.set(`r:ttl:${i}`, 'v', 'EX', 600);
    await first.redis.set('r:plain', 'v');
    await first.snapshots.snapshot();
    await apps.close(first);
    const h = await apps.track(bootWith(durable(dataDir)));
    await h.redis.expire('r:ttl:0', 900); // builds the key, which keeps a TTL
    await h.redis.persist('r:ttl:1'); // builds it, without a TTL any more
    await h.redis.expire('r:plain', 600);
    expect(await h.redis.get('r:ttl:2')).toBe('v'); // read in place, not built
    await h.redis.set('a:ttl', 'v', 'EX', 600);
    const info = await h.redis.info('keyspace');
    expect(info).toContain('db0:keys=7,expires=6,');
  });

  it('counts with DBSIZE and lists with KEYS only keys whose TTL has not run out', async () => {
    const h = await restartedWith(
      range(100, (i) => `r:${i}`),
      range(100, (i) => `a:${i}`),
    );
    const pipeline = h.redis.pipeline();
    for (let i = 0; i < 10; i++) pipeline.pexpire(`r:${i}`, 1).pexpire(`a:${i}`, 1);
    await pipeline.exec();
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect(await h.redis.dbsize()).toBe(180);
    expect((await h.redis.keys('*')).length).toBe(180);
  });

  it("lists the empty key with KEYS * as Redis does (no pattern is tested for '*' alone)", async () => {
    const h = await restartedWith(['', 'r:1'], ['a:1']);
    await h.redis.set('', 'written again');
    expect((await h.redis.keys('*')).sort()).toEqual(['', 'a:1', 'r:1']);
    expect(await h.redis.keys('')).toEqual(['']);
    // A longer pattern matches no empty key, in Redis too: its glob match needs a character for `*` then.
    expect((await h.redis.keys('**')).sort()).toEqual(['a:1', 'r:1']);
    expect(await h.redis.keys('r:?')).toEqual(['r:1']);
    const [, page] = await h.redis.scan('0', 'COUNT', '100');
    expect(page.sort()).toEqual(['', 'a:1', 'r:1']);
  });
});

describe('HSCAN, SSCAN and ZSCAN of the embedded client', () => {
  /** Every page of a walk over `key`, deleting each page's elements with `remove` as it comes. */
  async function walkAndRemove(
    scan: (cursor: string) => Promise<[string, string[]]>,
    width: number,
    remove: (elements: string[]) => Promise<unknown>,
  ): Promise<{ calls: number; returned: Set<string> }> {
    const returned = new Set<string>();
    let cursor = '0';
    let calls = 0;
    do {
      const [next, items] = await scan(cursor);
      const elements = items.filter((_, i) => i % width === 0);
      for (const element of elements) returned.add(element);
      if (elements.length > 0) await remove(elements);
      cursor = next;
      calls++;
    } while (cursor !== '0');
    return { calls, returned };
  }

  it('walks large collections in a few dozen calls, every element found while others are removed', async () => {
    const h = await restartedWith([], []);
    const fields = range(5_000, (i) => `field:${i}`);
    await h.redis.hset('h', Object.fromEntries(fields.map((f) => [f, 'v'])));
    await h.redis.sadd('s', ...fields);
    await h.redis.zadd('z', ...fields.flatMap((f, i) => [i, f]));
    const { redis } = h;
    const hash = await walkAndRemove(
      (c) => redis.hscan('h', c, 'COUNT', 10),
      2,
      (e) => redis.hdel('h', ...e),
    );
    const set = await walkAndRemove(
      (c) => redis.sscan('s', c, 'COUNT', 10),
      1,
      (e) => redis.srem('s', ...e),
    );
    const zset = await walkAndRemove(
      (c) => redis.zscan('z', c, 'COUNT', 10),
      2,
      (e) => redis.zrem('z', ...e),
    );
    for (const walk of [hash, set, zset]) {
      expect(walk.returned.size).toBe(5_000);
      expect(walk.calls).toBeGreaterThan(10);
      expect(walk.calls).toBeLessThanOrEqual(64);
    }
    expect(await redis.exists('h', 's', 'z')).toBe(0); // emptied, so deleted
  });

  it('finds every element in walks that overlap while the collection grows and changes', async () => {
    const h = await restartedWith([], []);
    const { redis } = h;
    const fields = range(5_000, (i) => `field:${i}`);
    await redis.hset('h', Object.fromEntries(fields.map((f) => [f, 'old'])));
    await redis.sadd('s', ...fields);
    await redis.zadd('z', ...fields.flatMap((f, i) => [i, f]));
    type Page = [string, string[]];
    const scans: [string, (cursor: string, count: number) => Promise<Page>, number][] = [
      ['h', (c, n) => redis.hscan('h', c, 'COUNT', n), 2],
      ['s', (c, n) => redis.sscan('s', c, 'COUNT', n), 1],
      ['z', (c, n) => redis.zscan('z', c, 'COUNT', n), 2],
    ];
    for (const [key, scan, width] of scans) {
      // Two walks, the second begun when the first is a third of the way, their calls interleaved; between calls
      // the collection gains elements and changes values.
      const walks = [
        { cursor: '0', count: 10, calls: 0, seen: new Map<string, string>() },
        { cursor: '0', count: 50, calls: 0, seen: new Map<string, string>() },
      ];
      let added = 0;
      for (let step = 0; walks.some((w) => w.calls === 0 || w.cursor !== '0'); step++) {
        for (const [at, walk] of walks.entries()) {
          if ((walk.calls > 0 && walk.cursor === '0') || (at === 1 && step < 20)) continue;
          const [next, items] = await scan(walk.cursor, walk.count);
          for (let i = 0; i < items.length; i += width) walk.seen.set(items[i], items[i + 1]);
          walk.cursor = next;
          walk.calls++;
        }
        added++;
        if (key === 'h') await redis.hset('h', `new:${added}`, 'x', `field:${step * 37}`, 'new');
        else if (key === 's') await redis.sadd('s', `new:${added}`);
        else await redis.zadd('z', -added, `new:${added}`, 10_000 + step, `field:${step * 37}`);
      }
      for (const walk of walks) {
        expect(fields.filter((f) => !walk.seen.has(f))).toEqual([]);
        expect(walk.calls).toBeLessThanOrEqual(64);
      }
      // The second walk began after the first 20 elements were added: they were there for all of it.
      const before = range(20, (i) => `new:${i + 1}`);
      expect(before.filter((f) => !walks[1].seen.has(f))).toEqual([]);
      if (key === 'h') {
        // A value comes as it is when its page is read: changed before that, the new one.
        const [first] = walks;
        for (const [field, value] of first.seen) {
          if (value === 'new') expect(await redis.hget('h', field)).toBe('new');
        }
      }
    }
  });

  it('answers a small collection whole, cursor 0, as Redis answers a listpack or an intset', async () => {
    const h = await restartedWith([], []);
    await h.redis.hset('h', { a: '1', b: '2', c: '3' });
    await h.redis.sadd('ints', '1', '2', '3', '4');
    await h.redis.zadd('z', '-inf', 'low', 1.5, 'mid', 'inf', 'high');
    expect(await h.redis.hscan('h', '0', 'COUNT', 1)).toEqual([
      '0',
      ['a', '1', 'b', '2', 'c', '3'],
    ]);
    expect(await h.redis.hscan('h', '0', 'MATCH', '[ab]')).toEqual(['0', ['a', '1', 'b', '2']]);
    expect(await h.redis.sscan('ints', '0', 'COUNT', 1)).toEqual(['0', ['1', '2', '3', '4']]);
    expect(await h.redis.zscan('z', '0', 'COUNT', 1)).toEqual([
      '0',
      ['low', '-inf', 'mid', '1.5', 'high', 'inf'],
    ]);
    const [, buffers] = await h.redis.hscanBuffer('h', '0');
    expect(buffers.map(String)).toEqual(['a', '1', 'b', '2', 'c', '3']);
  });

  it('checks the cursor, then the type, then the options, as Redis does', async () => {
    const h = await restartedWith(['str'], []);
    await h.redis.sadd('s', 'm');
    const sscan = h.redis.sscan.bind(h.redis) as unknown as (
      ...args: (string | number)[]
    ) => Promise<unknown>;
    await expect(sscan('str', 'x')).rejects.toThrow('ERR invalid cursor');
    await expect(sscan('str', '0')).rejects.toThrow('WRONGTYPE');
    await expect(sscan('missing', '0', 'COUNT', 0)).resolves.toEqual(['0', []]);
    await expect(sscan('s', '0', 'COUNT', 0)).rejects.toThrow('ERR syntax error');
    await expect(sscan('s', '0', 'TYPE', 'set')).rejects.toThrow('ERR syntax error');
    await expect(sscan('s', '0', 'MATCH')).rejects.toThrow('ERR syntax error');
  });
});

describeWithRedisServer(
  'SCAN MATCH (test/scan.e2e-spec.ts)',
  'SCAN MATCH against a real redis-server',
  (server) => {
    it('returns the same keys as Redis for random patterns over random keys', async () => {
      const random = prng(7);
      const pick = (alphabet: string[], max: number): string =>
        Array.from(
          { length: Math.floor(random() * (max + 1)) },
          () => alphabet[Math.floor(random() * alphabet.length)],
        ).join('');
      const keys = [
        ...new Set(
          range(300, () => pick(['a', 'b', 'c', '[', ']', '*', '?', '\\', '-', '^', 'é'], 5)),
        ),
      ].filter((key) => key !== '');
      const patterns = range(300, () =>
        pick(['a', 'b', 'c', '*', '*', '?', '[', ']', '^', '-', '\\', 'é'], 6),
      );
      const redis = server().client();
      const h = await apps.track(bootWith({ persistence: { enabled: false } }));
      try {
        await redis.flushall();
        for (const client of [redis, h.redis]) await setMany(client, keys);
        const differences: string[] = [];
        for (const pattern of patterns) {
          const [theirs, ours] = await Promise.all(
            [redis, h.redis].map(async (client) => {
              const [cursor, found] = await client.scan('0', 'MATCH', pattern, 'COUNT', 100_000);
              return `${cursor} ${found.sort().join(' ')}`;
            }),
          );
          if (theirs !== ours) differences.push(`${pattern}: redis ${theirs}, ours ${ours}`);
        }
        expect(differences).toEqual([]);
      } finally {
        redis.disconnect();
      }
    });
  },
);
