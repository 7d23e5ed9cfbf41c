/**
 * The keys of a restored snapshot, kept as the snapshot stored them.
 *
 * A restore of millions of keys into a JS `Map` costs more than reading the snapshot: each key needs a string, an
 * entry object and an insertion into a hash table that V8 rehashes as it grows, and all of it is garbage the young
 * generation then promotes. This index builds none of that. Each record is a few numbers in typed arrays (where its
 * key and value lie in the snapshot's chunks, its expiry time), found through an open-addressing hash table over
 * the key's encoded bytes. A key's string and entry are built only when a command looks the key up, and a snapshot
 * of keys nobody touched copies their bytes as they are.
 */

import { isEncodedStreamHelper } from './streams';
import { BufferWriter } from '../format/codec';
import {
  readKey,
  writeKey,
  type EncodedRecord,
  type EncodedSink,
  type KeyState,
  type RecordSink,
} from '../format/records';
import { decodeRestored, type Entry, RestoredEntry } from './entry';
import type { SampleVisitor } from './entries';
import { hashBytes } from './key-table';
import {
  KEY_OVERHEAD,
  recordBytes,
  RESTORED_ENTRY_EXTRA,
  stringBytes,
  VOLATILE_OVERHEAD,
} from './memory';
import { RecordCursor, type RecordColumns } from './record-cursor';
import { runAtOnce } from '../util/slices';
import { isLfu, lfuUse, type MaxMemoryPolicy } from './eviction';

/** A record's status: live and never looked up, live with its entry built, or gone (replaced, deleted, expired). */
const ENCODED = 0;
const MADE = 1;
const GONE = 2;

const INITIAL_RECORDS = 16;
/** What a source no record needs any more is replaced with. */
const RELEASED = new Uint8Array(0);

/**
 * A value this many encoded bytes or fewer is read from its record by the reads the command rules answer (GET,
 * HGETALL, ZRANGE, SMEMBERS, …), decoded for the reply and not kept: the key then costs no more to read the first time
 * than the next, and no more memory once read than before. A larger value is built once, on its first look-up, and
 * kept (decoding it again for each read would cost more than keeping it). Commands ioredis-mock answers build the
 * entry whatever its size, as they need one to read or change.
 */
export const READ_IN_PLACE_BYTES = 1024;

/** Records {@link RestoredStates.leaveOutExpired} and the index's passes look at between two yields (a power of two). */
const RECORDS_PER_YIELD = 1 << 14;
/**
 * Records a rebuild of the table inserts between two yields (a power of two). Each insertion into a large table is a
 * cache miss or two at a random place: 16k of them held the event loop 8 ms at a million records.
 */
const TABLE_INSERTS_PER_YIELD = 1 << 11;
/** Slots of a new table zeroed between two yields (128 KiB). */
const TABLE_ZEROED_PER_STEP = 1 << 15;
/**
 * Bytes of grown columns written before their copy, between two yields (256 KiB): the first write to a page of fresh
 * memory costs a page fault, about 3.5 ms a megabyte here, and one column of a million records copied in one step
 * (8 MB) held the event loop 26–31 ms.
 */
const COLUMN_TOUCHED_PER_STEP = 1 << 18;
/**
 * Parts of the table {@link RestoredStates.indexRecords} fills one after the other (a power of two): a part of a
 * million records' table (8 MB) is 32 KB, within the CPU's cache while its records go in.
 */
const INDEX_PARTS = 256;

/** Records per page of a {@link PagedColumn}. */
const PAGE_BITS = 12;
const PAGE_SIZE = 1 << PAGE_BITS;
const PAGE_MASK = PAGE_SIZE - 1;

/**
 * A column of values by record, `undefined` where none was set, in pages made on the first value set in them: one
 * JS array of a million slots would be made (or grown, and copied) in a single step of the restore, holding the event
 * loop for tens of milliseconds on a busy machine.
 */
class PagedColumn<T> {
  private readonly pages: ((T | undefined)[] | undefined)[] = [];

  get(r: number): T | undefined {
    const page = this.pages[r >>> PAGE_BITS];
    return page === undefined ? undefined : page[r & PAGE_MASK];
  }

  set(r: number, value: T | undefined): void {
    const at = r >>> PAGE_BITS;
    let page = this.pages[at];
    if (page === undefined) {
      if (value === undefined) return;
      while (this.pages.length <= at) this.pages.push(undefined); // no holes: the array stays a fast one
      page = new Array<T | undefined>(PAGE_SIZE).fill(undefined);
      this.pages[at] = page;
    }
    page[r & PAGE_MASK] = value;
  }
}

/** A key looked up by name is encoded here to be compared with the records' bytes. */
const lookupScratch = new BufferWriter(256);

/**
 * Key states read from a snapshot. {@link Keyspace.replaceAll} adopts them as they are: a restore builds this index
 * and nothing else.
 */
