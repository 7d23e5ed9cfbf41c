import { Entry, RestoredEntry } from './entry';
import { RestoredStates } from './restored-states';
import { SHARDS, stringMap, stringPart } from './sharded-map';

/**
 * What {@link Entries.sample} asks of each key it draws. On a large keyspace each column read is a cache miss, and
 * most drawn keys are let go (not expired, or not idle enough for the eviction pool): a sample reads only the columns
 * a visitor asks for, and a key only for the draws it {@link wants}.
 */
export interface SampleVisitor {
  /** Whether {@link wants} needs each drawn key's `use` (it is given 0 otherwise). */
  readonly readsUse: boolean;
  /** Whether {@link wants} needs each drawn key's expiry time (it is given `undefined` otherwise). */
  readonly readsExpiry: boolean;
  /** Called for every draw: whether to {@link visit} the key. */
  wants(use: number, expiresAt: number | undefined): boolean;
  /**
   * Called right after {@link wants} said yes, with the same `use` and `expiresAt`; `entry` is the key's entry when it
   * was drawn from the keys written since startup (or from those with an expiry time), `undefined` for a restored
   * record. {@link Entries.isDrawable} says whether the key is still in the set it was drawn from.
   */
  visit(key: string, use: number, expiresAt: number | undefined, entry: Entry | undefined): void;
}

/**
 * A SCAN cursor (see {@link Entries.scan}): 0 to begin; 1 + (shard, part, bits) packed in {@link PART_BITS} and
 * {@link BITS_BITS} bits while it walks the keys written since startup, up to {@link ADDED_CURSORS}; after that,
 * {@link ADDED_CURSORS} + 1 + the number of the restored record to go on from.
 */
const MAX_PART_BITS = 6;
const PART_BITS = MAX_PART_BITS;
const BITS_BITS = 3;
const ADDED_CURSORS = SHARDS << (PART_BITS + BITS_BITS);

/** Arrays shorter than this are never copied to give room back. */
const SHRINK_FROM = 1024;
const INITIAL_COLUMN = 64;

/** Which entries a {@link KeyArray} holds, and so where each keeps its position in it. */
const enum Holds {
  /** Keys written since startup without an expiry time: `entry.slot` is the position. */
  Persistent,
  /** Keys written since startup with an expiry time: `entry.slot` is -2 - the position (-1 stays "in none"). */
  Volatile,
  /** Restored keys whose entries were built, with an expiry time: `RestoredEntry.volatileSlot` is the position. */
  RestoredVolatile,
}

/**
 * A set of keys with their entries in arrays, so that a key can be drawn at random (eviction's and active expiry's
 * sampling) and removed in O(1) by moving the last one into its place. Each key's `use` and, in a set of keys with an
 * expiry time, its expiry time are also kept in a typed column beside it: a sample reads those, not the entry objects
 * scattered over the heap (a cache miss each, most of a sample's cost).
 *
 * A key and its entry lie side by side in one array, and its numbers side by side in the column (`stride` of them a
 * key): on a large keyspace each position touched is a cache miss, and a removal, which moves the last key's values
 * into the removed one's place, then costs two misses instead of four.
 *
 * Each written key is in exactly one of two such sets, with or without an expiry time, and its entry keeps its
 * position in one field for both (see {@link Holds}): a key without an expiry time pays for neither a second position
 * nor an expiry cell, and one with an expiry time is in one set, not two.
 */
class KeyArray {
  /** Key, entry, key, entry, … */
  private pairs: (string | Entry)[] = [];
  /** Use (and expiry time), use (and expiry time), … */
  private columns: Float64Array;
  private count = 0;
  /** The longest the arrays have been since they were last copied to their length. */
  private peak = 0;
  private readonly stride: 1 | 2;

  constructor(private readonly holds: Holds) {
    this.stride = holds === Holds.Persistent ? 1 : 2;
    this.columns = new Float64Array(this.stride * INITIAL_COLUMN);
  }

  get length(): number {
    return this.count;
  }

  keyAt(slot: number): string {
    return this.pairs[2 * slot] as string;
  }

