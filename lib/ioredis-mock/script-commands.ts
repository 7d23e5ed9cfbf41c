/**
 * EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT LOAD|EXISTS|FLUSH|KILL|HELP and ioredis's defined commands
 * (`defineCommand`), run by `lua-scripts.ts` with every `redis.call` going through the embedded client's rules, as a
 * command the client sends does (https://redis.io/docs/latest/commands/eval/,
 * https://redis.io/docs/latest/commands/script/).
 *
 * ioredis-mock's scripts call its command functions directly, out of the rules' reach, and it has no SCRIPT command.
 * Here a script's command is checked by its rule (arity errors as Redis words them in a script), refused for memory
 * as Redis 7.0 refuses it (see {@link ScriptRun}), run on ioredis-mock's own function of that command (or answered by
 * the rule), and what it emptied is deleted. Commands Redis refuses in a script (EVAL, MULTI, SUBSCRIBE, …), and
 * writes in a read-only one, are refused with its errors. The script cache is shared by a client and its duplicates.
 */
import RedisMock from 'ioredis-mock';
import {
  applyRule,
  checkArity,
  CommandReader,
  type CommandRule,
  isEmptyCollection,
  keyName,
  type KeyReader,
  type Outcome,
  reply,
} from './command-rule';
import { subcommandError } from './subcommands';
import { checkScript, ScriptEngine, sha1, shebangOf, Status } from './lua-scripts';
import {
  type Arg,
  argText,
  INT64_MIN,
  ioredisInteger,
  OUT_OF_MEMORY,
  parseInteger,
  replyError,
  wrongArity,
} from './redis-replies';

/** What scripts need of a guarded client. */
export interface ScriptHost {
  /** The ioredis-mock client. */
  readonly client: object;
  readonly reader: KeyReader;
  /** The rules of the client's commands. */
  readonly rules: Readonly<Record<string, CommandRule>>;
  /**
   * Whether memory is full as a script begins, once the evictions Redis makes before a command are made (see
   * `Keyspace.outOfMemory`).
   */
  readonly outOfMemory: () => boolean;
  /** Whether `command` may add memory (Redis's `denyoom` commands). */
  readonly deniesOom: (command: string) => boolean;
  /** Counts a command refused for memory. */
  readonly refusedForMemory: () => void;
  /** Takes the notes of a command's keyspace notifications: call what it returns once the command ran. */
  readonly noting?: (command: string, args: readonly Arg[]) => (() => void) | undefined;
}

/**
 * What Redis 7.0 keeps of one running script for its memory checks (`scriptVerifyOOM`): whether memory was full when
 * it began, and whether it has run a write command yet. Only its first write may be refused, and only then: a script
 * is never stopped halfway through its writes, and no key is evicted while it runs.
 */
interface ScriptRun {
  readonly outOfMemory: boolean;
  wrote: boolean;
}

type Method = (...args: unknown[]) => unknown;

const NOT_ALLOWED = 'ERR This Redis command is not allowed from script';
const UNKNOWN = 'ERR Unknown Redis command called from script';
const WRONG_ARGS = 'ERR Wrong number of args calling Redis command from script';
const NO_SCRIPT = 'NOSCRIPT No matching script. Please use EVAL.';

/**
 * Commands Redis 7.0 refuses in a script (`CMD_NOSCRIPT`), with their arity: Redis checks the number of arguments
 * first (`Wrong number of args calling Redis command from script`).
 */
