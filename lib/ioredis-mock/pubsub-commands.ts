/**
 * Pub/sub of the embedded client as Redis 7.0 answers it. ioredis-mock keeps, for every channel and pattern, the
 * listeners of the connections subscribed to it (`channels` and `patternChannels`, shared by a client and its
 * duplicates), and answers otherwise than Redis in ways that matter to an application:
 * - a connection that disconnected (or QUIT) stayed subscribed: its `message` listeners still fired, PUBLISH counted
 *   it, and an app making a subscriber per request kept every one of them;
 * - (P)SUBSCRIBE and (P)UNSUBSCRIBE answered the channels or the patterns alone, where Redis counts both, and an
 *   UNSUBSCRIBE of every channel left the connection in subscriber mode;
 * - PUBLISH counted each matching pattern once, not once per connection subscribed to it;
 * - PUBSUB knew only `CHANNELS` and `NUMSUB`, in capitals.
 * PING in subscriber mode answers `['pong', message]`, as Redis does there.
 *
 * Redis 7.0's shard channels (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH, `PUBSUB SHARDCHANNELS|SHARDNUMSUB`), which
 * ioredis-mock lacks, are kept here, beside its channels: on a single node a shard channel is a channel of its own
 * kind, which PUBLISH and patterns never reach, and whose (un)subscriptions count the shard channels alone.
 *
 * Two notions of subscriber mode are kept apart, as a Redis connection read by ioredis has them:
 * - ioredis's (`subscriberMode`, as ioredis-mock names it): set by a reply to a (P|S)SUBSCRIBE, cleared by a reply to
 *   an (P|S)UNSUBSCRIBE that counts 0. While it is set ioredis itself refuses the commands it does not send to a
 *   subscriber, with `Connection in subscriber mode, only subscriber commands may be used`.
 * - the server's (its `CLIENT_PUBSUB`): while the connection has a subscription of any kind, Redis refuses the other
 *   commands with `ERR Can't execute '<command>': only (P|S)SUBSCRIBE / … are allowed in this context`. The two part
 *   when one kind's count reaches 0 while another kind is left: SUNSUBSCRIBE's count is the shard channels', the
 *   others' the channels and patterns together.
 */
import type { EventEmitter } from 'node:events';
import { GlobPattern } from '../util/glob';
import { type Method, settle } from './callbacks';
import { type CommandRule, reply } from './command-rule';
import { redisArity } from './pipelines';
import { subcommandError } from './subcommands';
import { type Arg, argText, replyError, wrongArity } from './redis-replies';

/** ioredis-mock's channels or patterns: an emitter, and each name's listeners by connection. */
interface Subscriptions extends EventEmitter {
  instanceListeners?: Map<string, Map<object, (...args: unknown[]) => void>>;
}

/** What this file reads and writes of an ioredis-mock client. */
interface PubSubClient {
  channels?: Subscriptions;
  patternChannels?: Subscriptions;
  subscriberMode?: boolean;
}

/** A connection's shard channels, in the order it subscribed to them. */
const shardsOf = new WeakMap<object, Set<string>>();
/** The shard channels of one ioredis-mock context, by its `channels` (a client and its duplicates share both). */
const shardStores = new WeakMap<object, Map<string, Set<object>>>();
/** The connections with a subscription of any kind: those Redis holds in its pub/sub context (`CLIENT_PUBSUB`). */
const inPubSubContext = new WeakSet<object>();

/** Each shard channel of `client`'s context, with the connections subscribed to it. */
function shardChannels(client: object): Map<string, Set<object>> {
  const owner = (client as PubSubClient).channels ?? client;
  let store = shardStores.get(owner);
  if (store === undefined) {
    store = new Map();
    shardStores.set(owner, store);
  }
  return store;
}

/** The shard channels `client` is subscribed to: what SSUBSCRIBE and SUNSUBSCRIBE answer. */
function shardCount(client: object): number {
  return shardsOf.get(client)?.size ?? 0;
}

/** Notes whether `client` has any subscription left (called whenever its subscriptions change). */
function noteContext(client: object): void {
  if (subscriptionsOf(client) + shardCount(client) > 0) inPubSubContext.add(client);
  else inPubSubContext.delete(client);
}

