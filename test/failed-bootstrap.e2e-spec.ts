import { execFileSync, spawnSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { chmodSync, existsSync, readdirSync, writeFileSync } from 'node:fs';
import {
  Inject,
  Injectable,
  type INestApplicationContext,
  Module,
  type OnModuleInit,
  type Type,
} from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { createServer, type Server } from 'node:net';
import { CACHE, PersistentCacheModule } from '../lib';
import { DUPLICATE_DEFAULT_CACHE } from '../lib/persistent-cache.messages';
import { STORE_FILE } from '../lib/store/data-dir';
import { DATA_DIR_NOT_CREATED } from '../lib/store/store.messages';
import { bootWith, durable, removeTempDirs, restoredKeys, tempDir } from './support/harness';
import { freePort } from './support/free-port';
import { bootLogged, CapturingLogger } from './support/logs';
import { IS_ROOT, testUser } from './support/root';
import { canMount, mountTmpfs, unmountAll } from './support/tmpfs';

const ROOT = resolve(__dirname, '..');
const BOOT = join(ROOT, 'dist', 'test', 'fixtures', 'boot-child.js');

afterAll(() => {
  try {
    unmountAll();
  } finally {
    removeTempDirs();
  }
});

describe('an app without shutdown hooks', () => {
  const run = (mode: string): string => {
    const options = { persistence: { dataDir: tempDir(), snapshotInterval: 0 } };
    const child = spawnSync(process.execPath, [BOOT, JSON.stringify(options), mode], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.status).toBe(0);
    expect(child.stdout).toContain('{"booted":true}');
    return child.stdout;
  };

  it('is warned that a signal would end it without its final snapshot', () => {
    expect(run('wait')).toMatch(
      /Nothing listens to SIGTERM or SIGINT: .* without the final snapshot of .*Call app\.enableShutdownHooks\(\)/,
    );
  });

  it('is not warned once it calls enableShutdownHooks()', () => {
    expect(run('wait-hooks')).not.toContain('Nothing listens to');
  });
});

describe('a bootstrap that fails after the cache module is up', () => {
  it.each([
    ['periodic snapshots', { persistence: { dataDir: '', snapshotInterval: '1s' } }],
    ['persistence off', { persistence: { enabled: false } }],
  ])('with %s: the error is given and the process exits on its own', (_, options) => {
    const given = JSON.parse(
      JSON.stringify(options).replace('""', JSON.stringify(tempDir())),
    ) as object;
    const started = Date.now();
    const child = spawnSync(process.execPath, [BOOT, JSON.stringify(given), 'fail'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect({ signal: child.signal, status: child.status }).toEqual({ signal: null, status: 0 });
    expect(JSON.parse(child.stdout.trim())).toEqual({ error: 'a provider after the cache failed' });
    expect(Date.now() - started).toBeLessThan(15_000);
  });

  // Nest runs no shutdown hook after a failed bootstrap, and gives the caller no app to close (createApplicationContext
  // rejects without one; a context whose init() failed refuses close()). The cache's snapshot timer, LMDB environment
  // and claim on its data directory used to stay: the process hung, or the next start took over a stale claim and
  // said writes were lost.
  const failures: [string, string][] = [
    ["another provider's onModuleInit throws", 'fail'],
    ["another provider's onApplicationBootstrap throws", 'fail-bootstrap'],
    ['app.listen() fails (its port is taken)', 'listen'],
  ];
  describe.each(failures)('%s', (_, mode) => {
    // A server holding the port, for each case of 'listen': every one closed, or jest cannot exit.
    const taken: Server[] = [];
    afterAll(async () => {
      await Promise.all(taken.map((server) => new Promise((resolve) => server.close(resolve))));
    });

    it.each([
      ['periodic snapshots', '1s'],
      ['no periodic snapshot', 0],
    ])(
      'with %s: the process exits on its own, and the next start finds the write made before it failed, unwarned',
      async (__, snapshotInterval) => {
        const dataDir = join(tempDir(), 'data');
        const options = { persistence: { dataDir, snapshotInterval } };
        const args = [BOOT, JSON.stringify(options), mode];
        if (mode === 'listen') {
          const port = await freePort();
          const server = createServer();
          taken.push(server);
          await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
          args.push(String(port));
        }
        const started = Date.now();
        const child = spawnSync(process.execPath, args, {
          cwd: ROOT,
          encoding: 'utf8',
          timeout: 20_000,
        });
        expect({ signal: child.signal, status: child.status }).toEqual({ signal: null, status: 0 });
        const { error } = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as {
          error?: string;
        };
        expect(error).toMatch(
          mode === 'listen' ? /EADDRINUSE/ : /^a provider after the cache failed$/,
        );
        expect(Date.now() - started).toBeLessThan(15_000);
        expect(readdirSync(dataDir).sort()).toEqual([STORE_FILE, `${STORE_FILE}-lock`]); // claim given up

        const logger = new CapturingLogger();
        const again = await bootLogged(durable(dataDir, { snapshotOnShutdown: false }), logger);
        try {
          expect(await again.get<Redis>(CACHE).get('written-before-failing')).toBe('1');
        } finally {
          await again.close();
        }
        expect(logger.lines.filter((line) => line.startsWith('WARN'))).toEqual([]);
      },
    );
  });
});

describe('PersistentCacheModule imported twice in one application', () => {
  // In a process of its own: a bootstrap that fails leaves the first module's store open, as it would in an app.
  const twice = (a: string, b: string, snapshotInterval: string | number): unknown => {
    const options = { persistence: { dataDir: a, snapshotInterval } };
    const child = spawnSync(process.execPath, [BOOT, JSON.stringify(options), 'twice', b], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.signal).toBeNull(); // it exited on its own
    return JSON.parse(child.stdout.trim().split('\n').pop() ?? 'null');
  };

  // Refused as the modules are instantiated, before either opens its data directory or schedules anything.
  it.each([
    ['one data directory', true, 0],
    ['two data directories', false, 0],
    ['two data directories and periodic snapshots', false, '1h'],
  ])('with %s: the error says to import it once, or to name each', (_, shared, interval) => {
    const a = tempDir();
    const b = shared ? a : tempDir();
    expect(twice(a, b, interval)).toEqual({ error: DUPLICATE_DEFAULT_CACHE });
    expect(DUPLICATE_DEFAULT_CACHE).toMatch(
      /import PersistentCacheModule once \(isGlobal: true, or re-export it from one module\)/,
    );
    expect([readdirSync(a), readdirSync(b)]).toEqual([[], []]);
  });
});

describe('a data directory that cannot be created', () => {
  it('under a file: names persistence.dataDir, the cause and the fix', async () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'not a directory');
    const dataDir = join(file, 'data');
    await expect(bootWith({ persistence: { dataDir, snapshotInterval: 0 } })).rejects.toThrow(
      `Data directory ${dataDir} (persistence.dataDir) does not exist and cannot be created: a part of its path is ` +
        'a file, not a directory (ENOTDIR). Move that file out of the way, or point persistence.dataDir at a path ' +
        'made of directories.',
    );
  });

  /** Boots the app in a child process (as `user`, if given) on `dataDir`; returns the error it failed with. */
  function bootErrorAs(dataDir: string, user?: { uid: number; gid: number }): string {
    const options = { persistence: { dataDir, snapshotInterval: 0 } };
    const child = spawnSync(process.execPath, [BOOT, JSON.stringify(options)], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 20_000,
      uid: user?.uid,
      gid: user?.gid,
    });
    expect([child.status, child.stderr]).toEqual([0, '']);
    const last = child.stdout.trim().split('\n').pop() ?? '';
    return (JSON.parse(last) as { error?: string }).error ?? `booted: ${last}`;
  }

  // procfs answers ENOENT to mkdir in a directory that exists: Node's recursive mkdir retries that forever.
  const proc = '/proc/self';
  if (existsSync(proc)) {
    it('where mkdir answers ENOENT (under /proc): fails naming it instead of hanging', () => {
      const dataDir = join('/proc', `persistent-cache-${process.pid}`, 'data');
      const started = Date.now();
      expect(bootErrorAs(dataDir)).toBe(
        DATA_DIR_NOT_CREATED(
          dataDir,
          'ENOENT',
          `ENOENT: no such file or directory, mkdir '${dirname(dataDir)}'`,
        ),
      );
      expect(Date.now() - started).toBeLessThan(15_000);
    });
  } else {
    console.warn('NOTICE: the ENOENT data-directory test needs /proc: not run here.');
  }

  // Root may create it anywhere: a real unprivileged user (the test user, or this one when not root) is refused.
  const user = IS_ROOT
    ? testUser()
    : { uid: process.getuid?.() ?? -1, gid: process.getgid?.() ?? -1 };
  if (user !== undefined) {
    it('under a parent its user may not write (EACCES): names persistence.dataDir, the cause and the fix', () => {
      const parent = tempDir();
      chmodSync(parent, IS_ROOT ? 0o755 : 0o555); // root's, or read-only for this user
      const dataDir = join(parent, 'data');
      const error = bootErrorAs(dataDir, IS_ROOT ? user : undefined);
      expect(error).toBe(DATA_DIR_NOT_CREATED(dataDir, 'EACCES', 'unused', user.uid));
      expect(error).toContain(
        `Data directory ${dataDir} (persistence.dataDir) does not exist and cannot be created: this process ` +
          `(uid ${user.uid}) may not create it in its parent directory (EACCES). Create it yourself, owned by the ` +
          `user the app runs as (uid ${user.uid}, mode 0700)`,
      );
      expect(existsSync(dataDir)).toBe(false);
      chmodSync(parent, 0o700);
    });
  } else {
    console.warn(
      'NOTICE: the EACCES data-directory test needs a test user (root could create it anywhere).',
    );
  }

  if (canMount()) {
    it('under a read-only mount (EROFS): names persistence.dataDir, the cause and the fix', async () => {
      const mount = mountTmpfs('size=64k');
      execFileSync('mount', ['-o', 'remount,ro', mount]);
      const dataDir = join(mount, 'app', 'data');
      await expect(bootWith({ persistence: { dataDir, snapshotInterval: 0 } })).rejects.toThrow(
        `Data directory ${dataDir} (persistence.dataDir) does not exist and cannot be created: its parent is on ` +
          'a read-only file system (EROFS). Point persistence.dataDir at a directory on a writable file system, ' +
          'or mount that one read-write.',
      );
      expect(existsSync(join(mount, 'app'))).toBe(false);
    });
  } else {
    console.warn(
      'NOTICE: the read-only-mount data-directory test needs to mount a tmpfs (root): not run here.',
    );
  }
});

