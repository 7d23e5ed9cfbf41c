/**
 * Server and connection commands (https://redis.io/docs/latest/commands/?group=server, `?group=connection`).
 *
 * ioredis-mock answers these without looking at their arguments: `FLUSHALL foo` emptied the keyspace where Redis
 * refuses it with `ERR syntax error`, `PING a b` answered `a`, `ECHO` of nothing answered nil, and `TIME x`,
 * `LASTSAVE x`, `SAVE x` answered as if the extra words were not there. Here their arguments are checked as
 * Redis 7.0 checks them, with its errors, and nothing runs when they are refused. ROLE answers
 * the list of replicas too (an empty one). (FLUSHALL and FLUSHDB also touch
 * the watched keys of every connection: see `command-guard.ts`, which adds that to these rules.)
 */
import { type CommandRule, reply } from '../command-rule';
import {
  type Arg,
  integerArg,
  optionName,
  parseInteger,
  replyError,
  SYNTAX_ERROR,
  wrongArity,
} from '../redis-replies';
import { checkSubcommand } from '../subcommands';

/** FLUSHALL and FLUSHDB [ASYNC|SYNC] (Redis's `getFlushCommandFlags`): one option at most, in any case. */
const flush: CommandRule = {
  arity: -1,
  parse: (args) => {
    if (args.length === 0) return;
    const option = optionName(args[0]);
    if (args.length > 1 || (option !== 'ASYNC' && option !== 'SYNC')) {
      throw replyError(SYNTAX_ERROR);
    }
    // ioredis-mock empties the keyspace at once whatever the option: it is given none.
    return [];
  },
};

/** A command that takes no argument but its name. */
const bare: CommandRule = { arity: 1 };

/** PING [message]: Redis's arity lets any number through, `pingCommand` refuses more than one. */
const ping: CommandRule = {
  arity: -1,
  parse: (args: readonly Arg[]) => {
    if (args.length > 1) throw replyError(wrongArity('ping'));
  },
};

/** BGSAVE [SCHEDULE]. */
const bgsave: CommandRule = {
  arity: -1,
  parse: (args) => {
    if (args.length > 1 || (args.length === 1 && optionName(args[0]) !== 'SCHEDULE')) {
      throw replyError(SYNTAX_ERROR);
    }
  },
};

/** AUTH [username] password: the embedded cache takes any password, as before; more words are a syntax error. */
const auth: CommandRule = {
  arity: -2,
  parse: (args) => {
    if (args.length > 2) throw replyError(SYNTAX_ERROR);
  },
};

const CLUSTER_DISABLED = 'ERR This instance has cluster support disabled';

/**
 * WAIT numreplicas timeout (Redis's `waitCommand`): the number of replicas that acknowledged the client's writes,
 * which for the embedded cache, a primary without replicas, is 0. Redis answers at once when that meets
 * `numreplicas` (0 or less) or in a transaction, and otherwise blocks for the timeout (for ever with 0) before
 * answering 0: here the answer comes at once, as no replica can ever acknowledge.
 */
const wait: CommandRule = {
  arity: 3,
  check: (args) => {
    integerArg(args[0]);
    const timeout = parseInteger(args[1]);
    if (timeout === undefined) throw replyError('ERR timeout is not an integer or out of range');
    if (timeout < 0n) throw replyError('ERR timeout is negative');
    return reply(0);
  },
};

/** A database index of SWAPDB (Redis's `getIntFromObjectOrReply` with SWAPDB's own message). */
function swapdbIndex(arg: Arg, which: 'first' | 'second'): bigint {
  const n = parseInteger(arg);
  if (n === undefined || n > 2147483647n || n < -2147483648n) {
    throw replyError(`ERR invalid ${which} DB index`);
  }
  return n;
}

/**
 * SWAPDB index1 index2 (Redis's `swapdbCommand`): the embedded cache has one database, so only `SWAPDB 0 0`, which
 * swaps nothing, is in range (ioredis-mock answered `Unsupported command`).
 */
const swapdb: CommandRule = {
  arity: 3,
  check: (args) => {
    const first = swapdbIndex(args[0], 'first');
    const second = swapdbIndex(args[1], 'second');
    if (first !== 0n || second !== 0n) throw replyError('ERR DB index is out of range');
    return reply('OK');
  },
};

export const serverRules: Readonly<Record<string, CommandRule>> = {
  flushall: flush,
  flushdb: flush,
  ping,
  echo: { arity: 2 },
  time: bare,
  lastsave: bare,
  save: bare,
  bgsave,
  bgrewriteaof: bare,
  // A primary without replicas: its replication offset, and the (empty) list of replicas ioredis-mock left out.
  role: { arity: 1, check: () => reply(['master', 0, []]) },
  wait,
  swapdb,
  auth,
  unwatch: bare,
  // ASKING, READONLY and READWRITE are cluster commands (ioredis-mock refused ASKING and READONLY, and answered
  // READWRITE `OK`).
  asking: bare,
  readonly: bare,
  readwrite: {
    arity: 1,
    check: () => {
      throw replyError(CLUSTER_DISABLED);
    },
  },
  // An unknown subcommand, or one with the wrong number of arguments, is refused as such before CLUSTER says the
  // server has no cluster (ioredis-mock answered that to anything), and before COMMAND answers.
  cluster: { arity: -2, parse: (args) => checkSubcommand('cluster', args) },
  command: { arity: -1, parse: (args) => checkSubcommand('command', args) },
};
