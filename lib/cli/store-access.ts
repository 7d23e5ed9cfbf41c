import { messageOf } from '../util/errors';
import { existsSync, lstatSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { SnapshotStore, UnreadableSnapshotError } from '../store/snapshot-store';
import { STORE_FILE } from '../store/data-dir';
import { CliError } from './io';
import { errnoCode } from '../store/store-errors';
import { DATA_DIR_NOT_READABLE, DATA_DIR_UNREACHABLE } from '../store/store.messages';

/**
 * Opens the snapshot store of an existing data directory. Refuses a missing directory or one without a store file
 * instead of letting {@link SnapshotStore} create them: inspecting a typo'd path must not leave an empty store.
 */
export async function openExistingStore(dataDir: string): Promise<SnapshotStore> {
  const dir = resolve(dataDir);
  if (!reachable(dir)) throw new CliError(`data directory ${dir} does not exist`);
  checkIsDirectory(dir);
  if (!existsSync(join(dir, STORE_FILE))) {
    throw new CliError(`data directory ${dir} holds no snapshot (no ${STORE_FILE} file)`);
  }
  return openStore(dir, false);
}

/**
 * Opens (creating if needed) the store an import writes to. The directory must be missing or empty, or, with
 * `replace`, already hold a snapshot store (its snapshot is replaced by the new one when the import commits).
 */
export async function openTargetStore(dataDir: string, replace: boolean): Promise<SnapshotStore> {
  const dir = resolve(dataDir);
  if (existsSync(dir)) {
    checkIsDirectory(dir);
    const entries = readdirSync(dir);
    if (entries.length > 0) {
      if (!replace) {
        throw new CliError(
          `data directory ${dir} is not empty; pass --replace to replace the snapshot it holds, ` +
            'or choose a new directory',
        );
      }
      if (!entries.includes(STORE_FILE)) {
        throw new CliError(
          `data directory ${dir} is not empty and holds no snapshot (no ${STORE_FILE}); ` +
            '--replace only replaces an existing snapshot, choose an empty directory',
        );
      }
    }
  }
  return openStore(dir, true);
}

/**
 * Whether something is at `dir`; a path that cannot be followed (a loop of symbolic links, a name too long, a parent
 * this user may not search) is refused with why, instead of being taken for a missing directory.
 */
function reachable(dir: string): boolean {
  try {
    lstatSync(dir);
    return true;
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'ENOENT') return false;
    throw new CliError(
      code === 'EACCES' || code === 'EPERM'
        ? DATA_DIR_NOT_READABLE(dir, code)
        : DATA_DIR_UNREACHABLE(dir, code, messageOf(error)),
    );
  }
}

/** Refuses a data directory that is a symbolic link or not a directory. */
function checkIsDirectory(dir: string): void {
  const stat = lstatSync(dir);
  if (stat.isSymbolicLink()) {
    throw new CliError(`data directory ${dir} is a symbolic link; pass the real path`);
  }
  if (!stat.isDirectory()) throw new CliError(`data directory ${dir} is not a directory`);
}

/** Opens the store, after checking its file in a child process (see `check-file.ts`). */
async function openStore(dir: string, claim: boolean): Promise<SnapshotStore> {
  const store = new SnapshotStore(dir);
  try {
    await store.open({ claim });
    if (claim) await store.openForWriting(); // an import writes; the other commands only read
    return store;
  } catch (error) {
    await store.close();
    if (error instanceof UnreadableSnapshotError) throw error; // names the directory and the damage
    throw new CliError(`cannot open the snapshot store in ${dir}: ${messageOf(error)}`);
  }
}

/**
 * What a data directory was before an import opened its store there (see {@link leaveAsFound}): missing (with the
 * outermost of its missing ancestors, which opening it creates), empty, or in use.
 */
export type DirectoryBefore = { readonly missingFrom: string } | 'empty' | 'used';

export function directoryBefore(dataDir: string): DirectoryBefore {
  let dir = resolve(dataDir);
  if (existsSync(dir)) {
    return lstatSync(dir).isDirectory() && readdirSync(dir).length === 0 ? 'empty' : 'used';
  }
  while (!existsSync(dirname(dir)) && dirname(dir) !== dir) dir = dirname(dir);
  return { missingFrom: dir };
}

/**
 * Undoes what opening the store of a failed import made in a directory that was missing (with the parents it made)
 * or empty, so that the import can simply be run again: left there, its empty store is "not empty" to the next run.
 * A directory that held a snapshot keeps it (the import had not committed its own).
 */
export function leaveAsFound(dataDir: string, before: DirectoryBefore): void {
  const dir = resolve(dataDir);
  if (typeof before === 'object') rmSync(before.missingFrom, { recursive: true, force: true });
  else if (before === 'empty' && existsSync(dir)) {
    for (const entry of readdirSync(dir))
      rmSync(join(dir, entry), { recursive: true, force: true });
  }
}