const NOT_IN_SCRIPTS = new Map<string, number>([
  ['auth', -2],
  ['bgrewriteaof', 1],
  ['bgsave', -1],
  ['blmove', 6],
  ['blpop', -3],
  ['brpop', -3],
  ['brpoplpush', 4],
  ['bzpopmax', -3],
  ['bzpopmin', -3],
  ['debug', -2],
  ['discard', 1],
  ['eval', -3],
  ['eval_ro', -3],
  ['evalsha', -3],
  ['evalsha_ro', -3],
  ['exec', 1],
  ['failover', -1],
  ['fcall', -3],
  ['fcall_ro', -3],
  ['hello', -1],
  ['monitor', 1],
  ['multi', 1],
  ['psubscribe', -2],
  ['psync', -3],
  ['punsubscribe', -1],
  ['quit', -1],
  ['replconf', -1],
  ['replicaof', 3],
  ['reset', 1],
  ['role', 1],
  ['save', 1],
  ['shutdown', -1],
  ['slaveof', 3],
  ['ssubscribe', -2],
  ['subscribe', -2],
  ['sunsubscribe', -1],
  ['sync', 1],
  ['unsubscribe', -1],
  ['unwatch', 1],
  ['wait', 3],
  ['watch', -2],
]);

/**
 * Subcommands Redis 7.0 refuses in a script, by container command (each container's arity is -2), with their arity.
 * The others (`CONFIG HELP`, …) are looked up as commands.
 */
const SUBCOMMANDS_NOT_IN_SCRIPTS = new Map<string, ReadonlyMap<string, number>>([
  [
    'acl',
    new Map([
      ['cat', -2],
      ['deluser', -3],
      ['dryrun', -4],
      ['genpass', -2],
      ['getuser', 3],
      ['list', 2],
      ['load', 2],
      ['log', -2],
      ['save', 2],
      ['setuser', -3],
      ['users', 2],
      ['whoami', 2],
    ]),
  ],
  [
    'client',
    new Map([
      ['caching', 3],
      ['getname', 2],
      ['getredir', 2],
      ['id', 2],
      ['info', 2],
      ['kill', -3],
      ['list', -2],
      ['no-evict', 3],
      ['pause', -3],
      ['reply', 3],
      ['setname', 3],
      ['tracking', -3],
      ['trackinginfo', 2],
      ['unblock', -3],
      ['unpause', 2],
    ]),
  ],
  ['cluster', new Map([['reset', -2]])],
  [
    'config',
    new Map([
      ['get', -3],
      ['resetstat', 2],
      ['rewrite', 2],
      ['set', -4],
    ]),
  ],
  [
    'function',
    new Map([
      ['delete', 3],
      ['dump', 2],
      ['flush', -2],
      ['kill', 2],
      ['list', -2],
      ['load', -3],
      ['restore', -3],
      ['stats', 2],
    ]),
  ],
  [
    'latency',
    new Map([
      ['doctor', 2],
      ['graph', 3],
      ['histogram', -2],
      ['history', 3],
      ['latest', 2],
      ['reset', -2],
    ]),
  ],
  [
    'module',
    new Map([
      ['list', 2],
      ['load', -3],
      ['loadex', -3],
      ['unload', 3],
    ]),
  ],
  [
    'script',
    new Map([
      ['debug', 3],
      ['exists', -3],
      ['flush', -2],
      ['kill', 2],
      ['load', 3],
    ]),
  ],
]);

/**
 * Redis 7.0's write commands (`CMD_WRITE`), with their arity: a read-only script (`EVAL_RO`, `EVALSHA_RO`) is refused
 * them, after the check of the number of arguments.
 */
