import { errnoCode, NO_SPACE_CODES } from './store-errors';

/**
 * What the check process's run (see `check-file.child.ts`) says about the store file. Only proof of damage to its
 * content is `damaged`: a problem the child found, an LMDB error about the content, or a native crash while LMDB
 * read or wrote the file's pages with room to spare. A full disk, a permission, a signal sent from outside, a time
 * limit, a process that could not start are `unusable` (fail the bootstrap, move nothing) or, once the reads have
 * passed, `not-rehearsed` (a warning).
 */
export type CheckVerdict =
  | { readonly verdict: 'sound'; readonly rehearsed: boolean }
  | { readonly verdict: 'damaged'; readonly problem: string }
  | { readonly verdict: 'not-rehearsed'; readonly reason: string; readonly noSpace: boolean }
  | {
      readonly verdict: 'unusable';
      readonly reason: string;
      readonly code?: string;
      readonly noSpace: boolean;
    };

/** How the check process ended. */
export interface CheckRun {
  readonly exitCode: number | null;
  readonly signal: string | null;
  readonly timedOut: boolean;
  readonly timeoutMs: number;
  readonly stdout: string;
  readonly stderr: string;
  /** Whether the file system of the store (and of the rehearsal's copy) was nearly full when it ended. */
  readonly lowSpace: boolean;
}

type Stage = 'open' | 'read' | 'copy' | 'rehearse';

interface Failed {
  readonly stage: Stage;
  readonly code: string | number | null;
  readonly message: string;
}

interface Done {
  readonly problem: string | null;
  readonly rehearsed: boolean;
}

/** Signals of a native crash: LMDB followed a bad page number, or touched a page the file system cannot back. */
const CRASH_SIGNALS = new Set([
  'SIGSEGV',
  'SIGBUS',
  'SIGABRT',
  'SIGILL',
  'SIGFPE',
  'SIGSYS',
  'SIGTRAP',
]);

/** LMDB's own error codes that are about the environment (limits, a lock file), not the file's content. */
const LMDB_ENVIRONMENT_CODES: ReadonlyMap<number, string> = new Map([
  [-30794, 'MDB_VERSION_MISMATCH'],
  [-30792, 'MDB_MAP_FULL'],
  [-30791, 'MDB_DBS_FULL'],
  [-30790, 'MDB_READERS_FULL'],
  [-30789, 'MDB_TLS_FULL'],
  [-30788, 'MDB_TXN_FULL'],
  [-30785, 'MDB_MAP_RESIZED'],
  [-30783, 'MDB_BAD_RSLOT'],
  [-30775, 'MDB_LOCK_FAILURE'],
]);
/**
 * What LMDB says about a transaction after an earlier write in it failed: on a nearly full disk that write was a
 * short one; with room to spare, LMDB met damage (the fuzz found a zeroed range that fails this way).
 */
const LMDB_AFTER_FAILED_WRITE: ReadonlySet<number> = new Set([-30795, -30782]); // MDB_PANIC, MDB_BAD_TXN

/** Error codes of a failed copy that are about where it goes (or the machine), not about the file copied. */
const COPY_ENVIRONMENT_CODES: ReadonlySet<string> = new Set([
  'EACCES',
  'EPERM',
  'EROFS',
  'EEXIST',
  'EMFILE',
  'ENFILE',
  'ENOMEM',
]);

const DOING: Record<Stage, string> = {
  open: 'opening it',
  read: 'reading it',
  copy: 'copying it',
  rehearse: 'rehearsing writes on a copy of it',
};

