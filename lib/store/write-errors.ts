import { asError } from '../util/errors';

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
 * lmdb-js rejects a failed commit with "Commit failed (see commitError for details)" and the reason in a second
 * promise, which would otherwise go unhandled. Returns an error that says what happened.
 */
export async function explainWriteError(error: unknown): Promise<Error> {
  const base = asError(error);
  const commitError = (base as { commitError?: unknown }).commitError;
  if (!(commitError instanceof Promise)) return base;
  const cause: unknown = await commitError.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (cause === undefined) return base;
  const hint = WRITE_ERROR_HINTS.get((cause as { code?: unknown }).code as number | string) ?? '';
  const reason = cause instanceof Error ? cause.message : JSON.stringify(cause);
  return new Error(`LMDB could not commit the write: ${reason}${hint}`, { cause });
}
