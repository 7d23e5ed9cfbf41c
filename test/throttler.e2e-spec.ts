import { Controller, Get, type INestApplication, Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { ThrottlerGuard, ThrottlerModule } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { CACHE, PersistentCacheModule, type PersistentCacheModuleOptions } from '../lib';
import { INTEGRATION_NEEDS_CLIENT } from '../lib/persistent-cache.messages';
import { PersistentCacheThrottlerStorage } from '../lib/throttler';
import { trackApps } from './support/apps';
import { bootApp, removeTempDirs, tempDir } from './support/harness';
import { getJson, listen } from './support/http';
import { describeWithRedisServer } from './support/redis-suite';

@Controller()
class PingController {
  @Get('ping')
  ping() {
    return { pong: true };
  }
}

interface ThrottledApp {
  app: INestApplication;
  url: string;
  redis: Redis;
}

const apps = trackApps<ThrottledApp>();
afterAll(removeTempDirs);

/** Limits: `limit` requests per `ttl` ms, then blocked for `blockDuration` ms. */
interface Limits {
  ttl: number;
  limit: number;
  blockDuration: number;
}

async function start(cache: PersistentCacheModuleOptions, limits: Limits): Promise<ThrottledApp> {
  @Module({
    imports: [
      PersistentCacheModule.forRoot({ ...cache, isGlobal: true }),
      ThrottlerModule.forRootAsync({
        inject: [CACHE],
        useFactory: (redis: Redis) => ({
          throttlers: [limits],
          storage: new PersistentCacheThrottlerStorage(redis),
        }),
      }),
    ],
    controllers: [PingController],
    providers: [{ provide: APP_GUARD, useClass: ThrottlerGuard }],
  })
  class AppModule {}
  const { app } = await bootApp([AppModule]);
  const url = await listen(app);
  return apps.track({ app, url, redis: app.get<Redis>(CACHE) });
}

/** The statuses of `count` requests made one after the other. */
async function statuses(url: string, count: number): Promise<number[]> {
  const seen: number[] = [];
  for (let i = 0; i < count; i++) seen.push((await getJson(`${url}/ping`)).status);
  return seen;
}

describe('PersistentCacheThrottlerStorage given something else than the client', () => {
  it('refuses it where it is created, not with a TypeError at the first request', () => {
    // What a factory without inject: [CACHE] passes, and what a wrong token would give.
    for (const notAClient of [undefined, null, {}, 'redis://127.0.0.1:6379']) {
      expect(() => new PersistentCacheThrottlerStorage(notAClient as Redis)).toThrow(
        INTEGRATION_NEEDS_CLIENT('PersistentCacheThrottlerStorage', notAClient),
      );
    }
  });
});

/** The same tests on the embedded cache and on a real Redis. */
function throttlerTests(mode: () => PersistentCacheModuleOptions): void {
  it('enforces the limit over HTTP, counting in the cache', async () => {
    const h = await start(mode(), { ttl: 60_000, limit: 3, blockDuration: 30_000 });
    expect(await statuses(h.url, 5)).toEqual([200, 200, 200, 429, 429]);
    const [hits] = await h.redis.keys('*:hits');
    const [blocked] = await h.redis.keys('*:blocked');
    expect(await h.redis.get(hits)).toBe('5');
    const hitTtl = await h.redis.pttl(hits);
    expect(hitTtl).toBeGreaterThan(50_000);
    expect(hitTtl).toBeLessThanOrEqual(60_000);
    const blockTtl = await h.redis.pttl(blocked);
    expect(blockTtl).toBeGreaterThan(20_000);
    expect(blockTtl).toBeLessThanOrEqual(30_000);
    const refused = await getJson(`${h.url}/ping`);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(20);
  });

  it('lets requests through again once the block and the window have run out', async () => {
    const h = await start(mode(), { ttl: 300, limit: 1, blockDuration: 300 });
    expect(await statuses(h.url, 2)).toEqual([200, 429]);
    await sleep(700);
    expect(await statuses(h.url, 2)).toEqual([200, 429]);
  });

  it('keeps its counters across a restart within their TTL', async () => {
    const options = mode();
    const limits = { ttl: 60_000, limit: 3, blockDuration: 30_000 };
    const first = await start(options, limits);
    expect(await statuses(first.url, 2)).toEqual([200, 200]);
    await apps.close(first);
    const second = await start(options, limits);
    expect(await statuses(second.url, 2)).toEqual([200, 429]);
  });
}

describe('@nestjs/throttler on the embedded cache (PersistentCacheThrottlerStorage)', () => {
  throttlerTests(() => ({ persistence: { dataDir: tempDir(), snapshotInterval: 0 } }));
});

describeWithRedisServer(
  'throttler in redis mode (test/throttler.e2e-spec.ts)',
  '@nestjs/throttler in redis mode (PersistentCacheThrottlerStorage, real redis-server)',
  (server) => {
    beforeEach(async () => {
      const client = server().client();
      try {
        await client.flushall();
      } finally {
        client.disconnect();
      }
    });
    throttlerTests(() => ({ mode: 'redis', redis: { url: server().url } }));
  },
);