export class RestoredStates implements Iterable<[string, KeyState]>, RecordSink, RecordColumns {
  /**
   * The buffers records point into (the snapshot's chunks); a record names one by its position here. A buffer is
   * let go once no record still needs its bytes (see {@link release}).
   */
  private readonly sources: Uint8Array[] = [];
  /** For each source, how many records still kept only as bytes point into it (once for the key, once for the value). */
  private readonly sourceUsers: number[] = [];
  private lastSource: Uint8Array | undefined;
  private lastSourceIndex = 0;
  /** Positions in {@link sources} of buffers let go, for new sources to take. */
  private readonly freeSources: number[] = [];
  /** Numbers of gone records, for new records to take (see {@link adopt}): the columns do not grow with churn. */
  private readonly freeRecords: number[] = [];
  private capacity = 0;
  private count = 0;
  private live = 0;
  private keySource = new Uint32Array(0);
  private keyStart = new Uint32Array(0);
  private keyEnd = new Uint32Array(0);
  private valueSource = new Uint32Array(0);
  private valueStart = new Uint32Array(0);
  private valueEnd = new Uint32Array(0);
  /** Expiry time, NaN for none. */
  private expiry = new Float64Array(0);
  private hashes = new Uint32Array(0);
  private status = new Uint8Array(0);
  /** Id of the last capture that read the record while it had no entry (see `Entry.mark`). */
  private marks = new Uint32Array(0);
  /**
   * The `use` (see `Entry`) of a record read in place, plus one; 0 for one never read ({@link initialUse}). A use is
   * a non-negative integer, so the sum is exact; a column of zeros costs nothing to make, where one filled with a
   * marker such as NaN cost 9 ms per 300k records, in one step of the restore.
   */
  private uses = new Float64Array(0);
  /**
   * Keys and entries built for records a command looked up, by record: columns beside the typed ones, `undefined`
   * for a record without them. A look-up finds a built record through the table as it finds the others (comparing
   * its key as a string); keeping them in maps by record and by key, as before, cost the first look-up of each key a
   * map insertion or two (growing and rehashing as a restored cache warmed up) and more garbage to collect, for a
   * second look-up that was no faster.
   */
  private readonly madeKeys = new PagedColumn<string>();
  private readonly madeEntries = new PagedColumn<RestoredEntry>();
  /**
   * Record index + 1 by key, 0 for an empty slot (see `key-table.ts`). A gone record keeps its slot (probe sequences
   * stay whole), also once a new record took its number: such a slot leads to that record, which look-ups compare as
   * any other. {@link rebuildTable} drops them.
   */
  private table: Int32Array = new Int32Array(0);
  /** Slots of {@link table} in use. */
  private used = 0;
  /**
   * The first of the records not in {@link table} yet, -1 when all are. A restore into empty states puts its records
   * in the columns only, and {@link indexRecords} then puts them in the table part by part: each put into a table of
   * a million records is a cache miss or two at a random place, a third of a restore's time.
   */
  private unindexedFrom = -1;
  /** The run of {@link indexRecords} under way: a look-up meanwhile runs the same one to its end. */
  private indexing: Generator<void, void> | undefined;
  /** Estimated bytes of the live keys (see `memory.ts`): records by their bytes, built entries by their `bytes`. */
  bytes = 0;
  /**
   * The live records still only bytes that have an expiry time, for active expiry to draw among them in O(1) however
   * few they are (a restored cache of a million keys may hold a handful with a TTL). A record whose entry was built
   * leaves them (its entry holds its expiry time).
   */
  private readonly volatile = new RecordList();
  /**
   * The live records whose entry was built: what a packing pass walks to pack them again, however few they are among
   * millions of records.
   */
  private readonly built = new RecordList();
  /** The `use` (see `Entry`) of keys never looked up since the restore: set by the keyspace that adopts these states. */
  initialUse = 0;
  /**
   * How the uses the records kept (see `KeyUsage`) become theirs as they are read (see {@link keepUsesUnder}); not at
   * all until it is set.
   */
  private usesKept: { readonly lfu: boolean; readonly now: number } | undefined;
  /** Where {@link visitRandom} goes on looking when random draws miss (most records are gone). */
  private scan = 0;

  /** Live records still only bytes that have an expiry time. */
  get volatileRecords(): number {
    return this.volatile.count;
  }

  /** Live records whose entry was built. */
  get builtCount(): number {
    return this.built.count;
  }

  /** Number of live keys. */
  get size(): number {
    return this.live;
  }

  /**
   * Makes room for `records` more records at once (a restore knows how many the snapshot holds), yielding after each
   * column: a million records' columns (45 MB) made in one step held the event loop for 15 to 30 ms.
   */
  *reserve(records: number): Generator<void, void> {
    yield* this.growRecords(this.count + records);
    if (2 * (this.used + records) > this.table.length)
      yield* this.rebuildTable(this.live + records);
    if (this.count === 0 && this.used === 0) this.unindexedFrom = 0;
  }

  /**
   * Puts the records a restore read since {@link reserve} in the table, in steps. Their home slots are counted by
   * part of the table, then the records are ordered by part and put part after part: each part's slots stay in the
   * CPU's cache while its records go in, where putting them in the order they were read is a cache miss or two each.
   * A record whose key an earlier one holds replaces it, as {@link put} does. A look-up before it ends runs it to its
   * end at once.
   */
  indexRecords(): Generator<void, void> {
    return (this.indexing ??= this.indexSteps());
  }

  /** Runs {@link indexRecords} to its end, if records wait for it. */
  private indexNow(): void {
    if (this.unindexedFrom >= 0) runAtOnce(this.indexRecords());
  }

