import { closeSync, fsyncSync, lstatSync, openSync, type Stats } from 'node:fs';
import { lockFileOf } from './data-dir';

/** Which file a path names: its device and inode. */
export interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

/** Flushes a file's (or a directory's entries') data to disk. */
export function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function identityOf(stat: Stats): FileIdentity {
  return { dev: stat.dev, ino: stat.ino };
}

/** The identity of the file at `path`, or `undefined` when there is none. */
export function identityAt(path: string): FileIdentity | undefined {
  try {
    return identityOf(lstatSync(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

/** Whether `a` and `b` are the same file. */
export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}

/** What became of the files a store opened for writing (see {@link OpenedFiles.check}). */
export type OpenedFilesState = 'in place' | 'store missing' | 'store replaced' | 'lock lost';

/**
 * The store file and lock file a process opened for writing. LMDB keeps writing to the files it opened, even once
 * they are deleted or replaced at their paths: snapshots would succeed into a file nobody can restore.
 */
export class OpenedFiles {
  private constructor(
    private readonly path: string,
    private readonly store: FileIdentity,
    private readonly lock: FileIdentity,
  ) {}

  /** The store file at `path` and its lock file, as they are now. */
  static at(path: string): OpenedFiles {
    return new OpenedFiles(
      path,
      identityOf(lstatSync(path)),
      identityOf(lstatSync(lockFileOf(path))),
    );
  }

  /**
   * Whether the files at the paths are still these: the store file may be gone or another file, and the lock file
   * deleted or replaced (LMDB coordinates readers through it: a reader that made a new one would not see this
   * writer).
   */
  check(): OpenedFilesState {
    const store = identityAt(this.path);
    if (store === undefined) return 'store missing';
    if (!sameFile(store, this.store)) return 'store replaced';
    const lock = identityAt(lockFileOf(this.path));
    return lock !== undefined && sameFile(lock, this.lock) ? 'in place' : 'lock lost';
  }
}
