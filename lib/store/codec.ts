/**
 * Binary codec for the JS values that ioredis-mock keeps in its keyspace (snapshot records).
 *
 * THIS IS AN ON-DISK FORMAT. Tag bytes and encodings below must never change meaning; new
 * types may only be added under tags that are currently unused.
 *
 * Value = tag byte followed by a payload:
 *
 *   tag   type                payload
 *   ----  ------------------  -----------------------------------------------------------------
 *   0x00  (never used)        reserved so that zero-filled garbage is rejected as an unknown tag
 *   0x01  undefined           -
 *   0x02  null                -
 *   0x03  false               -
 *   0x04  true                -
 *   0x05  number (float64)    8 bytes IEEE-754 binary64, little-endian; any number (NaN, ±Infinity,
 *                             -0, fractions, unsafe integers); written for non-safe-integers and -0
 *   0x06  number (uint)       varuint n, value n; written for safe integers 0..2^53-1 (not -0)
 *   0x07  number (negint)     varuint n >= 1, value -n; written for safe integers -(2^53-1)..-1
 *   0x08  string              string body (see below)
 *   0x09  bytes               varuint length + raw bytes; decoded as a Node Buffer (a copy)
 *   0x0a  array               varuint count + count values
 *   0x0b  Set                 varuint count + count values (insertion order)
 *   0x0c  Map                 varuint count + count × (key value, value value) (insertion order)
 *   0x0d  plain object        varuint count + count × (key string body, value); decoded as a plain
 *                             object with Object.prototype
 *   0x0e  scored Map          varuint count + count × (key string body, number value): a Map from
 *                             each key to a plain object `{ score, value }` whose value is the key
 *                             (how ioredis-mock keeps a sorted set). Written for any Map of that exact
 *                             shape; a Map with any other content is written as 0x0c. Since format 3.
 *
 * varuint: unsigned LEB128 (7 bits per byte, least significant group first, high bit = "more"),
 * at most 8 bytes, value <= 2^53-1, canonical (no redundant trailing 0x00 group).
 *
 * string body: varuint h, then
 *   h even: h/2 bytes of UTF-8 (strings that are well-formed UTF-16; the bytes must be valid UTF-8)
 *   h odd:  (h-1)/2 UTF-16 code units as UTF-16LE (2 bytes each); used only for strings that are
 *           not well-formed (lone surrogates), so that they round-trip exactly.
 *
 * Containers may nest at most MAX_DEPTH (64) levels, both when encoding and decoding.
 */
import { isUtf8 } from 'buffer';

const TAG_UNDEFINED = 0x01;
const TAG_NULL = 0x02;
const TAG_FALSE = 0x03;
const TAG_TRUE = 0x04;
const TAG_FLOAT64 = 0x05;
const TAG_UINT = 0x06;
const TAG_NEGINT = 0x07;
const TAG_STRING = 0x08;
const TAG_BYTES = 0x09;
const TAG_ARRAY = 0x0a;
const TAG_SET = 0x0b;
const TAG_MAP = 0x0c;
const TAG_OBJECT = 0x0d;
const TAG_SCORED_MAP = 0x0e;

/** Maximum container nesting (a container directly inside a container is level 2). */
const MAX_DEPTH = 64;
/** Largest number of entries V8 allows in a Map or Set. */
const MAX_COLLECTION_SIZE = 2 ** 24;
/** A varuint never needs more than 8 bytes (8 × 7 = 56 bits >= 53). */
const MAX_VARUINT_BYTES = 8;
/** Strings up to this many UTF-16 units are encoded with a charCodeAt loop (measured crossover). */
const ASCII_ENCODE_MAX = 20;
/** ASCII strings up to this many bytes are decoded with shortAscii() (2-3x faster than native). */
const ASCII_DECODE_MAX = 12;
/** Above this length, compute the exact UTF-8 size instead of reserving 3 bytes per unit. */
const EXACT_SIZE_MIN = 64 * 1024;
/** finish() hands over the internal buffer instead of copying when it is at least this full. */
const HANDOFF_MIN = 4096;
const DEFAULT_CAPACITY = 64 * 1024;

