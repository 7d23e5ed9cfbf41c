import { ByteWriter } from './byte-writer';
import { encodeError, keySegment, withPath } from './codec-errors';
import { ListDeque } from './list-deque';
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
  MAX_VARUINT_BYTES,
} from './tags';

/** Name for an object that is not a supported container, e.g. 'Date' or a class name. */
function typeName(value: object): string {
  const proto = Object.getPrototypeOf(value) as { constructor?: unknown };
  const ctor = proto.constructor;
  if (ctor === Object) return 'object with a non-plain prototype';
  return typeof ctor === 'function' && ctor.name !== '' ? ctor.name : 'object';
}

/**
 * Appends encoded values (see `codec.ts`) to a growable buffer: the tagged values and containers, on top of the
 * untagged encodings and the buffer's handling in `byte-writer.ts`.
 */
export class BufferWriter extends ByteWriter {
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

  private tag(tag: number): void {
    this.ensure(1);
    this.buf[this.pos++] = tag;
  }

  private tagAndVarUint(tag: number, n: number): void {
    this.ensure(1 + MAX_VARUINT_BYTES);
    this.buf[this.pos++] = tag;
    this.putVarUint(n);
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
      if (v instanceof StreamValue) this.stream(v, depth);
      else this.array(v as unknown[], depth);
    } else if (v instanceof ListDeque) {
      this.array(v.toArray(), depth); // written as the list it is: a restore gives an array
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

  /** A stream: its last id, then its entries as (id, fields) pairs (see the table in `codec.ts`). */
  private stream(s: StreamValue, depth: number): void {
    const n = s.length;
    this.tag(TAG_STREAM);
    this.writeString(s.lastId);
    this.ensure(MAX_VARUINT_BYTES);
    this.putVarUint(n);
    let i = 0;
    try {
      for (; i < n; i++) {
        const entry = s[i];
        if (!Array.isArray(entry) || typeof entry[0] !== 'string' || !Array.isArray(entry[1])) {
          throw encodeError('a stream entry is not [id, fields]');
        }
        this.writeString(entry[0]);
        this.value(entry[1], depth);
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
   * Writes `m` as a scored Map if it has that shape (see the table in `codec.ts`), and returns whether it did; if
   * not, nothing is written. A sorted set's members are then two fields each, not an object with its member twice.
   */
  private scoredMap(m: Map<unknown, unknown>): boolean {
    if (m.size === 0) return false;
    const start = this.pos;
    this.tagAndVarUint(TAG_SCORED_MAP, m.size);
    // for-of over the entries is cheaper than forEach's callback once optimized (its pairs are not allocated).
    for (const [key, member] of m) {
      if (typeof key !== 'string' || !isScoredMember(key, member)) {
        this.pos = start;
        return false;
      }
      this.writeString(key);
      this.number(member.score);
    }
    return true;
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
        this.writeName(key);
        this.value(o[key], depth);
      }
    } catch (err) {
      throw withPath(err, keySegment(keys[i]));
    }
  }
}

/**
 * Whether `member` is exactly `{ score: <number>, value: key }`: a plain object with these two own enumerable string
 * keys, in this order, so that decoding it as that literal loses nothing a command can see. Symbol-keyed properties
 * are not looked at (no command makes them, and listing them allocates an array per member: it tripled the cost of
 * writing a sorted set), as the named properties of an array, a Map or a Set are not.
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
  return n === 2;
}