/** `client`'s subscriptions of each kind: channels, patterns and shard channels (`CLIENT LIST`'s sub, psub, ssub). */
export function subscriptionCounts(client: object): readonly [number, number, number] {
  const mock = client as PubSubClient;
  return [
    subscribedIn(client, mock.channels),
    subscribedIn(client, mock.patternChannels),
    shardCount(client),
  ];
}

/** The names `client` is subscribed to in `store`. */
function subscribedIn(client: object, store: Subscriptions | undefined): number {
  let count = 0;
  for (const listeners of store?.instanceListeners?.values() ?? [])
    if (listeners.has(client)) count++;
  return count;
}

/** The channels and patterns `client` is subscribed to: what Redis's (P)(UN)SUBSCRIBE answer. */
function subscriptionsOf(client: PubSubClient): number {
  return subscribedIn(client, client.channels) + subscribedIn(client, client.patternChannels);
}

/** Ends every subscription of `client`, its listeners removed (a disconnected connection receives nothing). */
export function dropSubscriptions(client: object): void {
  const mock = client as PubSubClient;
  const shards = shardChannels(client);
  for (const name of shardsOf.get(client) ?? []) leaveShard(shards, name, client);
  shardsOf.delete(client);
  inPubSubContext.delete(client);
  for (const store of [mock.channels, mock.patternChannels]) {
    for (const [name, listeners] of store?.instanceListeners ?? []) {
      const listener = listeners.get(client);
      if (listener === undefined) continue;
      store?.removeListener(name, listener);
      listeners.delete(client);
      if (listeners.size === 0) store?.instanceListeners?.delete(name);
    }
  }
  mock.subscriberMode = false;
}

/** How many connections a message on `channel` reaches: its subscribers, and each subscriber of a matching pattern. */
function receivers(client: PubSubClient, channel: string): number {
  let count = client.channels?.instanceListeners?.get(channel)?.size ?? 0;
  for (const [pattern, listeners] of client.patternChannels?.instanceListeners ?? []) {
    if (listeners.size > 0 && new GlobPattern(pattern).matches(channel)) count += listeners.size;
  }
  return count;
}

const PUBSUB_HELP = [
  'PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CHANNELS [<pattern>]',
  "    Return the currently active channels matching a <pattern> (default: '*').",
  'NUMPAT',
  '    Return number of subscriptions to patterns.',
  'NUMSUB [<channel> ...]',
  '    Return the number of subscribers for the specified channels, excluding',
  '    pattern subscriptions(default: no channels).',
  'SHARDCHANNELS [<pattern>]',
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  'SHARDNUMSUB [<shardchannel> ...]',
  '    Return the number of subscribers for the specified shard level channel(s)',
  'HELP',
  '    Prints this help.',
];

/** PUBSUB, in Redis 7.0's order: the subcommand, its arity, then `pubsubCommand`'s own checks. */
function pubsub(client: PubSubClient, args: readonly Arg[]): unknown {
  const unknownOrArity = subcommandError('pubsub', args);
  if (unknownOrArity !== undefined) throw unknownOrArity;
  const given = argText(args[0]);
  const sub = given.toLowerCase();
  const words = args.length + 1;
  const subscribers = (store: Subscriptions | undefined): [string, number][] =>
    [...(store?.instanceListeners ?? [])]
      .filter(([, listeners]) => listeners.size > 0)
      .map(([name, listeners]) => [name, listeners.size]);
  switch (sub) {
    case 'help':
      return PUBSUB_HELP;
    case 'numpat':
      return subscribers(client.patternChannels).length;
    case 'numsub': {
      const counts = new Map(subscribers(client.channels));
      return args.slice(1).flatMap((channel) => [channel, counts.get(argText(channel)) ?? 0]);
    }
    case 'shardnumsub': {
      const shards = shardChannels(client);
      return args.slice(1).flatMap((channel) => [channel, shards.get(argText(channel))?.size ?? 0]);
    }
    default: {
      if (words > 3) {
        throw replyError(
          `ERR unknown subcommand or wrong number of arguments for '${given.slice(0, 128)}'. Try PUBSUB HELP.`,
        );
      }
      const pattern = args.length === 2 ? new GlobPattern(argText(args[1])) : undefined;
      const names =
        sub === 'shardchannels'
          ? [...shardChannels(client).keys()]
          : subscribers(client.channels).map(([name]) => name);
      return names.filter((name) => pattern === undefined || pattern.matches(name));
    }
  }
}

