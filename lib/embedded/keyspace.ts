/**
 * The embedded cache's keyspace.
 *
 * ioredis-mock keeps its keys in a closure-private object that can only be listed whole (one `Object.keys`
 * over every key) and read through copies. A durable cache needs more than that: walking the keys in small
 * slices, knowing which keys changed since the last snapshot, and seeing a key's old value before a write
 * replaces it. So the embedded client runs on this keyspace instead: it implements the two small interfaces
 * ioredis-mock's commands use (`client.data` and `client.expires`, see `ioredis-mock.adapter.ts`) with the same
 * semantics, plus the hooks snapshots need.
 */

import { CodecError, decodeValue } from '../store/codec';

/** Where a state still in its encoded form copies its bytes (see {@link KeyState.copyEncodedTo}). */
export interface EncodedSink {
  writeRange(source: Uint8Array, start: number, end: number): void;
}

/** A key's state: its value as ioredis-mock stores it and its absolute expiry time (ms since epoch). */
export interface KeyState {
  readonly value: unknown;
  readonly expiresAt: number | undefined;
  /**
   * A restored value is kept in its encoded form until it is first read. While it is, this writes those bytes
   * to `sink` and returns true (a snapshot then copies them instead of encoding the value again); once the value
   * has been decoded it returns false. States without it are always decoded.
   */
  copyEncodedTo?(sink: EncodedSink): boolean;
}

/**
 * One key of the keyspace. `mark` is the id of the last capture that has dealt with this key.
 *
 * A restored entry holds its value as bytes [start, end) of a snapshot chunk (`source`) and decodes it on first
 * read: a restore then builds keys, not values, and values nobody reads are never built. The restore checked the
 * chunk's checksum, which covers the value's bytes.
 */
class Entry implements KeyState {
  mark = 0;

  /** A decoded value, or with `source`, the value at bytes [start, end) of `source`, decoded on first read. */
  constructor(
    private decoded: unknown,
    public expiresAt: number | undefined,
    private source: Uint8Array | undefined = undefined,
    private readonly start = 0,
    private readonly end = 0,
  ) {}

  get value(): unknown {
    if (this.source !== undefined) {
      try {
        this.decoded = decodeValue(this.source, this.start, this.end);
      } catch (error) {
        if (error instanceof CodecError) {
          error.message = `a value restored from the snapshot cannot be decoded: ${error.message}`;
        }
        throw error;
      }
      this.source = undefined; // the chunk can be collected once none of its values is left encoded
    }
    return this.decoded;
  }

  set value(value: unknown) {
    this.decoded = value;
    this.source = undefined;
  }

  copyEncodedTo(sink: EncodedSink): boolean {
    if (this.source === undefined) return false;
    sink.writeRange(this.source, this.start, this.end);
    return true;
  }

  /** A copy of this state (encoded or not) with the given expiry; the copy never decodes this entry. */
  withExpiry(expiresAt: number | undefined): Entry {
    return new Entry(this.decoded, expiresAt, this.source, this.start, this.end);
  }
}

/**
 * Key states read from a snapshot, in the form {@link Keyspace.replaceAll} takes over as it is: a restore of
 * millions of keys builds its map and its entries once, and swapping them in costs nothing more.
 */
export class RestoredStates implements Iterable<[string, KeyState]> {
  private entries = new Map<string, Entry>();

  /**
   * Sets `key` to the value at bytes [start, end) of `source`, in the snapshot codec's encoding (see
   * `lib/store/codec.ts`), decoded on first read. `source` must not change afterwards.
   */
  setEncoded(
    key: string,
    source: Uint8Array,
    start: number,
    end: number,
    expiresAt: number | undefined,
  ): void {
    this.entries.set(key, new Entry(undefined, expiresAt, source, start, end));
  }

  delete(key: string): boolean {
    return this.entries.delete(key);
  }

  get size(): number {
    return this.entries.size;
  }

