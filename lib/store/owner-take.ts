import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  linkSync,
  openSync,
  readSync,
  renameSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { CLAIM_FILE_NOT_A_FILE } from './store.messages';
import { isAlive, Owner, parseOwner } from './owner-record';

/*
 * Taking a name (the owner file, or a take-over marker) for this process, so that at most one live process holds it.
 *
 * - A claim is published whole: written to a temporary file of our own, then linked to the name. link() fails if
 *   the name exists, atomically, so a fresh claim never lands on another, and nobody ever reads a partial claim.
 * - A stale claim (its process no longer runs, or it names none) is replaced with rename(), which swaps it for
 *   ours atomically: the name is never missing, so nobody can slip a fresh claim in meanwhile.
 * - Replacing needs the take-over marker of that very file (`<name>.takeover.<inode>`), taken the same way one
 *   level down; under it, the file is read again and replaced only if it is still that inode and still stale.
 *
 * Why one winner: a name is removed or replaced only by the live process that holds it (giving it up), or by the
 * holder of the marker of the file it holds, after finding it stale under the marker. A live claim is therefore
 * never removed by anyone else. Two processes cannot replace the same stale file: while it exists, no other file
 * has its inode, so both would need the same marker, which only one holds. Between the check under the marker and
 * the rename, the stale file cannot change: its process is gone and the marker is ours. A dead process's marker is
 * itself taken over the same way (recursion, bounded by MAX_DEPTH). Moving a claim aside to look at it, and putting
 * it back if it was not the stale one, would not do: the name would be missing meanwhile, and a third process could
 * claim it too.
 */

/** Steps of a claim at which tests pause it (fault injection), to widen the window between two system calls. */
export type ClaimStep = 'created' | 'judged-stale' | 'replacing';

export interface ClaimHooks {
  /** Called at each step, synchronously; library code passes none. */
  pause?: (step: ClaimStep) => void;
}

/** The outcome of {@link takeName}: ours (the inode of our claim), or held by a live process. */
export type Taken =
  { won: true; ino: bigint; replaced?: Owner | null } | { won: false; holder: Owner };

/** Thrown for a name held by something else than a claim file (a directory, a symlink...). */
export class NotAClaimFileError extends Error {}

/** Thrown when a take-over marker is itself stale at the deepest level (processes killed while taking over). */
export class ClaimStuckError extends Error {
  constructor(readonly path: string) {
    super(`stale take-over marker ${path}`);
  }
}

/** Thrown when the name keeps changing under this process (claimed and given up again and again). */
export class ClaimContendedError extends Error {}

/** Levels of take-over markers: each one more needs a process killed while it was taking over the one above. */
const MAX_DEPTH = 3;
/** Times the name may change under us (given up, replaced by a rival) before we give up. */
const MAX_CHANGES = 10;
/** How long to wait for a live process that is taking over the same stale claim to finish. */
const TAKER_WAIT_MS = 3000;
const TAKER_POLL_MS = 5;
/** Claims are far smaller; a larger file is read in part, and fails to parse. */
const MAX_CLAIM_BYTES = 4096;

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Name of the marker whose holder may replace the stale claim file of inode `ino` at `path`. */
export function takeoverMarker(path: string, ino: bigint): string {
  return `${path}.takeover.${ino}`;
}

/** What a claim file holds: its inode, and its owner (undefined if it names none). */
export interface ClaimFile {
  ino: bigint;
  owner: Owner | undefined;
}

/** Reads the claim file at `path`; undefined if there is none. Never follows a symlink nor blocks on a FIFO. */
export function readClaim(path: string): ClaimFile | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    if (code === 'ELOOP')
      throw new NotAClaimFileError(CLAIM_FILE_NOT_A_FILE(path, 'a symbolic link'));
    throw error;
  }
  try {
    const stat = fstatSync(fd, { bigint: true });
    if (!stat.isFile()) {
      const found = stat.isDirectory() ? 'a directory' : 'not a regular file';
      throw new NotAClaimFileError(CLAIM_FILE_NOT_A_FILE(path, found));
    }
    const buffer = Buffer.alloc(MAX_CLAIM_BYTES);
    const length = readSync(fd, buffer, 0, MAX_CLAIM_BYTES, 0);
    return { ino: stat.ino, owner: parseOwner(buffer.toString('utf8', 0, length)) };
  } finally {
    closeSync(fd);
  }
}

/** Writes `me` to a new temporary file beside `path`, named after it, this process and a random part. */
function writeTemp(path: string, me: Owner): { tmp: string; ino: bigint } {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, JSON.stringify(me));
    return { tmp, ino: fstatSync(fd, { bigint: true }).ino };
  } catch (error) {
    removeIfThere(tmp); // a claim that could not be written whole (a full disk) is not left behind
    throw error;
  } finally {
    closeSync(fd);
  }
}

function linked(tmp: string, path: string): boolean {
  try {
    linkSync(tmp, path);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/** Removes `path`, if there. */
export function removeIfThere(path: string): void {
  try {
    unlinkSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

/**
 * Gives up a name taken with {@link takeName}: removes it if it still holds our claim (inode `ino`, naming `me`:
 * the inode alone could be a new file's, once ours was removed by hand). Nobody else replaces a live process's
 * claim, so it cannot change between the check and the removal.
 */
export function giveUp(path: string, ino: bigint, me: Owner): void {
  const claim = readClaim(path);
  if (claim?.ino !== ino || !sameOwner(claim.owner, me)) return;
  removeIfThere(path);
}

/** Whether a claim's owner is `b`: the same process on the same host, started at the same time. */
export function sameOwner(a: Owner | undefined, b: Owner): boolean {
  return a?.pid === b.pid && a.host === b.host && a.started === b.started;
}

/**
 * Makes `path` name this process (`me`), unless a live process holds it. `depth` counts the take-over markers
 * above `path`. See the comment at the top of this file for why at most one process wins.
 */
export function takeName(path: string, me: Owner, hooks: ClaimHooks = {}, depth = 0): Taken {
  const { tmp, ino } = writeTemp(path, me);
  try {
    const waitUntil = Date.now() + TAKER_WAIT_MS;
    for (let changes = 0; changes <= MAX_CHANGES;) {
      if (linked(tmp, path)) {
        hooks.pause?.('created');
        return { won: true, ino };
      }
      const found = readClaim(path);
      if (found === undefined) {
        changes++; // given up since link() failed: try again
        continue;
      }
      if (found.owner !== undefined && isAlive(found.owner))
        return { won: false, holder: found.owner };
      hooks.pause?.('judged-stale');
      if (depth >= MAX_DEPTH) throw new ClaimStuckError(path);
      const marker = takeoverMarker(path, found.ino);
      const right = takeName(marker, me, hooks, depth + 1);
      if (!right.won) {
        // A live process is taking over the same stale claim: wait for it to finish, then look again.
        if (Date.now() >= waitUntil) return right;
        Atomics.wait(sleeper, 0, 0, TAKER_POLL_MS);
        continue;
      }
      try {
        const now = readClaim(path);
        if (now?.ino === found.ino && (now.owner === undefined || !isAlive(now.owner))) {
          hooks.pause?.('replacing');
          renameSync(tmp, path);
          return { won: true, ino, replaced: now.owner ?? null };
        }
      } finally {
        giveUp(marker, right.ino, me);
      }
      changes++; // replaced by a rival, or given up, before we held the marker
    }
    throw new ClaimContendedError(`${path} kept changing`);
  } finally {
    removeIfThere(tmp); // still there unless renamed; a link left it beside the name
  }
}
