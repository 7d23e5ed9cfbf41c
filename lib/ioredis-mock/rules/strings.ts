/**
 * Strings (https://redis.io/docs/latest/commands/?group=string).
 *
 * ioredis-mock keeps a string as a JS string (or the Buffer it was set from) and measures it in UTF-16 code units,
 * where Redis counts bytes: STRLEN, APPEND's reply and GETRANGE's offsets are taken in bytes here. Its INCR family
 * stores `NaN` for a value that is not an integer and INCRBYFLOAT for one that is not a float; Redis refuses both.
 * GET, GETRANGE, STRLEN and the writes refuse a key of another type with WRONGTYPE (MGET answers nil for one).
 * BITFIELD and BITFIELD_RO, which ioredis-mock lacks, are computed here as Redis's `bitfieldGeneric` computes them.
 * SETBIT, SETRANGE, APPEND and BITFIELD change a string of 16 KiB or more in place, as Redis does (see
 * `keyspace/growable-strings.ts`), where ioredis-mock stores a new copy at each write.
 */
import { growableCopy, grown, isGrowable } from '../../keyspace/growable-strings';
import { IN_PLACE_FROM_BYTES } from '../../keyspace/memory';
import { keptExpiry } from '../expiry-rules';
import { floatSum } from '../long-double';
import { EMBSTR_SIZE } from '../object-command';
import {
  byteLength,
  bytesOf,
  type CommandRule,
  copyOut,
  encodedAs,
  holds,
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
  WRONGTYPE,
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
      const before = storedInteger(stored, NOT_AN_INTEGER);
      const sum = checkSum(before, increment);
      const answer = ioredisInteger(sum);
      // ioredis-mock adds in doubles (exact only when both numbers and the sum are), and reads a Buffer as NaN: then
      // the exact sum is stored with SET.
      if (
        Buffer.isBuffer(stored) ||
        !isSafeInteger(sum) ||
        !isSafeInteger(before) ||
        !isSafeInteger(increment)
      ) {
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
    const stored = reader.valueOf(keyName(args[0]));
    // ASCII text (as many bytes as code units) is read where it is: its bytes made for each read cost its length.
    const ascii = typeof stored === 'string' && Buffer.byteLength(stored, 'utf8') === stored.length;
    const bytes = ascii ? undefined : bytesOf(stored);
    const length = bytes === undefined ? (stored as string).length : bytes.length;
    let start = Number(integerArg(args[1]));
    let end = Number(integerArg(args[2]));
    if (start < 0 && end < 0 && start > end) return reply(EMPTY);
    if (start < 0) start = Math.max(0, length + start);
    if (end < 0) end = Math.max(0, length + end);
    if (end >= length) end = length - 1;
    if (length === 0 || start > end) return reply(EMPTY);
    if (bytes === undefined)
      return reply(Buffer.from((stored as string).slice(start, end + 1), 'latin1'));
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

/**
 * The byte holding bit `offset`. Not `offset >> 3`: JS shifts 32-bit integers, and bit offsets reach 2^32 + 62 (the
 * last bit of a 512 MB string, and a 64-bit field starting there).
 */
const byteOf = (offset: number): number => Math.floor(offset / 8);

/** GETBIT key offset: read from the stored bytes (ioredis-mock's reads a JS string's UTF-16 units, and throws on a Buffer). */
const getbit = typed('string', 3, {
  parse: (args) => {
    bitOffset(args[1]);
  },
  check: (args, reader) => {
    const bytes = bytesOf(reader.valueOf(keyName(args[0])));
    const offset = Number(args[1]);
    const byte = byteOf(offset);
    return reply(byte < bytes.length ? (bytes[byte] >> (7 - (offset & 7))) & 1 : 0);
  },
});

/** The number of bits set in a byte. */
function ones(byte: number): number {
  let n = byte - ((byte >> 1) & 0x55);
  n = (n & 0x33) + ((n >> 2) & 0x33);
  return (n + (n >> 4)) & 0x0f;
}

/**
 * BITCOUNT key [start end [BYTE|BIT]]: counted in the stored bytes as Redis 7.0's `bitcountCommand` counts them, a BIT
 * range without the bits of its first and last bytes that fall outside it (ioredis-mock's counted other bits), and
 * checked in its order: the key first (0 when missing, WRONGTYPE), then the range, then the unit.
 */
const bitcount = typed('string', -2, {
  check: (args, reader) => {
    const stored = reader.valueOf(keyName(args[0]));
    if (stored === undefined) return reply(0);
    if (args.length === 2 || args.length > 4) throw replyError(SYNTAX_ERROR);
    const bytes = bytesOf(stored);
    let start = 0;
    let end = bytes.length - 1;
    let firstOut = 0; // the bits of the first byte before the range
    let lastOut = 0; // and of the last byte after it
    if (args.length >= 3) {
      start = Number(integerArg(args[1]));
      end = Number(integerArg(args[2]));
      if (start < 0 && end < 0 && start > end) return reply(0);
      const unit = args.length === 4 ? optionName(args[3]) : 'BYTE';
      if (unit !== 'BYTE' && unit !== 'BIT') throw replyError(SYNTAX_ERROR);
      const total = unit === 'BIT' ? bytes.length * 8 : bytes.length;
      if (start < 0) start = Math.max(0, total + start);
      if (end < 0) end = Math.max(0, total + end);
      if (end >= total) end = total - 1;
      if (unit === 'BIT' && start <= end) {
        firstOut = ~((1 << (8 - (start % 8))) - 1) & 0xff;
        lastOut = (1 << (7 - (end % 8))) - 1;
        start = Math.floor(start / 8);
        end = Math.floor(end / 8);
      }
    }
    if (start > end) return reply(0);
    let count = 0;
    for (let i = start; i <= end; i++) count += ones(bytes[i]);
    return reply(count - ones(bytes[start] & firstOut) - ones(bytes[end] & lastOut));
  },
});

/**
 * A write of SETBIT, SETRANGE, APPEND or BITFIELD that leaves the string `length` bytes long (at least its length
 * now), done by `change` on the stored bytes in place (see `growable-strings.ts`) when that is
 * {@link IN_PLACE_FROM_BYTES} or more: amortized O(1) a write, where a copy costs the string's length. The first such
 * write copies a string that is not growable yet (the app's, a restored one) into one that is, sized as Redis sizes
 * it; the others change it, or copy it into a larger one when it outgrows its capacity. `change` answers for the
 * command. `undefined` for a shorter string, or a reader of no keyspace: the rule then stores a new copy.
 */
function inPlace(
  reader: KeyReader,
  key: Arg,
  length: number,
  change: (bytes: Buffer) => unknown,
): Outcome | undefined {
  const writer = reader.writer;
  if (writer === undefined || length < IN_PLACE_FROM_BYTES) return undefined;
  const name = keyName(key);
  return write(() => {
    const stored = reader.valueOf(name);
    let bytes: Buffer;
    if (isGrowable(stored)) {
      // A capture under way keeps the string as it was, unless its memory is left as it is (outgrown).
      if (length <= stored.buffer.byteLength) writer.inPlace(name);
      bytes = grown(stored, length);
    } else bytes = growableCopy(bytesOf(stored), length, stored === undefined);
    const answer = change(bytes);
    // Stored again: the view may be a new one, and the key's size follows its capacity.
    if (stored === undefined) writer.replace(name, bytes);
    else writer.store(name, bytes);
    return answer;
  });
}

/** Writes `arg`'s bytes into `bytes` at `at`. */
function writeArg(bytes: Buffer, arg: Arg, at: number): void {
  if (typeof arg === 'string') bytes.write(arg, at, 'utf8');
  else arg.copy(bytes, at);
}

/**
 * APPEND key value: answers the new length in bytes. Text appended to text is ioredis-mock's (a string
 * concatenation); where either is bytes (a Buffer: a value that is not UTF-8, or a long one) the bytes are joined
 * here, as ioredis-mock would join them as text, turning each byte that is not UTF-8 into U+FFFD. A string of
 * {@link IN_PLACE_FROM_BYTES} or more grows in place.
 */
const append = typed('string', 3, {
  check: (args, reader) => {
    const stored = reader.valueOf(keyName(args[0]));
    // Redis's `checkStringLength`: the result may not be longer than `proto-max-bulk-len`.
    const before = byteLength(stored);
    const length = before + byteLength(args[1]);
    if (BigInt(length) > MAX_BYTES) throw replyError(TOO_LONG);
    const appended = inPlace(reader, args[0], length, (bytes) => {
      writeArg(bytes, args[1], before);
      return length;
    });
    if (appended !== undefined) return appended;
    let outcome: Outcome;
    if (Buffer.isBuffer(stored) || Buffer.isBuffer(args[1])) {
      const bytes = Buffer.concat([bytesOf(stored), bytesOf(args[1])]);
      outcome = storeBytes(reader, args[0], bytes, bytes.length);
    } else outcome = { args, answer: () => length };
    // Redis appends to a string in place (`raw`), and makes a new key as SET does.
    return stored === undefined ? outcome : encodedAs(outcome, reader, args[0], 'raw');
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
function grownCopy(stored: unknown, length: number): Buffer {
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
    const offset = Number(integerArg(args[1]));
    if (BigInt(offset + value.length) > MAX_BYTES) throw replyError(TOO_LONG);
    const length = Math.max(byteLength(stored), offset + value.length);
    const written = inPlace(reader, args[0], length, (bytes) => {
      value.copy(bytes, offset);
      return length;
    });
    if (written !== undefined) return written;
    const bytes = grownCopy(stored, length);
    value.copy(bytes, offset);
    return encodedAs(storeBytes(reader, args[0], bytes, bytes.length), reader, args[0], 'raw');
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
    const one = argText(args[2]) === '1';
    const flip = (bytes: Buffer): number => {
      const old = (bytes[byte] & mask) === 0 ? 0 : 1;
      if (one) bytes[byte] |= mask;
      else bytes[byte] &= ~mask;
      return old;
    };
    const stored = reader.valueOf(keyName(args[0]));
    const length = Math.max(byteLength(stored), byte + 1);
    const written = inPlace(reader, args[0], length, flip);
    if (written !== undefined) return written;
    const bytes = grownCopy(stored, length);
    return encodedAs(storeBytes(reader, args[0], bytes, flip(bytes)), reader, args[0], 'raw');
  },
});

const BITFIELD_TYPE =
  'ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.';

/** One BITFIELD subcommand, as Redis's `bitfieldGeneric` records it. */
interface FieldOp {
  readonly op: 'GET' | 'SET' | 'INCRBY';
  readonly signed: boolean;
  readonly bits: number;
  readonly offset: number;
  readonly value: bigint;
  readonly overflow: 'WRAP' | 'SAT' | 'FAIL';
}

/** A field type, `i1`–`i64` or `u1`–`u63` (lower-case letter), as Redis's `getBitfieldTypeFromArgument` reads it. */
function fieldType(arg: Arg): { signed: boolean; bits: number } {
  const text = argText(arg);
  const signed = text.startsWith('i');
  const bits = parseInteger(text.slice(1));
  if (
    (!signed && !text.startsWith('u')) ||
    bits === undefined ||
    bits < 1n ||
    bits > (signed ? 64n : 63n)
  ) {
    throw replyError(BITFIELD_TYPE);
  }
  return { signed, bits: Number(bits) };
}

/** A field's bit offset: a number of bits, or `#n` for n fields of `bits` bits. */
function fieldOffset(arg: Arg, bits: number): number {
  const text = argText(arg);
  const fields = text.startsWith('#');
  let offset = parseInteger(fields ? text.slice(1) : text);
  if (offset === undefined) throw replyError(BIT_OFFSET);
  if (fields) offset *= BigInt(bits);
  if (offset < 0n || offset >> 3n >= MAX_BYTES) throw replyError(BIT_OFFSET);
  return Number(offset);
}

/** BITFIELD's subcommands in order (`OVERFLOW` applying to those after it); errors as Redis finds them. */
function fieldOps(args: readonly Arg[]): FieldOp[] {
  const ops: FieldOp[] = [];
  let overflow: FieldOp['overflow'] = 'WRAP';
  for (let j = 1; j < args.length; j++) {
    const left = args.length - j - 1;
    const name = optionName(args[j]);
    if (name === 'OVERFLOW' && left >= 1) {
      const kind = optionName(args[++j]);
      if (kind !== 'WRAP' && kind !== 'SAT' && kind !== 'FAIL') {
        throw replyError('ERR Invalid OVERFLOW type specified');
      }
      overflow = kind;
      continue;
    }
    const op =
      name === 'GET' && left >= 2
        ? 'GET'
        : (name === 'SET' || name === 'INCRBY') && left >= 3
          ? name
          : undefined;
    if (op === undefined) throw replyError(SYNTAX_ERROR);
    const { signed, bits } = fieldType(args[j + 1]);
    const offset = fieldOffset(args[j + 2], bits);
    const value = op === 'GET' ? 0n : integerArg(args[j + 3]);
    ops.push({ op, signed, bits, offset, value, overflow });
    j += op === 'GET' ? 2 : 3;
  }
  return ops;
}

/** The field of `bits` bits at bit `offset` (the first bit is a byte's highest), zero past the end of `bytes`. */
function readField(bytes: Buffer, offset: number, bits: number, signed: boolean): bigint {
  let value = 0n;
  for (let i = offset; i < offset + bits; i++) {
    const byte = byteOf(i);
    const bit = byte < bytes.length ? (bytes[byte] >> (7 - (i & 7))) & 1 : 0;
    value = (value << 1n) | BigInt(bit);
  }
  return signed ? BigInt.asIntN(bits, value) : value;
}

function writeField(bytes: Buffer, offset: number, bits: number, value: bigint): void {
  const field = BigInt.asUintN(bits, value);
  for (let i = 0; i < bits; i++) {
    const at = offset + i;
    const mask = 1 << (7 - (at & 7));
    if ((field >> BigInt(bits - 1 - i)) & 1n) bytes[byteOf(at)] |= mask;
    else bytes[byteOf(at)] &= ~mask;
  }
}

const int64 = (n: bigint): bigint => BigInt.asIntN(64, n);
const uint64 = (n: bigint): bigint => BigInt.asUintN(64, n);

/**
 * Whether `value + increment` overflows a field, and the value WRAP or SAT makes of it (`undefined` under FAIL), as
 * Redis's `checkSignedBitfieldOverflow` and `checkUnsignedBitfieldOverflow` compute them in 64-bit integers, their
 * wrap-arounds included (a signed SET of -2^63 reads as an overflow past the maximum, so SAT stores the maximum).
 */
function fieldOverflow(
  op: FieldOp,
  value: bigint,
  increment: bigint,
): { overflows: boolean; limit: bigint | undefined } {
  const { bits, signed, overflow } = op;
  let direction = 0;
  let max: bigint;
  let min: bigint;
  if (signed) {
    max = bits === 64 ? (1n << 63n) - 1n : (1n << BigInt(bits - 1)) - 1n;
    min = -max - 1n;
    const maxIncrement = int64(uint64(max) - uint64(value));
    const minIncrement = int64(min - value);
    if (
      value > max ||
      (bits !== 64 && increment > maxIncrement) ||
      (value >= 0n && increment > 0n && increment > maxIncrement)
    ) {
      direction = 1;
    } else if (
      value < min ||
      (bits !== 64 && increment < minIncrement) ||
      (value < 0n && increment < 0n && increment < minIncrement)
    ) {
      direction = -1;
    }
  } else {
    max = (1n << BigInt(bits)) - 1n;
    min = 0n;
    if (value > max || (increment > 0n && increment > int64(max - value))) direction = 1;
    else if (increment < 0n && increment < int64(uint64(-value))) direction = -1;
  }
  if (direction === 0) return { overflows: false, limit: undefined };
  if (overflow === 'FAIL') return { overflows: true, limit: undefined };
  if (overflow === 'SAT') return { overflows: true, limit: direction > 0 ? max : min };
  const sum = uint64(value + increment);
  return {
    overflows: true,
    limit: signed ? BigInt.asIntN(bits, sum) : BigInt.asUintN(bits, sum),
  };
}

/**
 * What a SET or INCRBY of a field holding `old` stores and answers (`undefined` when it overflows under
 * `OVERFLOW FAIL`), as Redis's `bitfieldGeneric`: INCRBY answers the new value, SET the old one; an unsigned SET
 * takes its value as 64 unsigned bits, so a negative one overflows.
 */
function fieldWrite(op: FieldOp, old: bigint): { stores: bigint; answer: bigint } | undefined {
  if (op.op === 'INCRBY') {
    const { overflows, limit } = fieldOverflow(op, old, op.value);
    if (overflows && limit === undefined) return undefined;
    const stores = limit ?? (op.signed ? int64(old + op.value) : uint64(old + op.value));
    return { stores, answer: stores };
  }
  const value = op.signed ? op.value : uint64(op.value);
  const { overflows, limit } = fieldOverflow(op, value, 0n);
  if (overflows && limit === undefined) return undefined;
  return { stores: limit ?? value, answer: old };
}

/**
 * What BITFIELD (`readonly`: BITFIELD_RO) key [GET type offset | SET type offset value | INCRBY type offset increment
 * | OVERFLOW WRAP|SAT|FAIL …] does over the stored string (`undefined`: missing), as Redis's `bitfieldGeneric`: the
 * subcommands are read first, then the key's type. A write grows the string (with zero bytes) to its farthest field
 * before any subcommand runs (`length`, in bytes: at least the string's), so it is stored even if each write fails
 * under `OVERFLOW FAIL`.
 */
function bitfieldPlan(
  stored: unknown,
  args: readonly Arg[],
  readonly: boolean,
): { ops: FieldOp[]; writes: boolean; length: number } {
  const ops = fieldOps(args);
  const writes = ops.some(({ op }) => op !== 'GET');
  if (writes && readonly) throw replyError('ERR BITFIELD_RO only supports the GET subcommand');
  if (stored !== undefined && !holds(stored, 'string')) throw replyError(WRONGTYPE);
  let end = 0;
  for (const op of ops) if (op.op !== 'GET') end = Math.max(end, op.offset + op.bits);
  return { ops, writes, length: Math.max(byteLength(stored), Math.ceil(end / 8)) };
}

/**
 * BITFIELD (`readonly`: BITFIELD_RO) over the stored string (`undefined`: missing), as {@link bitfieldPlan} reads it.
 * Returns the replies (`null` for a write that failed) and, after a write, the string's new bytes (a copy).
 */
export function bitfieldAnswer(
  stored: unknown,
  args: readonly Arg[],
  readonly: boolean,
): { replies: (number | null)[]; bytes?: Buffer } {
  const { ops, writes, length } = bitfieldPlan(stored, args, readonly);
  const bytes = writes ? grownCopy(stored, length) : bytesOf(stored);
  const replies = fieldReplies(bytes, ops);
  return writes ? { replies, bytes } : { replies };
}

/** Runs BITFIELD's subcommands over `bytes` (long enough for every write): their replies. */
function fieldReplies(bytes: Buffer, ops: readonly FieldOp[]): (number | null)[] {
  return ops.map((op): number | null => {
    const old = readField(bytes, op.offset, op.bits, op.signed);
    if (op.op === 'GET') return ioredisInteger(old);
    const written = fieldWrite(op, old);
    if (written === undefined) return null;
    writeField(bytes, op.offset, op.bits, written.stores);
    return ioredisInteger(written.answer);
  });
}

/**
 * BITFIELD and BITFIELD_RO (`readonly`): answered here; a write stores the string, its TTL kept (a string of
 * {@link IN_PLACE_FROM_BYTES} or more is changed in place).
 */
function bitfieldRule(readonly: boolean): CommandRule {
  return {
    arity: -2,
    check: (args, reader) => {
      const stored = reader.valueOf(keyName(args[0]));
      const plan = bitfieldPlan(stored, args, readonly);
      if (plan.writes) {
        const written = inPlace(reader, args[0], plan.length, (bytes) =>
          fieldReplies(bytes, plan.ops),
        );
        if (written !== undefined) return written;
      }
      const { replies, bytes } = bitfieldAnswer(stored, args, readonly);
      if (bytes !== undefined)
        return encodedAs(storeBytes(reader, args[0], bytes, replies), reader, args[0], 'raw');
      // BITFIELD is refused when memory is over the limit, as a write is (Redis flags it `denyoom`).
      return readonly ? reply(replies) : write(() => replies);
    },
  };
}

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
    return encodedAs(storeBytes(reader, args[1], out, out.length, false), reader, args[1], 'raw');
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
    if (((bytes[byteOf(at)] >> (7 - (at & 7))) & 1) === bit) return at;
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
      const outcome: Outcome = {
        args: [args[0], sum, ...keptExpiry(reader, args[0])],
        command: 'set',
        answer: () => sum,
      };
      // Redis makes a new string of the sum's text: `embstr` up to 44 bytes, an integer's text too.
      return sum.length <= EMBSTR_SIZE ? encodedAs(outcome, reader, args[0], 'embstr') : outcome;
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
  bitfield: bitfieldRule(false),
  bitfield_ro: bitfieldRule(true),
  setnx: { arity: 3 },
  mset: { arity: -3, pairsFrom: 0 },
  msetnx: { arity: -3, pairsFrom: 0 },
};
