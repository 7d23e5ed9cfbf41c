/**
 * Runs a Lua script as Redis 7 runs one for EVAL (https://redis.io/docs/latest/develop/interactive/programmability/
 * eval-intro/), on fengari, the Lua VM ioredis-mock ships with (a Lua 5.3 where Redis has 5.1), in Redis's script
 * environment: its libraries (`lua-libraries.ts`: `cjson`, `cmsgpack`, `struct`, `bit`), Lua 5.1's functions and
 * read-only globals (`lua-environment.ts`). One Lua state runs a keyspace's scripts ({@link ScriptEngine}).
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
 * - `redis.status_reply`, `redis.error_reply`, `redis.sha1hex`, `redis.log`, `redis.replicate_commands`,
 *   `redis.set_repl`, `redis.setresp(2)`, `redis.breakpoint`, `redis.debug` and the constants are there.
 */
import { Logger } from '@nestjs/common';
import { createHash } from 'node:crypto';
import { LOG_CONTEXT } from '../util/log-context';
import { protectGlobals, setRealGlobal } from './lua-environment';
import { openRedisLibraries } from './lua-libraries';
import {
  bytesOfLua,
  checkBytes,
  lauxlib,
  lua,
  lualib,
  luaString,
  numberText,
  pushBytes,
  pushNumber,
  withRedisNumbers,
  setFunction,
} from './lua-vm';
import { type Arg, REDIS_VERSION, replyError } from './redis-replies';

/** A status reply (`+OK`), told apart from a bulk string. */
export class Status {
  /** UTF-8 text as a string, other bytes as a Buffer (a `…Buffer` method answers the bytes). */
  constructor(readonly text: string | Buffer) {}
}

/** What a command answers a script: a reply, or the error it failed with. */
export type ScriptCall = (name: Arg, args: Arg[]) => unknown;

export function sha1(script: string | Buffer): string {
  return createHash('sha1').update(script).digest('hex');
}

/**
 * Redis's error handler (its `eval.c`): errors become `{err=…}` tables that say where the script failed, the caller's
 * line when the error came from a C function (fengari's JS functions are of kind 'J'). Kept in the registry as well,
 * out of scripts' reach.
 */
const PRELUDE = `
local dbg = debug
function __redis__err__handler(err)
  local i = dbg.getinfo(2,'nSl')
  if i and (i.what == 'C' or i.what == 'J') then
    i = dbg.getinfo(3,'nSl')
  end
  if type(err) ~= 'table' then
    err = {err='ERR ' .. tostring(err)}
  end
  if i then
    err['source'] = i.source
    err['line'] = i.currentline
  end
  return err
end
redis = {LOG_DEBUG=0, LOG_VERBOSE=1, LOG_NOTICE=2, LOG_WARNING=3}
`;
const HANDLER = luaString('__redis__err__handler');

/** A Lua string as a command argument or reply: UTF-8 text as a string, other bytes as a Buffer. */
function textOrBytes(bytes: Buffer): string | Buffer {
  const text = bytes.toString('utf8');
  return Buffer.byteLength(text) === bytes.length && Buffer.from(text).equals(bytes)
    ? text
    : Buffer.from(bytes);
}

function pushTable(L: unknown, field: string, text: string | Buffer): void {
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
    lua.lua_checkstack(L, 3); // fengari, like Lua, guarantees a function only 20 values
    lua.lua_createtable(L, items.length, 0);
    items.forEach((item: unknown, i) => {
      pushReply(L, item);
      lua.lua_rawseti(L, -2, i + 1);
    });
  } else if (typeof reply === 'number') pushBytes(L, String(reply));
  else lua.lua_pushboolean(L, false);
}

/**
 * The bytes of a status or error a script returned, as Redis replies them (`luaReplyToRedisReply`): up to the first
 * zero byte (read as a C string), line breaks as spaces (a status or error reply is one line).
 */
function lineOf(bytes: Buffer): Buffer {
  const zero = bytes.indexOf(0);
  const line = Buffer.from(zero < 0 ? bytes : bytes.subarray(0, zero));
  for (let i = 0; i < line.length; i++) if (line[i] === 0x0d || line[i] === 0x0a) line[i] = 0x20;
  return line;
}

/** Lua 5.1's LUAI_MAXCSTACK, which bounds the stack a script's reply is read on. */
const MAX_STACK = 8000;
const STACK_LIMIT = 'ERR reached lua stack limit';

/**
 * A script's value at `index` as Redis replies it (errors as `Error`s, statuses as {@link Status}), `depth` tables
 * deep. As in Redis, a table too deep for Lua 5.1's stack (the handler, the reply, then a value a level) is replied
 * as an error where it stands.
 */
