import { NO_USAGE, type EncodedRecord, type KeyState, type KeyUsage } from '../format/records';
import { Entries } from './entries';
import type { Entry } from './entry';
import { isLfu, lfuCounter } from './eviction';
import type { ShardedMap } from './sharded-map';
import type { Keyspace } from './keyspace';

/**
 * What a {@link Capture} hands each key to. Each kind of key has its own method, so that the code reading a kind
 * sees one shape of arguments (V8 keeps such code optimized).
 */
export interface CaptureVisitor {
  /**
   * A key as it was when the capture began, and what a snapshot keeps of its use (see {@link Capture.usage}); `usage`
   * is valid during the call only.
   */
  visit(key: string, state: KeyState, usage: Readonly<KeyUsage>): void;
  /** A key changed since the previous capture that did not exist when this one began (incremental captures only). */
  visitDeleted(key: string): void;
  /**
   * Restored keys nobody has looked up since, as their stored bytes (full captures only): no key string or state is
   * built for them. Without this method they go to {@link visit}.
   */
  visitRecord?(record: EncodedRecord, usage: Readonly<KeyUsage>): void;
}

/** Marks a key written after the capture read it: nothing to keep aside for it. */
const ALREADY_READ = Symbol('already read');

/**
 * A point-in-time reader of the keyspace (see {@link Keyspace.beginCapture}). Everything that held at the moment it
 * began is what it reads, however the keyspace changes while it runs: before a write touches a key the capture has
 * not read yet, the key's old state is kept aside for it (the copy-on-write scheme of Dragonfly's snapshots). Most
 * writes store a new value, so keeping a state aside costs a reference, not a copy; a write that changes a large
 * collection or string in place has it kept aside encoded first (see {@link Entry.withOwnCollection}).
 */
export class Capture {
  /** The moment the capture began: keys that expired by then are not part of it. */
  readonly startedAt: number;
  /** Number of keys at the start, expired ones included (an upper bound for what a full capture yields). */
  readonly sizeAtStart: number;
  private readonly preserved = new Map<string, Entry | null | typeof ALREADY_READ>();
  private closed = false;
  /**
   * What a snapshot keeps of each key's use, as Redis's RDB does: under an LRU policy how long the key had been idle
   * when the capture began, under an LFU one its counter then, under the others nothing. Refilled for each key.
   */
  private readonly usage: KeyUsage = { idleMs: -1, counter: -1 };
  private readonly keepsUsage: 'idle' | 'counter' | undefined;

  /** @internal use {@link Keyspace.beginCapture} */
  constructor(
    private readonly keyspace: Keyspace,
    readonly id: number,
    private entries: Entries,
    /**
     * The keys to read: `undefined` for all of them, or the keys changed since the last capture, each with the
     * entry it had after its last change (`null`: it had none).
     */
    readonly changedKeys: ShardedMap<string, Entry | null> | undefined,
  ) {
    this.startedAt = Date.now();
    this.sizeAtStart = entries.size;
    const { policy } = keyspace.memory;
    this.keepsUsage = policy.endsWith('-lru') ? 'idle' : isLfu(policy) ? 'counter' : undefined;
  }

  /** {@link usage} for the key of `entry`; nothing when its use is not known (an entry no longer among the keys). */
  private usageOfEntry(entry: Entry): Readonly<KeyUsage> {
    return this.keepsUsage === undefined ? NO_USAGE : this.usageOf(this.entries.knownUseOf(entry));
  }

  /** {@link usage} for a key whose `use` (see `eviction.ts`) is this; NaN when it is not known. */
  private usageOf(use: number): Readonly<KeyUsage> {
    const kind = this.keepsUsage;
    if (kind === undefined || Number.isNaN(use)) return NO_USAGE;
    const { usage } = this;
    if (kind === 'idle') usage.idleMs = Math.max(0, this.startedAt - use);
    else usage.counter = lfuCounter(use, this.startedAt);
    return usage;
  }

  /**
   * Called by the keyspace before `key` changes while this capture is open; `inPlace` when its collection is about
   * to change in place (the state kept aside then holds a copy of it).
   */
  beforeWrite(key: string, inPlace = false): void {
    // Only the first write after the capture began sees the state to keep; a command may write a key twice.
    if (this.preserved.has(key)) {
      if (inPlace) this.ownValue(key);
      return;
    }
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
    this.preserved.set(
      key,
      inPlace ? entry.withOwnCollection() : entry.withExpiry(entry.expiresAt),
    );
  }

  /**
   * Makes the state kept aside for `key` hold a value of its own if it holds the object stored now, which a write is
   * about to change in place: a first write that kept only a reference (EXPIRE, say) would otherwise see its state
   * changed by a later one (SETBIT, HSET on a large hash) before the capture reads it.
   */
  private ownValue(key: string): void {
    const kept = this.preserved.get(key);
    if (kept === null || kept === ALREADY_READ || kept === undefined || kept.encoded) return;
    const entry = this.entries.get(key);
    // An entry still encoded is decoded by the write into a new object: none of it is shared yet.
    if (entry === undefined || entry.encoded || entry.value !== kept.value) return;
    this.preserved.set(key, kept.withOwnCollection());
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
        const key = restored.builtKeyAt(r);
        if (built.mark === id || (preserved.size !== 0 && preserved.has(key))) continue;
        built.mark = id;
        visitor.visit(key, built, this.usageOfEntry(built));
      } else if (restored.markRecord(r, id)) {
        // Never looked up, so never written since the capture began (a write looks its key up first).
        const usage = this.keepsUsage === undefined ? NO_USAGE : this.usageOf(restored.useAt(r));
        if (visitor.visitRecord !== undefined) visitor.visitRecord(restored.recordAt(r), usage);
        else visitor.visit(...restored.stateAt(r), usage);
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
      visitor.visit(key, entry, this.usageOfEntry(entry));
    }
  }

  /**
   * Incremental capture: the keys changed since the last one. A key not written since this capture began still has
   * the entry recorded at its last change: no lookup in the whole keyspace (a cache miss per key in a large one) is
   * needed to find it.
   */
  private *readChanged(
    changedKeys: ShardedMap<string, Entry | null>,
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
        visitor.visit(key, entry, this.usageOfEntry(entry));
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
      // A state kept aside keeps no use: the key was written since, so it reads as used when restored.
      if (changedKeys === undefined) {
        if (state !== null) visitor.visit(key, state, NO_USAGE);
      } else if (changedKeys.has(key)) {
        if (state === null) visitor.visitDeleted(key);
        else visitor.visit(key, state, NO_USAGE);
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
