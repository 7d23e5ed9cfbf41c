/**
 * The environment Redis 7.0 gives scripts (`script_lua.c`), on fengari's Lua 5.3:
 * - the libraries it loads besides Lua's own, as globals: `cjson` (`lua-cjson.ts`), `cmsgpack` (`lua-cmsgpack.ts`) and
 *   `bit` (LuaBitOp 1.0.2, `deps/lua/src/lua_bit.c`), ported to fengari; `struct` is not there;
 * - Lua 5.1's globals that 5.3 dropped (`unpack`, `loadstring`, `math.pow`, `math.mod`, `math.log10`, `math.ldexp`,
 *   `math.frexp`, `math.cosh`, `math.sinh`, `math.tanh`, `table.getn`, `table.maxn`, `table.setn`, `string.gfind`,
 *   `gcinfo`), and none of 5.3's own (`table.unpack`, `string.pack`, `math.type`, `utf8`, …) nor those Redis removes
 *   (`print`, `os`, `io`, `require`, `dofile`, `loadfile`, `package`, `debug`); `_VERSION` is `Lua 5.1`;
 * - `tostring` of a number that is not an integer as Lua 5.1 writes it (`%.14g`: `5`, `1e+20`, `inf`, where fengari
 *   writes `5.0`, `100000000000000000000`, `Infinity`);
 * - Redis 7's protection ({@link protectGlobals}): reading a global that does not exist and writing any global or a
 *   field of a library table raise its errors.
 */
import { pushCjson } from './lua-cjson';
import { pushCmsgpack } from './lua-cmsgpack';
import {
  argumentError,
  bytesOfLua,
  lauxlib,
  lua,
  luaString,
  pushBytes,
  numberText,
  pushNumber,
  raise,
  setFunction,
  typeName,
} from './lua-vm';

const bitsOfDouble = new DataView(new ArrayBuffer(8));

/**
 * LuaBitOp's `barg`: argument `arg` as 32 bits, the way it converts a double (adding 2^52 + 2^51 and keeping the low
 * word: rounded to the nearest integer, ties to even, modulo 2^32). A value that is not a number (nor a string
 * holding one) is refused.
 */
function bitArgument(L: unknown, arg: number): number {
  const n = lua.lua_tonumber(L, arg);
  bitsOfDouble.setFloat64(0, n + 6755399441055744.0, true);
  const bits = bitsOfDouble.getUint32(0, true);
  if (bits === 0 && !lua.lua_isnumber(L, arg)) {
    argumentError(L, arg, `number expected, got ${typeName(L, arg)}`);
  }
  return bits;
}

/** Returns 32 bits to the script as LuaBitOp does: a signed 32-bit number. */
function bitResult(L: unknown, bits: number): number {
  pushNumber(L, bits | 0);
  return 1;
}

function pushBit(L: unknown): void {
  lua.lua_createtable(L, 0, 12);
  setFunction(L, 'tobit', (s) => bitResult(s, bitArgument(s, 1)));
  setFunction(L, 'bnot', (s) => bitResult(s, ~bitArgument(s, 1)));
  const fold = (name: string, op: (a: number, b: number) => number): void => {
    setFunction(L, name, (s) => {
      let bits = bitArgument(s, 1);
      for (let i = lua.lua_gettop(s); i > 1; i--) bits = op(bits, bitArgument(s, i));
      return bitResult(s, bits);
    });
  };
  fold('band', (a, b) => a & b);
  fold('bor', (a, b) => a | b);
  fold('bxor', (a, b) => a ^ b);
  const shift = (name: string, op: (b: number, n: number) => number): void => {
    setFunction(L, name, (s) => {
      const bits = bitArgument(s, 1);
      return bitResult(s, op(bits, bitArgument(s, 2) & 31));
    });
  };
  shift('lshift', (b, n) => b << n);
  shift('rshift', (b, n) => b >>> n);
  shift('arshift', (b, n) => b >> n);
  shift('rol', (b, n) => (b << n) | (b >>> (32 - n)));
  shift('ror', (b, n) => (b << (32 - n)) | (b >>> n));
  setFunction(L, 'bswap', (s) => {
    const b = bitArgument(s, 1);
    return bitResult(s, (b >>> 24) | ((b >>> 8) & 0xff00) | ((b & 0xff00) << 8) | (b << 24));
  });
  setFunction(L, 'tohex', (s) => {
    let b = bitArgument(s, 1);
    let n = lua.lua_type(s, 2) === lua.LUA_TNONE ? 8 : bitArgument(s, 2) | 0;
    let digits = '0123456789abcdef';
    if (n < 0) {
      n = -n;
      digits = digits.toUpperCase();
    }
    n = Math.min(n, 8);
    let hex = '';
    for (let i = 0; i < n; i++, b >>>= 4) hex = digits[b & 15] + hex;
    pushBytes(s, hex);
    return 1;
  });
}

