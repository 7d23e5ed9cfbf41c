import type { Redis } from 'ioredis';
import { chmodSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE, SnapshotService } from '../lib';
import { STORE_NOT_RECREATED, STORE_RECREATED } from '../lib/snapshots/snapshots.messages';
import { STORE_FILE } from '../lib/store/data-dir';
import { OWNER_FILE } from '../lib/store/owner-lock';
import {
  CLAIM_NOT_GIVEN_UP,
  DATA_DIR_IN_USE,
  OWNED_IN_THIS_PROCESS,
  STORE_FILE_MISSING,
} from '../lib/store/store.messages';
import { bootWith, durable, removeTempDirs, restoredKeys, tempDir } from './support/harness';
import { bootLogged, CapturingLogger } from './support/logs';
import { canChattr, chattr, clearFlags, IS_ROOT } from './support/root';
import { entries } from './support/stores';
import { canMount, fillUntil, mountTmpfs, unmountAll } from './support/tmpfs';

// A store deleted under the running app is made again after the snapshot that finds it gone. When a step of that
// fails (the directory is now a file or cannot be written, the lock file cannot be used, the disk is full), the store
// used to be left closed: every later snapshot failed with "not open", which is never retried, and after app.close()
// the data directory held nothing. Real faults, in this process, so that each snapshot's outcome can be asserted.

afterEach(() => clearFlags());

afterAll(() => {
  unmountAll();
  removeTempDirs();
});

/** A step of the recreate made to fail for real, after the store was deleted, and the cure. */
interface Fault {
  readonly name: string;
  readonly dataDir: () => string;
  /** Deletes the store file (or its whole directory) and breaks what the recreate needs next. */
  readonly inject: (dataDir: string) => void;
  readonly cure: (dataDir: string) => void;
  /** The error code the logged error names, and the path it names (in `dataDir`). */
  readonly code: string;
  readonly path: (dataDir: string) => string;
  /** Whether the directory itself (with the claim in it) survives the fault. */
  readonly keepsDirectory: boolean;
  /** Whether the claim file cannot be removed while the fault lasts. */
  readonly claimStuck: boolean;
}

const storeOf = (dataDir: string): string => join(dataDir, STORE_FILE);

const faults: Fault[] = [
  {
    name: 'the data directory deleted and a file put in its place (ENOTDIR)',
    dataDir: () => join(tempDir(), 'data'),
    inject: (dataDir) => {
      rmSync(dataDir, { recursive: true });
      writeFileSync(dataDir, 'not a directory');
    },
    cure: (dataDir) => rmSync(dataDir),
    code: 'ENOTDIR',
    path: (dataDir) => dataDir,
    keepsDirectory: false,
    claimStuck: true,
  },
  {
    // The new store is made, then its lock file is found unusable (LMDB, handed it, kills the process).
    name: 'the store file deleted and its lock file replaced by a directory (EISDIR)',
    dataDir: () => join(tempDir(), 'data'),
    inject: (dataDir) => {
      rmSync(storeOf(dataDir));
      rmSync(`${storeOf(dataDir)}-lock`);
      mkdirSync(`${storeOf(dataDir)}-lock`);
    },
    cure: (dataDir) => rmSync(`${storeOf(dataDir)}-lock`, { recursive: true }),
    code: 'EISDIR',
    path: (dataDir) => `${storeOf(dataDir)}-lock`,
    keepsDirectory: true,
    claimStuck: false,
  },
];
if (IS_ROOT && canChattr()) {
  faults.push({
    name: 'the store file deleted and the data directory made immutable (chattr +i: EPERM)',
    dataDir: () => join(tempDir(), 'data'),
    inject: (dataDir) => {
      rmSync(storeOf(dataDir));
      chattr('+i', dataDir);
    },
    cure: (dataDir) => chattr('-i', dataDir),
    code: 'EPERM',
    path: (dataDir) => dataDir,
    keepsDirectory: true,
    claimStuck: true,
  });
} else if (!IS_ROOT) {
  faults.push({
    name: 'the store file deleted and the data directory made read-only (chmod 0500: EACCES)',
    dataDir: () => join(tempDir(), 'data'),
    inject: (dataDir) => {
      rmSync(storeOf(dataDir));
      chmodSync(dataDir, 0o500);
    },
    cure: (dataDir) => chmodSync(dataDir, 0o700),
    code: 'EACCES',
    path: (dataDir) => dataDir,
    keepsDirectory: true,
    claimStuck: true,
  });
} else {
  console.warn(
    'NOTICE: the test of a recreate that fails on an immutable directory needs chattr, which the temp dir does ' +
      'not support here: not run (CI runs it).',
  );
}
if (canMount()) {
  faults.push({
    name: 'the store file deleted and the disk full (ENOSPC, a 4 MB tmpfs)',
    dataDir: () => join(mountTmpfs('size=4m'), 'data'),
    inject: (dataDir) => {
      rmSync(storeOf(dataDir));
      fillUntil(join(dataDir, '..'), 64 * 1024);
    },
    cure: (dataDir) => rmSync(join(dataDir, '..', 'filler')),
    code: 'ENOSPC',
    path: (dataDir) => dataDir,
    keepsDirectory: true,
    claimStuck: false,
  });
} else {
  console.warn(
    'NOTICE: the test of a recreate that fails on a full disk needs to mount a tmpfs, which takes root: not run ' +
      'here (CI runs as root).',
  );
}