function replyOf(L: unknown, index: number, depth = 0): unknown {
  if (2 + depth + 4 > MAX_STACK || !lua.lua_checkstack(L, 4)) return replyError(STACK_LIMIT);
  const type = lua.lua_type(L, index);
  if (type === lua.LUA_TNUMBER) {
    // C's (long long) cast: -0.5 is 0, not -0.
    const n = Math.trunc(lua.lua_tonumber(L, index));
    return n === 0 ? 0 : n;
  }
  if (type === lua.LUA_TSTRING) return textOrBytes(bytesOfLua(L, index));
  if (type === lua.LUA_TBOOLEAN) return lua.lua_toboolean(L, index) ? 1 : null;
  if (type !== lua.LUA_TTABLE) return null;
  const at = lua.lua_absindex(L, index);
  for (const field of ['err', 'ok']) {
    // Raw, as Redis reads them: a metamethod must not run outside the script's protected call.
    pushBytes(L, field);
    const fieldType = lua.lua_rawget(L, at);
    if (fieldType === lua.LUA_TSTRING) {
      const bytes = lineOf(bytesOfLua(L, -1));
      lua.lua_settop(L, -2);
      return field === 'err' ? replyError(bytes.toString('utf8')) : new Status(textOrBytes(bytes));
    }
    lua.lua_settop(L, -2);
  }
  const items: unknown[] = [];
  for (let i = 1; lua.lua_rawgeti(L, at, i) !== 0; i++) {
    items.push(replyOf(L, -1, depth + 1));
    lua.lua_settop(L, -2);
  }
  lua.lua_settop(L, -2);
  return items;
}

/** `%.17g`, as Redis writes a Lua number given to a command. */
function numberArg(n: number): string {
  return Number.isInteger(n) && Math.abs(n) < 1e17 && !Object.is(n, -0)
    ? String(n)
    : numberText(n, 17);
}

const BAD_ARGUMENT = 'ERR Lua redis lib command arguments must be strings or integers';
const NO_ARGUMENT = 'ERR Please specify at least one argument for this redis lib call';

