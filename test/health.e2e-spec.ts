import { Module, ServiceUnavailableException } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { HealthCheckService } from '@nestjs/terminus';
import { Test } from '@nestjs/testing';
import { execFileSync } from 'node:child_process';
import { renameSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  PersistentCacheHealthIndicator,
  PersistentCacheModule,
  SNAPSHOT_INTERVAL_NAME,
} from '../lib';
import { STORE_FILE } from '../lib/store/data-dir';
import type { Keyspace } from '../lib/keyspace/keyspace';
import { KEYSPACE } from '../lib/persistent-cache.constants';
import { HEALTH_CLOSED } from '../lib/persistent-cache.messages';
import { healthApps } from './support/health';
import { durable, removeTempDirs, tempDir } from './support/harness';
import { findRedisServer, startRedisServer, type RedisServer } from './support/redis-server';
import { dataView } from '../lib/ioredis-mock/views';

const ROOT = resolve(__dirname, '..');
/** What every embedded report holds about memory. */
const MEMORY = { memoryBytes: expect.any(Number), maxMemoryBytes: expect.any(Number) };

const { apps, start } = healthApps();
afterAll(removeTempDirs);

/**
 * Makes the next snapshots fail: another file takes the store's place, and the app never writes a store it did not
 * write. {@link cure} puts the store back.
 */
function poison(dataDir: string): void {
  const store = join(dataDir, STORE_FILE);
  renameSync(store, `${store}.aside`);
  writeFileSync(store, 'not a store');
}
function cure(dataDir: string): void {
  const store = join(dataDir, STORE_FILE);
  renameSync(`${store}.aside`, store);
}