const WRITE_COMMANDS = new Map<string, number>([
  ['append', 3],
  ['bitfield', -2],
  ['bitop', -4],
  ['blmove', 6],
  ['blmpop', -5],
  ['blpop', -3],
  ['brpop', -3],
  ['brpoplpush', 4],
  ['bzmpop', -5],
  ['bzpopmax', -3],
  ['bzpopmin', -3],
  ['copy', -3],
  ['decr', 2],
  ['decrby', 3],
  ['del', -2],
  ['expire', -3],
  ['expireat', -3],
  ['flushall', -1],
  ['flushdb', -1],
  ['geoadd', -5],
  ['georadius', -6],
  ['georadiusbymember', -5],
  ['geosearchstore', -8],
  ['getdel', 2],
  ['getex', -2],
  ['getset', 3],
  ['hdel', -3],
  ['hincrby', 4],
  ['hincrbyfloat', 4],
  ['hmset', -4],
  ['hset', -4],
  ['hsetnx', 4],
  ['incr', 2],
  ['incrby', 3],
  ['incrbyfloat', 3],
  ['linsert', 5],
  ['lmove', 5],
  ['lmpop', -4],
  ['lpop', -2],
  ['lpush', -3],
  ['lpushx', -3],
  ['lrem', 4],
  ['lset', 4],
  ['ltrim', 4],
  ['migrate', -6],
  ['move', 3],
  ['mset', -3],
  ['msetnx', -3],
  ['persist', 2],
  ['pexpire', -3],
  ['pexpireat', -3],
  ['pfadd', -2],
  ['pfdebug', 3],
  ['pfmerge', -2],
  ['psetex', 4],
  ['rename', 3],
  ['renamenx', 3],
  ['restore-asking', -4],
  ['restore', -4],
  ['rpop', -2],
  ['rpoplpush', 3],
  ['rpush', -3],
  ['rpushx', -3],
  ['sadd', -3],
  ['sdiffstore', -3],
  ['set', -3],
  ['setbit', 4],
  ['setex', 4],
  ['setnx', 3],
  ['setrange', 4],
  ['sinterstore', -3],
  ['smove', 4],
  ['sort', -2],
  ['spop', -2],
  ['srem', -3],
  ['sunionstore', -3],
  ['swapdb', 3],
  ['unlink', -2],
  ['xack', -4],
  ['xadd', -5],
  ['xautoclaim', -6],
  ['xclaim', -6],
  ['xdel', -3],
  ['xreadgroup', -7],
  ['xsetid', -3],
  ['xtrim', -4],
  ['zadd', -4],
  ['zdiffstore', -4],
  ['zincrby', 4],
  ['zinterstore', -4],
  ['zmpop', -4],
  ['zpopmax', -2],
  ['zpopmin', -2],
  ['zrangestore', -5],
  ['zrem', -3],
  ['zremrangebylex', 4],
  ['zremrangebyrank', 4],
  ['zremrangebyscore', 4],
  ['zunionstore', -4],
]);

/**
 * Commands a read-only script is refused besides the write ones: Redis 7.0 refuses those that may replicate
 * (`CMD_MAY_REPLICATE`) as well, with the same error.
 */
const MAY_REPLICATE = new Map<string, number>([
  ['pfcount', -2],
  ['publish', 3],
  ['spublish', 3],
]);

const READ_ONLY_SCRIPT = 'ERR Write commands are not allowed from read-only scripts.';

const arityHolds = (arity: number, argc: number): boolean =>
  arity > 0 ? argc === arity : argc >= -arity;

/**
 * Refuses, with Redis's error in its order, a command Redis does not run from a script: the number of arguments
 * first, then `This Redis command is not allowed from script`; and `XREAD`/`XREADGROUP` with `BLOCK`, which they
 * refuse themselves.
 */
function refuseInScript(name: Arg, command: string, args: readonly Arg[]): void {
  const argc = args.length + 1;
  const arity = NOT_IN_SCRIPTS.get(command);
  if (arity !== undefined) {
    throw replyError(arityHolds(arity, argc) ? NOT_ALLOWED : WRONG_ARGS);
  }
  const subcommands = SUBCOMMANDS_NOT_IN_SCRIPTS.get(command);
  if (subcommands !== undefined) {
    if (argc < 2) throw replyError(WRONG_ARGS);
    const subcommandArity = subcommands.get(argText(args[0]).toLowerCase());
    if (subcommandArity !== undefined) {
      throw replyError(arityHolds(subcommandArity, argc) ? NOT_ALLOWED : WRONG_ARGS);
    }
  }
  if (command === 'xread' || command === 'xreadgroup') {
    // Their option loop, up to STREAMS: BLOCK with an argument after it is refused there.
    for (let i = 0; i < args.length; i++) {
      const option = argText(args[i]).toLowerCase();
      if (option === 'streams') break;
      if (option === 'block' && i + 1 < args.length) {
        throw replyError(
          `ERR ${argText(name)} command is not allowed with BLOCK option from scripts`,
        );
      }
      if (option === 'group') i += 2;
      else if (option === 'count' || option === 'block') i++;
    }
  }
}

