/**
 * The datasets of the tests and of the benchmark, in one place. No test-framework globals: the benchmark
 * (`bench/`) and the test fixtures (child processes run from `dist/`) import it too.
 *
 * - Keyed datasets (`strings`, `mixed`): key `i` and its value are a function of `i` alone, so a dataset of any size
 *   is the same data every time, and a later change can name the keys it touches. The benchmark measures these.
 */
import type { ChainableCommander, Redis } from 'ioredis';

// ---- keyed datasets --------------------------------------------------------------------------------------------

/** The keyed datasets (the benchmark's `--datasets`). */
export const DATASETS = ['strings', 'mixed'] as const;
export type DatasetName = (typeof DATASETS)[number];

/** Length of a string value in the `strings` dataset (and of the `mixed` dataset's strings). */
export const STRING_VALUE_BYTES = 100;
/** Members of a hash, list, set or sorted set in the `mixed` dataset. */
export const COLLECTION_SIZE = 10;
/** Time to live given to one key in ten of the `mixed` dataset: long enough that none expires during a run. */
export const TTL_MS = 6 * 60 * 60 * 1000;
/** One key in this many is changed by {@link changeOnePercent} (1%). */
export const CHANGE_EVERY = 100;
/** Keys per pipeline when filling a client. */
const BATCH = 2000;

const ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';
const scratch = Buffer.alloc(STRING_VALUE_BYTES);

/**
 * A fresh, flat string of `length` (at most {@link STRING_VALUE_BYTES}) pseudo-random ASCII characters derived from
 * `seed` (what a value read from a socket looks like in V8: not a slice or concatenation of another string).
 */
function text(seed: number, length: number): string {
  let x = (seed * 2654435761 + 0x9e3779b9) >>> 0;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    scratch[i] = ALPHABET.charCodeAt(x % ALPHABET.length);
  }
  return scratch.toString('latin1', 0, length);
}

export type Kind = 'string' | 'hash' | 'list' | 'set' | 'zset';
const MIXED_KINDS: readonly Kind[] = ['string', 'hash', 'list', 'set', 'zset'];

/** The type of key `i`: in `mixed`, the five types in turn (`i % 5`: string, hash, list, set, sorted set). */
export function kindOf(dataset: DatasetName, i: number): Kind {
  return dataset === 'strings' ? 'string' : MIXED_KINDS[i % MIXED_KINDS.length];
}

/** The name of key `i`: `<type>:<i>`. */
export function keyOf(dataset: DatasetName, i: number): string {
  return `${kindOf(dataset, i)}:${i}`;
}

/** Whether key `i` has a TTL ({@link TTL_MS}): in `mixed`, one key in ten (`i % 10 === 3`). */
export function hasTtl(dataset: DatasetName, i: number): boolean {
  return dataset === 'mixed' && i % 10 === 3;
}

/** Queues the commands that create key `i` of `dataset`. */
function addKey(p: ChainableCommander, dataset: DatasetName, i: number): void {
  const key = keyOf(dataset, i);
  switch (kindOf(dataset, i)) {
    case 'string':
      p.set(key, text(i, STRING_VALUE_BYTES));
      break;
    case 'hash': {
      const fields: string[] = [];
      for (let j = 0; j < COLLECTION_SIZE; j++) fields.push(`field${j}`, text(i * 31 + j, 10));
      p.hset(key, ...fields);
      break;
    }
    case 'list': {
      const members: string[] = [];
      for (let j = 0; j < COLLECTION_SIZE; j++) members.push(text(i * 37 + j, 10));
      p.rpush(key, ...members);
      break;
    }
    case 'set': {
      const members: string[] = [];
      for (let j = 0; j < COLLECTION_SIZE; j++) members.push(`${j}-${text(i * 41 + j, 8)}`);
      p.sadd(key, ...members);
      break;
    }
    case 'zset': {
      const args: (string | number)[] = [];
      for (let j = 0; j < COLLECTION_SIZE; j++) args.push(j * 1.5 + (i % 7), `m${j}-${i}`);
      p.zadd(key, ...args);
      break;
    }
  }
  if (hasTtl(dataset, i)) p.pexpire(key, TTL_MS);
}

/** Queues the `n`-th change of a round: of key `i`, deleted when `n` is a multiple of ten. */
function changeKey(p: ChainableCommander, dataset: DatasetName, i: number, n: number): void {
  const key = keyOf(dataset, i);
  if (n % 10 === 0) {
    p.del(key);
    return;
  }
  const fresh = text(i + 7_000_000, 10);
  switch (kindOf(dataset, i)) {
    case 'string':
      p.set(key, text(i + 9_000_000, STRING_VALUE_BYTES));
      break;
    case 'hash':
      p.hset(key, 'field0', fresh);
      break;
    case 'list':
      p.lset(key, 0, fresh);
      break;
    case 'set':
      p.sadd(key, `x-${fresh}`);
      break;
    case 'zset':
      p.zadd(key, 99.25, `x-${fresh}`);
      break;
  }
}

async function runBatches(
  client: Redis,
  from: number,
  to: number,
  step: number,
  queue: (p: ChainableCommander, i: number) => void,
): Promise<void> {
  let p = client.pipeline();
  let queued = 0;
  for (let i = from; i < to; i += step) {
    queue(p, i);
    if (++queued === BATCH) {
      await execOrThrow(p);
      p = client.pipeline();
      queued = 0;
    }
  }
  if (queued > 0) await execOrThrow(p);
}

async function execOrThrow(p: ChainableCommander): Promise<void> {
  const results = await p.exec();
  for (const [error] of results ?? []) if (error) throw error;
}

/** Writes keys `0` to `keys - 1` of `dataset` into `client` through pipelines. */
export function fill(client: Redis, dataset: DatasetName, keys: number): Promise<void> {
  return runBatches(client, 0, keys, 1, (p, i) => addKey(p, dataset, i));
}

/**
 * Changes one key in {@link CHANGE_EVERY} of the first `keys`: keys `from`, `from + 100`, `from + 200`…, one in ten
 * of them deleted. The same `from` makes the same change every time; another `from` (below 100) changes other keys.
 * Returns how many keys it changed or deleted.
 */
export async function changeOnePercent(
  client: Redis,
  dataset: DatasetName,
  keys: number,
  from = 0,
): Promise<number> {
  await runBatches(client, from, keys, CHANGE_EVERY, (p, i) =>
    changeKey(p, dataset, i, (i - from) / CHANGE_EVERY),
  );
  return Math.max(0, Math.ceil((keys - from) / CHANGE_EVERY));
}