describe('an application started again in the same process', () => {
  /** A provider that writes `key` to the cache as it starts, then waits for `gate`, then fails if `fails`. */
  function starter(key: string, gate: Promise<void>, fails: boolean, entered: () => void): Type {
    @Injectable()
    class Starter implements OnModuleInit {
      constructor(@Inject(CACHE) private readonly redis: Redis) {}
      async onModuleInit(): Promise<void> {
        await this.redis.set(key, 'written while starting');
        entered();
        await gate;
        if (fails) throw new Error('the database is not reachable yet');
      }
    }
    @Module({ providers: [Starter] })
    class StarterModule {}
    return StarterModule;
  }

  function start(
    dataDir: string,
    imports: Type[],
    logger: CapturingLogger,
  ): Promise<INestApplicationContext> {
    @Module({
      imports: [
        PersistentCacheModule.forRoot({
          persistence: { dataDir, snapshotInterval: 0 },
          isGlobal: true,
        }),
        ...imports,
      ],
    })
    class AppModule {}
    return NestFactory.createApplicationContext(AppModule, { logger, abortOnError: false });
  }

  it('after a failed bootstrap takes the data directory over, with what the failed start wrote', async () => {
    const dataDir = tempDir();
    const logger = new CapturingLogger();
    const noop = (): void => undefined;
    for (const attempt of [1, 2]) {
      await expect(
        start(dataDir, [starter(`attempt:${attempt}`, Promise.resolve(), true, noop)], logger),
      ).rejects.toThrow('the database is not reachable yet');
    }
    const app = await start(
      dataDir,
      [starter('attempt:3', Promise.resolve(), false, noop)],
      logger,
    );
    try {
      const redis = app.get<Redis>(CACHE);
      // Each abandoned start's cache was closed with its final snapshot, and the next one restored it.
      expect(await redis.mget('attempt:1', 'attempt:2', 'attempt:3')).toEqual([
        'written while starting',
        'written while starting',
        'written while starting',
      ]);
      expect(
        logger.starting('WARN An application of this process whose bootstrap did not finish'),
      ).toHaveLength(2);
    } finally {
      await app.close();
    }
    expect(await restoredKeys(dataDir)).toEqual(['attempt:1', 'attempt:2', 'attempt:3']);
  });

  it('refuses the data directory while an application that started holds it', async () => {
    const dataDir = tempDir();
    const logger = new CapturingLogger();
    const first = await start(dataDir, [], logger);
    try {
      await expect(start(dataDir, [], logger)).rejects.toThrow(
        `Data directory ${dataDir} is in use by another PersistentCacheModule in this process`,
      );
      await first.get<Redis>(CACHE).set('still', 'served');
      expect(await first.get<Redis>(CACHE).get('still')).toBe('served');
    } finally {
      await first.close();
    }
  });

  it('of two starting at once on one data directory, fails the first, which had not finished', async () => {
    const dataDir = tempDir();
    const logger = new CapturingLogger();
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let entered!: () => void;
    const firstEntered = new Promise<void>((resolve) => (entered = resolve));
    const first = start(dataDir, [starter('first', gate, false, entered)], logger);
    first.catch(() => undefined);
    await firstEntered; // its cache is up, its bootstrap waits
    const second = await start(dataDir, [], logger);
    try {
      open();
      await expect(first).rejects.toThrow(
        `The cache in ${dataDir} was closed while this application was starting`,
      );
      expect(await second.get<Redis>(CACHE).get('first')).toBe('written while starting');
    } finally {
      await second.close();
    }
  });
});
