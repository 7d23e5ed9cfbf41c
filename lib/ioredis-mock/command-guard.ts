import type { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import type { Keyspace } from '../keyspace/keyspace';
import { applyRule, type CommandRule, type KeyReader, type Outcome } from './command-rule';
import { commandRules } from './command-rules';
import type { KeyspaceEvents } from './notifications';
import { OUT_OF_MEMORY, replyError, UNSUPPORTED_IOREDIS_MOCK, type Arg } from './redis-replies';
import { serverCommands } from './server-commands';
import { asError } from '../util/errors';

/**
 * Puts the command rules (`command-rules.ts`) in front of an ioredis-mock client's commands.
 *
 * ioredis-mock runs a command from three places: the client's methods (`client.hset(…)`), pipelines and
 * transactions (`client.multi().hset(…).exec()`), and Lua scripts (`redis.call` in EVAL and defined commands). The
 * first two are guarded here: each method of a ruled command is replaced with one that applies its rule first, and
 * pipelines of a guarded client apply it when they run the command (their `_addTransaction` hands over the
 * command's function and its arguments). Lua scripts call ioredis-mock's command functions directly, out of reach;
 * the keyspace's views refuse the values that would break snapshots (see `set` of `dataView` and `expiresView` in
 * `views.ts`).
 */

type Method = (...args: unknown[]) => unknown;
type Transform = (args: unknown[]) => unknown[];

/** What the guard uses of an ioredis-mock client besides its command methods. */
interface MockClient {
  subscriberMode?: boolean;
  duplicate(...args: unknown[]): Redis;
}

interface PipelineInternals {
  redis: unknown;
  _addTransaction(emulator: Method, name: string, args: Arg[], callback: unknown): unknown;
}

/**
 * Redis's `denyoom` commands: those that may add memory, refused with an OOM error while memory is over the limit
 * and no key can be evicted. Scripts are among them: a script may write, and its `redis.call`s are out of reach.
 */
const DENY_OOM = new Set([
  'append',
  'bitfield',
  'bitop',
  'blmove',
  'brpoplpush',
  'copy',
  'decr',
  'decrby',
  'eval',
  'evalsha',
  'geoadd',
  'georadius',
  'georadiusbymember',
  'geosearchstore',
  'getset',
  'hincrby',
  'hincrbyfloat',
  'hmset',
  'hset',
  'hsetnx',
  'incr',
  'incrby',
  'incrbyfloat',
  'linsert',
  'lmove',
  'lpush',
  'lpushx',
  'lset',
  'mset',
  'msetnx',
  'pfadd',
  'pfmerge',
  'psetex',
  'restore',
  'rpoplpush',
  'rpush',
  'rpushx',
  'sadd',
  'sdiffstore',
  'set',
  'setbit',
  'setex',
  'setnx',
  'setrange',
  'sinterstore',
  'sort',
  'sunionstore',
  'xadd',
  'zadd',
  'zdiffstore',
  'zincrby',
  'zinterstore',
  'zrangestore',
  'zunionstore',
]);

/** How long a command may spend evicting keys before it runs (Redis's default eviction tenacity allows ~500 µs). */
const EVICTION_BUDGET_MS = 0.5;

/** What a guarded client's commands are checked with. */
interface Guard {
  /** The keyspace whose memory limit is checked (none: no limit). */
  readonly keyspace: Keyspace | undefined;
  readonly reader: KeyReader;
  readonly rules: Record<string, CommandRule>;
}

/** The guards of the guarded clients (a pipeline finds its client's here). */
const guards = new WeakMap<object, Guard>();

function commandOf(method: string): string {
  return method.endsWith('Buffer') ? method.slice(0, -'Buffer'.length) : method;
}

/** Refuses a command that may add memory when memory is over the limit and nothing can be evicted. */
function admit(guard: Guard, command: string): void {
  if (DENY_OOM.has(command) && guard.keyspace?.admitWrite(EVICTION_BUDGET_MS) === false) {
    throw replyError(OUT_OF_MEMORY);
  }
}

/** ioredis's argument transformers (HSET and MSET take objects), which ioredis-mock applies too. */
const transformers: Record<string, Transform> =
  (
    RedisMock as unknown as {
      Command?: { transformers?: { argument?: Record<string, Transform> } };
    }
  ).Command?.transformers?.argument ?? {};

/** The arguments as ioredis-mock's methods hand them to a command (its `processArguments`). */
function commandArgs(raw: unknown[], command: string): Arg[] {
  let flat = raw;
  if (Object.hasOwn(transformers, command)) flat = transformers[command](raw);
  else if (raw.some(Array.isArray)) flat = ([] as unknown[]).concat(...raw);
  const args = new Array<Arg>(flat.length);
  for (let i = 0; i < flat.length; i++) {
    const arg = flat[i];
    args[i] =
      typeof arg === 'string'
        ? arg
        : arg == null
          ? ''
          : Buffer.isBuffer(arg)
            ? arg
            : (arg as { toString(): string }).toString();
  }
  return args;
}

/** A promise of `outcome`, with a node-style `callback` called too if given (as ioredis-mock's methods do). */
function settle(promise: Promise<unknown>, callback: Method | undefined): Promise<unknown> {
  if (callback !== undefined) {
    promise.then(
      (value) => process.nextTick(callback, null, value),
      (error: unknown) => process.nextTick(callback, error),
    );
  }
  return promise;
}

function guardMethod(client: MockClient, method: string, guard: Guard): void {
  const target = client as unknown as Record<string, unknown>;
  const original = target[method];
  const command = commandOf(method);
  const rule = Object.hasOwn(guard.rules, command) ? guard.rules[command] : undefined;
  if (typeof original !== 'function' || (rule === undefined && !DENY_OOM.has(command))) return;
  const run = original as Method;
  target[method] = (...raw: unknown[]): unknown => {
    // In subscriber mode ioredis-mock refuses the command with its own error.
    if (client.subscriberMode === true) return run(...raw);
    const callback = typeof raw[raw.length - 1] === 'function' ? (raw.pop() as Method) : undefined;
    if (rule === undefined) {
      try {
        admit(guard, command);
      } catch (error) {
        return settle(Promise.reject(asError(error)), callback);
      }
      if (callback !== undefined) raw.push(callback);
      return run(...raw);
    }
    const args = commandArgs(raw, command);
    let outcome: Outcome;
    try {
      outcome = applyRule(command, rule, args, guard.reader);
      if (!('reply' in outcome)) admit(guard, command);
    } catch (error) {
      const reason = asError(error);
      return settle(Promise.reject(reason), callback);
    }
    if ('reply' in outcome) return settle(Promise.resolve(outcome.reply), callback);
    // Never spread a long argument list: ioredis-mock spreads it twice more (MSET of an object with 30,000 keys
    // would overflow the stack). Unchanged arguments go as the caller gave them; changed ones in one array, which
    // ioredis-mock flattens, unless the command has an argument transformer (no rule changes those arguments).
    let given: unknown[];
    if (outcome.args === args) given = raw;
    else if (Object.hasOwn(transformers, command)) given = [...outcome.args];
    else given = [outcome.args];
    if (callback !== undefined) given.push(callback);
    return run(...given);
  };
}

let pipelinesGuarded = false;

/** Makes the pipelines of guarded clients apply the rules when they run a command. Once per process. */
function guardPipelines(): void {
  if (pipelinesGuarded) return;
  const prototype = (
    RedisMock as unknown as { Pipeline?: { prototype?: Partial<PipelineInternals> } }
  ).Pipeline?.prototype;
  const addTransaction = prototype?._addTransaction;
  if (prototype === undefined || typeof addTransaction !== 'function') {
    throw new Error(UNSUPPORTED_IOREDIS_MOCK('has no Pipeline.prototype._addTransaction'));
  }
  prototype._addTransaction = function (this: PipelineInternals, emulator, name, args, callback) {
    const guard =
      typeof this.redis === 'object' && this.redis !== null ? guards.get(this.redis) : undefined;
    const command = commandOf(name);
    const rule =
      guard !== undefined && Object.hasOwn(guard.rules, command) ? guard.rules[command] : undefined;
    if (guard === undefined || (rule === undefined && !DENY_OOM.has(command))) {
      return addTransaction.call(this, emulator, name, args, callback);
    }
    // The command's function is called with no arguments and reads them here: a long argument list is spread once,
    // not once more than ioredis-mock does.
    const guarded: Method = () => {
      const outcome = rule === undefined ? { args } : applyRule(command, rule, args, guard.reader);
      if ('reply' in outcome) return outcome.reply;
      admit(guard, command);
      return emulator(...outcome.args);
    };
    return addTransaction.call(this, guarded, name, [], callback);
  };
  pipelinesGuarded = true;
}

/**
 * Applies the command rules to `client`'s commands, reading its keys through `reader`. With `server`, the client is
 * the embedded one of that keyspace: its memory limit is applied (see {@link DENY_OOM}), the server commands are
 * answered from it (`server-commands.ts`), and the notification setting is shared. Its duplicates
 * (`client.duplicate()`, which share its keyspace) are guarded too.
 */
export function guardCommands(
  redis: Redis,
  reader: KeyReader,
  server?: { readonly keyspace: Keyspace; readonly events: KeyspaceEvents },
): void {
  guardPipelines();
  const client = redis as unknown as MockClient;
  const guard: Guard = {
    keyspace: server?.keyspace,
    reader,
    rules:
      server === undefined
        ? commandRules
        : { ...commandRules, ...serverCommands(server.keyspace, server.events) },
  };
  guards.set(client, guard);
  server?.events.share(redis);
  for (const command of new Set([...Object.keys(guard.rules), ...DENY_OOM])) {
    guardMethod(client, command, guard);
    guardMethod(client, `${command}Buffer`, guard);
  }
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (...args: unknown[]): Redis => {
    const copy = duplicate(...args);
    guardCommands(copy, reader, server);
    return copy;
  };
}
