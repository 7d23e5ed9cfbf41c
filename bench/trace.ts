/**
 * Deterministic request traces for the memory benchmark: a seeded PRNG, a Zipf generator, and the exact-LRU hit
 * count of a trace (the reference an approximate LRU is judged against). No dependency on the library.
 */

import { prng } from '../test/support/prng';

export { prng };

/** A seeded random permutation of `0 … n-1` (Fisher–Yates). */
export function permutation(n: number, random: () => number): Uint32Array {
  const ids = new Uint32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = ids[i];
    ids[i] = ids[j];
    ids[j] = t;
  }
  return ids;
}

/**
 * `length` requests over the key ids `0 … keys-1`, Zipf-distributed with exponent `s`: the rank-`r` key (from 0) is
 * drawn with probability ∝ 1/(r+1)^s, by inverse CDF (a table of cumulative weights and a binary search). Ranks map
 * to ids through a seeded permutation, so popularity does not follow the id. Same arguments, same trace.
 */
export function zipfTrace(keys: number, length: number, s: number, seed: number): Uint32Array {
  const random = prng(seed);
  const idOfRank = permutation(keys, random);
  const cdf = new Float64Array(keys);
  let total = 0;
  for (let r = 0; r < keys; r++) {
    total += 1 / Math.pow(r + 1, s);
    cdf[r] = total;
  }
  const trace = new Uint32Array(length);
  for (let i = 0; i < length; i++) {
    const u = random() * total;
    // The smallest rank whose cumulative weight exceeds u.
    let lo = 0;
    let hi = keys - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    trace[i] = idOfRank[lo];
  }
  return trace;
}

/** Probability of the most popular key of a Zipf(`s`) law over `keys` keys. */
export function zipfTopShare(keys: number, s: number): number {
  let total = 0;
  for (let r = 0; r < keys; r++) total += 1 / Math.pow(r + 1, s);
  return 1 / total;
}

/**
 * Hits of an exact LRU cache holding at most `capacity` keys on `trace` (key ids below `keys`), replayed the way the
 * benchmark drives a cache: in batches of `batch` requests, first every GET of the batch (a hit makes the key the
 * most recent), then a SET of each miss in order (inserting it as the most recent, evicting the least recent beyond
 * the capacity). `batch = 1` is the plain sequential LRU. A doubly linked list over typed arrays: O(1) a request.
 */
export function exactLruHits(
  trace: Uint32Array,
  keys: number,
  capacity: number,
  batch: number,
): number {
  const NONE = -1;
  const prev = new Int32Array(keys).fill(NONE);
  const next = new Int32Array(keys).fill(NONE);
  const cached = new Uint8Array(keys);
  /** Least recently used (evicted first) and most recently used ends. */
  let lru = NONE;
  let mru = NONE;
  let size = 0;
  const unlink = (k: number): void => {
    const p = prev[k];
    const n = next[k];
    if (p === NONE) lru = n;
    else next[p] = n;
    if (n === NONE) mru = p;
    else prev[n] = p;
    prev[k] = NONE;
    next[k] = NONE;
  };
  const pushMru = (k: number): void => {
    prev[k] = mru;
    next[k] = NONE;
    if (mru === NONE) lru = k;
    else next[mru] = k;
    mru = k;
  };
  let hits = 0;
  const misses = new Uint32Array(batch);
  for (let start = 0; start < trace.length; start += batch) {
    const end = Math.min(trace.length, start + batch);
    let missCount = 0;
    for (let i = start; i < end; i++) {
      const k = trace[i];
      if (cached[k] === 1) {
        hits++;
        unlink(k);
        pushMru(k);
      } else {
        misses[missCount++] = k;
      }
    }
    for (let i = 0; i < missCount; i++) {
      const k = misses[i];
      if (cached[k] === 1) {
        // Missed twice in the batch: the second SET overwrites, making it the most recent again.
        unlink(k);
      } else {
        cached[k] = 1;
        size++;
      }
      pushMru(k);
      if (size > capacity) {
        const victim = lru;
        unlink(victim);
        cached[victim] = 0;
        size--;
      }
    }
  }
  return hits;
}
