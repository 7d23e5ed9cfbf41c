import { renameSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import type { RootDatabase } from 'lmdb';
import { MANIFEST_KEY, openTables } from '../format/lmdb-layout';
import { emptyManifest, serializeManifest } from '../format/manifest';
import { TimeoutError, withTimeout } from '../util/timeout';
import {
  COMMIT_FAILED_NO_REASON,
  NO_SPACE,
  PATH_IN_THE_WAY,
  STORE_FILE_OPEN_FAILED,
} from './store.messages';
import { kindOf, lockFileOf, reserveLockFile, statIfAny } from './data-dir';
import { freeBytes, MIN_FREE_TO_CREATE_BYTES } from './free-space';
import { errnoCode, NO_SPACE_CODES, StoreEnvironmentError } from './store-errors';
import { asError, messageOf } from '../util/errors';
import { COMMIT_REASON_WAIT_MS, commitReason, NO_REASON_IN_TIME } from './write-errors';

const CREATE_STORE = 'create a new, empty snapshot store';
/** How long closing a store waits for LMDB (see {@link closeWithin}). */
export const CLOSE_TIMEOUT_MS = 5_000;

/**
 * Creates the store file at `path`: `write` fills a draft beside it (`<path>.new`), which is renamed into place
 * once written. Without room for it — or with something other than a file where the draft goes — fails with a
 * {@link StoreEnvironmentError} before LMDB maps a page the file system could not back; the draft's lock file is
 * written out in full beforehand for the same reason. A failed creation leaves no draft behind.
 */
export async function createStoreFile(
  path: string,
  write: (draft: string) => Promise<void>,
): Promise<void> {
  const dataDir = dirname(path);
  const draft = `${path}.new`;
  for (const leftover of [draft, lockFileOf(draft)]) {
    const stat = statIfAny(leftover);
    if (stat === undefined) continue;
    if (!stat.isFile()) {
      throw new StoreEnvironmentError(
        PATH_IN_THE_WAY(leftover, kindOf(stat), 'the new, empty store written there'),
      );
    }
    rmSync(leftover); // a creation cut short
  }
  const free = freeBytes(dataDir);
  if (free !== undefined && free < MIN_FREE_TO_CREATE_BYTES) {
    throw new StoreEnvironmentError(NO_SPACE(dataDir, CREATE_STORE, free), 'ENOSPC');
  }
  try {
    reserveLockFile(lockFileOf(draft), undefined);
    await write(draft);
    renameSync(draft, path);
  } catch (error) {
    for (const file of [draft, lockFileOf(draft)]) rmSync(file, { force: true });
    throw await explainCreateError(dataDir, draft, error);
  }
  rmSync(lockFileOf(draft), { force: true });
}

/** Why creating a store failed: no space, another error code on a path, or what LMDB said. */
async function explainCreateError(dataDir: string, draft: string, error: unknown): Promise<Error> {
  if (error instanceof StoreEnvironmentError) return error;
  // lmdb-js rejects a failed commit with "Commit failed" and the reason in a second promise, if it gives one.
  const reason = await commitReason(error);
  if (reason === NO_REASON_IN_TIME) {
    return new Error(COMMIT_FAILED_NO_REASON(COMMIT_REASON_WAIT_MS), { cause: error });
  }
  const cause = reason ?? error;
  const code = errnoCode(cause);
  if (code !== undefined && NO_SPACE_CODES.has(code)) {
    return new StoreEnvironmentError(NO_SPACE(dataDir, CREATE_STORE, freeBytes(dataDir)), code);
  }
  if (code !== undefined) {
    return new StoreEnvironmentError(STORE_FILE_OPEN_FAILED(draft, code, messageOf(cause)), code);
  }
  return asError(cause);
}

/**
 * Closes an LMDB environment, giving up waiting after `ms`: after a commit failed on a full disk, lmdb-js can wait
 * forever for a flush that never comes.
 */
export async function closeWithin(root: RootDatabase, ms: number): Promise<void> {
  await withTimeout(root.close(), ms).catch((error: unknown) => {
    if (!(error instanceof TimeoutError)) throw error;
  });
}

/**
 * Creates a store holding an empty manifest, under a temporary name renamed into place once committed (see
 * {@link createStoreFile}): a store file without a manifest is then always damage, never a store whose creation was
 * cut short.
 */
export async function createEmptyStore(path: string): Promise<void> {
  await createStoreFile(path, async (draft) => {
    const tables = openTables(draft, false);
    try {
      await tables.meta.put(MANIFEST_KEY, serializeManifest(emptyManifest(Date.now())));
    } finally {
      await closeWithin(tables.root, CLOSE_TIMEOUT_MS);
    }
  });
}
