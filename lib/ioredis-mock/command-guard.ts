import type { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import type { Keyspace } from '../keyspace/keyspace';
import {
  applyRule,
  checkArity,
  CommandReader,
  type CommandRule,
  isEmptyCollection,
  type KeyReader,
  keyName,
  ofOneShape,
  type Outcome,
} from './command-rule';
import { addCommands } from './added-commands';
import { settle } from './callbacks';
import { emitBothMessageForms } from './pubsub-events';
import {
  dropSubscriptions,
  guardSubscriptions,
  isSubscriber,
  isSubscription,
  afterTransaction,
  asSent,
  pubsubPing,
  pubsubRules,
  queuedSubscription,
  SUBSCRIBER_MODE,
  subscriberRefusal,
  subscriptionCounts,
  transactionRefusal,
} from './pubsub-commands';
import { addBlockingCommands, blockingArityError, isBlocking, popOnce } from './blocking-commands';
import { clientRule, Connections, helloRule } from './client-command';
import { commandRules } from './command-rules';
import { cheapPipelines, redisArity, redisCommandNames, UNSUPPORTED } from './pipelines';
import type { KeyspaceEvents } from './notifications';
import {
  CONNECTION_CLOSED,
  KEY_PREFIX_UNSUPPORTED,
  OUT_OF_MEMORY,
  optionName,
  replyError,
  unknownCommand,
  UNSUPPORTED_IOREDIS_MOCK,
  wrongArity,
  type Arg,
} from './redis-replies';
import { withoutBlock } from './rules/streams';
import { asReplyError, runCalled, sentName, type SentCommand } from './sent-command';
import { scriptRules } from './script-commands';
import { serverCommands } from './server-commands';
import { subcommandError } from './subcommands';
import { asError } from '../util/errors';
import { keyAsText, keyToBytes } from '../format/key-bytes';

/**
 * Puts the command rules (`command-rules.ts`) in front of an ioredis-mock client's commands.
 *
 * ioredis-mock runs a command from three places: the client's methods (`client.hset(…)`), pipelines and
 * transactions (`client.multi().hset(…).exec()`), and Lua scripts (`redis.call` in EVAL and defined commands). The
 * first two are guarded here: each method of a ruled command is replaced with one that applies its rule first, and
 * pipelines of a guarded client apply it when they run the command (their `_addTransaction` hands over the
 * command's function and its arguments). Scripts are run by the rules of EVAL, EVALSHA and defined commands
 * (`script-commands.ts`), which apply the rules to each `redis.call`; the keyspace's views still refuse the values
 * that would break snapshots (see `set` of `dataView` and `expiresView` in `views.ts`). Commands ioredis-mock lacks
 * are added to the client first (`added-commands.ts`).
 */

type Method = (...args: unknown[]) => unknown;
type Transform = (args: unknown[]) => unknown[];

/** What the guard uses of an ioredis-mock client besides its command methods. */
interface MockClient {
  subscriberMode?: boolean;
  connected?: boolean;
  duplicate(...args: unknown[]): Redis;
}

interface PipelineInternals {
  redis: unknown;
  batch: unknown;
  _addTransaction(emulator: Method, name: string, args: Arg[], callback: unknown): unknown;
  exec(callback?: unknown): Promise<unknown>;
}

/** The transactions (`multi()`) of guarded clients, as opposed to their plain pipelines. */
const transactions = new WeakSet<object>();
/** Transactions with a command refused when it was queued (Redis then refuses EXEC), and the first such error. */
const discarded = new WeakMap<object, Error>();
/** The commands queued in each transaction, by name with their arguments (for a refusal that lists them). */
const queuedIn = new WeakMap<object, [string, readonly Arg[]][]>();
/**
 * The entries of each pipeline or transaction that `call('HGETALL', …)` queued, answered as Redis's flat array (see
 * `byCall`), and whether by `callBuffer`.
 */
const flatReplies = new WeakMap<object, Map<number, boolean>>();
/** The pipelines (not transactions) holding a (P|S)(UN)SUBSCRIBE, which change ioredis's subscriber mode. */
const subscribing = new WeakSet<object>();

export const EXECABORT = 'EXECABORT Transaction discarded because of previous errors.';

/** EXEC's refusal of a transaction one of whose commands was refused (`previousErrors`), as ioredis rejects with it. */
function execAbort(previousErrors: unknown[]): Error {
  return Object.assign(asReplyError(replyError(EXECABORT), { name: 'exec', args: [] }), {
    previousErrors,
  });
}

/** A command of a pipeline that failed: its error goes in its own entry of EXEC's reply. */
class Failed {
  constructor(readonly error: unknown) {}
}

/**
 * The field of the object a failed pipeline command answers. ioredis-mock passes every pipeline reply through its
 * reply transformers, and HGETALL's rebuilds an object from the reply's own fields: a failure travels as this one
 * field, holding a {@link Failed} no stored value can be, so that it comes out of any transformer as it went in.
 */
const FAILED = '\0persistent-cache:failed';

const failed = (error: unknown): Record<string, Failed> => ({ [FAILED]: new Failed(error) });

/** The failure a pipeline command answered (see {@link failAlone}), if it failed. */
function failureOf(reply: unknown): Failed | undefined {
  if (typeof reply !== 'object' || reply === null || !Object.hasOwn(reply, FAILED))
    return undefined;
  const failure = (reply as Record<string, unknown>)[FAILED];
  return failure instanceof Failed ? failure : undefined;
}

/**
 * A pipeline command's function that answers its failure as a value (see {@link failed}) instead of throwing it: an
 * error reply as ioredis gives it, naming the command it `sent` (see `asReplyError`).
 */
function failAlone(command: Method, sent?: SentCommand): Method {
  const failure = (error: unknown): Record<string, Failed> => failed(asReplyError(error, sent));
  return () => {
    try {
      const reply = command();
      return reply instanceof Promise ? reply.catch(failure) : reply;
    } catch (error) {
      return failure(error);
    }
  };
}

/** A pipeline command's own callback, given its failure as an error (see {@link failAlone}). */
function failedAsError(callback: Method): Method {
  return (error: unknown, reply: unknown) => {
    const failure = failureOf(reply);
    return failure !== undefined ? callback(failure.error) : callback(error, reply);
  };
}

/** Commands Redis refuses inside MULTI (its `no-multi` flag), of those the embedded client answers. */
const NO_MULTI = new Set(['save']);

/**
 * Redis's `denyoom` commands: those that may add memory, refused with an OOM error while memory is over the limit
 * and no key can be evicted. A script's are refused as Redis 7 refuses them (see `script-commands.ts`).
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

/**
 * Commands whose reply, when ioredis-mock answers it, may hold stored values (Buffers among them): their text methods
 * decode it (see {@link asText}). The others' replies are left as they are, without a detour through one more promise.
 */
const STORED_REPLIES = new Set([
  'brpoplpush',
  'getdel',
  'getex',
  'getset',
  'hgetall',
  'hkeys',
  'hrandfield',
  'hvals',
  'lmove',
  'lmpop',
  'lpop',
  'mget',
  'rpop',
  'rpoplpush',
  'sdiff',
  'sinter',
  'smembers',
  'spop',
  'srandmember',
  'sunion',
  'zmpop',
  'zpopmax',
  'zpopmin',
  'zrange',
  'zrangebylex',
]);

/**
 * Commands whose reply names keys or hash fields from the keyspace. A name given as bytes outside UTF-8 is held as a
 * string that keeps them (see `key-bytes.ts`): a text method answers it as ioredis decodes those bytes (U+FFFD for
 * each byte outside UTF-8), a `…Buffer` method as those very bytes (see {@link asBuffers}).
 */
const NAME_REPLIES = new Set([
  'keys',
  'scan',
  'randomkey',
  'hkeys',
  'hgetall',
  'hscan',
  'hrandfield',
]);

/**
 * Commands whose `…Buffer` method runs as the text one, its reply then made bytes here: ioredis-mock's own `…Buffer`
 * method writes a name's escaped bytes as U+FFFD.
 */
const RUN_AS_TEXT = new Set(['hrandfield']);

const unchanged = (reply: unknown): unknown => reply;

/** Whether the reply of `command` may hold stored values (see {@link STORED_REPLIES}); SET's does with its GET option. */
function repliesStored(command: string, args: readonly Arg[]): boolean {
  return command === 'set' ? setGets(args) : STORED_REPLIES.has(command);
}

function setGets(args: readonly Arg[]): boolean {
  for (let i = 2; i < args.length; i++) if (optionName(args[i]) === 'GET') return true;
  return false;
}

/** How long a command may spend evicting keys before it runs (Redis's default eviction tenacity allows ~500 µs). */
const EVICTION_BUDGET_MS = 0.5;

/** What a guarded client's commands are checked with. */
interface Guard {
  /** The keyspace whose memory limit is checked (none: no limit). */
  readonly keyspace: Keyspace | undefined;
  readonly reader: KeyReader;
  /** What the rules read through: the reader, one lookup per key and command. */
  readonly lookups: CommandReader;
  readonly rules: Record<string, CommandRule>;
  /** The client's own (unguarded) command methods, for a rule that runs another command instead. */
  readonly originals: Map<string, Method>;
  /** The client's own DEL, for the keys a command left holding an empty collection. */
  readonly del: Method;
  /** Whether the client takes no commands: it disconnected, or its keyspace stopped serving. */
  readonly closed: () => boolean;
  /** The keyspace notifications published (the embedded client's: none for a client of no keyspace). */
  readonly events: KeyspaceEvents | undefined;
}

/**
 * Takes the notes the keyspace notifications of `command` need before it runs, when any are published: call what it
 * returns once the command ran (see {@link KeyspaceEvents.begin}). With none published, costs one test.
 */
function noting(guard: Guard, command: string, args: readonly Arg[]): (() => void) | undefined {
  const events = guard.events;
  return events?.active === true ? events.begin(command, args, guard.reader) : undefined;
}

/**
 * Refuses a command sent on a closed client as ioredis does (a client that quit, or whose keyspace stopped serving
 * when the app closed): acknowledging a write no snapshot will hold would lose it silently.
 */
function refuseClosed(raw: unknown[]): Promise<unknown> {
  const callback = typeof raw[raw.length - 1] === 'function' ? (raw.pop() as Method) : undefined;
  const refused = settle(Promise.reject(new Error(CONNECTION_CLOSED)), callback);
  // A write nobody awaits (a timer still firing while the app closes) must not end the process with an unhandled
  // rejection before the final snapshot is committed: whoever awaits the promise still gets the error.
  refused.catch(() => undefined);
  return refused;
}

/** What `rule` decides for `command` (see {@link applyRule}). */
function decide(guard: Guard, command: string, rule: CommandRule, args: readonly Arg[]): Outcome {
  let ran = false;
  guard.lookups.begin();
  try {
    const outcome = applyRule(command, rule, args, guard.lookups);
    ran = !('reply' in outcome);
    return outcome;
  } finally {
    guard.lookups.forget(ran || rule.noTouch === true);
  }
}

/** Deletes the keys `rule` says the command may have emptied, if they are empty (Redis deletes them). */
function dropEmptied(guard: Guard, rule: CommandRule | undefined, args: readonly Arg[]): void {
  if (rule?.empties === undefined) return;
  for (const key of rule.empties(args)) {
    if (isEmptyCollection(guard.reader.valueOf(keyName(key)))) void guard.del(keyName(key));
  }
}

/** The guards of the guarded clients (a pipeline finds its client's here). */
const guards = new WeakMap<object, Guard>();

function commandOf(method: string): string {
  return method.endsWith('Buffer') ? method.slice(0, -'Buffer'.length) : method;
}

/** Refuses a write (a command of {@link DENY_OOM}) when memory is over the limit and nothing can be evicted. */
function admitWrite(guard: Guard): void {
  if (guard.keyspace?.admitWrite(EVICTION_BUDGET_MS) === false) throw replyError(OUT_OF_MEMORY);
}

/** Rejects with `error` as the error reply of `name` with the arguments `raw` (see `asReplyError`). */
function rejectAsSent(
  error: unknown,
  name: string,
  raw: unknown[],
  command: string,
): Promise<never> {
  return Promise.reject(asReplyError(error, { name, args: commandArgs(raw, command) }));
}

/** ioredis's argument transformers (HSET and MSET take objects), which ioredis-mock applies too. */
const transformers: Record<string, Transform> =
  (
    RedisMock as unknown as {
      Command?: { transformers?: { argument?: Record<string, Transform> } };
    }
  ).Command?.transformers?.argument ?? {};

function allStrings(raw: unknown[]): raw is string[] {
  for (let i = 0; i < raw.length; i++) if (typeof raw[i] !== 'string') return false;
  return true;
}

/** The arguments as ioredis-mock's methods hand them to a command (its `processArguments`). */
function commandArgs(raw: unknown[], command: string): Arg[] {
  // Words alone are the arguments as they are (the transformers change only objects and Maps).
  if (allStrings(raw)) return raw;
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

/**
 * Arguments for a method of ioredis-mock: in one array, which it flattens (never spread a long argument list: it
 * spreads it twice more, and MSET of an object with 30,000 keys would overflow the stack), unless the command has
 * an argument transformer (no rule changes those commands' arguments much).
 */
function argumentsFor(command: string, args: readonly Arg[]): unknown[] {
  return Object.hasOwn(transformers, command) ? [...args] : [args];
}

function guardMethod(client: MockClient, method: string, guard: Guard): void {
  const target = client as unknown as Record<string, unknown>;
  const original = target[method];
  const command = commandOf(method);
  const rule = Object.hasOwn(guard.rules, command) ? guard.rules[command] : undefined;
  const text = !method.endsWith('Buffer');
  // A Buffer method is guarded for its reply's Buffers alone (see `copyBuffers`).
  if (typeof original !== 'function' || (rule === undefined && !DENY_OOM.has(command) && text))
    return;
  const own = original as Method;
  const decodes = text && STORED_REPLIES.has(command);
  const decodesWithGet = text && command === 'set';
  const writes = DENY_OOM.has(command);
  const names = text && NAME_REPLIES.has(command);
  const asText = !text && RUN_AS_TEXT.has(command);
  guard.originals.set(method, own);
  target[method] = (...raw: unknown[]): unknown => {
    const name = sentName(command);
    if (guard.closed()) return refuseClosed(raw);
    let run = own;
    const callback = typeof raw[raw.length - 1] === 'function' ? (raw.pop() as Method) : undefined;
    // An error reply of ioredis-mock's, as ioredis gives it.
    const failed = (error: unknown): Promise<never> => rejectAsSent(error, name, raw, command);
    // A subscriber runs only the commands ioredis sends it, and Redis runs for it (see `pubsub-commands.ts`).
    if (isSubscriber(client)) {
      const refused = subscriberRefusal(client, command, commandArgs(raw, command));
      if (refused !== undefined) return settle(failed(refused), callback);
    }
    if (rule === undefined) {
      guard.reader.beginCommand?.();
      try {
        if (writes) admitWrite(guard);
      } catch (error) {
        return settle(failed(error), callback);
      }
      const noted = noting(guard, command, commandArgs(raw, command));
      const reply = run(...raw);
      noted?.();
      return settle(Promise.resolve(reply).then(text ? undefined : copyBuffers, failed), callback);
    }
    const args = commandArgs(raw, command);
    let outcome: Outcome;
    let noted: (() => void) | undefined;
    try {
      // Redis refuses a command for memory after its arity, before anything it checks of its arguments or keys.
      if (writes) {
        checkArity(command, rule, args);
        admitWrite(guard);
      }
      noted = noting(guard, command, args);
      outcome = decide(guard, command, rule, args);
      if ('write' in outcome) {
        const written = outcome.write();
        noted?.();
        return settle(Promise.resolve(replyOf(written, text, names)), callback);
      }
    } catch (error) {
      return settle(rejectAsSent(asError(error), name, args, command), callback);
    }
    if ('reply' in outcome) {
      noted?.();
      return settle(Promise.resolve(replyOf(outcome.reply, text, names)), callback);
    }
    if (outcome.command !== undefined) run = originalOf(guard, outcome.command, text);
    else if (asText) run = originalOf(guard, command, true);
    outcome.before?.();
    // Unchanged arguments go as the caller gave them; changed ones as `argumentsFor` says.
    let given: unknown[];
    if (outcome.args === args && run === own) given = raw;
    else given = argumentsFor(outcome.command ?? command, outcome.args);
    const answer = outcome.answer ?? (asText ? unchanged : undefined);
    const decode = decodes || (decodesWithGet && setGets(outcome.args));
    // ioredis-mock's commands change the keyspace before their promise settles: what they emptied goes now.
    const ran = run(...given) as Promise<unknown>;
    dropEmptied(guard, rule, outcome.args);
    noted?.();
    const answered =
      answer === undefined && !decode && text && !names
        ? ran.then(undefined, failed)
        : ran.then(answerWith(answer, text, decode, names), failed);
    return settle(answered, callback);
  };
}

/**
 * A reply a rule answered, as a text method (`text`) or a Buffer method gives it; a blocking command's rule answers
 * a promise of it.
 */
function replyOf(reply: unknown, text: boolean, names = false): unknown {
  const form = text ? (names ? namesAsText : asText) : asBuffers;
  return reply instanceof Promise ? reply.then(form) : form(reply);
}

/** The client's own method of `command` (its text or Buffer form). */
function originalOf(guard: Guard, command: string, text: boolean): Method {
  const method = guard.originals.get(text ? command : `${command}Buffer`);
  if (method === undefined) throw new Error(`no ioredis-mock method for ${command}`);
  return method;
}

/**
 * What a reply becomes: Redis's form (`answer`), then, for the commands' text methods (not `…Buffer`), with stored
 * Buffers as text: ioredis decodes every reply of a text method, ioredis-mock hands back the Buffer it stored. For a
 * `…Buffer` method, the strings of a rule's answer (a score it wrote, a key it names) as bytes, as a rule's reply.
 */
function answerWith(
  answer: ((reply: unknown) => unknown) | undefined,
  text: boolean,
  decode: boolean,
  names = false,
): (reply: unknown) => unknown {
  if (names && text) {
    return answer === undefined ? namesAsText : (reply) => namesAsText(answer(reply));
  }
  if (answer === undefined) return text ? asText : copyBuffers;
  if (!text) return (reply) => asBuffers(answer(reply));
  return decode ? (reply) => asText(answer(reply)) : answer;
}

/**
 * A reply a rule answered, as a `…Buffer` method gives it: every string in it as its UTF-8 bytes (as ioredis-mock's
 * own Buffer methods convert their replies), a key or field name as its bytes (see `key-bytes.ts`).
 */
export function asBuffers(reply: unknown): unknown {
  if (typeof reply === 'string') return keyToBytes(reply);
  if (Buffer.isBuffer(reply)) return Buffer.from(reply); // never the stored Buffer itself (see `copyBuffers`)
  if (Array.isArray(reply)) return reply.map(asBuffers);
  // A hash (HGETALL's): its values as bytes, its fields as they are (ioredis's `hgetallBuffer` keys are text).
  if (
    typeof reply === 'object' &&
    reply !== null &&
    Object.getPrototypeOf(reply) === Object.prototype
  ) {
    const hash = reply as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const field of Object.keys(hash)) {
      Object.defineProperty(out, keyAsText(field), {
        value: asBuffers(hash[field]),
        configurable: true,
        enumerable: true,
        writable: true,
      });
    }
    return out;
  }
  return reply;
}

/** `reply` with each Buffer in it (in arrays and hashes too) made `change(buffer)`; what holds none is kept as it is. */
function mapBuffers(reply: unknown, change: (buffer: Buffer) => unknown): unknown {
  if (typeof reply !== 'object' || reply === null) return reply;
  if (Buffer.isBuffer(reply)) return change(reply);
  if (Array.isArray(reply)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < reply.length; i++) {
      const item: unknown = reply[i];
      if (typeof item !== 'object' || item === null) continue;
      const changed = mapBuffers(item, change);
      if (changed !== item) (out ??= reply.slice())[i] = changed;
    }
    return out ?? reply;
  }
  if (Object.getPrototypeOf(reply) === Object.prototype) {
    const hash = reply as Record<string, unknown>;
    let out: Record<string, unknown> | undefined;
    for (const field of Object.keys(hash)) {
      if (Buffer.isBuffer(hash[field])) (out ??= { ...hash })[field] = change(hash[field]);
    }
    return out ?? reply;
  }
  return reply;
}

