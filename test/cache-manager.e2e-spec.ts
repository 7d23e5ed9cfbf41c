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
import { CACHE, PersistentCacheModule, type PersistentCacheModuleOptions } from '../lib';
import { PersistentCacheKeyvStore, type PersistentCacheKeyvStoreOptions } from '../lib/keyv';
import {
  INTEGRATION_NEEDS_CLIENT,
  INVALID_OPTION,
  KEYV_CLEAR_WITHOUT_NAMESPACE,
} from '../lib/persistent-cache.messages';
import { TTL_ACCEPTED } from '../lib/persistent-cache.ttl';
import { trackApps } from './support/apps';
import { embeddedMode, redisMode, type CacheModeUnderTest } from './support/cache-modes';
import { bootApp, removeTempDirs } from './support/harness';
import { getJson, listen } from './support/http';
import { describeWithRedisServer } from './support/redis-suite';

/** Long enough for two requests and a look-up on a loaded machine (300 ms was not, under a CI run and other jobs). */
const SHORT_TTL_MS = 1_500;

/** Counts the calls that reached it: a response served from the cache does not. */
@Controller('items')
@UseInterceptors(CacheInterceptor)
class ItemsController {
  static calls = 0;

  @Get('short/:id')
  @CacheTTL(SHORT_TTL_MS)
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
  /** The app's client. */
  redis: Redis;
  /** Where the assertions read the keyspace: in redis mode a connection of its own to the app's database. */
  keyspace: Redis;
  cache: Cache;
}

const apps = trackApps<CacheApp>();
afterAll(removeTempDirs);

