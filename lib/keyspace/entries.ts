import { Entry } from './entry';
import { RestoredStates } from './restored-states';

/**
 * The keys of a keyspace: those restored from a snapshot, kept in their encoded form until looked up (see
 * {@link RestoredStates}), and those created since, in a map. A key is in one or the other, never both: a key is
 * created only when a look-up found it in neither.
 */
export class Entries {
  readonly added = new Map<string, Entry>();
  /**
   * The keys with an expiry time, besides restored ones still only bytes (their records hold theirs): what active
   * expiry walks, as Redis walks its `expires` dictionary rather than every key.
   */
  readonly volatile = new Map<string, Entry>();

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
    if (entry.expiresAt !== undefined) this.volatile.set(key, entry);
  }

  /** Call after the expiry time of `key`'s `entry` was set or removed. */
  expiryChanged(key: string, entry: Entry): void {
    if (entry.expiresAt === undefined) this.volatile.delete(key);
    else this.volatile.set(key, entry);
  }

  delete(key: string): boolean {
    this.volatile.delete(key);
    return this.added.delete(key) || (this.restored.size !== 0 && this.restored.delete(key));
  }

  /** Every key's entry, restored ones first (a restored key never looked up gets an entry built for the visit). */
  *[Symbol.iterator](): IterableIterator<[string, Entry]> {
    yield* this.restored.entries();
    yield* this.added;
  }
}

/** Whether a key with this expiry time has expired at `now`. */
export function isExpiredAt(expiresAt: number | undefined, now: number): boolean {
  return expiresAt !== undefined && expiresAt <= now;
}
