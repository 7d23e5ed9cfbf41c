import type { ThrottlerStorage } from '@nestjs/throttler';
import type { Cluster, Redis } from 'ioredis';
import { requireClient } from './persistent-cache.integration-args';

/** What {@link PersistentCacheThrottlerStorage.increment} answers: `@nestjs/throttler`'s `ThrottlerStorageRecord`. */
export interface ThrottlerRecord {
  totalHits: number;
  /** Seconds until the hit window ends. */
  timeToExpire: number;
  isBlocked: boolean;
  /** Seconds until the block ends; 0 when not blocked. */
  timeToBlockExpire: number;
}

/**
 * A `@nestjs/throttler` storage on the cache's client: `ThrottlerModule.forRootAsync({ inject: [CACHE], useFactory:
 * (redis) => ({ throttlers: [...], storage: new PersistentCacheThrottlerStorage(redis) }) })`.
 *
 * Why not `@nest-lab/throttler-storage-redis`: it takes a client only when it is an `instanceof` ioredis's `Redis`
 * or `Cluster`, and treats anything else, the embedded client among them, as connection options for a new client of
 * its own to 127.0.0.1:6379. This storage keeps the same keys (`{<key>:<throttler>}:hits` and `…:blocked`) and
 * the same fixed-window counting, with plain commands in a MULTI instead of a Lua script, so it works on the
 * embedded cache and on a real Redis alike, and counters survive a restart of the embedded cache (they are keys
 * with a PX, snapshotted like any other).
 *
 * Each hit: the window's counter is created with the window's TTL if missing (`SET … PX ttl NX`) and incremented;
 * past the limit, a block key with the block duration is set (`NX`: concurrent hits do not extend it). While the
 * block key lives, requests are refused. The TTLs come from the throttler's `ttl` and `blockDuration`
 * (milliseconds); this storage adds none of its own.
 */
export class PersistentCacheThrottlerStorage implements ThrottlerStorage {
  constructor(private readonly client: Redis | Cluster) {
    requireClient(client, 'PersistentCacheThrottlerStorage');
  }

  async increment(
    key: string,
    ttl: number,
    limit: number,
    blockDuration: number,
    throttlerName: string,
  ): Promise<ThrottlerRecord> {
    const hitKey = `{${key}:${throttlerName}}:hits`;
    const blockKey = `{${key}:${throttlerName}}:blocked`;
    const windowMs = Math.max(1, Math.ceil(ttl));
    const replies = await this.client
      .multi()
      .set(hitKey, 0, 'PX', windowMs, 'NX')
      .incr(hitKey)
      .pttl(hitKey)
      .pttl(blockKey)
      .exec();
    if (replies === null) throw new Error('MULTI was aborted');
    for (const [error] of replies) if (error !== null) throw error;
    const totalHits = Number(replies[1][1]);
    const hitTtl = Number(replies[2][1]);
    const blockTtl = Number(replies[3][1]);
    const timeToExpire = Math.ceil(Math.max(0, hitTtl) / 1000);
    if (blockTtl > 0) {
      return {
        totalHits,
        timeToExpire,
        isBlocked: true,
        timeToBlockExpire: Math.ceil(blockTtl / 1000),
      };
    }
    if (totalHits > limit) {
      const blockMs = Math.max(1, Math.ceil(blockDuration));
      await this.client.set(blockKey, 1, 'PX', blockMs, 'NX');
      const ms = await this.client.pttl(blockKey);
      return {
        totalHits,
        timeToExpire,
        isBlocked: true,
        timeToBlockExpire: Math.ceil(Math.max(0, ms) / 1000),
      };
    }
    return { totalHits, timeToExpire, isBlocked: false, timeToBlockExpire: 0 };
  }
}
