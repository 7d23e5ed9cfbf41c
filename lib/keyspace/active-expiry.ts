/**
 * Active expiry, as Redis's active expire cycle does it: keys whose TTL has run out are deleted without a command
 * touching them, so that a cache of short-lived keys does not keep every expired one in memory (ioredis-mock's own
 * expiry is lazy only).
 *
 * A cycle takes samples of {@link KEYS_PER_SAMPLE} keys that have an expiry time and deletes the expired ones; it
 * goes on while more than {@link ACCEPTABLE_STALE} of a sample had expired (there are likely many more), and stops
 * once a sample finds few, or its time budget is spent. Each deletion is what a lazy expiry would have done: WATCH
 * sees it, and the next incremental snapshot writes a tombstone.
 */
import { performance } from 'node:perf_hooks';
import type { Keyspace } from './keyspace';

/** Keys looked at per sample (Redis's ACTIVE_EXPIRE_CYCLE_KEYS_PER_LOOP). */
export const KEYS_PER_SAMPLE = 20;
/** A sample with at most this share of expired keys ends the cycle (Redis's default of 10%). */
export const ACCEPTABLE_STALE = 0.1;

/** What a cycle did. */
export interface ExpireCycleResult {
  readonly checked: number;
  readonly expired: number;
  /** The cycle stopped at its deadline with expired keys still being found: more are likely left. */
  readonly timedOut: boolean;
}

/**
 * The steps of one cycle over `keyspace`, ending by `deadline` (a `performance.now()` time): it yields after each
 * sample, so that a caller running it in time slices gives the event loop a turn between them.
 */
export function* expireCycle(
  keyspace: Keyspace,
  deadline: number,
): Generator<void, ExpireCycleResult> {
  let checked = 0;
  let expired = 0;
  for (;;) {
    const step = keyspace.expireStep(Date.now(), KEYS_PER_SAMPLE);
    checked += step.checked;
    expired += step.expired;
    if (step.checked === 0 || step.expired <= step.checked * ACCEPTABLE_STALE) break;
    if (performance.now() >= deadline) return { checked, expired, timedOut: true };
    yield;
  }
  return { checked, expired, timedOut: false };
}
