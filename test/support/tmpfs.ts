import { execFileSync } from 'node:child_process';
import { tempDir } from './harness';

/**
 * Small tmpfs mounts for fault tests (a full disk, a read-only file system). Only root can mount; suites check
 * {@link canMount} and print a notice instead of registering such tests elsewhere (CI runs as root).
 */
const mounts: string[] = [];

export function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    const probe = tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]);
    execFileSync('umount', [probe]);
    return true;
  } catch {
    return false;
  }
}

/** Mounts a tmpfs with `options` (e.g. `size=8m`) at a new temp dir; {@link unmountAll} takes it down. */
export function mountTmpfs(options: string): string {
  const dir = tempDir();
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

/** Unmounts every tmpfs {@link mountTmpfs} made; for `afterAll`, before the temp dirs are removed. */
export function unmountAll(): void {
  for (const dir of mounts.splice(0)) execFileSync('umount', ['-l', dir]);
}
