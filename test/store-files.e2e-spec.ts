import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  existsSync,
  lchownSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { STORE_FILE } from '../lib/store/data-dir';
import {
  PATH_IN_THE_WAY,
  STORE_FILE_NO_ACCESS,
  STORE_FILE_OPEN_FAILED,
  STORE_FILE_WRONG_KIND,
} from '../lib/store/store.messages';
import { QUARANTINE_DIR } from '../lib/store/data-dir';
import { runCli } from './support/cli';
import { bootWith, durable, removeTempDirs, tempDir } from './support/harness';
import { canChattr, chattr, chownTree, clearFlags, testUser, type TestUser } from './support/root';
import {
  spawnSampleApp,
  startSampleApp,
  stopSampleApps,
  type ExitResult,
} from './support/sample-app';
import {
  checkLeftovers,
  entries,
  healthyStore,
  restoredDigest,
  type HealthyStore,
} from './support/stores';

/**
 * Files the app cannot use — permissions, `chattr` flags, the kind of a file, leftovers in the way — fail the
 * bootstrap up front with the path, the error code and the fix, whatever `onRestoreError` says: never taken for
 * damage (which with `start-empty` would quarantine an intact snapshot), never a native crash.
 */

afterAll(async () => {
  clearFlags();
  await stopSampleApps();
  removeTempDirs();
});

const LOCK = `${STORE_FILE}-lock`;

/** Starts the sample app with `start-empty` and expects its bootstrap to fail; returns how it ended. */
async function refusedStart(dataDir: string, user?: TestUser): Promise<ExitResult> {
  const app = await spawnSampleApp({
    dataDir,
    cwd: dataDir,
    user,
    env: { PERSISTENT_CACHE_ON_RESTORE_ERROR: 'start-empty' },
  });
  return app.waitForExit();
}

function expectRefusal(exit: ExitResult, message: string): void {
  expect(exit.output).toContain(message);
  expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 1, signal: null });
}

/** The store's files as they were: same names in the directory, same bytes, nothing quarantined. */
function expectUntouched(store: HealthyStore, bytes: Buffer, names: string[]): void {
  expect(entries(store.dataDir)).toEqual(names);
  expect(existsSync(join(store.dataDir, QUARANTINE_DIR))).toBe(false);
  if (lstatSync(store.file).isFile()) expect(readFileSync(store.file).equals(bytes)).toBe(true);
}

