import type { Redis } from 'ioredis';

/**
 * One write drawn with `pick` (a seeded `n => 0..n-1`) over the keys `k:0` to `k:<keys - 1>`, a few hashes and lists:
 * a set, delete, append, expire or persist of a string key, a field of a hash, or a push to a list. Every draw is made
 * before the write is returned, so that it can be applied to two caches alike.
 */
export function randomWrite(
  pick: (n: number) => number,
  keys: number,
  tag: string,
): (redis: Redis) => Promise<unknown> {
  const key = `k:${pick(keys)}`;
  switch (pick(7)) {
    case 0:
      return (redis) => redis.set(key, tag);
    case 1:
      return (redis) => redis.del(key);
    case 2:
      return (redis) => redis.append(key, '+');
    case 3:
      return (redis) => redis.expire(key, 3_600);
    case 4: {
      const [hash, field] = [`h:${pick(20)}`, `f${pick(10)}`];
      return (redis) => redis.hset(hash, field, tag);
    }
    case 5: {
      const list = `l:${pick(20)}`;
      return (redis) => redis.rpush(list, tag);
    }
    default:
      return (redis) => redis.persist(key);
  }
}