/**
 * `reply` with every Buffer in it copied. ioredis-mock hands out the Buffers the keyspace holds (a set's or sorted
 * set's members are shared by every key holding the same bytes, see `buffer-members.ts`): a caller changing a reply's
 * Buffer, which is its own with ioredis, would change stored values, and the snapshots.
 */
export function copyBuffers(reply: unknown): unknown {
  return mapBuffers(reply, (buffer) => Buffer.from(buffer));
}

/** `reply` with every Buffer in it decoded as UTF-8, as ioredis's text methods give it. */
export function asText(reply: unknown): unknown {
  return mapBuffers(reply, (buffer) => buffer.toString('utf8'));
}

/**
 * A reply naming keys or hash fields (see {@link NAME_REPLIES}) as a text method gives it: as {@link asText}, and each
 * name holding bytes outside UTF-8 as ioredis decodes those bytes (U+FFFD for each), field names of a hash too.
 */
export function namesAsText(reply: unknown): unknown {
  if (typeof reply === 'string') return keyAsText(reply);
  if (Buffer.isBuffer(reply)) return reply.toString('utf8');
  if (Array.isArray(reply)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < reply.length; i++) {
      const item: unknown = reply[i];
      const changed = namesAsText(item);
      if (changed !== item) (out ??= reply.slice())[i] = changed;
    }
    return out ?? reply;
  }
  if (
    typeof reply !== 'object' ||
    reply === null ||
    Object.getPrototypeOf(reply) !== Object.prototype
  ) {
    return reply;
  }
  const hash = reply as Record<string, unknown>;
  const fields = Object.keys(hash);
  let same = true;
  for (let i = 0; i < fields.length && same; i++) {
    const field = fields[i];
    same = keyAsText(field) === field && namesAsText(hash[field]) === hash[field];
  }
  if (same) return reply;
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    Object.defineProperty(out, keyAsText(field), {
      value: namesAsText(hash[field]),
      configurable: true,
      enumerable: true,
      writable: true,
    });
  }
  return out;
}

