/**
 * The embedded cache's keyspace.
 *
 * ioredis-mock keeps its keys in a closure-private object that can only be listed whole (one `Object.keys`
 * over every key) and read through copies. A durable cache needs more than that: walking the keys in small
 * slices, knowing which keys changed since the last snapshot, and seeing a key's old value before a write
 * replaces it. So the embedded client runs on this keyspace instead: it implements the two small interfaces
 * ioredis-mock's commands use (`client.data` and `client.expires`, see `ioredis-mock/views.ts`) through the
 * primitives below, with the same semantics, plus the hooks snapshots need.
 */
import { performance } from 'node:perf_hooks';
import { CodecError } from '../format/codec-errors';
import { ListDeque } from '../format/list-deque';
import { BufferWriter } from '../format/writer';
import { readKey, writeKey, type KeyState, type RecordSink } from '../format/records';
import { Capture } from './capture';
import { Entries, isExpiredAt, type SampleVisitor } from './entries';
import { Entry } from './entry';
import {
  convertedUse,
  Evictor,
  idleMs,
  initialUse,
  isLfu,
  MAXMEMORY_POLICIES,
  touchedUse,
  type MemorySettings,
} from './eviction';
import {
  KEY_OVERHEAD,
  keyBytes,
  RESTORED_ENTRY_EXTRA,
  stringBytes,
  VOLATILE_OVERHEAD,
} from './memory';
import { ByteArena } from './byte-arena';
import { RestoredStates } from './restored-states';
import type { KeyspaceSaver } from './saver';
import { stringMap, type ShardedMap } from './sharded-map';
import { isStreamHelper, nextStreamId, parseStreamId, type StreamId, StreamValue } from './streams';

export type { CaptureVisitor } from './capture';
export { Capture } from './capture';
export type { KeyspaceSaver } from './saver';

/**
 * What the embedded client's command rules read: stored values as ioredis-mock keeps them, read without copying
 * (rules never change them) and without the key if it has expired.
 */
export interface KeyReader {
  valueOf(key: string): unknown;
  /** The key's expiry time in ms since the epoch, `undefined` when it has none or does not exist. */
  expiryOf(key: string): number | undefined;
  /** Counts a use of `key` (LRU, LFU), if it exists: a command read it and did not run in ioredis-mock. */
  touch(key: string): void;
  /** What the stream commands' rules write with (XADD, XDEL, XTRIM): absent for a reader of no keyspace. */
  readonly streams?: StreamWriter;
  /**
   * What the rules of the most used writes (SET, INCR, HSET, LPUSH, ZADD, …) store their result with, when they
   * compute it themselves: absent for a reader of no keyspace.
   */
  readonly writer?: KeyWriter;
  /** Begins a command: each key counts one use at most until the next (see {@link Keyspace.beginCommand}). */
  beginCommand?(): void;
  /** Whether the client reading has disconnected: a blocked read (XREAD BLOCK) then gives up, as in Redis. */
  readonly closed?: boolean;
  /**
   * The stored value of `key` and its expiry time, expired or not (nothing is deleted), without counting a use: what
   * keyspace notifications look at once a command ran.
   */
  peek?(
    key: string,
  ): { readonly value: unknown; readonly expiresAt: number | undefined } | undefined;
}

/**
 * How the stream commands' rules change streams (ioredis-mock's XADD neither generates nor checks ids, and has no
 * XDEL or XTRIM): a new {@link StreamValue} is stored in place of the old one, its TTL kept.
 */
export interface StreamWriter {
  /** Stores `stream` under `key` (a stream or nothing), keeping the key's TTL. */
  store(key: string, stream: StreamValue): void;
  /** The id `XADD * ` gives after `lastId` now (see `nextStreamId`); `undefined` after the largest id. */
  nextId(lastId: string): StreamId | undefined;
  /**
   * Whether a write that may add memory may run (see {@link Keyspace.admitWrite}): XADD's rule answers for the
   * command, and checks the memory limit itself before it writes.
   */
  admit(): boolean;
}

/**
 * How a rule stores a value it computed. ioredis-mock's own commands copy a stored value out, change the copy and
 * copy it back in (two copies of a 1,000-member hash for one HSET); a rule that writes builds the new value once.
 * The keyspace keeps the object it is given: never change it afterwards.
 */
export interface KeyWriter {
  /** Stores `value` under `key`, keeping the key's TTL (the rule read the key first: an expired one is gone). */
  store(key: string, value: unknown): void;
  /** The estimated bytes `key` holds (see `memory.ts`), 0 when it holds nothing. */
  bytesOf(key: string): number;
  /**
   * The collection `key` holds, for a rule to change in place (copying a large one for each write would cost its
   * size), `undefined` when the key holds nothing (or has expired, and is then deleted). Does what a write does first
   * (a capture under way keeps a copy of the collection as it was). Call {@link changedInPlace} once it changed. A
   * growable string (see `growable-strings.ts`) is changed so too, then stored again with {@link store}: its view
   * may be a new one.
   */
  inPlace(key: string): unknown;
  /** Ends a change {@link inPlace}: the key's size grew by `bytes` (or shrank, when negative), and it counts as written. */
  changedInPlace(key: string, bytes: number): void;
  /** Deletes `key` (a collection a command emptied). */
  remove(key: string): void;
  /** Stores `value` under `key` without a TTL, as SET does; an expired value is deleted first, as Redis's lookup does. */
  replace(key: string, value: unknown): void;
  /** Sets the expiry time of `key`, ms since the epoch (SET … EX). */
  expireAt(key: string, at: number): void;
  /** Removes the TTL of `key`, if it has one; an expired key is deleted, as Redis's lookup does. */
  persist(key: string): void;
  /** The use `key` holds (its LRU time or LFU counter, see `eviction.ts`), without counting one; `undefined` if none. */
  useOf(key: string): number | undefined;
  /** Gives `key` the use `use` (RENAME keeps the key's object, and its use with it, in Redis). */
  keepUse(key: string, use: number): void;
  /**
   * Records that the string `key` holds now has `encoding`, the one Redis gives the string the command that stored it
   * makes, where its value alone would say another (`raw` after APPEND to a string, SETRANGE, SETBIT, BITFIELD,
   * BITOP, PFADD, PFMERGE; `embstr` after INCRBYFLOAT): see `object-command.ts`. It holds until the value changes.
   */
  markEncoding(key: string, encoding: StringEncoding): void;
  /** The encoding {@link markEncoding} recorded for `key`, if it still holds the value it was recorded for. */
  markedEncoding(key: string): StringEncoding | undefined;
}

