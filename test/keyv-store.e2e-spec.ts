import { CACHE_MANAGER, CacheModule, type Cache } from '@nestjs/cache-manager';
import { type INestApplication, Module } from '@nestjs/common';
import type { Redis } from 'ioredis';
import type Keyv from 'keyv';
import { CACHE, PersistentCacheModule, type PersistentCacheModuleOptions } from '../lib';
import { PersistentCacheKeyvStore, type PersistentCacheKeyvStoreOptions } from '../lib/keyv';
import { keySlot } from '../lib/util/key-slot';
import { KEY_PREFIX_UNSUPPORTED } from '../lib/ioredis-mock/redis-replies';
import { trackApps } from './support/apps';
import { embeddedMode, redisMode } from './support/cache-modes';
import { bootApp, removeTempDirs } from './support/harness';
import { startRedisCluster, type RedisCluster } from './support/redis-cluster';
import { findRedisServer } from './support/redis-server';
import { describeWithRedisServer } from './support/redis-suite';

/**
 * PersistentCacheKeyvStore where one call's keys are not all in one place: on a real Redis Cluster (the keys of a
 * getMany, setMany, hasMany or deleteMany spread over the slots of every primary, and clear() has every primary to
 * walk), and behind ioredis's `keyPrefix` (which SCAN's MATCH and the keys SCAN returns do not get). Each goes
 * through the module and @nestjs/cache-manager, as an application uses the store.
 */

interface KeyvApp {
  app: INestApplication;
  /** The module's client. */
  redis: Redis;
  /** The store, on the client `start` was given. */
  store: PersistentCacheKeyvStore;
  cache: Cache;
  keyv: Keyv;
}

/** Where the assertions read and write the keys as they are stored (full names, whatever the store's client adds). */
interface RawKeyspace {
  /** Every key, per primary of a cluster (a single list elsewhere). */
  keysByNode(): Promise<string[][]>;
  pttl(key: string): Promise<number>;
  getBuffer(key: string): Promise<Buffer | null>;
  set(key: string, value: string): Promise<unknown>;
}

const apps = trackApps<KeyvApp>();
afterAll(removeTempDirs);

/** Clients a test made from the module's (duplicates), closed after it. */
const duplicates: Redis[] = [];
afterEach(() => {
  for (const client of duplicates.splice(0)) client.disconnect();
});

async function start(
  options: PersistentCacheModuleOptions,
  {
    namespace = 'http',
    client = (redis: Redis) => redis,
    store: storeOptions = {},
  }: {
    namespace?: string;
    client?: (redis: Redis) => Redis;
    store?: PersistentCacheKeyvStoreOptions;
  } = {},
): Promise<KeyvApp> {
  let store: PersistentCacheKeyvStore | undefined;
  @Module({
    imports: [
      PersistentCacheModule.forRoot({ ...options, isGlobal: true }),
      CacheModule.registerAsync({
        inject: [CACHE],
        useFactory: (redis: Redis) => {
          store = new PersistentCacheKeyvStore(client(redis), {
            defaultTtl: '1h',
            ...storeOptions,
          });
          return { stores: store, namespace };
        },
      }),
    ],
  })
  class AppModule {}
  const { app } = await bootApp([AppModule]);
  const cache = app.get<Cache>(CACHE_MANAGER);
  if (store === undefined) throw new Error('CacheModule did not make its store');
  return apps.track({ app, redis: app.get<Redis>(CACHE), store, cache, keyv: cache.stores[0] });
}

/** The keys every test writes: enough to reach every primary of a 3-node cluster many times over. */
const KEYS = Array.from({ length: 60 }, (_, i) => `item:${i}`);
/** Every third key gets a TTL of its own, the others the store's defaultTtl (1h); key 7 holds a Buffer. */
const hasOwnTtl = (i: number) => i % 3 === 0;
const valueOf = (i: number): unknown => (i === 7 ? Buffer.from([0, 1, 255]) : { n: i });
const entries = () =>
  KEYS.map((key, i) => ({ key, value: valueOf(i), ttl: hasOwnTtl(i) ? 60_000 : undefined }));

const allKeys = async (raw: RawKeyspace) => (await raw.keysByNode()).flat().sort();

/**
 * setMany, getMany, hasMany and deleteMany over {@link KEYS}, stored as `full(<namespace>:<key>)`, with their TTLs;
 * and the empty lists, which send nothing.
 */
