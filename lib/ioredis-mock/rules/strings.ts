/**
 * Strings (https://redis.io/docs/latest/commands/?group=string).
 *
 * ioredis-mock keeps a string as a JS string (or the Buffer it was set from) and measures it in UTF-16 code units,
 * where Redis counts bytes: STRLEN, APPEND's reply and GETRANGE's offsets are taken in bytes here. Its INCR family
 * stores `NaN` for a value that is not an integer and INCRBYFLOAT for one that is not a float; Redis refuses both.
 * GET, GETRANGE, STRLEN and the writes refuse a key of another type with WRONGTYPE (MGET answers nil for one).
 */
import { keptExpiry } from '../expiry-rules';
import { floatSum } from '../long-double';
import {
  byteLength,
  bytesOf,
  type CommandRule,
  copyOut,
  keyName,
  type KeyReader,
  type Outcome,
  reply,
  typed,
  write,
} from '../command-rule';
import {
  type Arg,
  argText,
  checkSum,
  DECREMENT_WOULD_OVERFLOW,
  INT64_MIN,
  integerArg,
  ioredisInteger,
  isSafeInteger,
  NOT_A_FLOAT,
  NOT_AN_INTEGER,
  OFFSET_OUT_OF_RANGE,
  optionName,
  parseInteger,
  replyError,
  SYNTAX_ERROR,
  smallInteger,
  storedInteger,
} from '../redis-replies';

/** INCR, DECR, INCRBY, DECRBY: `sign` and the increment's argument (none: 1). */
function incrementRule(arity: number, sign: 1n | -1n): CommandRule {
  return typed('string', arity, {
    parse: (args) => {
      // Redis cannot negate the smallest 64-bit integer.
      if (args.length > 1 && integerArg(args[1]) === INT64_MIN && sign < 0n) {
        throw replyError(DECREMENT_WOULD_OVERFLOW);
      }
    },
    check: (args, reader) => {
      const key = keyName(args[0]);
      const stored = reader.valueOf(key);
      // Small integers (the common case): their sum in doubles is exact, and ioredis-mock's reply Redis's.
      const current = stored === undefined ? 0 : smallInteger(stored);
      const by = args.length === 1 ? 1 : smallInteger(args[1]);
      if (current !== undefined && by !== undefined) {
        const writer = reader.writer;
        if (writer === undefined) return { args };
        const sum = current + (sign < 0n ? -by : by);
        return write(() => {
          writer.store(key, String(sum));
          return sum;
        });
      }
      const increment = args.length > 1 ? sign * integerArg(args[1]) : sign;
      const sum = checkSum(storedInteger(stored, NOT_AN_INTEGER), increment);
      const answer = ioredisInteger(sum);
      // ioredis-mock adds in doubles, and reads a Buffer as NaN: then the exact sum is stored with SET.
      if (Buffer.isBuffer(stored) || !isSafeInteger(sum)) {
        const args_ = [args[0], sum.toString(), ...keptExpiry(reader, args[0])];
        return { args: args_, command: 'set', answer: () => answer };
      }
      // ioredis-mock answers the same number then.
      return { args };
    },
  });
}

const EMPTY = Buffer.alloc(0);

/** GETRANGE key start end: byte offsets, clamped as Redis's `getrangeCommand` clamps them. */
const getrange = typed('string', 4, {
  parse: (args) => {
    integerArg(args[1]);
    integerArg(args[2]);
  },
  check: (args, reader) => {
    const bytes = bytesOf(reader.valueOf(keyName(args[0])));
    const length = bytes.length;
    let start = Number(integerArg(args[1]));
    let end = Number(integerArg(args[2]));
    if (start < 0 && end < 0 && start > end) return reply(EMPTY);
    if (start < 0) start = Math.max(0, length + start);
    if (end < 0) end = Math.max(0, length + end);
    if (end >= length) end = length - 1;
    if (length === 0 || start > end) return reply(EMPTY);
    return reply(Buffer.from(bytes.subarray(start, end + 1)));
  },
});

