import { performance } from 'node:perf_hooks';
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';

/**
 * Runs `steps` to its end without holding the event loop for long: whenever `sliceMs` have passed since the last
 * turn, it gives the event loop a turn, then awaits `between` (if given) before going on. Each step must be short
 * (the slice is only checked between steps). Resolves to the iterator's return value.
 */
export async function runInSlices<T>(
  steps: Iterator<unknown, T>,
  sliceMs: number,
  between?: () => Promise<void>,
): Promise<T> {
  let sliceStart = performance.now();
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
    if (performance.now() - sliceStart >= sliceMs) {
      await yieldToEventLoop();
      if (between !== undefined) await between();
      sliceStart = performance.now();
    }
  }
}

/** Runs `steps` to its end at once. Returns the iterator's return value. */
export function runAtOnce<T>(steps: Iterator<unknown, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}