/**
 * Node's Buffer has native per-encoding methods that skip the argument normalisation of the
 * public write()/toString(); they exist in every Node release this library supports (>= 20) and
 * save ~40 ns per short string.
 */
interface FastBuffer extends Buffer {
  utf8Write(s: string, offset: number): number;
  utf8Slice(start: number, end: number): string;
  ucs2Slice(start: number, end: number): string;
}

interface WellFormedCheck {
  isWellFormed(): boolean;
}

/** String.prototype.isWellFormed (ES2024; present in Node >= 20, missing from the ES2023 lib). */
function isWellFormed(s: string): boolean {
  return (s as unknown as WellFormedCheck).isWellFormed();
}

const EMPTY = Buffer.alloc(0) as FastBuffer;

export class CodecError extends Error {
  override name = 'CodecError';
}

/** Encode-side errors carry the path of the offending value, filled in as the stack unwinds. */
const encodePaths = new WeakMap<CodecError, { detail: string; path: string }>();

function encodeError(detail: string): CodecError {
  const err = new CodecError(detail);
  encodePaths.set(err, { detail, path: '' });
  return err;
}

function withPath(err: unknown, segment: string): unknown {
  if (err instanceof CodecError) {
    const info = encodePaths.get(err);
    if (info !== undefined) {
      info.path = segment + info.path;
      err.message = `${info.detail} at $${info.path}`;
    }
  }
  return err;
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

function keySegment(key: string): string {
  return IDENTIFIER.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** Name for an object that is not a supported container, e.g. 'Date' or a class name. */
function typeName(value: object): string {
  const proto = Object.getPrototypeOf(value) as { constructor?: unknown };
  const ctor = proto.constructor;
  if (ctor === Object) return 'object with a non-plain prototype';
  return typeof ctor === 'function' && ctor.name !== '' ? ctor.name : 'object';
}

function varUintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

function isSafeUint(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}

/**
 * Appends encoded values to a growable buffer (doubling). finish() returns the bytes written since
 * the last finish() and starts over, so one writer can produce many records.
 */
export class BufferWriter {
  private buf: FastBuffer;
  private pos = 0;
  private readonly initialCapacity: number;

  constructor(initialCapacity: number = DEFAULT_CAPACITY) {
    if (!isSafeUint(initialCapacity)) {
      throw new CodecError(`invalid initial capacity ${String(initialCapacity)}`);
    }
    this.initialCapacity = initialCapacity;
    this.buf = Buffer.allocUnsafeSlow(initialCapacity) as FastBuffer;
  }

  get length(): number {
    return this.pos;
  }

  /** Drops everything written after `length` bytes (used to discard a partly written record). */
  truncate(length: number): void {
    if (!isSafeUint(length) || length > this.pos) {
      throw new CodecError(`cannot truncate ${this.pos} bytes to ${String(length)}`);
    }
    this.pos = length;
  }

  /**
   * Appends one tagged value. On error (unsupported type, too deep) nothing is appended: the
   * writer is rolled back to where it was before the call.
   */
  writeValue(value: unknown): void {
    const start = this.pos;
    try {
      this.value(value, 0);
    } catch (err) {
      this.pos = start;
      throw err;
    }
  }

  /** Appends an untagged string body (same representation as the payload of a tagged string). */
  writeString(s: string): void {
    const len = s.length;
    if (len <= ASCII_ENCODE_MAX) {
      // Fast path: short ASCII. Header is a single byte because len * 2 < 0x80.
      this.ensure(1 + len);
      const buf = this.buf;
      const p = this.pos + 1;
      let i = 0;
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        buf[p + i] = c;
      }
      if (i === len) {
        buf[this.pos] = len * 2;
        this.pos = p + len;
        return;
      }
    }
    if (!isWellFormed(s)) {
      this.writeUtf16(s);
      return;
    }
    // Reserve the header size the string would need if it were ASCII (UTF-8 byte length >= UTF-16
    // length, so the real header is never smaller); shift the bytes if it turns out larger.
    const guess = varUintSize(len * 2);
    const maxBytes = len >= EXACT_SIZE_MIN ? Buffer.byteLength(s, 'utf8') : len * 3;
    this.ensure(MAX_VARUINT_BYTES + maxBytes);
    const buf = this.buf;
    const start = this.pos + guess;
    const written = buf.utf8Write(s, start);
    const header = written * 2;
    const headerSize = varUintSize(header);
    if (headerSize !== guess) buf.copyWithin(this.pos + headerSize, start, start + written);
    this.putVarUint(header);
    this.pos += written;
  }

  writeVarUint(n: number): void {
    if (!isSafeUint(n)) {
      throw new CodecError(`cannot encode ${String(n)} as varuint (must be an integer 0..2^53-1)`);
    }
    this.ensure(MAX_VARUINT_BYTES);
    this.putVarUint(n);
  }

  writeFloat64(n: number): void {
    this.ensure(8);
    this.buf.writeDoubleLE(n, this.pos);
    this.pos += 8;
  }

  writeBytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Appends a 32-bit unsigned integer, little-endian. */
  writeUInt32(n: number): void {
    if (!isSafeUint(n) || n > 0xffffffff) {
      throw new CodecError(`cannot encode ${String(n)} as uint32`);
    }
    this.ensure(4);
    this.buf.writeUInt32LE(n, this.pos);
    this.pos += 4;
  }

  /** Overwrites the 32-bit unsigned integer written at `offset` (a length reserved before what it measures). */
  patchUInt32(offset: number, n: number): void {
    if (!isSafeUint(offset) || offset + 4 > this.pos) {
      throw new CodecError(
        `cannot patch a uint32 at offset ${String(offset)} of ${this.pos} bytes`,
      );
    }
    if (!isSafeUint(n) || n > 0xffffffff) {
      throw new CodecError(`cannot encode ${String(n)} as uint32`);
    }
    this.buf.writeUInt32LE(n, offset);
  }

  /** Appends bytes [start, end) of `source` as they are (a value encoded earlier by this codec, for instance). */
  writeRange(source: Uint8Array, start: number, end: number): void {
    if (!isSafeUint(start) || !isSafeUint(end) || start > end || end > source.length) {
      throw new CodecError(
        `invalid range ${String(start)}..${String(end)} of ${source.length} bytes`,
      );
    }
    const n = end - start;
    this.ensure(n);
    this.buf.set(new Uint8Array(source.buffer, source.byteOffset + start, n), this.pos);
    this.pos += n;
  }

  /**
   * The writer's own buffer, without a copy: bytes [0, length) are those written since the last finish(). Valid
   * until the next write.
   */
  get buffer(): Uint8Array {
    return this.buf;
  }

  /**
   * Gives the writer `buffer` to write into next, if finish() handed its own buffer over and nothing was written
   * since (returns whether it took it). The caller must not touch `buffer` afterwards.
   */
  adopt(buffer: Buffer): boolean {
    if (this.buf !== EMPTY || this.pos !== 0) return false;
    this.buf = buffer as FastBuffer;
    return true;
  }

  /** Drops everything written and lets go of the buffer (a later write allocates a new one). */
  release(): void {
    this.buf = EMPTY;
    this.pos = 0;
  }

  /** Returns exactly the bytes written so far and resets the writer (it can be reused). */
  finish(): Buffer {
    const n = this.pos;
    this.pos = 0;
    if (n >= HANDOFF_MIN && n * 2 >= this.buf.length) {
      // Mostly full: hand the buffer over instead of copying; a fresh one is allocated lazily.
      const out = this.buf.subarray(0, n);
      this.buf = EMPTY;
      return out;
    }
    // Copy into a (pooled) Buffer; TypedArray#set with a plain view is cheaper than Buffer#copy.
    const out = Buffer.allocUnsafe(n);
    out.set(new Uint8Array(this.buf.buffer, this.buf.byteOffset, n));
    return out;
  }

  private ensure(n: number): void {
    if (this.pos + n > this.buf.length) this.grow(n);
  }

  private grow(n: number): void {
    const needed = this.pos + n;
    const capacity = Math.max(needed, this.buf.length * 2, this.initialCapacity);
    const next = Buffer.allocUnsafeSlow(capacity) as FastBuffer;
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Writes a varuint; the caller has ensured MAX_VARUINT_BYTES of capacity. */
  private putVarUint(n: number): void {
    const buf = this.buf;
    let p = this.pos;
    while (n > 0x7fffffff) {
      buf[p++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    while (n >= 0x80) {
      buf[p++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[p++] = n;
    this.pos = p;
  }

  private tag(tag: number): void {
    this.ensure(1);
    this.buf[this.pos++] = tag;
  }

  private tagAndVarUint(tag: number, n: number): void {
    this.ensure(1 + MAX_VARUINT_BYTES);
    this.buf[this.pos++] = tag;
    this.putVarUint(n);
  }

  private writeUtf16(s: string): void {
    const byteLength = s.length * 2;
    this.ensure(MAX_VARUINT_BYTES + byteLength);
    this.putVarUint(byteLength + 1);
    this.buf.write(s, this.pos, byteLength, 'utf16le');
    this.pos += byteLength;
  }

  private value(v: unknown, depth: number): void {
    switch (typeof v) {
      case 'string':
        this.tag(TAG_STRING);
        this.writeString(v);
        return;
      case 'number':
        this.number(v);
        return;
      case 'boolean':
        this.tag(v ? TAG_TRUE : TAG_FALSE);
        return;
      case 'undefined':
        this.tag(TAG_UNDEFINED);
        return;
      case 'object':
        if (v === null) {
          this.tag(TAG_NULL);
        } else if (v instanceof Uint8Array) {
          this.tagAndVarUint(TAG_BYTES, v.length);
          this.writeBytes(v);
        } else {
          if (depth >= MAX_DEPTH) {
            throw encodeError(
              `cannot encode value nested deeper than ${MAX_DEPTH} levels (cyclic structure?)`,
            );
          }
          this.container(v, depth + 1);
        }
        return;
      default:
        throw encodeError(`cannot encode value of type ${typeof v}`);
    }
  }

  private number(n: number): void {
    if (Number.isSafeInteger(n) && !(n === 0 && 1 / n < 0)) {
      if (n >= 0) this.tagAndVarUint(TAG_UINT, n);
      else this.tagAndVarUint(TAG_NEGINT, -n);
    } else {
      this.ensure(9);
      this.buf[this.pos++] = TAG_FLOAT64;
      this.buf.writeDoubleLE(n, this.pos);
      this.pos += 8;
    }
  }

  private container(v: object, depth: number): void {
    if (Array.isArray(v)) {
      this.array(v as unknown[], depth);
    } else if (v instanceof Map) {
      if (!this.scoredMap(v as Map<unknown, unknown>)) this.map(v as Map<unknown, unknown>, depth);
    } else if (v instanceof Set) {
      this.set(v as Set<unknown>, depth);
    } else {
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) {
        throw encodeError(`cannot encode value of type ${typeName(v)}`);
      }
      this.object(v as Record<string, unknown>, depth);
    }
  }

  private array(a: unknown[], depth: number): void {
    const n = a.length;
    this.tagAndVarUint(TAG_ARRAY, n);
    let i = 0;
    try {
      for (; i < n; i++) {
        const el = a[i];
        if (el === undefined && !(i in a)) throw encodeError('cannot encode sparse array (hole)');
        this.value(el, depth);
      }
    } catch (err) {
      throw withPath(err, `[${i}]`);
    }
  }

  private set(s: Set<unknown>, depth: number): void {
    this.tagAndVarUint(TAG_SET, s.size);
    let i = 0;
    try {
      for (const member of s) {
        this.value(member, depth);
        i++;
      }
    } catch (err) {
      throw withPath(err, `<set member #${i}>`);
    }
  }

  /**
   * Writes `m` as a scored Map if it has that shape (see the table above), and returns whether it did; if not,
   * nothing is written. A sorted set's members are then two fields each, not an object with its member twice.
   */
  private scoredMap(m: Map<unknown, unknown>): boolean {
    if (m.size === 0) return false;
    const start = this.pos;
    this.tagAndVarUint(TAG_SCORED_MAP, m.size);
    // forEach hands over key and member without the [key, member] array a for-of makes for each entry.
    let scored = true;
    m.forEach((member, key) => {
      if (!scored) return;
      if (typeof key !== 'string' || !isScoredMember(key, member)) {
        scored = false;
        return;
      }
      this.writeString(key);
      this.number(member.score);
    });
    if (!scored) this.pos = start;
    return scored;
  }

  private map(m: Map<unknown, unknown>, depth: number): void {
    this.tagAndVarUint(TAG_MAP, m.size);
    let i = 0;
    let key: unknown;
    let inKey = false;
    try {
      for (const entry of m) {
        key = entry[0];
        inKey = true;
        this.value(key, depth);
        inKey = false;
        this.value(entry[1], depth);
        i++;
      }
    } catch (err) {
      // The path segment is built only on failure: zsets hold many entries per key.
      const segment = inKey
        ? `<map key #${i}>`
        : typeof key === 'string'
          ? `.get(${JSON.stringify(key)})`
          : `<map value #${i}>`;
      throw withPath(err, segment);
    }
  }

  private object(o: Record<string, unknown>, depth: number): void {
    if (Object.getOwnPropertySymbols(o).length !== 0) {
      throw encodeError('cannot encode object with symbol keys');
    }
    const keys = Object.keys(o);
    const n = keys.length;
    this.tagAndVarUint(TAG_OBJECT, n);
    let i = 0;
    try {
      for (; i < n; i++) {
        const key = keys[i];
        this.writeString(key);
        this.value(o[key], depth);
      }
    } catch (err) {
      throw withPath(err, keySegment(keys[i]));
    }
  }
}

/** Bytes of a string's body, from its header: UTF-8 bytes (even header) or UTF-16 units × 2 (odd). */
function stringBodyBytes(header: number): number {
  return header % 2 === 0 ? header / 2 : header - 1;
}

/**
 * Whether `member` is exactly `{ score: <number>, value: key }`: a plain object with these two own enumerable
 * properties, in this order, and no symbol keys, so that decoding it as that literal loses nothing.
 */
function isScoredMember(key: string, member: unknown): member is { score: number; value: string } {
  if (typeof member !== 'object' || member === null) return false;
  if (Object.getPrototypeOf(member) !== Object.prototype) return false;
  const m = member as { score?: unknown; value?: unknown };
  if (m.value !== key || typeof m.score !== 'number') return false;
  // Own enumerable string keys, in order (for-in adds none from Object.prototype, which has no enumerable ones
  // unless it was extended, and then this says no): unlike Object.keys, it allocates nothing.
  let n = 0;
  for (const name in member) {
    // A third key is not 'value' either: 'value' came second.
    if (name !== (n === 0 ? 'score' : 'value')) return false;
    n++;
  }
  return n === 2 && Object.getOwnPropertySymbols(member).length === 0;
}

const fromCharCode = String.fromCharCode;

/**
 * Decodes n <= ASCII_DECODE_MAX (12) bytes already known to be ASCII. A fixed-arity fromCharCode
 * call avoids both the native-call overhead of Buffer#utf8Slice and per-character concatenation.
 */
// prettier-ignore
function shortAscii(b: Uint8Array, s: number, n: number): string {
  switch (n) {
    case 0: return '';
    case 1: return fromCharCode(b[s]);
    case 2: return fromCharCode(b[s], b[s + 1]);
    case 3: return fromCharCode(b[s], b[s + 1], b[s + 2]);
    case 4: return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3]);
    case 5: return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4]);
    case 6: return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5]);
    case 7: return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6]);
    case 8: return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6],
      b[s + 7]);
    case 9: return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6],
      b[s + 7], b[s + 8]);
    case 10: return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6],
      b[s + 7], b[s + 8], b[s + 9]);
    case 11: return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6],
      b[s + 7], b[s + 8], b[s + 9], b[s + 10]);
    default: return fromCharCode(b[s], b[s + 1], b[s + 2], b[s + 3], b[s + 4], b[s + 5], b[s + 6],
      b[s + 7], b[s + 8], b[s + 9], b[s + 10], b[s + 11]);
  }
}

