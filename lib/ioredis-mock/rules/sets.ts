/**
 * Sets (https://redis.io/docs/latest/commands/?group=set).
 *
 * ioredis-mock's set commands answer other errors than WRONGTYPE for keys of another type (`Key … does not contain
 * a set`, a TypeError) or none at all, and SPOP and SRANDMEMBER with a count answer nil for a missing key where Redis
 * answers an empty array. Members given as Buffers are made canonical (see `buffer-members.ts`). A set of up to 512
 * integers, which Redis holds as an intset, is answered in Redis's order, by value (ioredis-mock answers members in the
 * order they were added).
 */
import {
  type CommandRule,
  copyOut,
  expectType,
  firstKey,
  keyName,
  memberOf,
  reply,
  typed,
  write,
} from '../command-rule';
import {
  type Arg,
  checkDrawn,
  COUNT_RANGE,
  INT64_MAX,
  integerArg,
  MUST_BE_POSITIVE,
  optionName,
  parseInteger,
  replyError,
  SYNTAX_ERROR,
} from '../redis-replies';
import { IN_PLACE_FROM_BYTES, setMemberBytes } from '../../keyspace/memory';
import { inIntsetOrder } from '../object-command';

/**
 * SMOVE source destination member: a missing source answers 0 before the destination is looked at. A large source
 * (or destination) is changed in place, as SREM and SADD change it (ioredis-mock copies both sets).
 */
const smove: CommandRule = {
  arity: 4,
  empties: firstKey,
  membersFrom: 2,
  check: (args, reader) => {
    const held = expectType(reader, args[0], ['set']) as ReadonlySet<unknown> | undefined;
    if (held === undefined) return reply(0);
    const target = expectType(reader, args[1], ['set']) as ReadonlySet<unknown> | undefined;
    const writer = reader.writer;
    const [source, destination] = [keyName(args[0]), keyName(args[1])];
    if (
      writer === undefined ||
      (writer.bytesOf(source) < IN_PLACE_FROM_BYTES &&
        writer.bytesOf(destination) < IN_PLACE_FROM_BYTES)
    ) {
      return undefined;
    }
    const member = memberOf(args[2]);
    // Nothing changes (Redis writes neither key) when the member is not there, or moves onto its own set.
    if (!held.has(member)) return reply(0);
    if (source === destination) return reply(1);
    return write(() => {
      const from = writer.inPlace(source) as Set<unknown> | undefined;
      if (from === undefined) return 0; // expired meanwhile
      from.delete(member);
      memberLists.delete(from);
      const bytes = setMemberBytes(member);
      if (from.size === 0) writer.remove(source);
      else writer.changedInPlace(source, -bytes);
      if (target === undefined) writer.replace(destination, new Set([member]));
      else if (writer.bytesOf(destination) < IN_PLACE_FROM_BYTES) {
        writer.store(destination, new Set([...target, member]));
      } else {
        const to = writer.inPlace(destination) as Set<unknown>;
        if (!to.has(member)) {
          to.add(member);
          memberLists.get(to)?.push(member);
          writer.changedInPlace(destination, bytes);
        }
      }
      return 1;
    });
  },
};

const all = (args: readonly Arg[]): readonly Arg[] => args;
const sources = (args: readonly Arg[]): readonly Arg[] => args.slice(1);

/** SPOP and SRANDMEMBER key [count]: an empty array for a missing key, or a count of 0, when a count is given. */
function randomMembers(command: 'spop' | 'srandmember'): CommandRule {
  return typed('set', -2, {
    empties: firstKey,
    parse: (args) => {
      if (args.length > 2) throw replyError(`ERR syntax error`);
      if (args.length === 2) {
        const count = command === 'spop' ? parseInteger(args[1]) : integerArg(args[1]);
        if (count === undefined || count < 0n) {
          if (command === 'spop') throw replyError(MUST_BE_POSITIVE);
        }
        if (count !== undefined && count < -INT64_MAX) throw replyError(COUNT_RANGE);
      }
    },
    check: (args, reader) => {
      const key = keyName(args[0]);
      const count = args.length === 2 ? parseInteger(args[1]) : undefined;
      const set = reader.valueOf(key) as ReadonlySet<unknown> | undefined;
      if (args.length === 2) {
        if (count === 0n || set === undefined) return reply([]);
        if (count !== undefined) checkDrawn(count, true);
        // A count of the whole set answers it as SUNION would: an intset by value.
        if (count !== undefined && count >= BigInt(set.size)) {
          return { args, answer: inIntsetOrder };
        }
      }
      const writer = reader.writer;
      if (set === undefined || writer === undefined || writer.bytesOf(key) < IN_PLACE_FROM_BYTES) {
        return undefined;
      }
      const many = count === undefined ? undefined : Number(count);
      if (command === 'srandmember') return reply(drawMembers(set, many));
      return write(() => {
        const stored = writer.inPlace(key) as Set<unknown> | undefined;
        if (stored === undefined) return many === undefined ? null : []; // expired meanwhile
        const popped = popMembers(stored, many ?? 1);
        if (stored.size === 0) writer.remove(key);
        else
          writer.changedInPlace(
            key,
            -popped.reduce<number>((sum, m) => sum + setMemberBytes(m), 0),
          );
        return many === undefined ? popped[0] : popped;
      });
    },
    // With a count the reply is an array, of one member too (ioredis-mock answers SPOP's one member alone).
    answer: (reply, args) =>
      args.length === 2 && !Array.isArray(reply) ? (reply === null ? [] : [reply]) : reply,
  });
}