const BIT_OFFSET = 'ERR bit offset is not an integer or out of range';
const BIT_VALUE = 'ERR bit is not an integer or out of range';
const TOO_LONG = 'ERR string exceeds maximum allowed size (proto-max-bulk-len)';
/** Redis's default `proto-max-bulk-len`, the longest string it stores: 512 MB. */
const MAX_BYTES = 512n * 1024n * 1024n;

/** A bit offset as Redis's `getBitOffsetFromArgument` takes it: within the longest string. */
function bitOffset(arg: Arg): number {
  const offset = parseInteger(arg);
  if (offset === undefined || offset < 0n || offset >> 3n >= MAX_BYTES)
    throw replyError(BIT_OFFSET);
  return Number(offset);
}

/** GETBIT key offset: read from the stored bytes (ioredis-mock's reads a JS string's UTF-16 units, and throws on a Buffer). */
const getbit = typed('string', 3, {
  parse: (args) => {
    bitOffset(args[1]);
  },
  check: (args, reader) => {
    const bytes = bytesOf(reader.valueOf(keyName(args[0])));
    const offset = Number(args[1]);
    const byte = offset >> 3;
    return reply(byte < bytes.length ? (bytes[byte] >> (7 - (offset & 7))) & 1 : 0);
  },
});

/** The number of bits set in a byte. */
function ones(byte: number): number {
  let n = byte - ((byte >> 1) & 0x55);
  n = (n & 0x33) + ((n >> 2) & 0x33);
  return (n + (n >> 4)) & 0x0f;
}

/** BITCOUNT key [start end [BYTE|BIT]]: counted in the stored bytes (BYTE ranges; BIT ranges go to ioredis-mock). */
const bitcount = typed('string', -2, {
  parse: (args) => {
    if (args.length === 2 || args.length > 4) throw replyError(SYNTAX_ERROR);
    if (args.length >= 3) {
      integerArg(args[1]);
      integerArg(args[2]);
    }
  },
  check: (args, reader) => {
    if (args.length === 4 && optionName(args[3]) !== 'BYTE') {
      if (optionName(args[3]) === 'BIT') return undefined;
      throw replyError(SYNTAX_ERROR);
    }
    let bytes = bytesOf(reader.valueOf(keyName(args[0])));
    if (args.length >= 3) {
      const length = bytes.length;
      let start = Number(integerArg(args[1]));
      let end = Number(integerArg(args[2]));
      if (start < 0) start = Math.max(0, length + start);
      if (end < 0) end = Math.max(0, length + end);
      if (end >= length) end = length - 1;
      bytes = start > end ? Buffer.alloc(0) : bytes.subarray(start, end + 1);
    }
    let count = 0;
    for (const byte of bytes) count += ones(byte);
    return reply(count);
  },
});

/** APPEND key value: answers the new length in bytes. */
const append = typed('string', 3, {
  check: (args, reader) => {
    const length = byteLength(reader.valueOf(keyName(args[0]))) + bytesOf(args[1]).length;
    return { args, answer: () => length };
  },
});

/** Longer strings stay Buffers (a JS string holds at most about 512 M UTF-16 code units). */
const LONGEST_TEXT = 1 << 20;

/**
 * The bytes a string becomes, as ioredis-mock keeps them: UTF-8 text as a string, other bytes (and long strings) as a
 * Buffer, and stored with SET, keeping the key's TTL unless `keepTtl` is false (ioredis-mock's own SETRANGE and
 * SETBIT work on UTF-16 code units).
 */
function storeBytes(
  reader: KeyReader,
  key: Arg,
  bytes: Buffer,
  answer: unknown,
  keepTtl = true,
): Outcome {
  const text = bytes.length <= LONGEST_TEXT ? bytes.toString('utf8') : undefined;
  const value = text !== undefined && Buffer.from(text, 'utf8').equals(bytes) ? text : bytes;
  const expiry = keepTtl ? keptExpiry(reader, key) : [];
  return { args: [key, value, ...expiry], command: 'set', answer: () => answer };
}

/** The stored bytes grown with zero bytes to `length` (a copy). */
function grown(stored: unknown, length: number): Buffer {
  const bytes = bytesOf(stored);
  const out = Buffer.alloc(Math.max(length, bytes.length));
  bytes.copy(out);
  return out;
}