  private *indexSteps(): Generator<void, void> {
    const from = this.unindexedFrom;
    if (from < 0) return;
    const to = this.count;
    const { table, hashes } = this;
    const mask = table.length - 1;
    const parts = Math.min(INDEX_PARTS, table.length);
    const shift = Math.clz32(parts) - Math.clz32(table.length);
    const starts = new Int32Array(parts + 1);
    for (let r = from; r < to; r++) {
      starts[((hashes[r] & mask) >>> shift) + 1]++;
      if ((r & (RECORDS_PER_YIELD - 1)) === RECORDS_PER_YIELD - 1) yield;
    }
    for (let p = 0; p < parts; p++) starts[p + 1] += starts[p];
    // The records by part, with their hashes beside them (each is read in order below), and the hash of the record in
    // each slot, so that a slot passed over is not a read of a record's hash elsewhere: one allocation, as the columns
    // are (see `growRecords`).
    const n = to - from;
    const scratch = uninitialized(Uint32Array, 2 * n + table.length);
    const order = new Int32Array(scratch.buffer, scratch.byteOffset, n);
    const orderHashes = scratch.subarray(n, 2 * n);
    const slotHashes = scratch.subarray(2 * n);
    for (let r = from; r < to; r++) {
      const at = starts[(hashes[r] & mask) >>> shift]++;
      order[at] = r;
      orderHashes[at] = hashes[r];
      if ((r & (RECORDS_PER_YIELD - 1)) === RECORDS_PER_YIELD - 1) yield;
    }
    // The table held no record before (see `reserve`): every slot of `slotHashes` read here was written by this pass.
    for (let i = 0; i < n; i++) {
      const r = order[i];
      const hash = orderHashes[i];
      let slot = hash & mask;
      for (;;) {
        const held = table[slot];
        if (held === 0) {
          table[slot] = r + 1;
          slotHashes[slot] = hash;
          this.used++;
          break;
        }
        if (slotHashes[slot] === hash && this.sameKey(held - 1, r)) {
          // Records of one part go in the order they were read: the later one of a key wins, as in `put`.
          this.kill(held - 1);
          table[slot] = r + 1;
          break;
        }
        slot = (slot + 1) & mask;
      }
      if ((i & (RECORDS_PER_YIELD - 1)) === RECORDS_PER_YIELD - 1) yield;
    }
    this.unindexedFrom = -1;
    this.indexing = undefined;
  }

  /** Whether records `a` and `b`, both still only bytes, hold the same key. */
  private sameKey(a: number, b: number): boolean {
    const start = this.keyStart[a];
    const length = this.keyEnd[a] - start;
    const other = this.keyStart[b];
    if (this.keyEnd[b] - other !== length) return false;
    const bytes = this.sources[this.keySource[a]];
    const otherBytes = this.sources[this.keySource[b]];
    let i = 0;
    while (i < length && bytes[start + i] === otherBytes[other + i]) i++;
    return i === length;
  }

  /**
   * Makes room for `records` more records to be {@link adopt}ed without a column or the table growing in one step:
   * the columns grow a column per step, and the table is rebuilt in steps.
   */
  *reserveAdoptions(records: number): Generator<void, void> {
    yield* this.growRecords(this.count + Math.max(0, records - this.freeRecords.length));
    if (2 * (this.used + records) > this.table.length) {
      yield* this.rebuildTable(this.live + Math.max(records, this.live >>> 1));
    }
  }

  /**
   * Whether the key at bytes [keyStart, keyEnd) of `bytes` is here as a record still only bytes. No key string is
   * built, and a key whose entry was built is not found.
   */
  holdsAsBytes(bytes: Uint8Array, keyStart: number, keyEnd: number): boolean {
    this.indexNow();
    return (
      this.used !== 0 &&
      this.slotOf(bytes, keyStart, keyEnd, hashBytes(bytes, keyStart, keyEnd)) >= 0
    );
  }

  /**
   * Adds a key that is not here (see {@link holdsAsBytes} and {@link madeEntry}) as a record over bytes [keyStart,
   * keyEnd) and [valueStart, valueEnd) of `chunk`, which a snapshot just stored for it, with the `use` and capture
   * `mark` its entry had (see `Entry`). `chunk` must not change afterwards. Call {@link reserveAdoptions} first.
   */
  adopt(
    chunk: Uint8Array,
    keyStart: number,
    keyEnd: number,
    valueStart: number,
    valueEnd: number,
    expiresAt: number | undefined,
    use: number,
    mark: number,
  ): void {
    const source = this.sourceIndex(chunk);
    const r = this.put(chunk, source, keyStart, keyEnd, source, valueStart, valueEnd, expiresAt);
    this.uses[r] = use + 1;
    this.marks[r] = mark;
  }

  /**
   * Makes record `r`, whose entry was built (see {@link builtAt}), a record over bytes [keyStart, keyEnd) and
   * [valueStart, valueEnd) of `chunk` again, where its key (the same bytes it was found by) and its value, expiry time,
   * `use` and capture `mark` are now (see `Keyspace.pack`). It keeps its number and its slot in the table: nothing
   * grows. `chunk` must not change afterwards.
   */
  repackBuilt(
    r: number,
    chunk: Uint8Array,
    keyStart: number,
    keyEnd: number,
    valueStart: number,
    valueEnd: number,
    expiresAt: number | undefined,
    use: number,
    mark: number,
  ): void {
    const entry = this.madeEntries.get(r);
    if (this.status[r] !== MADE || entry === undefined) throw new Error(`record ${r} has no entry`);
    this.madeKeys.set(r, undefined);
    this.madeEntries.set(r, undefined);
    this.built.remove(r);
    this.bytes -= entry.bytes;
    const source = this.sourceIndex(chunk);
    this.keySource[r] = source;
    this.keyStart[r] = keyStart;
    this.keyEnd[r] = keyEnd;
    this.valueSource[r] = source;
    this.valueStart[r] = valueStart;
    this.valueEnd[r] = valueEnd;
    this.sourceUsers[source] += 2;
    if (!Number.isNaN(this.expiry[r])) this.volatile.remove(r);
    this.expiry[r] = expiresAt ?? NaN;
    if (expiresAt !== undefined) this.volatile.add(r);
    this.status[r] = ENCODED;
    this.uses[r] = use + 1;
    this.marks[r] = mark;
    this.bytes += this.recordBytesAt(r);
  }

