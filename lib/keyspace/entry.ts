import { CodecError, decodeValue, encodeValue } from '../format/codec';
import type { EncodedSink, KeyState } from '../format/records';
import { ListDeque } from '../format/list-deque';
import { withCanonicalMembers } from './buffer-members';

/**
 * Entries keep an expiry time within {@link RELATIVE_EXPIRY_MAX} ms of this moment (when the module loaded) relative
 * to it: V8 keeps such a whole number in the field itself, where an absolute time, about 1.7e12, would be a separate
 * 16-byte boxed number, one more object per key with a TTL for the collector to allocate and copy. Farther times
 * (a TTL of more than about 24 days, or a time long past) are kept as they are, in an {@link AbsoluteExpiry}. Both
 * give the time back exactly: a difference that small from a time that large is exact in floating point.
 */
const EXPIRY_BASE = Date.now();
/** The largest distance from {@link EXPIRY_BASE} kept relative: V8's small integers on 64-bit, 31 bits and a sign. */
const RELATIVE_EXPIRY_MAX = 2 ** 31 - 1;

/** An expiry time too far from {@link EXPIRY_BASE} to be kept relative to it. */
class AbsoluteExpiry {
  constructor(readonly at: number) {}
}

/** How an entry keeps `expiresAt` (see {@link EXPIRY_BASE}). */
function keptExpiry(expiresAt: number | undefined): number | AbsoluteExpiry | undefined {
  if (expiresAt === undefined) return undefined;
  const relative = expiresAt - EXPIRY_BASE;
  return relative >= -RELATIVE_EXPIRY_MAX && relative <= RELATIVE_EXPIRY_MAX
    ? relative
    : new AbsoluteExpiry(expiresAt);
}

/**
 * One key of the keyspace. `mark` is the id of the last capture that has dealt with this key; `bytes` its size as
 * `memory.ts` estimates it; `slot` its position in the keyspace's sampling arrays of the keys written since startup:
 * at least 0 among those without an expiry time, -2 - the position among those with one, -1 in neither (see
 * `entries.ts`). When the key was last used (LRU) or how often (LFU), as eviction reads it (see `eviction.ts`), is
 * kept in a typed column beside its position (see `Entries.useOf`), not here: as a field it would be a boxed number,
 * 24 bytes and one more object for V8's collector per key written.
 *
 * An entry of a key written since startup holds its value. One of a restored key is a {@link RestoredEntry}: the
 * three numbers that say where its bytes lie would cost every written key 24 bytes (a fifth of its entry) if they
 * were here.
 */
export class Entry implements KeyState {
  mark = 0;
  bytes = 0;
  slot = -1;
  /** The expiry time as {@link keptExpiry} keeps it. */
  private expiry: number | AbsoluteExpiry | undefined;

  constructor(
    protected decoded: unknown,
    expiresAt: number | undefined,
  ) {
    this.expiry = keptExpiry(expiresAt);
  }

  /** When the key expires, in ms since the epoch (`undefined`: never). */
  get expiresAt(): number | undefined {
    const expiry = this.expiry;
    if (typeof expiry === 'number') return expiry + EXPIRY_BASE;
    return expiry === undefined ? undefined : expiry.at;
  }

  set expiresAt(expiresAt: number | undefined) {
    this.expiry = keptExpiry(expiresAt);
  }

  /** Whether the value is still restored bytes (reading {@link value} decodes it). */
  get encoded(): boolean {
    return false;
  }

  /** Bytes of the value still encoded (0 once decoded). */
  get encodedLength(): number {
    return 0;
  }

  get value(): unknown {
    return this.decoded;
  }

  set value(value: unknown) {
    this.decoded = value;
  }

  copyEncodedTo(_sink: EncodedSink): boolean {
    return false;
  }

  /** A copy of this state (encoded or not) with the given expiry; the copy never decodes this entry. */
  withExpiry(expiresAt: number | undefined): Entry {
    return this.copied(new Entry(this.decoded, expiresAt));
  }

  /**
   * A copy of this state that a command changing its collection in place leaves as it is, for a capture to keep: the
   * collection encoded, as the capture will write it (twice as fast as a copy of its objects: 65 ms against 130 ms
   * for a hash of 100k fields, and no objects for the collector), or a copy of it when it cannot be encoded. A
   * restored value still bytes is kept as bytes.
   */
  withOwnCollection(): Entry {
    if (this.encoded) return this.withExpiry(this.expiresAt);
    let bytes: Uint8Array;
    try {
      bytes = encodeValue(this.decoded);
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      return this.copied(new Entry(copyOfCollection(this.decoded), this.expiresAt));
    }
    return this.copied(new RestoredEntry(this.expiresAt, bytes, 0, bytes.length));
  }

  protected copied(copy: Entry): Entry {
    copy.bytes = this.bytes;
    return copy;
  }
}

/**
 * The entry of a restored key: it holds its value as bytes [start, end) of a snapshot chunk (`source`) and decodes
 * it on first read, so values nobody reads are never built. The restore checked the chunk's checksum, which covers
 * the value's bytes.
 *
 * A restored key's built entry keeps its own `use` (see `Entry`): it is not among the keys written since startup,
 * whose uses are in a column. One with an expiry time has a position among the restored keys' built entries with one
 * (`volatileSlot`, -1 for none), for active expiry and volatile eviction to sample.
 */
export class RestoredEntry extends Entry {
  use = 0;
  volatileSlot = -1;

  constructor(
    expiresAt: number | undefined,
    private source: Uint8Array | undefined,
    private readonly start: number,
    private readonly end: number,
    decoded: unknown = undefined,
  ) {
    super(decoded, expiresAt);
  }

  override get encoded(): boolean {
    return this.source !== undefined;
  }

  override get encodedLength(): number {
    return this.source === undefined ? 0 : this.end - this.start;
  }

  override get value(): unknown {
    if (this.source !== undefined) {
      this.decoded = decodeRestored(this.source, this.start, this.end);
      this.source = undefined; // the chunk can be collected once none of its values is left encoded
    }
    return this.decoded;
  }

  override set value(value: unknown) {
    this.decoded = value;
    this.source = undefined;
  }

  override copyEncodedTo(sink: EncodedSink): boolean {
    if (this.source === undefined) return false;
    sink.writeRange(this.source, this.start, this.end);
    return true;
  }

  override withExpiry(expiresAt: number | undefined): Entry {
    return this.copied(
      new RestoredEntry(expiresAt, this.source, this.start, this.end, this.decoded),
    );
  }
}

/** A new collection holding the same elements (a set, a sorted set's map, a list, a hash), or `value` itself. */
function copyOfCollection(value: unknown): unknown {
  if (value instanceof Set) return new Set(value);
  if (value instanceof Map) return new Map(value);
  if (value instanceof ListDeque) return value.copy();
  if (Array.isArray(value)) return value.slice();
  if (
    typeof value === 'object' &&
    value !== null &&
    Object.getPrototypeOf(value) === Object.prototype
  ) {
    return { ...(value as Record<string, unknown>) }; // a `__proto__` field is copied as a field
  }
  return value;
}

/** The value at bytes [start, end) of a restored snapshot chunk, as a new object. */
export function decodeRestored(source: Uint8Array, start: number, end: number): unknown {
  try {
    // Buffer members get their canonical objects, as command arguments do (see buffer-members.ts).
    return withCanonicalMembers(decodeValue(source, start, end));
  } catch (error) {
    if (error instanceof CodecError) {
      error.message = `a value restored from the snapshot cannot be decoded: ${error.message}`;
    }
    throw error;
  }
}
