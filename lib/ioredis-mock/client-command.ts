/**
 * CLIENT on the embedded client (ioredis-mock has none: `Unsupported command`), as Redis 7.0's `clientCommand` answers
 * it for the connections of one keyspace: the embedded client and its duplicates, each a connection with its id and
 * name. Libraries name their connections and list them: BullMQ's `QueueEvents` sets a name before it reads, and
 * `Queue.getWorkers()` finds the workers in `CLIENT LIST` by their names.
 *
 * `ID`, `SETNAME`, `GETNAME`, `INFO`, `LIST` (with `TYPE` or `ID`), `NO-EVICT` and `HELP` are answered; a connection
 * is in process, so its line has no address (`addr=embedded:0`, `fd=-1`), no buffers, and `cmd` is the last `CLIENT`
 * call it made (`NULL` before one). The subcommands that act on other connections or on replies (`KILL`, `PAUSE`,
 * `UNPAUSE`, `REPLY`, `TRACKING`, `CACHING`, `GETREDIR`, `TRACKINGINFO`, `UNBLOCK`) are refused.
 */
import type { Keyspace } from '../keyspace/keyspace';
import { type CommandRule, reply } from './command-rule';
import {
  type Arg,
  argText,
  parseInteger,
  REDIS_VERSION,
  replyError,
  SYNTAX_ERROR,
} from './redis-replies';
import { subcommandError } from './subcommands';

/** One connection of a keyspace: an embedded client or one of its duplicates. */
export interface Connection {
  readonly id: number;
  name: string;
  readonly since: number;
  noEvict: boolean;
  lastCommand: string;
  /**
   * The client's subscriptions to channels, patterns and shard channels (`sub`, `psub`, `ssub`); with any, it is in
   * the pub/sub context (flag `P`, type `pubsub`).
   */
  readonly subscriptions: () => readonly [number, number, number];
  /**
   * Makes the client's next EXEC abort if it watches a key `exists` says is there (Redis's `touchAllWatchedKeysInDb`,
   * as FLUSHALL does).
   */
  readonly touchWatched: (exists: (key: string) => boolean) => void;
  /** Closes the client (when the keyspace stops serving, as a Redis server closes its clients when it shuts down). */
  readonly disconnect: () => void;
}

let lastId = 0;
const connectionsOf = new WeakMap<Keyspace, Set<Connection>>();

/** How many connections of `keyspace` are open (`INFO clients`' `connected_clients`). */
export function connectionCount(keyspace: Keyspace): number {
  return connectionsOf.get(keyspace)?.size ?? 0;
}

/** The connections of one keyspace: each is listed from {@link Connections.open} to {@link Connections.close}. */
export class Connections {
  private readonly all: Set<Connection>;

  constructor(keyspace: Keyspace) {
    let all = connectionsOf.get(keyspace);
    if (all === undefined) {
      const open = (all = new Set());
      connectionsOf.set(keyspace, open);
      keyspace.onStopServing(() => {
        for (const connection of [...open]) connection.disconnect();
      });
    }
    this.all = all;
  }

  create(
    subscriptions: () => readonly [number, number, number],
    touchWatched: (exists: (key: string) => boolean) => void,
    disconnect: () => void,
  ): Connection {
    return {
      id: ++lastId,
      name: '',
      since: Date.now(),
      noEvict: false,
      lastCommand: 'NULL',
      subscriptions,
      touchWatched,
      disconnect,
    };
  }

  open(connection: Connection): void {
    this.all.add(connection);
  }

  close(connection: Connection): void {
    this.all.delete(connection);
  }

  list(): Connection[] {
    return [...this.all].sort((a, b) => a.id - b.id);
  }
}

const HELP = [
  'CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'CACHING (YES|NO)',
  '    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.',
  'GETREDIR',
  '    Return the client ID we are redirecting to when tracking is enabled.',
  'GETNAME',
  '    Return the name of the current connection.',
  'ID',
  '    Return the ID of the current connection.',
  'INFO',
  '    Return information about the current client connection.',
  'KILL <ip:port>',
  '    Kill connection made from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]',
  '    Kill connections. Options are:',
  '    * ADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made from the specified address',
  '    * LADDR (<ip:port>|<unixsocket>:0)',
  '      Kill connections made to specified local address',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Kill connections by type.',
  '    * USER <username>',
  '      Kill connections authenticated by <username>.',
  '    * SKIPME (YES|NO)',
  '      Skip killing current connection (default: yes).',
  'LIST [options ...]',
  '    Return information about client connections. Options:',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)',
  '      Return clients of specified type.',
  'UNPAUSE',
  '    Stop the current client pause, resuming traffic.',
  'PAUSE <timeout> [WRITE|ALL]',
  '    Suspend all, or just write, clients for <timeout> milliseconds.',
  'REPLY (ON|OFF|SKIP)',
  '    Control the replies sent to the current connection.',
  'SETNAME <name>',
  '    Assign the name <name> to the current connection.',
  'UNBLOCK <clientid> [TIMEOUT|ERROR]',
  '    Unblock the specified blocked client.',
  'TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]',
  '         [OPTIN] [OPTOUT] [NOLOOP]',
  '    Control server assisted client side caching.',
  'TRACKINGINFO',
  '    Report tracking status for the current connection.',
  'NO-EVICT (ON|OFF)',
  '    Protect current client connection from eviction.',
  'HELP',
  '    Prints this help.',
];

/** Whether `c` has a subscription of any kind (Redis's `CLIENT_PUBSUB`). */
function isSubscribed(c: Connection): boolean {
  const [sub, psub, ssub] = c.subscriptions();
  return sub + psub + ssub > 0;
}