/** The pid the claim in `dataDir` names, and its inode. */
function claim(dataDir: string): { pid: number; ino: number } {
  const file = join(dataDir, OWNER_FILE);
  const { pid } = JSON.parse(readFileSync(file, 'utf8')) as { pid: number };
  return { pid, ino: statSync(file).ino };
}

describe.each(faults)('a store deleted under the app, then $name', (fault) => {
  const notRecreated = (dataDir: string): string => `ERROR ${STORE_NOT_RECREATED(dataDir, '')}`;

  it('each snapshot tries to make it again; once cured, the whole cache is written and restored', async () => {
    const dataDir = fault.dataDir();
    const store = storeOf(dataDir);
    const logger = new CapturingLogger();
    const app = await bootLogged(durable(dataDir), logger);
    const redis = app.get<Redis>(CACHE);
    const snapshots = app.get(SnapshotService);
    let cured = false;
    let closed = false;
    try {
      await redis.mset({ a: '1', b: '2' });
      expect(await snapshots.snapshot()).toMatchObject({ kind: 'full', keys: 2 });
      const claimed = claim(dataDir);
      expect(claimed.pid).toBe(process.pid);

      fault.inject(dataDir);
      // The snapshot that finds the store gone, and each one after it while the fault lasts: every one fails for
      // the store missing (not for a store left closed) and tries again to make it. Why it cannot is said once,
      // and the repeats counted (within a minute of the first).
      for (let attempt = 1; attempt <= 3; attempt++) {
        await redis.set(`during:${attempt}`, String(attempt));
        await expect(snapshots.snapshot()).rejects.toThrow(STORE_FILE_MISSING(store));
        expect(logger.starting(notRecreated(dataDir))).toHaveLength(1);
      }
      const [first] = logger.starting(notRecreated(dataDir));
      expect(first).toContain(fault.code);
      expect(first).toContain(fault.path(dataDir));
      expect(first).not.toContain('since the last such line');
      // Nothing was given up meanwhile: the directory's claim is this app's, the same file as before.
      if (fault.keepsDirectory) expect(claim(dataDir)).toEqual(claimed);

      cured = true;
      fault.cure(dataDir);
      // A second app is refused the directory (booted with this logger: Nest's loggers are global).
      await expect(bootLogged(durable(dataDir), logger)).rejects.toThrow(
        DATA_DIR_IN_USE(dataDir, OWNED_IN_THIS_PROCESS(process.pid)),
      );
      // The next snapshot makes the store and writes the whole cache to it: no extra failed snapshot. The repeats
      // held back are written first, with their count.
      expect(await snapshots.snapshot()).toMatchObject({ kind: 'full', keys: 5 });
      expect(snapshots.lastFailure).toBeUndefined();
      expect(logger.lines).toContain(`WARN ${STORE_RECREATED(dataDir)}`);
      const notMade = logger.starting(notRecreated(dataDir));
      expect(notMade).toHaveLength(2);
      expect(notMade[1]).toMatch(/\(2 times since the last such line\)$/);
      expect(claim(dataDir).pid).toBe(process.pid);
      if (fault.keepsDirectory) expect(claim(dataDir).ino).toBe(claimed.ino);
      expect(entries(dataDir)).toEqual([OWNER_FILE, STORE_FILE, `${STORE_FILE}-lock`]);

      await redis.set('after', 'cure');
      closed = true;
      await app.close(); // its final snapshot holds `after`
    } finally {
      if (!cured) fault.cure(dataDir);
      if (!closed) await app.close();
    }

    const again = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    try {
      expect(await again.redis.mget('a', 'b', 'during:1', 'during:2', 'during:3', 'after')).toEqual(
        ['1', '2', '1', '2', '3', 'cure'],
      );
      expect(await again.redis.dbsize()).toBe(6);
    } finally {
      await again.app.close();
    }
  });

  it('while it lasts through shutdown, app.close() completes, having said why the cache was not written', async () => {
    const dataDir = fault.dataDir();
    const logger = new CapturingLogger();
    const app = await bootLogged(durable(dataDir), logger);
    try {
      await app.get<Redis>(CACHE).set('a', '1');
      await app.get(SnapshotService).snapshot();
      fault.inject(dataDir);
      await app.close();
    } finally {
      fault.cure(dataDir);
    }
    // The final snapshot tried to make the store, once, and said why it could not.
    const errors = logger.starting(notRecreated(dataDir));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain(fault.code);
    const notGivenUp = logger.starting(`WARN ${CLAIM_NOT_GIVEN_UP(dataDir, '#').split('#')[0]}`);
    expect(notGivenUp).toHaveLength(fault.claimStuck ? 1 : 0);
    if (!fault.claimStuck) expect(entries(dataDir)).not.toContain(OWNER_FILE);
  });
});

