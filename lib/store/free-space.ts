import { statfsSync } from 'node:fs';

/**
 * Room the write rehearsal needs for a store of `size` bytes: its copy, then what the writes add to it. They are
 * ten chunks of 256 KiB and a manifest (LMDB grew a 6 MiB copy by 2 MiB), and the removal of every chunk, whose
 * pages LMDB lists in its free list (8 bytes a page: 1/512 of the size); the rest is margin.
 */
export function rehearsalNeeds(size: number): number {
  return size + 4 * 1024 * 1024 + Math.ceil(size / 64);
}
/** Room needed to create a new, empty store: LMDB writes 32 KiB, its lock file is reserved beforehand. */
export const MIN_FREE_TO_CREATE_BYTES = 1024 * 1024;
/**
 * Below this much free space, a check process killed by a signal is not taken as proof of damage: LMDB maps its
 * files, and a page it touches that the file system cannot back (a full tmpfs, a sparse file) kills it with SIGBUS.
 */
export const LOW_SPACE_BYTES = 4 * 1024 * 1024;

/** Bytes an unprivileged process may still write on the file system holding `dir`, or `undefined` if unknown. */
export function freeBytes(dir: string): number | undefined {
  try {
    const stats = statfsSync(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return undefined;
  }
}
