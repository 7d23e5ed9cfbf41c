/**
 * The `cmsgpack` table Redis 7.0 gives scripts (lua-cmsgpack 0.4.0, `deps/lua/src/lua_cmsgpack.c`, as built for
 * Redis's Lua 5.1), ported to fengari: `pack`, `unpack`, `unpack_one` and `unpack_limit`, with the same bytes and
 * error texts.
 *
 * - `pack(...)`: each argument packed in turn, the results concatenated. A number that is a whole 64-bit integer is
 *   packed in the smallest integer form (fixint, int/uint 8 to 64), another as a float 32 when that holds it exactly,
 *   else a float 64; a string as fixstr / str 8 / str 16 / str 32 of its bytes; a table whose keys are exactly 1..n
 *   as an array, another as a map (its members in table order); tables nested 16 deep, nil, functions and other
 *   values as nil.
 * - `unpack(s)`: every value of `s`, as several results; `unpack_one(s [, offset])` and `unpack_limit(s, limit
 *   [, offset])`: the offset to go on from (-1 at the end of `s`), then at most that many values. Integers and floats
 *   become Lua numbers, str and its raw forms strings, arrays and maps tables; bin and ext are refused
 *   (`Bad data format in input.`), as is a value cut short (`Missing bytes in input.`).
 *
 * Differs from Redis: a map's members are packed in fengari's table order, not Lua 5.1's.
 */
import {
  argumentError,
  cInt,
  checkBytes,
  checkInteger,
  FrameSlots,
  GrowingBytes,
  lua,
  luaString,
  pushBytes,
  pushNumber,
  raise,
  raiseBare,
  setFunction,
} from './lua-vm';

/** Tables deeper than this are packed as nil (LUACMSGPACK_MAX_NESTING): a table that holds itself ends. */
const MAX_NESTING = 16;
const INT64_MIN = -(2 ** 63);
const TWO_POW_63 = 2 ** 63;

/** What values are packed into. */
class Packed extends GrowingBytes {
  /** A type byte, then `n` as a big-endian unsigned integer of `size` bytes. */
  header(type: number, n: number, size: 0 | 1 | 2 | 4): void {
    const buf = this.room(1 + size);
    buf[this.length++] = type;
    if (size !== 0) buf.writeUIntBE(n, this.length, size);
    this.length += size;
  }
}

function packBytes(out: Packed, bytes: Uint8Array): void {
  const n = bytes.length;
  if (n < 32) out.header(0xa0 | n, 0, 0);
  else if (n <= 0xff) out.header(0xd9, n, 1);
  else if (n <= 0xffff) out.header(0xda, n, 2);
  else out.header(0xdb, n, 4);
  out.bytes(bytes);
}

/** `mp_encode_int` of a whole number in [-2^63, 2^63). */
function packInteger(out: Packed, n: number): void {
  if (n >= 0) {
    if (n <= 127) out.header(n, 0, 0);
    else if (n <= 0xff) out.header(0xcc, n, 1);
    else if (n <= 0xffff) out.header(0xcd, n, 2);
    else if (n <= 0xffffffff) out.header(0xce, n, 4);
    else {
      out.byte(0xcf);
      out.room(8).writeBigUInt64BE(BigInt(n), out.length);
      out.length += 8;
    }
  } else if (n >= -32) out.header(n & 0xff, 0, 0);
  else if (n >= -128) out.header(0xd0, n & 0xff, 1);
  else if (n >= -32768) out.header(0xd1, n & 0xffff, 2);
  else if (n >= -2147483648) out.header(0xd2, n >>> 0, 4);
  else {
    out.byte(0xd3);
    out.room(8).writeBigInt64BE(BigInt(n), out.length);
    out.length += 8;
  }
}

/**
 * `mp_encode_lua_number` on Lua 5.1: a double that C's `(int64_t)` conversion keeps (whole, in [-2^63, 2^63)) as an
 * integer (-0 as 0), another as a float 32 when that is exact (the infinities too), else a float 64 (NaN).
 */
function packNumber(out: Packed, n: number): void {
  if (Number.isInteger(n) && n >= INT64_MIN && n < TWO_POW_63) {
    packInteger(out, n === 0 ? 0 : n);
    return;
  }
  const single = Math.fround(n);
  if (single === n) {
    out.byte(0xca);
    out.room(4).writeFloatBE(single, out.length);
    out.length += 4;
  } else {
    out.byte(0xcb);
    out.room(8).writeDoubleBE(n, out.length);
    out.length += 8;
  }
}

