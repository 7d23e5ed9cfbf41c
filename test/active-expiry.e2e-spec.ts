import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Keyspace } from '../lib/keyspace/keyspace';
import { KEYSPACE } from '../lib/persistent-cache.constants';
import { METRICS } from '../lib';
import { trackApps } from './support/apps';
import { bootWith, durable, removeTempDirs, tempDir, type Harness } from './support/harness';
import { counterValue, metricValue } from './support/metrics';
import { findRedisServer, startRedisServer } from './support/redis-server';

afterAll(removeTempDirs);
const apps = trackApps<Harness>();

/** Waits until `keyspace` holds `size` keys (expired ones not yet removed included), or `ms` pass. */
async function sizeWithin(keyspace: Keyspace, size: number, ms: number): Promise<number> {
  const until = Date.now() + ms;
  while (keyspace.size !== size && Date.now() < until) await sleep(20);
  return keyspace.size;
}

describe('active expiry in the module', () => {
  it('removes keys whose TTL ran out without any command touching them', async () => {
    const h = await apps.track(bootWith(durable(tempDir())));
    const keyspace = h.app.get<Keyspace>(KEYSPACE);
    const expiredBefore = await counterValue(METRICS.expiredKeys);
    const pipeline = h.redis.pipeline();
    for (let i = 0; i < 20_000; i++) pipeline.set(`session:${i}`, 'x'.repeat(200), 'PX', 200);
    for (let i = 0; i < 100; i++) pipeline.set(`user:${i}`, 'kept');
    await pipeline.exec();
    expect(keyspace.size).toBe(20_100);
    // Lazy expiry alone would keep all 20,000 until touched; active expiry removes them within a few cycles.
    expect(await sizeWithin(keyspace, 100, 3_000)).toBe(100);
    expect(await h.redis.dbsize()).toBe(100);
    await sleep(250); // the metrics are updated after each cycle
    expect((await counterValue(METRICS.expiredKeys)) - expiredBefore).toBe(20_000);
    expect(await metricValue(METRICS.keys)).toBe(100);
  });

  it('keeps short-lived keys from piling up when writes leave the cycles few turns', async () => {
    const h = await apps.track(bootWith({ persistence: { enabled: false } }));
    const keyspace = h.app.get<Keyspace>(KEYSPACE);
    // Batches of 5,000 writes of keys that live 1 ms, the event loop given a turn between them (as a server's
    // requests would): the cycles' 1 ms slices alone remove a few hundred keys a batch.
    let written = 0;
    const batch = async (): Promise<void> => {
      const pipeline = h.redis.pipeline();
      for (let i = 0; i < 5_000; i++) pipeline.set(`short:${written++}`, 'x'.repeat(100), 'PX', 1);
      await pipeline.exec();
      await new Promise((resolve) => setImmediate(resolve));
    };
    // Until a cycle has run out of time (whatever the machine's speed), then 40 batches more.
    for (let i = 0; i < 200 && !keyspace.expiryBehind; i++) await batch();
    expect(keyspace.expiryBehind).toBe(true);
    let peak = 0;
    for (let i = 0; i < 40; i++) {
      await batch();
      peak = Math.max(peak, keyspace.size);
    }
    // From then on writes remove expired keys too, until a cycle finds few: at most the writes of a few cycle
    // intervals are held (4 batches on a fast machine), where the cycles alone fell ever further behind.
    expect(peak).toBeLessThan(40_000);
    expect(await sizeWithin(keyspace, 0, 3_000)).toBe(0);
    expect(keyspace.expiredKeys).toBe(written);
  });

  it('removes restored keys whose TTL runs out after the restart, and the next snapshot records it', async () => {
    const dataDir = tempDir();
    const first = await apps.track(bootWith(durable(dataDir)));
    const pipeline = first.redis.pipeline();
    // Long enough to outlive the restart on a loaded machine (1.5 s did not, under a CI run and other jobs).
    for (let i = 0; i < 500; i++) pipeline.set(`soon:${i}`, 'v', 'PX', 4_000);
    for (let i = 0; i < 2_000; i++) pipeline.set(`always:${i}`, 'v');
    await pipeline.exec();
    await apps.close(first); // final snapshot
    const second = await apps.track(bootWith(durable(dataDir)));
    const keyspace = second.app.get<Keyspace>(KEYSPACE);
    expect(keyspace.size).toBe(2_500);
    expect(await sizeWithin(keyspace, 2_000, 8_000)).toBe(2_000);
    const report = await second.snapshots.snapshot();
    expect(report.kind).toBe('incremental');
    expect(report.records).toBe(500); // one tombstone per expired key
    await apps.close(second);
    const third = await apps.track(bootWith(durable(dataDir)));
    expect(third.app.get<Keyspace>(KEYSPACE).size).toBe(2_000);
    expect(await third.redis.get('always:1999')).toBe('v');
  });

  it('a key that had expired when it was WATCHed changes nothing when expiry removes it, as in Redis 7.0', async () => {
    const binary = findRedisServer('active expiry suite (test/active-expiry.e2e-spec.ts)');
    const h = await apps.track(bootWith({ persistence: { enabled: false } }));
    const server = binary === null ? undefined : await startRedisServer(binary);
    /** WATCH of a key whose TTL ran out but that is still held; EXEC after expiry removed it, or a write. */
    const outcome = async (client: Redis, other: Redis): Promise<unknown[]> => {
      const replies: unknown[] = [];
      for (const writeAfter of [false, true]) {
        // Redis's cycle paused: the key is still held at WATCH, as the embedded cache's is until its next cycle.
        await client.call('DEBUG', 'SET-ACTIVE-EXPIRE', '0').catch(() => undefined);
        await client.set('k', 'v', 'PX', 1);
        await sleep(5);
        await client.watch('k');
        await client.call('DEBUG', 'SET-ACTIVE-EXPIRE', '1').catch(() => undefined);
        await sleep(300); // active expiry removes it
        if (writeAfter) await other.set('k', 'new');
        replies.push(await client.multi().set('other', '1').exec());
      }
      return replies;
    };
    const other = h.redis.duplicate();
    try {
      const expected = [[[null, 'OK']], null];
      if (server !== undefined) {
        const [redis, redisOther] = [server.client(), server.client()];
        try {
          expect(await outcome(redis, redisOther)).toEqual(expected);
        } finally {
          redis.disconnect();
          redisOther.disconnect();
          await server.stop();
        }
      }
      expect(await outcome(h.redis, other)).toEqual(expected);
    } finally {
      other.disconnect();
    }
  });
});