/** The commands that change a connection's subscriptions to channels and patterns, which ioredis-mock runs. */
const SUBSCRIPTIONS = new Set(['subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe']);
/** Those of shard channels, which ioredis-mock lacks: run here. */
const SHARD_SUBSCRIPTIONS = new Set(['ssubscribe', 'sunsubscribe']);

/** Whether `command` is (P|S)(UN)SUBSCRIBE. */
export function isSubscription(command: string): boolean {
  return SUBSCRIPTIONS.has(command) || SHARD_SUBSCRIPTIONS.has(command);
}

/** The commands ioredis sends in its subscriber mode (its `VALID_IN_SUBSCRIBER_MODE`); it refuses the others. */
const IOREDIS_SUBSCRIBER_COMMANDS = new Set([
  ...SUBSCRIPTIONS,
  ...SHARD_SUBSCRIPTIONS,
  'ping',
  'quit',
]);
/** The commands Redis 7.0 runs for a connection in its pub/sub context (RESP2). */
const PUBSUB_CONTEXT_COMMANDS = new Set([...IOREDIS_SUBSCRIBER_COMMANDS, 'reset']);
/** Redis 7.0's commands with subcommands: a refusal names the subcommand too (`client|id`). */
const CONTAINERS = new Set([
  'acl',
  'client',
  'cluster',
  'command',
  'config',
  'function',
  'latency',
  'memory',
  'module',
  'object',
  'pubsub',
  'script',
  'slowlog',
  'xgroup',
  'xinfo',
]);

/** ioredis's error for a command it does not send in subscriber mode. */
export const SUBSCRIBER_MODE =
  'Connection in subscriber mode, only subscriber commands may be used';

/** Whether `client` is a subscriber in ioredis's eyes or the server's (see the file's comment). */
export function isSubscriber(client: object): boolean {
  return (client as PubSubClient).subscriberMode === true || inPubSubContext.has(client);
}

/**
 * Why `command` (lower case) with `args` is not run on `client`, if it is not: ioredis refuses it in its subscriber
 * mode (`ioredisMode`: by default, the client's now), and Redis in its pub/sub context, after the checks it makes
 * first (the command's arity, its subcommand). A name Redis does not know is left to the caller to refuse.
 */
export function subscriberRefusal(
  client: object,
  command: string,
  args: readonly Arg[],
  ioredisMode = (client as PubSubClient).subscriberMode === true,
): Error | undefined {
  if (ioredisMode) {
    return IOREDIS_SUBSCRIBER_COMMANDS.has(command) ? undefined : new Error(SUBSCRIBER_MODE);
  }
  if (!inPubSubContext.has(client) || PUBSUB_CONTEXT_COMMANDS.has(command)) return undefined;
  const arity = redisArity(command);
  if (arity === undefined) return undefined;
  if (arity > 0 ? args.length + 1 !== arity : args.length + 1 < -arity) {
    return replyError(wrongArity(command));
  }
  const subcommand = subcommandError(command, args);
  if (subcommand !== undefined) return subcommand;
  const name =
    CONTAINERS.has(command) && args.length > 0
      ? `${command}|${argText(args[0]).toLowerCase()}`
      : command;
  return replyError(pubsubContextError(name));
}

const pubsubContextError = (name: string): string =>
  `ERR Can't execute '${name}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in ` +
  'this context';

/**
 * Why a transaction of `client` is not run, if it is not: in ioredis's subscriber mode it refuses MULTI and EXEC
 * itself, and in Redis's pub/sub context Redis refuses MULTI, and EXEC, which aborts. Each `queued` command (its name
 * and arguments) refused there is among the errors before it. (Those ioredis and Redis do run there, PING and the
 * (P|S)(UN)SUBSCRIBEs, at once as no transaction began, do not run.)
 */