  [Symbol.iterator](): IterableIterator<[string, KeyState]> {
    return this.entries.entries();
  }

  /** @internal hands the entries over to the keyspace; this becomes empty. */
  take(): Map<string, Entry> {
    const entries = this.entries;
    this.entries = new Map();
    return entries;
  }
}

/** Copies a value the way ioredis-mock does, so that nobody outside the keyspace can mutate a stored value. */
function shallowCopy(value: unknown): unknown {
  if (Array.isArray(value)) return value.slice();
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  if (value instanceof Set) return new Set(value);
  if (value instanceof Map) return new Map(value);
  if (typeof value === 'object' && value !== null) return { ...value };
  return value;
}

function isExpiredAt(expiresAt: number | undefined, now: number): boolean {
  return expiresAt !== undefined && expiresAt <= now;
}

/** What ioredis-mock's commands call as `this.data`. */
export interface MockData {
  clear(): void;
  delete(key: string): void;
  get(key: string): unknown;
  has(key: string): boolean;
  keys(): string[];
  set(key: string, value: unknown): void;
  withKeyPrefix(prefix: string): MockData;
}

/** What ioredis-mock's commands call as `this.expires`. */
export interface MockExpires {
  clear(): void;
  delete(key: string): void;
  get(key: string): number | undefined;
  has(key: string): boolean;
  isExpired(key: string): boolean;
  set(key: string, timestamp: number): void;
  withKeyPrefix(prefix: string): MockExpires;
}

/** Marks a key written after the capture read it: nothing to keep aside for it. */
const ALREADY_READ = Symbol('already read');

/**
 * A point-in-time reader of the keyspace (see {@link Keyspace.beginCapture}). Everything that held at the moment it
 * began is what it reads, however the keyspace changes while it runs: before a write touches a key the capture has
 * not read yet, the key's old state is kept aside for it (the copy-on-write scheme of Dragonfly's snapshots). Stored
 * values are never mutated in place, so keeping a state aside costs a reference, not a copy.
 */
export class Capture {
  /** The moment the capture began: keys that expired by then are not part of it. */
  readonly startedAt: number;
  /** Number of keys at the start, expired ones included (an upper bound for what a full capture yields). */
  readonly sizeAtStart: number;
  private readonly preserved = new Map<string, KeyState | null | typeof ALREADY_READ>();
  private closed = false;

  /** @internal use {@link Keyspace.beginCapture} */
  constructor(
    private readonly keyspace: Keyspace,
    readonly id: number,
    private readonly entries: Map<string, Entry>,
    /**
     * The keys to read: `undefined` for all of them, or the keys changed since the last capture, each with the
     * entry it had after its last change (`null`: it had none).
     */
    readonly changedKeys: ReadonlyMap<string, Entry | null> | undefined,
  ) {
    this.startedAt = Date.now();
    this.sizeAtStart = entries.size;
  }

  /** Called by the keyspace before `key` changes while this capture is open. */
  beforeWrite(key: string): void {
    // Only the first write after the capture began sees the state to keep; a command may write a key twice.
    if (this.preserved.has(key)) return;
    const entry = this.entries.get(key);
    if (entry === undefined) {
      this.preserved.set(key, null);
      return;
    }
    if (entry.mark === this.id) {
      // Already read: later writes (a delete, then a re-creation) must not be kept aside as its state.
      this.preserved.set(key, ALREADY_READ);
      return;
    }
    entry.mark = this.id;
    this.preserved.set(key, entry.withExpiry(entry.expiresAt));
  }