/**
 * What EXEC does in Redis whatever its outcome: the client watches no key any more, and no write seen so far aborts
 * its next transaction. ioredis-mock did it only for an aborted EXEC: after one that ran, the keys stayed watched,
 * and the transaction's own writes made the client's next WATCH … EXEC fail.
 */
function unwatchAll(redis: unknown): void {
  const client = redis as { dirty?: boolean; watching?: Set<string> };
  if (client.watching instanceof Set) client.watching.clear();
  if (typeof client.dirty === 'boolean') client.dirty = false;
}

/** Marks `client` to abort its next EXEC when it watches a key `exists` says is there (see `Connection`). */
function touchWatched(client: object, exists: (key: string) => boolean): void {
  const watcher = client as { dirty?: boolean; watching?: Set<string> };
  if (watcher.dirty === true || !(watcher.watching instanceof Set)) return;
  for (const key of watcher.watching) {
    if (exists(key)) {
      watcher.dirty = true;
      return;
    }
  }
}

/**
 * FLUSHALL and FLUSHDB: before ioredis-mock empties the keyspace, every connection watching a key it holds will abort
 * its EXEC, as Redis's flush touches the watched keys it deletes (a flush is one change, not a deletion per key).
 */
function flushRule(connections: Connections, command: 'flushall' | 'flushdb'): CommandRule {
  return {
    ...commandRules[command],
    check: (_args, reader) => {
      for (const connection of connections.list()) {
        connection.touchWatched((key) => reader.valueOf(key) !== undefined);
      }
      return undefined;
    },
  };
}