/**
 * The members of each large stored set that SPOP or SRANDMEMBER drew from, as an array (a JS Set has no random
 * access: ioredis-mock copied the set into one for every draw, 17 ms at 20k members), kept while the set is the same
 * object: only the in-place writes here change a stored set, and they keep the array with it (SADD appends to it,
 * SPOP takes from it, SREM drops it).
 */
const memberLists = new WeakMap<ReadonlySet<unknown>, unknown[]>();

function memberList(set: ReadonlySet<unknown>): unknown[] {
  let list = memberLists.get(set);
  if (list === undefined) {
    list = [...set];
    memberLists.set(set, list);
  }
  return list;
}

function randomIndex(length: number): number {
  return Math.floor(Math.random() * length);
}

/** SRANDMEMBER's members of `set` (not empty): one, `count` distinct ones (fewer than the set's), or -`count` drawn. */
function drawMembers(set: ReadonlySet<unknown>, count: number | undefined): unknown {
  const list = memberList(set);
  if (count === undefined) return copyOut(list[randomIndex(list.length)]);
  const drawn: unknown[] = [];
  if (count < 0) {
    for (let i = 0; i < -count; i++) drawn.push(copyOut(list[randomIndex(list.length)]));
    return drawn;
  }
  // Distinct positions: drawn until `count` differ, or (for most of the set) the first `count` of a shuffled copy.
  if (3 * count > list.length) {
    const copy = [...list];
    for (let i = 0; i < count; i++) {
      const j = i + randomIndex(copy.length - i);
      [copy[i], copy[j]] = [copy[j], copy[i]];
      drawn.push(copyOut(copy[i]));
    }
    return drawn;
  }
  const positions = new Set<number>();
  while (positions.size < count) positions.add(randomIndex(list.length));
  for (const at of positions) drawn.push(copyOut(list[at]));
  return drawn;
}

/** SPOP's `count` members (fewer than the set's) taken out of `set`, in place, in the order they were drawn. */
function popMembers(set: Set<unknown>, count: number): unknown[] {
  const list = memberList(set);
  const popped: unknown[] = [];
  for (let i = 0; i < count && list.length > 0; i++) {
    const at = randomIndex(list.length);
    const member = list[at];
    list[at] = list[list.length - 1];
    list.pop();
    set.delete(member);
    popped.push(member);
  }
  return popped;
}

/** A stored set (the rule's type check passed), or an empty one for a missing key. */
function membersOf(value: unknown): ReadonlySet<unknown> {
  return (value as ReadonlySet<unknown> | undefined) ?? EMPTY;
}
const EMPTY: ReadonlySet<unknown> = new Set();

/**
 * SADD and SREM key member […] on a large set: changed in place, its size changed by the members' sizes (ioredis-mock
 * copies the set in and out: 50 to 80 ms a write at 100k members). A smaller set goes to ioredis-mock.
 */
function changeMembers(adding: boolean): CommandRule['check'] {
  return (args, reader) => {
    const writer = reader.writer;
    const key = keyName(args[0]);
    if (writer === undefined || writer.bytesOf(key) < IN_PLACE_FROM_BYTES) return;
    const members = args.slice(1).map(memberOf);
    return write(() => {
      const set = writer.inPlace(key) as Set<string | Buffer> | undefined;
      if (set === undefined) {
        if (!adding) return 0;
        const created = new Set(members); // the key expired meanwhile
        writer.store(key, created);
        return created.size;
      }
      let changed = 0;
      let bytes = 0;
      const list = memberLists.get(set);
      for (const member of members) {
        if (set.has(member) === adding) continue;
        if (adding) {
          set.add(member);
          list?.push(member);
        } else set.delete(member);
        changed++;
        bytes += (adding ? 1 : -1) * setMemberBytes(member);
      }
      if (!adding && changed > 0) memberLists.delete(set);
      if (set.size === 0)
        writer.remove(key); // Redis deletes a set it empties
      else writer.changedInPlace(key, bytes);
      return changed;
    });
  };
}

/** A member's test against a stored set, without copying it (ioredis-mock copies the set: 26 ms at 100k members). */
const isMember = (set: ReadonlySet<unknown>, arg: Arg): 0 | 1 => (set.has(memberOf(arg)) ? 1 : 0);

const NUMKEYS_NOT_POSITIVE = 'ERR numkeys should be greater than 0';

