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

import { LIST_WITH_HOLES } from '../persistent-cache.messages';
import type { KeyReader } from './command-rule';
import { Entry, type KeyState } from './entry';
import { NOT_AN_INTEGER, replyError } from './redis-replies';
import { RestoredStates, type EncodedRecord } from './restored-states';

export type { EncodedSink, KeyState } from './entry';
export { RestoredStates, type EncodedRecord } from './restored-states';

/**
 * The keys of a keyspace: those restored from a snapshot, kept in their encoded form until looked up (see
 * {@link RestoredStates}), and those created since, in a map. A key is in one or the other, never both: a key is
 * created only when a look-up found it in neither.
 */
class Entries {
  readonly added = new Map<string, Entry>();

  constructor(readonly restored: RestoredStates = new RestoredStates()) {}

  get size(): number {
    return this.added.size + this.restored.size;
  }

  get(key: string): Entry | undefined {
    const entry = this.added.get(key);
    if (entry !== undefined || this.restored.size === 0) return entry;
    return this.restored.entry(key);
  }

  has(key: string): boolean {
    return this.added.has(key) || (this.restored.size !== 0 && this.restored.has(key));
  }

  /** Adds a key that {@link get} did not find. */
  add(key: string, entry: Entry): void {
    this.added.set(key, entry);
  }

  delete(key: string): boolean {
    return this.added.delete(key) || (this.restored.size !== 0 && this.restored.delete(key));
  }

