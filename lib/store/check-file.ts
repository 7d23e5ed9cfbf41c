import { execFile } from 'node:child_process';
import { lstatSync } from 'node:fs';
import { dirname, join } from 'node:path';
import {
  LOW_SPACE_NO_REHEARSAL,
  NO_SPACE,
  REHEARSAL_FAILED,
  STORE_CHECK_FAILED,
} from './store.messages';
import { CHECK_FILE_CHILD } from './check-file.child';
import { judgeCheckRun, type CheckVerdict } from './check-verdict';
import { LOCK_FILE_BYTES } from './data-dir';
import { freeBytes, LOW_SPACE_BYTES, rehearsalNeeds } from './free-space';
import { createScratchDir, removeDeadScratch, removeScratchDir } from './scratch';
import { StoreEnvironmentError } from './store-errors';
import { messageOf } from '../util/errors';

/**
 * LMDB is native code that maps the file into memory and follows the page numbers it finds there: a damaged file
 * can make it read outside the map, or trip an assertion while writing, and kill the process with SIGSEGV, SIGBUS
 * or SIGABRT, which no `try` catches. So before the host process opens a store file, a short-lived child process
 * opens it read-only and walks everything the host will read — every page of both tables, every value, each CRC —
 * the same way the host reads it. If the child dies, the file is reported as damaged and the host never maps it.
 *
 * Reads are not all: a damaged free-page list or branch page can crash LMDB when it writes. So the child then
 * copies the file byte for byte into a scratch directory of its own (again if the app committed meanwhile, and
 * after three tries with LMDB's own consistent copy), rehearses on the copy the writes the host makes after a
 * restore, and the copy is removed. A file shorter than its pages is damage found before any of that. Where there is not room for the copy and the rehearsal, only the reads are
 * checked, and a warning says that snapshots will fail until space is freed.
 *
 * Only proof of damage is reported as such (see `check-verdict.ts`); a check that cannot run or finish throws a
 * {@link StoreEnvironmentError}.
 */

/** How long the check and the rehearsal may take per MiB of file, on top of starting Node. */
const MS_PER_MIB = 100;
const BASE_TIMEOUT_MS = 30_000;

/** What the check found in a file it could check. */
export interface StoreFileCheck {
  /** What is wrong with the file's content, if anything: it is damaged. */
  readonly problem?: string;
  /** Why the writes were not rehearsed, when they were not (e.g. a full disk); the reads passed. */
  readonly warning?: string;
}

/**
 * Checks the store file at `path` in a child process. The caller has checked the file's kind and permissions and
 * reserved its lock file (`data-dir.ts`). With `readOnlyAt` (see `read-only-view.ts`), for a process that only
 * reads: the child opens the store there, only its reads are checked, and nothing is made in the data directory.
 */
export async function checkStoreFile(path: string, readOnlyAt?: string): Promise<StoreFileCheck> {
  const dataDir = dirname(path);
  const stat = lstatSync(path);
  if (stat.size === 0) return { problem: 'the file is empty' };
  if (readOnlyAt !== undefined) return judge(path, await runCheck(readOnlyAt, '', stat.size));
  removeDeadScratch(dataDir);
  const free = freeBytes(dataDir);
  const needed = rehearsalNeeds(stat.size);
  let scratch: string | undefined;
  let noScratch: string | undefined; // why there is no scratch directory, when there is room for one
  if (free === undefined || free >= needed) {
    try {
      scratch = createScratchDir(dataDir, stat);
    } catch (error) {
      noScratch = `cannot create a scratch directory in ${dataDir}: ${messageOf(error)}`;
    }
  }
  let verdict: CheckVerdict;
  try {
    const copyPath = scratch === undefined ? '' : join(scratch, 'copy.mdb');
    verdict = await runCheck(path, copyPath, stat.size);
  } finally {
    if (scratch !== undefined) removeScratchDir(scratch);
  }
  return judge(path, verdict, { free, needed, noScratch });
}

/** What the host makes of the check's verdict; `rehearsal`: what was known of the rehearsal's room, if one was meant. */
function judge(
  path: string,
  verdict: CheckVerdict,
  rehearsal?: { free: number | undefined; needed: number; noScratch: string | undefined },
): StoreFileCheck {
  const dataDir = dirname(path);
  switch (verdict.verdict) {
    case 'damaged':
      return { problem: verdict.problem };
    case 'unusable':
      if (verdict.noSpace) {
        throw new StoreEnvironmentError(
          NO_SPACE(dataDir, `check ${path}: ${verdict.reason}`, freeBytes(dataDir)),
          verdict.code,
        );
      }
      throw new StoreEnvironmentError(STORE_CHECK_FAILED(path, verdict.reason), verdict.code);
    case 'not-rehearsed':
      return {
        warning: verdict.noSpace
          ? LOW_SPACE_NO_REHEARSAL(path, freeBytes(dataDir), rehearsal?.needed, verdict.reason)
          : REHEARSAL_FAILED(path, verdict.reason),
      };
    case 'sound':
      if (verdict.rehearsed || rehearsal === undefined) return {};
      return {
        warning:
          rehearsal.noScratch === undefined
            ? LOW_SPACE_NO_REHEARSAL(path, rehearsal.free, rehearsal.needed)
            : REHEARSAL_FAILED(path, rehearsal.noScratch),
      };
  }
}

type ChildError = Error & { code?: unknown; killed?: boolean; signal?: NodeJS.Signals | null };

/** @internal Runs the check process on `path`, rehearsing on a copy at `copyPath` (empty: no rehearsal). */
export function runCheck(path: string, copyPath: string, size: number): Promise<CheckVerdict> {
  const timeoutMs = BASE_TIMEOUT_MS + Math.ceil(size / 2 ** 20) * MS_PER_MIB;
  const args = [
    '-e',
    CHECK_FILE_CHILD,
    require.resolve('lmdb'),
    path,
    copyPath,
    String(LOCK_FILE_BYTES),
  ];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      args,
      { timeout: timeoutMs, maxBuffer: 1024 * 1024, env: {} },
      (error, stdout, stderr) => {
        // Judged before the scratch copy is removed: the space it takes is part of what the check ran into.
        const lowSpace = [path, copyPath].some((file) => {
          const free = file === '' ? undefined : freeBytes(dirname(file));
          return free !== undefined && free < LOW_SPACE_BYTES;
        });
        const failure = error as ChildError | null;
        resolve(
          judgeCheckRun({
            exitCode: failure === null ? 0 : typeof failure.code === 'number' ? failure.code : null,
            signal: failure?.signal ?? null,
            timedOut: failure?.killed === true && failure.signal === 'SIGTERM',
            timeoutMs,
            stdout,
            // A process that could not start has no stderr: its error says why.
            stderr: stderr === '' && failure !== null ? failure.message : stderr,
            lowSpace,
          }),
        );
      },
    );
  });
}