function toFastBuffer(b: Uint8Array): FastBuffer {
  return (Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength)) as FastBuffer;
}

function hex(tag: number): string {
  return `0x${tag.toString(16).padStart(2, '0')}`;
}

/**
 * Reads values written by BufferWriter from buf[start, end). Every read is bounds-checked and any
 * malformed input raises a CodecError naming what was being read and its offset; after an error
 * the reader's offset is unspecified. Decoded strings and Buffers never share memory with buf.
 */
export class BufferReader {
  private readonly buf: FastBuffer;
  private pos: number;
  private readonly end: number;

  constructor(buf: Uint8Array, start = 0, end: number = buf.length) {
    if (!isSafeUint(start) || !isSafeUint(end) || start > end || end > buf.length) {
      throw new CodecError(
        `invalid reader range ${String(start)}..${String(end)} for ${buf.length} bytes`,
      );
    }
    this.buf = toFastBuffer(buf);
    this.pos = start;
    this.end = end;
  }

  get offset(): number {
    return this.pos;
  }

  get done(): boolean {
    return this.pos === this.end;
  }

  readValue(): unknown {
    return this.value(0);
  }

  readString(): string {
    return this.str('string');
  }

  readVarUint(): number {
    return this.varUint('varuint');
  }

  readFloat64(): number {
    if (this.end - this.pos < 8) throw this.truncated('float64', this.pos);
    const n = this.buf.readDoubleLE(this.pos);
    this.pos += 8;
    return n;
  }

