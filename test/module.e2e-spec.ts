import { Injectable, Module } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import { existsSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import {
  CACHE,
  InjectCache,
  PersistentCacheModule,
  type PersistentCacheAsyncOptions,
  PersistentCacheModuleOptions,
  PersistentCacheOptionsFactory,
  SNAPSHOT_INTERVAL_NAME,
  SnapshotReport,
  SnapshotService,
} from '../lib';
import { STORE_FILE } from '../lib/store/data-dir';
import { INVALID_OPTION, UNKNOWN_OPTION } from '../lib/persistent-cache.messages';
import { PERSISTENCE_DISABLED, SCHEDULE_MODULE_MISSING } from '../lib/snapshots/snapshots.messages';
import { DATA_DIR_IS_SYMLINK, DATA_DIR_NOT_A_DIRECTORY } from '../lib/store/store.messages';
import { DURATION_ACCEPTED } from '../lib/persistent-cache.options';
import { PERSISTENT_CACHE_ENV, persistentCacheConfig } from '../lib/config';
import { trackApps } from './support/apps';
import { CapturingLogger } from './support/logs';
import {
  boot,
  bootWith,
  durable,
  Harness,
  removeTempDirs,
  restoredKeys,
  tempDir,
} from './support/harness';

const apps = trackApps<Harness>();
afterAll(removeTempDirs);

/** Waits until `count` snapshots have been reported by `service`, collecting their reports. */
async function collectSnapshots(
  service: SnapshotService,
  count: number,
): Promise<SnapshotReport[]> {
  const seen: SnapshotReport[] = [];
  while (seen.length < count) {
    const last = service.lastSnapshot;
    if (last !== undefined && last !== seen[seen.length - 1]) seen.push(last);
    await sleep(5);
  }
  return seen;
}

describe('forRootAsync', () => {
  @Injectable()
  class OptionsFactory implements PersistentCacheOptionsFactory {
    static dataDir = '';
    createPersistentCacheOptions(): PersistentCacheModuleOptions {
      return durable(OptionsFactory.dataDir);
    }
  }

  @Module({ providers: [OptionsFactory], exports: [OptionsFactory] })
  class OptionsModule {}

  async function roundTrip(make: () => Parameters<typeof PersistentCacheModule.forRootAsync>[0]) {
    const first = await boot([PersistentCacheModule.forRootAsync(make())]);
    await first.redis.set('greeting', 'hello');
    await first.app.close();
    const second = await apps.track(boot([PersistentCacheModule.forRootAsync(make())]));
    expect(await second.redis.get('greeting')).toBe('hello');
  }

  it('takes useFactory with inject and imports (ConfigService)', async () => {
    const dataDir = tempDir();
    await roundTrip(() => ({
      imports: [ConfigModule.forRoot({ ignoreEnvFile: true, load: [() => ({ dir: dataDir })] })],
      inject: [ConfigService],
      useFactory: (config: ConfigService) => durable(config.getOrThrow<string>('dir')),
    }));
    expect(readdirSync(dataDir)).toContain(STORE_FILE);
  });

  it('takes useClass', async () => {
    OptionsFactory.dataDir = tempDir();
    await roundTrip(() => ({ useClass: OptionsFactory }));
    expect(readdirSync(OptionsFactory.dataDir)).toContain(STORE_FILE);
  });

  it('takes useExisting', async () => {
    OptionsFactory.dataDir = tempDir();
    await roundTrip(() => ({ imports: [OptionsModule], useExisting: OptionsFactory }));
    expect(readdirSync(OptionsFactory.dataDir)).toContain(STORE_FILE);
  });

  it("the README's setup from the environment warns once about a misspelt variable", async () => {
    const variables = {
      [PERSISTENT_CACHE_ENV.dataDir]: tempDir(),
      [PERSISTENT_CACHE_ENV.snapshotInterval]: '0',
      PERSISTENT_CACHE_MEMORY_MAX_BYTE: '1gb',
    };
    const saved = Object.keys(variables).map((name) => [name, process.env[name]] as const);
    Object.assign(process.env, variables);
    const logger = new CapturingLogger();
    try {
      const moduleRef = await Test.createTestingModule({
        imports: [
          ScheduleModule.forRoot(),
          ConfigModule.forRoot({ ignoreEnvFile: true, load: [persistentCacheConfig] }),
          PersistentCacheModule.forRootAsync(persistentCacheConfig.asProvider()),
        ],
      })
        .setLogger(logger)
        .compile();
      const app = moduleRef.createNestApplication({ logger });
      await app.init();
      await app.close();
    } finally {
      for (const [name, value] of saved) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
    }
    expect(logger.starting('WARN Unknown environment variable')).toEqual([
      expect.stringContaining('PERSISTENT_CACHE_MEMORY_MAX_BYTE: ignored'),
    ]);
  });
});

describe('isGlobal', () => {
  @Injectable()
  class Sessions {
    constructor(@InjectCache() readonly redis: Redis) {}
  }
  @Module({ providers: [Sessions], exports: [Sessions] })
  class SessionsModule {}

  it('makes the client injectable in modules that do not import PersistentCacheModule', async () => {
    const h = await apps.track(
      boot([
        PersistentCacheModule.forRoot({ ...durable(tempDir()), isGlobal: true }),
        SessionsModule,
      ]),
    );
    const sessions = h.app.get(Sessions);
    await sessions.redis.set('user:1', 'ann');
    expect(await h.redis.get('user:1')).toBe('ann');
    expect(sessions.redis).toBe(h.app.get(CACHE));
  });

  it('is off by default: a module that does not import it cannot inject the client', async () => {
    await expect(
      boot([PersistentCacheModule.forRoot(durable(tempDir())), SessionsModule]),
    ).rejects.toThrow(
      /PERSISTENT_CACHE_CLIENT: import PersistentCacheModule once \(isGlobal: true, or re-export it from the module that imports it\) to inject it here/,
    );
  });
});

describe('periodic snapshots', () => {
  it('snapshots every snapshotInterval, no sooner, registered under the documented name', async () => {
    const bootedFrom = Date.now();
    const h = await apps.track(bootWith(durable(tempDir(), { snapshotInterval: '150ms' })));
    expect(h.app.get(SchedulerRegistry).getIntervals()).toEqual([SNAPSHOT_INTERVAL_NAME]);
    await h.redis.set('k', 'v');
    const reports = await collectSnapshots(h.snapshots, 3);
    // The n-th tick fires at least n intervals after the interval was registered, which was after `bootedFrom`. (The
    // gap between two snapshots' starts is no measure: a tick that ran late is followed by one on time.) Date.now()
    // and the timer clock may disagree by a millisecond or two.
    reports.forEach((report, i) => {
      expect(report.startedAt.getTime() - bootedFrom).toBeGreaterThanOrEqual((i + 1) * 150 - 3);
    });
    expect(reports.map((r) => r.keys)).toEqual([1, 1, 1]);
  });

  it('takes none when snapshotInterval is 0', async () => {
    const dataDir = tempDir();
    const h = await apps.track(bootWith(durable(dataDir, { snapshotInterval: 0 })));
    await h.redis.set('k', 'v');
    expect(h.app.get(SchedulerRegistry).getIntervals()).toEqual([]);
    await sleep(300);
    expect(h.snapshots.lastSnapshot).toBeUndefined();
  });

  it('forRoot() with no argument is the default cache with every default (./data)', async () => {
    const cwd = process.cwd();
    const dir = tempDir();
    process.chdir(dir);
    try {
      const h = await boot([PersistentCacheModule.forRoot()]);
      await h.redis.set('a', '1');
      await h.app.close();
      expect(h.snapshots.lastSnapshot?.keys).toBe(1);
      expect(readdirSync(join(dir, 'data'))).toContain(STORE_FILE);
    } finally {
      process.chdir(cwd);
    }
  });

  it('forRootAsync() without a way to make the options says what it takes', () => {
    const expected = INVALID_OPTION(
      'forRootAsync',
      'an object with useFactory, useClass or useExisting',
      undefined,
    );
    expect(() =>
      PersistentCacheModule.forRootAsync(undefined as unknown as PersistentCacheAsyncOptions),
    ).toThrow(expected);
    expect(() => PersistentCacheModule.forRootAsync({ isGlobal: true })).toThrow(
      'expected an object with useFactory, useClass or useExisting, got',
    );
  });

  it('needs ScheduleModule.forRoot() in the host app, and says so', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [PersistentCacheModule.forRoot(durable(tempDir(), { snapshotInterval: '1m' }))],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await expect(app.init()).rejects.toThrow(SCHEDULE_MODULE_MISSING(60_000));
    await app.close();
  });
});