/** The same tests on the embedded cache and on a real Redis. */
function cacheManagerTests(target: CacheModeUnderTest): void {
  async function start(
    cache: PersistentCacheModuleOptions,
    store: PersistentCacheKeyvStoreOptions = {},
  ): Promise<CacheApp> {
    @Module({
      imports: [
        PersistentCacheModule.forRoot({ ...cache, isGlobal: true }),
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
    const redis = app.get<Redis>(CACHE);
    return apps.track({
      app,
      url,
      redis,
      keyspace: target.outside(cache) ?? redis,
      cache: app.get<Cache>(CACHE_MANAGER),
    });
  }

  beforeEach(() => {
    ItemsController.calls = 0;
  });

  it('serves the second request from the cache, one key per URL in the namespace, with the TTL as PX', async () => {
    const h = await start(target.fresh());
    expect(await getJson(`${h.url}/items/long/a`)).toMatchObject({
      status: 200,
      body: { id: 'a', call: 1 },
    });
    expect(await getJson(`${h.url}/items/long/a`)).toMatchObject({
      status: 200,
      body: { id: 'a', call: 1 },
    });
    expect(ItemsController.calls).toBe(1);
    expect(await h.keyspace.keys('*')).toEqual(['http:/items/long/a']);
    const pttl = await h.keyspace.pttl('http:/items/long/a');
    expect(pttl).toBeGreaterThan(3_590_000);
    expect(pttl).toBeLessThanOrEqual(3_600_000);
    // What Keyv stored: its serialized entry, value and expiry.
    const stored = JSON.parse((await h.keyspace.get('http:/items/long/a')) ?? 'null') as {
      value: unknown;
      expires: number;
    };
    expect(stored.value).toEqual({ id: 'a', call: 1 });
    expect(stored.expires).toBeGreaterThan(Date.now());
  });

  it('honours @CacheTTL: the entry expires and the next request reaches the controller', async () => {
    const h = await start(target.fresh());
    expect((await getJson(`${h.url}/items/short/b`)).body).toEqual({ id: 'b', call: 1 });
    expect((await getJson(`${h.url}/items/short/b`)).body).toEqual({ id: 'b', call: 1 });
    expect(await h.keyspace.exists('http:/items/short/b')).toBe(1);
    await sleep(SHORT_TTL_MS + 100);
    expect(await h.keyspace.exists('http:/items/short/b')).toBe(0);
    expect((await getJson(`${h.url}/items/short/b`)).body).toEqual({ id: 'b', call: 2 });
  });

  it('keeps cached responses across a restart of the app', async () => {
    const options = target.fresh();
    const first = await start(options);
    expect((await getJson(`${first.url}/items/long/c`)).body).toEqual({ id: 'c', call: 1 });
    await apps.close(first); // embedded: takes the final snapshot
    // In redis mode the entry is in the server, with its TTL, while no app runs.
    const outside = target.outside(options);
    if (outside !== undefined) {
      expect(await outside.keys('*')).toEqual(['http:/items/long/c']);
      expect(await outside.pttl('http:/items/long/c')).toBeGreaterThan(3_590_000);
    }
    ItemsController.calls = 0;

    const second = await start(options);
    expect((await getJson(`${second.url}/items/long/c`)).body).toEqual({ id: 'c', call: 1 });
    expect(ItemsController.calls).toBe(0);
    expect(await second.cache.get('/items/long/c')).toEqual({ id: 'c', call: 1 });
    expect(await second.keyspace.pttl('http:/items/long/c')).toBeGreaterThan(3_590_000);
  });

  it('clear() deletes the namespace`s keys only, not the rest of the keyspace', async () => {
    const h = await start(target.fresh(), { clearBatch: 2 });
    for (const id of ['1', '2', '3', '4', '5']) await getJson(`${h.url}/items/long/${id}`);
    await h.keyspace.set('user:1', 'ann');
    await h.keyspace.set('httpx:other', 'kept'); // shares the prefix text, not the namespace
    expect(await h.keyspace.dbsize()).toBe(7);
    await h.cache.clear();
    expect((await h.keyspace.keys('*')).sort()).toEqual(['httpx:other', 'user:1']);
    expect(await h.keyspace.get('user:1')).toBe('ann');
    // The cleared entries are gone for the app too: the next request reaches the controller.
    expect((await getJson(`${h.url}/items/long/1`)).body).toEqual({ id: '1', call: 6 });
  });

  it('gives keys written without a TTL the store`s defaultTtl', async () => {
    const h = await start(target.fresh(), { defaultTtl: '1h' });
    await getJson(`${h.url}/items/default/d`);
    const pttl = await h.keyspace.pttl('http:/items/default/d');
    expect(pttl).toBeGreaterThan(3_590_000);
    expect(pttl).toBeLessThanOrEqual(3_600_000);
    await h.cache.set('direct', { n: 1 }, 5_000); // a TTL given by the caller wins
    const direct = await h.keyspace.pttl('http:direct');
    expect(direct).toBeGreaterThan(4_000);
    expect(direct).toBeLessThanOrEqual(5_000);
  });

  it('without defaultTtl, keys written without a TTL do not expire', async () => {
    const h = await start(target.fresh());
    await getJson(`${h.url}/items/default/e`);
    expect(await h.keyspace.exists('http:/items/default/e')).toBe(1);
    expect(await h.keyspace.pttl('http:/items/default/e')).toBe(-1);
  });

  it('answers getMany, has, delete and deleteMany through Keyv', async () => {
    const h = await start(target.fresh());
    await h.cache.mset<number | string>([
      { key: 'a', value: 1 },
      { key: 'b', value: 'two', ttl: 60_000 },
    ]);
    expect(await h.cache.mget(['a', 'b', 'missing'])).toEqual([1, 'two', undefined]);
    expect(await h.cache.stores[0].has('a')).toBe(true);
    expect((await h.keyspace.keys('*')).sort()).toEqual(['http:a', 'http:b']);
    expect(await h.keyspace.pttl('http:b')).toBeGreaterThan(59_000);
    expect(await h.cache.del('a')).toBe(true);
    expect(await h.cache.mdel(['b', 'missing'])).toBe(true);
    expect(await h.keyspace.dbsize()).toBe(0);
  });

  it('refuses a bad defaultTtl or clearBatch, and a clear() without a namespace', async () => {
    const h = await start(target.fresh());
    for (const bad of [0, -5, 'soon', 1.5]) {
      expect(() => new PersistentCacheKeyvStore(h.redis, { defaultTtl: bad })).toThrow(
        INVALID_OPTION('defaultTtl', TTL_ACCEPTED, bad, 'PersistentCacheKeyvStore'),
      );
    }
    expect(() => new PersistentCacheKeyvStore(h.redis, { clearBatch: 0 })).toThrow(
      'Invalid PersistentCacheKeyvStore option "clearBatch": expected a whole number, at least 1, got 0.',
    );
    // A misspelt option would be ignored: keys written without a TTL would never expire.
    const misspelt = { defaultTTL: '10m' } as PersistentCacheKeyvStoreOptions;
    expect(() => new PersistentCacheKeyvStore(h.redis, misspelt)).toThrow(
      'Unknown PersistentCacheKeyvStore option "defaultTTL"; known options are: defaultTtl, clearBatch.',
    );
    const notOptions = '10m' as PersistentCacheKeyvStoreOptions;
    expect(() => new PersistentCacheKeyvStore(h.redis, notOptions)).toThrow(
      'Invalid PersistentCacheKeyvStore option "options": expected an object, got "10m".',
    );
    // What a factory without inject: [CACHE] passes, and what a wrong token would give.
    for (const notAClient of [undefined, null, {}, 'redis://127.0.0.1:6379']) {
      expect(() => new PersistentCacheKeyvStore(notAClient as Redis)).toThrow(
        INTEGRATION_NEEDS_CLIENT('PersistentCacheKeyvStore', notAClient),
      );
    }
    expect(INTEGRATION_NEEDS_CLIENT('PersistentCacheKeyvStore', undefined)).toBe(
      "PersistentCacheKeyvStore needs the cache's ioredis client, got undefined: create it in a factory that " +
        'injects it (inject: [CACHE], useFactory: (redis: Redis) => …), or give it app.get(CACHE).',
    );
    const store = new PersistentCacheKeyvStore(h.redis);
    await h.keyspace.set('kept', '1');
    await expect(store.clear()).rejects.toThrow(KEYV_CLEAR_WITHOUT_NAMESPACE);
    expect(await h.keyspace.get('kept')).toBe('1');
  });
}

describe('@nestjs/cache-manager on the embedded cache (PersistentCacheKeyvStore)', () => {
  cacheManagerTests(embeddedMode);
});

describeWithRedisServer(
  'cache-manager in redis mode (test/cache-manager.e2e-spec.ts)',
  '@nestjs/cache-manager in redis mode (PersistentCacheKeyvStore, real redis-server)',
  (server) => {
    cacheManagerTests(redisMode(server));
  },
);