  /**
   * Reads the keys as they were when the capture began, in slices: `visit` is called with each key's state
   * (`null`: the key did not exist, which matters only to a capture of changed keys), and the generator yields
   * after every `sliceSize` keys so that the caller can give the event loop a turn.
   */
  *read(visit: (key: string, state: KeyState | null) => void, sliceSize: number): Generator<void> {
    let n = 0;
    const id = this.id;
    const preserved = this.preserved;
    if (this.changedKeys === undefined) {
      // Full capture: walk the entries themselves (one hash lookup less per key than walking the keys).
      for (const [key, entry] of this.entries) {
        if (this.closed) throw new Error('capture was closed while it was being read');
        if (++n % sliceSize === 0) yield;
        // A key written since the capture began is kept aside in `preserved` (read below); a key created since
        // then is there as `null`.
        if (entry.mark === id || (preserved.size !== 0 && preserved.has(key))) continue;
        entry.mark = id;
        visit(key, entry);
      }
    } else {
      // A key not written since the capture began still has the entry recorded at its last change: no lookup in
      // the whole keyspace (a cache miss per key in a large one) is needed to find it.
      for (const [key, entry] of this.changedKeys) {
        if (this.closed) throw new Error('capture was closed while it was being read');
        if (++n % sliceSize === 0) yield;
        if (preserved.has(key)) continue;
        if (entry === null) {
          visit(key, null);
          continue;
        }
        if (entry.mark === id) continue;
        entry.mark = id;
        visit(key, entry);
      }
    }
    for (const [key, state] of preserved) {
      if (++n % sliceSize === 0) yield;
      if (state === ALREADY_READ) continue;
      if (this.changedKeys !== undefined) {
        if (this.changedKeys.has(key)) visit(key, state);
      } else if (state !== null) {
        visit(key, state);
      }
    }
  }

  /** Detaches the capture from the keyspace. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.keyspace.endCapture(this);
  }
}

/**
 * Map-backed keyspace with ioredis-mock's semantics (lazy expiry on access, copies in and out) plus a change
 * log for incremental snapshots and point-in-time captures.
 */
export class Keyspace {
  private entries = new Map<string, Entry>();
  /** Expiry times set on keys that hold no value (ioredis-mock allows it; kept for exact semantics). */
  private orphanExpiries = new Map<string, number>();
  /**
   * Keys changed since the last capture was taken, each with its entry after the change (`null` when it has none),
   * or `undefined` when everything must be captured again.
   */
  private changed: Map<string, Entry | null> | undefined = undefined;
  private capture: Capture | undefined;
  private captureSeq = 0;
  private written: ((key: string) => void) | undefined;

  /** Calls `listener` after each write or delete of a key's value (what ioredis-mock's WATCH listens to). */
  onKeyWritten(listener: (key: string) => void): void {
    this.written = listener;
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
    this.changed = new Map();
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
      return;
    }
    // A key changed again since the capture began is already here, with its newer entry.
    for (const [key, entry] of capture.changedKeys) {
      if (!this.changed.has(key)) this.changed.set(key, entry);
    }
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
   * Replaces the whole content at once (a restore). What changed is reset: the new content is, by definition,
   * what the store holds. {@link RestoredStates} are taken over as they are (they are left empty); a map is copied.
   */
  replaceAll(states: RestoredStates | ReadonlyMap<string, KeyState>): void {
    if (this.capture !== undefined)
      throw new Error('cannot replace the keyspace while a capture is open');
    let entries: Map<string, Entry>;
    if (states instanceof RestoredStates) {
      entries = states.take(); // fresh entries: marks are 0, so no capture has dealt with them
    } else {
      entries = new Map<string, Entry>();
      for (const [key, state] of states) entries.set(key, new Entry(state.value, state.expiresAt));
    }
    this.entries = entries;
    this.orphanExpiries = new Map();
    this.changed = new Map();
  }

  /** Reads a key's stored state without copying or expiring it (for digests and tests). */
  peek(key: string): KeyState | undefined {
    return this.entries.get(key);
  }

  /** Iterates every key's stored state without copying or expiring anything. */
  *states(): IterableIterator<[string, KeyState]> {
    yield* this.entries;
  }

  /** Call before `key` changes: an open capture keeps its old state aside. */
  private beforeWrite(key: string): void {
    this.capture?.beforeWrite(key);
  }

