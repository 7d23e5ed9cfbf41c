/**
 * fengari, the Lua VM ioredis-mock ships with, as the scripts run on it (`lua-scripts.ts`) and the libraries Redis
 * gives them (`lua-libraries.ts`) use it: the part of its API they call (it has no type declarations), and the
 * conversions between Lua values and ours that they share.
 */
import { isWellFormed, keyToBytes } from '../format/key-bytes';
import { createRequire } from 'node:module';
import { formatG } from './redis-replies';

/** The part of fengari's API used here. */
interface Fengari {
  lua: {
    LUA_OK: number;
    LUA_MULTRET: number;
    LUA_REGISTRYINDEX: number;
    LUA_RIDX_GLOBALS: number;
    LUA_TNONE: number;
    LUA_TNIL: number;
    LUA_TNUMBER: number;
    LUA_TSTRING: number;
    LUA_TTABLE: number;
    LUA_TBOOLEAN: number;
    LUA_TLIGHTUSERDATA: number;
    LUA_TFUNCTION: number;
    lua_absindex(L: unknown, index: number): number;
    lua_checkstack(L: unknown, n: number): boolean;
    lua_close(L: unknown): void;
    lua_createtable(L: unknown, narr: number, nrec: number): void;
    lua_error(L: unknown): number;
    lua_getfield(L: unknown, index: number, key: Uint8Array): number;
    lua_getglobal(L: unknown, name: Uint8Array): number;
    lua_getmetatable(L: unknown, index: number): boolean;
    lua_gettop(L: unknown): number;
    lua_insert(L: unknown, index: number): void;
    lua_isinteger(L: unknown, index: number): boolean;
    lua_isnumber(L: unknown, index: number): boolean;
    lua_isstring(L: unknown, index: number): boolean;
    lua_next(L: unknown, index: number): number;
    lua_pcall(L: unknown, nargs: number, nresults: number, msgh: number): number;
    lua_pushboolean(L: unknown, value: boolean): void;
    lua_pushinteger(L: unknown, value: number): void;
    lua_pushlightuserdata(L: unknown, value: unknown): void;
    lua_pushnumber(L: unknown, value: number): void;
    lua_pushvalue(L: unknown, index: number): void;
    lua_pushthread(L: unknown): boolean;
    lua_pushfstring(L: unknown, format: Uint8Array, ...args: unknown[]): Uint8Array;
    lua_rawget(L: unknown, index: number): number;
    lua_remove(L: unknown, index: number): void;
    lua_replace(L: unknown, index: number): void;
    lua_setmetatable(L: unknown, index: number): void;
    lua_setupvalue(L: unknown, funcindex: number, n: number): Uint8Array | null;
    lua_topointer(L: unknown, index: number): object | null;
    lua_call(L: unknown, nargs: number, nresults: number): void;
    lua_concat(L: unknown, n: number): void;
    lua_pushjsfunction(L: unknown, fn: (L: unknown) => number): void;
    lua_pushnil(L: unknown): void;
    lua_pushstring(L: unknown, value: Uint8Array): void;
    lua_rawgeti(L: unknown, index: number, n: number): number;
    lua_rawlen(L: unknown, index: number): number;
    lua_rawset(L: unknown, index: number): void;
    lua_rawseti(L: unknown, index: number, n: number): void;
    lua_setfield(L: unknown, index: number, key: Uint8Array): void;
    lua_setglobal(L: unknown, name: Uint8Array): void;
    lua_settop(L: unknown, index: number): void;
    lua_toboolean(L: unknown, index: number): boolean;
    lua_tointeger(L: unknown, index: number): number;
    lua_tolstring(L: unknown, index: number): Uint8Array | null;
    lua_tonumber(L: unknown, index: number): number;
    lua_touserdata(L: unknown, index: number): unknown;
    lua_type(L: unknown, index: number): number;
    lua_typename(L: unknown, type: number): Uint8Array;
  };
  lauxlib: {
    luaL_argerror(L: unknown, arg: number, message: Uint8Array): number;
    luaL_error(L: unknown, format: Uint8Array, ...args: unknown[]): number;
    luaL_loadbuffer(L: unknown, code: Uint8Array, size: null, name: Uint8Array): number;
    luaL_tolstring(L: unknown, index: number): Uint8Array;
    luaL_callmeta(L: unknown, index: number, event: Uint8Array): boolean;
    luaL_where(L: unknown, level: number): void;
    luaL_newstate(): unknown;
    luaL_dostring(L: unknown, code: Uint8Array): number;
  };
  lualib: { luaL_openlibs(L: unknown): void };
  to_luastring(text: string): Uint8Array;
}

/** A value of fengari's stack, as the two functions of {@link NumberInternals} see it. */
interface TValue {
  readonly value: unknown;
  ttisinteger(): boolean;
  setfltvalue(x: number): void;
  setsvalue(ts: unknown): void;
}