/** An encoding of a string that is not the one its value implies (see {@link KeyWriter.markEncoding}). */
export type StringEncoding = 'raw' | 'embstr';

/** How long a write may spend evicting keys before it runs (Redis's default eviction tenacity allows ~500 µs). */
const EVICTION_BUDGET_MS = 0.5;

/**
 * Keys with an expiry time a write that may add memory looks at first, while active expiry is behind (see
 * {@link Keyspace.expiryBehind}). With this many draws a write removes one expired key on average once a quarter of the
 * keys with an expiry time have expired, so that expired keys cannot pile up faster than writes add keys.
 */
const EXPIRE_ON_WRITE_SAMPLE = 4;

/** Copies bytes [start, end) of `from` to `to` at `at`: short ranges (most keys and values) without a view made. */
function copyBytes(from: Uint8Array, start: number, end: number, to: Uint8Array, at: number): void {
  if (end - start > 64) {
    to.set(from.subarray(start, end), at);
    return;
  }
  for (let i = start; i < end; i++) to[at++] = from[i];
}

/** What {@link Keyspace.expireStep} asks of each key drawn: only its expiry time, and its key if that has passed. */
/** How many keys of one command {@link Keyspace.beginCommand} remembers, to count each key's use once. */
const USED_KEYS = 8;

class ExpirySample implements SampleVisitor {
  readonly readsUse = false;
  readonly readsExpiry = true;
  now = 0;
  checked = 0;
  expired = 0;

  constructor(private readonly expire: (key: string) => void) {}

  /** The time left of the keys sampled that have not expired (see `Keyspace.averageTtl`). */
  ttlSum = 0;
  ttlSamples = 0;

  wants(_use: number, expiresAt: number | undefined): boolean {
    this.checked++;
    if (expiresAt === undefined) return false;
    if (expiresAt <= this.now) return true;
    this.ttlSum += expiresAt - this.now;
    this.ttlSamples++;
    return false;
  }

  visit(key: string): void {
    this.expire(key);
    this.expired++;
  }
}

/**
 * What {@link Keyspace.randomKey} asks of the key drawn: its expiry time, and its key. A key whose time has passed is
 * deleted, as Redis's `dbRandomKey` does (an expiry counted, announced, seen by WATCH), and the draw finds nothing.
 */
class LiveDraw implements SampleVisitor {
  readonly readsUse = false;
  readonly readsExpiry = true;
  now = 0;
  drawn: string | undefined = undefined;
  private expired = false;

  constructor(private readonly expire: (key: string) => void) {}

  wants(_use: number, expiresAt: number | undefined): boolean {
    this.expired = isExpiredAt(expiresAt, this.now);
    return true;
  }

  visit(key: string): void {
    if (this.expired) this.expire(key);
    else this.drawn = key;
  }
}

/** Draws RANDOMKEY makes before it lists the live keys to pick one (every draw found an expired key). */
const RANDOM_KEY_DRAWS = 32;

/** Bytes of each block the keys adopted from a snapshot are copied into (see {@link ByteArena}). */
const ADOPTION_BLOCK_BYTES = 256 * 1024;

/** Keys a packing pass (see {@link Keyspace.pack}) looks at between two yields: a look reads a typed column. */
const PACK_LOOKS_PER_STEP = 4096;
/** Keys a packing pass counts as idle or not between two yields, before it makes room for them. */
const PACK_COUNTS_PER_STEP = 16_384;
/** Keys a packing pass packs between two yields (about 2 µs each), after making room for as many records. */
const PACK_PER_STEP = 256;
/** A packing pass's scratch buffer grown past this (by a large value) is let go after use. */
const PACK_SCRATCH_KEEP_BYTES = 1024 * 1024;

/**
 * Runs `steps`, yielding after each, as long as `live()` holds after the yield; says whether they ran to their end
 * (if not, they are ended with `return`, wherever they stood).
 */
function* whileLive(steps: Generator<void, void>, live: () => boolean): Generator<void, boolean> {
  try {
    for (let step = steps.next(); step.done !== true; step = steps.next()) {
      yield;
      if (!live()) return false;
    }
    return true;
  } finally {
    steps.return();
  }
}

/**
 * The hand-over of a committed full snapshot's records to the keyspace (see {@link Keyspace.adopt}): give it the
 * generation's records after running {@link reserve}.
 */
export interface Adoption extends RecordSink {
  /** Makes room for the records to come, in steps. */
  reserve(): Generator<void, void>;
  /** Keys that became records so far. */
  readonly adopted: number;
  /** Ends the adoption, run to its end or not: a packing pass may run again (see {@link Keyspace.pack}). */
  close(): void;
}

/** Why a key was removed other than by a command: what keyspace notifications call it. */
export type Removal = 'expired' | 'evicted';

/** What {@link Keyspace.makeRoom} did: memory is now within the limit, it ran out of time, or no key can go. */
export type RoomMade = 'ok' | 'running' | 'full';

export {
  isLfu,
  lfuCounter,
  MAXMEMORY_POLICIES,
  type MaxMemoryPolicy,
  type MemorySettings,
} from './eviction';

/**
 * Map-backed keyspace with ioredis-mock's semantics (lazy expiry on access) plus a change log for incremental
 * snapshots and point-in-time captures. Values go in and out as they are: copying them is the views' business.
 */
