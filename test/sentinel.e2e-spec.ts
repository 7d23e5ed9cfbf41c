import { setTimeout as sleep } from 'node:timers/promises';
import { METRICS } from '../lib';
import { PERSISTENT_CACHE_ENV } from '../lib/config';
import { removeTempDirs, tempDir } from './support/harness';
import { healthApps } from './support/health';
import { findRedisServer } from './support/redis-server';
import {
  SENTINEL_MASTER,
  startRedisSentinels,
  type RedisSentinels,
} from './support/redis-sentinel';
import { startSampleApp, stopSampleApps, waitFor } from './support/sample-app';

/**
 * `redis` mode through Redis Sentinel, against real processes (1 primary, 1 replica, 3 sentinels): the app keeps
 * serving across a `SENTINEL FAILOVER` — commands sent meanwhile wait or fail with an error that says why, and
 * succeed on the new primary after it — and the health indicator follows the switch. Beside it, the compiled sample
 * app, configured by PERSISTENT_CACHE_REDIS_SENTINELS, follows the switch too, and its /metrics says so.
 */

const { apps, start } = healthApps();

afterAll(async () => {
  await stopSampleApps();
  removeTempDirs();
});

/** What a command may fail with while the primary changes: the old one turned replica, or the connection closed. */
const FAILOVER_ERRORS =
  /^(READONLY You can't write against a read only replica\.|UNBLOCKED .*|Connection is closed\.|.*ECONNRESET.*|.*ECONNREFUSED.*)$/;

const redisServerBinary = findRedisServer('test/sentinel.e2e-spec.ts');
if (redisServerBinary !== null) {
  describe('redis mode through Redis Sentinel (real primary, replica and 3 sentinels)', () => {
    let set: RedisSentinels;
    beforeAll(async () => {
      set = await startRedisSentinels(redisServerBinary);
    });
    afterAll(() => set?.stop());

    test('keeps serving across SENTINEL FAILOVER; health reports the new primary', async () => {
      const h = await start({
        mode: 'redis',
        redis: { options: { sentinels: [...set.sentinelNodes], name: SENTINEL_MASTER } },
      });
      const cache = h.redis;
      await cache.set('before', 'written to the first primary');
      await cache.hset('profile', { name: 'Ann', visits: '3' });
      const primaryOf = (server: { host: string; port: number }) => `${server.host}:${server.port}`;
      expect((await h.indicator.isHealthy('cache')).cache).toMatchObject({
        status: 'up',
        mode: 'redis',
        redis: `sentinel master "${SENTINEL_MASTER}" via ${set.sentinelNodes.map(primaryOf).join(', ')}`,
        connection: 'ready',
        primary: primaryOf(set.primary),
      });

      // The sample app, configured by the environment alone, through the same sentinels.
      const sample = await startSampleApp({
        cwd: tempDir('persistent-cache-sentinel-app-'),
        env: {
          [PERSISTENT_CACHE_ENV.mode]: 'redis',
          [PERSISTENT_CACHE_ENV.redisSentinels]: set.sentinelNodes.map(primaryOf).join(','),
          [PERSISTENT_CACHE_ENV.redisSentinelName]: SENTINEL_MASTER,
        },
      });
      const primarySeries = (server: { host: string; port: number }) =>
        `${METRICS.redisPrimary}{node="${primaryOf(server)}"}`;
      expect((await sample.request('PUT', '/kv/greeting', { value: 'hello' })).status).toBe(200);
      const before = await sample.metrics();
      expect(before.get(METRICS.redisUp)).toBe(1);
      expect(before.get(primarySeries(set.primary))).toBe(1);
      expect([...before.keys()].filter((k) => k.startsWith(METRICS.redisPrimary + '{'))).toEqual([
        primarySeries(set.primary),
      ]);
      expect(before.get(METRICS.redisPrimaryChanges)).toBe(0);

      // A writer that goes on through the failover, counting what succeeds and how the rest fails.
      let writing = true;
      let acknowledged = 0;
      const errors = new Set<string>();
      const writer = (async () => {
        while (writing) {
          try {
            await cache.incr('counter');
            acknowledged++;
          } catch (error) {
            errors.add((error as Error).message);
          }
          await sleep(10);
        }
      })();
      await sleep(200);
      const beforeFailover = acknowledged;
      await set.failover();
      // After the switch, the writes go on and reach the new primary.
      const atSwitch = acknowledged;
      for (let i = 0; i < 500 && acknowledged < atSwitch + 20; i++) await sleep(20);
      writing = false;
      await writer;
      expect(beforeFailover).toBeGreaterThan(0);
      expect(acknowledged).toBeGreaterThanOrEqual(atSwitch + 20);
      for (const message of errors) expect(message).toMatch(FAILOVER_ERRORS);

      // The data written before the failover is on the new primary, and every INCR acknowledged after the switch.
      // Replication is asynchronous: INCRs the old primary acknowledged after the replica was promoted and before
      // it was demoted are lost (Redis's own window), so the counter is at most, not exactly, what was acknowledged.
      const direct = set.replica.client();
      try {
        expect((await direct.call('ROLE')) as unknown[]).toEqual(
          expect.arrayContaining(['master']),
        );
        expect(await direct.get('before')).toBe('written to the first primary');
        expect(await direct.hgetall('profile')).toEqual({ name: 'Ann', visits: '3' });
        const counter = Number(await direct.get('counter'));
        expect(counter).toBeGreaterThanOrEqual(acknowledged - atSwitch);
        expect(counter).toBeLessThanOrEqual(acknowledged);
      } finally {
        direct.disconnect();
      }
      expect(await cache.get('before')).toBe('written to the first primary');
      expect((await h.indicator.isHealthy('cache')).cache).toMatchObject({
        status: 'up',
        connection: 'ready',
        primary: primaryOf(set.replica),
      });
      // The sample app followed the switch: its metrics name the new primary, and one change of primary.
      const after = await waitFor(
        async () => {
          const seen = await sample.metrics();
          return seen.get(primarySeries(set.replica)) === 1 ? seen : undefined;
        },
        () => `${primarySeries(set.replica)} 1 on the sample app's /metrics`,
      );
      expect(after.has(primarySeries(set.primary))).toBe(false);
      expect(after.get(METRICS.redisPrimaryChanges)).toBe(1);
      expect(after.get(METRICS.redisUp)).toBe(1);
      expect((await sample.request('GET', '/kv/greeting')).body).toMatchObject({ value: 'hello' });
      expect(await sample.signal('SIGTERM')).toMatchObject({ code: 0, signal: null });

      await apps.close(h);
      expect(cache.status).toBe('end');
    });
  });
}