  /**
   * Sets the key at bytes [keyStart, keyEnd) of `chunk` (in the codec's string encoding, already checked) to the
   * value at bytes [valueStart, valueEnd) of it, replacing any earlier record of the key. `chunk` must not change
   * afterwards. For building the states, before any key is looked up.
   */
  setRecord(
    chunk: Uint8Array,
    keyStart: number,
    keyEnd: number,
    valueStart: number,
    valueEnd: number,
    expiresAt: number | undefined,
    idleMs = -1,
    counter = -1,
  ): void {
    if (isEncodedStreamHelper(chunk, keyStart, keyEnd, chunk, valueStart, valueEnd)) {
      // One of ioredis-mock's stream helper keys (see `streams.ts`), which snapshots written before streams were
      // corrected hold beside each stream entry: the keyspace keeps none.
      this.deleteRecord(chunk, keyStart, keyEnd);
      return;
    }
    const source = this.sourceIndex(chunk);
    const r = this.put(chunk, source, keyStart, keyEnd, source, valueStart, valueEnd, expiresAt);
    const kept = this.usesKept;
    if (kept === undefined) return;
    // As Redis loads an RDB: an LFU policy takes the counter kept, the others the idle time (counted from now: the
    // time the cache was down does not count).
    if (kept.lfu) {
      if (counter >= 0) this.uses[r] = lfuUse(counter, kept.now) + 1;
    } else if (idleMs >= 0) {
      this.uses[r] = Math.max(0, kept.now - idleMs) + 1;
    }
  }

  /**
   * Makes the records read from now on take the use their snapshot kept of their key (see `KeyUsage`), under `policy`
   * at `now`; records that kept none take {@link initialUse}.
   */
  keepUsesUnder(policy: MaxMemoryPolicy, now: number): void {
    this.usesKept = { lfu: isLfu(policy), now };
  }

  /** Whether the uses of these records were read as an LFU policy reads them (undefined: none was kept). */
  get usesReadUnderLfu(): boolean | undefined {
    return this.usesKept?.lfu;
  }

  /** Removes the key at bytes [keyStart, keyEnd) of `chunk`, if a record holds it (a tombstone). */
  deleteRecord(chunk: Uint8Array, keyStart: number, keyEnd: number): void {
    if (this.used === 0) return;
    const slot = this.slotOf(chunk, keyStart, keyEnd, hashBytes(chunk, keyStart, keyEnd));
    if (slot >= 0) this.kill(this.table[slot] - 1);
  }

  /** Removes `key`; returns whether it was there. */
  delete(key: string): boolean {
    const r = this.find(key);
    if (r < 0) return false;
    this.kill(r);
    return true;
  }

  has(key: string): boolean {
    return this.find(key) >= 0;
  }

  /**
   * Removes the keys whose expiry time is at or before `now`; returns how many. Yields every
   * {@link RECORDS_PER_YIELD} records, for a restore to give the event loop a turn (a pass over a million records
   * takes about 10 ms).
   */
  *leaveOutExpired(now: number): Generator<void, number> {
    let expired = 0;
    const { expiry, status } = this; // a restore's read puts no record while this runs
    for (let r = 0; r < this.count; r++) {
      if (status[r] !== GONE && expiry[r] <= now) {
        this.kill(r);
        expired++;
      }
      if ((r & (RECORDS_PER_YIELD - 1)) === RECORDS_PER_YIELD - 1) yield;
    }
    return expired;
  }

  /** Live keys and their states, in record order. Keys never looked up get a state built for the visit. */
  [Symbol.iterator](): IterableIterator<[string, KeyState]> {
    return this.entries();
  }

  /** @internal {@link [Symbol.iterator]}, as entries. */
  *entries(): IterableIterator<[string, Entry]> {
    for (let r = 0; r < this.count; r++) {
      if (this.status[r] === GONE) continue;
      const entry = this.madeEntries.get(r);
      yield entry !== undefined ? [this.madeKeys.get(r) as string, entry] : this.stateAt(r);
    }
  }

  /**
   * @internal pushes onto `keys` the live keys starting with `prefix` that have not expired at `now`, in record
   * order, building no entry (a key never looked up is read from its bytes; one expired is not read at all).
   */
  collectLiveKeys(keys: string[], prefix: string, now: number): void {
    const { status, expiry } = this;
    for (let r = 0; r < this.count; r++) {
      const state = status[r];
      if (state === GONE) continue;
      let key: string;
      if (state === MADE) {
        const entry = this.madeEntries.get(r) as Entry;
        if (entry.expiresAt !== undefined && entry.expiresAt <= now) continue;
        key = this.madeKeys.get(r) as string;
      } else {
        if (expiry[r] <= now) continue; // NaN, no expiry time, compares false
        key = this.keyAt(r);
      }
      if (key.startsWith(prefix)) keys.push(key);
    }
  }

  /**
   * @internal SCAN's walk of the records from number `from`: pushes onto `keys` the live ones not expired at `now`
   * until it has `count` of them or has looked at `budget` records, and onto `expired` the keys met whose time has
   * passed; returns the record to go on from. A record keeps its number while it lives (adopted and repacked keys
   * too), so a key that stays is found however the walk is cut.
   */
  scanRecords(
    from: number,
    keys: string[],
    count: number,
    budget: number,
    now: number,
    expired?: string[],
  ): number {
    const { status, expiry } = this;
    let r = from;
    for (; r < this.count && keys.length < count && budget > 0; r++, budget--) {
      const state = status[r];
      if (state === GONE) continue;
      if (state === MADE) {
        const entry = this.madeEntries.get(r) as Entry;
        if (entry.expiresAt === undefined || entry.expiresAt > now) {
          keys.push(this.madeKeys.get(r) as string);
        } else expired?.push(this.madeKeys.get(r) as string);
      } else if (!(expiry[r] <= now)) keys.push(this.keyAt(r));
      else if (expired !== undefined) expired.push(this.keyAt(r));
    }
    return r;
  }

