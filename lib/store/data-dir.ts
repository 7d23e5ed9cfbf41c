import {
  accessSync,
  closeSync,
  constants,
  existsSync,
  fchmodSync,
  fchownSync,
  lchownSync,
  linkSync,
  lstatSync,
  mkdirSync,
  openSync,
  renameSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import {
  DATA_DIR_IS_SYMLINK,
  DATA_DIR_NOT_A_DIRECTORY,
  DATA_DIR_NOT_WRITABLE,
  NO_SPACE,
  STORE_FILE_NO_ACCESS,
  STORE_FILE_WRONG_KIND,
  DATA_DIR_NOT_CREATED,
  DATA_DIR_PATH_TOO_LONG,
  LOCK_FILE_NOT_CREATED,
} from './store.messages';
import { MAX_DATA_DIR_BYTES } from './path-limits';
import { freeBytes } from './free-space';
import { claimDataDir, renewClaim } from './owner-lock';
import { errnoCode, NO_SPACE_CODES, StoreEnvironmentError } from './store-errors';
import { messageOf } from '../util/errors';

/**
 * The data directory and the files in it, checked before LMDB sees them. LMDB is native code: a lock file it cannot
 * write, a symbolic link, or a page of a mapped file the file system cannot back (a full tmpfs) can crash the process
 * instead of failing with an error. Every problem found here is a {@link StoreEnvironmentError}: never taken for
 * damage to the snapshot.
 */

/** Name of the LMDB file in the data directory. */
export const STORE_FILE = 'snapshot.mdb';
/** Directory in the data directory where damaged stores are moved. */
export const QUARANTINE_DIR = 'quarantine';
/**
 * Size of a lock file created here. LMDB maps its lock file and writes its reader table into it; one it creates
 * itself is extended with `ftruncate`, which allocates nothing, so on a full file system the first write to the map
 * kills the process with SIGBUS. This one is written out in full beforehand (LMDB's own is 8 KiB for 126 readers;
 * a larger one only gives more reader slots).
 */
export const LOCK_FILE_BYTES = 16 * 1024;

/** LMDB's lock file beside `storePath`. */
export function lockFileOf(storePath: string): string {
  return `${storePath}-lock`;
}

/**
 * Creates the data directory (mode 0700) if missing, and refuses one that is a symlink or not a directory. Throws
 * a {@link StoreEnvironmentError} with the error code behind the problem (ENOTDIR for a directory that is a file).
 */
export function prepareDataDir(dataDir: string): void {
  checkDataDirPath(dataDir);
  if (!existsSync(dataDir)) {
    try {
      makeDirectory(dataDir);
    } catch (error) {
      // A symbolic link to nowhere (or to itself) is in the way: it is refused as any link would be.
      if (lstatIfAny(dataDir)?.isSymbolicLink() === true) {
        throw new StoreEnvironmentError(DATA_DIR_IS_SYMLINK(dataDir), 'ELOOP');
      }
      const cause = causeOfNotCreated(dataDir, error);
      const code = errnoCode(cause);
      throw new StoreEnvironmentError(DATA_DIR_NOT_CREATED(dataDir, code, messageOf(cause)), code);
    }
  }
  const stat = lstatSync(dataDir);
  if (stat.isSymbolicLink()) {
    throw new StoreEnvironmentError(DATA_DIR_IS_SYMLINK(dataDir), 'ELOOP');
  }
  if (!stat.isDirectory()) {
    throw new StoreEnvironmentError(DATA_DIR_NOT_A_DIRECTORY(dataDir), 'ENOTDIR');
  }
  try {
    accessSync(dataDir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (error) {
    const code = errnoCode(error);
    throw new StoreEnvironmentError(DATA_DIR_NOT_WRITABLE(dataDir, code), code);
  }
}

/**
 * Refuses a data directory whose path leaves no room for the paths the store makes in it (see `path-limits.ts`):
 * the kernel would refuse one of them, at a step that depends on what is in the directory, with ENAMETOOLONG.
 */
export function checkDataDirPath(dataDir: string): void {
  const bytes = Buffer.byteLength(dataDir);
  if (bytes > MAX_DATA_DIR_BYTES) {
    throw new StoreEnvironmentError(DATA_DIR_PATH_TOO_LONG(dataDir, bytes), 'ENAMETOOLONG');
  }
}

/**
 * Creates `dir` and its missing parents, each with mode 0700. Node's recursive `mkdirSync` loops forever when
 * `mkdir` fails with ENOENT under a parent that exists (in /proc, or a directory deleted while in use): here the
 * error is thrown.
 */
export function makeDirectory(dir: string, parentMade = false): void {
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    const code = errnoCode(error);
    if (code === 'EEXIST' && statIfAny(dir)?.isDirectory() === true) return; // made by another process
    const parent = dirname(dir);
    if (code !== 'ENOENT' || parentMade || parent === dir) throw error;
    makeDirectory(parent);
    makeDirectory(dir, true); // ENOENT again, its parent there: thrown
  }
}

/**
 * Why `dataDir` could not be created. Node's recursive `mkdir` reports ENOENT when a missing parent cannot be made
 * (on a read-only file system, say): then asking the nearest existing ancestor whether it is writable gives the
 * cause (EROFS, EACCES) without creating anything.
 */
function causeOfNotCreated(dataDir: string, error: unknown): unknown {
  if (errnoCode(error) !== 'ENOENT') return error;
  let ancestor = dirname(dataDir);
  while (statIfAny(ancestor) === undefined && dirname(ancestor) !== ancestor)
    ancestor = dirname(ancestor);
  try {
    accessSync(ancestor, constants.W_OK | constants.X_OK);
  } catch (cause) {
    return cause;
  }
  return error;
}

/** Claims the data directory (`owner-lock.ts`), saying so when there is no room to write the claim. */
export function claimWithRoom(dataDir: string): () => void {
  return withRoomToClaim(dataDir, () => claimDataDir(dataDir));
}

/** Claims the data directory again if its claim went with it (`renewClaim`), saying so when there is no room. */
export function renewClaimWithRoom(dataDir: string): void {
  withRoomToClaim(dataDir, () => renewClaim(dataDir));
}

function withRoomToClaim<T>(dataDir: string, claim: () => T): T {
  try {
    return claim();
  } catch (error) {
    const code = errnoCode(error);
    if (code === undefined || !NO_SPACE_CODES.has(code)) throw error;
    throw new StoreEnvironmentError(NO_SPACE(dataDir, 'claim it', freeBytes(dataDir)), code);
  }
}

/** The `lstat` of `path`, or `undefined` if nothing is there. */
export function statIfAny(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The `lstat` of `path`, or `undefined` if it cannot be had (nothing there, a loop of links, a name too long…). */
function lstatIfAny(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** What a path that is not a regular file is, for messages. */
export function kindOf(stat: Stats): string {
  if (stat.isSymbolicLink()) return 'a symbolic link';
  if (stat.isDirectory()) return 'a directory';
  if (stat.isFIFO()) return 'a named pipe';
  if (stat.isSocket()) return 'a socket';
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return 'a device';
  return 'a regular file';
}

/** The error code opening a path of this kind to write it would give, if any: a directory's EISDIR. */
function wrongKindCode(stat: Stats): string | undefined {
  return stat.isDirectory() ? 'EISDIR' : undefined;
}

/**
 * Checks the store file and its lock file before LMDB or the check process opens them for writing: both must be
 * regular files this process can read and write (LMDB always writes the lock file). A missing lock file is created,
 * written out in full, with the store file's owner and mode (so that a tool run as root beside the app leaves one
 * the app can use). Throws a {@link StoreEnvironmentError} naming the path, the code and the fix.
 */
export function checkStoreFiles(storePath: string): void {
  const store = checkStoreFileAccess(storePath, 'read and write');
  reserveLockFile(lockFileOf(storePath), store);
}

/** Checks that the store file is a regular file this process may `access`; returns its `lstat`. */
export function checkStoreFileAccess(storePath: string, access: 'read' | 'read and write'): Stats {
  const store = statIfAny(storePath);
  if (store === undefined) {
    throw new StoreEnvironmentError(
      STORE_FILE_NO_ACCESS(storePath, 'read', 'ENOENT', undefined, false),
      'ENOENT',
    );
  }
  if (!store.isFile()) {
    throw new StoreEnvironmentError(
      STORE_FILE_WRONG_KIND(storePath, kindOf(store), false),
      wrongKindCode(store),
    );
  }
  assertAccess(storePath, store, access, false);
  return store;
}

/**
 * Makes sure LMDB's lock file for a store exists and is backed by the file system before LMDB maps it, creating it
 * (written out in full, then linked into place so that no process sees it half-written) if missing. `like` is the
 * store file, whose owner and mode a new lock file gets.
 */
export function reserveLockFile(lockPath: string, like: Stats | undefined): void {
  const existing = statIfAny(lockPath);
  if (existing !== undefined) {
    if (!existing.isFile()) {
      throw new StoreEnvironmentError(
        STORE_FILE_WRONG_KIND(lockPath, kindOf(existing), true),
        wrongKindCode(existing),
      );
    }
    assertLockFileBacked(lockPath, existing);
    if (like !== undefined) adoptOwner(lockPath, existing, like);
    assertAccess(lockPath, statIfAny(lockPath) ?? existing, 'read and write', true);
    return;
  }
  const draft = `${lockPath}.${process.pid}-${randomBytes(4).toString('hex')}`;
  let fd: number;
  try {
    fd = openSync(draft, 'wx', 0o600);
  } catch (error) {
    const code = errnoCode(error);
    if (code !== undefined && NO_SPACE_CODES.has(code)) throw noRoomForLockFile(lockPath, code);
    throw new StoreEnvironmentError(LOCK_FILE_NOT_CREATED(lockPath, code, messageOf(error)), code);
  }
  try {
    const zeros = Buffer.alloc(LOCK_FILE_BYTES);
    for (let at = 0; at < zeros.length;) at += writeSync(fd, zeros, at, zeros.length - at, at);
    if (like !== undefined) {
      fchmodSync(fd, like.mode & 0o666);
      if (process.geteuid?.() === 0) fchownSync(fd, like.uid, like.gid);
    }
  } catch (error) {
    closeSync(fd);
    unlinkSync(draft);
    const code = errnoCode(error);
    if (code !== undefined && NO_SPACE_CODES.has(code)) throw noRoomForLockFile(lockPath, code);
    throw error;
  }
  closeSync(fd);
  try {
    linkSync(draft, lockPath); // fails if another process created one meanwhile: that one is used
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // A file system without hard links: a rename may replace a lock file created meanwhile, which is still unused.
    if (code !== 'EEXIST' && !existsSync(lockPath)) renameSync(draft, lockPath);
  } finally {
    if (existsSync(draft)) unlinkSync(draft);
  }
}

function noRoomForLockFile(lockPath: string, code: string): StoreEnvironmentError {
  const dir = dirname(lockPath);
  return new StoreEnvironmentError(
    NO_SPACE(dir, `create the lock file ${lockPath}`, freeBytes(dir)),
    code,
  );
}

/**
 * Refuses an existing lock file whose unallocated parts the file system has no room for. A lock file LMDB extended
 * with ftruncate has holes: its pages are allocated when first written, and a full disk then kills the process
 * with SIGBUS.
 */
export function assertLockFileBacked(lockPath: string, stat: Stats): void {
  const unbacked = stat.size - stat.blocks * 512;
  const free = freeBytes(dirname(lockPath));
  if (unbacked > 0 && free !== undefined && free < unbacked + 64 * 1024) {
    throw new StoreEnvironmentError(
      NO_SPACE(
        dirname(lockPath),
        `map the lock file ${lockPath} (parts of it are not yet allocated)`,
        free,
      ),
      'ENOSPC',
    );
  }
}

/**
 * A tool run as root gives a file it made beside someone else's store to the store's owner. (`lchown`, not a file
 * descriptor: closing one would drop the locks LMDB holds on a lock file this process has open.)
 */
export function adoptOwner(path: string, stat: Stats, like: Stats): void {
  if (process.geteuid?.() !== 0 || (stat.uid === like.uid && stat.gid === like.gid)) return;
  lchownSync(path, like.uid, like.gid);
}

/** Throws a {@link StoreEnvironmentError} naming the path, the code and the fix when `access` is not allowed. */
export function assertAccess(
  path: string,
  stat: Stats,
  access: 'read' | 'read and write',
  lockFile: boolean,
): void {
  try {
    accessSync(path, access === 'read' ? constants.R_OK : constants.R_OK | constants.W_OK);
  } catch (error) {
    const code = errnoCode(error) ?? 'EACCES';
    throw new StoreEnvironmentError(STORE_FILE_NO_ACCESS(path, access, code, stat, lockFile), code);
  }
}
