/**
 * What each command publishes as keyspace notifications, as Redis 7.0 does (see `notifications.ts`): one entry per
 * command, which reads the state of its keys before it ran ({@link Happened.was}) and after ({@link Happened.now}),
 * and publishes, in Redis's order:
 * - `new` (class `n`) when it makes a key (Redis's `dbAdd`), before the command's own event;
 * - the command's event of its type's class: `set`, `lpush`, `sadd`, `zadd`, `hset`, `xadd`, …, when it changed
 *   something (Redis publishes none for an SADD of a member already there, an LREM that found nothing, …);
 * - `del` (class `g`) for a collection the command emptied, after its event; generic events (`expire`, `persist`,
 *   `rename_from`/`rename_to`, `copy_to`, `del`);
 * - `keymiss` (class `m`) for each key a read looked up and did not find.
 */

import type { KeyReader } from '../keyspace/keyspace';
import { keyName, memberOf } from './command-rule';
import type { EventClass, KeyspaceEvents } from './notifications';
import { type Arg, argText, optionName } from './redis-replies';

/**
 * A key's state, before or after the command ran. Its size is the elements of a list, set or sorted set, the entries
 * of a stream, the bytes of a string (counted when asked: a string is never changed in place), and 0 for a hash
 * (counting its fields would cost each write on a large hash their number: the hash entries look at their fields).
 */
class KeyState {
  private counted: number | undefined;

  constructor(
    readonly exists: boolean,
    readonly value: unknown,
    readonly ttl: number | undefined,
  ) {
    // A collection changed in place is the same object after the command: its size is taken now.
    if (value instanceof Set || value instanceof Map) this.counted = value.size;
    else if (typeof value === 'object' && value !== null) {
      // An array, a Buffer, a stream, or any other list form the keyspace holds that has a length.
      const length = (value as { length?: unknown }).length;
      this.counted = typeof length === 'number' ? length : 0;
    } else if (typeof value !== 'string') this.counted = 0;
  }

  get size(): number {
    return (this.counted ??= Buffer.byteLength(this.value as string, 'utf8'));
  }
}

const MISSING = new KeyState(false, undefined, undefined);

/** The state of `key` as the command looks it up: a key found expired is deleted (and announced) first. */
function stateOf(reader: KeyReader, key: string): KeyState {
  const value = reader.valueOf(key);
  if (value === undefined) return MISSING;
  return new KeyState(true, value, reader.expiryOf(key));
}

/** The state of `key` once the command ran, as it left it: expired or not (a time it set may be past already). */
function stateAfter(reader: KeyReader, key: string): KeyState {
  if (reader.peek === undefined) return stateOf(reader, key);
  const found = reader.peek(key);
  if (found === undefined || found.value === undefined) return MISSING;
  return new KeyState(true, found.value, found.expiresAt);
}

/** One command's entry: the keys whose state before it ran its events depend on, and what it publishes. */
export interface CommandEvents {
  /** The keys read before the command runs (its first by default). */
  readonly keys?: (args: readonly Arg[]) => readonly Arg[];
  /** More of the state before (ZADD's scores of its members, SETBIT's bit). */
  readonly capture?: (args: readonly Arg[], reader: KeyReader) => unknown;
  readonly publish: (happened: Happened) => void;
}

/** What a command did, as its events need it. */
export class Happened {
  private readonly before = new Map<string, KeyState>();
  /** The keys `new` was published for (most commands make none). */
  private announced: Set<string> | undefined;
  readonly captured: unknown;

  constructor(
    private readonly events: KeyspaceEvents,
    readonly args: readonly Arg[],
    private readonly reader: KeyReader,
    entry: CommandEvents,
  ) {
    const keys = entry.keys === undefined ? args.slice(0, 1) : entry.keys(args);
    for (const key of keys) {
      const name = keyName(key);
      if (!this.before.has(name)) this.before.set(name, stateOf(reader, name));
    }
    this.captured = entry.capture?.(args, reader);
  }

  /** The state of `key` before the command ran. */
  was(key: Arg): KeyState {
    return this.before.get(keyName(key)) ?? MISSING;
  }

