/**
 * Commands ioredis-mock 8.13.1 lacks (its client answers `Unsupported command`, its pipelines have no method for
 * them) or has in a form no rule can correct (ZINTERSTORE, ZDIFF): COPY, the sorted-set algebra and stores of
 * `rules/sorted-set-stores.ts`, ZLEXCOUNT, ZREMRANGEBYLEX, ZMPOP, ZINTERCARD, SINTERCARD, BITOP, BITPOS, TOUCH, SORT,
 * SORT_RO, LCS, BITFIELD, BITFIELD_RO, PFADD, PFCOUNT, PFMERGE, SELECT, CLIENT and the GEO family (`rules/geo.ts`).
 * They are added the way ioredis-mock adds a command of `defineCommand`: as a method of the client and an entry of
 * its `customCommands`, which every pipeline and transaction of the client copies. They work on ioredis-mock's `data`
 * and `expires`, as its own commands do, and run after their rules have checked the arguments (the rules answer the
 * reads themselves; what runs here stores). */
import { StreamValue } from '../keyspace/streams';
import { ListDeque } from '../format/list-deque';
import { bytesOf, type KeyReader, keyName, memberOf } from './command-rule';
import { type Arg, replyError } from './redis-replies';
import {
  algebraOf,
  combine,
  intersectionCount,
  type Lookup,
  randomMembers,
  rangeStored,
  storedSet,
} from './rules/sorted-set-stores';
import { geoaddAsZadd, geodist, geohashes, positions, search } from './rules/geo';
import { type HllResult, pfadd, pfcount, pfmerge } from './rules/hyperloglog';
import { lcsAnswer } from './rules/lcs';
import { intersectionLimit, intersectionSize } from './rules/sets';
import { sortedElements, sortQuery } from './rules/sort';
import { bitfieldAnswer, bitopBytes, bitopOperation, bitposAnswer } from './rules/strings';
import {
  lexBound,
  lexCount,
  lexRange,
  ordered,
  popped,
  storedZeros,
  type SortedSet,
  withScores,
  sortedSetRules,
  zmpopOptions,
  zmpopReply,
} from './rules/sorted-sets';
import type { MockData, MockExpires } from './views';

/** What an added command reads and writes of the client, as ioredis-mock's commands do (`this.data`, …). */
interface MockContext {
  readonly data: MockData;
  readonly expires: MockExpires;
}

type Added = (mock: MockContext, args: readonly Arg[]) => unknown;

/** A deep copy of a stored value: Redis's COPY duplicates the value (members themselves are never changed). */
function duplicate(value: unknown): unknown {
  if (value instanceof Map) {
    return new Map(
      [...(value as Map<unknown, { score: number; value: unknown }>)].map(([k, v]) => [
        k,
        { ...v },
      ]),
    );
  }
  if (value instanceof Set) return new Set(value);
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  // A stream's entries are never changed (XDEL and XTRIM store a new stream): its last id comes along.
  if (value instanceof StreamValue) return value.copy();
  if (Array.isArray(value)) return value.map((item: unknown) => duplicate(item));
  if (value instanceof ListDeque) return value.copy();
  if (typeof value === 'object' && value !== null) return { ...value };
  return value;
}

/**
 * Stores a computed sorted set under `key` (an empty one deletes it), without a TTL: what Redis's stores do. Its
 * scores of -0 are stored as Redis stores them (`converted`: the algebra's; else ZRANGESTORE's, see `storedZeros`).
 */
function store(
  mock: MockContext,
  key: Arg,
  members: Iterable<{ score: number; value: string | Buffer }>,
  converted: boolean,
): number {
  const name = keyName(key);
  const set = storedSet(members);
  storedZeros(set, converted);
  if (set.size === 0) {
    mock.data.delete(name);
    return 0;
  }
  mock.data.set(name, set);
  mock.expires.delete(name);
  return set.size;
}

const lookupOf =
  (mock: MockContext): Lookup =>
  (key) =>
    mock.data.get(key);

function algebraRead(operation: 'union' | 'inter' | 'diff', command: string): Added {
  return (mock, args) => {
    const algebra = algebraOf(args, 0, operation, command);
    return withScores(ordered(combine(lookupOf(mock), algebra)), algebra.withScores);
  };
}

function algebraStore(operation: 'union' | 'inter' | 'diff', command: string): Added {
  return (mock, args) =>
    store(
      mock,
      args[0],
      combine(lookupOf(mock), algebraOf(args, 1, operation, command)).values(),
      true,
    );
}