  readUInt32(): number {
    if (this.end - this.pos < 4) throw this.truncated('uint32', this.pos);
    const n = this.buf.readUInt32LE(this.pos);
    this.pos += 4;
    return n;
  }

  /**
   * Steps over a string as {@link readString} would read it, with the same checks (its length, and that a UTF-8
   * body is valid UTF-8), without building it.
   */
  skipString(): void {
    const at = this.pos;
    const header = this.stringHeader('string', at);
    const buf = this.buf;
    const start = this.pos;
    const end = start + stringBodyBytes(header);
    if (header % 2 === 0) {
      let bits = 0;
      for (let i = start; i < end; i++) bits |= buf[i];
      if (bits >= 0x80 && !isUtf8(buf.subarray(start, end))) {
        throw new CodecError(`invalid UTF-8 in string at offset ${at}`);
      }
    }
    this.pos = end;
  }

  /** Steps over n bytes. */
  skipBytes(n: number): void {
    if (!isSafeUint(n)) throw new CodecError(`invalid byte count ${String(n)}`);
    if (n > this.end - this.pos) {
      throw this.truncated(
        'bytes',
        this.pos,
        `: length ${n} exceeds the ${this.end - this.pos} bytes left`,
      );
    }
    this.pos += n;
  }

  /** Reads n raw bytes into a new Buffer (a copy, not a view of the input). */
  readBytes(n: number): Buffer {
    if (!isSafeUint(n)) throw new CodecError(`invalid byte count ${String(n)}`);
    return this.bytes(n, 'bytes', this.pos);
  }

