import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { DATA_DIR_IN_USE } from '../persistent-cache.messages';

/** Name of the owner file in the data directory. */
export const OWNER_FILE = 'owner.json';

interface Owner {
  pid: number;
  host: string;
  /** The process's start time as the kernel counts it (`/proc/<pid>/stat`), to tell a reused pid apart. */
  started: string | null;
}

/** Data directories owned by this process, so that a second app in the same process is refused too. */
const ownedHere = new Set<string>();

function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime), counted after the command name, which is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(owner: Owner): boolean {
  if (owner.host !== hostname()) return true; // cannot tell: a shared volume; refuse rather than risk two writers
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // The pid is in use: by the owner, unless the kernel has given it to another process since.
  return owner.started === null || startTimeOf(owner.pid) === owner.started;
}

function readOwner(file: string): Owner | undefined {
  try {
    const owner = JSON.parse(readFileSync(file, 'utf8')) as Partial<Owner>;
    if (typeof owner.pid !== 'number' || typeof owner.host !== 'string') return undefined;
    return { pid: owner.pid, host: owner.host, started: owner.started ?? null };
  } catch {
    return undefined; // unreadable or half-written: its writer died before finishing it
  }
}

/**
 * Claims the data directory for this process: one writer per snapshot store. A claim left by a process that no
 * longer runs (killed, crashed) is taken over; one held by a live process, or by another app in this process, is
 * refused with an error naming it. Returns the function that gives the claim up.
 */
export function claimDataDir(dataDir: string): () => void {
  if (ownedHere.has(dataDir)) {
    throw new Error(
      DATA_DIR_IN_USE(dataDir, `another application in this process (pid ${process.pid})`),
    );
  }
  const file = join(dataDir, OWNER_FILE);
  const me: Owner = { pid: process.pid, host: hostname(), started: startTimeOf(process.pid) };
  for (let attempt = 0; ; attempt++) {
    let fd: number;
    try {
      fd = openSync(file, 'wx', 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || attempt > 0) throw error;
      const owner = readOwner(file);
      const stale =
        owner === undefined || (owner.pid === me.pid && owner.host === me.host) || !isAlive(owner);
      if (!stale) {
        throw new Error(DATA_DIR_IN_USE(dataDir, `process ${owner.pid} on ${owner.host}`));
      }
      unlinkSync(file);
      continue;
    }
    try {
      writeSync(fd, JSON.stringify(me));
    } finally {
      closeSync(fd);
    }
    ownedHere.add(dataDir);
    return () => {
      ownedHere.delete(dataDir);
      if (readOwner(file)?.pid === me.pid) unlinkSync(file);
    };
  }
}