let pipelinesGuarded = false;

/**
 * Throws Redis's refusal of a pipeline's command sent to a connection in its pub/sub context (ioredis sent it: it was
 * not in its own subscriber mode, or ioredis-mock's check has refused it already).
 */
function refuseInPubSubContext(client: object, command: string, args: readonly Arg[]): void {
  if (!isSubscriber(client)) return;
  const refused = subscriberRefusal(client, command, args, false);
  if (refused !== undefined) throw refused;
}

/** Makes the pipelines of guarded clients apply the rules when they run a command. Once per process. */
function guardPipelines(): void {
  if (pipelinesGuarded) return;
  const prototype = (
    RedisMock as unknown as { Pipeline?: { prototype?: Partial<PipelineInternals> } }
  ).Pipeline?.prototype;
  const addTransaction = prototype?._addTransaction;
  const exec = prototype?.exec;
  if (
    prototype === undefined ||
    typeof addTransaction !== 'function' ||
    typeof exec !== 'function'
  ) {
    throw new Error(UNSUPPORTED_IOREDIS_MOCK('has no Pipeline.prototype._addTransaction or exec'));
  }
  // A command that fails in a pipeline or a transaction fails alone, in its entry of the reply, as with Redis (where
  // errors found when a command is queued abort the whole transaction, and errors found when it runs do not);
  // ioredis-mock runs them under one Promise.all, which rejects EXEC with the first error. So each command of a
  // guarded client's pipelines answers its failure as a value (see `failAlone`), and EXEC puts it in its entry.
  prototype.exec = function (this: PipelineInternals, callback?: unknown) {
    if (!guards.has(this.redis as object) || !Array.isArray(this.batch)) {
      return exec.call(this, callback);
    }
    const done = typeof callback === 'function' ? (callback as Method) : undefined;
    if (transactions.has(this) && guards.get(this.redis as object)?.closed() === true) {
      // As ioredis answers on a closed connection: a transaction fails as a whole, each command's callback told why
      // (its entries refuse to run: see `_addTransaction`). A plain pipeline's entries fail alone, below.
      const refused = exec.call(this).then(() => Promise.reject(new Error(CONNECTION_CLOSED)));
      unwatchAll(this.redis);
      return settle(refused, done);
    }
    // A subscriber is refused MULTI and EXEC, by ioredis (in its subscriber mode) or by Redis (in its pub/sub context).
    const context = transactions.has(this)
      ? transactionRefusal(this.redis as object, queuedIn.get(this) ?? [])
      : undefined;
    if (context !== undefined) {
      this.batch = [];
      unwatchAll(this.redis);
      return settle(Promise.reject(asReplyError(context, { name: 'exec', args: [] })), done);
    }
    const refused = discarded.get(this);
    if (refused !== undefined) {
      // Nothing runs: as Redis does with a transaction one of whose commands was refused when queued.
      this.batch = [];
      unwatchAll(this.redis);
      return settle(Promise.reject(execAbort([refused])), done);
    }
    if (transactions.has(this) && this.batch.length > 0) {
      // Redis evicts before each queued command and refuses every one (reads too) while memory stays full.
      const keyspace = guards.get(this.redis as object)?.keyspace;
      if (keyspace?.outOfMemory(EVICTION_BUDGET_MS) === true) {
        // (A WATCH inside MULTI is answered at once, not queued: it has no entry in the batch.)
        const queued = (queuedIn.get(this) ?? []).filter(([name]) => name !== 'watch');
        const previousErrors = this.batch.map((_, i) => {
          keyspace.countOomRejection();
          const [name, args] = queued[i] ?? [];
          const sent = name === undefined ? undefined : { name, args: args ?? [] };
          return asReplyError(replyError(OUT_OF_MEMORY), sent);
        });
        this.batch = [];
        unwatchAll(this.redis);
        return settle(Promise.reject(execAbort(previousErrors)), done);
      }
    }
    if (subscribing.has(this)) this.batch = asSent(this.redis as object, this.batch as Method[]);
    // ioredis-mock runs the commands now, before its promise settles.
    const ran = exec.call(this);
    if (transactions.has(this)) {
      unwatchAll(this.redis);
      afterTransaction(this.redis as object);
    }
    // A failed entry is `[error]`, as ioredis makes it (its `fillResult` and `wrapMultiResult`): no reply after it.
    const replies = ran.then((entries: unknown) => {
      if (!Array.isArray(entries)) return entries;
      const list = entries as ([unknown, unknown] | [unknown])[];
      const flat = flatReplies.get(this);
      for (let i = 0; i < list.length; i++) {
        const failure = failureOf(list[i][1]);
        if (failure !== undefined) list[i] = [failure.error];
        else if (flat?.has(i) === true)
          list[i] = [null, flatHash(list[i][1], flat.get(i) === true)];
      }
      return list;
    });
    return settle(replies, done);
  };
  prototype._addTransaction = function (this: PipelineInternals, emulator, name, args, callback) {
    const guard =
      typeof this.redis === 'object' && this.redis !== null ? guards.get(this.redis) : undefined;
    if (guard === undefined) return addTransaction.call(this, emulator, name, args, callback);
    const command = commandOf(name);
    const rule = Object.hasOwn(guard.rules, command) ? guard.rules[command] : undefined;
    const entryCallback = callback === undefined ? undefined : failedAsError(callback as Method);
    // An error reply names its command, as ioredis names it: those EXEC answers do not (see `failAlone`).
    const sent: SentCommand = { name: sentName(command), args };
    const refuse = (error: unknown): void => {
      if (!discarded.has(this)) discarded.set(this, asReplyError(error, sent));
    };
    const entrySent = transactions.has(this) ? undefined : sent;
    if (transactions.has(this)) {
      let queued = queuedIn.get(this);
      if (queued === undefined) queuedIn.set(this, (queued = []));
      queued.push([command, args]);
    }
    if (command === 'watch' && transactions.has(this)) {
      // Redis answers WATCH inside MULTI with an error and queues nothing: EXEC's reply has no entry for it. A WATCH of
      // no key fails its arity check first, which discards the transaction.
      if (args.length === 0) {
        refuse(replyError(wrongArity('watch')));
        return undefined;
      }
      if (typeof callback === 'function') {
        process.nextTick(
          callback,
          asReplyError(replyError('ERR WATCH inside MULTI is not allowed'), sent),
        );
      }
      return undefined;
    }
    // (A blocking pop comes here without its arguments, checked already: see `pipelineCall`.)
    if (
      rule === undefined &&
      transactions.has(this) &&
      !discarded.has(this) &&
      !isBlocking(command)
    ) {
      // Redis checks every command's number of arguments when it is queued, a wrong one discarding the transaction.
      const arity = redisArity(command);
      if (
        arity !== undefined &&
        (arity > 0 ? args.length + 1 !== arity : args.length + 1 < -arity)
      ) {
        refuse(replyError(wrongArity(command)));
      }
    }
    if (transactions.has(this) && !discarded.has(this)) {
      // And a container's subcommand (OBJECT ENCODING, SCRIPT LOAD, …): known, with its number of arguments.
      const error = subcommandError(command, args);
      if (error !== undefined) refuse(error);
    }
    if (transactions.has(this) && !discarded.has(this) && NO_MULTI.has(command)) {
      // Refused when queued, after its number of arguments (Redis's `no-multi` flag).
      try {
        if (rule !== undefined) checkArity(command, rule, args);
        refuse(replyError('ERR Command not allowed inside a transaction'));
      } catch (error) {
        refuse(error);
      }
    }
    if (rule === undefined && isSubscription(command)) {
      // (P|S)(UN)SUBSCRIBE answer as Redis does in a pipeline (the count) and a transaction (the reply's array).
      const transaction = transactions.has(this);
      if (!transaction) subscribing.add(this);
      const client = this.redis as object;
      const text = !name.endsWith('Buffer');
      const run = (): unknown => {
        if (guard.closed()) throw new Error(CONNECTION_CLOSED);
        return queuedSubscription(client, command, emulator, args, transaction, text);
      };
      // Under a name ioredis-mock lets a subscriber send: it does not know those of shard channels.
      const shard = command === 'ssubscribe' || command === 'sunsubscribe';
      const sentAs = shard ? name.slice(1) : name;
      return addTransaction.call(this, failAlone(run, entrySent), sentAs, [], entryCallback);
    }
    if (rule === undefined && !DENY_OOM.has(command)) {
      const client = this.redis as object;
      const transaction = transactions.has(this);
      const text = !name.endsWith('Buffer');
      const run = (): unknown => {
        if (guard.closed()) throw new Error(CONNECTION_CLOSED);
        // In a transaction, Redis's refusal is MULTI's (see `exec`).
        if (!transaction) refuseInPubSubContext(client, command, args);
        guard.reader.beginCommand?.();
        const reply = emulator(...args);
        if (text) return reply;
        return reply instanceof Promise ? reply.then(copyBuffers) : copyBuffers(reply);
      };
      return addTransaction.call(this, failAlone(run, entrySent), name, [], entryCallback);
    }
    // The command's function is called with no arguments and reads them here: a long argument list is spread once,
    // not once more than ioredis-mock does.
    const text = !name.endsWith('Buffer');
    // In a transaction, Redis refuses a command with the wrong number of arguments when it is queued, and any command
    // while memory is full (checked when EXEC sends them, as ioredis sends a transaction); the others fail, if they
    // do, when EXEC runs them.
    const transaction = transactions.has(this);
    // A transaction never blocks (Redis denies blocking there): XREAD answers at once.
    if (transaction && command === 'xread') args = withoutBlock(args);
    if (transaction && !discarded.has(this) && rule !== undefined) {
      try {
        checkArity(command, rule, args);
      } catch (error) {
        refuse(error);
      }
    }
    const guarded: Method = () => {
      if (guard.closed()) throw new Error(CONNECTION_CLOSED);
      // In a transaction, Redis's refusal is MULTI's (see `exec`).
      if (!transaction) refuseInPubSubContext(this.redis as object, command, args);
      if (!transaction && DENY_OOM.has(command)) {
        if (rule !== undefined) checkArity(command, rule, args);
        admitWrite(guard);
      }
      const noted = noting(guard, command, args);
      const outcome: Outcome = rule === undefined ? { args } : decide(guard, command, rule, args);
      const names = text && NAME_REPLIES.has(command);
      if ('reply' in outcome) {
        noted?.();
        return replyOf(outcome.reply, text, names);
      }
      if ('write' in outcome) {
        const written = outcome.write();
        noted?.();
        return replyOf(written, text, names);
      }
      outcome.before?.();
      if (command === 'ping') {
        const pong = pubsubPing(this.redis as object, outcome.args, text);
        if (pong !== undefined) return pong;
      }
      const asText = !text && outcome.command === undefined && RUN_AS_TEXT.has(command);
      const reply =
        outcome.command === undefined && !asText
          ? emulator(...outcome.args)
          : originalOf(
              guard,
              outcome.command ?? command,
              text || asText,
            )(...argumentsFor(outcome.command ?? command, outcome.args));
      dropEmptied(guard, rule, outcome.args);
      noted?.();
      const decode = text && repliesStored(command, outcome.args);
      if (outcome.answer === undefined && !decode && text && !names) return reply;
      const answer = answerWith(
        outcome.answer ?? (asText ? unchanged : undefined),
        text,
        decode,
        names,
      );
      return reply instanceof Promise ? reply.then(answer) : answer(reply);
    };
    return addTransaction.call(this, failAlone(guarded, entrySent), name, [], entryCallback);
  };
  pipelinesGuarded = true;
}