  entryAt(slot: number): Entry {
    return this.pairs[2 * slot + 1] as Entry;
  }

  useAt(slot: number): number {
    return this.columns[this.stride * slot];
  }

  /** The expiry time of the key at `slot`, NaN for none. */
  expiryAt(slot: number): number {
    return this.stride === 2 ? this.columns[2 * slot + 1] : NaN;
  }

  /** The position of `entry` here, -1 if it is not here. */
  slotOf(entry: Entry): number {
    switch (this.holds) {
      case Holds.Persistent:
        return entry.slot >= 0 ? entry.slot : -1;
      case Holds.Volatile:
        return entry.slot <= -2 ? -2 - entry.slot : -1;
      default:
        return entry instanceof RestoredEntry ? entry.volatileSlot : -1;
    }
  }

  private setSlot(entry: Entry, slot: number): void {
    switch (this.holds) {
      case Holds.Persistent:
        entry.slot = slot;
        break;
      case Holds.Volatile:
        entry.slot = slot < 0 ? -1 : -2 - slot;
        break;
      default:
        (entry as RestoredEntry).volatileSlot = slot;
    }
  }

  /** Adds `entry`'s key, used at `use`; the entry must be in no set of its kind (see {@link Holds}). */
  add(key: string, entry: Entry, use: number): void {
    const slot = this.count++;
    this.setSlot(entry, slot);
    this.pairs.push(key, entry);
    const { stride } = this;
    if (stride * slot >= this.columns.length) this.resize(2 * this.columns.length);
    this.columns[stride * slot] = use;
    if (stride === 2) this.columns[2 * slot + 1] = entry.expiresAt ?? NaN;
    if (this.count > this.peak) this.peak = this.count;
  }

  /** Call after `entry.expiresAt` changed, `entry` being here. */
  expiryChanged(slot: number, entry: Entry): void {
    this.columns[2 * slot + 1] = entry.expiresAt ?? NaN;
  }

  /** Sets the `use` of the key at `slot`. */
  touch(slot: number, use: number): void {
    this.columns[this.stride * slot] = use;
  }

  /** Replaces the `use` of every key here by `convert` of it. */
  convertUses(convert: (use: number) => number): void {
    const { columns, stride } = this;
    for (let at = 0; at < stride * this.count; at += stride) columns[at] = convert(columns[at]);
  }

  /** Removes `entry`'s key if it is here. */
  remove(entry: Entry): void {
    const slot = this.slotOf(entry);
    if (slot < 0) return;
    this.setSlot(entry, -1);
    const { pairs, columns, stride } = this;
    const last = pairs.pop() as Entry;
    const lastKey = pairs.pop() as string;
    const from = --this.count;
    if (last !== entry) {
      pairs[2 * slot] = lastKey;
      pairs[2 * slot + 1] = last;
      columns[stride * slot] = columns[stride * from];
      if (stride === 2) columns[2 * slot + 1] = columns[2 * from + 1];
      this.setSlot(last, slot);
    }
    // V8 keeps an array's capacity when `pop` shrinks it: once it is down to a quarter, give the room a burst of
    // short-lived keys took back. Setting the array's length trims its store in place (a copy of 250k keys' pairs
    // held an adoption's event loop about 20 ms); the column is copied to twice its length (amortised O(1)).
    if (this.peak > SHRINK_FROM && this.count < this.peak / 4) {
      pairs.length = 2 * this.count;
      this.resize(stride * Math.max(INITIAL_COLUMN, 2 * this.count));
      this.peak = this.count;
    }
  }

  /** How many keys have an expiry time at or before `now` (a column walk, no entry read). */
  countExpired(now: number): number {
    if (this.stride !== 2) return 0;
    const { columns } = this;
    let expired = 0;
    for (let i = 1; i < 2 * this.count; i += 2) if (columns[i] <= now) expired++;
    return expired;
  }