describe('startup and shutdown', () => {
  it('app.close() takes the final snapshot and leaves no interval behind', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir, { snapshotInterval: '1h' }));
    const registry = h.app.get(SchedulerRegistry);
    expect(registry.getIntervals()).toEqual([SNAPSHOT_INTERVAL_NAME]);
    await h.redis.set('a', '1');
    await h.redis.set('b', '2');
    await h.app.close();
    expect(registry.getIntervals()).toEqual([]);
    expect(h.snapshots.lastSnapshot?.keys).toBe(2);
    expect(await restoredKeys(dataDir)).toEqual(['a', 'b']);
  });

  it('waits for a snapshot in flight before the final one', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir));
    await h.redis.mset(
      Object.fromEntries(Array.from({ length: 20_000 }, (_, i) => [`k${i}`, 'v'])),
    );
    const inFlight = h.snapshots.snapshot();
    await setImmediate(); // the snapshot has begun: its point in time is behind us
    await h.redis.set('late', 'x');
    await h.app.close();
    expect((await inFlight).keys).toBe(20_000);
    expect(h.snapshots.lastSnapshot?.keys).toBe(20_001);
    expect(await restoredKeys(dataDir)).toHaveLength(20_001);
  });

  it('takes no final snapshot when snapshotOnShutdown is false', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    await h.redis.set('a', '1');
    await h.snapshots.snapshot();
    await h.redis.set('b', '2');
    await h.app.close();
    expect(await restoredKeys(dataDir)).toEqual(['a']);
  });

  it('does not restore when restoreOnStartup is false, and leaves the snapshot in place', async () => {
    const dataDir = tempDir();
    const first = await bootWith(durable(dataDir));
    await first.redis.set('a', '1');
    await first.app.close();

    const second = await bootWith(
      durable(dataDir, { restoreOnStartup: false, snapshotOnShutdown: false }),
    );
    expect(await second.redis.dbsize()).toBe(0);
    await second.app.close();
    expect(await restoredKeys(dataDir)).toEqual(['a']);
  });

  it('restores on demand with restore(), replacing what the cache holds', async () => {
    const dataDir = tempDir();
    const h = await apps.track(bootWith(durable(dataDir, { snapshotOnShutdown: false })));
    await h.redis.set('a', '1');
    await h.snapshots.snapshot();
    await h.redis.set('b', '2');
    await h.redis.del('a');
    const report = await h.snapshots.restore();
    expect(report?.keys).toBe(1);
    expect(await h.redis.keys('*')).toEqual(['a']);
  });

  it('starts empty when the data directory holds no snapshot yet', async () => {
    const h = await apps.track(bootWith(durable(join(tempDir(), 'new', 'dir'))));
    expect(await h.redis.dbsize()).toBe(0);
    expect(await h.snapshots.restore()).toBeUndefined();
  });
});

