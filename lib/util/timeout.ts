/** The rejection of {@link withTimeout} when time ran out. */
export class TimeoutError extends Error {
  override name = 'TimeoutError';
}

/**
 * `promise`, or a {@link TimeoutError} (with `message`, by default "no answer within <ms> ms") after `ms`. The timer
 * never outlives the race, so it keeps no process alive.
 */
export async function withTimeout<T>(
  promise: Promise<T>,
  ms: number,
  message?: string,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(message ?? `no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}