export function transactionRefusal(
  client: object,
  queued: readonly (readonly [string, readonly Arg[]])[],
): Error | undefined {
  if ((client as PubSubClient).subscriberMode === true) {
    const previousErrors = [new Error(SUBSCRIBER_MODE)];
    for (const [command] of queued) {
      if (!IOREDIS_SUBSCRIBER_COMMANDS.has(command))
        previousErrors.push(new Error(SUBSCRIBER_MODE));
    }
    return Object.assign(new Error(SUBSCRIBER_MODE), { previousErrors });
  }
  if (!inPubSubContext.has(client)) return undefined;
  const error = replyError(
    `EXECABORT Transaction discarded because of: ${pubsubContextError('exec').slice('ERR '.length)}`,
  );
  const previousErrors = [replyError(pubsubContextError('multi'))];
  for (const [command, args] of queued) {
    const refused = subscriberRefusal(client, command, args, false);
    if (refused !== undefined) previousErrors.push(refused);
  }
  return Object.assign(error, { previousErrors });
}

/** ioredis's subscriber mode after it reads a reply to `command` counting `count` (see the file's comment). */
function afterReply(client: PubSubClient, command: string, count: number): void {
  if (!command.includes('unsubscribe')) client.subscriberMode = true;
  else if (count === 0) client.subscriberMode = false;
}

/** ioredis's subscriber mode as it reads the replies of a pipeline it sent out of it (see {@link asSent}). */
const modeWhileRead = new WeakMap<object, boolean>();
/** The clients a transaction's (P|S)SUBSCRIBE puts in ioredis's subscriber mode once EXEC has answered. */
const enteringAfterExec = new WeakSet<object>();

/**
 * The commands of a pipeline of `client` (not a transaction), each to run as ioredis sends it: all at once, so that
 * those it refuses in its subscriber mode are refused by its mode when the pipeline is sent, not when a (P|S)SUBSCRIBE
 * of the pipeline has answered (ioredis-mock checks each command as it runs it). Redis's own refusals of the commands
 * after one are made as it runs them.
 */
export function asSent(client: object, batch: readonly (() => unknown)[]): (() => unknown)[] {
  const mock = client as PubSubClient;
  if (mock.subscriberMode === true) return [...batch];
  let mode = false;
  return batch.map((entry) => () => {
    modeWhileRead.set(client, mode);
    mock.subscriberMode = false;
    try {
      return entry();
    } finally {
      mode = modeWhileRead.get(client) ?? mode;
      modeWhileRead.delete(client);
      mock.subscriberMode = mode;
    }
  });
}

/** Puts `client` in ioredis's subscriber mode if the transaction it has just run holds a (P|S)SUBSCRIBE. */
export function afterTransaction(client: object): void {
  if (!enteringAfterExec.delete(client)) return;
  (client as PubSubClient).subscriberMode = true;
}

/**
 * PING's reply in Redis's pub/sub context, `['pong', message]` (Buffers unless `text`), when `client` is in it; run
 * in a pipeline or a transaction.
 */
export function pubsubPing(client: object, args: readonly unknown[], text: boolean): unknown {
  if (!inPubSubContext.has(client)) return undefined;
  const reply = ['pong', args.length === 0 ? '' : argText(args[0] as Arg)];
  return text ? reply : reply.map((part) => Buffer.from(part));
}

/** Ends `client`'s subscription to the shard channel `name` in `shards`; whether it had one. */
function leaveShard(shards: Map<string, Set<object>>, name: string, client: object): boolean {
  const subscribers = shards.get(name);
  if (subscribers === undefined || !subscribers.delete(client)) return false;
  if (subscribers.size === 0) shards.delete(name);
  return true;
}

/** One reply of a (P|S)(UN)SUBSCRIBE: the name (none for an UNSUBSCRIBE of everything, when there was nothing). */
type SubscriptionReply = readonly [string | null, number];

/**
 * Runs SSUBSCRIBE or SUNSUBSCRIBE (`command`) of `names` on `client`, as Redis 7.0 does: a reply per name, with the
 * shard channels the connection is subscribed to after it; an SUNSUBSCRIBE of nothing ends every one, and answers
 * `[null, 0]` when there was none.
 */