function filesTheAppCannotUse(user: TestUser): void {
  describe(`store and lock files the app (as ${user.name}) cannot use`, () => {
    /** A healthy store owned by the test user. */
    async function usersStore(): Promise<HealthyStore> {
      const store = await healthyStore();
      chownTree(store.dataDir, user);
      return store;
    }

    it('`verify` and `inspect` run as root leave no lock file behind; the app then makes its own', async () => {
      const store = await usersStore();
      rmSync(store.lock); // the README's "restore an older copy": only snapshot.mdb is put back
      const verified = await runCli(['verify', store.dataDir]);
      expect(verified.stdout).toMatch(/^OK /);
      expect(verified.code).toBe(0);
      const inspected = await runCli(['inspect', store.dataDir, '--json']);
      expect(inspected.code).toBe(0);
      // They only read: nothing left behind, so no file of root's the app could not use.
      expect(entries(store.dataDir)).toEqual([STORE_FILE]);

      const app = await startSampleApp({ dataDir: store.dataDir, cwd: store.dataDir, user });
      expect((await app.request('GET', `/kv/${store.key}`)).body).toMatchObject({
        key: store.key,
        value: store.value,
      });
      const exit = await app.signal('SIGTERM');
      expect(exit.output).toMatch(/Restored 4 keys/);
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
    });

    it('a store or lock file its user cannot read or write: refused up front, nothing moved', async () => {
      const store = await usersStore();
      const bytes = readFileSync(store.file);
      const names = entries(store.dataDir);
      const noAccess = (path: string, code: string) => () =>
        STORE_FILE_NO_ACCESS(
          path,
          'read and write',
          code,
          lstatSync(path),
          path === store.lock,
          user.uid,
        );
      const cases: [string, () => void, () => string, () => void][] = [
        [
          "a lock file of root's, mode 0644 (what `verify` as root left before)",
          () => {
            lchownSync(store.lock, 0, 0);
            chmodSync(store.lock, 0o644);
          },
          noAccess(store.lock, 'EACCES'),
          () => lchownSync(store.lock, user.uid, user.gid),
        ],
        [
          'a lock file of mode 000',
          () => chmodSync(store.lock, 0),
          noAccess(store.lock, 'EACCES'),
          () => chmodSync(store.lock, 0o600),
        ],
        [
          'a store file of mode 000',
          () => chmodSync(store.file, 0),
          noAccess(store.file, 'EACCES'),
          () => chmodSync(store.file, 0o600),
        ],
        [
          'a store file of mode 0400',
          () => chmodSync(store.file, 0o400),
          noAccess(store.file, 'EACCES'),
          () => chmodSync(store.file, 0o600),
        ],
        [
          "a store file of root's, mode 0600",
          () => lchownSync(store.file, 0, 0),
          noAccess(store.file, 'EACCES'),
          () => lchownSync(store.file, user.uid, user.gid),
        ],
      ];
      for (const [name, breakIt, message, undo] of cases) {
        breakIt();
        const exit = await refusedStart(store.dataDir, user);
        expect([name, exit.output]).toEqual([name, expect.stringContaining(message()) as string]);
        expectRefusal(exit, message());
        expectUntouched(store, bytes, names);
        undo();
      }
      // Intact all along: it restores, as the app's user.
      const app = await startSampleApp({ dataDir: store.dataDir, cwd: store.dataDir, user });
      expect((await app.request('GET', `/kv/${store.key}`)).status).toBe(200);
      await app.signal('SIGTERM');
      expect((await restoredDigest(store.dataDir, { inPlace: true })).hash).toBe(store.digest);
    });

    it('the CLI reports a store it cannot read as such, not as a damaged snapshot', async () => {
      const store = await usersStore();
      lchownSync(store.file, 0, 0);
      const run = await runCli(['verify', store.dataDir], { user });
      expect(run.stderr).toBe(
        `persistent-cache: cannot open the snapshot store in ${store.dataDir}: ` +
          `${STORE_FILE_NO_ACCESS(store.file, 'read', 'EACCES', lstatSync(store.file), false, user.uid)}\n`,
      );
      expect(run.code).toBe(1);
      expect(entries(store.dataDir)).toEqual([STORE_FILE, LOCK]);
    });
  });
}

const user = testUser();
if (user !== undefined && canChattr()) {
  filesTheAppCannotUse(user);
} else {
  console.warn(
    'NOTICE: the tests of files an unprivileged app cannot use need root (a test user, chattr): not run here ' +
      '(CI runs as root).',
  );
}

/** Boots with `start-empty` in this process and expects `message`; the store must be as it was. */
async function expectRefusedInProcess(store: HealthyStore, message: string): Promise<void> {
  const bytes = lstatSync(store.file).isFile() ? readFileSync(store.file) : Buffer.alloc(0);
  const names = entries(store.dataDir);
  await expect(bootWith(durable(store.dataDir, { onRestoreError: 'start-empty' }))).rejects.toThrow(
    message,
  );
  expectUntouched(store, bytes, names);
}

