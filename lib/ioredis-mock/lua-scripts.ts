/**
 * Runs a Lua script as Redis 7 runs one for EVAL (https://redis.io/docs/latest/develop/interactive/programmability/
 * eval-intro/), on fengari, the Lua VM ioredis-mock ships with (a Lua 5.3 where Redis has 5.1: integer division and
 * `tostring` of floats differ), with Redis's `cjson`, `cmsgpack` and `bit` (`lua-libraries.ts`; `struct` is missing).
 *
 * ioredis-mock's own EVAL calls its command functions directly (none of the embedded client's rules apply, `INCR` of
 * text answers false), converts replies in its own way (`return 3.99` answers 3.99, `return true` true, a table with
 * a nil or `{err=…}` nothing) and wraps every error in `Error trying to loading or executing lua code string in VM`.
 * Here a script's `redis.call` and `redis.pcall` hand each command to `call` (`script-commands.ts` runs it through
 * the rules), and the conversions and error forms are Redis's:
 * - Redis to Lua: integer → number, bulk → string, nil → false, status → `{ok=…}`, array → table; an error raises
 *   `{err=…}` from `redis.call` and is returned as `{err=…}` by `redis.pcall`.
 * - Lua to Redis: number → integer (truncated), string → bulk, true → 1, false and nil → nil, `{err=…}` → error,
 *   `{ok=…}` → status, other tables → array up to their first nil.
 * - A script that fails answers `<error> script: <sha1>, on @user_script:<line>.`; a script that does not compile
 *   `ERR Error compiling script (new function): user_script:<line>: <reason>`.
 * - `redis.status_reply`, `redis.error_reply`, `redis.sha1hex` and `redis.log` are there.
 */
import { createHash } from 'node:crypto';
import { openRedisLibraries } from './lua-libraries';
import { bytesOfLua, lauxlib, lua, lualib, luaString, pushBytes, pushNumber } from './lua-vm';
import { type Arg, formatG } from './redis-replies';

/** A status reply (`+OK`), told apart from a bulk string. */
export class Status {
  constructor(readonly text: string) {}
}

/** What a command answers a script: a reply, or the error it failed with. */
export type ScriptCall = (name: Arg, args: Arg[]) => unknown;

export function sha1(script: string | Buffer): string {
  return createHash('sha1').update(script).digest('hex');
}

/** Redis's error handler: errors become `{err=…}` tables that say where the script failed. */
const PRELUDE = `
local dbg = debug
function __redis__err__handler(err)
  local i = dbg.getinfo(2,'nSl')
  if i and i.what ~= 'Lua' and i.what ~= 'main' then i = dbg.getinfo(3,'nSl') end
  if type(err) ~= 'table' then err = {err='ERR ' .. tostring(err)} end
  if i then err['source'] = i.source; err['line'] = i.currentline end
  return err
end
redis = {LOG_DEBUG=0, LOG_VERBOSE=1, LOG_NOTICE=2, LOG_WARNING=3}
function redis.status_reply(s) return {ok=s} end
function redis.error_reply(s) return {err=s} end
`;

/** A Lua string as a command argument or reply: UTF-8 text as a string, other bytes as a Buffer. */
function textOrBytes(bytes: Buffer): string | Buffer {
  const text = bytes.toString('utf8');
  return Buffer.byteLength(text) === bytes.length && Buffer.from(text).equals(bytes)
    ? text
    : Buffer.from(bytes);
}

function pushTable(L: unknown, field: string, text: string): void {
  lua.lua_createtable(L, 0, 1);
  pushBytes(L, text);
  lua.lua_setfield(L, -2, luaString(field));
}

