import { CodecError } from './codec-errors';
import type { FastBuffer } from './fast-buffer';
import { isWellFormed, keyFromBytes, keyToBytes } from './key-bytes';
import { MAX_VARUINT_BYTES, isSafeUint } from './tags';

/** Strings up to this many UTF-16 units are encoded with a charCodeAt loop (measured crossover). */
const ASCII_ENCODE_MAX = 20;
/** Above this length, compute the exact UTF-8 size instead of reserving 3 bytes per unit. */
const EXACT_SIZE_MIN = 64 * 1024;
/** finish() hands over the internal buffer instead of copying when it is at least this full. */
const HANDOFF_MIN = 4096;
const DEFAULT_CAPACITY = 64 * 1024;

const EMPTY = Buffer.alloc(0) as FastBuffer;

function varUintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 0x80);
    size++;
  }
  return size;
}

/**
 * The byte level of `BufferWriter` (`writer.ts`, which adds tagged values): a growable buffer (doubling) and the
 * codec's untagged encodings, i.e. varuints, string bodies, float64, uint32 and raw bytes (see `codec.ts`).
 * finish() returns the bytes written since the last finish() and starts over, so one writer can produce many
 * records.
 *
 * Only BufferWriter is instantiated, so that every call site here sees one class of receiver.
 */
export abstract class ByteWriter {
  protected buf: FastBuffer;
  protected pos = 0;
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

  /**
   * Appends a key or hash field name: as {@link writeString} does, except that a name holding bytes outside UTF-8
   * (see `key-bytes.ts`) is written as those bytes, in a UTF-8 body (read back with `readName`).
   */
  writeName(s: string): void {
    if (isWellFormed(s)) {
      this.writeString(s);
      return;
    }
    const bytes = keyToBytes(s);
    // A string no bytes read back to (a lone surrogate other than an escape) is kept in UTF-16, as writeString does.
    if (keyFromBytes(bytes) !== s) {
      this.writeUtf16(s);
      return;
    }
    this.ensure(MAX_VARUINT_BYTES + bytes.length);
    this.putVarUint(bytes.length * 2);
    this.buf.set(bytes, this.pos);
    this.pos += bytes.length;
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

  protected ensure(n: number): void {
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
  protected putVarUint(n: number): void {
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

  private writeUtf16(s: string): void {
    const byteLength = s.length * 2;
    this.ensure(MAX_VARUINT_BYTES + byteLength);
    this.putVarUint(byteLength + 1);
    this.buf.write(s, this.pos, byteLength, 'utf16le');
    this.pos += byteLength;
  }
}