/**
 * ioredis transforms the arguments and the reply of a command under the names it registered the transformers for,
 * which are lower case: HSET's, HMSET's, MSET's and MSETNX's object or Map argument becomes its fields and values, and
 * HGETALL's flat array an object. `call` with another spelling (`call('HGETALL', key)`) sends an object argument as
 * its text, and answers the flat array. ioredis-mock's methods transform whatever the name: these are the arguments
 * such a `call` sends (each object but a Buffer as its text), and whether its reply is HGETALL's, to be made flat.
 */
function byCall(
  command: unknown,
  name: string,
  args: unknown[],
): { args: unknown[]; flatReply: boolean } {
  if (String(command) === name) return { args, flatReply: false };
  const sent = args.map((arg) =>
    typeof arg === 'object' && arg !== null && !Buffer.isBuffer(arg)
      ? (arg as { toString(): string }).toString()
      : arg,
  );
  return { args: sent, flatReply: name === 'hgetall' };
}

/** HGETALL's object reply as Redis's flat array of fields and values (fields as Buffers for `callBuffer`). */
function flatHash(reply: unknown, buffer: boolean): unknown {
  if (typeof reply !== 'object' || reply === null || Array.isArray(reply)) return reply;
  const flat: unknown[] = [];
  for (const [field, value] of Object.entries(reply as Record<string, unknown>)) {
    flat.push(buffer ? keyToBytes(field) : field, value);
  }
  return flat;
}