async function manyKeys(
  h: KeyvApp,
  raw: RawKeyspace,
  full: (key: string) => string,
): Promise<void> {
  await h.cache.mset(entries());
  expect(await h.cache.mget([...KEYS, 'missing'])).toEqual([
    ...KEYS.map((_, i) => valueOf(i)),
    undefined,
  ]);
  expect(await h.keyv.has([...KEYS, 'missing'])).toEqual([...KEYS.map(() => true), false]);
  expect(await allKeys(raw)).toEqual(KEYS.map(full).sort());
  for (const [i, key] of KEYS.entries()) {
    const pttl = await raw.pttl(full(key));
    // Wide enough for a loaded machine: it tells the 60 s TTL from the hour, and that each was set.
    const [min, max] = hasOwnTtl(i) ? [50_000, 60_000] : [3_550_000, 3_600_000];
    expect([key, pttl > min && pttl <= max]).toEqual([key, true]);
  }

  expect(await h.keyv.delete(KEYS.slice(0, 20))).toBe(true);
  expect(await h.keyv.delete(['missing', 'gone'])).toBe(false);
  expect(await h.keyv.has(KEYS.slice(15, 25))).toEqual([
    ...Array(5).fill(false),
    ...Array(5).fill(true),
  ]);
  expect(await h.cache.mget(KEYS.slice(18, 22))).toEqual([
    undefined,
    undefined,
    { n: 20 },
    { n: 21 },
  ]);
  expect(await allKeys(raw)).toEqual(KEYS.slice(20).map(full).sort());

  expect(await h.store.getMany([])).toEqual([]);
  expect(await h.store.hasMany([])).toEqual([]);
  expect(await h.store.deleteMany([])).toBe(false);
  await h.store.setMany([]);
  expect(await allKeys(raw)).toHaveLength(40);

  // A Buffer handed over as it is (a Keyv without a serializer does) is stored as its bytes.
  const bytes = Buffer.from([0, 1, 255]);
  const stored = [`${h.store.namespace}:bytes:1`, `${h.store.namespace}:bytes:2`];
  await h.store.setMany(stored.map((key) => ({ key, value: bytes, ttl: 60_000 })));
  for (const key of ['bytes:1', 'bytes:2']) {
    expect(await raw.getBuffer(full(key))).toEqual(bytes);
    expect(await raw.pttl(full(key))).toBeGreaterThan(59_000);
  }
  expect(await h.store.deleteMany(stored)).toBe(true);
  expect(await allKeys(raw)).toHaveLength(40);
}

/** clear() deletes the namespace's keys (stored as `full(…)`), and none of `others`. */
async function clearKeepsOthers(
  h: KeyvApp,
  raw: RawKeyspace,
  full: (key: string) => string,
  others: readonly string[],
): Promise<void> {
  await h.cache.mset(entries());
  for (const key of others) await raw.set(key, 'kept');
  expect(await allKeys(raw)).toEqual([...KEYS.map(full), ...others].sort());
  await h.cache.clear();
  expect(await allKeys(raw)).toEqual([...others].sort());
  expect(await h.cache.mget(KEYS.slice(0, 3))).toEqual([undefined, undefined, undefined]);
}

/** The embedded cache's keyspace, read through the module's own client. */
const embeddedKeyspace = (h: KeyvApp): RawKeyspace => ({
  keysByNode: async () => [await h.redis.keys('*')],
  pttl: (key) => h.redis.pttl(key),
  getBuffer: (key) => h.redis.getBuffer(key),
  set: (key, value) => h.redis.set(key, value),
});

