import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { tempDir } from './harness';

/**
 * Small tmpfs mounts for fault tests (a full disk, a read-only file system). Only root can mount; suites check
 * {@link canMount} and print a notice instead of registering such tests elsewhere (CI runs as root).
 */
const mounts: string[] = [];

let mountable: boolean | undefined;

/** Whether this process can mount a tmpfs (probed once). */
export function canMount(): boolean {
  if (mountable !== undefined) return mountable;
  mountable = false;
  if (process.getuid?.() !== 0) return false;
  try {
    const probe = tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]);
    execFileSync('umount', [probe]);
    mountable = true;
  } catch {
    // Not allowed here (e.g. a container without CAP_SYS_ADMIN).
  }
  return mountable;
}

/** Mounts a tmpfs with `options` (e.g. `size=8m`) at a new temp dir; {@link unmountAll} takes it down. */
export function mountTmpfs(options: string): string {
  const dir = tempDir();
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

/** Mounts `source` again, read-only, at a new temp dir (a bind mount); {@link unmountAll} takes it down. */
export function bindReadOnly(source: string): string {
  const dir = tempDir();
  execFileSync('mount', ['--bind', source, dir]);
  mounts.push(dir);
  execFileSync('mount', ['-o', 'remount,ro,bind', dir]);
  return dir;
}

/** Unmounts every mount {@link mountTmpfs} and {@link bindReadOnly} made; for `afterAll`, before the temp dirs are removed. */
export function unmountAll(): void {
  for (const dir of mounts.splice(0)) execFileSync('umount', ['-l', dir]);
}

/** Fills the file system of `dir` until `leaveBytes` remain free (adding to a file `filler` in `dir`). */
export function fillUntil(dir: string, leaveBytes: number): void {
  const avail = Number(
    execFileSync('df', ['-B1', '--output=avail', dir], { encoding: 'utf8' }).split('\n')[1],
  );
  const fill = avail - leaveBytes;
  if (fill > 0) {
    execFileSync('sh', ['-c', `head -c ${fill} /dev/zero >> '${join(dir, 'filler')}' || true`]);
  }
}