  /**
   * Makes the column `length` numbers long. Its memory is not zeroed (nothing reads past the keys' numbers, which are
   * copied): only the pages the copy writes are touched, not the whole new column's.
   */
  private resize(length: number): void {
    const bytes = Buffer.allocUnsafeSlow(8 * length);
    const columns = new Float64Array(bytes.buffer, bytes.byteOffset, length);
    columns.set(this.columns.subarray(0, Math.min(this.stride * this.count, length)));
    this.columns = columns;
  }
}

/**
 * The keys of a keyspace: those restored from a snapshot, kept in their encoded form until looked up (see
 * {@link RestoredStates}), and those created since, in a map. A key is in one or the other, never both: a key is
 * created only when a look-up found it in neither.
 *
 * It also keeps the total of the keys' sizes (see `memory.ts`), for a memory limit to be checked in O(1).
 */
export class Entries {
  readonly added = stringMap<Entry>();
  /** The keys of {@link added} without an expiry time, for sampling. */
  private readonly persistent = new KeyArray(Holds.Persistent);
  /**
   * The keys of {@link added} with an expiry time. With {@link restoredVolatile}, and the restored records still
   * only bytes that have one, they are what active expiry walks, as Redis walks its `expires` dictionary rather than
   * every key.
   */
  private readonly volatile = new KeyArray(Holds.Volatile);
  /** Restored keys with an expiry time whose entries were built (their records left the restored ones with one). */
  private readonly restoredVolatile = new KeyArray(Holds.RestoredVolatile);
  /** Sizes of the keys of {@link added}, plus how much restored keys grew or shrank since they were looked up. */
  private addedBytes = 0;

  constructor(readonly restored: RestoredStates = new RestoredStates()) {}

  get size(): number {
    return this.added.size + this.restored.size;
  }

  /** The estimated bytes of every key (see `memory.ts`). */
  get bytes(): number {
    return this.addedBytes + this.restored.bytes;
  }

  /** Keys with an expiry time, each once: restored ones still bytes by their records, the others by their entries. */
  get volatileCount(): number {
    return this.volatile.length + this.restoredVolatile.length + this.restored.volatileRecords;
  }

  /**
   * The key last found among {@link added}, and its entry: a command looks its key up several times in a row (its
   * rule, then ioredis-mock's `has`, `get` and `set`), each a hash of the key and a search of its shard otherwise.
   */
  private lastKey: string | undefined;
  private lastEntry: Entry | undefined;

  get(key: string): Entry | undefined {
    const own = this.addedEntry(key);
    if (own !== undefined) return own;
    if (this.restored.size === 0) return undefined;
    const entry = this.restored.entry(key);
    if (entry !== undefined) this.restoredEntrySeen(key, entry);
    return entry;
  }

  /**
   * What a read finds of `key`: its entry, or the number of its restored record if that is still bytes and read in
   * place (see {@link RestoredStates.look}).
   */
  look(key: string): Entry | number | undefined {
    const own = this.addedEntry(key);
    if (own !== undefined) return own;
    if (this.restored.size === 0) return undefined;
    const found = this.restored.look(key);
    if (typeof found === 'object') this.restoredEntrySeen(key, found);
    return found;
  }

  /**
   * A restored key's entry, maybe built just now: one with an expiry time joins {@link restoredVolatile} (its record
   * left the restored records with one when it was built).
   */
  private restoredEntrySeen(key: string, entry: RestoredEntry): void {
    if (entry.volatileSlot < 0 && entry.expiresAt !== undefined)
      this.restoredVolatile.add(key, entry, entry.use);
  }

  /** The entry of `key` among {@link added}, remembered as the last one found. */
  private addedEntry(key: string): Entry | undefined {
    if (key === this.lastKey) return this.lastEntry;
    const entry = this.added.get(key);
    if (entry !== undefined) {
      this.lastKey = key;
      this.lastEntry = entry;
    }
    return entry;
  }

  has(key: string): boolean {
    return (
      key === this.lastKey ||
      this.added.has(key) ||
      (this.restored.size !== 0 && this.restored.has(key))
    );
  }