/** The commands `call` does not run: a transaction is begun and ended with `multi()` and `exec()`. */
const NOT_BY_CALL = new Set(['multi', 'exec', 'discard']);

/** ioredis's arguments to `call`, flattened one level as its `Command` does (an array's items are arguments). */
function callArgs(args: readonly unknown[]): unknown[] {
  return args.flatMap((arg) => (Array.isArray(arg) ? (arg as unknown[]) : [arg]));
}

/** ioredis-mock's error for a Redis command it lacks (which its client threw synchronously). */
function unsupported(method: string): Error {
  return new TypeError(
    `Unsupported command: ${JSON.stringify(method)}, please check the full list over mocked commands: ` +
      'https://github.com/stipsan/ioredis-mock/blob/main/compat.md#supported-commands-',
  );
}

/** Why `call` runs nothing: the error, and whether a transaction holding the command is discarded (Redis does). */
interface Refused {
  readonly error: Error;
  readonly discards: boolean;
}

/**
 * The method `call(command, ...args)` (or `callBuffer`) runs on `target` (a client or one of its pipelines): the
 * command's own method, so that its rules apply; or why it runs none.
 */
function calledMethod(
  target: object,
  command: unknown,
  args: readonly unknown[],
  buffer: boolean,
): Method | Refused {
  const name = String(command).toLowerCase();
  if (NOT_BY_CALL.has(name)) {
    const error = new Error(
      `ERR ${name.toUpperCase()} cannot be sent with call() to the embedded cache: use multi() and exec()`,
    );
    return { error, discards: false };
  }
  if (!redisCommandNames().has(name)) {
    return { error: replyError(unknownCommand(String(command), args)), discards: true };
  }
  const method = buffer ? `${name}Buffer` : name;
  const own = (target as Record<string, unknown>)[method];
  if (typeof own !== 'function' || UNSUPPORTED in own) {
    return { error: unsupported(method), discards: false };
  }
  return own as Method;
}