/** fengari's functions that turn text into numbers and numbers into text (its `lobject.js`). */
interface NumberInternals {
  luaO_str2num: (s: Uint8Array, o: TValue) => number;
  luaO_tostring: (L: unknown, obj: TValue) => void;
}

// fengari is a dependency of ioredis-mock: loaded from there, as the version ioredis-mock runs its scripts on.
const fengariRequire = createRequire(require.resolve('ioredis-mock'));
const fengari = fengariRequire('fengari') as Fengari;
export const { lua, lauxlib, lualib } = fengari;
export const luaString = (text: string): Uint8Array => fengari.to_luastring(text);

/** Scripts of the embedded client running (or compiling) now: their numbers are Lua 5.1's. */
let redisNumbers = 0;

/**
 * Runs `fn` (which compiles or runs a script) with Lua 5.1's numbers, as Redis's Lua has them: every number is a
 * double, and a number becomes text with `%.14g`. fengari's Lua 5.3 makes a numeral without a point, or text such as
 * `tonumber('1700000000')`, a 32-bit integer: `tonumber(ARGV[1]) * 1000` of a time in seconds wrapped around to a
 * negative number, a `for` loop past 2^31 never ended; and it writes a whole float with `.0` (`now .. '-' .. id` gave
 * `1700000000123.0-id`). Its two functions where that happens are made to do as Lua 5.1 does while `fn` runs: text
 * read as a number is a float, and a number written as text is `%.14g` (by `..`, `table.concat`, `string.len`,
 * `lua_tolstring`). Other uses of fengari in the process are left as they are.
 */
export function withRedisNumbers<T>(fn: () => T): T {
  redisNumbers++;
  try {
    return fn();
  } finally {
    redisNumbers--;
  }
}

const lobject = fengariRequire('fengari/src/lobject.js') as NumberInternals;
const lstring = fengariRequire('fengari/src/lstring.js') as {
  luaS_bless(L: unknown, bytes: Uint8Array): unknown;
};
const luaO_str2num = lobject.luaO_str2num;
const luaO_tostring = lobject.luaO_tostring;
// fengari's lexer, `tonumber`, arithmetic on strings and `lua_tolstring` call these through the module's exports.
/** A hexadecimal numeral, which Lua 5.1 reads with glibc's `strtod`: every digit, where 5.3 wraps around at 32 bits. */
const HEX_NUMERAL = /^\s*([-+]?)0[xX]([0-9a-fA-F]+)\s*$/;
lobject.luaO_str2num = (s, o) => {
  const size = luaO_str2num(s, o);
  if (redisNumbers > 0 && size !== 0 && o.ttisinteger()) {
    const hex = HEX_NUMERAL.exec(Buffer.from(s.buffer, s.byteOffset, size - 1).toString('latin1'));
    if (hex === null) o.setfltvalue(o.value as number);
    else {
      const n = Number(BigInt(`0x${hex[2]}`));
      o.setfltvalue(hex[1] === '-' ? -n : n);
    }
  }
  return size;
};
lobject.luaO_tostring = (L, obj) => {
  if (redisNumbers === 0) {
    luaO_tostring(L, obj);
    return;
  }
  obj.setsvalue(lstring.luaS_bless(L, luaString(numberText(obj.value as number, 14))));
};

