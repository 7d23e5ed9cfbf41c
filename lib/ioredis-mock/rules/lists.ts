/**
 * Lists (https://redis.io/docs/latest/commands/?group=list).
 *
 * ioredis-mock's list commands accept keys of other types, take option names in upper case only, answer -1 for
 * LINSERT on a missing key, let LSET write past the end (leaving holes no snapshot can encode), store empty lists
 * under missing keys (LREM, LTRIM), parse indexes with `parseInt` and do not clamp LRANGE's start. Here every list
 * command refuses a key of another type with WRONGTYPE, indexes and counts are Redis integers, and LRANGE, LINDEX
 * and LLEN are answered from the stored array.
 */
import {
  allText,
  bytesOf,
  type CommandRule,
  type Outcome,
  copyOut,
  expectType,
  firstKey,
  holds,
  keyName,
  type KeyReader,
  reply,
  typed,
  write,
} from '../command-rule';
import {
  type Arg,
  INDEX_OUT_OF_RANGE,
  INT64_MIN,
  integerArg,
  mpopOptions,
  MUST_BE_POSITIVE,
  NO_SUCH_KEY,
  optionName,
  parseInteger,
  replyError,
  SYNTAX_ERROR,
  WRONGTYPE,
  wrongArity,
} from '../redis-replies';
import { IN_PLACE_FROM_BYTES, listElementBytes } from '../../keyspace/memory';
import { ListDeque, type ListLike } from '../../format/list-deque';

/** The list `key` holds (an array, or a {@link ListDeque} once changed in place), empty for a missing key. */
function listOf(reader: KeyReader, key: Arg): ListLike<unknown> {
  return (reader.valueOf(keyName(key)) as ListLike<unknown> | undefined) ?? [];
}

/**
 * LSET key index element: the key must exist, and the index fall within the list. A large list is changed in place
 * (ioredis-mock copies it out and back in).
 */
const lset: CommandRule = {
  arity: 4,
  membersFrom: 2,
  check: (args, reader) => {
    const key = keyName(args[0]);
    const list = reader.valueOf(key);
    if (list === undefined) throw replyError(NO_SUCH_KEY);
    if (!holds(list, 'list')) throw replyError(WRONGTYPE);
    const length = BigInt((list as ListLike<unknown>).length);
    const index = integerArg(args[1]);
    const at = index < 0n ? length + index : index;
    if (at < 0n || at >= length) throw replyError(INDEX_OUT_OF_RANGE);
    if (!isLarge(reader, key) || !allText(args)) return undefined;
    const element = args[2];
    return write(() => {
      const stored = reader.writer?.inPlace(key) as ListDeque | undefined;
      if (stored === undefined) throw replyError(NO_SUCH_KEY);
      const old = stored.at(Number(at));
      stored.set(Number(at), element);
      reader.writer?.changedInPlace(key, listElementBytes(element) - listElementBytes(old));
      return 'OK';
    });
  },
};

/**
 * LTRIM key start stop of a large list, in place: as Redis's `ltrimCommand` reads the range, the elements before it
 * taken from the front and those after it from the back (ioredis-mock copies the list out and back in, and a capped
 * list kept by LPUSH and LTRIM cost its whole length at each trim).
 */
function trimInPlace(args: readonly Arg[], reader: KeyReader): Outcome | undefined {
  const key = keyName(args[0]);
  const list = reader.valueOf(key) as ListLike<unknown> | undefined;
  if (list === undefined) return reply('OK'); // ioredis-mock would store an empty list under a missing key
  if (!isLarge(reader, key)) return undefined;
  const length = list.length;
  let start = Number(integerArg(args[1]));
  let end = Number(integerArg(args[2]));
  if (start < 0) start += length;
  if (end < 0) end += length;
  if (start < 0) start = 0;
  let front: number;
  let back: number;
  if (start > end || start >= length) {
    front = length; // out of range: the whole list goes
    back = 0;
  } else {
    front = start;
    back = length - Math.min(end, length - 1) - 1;
  }
  return write(() => {
    const stored = reader.writer?.inPlace(key) as ListDeque | undefined;
    if (stored === undefined) return 'OK';
    let bytes = 0;
    for (const element of stored.popFront(front)) bytes -= listElementBytes(element);
    for (const element of stored.popBack(back)) bytes -= listElementBytes(element);
    if (stored.length === 0) reader.writer?.remove(key);
    else reader.writer?.changedInPlace(key, bytes);
    return 'OK';
  });
}