describe('PersistentCacheKeyvStore on the embedded cache', () => {
  test('getMany, setMany, hasMany and deleteMany over 60 keys: values, Buffers, TTLs; empty lists', async () => {
    const h = await start(embeddedMode.fresh());
    await manyKeys(h, embeddedKeyspace(h), (key) => `http:${key}`);
  });

  test('a namespace with * ? [ is matched literally by clear()', async () => {
    const h = await start(embeddedMode.fresh(), { namespace: 'h*t?[s]' });
    const raw = embeddedKeyspace(h);
    await manyKeys(h, raw, (key) => `h*t?[s]:${key}`);
    // Keys that an unescaped `h*t?[s]:*` would match, and ones that only share its text.
    await clearKeepsOthers(h, raw, (key) => `h*t?[s]:${key}`, [
      'hat![s]:x',
      'h*t?s:x',
      'h*t?[s]x:y',
      'a*[p]?:h*t?[s]:z',
      'user:1',
    ]);
  });

  test('a duplicate given a keyPrefix is refused: its commands would ignore the prefix', async () => {
    const h = await start(embeddedMode.fresh());
    expect(() => h.redis.duplicate({ keyPrefix: 'tenant-a:' })).toThrow(
      KEY_PREFIX_UNSUPPORTED('tenant-a:'),
    );
    expect(KEY_PREFIX_UNSUPPORTED('tenant-a:')).toContain('forRoot({ name })');
  });
});

describeWithRedisServer(
  'keyv-store in redis mode (test/keyv-store.e2e-spec.ts)',
  'PersistentCacheKeyvStore in redis mode (real redis-server)',
  (server) => {
    const target = redisMode(server);

    /** The database of `options`, read through a client of its own, without the app's keyPrefix. */
    function keyspaceOf(options: PersistentCacheModuleOptions): RawKeyspace {
      const outside = target.outside(options);
      if (outside === undefined) throw new Error('redis mode has an outside client');
      return {
        keysByNode: async () => [await outside.keys('*')],
        pttl: (key) => outside.pttl(key),
        getBuffer: (key) => outside.getBuffer(key),
        set: (key, value) => outside.set(key, value),
      };
    }

    /** Fresh redis-mode options whose client prefixes every key with `keyPrefix`. */
    function prefixed(keyPrefix: string): PersistentCacheModuleOptions {
      const options = target.fresh();
      options.redis = { ...options.redis, options: { keyPrefix } };
      return options;
    }

    test('getMany, setMany, hasMany and deleteMany over 60 keys: values, Buffers, TTLs; empty lists', async () => {
      const options = target.fresh();
      const h = await start(options);
      await manyKeys(h, keyspaceOf(options), (key) => `http:${key}`);
    });

    test('with redis.options.keyPrefix: keys are stored under it, and clear() deletes exactly them', async () => {
      const options = prefixed('app:');
      const h = await start(options);
      const raw = keyspaceOf(options);
      await manyKeys(h, raw, (key) => `app:http:${key}`);
      // `http:raw` is another application's key, without the prefix: the one an unprefixed SCAN would find.
      await clearKeepsOthers(h, raw, (key) => `app:http:${key}`, [
        'http:raw',
        'other:http:x',
        'app:httpx:y',
        'app:user:1',
        'app:http',
      ]);
    });

    test('a keyPrefix and a namespace with * ? [ are matched literally by clear()', async () => {
      const options = prefixed('a*[p]?:');
      const h = await start(options, { namespace: 'h*t?' });
      // Each would match a pattern with the prefix, the namespace or both unescaped.
      await clearKeepsOthers(h, keyspaceOf(options), (key) => `a*[p]?:h*t?:${key}`, [
        'axp!:hot!:k',
        'a*[p]?:hot!:k',
        'axp!:h*t?:k',
        'h*t?:k',
      ]);
    });
  },
);