const ADDED: Readonly<Record<string, Added>> = {
  /** SELECT: answered by its rule (`rules/keys.ts`); nothing to store. */
  select: () => 'OK',
  /** WAIT, MOVE and SWAPDB: answered or refused by their rules (`rules/server.ts`, `rules/keys.ts`). */
  wait: () => 0,
  move: () => {
    throw replyError('ERR source and destination objects are the same');
  },
  swapdb: () => 'OK',
  /** CLIENT: answered by its rule on an embedded client (`client-command.ts`), which knows the connection. */
  client: () => {
    throw replyError('ERR CLIENT is not supported by this client.');
  },
  /** HELLO: answered by its rule on an embedded client (`client-command.ts`), as CLIENT is. */
  hello: () => {
    throw replyError('ERR HELLO is not supported by this client.');
  },
  /** COPY source destination (the rule has checked the options and decided to copy). */
  copy: (mock, [source, destination]) => {
    const [from, to] = [keyName(source), keyName(destination)];
    mock.data.set(to, duplicate(mock.data.get(from)));
    const at = mock.expires.get(from);
    if (at === undefined) mock.expires.delete(to);
    else mock.expires.set(to, at);
    return 1;
  },
  zunion: algebraRead('union', 'zunion'),
  zinter: algebraRead('inter', 'zinter'),
  zdiff: algebraRead('diff', 'zdiff'),
  zunionstore: algebraStore('union', 'zunionstore'),
  zinterstore: algebraStore('inter', 'zinterstore'),
  zdiffstore: algebraStore('diff', 'zdiffstore'),
  zrangestore: (mock, args) => store(mock, args[0], rangeStored(lookupOf(mock), args), false),
  zrandmember: (mock, args) => randomMembers(lookupOf(mock), args),
  zlexcount: (mock, [key, min, max]) => lexCount(zsetAt(mock, key), min, max),
  /** ZREMRANGEBYLEX key min max: removes the members of the range (an emptied set deletes the key). */
  zremrangebylex: (mock, [key, min, max]) => {
    const set = zsetAt(mock, key);
    const removed = lexRange(ordered(set), lexBound(min), lexBound(max));
    if (set === undefined || removed.length === 0) return 0;
    const rest: SortedSet = new Map(set);
    for (const { value } of removed) rest.delete(value);
    storeRest(mock, key, rest);
    return removed.length;
  },
  zintercard: (mock, args) => intersectionCount(lookupOf(mock), args, 'zintercard'),
  /** ZMPOP numkeys key [key …] MIN|MAX [COUNT count]: pops from the first of the keys that exists. */
  zmpop: (mock, args) => {
    const { keys, min, count } = zmpopOptions(args);
    for (const key of keys) {
      const set = zsetAt(mock, key);
      if (set === undefined) continue;
      const taken = popped(set, min, count);
      const rest: SortedSet = new Map(set);
      for (const { value } of taken) rest.delete(value);
      storeRest(mock, key, rest);
      return zmpopReply(key, taken);
    }
    return null;
  },
  /** SINTERCARD numkeys key [key …] [LIMIT limit]. */
  sintercard: (mock, args) => {
    const keys = args.slice(1, 1 + Number(args[0]));
    const sets = keys.map((key) => mock.data.get(keyName(key)) as Set<unknown> | undefined);
    const limit = intersectionLimit(args, 1 + keys.length);
    return intersectionSize(
      sets,
      (set) => set.size,
      (set) => set,
      (set, member) => set.has(member),
      limit,
    );
  },
  /** BITOP AND|OR|XOR|NOT destkey key [key …]: the result replaces the destination, an empty one deletes it. */
  bitop: (mock, args) => {
    const inputs = args.slice(2).map((key) => bytesOf(mock.data.get(keyName(key))));
    const out = bitopBytes(bitopOperation(args), inputs);
    const destination = keyName(args[1]);
    if (out.length === 0) mock.data.delete(destination);
    else mock.data.set(destination, out);
    mock.expires.delete(destination);
    return out.length;
  },
  bitpos: (mock, args) => bitposAnswer(mock.data.get(keyName(args[0])), args),
  lcs: (mock, args) => lcsAnswer(lookupOf(mock), args),
  bitfield: (mock, args) => bitfield(mock, args, false),
  bitfield_ro: (mock, args) => bitfield(mock, args, true),
  pfadd: (mock, args) => hyperLogLog(mock, pfadd(lookupOf(mock), args)),
  pfcount: (mock, args) => hyperLogLog(mock, pfcount(lookupOf(mock), args)),
  pfmerge: (mock, args) => hyperLogLog(mock, pfmerge(lookupOf(mock), args)),
  sort: (mock, args) => sorted(mock, args, false),
  sort_ro: (mock, args) => sorted(mock, args, true),
  geoadd: (mock, args) => geoadd(mock, args),
  geopos: (mock, args) => positions(zsetAt(mock, args[0]), args.slice(1)),
  geohash: (mock, args) => geohashes(zsetAt(mock, args[0]), args.slice(1)),
  geodist: (mock, args) => geodist(zsetAt(mock, args[0]), args),
  georadius: geoSearch('georadius'),
  georadius_ro: geoSearch('georadius_ro'),
  georadiusbymember: geoSearch('georadiusbymember'),
  georadiusbymember_ro: geoSearch('georadiusbymember_ro'),
  geosearch: geoSearch('geosearch'),
  geosearchstore: geoSearch('geosearchstore'),
  /** TOUCH key [key …]: how many of the keys exist. */
  touch: (mock, args) => args.filter((key) => mock.data.get(keyName(key)) !== undefined).length,
};