/** LINSERT key BEFORE|AFTER pivot element: ioredis-mock takes only upper case, and answers -1 for a missing key. */
const linsert = typed('list', 5, {
  membersFrom: 2,
  parse: (args) => {
    const where = optionName(args[1]);
    if (where !== 'BEFORE' && where !== 'AFTER') throw replyError(SYNTAX_ERROR);
    return [args[0], where, ...args.slice(2)];
  },
  check: (args, reader) => (reader.valueOf(keyName(args[0])) === undefined ? reply(0) : undefined),
});

/** Whether `key` holds a list large enough to be changed in place (`KeyWriter.inPlace`). */
function isLarge(reader: KeyReader, key: string): boolean {
  return reader.writer !== undefined && reader.writer.bytesOf(key) >= IN_PLACE_FROM_BYTES;
}

/**
 * LPOP/RPOP key [count]: Redis refuses a count that is not a positive integer (or 0). A large list is popped in place
 * (ioredis-mock copies it out and back in: 8 ms a pop at 100k elements), from either end in constant time (see
 * `KeyWriter.inPlace`: it is a {@link ListDeque}); a smaller one goes to ioredis-mock.
 */
function pop(left: boolean): CommandRule {
  return typed('list', -2, {
    empties: firstKey,
    parse: (args, command) => {
      if (args.length > 2) throw replyError(wrongArity(command));
      if (args.length === 2) {
        const count = parseInteger(args[1]);
        if (count === undefined || count < 0n) throw replyError(MUST_BE_POSITIVE);
      }
    },
    check: (args, reader) => {
      const key = keyName(args[0]);
      if (!isLarge(reader, key)) return undefined;
      const counted = args.length === 2;
      const count = counted ? Number(parseInteger(args[1])) : 1;
      return write(() => {
        const out = popInPlace(reader, key, left, count);
        if (out === undefined) return null;
        return counted ? out : out[0];
      });
    },
  });
}

/**
 * Takes up to `count` elements from the front (`left`) or the back of the large list `key`, in place (see
 * {@link isLarge}): first the one at that end, as Redis answers them. `undefined` when the key is gone.
 */
function popInPlace(
  reader: KeyReader,
  key: string,
  left: boolean,
  count: number,
): unknown[] | undefined {
  const list = reader.writer?.inPlace(key) as ListDeque | undefined;
  if (list === undefined) return undefined;
  const taken = left ? list.popFront(count) : list.popBack(count);
  if (taken.length > 0) {
    let bytes = 0;
    for (const element of taken) bytes -= listElementBytes(element);
    if (list.length === 0)
      reader.writer?.remove(key); // Redis deletes a list it empties
    else reader.writer?.changedInPlace(key, bytes);
  }
  return taken.map(copyOut);
}

/** Elements pushed onto a large list at once, in place: more go to a new list (a spread of them would overflow). */
const IN_PLACE_PUSH = 1024;

function listPosition(arg: Arg): 'LEFT' | 'RIGHT' {
  const where = optionName(arg);
  if (where !== 'LEFT' && where !== 'RIGHT') throw replyError(SYNTAX_ERROR);
  return where;
}

/**
 * LMOVE, RPOPLPUSH, BRPOPLPUSH, BLMOVE: a missing source answers null before the destination is looked at
 * (ioredis-mock checks the destination first, and RPOPLPUSH answers null for one of the wrong type). When either list
 * is large, the element moves in place (ioredis-mock copies both lists: 260 moves a second at 20k elements, a queue
 * kept reliable with RPOPLPUSH or a list rotated onto itself).
 */
function moveRule(arity: number, positions: boolean): CommandRule {
  return {
    arity,
    empties: firstKey,
    parse: positions
      ? (args) => [args[0], args[1], listPosition(args[2]), listPosition(args[3])]
      : undefined,
    check: (args, reader) => {
      const source = expectType(reader, args[0], ['list']);
      if (source === undefined || (source as ListLike<unknown>).length === 0) return reply(null);
      const target = expectType(reader, args[1], ['list']) as ListLike<unknown> | undefined;
      const writer = reader.writer;
      const [from, to] = [keyName(args[0]), keyName(args[1])];
      if (writer === undefined || (!isLarge(reader, from) && !isLarge(reader, to))) return;
      const [fromLeft, toLeft] = positions
        ? [args[2] === 'LEFT', args[3] === 'LEFT']
        : [false, true];
      return write(() => {
        const list = writer.inPlace(from) as ListDeque | undefined;
        if (list === undefined) return null; // expired meanwhile
        const [element] = fromLeft ? list.popFront(1) : list.popBack(1);
        const bytes = listElementBytes(element);
        if (from === to) {
          // Onto itself: the list rotates.
          if (toLeft) list.pushFront([element]);
          else list.pushBack([element]);
          writer.changedInPlace(from, 0);
          return copyOut(element);
        }
        if (list.length === 0) writer.remove(from);
        else writer.changedInPlace(from, -bytes);
        if (target === undefined) writer.replace(to, [element]);
        else if (!isLarge(reader, to)) {
          const elements =
            target instanceof ListDeque ? target.toArray() : [...(target as readonly unknown[])];
          if (toLeft) elements.unshift(element);
          else elements.push(element);
          writer.store(to, elements);
        } else {
          const destination = writer.inPlace(to) as ListDeque;
          if (toLeft) destination.pushFront([element]);
          else destination.pushBack([element]);
          writer.changedInPlace(to, bytes);
        }
        return copyOut(element);
      });
    },
  };
}