/** `table_is_an_array` on Lua 5.1: every key a whole number in 1..2^31-1, and as many keys as the largest. */
function isArray(L: unknown): boolean {
  let count = 0;
  let max = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    lua.lua_settop(L, -2);
    const n = lua.lua_type(L, -1) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, -1) : 0;
    if (!(n > 0 && Number.isInteger(n) && n <= 2 ** 31 - 1)) {
      lua.lua_settop(L, -2);
      return false;
    }
    if (n > max) max = n;
    count++;
  }
  return max === count;
}

/** `mp_encode_lua_type`: packs the value on the top of the stack, and pops it. */
function packValue(L: unknown, out: Packed, level: number): void {
  const type = lua.lua_type(L, -1);
  if (type === lua.LUA_TSTRING) packBytes(out, lua.lua_tolstring(L, -1) ?? new Uint8Array());
  else if (type === lua.LUA_TBOOLEAN) out.byte(lua.lua_toboolean(L, -1) ? 0xc3 : 0xc2);
  else if (type === lua.LUA_TNUMBER) packNumber(out, lua.lua_tonumber(L, -1));
  else if (type === lua.LUA_TTABLE && level < MAX_NESTING) packTable(L, out, level);
  else out.byte(0xc0);
  lua.lua_settop(L, -2);
}

function packTable(L: unknown, out: Packed, level: number): void {
  if (!lua.lua_checkstack(L, 3)) raise(L, 'stack overflow (in function mp_encode_lua_table)');
  if (isArray(L)) {
    let length = 0;
    while (lua.lua_rawgeti(L, -1, length + 1) !== lua.LUA_TNIL) {
      lua.lua_settop(L, -2);
      length++;
    }
    lua.lua_settop(L, -2);
    packLength(out, 0x90, 0xdc, length);
    for (let i = 1; i <= length; i++) {
      lua.lua_rawgeti(L, -1, i);
      packValue(L, out, level + 1);
    }
    return;
  }
  let count = 0;
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    lua.lua_settop(L, -2);
    count++;
  }
  packLength(out, 0x80, 0xde, count);
  lua.lua_pushnil(L);
  while (lua.lua_next(L, -2) !== 0) {
    lua.lua_pushvalue(L, -2);
    packValue(L, out, level + 1); // the key
    packValue(L, out, level + 1); // the value
  }
}

/** An array's or a map's header: the fix form (`fix | n`), 16 bits (`type`) or 32 bits (`type + 1`). */
function packLength(out: Packed, fix: number, type: number, n: number): void {
  if (n <= 15) out.header(fix | n, 0, 0);
  else if (n <= 0xffff) out.header(type, n, 2);
  else out.header(type + 1, n, 4);
}

function pack(L: unknown): number {
  const count = lua.lua_gettop(L);
  if (count === 0) argumentError(L, 0, 'MessagePack pack needs input.');
  const out = new Packed();
  for (let i = 1; i <= count; i++) {
    lua.lua_pushvalue(L, i);
    packValue(L, out, 0);
  }
  pushBytes(L, out.view());
  return 1;
}

// ---- unpack -------------------------------------------------------------------------------------------------------

/** Why an unpack stopped short: lua-cmsgpack's MP_CUR_ERROR_EOF and MP_CUR_ERROR_BADFMT. */
class UnpackError extends Error {}
const MISSING = 'Missing bytes in input.';
const BAD_FORMAT = 'Bad data format in input.';

const TOO_MANY_VALUES = 'too many return values at once; use unpack_one or unpack_limit instead.';

const enum Kind {
  Array,
  Map,
}

/** A table being filled by {@link Unpacker.value}: its kind, the elements (or members) left, where it stands. */
interface Open {
  readonly kind: Kind;
  remaining: number;
  index: number;
  /** A map's member whose key is read and whose value is not yet. */
  key: boolean;
}

/**
 * A cursor over packed bytes that pushes each value it reads (`mp_decode_to_lua_type`). Nested arrays and maps are
 * read with a stack of their own rather than by recursion, and the values lua-cmsgpack would hold on its Lua 5.1 frame
 * are counted ({@link FrameSlots}): a nesting too deep for Redis fails as it does there (`stack overflow (in function
 * mp_decode_to_lua_array)`), not on JS's stack.
 */
class Unpacker {
  constructor(
    private readonly L: unknown,
    private readonly data: Buffer,
    public at: number,
    readonly slots: FrameSlots,
  ) {}

