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

/** What `/proc/<pid>/stat` says of a process: its state letter and its start time, or undefined without it. */
function procStat(pid: number): { state: string; started: string | null } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields from the third on (state, then ...), after the command name, which is in parentheses and may hold
    // spaces; field 22 (starttime) is the 20th of them.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0] ?? '', started: fields[19] ?? null };
  } catch {
    return undefined;
  }
}

function startTimeOf(pid: number): string | null {
  return procStat(pid)?.started ?? null;
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
  const stat = procStat(owner.pid);
  // A process that has ended but that its parent has not reaped yet (a zombie, `Z`; `X` while it is removed) still
  // answers the signal, for as long as the parent takes (a supervisor, or an init, that is slow to wait for it):
  // it holds no files and writes nothing any more, so its claim is stale.
  if (stat?.state === 'Z' || stat?.state === 'X') return false;
  // The pid is in use: by the owner, unless the kernel has given it to another process since.
  return owner.started === null || (stat?.started ?? null) === owner.started;
}

/** The owner as users read it in messages. */
export function describeOwner(owner: Owner): string {
  return owner.pid === process.pid && owner.host === hostname() && isAlive(owner)
    ? OWNED_IN_THIS_PROCESS(owner.pid)
    : `process ${owner.pid} on ${owner.host}`;
}
