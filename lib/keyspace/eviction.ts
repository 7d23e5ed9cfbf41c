/**
 * Eviction, as Redis does it when `maxmemory` is reached (its `evict.c`): `samples` keys are drawn at a time from a
 * random place, neighbours as Redis's `dictGetSomeKeys` returns them (one or two cache lines to read, where as many
 * random positions are a cache miss each), from all keys or from those with an expiry time; the best candidates found
 * so far wait in a pool of 16, ranked by how idle they are (LRU), how rarely used (LFU) or how soon they expire
 * (volatile-ttl); the best one still in the keyspace is evicted. The `random` policies evict a drawn key as it comes.
 * The pool makes up for neighbours being alike (keys written together sit together): on a Zipf trace and on writes of
 * distinct keys, the hit ratio and the keys kept were those of random draws.
 *
 * LFU keeps Redis's 8-bit logarithmic counter with its decay: a key's `use` holds the minute it was last decayed
 * (16 bits) and the counter (8 bits). Under the other policies `use` is the time of the last access, in ms.
 */
import type { Entries, SampleVisitor } from './entries';
import type { Entry } from './entry';

/** Redis's `maxmemory-policy` values. */
export const MAXMEMORY_POLICIES = [
  'noeviction',
  'allkeys-lru',
  'allkeys-lfu',
  'allkeys-random',
  'volatile-lru',
  'volatile-lfu',
  'volatile-random',
  'volatile-ttl',
] as const;

export type MaxMemoryPolicy = (typeof MAXMEMORY_POLICIES)[number];

/** The memory limit of a keyspace: Redis's `maxmemory`, `maxmemory-policy` and `maxmemory-samples`. */
export interface MemorySettings {
  /** Bytes; 0 for no limit. */
  maxBytes: number;
  policy: MaxMemoryPolicy;
  /** Keys drawn for each pool update (Redis's default 5). */
  samples: number;
}

/** Candidates kept between evictions (Redis's EVPOOL_SIZE). */
const POOL_SIZE = 16;
/** A new key's LFU counter, so that it is not evicted before it had a chance to be used (Redis's LFU_INIT_VAL). */
const LFU_INIT_VAL = 5;
/** Redis's default `lfu-log-factor`: about a million hits take the counter to 255. */
const LFU_LOG_FACTOR = 10;
/** Redis's default `lfu-decay-time`: the counter loses one for each minute the key is not used. */
const LFU_DECAY_MINUTES = 1;
const MINUTE_MS = 60_000;

export const isLfu = (policy: MaxMemoryPolicy): boolean => policy.endsWith('-lfu');

function minutes(now: number): number {
  return Math.floor(now / MINUTE_MS) & 0xffff;
}

/** The LFU counter of `use` at `now`, decayed by the minutes since it was last decayed. */
export function lfuCounter(use: number, now: number): number {
  const counter = use & 0xff;
  const last = use >>> 8;
  const current = minutes(now);
  const elapsed = current >= last ? current - last : 0xffff - last + current;
  const periods = Math.floor(elapsed / LFU_DECAY_MINUTES);
  return periods > counter ? 0 : counter - periods;
}

/**
 * How long ago, at least, a key with this `use` was last used, in ms: exact under an LRU policy (the time of the last
 * access), to the minute under an LFU one (the minute it was last used, counted from that minute's end).
 */
export function idleMs(use: number, policy: MaxMemoryPolicy, now: number): number {
  if (!isLfu(policy)) return now - use;
  const last = use >>> 8;
  const current = minutes(now);
  const elapsed = current >= last ? current - last : 0xffff - last + current;
  return elapsed === 0 ? 0 : (elapsed - 1) * MINUTE_MS + (now % MINUTE_MS);
}

/** The `use` under an LFU policy of a key whose counter is `counter` at `now`. */
export function lfuUse(counter: number, now: number): number {
  return (minutes(now) << 8) | counter;
}

/** The `use` of a key created at `now`. */
export function initialUse(policy: MaxMemoryPolicy, now: number): number {
  return isLfu(policy) ? (minutes(now) << 8) | LFU_INIT_VAL : now;
}

/**
 * A key's `use` under `from` as it reads under `to`, at `now`: the time of the last access (LRU) from the minute it
 * holds (LFU), or that minute with LFU's initial counter, decayed by the minutes since.
 */
export function convertedUse(
  use: number,
  from: MaxMemoryPolicy,
  to: MaxMemoryPolicy,
  now: number,
): number {
  if (isLfu(from) === isLfu(to)) return use;
  if (isLfu(from)) return now - idleMs(use, from, now);
  const last = Math.min(use, now);
  return lfuCounterAfter((minutes(last) << 8) | LFU_INIT_VAL, now);
}

/** `use` (LFU) decayed to `now`: the minute of `now` and the counter left. */
function lfuCounterAfter(use: number, now: number): number {
  return (minutes(now) << 8) | lfuCounter(use, now);
}

/** The `use` of a key accessed at `now` (Redis's `updateLFU`, or the access time). */
export function touchedUse(use: number, policy: MaxMemoryPolicy, now: number): number {
  if (!isLfu(policy)) return now;
  let counter = lfuCounter(use, now);
  if (counter < 255) {
    const base = Math.max(0, counter - LFU_INIT_VAL);
    if (Math.random() < 1 / (base * LFU_LOG_FACTOR + 1)) counter++;
  }
  return (minutes(now) << 8) | counter;
}