export class Keyspace {
  private entries = new Entries();
  /** Expiry times set on keys that hold no value (ioredis-mock allows it; kept for exact semantics). */
  private orphanExpiries = new Map<string, number>();
  /**
   * Keys changed since the last capture was taken, each with its entry after the change (`null` when it has none),
   * or `undefined` when everything must be captured again.
   */
  private changed: ShardedMap<string, Entry | null> | undefined = undefined;
  /**
   * Keys of {@link changed} that did not exist when they were first changed since the last capture began: no
   * snapshot holds them, so deleting one again needs no tombstone, and it leaves `changed` (a cache of short-lived
   * keys would otherwise keep every expired key's name until the next snapshot).
   */
  private born = stringMap<boolean>();
  private capture: Capture | undefined;
  private captureSeq = 0;
  private written: ((key: string) => void) | undefined;
  private expiredTotal = 0;
  private evictedTotal = 0;
  private rejected = 0;
  /** The last eviction found no key it could evict. */
  private full = false;
  /**
   * Active expiry's last cycle ran out of time with expired keys still being found (set by its owner): until a cycle
   * ends on a sample with few expired keys, each write that may add memory first removes what a small sample of keys
   * with an expiry time finds expired ({@link EXPIRE_ON_WRITE_SAMPLE}). On a loaded event loop the cycles' 1 ms slices
   * get few turns between writes; this ties the removal of expired keys to the writes that add them, so that memory
   * stays bounded under any rate of short-lived writes (a write then costs about one more deletion).
   */
  expiryBehind = false;
  /** Time writes spent removing expired keys while {@link expiryBehind}, ms. */
  expiringOnWritesMs = 0;
  /**
   * What puts records into the restored index now, a full snapshot's adoption or a packing pass (one at a time: the
   * index's table, rebuilt in steps as it grows, may take no other record meanwhile). An adoption takes over from a
   * packing pass, which stops at its next step.
   */
  private recordWriter: object | undefined;
  private packScratch = new BufferWriter(256);
  /**
   * The encodings recorded for written strings (see {@link KeyWriter.markEncoding}), by entry, with the value each was
   * recorded for: a later write of another value ends it, and the mark goes with its entry (a key packed into a
   * record, or restored, answers by its value again, as a string Redis loads from its RDB file does).
   */
  private readonly encodings = new WeakMap<
    Entry,
    { readonly value: unknown; readonly encoding: StringEncoding }
  >();
  /** Whether {@link encodings} was ever given a mark: until then a write has none to end. */
  private encodingsMarked = false;
  private readonly packArena = new ByteArena(ADOPTION_BLOCK_BYTES);
  private removed: ((key: string, why: Removal) => void) | undefined;
  private readonly evictor = new Evictor();
  private stopListener: (() => void) | undefined;
  private serving = true;
  /** The memory limit (Redis's `maxmemory` settings); no limit until set. */
  readonly memory: MemorySettings = { maxBytes: 0, policy: 'noeviction', samples: 5 };
  /** What SAVE and BGSAVE take a snapshot with; `undefined` while nothing makes the keyspace durable. */
  saver: KeyspaceSaver | undefined = undefined;
  /** When the keyspace was made (ms since the epoch): what LASTSAVE answers while nothing was saved. */
  readonly createdAt = Date.now();

  /** Calls `listener` after each write or delete of a key's value (what ioredis-mock's WATCH listens to). */
  onKeyWritten(listener: (key: string) => void): void {
    this.written = listener;
  }

  /** Calls `listener` after a key expired or was evicted (for keyspace notifications). */
  onKeyRemoved(listener: (key: string, why: Removal) => void): void {
    this.removed = listener;
  }

  /**
   * Stops serving clients, as a Redis server does when it shuts down: `listener` (set by the embedded client's
   * connections) closes every connection, and from then on each refuses commands. Called once the app is closing,
   * before the final snapshot, so that no write can be acknowledged after the snapshot that would have held it.
   */
  stopServing(): void {
    if (!this.serving) return;
    this.serving = false;
    this.stopListener?.();
  }

  /** No client may send commands any longer (see {@link stopServing}). */
  get stopped(): boolean {
    return !this.serving;
  }

  /** Calls `listener` when the keyspace stops serving (see {@link stopServing}). */
  onStopServing(listener: () => void): void {
    this.stopListener = listener;
  }

  /** The estimated bytes the keys hold (see `memory.ts`): Redis's `used_memory`, for the keyspace alone. */
  get usedBytes(): number {
    return this.entries.bytes;
  }

  /** The estimated bytes `key` holds, or `undefined` if it does not exist (Redis's `MEMORY USAGE`). */
  memoryUsage(key: string): number | undefined {
    return this.liveEntry(key)?.bytes;
  }

  /** Number of keys with an expiry time, expired ones not yet removed included. */
  get volatileCount(): number {
    return this.entries.volatileCount;
  }

  /** Whether memory is over the limit. */
  get overLimit(): boolean {
    const max = this.memory.maxBytes;
    return max > 0 && this.entries.bytes > max;
  }

  /** Keys evicted to keep memory within the limit (Redis's `evicted_keys`). */
  get evictedKeys(): number {
    return this.evictedTotal;
  }

  /**
   * Evicts keys by the policy until memory is within the limit, for at most `budgetMs` (Redis's
   * `performEvictions`). Each eviction is a deletion like any other (WATCH sees it, the next incremental snapshot
   * writes a tombstone). Says whether memory is now within the limit, or eviction ran out of time (more remains to
   * evict), or no key can be evicted (`noeviction`, or no key with an expiry time under a `volatile-*` policy).
   */
  makeRoom(budgetMs: number): RoomMade {
    this.full = false;
    if (!this.overLimit) return 'ok';
    const now = Date.now();
    // Most writes evict one key or none: the clock starts once a 16th eviction is due, and is read every 16 from
    // then on (Redis's performEvictions reads it every 16), so a write that evicts a few keys does not read it at all.
    let started = 0;
    for (let evicted = 0; this.overLimit; evicted++) {
      if ((evicted & 15) === 15) {
        if (evicted === 15) started = performance.now();
        else if (performance.now() - started >= budgetMs) return 'running';
      }
      const key = this.evictor.pick(this.entries, this.memory, now);
      if (key === undefined) {
        this.full = true;
        return 'full';
      }
      this.delete(key, this.evictor.pickedEntry);
      this.evictedTotal++;
      this.removed?.(key, 'evicted');
    }
    return 'ok';
  }

  /**
   * Before a command that may add memory (Redis's `denyoom` commands): evicts what the policy allows, within
   * `budgetMs`, and says whether the command may run. It may not when memory is over the limit and no key can be
   * evicted; that is counted (see {@link oomRejections}). As in Redis, a command may run while eviction ran out of time
   * with memory still over the limit: the next ones evict more.
   */
  admitWrite(budgetMs: number): boolean {
    if (!this.outOfMemory(budgetMs)) return true;
    this.rejected++;
    return false;
  }

  /**
   * What Redis does before a command while a limit is set (`performEvictions` in `processCommand`): evicts what the
   * policy allows, within `budgetMs`, and says whether memory is still over the limit with no key left to evict. A
   * script's writes are judged by this state at its start (see `script-commands.ts`).
   */
  outOfMemory(budgetMs: number): boolean {
    if (this.expiryBehind) {
      const started = performance.now();
      this.expireStep(Date.now(), EXPIRE_ON_WRITE_SAMPLE);
      this.expiringOnWritesMs += performance.now() - started;
    }
    this.full = this.makeRoom(budgetMs) === 'full';
    return this.full;
  }

