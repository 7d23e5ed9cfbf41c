import { isUtf8 } from 'buffer';
import { CodecError } from './codec-errors';
import type { FastBuffer } from './fast-buffer';
import { keyFromBytes } from './key-bytes';
import { MAX_VARUINT_BYTES, isSafeUint } from './tags';

/** ASCII strings up to this many bytes are decoded with shortAscii() (2-3x faster than native). */
const ASCII_DECODE_MAX = 12;

/** Bytes of a string's body, from its header: UTF-8 bytes (even header) or UTF-16 units × 2 (odd). */
function stringBodyBytes(header: number): number {
  return header % 2 === 0 ? header / 2 : header - 1;
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

/**
 * The byte level of `BufferReader` (`reader.ts`, which adds tagged values): bounds-checked reads of the codec's
 * untagged encodings, i.e. varuints, string bodies, float64, uint32 and raw bytes (see `codec.ts`), from
 * buf[start, end). Malformed input raises a CodecError naming what was being read and its offset.
 *
 * Only BufferReader is instantiated, so that every call site here sees one class of receiver.
 */
export abstract class ByteReader {
  protected readonly buf: FastBuffer;
  protected pos: number;
  protected readonly end: number;

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

  readString(): string {
    return this.str('string');
  }

  /**
   * Reads a key or hash field name: a string body whose UTF-8 body may hold bytes that are not UTF-8, each read as
   * its escape (see `key-bytes.ts`).
   */
  readName(): string {
    return this.str('string', true);
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
   * body is valid UTF-8), without building it; a `name` as {@link readName} would (any bytes).
   */
  skipString(name = false): void {
    const at = this.pos;
    const header = this.stringHeader('string', at);
    const buf = this.buf;
    const start = this.pos;
    const end = start + stringBodyBytes(header);
    if (header % 2 === 0 && !name) {
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

  protected truncated(what: string, at: number, detail = ''): CodecError {
    return new CodecError(`truncated ${what} at offset ${at}${detail}`);
  }

  protected bytes(n: number, what: string, at: number): Buffer {
    const start = this.pos;
    if (n > this.end - start) {
      throw this.truncated(what, at, `: length ${n} exceeds the ${this.end - start} bytes left`);
    }
    const out = Buffer.allocUnsafe(n);
    out.set(new Uint8Array(this.buf.buffer, this.buf.byteOffset + start, n));
    this.pos = start + n;
    return out;
  }

  protected varUint(what: string): number {
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
  protected lengthOf(what: string): number {
    const p = this.pos;
    if (p < this.end && this.buf[p] < 0x80) {
      this.pos = p + 1;
      return this.buf[p];
    }
    return this.varUint(`${what} length`);
  }

  /**
   * Reads a string's header (see `codec.ts`) and checks that its body fits in what is left; the body starts at
   * the position it leaves.
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

  /** Reads a string body; a `name`'s UTF-8 body may hold bytes outside UTF-8 (see {@link readName}). */
  protected str(what: string, name = false): string {
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
        if (name) {
          this.pos = end;
          return keyFromBytes(buf, start, end);
        }
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
}