/** A connection's line of `CLIENT LIST` and `CLIENT INFO` (Redis 7.0's `catClientInfoString`). */
function lineOf(c: Connection, now: number): string {
  const age = Math.floor((now - c.since) / 1000);
  const [sub, psub, ssub] = c.subscriptions();
  const flags = (isSubscribed(c) ? 'P' : '') + (c.noEvict ? 'e' : '') || 'N';
  return (
    `id=${c.id} addr=embedded:0 laddr=embedded:0 fd=-1 name=${c.name} age=${age} idle=${age} ` +
    `flags=${flags} db=0 sub=${sub} psub=${psub} ssub=${ssub} multi=-1 qbuf=0 qbuf-free=0 argv-mem=0 ` +
    'multi-mem=0 rbs=0 rbp=0 ' +
    `obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=${c.lastCommand} user=default redir=-1 resp=2`
  );
}

/** Redis's `clientSetName`: a name of visible ASCII characters, or none for an empty one. */
function checkedName(arg: Arg): string {
  const bytes = Buffer.isBuffer(arg) ? arg : Buffer.from(arg, 'utf8');
  for (const byte of bytes) {
    if (byte < 0x21 || byte > 0x7e) {
      throw replyError('ERR Client names cannot contain spaces, newlines or special characters.');
    }
  }
  return bytes.toString('latin1');
}

function list(connections: Connections, args: readonly Arg[], now: number): string {
  let listed = connections.list();
  if (args.length === 2 && argText(args[0]).toLowerCase() === 'type') {
    const type = argText(args[1]).toLowerCase();
    if (type === 'normal') listed = listed.filter((c) => !isSubscribed(c));
    else if (type === 'pubsub') listed = listed.filter(isSubscribed);
    else if (type === 'master' || type === 'replica' || type === 'slave') listed = [];
    else throw replyError(`ERR Unknown client type '${argText(args[1])}'`);
  } else if (args.length > 1 && argText(args[0]).toLowerCase() === 'id') {
    // In the order asked, each time it is asked (Redis looks each id up).
    const byId = new Map(listed.map((c) => [BigInt(c.id), c]));
    listed = [];
    for (const arg of args.slice(1)) {
      const id = parseInteger(arg);
      if (id === undefined) throw replyError('ERR Invalid client ID');
      const found = byId.get(id);
      if (found !== undefined) listed.push(found);
    }
  } else if (args.length !== 0) {
    throw replyError(SYNTAX_ERROR);
  }
  return listed.map((c) => `${lineOf(c, now)}\n`).join('');
}

/** The rule of CLIENT for `self`, one of `connections`. */
export function clientRule(connections: Connections, self: Connection): CommandRule {
  return {
    arity: -2,
    check: (args) => {
      const unknownOrArity = subcommandError('client', args);
      if (unknownOrArity !== undefined) throw unknownOrArity;
      const sub = argText(args[0]).toLowerCase();
      self.lastCommand = `client|${sub}`;
      const now = Date.now();
      switch (sub) {
        case 'id':
          return reply(self.id);
        case 'getname':
          return reply(self.name === '' ? null : self.name);
        case 'setname':
          self.name = checkedName(args[1]);
          return reply('OK');
        case 'info':
          return reply(`${lineOf(self, now)}\n`);
        case 'list':
          return reply(list(connections, args.slice(1), now));
        case 'no-evict': {
          const value = argText(args[1]).toLowerCase();
          if (value !== 'on' && value !== 'off') throw replyError(SYNTAX_ERROR);
          self.noEvict = value === 'on';
          return reply('OK');
        }
        case 'help':
          return reply(HELP);
        default:
          throw replyError(
            `ERR CLIENT ${sub.toUpperCase()} is not supported by the embedded cache.`,
          );
      }
    },
  };
}

/**
 * HELLO [protover [AUTH username password] [SETNAME clientname]] for `self` (Redis 7.0's `helloCommand`; ioredis-mock
 * has none): the connection's facts, as a flat list of names and values (RESP2's form of Redis's map). The embedded
 * client answers in RESP2's forms only, so a `protover` of 3 is refused as 1 and 4 are, with Redis's `NOPROTO` (Redis
 * 7.0 would switch to RESP3). `AUTH` takes any password, as `AUTH` does here; `SETNAME` names the connection as
 * `CLIENT SETNAME` does, as soon as the option is read.
 */
export function helloRule(self: Connection): CommandRule {
  return {
    arity: -1,
    check: (args) => {
      if (args.length !== 0) {
        const version = parseInteger(args[0]);
        if (version === undefined) {
          throw replyError('ERR Protocol version is not an integer or out of range');
        }
        if (version !== 2n) throw replyError('NOPROTO unsupported protocol version');
      }
      for (let j = 1; j < args.length; j++) {
        const option = argText(args[j]);
        const more = args.length - 1 - j;
        if (option.toUpperCase() === 'AUTH' && more >= 2) j += 2;
        // Named as the option is read: an error in a later option leaves the name set, as in Redis 7.0.
        else if (option.toUpperCase() === 'SETNAME' && more >= 1)
          self.name = checkedName(args[++j]);
        else throw replyError(`ERR Syntax error in HELLO option '${option}'`);
      }
      return reply([
        'server',
        'redis',
        'version',
        REDIS_VERSION,
        'proto',
        2,
        'id',
        self.id,
        'mode',
        'standalone',
        'role',
        'master',
        'modules',
        [],
      ]);
    },
  };
}
