import { asError } from '../util/errors';
import { TimeoutError, withTimeout } from '../util/timeout';
import { COMMIT_FAILED_NO_REASON } from './store.messages';

/**
 * How long to wait for the reason lmdb-js gives for a failed commit (see {@link commitReason}). When it gives one, it
 * does in the same turn of its write thread's callback as the rejection.
 */
export const COMMIT_REASON_WAIT_MS = 1_000;

/** What {@link commitReason} returns when lmdb-js gave no reason in time. */
export const NO_REASON_IN_TIME: unique symbol = Symbol('no reason in time');

/** What a failed write's errno (lmdb-js gives numbers, Node names) most likely means for an operator. */
const WRITE_ERROR_HINTS = new Map<number | string, string>();
for (const [codes, hint] of [
  [[28, 'ENOSPC'], ' (is the disk full?)'],
  [[122, 'EDQUOT'], ' (is the disk quota exceeded?)'],
  [[27, 'EFBIG'], ' (is the file size limited? see `ulimit -f`)'],
  // LMDB reports a full disk or a file size limit met while it flushes spilled pages as EIO.
  [[5, 'EIO'], ' (is the disk full? Else the file size may be limited, or the disk failing)'],
  [
    [1, 13, 30, 'EPERM', 'EACCES', 'EROFS'],
    ' (the store file or its file system cannot be written)',
  ],
] as const) {
  for (const code of codes) WRITE_ERROR_HINTS.set(code, hint);
}

/**
 * The reason lmdb-js gives for a failed commit: it rejects the write with "Commit failed (see commitError for
 * details)" and the reason in a second promise, `commitError`, which would otherwise go unhandled. On some failures
 * (a write refused with EPERM: an immutable store file) lmdb-js never settles that promise, and awaiting it would
 * hang the snapshot, everything queued after it and the shutdown: it is awaited `ms` at most ({@link
 * NO_REASON_IN_TIME} then; a later rejection is still handled). `undefined` when `error` holds no such promise, or
 * the promise resolved.
 */
export async function commitReason(error: unknown, ms = COMMIT_REASON_WAIT_MS): Promise<unknown> {
  const commitError = (error as { commitError?: unknown } | null)?.commitError;
  if (typeof (commitError as PromiseLike<unknown> | undefined)?.then !== 'function')
    return undefined;
  const reason = Promise.resolve(commitError).then(
    () => undefined,
    (cause: unknown) => cause,
  );
  // The timer is cleared once the race is over, so it never keeps the process alive longer than `ms`; it is not
  // unref'd, so that a shutdown waiting here is not cut short by the process exiting.
  return withTimeout(reason, ms).catch((timeout: unknown) => {
    if (timeout instanceof TimeoutError) return NO_REASON_IN_TIME;
    throw timeout;
  });
}

/** An error that says why a write failed, with lmdb-js's reason for a failed commit if it gives one in time. */
export async function explainWriteError(
  error: unknown,
  waitMs = COMMIT_REASON_WAIT_MS,
): Promise<Error> {
  // Read from `error` itself: lmdb-js's errors may come from another realm (a test runner's), which `asError` copies.
  const cause = await commitReason(error, waitMs);
  if (cause === NO_REASON_IN_TIME) {
    return new Error(COMMIT_FAILED_NO_REASON(waitMs), { cause: error });
  }
  if (cause === undefined) return asError(error);
  const { code, message } = Object(cause) as { code?: unknown; message?: unknown };
  const hint = WRITE_ERROR_HINTS.get(code as number | string) ?? '';
  const reason = typeof message === 'string' ? message : JSON.stringify(cause);
  return new Error(`LMDB could not commit the write: ${reason}${hint}`, { cause });
}