  /** @internal the number of `key`'s record, -1 if it has none. */
  recordOf(key: string): number {
    return this.find(key);
  }

  /**
   * @internal how many records still only bytes whose expiry time has passed at `now` (a built key's entry holds its
   * own, see {@link build}). Walks only the records with an expiry time.
   */
  countExpired(now: number): number {
    let expired = 0;
    const { expiry, volatile } = this;
    for (let i = 0; i < volatile.count; i++) if (expiry[volatile.at(i)] <= now) expired++;
    return expired;
  }

  /** @internal the entry of `key`, built on its first look-up; later look-ups return the same one. */
  entry(key: string): RestoredEntry | undefined {
    const r = this.find(key);
    if (r < 0) return undefined;
    return this.madeEntries.get(r) ?? this.build(r, key);
  }

  /**
   * @internal what a read finds of `key`: its record, if it is still bytes and small enough to be read in place
   * (see {@link READ_IN_PLACE_BYTES}: {@link readValueAt}, {@link expiresAt}, {@link touchRecord}), or else its
   * entry, built if need be.
   */
  look(key: string): RestoredEntry | number | undefined {
    const r = this.find(key);
    if (r < 0) return undefined;
    if (this.status[r] === ENCODED && this.valueEnd[r] - this.valueStart[r] <= READ_IN_PLACE_BYTES)
      return r;
    return this.madeEntries.get(r) ?? this.build(r, key);
  }

  /** @internal the value of record `r` (still bytes), decoded for one read: a new object each call. */
  readValueAt(r: number): unknown {
    return decodeRestored(this.sources[this.valueSource[r]], this.valueStart[r], this.valueEnd[r]);
  }

  /** @internal the `use` of record `r`, still bytes (see `eviction.ts`). */
  useAt(r: number): number {
    const use = this.uses[r];
    return use === 0 ? this.initialUse : use - 1;
  }

  /** @internal sets the `use` of record `r`, still bytes: a read in place counts as a use of the key. */
  touchRecord(r: number, use: number): void {
    this.uses[r] = use + 1;
  }

  /**
   * @internal replaces the `use` of every record that has one of its own (read in place, or kept by its snapshot) by
   * `convert` of it: they were counted under another eviction policy.
   */
  convertUses(convert: (use: number) => number): void {
    const { uses } = this;
    for (let r = 0; r < this.count; r++) {
      if (uses[r] !== 0 && this.status[r] !== GONE) uses[r] = convert(uses[r] - 1) + 1;
    }
  }

  /** The entry of record `r` (of `key`), still bytes: built, and kept from now on. */
  private build(r: number, key: string): RestoredEntry {
    const entry = this.newEntry(r);
    entry.mark = this.marks[r];
    // The value stays bytes (of its chunk) until read; the key is now a string, found through the same table.
    entry.bytes =
      KEY_OVERHEAD +
      RESTORED_ENTRY_EXTRA +
      stringBytes(key) +
      (this.valueEnd[r] - this.valueStart[r]) +
      (entry.expiresAt === undefined ? 0 : VOLATILE_OVERHEAD);
    this.bytes += entry.bytes - this.recordBytesAt(r);
    // From now on its entry holds its expiry time, and the keyspace counts it among its keys with one (see
    // `Entries.volatile`): the record leaves the records with one, or the key would be counted and drawn twice.
    if (!Number.isNaN(this.expiry[r])) {
      this.volatile.remove(r);
      this.expiry[r] = NaN;
    }
    this.madeKeys.set(r, key);
    this.madeEntries.set(r, entry);
    this.status[r] = MADE;
    this.built.add(r);
    this.release(r); // the entry holds the value's bytes, and look-ups compare its key as a string
    return entry;
  }

  /** @internal the entry of `key` if it was built (no look-up by bytes, nothing built). */
  madeEntry(key: string): RestoredEntry | undefined {
    const r = this.find(key);
    return r < 0 ? undefined : this.madeEntries.get(r);
  }

  /**
   * @internal tells `visit` about a live key drawn at random (only keys whose record has an expiry time when
   * `volatileOnly`); returns false if it found none. Draws a few records at random, then, when most records are gone,
   * goes on from where the last such search stopped.
   */
  visitRandom(volatileOnly: boolean, visitor: SampleVisitor): boolean {
    const count = this.count;
    if (this.live === 0 || (volatileOnly && this.volatileRecords === 0)) return false;
    let r = -1;
    if (volatileOnly) {
      r = this.volatile.at(Math.floor(Math.random() * this.volatile.count));
    } else {
      for (let tries = 0; tries < 4 && r < 0; tries++) {
        const drawn = Math.floor(Math.random() * count);
        if (this.status[drawn] !== GONE) r = drawn;
      }
      for (let steps = 0; r < 0 && steps < count; steps++) {
        if (this.scan >= count) this.scan = 0;
        const next = this.scan++;
        if (this.status[next] !== GONE) r = next;
      }
      if (r < 0) return false;
    }
    const made = this.status[r] === MADE ? this.madeEntries.get(r) : undefined;
    const use = made !== undefined ? made.use : this.useAt(r);
    const expiresAt = made !== undefined ? made.expiresAt : this.expiresAt(r);
    if (visitor.wants(use, expiresAt)) {
      visitor.visit(
        made !== undefined ? (this.madeKeys.get(r) as string) : this.keyAt(r),
        use,
        expiresAt,
        undefined,
      );
    }
    return true;
  }

  /** @internal number of records, gone ones included: record indexes are 0 to this, exclusive. */
  get recordCount(): number {
    return this.count;
  }