/** A `random` policy's visitor: keeps the key drawn, reading nothing else. */
class RandomDraw implements SampleVisitor {
  readonly readsUse = false;
  readonly readsExpiry = false;
  drawn: string | undefined = undefined;
  wants(): boolean {
    return true;
  }
  visit(key: string): void {
    this.drawn = key;
  }
}

/** How {@link Evictor} ranks a key: by idle time, by LFU counter, or by expiry time. */
const enum Rank {
  Idle,
  Frequency,
  Expiry,
}

/** The eviction pool of one keyspace: candidates ranked by `idle`, best (highest) last. */
export class Evictor implements SampleVisitor {
  private readonly keys: string[] = new Array<string>(POOL_SIZE).fill('');
  /**
   * The candidates' entries, `undefined` for restored records. An entry tells whether its key is still there without
   * a look-up of the key (a few cache misses on a large keyspace, a third of an eviction's cost).
   */
  private readonly entries: (Entry | undefined)[] = new Array<Entry | undefined>(POOL_SIZE).fill(
    undefined,
  );
  private readonly idle = new Float64Array(POOL_SIZE);
  private count = 0;
  private policy: MaxMemoryPolicy | undefined;
  private rankBy = Rank.Idle;
  /** Whether the policy evicts only keys with an expiry time (`volatile-*`). */
  private volatileOnly = false;
  /** Whether the policy evicts a drawn key as it comes (`*-random`). */
  private randomDraws = false;
  private now = 0;
  /** The entry of the key {@link pick} returned last, when the sample drew one (see `SampleVisitor.visit`). */
  pickedEntry: Entry | undefined = undefined;
  /** The rank {@link wants} gave the key it was last asked about. */
  private rank = 0;
  private readonly random = new RandomDraw();
  /** Whether the policy ranks by expiry time (`volatile-ttl`) rather than by use. */
  readsExpiry = false;
  readsUse = true;

  /**
   * The key to evict next under `settings`, or `undefined` when none can be (no key, or no key with an expiry time
   * under a `volatile-*` policy). The key is still in `entries`; the caller deletes it.
   */
  pick(entries: Entries, settings: MemorySettings, now: number): string | undefined {
    const { policy } = settings;
    if (policy !== this.policy) {
      this.count = 0; // ranks of another policy mean nothing under this one
      this.policy = policy;
      this.volatileOnly = policy.startsWith('volatile-');
      this.randomDraws = policy.endsWith('-random');
      this.rankBy =
        policy === 'volatile-ttl' ? Rank.Expiry : isLfu(policy) ? Rank.Frequency : Rank.Idle;
      this.readsExpiry = this.rankBy === Rank.Expiry;
      this.readsUse = !this.readsExpiry;
    }
    if (policy === 'noeviction') return undefined;
    const { volatileOnly } = this;
    this.pickedEntry = undefined;
    if (this.randomDraws) {
      this.random.drawn = undefined;
      entries.sample(volatileOnly, 1, this.random);
      return this.random.drawn;
    }
    this.now = now;
    for (let round = 0; round < 2; round++) {
      entries.sampleRun(volatileOnly, settings.samples, this);
      // The best candidate still in the keyspace (one evicted or deleted since it was ranked is dropped), and still
      // with an expiry time under a volatile policy.
      while (this.count > 0) {
        const at = --this.count;
        const key = this.keys[at];
        const entry = this.entries[at];
        this.entries[at] = undefined;
        if (
          entry === undefined
            ? entries.holdsDrawable(key, volatileOnly)
            : entries.isDrawable(entry, volatileOnly)
        ) {
          this.pickedEntry = entry;
          return key;
        }
      }
    }
    this.pickedEntry = undefined;
    return undefined;
  }

  /**
   * Ranks a drawn key: whether it is among the {@link POOL_SIZE} best (Redis's evictionPoolPopulate). Most draws are
   * not, once the pool is full, and their keys are never read.
   */
  wants(use: number, expiresAt: number | undefined): boolean {
    const idle =
      this.rankBy === Rank.Idle
        ? this.now - use
        : this.rankBy === Rank.Frequency
          ? 255 - lfuCounter(use, this.now)
          : Number.MAX_SAFE_INTEGER - (expiresAt ?? Number.MAX_SAFE_INTEGER);
    this.rank = idle;
    return this.count < POOL_SIZE || idle > this.idle[0];
  }

  /**
   * Keeps the key {@link wants} just ranked among the best. As in Redis, a key drawn twice may hold two places: the
   * second is dropped when its turn comes.
   */
  visit(key: string, _use: number, _expiresAt: number | undefined, entry: Entry | undefined): void {
    const idle = this.rank;
    const { keys, entries, idle: ranks } = this;
    let at = 0;
    while (at < this.count && ranks[at] < idle) at++;
    if (this.count === POOL_SIZE) {
      if (at === 0) return; // worse than every candidate of a full pool
      // Full: the worst candidate makes room, the ones below `at` move down.
      at--;
      for (let i = 0; i < at; i++) {
        keys[i] = keys[i + 1];
        entries[i] = entries[i + 1];
        ranks[i] = ranks[i + 1];
      }
    } else {
      for (let i = this.count; i > at; i--) {
        keys[i] = keys[i - 1];
        entries[i] = entries[i - 1];
        ranks[i] = ranks[i - 1];
      }
      this.count++;
    }
    keys[at] = key;
    entries[at] = entry;
    ranks[at] = idle;
  }
}
