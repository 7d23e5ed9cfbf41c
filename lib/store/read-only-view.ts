import {
  accessSync,
  constants,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  type Stats,
} from 'node:fs';
import { messageOf } from '../util/errors';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  assertLockFileBacked,
  checkStoreFileAccess,
  kindOf,
  lockFileOf,
  reserveLockFile,
  statIfAny,
  STORE_FILE,
} from './data-dir';
import { OWNER_FILE } from './owner-lock';
import { describeOwner, isAlive, parseOwner, thisProcess, type Owner } from './owner-record';
import { errnoCode, StoreEnvironmentError } from './store-errors';
import {
  DATA_DIR_IS_SYMLINK,
  DATA_DIR_MISSING,
  DATA_DIR_NOT_A_DIRECTORY,
  DATA_DIR_NOT_READABLE,
  DATA_DIR_UNREACHABLE,
  NO_STORE_FILE,
  READER_NOT_SHARED,
} from './store.messages';

/**
 * How tools that only read (the CLI's inspect, verify and export) open a store: they create, change and move
 * nothing in the data directory, so that they work on a backup, a quarantined copy, a directory of another user's
 * they may only read, or a read-only mount.
 *
 * LMDB keeps its reader table in the lock file beside the store file, and creates that file when it is missing,
 * even to read. So:
 * - When the lock file is there and this process may write it, an application may be writing the store: the store
 *   is opened in place, sharing the application's reader table, so that the writer does not reuse pages being read.
 * - Otherwise (no lock file, one this user may not write, a read-only file system) the store is opened through a
 *   private directory under the system's temp directory, holding a symbolic link to the store file: LMDB's lock
 *   file is made there, and the directory goes when the store is closed. A reader there is invisible to a writer,
 *   so this is refused while the directory's claim names a live process (see `owner-lock.ts`).
 */

/** Where a store opened to read is opened, and what to remove once LMDB has closed it. */
export interface ReadOnlyView {
  /** The path to give LMDB: the store file itself, or a link to it in a private directory. */
  readonly path: string;
  /** Whether {@link path} is the store file itself, sharing the lock file beside it. */
  readonly inPlace: boolean;
  /** Removes the private directory, if any. Call it after LMDB has closed the store. */
  dispose(): void;
}

/**
 * Checks the data directory and its store file for reading, and chooses where to open the store. Throws a
 * {@link StoreEnvironmentError} for a directory or file this process cannot read, or a live writer it cannot share
 * a lock file with.
 */
export function openReadOnlyView(dataDir: string): ReadOnlyView {
  checkReadableDataDir(dataDir);
  const storePath = join(dataDir, STORE_FILE);
  if (statIfAny(storePath) === undefined) {
    throw new StoreEnvironmentError(NO_STORE_FILE(dataDir, STORE_FILE));
  }
  checkStoreFileAccess(storePath, 'read');
  const lockPath = lockFileOf(storePath);
  const unusable = whyLockFileUnusable(lockPath);
  if (unusable === undefined) {
    return { path: storePath, inPlace: true, dispose: () => undefined };
  }
  const owner = liveOwner(dataDir);
  if (owner !== undefined) {
    throw new StoreEnvironmentError(
      READER_NOT_SHARED(dataDir, describeOwner(owner), lockPath, unusable),
      /^E[A-Z]+$/.test(unusable) ? unusable : undefined,
    );
  }
  return privateView(storePath);
}

/** Refuses a data directory that is missing, a symlink, not a directory, or one this process cannot list. */
function checkReadableDataDir(dataDir: string): void {
  let stat: Stats | undefined;
  try {
    stat = statIfAny(dataDir);
  } catch (error) {
    // A parent this user may not search, a loop of symbolic links, a name too long: said, with what to do.
    const code = errnoCode(error);
    throw new StoreEnvironmentError(
      code === 'EACCES' || code === 'EPERM'
        ? DATA_DIR_NOT_READABLE(dataDir, code)
        : DATA_DIR_UNREACHABLE(dataDir, code, messageOf(error)),
      code,
    );
  }
  if (stat === undefined) throw new StoreEnvironmentError(DATA_DIR_MISSING(dataDir), 'ENOENT');
  if (stat.isSymbolicLink()) throw new StoreEnvironmentError(DATA_DIR_IS_SYMLINK(dataDir));
  if (!stat.isDirectory()) throw new StoreEnvironmentError(DATA_DIR_NOT_A_DIRECTORY(dataDir));
  try {
    accessSync(dataDir, constants.R_OK | constants.X_OK);
  } catch (error) {
    const code = errnoCode(error);
    throw new StoreEnvironmentError(DATA_DIR_NOT_READABLE(dataDir, code), code);
  }
}

