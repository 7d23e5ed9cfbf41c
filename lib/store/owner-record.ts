import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { OWNED_IN_THIS_PROCESS } from './store.messages';

/** What a claim file holds: the process that owns the data directory. */
export interface Owner {
  pid: number;
  host: string;
  /** The process's start time as the kernel counts it (`/proc/<pid>/stat`), to tell a reused pid apart. */
  started: string | null;
}

function startTimeOf(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 22 (starttime), counted after the command name, which is in parentheses and may hold spaces.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

/** This process, as its claims record it. */
export function thisProcess(): Owner {
  return { pid: process.pid, host: hostname(), started: startTimeOf(process.pid) };
}

/**
 * Parses a claim file's text. Returns undefined for anything that cannot name a live process: unreadable JSON, a
 * pid that is not a positive integer (`process.kill(0 | -1, 0)` would probe a process group, or every process, and
 * answer "alive" forever), a missing host. Such a claim counts as stale.
 */
export function parseOwner(text: string): Owner | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const { pid, host, started } = value as Record<string, unknown>;
  if (typeof pid !== 'number' || !Number.isSafeInteger(pid) || pid <= 0) return undefined;
  if (typeof host !== 'string' || host === '') return undefined;
  if (started !== undefined && started !== null && typeof started !== 'string') return undefined;
  return { pid, host, started: started ?? null };
}

/** Whether the owner may still run. One on another host cannot be checked: it counts as alive. */
export function isAlive(owner: Owner): boolean {
  if (owner.host !== hostname()) return true; // a shared volume; refuse rather than risk two writers
  try {
    process.kill(owner.pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  // The pid is in use: by the owner, unless the kernel has given it to another process since.
  return owner.started === null || startTimeOf(owner.pid) === owner.started;
}

/** The owner as users read it in messages. */
export function describeOwner(owner: Owner): string {
  return owner.pid === process.pid && owner.host === hostname() && isAlive(owner)
    ? OWNED_IN_THIS_PROCESS(owner.pid)
    : `process ${owner.pid} on ${owner.host}`;
}
