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
import type { KeyState } from '../format/records';
import { Capture } from './capture';
import { Entries, isExpiredAt } from './entries';
import { Entry } from './entry';
import { RestoredStates } from './restored-states';

export type { CaptureVisitor } from './capture';
export { Capture } from './capture';

/**
 * What the embedded client's command rules read: stored values as ioredis-mock keeps them, read without copying
 * (rules never change them) and without the key if it has expired.
 */
export interface KeyReader {
  valueOf(key: string): unknown;
  /** The key's expiry time in ms since the epoch, `undefined` when it has none or does not exist. */
  expiryOf(key: string): number | undefined;
}

/** The position of active expiry in a keyspace's entries. */
interface ExpiryCursor {
  readonly of: Entries;
  volatile: MapIterator<[string, Entry]>;
  /** The next restored record to look at. */
  record: number;
}

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
  private changed: Map<string, Entry | null> | undefined = undefined;
  /**
   * Keys of {@link changed} that did not exist when they were first changed since the last capture began: no
   * snapshot holds them, so deleting one again needs no tombstone, and it leaves `changed` (a cache of short-lived
   * keys would otherwise keep every expired key's name until the next snapshot).
   */
  private born = new Set<string>();
  private capture: Capture | undefined;
  private captureSeq = 0;
  private written: ((key: string) => void) | undefined;
  private cursor: ExpiryCursor | undefined;
  private expiredTotal = 0;

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
    this.born = new Set();
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
      this.born = new Set();
      return;
    }
    // A key changed again since the capture began is already here, with its newer entry. Any of these keys may be
    // in the committed chain: none of them counts as born since.
    for (const [key, entry] of capture.changedKeys) {
      this.born.delete(key);
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
    this.born = new Set();
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
    this.expiredTotal++;
    this.delete(key);
    return undefined;
  }

  /** Call before `key` changes: an open capture keeps its old state aside. */
  private beforeWrite(key: string): void {
    this.capture?.beforeWrite(key);
    const changed = this.changed;
    if (changed !== undefined && !changed.has(key) && !this.entries.has(key)) this.born.add(key);
  }

  /** Call after `key` changed, with its entry now (`null`: it has none), for the next incremental capture. */
  private afterWrite(key: string, entry: Entry | null): void {
    this.changed?.set(key, entry);
  }

  /** The stored value of `key` (not a copy), expired or not. */
  valueOf(key: string): unknown {
    return this.entries.get(key)?.value;
  }

  /** Whether `key` holds a value, expired or not. */
  has(key: string): boolean {
    return this.entries.has(key);
  }

  /** The expiry time of `key`, also when it holds no value (ioredis-mock allows an expiry on a missing key). */
  expiryOf(key: string): number | undefined {
    const entry = this.entries.get(key);
    return entry !== undefined ? entry.expiresAt : this.orphanExpiries.get(key);
  }

  isExpired(key: string, now = Date.now()): boolean {
    return isExpiredAt(this.expiryOf(key), now);
  }

  /** Deletes `key` if its expiry time has passed: ioredis-mock's lazy expiry. */
  expireIfDue(key: string): void {
    const entry = this.entries.get(key);
    const expiresAt = entry !== undefined ? entry.expiresAt : this.orphanExpiries.get(key);
    if (!isExpiredAt(expiresAt, Date.now())) return;
    if (entry !== undefined) this.expiredTotal++; // an expiry time on a key without a value is no key
    this.delete(key);
  }

  /**
   * Keys deleted because their TTL had run out, by a command that touched them or by active expiry, since this
   * keyspace was made (Redis's `expired_keys`). Keys a restore left out are not among them.
   */
  get expiredKeys(): number {
    return this.expiredTotal;
  }

  /** The keys starting with `prefix` that hold a value and have not expired. */
  liveKeys(prefix = ''): string[] {
    const now = Date.now();
    const keys: string[] = [];
    for (const [key, entry] of this.entries) {
      if (key.startsWith(prefix) && !isExpiredAt(entry.expiresAt, now)) keys.push(key);
    }
    return keys;
  }

  /** Deletes `key`'s value and expiry. */
  delete(key: string): void {
    this.beforeWrite(key);
    this.entries.delete(key);
    this.orphanExpiries.delete(key);
    this.afterWrite(key, null);
    if (this.born.delete(key)) this.changed?.delete(key);
    this.written?.(key);
  }

  /** Stores `value` under `key` as it is (the keyspace keeps this object: never mutate it afterwards). */
  set(key: string, value: unknown): void {
    this.beforeWrite(key);
    let entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.value = value;
    } else {
      const orphan = this.orphanExpiries.get(key);
      if (orphan !== undefined) this.orphanExpiries.delete(key);
      entry = new Entry(value, orphan);
      this.entries.add(key, entry);
    }
    this.afterWrite(key, entry);
    this.written?.(key);
  }

  /** Sets or (with `undefined`) removes the expiry time of `key`. */
  setExpiry(key: string, expiresAt: number | undefined): void {
    this.beforeWrite(key);
    const entry = this.entries.get(key);
    if (entry !== undefined) {
      entry.expiresAt = expiresAt;
      this.entries.expiryChanged(key, entry);
    } else if (expiresAt === undefined) this.orphanExpiries.delete(key);
    else this.orphanExpiries.set(key, expiresAt);
    this.afterWrite(key, entry ?? null);
  }

  /**
   * One step of active expiry: looks at up to `sample` keys that have an expiry time, continuing where the last step
   * stopped (keys created since, then restored records, round and round), and deletes those whose time is at or
   * before `now`, exactly as a lazy expiry would (see {@link delete}). Returns how many it looked at and deleted.
   * Restored records without an expiry are stepped over, at most `16 × sample` of them.
   */
  expireStep(now: number, sample: number): { checked: number; expired: number } {
    const cursor = this.expiryCursor();
    let checked = 0;
    let expired = 0;
    while (checked < sample) {
      const next = cursor.volatile.next();
      if (next.done === true) {
        cursor.volatile = this.entries.volatile.entries(); // a lap done: the next step starts another
        break;
      }
      checked++;
      const [key, entry] = next.value;
      const at = entry.expiresAt;
      if (at !== undefined && at <= now) {
        this.delete(key);
        expired++;
      }
    }
    const restored = this.entries.restored;
    const end = restored.recordCount;
    for (let stepped = 0; checked < sample && stepped < 16 * sample && end > 0; stepped++) {
      if (cursor.record >= end) cursor.record = 0;
      const r = cursor.record++;
      const built = restored.builtAt(r);
      if (built === undefined) continue; // gone
      if ((built === null ? restored.expiresAt(r) : built.entry.expiresAt) === undefined) continue;
      checked++;
      const key = restored.expiredKeyAt(r, now);
      if (key !== undefined) {
        this.delete(key);
        expired++;
      }
    }
    this.expiredTotal += expired;
    return { checked, expired };
  }

  /** Where active expiry goes on from, for the current entries (a FLUSHALL or a restore starts over). */
  private expiryCursor(): ExpiryCursor {
    if (this.cursor?.of !== this.entries) {
      this.cursor = { of: this.entries, volatile: this.entries.volatile.entries(), record: 0 };
    }
    return this.cursor;
  }

  /** Deletes every key (FLUSHALL's values). */
  clear(): void {
    // New entries, never a `.clear()`: an open capture keeps reading the old ones, which nothing changes any more.
    this.entries = new Entries();
    this.changed = undefined;
    this.born = new Set();
  }

  /** Removes every expiry time (FLUSHALL's expiries), keeping the values. */
  clearExpiries(): void {
    // Copy-on-clear: an open capture keeps reading the old entries, which nothing changes any more.
    const entries = new Entries();
    for (const [key, entry] of this.entries) entries.add(key, entry.withExpiry(undefined));
    this.entries = entries;
    this.orphanExpiries = new Map();
    this.changed = undefined;
    this.born = new Set();
  }
}