/**
 * SETRANGE key offset value (Redis's `setrangeCommand`): the offset in bytes, zero bytes to fill up to it, and an
 * empty value changes nothing (not even a missing key).
 */
const setrange = typed('string', 4, {
  parse: (args) => {
    if (integerArg(args[1]) < 0n) throw replyError(OFFSET_OUT_OF_RANGE);
  },
  check: (args, reader) => {
    const stored = reader.valueOf(keyName(args[0]));
    const value = bytesOf(args[2]);
    if (value.length === 0) return reply(byteLength(stored));
    const offset = integerArg(args[1]);
    if (offset + BigInt(value.length) > MAX_BYTES) throw replyError(TOO_LONG);
    const bytes = grown(stored, Number(offset) + value.length);
    value.copy(bytes, Number(offset));
    return storeBytes(reader, args[0], bytes, bytes.length);
  },
});

/** SETBIT key offset value (Redis's `setbitCommand`): answers the bit's old value. */
const setbit = typed('string', 4, {
  parse: (args) => {
    bitOffset(args[1]);
    const bit = parseInteger(args[2]);
    if (bit !== 0n && bit !== 1n) throw replyError(BIT_VALUE);
  },
  check: (args, reader) => {
    const offset = bitOffset(args[1]);
    const byte = Math.floor(offset / 8);
    const mask = 1 << (7 - (offset % 8));
    const bytes = grown(reader.valueOf(keyName(args[0])), byte + 1);
    const old = (bytes[byte] & mask) === 0 ? 0 : 1;
    if (argText(args[2]) === '1') bytes[byte] |= mask;
    else bytes[byte] &= ~mask;
    return storeBytes(reader, args[0], bytes, old);
  },
});

const BITOPS = ['AND', 'OR', 'XOR', 'NOT'] as const;

/** BITOP's operation, checked as Redis checks it before it reads a key. */
export function bitopOperation(args: readonly Arg[]): (typeof BITOPS)[number] {
  const operation = BITOPS.find((name) => name === optionName(args[0]));
  if (operation === undefined) throw replyError(SYNTAX_ERROR);
  if (operation === 'NOT' && args.length !== 3) {
    throw replyError('ERR BITOP NOT must be called with a single source key.');
  }
  return operation;
}

/**
 * BITOP's result over the inputs' bytes (Redis's `bitopCommand`): as long as the longest input, a missing key or a
 * shorter string counting as zero bytes.
 */
export function bitopBytes(operation: (typeof BITOPS)[number], inputs: readonly Buffer[]): Buffer {
  const out = Buffer.alloc(Math.max(...inputs.map((bytes) => bytes.length)));
  for (let i = 0; i < out.length; i++) {
    let byte = i < inputs[0].length ? inputs[0][i] : 0;
    if (operation === 'NOT') byte = ~byte & 0xff;
    for (let j = 1; j < inputs.length; j++) {
      const other = i < inputs[j].length ? inputs[j][i] : 0;
      if (operation === 'AND') byte &= other;
      else if (operation === 'OR') byte |= other;
      else byte ^= other;
    }
    out[i] = byte;
  }
  return out;
}

/**
 * BITOP AND|OR|XOR|NOT destkey key [key …]: the result replaces the destination (without a TTL), and an empty one
 * deletes it. Answers the result's length.
 */
const bitop: CommandRule = {
  arity: -4,
  type: ['string'],
  keys: (args) => args.slice(2),
  parse: (args) => {
    bitopOperation(args);
  },
  check: (args, reader) => {
    const inputs = args.slice(2).map((key) => bytesOf(reader.valueOf(keyName(key))));
    const out = bitopBytes(bitopOperation(args), inputs);
    if (out.length === 0) return { args: [args[1]], command: 'del', answer: () => 0 };
    return storeBytes(reader, args[1], out, out.length, false);
  },
};

/** BITPOS's bit, checked before the key is read. */
function bitposBit(arg: Arg): 0 | 1 {
  const bit = integerArg(arg);
  if (bit !== 0n && bit !== 1n) throw replyError('ERR The bit argument must be 1 or 0.');
  return bit === 1n ? 1 : 0;
}

