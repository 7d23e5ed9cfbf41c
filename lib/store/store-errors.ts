import { constants } from 'node:os';
import { STORE_FILE_MISSING, STORE_FILE_OPEN_FAILED, STORE_FILE_REPLACED } from './store.messages';
import { messageOf } from '../util/errors';

/**
 * Thrown when the snapshot store cannot be used for a reason that is not damage to its content: permissions, the
 * kind of a file, a full disk, a check that could not run. A restore never quarantines a store for it, whatever
 * `onRestoreError` says: the message names the path, the error code and what to fix, and nothing was moved.
 */
export class StoreEnvironmentError extends Error {
  override name = 'StoreEnvironmentError';

  constructor(
    message: string,
    /** The error code behind it (`EACCES`, `ENOSPC`, …), when there is one. */
    readonly code?: string,
  ) {
    super(message);
  }
}

/**
 * Thrown by `SnapshotStore.open`, `read` and `manifest` when the stored snapshot is damaged or in a format this
 * version does not read.
 */
export class UnreadableSnapshotError extends Error {
  override name = 'UnreadableSnapshotError';
}

/**
 * Thrown by `SnapshotStore.beginWrite` and at a snapshot's commit when the store file at the path is no longer the
 * one this process writes: deleted (`missing`; `SnapshotStore.recreate` makes a new one) or replaced by another file
 * (left alone).
 */
export class StoreMovedError extends Error {
  override name = 'StoreMovedError';

  constructor(
    readonly path: string,
    readonly missing: boolean,
  ) {
    super(missing ? STORE_FILE_MISSING(path) : STORE_FILE_REPLACED(path));
  }
}

/** Error codes that mean there is no room to write: never damage. */
export const NO_SPACE_CODES: ReadonlySet<string> = new Set(['ENOSPC', 'EDQUOT', 'EFBIG']);

const NAME_OF_ERRNO = new Map<number, string>(
  Object.entries(constants.errno).map(([name, value]) => [value, name]),
);

/**
 * What `strerror` says for the codes a file operation may end with. lmdb-js reports some failures (a `backup()`,
 * for one) with the message only.
 */
const CODE_OF_MESSAGE: readonly (readonly [string, string])[] = [
  ['No space left on device', 'ENOSPC'],
  ['Disk quota exceeded', 'EDQUOT'],
  ['File too large', 'EFBIG'],
  ['Permission denied', 'EACCES'],
  ['Operation not permitted', 'EPERM'],
  ['Read-only file system', 'EROFS'],
  ['Input/output error', 'EIO'],
  ['No such file or directory', 'ENOENT'],
  ['File exists', 'EEXIST'],
  ['Is a directory', 'EISDIR'],
  ['Not a directory', 'ENOTDIR'],
  ['Too many levels of symbolic links', 'ELOOP'],
  ['Cannot allocate memory', 'ENOMEM'],
  ['Too many open files', 'EMFILE'],
  ['Resource temporarily unavailable', 'EAGAIN'],
  ['Text file busy', 'ETXTBSY'],
  ['No such device', 'ENODEV'],
  ['Invalid argument', 'EINVAL'],
];

/**
 * The operating-system error code (`EACCES`, …) behind an error: Node's string codes, lmdb-js's numeric ones (a
 * positive errno; LMDB's own codes are negative and are not errno), or a `strerror` message.
 */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^E[A-Z0-9]+$/.test(code)) return code;
  if (typeof code === 'number' && code > 0) return NAME_OF_ERRNO.get(code);
  const message = (error as { message?: unknown } | null)?.message;
  if (typeof message !== 'string') return undefined;
  return CODE_OF_MESSAGE.find(([text]) => message.includes(text))?.[1];
}

/**
 * An LMDB error opening `path`: one with an error code (a permission, a missing file…) is a
 * {@link StoreEnvironmentError} naming the path; any other is what `otherwise` makes of it.
 */
export function explainOpenError(
  path: string,
  error: unknown,
  otherwise: (error: unknown) => Error,
): Error {
  const code = errnoCode(error);
  if (code === undefined) return otherwise(error);
  return new StoreEnvironmentError(STORE_FILE_OPEN_FAILED(path, code, messageOf(error)), code);
}
