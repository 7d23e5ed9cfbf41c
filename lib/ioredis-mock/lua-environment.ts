/**
 * The Lua that Redis 7.0's scripts see (`script_lua.c`, Lua 5.1), made of fengari's Lua 5.3:
 * - Lua 5.1's functions that 5.3 dropped or changed, written in JS as Lua's own are in C (so that their errors name
 *   them and point at the script): `unpack`, `loadstring`, `load` (of a function), `math.pow`, `math.mod`,
 *   `math.fmod`, `math.log` (one argument), `math.log10`, `math.atan2`, `math.cosh`, `math.sinh`, `math.tanh`,
 *   `math.ldexp`, `math.frexp`, `table.getn`, `table.maxn`, `table.setn`, `table.foreach`, `table.foreachi`,
 *   `string.gfind`, `gcinfo`, `collectgarbage`, `coroutine.running`, `error` (a number message gets the position
 *   too), `assert` (a string message), `table.insert` (past the end too), `math.floor` and `math.ceil` (doubles),
 *   `string.format` and `string.rep` (`lua-format.ts`), `tonumber` (C's `strtod`: `inf` and `nan` too, and `strtoul`
 *   in another base), and `tostring` (numbers with `%.14g`: `5`, `1e+20`, `inf`,
 *   where fengari writes `5.0`, `100000000000000000000`, `Infinity`; `__tostring` answering what it answers); the
 *   numbers themselves are Lua 5.1's while a script runs (`withRedisNumbers` in `lua-vm.ts`);
 * - Redis's own: `pcall` (an `{err=…}` error comes back as its text), `math.random` and `math.randomseed` on
 *   `redisLrand48` (the same sequence as Redis from the same seed);
 * - none of 5.3's additions (`table.unpack`, `string.pack`, `math.type`, `utf8`, …) nor of what Redis removes (`print`,
 *   `os`, `io`, `require`, `dofile`, `loadfile`, `package`, `debug`); `_VERSION` is `Lua 5.1`;
 * - Redis 7's protection ({@link protectGlobals}).
 */
import {
  argumentError,
  checkBytes,
  checkNumber,
  cInt,
  lauxlib,
  lua,
  luaInteger,
  luaString,
  numberText,
  pushBytes,
  pushNumber,
  raise,
  raiseBare,
  setFunction,
  typeName,
} from './lua-vm';
import { strtod } from './lua-cjson';
import { stringFormat, stringRep } from './lua-format';

/** Aliases and removals, run once on a new state. */
const LUA_51 = `
string.gfind = string.gmatch
table.unpack, table.pack, table.move = nil, nil, nil
string.pack, string.unpack, string.packsize = nil, nil, nil
math.maxinteger, math.mininteger, math.tointeger, math.type, math.ult = nil, nil, nil, nil, nil
coroutine.isyieldable = nil
utf8, rawlen, print, os, io, require, dofile, loadfile, package, fengari = nil, nil, nil, nil, nil, nil, nil, nil, nil, nil
_VERSION = 'Lua 5.1'
`;

/** Registry fields: fengari's own functions the replacements call, and the real globals table. */
const ORIGINAL = (name: string): Uint8Array => luaString(`__lua53_${name}`);
const REAL_GLOBALS = luaString('__real_globals');

/** `luaL_checkint` on Lua 5.1: a number truncated to a C `int`. */
function checkInt(L: unknown, arg: number): number {
  return cInt(luaInteger(checkNumber(L, arg)));
}

function optionalInt(L: unknown, arg: number, fallback: number): number {
  return lua.lua_type(L, arg) <= lua.LUA_TNIL ? fallback : checkInt(L, arg);
}

function checkType(L: unknown, arg: number, type: number, name: string): void {
  if (lua.lua_type(L, arg) !== type)
    argumentError(L, arg, `${name} expected, got ${typeName(L, arg)}`);
}

function checkAny(L: unknown, arg: number): void {
  if (lua.lua_type(L, arg) === lua.LUA_TNONE) argumentError(L, arg, 'value expected');
}

