import type { Redis } from 'ioredis';

/** Keys of every type the restored index holds: one with a TTL, a Buffer, a value over the read-in-place limit. */
export async function fillEveryType(redis: Redis): Promise<void> {
  await redis.set('s', 'text');
  await redis.set('bin', Buffer.from([0x00, 0xff, 0x80]));
  await redis.set('big', 'x'.repeat(5000));
  await redis.set('ttl', 'soon', 'PX', 600_000);
  await redis.hset('h', 'f', 'v', 'g', 'w');
  await redis.rpush('l', 'a', 'b', 'c');
  await redis.sadd('set', 'm1', 'm2', 'm3');
  await redis.zadd('z', 1.5, 'a', -Infinity, 'b', 3, 'c');
}

/** A write to each key of {@link fillEveryType} (and `n`), with their replies. */
export async function writeEveryType(redis: Redis): Promise<unknown[]> {
  return [
    await redis.append('s', '!'),
    await redis.hset('h', 'f', 'changed', 'new', 'field'),
    await redis.lpush('l', 'front'),
    await redis.sadd('set', 'm4'),
    await redis.zadd('z', 'INCR', 2, 'a'),
    await redis.incrby('n', 5),
    await redis.set('bin', 'replaced', 'KEEPTTL'),
  ];
}
