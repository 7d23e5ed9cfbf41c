import {
  CACHE_MANAGER,
  CacheInterceptor,
  CacheModule,
  CacheTTL,
  type Cache,
} from '@nestjs/cache-manager';
import {
  Controller,
  Get,
  type INestApplication,
  Module,
  Param,
  UseInterceptors,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { CACHE, PersistentCacheModule, SnapshotService } from '../lib';
import { PersistentCacheKeyvStore, type PersistentCacheKeyvStoreOptions } from '../lib/keyv';
import { INVALID_OPTION, KEYV_CLEAR_WITHOUT_NAMESPACE } from '../lib/persistent-cache.messages';
import { TTL_ACCEPTED } from '../lib/persistent-cache.ttl';
import { trackApps } from './support/apps';
import { bootApp, removeTempDirs, tempDir } from './support/harness';
import { getJson, listen } from './support/http';

/** Counts the calls that reached it: a response served from the cache does not. */
@Controller('items')
@UseInterceptors(CacheInterceptor)
class ItemsController {
  static calls = 0;

  @Get('short/:id')
  @CacheTTL(300)
  short(@Param('id') id: string) {
    return { id, call: ++ItemsController.calls };
  }

  @Get('long/:id')
  @CacheTTL(3_600_000)
  long(@Param('id') id: string) {
    return { id, call: ++ItemsController.calls };
  }

  /** No @CacheTTL and no module ttl: the store's defaultTtl applies. */
  @Get('default/:id')
  byDefault(@Param('id') id: string) {
    return { id, call: ++ItemsController.calls };
  }
}

interface CacheApp {
  app: INestApplication;
  url: string;
  redis: Redis;
  cache: Cache;
  snapshots: SnapshotService;
}

const apps = trackApps<CacheApp>();
afterAll(removeTempDirs);

async function start(
  dataDir: string,
  store: PersistentCacheKeyvStoreOptions = {},
): Promise<CacheApp> {
  @Module({
    imports: [
      PersistentCacheModule.forRoot({
        isGlobal: true,
        persistence: { dataDir, snapshotInterval: 0 },
      }),
      CacheModule.registerAsync({
        inject: [CACHE],
        useFactory: (redis: Redis) => ({
          stores: new PersistentCacheKeyvStore(redis, store),
          namespace: 'http',
        }),
      }),
    ],
    controllers: [ItemsController],
  })
  class AppModule {}
  const { app } = await bootApp([AppModule]);
  const url = await listen(app);
  return apps.track({
    app,
    url,
    redis: app.get<Redis>(CACHE),
    cache: app.get<Cache>(CACHE_MANAGER),
    snapshots: app.get(SnapshotService),
  });
}

describe('@nestjs/cache-manager on the cache (PersistentCacheKeyvStore)', () => {
  beforeEach(() => {
    ItemsController.calls = 0;
  });

  it('serves the second request from the cache, one key per URL in the namespace, with the TTL as PX', async () => {
    const h = await start(tempDir());
    expect(await getJson(`${h.url}/items/long/a`)).toMatchObject({
      status: 200,
      body: { id: 'a', call: 1 },
    });
    expect(await getJson(`${h.url}/items/long/a`)).toMatchObject({
      status: 200,
      body: { id: 'a', call: 1 },
    });
    expect(ItemsController.calls).toBe(1);
    expect(await h.redis.keys('*')).toEqual(['http:/items/long/a']);
    const pttl = await h.redis.pttl('http:/items/long/a');
    expect(pttl).toBeGreaterThan(3_590_000);
    expect(pttl).toBeLessThanOrEqual(3_600_000);
    // What Keyv stored: its serialized entry, value and expiry.
    const stored = JSON.parse((await h.redis.get('http:/items/long/a')) ?? 'null') as {
      value: unknown;
      expires: number;
    };
    expect(stored.value).toEqual({ id: 'a', call: 1 });
    expect(stored.expires).toBeGreaterThan(Date.now());
  });

  it('honours @CacheTTL: the entry expires and the next request reaches the controller', async () => {
    const h = await start(tempDir());
    expect((await getJson(`${h.url}/items/short/b`)).body).toEqual({ id: 'b', call: 1 });
    expect((await getJson(`${h.url}/items/short/b`)).body).toEqual({ id: 'b', call: 1 });
    await sleep(400);
    expect(await h.redis.exists('http:/items/short/b')).toBe(0);
    expect((await getJson(`${h.url}/items/short/b`)).body).toEqual({ id: 'b', call: 2 });
  });

  it('keeps cached responses across a restart on the same data directory', async () => {
    const dataDir = tempDir();
    const first = await start(dataDir);
    expect((await getJson(`${first.url}/items/long/c`)).body).toEqual({ id: 'c', call: 1 });
    await apps.close(first); // takes the final snapshot
    ItemsController.calls = 0;

    const second = await start(dataDir);
    expect((await getJson(`${second.url}/items/long/c`)).body).toEqual({ id: 'c', call: 1 });
    expect(ItemsController.calls).toBe(0);
    expect(await second.cache.get('/items/long/c')).toEqual({ id: 'c', call: 1 });
  });

  it('clear() deletes the namespace`s keys only, not the rest of the keyspace', async () => {
    const h = await start(tempDir(), { clearBatch: 2 });
    for (const id of ['1', '2', '3', '4', '5']) await getJson(`${h.url}/items/long/${id}`);
    await h.redis.set('user:1', 'ann');
    await h.redis.set('httpx:other', 'kept'); // shares the prefix text, not the namespace
    expect(await h.redis.dbsize()).toBe(7);
    await h.cache.clear();
    expect((await h.redis.keys('*')).sort()).toEqual(['httpx:other', 'user:1']);
  });

  it('gives keys written without a TTL the store`s defaultTtl', async () => {
    const h = await start(tempDir(), { defaultTtl: '1h' });
    await getJson(`${h.url}/items/default/d`);
    const pttl = await h.redis.pttl('http:/items/default/d');
    expect(pttl).toBeGreaterThan(3_590_000);
    expect(pttl).toBeLessThanOrEqual(3_600_000);
    await h.cache.set('direct', { n: 1 }, 5_000); // a TTL given by the caller wins
    const direct = await h.redis.pttl('http:direct');
    expect(direct).toBeGreaterThan(4_000);
    expect(direct).toBeLessThanOrEqual(5_000);
  });

  it('without defaultTtl, keys written without a TTL do not expire', async () => {
    const h = await start(tempDir());
    await getJson(`${h.url}/items/default/e`);
    expect(await h.redis.pttl('http:/items/default/e')).toBe(-1);
  });

  it('answers getMany, has, delete and deleteMany through Keyv', async () => {
    const h = await start(tempDir());
    await h.cache.mset<number | string>([
      { key: 'a', value: 1 },
      { key: 'b', value: 'two', ttl: 60_000 },
    ]);
    expect(await h.cache.mget(['a', 'b', 'missing'])).toEqual([1, 'two', undefined]);
    expect(await h.cache.stores[0].has('a')).toBe(true);
    expect(await h.redis.pttl('http:b')).toBeGreaterThan(59_000);
    expect(await h.cache.del('a')).toBe(true);
    expect(await h.cache.mdel(['b', 'missing'])).toBe(true);
    expect(await h.redis.dbsize()).toBe(0);
  });

  it('refuses a bad defaultTtl or clearBatch, and a clear() without a namespace', async () => {
    const h = await start(tempDir());
    for (const bad of [0, -5, 'soon', 1.5]) {
      expect(() => new PersistentCacheKeyvStore(h.redis, { defaultTtl: bad })).toThrow(
        INVALID_OPTION('defaultTtl', TTL_ACCEPTED, bad, 'PersistentCacheKeyvStore'),
      );
    }
    expect(() => new PersistentCacheKeyvStore(h.redis, { clearBatch: 0 })).toThrow(
      'Invalid PersistentCacheKeyvStore option "clearBatch": expected a whole number, at least 1, got 0.',
    );
    const store = new PersistentCacheKeyvStore(h.redis);
    await h.redis.set('kept', '1');
    await expect(store.clear()).rejects.toThrow(KEYV_CLEAR_WITHOUT_NAMESPACE);
    expect(await h.redis.get('kept')).toBe('1');
  });
});
