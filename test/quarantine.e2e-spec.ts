import { mkdirSync, lstatSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STORE_FILE } from '../lib/store/data-dir';
import {
  CORRUPT_SNAPSHOT,
  PATH_IN_THE_WAY,
  QUARANTINE_FAILED,
  STORE_FILE_NO_ACCESS,
} from '../lib/store/store.messages';
import { QUARANTINE_DIR } from '../lib/store/data-dir';
import { bootWith, durable, removeTempDirs } from './support/harness';
import { canChattr, chattr, clearFlags } from './support/root';
import { damageFirstChunk, entries, healthyStore, type HealthyStore } from './support/stores';

/**
 * With `onRestoreError: 'start-empty'`, an unreadable store is moved into `quarantine/<time>/`: all of it or none
 * of it. A move that fails half-way used to leave the store file in quarantine and the next start beginning empty
 * beside it ("No snapshot … starting with an empty cache").
 */

afterAll(() => {
  clearFlags();
  removeTempDirs();
});

const LOCK = `${STORE_FILE}-lock`;
const CHUNK_DAMAGE = 'generation 1: chunk 0 fails its checksum';

async function damagedStore(): Promise<HealthyStore & { bytes: Buffer }> {
  const store = await healthyStore();
  await damageFirstChunk(store.dataDir);
  return { ...store, bytes: readFileSync(store.file) };
}

const startEmpty = (dataDir: string) =>
  bootWith(durable(dataDir, { onRestoreError: 'start-empty' }));

/** The failed quarantine's error, and the directory it tried to move the files into. */
async function failedQuarantine(dataDir: string): Promise<{ message: string; target: string }> {
  const error = await startEmpty(dataDir).then(
    () => new Error('the app started'),
    (e: unknown) => e as Error,
  );
  const target = /aside into (\S+): /.exec(error.message)?.[1] ?? '(no target in the message)';
  return { message: error.message, target };
}

/** The store is back where it was: same files, same bytes, and a restore still finds it (and its damage). */
async function expectStoreInPlace(store: HealthyStore & { bytes: Buffer }): Promise<void> {
  expect(entries(store.dataDir)).toEqual([QUARANTINE_DIR, STORE_FILE, LOCK]);
  expect(readFileSync(store.file).equals(store.bytes)).toBe(true);
  await expect(bootWith(durable(store.dataDir))).rejects.toThrow(
    CORRUPT_SNAPSHOT(store.dataDir, CHUNK_DAMAGE),
  );
}

describe('quarantine is all or nothing', () => {
  it('`quarantine` being a file or a link: a clear error, nothing moved', async () => {
    for (const make of [
      (path: string) => writeFileSync(path, 'notes'),
      (path: string) => symlinkSync('/tmp', path),
    ]) {
      const store = await damagedStore();
      const quarantine = join(store.dataDir, QUARANTINE_DIR);
      make(quarantine);
      const kind = lstatSync(quarantine).isSymbolicLink() ? 'a symbolic link' : 'a regular file';
      await expect(startEmpty(store.dataDir)).rejects.toThrow(
        PATH_IN_THE_WAY(quarantine, kind, 'the directory damaged stores are moved into'),
      );
      await expectStoreInPlace(store);
    }
  });

  if (canChattr()) {
    it('a store file that cannot be moved: the lock file is moved back, the error says why', async () => {
      const store = await damagedStore();
      chattr('+a', store.file); // append-only: readable, writable, not renamable (EPERM)
      const { message, target } = await failedQuarantine(store.dataDir);
      expect(message).toBe(
        QUARANTINE_FAILED(
          store.dataDir,
          target,
          `cannot move ${store.file}: EPERM: operation not permitted, rename '${store.file}' -> ` +
            `'${join(target, STORE_FILE)}'`,
          'EPERM',
          [],
        ),
      );
      expect(entries(join(store.dataDir, QUARANTINE_DIR))).toEqual([]);
      await expectStoreInPlace(store);

      // Once the cause is fixed, the next start quarantines both files.
      chattr('-a', store.file);
      const h = await startEmpty(store.dataDir);
      expect(await h.redis.dbsize()).toBe(0);
      await h.app.close();
      const [moved] = entries(join(store.dataDir, QUARANTINE_DIR));
      const quarantined = join(store.dataDir, QUARANTINE_DIR, moved);
      expect(entries(quarantined)).toEqual([STORE_FILE, LOCK]);
      expect(readFileSync(join(quarantined, STORE_FILE)).equals(store.bytes)).toBe(true);
    });

    it('a quarantine directory that cannot be written: nothing moved', async () => {
      const store = await damagedStore();
      const quarantine = join(store.dataDir, QUARANTINE_DIR);
      mkdirSync(quarantine, { mode: 0o700 });
      chattr('+i', quarantine);
      const { message, target } = await failedQuarantine(store.dataDir);
      expect(message).toBe(
        QUARANTINE_FAILED(
          store.dataDir,
          target,
          `cannot create it: EPERM: operation not permitted, mkdir '${target}'`,
          'EPERM',
          [],
        ),
      );
      chattr('-i', quarantine);
      expect(entries(quarantine)).toEqual([]);
      await expectStoreInPlace(store);
    });

    it('an immutable lock file is refused before anything is read or moved (even as root)', async () => {
      const store = await damagedStore();
      chattr('+i', store.lock);
      await expect(startEmpty(store.dataDir)).rejects.toThrow(
        STORE_FILE_NO_ACCESS(store.lock, 'read and write', 'EPERM', lstatSync(store.lock), true),
      );
      expect(entries(store.dataDir)).toEqual([STORE_FILE, LOCK]);
      chattr('-i', store.lock);
      mkdirSync(join(store.dataDir, QUARANTINE_DIR));
      await expectStoreInPlace(store);
    });
  } else {
    console.warn(
      'NOTICE: the tests of a quarantine that fails half-way need chattr, which takes root: not run here ' +
        '(CI runs as root).',
    );
  }
});
