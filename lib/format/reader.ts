import { ByteReader } from './byte-reader';
import { CodecError } from './codec-errors';
import { StreamValue } from './stream-value';
import {
  TAG_UNDEFINED,
  TAG_NULL,
  TAG_FALSE,
  TAG_TRUE,
  TAG_FLOAT64,
  TAG_UINT,
  TAG_NEGINT,
  TAG_STRING,
  TAG_BYTES,
  TAG_ARRAY,
  TAG_SET,
  TAG_MAP,
  TAG_OBJECT,
  TAG_SCORED_MAP,
  TAG_STREAM,
  MAX_DEPTH,
  MAX_COLLECTION_SIZE,
} from './tags';

function hex(tag: number): string {
  return `0x${tag.toString(16).padStart(2, '0')}`;
}

/**
 * Reads values written by BufferWriter from buf[start, end): the tagged values and containers, on top of the
 * untagged reads in `byte-reader.ts`. Every read is bounds-checked and any malformed input raises a CodecError
 * naming what was being read and its offset; after an error the reader's offset is unspecified. Decoded strings
 * and Buffers never share memory with buf.
 */
export class BufferReader extends ByteReader {
  readValue(): unknown {
    return this.value(0);
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
      case TAG_STREAM:
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
      case TAG_STREAM: {
        const stream = new StreamValue();
        stream.lastId = this.str('stream last id');
        // Each entry takes at least 3 bytes: an id's string header, the fields' tag and count.
        const n = this.count('stream', at, 3);
        for (let i = 0; i < n; i++) {
          const id = this.str('stream entry id');
          const fieldsAt = this.pos;
          const fields = this.value(depth);
          if (!Array.isArray(fields)) {
            throw new CodecError(`fields at offset ${fieldsAt} in stream are not an array`);
          }
          stream.push([id, fields as (string | Buffer)[]]);
        }
        return stream;
      }
      default: {
        const n = this.count('object', at, 2);
        const out: Record<string, unknown> = {};
        for (let i = 0; i < n; i++) {
          const keyAt = this.pos;
          const key = this.str('object key', true);
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
