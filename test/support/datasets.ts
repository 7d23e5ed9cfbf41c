/**
 * The datasets of the tests and of the benchmark, in one place. No test-framework globals: the benchmark
 * (`bench/`) and the test fixtures (child processes run from `dist/`) import it too.
 *
 * - Keyed datasets (`strings`, `mixed`): key `i` and its value are a function of `i` alone, so a dataset of any size
 *   is the same data every time, and a later change can name the keys it touches. The benchmark measures these.
 * - The churn dataset: random keys of every type drawn from a seeded PRNG (`prng.ts`), and random writes to them
 *   (the crash test's child).
 * - Records: keys with their type, value and TTL as a test states them, written by {@link load} (the persistence
 *   suite's property test generates them).
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

/**
 * What a write to an existing key `i` of a keyed dataset sets, by its type: the string's value, the hash's `field0`,
 * the list's first element, a member added to the set, a member of the sorted set and its score.
 */
export interface KeyWrite {
  readonly string: string;
  readonly field0: string;
  readonly head: string;
  readonly setMember: string;
  readonly zsetMember: string;
  readonly score: number;
}

/** Queues the write of `write`'s part for key `i`'s type (see {@link KeyWrite}). */
export function queueKeyWrite(
  p: ChainableCommander,
  dataset: DatasetName,
  i: number,
  write: KeyWrite,
): void {
  const key = keyOf(dataset, i);
  switch (kindOf(dataset, i)) {
    case 'string':
      p.set(key, write.string);
      break;
    case 'hash':
      p.hset(key, 'field0', write.field0);
      break;
    case 'list':
      p.lset(key, 0, write.head);
      break;
    case 'set':
      p.sadd(key, write.setMember);
      break;
    case 'zset':
      p.zadd(key, write.score, write.zsetMember);
      break;
  }
}

