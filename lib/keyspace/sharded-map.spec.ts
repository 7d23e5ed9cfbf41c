import { numberShard, ShardedMap, stringMap, stringShard } from './sharded-map';

describe('ShardedMap', () => {
  it('is a map: set, get, has, delete and size over keys spread on many shards', () => {
    const map = stringMap<number>();
    for (let i = 0; i < 10_000; i++) map.set(`session:${i}`, i);
    map.set('session:7', -7); // replacing does not count twice
    expect(map.size).toBe(10_000);
    expect(map.get('session:7')).toBe(-7);
    expect(map.has('session:9999')).toBe(true);
    expect(map.has('session:10000')).toBe(false);
    expect(map.delete('session:1')).toBe(true);
    expect(map.delete('session:1')).toBe(false);
    expect(map.size).toBe(9_999);
    const seen = new Map(map);
    expect(seen.size).toBe(9_999);
    expect(seen.get('session:42')).toBe(42);
    expect([...map.keys()].length).toBe(9_999);
  });

  it('spreads keys that differ at their start or their end over the shards', () => {
    const spread = (key: (i: number) => string): number =>
      new Set(Array.from({ length: 2_000 }, (_, i) => stringShard(key(i)))).size;
    expect(spread((i) => `user:${i}:profile`)).toBeGreaterThan(240);
    expect(spread((i) => `${String(i).padStart(6, '0')}:${'x'.repeat(40)}`)).toBeGreaterThan(240);
    expect(spread((i) => `${'x'.repeat(40)}:${String(i).padStart(6, '0')}`)).toBeGreaterThan(240);
    // Keys that differ only in the middle of a long key share a shard: still a correct map.
    expect(spread((i) => `${'a'.repeat(20)}${String(i).padStart(6, '0')}${'b'.repeat(20)}`)).toBe(
      1,
    );
    const numbers = new ShardedMap<number, string>(numberShard);
    for (let i = 0; i < 1_000; i++) numbers.set(i, `${i}`);
    expect(numbers.get(999)).toBe('999');
    expect(new Set(Array.from({ length: 1_000 }, (_, i) => numberShard(i))).size).toBe(256);
  });

  it('iterates shard by shard, each entry once, live like a Map iterator', () => {
    const numbers = new ShardedMap<number, string>(numberShard);
    expect([...numbers]).toEqual([]);
    expect([...numbers.keys()]).toEqual([]);
    for (const i of [513, 2, 258, 1, 257]) numbers.set(i, `v${i}`);
    // Shard 1 (1, 257, 513 in insertion order), then shard 2 (2, 258).
    expect([...numbers]).toEqual([
      [513, 'v513'],
      [1, 'v1'],
      [257, 'v257'],
      [2, 'v2'],
      [258, 'v258'],
    ]);
    expect([...numbers.keys()]).toEqual([513, 1, 257, 2, 258]);
    // Added during the walk: seen in a shard not reached yet, not in one already walked.
    const seen: number[] = [];
    for (const [key] of numbers) {
      seen.push(key);
      if (key === 257) {
        numbers.set(3, 'v3');
        numbers.set(769, 'v769');
      }
    }
    expect(seen).toEqual([513, 1, 257, 769, 2, 258, 3]);
    const done = numbers.keys();
    for (let i = 0; i < 7; i++) done.next();
    expect(done.next()).toEqual({ done: true, value: undefined });
    expect(done.next()).toEqual({ done: true, value: undefined });
  });
});