/** Lua 5.1's globals that fengari's 5.3 lacks, and 5.3's (or those Redis removes) taken away. */
const LUA_51 = `
unpack = table.unpack
loadstring = load
math.mod = math.fmod
string.gfind = string.gmatch
table.unpack, table.pack, table.move = nil, nil, nil
string.pack, string.unpack, string.packsize = nil, nil, nil
math.maxinteger, math.mininteger, math.tointeger, math.type, math.ult = nil, nil, nil, nil, nil
utf8, rawlen, print, os, io, require, dofile, loadfile, package = nil, nil, nil, nil, nil, nil, nil, nil, nil
_VERSION = 'Lua 5.1'
`;
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

function checkNumber(L: unknown, arg: number): number {
  if (!lua.lua_isnumber(L, arg)) argumentError(L, arg, `number expected, got ${typeName(L, arg)}`);
  return lua.lua_tonumber(L, arg);
}

function checkTable(L: unknown, arg: number): void {
  if (lua.lua_type(L, arg) !== lua.LUA_TTABLE) {
    argumentError(L, arg, `table expected, got ${typeName(L, arg)}`);
  }
}

/** `collectgarbage`'s options in Lua 5.1, and the values of the settings it answers (Lua's defaults). */
const GC_OPTIONS = ['stop', 'restart', 'collect', 'count', 'step', 'setpause', 'setstepmul'];

/**
 * Sets Lua 5.1's functions that fengari's 5.3 lacks, in JS as Lua's own are in C (so that their errors name them
 * and point at the script): in `math`, `table` and the globals, and Lua 5.1's `tostring` of numbers. fengari has no
 * collector of its own (JS's does the work): `collectgarbage` takes Lua 5.1's options and answers 0 for the memory.
 */
