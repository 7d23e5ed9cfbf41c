/**
 * The subcommands of Redis 7.0's container commands the embedded client answers, with their arities (Redis's command
 * table: n > 0 exactly n words, n < 0 at least -n, the command and the subcommand counted). Redis looks a
 * subcommand up and checks its arity when the command arrives: in a transaction, an unknown one or a wrong number
 * of arguments discards it when it is queued.
 */
import { type Arg, argText, replyError } from './redis-replies';

const SUBCOMMANDS: Readonly<Record<string, Readonly<Record<string, number>>>> = {
  client: {
    caching: 3,
    getname: 2,
    getredir: 2,
    help: 2,
    id: 2,
    info: 2,
    kill: -3,
    list: -2,
    'no-evict': 3,
    pause: -3,
    reply: 3,
    setname: 3,
    tracking: -3,
    trackinginfo: 2,
    unblock: -3,
    unpause: 2,
  },
  cluster: {
    addslots: -3,
    addslotsrange: -4,
    bumpepoch: 2,
    'count-failure-reports': 3,
    countkeysinslot: 3,
    delslots: -3,
    delslotsrange: -4,
    failover: -2,
    flushslots: 2,
    forget: 3,
    getkeysinslot: 4,
    help: 2,
    info: 2,
    keyslot: 3,
    links: 2,
    meet: -4,
    myid: 2,
    nodes: 2,
    replicas: 3,
    replicate: 3,
    reset: -2,
    saveconfig: 2,
    'set-config-epoch': 3,
    setslot: -4,
    shards: 2,
    slaves: 3,
    slots: 2,
  },
  command: { count: 2, docs: -2, getkeys: -4, getkeysandflags: -4, help: 2, info: -2, list: -2 },
  config: { get: -3, help: 2, resetstat: 2, rewrite: 2, set: -4 },
  memory: { doctor: 2, help: 2, 'malloc-stats': 2, purge: 2, stats: 2, usage: -3 },
  object: { encoding: 3, freq: 3, help: 2, idletime: 3, refcount: 3 },
  pubsub: { channels: -2, help: 2, numpat: 2, numsub: -2, shardchannels: -2, shardnumsub: -2 },
  script: { debug: 3, exists: -3, flush: -2, help: 2, kill: 2, load: 3 },
};

/** Throws {@link subcommandError}'s error, if any: a rule's `parse` for a container ioredis-mock answers. */
export function checkSubcommand(command: string, args: readonly Arg[]): void {
  const error = subcommandError(command, args);
  if (error !== undefined) throw error;
}

/**
 * Redis's error for the subcommand `args[0]` of `command` (lower case) when it is unknown or given the wrong number
 * of arguments; `undefined` when it is fine, or `command` is no container.
 */
export function subcommandError(command: string, args: readonly Arg[]): Error | undefined {
  const table = Object.hasOwn(SUBCOMMANDS, command) ? SUBCOMMANDS[command] : undefined;
  if (table === undefined || args.length === 0) return undefined;
  const given = argText(args[0]);
  const sub = given.toLowerCase();
  if (!Object.hasOwn(table, sub)) {
    return replyError(
      `ERR unknown subcommand '${given.slice(0, 128)}'. Try ${command.toUpperCase()} HELP.`,
    );
  }
  const arity = table[sub];
  const words = args.length + 1;
  if (arity > 0 ? words === arity : words >= -arity) return undefined;
  return replyError(`ERR wrong number of arguments for '${command}|${sub}' command`);
}
