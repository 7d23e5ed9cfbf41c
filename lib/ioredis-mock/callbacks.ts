/** Node-style callbacks of the embedded client's methods, as ioredis calls them. */

export type Method = (...args: unknown[]) => unknown;

/** Calls `callback` (if any) with the outcome of `promise` on a later tick, as ioredis does; returns `promise`. */
export function settle(promise: Promise<unknown>, callback: Method | undefined): Promise<unknown> {
  if (callback !== undefined) {
    promise.then(
      (value) => process.nextTick(callback, null, value),
      (error: unknown) => process.nextTick(callback, error),
    );
  }
  return promise;
}
