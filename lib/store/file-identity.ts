import { closeSync, fsyncSync, lstatSync, openSync, type Stats } from 'node:fs';

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

export function identityOf(stat: Stats): FileIdentity {
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

export function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}