/**
 * GEOADD on ioredis-mock's `data` (its rule runs it as ZADD where the client has a keyspace): the ZADD Redis makes of
 * it, decided by ZADD's rule, its members stored here.
 */
function geoadd(mock: MockContext, args: readonly Arg[]): unknown {
  const zadd = geoaddAsZadd(args);
  const reader: KeyReader = {
    valueOf: (key) => mock.data.get(key),
    expiryOf: (key) => mock.expires.get(key),
    touch: () => undefined,
  };
  const outcome = sortedSetRules.zadd.check?.(zadd, reader, 'zadd') ?? { args: zadd };
  if ('reply' in outcome) return outcome.reply;
  if ('write' in outcome) return outcome.write();
  const [key, ...pairs] = outcome.args;
  const name = keyName(key);
  const set: SortedSet = new Map(zsetAt(mock, key));
  let added = 0;
  for (let i = 0; i < pairs.length; i += 2) {
    const member = memberOf(pairs[i + 1]);
    if (!set.has(member)) added++;
    set.set(member, { score: Number(pairs[i]), value: member });
  }
  mock.data.set(name, set);
  return outcome.answer === undefined ? added : outcome.answer(added);
}

/** A GEO search on ioredis-mock's `data` (its rule has checked the source's type): a store replaces its destination. */
function geoSearch(command: string): Added {
  return (mock, args) => {
    const result = search(command, args, lookupOf(mock));
    if (result.store !== undefined) store(mock, result.store.key, result.store.members, true);
    return result.answer;
  };
}

/** A HyperLogLog command's answer, its key's new bytes stored (the TTL kept). */
function hyperLogLog(mock: MockContext, { answer, writes }: HllResult): unknown {
  if (writes !== undefined) mock.data.set(keyName(writes.key), writes.bytes);
  return answer;
}

/** BITFIELD or BITFIELD_RO (`readonly`): a write stores the string's new bytes, its TTL kept. */
function bitfield(mock: MockContext, args: readonly Arg[], readonly: boolean): unknown {
  const name = keyName(args[0]);
  const { replies, bytes } = bitfieldAnswer(mock.data.get(name), args, readonly);
  if (bytes !== undefined) mock.data.set(name, bytes);
  return replies;
}

/**
 * SORT or SORT_RO (`readonly`): the elements, or with STORE their number, stored as a list in place of the
 * destination (a GET that names nothing as an empty string; an empty result deletes it; no TTL).
 */
function sorted(mock: MockContext, args: readonly Arg[], readonly: boolean): unknown {
  const query = sortQuery(args, readonly);
  const elements = sortedElements(lookupOf(mock), query);
  if (query.store === undefined) return elements;
  const destination = keyName(query.store);
  if (elements.length === 0) mock.data.delete(destination);
  else
    mock.data.set(
      destination,
      elements.map((element) => element ?? ''),
    );
  mock.expires.delete(destination);
  return elements.length;
}

/** Stores `rest` under `key` in place of the set it was taken from (an empty one deletes the key; the TTL stays). */
function storeRest(mock: MockContext, key: Arg, rest: SortedSet): void {
  const name = keyName(key);
  if (rest.size === 0) mock.data.delete(name);
  else mock.data.set(name, rest);
}

function zsetAt(mock: MockContext, key: Arg): SortedSet | undefined {
  return mock.data.get(keyName(key)) as SortedSet | undefined;
}

type Method = (...args: unknown[]) => unknown;

/** The arguments as ioredis-mock hands them to a command: flattened, each a string or a Buffer. */
function flatten(raw: readonly unknown[]): Arg[] {
  return ([] as unknown[])
    .concat(...raw)
    .map((arg) => (arg == null ? '' : Buffer.isBuffer(arg) ? arg : String(arg as string)));
}

/** Adds the commands to an ioredis-mock client (before its commands are guarded). */
export function addCommands(client: object): void {
  const target = client as Record<string, unknown> & {
    customCommands?: Record<string, Method>;
  } & MockContext;
  const custom = target.customCommands;
  if (custom === undefined) return;
  for (const [name, added] of Object.entries(ADDED)) {
    const run = function (this: MockContext, ...args: unknown[]): unknown {
      return added(this, args as Arg[]);
    };
    for (const method of [name, `${name}Buffer`]) {
      custom[method] = run;
      target[method] = (...raw: unknown[]): Promise<unknown> => {
        const callback =
          typeof raw[raw.length - 1] === 'function' ? (raw.pop() as Method) : undefined;
        const promise = new Promise((resolve) => resolve(added(target, flatten(raw))));
        if (callback !== undefined) {
          promise.then(
            (value) => process.nextTick(callback, null, value),
            (error: unknown) => process.nextTick(callback, error),
          );
        }
        return promise;
      };
    }
  }
}