  private truncated(what: string, at: number, detail = ''): CodecError {
    return new CodecError(`truncated ${what} at offset ${at}${detail}`);
  }

  private bytes(n: number, what: string, at: number): Buffer {
    const start = this.pos;
    if (n > this.end - start) {
      throw this.truncated(what, at, `: length ${n} exceeds the ${this.end - start} bytes left`);
    }
    const out = Buffer.allocUnsafe(n);
    out.set(new Uint8Array(this.buf.buffer, this.buf.byteOffset + start, n));
    this.pos = start + n;
    return out;
  }

  private varUint(what: string): number {
    const buf = this.buf;
    const end = this.end;
    const start = this.pos;
    if (start >= end) throw this.truncated(what, start);
    let b = buf[start];
    if (b < 0x80) {
      this.pos = start + 1;
      return b;
    }
    let result = b & 0x7f;
    let scale = 0x80;
    let p = start + 1;
    for (;;) {
      if (p >= end) throw this.truncated(what, start);
      if (p - start >= MAX_VARUINT_BYTES) {
        throw new CodecError(`invalid ${what} at offset ${start}: varuint longer than 8 bytes`);
      }
      b = buf[p++];
      result += (b & 0x7f) * scale;
      if (b < 0x80) break;
      scale *= 0x80;
    }
    if (b === 0) {
      throw new CodecError(`invalid ${what} at offset ${start}: non-canonical varuint`);
    }
    if (result > Number.MAX_SAFE_INTEGER) {
      throw new CodecError(`invalid ${what} at offset ${start}: varuint exceeds 2^53-1`);
    }
    this.pos = p;
    return result;
  }

