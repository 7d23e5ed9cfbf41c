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
 */
import type { EventEmitter } from 'node:events';
import { GlobPattern } from '../util/glob';
import { type Method, settle } from './callbacks';
import { type CommandRule, keyName, reply } from './command-rule';
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
    case 'numsub':
    case 'shardnumsub': {
      // No shard channels here: a cluster's notion.
      const counts = new Map(sub === 'numsub' ? subscribers(client.channels) : []);
      return args.slice(1).flatMap((channel) => [channel, counts.get(keyName(channel)) ?? 0]);
    }
    default: {
      if (words > 3) {
        throw replyError(
          `ERR unknown subcommand or wrong number of arguments for '${given.slice(0, 128)}'. Try PUBSUB HELP.`,
        );
      }
      if (sub === 'shardchannels') return [];
      const pattern = args.length === 2 ? new GlobPattern(keyName(args[1])) : undefined;
      return subscribers(client.channels)
        .map(([name]) => name)
        .filter((name) => pattern === undefined || pattern.matches(name));
    }
  }
}

/** The commands that change a connection's subscriptions (those of shard channels are not supported). */
const SUBSCRIPTIONS = new Set(['subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe']);

/** Whether `command` is (P)(UN)SUBSCRIBE. */
export function isSubscription(command: string): boolean {
  return SUBSCRIPTIONS.has(command);
}

/**
 * Runs (P)(UN)SUBSCRIBE queued in a pipeline or a transaction of `client`, one name at a time with `emulator`
 * (ioredis-mock's command, which counts the channels or the patterns alone), and answers as ioredis reads Redis's
 * reply: in a pipeline the channels and patterns subscribed to after it; in a transaction the reply for its first name,
 * `[command, name, count]` (Redis answers one such array per name, and EXEC's reply has an entry per command: the
 * others spill into the entries after it, which no client reads as they were meant). An UNSUBSCRIBE of nothing
 * unsubscribes from every channel, and answers `[command, null, count]` when there was none.
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
  let targets = names;
  if (names.length === 0 && command.includes('unsubscribe')) {
    const store = command === 'unsubscribe' ? mock.channels : mock.patternChannels;
    targets = [...(store?.instanceListeners ?? [])]
      .filter(([, listeners]) => listeners.has(client))
      .map(([name]) => name);
  }
  let first: unknown[] | undefined;
  for (const name of targets) {
    emulator(name);
    first ??= [command, name, subscriptionsOf(mock)];
  }
  const total = subscriptionsOf(mock);
  mock.subscriberMode = total > 0;
  if (!transaction) return total;
  const reply = first ?? [command, null, total];
  return text
    ? reply.map((part) => (Buffer.isBuffer(part) ? part.toString() : part))
    : reply.map((part) => (typeof part === 'string' ? Buffer.from(part) : part));
}

/** The rules of PUBLISH and PUBSUB, over the subscriptions `client` shares with its duplicates. */
export function pubsubRules(client: object): Record<string, CommandRule> {
  const mock = client as PubSubClient;
  return {
    publish: {
      arity: 3,
      // Counted before ioredis-mock delivers it: the connections subscribed when it was published.
      check: (args) => {
        const count = receivers(mock, keyName(args[0]));
        return { args, answer: () => count };
      },
    },
    pubsub: { arity: -2, check: (args) => reply(pubsub(mock, args)) },
  };
}

/**
 * Makes `client`'s (P)(UN)SUBSCRIBE answer with the channels and patterns it is subscribed to, leave subscriber mode
 * once there are none, and refuse a SUBSCRIBE of nothing; and its PING answer as in subscriber mode while it is there.
 * Methods of the client itself: ioredis-mock runs nothing else in subscriber mode, where rules do not apply.
 */
export function guardSubscriptions(client: object): void {
  const target = client as Record<string, unknown> & PubSubClient;
  for (const name of ['subscribe', 'psubscribe', 'unsubscribe', 'punsubscribe']) {
    for (const method of [name, `${name}Buffer`]) {
      const own = target[method];
      if (typeof own !== 'function') continue;
      target[method] = (...raw: unknown[]): Promise<unknown> => {
        const callback =
          typeof raw[raw.length - 1] === 'function' ? (raw.pop() as Method) : undefined;
        const args = raw.flat();
        if (args.length === 0 && !name.includes('unsubscribe')) {
          return settle(Promise.reject(replyError(wrongArity(name))), callback);
        }
        const ran = Promise.resolve((own as Method).apply(client, args)).then(() => {
          const total = subscriptionsOf(target);
          target.subscriberMode = total > 0;
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
      if (target.subscriberMode !== true) return (own as Method).apply(client, raw);
      const callback =
        typeof raw[raw.length - 1] === 'function' ? (raw.pop() as Method) : undefined;
      const message = raw.length === 0 ? '' : keyName(raw[0] as Arg);
      const answer =
        method === 'ping' ? ['pong', message] : ['pong', message].map((s) => Buffer.from(s));
      return settle(Promise.resolve(answer), callback);
    };
  }
}