describe('persistence disabled', () => {
  it('is a plain in-memory cache that opens no LMDB file', async () => {
    const parent = tempDir();
    const dataDir = join(parent, 'data');
    const h = await apps.track(
      bootWith({ persistence: { enabled: false, dataDir, snapshotInterval: '100ms' } }),
    );
    await h.redis.set('k', 'v');
    expect(await h.redis.get('k')).toBe('v');
    await expect(h.snapshots.snapshot()).rejects.toThrow(
      PERSISTENCE_DISABLED('take a snapshot', 'embedded'),
    );
    await expect(h.snapshots.restore()).rejects.toThrow(
      PERSISTENCE_DISABLED('restore', 'embedded'),
    );
    expect(h.app.get(SchedulerRegistry).getIntervals()).toEqual([]);
    await apps.close(h);
    expect(existsSync(dataDir)).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
  });
});

describe('bad options fail bootstrap with a message naming the option', () => {
  const cases: [string, unknown, string][] = [
    [
      'persistence.enabled',
      { enabled: 'yes' },
      INVALID_OPTION('persistence.enabled', 'true or false', 'yes'),
    ],
    [
      'persistence.dataDir',
      { dataDir: '' },
      INVALID_OPTION('persistence.dataDir', 'a non-empty directory path', ''),
    ],
    [
      'persistence.dataDir (type)',
      { dataDir: 42 },
      INVALID_OPTION('persistence.dataDir', 'a non-empty directory path', 42),
    ],
    [
      'persistence.snapshotInterval (negative)',
      { snapshotInterval: -1 },
      INVALID_OPTION('persistence.snapshotInterval', DURATION_ACCEPTED, -1),
    ],
    [
      'persistence.snapshotInterval (word)',
      { snapshotInterval: 'soon' },
      INVALID_OPTION('persistence.snapshotInterval', DURATION_ACCEPTED, 'soon'),
    ],
    [
      'persistence.snapshotInterval (too long)',
      { snapshotInterval: '30d' },
      INVALID_OPTION('persistence.snapshotInterval', DURATION_ACCEPTED, '30d'),
    ],
    [
      'persistence.snapshotOnShutdown',
      { snapshotOnShutdown: 1 },
      INVALID_OPTION('persistence.snapshotOnShutdown', 'true or false', 1),
    ],
    [
      'persistence.restoreOnStartup',
      { restoreOnStartup: 'no' },
      INVALID_OPTION('persistence.restoreOnStartup', 'true or false', 'no'),
    ],
    [
      'an unknown option',
      { snapshotEvery: '5m' },
      UNKNOWN_OPTION('persistence.snapshotEvery', [
        'persistence.enabled',
        'persistence.dataDir',
        'persistence.snapshotInterval',
        'persistence.snapshotOnShutdown',
        'persistence.restoreOnStartup',
        'persistence.onRestoreError',
      ]),
    ],
    [
      'persistence.onRestoreError',
      { onRestoreError: 'ignore' },
      INVALID_OPTION('persistence.onRestoreError', 'one of "fail", "start-empty"', 'ignore'),
    ],
  ];

  it.each(cases)('%s', async (_name, persistence, message) => {
    await expect(bootWith({ persistence } as PersistentCacheModuleOptions)).rejects.toThrow(
      message,
    );
  });

  it('refuses a data directory that is a symbolic link', async () => {
    const link = join(tempDir(), 'link');
    symlinkSync(tempDir(), link);
    await expect(bootWith(durable(link))).rejects.toThrow(DATA_DIR_IS_SYMLINK(link));
  });

  it('refuses a data directory that is a file', async () => {
    const file = join(tempDir(), 'file');
    writeFileSync(file, 'not a directory');
    await expect(bootWith(durable(file))).rejects.toThrow(DATA_DIR_NOT_A_DIRECTORY(file));
  });
});