const redisServerBinary = findRedisServer('test/keyv-store.e2e-spec.ts');
if (redisServerBinary !== null) {
  describe('PersistentCacheKeyvStore in redis mode on a real Redis Cluster (3 primaries)', () => {
    let cluster: RedisCluster;
    /** A client of each primary, in slot order (no keyPrefix: they see the keys' full names). */
    let nodes: Redis[] = [];
    beforeAll(async () => {
      cluster = await startRedisCluster(redisServerBinary);
      nodes = cluster.nodes.map((node) => node.client());
    });
    afterAll(async () => {
      for (const node of nodes) node.disconnect();
      await cluster?.stop();
    });
    beforeEach(async () => {
      await Promise.all(nodes.map((node) => node.flushall()));
    });

    /** The primary that serves `key`'s slot. */
    const nodeOf = (key: string): Redis => {
      const slot = keySlot(key);
      return nodes[cluster.slotRanges.findIndex(([first, last]) => slot >= first && slot <= last)];
    };
    const raw: RawKeyspace = {
      keysByNode: () => Promise.all(nodes.map((node) => node.keys('*'))),
      pttl: (key) => nodeOf(key).pttl(key),
      getBuffer: (key) => nodeOf(key).getBuffer(key),
      set: (key, value) => nodeOf(key).set(key, value),
    };
    const options = (more = {}): PersistentCacheModuleOptions => ({
      mode: 'redis',
      redis: { cluster: { nodes: [...cluster.startupNodes], options: more } },
    });

    /** The keys are on every primary, as many on each as their slots say. */
    async function expectSpread(
      full: (key: string) => string,
      keys: readonly string[],
    ): Promise<void> {
      const counts = (await raw.keysByNode()).map((k) => k.length);
      expect(counts).toEqual(
        nodes.map((node) => keys.filter((key) => nodeOf(full(key)) === node).length),
      );
      expect(counts.every((n) => n > 0)).toBe(true);
    }

    test('getMany, setMany, hasMany and deleteMany over 60 keys on every primary: values, Buffers, TTLs', async () => {
      const h = await start(options());
      const full = (key: string) => `http:${key}`;
      await h.cache.mset(entries());
      await expectSpread(full, KEYS);
      expect(await h.keyv.delete(KEYS)).toBe(true);
      await manyKeys(h, raw, full);
      await expectSpread(full, KEYS.slice(20));
    });

    test('clear() deletes the namespace`s keys on every primary, and nothing else, page by page', async () => {
      const h = await start(options(), { store: { clearBatch: 7 } });
      const others = ['httpx:other', 'user:1', 'http', ...KEYS.map((key) => `other:${key}`)];
      await clearKeepsOthers(h, raw, (key) => `http:${key}`, others);
      expect((await raw.keysByNode()).every((keys) => keys.length > 0)).toBe(true);
    });

    test('a namespace with a hash tag: each call`s keys share one slot and go in one command', async () => {
      const h = await start(options(), { namespace: '{http}' });
      const full = (key: string) => `{http}:${key}`;
      await manyKeys(h, raw, full);
      expect((await raw.keysByNode()).map((keys) => keys.length).sort()).toEqual([0, 0, 40]);
      await clearKeepsOthers(h, raw, full, ['{http}', 'http:1']);
    });

    test('keys are grouped by the slot of their prefixed name, the one ioredis sends them to', async () => {
      // Under the prefix `{`, `{n:item:0}{t}` hashes by `n:item:0`; unprefixed, each `n:item:0}{t}` would hash by
      // `t`, all in one slot.
      const h = await start(options({ keyPrefix: '{' }), { namespace: 'n' });
      const keys = KEYS.map((key) => `${key}}{t}`);
      await h.cache.mset(keys.map((key, i) => ({ key, value: i })));
      expect(await h.cache.mget(keys)).toEqual(keys.map((_, i) => i));
      expect(await h.keyv.has(keys)).toEqual(keys.map(() => true));
      await expectSpread((key) => `{n:${key}`, keys);
      expect(await h.keyv.delete(keys.slice(0, 30))).toBe(true);
      await h.cache.clear();
      expect(await allKeys(raw)).toEqual([]);
    });

    test('clear() as the first command of a client given one node walks every primary once it knows them', async () => {
      const keys = KEYS.map((key) => `http:${key}`);
      for (const key of [...keys, 'user:1']) await raw.set(key, 'v');
      const h = await start({
        mode: 'redis',
        redis: { cluster: { nodes: [cluster.startupNodes[0]] } },
      });
      await h.cache.clear();
      expect(await allKeys(raw)).toEqual(['user:1']);
    });

    test.each([
      ['the cluster`s keyPrefix', { keyPrefix: 'app:' }],
      [
        'redisOptions.keyPrefix (its node connections have it too)',
        { redisOptions: { keyPrefix: 'app:' } },
      ],
    ])(
      'with %s: keys hashed under the prefix, and clear() deletes exactly them',
      async (_, more) => {
        const h = await start(options(more));
        const full = (key: string) => `app:http:${key}`;
        await manyKeys(h, raw, full);
        await h.cache.clear();
        expect(await allKeys(raw)).toEqual([]);
        await clearKeepsOthers(h, raw, full, [
          ...KEYS.map((key) => `http:${key}`),
          'app:httpx:y',
          'other:app:http:x',
        ]);
      },
    );
  });
}