  /**
   * @internal how record `r` stands: `undefined` if it is gone, its entry if it was built (its key is
   * {@link builtKeyAt}), or else `null` (it is live and still only bytes).
   */
  builtAt(r: number): RestoredEntry | null | undefined {
    const status = this.status[r];
    if (status === ENCODED) return null;
    return status === MADE ? this.madeEntries.get(r) : undefined;
  }

  /**
   * @internal the number of the `i`th record whose entry was built, `i` from 0 to {@link builtCount} (exclusive). A
   * record that stops being built moves the last one into its place.
   */
  builtRecordAt(i: number): number {
    return this.built.at(i);
  }

  /** @internal the key of record `r`, whose entry was built. */
  builtKeyAt(r: number): string {
    return this.madeKeys.get(r) as string;
  }

  /** @internal sets the capture mark of a record that has no entry; returns false if it already had `id`. */
  markRecord(r: number, id: number): boolean {
    if (this.marks[r] === id) return false;
    this.marks[r] = id;
    return true;
  }

  /** @internal record `r` as bytes. The view is reused: it is valid until the next call. */
  recordAt(r: number): EncodedRecord {
    this.cursor.r = r;
    return this.cursor;
  }

  /** @internal record `r`'s key and a state built for it, not kept. */
  stateAt(r: number): [string, Entry] {
    return [this.keyAt(r), this.newEntry(r)];
  }

  private readonly cursor = new RecordCursor(this);

  /** @internal */
  copyKey(r: number, sink: EncodedSink): void {
    sink.writeRange(this.sources[this.keySource[r]], this.keyStart[r], this.keyEnd[r]);
  }

  /** @internal */
  copyValue(r: number, sink: EncodedSink): void {
    sink.writeRange(this.sources[this.valueSource[r]], this.valueStart[r], this.valueEnd[r]);
  }

  /** @internal */
  expiresAt(r: number): number | undefined {
    const at = this.expiry[r];
    return Number.isNaN(at) ? undefined : at;
  }

  private keyAt(r: number): string {
    return readKey(this.sources[this.keySource[r]], this.keyStart[r], this.keyEnd[r]);
  }

  private newEntry(r: number): RestoredEntry {
    const entry = new RestoredEntry(
      this.expiresAt(r),
      this.sources[this.valueSource[r]],
      this.valueStart[r],
      this.valueEnd[r],
    );
    entry.use = this.useAt(r);
    return entry;
  }

  private kill(r: number): void {
    const status = this.status[r];
    if (status === GONE) return;
    if (status === MADE) {
      const key = this.madeKeys.get(r);
      const entry = this.madeEntries.get(r);
      this.madeKeys.set(r, undefined);
      this.madeEntries.set(r, undefined);
      this.built.remove(r);
      if (key !== undefined && entry !== undefined) {
        this.bytes -= entry.bytes;
      }
    } else {
      this.release(r);
      this.bytes -= this.recordBytesAt(r);
    }
    if (!Number.isNaN(this.expiry[r])) this.volatile.remove(r);
    this.status[r] = GONE;
    this.live--;
    this.freeRecords.push(r);
  }

  private recordBytesAt(r: number): number {
    return recordBytes(this.keyEnd[r] - this.keyStart[r], this.valueEnd[r] - this.valueStart[r]);
  }

  /**
   * Record `r` no longer needs its bytes (it is gone, or it has its entry). A source no record needs is let go, so
   * that a chunk whose keys were all rewritten or deleted can be collected; the last source added is kept, as
   * more records of it may follow.
   */
  private release(r: number): void {
    this.releaseSource(this.keySource[r]);
    this.releaseSource(this.valueSource[r]);
  }

  private releaseSource(source: number): void {
    if (--this.sourceUsers[source] === 0 && this.sources[source] !== this.lastSource) {
      this.sources[source] = RELEASED;
      this.freeSources.push(source);
    }
  }

  /** The live record holding `key`, or -1. */
  private find(key: string): number {
    if (this.live === 0) return -1;
    lookupScratch.truncate(0);
    writeKey(lookupScratch, key);
    const bytes = lookupScratch.buffer;
    const length = lookupScratch.length;
    const slot = this.slotOf(bytes, 0, length, hashBytes(bytes, 0, length), key);
    return slot < 0 ? -1 : this.table[slot] - 1;
  }