  get left(): number {
    return this.data.length - this.at;
  }

  private need(n: number): void {
    if (this.left < n) throw new UnpackError(MISSING);
  }

  private unsigned(offset: number, size: 1 | 2 | 4): number {
    return this.data.readUIntBE(this.at + offset, size);
  }

  /** A value of `size` bytes after the type byte, as `read` gives it. */
  private fixed(size: number, read: (at: number) => number): number {
    this.need(1 + size);
    pushNumber(this.L, read(this.at + 1));
    this.at += 1 + size;
    return -1;
  }

  private string(headerSize: number, length: number): number {
    this.need(headerSize + length);
    const start = this.at + headerSize;
    pushBytes(this.L, this.data.subarray(start, start + length));
    this.at = start + length;
    return -1;
  }

  /** A length of `size` bytes after the type byte, consumed with the type byte. */
  private length(size: 1 | 2 | 4): number {
    this.need(1 + size);
    const n = this.unsigned(1, size);
    this.at += 1 + size;
    return n;
  }

  private kind = Kind.Array;

  /** A new table of `kind`, for `length` elements or members: returns `length`. */
  private table(kind: Kind, length: number): number {
    lua.lua_createtable(this.L, 0, 0);
    this.kind = kind;
    return length;
  }

  /** Reads one item: pushes a value and returns -1, or pushes a new table and returns how many items it holds. */
  private item(): number {
    const { L, data } = this;
    this.need(1);
    const type = data[this.at];
    switch (type) {
      case 0xcc:
        return this.fixed(1, (at) => data.readUInt8(at));
      case 0xd0:
        return this.fixed(1, (at) => data.readInt8(at));
      case 0xcd:
        return this.fixed(2, (at) => data.readUInt16BE(at));
      case 0xd1:
        return this.fixed(2, (at) => data.readInt16BE(at));
      case 0xce:
        return this.fixed(4, (at) => data.readUInt32BE(at));
      case 0xd2:
        return this.fixed(4, (at) => data.readInt32BE(at));
      case 0xcf:
        // Lua 5.1 has no unsigned push: lua-cmsgpack's stands for `lua_pushinteger`, past 2^63 a negative int64.
        return this.fixed(8, (at) => Number(data.readBigInt64BE(at)));
      case 0xd3:
        return this.fixed(8, (at) => Number(data.readBigInt64BE(at)));
      case 0xca:
        return this.fixed(4, (at) => data.readFloatBE(at));
      case 0xcb:
        return this.fixed(8, (at) => data.readDoubleBE(at));
      case 0xc0:
        lua.lua_pushnil(L);
        this.at++;
        return -1;
      case 0xc2:
      case 0xc3:
        lua.lua_pushboolean(L, type === 0xc3);
        this.at++;
        return -1;
      case 0xd9:
        this.need(2);
        return this.string(2, this.unsigned(1, 1));
      case 0xda:
        this.need(3);
        return this.string(3, this.unsigned(1, 2));
      case 0xdb:
        return this.string(0, this.length(4));
      case 0xdc:
        return this.table(Kind.Array, this.length(2));
      case 0xdd:
        return this.table(Kind.Array, this.length(4));
      case 0xde:
        return this.table(Kind.Map, this.length(2));
      case 0xdf:
        return this.table(Kind.Map, this.length(4));
    }
    if ((type & 0x80) === 0 || (type & 0xe0) === 0xe0) {
      pushNumber(L, (type << 24) >> 24);
      this.at++;
      return -1;
    }
    if ((type & 0xe0) === 0xa0) return this.string(1, type & 0x1f);
    if ((type & 0xf0) === 0x90 || (type & 0xf0) === 0x80) {
      this.at++;
      return this.table((type & 0xf0) === 0x90 ? Kind.Array : Kind.Map, type & 0x0f);
    }
    throw new UnpackError(BAD_FORMAT);
  }

