/**
 * The `struct` table Redis 7.0 gives scripts (Roberto Ierusalimschy's struct library, `deps/lua/src/lua_struct.c`,
 * as built on x86-64: `short` 2 bytes, `int` 4, `long` and `size_t` 8, native order little-endian, alignment up to
 * 8), ported to fengari: `pack(fmt, ...)`, `unpack(fmt, data [, pos])` (the values, then the position after them)
 * and `size(fmt)`, with the same bytes and errors.
 *
 * Formats: `>` big-endian, `<` little-endian, `![n]` alignment, `x` padding, `b`/`B` byte, `h`/`H` short, `l`/`L`
 * long, `T` size_t, `i[n]`/`I[n]` integer of n bytes (4 by default, at most 32), `c[n]` n characters (`c0`: the
 * whole string when packing, the previous number's length when unpacking), `s` a zero-terminated string, `f` float,
 * `d` double, spaces ignored. Integers travel through 64 bits, as a C `long` holds them.
 */
import {
  argumentError,
  checkBytes,
  checkNumber,
  FrameSlots,
  lua,
  luaInteger,
  pushBytes,
  pushNumber,
  raise,
  setFunction,
} from './lua-vm';

const enum Endian {
  Big,
  Little,
}

/** The largest integer size, and the largest alignment (`MAXALIGN` on x86-64). */
const MAX_INT_SIZE = 32;
const MAX_ALIGN = 8;
const INT_MAX = 2 ** 31 - 1;

const SIZES: Partial<Record<string, number>> = {
  b: 1,
  B: 1,
  h: 2,
  H: 2,
  l: 8,
  L: 8,
  T: 8,
  f: 4,
  d: 8,
  x: 1,
};
const INTEGERS = 'bBhHlLTiI';

/** A format being read: the bytes of its C string, where the reading stands, and the options set so far. */
class Format {
  at = 0;
  endian = Endian.Little;
  align = 1;

  constructor(
    private readonly L: unknown,
    private readonly text: Buffer,
  ) {}

  /** The next option, or `undefined` at the end (a zero byte ends a C string). */
  next(): string | undefined {
    const c = this.text[this.at];
    if (c === undefined || c === 0) return undefined;
    this.at++;
    return String.fromCharCode(c);
  }

  /** `getnum`: a number written after the option, or `fallback`. */
  private number(fallback: number): number {
    const isDigit = (c: number | undefined): boolean => c !== undefined && c >= 0x30 && c <= 0x39;
    if (!isDigit(this.text[this.at])) return fallback;
    let n = 0;
    do {
      const digit = this.text[this.at] - 0x30;
      if (n > Math.floor(INT_MAX / 10) || n * 10 > INT_MAX - digit)
        raise(this.L, 'integral size overflow');
      n = n * 10 + digit;
      this.at++;
    } while (isDigit(this.text[this.at]));
    return n;
  }

  /** `optsize`: the bytes of option `opt` (0 for the options that take none). */
  size(opt: string): number {
    const fixed = SIZES[opt];
    if (fixed !== undefined) return fixed;
    if (opt === 'c') return this.number(1);
    if (opt === 'i' || opt === 'I') {
      const size = this.number(4);
      if (size > MAX_INT_SIZE) {
        raise(this.L, `integral size ${size} is larger than limit of ${MAX_INT_SIZE}`);
      }
      return size;
    }
    return 0;
  }

  /** `gettoalign`: the padding that aligns an item of `size` bytes of option `opt` at `position`. */
  padding(position: number, opt: string, size: number): number {
    if (size === 0 || opt === 'c') return 0;
    const alignTo = Math.min(size, this.align);
    return (alignTo - (position & (alignTo - 1))) & (alignTo - 1);
  }

  /** `controloptions`: the options that set something, or the error for an unknown one. */
  control(opt: string): void {
    if (opt === ' ') return;
    if (opt === '>') this.endian = Endian.Big;
    else if (opt === '<') this.endian = Endian.Little;
    else if (opt === '!') {
      const align = this.number(MAX_ALIGN);
      if (!(align > 0 && (align & (align - 1)) === 0)) {
        raise(this.L, `alignment ${align} is not a power of 2`);
      }
      this.align = align;
    } else argumentError(this.L, 1, `invalid format option '${opt}'`);
  }
}

/** `luaL_checknumber` on Lua 5.1. */
/** `putinteger`'s conversion of a double to the 64 bits of an unsigned long, as x86-64 makes it. */
function unsignedBits(n: number): bigint {
  if (n < 0) return BigInt.asUintN(64, BigInt(luaInteger(n)));
  if (n < 2 ** 64) return BigInt(Math.trunc(n));
  // NaN and 2^64 on: gcc converts x ≥ 2^63 as (x - 2^63) ^ 2^63, and the overflowing part gives 2^63 again.
  return 0n;
}