/** SINTERCARD's input keys: `numkeys` (a positive integer no larger than the arguments left) keys after it. */
function sintercardKeys(args: readonly Arg[]): readonly Arg[] {
  const numkeys = parseInteger(args[0]);
  if (numkeys === undefined || numkeys < 1n) throw replyError(NUMKEYS_NOT_POSITIVE);
  if (numkeys > BigInt(args.length - 1)) {
    throw replyError("ERR Number of keys can't be greater than number of args");
  }
  return args.slice(1, 1 + Number(numkeys));
}

/**
 * The LIMIT of SINTERCARD and ZINTERCARD, from the options at `from` on: `LIMIT n`, as often as given (the last one
 * counts); 0, the default, counts every member.
 */
export function intersectionLimit(args: readonly Arg[], from: number): number {
  let limit = 0;
  for (let i = from; i < args.length; i += 2) {
    if (optionName(args[i]) === 'LIMIT' && i + 1 < args.length) {
      const n = parseInteger(args[i + 1]);
      if (n === undefined || n < 0n) throw replyError("ERR LIMIT can't be negative");
      limit = Number(n);
    } else throw replyError(SYNTAX_ERROR);
  }
  return limit;
}

/**
 * How many members every one of `inputs` holds, counted up to `limit` (0: no limit) over the smallest input, as
 * Redis counts SINTERCARD and ZINTERCARD; a missing input makes it 0.
 */
export function intersectionSize<T>(
  inputs: readonly (T | undefined)[],
  sizeOf: (input: T) => number,
  membersOf: (input: T) => Iterable<unknown>,
  holds: (input: T, member: unknown) => boolean,
  limit: number,
): number {
  if (inputs.length === 0 || inputs.some((input) => input === undefined)) return 0;
  const sorted = [...(inputs as readonly T[])].sort((a, b) => sizeOf(a) - sizeOf(b));
  let count = 0;
  for (const member of membersOf(sorted[0])) {
    let everywhere = true;
    for (let i = 1; i < sorted.length && everywhere; i++) everywhere = holds(sorted[i], member);
    if (everywhere && ++count === limit) break;
  }
  return count;
}

/** SINTERCARD numkeys key [key …] [LIMIT limit]. */
const sintercard: CommandRule = {
  arity: -3,
  type: ['set'],
  keys: (args) => {
    const numkeys = parseInteger(args[0]);
    return numkeys === undefined || numkeys < 1n ? [] : args.slice(1, 1 + Number(numkeys));
  },
  parse: (args) => {
    intersectionLimit(args, 1 + sintercardKeys(args).length);
  },
  check: (args, reader) => {
    const keys = sintercardKeys(args);
    const sets = keys.map(
      (key) => reader.valueOf(keyName(key)) as ReadonlySet<unknown> | undefined,
    );
    const limit = intersectionLimit(args, 1 + keys.length);
    return reply(
      intersectionSize(
        sets,
        (set) => set.size,
        (set) => set,
        (set, member) => set.has(member),
        limit,
      ),
    );
  },
};

export const setRules: Readonly<Record<string, CommandRule>> = {
  sadd: typed('set', -3, { membersFrom: 1, check: changeMembers(true) }),
  srem: typed('set', -3, { membersFrom: 1, empties: firstKey, check: changeMembers(false) }),
  spop: randomMembers('spop'),
  srandmember: randomMembers('srandmember'),
  smove,
  sismember: typed('set', 3, {
    check: (args, reader) => reply(isMember(membersOf(reader.valueOf(keyName(args[0]))), args[1])),
  }),
  smismember: typed('set', -3, {
    check: (args, reader) => {
      const set = membersOf(reader.valueOf(keyName(args[0])));
      return reply(args.slice(1).map((member) => isMember(set, member)));
    },
  }),
  // Answered here, as ioredis-mock answers them: a restored set is then read from its bytes, not built (see
  // `restored-states.ts`).
  smembers: typed('set', 2, {
    check: (args, reader) =>
      reply(inIntsetOrder(Array.from(membersOf(reader.valueOf(keyName(args[0]))), copyOut))),
  }),
  scard: typed('set', 2, {
    check: (args, reader) => reply(membersOf(reader.valueOf(keyName(args[0]))).size),
  }),
  // The set Redis builds for the reply is an intset when it can be: answered by value then.
  sinter: typed('set', -2, { keys: all, answer: inIntsetOrder }),
  sintercard,
  sunion: typed('set', -2, { keys: all, answer: inIntsetOrder }),
  sdiff: typed('set', -2, { keys: all, answer: inIntsetOrder }),
  sdiffstore: typed('set', -3, { keys: sources, empties: firstKey, overwrites: firstKey }),
  sinterstore: typed('set', -3, { keys: sources, empties: firstKey, overwrites: firstKey }),
  sunionstore: typed('set', -3, { keys: sources, empties: firstKey, overwrites: firstKey }),
};