  /** Reads one whole value (a table with everything in it) and pushes it. */
  value(): void {
    const { L, slots } = this;
    const open: Open[] = [];
    for (;;) {
      slots.check(L, 1, TOO_MANY_VALUES);
      const length = this.item();
      slots.used++;
      if (length >= 0) {
        const kind = this.kind;
        if (kind === Kind.Array) slots.check(L, 1, 'in function mp_decode_to_lua_array');
        if (length > 0) {
          open.push({ kind, remaining: length, index: 1, key: false });
          if (kind === Kind.Array) slots.used++; // the index lua-cmsgpack pushes before each element
          continue;
        }
      }
      // A value is complete: it goes into the table it belongs to, which may be complete in turn.
      while (open.length > 0) {
        const top = open[open.length - 1];
        if (top.kind === Kind.Map && !top.key) {
          top.key = true;
          break;
        }
        this.store(top);
        if (--top.remaining > 0) {
          if (top.kind === Kind.Array) slots.used++;
          break;
        }
        open.pop();
      }
      if (open.length === 0) return;
    }
  }

  /** Sets the value on the top of the stack (and for a map the key under it) into the table below. */
  private store(top: Open): void {
    const { L } = this;
    this.slots.used -= 2;
    if (top.kind === Kind.Array) {
      if (lua.lua_type(L, -1) === lua.LUA_TNIL) lua.lua_settop(L, -2);
      else lua.lua_rawseti(L, -2, top.index);
      top.index++;
      return;
    }
    top.key = false;
    const key = lua.lua_type(L, -2);
    // Lua's own errors, without a position (they are raised in lua-cmsgpack's C code).
    if (key === lua.LUA_TNIL) raiseBare(L, 'table index is nil');
    if (key === lua.LUA_TNUMBER && Number.isNaN(lua.lua_tonumber(L, -2))) {
      raiseBare(L, 'table index is NaN');
    }
    lua.lua_rawset(L, -3);
  }
}

/** `luaL_optinteger`: as `checkInteger`, `fallback` for none or nil. */
function optionalInteger(L: unknown, arg: number, fallback: number): number {
  return lua.lua_type(L, arg) <= lua.LUA_TNIL ? fallback : checkInteger(L, arg);
}

/** `mp_unpack_full`: `limit` values from `offset` (0 and 0: all of them, and no offset in the results). */
function unpack(L: unknown, limit: number, offset: number): number {
  const data = checkBytes(L, 1);
  if (offset < 0 || limit < 0) {
    // (lua-cmsgpack writes the input's length where it means the limit.)
    raise(
      L,
      `Invalid request to unpack with offset of ${cInt(offset)} and limit of ${cInt(data.length)}.`,
    );
  }
  if (offset > data.length) {
    raise(L, `Start offset ${cInt(offset)} greater than input length ${cInt(data.length)}.`);
  }
  const all = limit === 0 && offset === 0;
  const wanted = all ? 2 ** 31 - 1 : limit;
  const cursor = new Unpacker(L, data, offset, new FrameSlots(lua.lua_gettop(L)));
  let count = 0;
  try {
    for (; cursor.left > 0 && count < wanted; count++) cursor.value();
  } catch (error) {
    if (error instanceof UnpackError) raise(L, error.message);
    throw error;
  }
  if (all) return count;
  cursor.slots.check(L, 1, 'in function mp_unpack_full');
  // The offset to go on from (-1 at the end) comes first, below the values.
  pushNumber(L, cursor.left === 0 ? -1 : cursor.at);
  lua.lua_insert(L, 2);
  return count + 1;
}

/** lua-cmsgpack's `lua_pop(L, lua_gettop(L) - 1)`: keeps the first argument, if there is one. */
function keepFirst(L: unknown): void {
  if (lua.lua_gettop(L) > 1) lua.lua_settop(L, 1);
}

/** Pushes a new `cmsgpack` table. */
export function pushCmsgpack(L: unknown): void {
  lua.lua_createtable(L, 0, 8);
  setFunction(L, 'pack', pack);
  setFunction(L, 'unpack', (s) => unpack(s, 0, 0));
  setFunction(L, 'unpack_one', (s) => {
    const offset = optionalInteger(s, 2, 0);
    keepFirst(s);
    return unpack(s, 1, offset);
  });
  setFunction(L, 'unpack_limit', (s) => {
    const limit = checkInteger(s, 2);
    const offset = optionalInteger(s, 3, 0);
    keepFirst(s);
    return unpack(s, limit, offset);
  });
  for (const [field, text] of [
    ['_NAME', 'cmsgpack'],
    ['_VERSION', 'lua-cmsgpack 0.4.0'],
    ['_COPYRIGHT', 'Copyright (C) 2012, Salvatore Sanfilippo'],
    ['_DESCRIPTION', 'MessagePack C implementation for Lua'],
  ]) {
    pushBytes(L, text);
    lua.lua_setfield(L, -2, luaString(field));
  }
}