/**
 * LMPOP numkeys key [key …] LEFT|RIGHT [COUNT n]: Redis type-checks keys until the first non-empty list. A large one
 * is popped in place, as LPOP and RPOP do (BLPOP and BRPOP come here too).
 */
const lmpop: CommandRule = {
  arity: -4,
  empties: (args) => args.slice(1, -1),
  // Redis's errors, in its order (ioredis-mock checks the keys' types first, and words them otherwise).
  parse: (args) => {
    mpopOptions(args, ['LEFT', 'RIGHT']);
  },
  check: (args, reader) => {
    const numkeys = parseInteger(args[0]);
    if (numkeys === undefined || numkeys < 1n || Number(numkeys) > args.length - 1) return; // ioredis-mock says so
    for (const key of args.slice(1, 1 + Number(numkeys))) {
      const list = expectType(reader, key, ['list']);
      if (list === undefined || (list as ListLike<unknown>).length === 0) continue;
      const name = keyName(key);
      if (!isLarge(reader, name)) return;
      const { end, count } = mpopOptions(args, ['LEFT', 'RIGHT']);
      return write(() => {
        const out = popInPlace(reader, name, end === 'LEFT', count);
        return out === undefined ? null : [copyOut(key), out];
      });
    }
  },
};

/** LRANGE key start stop, clamped as Redis's `listTypeRange` does. */
const lrange = typed('list', 4, {
  parse: (args) => {
    integerArg(args[1]);
    integerArg(args[2]);
  },
  check: (args, reader) => {
    const list = listOf(reader, args[0]);
    const length = list.length;
    let start = Number(integerArg(args[1]));
    let end = Number(integerArg(args[2]));
    if (start < 0) start = Math.max(0, length + start);
    if (end < 0) end += length;
    if (start > end || start >= length) return reply([]);
    return reply(copyOut(list.slice(start, Math.min(end, length - 1) + 1)));
  },
});

const RANK_ZERO =
  "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start " +
  'from the end of the list';

/** A non-negative count of LPOS (`message`: Redis's error for one that is negative or not an integer). */
function positiveArg(arg: Arg, message: string): bigint {
  const n = parseInteger(arg);
  if (n === undefined || n < 0n) throw replyError(message);
  return n;
}

interface LposOptions {
  rank: bigint;
  count: bigint | undefined;
  maxlen: bigint;
}

function lposOptions(args: readonly Arg[]): LposOptions {
  const o: LposOptions = { rank: 1n, count: undefined, maxlen: 0n };
  for (let j = 2; j < args.length; j++) {
    const option = optionName(args[j]);
    const more = j + 1 < args.length;
    if (option === 'RANK' && more) {
      o.rank = integerArg(args[++j]);
      if (o.rank === 0n) throw replyError(RANK_ZERO);
    } else if (option === 'COUNT' && more) {
      o.count = positiveArg(args[++j], "ERR COUNT can't be negative");
    } else if (option === 'MAXLEN' && more) {
      o.maxlen = positiveArg(args[++j], "ERR MAXLEN can't be negative");
    } else throw replyError(SYNTAX_ERROR);
  }
  return o;
}

/**
 * LPOS key element [RANK rank] [COUNT num] [MAXLEN len] (Redis's `lposCommand`): answered from the stored list,
 * elements compared by their bytes. ioredis-mock takes the options in upper case only, ignores unknown ones and
 * answers nothing when MAXLEN is 0 (no limit).
 */