describe('a store deleted under the app, nothing in the way of a new one', () => {
  it.each([
    ['the store file', (dataDir: string) => rmSync(storeOf(dataDir))],
    ['the whole data directory', (dataDir: string) => rmSync(dataDir, { recursive: true })],
  ])(
    '%s: the next snapshot makes a new store and succeeds, with the whole cache',
    async (_, remove) => {
      const dataDir = join(tempDir(), 'data');
      const logger = new CapturingLogger();
      const app = await bootLogged(durable(dataDir), logger);
      try {
        const redis = app.get<Redis>(CACHE);
        const snapshots = app.get(SnapshotService);
        await redis.mset({ a: '1', b: '2' });
        await snapshots.snapshot();
        remove(dataDir);
        await redis.set('c', '3');
        expect(await snapshots.snapshot()).toMatchObject({ kind: 'full', keys: 3 });
        expect(snapshots.lastFailure).toBeUndefined();
        expect(logger.lines.filter((line) => line.startsWith('ERROR'))).toEqual([]);
        expect(logger.lines).toContain(`WARN ${STORE_FILE_MISSING(storeOf(dataDir))}`);
        expect(logger.lines).toContain(`WARN ${STORE_RECREATED(dataDir)}`);
        expect(entries(dataDir)).toEqual([OWNER_FILE, STORE_FILE, `${STORE_FILE}-lock`]);
      } finally {
        await app.close();
      }
      expect(await restoredKeys(dataDir)).toEqual(['a', 'b', 'c']);
    },
  );
});