/**
 * ioredis's `call(command, ...args)` and `callBuffer`, which ioredis-mock lacks, on the client and its pipelines:
 * they run the command's method (its rules apply); a name that is no Redis command fails as Redis fails it, in its
 * own entry of a pipeline, and a transaction that holds one is discarded, as Redis discards it at EXEC.
 */
function addCall(client: object): void {
  const target = client as Record<string, unknown>;
  for (const buffer of [false, true]) {
    target[buffer ? 'callBuffer' : 'call'] = (command: unknown, ...rest: unknown[]): unknown => {
      const callback =
        typeof rest[rest.length - 1] === 'function' ? (rest.pop() as Method) : undefined;
      const args = callArgs(rest);
      // ioredis refuses in its subscriber mode whatever it is not to send there, a name Redis does not know too.
      const name = String(command).toLowerCase();
      if (
        (client as MockClient).subscriberMode === true &&
        subscriberRefusal(client, name, []) !== undefined
      ) {
        return settle(Promise.reject(new Error(SUBSCRIBER_MODE)), callback);
      }
      const method = calledMethod(client, command, args, buffer);
      if (typeof method !== 'function') {
        const sent = { name: String(command), args: commandArgs(args, name) };
        return settle(Promise.reject(asReplyError(method.error, sent)), callback);
      }
      const sent = byCall(command, name, args);
      if (sent.flatReply) {
        const reply = runCalled(command, () => method.apply(client, sent.args));
        return settle(
          Promise.resolve(reply).then((hash) => flatHash(hash, buffer)),
          callback,
        );
      }
      if (callback !== undefined) sent.args.push(callback);
      return runCalled(command, () => method.apply(client, sent.args));
    };
  }
}

/**
 * A pipeline's `call` and `callBuffer` (see {@link addCall}), and its methods of the Redis commands ioredis-mock
 * lacks: a command that cannot run fails in its own entry (or discards the transaction, for a name Redis does not
 * know).
 */
function pipelineCall(
  pipeline: object,
  buffer: boolean,
  command: unknown,
  rest: unknown[],
): unknown {
  const callback = typeof rest[rest.length - 1] === 'function' ? rest.pop() : undefined;
  const args = callArgs(rest);
  const name = String(command).toLowerCase();
  const pipelined = pipeline as PipelineInternals;
  if (isBlocking(name)) {
    // A transaction is discarded for the wrong number of arguments, as Redis refuses the command when it is queued.
    const sent = { name: String(command), args: commandArgs(args, name) };
    const arity = blockingArityError(name, args);
    if (arity !== undefined && transactions.has(pipeline)) {
      if (!discarded.has(pipeline)) discarded.set(pipeline, asReplyError(arity, sent));
      return pipeline;
    }
    const entrySent = transactions.has(pipeline) ? undefined : sent;
    const once = (): Promise<unknown> =>
      popOnce(pipelined.redis as object, name, args, buffer, entrySent);
    pipelined._addTransaction(once, name, [], callback);
    return pipeline;
  }
  const method = calledMethod(pipeline, command, args, buffer);
  if (typeof method === 'function') {
    const sent = byCall(command, name, args);
    if (callback !== undefined) {
      const told = callback as Method;
      sent.args.push(
        sent.flatReply
          ? (error: unknown, reply: unknown) => told(error, flatHash(reply, buffer))
          : told,
      );
    }
    const queued = Array.isArray(pipelined.batch) ? pipelined.batch.length : -1;
    const queuedOn = runCalled(command, () => method.apply(pipeline, sent.args));
    if (sent.flatReply && Array.isArray(pipelined.batch) && pipelined.batch.length > queued) {
      let flat = flatReplies.get(pipeline);
      if (flat === undefined) flatReplies.set(pipeline, (flat = new Map<number, boolean>()));
      flat.set(queued, buffer);
    }
    return queuedOn;
  }
  const error = asReplyError(method.error, {
    name: String(command),
    args: commandArgs(args, name),
  });
  if (method.discards && transactions.has(pipeline)) {
    if (!discarded.has(pipeline)) discarded.set(pipeline, error);
  } else {
    const fail = (): never => {
      throw error;
    };
    // With its arguments: a command ioredis-mock lacks may have a rule that answers it (XTRIM, …), as on the client.
    const known = redisCommandNames().has(name);
    pipelined._addTransaction(
      fail,
      known ? (buffer ? `${name}Buffer` : name) : String(command),
      known ? commandArgs(args, name) : [],
      callback,
    );
  }
  return pipeline;
}

/**
 * ioredis-mock's methods of the Redis commands it lacks throw synchronously, out of the promise an ioredis method
 * returns: `redis.sort(key).catch(…)` would not catch it, and the process would end. They reject (or call back)
 * with the same error instead.
 */
function rejectUnsupported(client: object): void {
  const target = client as Record<string, unknown>;
  for (const name of redisCommandNames()) {
    for (const method of [name, `${name}Buffer`]) {
      const own = target[method];
      if (typeof own !== 'function' || !String(own).includes('Unsupported command')) continue;
      target[method] = Object.assign(
        (...args: unknown[]): Promise<unknown> => {
          const callback =
            typeof args[args.length - 1] === 'function' ? (args.pop() as Method) : undefined;
          return settle(Promise.reject(unsupported(method)), callback);
        },
        { [UNSUPPORTED]: true },
      );
    }
  }
}

/**
 * Makes the command methods no rule guards (`ECHO`, `WATCH`, `TIME`, …, and Buffer forms) refuse to run on a closed
 * client too, as {@link guardMethod}'s do. The blocking commands end on their own: their non-blocking form refuses.
 */