/** `redis.call` (`raise`) and `redis.pcall`: the command's reply, or its error raised or returned as `{err=…}`. */
function redisCall(call: ScriptCall, raise: boolean): (L: unknown) => number {
  return (L) => {
    const count = lua.lua_gettop(L);
    let result: unknown;
    if (count === 0) result = replyError(NO_ARGUMENT);
    else {
      const args: Arg[] = [];
      for (let i = 1; i <= count; i++) {
        const type = lua.lua_type(L, i);
        if (type === lua.LUA_TNUMBER) args.push(numberArg(lua.lua_tonumber(L, i)));
        else if (type === lua.LUA_TSTRING) args.push(textOrBytes(bytesOfLua(L, i)));
        else {
          result = replyError(BAD_ARGUMENT);
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

/** `redis.REDIS_VERSION_NUM`: {@link REDIS_VERSION} as 0x00MMmmpp. */
const REDIS_VERSION_NUM = 0x07000f;
/** Redis's `LL_DEBUG` … `LL_WARNING`, and where `redis.log` writes each. */
const LOG_LEVELS = ['debug', 'verbose', 'log', 'warn'] as const;
const REPL_FLAGS = { REPL_NONE: 0, REPL_AOF: 1, REPL_SLAVE: 2, REPL_REPLICA: 2, REPL_ALL: 3 };

const scriptLogger = new Logger(LOG_CONTEXT);

/**
 * Redis's `luaPushErrorBuff` of `redis.error_reply`'s text: `-CODE message` or `CODE message` keeps its code (the
 * first word), a text without a space gets `ERR`; a line end at the end is trimmed.
 */
function errorText(text: string): string {
  const buffer = text.startsWith('-') ? text : `-${text}`;
  const space = buffer.indexOf(' ');
  const [code, message] =
    space < 0 ? ['ERR', buffer.slice(1)] : [buffer.slice(1, space), buffer.slice(space + 1)];
  return `${code} ${message.replace(/[\r\n]+$/, '')}`;
}

/** Raises Redis's `luaPushError` + `luaError`: an `{err=…}` table with `ERR ` before a message that has no code. */
function raiseReplyError(L: unknown, message: string): never {
  pushTable(L, 'err', `ERR ${message}`);
  lua.lua_error(L);
  throw new Error('unreachable: lua_error returned');
}

/** `redis.log(level, message, …)`: Redis's checks, then the message (its parts joined by spaces) to Nest's logger. */
function redisLog(L: unknown): number {
  const count = lua.lua_gettop(L);
  if (count < 2) raiseReplyError(L, 'redis.log() requires two arguments or more.');
  if (!lua.lua_isnumber(L, 1)) raiseReplyError(L, 'First argument must be a number (log level).');
  const level = Math.trunc(lua.lua_tonumber(L, 1));
  if (!(level >= 0 && level < LOG_LEVELS.length)) raiseReplyError(L, 'Invalid debug level.');
  const parts: string[] = [];
  for (let i = 2; i <= count; i++) {
    const type = lua.lua_type(L, i);
    if (type === lua.LUA_TSTRING || type === lua.LUA_TNUMBER)
      parts.push(bytesOfLua(L, i).toString('utf8'));
  }
  scriptLogger[LOG_LEVELS[level]](`Lua script: ${parts.join(' ')}`);
  return 0;
}

/** Builds the `redis` table of a new state: its commands run by what `current()` gives at the time of the call. */
function setRedisTable(L: unknown, current: () => ScriptCall): void {
  lua.lua_getglobal(L, luaString('redis'));
  const call: ScriptCall = (name, args) => current()(name, args);
  setFunction(L, 'call', redisCall(call, true));
  setFunction(L, 'pcall', redisCall(call, false));
  setFunction(L, 'sha1hex', (state) => {
    if (lua.lua_gettop(state) !== 1) raiseReplyError(state, 'wrong number of arguments');
    pushBytes(state, sha1(checkBytes(state, 1)));
    return 1;
  });
  // `{ok=…}` and `{err=…}`, or an `{err=…}` saying what is wrong with the argument (returned, not raised).
  setFunction(L, 'status_reply', (state) => {
    if (lua.lua_gettop(state) !== 1 || lua.lua_type(state, 1) !== lua.LUA_TSTRING) {
      pushTable(state, 'err', 'ERR wrong number or type of arguments');
    } else pushTable(state, 'ok', bytesOfLua(state, 1));
    return 1;
  });
  setFunction(L, 'error_reply', (state) => {
    if (lua.lua_gettop(state) !== 1 || lua.lua_type(state, 1) !== lua.LUA_TSTRING) {
      pushTable(state, 'err', 'ERR wrong number or type of arguments');
    } else pushTable(state, 'err', errorText(bytesOfLua(state, 1).toString('utf8')));
    return 1;
  });
  setFunction(L, 'log', redisLog);
  setFunction(L, 'replicate_commands', (state) => {
    lua.lua_pushboolean(state, true);
    return 1;
  });
  setFunction(L, 'set_repl', (state) => {
    if (lua.lua_gettop(state) !== 1)
      raiseReplyError(state, 'redis.set_repl() requires two arguments.');
    const flags = Math.trunc(lua.lua_tonumber(state, -1));
    if ((flags & ~REPL_FLAGS.REPL_ALL) !== 0) {
      raiseReplyError(
        state,
        'Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.',
      );
    }
    return 0; // one process: nothing is propagated anyway
  });
  setFunction(L, 'setresp', (state) => {
    if (lua.lua_gettop(state) !== 1)
      raiseReplyError(state, 'redis.setresp() requires one argument.');
    const resp = Math.trunc(lua.lua_tonumber(state, 1));
    if (resp !== 2 && resp !== 3) raiseReplyError(state, 'RESP version must be 2 or 3.');
    // Commands answer a script in RESP2's forms here; RESP3's (maps, doubles, …) would be another reply conversion.
    if (resp === 3)
      raiseReplyError(state, 'redis.setresp(3) is not supported by the embedded cache.');
    return 0;
  });
  setFunction(L, 'breakpoint', (state) => {
    lua.lua_pushboolean(state, false); // no debugging session (SCRIPT DEBUG) here
    return 1;
  });
  setFunction(L, 'debug', () => 0);
  for (const [name, value] of Object.entries(REPL_FLAGS)) {
    pushNumber(L, value);
    lua.lua_setfield(L, -2, luaString(name));
  }
  pushBytes(L, REDIS_VERSION);
  lua.lua_setfield(L, -2, luaString('REDIS_VERSION'));
  pushNumber(L, REDIS_VERSION_NUM);
  lua.lua_setfield(L, -2, luaString('REDIS_VERSION_NUM'));
  lua.lua_settop(L, -2);
}

/** Sets global `name` to an array of `items` (in the real table behind the protection's view). */
function setGlobalArray(L: unknown, name: string, items: readonly Arg[]): void {
  lua.lua_createtable(L, items.length, 0);
  items.forEach((item, i) => {
    pushBytes(L, item);
    lua.lua_rawseti(L, -2, i + 1);
  });
  setRealGlobal(L, name);
}

/**
 * The Lua state that runs a keyspace's scripts, one after another, as Redis's one Lua VM runs all of a server's: built
 * on the first script (Lua's libraries, Redis's, the `redis` table, the protection of the globals), each script
 * compiled once and kept (by its SHA1, until {@link reset}), only `KEYS` and `ARGV` set again for each run. A script
 * cannot leave globals behind for the next one (writing one fails, as in Redis); `cjson`'s settings do stay, as
 * they do in Redis. SCRIPT FLUSH calls {@link reset}, as it gives Redis a new Lua VM.
 */
export class ScriptEngine {
  private L: unknown = undefined;
  private call: ScriptCall | undefined;

  private state(): unknown {
    if (this.L !== undefined) return this.L;
    const L = lauxlib.luaL_newstate();
    lualib.luaL_openlibs(L);
    openRedisLibraries(L);
    if (lauxlib.luaL_dostring(L, luaString(PRELUDE)) !== lua.LUA_OK) {
      throw new Error(`the script prelude failed to load: ${bytesOfLua(L, -1).toString('utf8')}`);
    }
    lua.lua_getglobal(L, HANDLER);
    lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, HANDLER);
    setRedisTable(L, () => {
      if (this.call === undefined) throw replyError('ERR redis.call outside a script run');
      return this.call;
    });
    protectGlobals(L);
    lua.lua_settop(L, 0);
    return (this.L = L);
  }

  /**
   * Runs `script` with `keys` and `argv`, its commands run by `call`: its reply as Redis gives it (a {@link Status}
   * for a status), or throws Redis's error. A script cannot start another (Redis refuses EVAL inside a script; the
   * commands a script may call never run one). `compiled` is called once the script has compiled, before it runs
   * (EVAL caches it then, as Redis's `luaCreateFunction` does; a script that does not compile is not cached).
   */
  run(
    script: Arg,
    keys: readonly Arg[],
    argv: readonly Arg[],
    call: ScriptCall,
    compiled?: () => void,
  ): unknown {
    return withRedisNumbers(() => this.runWithRedisNumbers(script, keys, argv, call, compiled));
  }

  private runWithRedisNumbers(
    script: Arg,
    keys: readonly Arg[],
    argv: readonly Arg[],
    call: ScriptCall,
    compiled: (() => void) | undefined,
  ): unknown {
    if (this.call !== undefined) throw replyError('ERR a script cannot run another script');
    const L = this.state();
    const sha = sha1(script);
    this.call = call;
    let failed = true;
    try {
      lua.lua_settop(L, 0);
      lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, HANDLER);
      const name = luaString(`f_${sha}`);
      if (lua.lua_getfield(L, lua.LUA_REGISTRYINDEX, name) !== lua.LUA_TFUNCTION) {
        lua.lua_settop(L, -2);
        try {
          load(L, script);
        } catch (error) {
          failed = false; // a script that does not compile leaves the state as it was
          throw error;
        }
        lua.lua_pushvalue(L, -1);
        lua.lua_setfield(L, lua.LUA_REGISTRYINDEX, name);
      }
      compiled?.();
      // A chunk's `_ENV` is an upvalue a script can assign (Lua 5.3): each run starts from the globals' view.
      lua.lua_rawgeti(L, lua.LUA_REGISTRYINDEX, lua.LUA_RIDX_GLOBALS);
      lua.lua_setupvalue(L, -2, 1);
      setGlobalArray(L, 'KEYS', keys);
      setGlobalArray(L, 'ARGV', argv);
      const status = lua.lua_pcall(L, 0, 1, 1);
      let outcome: unknown;
      try {
        outcome = status === lua.LUA_OK ? replyOf(L, -1) : scriptError(L, sha);
      } catch (error) {
        // A reply nested deeper than JS's stack reads (Redis's own limit is about 8000 levels).
        if (error instanceof RangeError) throw replyError(STACK_LIMIT);
        throw error;
      }
      failed = false;
      if (outcome instanceof Error) throw outcome;
      return outcome;
    } finally {
      this.call = undefined;
      // An error fengari did not catch (its state may be half way through something): start a new state next time.
      if (failed) this.reset();
      else lua.lua_settop(L, 0);
    }
  }

  /** Lets the state go: the next script builds a new one (SCRIPT FLUSH). */
  reset(): void {
    if (this.L !== undefined) lua.lua_close(this.L);
    this.L = undefined;
  }
}

/** Redis 7's script flags, given in a script's first line (`#!lua flags=no-writes,allow-oom`). */
export type ScriptFlag =
  'no-writes' | 'allow-oom' | 'allow-stale' | 'no-cluster' | 'allow-cross-slot-keys';

const SCRIPT_FLAGS: readonly ScriptFlag[] = [
  'no-writes',
  'allow-oom',
  'allow-stale',
  'no-cluster',
  'allow-cross-slot-keys',
];

/**
 * A script's shebang as Redis 7.0's `evalExtractShebangFlags` reads it: `undefined` without one (the script runs as
 * before Redis 7, "compatibility mode"), else its flags and the length of its first line (which the script is
 * compiled without, its line feed kept so that line numbers stay). Throws Redis's error for a shebang it refuses.
 */
export function shebangOf(
  script: Arg,
): { flags: ReadonlySet<ScriptFlag>; length: number } | undefined {
  if (
    typeof script === 'string' ? !script.startsWith('#!') : script[0] !== 0x23 || script[1] !== 0x21
  )
    return undefined;
  const bytes = typeof script === 'string' ? Buffer.from(script, 'utf8') : script;
  const end = bytes.indexOf(0x0a);
  if (end < 0) throw replyError('ERR Invalid script shebang');
  const parts = bytes
    .subarray(0, end)
    .toString('utf8')
    .split(/[ \t\r\v\f]+/)
    .filter(Boolean);
  if (parts.length === 0) throw replyError('ERR Invalid engine in script shebang');
  if (parts[0] !== '#!lua')
    throw replyError(`ERR Unexpected engine in script shebang: ${parts[0]}`);
  const flags = new Set<ScriptFlag>();
  for (const part of parts.slice(1)) {
    if (!part.startsWith('flags=')) throw replyError(`ERR Unknown lua shebang option: ${part}`);
    const given = part.slice('flags='.length);
    for (const flag of given === '' ? [] : given.split(',')) {
      if (!SCRIPT_FLAGS.includes(flag as ScriptFlag)) {
        throw replyError(`ERR Unexpected flag in script shebang: ${flag}`);
      }
      flags.add(flag as ScriptFlag);
    }
  }
  return { flags, length: end };
}

/** Compiles `script` on the top of the stack, or throws Redis's error for a script that does not compile. */
function load(L: unknown, script: Arg): void {
  const shebang = shebangOf(script);
  const whole = typeof script === 'string' ? luaString(script) : new Uint8Array(script);
  // Without its first line, its line feed kept (as Redis compiles it).
  const code = shebang === undefined ? whole : whole.subarray(shebang.length);
  if (lauxlib.luaL_loadbuffer(L, code, null, luaString('@user_script')) !== lua.LUA_OK) {
    // Lua 5.1 (Redis's) quotes the end of the script; fengari's Lua 5.3 does not.
    const reason = bytesOfLua(L, -1)
      .toString('utf8')
      .replace(/ near <eof>$/, " near '<eof>'")
      .replace(/(:\d+: )(<\w+>) expected/, "$1'$2' expected");
    throw replyError(`ERR Error compiling script (new function): ${reason}`);
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
/**
 * A runtime error of Lua 5.3 worded as Lua 5.1 words it (`luaG_typeerror`): 5.3's `attempt to index a nil value
 * (local 't')` is 5.1's `attempt to index local 't' (a nil value)`, as Redis answers it.
 */
export function lua51Wording(message: string): string {
  return message.replace(
    /attempt to (.+?) a (\w+) value \((local|global|field|method|upvalue) ('(?:[^'\\]|\\.)*')\)/,
    'attempt to $1 $3 $4 (a $2 value)',
  );
}

function scriptError(L: unknown, sha: string): Error {
  const field = (name: string): string | undefined => {
    pushBytes(L, name);
    lua.lua_rawget(L, -2);
    const type = lua.lua_type(L, -1);
    const value =
      type === lua.LUA_TSTRING || type === lua.LUA_TNUMBER
        ? bytesOfLua(L, -1).toString('utf8')
        : undefined;
    lua.lua_settop(L, -2);
    return value;
  };
  if (lua.lua_type(L, -1) !== lua.LUA_TTABLE) {
    return replyError(`ERR Error running script, script: ${sha}`);
  }
  const message = lua51Wording(field('err') ?? 'ERR unknown error');
  const source = field('source');
  const line = field('line');
  return replyError(
    source !== undefined && line !== undefined
      ? `${message} script: ${sha}, on ${source}:${line}.`
      : `${message} script: ${sha}`,
  );
}