/** Pushes a command's reply as Redis hands it to a script. */
function pushReply(L: unknown, reply: unknown): void {
  if (reply === null || reply === undefined) lua.lua_pushboolean(L, false);
  else if (reply instanceof Status) pushTable(L, 'ok', reply.text);
  else if (typeof reply === 'number' && Number.isInteger(reply)) pushNumber(L, reply);
  else if (typeof reply === 'string' || Buffer.isBuffer(reply)) pushBytes(L, reply);
  else if (Array.isArray(reply) || (typeof reply === 'object' && !(reply instanceof Error))) {
    const items = Array.isArray(reply) ? reply : Object.entries(reply).flat();
    lua.lua_createtable(L, items.length, 0);
    items.forEach((item: unknown, i) => {
      pushReply(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else if (typeof reply === 'number') pushBytes(L, String(reply));
  else lua.lua_pushboolean(L, false);
}

/** A script's value at `index` as Redis replies it (errors as `Error`s, statuses as {@link Status}). */
function replyOf(L: unknown, index: number): unknown {
  const type = lua.lua_type(L, index);
  if (type === lua.LUA_TNUMBER) return Math.trunc(lua.lua_tonumber(L, index));
  if (type === lua.LUA_TSTRING) return textOrBytes(bytesOfLua(L, index));
  if (type === lua.LUA_TBOOLEAN) return lua.lua_toboolean(L, index) ? 1 : null;
  if (type !== lua.LUA_TTABLE) return null;
  const at = lua.lua_absindex(L, index);
  for (const field of ['err', 'ok']) {
    const fieldType = lua.lua_getfield(L, at, luaString(field));
    if (fieldType === lua.LUA_TSTRING) {
      const text = bytesOfLua(L, -1).toString('utf8');
      lua.lua_settop(L, -2);
      return field === 'err' ? new Error(text) : new Status(text);
    }
    lua.lua_settop(L, -2);
  }
  const items: unknown[] = [];
  for (let i = 1; lua.lua_rawgeti(L, at, i) !== 0; i++) {
    items.push(replyOf(L, -1));
    lua.lua_settop(L, -2);
  }
  lua.lua_settop(L, -2);
  return items;
}

/** `%.17g`, as Redis writes a Lua number given to a command. */
function numberArg(n: number): string {
  return Number.isInteger(n) && Math.abs(n) < 1e17 ? String(n) : formatG(n, 17);
}

const BAD_ARGUMENT = 'ERR Lua redis lib command arguments must be strings or integers';
const NO_ARGUMENT = 'ERR Please specify at least one argument for this redis lib call';

/** `redis.call` (`raise`) and `redis.pcall`: the command's reply, or its error raised or returned as `{err=…}`. */
function redisCall(call: ScriptCall, raise: boolean): (L: unknown) => number {
  return (L) => {
    const count = lua.lua_gettop(L);
    let result: unknown;
    if (count === 0) result = new Error(NO_ARGUMENT);
    else {
      const args: Arg[] = [];
      for (let i = 1; i <= count; i++) {
        const type = lua.lua_type(L, i);
        if (type === lua.LUA_TNUMBER) args.push(numberArg(lua.lua_tonumber(L, i)));
        else if (type === lua.LUA_TSTRING) args.push(textOrBytes(bytesOfLua(L, i)));
        else {
          result = new Error(BAD_ARGUMENT);
          break;
        }
      }
      if (result === undefined) {
        try {
          result = call(args[0], args.slice(1));
        } catch (error) {
          result = error instanceof Error ? error : new Error(String(error));
        }
      }
    }
    if (result instanceof Error) {
      pushTable(L, 'err', result.message);
      return raise ? lua.lua_error(L) : 1;
    }
    pushReply(L, result);
    return 1;
  };
}

function define(L: unknown, table: string, name: string, fn: (L: unknown) => number): void {
  lua.lua_getglobal(L, luaString(table));
  lua.lua_pushjsfunction(L, fn);
  lua.lua_setfield(L, -2, luaString(name));
  lua.lua_settop(L, -2);
}

function globalArray(L: unknown, name: string, items: readonly Arg[]): void {
  lua.lua_createtable(L, items.length, 0);
  items.forEach((item, i) => {
    pushBytes(L, item);
    lua.lua_rawseti(L, -2, i + 1);
  });
  lua.lua_setglobal(L, luaString(name));
}

/**
 * Runs `script` with `keys` and `argv`, its commands run by `call`: its reply as Redis gives it (a {@link Status} for
 * a status), or throws Redis's error.
 */
export function runScript(
  script: Arg,
  keys: readonly Arg[],
  argv: readonly Arg[],
  call: ScriptCall,
): unknown {
  const L = lauxlib.luaL_newstate();
  try {
    lualib.luaL_openlibs(L);
    openRedisLibraries(L);
    lauxlib.luaL_dostring(L, luaString(PRELUDE));
    define(L, 'redis', 'call', redisCall(call, true));
    define(L, 'redis', 'pcall', redisCall(call, false));
    define(L, 'redis', 'sha1hex', (state) => {
      pushBytes(state, sha1(bytesOfLua(state, 1)));
      return 1;
    });
    define(L, 'redis', 'log', () => 0);
    globalArray(L, 'KEYS', keys);
    globalArray(L, 'ARGV', argv);
    lua.lua_getglobal(L, luaString('__redis__err__handler'));
    load(L, script);
    if (lua.lua_pcall(L, 0, 1, 1) !== lua.LUA_OK) throw scriptError(L, sha1(script));
    const reply = replyOf(L, -1);
    if (reply instanceof Error) throw reply;
    return reply;
  } finally {
    lua.lua_close(L);
  }
}

/** Compiles `script` on the top of the stack, or throws Redis's error for a script that does not compile. */
function load(L: unknown, script: Arg): void {
  const code = typeof script === 'string' ? luaString(script) : new Uint8Array(script);
  if (lauxlib.luaL_loadbuffer(L, code, null, luaString('@user_script')) !== lua.LUA_OK) {
    // Lua 5.1 (Redis's) quotes the end of the script; fengari's Lua 5.3 does not.
    const reason = bytesOfLua(L, -1)
      .toString('utf8')
      .replace(/ near <eof>$/, " near '<eof>'");
    throw new Error(`ERR Error compiling script (new function): ${reason}`);
  }
}

/** Throws Redis's error for a script that does not compile (SCRIPT LOAD). */
export function checkScript(script: Arg): void {
  const L = lauxlib.luaL_newstate();
  try {
    load(L, script);
  } finally {
    lua.lua_close(L);
  }
}

/** The error a failed script answers: the `{err=…}` table, where it failed, and the script's SHA1. */
function scriptError(L: unknown, sha: string): Error {
  const field = (name: string): string | undefined => {
    lua.lua_getfield(L, -1, luaString(name));
    const type = lua.lua_type(L, -1);
    const value =
      type === lua.LUA_TSTRING || type === lua.LUA_TNUMBER
        ? bytesOfLua(L, -1).toString('utf8')
        : undefined;
    lua.lua_settop(L, -2);
    return value;
  };
  if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) {
    return new Error(`ERR Error running script, script: ${sha}`);
  }
  const message = field('err') ?? 'ERR unknown error';
  const source = field('source');
  const line = field('line');
  return new Error(
    source !== undefined && line !== undefined
      ? `${message} script: ${sha}, on ${source}:${line}.`
      : `${message} script: ${sha}`,
  );
}