/** C's `frexp`: `x = m × 2^e` with 0.5 ≤ |m| < 1 (0, ±inf and NaN as they are, e = 0). */
function frexp(x: number): [number, number] {
  if (x === 0 || !Number.isFinite(x)) return [x, 0];
  let m = x;
  let e = 0;
  if (Math.abs(m) < 2 ** -1000) {
    m *= 2 ** 64;
    e -= 64;
  }
  const shift = Math.floor(Math.log2(Math.abs(m))) + 1;
  m *= 2 ** -shift;
  e += shift;
  while (Math.abs(m) >= 1) {
    m /= 2;
    e++;
  }
  while (Math.abs(m) < 0.5) {
    m *= 2;
    e--;
  }
  return [m, e];
}

/** Redis's `rand.c` (`redisLrand48`, `redisSrand48`): the 48-bit generator behind its scripts' `math.random`. */
class Rand48 {
  private x = [0x330e, 0xabcd, 0x1234];
  private a = [0xe66d, 0xdeec, 0x5];
  private c = 0xb;

  seed(value: number): void {
    this.x = [0x330e, value & 0xffff, (value >>> 16) & 0xffff];
    this.a = [0xe66d, 0xdeec, 0x5];
    this.c = 0xb;
  }

  /** The next value, 0 to 2^31 - 1. */
  next(): number {
    const [x0, x1, x2] = this.x;
    const [a0, a1, a2] = this.a;
    const p = a0 * x0;
    let p0 = p & 0xffff;
    let p1 = Math.floor(p / 0x10000) & 0xffff;
    let carry0 = +(p0 + this.c > 0xffff);
    p0 = (p0 + this.c) & 0xffff;
    const carry1 = +(p1 + carry0 > 0xffff);
    p1 = (p1 + carry0) & 0xffff;
    const q = a0 * x1;
    carry0 = +(p1 + (q & 0xffff) > 0xffff);
    p1 = (p1 + (q & 0xffff)) & 0xffff;
    const r = a1 * x0;
    const r0 = r & 0xffff;
    const high =
      carry0 +
      carry1 +
      +(p1 + r0 > 0xffff) +
      (Math.floor(q / 0x10000) & 0xffff) +
      (Math.floor(r / 0x10000) & 0xffff) +
      a0 * x2 +
      a1 * x1 +
      a2 * x0;
    this.x = [p0, (p1 + r0) & 0xffff, high % 0x10000];
    return this.x[2] * 0x8000 + (this.x[1] >>> 1);
  }
}

const LRAND48_MAX = 2 ** 31 - 1;

function setMathFunctions(L: unknown): void {
  lua.lua_getglobal(L, luaString('math'));
  const unary = (name: string, fn: (x: number) => number): void => {
    setFunction(L, name, (s) => {
      pushNumber(s, fn(checkNumber(s, 1)));
      return 1;
    });
  };
  unary('log', Math.log); // Lua 5.1's takes no base
  unary('floor', Math.floor); // a double, where 5.3's is an integer when it fits (fengari's: 32 bits)
  unary('ceil', Math.ceil);
  unary('log10', Math.log10);
  unary('cosh', Math.cosh);
  unary('sinh', Math.sinh);
  unary('tanh', Math.tanh);
  const binary = (name: string, fn: (x: number, y: number) => number): void => {
    setFunction(L, name, (s) => {
      pushNumber(s, fn(checkNumber(s, 1), checkNumber(s, 2)));
      return 1;
    });
  };
  binary('pow', (x, y) => x ** y);
  binary('atan2', Math.atan2);
  binary('fmod', (x, y) => x % y); // C's fmod: NaN for y = 0, where 5.3 refuses integers
  binary('mod', (x, y) => x % y);
  setFunction(L, 'ldexp', (s) => {
    const m = checkNumber(s, 1);
    const e = checkInt(s, 2);
    const half = Math.trunc(e / 2); // in two steps, so that 2^e does not overflow where the product would not
    pushNumber(s, m * 2 ** half * 2 ** (e - half));
    return 1;
  });
  setFunction(L, 'frexp', (s) => {
    const [m, e] = frexp(checkNumber(s, 1));
    pushNumber(s, m);
    pushNumber(s, e);
    return 2;
  });
  const rand = new Rand48();
  setFunction(L, 'random', (s) => {
    const r = (rand.next() % LRAND48_MAX) / LRAND48_MAX;
    const count = lua.lua_gettop(s);
    if (count === 0) pushNumber(s, r);
    else if (count === 1) {
      const upper = checkInt(s, 1);
      if (!(upper >= 1)) argumentError(s, 1, 'interval is empty');
      pushNumber(s, Math.floor(r * upper) + 1);
    } else if (count === 2) {
      const lower = checkInt(s, 1);
      const upper = checkInt(s, 2);
      if (!(lower <= upper)) argumentError(s, 2, 'interval is empty');
      pushNumber(s, Math.floor(r * (upper - lower + 1)) + lower);
    } else raise(s, 'wrong number of arguments');
    return 1;
  });
  setFunction(L, 'randomseed', (s) => {
    rand.seed(checkInt(s, 1));
    return 0;
  });
  lua.lua_settop(L, -2);
}