  /**
   * Number of keys of {@link added}. {@link addedKeyAt}, {@link addedEntryAt} and {@link addedUseAt} read them by
   * position, 0 to this (exclusive): those without an expiry time, then those with one. A removal moves the last key
   * of its kind into the removed one's place; one of a key without an expiry time also moves those with one down a
   * place.
   */
  get addedCount(): number {
    return this.persistent.length + this.volatile.length;
  }

  addedKeyAt(i: number): string {
    const { persistent } = this;
    return i < persistent.length ? persistent.keyAt(i) : this.volatile.keyAt(i - persistent.length);
  }

  addedEntryAt(i: number): Entry {
    const { persistent } = this;
    return i < persistent.length
      ? persistent.entryAt(i)
      : this.volatile.entryAt(i - persistent.length);
  }

  /** The `use` of the key at position `i` of {@link added}, read from its column (not its entry). */
  addedUseAt(i: number): number {
    const { persistent } = this;
    return i < persistent.length ? persistent.useAt(i) : this.volatile.useAt(i - persistent.length);
  }

  /** Adds a key that {@link get} did not find, with its size in `entry.bytes`, used at `use` (see `eviction.ts`). */
  add(key: string, entry: Entry, use: number): void {
    this.added.set(key, entry);
    (entry.expiresAt === undefined ? this.persistent : this.volatile).add(key, entry, use);
    this.addedBytes += entry.bytes;
  }

  /**
   * The `use` of a key's live entry (see `eviction.ts`): read from its column when it is among {@link added}, else
   * the entry is a restored key's built one, which keeps its own.
   */
  useOf(entry: Entry): number {
    const { slot } = entry;
    if (slot >= 0) return this.persistent.useAt(slot);
    if (slot !== -1) return this.volatile.useAt(-2 - slot);
    if (entry instanceof RestoredEntry) return entry.use;
    throw new Error('useOf: the entry is not one of these keys');
  }

  /** {@link useOf}, or NaN for an entry that is not one of these keys' (any more). */
  knownUseOf(entry: Entry): number {
    return entry.slot !== -1 || entry instanceof RestoredEntry ? this.useOf(entry) : NaN;
  }

  /**
   * Call after the expiry time of `key`'s `entry` was set or removed: a key of {@link added} moves to the keys with
   * or without one, with its `use`.
   */
  expiryChanged(key: string, entry: Entry): void {
    const { slot } = entry;
    const volatile = entry.expiresAt !== undefined;
    if (slot === -1) {
      // A restored key's built entry (`touch` keeps its `use` in the entry).
      const restored = this.restoredVolatile;
      const at = restored.slotOf(entry);
      if (!volatile) restored.remove(entry);
      else if (at >= 0) restored.expiryChanged(at, entry);
      else restored.add(key, entry, this.useOf(entry));
    } else if (slot <= -2) {
      if (volatile) this.volatile.expiryChanged(-2 - slot, entry);
      else this.moveTo(this.persistent, this.volatile, key, entry);
    } else if (volatile) this.moveTo(this.volatile, this.persistent, key, entry);
  }

  /** Moves `key` of {@link added} (with its `entry`) from the keys of `from` to those of `to`, keeping its `use`. */
  private moveTo(to: KeyArray, from: KeyArray, key: string, entry: Entry): void {
    const use = this.useOf(entry);
    from.remove(entry);
    to.add(key, entry, use);
  }

  /** Sets the `use` of a live entry of these keys (see `eviction.ts`). */
  touch(entry: Entry, use: number): void {
    const { slot } = entry;
    if (slot >= 0) this.persistent.touch(slot, use);
    else if (slot !== -1) this.volatile.touch(-2 - slot, use);
    else if (entry instanceof RestoredEntry) {
      entry.use = use;
      if (entry.volatileSlot >= 0) this.restoredVolatile.touch(entry.volatileSlot, use);
    }
  }

  /**
   * Replaces the `use` of every key held as an entry by `convert` of it (a change of eviction policy between LRU and
   * LFU, whose `use` means another thing); restored records still bytes are left to the caller.
   */
  convertUses(convert: (use: number) => number): void {
    this.persistent.convertUses(convert);
    this.volatile.convertUses(convert);
    const { restored } = this;
    for (let i = 0; i < restored.builtCount; i++) {
      const entry = restored.builtAt(restored.builtRecordAt(i));
      if (entry) this.touch(entry, convert(entry.use));
    }
  }