  /** Every key's entry, restored ones first (a restored key never looked up gets an entry built for the visit). */
  *[Symbol.iterator](): IterableIterator<[string, Entry]> {
    yield* this.restored.entries();
    yield* this.added;
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

/**
 * What a {@link Capture} hands each key to. Each kind of key has its own method, so that the code reading a kind
 * sees one shape of arguments (V8 keeps such code optimized).
 */
export interface CaptureVisitor {
  /** A key as it was when the capture began. */
  visit(key: string, state: KeyState): void;
  /** A key changed since the previous capture that did not exist when this one began (incremental captures only). */
  visitDeleted(key: string): void;
  /**
   * Restored keys nobody has looked up since, as their stored bytes (full captures only): no key string or state is
   * built for them. Without this method they go to {@link visit}.
   */
  visitRecord?(record: EncodedRecord): void;
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
    private entries: Entries,
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
   * Reads the keys as they were when the capture began, in slices: each key goes to `visitor` (see
   * {@link CaptureVisitor}), and the generator yields after every `sliceSize` keys so that the caller can give the
   * event loop a turn.
   */
  *read(visitor: CaptureVisitor, sliceSize: number): Generator<void> {
    this.assertOpen();
    if (this.changedKeys === undefined) {
      yield* this.readRestored(visitor, sliceSize);
      yield* this.readAdded(visitor, sliceSize);
    } else {
      yield* this.readChanged(this.changedKeys, visitor, sliceSize);
    }
    yield* this.readPreserved(visitor, sliceSize);
  }

  /**
   * Full capture, first part: the restored keys. A look-up builds a key's entry, but the record keeps its place, so
   * this walk meets every restored key once, built or not.
   */
  private *readRestored(visitor: CaptureVisitor, sliceSize: number): Generator<void> {
    const id = this.id;
    const preserved = this.preserved;
    const restored = this.entries.restored;
    for (let r = 0; r < restored.recordCount; r++) {
      if (r % sliceSize === sliceSize - 1) yield* this.pause();
      const built = restored.builtAt(r);
      if (built === undefined) continue; // gone
      if (built !== null) {
        if (built.entry.mark === id || (preserved.size !== 0 && preserved.has(built.key))) continue;
        built.entry.mark = id;
        visitor.visit(built.key, built.entry);
      } else if (restored.markRecord(r, id)) {
        // Never looked up, so never written since the capture began (a write looks its key up first).
        if (visitor.visitRecord !== undefined) visitor.visitRecord(restored.recordAt(r));
        else visitor.visit(...restored.stateAt(r));
      }
    }
  }

  /** Full capture, second part: the keys created since the restore (walking the entries: no hash lookup per key). */
  private *readAdded(visitor: CaptureVisitor, sliceSize: number): Generator<void> {
    const id = this.id;
    const preserved = this.preserved;
    let n = 0;
    for (const [key, entry] of this.entries.added) {
      if (++n % sliceSize === 0) yield* this.pause();
      // A key written since the capture began is kept aside in `preserved` (read last); a key created since then
      // is there as `null`.
      if (entry.mark === id || (preserved.size !== 0 && preserved.has(key))) continue;
      entry.mark = id;
      visitor.visit(key, entry);
    }
  }

  /**
   * Incremental capture: the keys changed since the last one. A key not written since this capture began still has
   * the entry recorded at its last change: no lookup in the whole keyspace (a cache miss per key in a large one) is
   * needed to find it.
   */
  private *readChanged(
    changedKeys: ReadonlyMap<string, Entry | null>,
    visitor: CaptureVisitor,
    sliceSize: number,
  ): Generator<void> {
    const id = this.id;
    const preserved = this.preserved;
    let n = 0;
    for (const [key, entry] of changedKeys) {
      if (++n % sliceSize === 0) yield* this.pause();
      if (preserved.size !== 0 && preserved.has(key)) continue;
      if (entry === null) {
        visitor.visitDeleted(key);
      } else if (entry.mark !== id) {
        entry.mark = id;
        visitor.visit(key, entry);
      }
    }
  }

  /** Last, the keys written while the capture ran, as they were when it began. */
  private *readPreserved(visitor: CaptureVisitor, sliceSize: number): Generator<void> {
    const changedKeys = this.changedKeys;
    let n = 0;
    for (const [key, state] of this.preserved) {
      if (++n % sliceSize === 0) yield* this.pause();
      if (state === ALREADY_READ) continue;
      // A full capture skips keys created after it began; an incremental one reads only its changed keys.
      if (changedKeys === undefined) {
        if (state !== null) visitor.visit(key, state);
      } else if (changedKeys.has(key)) {
        if (state === null) visitor.visitDeleted(key);
        else visitor.visit(key, state);
      }
    }
  }

  /** Gives the caller a turn; a capture closed meanwhile must not be read on. */
  private *pause(): Generator<void> {
    yield;
    this.assertOpen();
  }

  private assertOpen(): void {
    if (this.closed) throw new Error('capture was closed while it was being read');
  }

  /**
   * Detaches the capture from the keyspace and lets go of the keys it was reading (its `changedKeys` stay, for
   * {@link Keyspace.restoreChanges}). Idempotent.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.entries = new Entries();
    this.preserved.clear();
    this.keyspace.endCapture(this);
  }
}

/**
 * Map-backed keyspace with ioredis-mock's semantics (lazy expiry on access, copies in and out) plus a change
 * log for incremental snapshots and point-in-time captures.
 */
export class Keyspace {
  private entries = new Entries();
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
   * Replaces the whole content at once (a restore). What changed is reset: the new content is, by definition,
   * what the store holds. {@link RestoredStates} are taken over as they are (the caller must not change them
   * afterwards); a map is copied.
   */
  replaceAll(states: RestoredStates | ReadonlyMap<string, KeyState>): void {
    if (this.capture !== undefined)
      throw new Error('cannot replace the keyspace while a capture is open');
    if (states instanceof RestoredStates) {
      this.entries = new Entries(states); // fresh records: no capture has dealt with them
    } else {
      this.entries = new Entries();
      for (const [key, state] of states)
        this.entries.add(key, new Entry(state.value, state.expiresAt));
    }
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

  /**
   * What the embedded client's command rules read (see `command-rule.ts`): stored values, not copies (a rule only
   * looks), with ioredis-mock's lazy expiry (a key found expired is deleted, as the command itself would have).
   */
  readonly reader: KeyReader = {
    valueOf: (key) => this.liveEntry(key)?.value,
    expiryOf: (key) => this.liveEntry(key)?.expiresAt,
  };

  /** The entry of `key` unless it has expired (it is then deleted, as ioredis-mock deletes a key found expired). */
  private liveEntry(key: string): Entry | undefined {
    const entry = this.entries.get(key);
    if (entry === undefined) return undefined;
    const expiresAt = entry.expiresAt;
    if (expiresAt === undefined || expiresAt > Date.now()) return entry;
    this.deleteKey(key);
    return undefined;
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
    // Last line of defence where the command rules do not reach (a Lua script's redis.call): an ioredis-mock command
    // that indexes a list past its end would store an array with holes, which no snapshot can encode.
    if (Array.isArray(value) && value.includes(undefined)) throw replyError(LIST_WITH_HOLES(key));
    this.beforeWrite(key);
    let entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.value = shallowCopy(value);
    } else {
      const orphan = this.orphanExpiries.get(key);
      if (orphan !== undefined) this.orphanExpiries.delete(key);
      entry = new Entry(shallowCopy(value), orphan);
      this.entries.add(key, entry);
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
    // New entries, never a `.clear()`: an open capture keeps reading the old ones, which nothing changes any more.
    this.entries = new Entries();
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
    const expiryOf = (k: string): number | undefined => {
      const entry = this.entries.get(k);
      return entry !== undefined ? entry.expiresAt : this.orphanExpiries.get(k);
    };
    return {
      clear: () => {
        // Copy-on-clear: an open capture keeps reading the old entries, which nothing changes any more.
        const entries = new Entries();
        for (const [key, entry] of this.entries) entries.add(key, entry.withExpiry(undefined));
        this.entries = entries;
        this.orphanExpiries = new Map();
        this.changed = undefined;
      },
      delete: (key) => this.setExpiry(`${prefix}${key}`, undefined),
      get: (key) => expiryOf(`${prefix}${key}`),
      has: (key) => expiryOf(`${prefix}${key}`) !== undefined,
      isExpired: (key) => this.isExpired(`${prefix}${key}`),
      set: (key, timestamp) => {
        // ioredis-mock multiplies whatever TTL it is given (`EXPIRE k abc` gives NaN); the command rules refuse
        // such TTLs first, but a Lua script's redis.call bypasses them. A NaN expiry would make the key vanish at
        // the next snapshot: refuse it with the error Redis gives for a TTL that is not an integer.
        const at = +timestamp;
        if (!Number.isFinite(at)) throw replyError(NOT_AN_INTEGER);
        this.setExpiry(`${prefix}${key}`, at);
      },
      withKeyPrefix: (newPrefix) => this.expiresView(newPrefix),
    };
  }
}
