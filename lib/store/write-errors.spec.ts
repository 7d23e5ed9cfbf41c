import { performance } from 'node:perf_hooks';
import { runInNewContext } from 'node:vm';
import { COMMIT_FAILED_NO_REASON } from './store.messages';
import { commitReason, explainWriteError, NO_REASON_IN_TIME } from './write-errors';

/** A rejection as lmdb-js makes one for a failed commit, its reason in `commitError`. */
function commitFailed(commitError: Promise<never>): Error {
  return Object.assign(new Error('Commit failed (see commitError for details)'), { commitError });
}

describe('explainWriteError', () => {
  it("gives lmdb-js's reason for a failed commit, with what its errno most likely means", async () => {
    const reason = Object.assign(new Error('No space left on device'), { code: 28 });
    const explained = await explainWriteError(commitFailed(Promise.reject(reason)));
    expect(explained.message).toBe(
      'LMDB could not commit the write: No space left on device (is the disk full?)',
    );
    expect(explained.cause).toBe(reason);
  });

  it('gives up waiting for a reason lmdb-js never gives (EPERM), saying what is known', async () => {
    // lmdb-js leaves `commitError` pending forever on a write refused with EPERM (an immutable store file).
    const base = commitFailed(new Promise<never>(() => undefined));
    const started = performance.now();
    const explained = await explainWriteError(base, 50);
    expect(performance.now() - started).toBeLessThan(1_000);
    expect(explained.message).toBe(COMMIT_FAILED_NO_REASON(50));
    expect(explained.cause).toBe(base);
  });

  it('reads the reason from an error of another realm, as lmdb-js may reject with under a test runner', async () => {
    const foreign = runInNewContext(
      'new Error("Commit failed (see commitError for details)")',
    ) as Error;
    expect(foreign instanceof Error).toBe(false);
    const reason = Object.assign(new Error('Operation not permitted'), { code: 1 });
    Object.assign(foreign, { commitError: Promise.reject(reason) });
    expect((await explainWriteError(foreign)).message).toBe(
      'LMDB could not commit the write: Operation not permitted (the store file or its file system cannot be written)',
    );
  });

  it('passes on any other error as it is', async () => {
    const error = new Error('some other failure');
    expect(await explainWriteError(error)).toBe(error);
    expect((await explainWriteError('text')).message).toBe('text');
  });
});

describe('commitReason', () => {
  it('handles a reason given after it stopped waiting: never an unhandled rejection', async () => {
    let reject: (reason: unknown) => void = () => undefined;
    const late = new Promise<never>((_resolve, fail) => (reject = fail));
    const unhandled = jest.fn();
    process.on('unhandledRejection', unhandled);
    try {
      expect(await commitReason(commitFailed(late), 10)).toBe(NO_REASON_IN_TIME);
      reject(new Error('too late'));
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });

  it('is undefined for an error without a reason promise, or one that resolved', async () => {
    expect(await commitReason(new Error('plain'))).toBeUndefined();
    expect(await commitReason(null)).toBeUndefined();
    const resolved = Object.assign(new Error('Commit failed'), { commitError: Promise.resolve() });
    expect(await commitReason(resolved)).toBeUndefined();
  });
});