function setTableFunctions(L: unknown): void {
  lua.lua_getglobal(L, luaString('table'));
  setFunction(L, 'getn', (s) => {
    checkType(s, 1, lua.LUA_TTABLE, 'table');
    pushNumber(s, lua.lua_rawlen(s, 1));
    return 1;
  });
  setFunction(L, 'maxn', (s) => {
    checkType(s, 1, lua.LUA_TTABLE, 'table');
    let max = 0;
    lua.lua_pushnil(s);
    while (lua.lua_next(s, 1) !== 0) {
      lua.lua_settop(s, -2);
      if (lua.lua_type(s, -1) === lua.LUA_TNUMBER) max = Math.max(max, lua.lua_tonumber(s, -1));
    }
    pushNumber(s, max);
    return 1;
  });
  setFunction(L, 'setn', (s) => raise(s, "'setn' is obsolete"));
  // Lua 5.1's `tinsert`: a position past the end is set, where 5.3 refuses it.
  setFunction(L, 'insert', (s) => {
    checkType(s, 1, lua.LUA_TTABLE, 'table');
    let end = lua.lua_rawlen(s, 1) + 1;
    let at: number;
    const count = lua.lua_gettop(s);
    if (count === 2) at = end;
    else if (count === 3) {
      at = checkInt(s, 2);
      if (at > end) end = at;
      for (let i = end; i > at; i--) {
        lua.lua_rawgeti(s, 1, i - 1);
        lua.lua_rawseti(s, 1, i);
      }
    } else raise(s, "wrong number of arguments to 'insert'");
    lua.lua_rawseti(s, 1, at);
    return 0;
  });
  setFunction(L, 'foreach', (s) => {
    checkType(s, 1, lua.LUA_TTABLE, 'table');
    checkType(s, 2, lua.LUA_TFUNCTION, 'function');
    lua.lua_pushnil(s);
    while (lua.lua_next(s, 1) !== 0) {
      lua.lua_pushvalue(s, 2);
      lua.lua_pushvalue(s, -3);
      lua.lua_pushvalue(s, -3);
      lua.lua_call(s, 2, 1);
      if (lua.lua_type(s, -1) !== lua.LUA_TNIL) return 1;
      lua.lua_settop(s, -3);
    }
    return 0;
  });
  setFunction(L, 'foreachi', (s) => {
    checkType(s, 1, lua.LUA_TTABLE, 'table');
    checkType(s, 2, lua.LUA_TFUNCTION, 'function');
    const n = lua.lua_rawlen(s, 1);
    for (let i = 1; i <= n; i++) {
      lua.lua_pushvalue(s, 2);
      pushNumber(s, i);
      lua.lua_rawgeti(s, 1, i);
      lua.lua_call(s, 2, 1);
      if (lua.lua_type(s, -1) !== lua.LUA_TNIL) return 1;
      lua.lua_settop(s, -2);
    }
    return 0;
  });
  lua.lua_settop(L, -2);
}

/**
 * fengari's `load` of the chunk (a string or a reader function) at argument 1, named `name`, as text only (Redis's Lua
 * refuses precompiled chunks): the function, or nil and the error.
 */
function loadText(L: unknown, name: Uint8Array): number {
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, ORIGINAL('load'));
  lua.lua_pushvalue(L, 1);
  pushBytes(L, name);
  pushBytes(L, 't');
  lua.lua_call(L, 3, 2);
  return 2;
}

