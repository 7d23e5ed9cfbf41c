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
  type CommandRule,
  copyOut,
  expectType,
  firstKey,
  holds,
  keyName,
  type KeyReader,
  reply,
  typed,
} from '../command-rule';
import {
  type Arg,
  INDEX_OUT_OF_RANGE,
  integerArg,
  MUST_BE_POSITIVE,
  NO_SUCH_KEY,
  optionName,
  parseInteger,
  replyError,
  SYNTAX_ERROR,
  WRONGTYPE,
  wrongArity,
} from '../redis-replies';

function listOf(reader: KeyReader, key: Arg): readonly unknown[] {
  return (reader.valueOf(keyName(key)) as unknown[] | undefined) ?? [];
}

/** LSET key index element: the key must exist, and the index fall within the list. */
const lset: CommandRule = {
  arity: 4,
  membersFrom: 2,
  check: (args, reader) => {
    const list = reader.valueOf(keyName(args[0]));
    if (list === undefined) throw replyError(NO_SUCH_KEY);
    if (!holds(list, 'list')) throw replyError(WRONGTYPE);
    const length = BigInt((list as unknown[]).length);
    const index = integerArg(args[1]);
    const at = index < 0n ? length + index : index;
    if (at < 0n || at >= length) throw replyError(INDEX_OUT_OF_RANGE);
  },
};

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

/** LPOP/RPOP key [count]: Redis refuses a count that is not a positive integer (or 0). */
const pop = typed('list', -2, {
  empties: firstKey,
  parse: (args, command) => {
    if (args.length > 2) throw replyError(wrongArity(command));
    if (args.length === 2) {
      const count = parseInteger(args[1]);
      if (count === undefined || count < 0n) throw replyError(MUST_BE_POSITIVE);
    }
  },
});

function listPosition(arg: Arg): 'LEFT' | 'RIGHT' {
  const where = optionName(arg);
  if (where !== 'LEFT' && where !== 'RIGHT') throw replyError(SYNTAX_ERROR);
  return where;
}

/**
 * LMOVE, RPOPLPUSH, BRPOPLPUSH: a missing source answers null before the destination is looked at (ioredis-mock
 * checks the destination first, and RPOPLPUSH answers null for one of the wrong type).
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
      if (source === undefined || (source as unknown[]).length === 0) return reply(null);
      expectType(reader, args[1], ['list']);
    },
  };
}

/** LMPOP numkeys key [key …] LEFT|RIGHT [COUNT n]: Redis type-checks keys until the first non-empty list. */
const lmpop: CommandRule = {
  arity: -4,
  empties: (args) => args.slice(1, -1),
  check: (args, reader) => {
    const numkeys = parseInteger(args[0]);
    if (numkeys === undefined || numkeys < 1n || Number(numkeys) > args.length - 1) return; // ioredis-mock says so
    for (const key of args.slice(1, 1 + Number(numkeys))) {
      const list = expectType(reader, key, ['list']);
      if (list !== undefined && (list as unknown[]).length > 0) return;
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

export const listRules: Readonly<Record<string, CommandRule>> = {
  lpush: typed('list', -3, { membersFrom: 1 }),
  rpush: typed('list', -3, { membersFrom: 1 }),
  lpushx: typed('list', -3, { membersFrom: 1 }),
  rpushx: typed('list', -3, { membersFrom: 1 }),
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
    check: (args, reader) =>
      reader.valueOf(keyName(args[0])) === undefined ? reply('OK') : undefined,
  }),
  lpop: pop,
  rpop: pop,
  lmove: moveRule(5, true),
  rpoplpush: moveRule(3, false),
  brpoplpush: moveRule(4, false),
  lmpop,
  lpos: typed('list', -3, { membersFrom: 1 }),
  lrange,
  lindex: typed('list', 3, {
    // Redis answers nil for a missing key before it parses the index.
    check: (args, reader) => {
      if (reader.valueOf(keyName(args[0])) === undefined) return reply(null);
      const list = listOf(reader, args[0]);
      const index = Number(integerArg(args[1]));
      return reply(copyOut(list[index < 0 ? list.length + index : index] ?? null));
    },
  }),
  llen: typed('list', 2, { check: (args, reader) => reply(listOf(reader, args[0]).length) }),
};