  /** The state of `key` now. */
  now(key: Arg): KeyState {
    return stateAfter(this.reader, keyName(key));
  }

  emit(cls: EventClass, event: string, key: Arg): void {
    this.events.emit(cls, event, keyName(key));
  }

  /** `new`, if the command made `key` (once per command and key). */
  created(key: Arg): void {
    const name = keyName(key);
    if (this.announced?.has(name) === true || this.was(name).exists || !this.now(name).exists)
      return;
    (this.announced ??= new Set()).add(name);
    this.emit('n', 'new', name);
  }

  /** The command's event when it made or changed `key`, after `new` if it made it. */
  wrote(cls: EventClass, event: string, key: Arg): void {
    this.created(key);
    this.emit(cls, event, key);
  }

  /** `event` if the collection at `key` lost elements, then `del` if it is gone. */
  shrank(cls: EventClass, event: string, key: Arg): void {
    const was = this.was(key);
    if (!was.exists) return;
    const now = this.now(key);
    if (now.exists && now.size >= was.size) return;
    this.emit(cls, event, key);
    if (!now.exists) this.emit('g', 'del', key);
  }

  /** `event` if the collection at `key` gained elements (after `new` if it made it). */
  grew(cls: EventClass, event: string, key: Arg): void {
    const now = this.now(key);
    if (now.exists && now.size > this.was(key).size) this.wrote(cls, event, key);
  }

  /** A `…STORE` command's destination: `event` if it holds the result, `del` if an empty result removed it. */
  stored(cls: EventClass, event: string, key: Arg): void {
    if (this.now(key).exists) this.wrote(cls, event, key);
    else if (this.was(key).exists) this.emit('g', 'del', key);
  }

  /** `keymiss` for each of `keys` (each time it is named) that did not exist when the command looked it up. */
  missed(keys: readonly Arg[]): void {
    if (!this.events.publishes('m')) return;
    for (const key of keys) if (!this.was(key).exists) this.emit('m', 'keymiss', key);
  }
}

type Keys = (args: readonly Arg[]) => readonly Arg[];

const all: Keys = (args) => args;
const firstTwo: Keys = (args) => args.slice(0, 2);
/** `numkeys key …` at `at`. */
const counted =
  (at: number): Keys =>
  (args) => {
    const n = Number(argText(args[at] ?? '0'));
    return Number.isSafeInteger(n) && n > 0 ? args.slice(at + 1, at + 1 + n) : [];
  };
const evenPositions: Keys = (args) => args.filter((_, i) => i % 2 === 0);

/** XREAD's keys: the first half of what follows STREAMS (ids follow them). */
const streamsKeys: Keys = (args) => {
  const at = args.findIndex((arg) => optionName(arg) === 'STREAMS');
  if (at < 0) return [];
  const rest = args.slice(at + 1);
  return rest.length % 2 === 0 ? rest.slice(0, rest.length / 2) : [];
};

/** The option words of `args` from `from` on (upper case). */
function options(args: readonly Arg[], from = 1): Set<string> {
  const out = new Set<string>();
  for (let i = from; i < args.length; i++) out.add(optionName(args[i]));
  return out;
}

/** A read: `keymiss` for each of its keys missing (Redis's `lookupKeyRead`). */
const read = (keys?: Keys): CommandEvents => ({
  keys,
  publish: (h) => h.missed(keys === undefined ? h.args.slice(0, 1) : keys(h.args)),
});

/** A write that always publishes `event` (after `new` if it made the key). */
const writes = (cls: EventClass, event: string): CommandEvents => ({
  publish: (h) => h.wrote(cls, event, h.args[0]),
});

/** A removal from a collection: `event` when something went, `del` when the key went with it. */
const removes = (cls: EventClass, event: string): CommandEvents => ({
  publish: (h) => h.shrank(cls, event, h.args[0]),
});

/** An addition to a collection: `event` when it grew. */
const adds = (cls: EventClass, event: string): CommandEvents => ({
  publish: (h) => h.grew(cls, event, h.args[0]),
});