  /**
   * Whether the key of `entry`, drawn by {@link sample} from all keys or (`volatileOnly`) those with an expiry time,
   * is still among them.
   */
  /**
   * Whether `key`, drawn by {@link sample} as a restored record (no entry given), is still there, and under
   * `volatileOnly` still has an expiry time: a `PERSIST` or a plain `SET` since it was drawn takes it out of what a
   * `volatile-*` policy may evict. Builds no entry.
   */
  holdsDrawable(key: string, volatileOnly: boolean): boolean {
    const own = this.addedEntry(key);
    if (own !== undefined) return this.isDrawable(own, volatileOnly);
    if (this.restored.size === 0) return false;
    const r = this.restored.recordOf(key);
    if (r < 0) return false;
    if (!volatileOnly) return true;
    const built = this.restored.builtAt(r);
    return built === null
      ? this.restored.expiresAt(r) !== undefined
      : built !== undefined && this.isDrawable(built, true);
  }

  isDrawable(entry: Entry, volatileOnly: boolean): boolean {
    if (!volatileOnly) return entry.slot !== -1;
    return entry.slot <= -2 || (entry instanceof RestoredEntry && entry.volatileSlot >= 0);
  }

  /** Removes `entry`, one of {@link added}, from the keys it is sampled among. */
  private unlist(entry: Entry): void {
    if (entry.slot >= 0) this.persistent.remove(entry);
    else this.volatile.remove(entry);
  }

  /** Call when the size of an entry of these keys changed. */
  resize(entry: Entry, bytes: number): void {
    this.addedBytes += bytes - entry.bytes;
    entry.bytes = bytes;
  }

  /**
   * Replaces the entry of `key` (one of {@link added}, or a restored key's built one) by a record over bytes
   * [keyStart, keyEnd) and [valueStart, valueEnd) of `chunk`, where a snapshot stored the key as it is: the key keeps
   * its value, expiry time, `use` and capture mark, and its string, entry and value objects go. Call
   * `restored.reserveAdoptions` first.
   */
  adopt(
    key: string,
    entry: Entry,
    chunk: Uint8Array,
    keyStart: number,
    keyEnd: number,
    valueStart: number,
    valueEnd: number,
  ): void {
    if (entry.slot === -1) {
      // A restored key keeps its record (a SCAN under way finds it where it was).
      const r = this.restored.recordOf(key);
      this.repack(key, r, entry, chunk, keyStart, keyEnd, valueStart, valueEnd);
      return;
    }
    if (key === this.lastKey) this.lastKey = this.lastEntry = undefined;
    const use = this.useOf(entry);
    this.added.delete(key);
    this.unlist(entry);
    this.addedBytes -= entry.bytes;
    this.restored.adopt(
      chunk,
      keyStart,
      keyEnd,
      valueStart,
      valueEnd,
      entry.expiresAt,
      use,
      entry.mark,
    );
  }

  /**
   * Makes `entry`, the built entry of restored record `r` (of `key`), a record over bytes [keyStart, keyEnd) and
   * [valueStart, valueEnd) of `chunk` again (see `RestoredStates.repackBuilt`), keeping its value, expiry time, `use`
   * and capture mark.
   */
  repack(
    key: string,
    r: number,
    entry: Entry,
    chunk: Uint8Array,
    keyStart: number,
    keyEnd: number,
    valueStart: number,
    valueEnd: number,
  ): void {
    if (key === this.lastKey) this.lastKey = this.lastEntry = undefined;
    this.restoredVolatile.remove(entry);
    this.restored.repackBuilt(
      r,
      chunk,
      keyStart,
      keyEnd,
      valueStart,
      valueEnd,
      entry.expiresAt,
      this.useOf(entry),
      entry.mark,
    );
  }