/** Queues the `n`-th change of a round: of key `i`, deleted when `n` is a multiple of ten. */
function changeKey(p: ChainableCommander, dataset: DatasetName, i: number, n: number): void {
  if (n % 10 === 0) {
    p.del(keyOf(dataset, i));
    return;
  }
  const fresh = text(i + 7_000_000, 10);
  queueKeyWrite(p, dataset, i, {
    string: text(i + 9_000_000, STRING_VALUE_BYTES),
    field0: fresh,
    head: fresh,
    setMember: `x-${fresh}`,
    zsetMember: `x-${fresh}`,
    score: 99.25,
  });
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

// ---- random values from a seeded PRNG ------------------------------------------------------------------------

/** A source of numbers in [0, 1): `prng(seed)` from `prng.ts`, so that a run can be replayed. */
export type Random = () => number;

/** An integer in [0, n). */
export const randomInt = (random: Random, n: number): number => Math.floor(random() * n);

/** `length` characters of base-36 text. */
export function randomText(random: Random, length: number): string {
  let out = '';
  while (out.length < length) out += random().toString(36).slice(2);
  return out.slice(0, length);
}

/** `length` random bytes (not UTF-8 text, mostly). */
export function randomBuffer(random: Random, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = randomInt(random, 256);
  return out;
}

/** A sorted-set score: now and then `inf` or `-inf`, otherwise an integer or a fraction. */
export function randomScore(random: Random): number | string {
  return random() < 0.05
    ? pick(random, ['inf', '-inf'])
    : random() < 0.5
      ? randomInt(random, 1000)
      : (random() - 0.5) * 1e6;
}

function pick<T>(random: Random, items: readonly T[]): T {
  return items[randomInt(random, items.length)];
}

// ---- the churn dataset: random keys of every type, and random writes to them -------------------------------

// Key families, by type, so that no command meets a key of another type.
const families = {
  string: 's',
  binary: 'b',
  large: 'L',
  counter: 'c',
  hash: 'h',
  list: 'l',
  zset: 'z',
  set: 't',
} as const;
type Family = keyof typeof families;
/** Share of the initial dataset per family. */
const shares: Record<Family, number> = {
  string: 0.37,
  binary: 0.1,
  large: 0.05,
  counter: 0.05,
  hash: 0.13,
  list: 0.1,
  zset: 0.1,
  set: 0.1,
};
const familyNames = Object.keys(families) as Family[];
/** Hot keys per family, spread over the keyspace: several writes to one key during a snapshot are common. */
const HOT_KEYS = 8;

export interface Churn {
  /** Fills an empty keyspace with the initial dataset: `initialKeys` keys, one in ten given a TTL. */
  populate(redis: Redis): Promise<void>;
  /** One random write (set, change, delete, TTL set or dropped) to a key of the dataset. */
  write(redis: Redis): Promise<unknown>;
}

/**
 * Random keys of every type (strings, binary and large values, counters, hashes, lists, sorted sets, sets) and
 * random writes to them, all drawn from `random`: the same seed replays the same data and writes.
 */
export function churn(random: Random, initialKeys: number): Churn {
  const int = (n: number): number => randomInt(random, n);
  const count = (family: Family): number => Math.max(1, Math.round(initialKeys * shares[family]));
  const keyOfFamily = (family: Family): string => {
    const n = count(family);
    const index = random() < 0.3 ? int(Math.min(HOT_KEYS, n)) * Math.floor(n / HOT_KEYS) : int(n);
    return `${families[family]}:${index}`;
  };
  /** TTLs from one to 48 hours: long enough never to run out during a run. */
  const ttlSeconds = (): number => 3600 + int(47 * 3600);
  const text = (length: number): string => randomText(random, length);
  const bytes = (length: number): Buffer => randomBuffer(random, length);
  const score = (): number | string => randomScore(random);

  async function write(redis: Redis): Promise<unknown> {
    const family = pick(random, familyNames);
    const key = keyOfFamily(family);
    const r = random();
    if (r < 0.04) return redis.del(key);
    if (r < 0.08) return redis.expire(key, ttlSeconds());
    if (r < 0.09) return redis.persist(key);
    switch (family) {
      case 'string':
        return random() < 0.2
          ? redis.set(key, text(8 + int(200)), 'EX', ttlSeconds())
          : redis.set(key, text(8 + int(200)));
      case 'binary':
        return redis.set(key, bytes(1 + int(512)));
      case 'large':
        return redis.set(key, bytes(8 * 1024 + int(56 * 1024)));
      case 'counter':
        return redis.incrby(key, int(100) - 50);
      case 'hash':
        return random() < 0.2
          ? redis.hdel(key, `f${int(30)}`)
          : redis.hset(key, `f${int(30)}`, random() < 0.3 ? bytes(int(64)) : text(int(80)));
      case 'list':
        if (random() < 0.2) return redis.lpop(key);
        await redis.rpush(key, text(int(40)), bytes(int(24)));
        return redis.ltrim(key, -60, -1);
      case 'zset':
        return random() < 0.2
          ? redis.zrem(key, `m${int(60)}`)
          : redis.zadd(key, score(), `m${int(60)}`);
      case 'set':
        return random() < 0.2 ? redis.srem(key, `m${int(40)}`) : redis.sadd(key, `m${int(40)}`);
    }
  }

  async function populate(redis: Redis): Promise<void> {
    const batch: Promise<unknown>[] = [];
    const flush = async (): Promise<void> => {
      await Promise.all(batch.splice(0));
    };
    for (let i = 0; i < count('string'); i++) batch.push(redis.set(`s:${i}`, text(16 + int(200))));
    for (let i = 0; i < count('binary'); i++) batch.push(redis.set(`b:${i}`, bytes(1 + int(512))));
    for (let i = 0; i < count('large'); i++)
      batch.push(redis.set(`L:${i}`, bytes(16 * 1024 + int(48 * 1024))));
    for (let i = 0; i < count('counter'); i++) batch.push(redis.set(`c:${i}`, int(1000)));
    await flush();
    for (let i = 0; i < count('hash'); i++) {
      const fields: string[] = [];
      for (let f = 0; f < 20; f++) fields.push(`f${f}`, text(int(80)));
      batch.push(redis.hset(`h:${i}`, ...fields));
    }
    for (let i = 0; i < count('list'); i++) {
      const items: string[] = [];
      for (let j = 0; j < 30; j++) items.push(text(int(40)));
      batch.push(redis.rpush(`l:${i}`, ...items));
    }
    for (let i = 0; i < count('zset'); i++) {
      const args: (string | number)[] = [];
      for (let j = 0; j < 30; j++) args.push(score(), `m${j}`);
      batch.push(redis.zadd(`z:${i}`, ...args));
    }
    for (let i = 0; i < count('set'); i++) {
      const members: string[] = [];
      for (let j = 0; j < 20; j++) members.push(`m${j}`);
      batch.push(redis.sadd(`t:${i}`, ...members));
    }
    await flush();
    for (let i = 0; i < initialKeys / 10; i++)
      batch.push(redis.expire(keyOfFamily(pick(random, familyNames)), ttlSeconds()));
    await flush();
  }

  return { populate, write };
}

// ---- records ---------------------------------------------------------------------------------------------------

/** A key's type and value, as a test states it. */
export type Entry =
  | { type: 'string'; value: string | Buffer }
  | { type: 'hash'; value: [string, string | Buffer][] }
  | { type: 'list'; value: (string | Buffer)[] }
  | { type: 'set'; value: (string | Buffer)[] }
  | { type: 'zset'; value: [number, string][] }
  | { type: 'stream'; value: [string, string][] };

/** A key, its type and value, and its TTL in ms (`null`: none). */
export interface KeyRecord {
  key: string;
  entry: Entry;
  ttlMs: number | null;
}

/** Writes `records` one command at a time (streams get `*` IDs). Returns the keys of the streams, in order. */
export async function load(redis: Redis, records: readonly KeyRecord[]): Promise<string[]> {
  const streams: string[] = [];
  for (const { key, entry, ttlMs } of records) {
    switch (entry.type) {
      case 'string':
        await redis.set(key, entry.value);
        break;
      case 'hash':
        await redis.hset(key, ...entry.value.flat());
        break;
      case 'list':
        await redis.rpush(key, ...entry.value);
        break;
      case 'set':
        await redis.sadd(key, ...entry.value);
        break;
      case 'zset':
        await redis.zadd(key, ...entry.value.flat());
        break;
      case 'stream':
        streams.push(key);
        for (const [field, value] of entry.value) await redis.xadd(key, '*', field, value);
        break;
    }
    if (ttlMs !== null) await redis.pexpire(key, ttlMs);
  }
  return streams;
}