/** The bytes of the Lua string (or number, which becomes a string in place) at `index`. */
export function bytesOfLua(L: unknown, index: number): Buffer {
  const bytes = lua.lua_tolstring(L, index) ?? new Uint8Array();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Pushes a string as its UTF-8 bytes (a key or field name as its own bytes, see `key-bytes.ts`), or bytes. */
export function pushBytes(L: unknown, value: string | Uint8Array): void {
  if (typeof value !== 'string') lua.lua_pushstring(L, new Uint8Array(value));
  else
    lua.lua_pushstring(
      L,
      isWellFormed(value) ? luaString(value) : new Uint8Array(keyToBytes(value)),
    );
}

/**
 * A Lua number as Redis's C code writes it, `%.<precision>g` (`tostring` and `..` in Lua 5.1 use 14 digits, a number
 * given to a command 17). NaN is `-nan`: what glibc writes for the NaN x86 arithmetic makes (0/0), which is how a
 * script gets one; JS keeps no sign on it to tell `-(0/0)` (`nan`) apart.
 */
export function numberText(n: number, precision: number): string {
  return Number.isNaN(n) ? '-nan' : formatG(n, precision);
}

/** A number as Redis's Lua 5.1 holds every number: a double (see {@link withRedisNumbers}). */
export function pushNumber(L: unknown, n: number): void {
  lua.lua_pushnumber(L, n);
}

/** Raises a Lua error from a JS function, as C's `luaL_error` does: `message` after where the script called it. */
export function raise(L: unknown, message: string): never {
  lauxlib.luaL_error(L, luaString('%s'), luaString(message));
  throw new Error('unreachable: luaL_error returned'); // fengari's lua_error throws
}

/** Raises `message` as it is, as Lua's own runtime errors in C code are (`table index is nil`). */
export function raiseBare(L: unknown, message: string): never {
  pushBytes(L, message);
  lua.lua_error(L);
  throw new Error('unreachable: lua_error returned');
}

/** Raises C's `luaL_argerror`: `bad argument #<arg> to '<function>' (<message>)`. */
export function argumentError(L: unknown, arg: number, message: string): never {
  lauxlib.luaL_argerror(L, arg, luaString(message));
  throw new Error('unreachable: luaL_argerror returned');
}

/** The name of a Lua type, as `type()` writes it. */
export function typeName(L: unknown, index: number): string {
  return Buffer.from(lua.lua_typename(L, lua.lua_type(L, index))).toString('latin1');
}

/** Sets `fn` as field `name` of the table on the top of the stack. */
export function setFunction(L: unknown, name: string, fn: (L: unknown) => number): void {
  lua.lua_pushjsfunction(L, fn);
  lua.lua_setfield(L, -2, luaString(name));
}

/**
 * Lua 5.1's `lua_tointeger` of a number on x86-64 (`lua_Integer` is 64 bits): truncated, and -2^63 for NaN, the
 * infinities and whatever is out of range (the x86 conversion's "integer indefinite").
 */
export function luaInteger(n: number): number {
  return Number.isFinite(n) && Math.abs(n) < 2 ** 63 ? Math.trunc(n) : -(2 ** 63);
}

/** A `lua_Integer` stored in a C `int`: its low 32 bits, signed. */
export function cInt(n: number): number {
  return Number(BigInt.asIntN(32, BigInt(n)));
}

/** `luaL_checknumber`: a number, or a string holding one. */
export function checkNumber(L: unknown, arg: number): number {
  if (!lua.lua_isnumber(L, arg)) argumentError(L, arg, `number expected, got ${typeName(L, arg)}`);
  return lua.lua_tonumber(L, arg);
}

/** `luaL_checkinteger` on Lua 5.1: a number (or a string holding one) as {@link luaInteger} gives it. */
export function checkInteger(L: unknown, arg: number): number {
  return luaInteger(checkNumber(L, arg));
}

/** `luaL_checklstring`: the bytes of a string argument, or of a number's text (no copy: Lua strings do not change). */
export function checkBytes(L: unknown, arg: number): Buffer {
  const type = lua.lua_type(L, arg);
  if (type !== lua.LUA_TSTRING && type !== lua.LUA_TNUMBER) {
    argumentError(L, arg, `string expected, got ${typeName(L, arg)}`);
  }
  return bytesOfLua(L, arg);
}

/** Lua 5.1's `LUAI_MAXCSTACK`: the most values a C function's frame may hold (`lua_checkstack` fails beyond). */
const MAX_C_STACK = 8000;

/**
 * The values a library function written in C would hold on its Lua 5.1 frame, counted as it pushes and pops them, for
 * its `lua_checkstack` / `luaL_checkstack` calls to fail where Redis's do: fengari's stack is far larger (a nesting
 * that Redis refuses would run into JS's own stack instead). Each check also grows fengari's stack, which, as Lua's,
 * guarantees a function only LUA_MINSTACK (20) values.
 */
export class FrameSlots {
  constructor(public used: number) {}

  /** `lua_checkstack(L, n)`: whether `n` more values fit. */
  fits(L: unknown, n: number): boolean {
    return this.used + n <= MAX_C_STACK && lua.lua_checkstack(L, n + 1);
  }

  /** `luaL_checkstack(L, n, message)`: raises `stack overflow (<message>)` when `n` more values do not fit. */
  check(L: unknown, n: number, message: string): void {
    if (!this.fits(L, n)) raise(L, `stack overflow (${message})`);
  }
}

/** A growing byte buffer, for what the libraries write (a JSON text, packed values). */
export class GrowingBytes {
  private buf = Buffer.allocUnsafe(64);
  length = 0;

  /** Makes room for `n` more bytes; returns the buffer to write them at {@link length}. */
  room(n: number): Buffer {
    if (this.length + n > this.buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(2 * this.buf.length, this.length + n));
      this.buf.copy(grown, 0, 0, this.length);
      this.buf = grown;
    }
    return this.buf;
  }

  byte(b: number): void {
    this.room(1)[this.length++] = b;
  }

  ascii(text: string): void {
    this.length += this.room(text.length).write(text, this.length, 'latin1');
  }

  bytes(b: Uint8Array): void {
    this.room(b.length).set(b, this.length);
    this.length += b.length;
  }

  view(): Uint8Array {
    return this.buf.subarray(0, this.length);
  }
}