  /**
   * Deletes `key`. `drawn`, when given, is its entry as a sample drew it (see {@link SampleVisitor.visit}): while it
   * is still among {@link added} the key is not looked up for it.
   */
  delete(key: string, drawn?: Entry): boolean {
    const entry = drawn !== undefined && drawn.slot !== -1 ? drawn : this.added.get(key);
    if (entry !== undefined) {
      if (key === this.lastKey) this.lastKey = this.lastEntry = undefined;
      this.added.delete(key);
      this.unlist(entry);
      this.addedBytes -= entry.bytes;
      return true;
    }
    if (this.restored.size === 0) return false;
    const made = this.restored.madeEntry(key);
    if (made !== undefined) this.restoredVolatile.remove(made);
    return this.restored.delete(key);
  }

  /**
   * Draws `count` keys at random (with repeats), all keys alike or only those with an expiry time, and asks
   * `visitor` about each. Restored keys never looked up have the `use` the restore gave them.
   */
  sample(volatileOnly: boolean, count: number, visitor: SampleVisitor): void {
    // The keys held as entries, in two sets (each key in one), then the restored records.
    const first = volatileOnly ? this.volatile : this.persistent;
    const second = volatileOnly ? this.restoredVolatile : this.volatile;
    const restored = volatileOnly ? this.restored.volatileRecords : this.restored.size;
    if (first.length + second.length + restored === 0) return;
    for (let i = 0; i < count; i++) {
      // A visit may delete the key it is given: the sets' lengths are read again for each draw.
      const own = first.length + second.length;
      const drawn = Math.floor(Math.random() * (own + restored));
      if (drawn < first.length) visitDrawn(first, drawn, visitor);
      else if (drawn < own) visitDrawn(second, drawn - first.length, visitor);
      else if (!this.restored.visitRandom(volatileOnly, visitor)) {
        if (own === 0) return; // no restored key found: drawing again would not find one either
      }
    }
  }

  /**
   * Like {@link sample}, but the keys held as entries are drawn as a run of `count` neighbours from a random position
   * (Redis's `dictGetSomeKeys`): a run lies in one or two cache lines, where `count` random positions of a large
   * keyspace are a cache miss each. The visitor must not delete keys. No more keys are drawn than there are, as
   * `dictGetSomeKeys` caps its count (`maxmemory-samples` may be up to 2^31 - 1).
   */
  sampleRun(volatileOnly: boolean, count: number, visitor: SampleVisitor): void {
    const first = volatileOnly ? this.volatile : this.persistent;
    const second = volatileOnly ? this.restoredVolatile : this.volatile;
    const restored = volatileOnly ? this.restored.volatileRecords : this.restored.size;
    const own = first.length + second.length;
    if (own + restored === 0) return;
    const drawn = Math.floor(Math.random() * (own + restored));
    if (drawn >= own) {
      this.sample(volatileOnly, Math.min(count, own + restored), visitor);
      return;
    }
    const keys = drawn < first.length ? first : second;
    const start = drawn < first.length ? drawn : drawn - first.length;
    const length = keys.length;
    const end = start + Math.min(count, length);
    for (let at = start; at < end; at++) visitDrawn(keys, at < length ? at : at - length, visitor);
  }

  /**
   * The number of keys that have not expired at `now`: all of them but those whose time ran out and that no command
   * or active expiry has removed yet. Reads the expiry times of the keys that have one, and nothing else.
   */
  liveCount(now: number): number {
    const restoredExpired = this.restored.size === 0 ? 0 : this.restored.countExpired(now);
    const builtExpired = this.volatile.countExpired(now) + this.restoredVolatile.countExpired(now);
    return this.size - builtExpired - restoredExpired;
  }

  /** The keys starting with `prefix` that have not expired at `now`, restored ones first; builds no entry. */
  liveKeys(prefix: string, now: number): string[] {
    const keys: string[] = [];
    if (this.restored.size !== 0) this.restored.collectLiveKeys(keys, prefix, now);
    for (const [key, entry] of this.added) {
      if (key.startsWith(prefix) && !isExpiredAt(entry.expiresAt, now)) keys.push(key);
    }
    return keys;
  }

