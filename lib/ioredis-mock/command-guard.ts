import type { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { applyRule, type CommandRule, type KeyReader, type Outcome } from './command-rule';
import { commandRules } from './command-rules';
import { UNSUPPORTED_IOREDIS_MOCK, type Arg } from './redis-replies';
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

/** The readers of the guarded clients (a pipeline finds its client's here). */
const readers = new WeakMap<object, KeyReader>();

function ruleOf(method: string): [string, CommandRule] | undefined {
  const command = method.endsWith('Buffer') ? method.slice(0, -'Buffer'.length) : method;
  const rule = Object.hasOwn(commandRules, command) ? commandRules[command] : undefined;
  return rule === undefined ? undefined : [command, rule];
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

function guardMethod(client: MockClient, method: string, reader: KeyReader): void {
  const target = client as unknown as Record<string, unknown>;
  const original = target[method];
  const ruled = ruleOf(method);
  if (typeof original !== 'function' || ruled === undefined) return;
  const [command, rule] = ruled;
  const run = original as Method;
  target[method] = (...raw: unknown[]): unknown => {
    // In subscriber mode ioredis-mock refuses the command with its own error.
    if (client.subscriberMode === true) return run(...raw);
    const callback = typeof raw[raw.length - 1] === 'function' ? (raw.pop() as Method) : undefined;
    const args = commandArgs(raw, command);
    let outcome: Outcome;
    try {
      outcome = applyRule(command, rule, args, reader);
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
    const reader =
      typeof this.redis === 'object' && this.redis !== null ? readers.get(this.redis) : undefined;
    const ruled = reader === undefined ? undefined : ruleOf(name);
    if (reader === undefined || ruled === undefined) {
      return addTransaction.call(this, emulator, name, args, callback);
    }
    const [command, rule] = ruled;
    // The command's function is called with no arguments and reads them here: a long argument list is spread once,
    // not once more than ioredis-mock does.
    const guarded: Method = () => {
      const outcome = applyRule(command, rule, args, reader);
      return 'reply' in outcome ? outcome.reply : emulator(...outcome.args);
    };
    return addTransaction.call(this, guarded, name, [], callback);
  };
  pipelinesGuarded = true;
}

/**
 * Applies the command rules to `client`'s commands, reading its keyspace through `reader`; its duplicates
 * (`client.duplicate()`, which share its keyspace) are guarded too.
 */
export function guardCommands(redis: Redis, reader: KeyReader): void {
  guardPipelines();
  const client = redis as unknown as MockClient;
  readers.set(client, reader);
  for (const command of Object.keys(commandRules)) {
    guardMethod(client, command, reader);
    guardMethod(client, `${command}Buffer`, reader);
  }
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (...args: unknown[]): Redis => {
    const copy = duplicate(...args);
    guardCommands(copy, reader);
    return copy;
  };
}