/** A `…STORE` command: its destination at `destination`, its sources (looked up as reads) from `sources`. */
const stores = (
  cls: EventClass,
  event: string,
  destination: (args: readonly Arg[]) => Arg | undefined,
  sources: Keys,
): CommandEvents => ({
  keys: (args) => {
    const dst = destination(args);
    return dst === undefined ? sources(args) : [dst, ...sources(args)];
  },
  publish: (h) => {
    h.missed(sources(h.args));
    const dst = destination(h.args);
    if (dst !== undefined) h.stored(cls, event, dst);
  },
});

/** The argument after the option `name` (GEORADIUS's STORE, SORT's), if given. */
function after(args: readonly Arg[], names: readonly string[], from = 1): Arg | undefined {
  for (let i = from; i < args.length - 1; i++)
    if (names.includes(optionName(args[i]))) return args[i + 1];
  return undefined;
}

/** A stored string's bytes (UTF-8 text or a Buffer); a missing key's are none. */
function bytesOf(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  return Buffer.from(typeof value === 'string' ? value : '', 'utf8');
}

/** Whether two stored strings hold the same bytes, a missing key holding none (or, with `zeros`, only zeros). */
function sameBytes(a: unknown, b: unknown, zeros = false): boolean {
  if (a === b) return true;
  const x = bytesOf(a);
  const y = bytesOf(b);
  if (x.equals(y)) return true;
  if (!zeros || x.length > y.length) return false;
  // A key made for the command is filled with zeros (BITFIELD's, before an OVERFLOW FAIL refused its change).
  return x.equals(y.subarray(0, x.length)) && y.subarray(x.length).every((byte) => byte === 0);
}

/** SET, SETEX, PSETEX: `set`, and `expire` when it set a time. */
function setEvents(h: Happened, key: Arg, expires: boolean): void {
  h.wrote('$', 'set', key);
  if (expires) h.emit('g', 'expire', key);
}

const EXPIRY_OPTIONS = new Set(['EX', 'PX', 'EXAT', 'PXAT']);

const set: CommandEvents = {
  publish: (h) => {
    const o = options(h.args, 2);
    const was = h.was(h.args[0]);
    if (o.has('GET') && !was.exists) h.missed([h.args[0]]);
    if ((o.has('NX') && was.exists) || (o.has('XX') && !was.exists)) return;
    setEvents(
      h,
      h.args[0],
      [...EXPIRY_OPTIONS].some((option) => o.has(option)),
    );
  },
};

/** The EXPIRE family: `expire`, or `del` for a time past; nothing when a condition (NX, XX, GT, LT) refused it. */
const expire: CommandEvents = {
  publish: (h) => {
    const key = h.args[0];
    const was = h.was(key);
    if (!was.exists) return;
    const now = h.now(key);
    if (!now.exists) return h.emit('g', 'del', key);
    if (now.ttl === undefined) return;
    const condition = h.args.length > 2 ? optionName(h.args[2]) : undefined;
    // The same time again (EXPIREAT) is set, unless the condition asked for a later or an earlier one, or none.
    if (now.ttl !== was.ttl || condition === undefined || condition === 'XX')
      h.emit('g', 'expire', key);
  },
};

/** LPOP, RPOP: `event` when something went, `del` if the list went. */
const pop = (event: string): CommandEvents => removes('l', event);

/** LMOVE, RPOPLPUSH: the push on the destination, then the pop from the source (and `del` if it emptied). */
const move = (
  from: (args: readonly Arg[]) => string,
  to: (args: readonly Arg[]) => string,
): CommandEvents => ({
  keys: firstTwo,
  publish: (h) => {
    const [source, destination] = h.args;
    if (!h.was(source).exists) return;
    h.wrote('l', to(h.args) === 'LEFT' ? 'lpush' : 'rpush', destination);
    h.emit('l', from(h.args) === 'LEFT' ? 'lpop' : 'rpop', source);
    if (!h.now(source).exists) h.emit('g', 'del', source);
  },
});

