import { chownSync, mkdtempSync, readdirSync, rmSync, unlinkSync, type Stats } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { statIfAny, STORE_FILE } from './data-dir';

/**
 * Scratch directories of the startup check's write rehearsal, in the data directory (the store's own file system,
 * sized for it; a tmpfs `/tmp` would hold the copy in memory). Each check has its own, named after its host and
 * process, so that any number of checks can run at once, and one that died is known and cleaned up by the next.
 */
const SCRATCH_PREFIX = `${STORE_FILE}.check-`;
const SCRATCH_NAME = /^snapshot\.mdb\.check-([0-9a-f]{8})-(\d+)-[A-Za-z0-9]{6}$/;
/** A scratch directory this old is removed even if its process cannot be checked (another host's). */
const ABANDONED_AFTER_MS = 24 * 60 * 60 * 1000;
/** What earlier versions used as the rehearsal's only copy, shared by every check. */
const LEGACY_COPY = `${STORE_FILE}.rehearsal`;

const HOST_TAG = crc32(hostname()).toString(16).padStart(8, '0');

/**
 * Creates this check's scratch directory (mode 0700). Run as root beside someone else's store, it gives the
 * directory to the store's owner, so that the owner can remove it should this process die before it does.
 */
export function createScratchDir(dataDir: string, store: Stats): string {
  const dir = mkdtempSync(join(dataDir, `${SCRATCH_PREFIX}${HOST_TAG}-${process.pid}-`));
  if (process.geteuid?.() === 0 && store.uid !== 0) chownSync(dir, store.uid, store.gid);
  return dir;
}

/** Removes a scratch directory; never throws (a leftover is removed by a later check). */
export function removeScratchDir(dir: string): void {
  try {
    rmSync(dir, { recursive: true, force: true });
  } catch {
    // Left for removeDeadScratch().
  }
}

/**
 * Removes the scratch directories of checks that no longer run: this host's whose process is gone, and any older
 * than a day. Also removes the copy earlier versions left at a fixed name when their check was killed.
 */
export function removeDeadScratch(dataDir: string, now = Date.now()): void {
  let names: string[];
  try {
    names = readdirSync(dataDir);
  } catch {
    return;
  }
  for (const name of names) {
    const path = join(dataDir, name);
    if (name === LEGACY_COPY || name === `${LEGACY_COPY}-lock`) {
      if (statIfAny(path)?.isFile() === true) tryTo(() => unlinkSync(path));
      continue;
    }
    const match = SCRATCH_NAME.exec(name);
    if (match === null) continue;
    const stat = statIfAny(path);
    if (stat === undefined || !stat.isDirectory()) continue;
    const dead =
      (match[1] === HOST_TAG && !isRunning(Number(match[2]))) ||
      now - stat.mtimeMs > ABANDONED_AFTER_MS;
    if (dead) removeScratchDir(path);
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function tryTo(action: () => void): void {
  try {
    action();
  } catch {
    // Best effort.
  }
}