  /** Counts a command refused because memory was full when something else decided it (a script's write). */
  countOomRejection(): void {
    this.rejected++;
  }

  /** Commands refused because memory was over the limit and no key could be evicted. */
  get oomRejections(): number {
    return this.rejected;
  }

  /** Whether commands that add memory are refused now: over the limit, and no key can be evicted. */
  get refusingWrites(): boolean {
    return this.overLimit && (this.memory.policy === 'noeviction' || this.full);
  }

  /** Changes the memory limit's policy (a valid one: see {@link MAXMEMORY_POLICIES}). */
  setPolicy(policy: MemorySettings['policy']): void {
    if (!MAXMEMORY_POLICIES.includes(policy)) throw new Error(`unknown maxmemory policy ${policy}`);
    const before = this.memory.policy;
    this.memory.policy = policy;
    if (isLfu(before) === isLfu(policy)) return; // a key's `use` means the same under both
    // Under LRU a key's `use` is the time of its last access, under LFU its minute and counter: each key keeps how
    // long it has been idle, and starts from LFU's initial counter (Redis's LFU_INIT_VAL, decayed by that idle time).
    const now = Date.now();
    const convert = (use: number): number => convertedUse(use, before, policy, now);
    this.entries.convertUses(convert);
    this.entries.restored.initialUse = initialUse(policy, now);
    this.entries.restored.convertUses(convert);
  }

  /** Number of keys held, expired ones not yet removed included. */
  get size(): number {
    return this.entries.size;
  }

  /**
   * Starts a point-in-time capture. `onlyChanges` reads just the keys changed since the previous capture (or
   * since {@link replaceAll}); it is refused (returns `undefined`) when the keyspace cannot tell what changed,
   * and then a full capture is needed. Only one capture may be open at a time.
   */
  beginCapture(onlyChanges: boolean): Capture | undefined {
    if (this.capture !== undefined) throw new Error('a capture is already open on this keyspace');
    if (onlyChanges && this.changed === undefined) return undefined;
    const changedKeys = this.changed;
    this.changed = stringMap();
    this.born = stringMap();
    this.capture = new Capture(
      this,
      ++this.captureSeq,
      this.entries,
      onlyChanges ? changedKeys : undefined,
    );
    return this.capture;
  }

  /**
   * Gives back the keys of a capture whose snapshot was not committed, so that the next incremental capture
   * includes them again. A full capture that failed leaves the keyspace needing another full one.
   */
  restoreChanges(capture: Capture): void {
    if (this.changed === undefined) return;
    if (capture.changedKeys === undefined) {
      this.changed = undefined;
      this.born = stringMap();
      return;
    }
    // A key changed again since the capture began is already here, with its newer entry. Any of these keys may be
    // in the committed chain: none of them counts as born since.
    for (const [key, entry] of capture.changedKeys) {
      this.born.delete(key);
      if (!this.changed.has(key)) this.changed.set(key, entry);
    }
  }

  /**
   * Lets a committed full snapshot's bytes hold the keys it stored that have not changed since: each such key's
   * string, entry and value objects are replaced by a record over the key's bytes in the snapshot's chunk, as a restore
   * would have made it (see `RestoredStates`), keeping its `use` and capture mark. The process that wrote a cache then
   * holds it as compactly as one that restored it, and V8 has that many fewer objects to mark and move.
   *
   * `captureId` is the id of the full capture the snapshot was taken from: a key counts as unchanged if that capture
   * was the last to read it (its mark) and it is not among the keys changed since the last capture began. A key
   * changed since an incremental capture began is there; one changed before was read by it, which left its own mark.
   * So later incremental captures do not stop an adoption from going on: it may be resumed after them, with a new
   * `adopt`. Give the returned {@link Adoption} the generation's records, as they were committed, while no capture is
   * open; records of keys already held as bytes, or changed, are left alone. Returns `undefined` when there is nothing
   * to adopt, or a capture is open, or what changed is not known (after FLUSHALL, or a failed full snapshot).
   */
  adopt(captureId: number): Adoption | undefined {
    const entries = this.entries;
    const candidates = entries.added.size + entries.restored.builtCount;
    if (this.capture !== undefined || captureId > this.captureSeq) return undefined;
    if (this.changed === undefined || candidates === 0) return undefined;
    let adopted = 0;
    const arena = new ByteArena(ADOPTION_BLOCK_BYTES);
    const token = {};
    this.recordWriter = token; // a packing pass running stops at its next step
    return {
      get adopted() {
        return adopted;
      },
      reserve: () => entries.restored.reserveAdoptions(candidates),
      setRecord: (chunk, keyStart, keyEnd, valueStart, valueEnd, expiresAt) => {
        // A restore, FLUSHALL or capture since the adoption began: its keys are no longer these.
        if (this.recordWriter !== token || this.entries !== entries || this.capture !== undefined)
          return;
        if (entries.restored.holdsAsBytes(chunk, keyStart, keyEnd)) return;
        const key = readKey(chunk, keyStart, keyEnd);
        if (this.changed === undefined || this.changed.has(key)) return;
        const entry = entries.added.get(key) ?? entries.restored.madeEntry(key);
        if (entry === undefined || entry.mark !== captureId || entry.expiresAt !== expiresAt)
          return;
        // The key's bytes and its value's, side by side in the arena: the chunk itself is not kept.
        const keyLength = keyEnd - keyStart;
        const at = arena.reserve(keyLength + valueEnd - valueStart);
        const block = arena.block;
        copyBytes(chunk, keyStart, keyEnd, block, at);
        const valueAt = at + keyLength;
        copyBytes(chunk, valueStart, valueEnd, block, valueAt);
        entries.adopt(key, entry, block, at, valueAt, valueAt, valueAt + valueEnd - valueStart);
        adopted++;
      },
      deleteRecord: () => undefined, // a full generation has no tombstones
      close: () => {
        if (this.recordWriter === token) this.recordWriter = undefined;
      },
    };
  }

  /** Keys held as objects, which a packing pass looks at (see {@link pack}). */
  get packCandidates(): number {
    return this.entries.addedCount + this.entries.restored.builtCount;
  }