/** Commands that answer a status (`+OK`), which a script receives as `{ok=…}`. */
const STATUS_COMMANDS = new Set([
  'set',
  'setex',
  'psetex',
  'mset',
  'hmset',
  'rename',
  'ltrim',
  'lset',
  'flushall',
  'flushdb',
  'ping',
  'type',
  'config',
]);

const HELP = [
  'SCRIPT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'DEBUG (YES|SYNC|NO)',
  '    Set the debug mode for subsequent scripts executed.',
  'EXISTS <sha1> [<sha1> ...]',
  '    Return information about the existence of the scripts in the script cache.',
  'FLUSH [ASYNC|SYNC]',
  '    Flush the Lua scripts cache. Very dangerous on replicas.',
  '    When called without the optional mode argument, the behavior is determined by the',
  '    lazyfree-lazy-user-flush configuration directive. Valid modes are:',
  '    * ASYNC: Asynchronously flush the scripts cache.',
  '    * SYNC: Synchronously flush the scripts cache.',
  'KILL',
  '    Kill the currently executing Lua script.',
  'LOAD <script>',
  '    Load a script into the scripts cache without executing it.',
  'HELP',
  '    Prints this help.',
];

/** Scripts by SHA1, one cache per keyspace reader (a client and its duplicates share it). */
/** A keyspace's scripts: the cache EVALSHA reads, and the Lua state that runs them. */
interface Scripts {
  readonly cache: Map<string, Arg>;
  readonly engine: ScriptEngine;
}

const caches = new WeakMap<KeyReader, Scripts>();

interface PipelineInternals {
  _addTransaction(emulator: Method, name: string, args: Arg[]): void;
}

/**
 * ioredis-mock's own function of each command, called synchronously: a pipeline of the client hands it over (with
 * the arguments as ioredis-mock prepares them) to its `_addTransaction`, caught here.
 */
export function rawCommands(
  client: object,
): (command: string, args: readonly Arg[]) => { value: unknown } | undefined {
  let pipeline: Record<string, unknown> | undefined;
  let caught: { emulator: Method; args: Arg[] } | undefined;
  return (command, args) => {
    if (pipeline === undefined) {
      const Pipeline = (RedisMock as unknown as { Pipeline: new (redis: object) => object })
        .Pipeline;
      pipeline = new Pipeline(client) as Record<string, unknown>;
      (pipeline as unknown as PipelineInternals)._addTransaction = (emulator, _name, processed) => {
        caught = { emulator, args: processed };
      };
    }
    const method = pipeline[command];
    // Not a command: the pipeline's own helpers, and what every object has (`constructor`, `toString`, …).
    if (typeof method !== 'function' || command.startsWith('_') || command in Object.prototype) {
      return undefined;
    }
    caught = undefined;
    (method as Method).apply(pipeline, [...args]);
    const found = caught as { emulator: Method; args: Arg[] } | undefined;
    return found === undefined ? undefined : { value: found.emulator(...found.args) };
  };
}

/** A reply in the form a script receives it: statuses told apart. */
function statusOf(command: string, args: readonly Arg[], value: unknown): unknown {
  if (typeof value !== 'string' || !STATUS_COMMANDS.has(command)) return value;
  if (command === 'set' && args.some((arg) => argText(arg).toUpperCase() === 'GET')) return value;
  return new Status(value);
}