function runShardSubscription(
  client: object,
  command: string,
  names: readonly unknown[],
): SubscriptionReply[] {
  const shards = shardChannels(client);
  let own = shardsOf.get(client);
  const replies: SubscriptionReply[] = [];
  if (command === 'ssubscribe') {
    if (own === undefined) shardsOf.set(client, (own = new Set()));
    for (const arg of names) {
      const name = argText(arg as Arg);
      if (!own.has(name)) {
        own.add(name);
        let subscribers = shards.get(name);
        if (subscribers === undefined) shards.set(name, (subscribers = new Set()));
        subscribers.add(client);
      }
      replies.push([name, own.size]);
    }
  } else {
    const targets = names.length > 0 ? names.map((arg) => argText(arg as Arg)) : [...(own ?? [])];
    for (const name of targets) {
      if (own?.delete(name) === true) leaveShard(shards, name, client);
      replies.push([name, own?.size ?? 0]);
    }
    if (replies.length === 0) replies.push([null, 0]);
  }
  noteContext(client);
  return replies;
}

/**
 * Runs (P|S)(UN)SUBSCRIBE queued in a pipeline or a transaction of `client`, one name at a time with `emulator`
 * (ioredis-mock's command, for channels and patterns, which counts them apart), and answers as ioredis reads Redis's
 * reply: in a pipeline the count after it; in a transaction the reply for its first name, `[command, name, count]`
 * (Redis answers one such array per name, and EXEC's reply has an entry per command: the others spill into the
 * entries after it, which no client reads as they were meant). An (P|S)UNSUBSCRIBE of nothing unsubscribes from
 * every channel of its kind, and answers `[command, null, count]` when there was none. SSUBSCRIBE is refused in a
 * transaction, as Redis refuses it to a client that cannot block; ioredis takes its `QUEUED` for a subscription, and
 * enters its subscriber mode all the same, as it does for the others (in a transaction, nothing makes it leave).
 */