/** Lua 5.1's `luaB_tostring`: `__tostring` answers what it answers; numbers with `%.14g`. */
function tostring(L: unknown): number {
  checkAny(L, 1);
  if (lauxlib.luaL_callmeta(L, 1, luaString('__tostring'))) return 1;
  const type = lua.lua_type(L, 1);
  if (type === lua.LUA_TNUMBER) pushBytes(L, numberText(lua.lua_tonumber(L, 1), 14));
  else if (type === lua.LUA_TSTRING) lua.lua_pushvalue(L, 1);
  else if (type === lua.LUA_TBOOLEAN) pushBytes(L, lua.lua_toboolean(L, 1) ? 'true' : 'false');
  else if (type === lua.LUA_TNIL) pushBytes(L, 'nil');
  // `cjson.null` is C's NULL, which glibc's `%p` writes `(nil)`.
  else if (type === lua.LUA_TLIGHTUSERDATA && lua.lua_touserdata(L, 1) === null) {
    pushBytes(L, 'userdata: (nil)');
  } else {
    lua.lua_pushfstring(L, luaString('%s: %p'), lua.lua_typename(L, type), lua.lua_topointer(L, 1));
  }
  return 1;
}

/** C's `isspace` in the C locale. */
const C_SPACES = /^[ \t\n\v\f\r]*/;

/** A Lua string argument as C reads it: up to its first NUL byte, one character a byte. */
function cText(L: unknown, arg: number): string {
  return checkBytes(L, arg).toString('latin1').split('\0', 1)[0];
}

/**
 * C's `strtoul` of `text` in `base` (2 to 36): the value (an unsigned long: a minus sign wraps it, too large is
 * ULONG_MAX) and the characters read, none if no digit was read.
 */
function strtoul(text: string, base: number): { value: number; length: number } {
  let at = C_SPACES.exec(text)?.[0].length ?? 0;
  const negative = text[at] === '-';
  if (negative || text[at] === '+') at++;
  if (base === 16 && /^0[xX][0-9a-fA-F]/.test(text.slice(at))) at += 2;
  const start = at;
  let n = 0n;
  for (; at < text.length; at++) {
    const digit = parseInt(text[at], 36);
    if (Number.isNaN(digit) || digit >= base) break;
    n = n * BigInt(base) + BigInt(digit);
  }
  if (at === start) return { value: 0, length: 0 };
  const max = 2n ** 64n - 1n;
  if (n > max) n = max;
  else if (negative) n = (2n ** 64n - n) % 2n ** 64n;
  return { value: Number(n), length: at };
}

/**
 * Lua 5.1's `luaB_tonumber`. In base 10: a number as it is, a string read as `luaO_str2d` reads it (C's `strtod` after
 * any blanks, then blanks only: `inf`, `infinity` and `nan` too, which Lua 5.3 refuses), anything else nil. In
 * another base (2 to 36): a string (or a number's text) read with C's `strtoul`, then blanks only.
 */
function tonumber(L: unknown): number {
  const base = optionalInt(L, 2, 10);
  if (base !== 10) {
    const text = cText(L, 1);
    if (base < 2 || base > 36) argumentError(L, 2, 'base out of range');
    const read = strtoul(text, base);
    if (read.length > 0 && /^[ \t\n\v\f\r]*$/.test(text.slice(read.length))) {
      pushNumber(L, read.value);
      return 1;
    }
    lua.lua_pushnil(L);
    return 1;
  }
  checkAny(L, 1);
  const type = lua.lua_type(L, 1);
  if (type === lua.LUA_TNUMBER) {
    lua.lua_pushvalue(L, 1);
    return 1;
  }
  if (type === lua.LUA_TSTRING) {
    const text = cText(L, 1);
    const start = C_SPACES.exec(text)?.[0].length ?? 0;
    const read = strtod(text.slice(start));
    if (read !== undefined && /^[ \t\n\v\f\r]*$/.test(text.slice(start + read.length))) {
      pushNumber(L, read.value);
      return 1;
    }
  }
  lua.lua_pushnil(L);
  return 1;
}