/** The `size` bytes of `bits` in `endian` order (bytes past the 8th are zero). */
function integerBytes(bits: bigint, size: number, endian: Endian): Buffer {
  const out = Buffer.alloc(size);
  let value = bits;
  for (let i = 0; i < size; i++) {
    out[endian === Endian.Little ? i : size - 1 - i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return out;
}

function pack(L: unknown): number {
  const format = new Format(L, checkBytes(L, 1));
  lua.lua_pushnil(L); // lua_struct.c's mark after the arguments: a missing one reads as nil
  const parts: Buffer[] = [];
  let total = 0;
  let arg = 2;
  for (let opt = format.next(); opt !== undefined; opt = format.next()) {
    let size = format.size(opt);
    const padding = format.padding(total, opt, size);
    if (padding > 0) parts.push(Buffer.alloc(padding));
    total += padding;
    if (INTEGERS.includes(opt)) {
      parts.push(integerBytes(unsignedBits(checkNumber(L, arg++)), size, format.endian));
    } else if (opt === 'x') parts.push(Buffer.alloc(1));
    else if (opt === 'f' || opt === 'd') {
      const bytes = Buffer.alloc(size);
      const n = checkNumber(L, arg++);
      const little = format.endian === Endian.Little;
      if (opt === 'f') {
        if (little) bytes.writeFloatLE(n);
        else bytes.writeFloatBE(n);
      } else if (little) bytes.writeDoubleLE(n);
      else bytes.writeDoubleBE(n);
      parts.push(bytes);
    } else if (opt === 'c' || opt === 's') {
      const text = checkBytes(L, arg++);
      if (size === 0) size = text.length;
      // (lua_struct.c checks the length after moving on: the error names the next argument.)
      if (text.length < size) argumentError(L, arg, 'string too short');
      parts.push(text.subarray(0, size));
      if (opt === 's') {
        parts.push(Buffer.alloc(1));
        size++;
      }
    } else format.control(opt);
    total += size;
  }
  pushBytes(L, Buffer.concat(parts));
  return 1;
}

/** `getinteger`: `size` bytes at `at` as an integer, signed or not, through 64 bits. */
function readInteger(
  data: Buffer,
  at: number,
  size: number,
  endian: Endian,
  signed: boolean,
): number {
  let bits = 0n;
  for (let i = 0; i < size; i++) {
    const byte = data[endian === Endian.Big ? at + i : at + size - 1 - i];
    bits = ((bits << 8n) | BigInt(byte)) & 0xffffffffffffffffn;
  }
  if (!signed) return Number(bits);
  const shift = BigInt(size * 8 - 1);
  const mask = shift < 64n ? (0xffffffffffffffffn << shift) & 0xffffffffffffffffn : 0n;
  if ((bits & mask) !== 0n) bits |= mask;
  return Number(BigInt.asIntN(64, bits));
}

function unpack(L: unknown): number {
  const format = new Format(L, checkBytes(L, 1));
  const data = checkBytes(L, 2);
  const length = data.length;
  const start = lua.lua_type(L, 3) <= lua.LUA_TNIL ? 1 : luaInteger(checkNumber(L, 3));
  // A size_t in C: 0 is refused; a negative start is a huge one, past any data (and given back as it came).
  if (start === 0) argumentError(L, 3, 'offset must be 1 or greater');
  let position = start - 1;
  const slots = new FrameSlots(lua.lua_gettop(L));
  let count = 0;
  const tooShort = (size: number): void => {
    if (!(position >= 0 && size <= length && position <= length - size)) {
      argumentError(L, 2, 'data string too short');
    }
  };
  for (let opt = format.next(); opt !== undefined; opt = format.next()) {
    let size = format.size(opt);
    position += format.padding(position, opt, size);
    tooShort(size);
    slots.check(L, 2, 'too many results');
    const little = format.endian === Endian.Little;
    if (INTEGERS.includes(opt)) {
      pushNumber(L, readInteger(data, position, size, format.endian, opt === opt.toLowerCase()));
    } else if (opt === 'x') {
      position += size;
      continue;
    } else if (opt === 'f') {
      pushNumber(L, little ? data.readFloatLE(position) : data.readFloatBE(position));
    } else if (opt === 'd') {
      pushNumber(L, little ? data.readDoubleLE(position) : data.readDoubleBE(position));
    } else if (opt === 'c') {
      if (size === 0) {
        if (count === 0 || !lua.lua_isnumber(L, -1)) raise(L, "format 'c0' needs a previous size");
        size = Math.max(0, Math.trunc(lua.lua_tonumber(L, -1)));
        lua.lua_settop(L, -2);
        slots.used--;
        count--;
        tooShort(size);
      }
      pushBytes(L, data.subarray(position, position + size));
    } else if (opt === 's') {
      const end = data.indexOf(0, position);
      if (end < 0) raise(L, 'unfinished string in data');
      pushBytes(L, data.subarray(position, end));
      size = end - position + 1;
    } else {
      format.control(opt);
      position += size;
      continue;
    }
    slots.used++;
    count++;
    position += size;
  }
  pushNumber(L, position + 1);
  return count + 1;
}

function size(L: unknown): number {
  const format = new Format(L, checkBytes(L, 1));
  let position = 0;
  for (let opt = format.next(); opt !== undefined; opt = format.next()) {
    const bytes = format.size(opt);
    position += format.padding(position, opt, bytes);
    if (opt === 's') argumentError(L, 1, "option 's' has no fixed size");
    else if (opt === 'c' && bytes === 0) argumentError(L, 1, "option 'c0' has no fixed size");
    // Letters and digits are items (an unknown one counts for nothing here); the rest are options.
    if (!/[0-9A-Za-z]/.test(opt)) format.control(opt);
    position += bytes;
  }
  pushNumber(L, position);
  return 1;
}

/** Pushes a new `struct` table. */
export function pushStruct(L: unknown): void {
  lua.lua_createtable(L, 0, 3);
  setFunction(L, 'pack', pack);
  setFunction(L, 'unpack', unpack);
  setFunction(L, 'size', size);
}