  /**
   * Packs the keys nobody has used for `idleAfter` ms as a restore holds its keys: each such key's string, entry and
   * value objects give way to a record over its encoded bytes, in blocks shared with the other packed keys (see
   * `RestoredStates`), keeping its value, expiry time, `use` and capture mark. It is what a full snapshot's adoption
   * does (see {@link adopt}), without a snapshot: a cache without persistence, or before its first snapshot, holds
   * its idle keys as compactly as a restarted one, and V8 has that many fewer objects to mark and move. A packed key
   * reads and writes as before; a read of a small value decodes it for that read, a write makes it an object again.
   * Under an LFU policy a key's last use is known to the minute (see `idleMs` in `eviction.ts`).
   *
   * One pass over the keys held as objects (those created since the restore, then restored ones a look-up built), in
   * steps for a caller to run in time slices. Keys changed since the last capture began are left alone (the next
   * incremental capture reads the entries recorded for them), and so are values that cannot be encoded (a snapshot
   * would report them). The pass stops at its next step once a capture begins, the keyspace is replaced or flushed,
   * or a full snapshot's adoption begins; it does not start while either is under way. Returns how many keys it
   * packed.
   */
  *pack(idleAfter: number): Generator<void, number> {
    if (this.capture !== undefined || this.recordWriter !== undefined) return 0;
    const token = {};
    this.recordWriter = token;
    const entries = this.entries;
    const restored = entries.restored;
    const live = (): boolean =>
      this.recordWriter === token && this.entries === entries && this.capture === undefined;
    const idle = (use: number, now: number): boolean =>
      idleMs(use, this.memory.policy, now) >= idleAfter;
    let packed = 0;
    try {
      // Room for every idle key at once, as an adoption makes room for its keys: the record columns and the table
      // then grow once, not by half again and again (each growth copies every column, a column per step).
      let idleKeys = 0;
      for (let j = entries.addedCount; j > 0;) {
        const now = Date.now();
        for (let looked = 0; j > 0 && looked < PACK_COUNTS_PER_STEP; looked++) {
          if (idle(entries.addedUseAt(--j), now)) idleKeys++;
        }
        yield;
        if (!live()) return packed;
      }
      if (!(yield* whileLive(restored.reserveAdoptions(idleKeys), live))) return packed;
      // Keys created since the restore, from the last position down: a removal moves the last key into the removed
      // one's place, which is then one already looked at (or one added since, too young to pack).
      for (let i = entries.addedCount; i > 0;) {
        if (!(yield* whileLive(restored.reserveAdoptions(PACK_PER_STEP), live))) return packed;
        const now = Date.now();
        for (let looked = 0, packedNow = 0; i > 0 && looked < PACK_LOOKS_PER_STEP; looked++) {
          i = Math.min(i, entries.addedCount) - 1;
          if (!idle(entries.addedUseAt(i), now)) continue;
          const key = entries.addedKeyAt(i);
          if (this.changed?.has(key) === true || !this.packKey(key, entries.addedEntryAt(i)))
            continue;
          packed++;
          if (++packedNow === PACK_PER_STEP) break;
        }
        yield;
        if (!live()) return packed;
      }
      // Restored keys whose entries a look-up built, from the last one down in the list of them (a repacked one
      // leaves it, and the last takes its place: one already looked at): each becomes its own record again (no
      // record or table slot is added).
      for (let i = restored.builtCount; i > 0;) {
        const now = Date.now();
        for (let looked = 0, packedNow = 0; i > 0 && looked < PACK_LOOKS_PER_STEP; looked++) {
          i = Math.min(i, restored.builtCount) - 1;
          const r = restored.builtRecordAt(i);
          const built = restored.builtAt(r);
          if (built === null || built === undefined || !idle(built.use, now)) continue;
          const key = restored.builtKeyAt(r);
          if (this.changed?.has(key) === true || !this.packKey(key, built, r)) continue;
          packed++;
          if (++packedNow === PACK_PER_STEP) break;
        }
        yield;
        if (!live()) return packed;
      }
      return packed;
    } finally {
      if (this.recordWriter === token) this.recordWriter = undefined;
    }
  }

  /**
   * Makes `entry` of `key` (one of the keys created since the restore, or the built entry of restored record
   * `record`) a record over its encoded bytes (see {@link pack}); false if its value cannot be encoded.
   */
  private packKey(key: string, entry: Entry, record?: number): boolean {
    const scratch = this.packScratch;
    scratch.truncate(0);
    writeKey(scratch, key);
    const keyLength = scratch.length;
    try {
      // A restored value not read since is copied as it was stored.
      if (!entry.copyEncodedTo(scratch)) scratch.writeValue(entry.value);
    } catch (error) {
      if (error instanceof CodecError) return false;
      throw error;
    }
    const length = scratch.length;
    const at = this.packArena.reserve(length);
    const block = this.packArena.block;
    copyBytes(scratch.buffer, 0, length, block, at);
    const valueAt = at + keyLength;
    if (record === undefined)
      this.entries.adopt(key, entry, block, at, valueAt, valueAt, at + length);
    else this.entries.repack(key, record, entry, block, at, valueAt, valueAt, at + length);
    if (scratch.buffer.length > PACK_SCRATCH_KEEP_BYTES) this.packScratch = new BufferWriter(256);
    return true;
  }

  /** Counts `key` as changed again, so that the next incremental capture reads it (a snapshot left it out). */
  markChanged(key: string): void {
    if (this.changed === undefined || this.changed.has(key)) return;
    this.changed.set(key, this.entries.has(key) ? (this.entries.get(key) ?? null) : null);
  }

  /** Number of keys changed since the last capture, or `undefined` when unknown (a full capture is due). */
  get changedCount(): number | undefined {
    return this.changed?.size;
  }

  /** @internal */
  endCapture(capture: Capture): void {
    if (this.capture === capture) this.capture = undefined;
  }

  /**
   * Empty states for a restore to read a snapshot into (see {@link replaceAll}): each record takes the use its
   * snapshot kept of its key under the policy in force now, as Redis does when it loads an RDB.
   */
  restoreTarget(): RestoredStates {
    const states = new RestoredStates();
    states.keepUsesUnder(this.memory.policy, Date.now());
    return states;
  }

