import { execFileSync } from 'node:child_process';
import { lchownSync, lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from './harness';

/**
 * What tests of the store's environment need root for besides a tmpfs (`tmpfs.ts`): `chattr` flags, and a real
 * unprivileged user to run the app as. Where they are not available the tests that need them are not registered,
 * and a NOTICE says so (CI runs as root).
 */

export const IS_ROOT = process.getuid?.() === 0;

/** Name of the unprivileged user the tests run apps as; created once, idempotently, and kept. */
export const TEST_USER = 'pcache-test';

const flagged = new Set<string>();

/** Sets `chattr` flags (`+i`, `+a`); {@link clearFlags} clears every flag set, so that temp dirs can be removed. */
export function chattr(flags: string, path: string): void {
  execFileSync('chattr', [flags, path]);
  if (flags.startsWith('+')) flagged.add(path);
  else flagged.delete(path);
}

export function clearFlags(): void {
  for (const path of flagged) {
    try {
      execFileSync('chattr', ['-i', '-a', path]);
    } catch {
      // Gone already.
    }
  }
  flagged.clear();
}

/** Whether `chattr` works on the temp dir's file system. */
export function canChattr(): boolean {
  if (!IS_ROOT) return false;
  try {
    const dir = tempDir();
    execFileSync('chattr', ['+i', dir]);
    execFileSync('chattr', ['-i', dir]);
    return true;
  } catch {
    return false;
  }
}

export interface TestUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
}

/** The unprivileged test user, created if missing; `undefined` where that is not possible. */
export function testUser(): TestUser | undefined {
  if (!IS_ROOT) return undefined;
  try {
    execFileSync('id', ['-u', TEST_USER], { stdio: 'ignore' });
  } catch {
    try {
      execFileSync(
        'useradd',
        ['--system', '--no-create-home', '--shell', '/usr/sbin/nologin', TEST_USER],
        { stdio: 'ignore' },
      );
    } catch {
      // Created meanwhile by another test file, or useradd is missing: checked below.
    }
  }
  try {
    const uid = Number(execFileSync('id', ['-u', TEST_USER], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', TEST_USER], { encoding: 'utf8' }));
    return { name: TEST_USER, uid, gid };
  } catch {
    return undefined;
  }
}

/** Gives `path` and everything under it to `user`. */
export function chownTree(path: string, user: TestUser): void {
  lchownSync(path, user.uid, user.gid);
  if (!lstatSync(path).isDirectory()) return;
  for (const name of readdirSync(path)) chownTree(join(path, name), user);
}
