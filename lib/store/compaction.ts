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
 * and `root` open; a failed rename (in a directory made append-only, say) leaves it as it was, and `root` closed.
 * Once `root` is closed, the caller opens the file at `path` again, whether or not the rename was done.
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
    removeCopy(copy);
    throw error;
  }
  await close();
  try {
    renameSync(copy, path);
  } catch (error) {
    removeCopy(copy);
    throw error;
  }
  rmSync(lockFileOf(path), { force: true });
  syncFile(dirname(path));
}

/** Removes a compacted copy not renamed into place; one that cannot be removed is removed at the next start. */
function removeCopy(copy: string): void {
  try {
    rmSync(copy, { force: true });
  } catch {
    // Left for removeCompactionLeftover.
  }
}