  /**
   * Replaces the whole content at once (a restore). What changed is reset: the new content is, by definition,
   * what the store holds. {@link RestoredStates} are taken over as they are (the caller must not change them
   * afterwards); a map is copied.
   */
  replaceAll(states: RestoredStates | ReadonlyMap<string, KeyState>): void {
    if (this.capture !== undefined)
      throw new Error('cannot replace the keyspace while a capture is open');
    const now = Date.now();
    if (states instanceof RestoredStates) {
      const { policy } = this.memory;
      states.initialUse = initialUse(policy, now);
      const readUnderLfu = states.usesReadUnderLfu;
      if (readUnderLfu !== undefined && readUnderLfu !== isLfu(policy)) {
        // The policy changed while the records were read: the uses they kept read as the other kind.
        const from = readUnderLfu ? 'allkeys-lfu' : 'allkeys-lru';
        states.convertUses((use) => convertedUse(use, from, policy, now));
      }
      this.entries = new Entries(states); // fresh records: no capture has dealt with them
    } else {
      this.entries = new Entries();
      for (const [key, state] of states)
        if (!isStreamHelper(key, state.value))
          this.addEntry(key, state.value, state.expiresAt, now);
    }
    this.orphanExpiries = new Map();
    this.changed = stringMap();
    this.born = stringMap();
  }

  /**
   * What the embedded client's command rules read (see `command-rule.ts`): stored values, not copies (a rule only
   * looks), with ioredis-mock's lazy expiry (a key found expired is deleted, as the command itself would have). A
   * look is not a use of the key: the command that then runs in ioredis-mock counts its own, and a command the rules
   * answer themselves calls `touch` (Redis counts the lookups of reads and writes alike).
   */
  readonly reader: KeyReader = {
    valueOf: (key) => {
      const found = this.liveLook(key);
      if (found === undefined) return undefined;
      return typeof found === 'number'
        ? this.entries.restored.readValueAt(found)
        : this.valueOfEntry(key, found);
    },
    expiryOf: (key) => {
      const found = this.liveLook(key);
      if (found === undefined) return undefined;
      return typeof found === 'number' ? this.entries.restored.expiresAt(found) : found.expiresAt;
    },
    beginCommand: () => this.beginCommand(),
    peek: (key) => {
      const found = this.entries.look(key);
      if (found === undefined) return undefined;
      const value =
        typeof found === 'number'
          ? this.entries.restored.readValueAt(found)
          : this.valueOfEntry(key, found);
      return { value, expiresAt: this.expiryOf(key) };
    },
    touch: (key) => {
      const found = this.entries.look(key);
      if (found === undefined) return;
      const { policy } = this.memory;
      if (typeof found !== 'number') this.countUse(key, found);
      else if (this.firstUse(key)) {
        const restored = this.entries.restored;
        restored.touchRecord(found, touchedUse(restored.useAt(found), policy, Date.now()));
      }
    },
    writer: {
      store: (key, value) => this.set(key, value),
      bytesOf: (key) => this.entries.get(key)?.bytes ?? 0,
      inPlace: (key) => {
        const entry = this.liveEntry(key);
        if (entry === undefined) return undefined;
        this.beforeWrite(key, true);
        const encoded = entry.encoded;
        const value = entry.value;
        // A restored value was sized by its bytes: once built, by its objects, which later changes add to.
        if (encoded)
          this.entries.resize(entry, keyBytes(key, value, entry.expiresAt !== undefined));
        if (isListArray(value)) {
          // A list changed in place becomes a deque, which adds and takes at its front as fast as at its back (the
          // array it is made from is not changed).
          const deque = ListDeque.from(value);
          entry.value = deque;
          return deque;
        }
        return value;
      },
      changedInPlace: (key, bytes) => {
        const entry = this.entries.get(key);
        if (entry === undefined) throw new Error(`changedInPlace: no key ${key}`);
        this.countUse(key, entry);
        this.entries.resize(entry, entry.bytes + bytes);
        this.afterWrite(key, entry);
        this.written?.(key);
      },
      remove: (key) => this.delete(key),
      replace: (key, value) => {
        this.dropExpiry(key);
        this.set(key, value);
      },
      expireAt: (key, at) => this.setExpiry(key, at),
      persist: (key) => this.dropExpiry(key),
      useOf: (key) => {
        const found = this.entries.look(key);
        if (found === undefined) return undefined;
        return typeof found === 'number'
          ? this.entries.restored.useAt(found)
          : this.entries.useOf(found);
      },
      keepUse: (key, use) => {
        const found = this.entries.look(key);
        if (found === undefined) return;
        if (typeof found === 'number') this.entries.restored.touchRecord(found, use);
        else this.entries.touch(found, use);
      },
      markEncoding: (key, encoding) => {
        const entry = this.entries.get(key);
        if (entry !== undefined && !entry.encoded) {
          this.encodings.set(entry, { value: entry.value, encoding });
          this.encodingsMarked = true;
        }
      },
      markedEncoding: (key) => {
        const found = this.entries.look(key);
        if (typeof found !== 'object') return undefined;
        const mark = this.encodings.get(found);
        return mark !== undefined && !found.encoded && mark.value === found.value
          ? mark.encoding
          : undefined;
      },
    },
    streams: {
      store: (key, stream) => this.set(key, stream),
      nextId: (lastId) => nextStreamId(parseStreamId(lastId) ?? { ms: 0n, seq: 0n }, Date.now()),
      admit: () => this.admitWrite(EVICTION_BUDGET_MS),
    },
  };

  /** Removes the TTL of `key`, deleting the key first if it has expired. */
  private dropExpiry(key: string): void {
    const expiresAt = this.expiryOf(key);
    if (expiresAt === undefined) return;
    if (isExpiredAt(expiresAt, Date.now()) && this.entries.has(key)) this.expire(key);
    this.setExpiry(key, undefined);
  }

  /** The entry of `key` unless it has expired (it is then deleted, as ioredis-mock deletes a key found expired). */
  private liveEntry(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const expiresAt = entry.expiresAt;
    if (expiresAt === undefined || expiresAt > Date.now()) return entry;
    this.expire(key);
    return undefined;
  }

  /**
   * What the rules' reads find of `key` unless it has expired (it is then deleted, as by {@link liveEntry}): its
   * entry, or its restored record, read in place (see `RestoredStates.look`).
   */
  private liveLook(key: string): Entry | number | undefined {
    const found = this.entries.look(key);
    if (found === undefined) return undefined;
    const expiresAt =
      typeof found === 'number' ? this.entries.restored.expiresAt(found) : found.expiresAt;
    if (expiresAt === undefined || expiresAt > Date.now()) return found;
    this.expire(key);
    return undefined;
  }

  /** Deletes `key`, whose time has run out. */
  private expire(key: string): void {
    this.expiredTotal++;
    this.delete(key);
    this.removed?.(key, 'expired');
  }