function setBaseFunctions(L: unknown): void {
  const global = (name: string, fn: (s: unknown) => number): void => {
    lua.lua_pushjsfunction(L, fn);
    lua.lua_setglobal(L, luaString(name));
  };
  for (const name of ['load', 'next', 'setmetatable', 'pcall']) {
    lua.lua_getglobal(L, luaString(name));
    lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, ORIGINAL(name));
  }
  global('tostring', tostring);
  global('tonumber', tonumber);
  global('unpack', (s) => {
    checkType(s, 1, lua.LUA_TTABLE, 'table');
    const from = optionalInt(s, 2, 1);
    const to = lua.lua_type(s, 3) <= lua.LUA_TNIL ? lua.lua_rawlen(s, 1) : checkInt(s, 3);
    if (from > to) return 0;
    const n = to - from + 1;
    // Lua 5.1's C frames hold 8000 values (LUAI_MAXCSTACK).
    if (n >= 2 ** 31 - 1 || lua.lua_gettop(s) + n > 8000 || !lua.lua_checkstack(s, n)) {
      raise(s, 'too many results to unpack');
    }
    for (let i = from; i <= to; i++) lua.lua_rawgeti(s, 1, i);
    return n;
  });
  global('loadstring', (s) => {
    const code = checkBytes(s, 1);
    return loadText(s, lua.lua_type(s, 2) <= lua.LUA_TNIL ? code : checkBytes(s, 2));
  });
  global('load', (s) => {
    checkType(s, 1, lua.LUA_TFUNCTION, 'function');
    return loadText(
      s,
      lua.lua_type(s, 2) <= lua.LUA_TNIL ? luaString('=(load)') : checkBytes(s, 2),
    );
  });
  // Lua 5.1's: the message is a string (5.3 raises any value, so `assert(false, {err=…})` was an error reply).
  global('assert', (s) => {
    checkAny(s, 1);
    if (lua.lua_toboolean(s, 1)) return lua.lua_gettop(s);
    const message =
      lua.lua_type(s, 2) <= lua.LUA_TNIL
        ? 'assertion failed!'
        : checkBytes(s, 2).toString('latin1');
    return raise(s, message);
  });
  global('error', (s) => {
    const level = optionalInt(s, 2, 1);
    lua.lua_settop(s, 1);
    // Lua 5.1 adds the position to a number too (5.3 only to a string).
    if (lua.lua_isstring(s, 1) && level > 0) {
      lauxlib.luaL_where(s, level);
      lua.lua_pushvalue(s, 1);
      lua.lua_concat(s, 2);
    }
    return lua.lua_error(s);
  });
  global('pcall', (s) => {
    // Redis's `luaRedisPcall`: an error table with a text `err` comes back as that text.
    const count = lua.lua_gettop(s);
    if (count === 0) {
      lua.lua_pushboolean(s, false); // (Redis's calls the placeholder it pushed, which fails)
      return 1;
    }
    lua.lua_pushboolean(s, true);
    lua.lua_insert(s, 1);
    if (lua.lua_pcall(s, count - 1, lua.LUA_MULTRET, 0) !== lua.LUA_OK) {
      lua.lua_remove(s, 1);
      if (lua.lua_type(s, -1) === lua.LUA_TTABLE) {
        lua.lua_getfield(s, -1, luaString('err'));
        if (lua.lua_isstring(s, -1)) lua.lua_replace(s, -2);
        else lua.lua_settop(s, -2);
      }
      lua.lua_pushboolean(s, false);
      lua.lua_insert(s, 1);
    }
    return lua.lua_gettop(s);
  });
  global('gcinfo', (s) => {
    pushNumber(s, 0);
    return 1;
  });
  const gcSettings = { setpause: 200, setstepmul: 200 };
  global('collectgarbage', (s) => {
    // fengari has no collector of its own (JS's does the work): Lua 5.1's options, 0 for the memory.
    const type = lua.lua_type(s, 1);
    const option = type <= lua.LUA_TNIL ? 'collect' : checkBytes(s, 1).toString('utf8');
    if (
      !['stop', 'restart', 'collect', 'count', 'step', 'setpause', 'setstepmul'].includes(option)
    ) {
      argumentError(s, 1, `invalid option '${option}'`);
    }
    if (option === 'setpause' || option === 'setstepmul') {
      const previous = gcSettings[option];
      gcSettings[option] = optionalInt(s, 2, 0);
      pushNumber(s, previous);
    } else if (option === 'step') lua.lua_pushboolean(s, false);
    else pushNumber(s, 0);
    return 1;
  });
  lua.lua_getglobal(L, luaString('coroutine'));
  setFunction(L, 'running', (s) => {
    // Lua 5.1 answers nil in the main thread (5.3: the thread and true).
    if (lua.lua_pushthread(s)) lua.lua_pushnil(s);
    return 1;
  });
  lua.lua_settop(L, -2);
}