describe('health indicator: embedded mode', () => {
  test('up after a snapshot, with its time, keys and age', async () => {
    const h = await start(durable(tempDir(), { snapshotInterval: '1h' }));
    await h.redis.set('a', '1');
    await h.redis.hset('b', 'f', 'v');
    const report = await h.snapshots.snapshot();

    const result = await h.indicator.isHealthy('cache');
    expect(result).toEqual({
      cache: {
        status: 'up',
        mode: 'embedded',
        ...MEMORY,
        lastSnapshotAt: report.startedAt.toISOString(),
        lastSnapshotKeys: 2,
        snapshotAgeMs: expect.any(Number) as number,
        maxSnapshotAgeMs: 3 * 3_600_000,
      },
    });
    expect(result.cache.snapshotAgeMs).toBeGreaterThanOrEqual(0);
    expect(result.cache.snapshotAgeMs).toBeLessThan(3_600_000);
  });

  test('up before the first snapshot while startup is recent enough', async () => {
    const h = await start(durable(tempDir(), { snapshotInterval: '1h' }));
    const { cache } = await h.indicator.isHealthy('cache');
    expect(cache.status).toBe('up');
    expect(cache.lastSnapshotAt).toBeUndefined();
    expect(cache.maxSnapshotAgeMs).toBe(3 * 3_600_000);
  });

  test('down after a failed snapshot, with the error and its time; up again after a good one', async () => {
    const dataDir = tempDir();
    const h = await start(durable(dataDir, { snapshotInterval: '1h' }));
    await h.redis.set('a', '1');
    const good = await h.snapshots.snapshot();
    poison(dataDir);
    const before = Date.now();
    await expect(h.snapshots.snapshot()).rejects.toThrow();
    const failure = h.snapshots.lastFailure;
    expect(failure).toBeDefined();

    const { cache } = await h.indicator.isHealthy('cache');
    expect(cache).toEqual({
      status: 'down',
      mode: 'embedded',
      ...MEMORY,
      message: `The last snapshot failed: ${failure?.message}`,
      lastFailureAt: failure?.at.toISOString(),
      lastSnapshotAt: good.startedAt.toISOString(),
      lastSnapshotKeys: 1,
    });
    expect(Date.parse(cache.lastFailureAt ?? '')).toBeGreaterThanOrEqual(before - 1);

    cure(dataDir);
    await h.snapshots.snapshot();
    expect((await h.indicator.isHealthy('cache')).cache.status).toBe('up');
  });

  test('down while the last snapshot left out keys whose values cannot be stored, naming them', async () => {
    const h = await start(durable(tempDir(), { snapshotInterval: '1h' }));
    await h.redis.set('a', '1');
    dataView(h.app.get<Keyspace>(KEYSPACE)).set('zz-unencodable', Symbol('not storable'));
    const report = await h.snapshots.snapshot();
    expect(report.unstorable).toBe(1);
    expect(h.snapshots.lastFailure).toBeUndefined();
    expect(await h.indicator.isHealthy('cache')).toEqual({
      cache: {
        status: 'down',
        mode: 'embedded',
        ...MEMORY,
        message:
          'The last snapshot left out 1 key(s) whose values cannot be stored: ' +
          'key "zz-unencodable": cannot encode value of type symbol',
        lastSnapshotAt: report.startedAt.toISOString(),
        lastSnapshotKeys: 2,
      },
    });
    await h.redis.del('zz-unencodable');
    expect((await h.snapshots.snapshot()).unstorable).toBe(0);
    expect((await h.indicator.isHealthy('cache')).cache.status).toBe('up');
  });

  test('down when the last snapshot is older than maxSnapshotAgeIntervals × interval', async () => {
    const h = await start({
      ...durable(tempDir(), { snapshotInterval: '100ms' }),
      health: { maxSnapshotAgeIntervals: 2 },
    });
    // No periodic snapshot will come: the age grows past 2 × 100 ms with nothing resetting it.
    h.app.get(SchedulerRegistry).deleteInterval(SNAPSHOT_INTERVAL_NAME);
    await h.redis.set('a', '1');
    const report = await h.snapshots.snapshot();
    await sleep(300);

    const { cache } = await h.indicator.isHealthy('cache');
    expect(cache.status).toBe('down');
    expect(cache.maxSnapshotAgeMs).toBe(200);
    expect(cache.snapshotAgeMs).toBeGreaterThan(200);
    expect(cache.lastSnapshotAt).toBe(report.startedAt.toISOString());
    expect(cache.message).toBe(
      `The last snapshot is ${cache.snapshotAgeMs} ms old: more than health.maxSnapshotAgeIntervals (2) × ` +
        'persistence.snapshotInterval (100 ms).',
    );

    // A fresh snapshot makes it healthy again.
    await h.snapshots.snapshot();
    expect((await h.indicator.isHealthy('cache')).cache.status).toBe('up');
  });

  test('down when no snapshot was taken for too long after startup', async () => {
    const h = await start({
      ...durable(tempDir(), { snapshotInterval: '100ms' }),
      health: { maxSnapshotAgeIntervals: 1 },
    });
    h.app.get(SchedulerRegistry).deleteInterval(SNAPSHOT_INTERVAL_NAME);
    await sleep(250);
    const { cache } = await h.indicator.isHealthy('cache');
    expect(cache.status).toBe('down');
    expect(cache.lastSnapshotAt).toBeUndefined();
    expect(cache.message).toMatch(/^No snapshot since startup \d+ ms ago: more than /);
  });

  test('down while the app closes: its clients take no more commands', async () => {
    const h = await start(durable(tempDir()));
    for (let batch = 0; batch < 5; batch++) {
      await h.redis.mset(
        Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`k${batch}:${i}`, 'v'])),
      );
    }
    expect((await h.indicator.isHealthy('cache')).cache.status).toBe('up');
    const closing = apps.close(h);
    await sleep(1); // the final snapshot is being taken
    const { cache } = await h.indicator.isHealthy('cache');
    expect(cache).toMatchObject({ status: 'down', message: HEALTH_CLOSED });
    await closing;
  });

  test('periodic snapshots off: only a failure makes it down', async () => {
    const dataDir = tempDir();
    const h = await start(durable(dataDir, { snapshotInterval: 0 }));
    expect(await h.indicator.isHealthy('cache')).toEqual({
      cache: { status: 'up', mode: 'embedded', ...MEMORY, periodicSnapshots: 'disabled' },
    });
    poison(dataDir);
    await expect(h.snapshots.snapshot()).rejects.toThrow();
    expect((await h.indicator.isHealthy('cache')).cache.status).toBe('down');
    cure(dataDir);
  });

  test('down while writes are refused for memory, with the use and the limit; up again once memory is freed', async () => {
    const h = await start({
      persistence: { enabled: false, dataDir: join(tempDir(), 'none') },
      memory: { maxBytes: '64kb', policy: 'noeviction' },
    });
    const up = await h.indicator.isHealthy('cache');
    expect(up.cache).toEqual(expect.objectContaining({ status: 'up', maxMemoryBytes: 65_536 }));
    let refused = 0;
    for (let i = 0; i < 1_000 && refused === 0; i++) {
      await h.redis.set(`k${i}`, 'v'.repeat(200)).catch(() => refused++);
    }
    expect(refused).toBe(1);
    const down = await h.indicator.isHealthy('cache');
    expect(down.cache).toEqual({
      status: 'down',
      mode: 'embedded',
      persistence: 'disabled',
      memoryBytes: expect.any(Number),
      maxMemoryBytes: 65_536,
      message: expect.stringMatching(
        /^Writes are refused with OOM errors: .*memory.policy is "noeviction"/,
      ),
    });
    expect(down.cache.memoryBytes).toBeGreaterThan(65_536);
    await h.redis.flushall();
    expect((await h.indicator.isHealthy('cache')).cache.status).toBe('up');
  });

  test('persistence disabled: up, saying so', async () => {
    const h = await start({ persistence: { enabled: false, dataDir: join(tempDir(), 'none') } });
    expect(await h.indicator.isHealthy('store')).toEqual({
      store: { status: 'up', mode: 'embedded', ...MEMORY, persistence: 'disabled' },
    });
  });

  test('through HealthCheckService: ok, then 503 naming the failure', async () => {
    const dataDir = tempDir();
    const h = await start(durable(dataDir, { snapshotInterval: '1h' }));
    const health = h.app.get(HealthCheckService);
    const check = () => health.check([() => h.indicator.isHealthy('cache')]);
    await h.snapshots.snapshot();
    const ok = await check();
    expect(ok.status).toBe('ok');
    expect(ok.info?.cache?.status).toBe('up');

    poison(dataDir);
    await expect(h.snapshots.snapshot()).rejects.toThrow();
    const error = await check().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ServiceUnavailableException);
    const body = (error as ServiceUnavailableException).getResponse() as {
      status: string;
      error: Record<string, { status: string; message: string }>;
    };
    expect(body.status).toBe('error');
    expect(body.error.cache.status).toBe('down');
    expect(body.error.cache.message).toMatch(/^The last snapshot failed: /);
    cure(dataDir);
  });

  test('without TerminusModule the application fails to start, saying what to import', async () => {
    @Module({ providers: [PersistentCacheHealthIndicator] })
    class NoTerminus {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        ScheduleModule.forRoot(),
        PersistentCacheModule.forRoot(durable(tempDir())),
        NoTerminus,
      ],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await expect(app.init()).rejects.toThrow(
      'PersistentCacheHealthIndicator cannot find HealthIndicatorService: import TerminusModule',
    );
    await app.close();
  });
});