/** A script's reply as a client receives it: statuses as their text, integers as ioredis reads them. */
function plain(value: unknown): unknown {
  if (value instanceof Status) return value.text;
  if (Array.isArray(value)) return value.map(plain);
  if (typeof value === 'number' && !Number.isSafeInteger(value)) {
    const n = Number.isFinite(value) && Math.abs(value) < 2 ** 63 ? BigInt(value) : INT64_MIN;
    return ioredisInteger(n);
  }
  return value;
}

/** The rules of the script commands of a guarded client (and its `defineCommand`, replaced to run through them). */
export function scriptRules(host: ScriptHost): Record<string, CommandRule> {
  let shared = caches.get(host.reader);
  if (shared === undefined) {
    shared = { cache: new Map<string, Arg>(), engine: new ScriptEngine() };
    caches.set(host.reader, shared);
  }
  const { cache: scripts, engine } = shared;
  const raw = rawCommands(host.client);
  const lookups = new CommandReader(host.reader);
  /** The names `defineCommand` gave this client's commands, in lower case. */
  const defined = new Set<string>();

  /** The script running now. */
  let run: ScriptRun | undefined;

  /** What `redis.call` runs: `name` through its rule, on ioredis-mock's function. */
  const call = (name: Arg, args: Arg[]): unknown => {
    const command = argText(name).toLowerCase();
    refuseInScript(name, command, args);
    // A command of `defineCommand` is the client's, not Redis's: a script does not find it (nor runs a script).
    if (defined.has(command)) throw replyError(UNKNOWN);
    // A container's subcommand is looked up with the command: an unknown one is an unknown command to a script.
    const subcommand = subcommandError(command, args);
    if (subcommand !== undefined) {
      throw replyError(subcommand.message.startsWith('ERR unknown') ? UNKNOWN : WRONG_ARGS);
    }
    const rule = Object.hasOwn(host.rules, command) ? host.rules[command] : undefined;
    // Redis's order (`scriptCall`): the arity, then memory, then the command. Only the arity of Redis's command table
    // is `Wrong number of args calling Redis command from script`: a command's own count of its arguments (`LPOP k 1
    // 2`, `PING a b`, an XADD field without its value) answers its own error, as outside a script.
    if (rule !== undefined) {
      try {
        checkArity(command, rule, args);
      } catch {
        throw replyError(WRONG_ARGS);
      }
    }
    if (run?.outOfMemory === true && !run.wrote && host.deniesOom(command)) {
      host.refusedForMemory();
      throw replyError(OUT_OF_MEMORY);
    }
    if (run !== undefined && WRITE_COMMANDS.has(command)) run.wrote = true;
    // As outside a script: the keys a rule answers for count as used, one use per command.
    let outcome: Outcome = { args };
    let runs = false;
    const noted = host.noting?.(command, args);
    lookups.begin();
    try {
      if (rule !== undefined) outcome = applyRule(command, rule, args, lookups);
      runs = !('reply' in outcome);
    } finally {
      lookups.forget(runs || rule?.noTouch === true);
    }
    if ('reply' in outcome) {
      noted?.();
      return statusOf(command, args, outcome.reply);
    }
    if ('write' in outcome) {
      const written = outcome.write();
      noted?.();
      return statusOf(command, args, written);
    }
    outcome.before?.();
    const ran = raw(outcome.command ?? command, outcome.args);
    if (ran === undefined) throw replyError(UNKNOWN);
    // ioredis-mock's few asynchronous commands (INFO, blocking reads) cannot answer a script.
    if (ran.value instanceof Promise) throw replyError(NOT_ALLOWED);
    for (const key of rule?.empties?.(outcome.args) ?? []) {
      if (isEmptyCollection(host.reader.valueOf(keyName(key)))) raw('del', [key]);
    }
    noted?.();
    const value = outcome.answer === undefined ? ran.value : outcome.answer(ran.value);
    return statusOf(command, args, value);
  };

  /** What `redis.call` runs in a read-only script: {@link call}, writes refused. */
  const readOnlyCall = (name: Arg, args: Arg[]): unknown => {
    const command = argText(name).toLowerCase();
    const arity = WRITE_COMMANDS.get(command) ?? MAY_REPLICATE.get(command);
    if (arity !== undefined) {
      refuseInScript(name, command, args);
      throw replyError(arityHolds(arity, args.length + 1) ? READ_ONLY_SCRIPT : WRONG_ARGS);
    }
    return call(name, args);
  };

  /**
   * Runs `script` with `numkeys key … arg …` (`rest`), as Redis's `evalGenericCommand`: the number of keys checked
   * first, then the script compiled (`compiled` called then: see {@link ScriptEngine.run}) and run.
   */
  const evaluate = (
    script: Arg,
    rest: readonly Arg[],
    readOnly = false,
    compiled?: () => void,
  ): unknown => {
    // Evictions as before any command, and the memory state the script is judged by (see `ScriptRun`).
    const outOfMemory = host.outOfMemory();
    let shebang: ReturnType<typeof shebangOf>;
    try {
      shebang = shebangOf(script);
    } catch {
      shebang = undefined; // refused when the script is compiled, after its arguments are checked
    }
    const flags = shebang?.flags;
    // A script that declares neither `no-writes` nor `allow-oom` is a command that may add memory (Redis's
    // `scriptFlagsToCmdFlags`), refused as such while memory is full.
    const mayAddMemory = flags !== undefined && !flags.has('no-writes') && !flags.has('allow-oom');
    if (mayAddMemory && outOfMemory) {
      host.refusedForMemory();
      throw replyError(OUT_OF_MEMORY);
    }
    const numkeys = keyCount(rest);
    const keys = rest.slice(1, 1 + Number(numkeys));
    const argv = rest.slice(1 + Number(numkeys));
    if (flags === undefined) shebangOf(script); // a shebang Redis refuses fails as the script is compiled
    // What Redis's `scriptPrepareForRun` checks of a script with flags.
    if (flags !== undefined && !flags.has('no-writes') && readOnly) {
      throw replyError('ERR Can not execute a script with write flag using *_ro command.');
    }
    const outer = run;
    run = { outOfMemory: outOfMemory && flags?.has('allow-oom') !== true, wrote: false };
    const readsOnly = readOnly || flags?.has('no-writes') === true;
    try {
      return plain(engine.run(script, keys, argv, readsOnly ? readOnlyCall : call, compiled));
    } finally {
      run = outer;
    }
  };

  const evalRule = (readOnly: boolean): CommandRule => ({
    arity: -3,
    // Cached once its number of keys is checked and it compiles, not before (as Redis caches it).
    check: (args) =>
      reply(evaluate(args[0], args.slice(1), readOnly, () => scripts.set(sha1(args[0]), args[0]))),
  });
  const evalshaRule = (readOnly: boolean): CommandRule => ({
    arity: -3,
    check: (args) => {
      const script = scripts.get(argText(args[0]).toLowerCase());
      if (script === undefined) {
        // Redis refuses a SHA1 that is not 40 bytes long at once, else checks the number of keys before it looks the
        // script up (`evalShaCommand`, `evalGenericCommand`).
        const sha = args[0];
        if ((typeof sha === 'string' ? Buffer.byteLength(sha) : sha.length) === 40) {
          keyCount(args.slice(1));
        }
        throw replyError(NO_SCRIPT);
      }
      return reply(evaluate(script, args.slice(1), readOnly));
    },
  });
  const script: CommandRule = {
    arity: -2,
    check: (args) => reply(scriptCommand(shared, args)),
  };
  defineCommands(host.client, evaluate, defined);
  const rules = {
    eval: evalRule(false),
    evalsha: evalshaRule(false),
    // Redis 7's read-only scripts: a write command in them fails.
    eval_ro: evalRule(true),
    evalsha_ro: evalshaRule(true),
    script,
  };
  // ioredis-mock's pipelines have no EVAL (theirs is called `evaluate`), EVALSHA or SCRIPT: added as the commands of
  // `defineCommand` are (the pipeline applies the rule, which answers).
  const custom = (host.client as { customCommands?: Record<string, Method> }).customCommands;
  for (const [name, rule] of Object.entries(rules)) {
    if (custom !== undefined) {
      custom[name] = (...args: unknown[]): unknown => {
        const outcome = rule.check?.(args as Arg[], host.reader, name);
        return outcome !== undefined && 'reply' in outcome ? outcome.reply : undefined;
      };
    }
  }
  return rules;
}