/**
 * BITPOS key bit [start [end [BYTE|BIT]]] (Redis's `bitposCommand`) over the stored string (`undefined`: missing):
 * the position of the first bit of that value in the range, or -1. A missing key is an endless run of zero bits (its
 * range is not parsed); looking for a 0 without an end, the string counts as followed by zero bits.
 */
export function bitposAnswer(stored: unknown, args: readonly Arg[]): number {
  const bit = bitposBit(args[1]);
  if (stored === undefined) return bit === 1 ? -1 : 0;
  const bytes = bytesOf(stored);
  if (args.length > 5) throw replyError(SYNTAX_ERROR);
  let start = 0;
  let end = bytes.length - 1;
  let inBits = false;
  const endGiven = args.length >= 4;
  if (args.length >= 3) {
    start = Number(integerArg(args[2]));
    if (args.length === 5) {
      const unit = optionName(args[4]);
      if (unit !== 'BIT' && unit !== 'BYTE') throw replyError(SYNTAX_ERROR);
      inBits = unit === 'BIT';
    }
    if (endGiven) end = Number(integerArg(args[3]));
    const total = inBits ? 8 * bytes.length : bytes.length;
    if (start < 0) start = Math.max(0, total + start);
    if (end < 0) end = Math.max(0, total + end);
    if (end >= total) end = total - 1;
  }
  if (start > end) return -1;
  const [from, to] = inBits ? [start, end] : [8 * start, 8 * end + 7];
  for (let at = from; at <= to; at++) {
    if (((bytes[at >> 3] >> (7 - (at & 7))) & 1) === bit) return at;
  }
  return bit === 0 && !endGiven ? to + 1 : -1;
}

const bitpos = typed('string', -3, {
  parse: (args) => {
    bitposBit(args[1]);
  },
  check: (args, reader) => reply(bitposAnswer(reader.valueOf(keyName(args[0])), args)),
});

/** MGET: a key of another type reads as nil (ioredis-mock hands back whatever the key holds). */
const mget: CommandRule = {
  arity: -2,
  answer: (values) =>
    Array.isArray(values)
      ? values.map((v: unknown) => (typeof v === 'string' || Buffer.isBuffer(v) ? v : null))
      : values,
};

export const stringRules: Readonly<Record<string, CommandRule>> = {
  get: typed('string', 2, {
    check: (args, reader) => reply(copyOut(reader.valueOf(keyName(args[0])) ?? null)),
  }),
  mget,
  strlen: typed('string', 2, {
    check: (args, reader) => reply(byteLength(reader.valueOf(keyName(args[0])))),
  }),
  getrange,
  // SUBSTR is GETRANGE's old name (ioredis-mock's threw a TypeError on a missing key).
  substr: getrange,
  append,
  incr: incrementRule(2, 1n),
  decr: incrementRule(2, -1n),
  incrby: incrementRule(3, 1n),
  decrby: incrementRule(3, -1n),
  incrbyfloat: typed('string', 3, {
    // ioredis-mock adds in doubles: the long double sum Redis computes is stored with SET, the TTL kept.
    check: (args, reader) => {
      const sum = floatSum(reader.valueOf(keyName(args[0])), args[1], NOT_A_FLOAT);
      return {
        args: [args[0], sum, ...keptExpiry(reader, args[0])],
        command: 'set',
        answer: () => sum,
      };
    },
  }),
  getset: typed('string', 3),
  /** GETDEL key: ioredis-mock refuses a string stored as a Buffer (its TYPE does not know it). */
  getdel: typed('string', 2, {
    check: (args, reader) => {
      const value = reader.valueOf(keyName(args[0]));
      if (value === undefined) return reply(null);
      return { args, command: 'del', answer: () => copyOut(value) };
    },
  }),
  setrange,
  setbit,
  getbit,
  bitcount,
  bitop,
  bitpos,
  setnx: { arity: 3 },
  mset: { arity: -3, pairsFrom: 0 },
  msetnx: { arity: -3, pairsFrom: 0 },
};