function refuseWhenClosed(client: MockClient, guard: Guard): void {
  const target = client as unknown as Record<string, unknown>;
  for (const name of redisCommandNames()) {
    // `multi()` makes a pipeline (its EXEC refuses), and quitting again loses nothing.
    if (isBlocking(name) || name === 'multi' || name === 'quit') continue;
    for (const method of [name, `${name}Buffer`]) {
      const own = target[method];
      if (typeof own !== 'function' || guard.originals.has(method)) continue;
      const guarded = (...raw: unknown[]): unknown => {
        if (guard.closed()) return refuseClosed(raw);
        if (isSubscriber(client)) {
          const args = raw.filter((arg) => typeof arg !== 'function');
          const refused = subscriberRefusal(client, name, commandArgs(args, name));
          if (refused !== undefined) {
            const callback = raw.length > args.length ? (raw[raw.length - 1] as Method) : undefined;
            return settle(Promise.reject(refused), callback);
          }
        }
        return (own as Method).apply(client, raw);
      };
      target[method] =
        UNSUPPORTED in own ? Object.assign(guarded, { [UNSUPPORTED]: true }) : guarded;
    }
  }
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
  addCommands(redis);
  emitBothMessageForms(redis);
  rejectUnsupported(redis);
  const client = redis as unknown as MockClient;
  const connections = server === undefined ? undefined : new Connections(server.keyspace);
  const connection = connections?.create(
    () => subscriptionCounts(client),
    (exists) => touchWatched(client, exists),
    () => (client as unknown as { disconnect(): void }).disconnect(),
  );
  // ioredis's `connectionName` option names the connection, as its CLIENT SETNAME on connect does.
  const connectionName = (client as { options?: { connectionName?: unknown } }).options
    ?.connectionName;
  if (connection !== undefined && typeof connectionName === 'string')
    connection.name = connectionName;
  const rules =
    server === undefined || connections === undefined || connection === undefined
      ? { ...commandRules, ...pubsubRules(client) }
      : {
          ...commandRules,
          ...pubsubRules(client),
          ...serverCommands(server.keyspace, server.events),
          client: clientRule(connections, connection),
          hello: helloRule(connection),
          flushall: flushRule(connections, 'flushall'),
          flushdb: flushRule(connections, 'flushdb'),
        };
  let everConnected = client.connected === true;
  let assignedStatus: unknown;
  if (connections !== undefined && connection !== undefined) {
    if (client.connected === true) connections.open(connection);
    // ioredis's connection state, which libraries wait on (BullMQ waits for a `ready` event unless it is 'ready'):
    // ioredis-mock has none, and emits `ready` once, right after it is made.
    // It is a plain field in ioredis, which some set themselves (BullMQ writes 'end' after `quit()`): a value set
    // stays until the connection opens or closes.
    Object.defineProperty(client, 'status', {
      configurable: true,
      enumerable: true,
      get: () =>
        assignedStatus ?? (client.connected === true ? 'ready' : everConnected ? 'end' : 'wait'),
      set: (value: unknown) => {
        assignedStatus = value;
      },
    });
  }
  const guard: Guard = {
    keyspace: server?.keyspace,
    reader,
    lookups: new CommandReader(reader),
    originals: new Map(),
    events: server?.events,
    del: (client as unknown as { del: Method }).del,
    closed: () => guard.lookups.closed || server?.keyspace.stopped === true,
    // Scripts run their commands through the same rules (see `script-commands.ts`).
    rules: ofOneShape({
      ...rules,
      ...scriptRules({
        client,
        reader,
        rules,
        outOfMemory: () => guard.keyspace?.outOfMemory(EVICTION_BUDGET_MS) === true,
        deniesOom: (command) => DENY_OOM.has(command),
        refusedForMemory: () => guard.keyspace?.countOomRejection(),
        noting: (command, args) => noting(guard, command, args),
      }),
    }),
  };
  guards.set(client, guard);
  server?.events.share(redis);
  // Before the methods are guarded: BLMOVE is refused, as a write that may add memory, while memory is full.
  addBlockingCommands(client, () => guard.lookups.closed === true);
  for (const command of new Set([...Object.keys(guard.rules), ...DENY_OOM])) {
    guardMethod(client, command, guard);
    guardMethod(client, `${command}Buffer`, guard);
  }
  refuseWhenClosed(client, guard);
  guardSubscriptions(client, guard.closed);
  cheapPipelines(client, (transaction) => transactions.add(transaction), pipelineCall);
  addCall(client);
  // A read blocked on this client (XREAD BLOCK) gives up when it disconnects, as Redis unblocks a closed client.
  for (const method of ['disconnect', 'quit', 'connect'] as const) {
    const own = (client as unknown as Record<string, Method>)[method].bind(client);
    (client as unknown as Record<string, Method>)[method] = (...args: unknown[]): unknown => {
      // A keyspace that stopped serving (its app closed) takes no connection, as a server that shut down.
      if (method === 'connect' && server?.keyspace.stopped === true) return refuseClosed(args);
      // Closed already: as ioredis, nothing happens again ('end' is not emitted twice), and QUIT is refused.
      if (method !== 'connect' && guard.lookups.closed && client.connected !== true) {
        return method === 'quit' ? refuseClosed(args) : undefined;
      }
      guard.lookups.closed = method !== 'connect'; // connected again, it blocks again
      // A closed connection receives nothing more, and is no longer counted by PUBLISH and PUBSUB.
      if (method !== 'connect') dropSubscriptions(client);
      const result = own(...args);
      // A closed connection leaves CLIENT LIST; connected again, it is listed again.
      if (connection !== undefined) {
        assignedStatus = undefined;
        if (client.connected === true) {
          everConnected = true;
          connections?.open(connection);
        } else connections?.close(connection);
      }
      return result;
    };
  }
  const duplicate = client.duplicate.bind(client);
  client.duplicate = (...args: unknown[]): Redis => {
    // ioredis-mock's duplicates share the parent's keyspace views, which take no prefix: refused, not ignored.
    const keyPrefix = (args[0] as { keyPrefix?: unknown } | undefined)?.keyPrefix;
    if (typeof keyPrefix === 'string' && keyPrefix !== '') {
      throw new Error(KEY_PREFIX_UNSUPPORTED(keyPrefix));
    }
    const copy = duplicate(...args);
    guardCommands(copy, reader, server);
    // Made after its keyspace stopped serving: closed from the start, as a connection to a server that is gone.
    if (server?.keyspace.stopped === true) copy.disconnect();
    return copy;
  };
}