/**
 * The number of keys of EVAL and EVALSHA (`numkeys key … arg …`), or Redis's error for one that is not an integer, is
 * more than the arguments after it, or is negative (in that order, as `evalGenericCommand` checks it).
 */
function keyCount(rest: readonly Arg[]): bigint {
  const numkeys = parseInteger(rest[0]);
  if (numkeys === undefined) throw replyError('ERR value is not an integer or out of range');
  if (numkeys > BigInt(rest.length - 1)) {
    throw replyError("ERR Number of keys can't be greater than number of args");
  }
  if (numkeys < 0n) throw replyError("ERR Number of keys can't be negative");
  return numkeys;
}

function scriptCommand({ cache: scripts, engine }: Scripts, args: readonly Arg[]): unknown {
  const sub = argText(args[0]).toLowerCase();
  const arity = (ok: boolean): void => {
    if (!ok) throw replyError(wrongArity(`script|${sub}`));
  };
  switch (sub) {
    case 'load': {
      arity(args.length === 2);
      checkScript(args[1]);
      const sha = sha1(args[1]);
      scripts.set(sha, args[1]);
      return sha;
    }
    case 'exists':
      arity(args.length >= 2);
      return args.slice(1).map((sha) => (scripts.has(argText(sha).toLowerCase()) ? 1 : 0));
    case 'flush': {
      arity(args.length <= 2);
      const mode = args.length === 2 ? argText(args[1]).toUpperCase() : 'SYNC';
      if (mode !== 'SYNC' && mode !== 'ASYNC') {
        throw replyError('ERR SCRIPT FLUSH only support SYNC|ASYNC option');
      }
      scripts.clear();
      engine.reset();
      return 'OK';
    }
    case 'kill':
      arity(args.length === 1);
      throw replyError('NOTBUSY No scripts in execution right now.');
    case 'help':
      arity(args.length === 1);
      return HELP;
    default:
      throw replyError(`ERR unknown subcommand '${argText(args[0])}'. Try SCRIPT HELP.`);
  }
}

/**
 * ioredis's `defineCommand(name, { numberOfKeys, lua })`: the command runs its script with EVAL (the client's
 * method, so through its rules), in pipelines too. ioredis-mock's own runs it on its unguarded Lua bridge.
 */
function defineCommands(
  client: object,
  evaluate: (script: Arg, rest: readonly Arg[]) => unknown,
  defined: Set<string>,
): void {
  const target = client as Record<string, unknown> & { customCommands?: Record<string, Method> };
  target.defineCommand = (
    name: string,
    definition: { numberOfKeys?: number; lua: string },
  ): void => {
    defined.add(name.toLowerCase());
    const prefix = definition.numberOfKeys === undefined ? [] : [String(definition.numberOfKeys)];
    for (const [method, via] of [
      [name, 'eval'],
      [`${name}Buffer`, 'evalBuffer'],
    ]) {
      target[method] = (...args: unknown[]): unknown =>
        (target[via] as Method)(definition.lua, ...prefix, ...args);
    }
    if (target.customCommands !== undefined) {
      target.customCommands[name] = (...args: unknown[]): unknown =>
        evaluate(definition.lua, [...prefix, ...(args as Arg[])]);
    }
  };
}