  /** Adds `key`, not held, with a new entry sized and used at `now`. */
  private addEntry(key: string, value: unknown, expiresAt: number | undefined, now: number): Entry {
    const entry = new Entry(value, expiresAt);
    entry.bytes = keyBytes(key, value, expiresAt !== undefined);
    this.entries.add(key, entry, initialUse(this.memory.policy, now));
    // Made by the command running: its first use, as Redis's new object starts with LFU's initial counter.
    if (this.commandOpen) this.firstUse(key);
    return entry;
  }

  /**
   * Begins a command (the embedded client calls it before each one runs): from now until the next one, each key
   * counts one use at most (LRU, LFU), as Redis looks a key up once per command, and a key the command makes counts
   * none. ioredis-mock's commands read a key, then store it back, or store a new one and read it: two uses where
   * Redis counts one, or none. It runs before every command, so it costs an assignment: the keys used are a short
   * array searched in place (a command uses one to three keys; past {@link USED_KEYS} each use counts).
   */
  beginCommand(): void {
    this.commandOpen = true;
    this.usedCount = 0;
  }

  private commandOpen = false;
  private readonly usedKeys: string[] = new Array<string>(USED_KEYS).fill('');
  private usedCount = 0;

  /** Whether a use of `key` counts: its first in the command running (see {@link beginCommand}), or before any. */
  private firstUse(key: string): boolean {
    if (!this.commandOpen) return true;
    const used = this.usedKeys;
    const count = this.usedCount;
    for (let i = 0; i < count; i++) if (used[i] === key) return false;
    if (count < USED_KEYS) {
      used[count] = key;
      this.usedCount = count + 1;
    }
    return true;
  }

  /** Counts a use of `entry` (of `key`), unless the command running counted one (see {@link beginCommand}). */
  private countUse(key: string, entry: Entry): void {
    if (this.firstUse(key)) {
      this.entries.touch(
        entry,
        touchedUse(this.entries.useOf(entry), this.memory.policy, Date.now()),
      );
    }
  }

  /** The value of `entry` (of `key`): decoded if it was restored bytes, and resized then. */
  private valueOfEntry(key: string, entry: Entry): unknown {
    if (!entry.encoded) return entry.value;
    const value = entry.value;
    this.entries.resize(entry, keyBytes(key, value, entry.expiresAt !== undefined));
    return value;
  }

  /** Call before `key` changes: an open capture keeps its old state aside. */
  private beforeWrite(key: string, inPlace = false): void {
    this.capture?.beforeWrite(key, inPlace);
    const changed = this.changed;
    if (changed !== undefined && !changed.has(key) && !this.entries.has(key))
      this.born.set(key, true);
  }

  /** Call after `key` changed, with its entry now (`null`: it has none), for the next incremental capture. */
  private afterWrite(key: string, entry: Entry | null): void {
    this.changed?.set(key, entry);
  }

  /** The stored value of `key` (not a copy), expired or not; counts as a use of the key (LRU, LFU). */
  valueOf(key: string): unknown {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    this.countUse(key, entry);
    return this.valueOfEntry(key, entry);
  }

  /**
   * The live value of `key` and its use (see `eviction.ts`: its last use in ms under an LRU policy, its LFU counter
   * and the minute it was last decremented under an LFU one), without counting as a use: what OBJECT reads.
   */
  inspect(key: string): { readonly value: unknown; readonly use: number } | undefined {
    const entry = this.liveEntry(key);
    return entry === undefined
      ? undefined
      : { value: this.valueOfEntry(key, entry), use: this.entries.useOf(entry) };
  }

  /** Whether `key` holds a value, expired or not. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /**
   * The expiry time of `key`, also when it holds no value (ioredis-mock allows an expiry on a missing key). A
   * restored key read in place is not built for it (ioredis-mock asks before every read and write).
   */
  expiryOf(key: string): number | undefined {
    const found = this.entries.look(key);
    if (found === undefined) {
      return this.orphanExpiries.size === 0 ? undefined : this.orphanExpiries.get(key);
    }
    return typeof found === 'number' ? this.entries.restored.expiresAt(found) : found.expiresAt;
  }

  isExpired(key: string, now = Date.now()): boolean {
    return isExpiredAt(this.expiryOf(key), now);
  }

  /** Deletes `key` if its expiry time has passed: ioredis-mock's lazy expiry. */
  expireIfDue(key: string): void {
    const expiresAt = this.expiryOf(key);
    // Most keys have no expiry time: no clock read for them (ioredis-mock asks before every read and write).
    if (expiresAt === undefined || !isExpiredAt(expiresAt, Date.now())) return;
    if (this.entries.has(key)) this.expire(key);
    else this.delete(key); // an expiry time on a key without a value is no key
  }

  /**
   * Keys deleted because their TTL had run out, by a command that touched them or by active expiry, since this
   * keyspace was made (Redis's `expired_keys`). Keys a restore left out are not among them.
   */
  get expiredKeys(): number {
    return this.expiredTotal;
  }

  /**
   * The keys starting with `prefix` that hold a value and have not expired (what KEYS filters). Restored keys are
   * read from their bytes: listing the keys builds no entry.
   */
  liveKeys(prefix = ''): string[] {
    return this.entries.liveKeys(prefix, Date.now());
  }

  /**
   * A key drawn at random among those that have not expired (RANDOMKEY), `undefined` when there is none. Each draw
   * is O(1) (the sampling eviction uses); only when {@link RANDOM_KEY_DRAWS} draws all found expired keys are the
   * live keys listed to pick one.
   */
  randomKey(): string | undefined {
    if (this.entries.size === 0) return undefined;
    const draw = this.liveDraw;
    draw.now = Date.now();
    for (let i = 0; i < RANDOM_KEY_DRAWS; i++) {
      draw.drawn = undefined;
      this.entries.sample(false, 1, draw);
      if (draw.drawn !== undefined) return draw.drawn;
    }
    const live = this.liveKeys();
    if (live.length !== 0) return live[Math.floor(Math.random() * live.length)];
    // Every key has expired: Redis draws on, deleting each, until none is left.
    let cursor = 0;
    do cursor = this.scan(cursor, 1000).cursor;
    while (cursor !== 0);
    return undefined;
  }

  private readonly liveDraw = new LiveDraw((key) => this.expire(key));