/** LMPOP, ZMPOP: the first key holding something is popped from. */
const multiPop = (cls: EventClass, events: Readonly<Record<string, string>>): CommandEvents => ({
  keys: counted(0),
  publish: (h) => {
    const keys = counted(0)(h.args);
    const where = optionName(h.args[keys.length + 1] ?? '');
    const event = events[where];
    const key = keys.find((k) => h.was(k).exists);
    if (key !== undefined && event !== undefined) h.shrank(cls, event, key);
  },
});

/** The scores (or absence) of `members` in a sorted set (a Map of member to `{ score, value }`), before or after. */
function scoresOf(value: unknown, members: readonly Arg[]): (number | undefined)[] {
  const map =
    value instanceof Map ? (value as Map<unknown, { score?: unknown } | undefined>) : undefined;
  return members.map((member) => {
    const score = map?.get(memberOf(member))?.score;
    return score === undefined ? undefined : Number(score);
  });
}

/** ZADD's and GEOADD's members: after the options, every `step`-th argument. */
function membersOf(args: readonly Arg[], optionWords: ReadonlySet<string>, step: number): Arg[] {
  let i = 1;
  while (i < args.length && optionWords.has(optionName(args[i]))) i++;
  const members: Arg[] = [];
  for (let j = i + step - 1; j < args.length; j += step) members.push(args[j]);
  return members;
}

/** ZADD, GEOADD: `zadd` (or `zincr` with INCR) when a member was added or its score changed. */
const scored = (optionWords: ReadonlySet<string>, step: number): CommandEvents => ({
  capture: (args, reader) =>
    scoresOf(reader.valueOf(keyName(args[0])), membersOf(args, optionWords, step)),
  publish: (h) => {
    const members = membersOf(h.args, optionWords, step);
    const before = h.captured as (number | undefined)[];
    const now = scoresOf(h.now(h.args[0]).value, members);
    if (!now.some((score, i) => !Object.is(score, before[i]))) return;
    const incr = optionWords.has('INCR') && options(h.args).has('INCR');
    h.wrote('z', incr ? 'zincr' : 'zadd', h.args[0]);
  },
});

/** XADD: `xadd` when an entry was added, then `xtrim` if its MAXLEN or MINID removed some. */
const xadd: CommandEvents = {
  publish: (h) => {
    const key = h.args[0];
    const was = h.was(key);
    const now = h.now(key);
    if (!now.exists) return;
    const lastId = (value: unknown): unknown => (value as { lastId?: unknown } | undefined)?.lastId;
    if (was.exists && lastId(was.value) === lastId(now.value) && now.size === was.size) return;
    h.wrote('t', 'xadd', key);
    if (now.size < was.size + 1) h.emit('t', 'xtrim', key);
  },
};

/** The bit SETBIT sets, before: its byte's value then. */
function bitAt(value: unknown, offset: Arg): number {
  const bytes = Buffer.isBuffer(value)
    ? value
    : Buffer.from(typeof value === 'string' ? value : '', 'utf8');
  const bit = Number(argText(offset));
  const byte = bytes[Math.floor(bit / 8)] ?? 0;
  return (byte >> (7 - (bit % 8))) & 1;
}

/** Whether the hash `value` holds any of `fields`. */
function hasFields(value: unknown, fields: readonly Arg[]): boolean {
  if (typeof value !== 'object' || value === null) return false;
  return fields.some((field) => Object.hasOwn(value, argText(field)));
}

const BITFIELD_WRITES = new Set(['SET', 'INCRBY']);