  /** Reads the varuint length of a `what` (a one-byte length without building the error label). */
  private lengthOf(what: string): number {
    const p = this.pos;
    if (p < this.end && this.buf[p] < 0x80) {
      this.pos = p + 1;
      return this.buf[p];
    }
    return this.varUint(`${what} length`);
  }

  /** Reads a container count; every entry needs at least minBytes, so check before allocating. */
  private count(what: string, at: number, minBytes: number): number {
    const n = this.lengthOf(what);
    const left = this.end - this.pos;
    if (n > left / minBytes) {
      throw this.truncated(what, at, `: ${n} entries cannot fit in the ${left} bytes left`);
    }
    return n;
  }

  /**
   * Reads a string's header (see the format above) and checks that its body fits in what is left; the body starts
   * at the position it leaves.
   */
  private stringHeader(what: string, at: number): number {
    const header = this.lengthOf(what);
    const left = this.end - this.pos;
    if (header % 2 === 0) {
      const n = header / 2;
      if (n > left) throw this.truncated(what, at, `: length ${n} exceeds the ${left} bytes left`);
    } else {
      const units = (header - 1) / 2;
      if (units > left / 2) {
        throw this.truncated(what, at, `: ${units} UTF-16 units exceed the ${left} bytes left`);
      }
    }
    return header;
  }

