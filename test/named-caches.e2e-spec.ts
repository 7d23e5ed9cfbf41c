import { type INestApplication, Injectable, Module } from '@nestjs/common';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import RedisMock from 'ioredis-mock';
import { TerminusModule } from '@nestjs/terminus';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { register } from 'prom-client';
import {
  CACHE,
  getCacheToken,
  getSnapshotServiceToken,
  InjectCache,
  InjectSnapshotService,
  METRICS,
  PersistentCacheHealthIndicator,
  PersistentCacheModule,
  type PersistentCacheModuleOptions,
  SNAPSHOT_INTERVAL_NAME,
  SnapshotService,
} from '../lib';
import {
  CACHE_NAME_ACCEPTED,
  DUPLICATE_CACHE_NAME,
  DUPLICATE_DEFAULT_CACHE,
  INVALID_OPTION,
  SHARED_DATA_DIR,
  UNKNOWN_CACHE,
} from '../lib/persistent-cache.messages';
import { STORE_FILE } from '../lib/store/data-dir';
import { trackApps } from './support/apps';
import { counterValue } from './support/metrics';
import { boot, bootApp, removeTempDirs, tempDir } from './support/harness';
import { describeWithRedisServer } from './support/redis-suite';

/** A service of the app that uses two caches by name, as an app's code would. */
@Injectable()
class Stores {
  constructor(
    @InjectCache('sessions') readonly sessions: Redis,
    @InjectCache() readonly main: Redis,
    @InjectSnapshotService('sessions') readonly sessionSnapshots: SnapshotService,
    readonly mainSnapshots: SnapshotService,
  ) {}
}

@Module({})
class HealthModule {}
const healthModule = {
  module: HealthModule,
  imports: [TerminusModule],
  providers: [PersistentCacheHealthIndicator],
};

const apps = trackApps<{ readonly app: INestApplication }>();
afterAll(removeTempDirs);

/** An app with the default cache in `mainDir` and the `sessions` cache in `sessionsDir`, plus {@link Stores}. */
function twoCaches(mainDir: string, sessionsDir: string, snapshotInterval: string | number = 0) {
  @Module({
    imports: [
      PersistentCacheModule.forRoot({ persistence: { dataDir: mainDir, snapshotInterval } }),
      PersistentCacheModule.forRootAsync({
        name: 'sessions',
        useFactory: () => ({ persistence: { dataDir: sessionsDir, snapshotInterval } }),
      }),
      healthModule,
    ],
    providers: [Stores],
  })
  class AppModule {}
  return apps.track(boot([AppModule]));
}