  /** Call after `key` changed, with its entry now (`null`: it has none), for the next incremental capture. */
  private afterWrite(key: string, entry: Entry | null): void {
    this.changed?.set(key, entry);
  }

  private isExpired(key: string, now = Date.now()): boolean {
    const entry = this.entries.get(key);
    const expiresAt = entry !== undefined ? entry.expiresAt : this.orphanExpiries.get(key);
    return isExpiredAt(expiresAt, now);
  }

  private expireIfDue(key: string): void {
    if (this.isExpired(key)) this.deleteKey(key);
  }

  private deleteKey(key: string): void {
    this.beforeWrite(key);
    this.entries.delete(key);
    this.orphanExpiries.delete(key);
    this.afterWrite(key, null);
    this.written?.(key);
  }

  private setValue(key: string, value: unknown): void {
    this.beforeWrite(key);
    let entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.value = shallowCopy(value);
    } else {
      const orphan = this.orphanExpiries.get(key);
      if (orphan !== undefined) this.orphanExpiries.delete(key);
      entry = new Entry(shallowCopy(value), orphan);
      this.entries.set(key, entry);
    }
    this.afterWrite(key, entry);
    this.written?.(key);
  }

  private setExpiry(key: string, expiresAt: number | undefined): void {
    this.beforeWrite(key);
    const entry = this.entries.get(key);
    if (entry !== undefined) entry.expiresAt = expiresAt;
    else if (expiresAt === undefined) this.orphanExpiries.delete(key);
    else this.orphanExpiries.set(key, expiresAt);
    this.afterWrite(key, entry ?? null);
  }

  private clearValues(): void {
    // A new map, never `.clear()`: an open capture keeps reading the old one, which nothing changes any more.
    this.entries = new Map();
    this.changed = undefined;
  }

  /** The `client.data` view ioredis-mock's commands use, with ioredis-mock's own key-prefix rule. */
  dataView(prefix = ''): MockData {
    return {
      clear: () => this.clearValues(),
      delete: (key) => this.deleteKey(`${prefix}${key}`),
      get: (key) => {
        const k = `${prefix}${key}`;
        this.expireIfDue(k);
        return shallowCopy(this.entries.get(k)?.value);
      },
      has: (key) => {
        const k = `${prefix}${key}`;
        this.expireIfDue(k);
        return this.entries.has(k);
      },
      keys: () => {
        const now = Date.now();
        const keys: string[] = [];
        for (const [key, entry] of this.entries) {
          if (key.startsWith(prefix) && !isExpiredAt(entry.expiresAt, now)) keys.push(key);
        }
        return keys;
      },
      set: (key, value) => this.setValue(`${prefix}${key}`, value),
      withKeyPrefix: (newPrefix) => this.dataView(newPrefix),
    };
  }

  /** The `client.expires` view ioredis-mock's commands use. */
  expiresView(prefix = ''): MockExpires {
    const expiryOf = (k: string): number | undefined =>
      this.entries.has(k) ? this.entries.get(k)?.expiresAt : this.orphanExpiries.get(k);
    return {
      clear: () => {
        // Copy-on-clear: an open capture keeps reading the old entries, which nothing changes any more.
        const entries = new Map<string, Entry>();
        for (const [key, entry] of this.entries) entries.set(key, entry.withExpiry(undefined));
        this.entries = entries;
        this.orphanExpiries = new Map();
        this.changed = undefined;
      },
      delete: (key) => this.setExpiry(`${prefix}${key}`, undefined),
      get: (key) => expiryOf(`${prefix}${key}`),
      has: (key) => expiryOf(`${prefix}${key}`) !== undefined,
      isExpired: (key) => this.isExpired(`${prefix}${key}`),
      set: (key, timestamp) => this.setExpiry(`${prefix}${key}`, +timestamp),
      withKeyPrefix: (newPrefix) => this.expiresView(newPrefix),
    };
  }
}