  /**
   * The table slot of the live record of the key at bytes [start, end) of `bytes`, or -(the empty slot where it
   * would go) - 1. Records that are gone are stepped over (their slots keep probe sequences whole); a record with
   * its entry built no longer has its key's bytes, and is compared with `key` as a string. The table must not be
   * empty.
   */
  private slotOf(
    bytes: Uint8Array,
    start: number,
    end: number,
    hash: number,
    key?: string,
  ): number {
    this.indexNow();
    const { table, hashes, status } = this;
    const mask = table.length - 1;
    const length = end - start;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      const entry = table[slot];
      if (entry === 0) return -slot - 1;
      const r = entry - 1;
      if (hashes[r] !== hash || status[r] === GONE) continue;
      if (status[r] === MADE) {
        if (key !== undefined && this.madeKeys.get(r) === key) return slot;
        continue;
      }
      const keyStart = this.keyStart[r];
      if (this.keyEnd[r] - keyStart !== length) continue;
      const source = this.sources[this.keySource[r]];
      let i = 0;
      while (i < length && source[keyStart + i] === bytes[start + i]) i++;
      if (i === length) return slot;
    }
  }

  private put(
    keyBytes: Uint8Array,
    keySource: number,
    keyStart: number,
    keyEnd: number,
    valueSource: number,
    valueStart: number,
    valueEnd: number,
    expiresAt: number | undefined,
  ): number {
    const unindexed = this.unindexedFrom < 0 ? 0 : this.count - this.unindexedFrom;
    // An indexing under way counts the records it began with: it ends before another is put. More records than the
    // restore said are put in the table as they come (it grows below).
    if (
      this.indexing !== undefined ||
      (unindexed !== 0 && 2 * (this.used + unindexed + 1) > this.table.length)
    ) {
      this.indexNow();
    }
    if (
      (this.unindexedFrom >= 0 || this.freeRecords.length === 0) &&
      this.count === this.capacity
    ) {
      runAtOnce(this.growRecords(this.count + 1));
    }
    if (2 * (this.used + 1) > this.table.length) {
      runAtOnce(this.rebuildTable(Math.max(this.live + 1, 2 * this.live)));
    }
    const hash = hashBytes(keyBytes, keyStart, keyEnd);
    // Not in the table yet (see `unindexedFrom`): its slot is found when the records are indexed.
    const deferred = this.unindexedFrom >= 0;
    const slot = deferred ? 0 : this.slotOf(keyBytes, keyStart, keyEnd, hash);
    // The slot search comes first: a gone record whose number this one takes is stepped over as gone.
    const r = deferred ? this.count++ : (this.freeRecords.pop() ?? this.count++);
    this.keySource[r] = keySource;
    this.keyStart[r] = keyStart;
    this.keyEnd[r] = keyEnd;
    this.valueSource[r] = valueSource;
    this.valueStart[r] = valueStart;
    this.valueEnd[r] = valueEnd;
    this.expiry[r] = expiresAt ?? NaN;
    this.hashes[r] = hash;
    this.status[r] = ENCODED;
    this.marks[r] = 0;
    this.uses[r] = 0;
    this.sourceUsers[keySource]++;
    this.sourceUsers[valueSource]++;
    this.live++;
    this.bytes += this.recordBytesAt(r);
    if (expiresAt !== undefined) this.volatile.add(r);
    if (deferred) return r;
    if (slot >= 0) {
      this.kill(this.table[slot] - 1);
      this.table[slot] = r + 1;
    } else {
      this.table[-slot - 1] = r + 1;
      this.used++;
    }
    return r;
  }

  /**
   * Makes a new table, of at least twice `keys` slots, holding the live records, in steps; look-ups use the old one
   * until it is done. No record may be put meanwhile (records may be removed: a slot of one removed after it was
   * inserted is then left over, as in the old table).
   */
  private *rebuildTable(keys: number): Generator<void, void> {
    this.indexNow();
    let size = 16;
    while (size < 2 * keys) size *= 2;
    // Zeroed a part at a time: the first write to a page of fresh memory costs a page fault (3.5 ms a megabyte was
    // measured here), and an allocator that reuses freed memory zeroes it all at once (an 8 MB table took 37 ms).
    const table = uninitialized(Int32Array, size);
    for (let from = 0; from < size; from += TABLE_ZEROED_PER_STEP) {
      table.fill(0, from, from + TABLE_ZEROED_PER_STEP);
      yield;
    }
    const mask = size - 1;
    let used = 0;
    for (let r = 0; r < this.count; r++) {
      if ((r & (TABLE_INSERTS_PER_YIELD - 1)) === TABLE_INSERTS_PER_YIELD - 1) yield;
      if (this.status[r] === GONE) continue;
      let slot = this.hashes[r] & mask;
      while (table[slot] !== 0) slot = (slot + 1) & mask;
      table[slot] = r + 1;
      used++;
    }
    this.table = table;
    this.used = used;
  }

  /** The position of `source` in {@link sources}: the last one added, or a new one (the last is then let go if unused). */
  private sourceIndex(source: Uint8Array): number {
    if (source === this.lastSource) return this.lastSourceIndex;
    const previous = this.lastSourceIndex;
    if (this.lastSource !== undefined && this.sourceUsers[previous] === 0) {
      this.sources[previous] = RELEASED;
      this.freeSources.push(previous);
    }
    let index = this.freeSources.pop();
    if (index === undefined) {
      index = this.sources.length;
      this.sources.push(source);
      this.sourceUsers.push(0);
    } else {
      this.sources[index] = source;
      this.sourceUsers[index] = 0;
    }
    this.lastSource = source;
    this.lastSourceIndex = index;
    return index;
  }

  /**
   * Makes the columns hold `needed` records. They are made without zeroing their memory: {@link put} writes every
   * cell of a record, and nothing reads past {@link count}. Zeroed columns for a restore's 300k records (14 MB)
   * took 15 to 50 ms in one step on a machine whose allocator reused freed memory; uninitialised, the pages are
   * touched as records are put, slice by slice. They grow by half at least: a record's columns take 53 bytes, so
   * doubling would leave up to that much unused per record (a quarter of a packed key's size).
   */
  private *growRecords(needed: number): Generator<void, void> {
    if (needed <= this.capacity) return;
    const capacity = Math.max(needed, this.capacity + (this.capacity >>> 1), INITIAL_RECORDS);
    const count = this.count;
    // One allocation for every column: V8 may collect the young generation before each new ArrayBuffer once many
    // young ones hold external memory (as a restore's columns and chunks do), and thirteen allocations of 1-8 MB took
    // up to 12 ms each that way.
    const block = new ColumnBlock(capacity, [
      ...Array<ColumnType<Column>>(2).fill(Float64Array), // expiry, uses
      ...Array<ColumnType<Column>>(10).fill(Uint32Array), // the key's and value's places, hashes, marks, lists
      Uint8Array, // status
    ]);
    const next = {
      expiry: block.next(Float64Array),
      uses: block.next(Float64Array),
      keySource: block.next(Uint32Array),
      keyStart: block.next(Uint32Array),
      keyEnd: block.next(Uint32Array),
      valueSource: block.next(Uint32Array),
      valueStart: block.next(Uint32Array),
      valueEnd: block.next(Uint32Array),
      hashes: block.next(Uint32Array),
      marks: block.next(Uint32Array),
      volatile: block.next(Uint32Array),
      built: block.next(Uint32Array),
      status: block.next(Uint8Array),
    };
    // The parts the copies below write are touched first, a slice at a time, while the old columns are still the
    // ones in use: a copy then costs what copying memory costs, not the page faults of fresh memory. (The lists'
    // positions are copied for their records only, see `RecordList.movePositions`.)
    if (count !== 0) {
      const { volatile: _volatile, built: _built, ...copied } = next;
      for (const column of Object.values(copied)) {
        const perStep = COLUMN_TOUCHED_PER_STEP / column.BYTES_PER_ELEMENT;
        for (let from = 0; from < count; from += perStep) {
          column.fill(0, from, Math.min(count, from + perStep));
          yield;
        }
      }
    }
    const grown = <T extends Column>(old: T, column: T): T => {
      column.set(old.subarray(0, count));
      return column;
    };
    // A step per column; nothing reads or puts a record before the last one is made (see `reserve`).
    this.expiry = grown(this.expiry, next.expiry);
    yield;
    this.uses = grown(this.uses, next.uses);
    yield;
    this.keySource = grown(this.keySource, next.keySource);
    yield;
    this.keyStart = grown(this.keyStart, next.keyStart);
    yield;
    this.keyEnd = grown(this.keyEnd, next.keyEnd);
    yield;
    this.valueSource = grown(this.valueSource, next.valueSource);
    yield;
    this.valueStart = grown(this.valueStart, next.valueStart);
    yield;
    this.valueEnd = grown(this.valueEnd, next.valueEnd);
    yield;
    this.hashes = grown(this.hashes, next.hashes);
    yield;
    this.marks = grown(this.marks, next.marks);
    yield;
    this.volatile.movePositions(next.volatile);
    this.built.movePositions(next.built);
    yield;
    this.status = grown(this.status, next.status);
    this.capacity = capacity;
  }
}