/** The lines of the Prometheus exposition for metric `name`. */
async function exposition(name: string): Promise<string[]> {
  const text = await register.metrics();
  return text
    .split('\n')
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `));
}

/** The default cache's successful snapshots: the series without a `cache` label. */
async function defaultSuccesses(): Promise<number | undefined> {
  const metric = await register.getSingleMetric(METRICS.snapshots)?.get();
  return metric?.values.find((v) => v.labels.result === 'success' && v.labels.cache === undefined)
    ?.value;
}

describe('named caches', () => {
  it('each has its own client, keyspace and data directory, and survives a restart', async () => {
    const mainDir = tempDir();
    const sessionsDir = tempDir();
    let h = await twoCaches(mainDir, sessionsDir);
    let stores = h.app.get(Stores);
    expect(stores.main).toBe(h.app.get(CACHE));
    expect(stores.sessions).toBe(h.app.get(getCacheToken('sessions')));
    expect(stores.sessions).not.toBe(stores.main);
    expect(stores.sessionSnapshots).toBe(h.app.get(getSnapshotServiceToken('sessions')));
    expect(stores.sessionSnapshots).not.toBe(stores.mainSnapshots);

    await stores.sessions.set('sess:1', 'ann', 'EX', 3600);
    await stores.main.set('page:/', '<html>');
    expect(await stores.main.get('sess:1')).toBeNull();
    expect(await stores.sessions.get('page:/')).toBeNull();
    expect(await stores.sessions.dbsize()).toBe(1);
    await apps.close(h); // the final snapshot of each cache, into its own directory

    expect(readdirSync(mainDir)).toContain(STORE_FILE);
    expect(readdirSync(sessionsDir)).toContain(STORE_FILE);
    h = await twoCaches(mainDir, sessionsDir);
    stores = h.app.get(Stores);
    expect(await stores.sessions.get('sess:1')).toBe('ann');
    expect(await stores.sessions.ttl('sess:1')).toBeGreaterThan(3590);
    expect(await stores.main.get('page:/')).toBe('<html>');
    expect(await stores.main.exists('sess:1')).toBe(0);
    expect(stores.sessionSnapshots.restoredFrom?.keys).toBe(1);
    expect(stores.mainSnapshots.restoredFrom?.keys).toBe(1);
  });

  it('schedules one snapshot job per cache, the name in its interval name', async () => {
    const h = await twoCaches(tempDir(), tempDir(), '1h');
    const scheduler = h.app.get(SchedulerRegistry);
    expect(scheduler.getIntervals().sort()).toEqual([
      SNAPSHOT_INTERVAL_NAME,
      `${SNAPSHOT_INTERVAL_NAME}:sessions`,
    ]);
    await apps.close(h);
    expect(scheduler.getIntervals()).toEqual([]);
  });

  it('labels a named cache`s metrics cache="<name>" and leaves the default cache`s series unlabelled', async () => {
    const h = await twoCaches(tempDir(), tempDir());
    const stores = h.app.get(Stores);
    await stores.sessions.set('a', '1');
    await stores.sessions.set('b', '2');
    await stores.main.set('c', '3');
    await stores.sessionSnapshots.snapshot();
    await stores.mainSnapshots.snapshot();
    expect((await exposition('persistent_cache_last_snapshot_keys')).sort()).toEqual([
      'persistent_cache_last_snapshot_keys 1',
      'persistent_cache_last_snapshot_keys{cache="sessions"} 2',
    ]);
    // Counters add up over the process's apps: compare each series with itself.
    const successes = await exposition('persistent_cache_snapshots_total');
    expect(successes).toContainEqual(
      expect.stringMatching(/^persistent_cache_snapshots_total\{result="success"\} \d+$/),
    );
    expect(successes).toContainEqual(
      expect.stringMatching(
        /^persistent_cache_snapshots_total\{cache="sessions",result="success"\} \d+$/,
      ),
    );
    const before = await counterValue(METRICS.snapshots, { cache: 'sessions', result: 'success' });
    const mainBefore = await defaultSuccesses();
    await stores.sessionSnapshots.snapshot();
    expect(await counterValue(METRICS.snapshots, { cache: 'sessions', result: 'success' })).toBe(
      before + 1,
    );
    expect(await defaultSuccesses()).toBe(mainBefore);
  });

  it('reports health per cache, and a name no cache has as down', async () => {
    const h = await twoCaches(tempDir(), tempDir());
    const stores = h.app.get(Stores);
    await stores.sessions.set('a', '1');
    await stores.sessionSnapshots.snapshot();
    const indicator = h.app.get(PersistentCacheHealthIndicator);
    const sessions = await indicator.isHealthy('sessions', 'sessions');
    expect(sessions.sessions).toMatchObject({
      status: 'up',
      mode: 'embedded',
      cache: 'sessions',
      lastSnapshotKeys: 1,
      periodicSnapshots: 'disabled',
    });
    const main = await indicator.isHealthy('cache');
    expect(main.cache.status).toBe('up');
    expect(main.cache.cache).toBeUndefined();
    expect(main.cache.lastSnapshotKeys).toBeUndefined(); // the default cache has taken none
    const unknown = await indicator.isHealthy('other', 'other');
    expect(unknown.other).toEqual({
      status: 'down',
      mode: 'embedded',
      message: UNKNOWN_CACHE('other', [null, 'sessions']),
    });
  });

  it('refuses two caches of one name, before either opens its data directory', async () => {
    const a = tempDir();
    const b = join(tempDir(), 'not-created');
    const boot2 = boot([
      PersistentCacheModule.forRoot({
        name: 'jobs',
        persistence: { dataDir: a, snapshotInterval: 0 },
      }),
      PersistentCacheModule.forRoot({
        name: 'jobs',
        persistence: { dataDir: b, snapshotInterval: 0 },
      }),
    ]);
    await expect(boot2).rejects.toThrow(DUPLICATE_CACHE_NAME('jobs'));
    expect(readdirSync(a)).toEqual([]);
    expect(existsSync(b)).toBe(false);
  });

  it('refuses two caches on one data directory, naming both', async () => {
    const dir = tempDir();
    const boot2 = boot([
      PersistentCacheModule.forRoot({ persistence: { dataDir: dir, snapshotInterval: 0 } }),
      PersistentCacheModule.forRoot({
        name: 'jobs',
        persistence: { dataDir: dir, snapshotInterval: 0 },
      }),
    ]);
    await expect(boot2).rejects.toThrow(SHARED_DATA_DIR(dir, null, 'jobs'));
    expect(SHARED_DATA_DIR(dir, null, 'jobs')).toBe(
      `the default cache and cache "jobs" both use the data directory ${dir}: a data directory holds one cache; ` +
        'give each cache its own persistence.dataDir.',
    );
    expect(readdirSync(dir)).toEqual([]);
  });

  it('finds one data directory under different spellings of its path', async () => {
    const dir = tempDir();
    const boot2 = boot([
      PersistentCacheModule.forRoot({ persistence: { dataDir: `${dir}/`, snapshotInterval: 0 } }),
      PersistentCacheModule.forRoot({
        name: 'jobs',
        persistence: { dataDir: join(dir, 'sub', '..') + '/./', snapshotInterval: 0 },
      }),
    ]);
    await expect(boot2).rejects.toThrow(SHARED_DATA_DIR(dir, null, 'jobs'));
    expect(readdirSync(dir)).toEqual([]);
  });

  // With persistence, the owner lock or the interval's name caught it already; without, nothing did.
  it.each([
    ['persistence off', { persistence: { enabled: false } }, { persistence: { enabled: false } }],
    [
      'periodic snapshots off, two directories',
      { persistence: { dataDir: '', snapshotInterval: 0 } },
      { persistence: { dataDir: '', snapshotInterval: 0 } },
    ],
  ])(
    'refuses the module imported twice without a name (%s), before either opens anything',
    async (_, first: PersistentCacheModuleOptions, second: PersistentCacheModuleOptions) => {
      const dirs = [tempDir(), tempDir()];
      const withDir = (options: PersistentCacheModuleOptions, dir: string) =>
        options.persistence?.dataDir === ''
          ? { ...options, persistence: { ...options.persistence, dataDir: dir } }
          : options;
      @Module({ imports: [PersistentCacheModule.forRoot(withDir(first, dirs[0]))] })
      class Orders {}
      @Module({ imports: [PersistentCacheModule.forRoot(withDir(second, dirs[1]))] })
      class Invoices {}
      await expect(boot([Orders, Invoices])).rejects.toThrow(DUPLICATE_DEFAULT_CACHE);
      expect(DUPLICATE_DEFAULT_CACHE).toMatch(
        /import PersistentCacheModule once .*name of its own/,
      );
      for (const dir of dirs) expect(readdirSync(dir)).toEqual([]);
    },
  );

  it("a test's overrideProvider(CACHE) reaches @InjectCache() and the CACHE token alike", async () => {
    const replacement = new RedisMock({ host: 'override', port: 6380 });
    @Injectable()
    class Reader {
      constructor(@InjectCache() readonly redis: Redis) {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        ScheduleModule.forRoot(),
        PersistentCacheModule.forRoot({ persistence: { enabled: false } }),
      ],
      providers: [Reader],
    })
      .overrideProvider(CACHE)
      .useValue(replacement)
      .compile();
    const app = await apps.track({ app: moduleRef.createNestApplication({ logger: false }) });
    await app.app.init();
    await replacement.set('from', 'the override');
    expect(app.app.get(Reader).redis).toBe(replacement);
    expect(app.app.get(CACHE)).toBe(replacement);
    expect(await app.app.get(Reader).redis.get('from')).toBe('the override');
    replacement.disconnect();
  });

  it('refuses a name that is not one, naming the option and what it accepts', () => {
    for (const name of ['', 'has space', 'a/b', 'x'.repeat(65)]) {
      expect(() => PersistentCacheModule.forRoot({ name })).toThrow(
        INVALID_OPTION('name', CACHE_NAME_ACCEPTED, name),
      );
    }
    expect(() =>
      PersistentCacheModule.forRootAsync({ name: 'no way', useFactory: () => ({}) }),
    ).toThrow(INVALID_OPTION('name', CACHE_NAME_ACCEPTED, 'no way'));
  });
});

describeWithRedisServer(
  'named caches in redis mode (test/named-caches.e2e-spec.ts)',
  'named caches, one embedded and one on a real Redis',
  (redisServer) => {
    function mixed(dataDir: string) {
      @Module({
        imports: [
          PersistentCacheModule.forRoot({
            name: 'local',
            persistence: { dataDir, snapshotInterval: 0 },
          }),
          PersistentCacheModule.forRoot({
            name: 'shared',
            mode: 'redis',
            redis: { url: redisServer().url },
          }),
          healthModule,
        ],
      })
      class AppModule {}
      return apps.track(bootApp([AppModule]));
    }

    it('both keep their data across a restart, and each reports its own health', async () => {
      const dataDir = tempDir();
      let h = await mixed(dataDir);
      let local = h.app.get<Redis>(getCacheToken('local'));
      let shared = h.app.get<Redis>(getCacheToken('shared'));
      await local.set('k', 'local value');
      await shared.set('k', 'shared value');
      const indicator = h.app.get(PersistentCacheHealthIndicator);
      expect((await indicator.isHealthy('shared', 'shared')).shared).toMatchObject({
        status: 'up',
        mode: 'redis',
        cache: 'shared',
        redis: redisServer().url,
      });
      expect((await indicator.isHealthy('local', 'local')).local).toMatchObject({
        status: 'up',
        mode: 'embedded',
        cache: 'local',
      });
      // No unnamed cache: the indicator's default is the first cache.
      expect((await indicator.isHealthy('cache')).cache.cache).toBe('local');
      await apps.close(h);

      h = await mixed(dataDir);
      local = h.app.get<Redis>(getCacheToken('local'));
      shared = h.app.get<Redis>(getCacheToken('shared'));
      expect(await local.get('k')).toBe('local value');
      expect(await shared.get('k')).toBe('shared value');
      const direct = redisServer().client();
      try {
        expect(await direct.get('k')).toBe('shared value');
      } finally {
        direct.disconnect();
      }
    });
  },
);