  private str(what: string): string {
    const at = this.pos;
    const header = this.stringHeader(what, at);
    const buf = this.buf;
    const start = this.pos;
    const end = start + stringBodyBytes(header);
    if (header % 2 === 0) {
      const n = header / 2;
      if (n <= ASCII_DECODE_MAX) {
        let bits = 0;
        for (let i = start; i < end; i++) bits |= buf[i];
        if (bits < 0x80) {
          this.pos = end;
          return shortAscii(buf, start, n);
        }
      }
      const s = this.slice(buf, 'utf8', start, end, what, at);
      // The decoder substitutes U+FFFD for invalid sequences; only then is validation needed.
      if (s.includes('\uFFFD') && !isUtf8(buf.subarray(start, end))) {
        throw new CodecError(`invalid UTF-8 in ${what} at offset ${at}`);
      }
      this.pos = end;
      return s;
    }
    const s = this.slice(buf, 'utf16le', start, end, what, at);
    this.pos = end;
    return s;
  }

  private slice(
    buf: FastBuffer,
    encoding: 'utf8' | 'utf16le',
    start: number,
    end: number,
    what: string,
    at: number,
  ): string {
    try {
      return encoding === 'utf8' ? buf.utf8Slice(start, end) : buf.ucs2Slice(start, end);
    } catch (err) {
      // e.g. longer than the maximum string length (buffer.constants.MAX_STRING_LENGTH).
      const reason = err instanceof Error ? err.message : String(err);
      throw new CodecError(`cannot decode ${what} at offset ${at}: ${reason}`);
    }
  }