/**
 * Why the lock file cannot be shared in place (`missing`, `not a regular file`, or the error code of a write
 * access: EACCES, EROFS…), or `undefined` when it can.
 */
function whyLockFileUnusable(lockPath: string): string | undefined {
  const lock = statIfAny(lockPath);
  if (lock === undefined) return 'missing';
  if (!lock.isFile()) return `${kindOf(lock)}, not a regular file`;
  try {
    accessSync(lockPath, constants.R_OK | constants.W_OK);
  } catch (error) {
    return errnoCode(error) ?? 'EACCES';
  }
  assertLockFileBacked(lockPath, lock);
  return undefined;
}

/** The process the data directory's claim names, if it is readable and that process still runs. */
function liveOwner(dataDir: string): Owner | undefined {
  let text: string;
  try {
    text = readFileSync(join(dataDir, OWNER_FILE), 'utf8');
  } catch {
    return undefined; // no claim, or one this user may not read: no writer this process can know of
  }
  const owner = parseOwner(text);
  return owner !== undefined && isAlive(owner) ? owner : undefined;
}

/** Prefix of the private directories of read-only views, in the system's temp directory. */
const VIEW_PREFIX = 'persistent-cache-read-';
/** A view's directory: its host (a CRC of its name), its process's pid and start time, and mkdtemp's suffix. */
const VIEW_NAME = /^persistent-cache-read-([0-9a-f]{8})-(\d+)-(\d+)-[A-Za-z0-9]{6}$/;
/** What versions before the host and start time were named left: the pid alone. */
const LEGACY_VIEW_NAME = /^persistent-cache-read-(\d+)-[A-Za-z0-9]{6}$/;
/** A view of another host (a temp directory shared between containers) is left alone this long. */
const OTHER_HOST_VIEW_MS = 24 * 60 * 60 * 1000;

const me = thisProcess();
const HOST_TAG = crc32(me.host).toString(16).padStart(8, '0');

/** Prefix of the private directories of this process's read-only views. */
export const VIEW_DIR_PREFIX = `${VIEW_PREFIX}${HOST_TAG}-${me.pid}-${me.started ?? 0}-`;

/** A private directory (mode 0700) holding a link to the store file, where LMDB makes its lock file. */
function privateView(storePath: string): ReadOnlyView {
  removeDeadViews();
  const dir = mkdtempSync(join(tmpdir(), VIEW_DIR_PREFIX));
  const dispose = () => rmSync(dir, { recursive: true, force: true });
  try {
    const link = join(dir, STORE_FILE);
    symlinkSync(resolve(storePath), link);
    reserveLockFile(lockFileOf(link), undefined); // written out in full, as beside the store (data-dir.ts)
    return { path: link, inPlace: false, dispose };
  } catch (error) {
    dispose();
    throw error;
  }
}

/**
 * Removes the private view directories that processes killed while reading (SIGKILL, a crash: nothing ran to remove
 * them) left in the system's temp directory: those of this host whose process no longer runs (its pid gone, or given
 * to a process started later), and those of other hosts older than a day. A live process's view is never touched;
 * one of another user's that this user may not remove is left. Returns the names removed; never throws.
 */
export function removeDeadViews(dir = tmpdir(), now = Date.now()): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const removed: string[] = [];
  for (const name of names) {
    if (!name.startsWith(VIEW_PREFIX)) continue;
    const path = join(dir, name);
    try {
      const stat = statIfAny(path);
      if (stat === undefined || !stat.isDirectory() || !isDeadView(name, stat.mtimeMs, now))
        continue;
      rmSync(path, { recursive: true, force: true });
      removed.push(name);
    } catch {
      // Another user's, or gone meanwhile: left as it is.
    }
  }
  return removed;
}

function isDeadView(name: string, mtimeMs: number, now: number): boolean {
  const view = VIEW_NAME.exec(name);
  if (view !== null) {
    if (view[1] !== HOST_TAG) return now - mtimeMs > OTHER_HOST_VIEW_MS;
    const started = view[3] === '0' ? null : view[3];
    return !isAlive({ pid: Number(view[2]), host: me.host, started });
  }
  const legacy = LEGACY_VIEW_NAME.exec(name);
  return legacy !== null && !isAlive({ pid: Number(legacy[1]), host: me.host, started: null });
}