export function judgeCheckRun(run: CheckRun): CheckVerdict {
  let stage: Stage = 'open';
  let done: Done | undefined;
  let failed: Failed | undefined;
  for (const line of run.stdout.split('\n')) {
    if (line.trim() === '') continue;
    let message: { stage?: Stage; done?: Done; failed?: Failed };
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      continue; // not ours: something lmdb-js or Node printed
    }
    if (message.stage !== undefined) stage = message.stage;
    if (message.done !== undefined) done = message.done;
    if (message.failed !== undefined) failed = message.failed;
  }
  const writing = stage === 'copy' || stage === 'rehearse';

  if (run.timedOut) {
    return unusable(
      `the check process did not finish within ${Math.round(run.timeoutMs / 1000)} s (it was ${DOING[stage]}; ` +
        'is the disk very slow or the machine overloaded?)',
    );
  }
  if (run.signal !== null) {
    const how = `the check process was killed by ${run.signal} while ${DOING[stage]}`;
    if (!CRASH_SIGNALS.has(run.signal)) {
      return unusable(
        `${how} (sent from outside: out of memory, or the application being stopped)`,
      );
    }
    if (run.lowSpace) {
      const reason = `${how}, with the file system nearly full`;
      return writing
        ? { verdict: 'not-rehearsed', reason, noSpace: true }
        : unusable(reason, 'ENOSPC', true);
    }
    return damaged(
      writing ? `LMDB crashed ${DOING[stage]} (${how})` : `LMDB cannot read the file (${how})`,
    );
  }
  if (failed !== undefined) return judgeFailure(failed, run.lowSpace);
  if (run.exitCode !== 0) {
    return unusable(
      `the check process failed (exit code ${run.exitCode}): ${errorLine(run.stderr)}`,
    );
  }
  if (done === undefined) return unusable('the check process gave no result');
  if (done.problem !== null) return damaged(done.problem);
  return { verdict: 'sound', rehearsed: done.rehearsed };
}

/** An error the check process caught and reported. */
function judgeFailure(failed: Failed, lowSpace: boolean): CheckVerdict {
  const { stage, message } = failed;
  const writing = stage === 'copy' || stage === 'rehearse';
  const errno = errnoCode({ code: failed.code ?? undefined, message });
  const lmdbCode =
    typeof failed.code === 'number' ? LMDB_ENVIRONMENT_CODES.get(failed.code) : undefined;
  // LMDB reports a write the disk took only part of as EIO.
  const noSpace =
    (errno !== undefined && NO_SPACE_CODES.has(errno)) ||
    ((errno === 'EIO' || LMDB_AFTER_FAILED_WRITE.has(Number(failed.code))) && lowSpace) ||
    lmdbCode === 'MDB_MAP_FULL' ||
    message.includes('MDB_MAP_FULL');
  const code = errno ?? lmdbCode;
  const reason = `${message}${code === undefined ? '' : ` (${code})`}`;
  if (stage === 'copy') {
    // Copying reads every page up to the last one in use: it fails (EINVAL, EFAULT, EIO) on a file whose pages
    // are missing or cannot be read. Only no room, or no access to the scratch directory, is not the file's fault.
    if (noSpace || (errno !== undefined && COPY_ENVIRONMENT_CODES.has(errno))) {
      return { verdict: 'not-rehearsed', reason, noSpace };
    }
    return damaged(`LMDB cannot copy the file (${reason})`);
  }
  if (writing) {
    // Writing to the copy: only an LMDB error about the content itself shows damage.
    if (noSpace || code !== undefined) return { verdict: 'not-rehearsed', reason, noSpace };
    return damaged(`writes rehearsed on a copy of it failed: ${message}`);
  }
  if (code !== undefined) {
    return unusable(`LMDB failed ${DOING[stage]}: ${message} (${code})`, code, noSpace);
  }
  return damaged(`LMDB cannot read the file (${message})`);
}

function damaged(problem: string): CheckVerdict {
  return { verdict: 'damaged', problem };
}

function unusable(reason: string, code?: string, noSpace = false): CheckVerdict {
  return { verdict: 'unusable', reason, code, noSpace };
}

/** The line of a failed process's stderr that says what went wrong (not its stack, nor Node's version banner). */
export function errorLine(stderr: string): string {
  const lines = stderr
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('at ') && !/^Node\.js v\d/.test(l) && l !== '^');
  return (
    lines.find((l) => /^[A-Za-z]*Error\b|^Error:|ERR_/.test(l)) ??
    lines[lines.length - 1] ??
    '(no output)'
  );
}
