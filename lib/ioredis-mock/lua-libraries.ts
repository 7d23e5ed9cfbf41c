/**
 * The libraries Redis 7.0 loads into every script's Lua besides Lua's own (`script_lua.c`, `luaLoadLibraries`), as
 * globals: `cjson` (`lua-cjson.ts`), `cmsgpack` (`lua-cmsgpack.ts`), `struct` (`lua-struct.ts`) and `bit` (LuaBitOp
 * 1.0.2, `deps/lua/src/lua_bit.c`, here), ported to fengari; then the rest of Redis's Lua (`lua-environment.ts`).
 */
import { pushCjson } from './lua-cjson';
import { pushCmsgpack } from './lua-cmsgpack';
import { openLua51 } from './lua-environment';
import { pushStruct } from './lua-struct';
import {
  argumentError,
  lua,
  luaString,
  pushBytes,
  pushNumber,
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

/**
 * Sets the globals Redis adds to Lua's (`cjson`, `bit`, `cmsgpack`, `struct`), and makes the rest Lua 5.1's (see
 * `lua-environment.ts`). Call on a fresh state, after `luaL_openlibs`.
 */
export function openRedisLibraries(L: unknown): void {
  pushCjson(L);
  lua.lua_setglobal(L, luaString('cjson'));
  pushBit(L);
  lua.lua_setglobal(L, luaString('bit'));
  pushCmsgpack(L);
  lua.lua_setglobal(L, luaString('cmsgpack'));
  pushStruct(L);
  lua.lua_setglobal(L, luaString('struct'));
  openLua51(L);
}
