import type { Redis } from 'ioredis';

/**
 * The 10-command pipeline both throughput measurements send (`npm run fidelity`, the commands benchmark): one
 * command of each everyday kind over a few hundred keys, `i` choosing them.
 */
export function pipelineOfTen(c: Redis, i: number): Promise<unknown> {
  return c
    .pipeline()
    .set(`p:${i % 100}`, 'v')
    .get(`p:${i % 100}`)
    .incr(`pn:${i % 100}`)
    .hset(`ph:${i % 10}`, 'f', 'v')
    .hget(`ph:${i % 10}`, 'f')
    .lpush(`pl:${i % 10}`, 'v')
    .lpop(`pl:${i % 10}`)
    .sadd(`ps:${i % 10}`, 'm')
    .zadd(`pz:${i % 10}`, 1, 'm')
    .zscore(`pz:${i % 10}`, 'm')
    .exec();
}