  private value(depth: number): unknown {
    const at = this.pos;
    if (at >= this.end) throw this.truncated('value', at);
    const tag = this.buf[at];
    this.pos = at + 1;
    switch (tag) {
      case TAG_STRING:
        return this.str('string');
      case TAG_UINT:
        return this.varUint('integer');
      case TAG_FLOAT64:
        return this.readFloat64();
      case TAG_UNDEFINED:
        return undefined;
      case TAG_NULL:
        return null;
      case TAG_FALSE:
        return false;
      case TAG_TRUE:
        return true;
      case TAG_NEGINT: {
        const n = this.varUint('integer');
        if (n === 0) throw new CodecError(`invalid negative integer 0 at offset ${at}`);
        return -n;
      }
      case TAG_BYTES:
        return this.bytes(this.varUint('bytes length'), 'bytes', at);
      case TAG_ARRAY:
      case TAG_SET:
      case TAG_MAP:
      case TAG_OBJECT:
      case TAG_SCORED_MAP:
        if (depth >= MAX_DEPTH) {
          throw new CodecError(`value at offset ${at} is nested deeper than ${MAX_DEPTH} levels`);
        }
        return this.container(tag, at, depth + 1);
      default:
        throw new CodecError(`unknown tag ${hex(tag)} at offset ${at}`);
    }
  }

  private container(tag: number, at: number, depth: number): unknown {
    switch (tag) {
      case TAG_ARRAY: {
        const n = this.count('array', at, 1);
        const out: unknown[] = [];
        for (let i = 0; i < n; i++) out.push(this.value(depth));
        return out;
      }
      case TAG_SET: {
        const n = this.count('set', at, 1);
        if (n > MAX_COLLECTION_SIZE) throw new CodecError(`set at offset ${at} is too large`);
        const out = new Set<unknown>();
        for (let i = 0; i < n; i++) out.add(this.value(depth));
        if (out.size !== n) throw new CodecError(`duplicate member in set at offset ${at}`);
        return out;
      }
      case TAG_MAP: {
        const n = this.count('map', at, 2);
        if (n > MAX_COLLECTION_SIZE) throw new CodecError(`map at offset ${at} is too large`);
        const out = new Map<unknown, unknown>();
        for (let i = 0; i < n; i++) {
          const key = this.value(depth);
          out.set(key, this.value(depth));
        }
        if (out.size !== n) throw new CodecError(`duplicate key in map at offset ${at}`);
        return out;
      }
      case TAG_SCORED_MAP: {
        // Each entry takes at least 3 bytes: a string header, a number's tag and its first byte.
        const n = this.count('scored map', at, 3);
        if (n > MAX_COLLECTION_SIZE) throw new CodecError(`map at offset ${at} is too large`);
        const out = new Map<string, { score: number; value: string }>();
        for (let i = 0; i < n; i++) {
          const value = this.str('scored map key');
          const scoreAt = this.pos;
          const score = this.value(depth);
          if (typeof score !== 'number') {
            throw new CodecError(`score at offset ${scoreAt} in scored map is not a number`);
          }
          out.set(value, { score, value });
        }
        if (out.size !== n) throw new CodecError(`duplicate key in map at offset ${at}`);
        return out;
      }
      default: {
        const n = this.count('object', at, 2);
        const out: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const keyAt = this.pos;
          const key = this.str('object key');
          const val = this.value(depth);
          if (Object.hasOwn(out, key)) {
            throw new CodecError(`duplicate object key at offset ${keyAt}`);
          }
          if (key === '__proto__') {
            Object.defineProperty(out, key, {
              value: val,
              writable: true,
              enumerable: true,
              configurable: true,
            });
          } else {
            out[key] = val;
          }
        }
        return out;
      }
    }
  }
}

/** Encodes one value into a new Buffer. */
export function encodeValue(value: unknown): Buffer {
  const writer = new BufferWriter(256);
  writer.writeValue(value);
  return writer.finish();
}

/** Decodes exactly one value from buf[start, end); throws CodecError if bytes remain after it. */
export function decodeValue(buf: Uint8Array, start = 0, end: number = buf.length): unknown {
  const reader = new BufferReader(buf, start, end);
  const value = reader.readValue();
  if (!reader.done) {
    const left = end - reader.offset;
    throw new CodecError(`trailing bytes at offset ${reader.offset}: ${left} left after the value`);
  }
  return value;
}