/** Makes a new state's globals Lua 5.1's (see the top of this file). Call after `luaL_openlibs`. */
export function openLua51(L: unknown): void {
  setMathFunctions(L);
  lua.lua_getglobal(L, luaString('string'));
  setFunction(L, 'format', stringFormat);
  setFunction(L, 'rep', stringRep);
  lua.lua_settop(L, -2);
  setTableFunctions(L);
  setBaseFunctions(L);
  if (lauxlib.luaL_dostring(L, luaString(LUA_51)) !== lua.LUA_OK) {
    throw new Error(`the Lua 5.1 environment failed to load: ${String(lua.lua_tolstring(L, -1))}`);
  }
}

// ---- protection ---------------------------------------------------------------------------------------------------

/** The read-only views made by {@link protectGlobals}, by their fengari table (see `lua_topointer`). */
const views = new WeakSet<object>();
const READONLY = 'Attempt to modify a readonly table';

function isView(L: unknown, index: number): boolean {
  const table = lua.lua_type(L, index) === lua.LUA_TTABLE ? lua.lua_topointer(L, index) : null;
  return table !== null && views.has(table);
}

/** Pushes the table a view at `index` reads (its metatable's `__index`). */
function pushViewed(L: unknown, index: number): void {
  lua.lua_getmetatable(L, index);
  pushBytes(L, '__viewed');
  lua.lua_rawget(L, -2);
  lua.lua_remove(L, -2);
}

/**
 * Pushes a read-only view of the table at `index`: reads go to it, writes raise Redis's error, `pairs` walks it.
 * What `getmetatable` answers for it is a read-only (and empty) table of its own, `sealed` for that table itself, so
 * that no script can keep anything there for the next.
 */
function pushView(L: unknown, index: number, sealed = false): void {
  const real = lua.lua_absindex(L, index);
  lua.lua_createtable(L, 0, 0);
  lua.lua_createtable(L, 0, 5);
  lua.lua_pushvalue(L, real);
  lua.lua_setfield(L, -2, luaString('__viewed'));
  lua.lua_pushvalue(L, real);
  lua.lua_setfield(L, -2, luaString('__index'));
  setFunction(L, '__newindex', (s) => raise(s, READONLY));
  setFunction(L, '__pairs', (s) => {
    lua.lua_getglobal(s, luaString('next'));
    lua.lua_pushvalue(s, 1);
    lua.lua_pushnil(s);
    return 3;
  });
  if (sealed) lua.lua_pushboolean(L, false);
  else {
    lua.lua_createtable(L, 0, 0);
    pushView(L, -1, true);
    lua.lua_remove(L, -2);
  }
  lua.lua_setfield(L, -2, luaString('__metatable'));
  lua.lua_setmetatable(L, -2);
  views.add(lua.lua_topointer(L, -1) as object);
}

/** The tables Redis makes read-only besides the globals. */
const LIBRARIES = [
  'redis',
  'cjson',
  'cmsgpack',
  'struct',
  'bit',
  'string',
  'math',
  'table',
  'coroutine',
];

/**
 * Redis 7's protection of a script's globals (`luaSetAllowListProtection`, `luaSetTableProtectionRecursively`): a
 * script reading a global that does not exist fails (`Script attempted to access nonexistent global variable 'x'`),
 * and one writing a global, or a field of `redis`, `cjson`, `string`, `math`, …, fails too (`Attempt to modify a
 * readonly table`), `rawset` and `setmetatable` included: a script keeps its state in locals, and the one Lua state
 * runs every script the same. Scripts see read-only views (`rawget`, `next` and `pairs` read through them); the
 * string metatable's `__index` is the view of `string`. Call last, once the globals are set: from then on scripts'
 * chunks run with the view of the globals as `_ENV`, and `KEYS` and `ARGV` go into the real table (see
 * {@link setRealGlobal}).
 */