export function queuedSubscription(
  client: object,
  command: string,
  emulator: (...names: unknown[]) => unknown,
  names: readonly unknown[],
  transaction: boolean,
  text: boolean,
): unknown {
  const mock = client as PubSubClient;
  const mode = modeWhileRead.get(client) ?? mock.subscriberMode === true;
  let replies: SubscriptionReply[];
  if (SHARD_SUBSCRIPTIONS.has(command)) {
    if (transaction && command === 'ssubscribe') {
      enteringAfterExec.add(client);
      throw replyError("ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
    }
    replies = runShardSubscription(client, command, names);
  } else {
    let targets = names;
    if (names.length === 0 && command.includes('unsubscribe')) {
      const store = command === 'unsubscribe' ? mock.channels : mock.patternChannels;
      targets = [...(store?.instanceListeners ?? [])]
        .filter(([, listeners]) => listeners.has(client))
        .map(([name]) => name);
    }
    replies = [];
    for (const name of targets) {
      emulator(name);
      replies.push([argText(name as Arg), subscriptionsOf(mock)]);
    }
    if (replies.length === 0) replies.push([null, subscriptionsOf(mock)]);
    noteContext(client);
  }
  const count = replies[replies.length - 1][1];
  // ioredis-mock's commands set its flag by their own count: ioredis's is worked out here.
  mock.subscriberMode = mode;
  if (transaction) {
    if (!command.includes('unsubscribe')) enteringAfterExec.add(client);
    const reply = [command, ...replies[0]];
    return text
      ? reply
      : reply.map((part) => (typeof part === 'string' ? Buffer.from(part) : part));
  }
  afterReply(mock, command, count);
  if (modeWhileRead.has(client)) modeWhileRead.set(client, mock.subscriberMode === true);
  return count;
}

/**
 * Delivers `message` to the connections subscribed to the shard channel `channel`, as ioredis emits it to each:
 * `smessage` (channel and message as text, when something listens) and `smessageBuffer` (as bytes), on a later
 * tick. Returns how many it reaches: SPUBLISH's reply (patterns and channels of the same name never receive it).
 */
function shardPublish(client: object, channel: Arg, message: Arg): number {
  const name = argText(channel);
  const subscribers = shardChannels(client).get(name);
  if (subscribers === undefined) return 0;
  const bytes = Buffer.isBuffer(message) ? Buffer.from(message) : Buffer.from(message, 'utf8');
  for (const subscriber of subscribers) {
    process.nextTick(() => {
      const emitter = subscriber as EventEmitter;
      if (emitter.listenerCount('smessage') > 0) {
        emitter.emit('smessage', name, bytes.toString('utf8'));
      }
      emitter.emit('smessageBuffer', Buffer.from(name, 'utf8'), Buffer.from(bytes));
    });
  }
  return subscribers.size;
}

/** The rules of PUBLISH, SPUBLISH and PUBSUB, over the subscriptions `client` shares with its duplicates. */
export function pubsubRules(client: object): Record<string, CommandRule> {
  const mock = client as PubSubClient;
  return {
    publish: {
      arity: 3,
      // Counted before ioredis-mock delivers it: the connections subscribed when it was published.
      check: (args) => {
        const count = receivers(mock, argText(args[0]));
        return { args, answer: () => count };
      },
    },
    spublish: { arity: 3, check: (args) => reply(shardPublish(client, args[0], args[1])) },
    pubsub: { arity: -2, check: (args) => reply(pubsub(mock, args)) },
  };
}

/**
 * Makes `client`'s (P)(UN)SUBSCRIBE answer with the channels and patterns it is subscribed to, and refuse a SUBSCRIBE
 * of nothing; adds its SSUBSCRIBE and SUNSUBSCRIBE (answering with its shard channels); keeps ioredis's subscriber
 * mode as ioredis does; and makes its PING answer as Redis does in the pub/sub context while it is there. Methods of
 * the client itself: ioredis-mock runs nothing else in subscriber mode, where rules do not apply. `closed` says
 * whether the client takes no commands.
 */
export function guardSubscriptions(client: object, closed: () => boolean): void {
  const target = client as Record<string, unknown> & PubSubClient;
  for (const name of [...SUBSCRIPTIONS, ...SHARD_SUBSCRIPTIONS]) {
    const shard = SHARD_SUBSCRIPTIONS.has(name);
    for (const method of [name, `${name}Buffer`]) {
      const own = target[method];
      if (typeof own !== 'function') continue;
      target[method] = (...raw: unknown[]): Promise<unknown> => {
        const callback =
          typeof raw[raw.length - 1] === 'function' ? (raw.pop() as Method) : undefined;
        const args = raw.flat();
        if (shard && closed()) return (own as Method).apply(client, raw) as Promise<unknown>;
        if (args.length === 0 && !name.includes('unsubscribe')) {
          return settle(Promise.reject(replyError(wrongArity(name))), callback);
        }
        if (shard) {
          const replies = runShardSubscription(client, name, args);
          afterReply(target, name, replies[replies.length - 1][1]);
          return settle(Promise.resolve(replies[replies.length - 1][1]), callback);
        }
        const mode = target.subscriberMode === true;
        const ran = Promise.resolve((own as Method).apply(client, args)).then(() => {
          noteContext(client);
          const total = subscriptionsOf(target);
          target.subscriberMode = mode;
          afterReply(target, name, total);
          return total;
        });
        return settle(ran, callback);
      };
    }
  }
  for (const method of ['ping', 'pingBuffer']) {
    const own = target[method];
    if (typeof own !== 'function') continue;
    target[method] = (...raw: unknown[]): unknown => {
      const given = raw.filter((arg) => typeof arg !== 'function').length;
      // More than one message: refused by PING's own rule, as Redis's `pingCommand` checks that first.
      if (!inPubSubContext.has(client) || given > 1) return (own as Method).apply(client, raw);
      const callback =
        typeof raw[raw.length - 1] === 'function' ? (raw.pop() as Method) : undefined;
      const message = raw.length === 0 ? '' : argText(raw[0] as Arg);
      const answer =
        method === 'ping' ? ['pong', message] : ['pong', message].map((s) => Buffer.from(s));
      return settle(Promise.resolve(answer), callback);
    };
  }
}