describe('store and lock paths that are not regular files: refused up front, nothing moved', () => {
  it('the lock file a directory, a link, a pipe', async () => {
    const store = await healthyStore();
    for (const [kind, make] of [
      ['a directory', () => mkdirSync(store.lock)],
      ['a symbolic link', () => symlinkSync(join(tempDir(), 'elsewhere'), store.lock)],
      ['a named pipe', () => execFileSync('mkfifo', [store.lock])],
    ] as const) {
      rmSync(store.lock, { recursive: true });
      make();
      await expectRefusedInProcess(store, STORE_FILE_WRONG_KIND(store.lock, kind, true));
    }
    rmSync(store.lock);
    expect((await restoredDigest(store.dataDir, { inPlace: true })).hash).toBe(store.digest);
  });

  it('the store file a link (to a good store, or dangling), a directory, a pipe', async () => {
    const store = await healthyStore();
    const aside = join(tempDir(), STORE_FILE);
    renameSync(store.file, aside);
    for (const [kind, make] of [
      ['a symbolic link', () => symlinkSync(aside, store.file)],
      ['a symbolic link', () => symlinkSync(join(tempDir(), 'gone.mdb'), store.file)],
      ['a directory', () => mkdirSync(store.file)],
      ['a named pipe', () => execFileSync('mkfifo', [store.file])], // LMDB would wait on it forever
    ] as const) {
      make();
      await expectRefusedInProcess(store, STORE_FILE_WRONG_KIND(store.file, kind, false));
      rmSync(store.file, { recursive: true });
    }
    renameSync(aside, store.file);
    expect((await restoredDigest(store.dataDir, { inPlace: true })).hash).toBe(store.digest);
  });

  if (canChattr()) {
    it('an immutable store or lock file (root too), an append-only store file', async () => {
      const store = await healthyStore();
      for (const path of [store.file, store.lock]) {
        chattr('+i', path);
        await expectRefusedInProcess(
          store,
          STORE_FILE_NO_ACCESS(
            path,
            'read and write',
            'EPERM',
            lstatSync(path),
            path === store.lock,
          ),
        );
        chattr('-i', path);
      }
      // Append-only passes every check; LMDB then refuses to open it for writing, after the restore.
      chattr('+a', store.file);
      await expectRefusedInProcess(
        store,
        STORE_FILE_OPEN_FAILED(
          store.file,
          'EPERM',
          'Operation not permitted: Attempting to open main database file',
        ),
      );
      chattr('-a', store.file);
      expect((await restoredDigest(store.dataDir, { inPlace: true })).hash).toBe(store.digest);
    });
  }
});

describe('leftovers in the data directory', () => {
  it("an earlier version's rehearsal copy is removed, a directory of that name is left alone", async () => {
    const store = await healthyStore();
    writeFileSync(join(store.dataDir, `${STORE_FILE}.rehearsal`), Buffer.alloc(64 * 1024, 1));
    writeFileSync(join(store.dataDir, `${STORE_FILE}.rehearsal-lock`), Buffer.alloc(8192));
    expect((await restoredDigest(store.dataDir, { inPlace: true })).hash).toBe(store.digest);
    expect(checkLeftovers(store.dataDir)).toEqual([]);

    mkdirSync(join(store.dataDir, `${STORE_FILE}.rehearsal`));
    expect((await restoredDigest(store.dataDir, { inPlace: true })).hash).toBe(store.digest);
    expect(checkLeftovers(store.dataDir)).toEqual([`${STORE_FILE}.rehearsal`]);
  });

  it("a dead check's scratch directory is removed by the next check; a live one's is not", async () => {
    const store = await healthyStore();
    const tag = crc32(hostname()).toString(16).padStart(8, '0');
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    const deadScratch = `${STORE_FILE}.check-${tag}-${dead}-AbC123`;
    const liveScratch = `${STORE_FILE}.check-${tag}-${process.pid}-XyZ789`;
    for (const name of [deadScratch, liveScratch]) {
      mkdirSync(join(store.dataDir, name));
      writeFileSync(join(store.dataDir, name, 'copy.mdb'), 'x');
    }
    expect((await restoredDigest(store.dataDir, { inPlace: true })).hash).toBe(store.digest);
    expect(checkLeftovers(store.dataDir)).toEqual([liveScratch]);
  });

  it('a directory where a new store is written first: a clear error, nothing created', async () => {
    const dataDir = tempDir();
    const draft = join(dataDir, `${STORE_FILE}.new`);
    mkdirSync(draft);
    await expect(bootWith(durable(dataDir))).rejects.toThrow(
      PATH_IN_THE_WAY(draft, 'a directory', 'the new, empty store written there'),
    );
    expect(entries(dataDir)).toEqual([`${STORE_FILE}.new`]);
  });
});