export function protectGlobals(L: unknown): void {
  lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
  const globals = lua.lua_gettop(L);
  lua.lua_pushvalue(L, globals);
  lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, REAL_GLOBALS);
  // Redis removes `debug` once its error handler holds it.
  pushBytes(L, 'debug');
  lua.lua_pushnil(L);
  lua.lua_rawset(L, globals);
  for (const name of LIBRARIES) {
    pushBytes(L, name);
    lua.lua_rawget(L, globals);
    pushView(L, -1);
    lua.lua_remove(L, -2);
    pushBytes(L, name);
    lua.lua_insert(L, -2);
    lua.lua_rawset(L, globals);
  }
  // The string metatable reads the view of `string`, and answers a view of itself.
  pushBytes(L, '');
  lua.lua_getmetatable(L, -1);
  pushBytes(L, 'string');
  lua.lua_rawget(L, globals);
  lua.lua_setfield(L, -2, luaString('__index'));
  pushView(L, -1);
  lua.lua_setfield(L, -2, luaString('__metatable'));
  lua.lua_settop(L, globals);
  // Functions that would write through a view, or read around one.
  const base = (name: string, fn: (s: unknown) => number): void => {
    pushBytes(L, name);
    lua.lua_pushjsfunction(L, fn);
    lua.lua_rawset(L, globals);
  };
  base('rawset', (s) => {
    checkType(s, 1, lua.LUA_TTABLE, 'table');
    checkAny(s, 2);
    checkAny(s, 3);
    if (isView(s, 1)) raiseBare(s, READONLY); // Lua's own error in Redis: no position
    lua.lua_settop(s, 3);
    lua.lua_rawset(s, 1);
    return 1;
  });
  base('rawget', (s) => {
    checkType(s, 1, lua.LUA_TTABLE, 'table');
    checkAny(s, 2);
    if (isView(s, 1)) {
      pushViewed(s, 1);
      lua.lua_replace(s, 1);
    }
    lua.lua_settop(s, 2);
    lua.lua_rawget(s, 1);
    return 1;
  });
  base('next', (s) => {
    checkType(s, 1, lua.LUA_TTABLE, 'table');
    if (isView(s, 1)) {
      pushViewed(s, 1);
      lua.lua_replace(s, 1);
    }
    lua.lua_settop(s, 2);
    if (lua.lua_next(s, 1) !== 0) return 2;
    lua.lua_pushnil(s);
    return 1;
  });
  base('setmetatable', (s) => {
    if (isView(s, 1)) raiseBare(s, READONLY);
    lua.lua_getfield(s, lua.LUA_REGISTRYINDEX, ORIGINAL('setmetatable'));
    lua.lua_insert(s, 1);
    lua.lua_call(s, lua.lua_gettop(s) - 1, 1);
    return 1;
  });
  // The globals: the real table answers a missing name with Redis's error (on the real table, so that reading a
  // global that exists costs no call), and scripts' chunks get its view as their `_ENV`.
  lua.lua_createtable(L, 0, 1);
  setFunction(L, '__index', (s) => {
    const name = lua.lua_type(s, 2) === lua.LUA_TSTRING ? checkBytes(s, 2).toString('utf8') : '?';
    return raise(s, `Script attempted to access nonexistent global variable '${name}'`);
  });
  lua.lua_setmetatable(L, globals);
  pushView(L, globals);
  pushBytes(L, '_G');
  lua.lua_pushvalue(L, -2);
  lua.lua_rawset(L, globals);
  lua.lua_rawseti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
  lua.lua_settop(L, globals - 1);
}

/** Sets global `name` to the value on the top of the stack (popped), in the real table behind the view. */
export function setRealGlobal(L: unknown, name: string): void {
  lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, REAL_GLOBALS);
  pushBytes(L, name);
  lua.lua_pushvalue(L, -3);
  lua.lua_rawset(L, -3);
  lua.lua_settop(L, -3);
}
