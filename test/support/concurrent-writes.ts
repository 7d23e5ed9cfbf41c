import { setImmediate } from 'node:timers/promises';

/**
 * Awaits `work` (a snapshot, say) while `write(step)` runs for steps `first`, `first + 1`, … from the next turn on
 * (the work has begun by then), a turn given to the event loop every `turnEvery` writes: ioredis-mock answers in
 * microtasks, where real writes arrive as I/O events between the work's slices. Returns the work's result and how
 * many writes ran meanwhile.
 */
export async function whileWriting<T>(
  work: Promise<T>,
  first: number,
  turnEvery: number,
  write: (step: number) => Promise<unknown>,
): Promise<{ result: T; writes: number }> {
  let writes = 0;
  let done = false;
  const writer = (async () => {
    await setImmediate();
    for (let step = first; !done; step++) {
      await write(step);
      writes++;
      if (step % turnEvery === 0) await setImmediate();
    }
  })();
  try {
    return { result: await work, writes };
  } finally {
    done = true;
    await writer;
  }
}