describe('health indicator: @nestjs/terminus stays optional', () => {
  test('the library loads without it; the indicator then fails with how to install it', () => {
    // A node process where '@nestjs/terminus' cannot be resolved loads the compiled library (dist/, built by the
    // jest global setup) and starts the indicator.
    const script = `
      const Module = require('node:module');
      const resolve = Module._resolveFilename;
      Module._resolveFilename = function (request, ...rest) {
        if (request.startsWith('@nestjs/terminus')) {
          throw Object.assign(new Error('Cannot find module ' + request), { code: 'MODULE_NOT_FOUND' });
        }
        return resolve.call(this, request, ...rest);
      };
      require('reflect-metadata');
      const lib = require(${JSON.stringify(join(ROOT, 'dist', 'lib'))});
      const indicator = new lib.PersistentCacheHealthIndicator({});
      try { indicator.onModuleInit(); } catch (error) { console.log(error.message); }
      console.log(typeof lib.PersistentCacheModule);
    `;
    const output = execFileSync(process.execPath, ['-e', script], { cwd: ROOT }).toString();
    expect(output).toContain(
      'PersistentCacheHealthIndicator needs the optional peer dependency @nestjs/terminus (^11): ' +
        'npm install @nestjs/terminus.',
    );
    expect(output.trim().split('\n').pop()).toBe('function');
  });
});

const redisServerBinary = findRedisServer('health indicator (test/health.e2e-spec.ts)');
if (redisServerBinary !== null) {
  describe('health indicator: redis mode (real redis-server)', () => {
    let server: RedisServer;
    beforeAll(async () => {
      server = await startRedisServer(redisServerBinary);
    });
    afterAll(() => server.stop());

    test('up while the server answers PING; down with the error once it stops; up when it is back', async () => {
      const h = await start({ mode: 'redis', redis: { url: server.url } });
      await h.redis.ping();
      const up = await h.indicator.isHealthy('redis');
      expect(up).toEqual({
        redis: {
          status: 'up',
          mode: 'redis',
          redis: server.url,
          connection: 'ready',
          pingMs: expect.any(Number) as number,
        },
      });

      await server.stop();
      const { redis } = await h.indicator.isHealthy('redis');
      expect(redis.status).toBe('down');
      expect(redis.mode).toBe('redis');
      expect(redis.redis).toBe(server.url);
      expect(redis.connection).not.toBe('ready');
      expect(redis.message).toMatch(
        /^(PING not answered within 1000 ms|Connection is closed\.) \(last connection error: .*ECONNREFUSED/,
      );

      // A server on the same port again: ioredis reconnects and the indicator follows.
      const revived = await startRedisServer(redisServerBinary, server.port);
      try {
        for (let i = 0; i < 200; i++) {
          if ((await h.indicator.isHealthy('redis')).redis.status === 'up') break;
          await sleep(100);
        }
        expect((await h.indicator.isHealthy('redis')).redis).toMatchObject({
          status: 'up',
          connection: 'ready',
        });
        await apps.close(h);
        expect(h.redis.status).toBe('end');
      } finally {
        await revived.stop();
      }
    });
  });
}