/** Commands by their lower-case name (see the file's comment). */
export const COMMAND_EVENTS: Readonly<Record<string, CommandEvents>> = {
  // strings
  set,
  setex: { publish: (h) => setEvents(h, h.args[0], true) },
  psetex: { publish: (h) => setEvents(h, h.args[0], true) },
  setnx: {
    publish: (h) => {
      if (!h.was(h.args[0]).exists) setEvents(h, h.args[0], false);
    },
  },
  getset: {
    publish: (h) => {
      h.missed([h.args[0]]);
      setEvents(h, h.args[0], false);
    },
  },
  mset: {
    keys: evenPositions,
    publish: (h) => evenPositions(h.args).forEach((key) => setEvents(h, key, false)),
  },
  msetnx: {
    keys: evenPositions,
    publish: (h) => {
      const keys = evenPositions(h.args);
      if (keys.some((key) => h.was(key).exists)) return;
      keys.forEach((key) => setEvents(h, key, false));
    },
  },
  getdel: {
    publish: (h) => {
      if (!h.was(h.args[0]).exists) h.missed([h.args[0]]);
      else if (!h.now(h.args[0]).exists) h.emit('g', 'del', h.args[0]);
    },
  },
  getex: {
    publish: (h) => {
      const key = h.args[0];
      const was = h.was(key);
      if (!was.exists) return h.missed([key]);
      const o = options(h.args);
      if (o.has('PERSIST')) {
        if (was.ttl !== undefined) h.emit('g', 'persist', key);
      } else if ([...EXPIRY_OPTIONS].some((option) => o.has(option))) {
        h.emit('g', h.now(key).exists ? 'expire' : 'del', key);
      }
    },
  },
  append: writes('$', 'append'),
  setrange: {
    publish: (h) => {
      if (h.args.length > 2 && Buffer.byteLength(argText(h.args[2])) > 0)
        h.wrote('$', 'setrange', h.args[0]);
    },
  },
  incr: writes('$', 'incrby'),
  decr: writes('$', 'incrby'),
  incrby: writes('$', 'incrby'),
  decrby: writes('$', 'incrby'),
  incrbyfloat: writes('$', 'incrbyfloat'),
  setbit: {
    capture: (args, reader) => bitAt(reader.valueOf(keyName(args[0])), args[1] ?? '0'),
    publish: (h) => {
      const key = h.args[0];
      const was = h.was(key);
      const changed = Number(argText(h.args[2] ?? '0')) !== h.captured;
      if (!was.exists || h.now(key).size > was.size || changed) h.wrote('$', 'setbit', key);
    },
  },
  bitfield: {
    publish: (h) => {
      const key = h.args[0];
      const writes = h.args.some((arg, i) => i > 0 && BITFIELD_WRITES.has(optionName(arg)));
      if (!writes) return;
      h.created(key);
      // Published when the bytes changed, or when a SET or INCRBY that ran (OVERFLOW FAIL may refuse them) made the
      // key or made it longer.
      const was = h.was(key);
      const now = h.now(key);
      const failing = h.args.some((arg, i) => i > 0 && optionName(arg) === 'FAIL');
      const longer = now.exists && (!was.exists || now.size > was.size);
      if (!sameBytes(was.value, now.value, true) || (longer && !failing))
        h.emit('$', 'setbit', key);
    },
  },
  bitop: stores(
    '$',
    'set',
    (args) => args[1],
    (args) => args.slice(2),
  ),
  pfadd: {
    publish: (h) => {
      const key = h.args[0];
      if (!h.was(key).exists || !sameBytes(h.was(key).value, h.now(key).value))
        h.wrote('$', 'pfadd', key);
    },
  },
  // Every key is looked up as a read, the destination too.
  pfmerge: {
    keys: all,
    publish: (h) => {
      h.missed(h.args);
      h.wrote('$', 'pfadd', h.args[0]);
    },
  },
  // generic
  del: {
    keys: all,
    publish: (h) => {
      const gone = new Set<string>();
      for (const key of h.args) {
        const name = keyName(key);
        if (h.was(name).exists && !gone.has(name) && !h.now(name).exists) {
          gone.add(name);
          h.emit('g', 'del', name);
        }
      }
    },
  },
  get unlink(): CommandEvents {
    return COMMAND_EVENTS.del;
  },
  expire,
  pexpire: expire,
  expireat: expire,
  pexpireat: expire,
  persist: {
    publish: (h) => {
      const was = h.was(h.args[0]);
      if (was.exists && was.ttl !== undefined && h.now(h.args[0]).ttl === undefined)
        h.emit('g', 'persist', h.args[0]);
    },
  },
  rename: {
    keys: firstTwo,
    publish: (h) => {
      const [source, destination] = h.args;
      if (keyName(source) === keyName(destination) || !h.was(source).exists) return;
      // Redis deletes a destination that exists, then adds the key: `new` either way.
      h.emit('n', 'new', destination);
      h.emit('g', 'rename_from', source);
      h.emit('g', 'rename_to', destination);
    },
  },
  renamenx: {
    keys: firstTwo,
    publish: (h) => {
      const [source, destination] = h.args;
      if (keyName(source) === keyName(destination) || !h.was(source).exists) return;
      if (h.was(destination).exists) return;
      h.emit('n', 'new', destination);
      h.emit('g', 'rename_from', source);
      h.emit('g', 'rename_to', destination);
    },
  },
  copy: {
    keys: firstTwo,
    publish: (h) => {
      const [source, destination] = h.args;
      if (!h.was(source).exists) return h.missed([source]);
      if (keyName(source) === keyName(destination)) return;
      if (h.was(destination).exists && !options(h.args, 2).has('REPLACE')) return;
      h.emit('n', 'new', destination);
      h.emit('g', 'copy_to', destination);
    },
  },
  sort: stores(
    'l',
    'sortstore',
    (args) => after(args, ['STORE']),
    (args) => args.slice(0, 1),
  ),
  // lists
  lpush: writes('l', 'lpush'),
  rpush: writes('l', 'rpush'),
  lpushx: adds('l', 'lpush'),
  rpushx: adds('l', 'rpush'),
  linsert: adds('l', 'linsert'),
  lset: writes('l', 'lset'),
  lrem: removes('l', 'lrem'),
  ltrim: {
    publish: (h) => {
      if (!h.was(h.args[0]).exists) return;
      h.emit('l', 'ltrim', h.args[0]);
      if (!h.now(h.args[0]).exists) h.emit('g', 'del', h.args[0]);
    },
  },
  lpop: pop('lpop'),
  rpop: pop('rpop'),
  rpoplpush: move(
    () => 'RIGHT',
    () => 'LEFT',
  ),
  lmove: move(
    (args) => optionName(args[2] ?? ''),
    (args) => optionName(args[3] ?? ''),
  ),
  lmpop: multiPop('l', { LEFT: 'lpop', RIGHT: 'rpop' }),
  // hashes
  hset: writes('h', 'hset'),
  hmset: writes('h', 'hset'),
  hsetnx: {
    capture: (args, reader) => hasFields(reader.valueOf(keyName(args[0])), args.slice(1, 2)),
    publish: (h) => {
      if (!(h.captured as boolean) && h.now(h.args[0]).exists) h.wrote('h', 'hset', h.args[0]);
    },
  },
  hincrby: writes('h', 'hincrby'),
  hincrbyfloat: writes('h', 'hincrbyfloat'),
  hdel: {
    capture: (args, reader) => hasFields(reader.valueOf(keyName(args[0])), args.slice(1)),
    publish: (h) => {
      if (!(h.captured as boolean)) return;
      h.emit('h', 'hdel', h.args[0]);
      if (!h.now(h.args[0]).exists) h.emit('g', 'del', h.args[0]);
    },
  },
  // sets
  sadd: adds('s', 'sadd'),
  srem: removes('s', 'srem'),
  spop: removes('s', 'spop'),
  smove: {
    keys: firstTwo,
    publish: (h) => {
      const [source, destination] = h.args;
      if (keyName(source) === keyName(destination)) return;
      const was = h.was(source);
      const now = h.now(source);
      if (!was.exists || (now.exists && now.size >= was.size)) return;
      h.emit('s', 'srem', source);
      if (!now.exists) h.emit('g', 'del', source);
      h.grew('s', 'sadd', destination);
    },
  },
  sinterstore: stores(
    's',
    'sinterstore',
    (args) => args[0],
    (args) => args.slice(1),
  ),
  sunionstore: stores(
    's',
    'sunionstore',
    (args) => args[0],
    (args) => args.slice(1),
  ),
  sdiffstore: stores(
    's',
    'sdiffstore',
    (args) => args[0],
    (args) => args.slice(1),
  ),
  // sorted sets
  zadd: scored(new Set(['NX', 'XX', 'GT', 'LT', 'CH', 'INCR']), 2),
  zincrby: writes('z', 'zincr'),
  zrem: removes('z', 'zrem'),
  zremrangebyscore: removes('z', 'zremrangebyscore'),
  zremrangebyrank: removes('z', 'zremrangebyrank'),
  zremrangebylex: removes('z', 'zremrangebylex'),
  zpopmin: removes('z', 'zpopmin'),
  zpopmax: removes('z', 'zpopmax'),
  zmpop: multiPop('z', { MIN: 'zpopmin', MAX: 'zpopmax' }),
  zunionstore: stores('z', 'zunionstore', (args) => args[0], counted(1)),
  zinterstore: stores('z', 'zinterstore', (args) => args[0], counted(1)),
  zdiffstore: stores('z', 'zdiffstore', (args) => args[0], counted(1)),
  zrangestore: stores(
    'z',
    'zrangestore',
    (args) => args[0],
    (args) => args.slice(1, 2),
  ),
  // geo
  geoadd: scored(new Set(['NX', 'XX', 'CH']), 3),
  georadius: stores(
    'z',
    'georadiusstore',
    (args) => after(args, ['STORE', 'STOREDIST']),
    (a) => a.slice(0, 1),
  ),
  georadiusbymember: stores(
    'z',
    'georadiusstore',
    (args) => after(args, ['STORE', 'STOREDIST']),
    (args) => args.slice(0, 1),
  ),
  geosearchstore: stores(
    'z',
    'geosearchstore',
    (args) => args[0],
    (args) => args.slice(1, 2),
  ),
  // streams
  xadd,
  xdel: removes('t', 'xdel'),
  xtrim: removes('t', 'xtrim'),
  // reads: key misses
  get: read(),
  getrange: read(),
  substr: read(),
  strlen: read(),
  getbit: read(),
  bitcount: read(),
  bitpos: read(),
  mget: read(all),
  exists: read(all),
  touch: read(all),
  type: read(),
  ttl: read(),
  pttl: read(),
  expiretime: read(),
  pexpiretime: read(),
  lcs: read(firstTwo),
  pfcount: read(all),
  hget: read(),
  hmget: read(),
  hgetall: read(),
  hkeys: read(),
  hvals: read(),
  hlen: read(),
  hexists: read(),
  hstrlen: read(),
  hrandfield: read(),
  lrange: read(),
  lindex: read(),
  llen: read(),
  lpos: read(),
  smembers: read(),
  sismember: read(),
  smismember: read(),
  scard: read(),
  srandmember: read(),
  sinter: read(all),
  sunion: read(all),
  sdiff: read(all),
  sintercard: read(counted(0)),
  zrange: read(),
  zrangebyscore: read(),
  zrangebylex: read(),
  zrevrange: read(),
  zrevrangebyscore: read(),
  zrevrangebylex: read(),
  zscore: read(),
  zmscore: read(),
  zcard: read(),
  zcount: read(),
  zlexcount: read(),
  zrank: read(),
  zrevrank: read(),
  zrandmember: read(),
  zinter: read(counted(0)),
  zunion: read(counted(0)),
  zdiff: read(counted(0)),
  zintercard: read(counted(0)),
  geopos: read(),
  geodist: read(),
  geohash: read(),
  geosearch: read(),
  georadius_ro: read(),
  georadiusbymember_ro: read(),
  xrange: read(),
  xrevrange: read(),
  xlen: read(),
  // Redis looks each stream up twice: for its id, then to read it.
  xread: {
    keys: streamsKeys,
    publish: (h) => {
      const keys = streamsKeys(h.args);
      h.missed([...keys, ...keys]);
    },
  },
  sort_ro: read(),
  bitfield_ro: read(),
  hscan: read(),
  sscan: read(),
  zscan: read(),
};