const lpos = typed('list', -3, {
  parse: (args) => {
    lposOptions(args);
  },
  check: (args, reader) => {
    const { rank, count, maxlen } = lposOptions(args);
    const list = reader.valueOf(keyName(args[0])) as ListLike<string | Buffer> | undefined;
    if (list === undefined) return reply(count === undefined ? null : []);
    const wanted = bytesOf(args[1]);
    // Redis negates the rank in 64 bits: the smallest one stays negative, and then every match counts; and it counts
    // the matches against COUNT in 64 bits too (`matches-rank+1`), which wraps below zero for it: no COUNT is reached.
    const fromTail = rank < 0n;
    const skip = fromTail && rank !== INT64_MIN ? -rank : rank;
    const found: number[] = [];
    let matches = 0n;
    for (let index = 0; index < list.length && (maxlen === 0n || index < maxlen); index++) {
      const at = fromTail ? list.length - index - 1 : index;
      if (!bytesOf(list.at(at)).equals(wanted)) continue;
      matches++;
      if (matches < skip) continue;
      found.push(at);
      if (
        count === undefined ||
        (count !== 0n && BigInt.asIntN(64, matches - skip + 1n) >= count)
      ) {
        break;
      }
    }
    if (count === undefined) return reply(found.length === 0 ? null : found[0]);
    return reply(found);
  },
});

/**
 * LPUSH and RPUSH key element […] of text elements: the new list is built and stored here, once (ioredis-mock copies
 * the list out and back in); a large list is pushed onto in place (3 ms a push at 100k elements as a copy), at either
 * end in constant time (see `KeyWriter.inPlace`: it is a {@link ListDeque}).
 */
function push(left: boolean): CommandRule['check'] {
  return (args, reader) => {
    const writer = reader.writer;
    if (writer === undefined || !allText(args)) return;
    const key = args[0];
    if (args.length - 1 <= IN_PLACE_PUSH && isLarge(reader, key)) {
      return write(() => {
        const pushed: unknown[] = args.slice(1);
        const list = writer.inPlace(key) as ListDeque | undefined;
        if (list === undefined) {
          if (left) pushed.reverse(); // LPUSH a b c leaves c b a in front
          writer.store(key, pushed); // the key expired meanwhile
          return pushed.length;
        }
        if (left)
          list.pushFront(pushed); // each in front of the one before: c b a
        else list.pushBack(pushed);
        let bytes = 0;
        for (const element of pushed) bytes += listElementBytes(element);
        writer.changedInPlace(key, bytes);
        return list.length;
      });
    }
    const held = reader.valueOf(key) as ListLike<unknown> | undefined;
    // A list that was large once stays a deque; it is small again here, and stored as an array.
    const stored =
      held instanceof ListDeque ? held.toArray() : (held as readonly unknown[] | undefined);
    return write(() => {
      const pushed: unknown[] = args.slice(1);
      // LPUSH a b c leaves c b a in front.
      if (left) pushed.reverse();
      const list: readonly unknown[] =
        stored === undefined ? pushed : left ? pushed.concat(stored) : stored.concat(pushed);
      writer.store(key, list);
      return list.length;
    });
  };
}

/**
 * LPUSHX and RPUSHX key element […]: every element pushed when the list exists (ioredis-mock's pushed only the first),
 * 0 when it does not.
 */
function pushExisting(left: boolean): CommandRule['check'] {
  const pushAll = push(left);
  return (args, reader, command) => {
    if (reader.valueOf(keyName(args[0])) === undefined) return reply(0);
    return pushAll?.(args, reader, command) ?? { args, command: left ? 'lpush' : 'rpush' };
  };
}

export const listRules: Readonly<Record<string, CommandRule>> = {
  lpush: typed('list', -3, { membersFrom: 1, check: push(true) }),
  rpush: typed('list', -3, { membersFrom: 1, check: push(false) }),
  lpushx: typed('list', -3, { membersFrom: 1, check: pushExisting(true) }),
  rpushx: typed('list', -3, { membersFrom: 1, check: pushExisting(false) }),
  linsert,
  lset,
  lrem: typed('list', 4, {
    empties: firstKey,
    membersFrom: 2,
    parse: (args) => {
      integerArg(args[1]);
    },
    // ioredis-mock would store an empty list under a missing key.
    check: (args, reader) =>
      reader.valueOf(keyName(args[0])) === undefined ? reply(0) : undefined,
  }),
  ltrim: typed('list', 4, {
    empties: firstKey,
    parse: (args) => {
      integerArg(args[1]);
      integerArg(args[2]);
    },
    check: trimInPlace,
  }),
  lpop: pop(true),
  rpop: pop(false),
  lmove: moveRule(5, true),
  rpoplpush: moveRule(3, false),
  lmpop,
  lpos,
  lrange,
  lindex: typed('list', 3, {
    // Redis answers nil for a missing key before it parses the index.
    check: (args, reader) => {
      if (reader.valueOf(keyName(args[0])) === undefined) return reply(null);
      const list = listOf(reader, args[0]);
      const index = Number(integerArg(args[1]));
      const at = index < 0 ? list.length + index : index;
      return reply(copyOut((at >= 0 ? list.at(at) : undefined) ?? null));
    },
  }),
  llen: typed('list', 2, { check: (args, reader) => reply(listOf(reader, args[0]).length) }),
};