/**
 * Numbers of records in no order, each knowing its place: added, removed (the last one takes its place) and drawn in
 * O(1). `positions` is a column beside the records', grown with them.
 */
class RecordList {
  count = 0;
  private list = new Uint32Array(INITIAL_RECORDS);
  /** Each listed record's place in the list. */
  positions: Uint32Array = new Uint32Array(0);

  /** The `i`th record, `i` from 0 to {@link count} (exclusive). */
  at(i: number): number {
    return this.list[i];
  }

  add(r: number): void {
    const at = this.count++;
    if (at === this.list.length) {
      const list = new Uint32Array(2 * at);
      list.set(this.list);
      this.list = list;
    }
    this.list[at] = r;
    this.positions[r] = at;
  }

  /**
   * Makes `positions`, a column grown for more records, this list's: only the listed records' positions are written
   * (the others are never read), where a copy of the whole column read and wrote pages no record of the list is on.
   */
  movePositions(positions: Uint32Array): void {
    const { list } = this;
    for (let i = 0; i < this.count; i++) positions[list[i]] = i;
    this.positions = positions;
  }

  /** Removes `r`, which must be listed. */
  remove(r: number): void {
    const at = this.positions[r];
    const last = this.list[--this.count];
    this.list[at] = last;
    this.positions[last] = at;
  }
}

type Column = Uint8Array | Uint32Array | Int32Array | Float64Array;

/** A {@link ColumnBlock} larger than this is made of separate allocations (a Buffer holds at most 4 GiB). */
const COLUMN_BLOCK_MAX_BYTES = 1 << 30;

/**
 * Columns of `capacity` cells carved out of one uninitialised allocation, in the order of `types` (wider ones first,
 * so that each is aligned); {@link next} hands them out in that order.
 */
class ColumnBlock {
  private readonly buffer: ArrayBuffer | undefined;
  private offset = 0;
  private taken = 0;

  constructor(
    private readonly capacity: number,
    private readonly types: readonly ColumnType<Column>[],
  ) {
    let total = 0;
    for (let i = 0; i < types.length; i++) {
      if (i > 0 && types[i].BYTES_PER_ELEMENT > types[i - 1].BYTES_PER_ELEMENT)
        throw new Error('ColumnBlock: wider columns come first');
      total += capacity * types[i].BYTES_PER_ELEMENT;
    }
    if (total <= COLUMN_BLOCK_MAX_BYTES) {
      const block = Buffer.allocUnsafeSlow(total);
      this.buffer = block.buffer;
      this.offset = block.byteOffset;
    }
  }

  /** The next column, of the type given for it. */
  next<T extends Column>(Type: ColumnType<T>): T {
    if (this.types[this.taken++] !== (Type as ColumnType<Column>)) {
      throw new Error(`ColumnBlock: column ${this.taken - 1} is not a ${Type.name}`);
    }
    if (this.buffer === undefined) return uninitialized(Type, this.capacity);
    const column = new Type(this.buffer, this.offset, this.capacity);
    this.offset += this.capacity * Type.BYTES_PER_ELEMENT;
    return column;
  }
}
interface ColumnType<T extends Column> {
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
  new (buffer: ArrayBuffer, byteOffset: number, length: number): T;
}

/** A typed array of `length` elements over memory that is not zeroed (`Buffer.allocUnsafeSlow`: not pooled). */
function uninitialized<T extends Column>(Type: ColumnType<T>, length: number): T {
  const bytes = Buffer.allocUnsafeSlow(length * Type.BYTES_PER_ELEMENT);
  return new Type(bytes.buffer, bytes.byteOffset, length);
}
