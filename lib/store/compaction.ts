import { renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RootDatabase } from 'lmdb';
import { lockFileOf } from './data-dir';
import { syncFile } from './file-identity';

/** Suffix of the compacted copy made beside the store file. */
const COMPACT_SUFFIX = '.compact';

/** Removes the copy a compaction cut short left beside the store file at `path`, if any. */
export function removeCompactionLeftover(path: string): void {
  rmSync(`${path}${COMPACT_SUFFIX}`, { force: true });
}

/**
 * Rewrites the store file at `path` without its free pages. LMDB reuses the pages a snapshot frees but never gives
 * them back to the file system, so a store that once grew large (a burst of keys, a full disk's retries) keeps its
 * size. The compacted copy is made beside the file (by LMDB, from one read transaction of `root`, off the main
 * thread) and synced; then `close` closes `root`, and the copy is renamed over the file. The lock file goes with the
 * old file, and processes still reading it keep the old pair. A failure before the rename leaves the file as it was
 * and `root` open. The caller opens the file again afterwards.
 */
export async function compactStoreFile(
  root: RootDatabase,
  path: string,
  close: () => Promise<void>,
): Promise<void> {
  const copy = `${path}${COMPACT_SUFFIX}`;
  rmSync(copy, { force: true });
  try {
    await root.backup(copy, true);
    syncFile(copy);
  } catch (error) {
    rmSync(copy, { force: true });
    throw error;
  }
  await close();
  renameSync(copy, path);
  rmSync(lockFileOf(path), { force: true });
  syncFile(dirname(path));
}
