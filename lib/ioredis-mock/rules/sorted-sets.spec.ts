import type { Redis } from 'ioredis';
import { createEmbeddedClient } from '../adapter';
import { Keyspace } from '../../keyspace/keyspace';

/** Redis's order of `scores`' members, with their scores, as ZRANGE … WITHSCORES answers it. */
function redisOrder(scores: ReadonlyMap<string, number>): string[] {
  return [...scores]
    .sort(([a, x], [b, y]) => x - y || Buffer.compare(Buffer.from(a), Buffer.from(b)))
    .flatMap(([member, score]) => [member, String(score)]);
}

/**
 * A large sorted set is changed in place and its kept order moved member by member (small moves by ZINCRBY, moves
 * across the set by ZADD, ties broken by the member, unchanged scores, removals, new members): every read of the
 * order must still be the order a sort gives.
 */
describe('a large sorted set changed in place', () => {
  let client: Redis;
  beforeEach(() => {
    client = createEmbeddedClient(new Keyspace());
  });
  afterEach(() => client.disconnect());

  it('keeps its order, ranks and scores as a sort of its members gives them', async () => {
    const members = 3_000; // about 100 KB: above the size from which sorted sets change in place
    const expected = new Map<string, number>();
    const pairs: Array<string | number> = [];
    for (let i = 0; i < members; i++) {
      expected.set(`m${i}`, i % 50); // many ties: the member decides their order
      pairs.push(i % 50, `m${i}`);
    }
    await client.zadd('z', ...pairs);
    expect(await client.zrange('z', 0, -1, 'WITHSCORES')).toEqual(redisOrder(expected)); // the order is kept from here

    let seed = 12_345;
    const draw = (n: number): number => {
      seed = (seed * 1_103_515_245 + 12_345) & 0x7fffffff;
      return seed % n;
    };
    let checks = 0;
    for (let step = 1; step <= 12_000; step++) {
      const member = `m${draw(members + 200)}`;
      switch (draw(4)) {
        case 0: {
          const by = draw(5) - 2;
          expect(Number(await client.zincrby('z', by, member))).toBe(
            (expected.get(member) ?? 0) + by,
          );
          expected.set(member, (expected.get(member) ?? 0) + by);
          break;
        }
        case 1: {
          const score = draw(60);
          await client.zadd('z', score, member);
          expected.set(member, score);
          break;
        }
        case 2:
          expect(await client.zrem('z', member)).toBe(expected.delete(member) ? 1 : 0);
          break;
        default: {
          const score = expected.get(member) ?? 7; // the same score again: the member stays where it is
          await client.zadd('z', score, member);
          expected.set(member, score);
        }
      }
      if (step % 500 === 0) {
        const order = redisOrder(expected);
        expect(await client.zrange('z', 0, -1, 'WITHSCORES')).toEqual(order);
        const probe = `m${draw(members)}`;
        const at = order.indexOf(probe);
        expect(await client.zrank('z', probe)).toBe(at === -1 ? null : at / 2);
        checks++;
      }
    }
    expect(checks).toBe(24);
    expect(await client.zcard('z')).toBe(expected.size);
  });
});

/**
 * Negative zero, as Redis 7.0 stores it: a listpack (at most 128 members of at most 64 bytes) stores the integer 0, a
 * skiplist keeps -0, and a score that compares equal is not written. Replies computed from -0 show it.
 */
describe('a score of -0', () => {
  let client: Redis;
  beforeEach(() => {
    client = createEmbeddedClient(new Keyspace());
  });
  afterEach(() => client.disconnect());
  const long = 'x'.repeat(65);

  it('is stored as 0 by a small sorted set, and as -0 by one with a member longer than 64 bytes', async () => {
    await client.zadd('small', '-0', 'm');
    expect(await client.zscore('small', 'm')).toBe('0');
    expect(await client.zincrby('small', '-0', 'm')).toBe('0');
    await client.zadd('large', '1', long, '-0', 'm');
    expect(await client.zscore('large', 'm')).toBe('-0');
    expect(await client.zincrby('large', '-0', 'm')).toBe('-0');
    // 0 compares equal to -0: the stored -0 stays
    expect(await client.zadd('large', '0', 'm')).toBe(0);
    expect(await client.zrange('large', 0, 0, 'WITHSCORES')).toEqual(['m', '-0']);
    // written before the long member converted it: a listpack's 0
    await client.zadd('converted', '-0', 'm', '1', long);
    expect(await client.zscore('converted', 'm')).toBe('0');
  });

  it('is stored as 0 by a store that makes a listpack, and answered as -0 when computed', async () => {
    await client.zadd('z', '0', 'm');
    expect(await client.zunion(1, 'z', 'WEIGHTS', '-1', 'WITHSCORES')).toEqual(['m', '-0']);
    expect(await client.zadd('n', 'INCR', '-0', 'm')).toBe('-0');
    expect(await client.zscore('n', 'm')).toBe('0');
    await client.zunionstore('dest', 1, 'z', 'WEIGHTS', '-1');
    expect(await client.zscore('dest', 'm')).toBe('0');
  });
});