function setLua51Functions(L: unknown): void {
  lua.lua_getglobal(L, luaString('math'));
  const unary = (name: string, fn: (x: number) => number): void => {
    setFunction(L, name, (s) => {
      pushNumber(s, fn(checkNumber(s, 1)));
      return 1;
    });
  };
  unary('log10', Math.log10);
  unary('cosh', Math.cosh);
  unary('sinh', Math.sinh);
  unary('tanh', Math.tanh);
  setFunction(L, 'pow', (s) => {
    pushNumber(s, checkNumber(s, 1) ** checkNumber(s, 2));
    return 1;
  });
  setFunction(L, 'ldexp', (s) => {
    const m = checkNumber(s, 1);
    const e = Math.trunc(checkNumber(s, 2));
    // In two steps, so that 2^e does not overflow where the product would not.
    const half = Math.trunc(e / 2);
    pushNumber(s, m * 2 ** half * 2 ** (e - half));
    return 1;
  });
  setFunction(L, 'frexp', (s) => {
    const [m, e] = frexp(checkNumber(s, 1));
    pushNumber(s, m);
    pushNumber(s, e);
    return 2;
  });
  lua.lua_settop(L, -2);

  lua.lua_getglobal(L, luaString('table'));
  setFunction(L, 'getn', (s) => {
    checkTable(s, 1);
    pushNumber(s, lua.lua_rawlen(s, 1));
    return 1;
  });
  setFunction(L, 'maxn', (s) => {
    checkTable(s, 1);
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
  lua.lua_settop(L, -2);

  lua.lua_pushjsfunction(L, (s: unknown) => {
    if (lua.lua_type(s, 1) === lua.LUA_TNONE) argumentError(s, 1, 'value expected');
    if (lua.lua_type(s, 1) === lua.LUA_TNUMBER && !lua.lua_isinteger(s, 1)) {
      pushBytes(s, numberText(lua.lua_tonumber(s, 1), 14));
    } else lauxlib.luaL_tolstring(s, 1);
    return 1;
  });
  lua.lua_setglobal(L, luaString('tostring'));
  lua.lua_pushjsfunction(L, (s: unknown) => {
    pushNumber(s, 0);
    return 1;
  });
  lua.lua_setglobal(L, luaString('gcinfo'));
  const settings = { setpause: 200, setstepmul: 200 };
  lua.lua_pushjsfunction(L, (s: unknown) => {
    const type = lua.lua_type(s, 1);
    const option = type <= lua.LUA_TNIL ? 'collect' : bytesOfLua(s, 1).toString('latin1');
    if (type > lua.LUA_TNIL && type !== lua.LUA_TSTRING && type !== lua.LUA_TNUMBER) {
      argumentError(s, 1, `string expected, got ${typeName(s, 1)}`);
    }
    if (!GC_OPTIONS.includes(option)) argumentError(s, 1, `invalid option '${option}'`);
    if (option === 'setpause' || option === 'setstepmul') {
      const previous = settings[option];
      settings[option] = lua.lua_type(s, 2) <= lua.LUA_TNIL ? 0 : Math.trunc(checkNumber(s, 2));
      pushNumber(s, previous);
    } else if (option === 'step') lua.lua_pushboolean(s, false);
    else pushNumber(s, 0);
    return 1;
  });
  lua.lua_setglobal(L, luaString('collectgarbage'));
}

/**
 * Sets the globals Redis adds to Lua's (`cjson`, `bit`, `cmsgpack`), and makes the rest Lua 5.1's (see the top of this
 * file). Call on a fresh state, after `luaL_openlibs`.
 */
export function openRedisLibraries(L: unknown): void {
  pushCjson(L);
  lua.lua_setglobal(L, luaString('cjson'));
  pushBit(L);
  lua.lua_setglobal(L, luaString('bit'));
  pushCmsgpack(L);
  lua.lua_setglobal(L, luaString('cmsgpack'));
  setLua51Functions(L);
  if (lauxlib.luaL_dostring(L, luaString(LUA_51)) !== lua.LUA_OK) {
    throw new Error(`the Lua 5.1 environment failed to load: ${String(lua.lua_tolstring(L, -1))}`);
  }
}

/** The tables Redis makes read-only, and the globals table itself. */
const PROTECT = `
local function readonly(name)
  local real = _G[name]
  _G[name] = setmetatable({}, {
    __index = real,
    __newindex = function() error('Attempt to modify a readonly table', 2) end,
    __pairs = function() return next, real, nil end,
    __metatable = false,
  })
end
for _, name in ipairs({'redis', 'cjson', 'cmsgpack', 'bit', 'string', 'math', 'table', 'coroutine'}) do
  readonly(name)
end
debug = nil
setmetatable(_G, {
  __index = function(_, name)
    error("Script attempted to access nonexistent global variable '" .. tostring(name) .. "'", 2)
  end,
  __newindex = function() error('Attempt to modify a readonly table', 2) end,
  __metatable = false,
})
`;

/**
 * Redis 7's protection of a script's globals (`luaSetAllowListProtection`, `luaSetTableProtectionRecursively`): a
 * script reading a global that does not exist fails (`Script attempted to access nonexistent global variable 'x'`),
 * and one writing a global, or a field of `redis`, `cjson`, `string`, `math`, … fails too (`Attempt to modify a
 * readonly table`): a script keeps its state in locals, and the one Lua state runs every script the same. The
 * library tables become read-only views of themselves (`rawget` on one finds nothing). Call last, once the globals
 * are set; KEYS and ARGV are set with `rawset` from then on.
 */
export function protectGlobals(L: unknown): void {
  if (lauxlib.luaL_dostring(L, luaString(PROTECT)) !== lua.LUA_OK) {
    throw new Error(
      `the script globals could not be protected: ${String(lua.lua_tolstring(L, -1))}`,
    );
  }
}