  /**
   * One call of SCAN from `cursor`: about `count` keys, and the cursor to go on with (see `Entries.scan`). The keys
   * of the page whose time has passed are not returned; those `matches` (SCAN's MATCH) are deleted, as Redis's
   * `scanGenericCommand` does (an expiry counted, announced, seen by WATCH).
   */
  scan(
    cursor: number,
    count: number,
    matches?: (key: string) => boolean,
  ): { cursor: number; keys: string[] } {
    const expired: string[] = [];
    const page = this.entries.scan(cursor, count, Date.now(), expired);
    for (const key of expired) {
      if (matches === undefined || matches(key)) this.expireIfDue(key);
    }
    return page;
  }

  /**
   * How many keys hold a value and have not expired (DBSIZE): {@link size} less the keys whose TTL ran out and that
   * nothing removed yet, counted over the keys with an expiry time alone.
   */
  get liveCount(): number {
    return this.entries.liveCount(Date.now());
  }

  /** Deletes `key`'s value and expiry. */
  /** Deletes `key`; `drawn` is its entry when a sample drew it (see `Entries.delete`). */
  delete(key: string, drawn?: Entry): void {
    this.beforeWrite(key);
    this.entries.delete(key, drawn);
    // Most keyspaces have neither (no expiry on a missing key; no capture since startup): no look-up then.
    if (this.orphanExpiries.size !== 0) this.orphanExpiries.delete(key);
    this.afterWrite(key, null);
    if (this.born.size !== 0 && this.born.delete(key)) this.changed?.delete(key);
    this.written?.(key);
  }

  /**
   * Stores `value` under `key` as it is (the keyspace keeps this object: never mutate it afterwards). An
   * ioredis-mock stream helper key (which its own XADD writes, when a Lua script calls it) is not kept: the keyspace
   * holds only what Redis would (see `streams.ts`).
   */
  set(key: string, value: unknown): void {
    if (isStreamHelper(key, value)) return;
    this.beforeWrite(key);
    let entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.value = value;
      // A new value has the encoding its own command gives it (an equal string is a new one).
      if (this.encodingsMarked) this.encodings.delete(entry);
      this.countUse(key, entry);
      this.entries.resize(entry, keyBytes(key, value, entry.expiresAt !== undefined));
    } else {
      const orphan = this.orphanExpiries.size === 0 ? undefined : this.orphanExpiries.get(key);
      if (orphan !== undefined) this.orphanExpiries.delete(key);
      entry = this.addEntry(key, value, orphan, Date.now());
    }
    this.afterWrite(key, entry);
    this.written?.(key);
  }

  /** Sets or (with `undefined`) removes the expiry time of `key`. */
  setExpiry(key: string, expiresAt: number | undefined): void {
    this.beforeWrite(key);
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      const had = entry.expiresAt !== undefined;
      const change = +(expiresAt !== undefined) - +had;
      entry.expiresAt = expiresAt;
      this.entries.expiryChanged(key, entry);
      if (change !== 0) this.entries.resize(entry, entry.bytes + change * VOLATILE_OVERHEAD);
      // A TTL set, or one removed, is a change of the key to WATCH, as Redis's EXPIRE and PERSIST signal it.
      if (had || expiresAt !== undefined) this.written?.(key);
    } else if (expiresAt === undefined) this.orphanExpiries.delete(key);
    else this.orphanExpiries.set(key, expiresAt);
    this.afterWrite(key, entry ?? null);
  }

  /**
   * One step of active expiry: draws `sample` keys at random among those with an expiry time (keys created since the
   * restore, and restored records, each in proportion to their number), and deletes those whose time is at or before
   * `now`, exactly as a lazy expiry would (see {@link delete}). Drawing at random, as Redis's walk of its hashed
   * `expires` table does in effect, makes the share of expired keys in a sample an estimate of their share among all
   * keys with an expiry time, whatever the order the keys were written in. Returns how many it drew and deleted.
   */
  expireStep(now: number, sample: number): { checked: number; expired: number } {
    const expiry = this.expirySample;
    expiry.now = now;
    expiry.checked = 0;
    expiry.expired = 0;
    expiry.ttlSum = 0;
    expiry.ttlSamples = 0;
    this.entries.sample(true, sample, expiry);
    if (this.entries.volatileCount === 0) this.avgTtl = 0;
    else if (expiry.ttlSamples > 0) {
      // Redis's running average (`activeExpireCycle`): the new sample weighs 2%, in whole milliseconds.
      const sampled = Math.floor(expiry.ttlSum / expiry.ttlSamples);
      if (this.avgTtl === 0) this.avgTtl = sampled;
      this.avgTtl = Math.floor(this.avgTtl / 50) * 49 + Math.floor(sampled / 50);
    }
    return { checked: expiry.checked, expired: expiry.expired };
  }

  private avgTtl = 0;

  /**
   * The average TTL of keys with one, in ms, as Redis estimates it (INFO keyspace's `avg_ttl`): from the keys active
   * expiry samples that have not expired; 0 when no key has a TTL.
   */
  get averageTtl(): number {
    return this.avgTtl;
  }

  private readonly expirySample = new ExpirySample((key) => this.expire(key));

  /** Deletes every key (FLUSHALL's values). */
  clear(): void {
    // New entries, never a `.clear()`: an open capture keeps reading the old ones, which nothing changes any more.
    this.entries = new Entries();
    this.changed = undefined;
    this.born = stringMap();
  }

  /** Removes every expiry time (FLUSHALL's expiries), keeping the values. */
  clearExpiries(): void {
    // Copy-on-clear: an open capture keeps reading the old entries, which nothing changes any more.
    const entries = new Entries();
    for (const [key, entry] of this.entries) {
      const copy = entry.withExpiry(undefined);
      // A restored key never looked up gets an entry for the visit, not sized yet.
      if (copy.bytes === 0) {
        copy.bytes = KEY_OVERHEAD + RESTORED_ENTRY_EXTRA + stringBytes(key) + copy.encodedLength;
      } else if (entry.expiresAt !== undefined) copy.bytes -= VOLATILE_OVERHEAD;
      entries.add(key, copy, this.entries.useOf(entry));
    }
    this.entries = entries;
    this.orphanExpiries = new Map();
    this.changed = undefined;
    this.born = stringMap();
  }
}

/** Whether `value` is a list held as an array (a stream is an array of `[id, fields]` entries). */
function isListArray(value: unknown): value is unknown[] {
  return (
    Array.isArray(value) &&
    !(value instanceof StreamValue) &&
    (value.length === 0 || !Array.isArray(value[0]))
  );
}
