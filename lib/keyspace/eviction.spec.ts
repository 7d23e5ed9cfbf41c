import type { Redis } from 'ioredis';
import { createEmbeddedClient } from '../ioredis-mock/adapter';
import { lfuCounter, touchedUse, initialUse, type MaxMemoryPolicy } from './eviction';
import { Keyspace } from './keyspace';
import { addGeneration } from '../../test/support/keyspace-states';
import { RestoredStates } from './restored-states';

const OOM = "OOM command not allowed when used memory > 'maxmemory'.";

/** An embedded client over a fresh keyspace whose limit is set once `fill` has run. */
async function cache(
  policy: MaxMemoryPolicy,
  fill: (client: Redis) => Promise<unknown>,
  samples = 64,
): Promise<{ client: Redis; keyspace: Keyspace }> {
  const keyspace = new Keyspace();
  keyspace.setPolicy(policy);
  keyspace.memory.samples = samples;
  const client = createEmbeddedClient(keyspace);
  await fill(client);
  keyspace.memory.maxBytes = keyspace.usedBytes - 1; // over: the next write must make room first
  return { client, keyspace };
}

const value = 'v'.repeat(100);
const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

describe('eviction (maxmemory policies)', () => {
  let clients: Redis[] = [];
  afterEach(() => {
    for (const c of clients) c.disconnect();
    clients = [];
  });
  const track = <T extends { client: Redis }>(made: T): T => {
    clients.push(made.client);
    return made;
  };

  it("noeviction refuses writes with Redis's OOM error, counts them, and keeps reads, deletes and expiry working", async () => {
    const { client, keyspace } = track(
      await cache('noeviction', async (c) => {
        for (const i of range(20)) await c.set(`k${i}`, value);
        await c.set('short', value, 'PX', 1000);
      }),
    );
    await expect(client.set('new', value)).rejects.toThrow(OOM);
    await expect(client.hset('h', 'f', 'v')).rejects.toThrow(OOM);
    await expect(client.lpush('l', 'x')).rejects.toThrow(OOM);
    // In a transaction, as Redis does: refused when queued, and EXEC then refuses the whole transaction.
    await expect(client.multi().set('m', '1').exec()).rejects.toMatchObject({
      message: 'EXECABORT Transaction discarded because of previous errors.',
      previousErrors: [new Error(OOM)],
    });
    expect(keyspace.oomRejections).toBe(4);
    expect(keyspace.refusingWrites).toBe(true);
    expect(await client.get('k3')).toBe(value);
    expect(await client.dbsize()).toBe(21);
    expect(await client.exists('new', 'h', 'l', 'm')).toBe(0);
    expect(keyspace.evictedKeys).toBe(0);
    // Deleting frees memory, and writes are taken again.
    expect(await client.del('k0', 'k1')).toBe(2);
    expect(keyspace.refusingWrites).toBe(false);
    await expect(client.set('new', 'small')).resolves.toBe('OK');
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await client.get('short')).toBeNull();
  });

  it('volatile-* policies never evict a key without a TTL, and refuse writes when only such keys are left', async () => {
    for (const policy of [
      'volatile-lru',
      'volatile-lfu',
      'volatile-random',
      'volatile-ttl',
    ] as const) {
      const { client, keyspace } = track(
        await cache(policy, async (c) => {
          for (const i of range(10)) await c.set(`keep${i}`, value);
          for (const i of range(5)) await c.set(`ttl${i}`, value, 'EX', 100 + i);
        }),
      );
      let written = 0;
      let refused: unknown;
      while (refused === undefined && written < 20) {
        await client.set(`new${written++}`, value).catch((error: unknown) => (refused = error));
      }
      expect(refused).toEqual(expect.objectContaining({ message: OOM }));
      expect(keyspace.evictedKeys).toBe(5);
      expect((await client.keys('keep*')).length).toBe(10);
      expect(await client.keys('ttl*')).toEqual([]);
      expect(keyspace.refusingWrites).toBe(true);
    }
  });

  it('volatile-* policies do not evict a pool candidate that lost its TTL since it was ranked', async () => {
    for (const policy of ['volatile-lru', 'volatile-lfu', 'volatile-ttl'] as const) {
      // 64 samples over 40 keys: the pool keeps 16 candidates after the first eviction.
      const { client, keyspace } = track(
        await cache(policy, async (c) => {
          for (const i of range(40)) await c.set(`ttl${i}`, value, 'EX', 100 + i);
        }),
      );
      await client.set('first', value);
      expect(keyspace.evictedKeys).toBe(1);
      const left = await client.keys('ttl*');
      expect(left.length).toBe(39);
      // Half lose it to PERSIST, half to a SET without a TTL.
      for (const [i, key] of left.entries()) {
        if (i % 2 === 0) await client.persist(key);
        else await client.set(key, value);
      }
      expect(await client.ttl(left[1])).toBe(-1);
      keyspace.memory.maxBytes = keyspace.usedBytes - 1; // a TTL's bytes went with it: over the limit again
      // Only keys without a TTL are left: the pool's candidates may not be evicted, so the write is refused.
      await expect(client.set('second', value)).rejects.toThrow(OOM);
      expect(keyspace.evictedKeys).toBe(1);
      expect((await client.keys('ttl*')).length).toBe(39);
    }
  });

  it('volatile-* policies do not evict a restored key drawn as bytes that lost its TTL since', async () => {
    for (const policy of ['volatile-lru', 'volatile-lfu', 'volatile-ttl'] as const) {
      const states = new RestoredStates();
      addGeneration(
        states,
        range(40).map((i): [string, unknown] => [`r${i}`, value]),
        { expiresAt: Date.now() + 100_000 },
      );
      const keyspace = new Keyspace();
      keyspace.replaceAll(states);
      keyspace.setPolicy(policy);
      keyspace.memory.samples = 64; // the pool keeps 16 candidates drawn as records after the first eviction
      const client = track({ client: createEmbeddedClient(keyspace) }).client;
      keyspace.memory.maxBytes = keyspace.usedBytes - 1;
      await client.set('first', value, 'EX', 1_000);
      expect(keyspace.evictedKeys).toBe(1);
      const left = await client.keys('r*');
      expect(left.length).toBe(39);
      keyspace.memory.maxBytes = 0;
      for (const [i, key] of left.entries()) {
        if (i % 2 === 0) await client.persist(key);
        else await client.set(key, value);
      }
      await client.del('first');
      keyspace.memory.maxBytes = 1;
      await expect(client.set('second', value)).rejects.toThrow(OOM);
      expect(keyspace.evictedKeys).toBe(1);
      expect((await client.keys('r*')).length).toBe(39);
    }
  });

  it('keeps how idle each key is across a change of policy between LRU and LFU', async () => {
    const { client, keyspace } = track(
      await cache('allkeys-lru', async (c) => {
        for (const i of range(50)) await c.set(`old${i}`, value);
      }),
    );
    keyspace.memory.maxBytes = 0;
    keyspace.setPolicy('allkeys-lfu');
    // Redis's counter is 8 bits: a key written under LRU starts from LFU's initial counter, not its access time.
    for (const i of range(50)) {
      expect(await client.object('FREQ', `old${i}`)).toBeLessThanOrEqual(5);
    }
    for (let i = 0; i < 200; i++) await client.get('old0');
    keyspace.memory.maxBytes = keyspace.usedBytes - 1;
    for (const i of range(20)) {
      await client.set(`new${i}`, value);
      await client.get('old0');
    }
    expect(keyspace.evictedKeys).toBeGreaterThanOrEqual(20);
    expect(await client.exists('old0')).toBe(1); // the hot key is kept
    keyspace.memory.maxBytes = 0;
    keyspace.setPolicy('volatile-lru');
    expect(Number(await client.object('IDLETIME', 'old0'))).toBeLessThan(60);
  });

  it('counts the large members of sets and sorted sets that begin with small ones, in whole bytes', async () => {
    const keyspace = new Keyspace();
    const client = track({ client: createEmbeddedClient(keyspace) }).client;
    keyspace.memory.maxBytes = 2_000_000;
    const large = 'x'.repeat(100_000);
    for (const key of ['set', 'zset']) {
      const add = (member: string): Promise<unknown> =>
        key === 'set' ? client.sadd(key, member) : client.zadd(key, 1, member);
      for (const i of range(5)) await add(`a${i}`);
      let added = 0;
      await expect(
        (async () => {
          for (const i of range(30)) {
            await add(`${i}${large}`);
            added++;
          }
        })(),
      ).rejects.toThrow(OOM);
      // The limit holds within the estimate's band: about 2 MB of 100 KB members, not 30 of them.
      expect(added).toBeGreaterThanOrEqual(10);
      expect(added).toBeLessThanOrEqual(25);
      expect(Number.isInteger(await client.memory('USAGE', key))).toBe(true);
      await client.del(key);
    }
    await client.sadd('s', 'a', 'b', 'c', 'd', 'xxxxxxxxx', 'e');
    expect(Number.isInteger(keyspace.usedBytes)).toBe(true);
    await client.del('s');
    expect(keyspace.usedBytes).toBe(0);
  });

  it('volatile-ttl evicts the keys that expire soonest first', async () => {
    const { client } = track(
      await cache('volatile-ttl', async (c) => {
        for (const i of range(30)) await c.set(`t${i}`, value, 'EX', 1000 - i); // t29 expires first
      }),
    );
    for (const i of range(3)) await client.set(`n${i}`, value, 'EX', 5000);
    expect(await client.exists('t29', 't28', 't27')).toBe(0);
    expect(await client.exists(...range(27).map((i) => `t${i}`))).toBe(27);
  });

  it('allkeys-lru evicts the least recently used keys; allkeys-lfu keeps a hot key that LRU would drop', async () => {
    const run = async (policy: MaxMemoryPolicy): Promise<number> => {
      let now = Date.parse('2026-01-01T00:00:00Z');
      const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
      try {
        const { client } = track(
          await cache(policy, async (c) => {
            await c.set('hot', value);
            for (let i = 0; i < 200; i++) await c.get('hot'); // used a lot, long ago
            for (const i of range(30)) {
              now += 1000;
              await c.set(`cold${i}`, value); // used once each, more recently
            }
          }),
        );
        now += 1000;
        for (const i of range(10)) await client.set(`new${i}`, value);
        return client.exists('hot');
      } finally {
        clock.mockRestore();
      }
    };
    expect(await run('allkeys-lru')).toBe(0);
    expect(await run('allkeys-lfu')).toBe(1);
  });

  it('allkeys-lru evicts in the order keys were last used', async () => {
    let now = Date.parse('2026-01-01T00:00:00Z');
    const clock = jest.spyOn(Date, 'now').mockImplementation(() => now);
    try {
      const { client } = track(
        await cache('allkeys-lru', async (c) => {
          for (const i of range(20)) {
            now += 1000;
            await c.set(`k${i}`, value);
          }
          now += 1000;
          await c.get('k0'); // k0 is now the most recently used
        }),
      );
      for (const i of range(5)) await client.set(`n${i}`, value);
      const left = await client.keys('k*');
      expect(left.sort()).toEqual(
        [
          'k0',
          ...range(20)
            .slice(6)
            .filter((i) => i !== 0)
            .map((i) => `k${i}`),
        ].sort(),
      );
    } finally {
      clock.mockRestore();
    }
  });

  it('allkeys-random evicts any key; the evicted keys are gone for WATCH and from the count', async () => {
    const { client, keyspace } = track(
      await cache('allkeys-random', async (c) => {
        for (const i of range(50)) await c.set(`k${i}`, value);
      }),
    );
    for (const i of range(10)) await client.set(`n${i}`, value);
    expect(keyspace.evictedKeys).toBeGreaterThanOrEqual(10);
    expect(await client.dbsize()).toBe(60 - keyspace.evictedKeys);
    expect(keyspace.usedBytes).toBeLessThanOrEqual(keyspace.memory.maxBytes + 400);
  });

  it('evicts restored keys still kept as bytes, and keeps the count of bytes right', () => {
    const states = new RestoredStates();
    addGeneration(
      states,
      range(100).map((i): [string, unknown] => [`r${i}`, value]),
    );
    const keyspace = new Keyspace();
    keyspace.replaceAll(states);
    const full = keyspace.usedBytes;
    expect(full).toBeGreaterThan(100 * value.length);
    keyspace.setPolicy('allkeys-random');
    keyspace.memory.maxBytes = Math.floor(full / 2);
    expect(keyspace.makeRoom(1_000)).toBe('ok');
    expect(keyspace.usedBytes).toBeLessThanOrEqual(full / 2);
    expect(keyspace.size).toBe(100 - keyspace.evictedKeys);
    expect(keyspace.evictedKeys).toBeGreaterThanOrEqual(49);
    // What is left adds up to the total.
    let sum = 0;
    for (const i of range(100)) sum += keyspace.memoryUsage(`r${i}`) ?? 0;
    expect(keyspace.usedBytes).toBe(sum);
  });

  it('draws no more keys than there are when maxmemory-samples is larger (CONFIG SET takes up to 2^31 - 1)', () => {
    for (const policy of ['allkeys-lru', 'volatile-ttl'] as const) {
      const states = new RestoredStates();
      addGeneration(
        states,
        range(20).map((i): [string, unknown] => [`r${i}`, value]),
        { expiresAt: Date.now() + 100_000 },
      );
      const keyspace = new Keyspace();
      keyspace.replaceAll(states);
      keyspace.setPolicy(policy);
      // Redis's dictGetSomeKeys draws at most the keys there are; drawing 20 million times held the event loop.
      keyspace.memory.samples = 20_000_000;
      keyspace.memory.maxBytes = Math.floor(keyspace.usedBytes / 2);
      const started = performance.now();
      expect(keyspace.makeRoom(1_000)).toBe('ok');
      expect(performance.now() - started).toBeLessThan(500);
      expect(keyspace.evictedKeys).toBeGreaterThanOrEqual(10);
    }
  });
});

describe("LFU counter (Redis's logarithmic counter with decay)", () => {
  const t0 = Date.parse('2026-01-01T00:00:00Z');

  it('starts at 5, grows ever more slowly, and loses one per idle minute', () => {
    let use = initialUse('allkeys-lfu', t0);
    expect(lfuCounter(use, t0)).toBe(5);
    for (let i = 0; i < 100; i++) use = touchedUse(use, 'allkeys-lfu', t0);
    const after100 = lfuCounter(use, t0);
    expect(after100).toBeGreaterThan(5);
    expect(after100).toBeLessThan(30);
    for (let i = 0; i < 100_000; i++) use = touchedUse(use, 'allkeys-lfu', t0);
    expect(lfuCounter(use, t0)).toBeGreaterThan(after100 + 10);
    expect(lfuCounter(use, t0)).toBeLessThanOrEqual(255);
    expect(lfuCounter(use, t0 + 3 * 60_000)).toBe(lfuCounter(use, t0) - 3);
    expect(lfuCounter(use, t0 + 24 * 3_600_000)).toBe(0);
  });
});
