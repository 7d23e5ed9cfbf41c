import type { Redis } from 'ioredis';
import { FAMILIES } from './support/command-sequences';
import { divergenceKinds, formatCounts, runDifferential } from './support/differential';
import { bootWith, durable, removeTempDirs, tempDir, type Harness } from './support/harness';
import { findRedisServer, startRedisServer, type RedisServer } from './support/redis-server';

/**
 * The differential test: seeded sequences of everyday commands over colliding keys of every type, sent to a real
 * redis-server and to the embedded client of a durable app, every reply compared. On the app's side, snapshots,
 * restores and restarts are interleaved: every RESTART_EVERY steps the app takes a snapshot and is closed, and a new
 * app restores it, so a restored key must answer exactly as before.
 *
 * Every family and every command of the generator is compared. Time-based stream ids are compared by their order of
 * appearance (see `TimeIds`).
 */
const SEQUENCES = 160;
const STEPS = 25;
const RESTART_EVERY = 97;

afterAll(removeTempDirs);

const redisServerBinary = findRedisServer('differential suite (test/differential.e2e-spec.ts)');
if (redisServerBinary !== null) {
  describe('the embedded client against a real redis-server', () => {
    let server: RedisServer;
    let redis: Redis;
    let app: Harness | undefined;

    beforeAll(async () => {
      server = await startRedisServer(redisServerBinary);
      redis = server.client();
    });
    afterAll(async () => {
      await app?.app.close();
      redis.disconnect();
      await server.stop();
    });

    it('answers every command of the sequences as Redis does, across snapshots and restarts', async () => {
      const dataDir = tempDir();
      app = await bootWith(durable(dataDir));
      let restarts = 0;
      const report = await runDifferential(redis, app.redis, {
        seeds: Array.from({ length: SEQUENCES }, (_, i) => 1000 + i),
        steps: STEPS,
        families: FAMILIES,
        between: async (index, client) => {
          if (index === 0 || index % RESTART_EVERY !== 0 || app === undefined) return client;
          const before = await app.redis.dbsize();
          const snapshot = await app.snapshots.snapshot();
          expect(snapshot.records).toBe(before);
          await app.app.close();
          app = await bootWith(durable(dataDir));
          expect(await app.redis.dbsize()).toBe(before);
          restarts++;
          return app.redis;
        },
      });
      process.stdout.write(
        `differential test, ${SEQUENCES} sequences of ${STEPS} steps, ${restarts} restarts:\n` +
          `${formatCounts(report.counts).join('\n')}\n`,
      );
      expect(restarts).toBeGreaterThanOrEqual(Math.floor((SEQUENCES * STEPS) / RESTART_EVERY) - 1);
      for (const family of FAMILIES) expect(report.counts[family].replies).toBeGreaterThan(300);
      expect(divergenceKinds(report.divergences)).toEqual([]);
      // About 15 s alone; on a loaded CI machine, with 41 app restarts, several times that.
    }, 240_000);
  });
}