  /**
   * One call of SCAN: from `cursor` (0 to begin), about `count` keys not expired at `now`, and the cursor to go on
   * with (0 once the walk is over). Redis's guarantee holds: a key present from the first call to the last is
   * returned, maybe more than once; keys added or deleted meanwhile may or may not be. Each call costs about a shard
   * of the keys written since startup (a {@link SHARDS}th of them) or `10 × count` restored records, never all keys.
   *
   * The keys written since startup come first, shard by shard. A shard keeps its keys while they stay, and a large
   * one is walked in `2 ** bits` parts by bits of the key's hash, `bits` chosen as the walk enters the shard and kept
   * in the cursor. Then the restored records by number, which they keep while they live. A key moves only from the
   * first to the second (packed, or adopted by a snapshot), so it is met later, never skipped.
   */
  scan(
    cursor: number,
    count: number,
    now: number,
    expired?: string[],
  ): { cursor: number; keys: string[] } {
    const keys: string[] = [];
    let budget = 10 * count; // Redis's SCAN bounds its work at 10 × COUNT buckets
    let at = cursor;
    while (at <= ADDED_CURSORS) {
      let shard: number, part: number, bits: number;
      if (at === 0) {
        shard = part = 0;
        bits = this.partBits(0, count);
      } else {
        const position = at - 1;
        shard = position >>> (PART_BITS + BITS_BITS);
        part = (position >>> BITS_BITS) & ((1 << PART_BITS) - 1);
        bits = position & ((1 << BITS_BITS) - 1);
      }
      if (shard >= SHARDS) {
        at = ADDED_CURSORS + 1;
        break;
      }
      const map = this.added.shardAt(shard);
      for (const [key, entry] of map) {
        if (bits !== 0 && stringPart(key, bits) !== part) continue;
        if (!isExpiredAt(entry.expiresAt, now)) keys.push(key);
        else expired?.push(key);
      }
      budget -= map.size >>> bits;
      if (++part === 1 << bits) {
        shard++;
        part = 0;
        if (shard === SHARDS) {
          at = ADDED_CURSORS + 1;
          break;
        }
        bits = this.partBits(shard, count);
      }
      at = 1 + ((shard << (PART_BITS + BITS_BITS)) | (part << BITS_BITS) | bits);
      if (keys.length >= count || budget <= 0) return { cursor: at, keys };
    }
    const from = at - ADDED_CURSORS - 1;
    const next = this.restored.scanRecords(
      from,
      keys,
      count,
      Math.max(budget, count),
      now,
      expired,
    );
    return { cursor: next >= this.restored.recordCount ? 0 : ADDED_CURSORS + 1 + next, keys };
  }

  /** The parts SCAN walks shard `shard` of {@link added} in: about `count` keys each. */
  private partBits(shard: number, count: number): number {
    const size = this.added.shardAt(shard).size;
    let bits = 0;
    while (bits < MAX_PART_BITS && size >>> bits > count) bits++;
    return bits;
  }

  /** Every key's entry, restored ones first (a restored key never looked up gets an entry built for the visit). */
  *[Symbol.iterator](): IterableIterator<[string, Entry]> {
    yield* this.restored.entries();
    yield* this.added;
  }
}

/** Asks `visitor` about the key at `slot` of `keys`, drawn by {@link Entries.sample}. */
function visitDrawn(keys: KeyArray, slot: number, visitor: SampleVisitor): void {
  const use = visitor.readsUse ? keys.useAt(slot) : 0;
  const at = visitor.readsExpiry ? keys.expiryAt(slot) : NaN;
  const expiresAt = Number.isNaN(at) ? undefined : at;
  if (visitor.wants(use, expiresAt))
    visitor.visit(keys.keyAt(slot), use, expiresAt, keys.entryAt(slot));
}

/** Whether a key with this expiry time has expired at `now`. */
export function isExpiredAt(expiresAt: number | undefined, now: number): boolean {
  return expiresAt !== undefined && expiresAt <= now;
}
