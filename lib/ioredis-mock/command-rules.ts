/**
 * The commands the embedded client corrects, and how (see {@link CommandRule}).
 *
 * ioredis-mock 8.13.1 checks the type of the key for few commands, and for fewer with Redis's error. Without a check,
 * a command reads whatever the key holds and writes back what its code made of it: HSET with a field `7` on a list
 * stores an array with holes (which no snapshot can encode), HDEL on a list punches one, LSET past the end pads the
 * list with holes, INCR of a hash stores the text `NaN`, SADD on a list throws a TypeError. So every command that
 * writes a string, hash, list, set, sorted set or stream refuses a key of another type with Redis's WRONGTYPE error,
 * before it runs; commands that take members get their Buffer members canonical (see `buffer-members.ts`), and
 * are type-checked too. Read-only commands without members are left as ioredis-mock answers them.
 *
 * Beyond the type: Redis's arity (a missing HSET value would store `undefined`), LSET's index range, integer
 * arguments and values of the INCR family and HINCRBY (ioredis-mock would store `NaN`), and the expiry arguments of
 * SET, SETEX, PSETEX, GETEX and the EXPIRE family (`expiry-rules.ts`).
 */

import { type CommandRule, expectType, holds, keyName, type KeyType, reply } from './command-rule';
import { expiryRules } from './expiry-rules';
import {
  DECREMENT_WOULD_OVERFLOW,
  HASH_VALUE_NOT_AN_INTEGER,
  INDEX_OUT_OF_RANGE,
  INT64_MAX,
  INT64_MIN,
  integerArg,
  MUST_BE_POSITIVE,
  NO_SUCH_KEY,
  NOT_AN_INTEGER,
  OFFSET_OUT_OF_RANGE,
  optionName,
  parseInteger,
  replyError,
  SYNTAX_ERROR,
  type Arg,
  WOULD_OVERFLOW,
  WRONGTYPE,
  wrongArity,
} from './redis-replies';

const typed = (type: KeyType, arity: number, more: Partial<CommandRule> = {}): CommandRule => ({
  arity,
  type: [type],
  ...more,
});

/** The integer a string value holds, or the error Redis answers for a value that is not one. */
function storedInteger(value: unknown, error: string): bigint {
  if (value === undefined) return 0n;
  const n = typeof value === 'string' || Buffer.isBuffer(value) ? parseInteger(value) : undefined;
  if (n === undefined) throw replyError(error);
  return n;
}

function checkSum(current: bigint, increment: bigint): void {
  const sum = current + increment;
  if (sum > INT64_MAX || sum < INT64_MIN) throw replyError(WOULD_OVERFLOW);
}

/** INCR, DECR, INCRBY, DECRBY: `sign` and the increment's argument (none: 1). */
function incrementRule(arity: number, sign: 1n | -1n): CommandRule {
  return typed('string', arity, {
    parse: (args) => {
      // Redis cannot negate the smallest 64-bit integer.
      if (args.length > 1 && integerArg(args[1]) === INT64_MIN && sign < 0n) {
        throw replyError(DECREMENT_WOULD_OVERFLOW);
      }
    },
    check: (args, reader) => {
      const increment = args.length > 1 ? sign * integerArg(args[1]) : sign;
      checkSum(storedInteger(reader.valueOf(keyName(args[0])), NOT_AN_INTEGER), increment);
    },
  });
}

const hincrby: CommandRule = typed('hash', 4, {
  parse: (args) => {
    integerArg(args[2]);
  },
  check: (args, reader) => {
    const hash = reader.valueOf(keyName(args[0])) as Record<string, unknown> | undefined;
    const field = keyName(args[1]);
    const current = hash !== undefined && Object.hasOwn(hash, field) ? hash[field] : undefined;
    checkSum(storedInteger(current, HASH_VALUE_NOT_AN_INTEGER), integerArg(args[2]));
  },
});

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
  check: (args, reader) => {
    const numkeys = parseInteger(args[0]);
    if (numkeys === undefined || numkeys < 1n || Number(numkeys) > args.length - 1) return; // ioredis-mock says so
    for (const key of args.slice(1, 1 + Number(numkeys))) {
      const list = expectType(reader, key, ['list']);
      if (list !== undefined && (list as unknown[]).length > 0) return;
    }
  },
};

/** SMOVE source destination member: a missing source answers 0 before the destination is looked at. */
const smove: CommandRule = {
  arity: 4,
  membersFrom: 2,
  check: (args, reader) => {
    if (expectType(reader, args[0], ['set']) === undefined) return reply(0);
    expectType(reader, args[1], ['set']);
  },
};

/** ZINTERSTORE destination numkeys key [key …] …: sets count as sorted sets of score 1. */
const zinterstore = typed('zset', -4, {
  type: ['zset', 'set'],
  keys: (args) => {
    const numkeys = parseInteger(args[1]);
    return numkeys === undefined || numkeys < 1n ? [] : args.slice(2, 2 + Number(numkeys));
  },
});

/** SETRANGE key offset value: the offset is a non-negative integer. */
const setrange = typed('string', 4, {
  parse: (args) => {
    if (integerArg(args[1]) < 0n) throw replyError(OFFSET_OUT_OF_RANGE);
  },
  // ioredis-mock would store an empty string under a missing key.
  check: (args, reader) =>
    args[2].length === 0 && reader.valueOf(keyName(args[0])) === undefined ? reply(0) : undefined,
});

const sources = (args: readonly Arg[]): readonly Arg[] => args.slice(1);

/** Commands by their lower-case ioredis-mock name. */
export const commandRules: Readonly<Record<string, CommandRule>> = {
  // strings
  append: typed('string', 3),
  incr: incrementRule(2, 1n),
  decr: incrementRule(2, -1n),
  incrby: incrementRule(3, 1n),
  decrby: incrementRule(3, -1n),
  incrbyfloat: typed('string', 3),
  getset: typed('string', 3),
  getdel: typed('string', 2),
  setrange,
  setbit: typed('string', 4),
  setnx: { arity: 3 },
  mset: { arity: -3, pairsFrom: 0 },
  msetnx: { arity: -3, pairsFrom: 0 },
  // hashes
  hset: typed('hash', -4, { pairsFrom: 1 }),
  hmset: typed('hash', -4, { pairsFrom: 1 }),
  hsetnx: typed('hash', 4),
  hincrby,
  hincrbyfloat: typed('hash', 4),
  hdel: typed('hash', -3),
  // lists
  lpush: typed('list', -3, { membersFrom: 1 }),
  rpush: typed('list', -3, { membersFrom: 1 }),
  lpushx: typed('list', -3, { membersFrom: 1 }),
  rpushx: typed('list', -3, { membersFrom: 1 }),
  linsert,
  lset,
  lrem: typed('list', 4, {
    membersFrom: 2,
    parse: (args) => {
      integerArg(args[1]);
    },
    // ioredis-mock would store an empty list under a missing key.
    check: (args, reader) =>
      reader.valueOf(keyName(args[0])) === undefined ? reply(0) : undefined,
  }),
  ltrim: typed('list', 4, {
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
  // sets
  sadd: typed('set', -3, { membersFrom: 1 }),
  srem: typed('set', -3, { membersFrom: 1 }),
  spop: typed('set', -2),
  smove,
  sismember: typed('set', 3, { membersFrom: 1 }),
  smismember: typed('set', -3, { membersFrom: 1 }),
  sdiffstore: typed('set', -3, { keys: sources }),
  sinterstore: typed('set', -3, { keys: sources }),
  sunionstore: typed('set', -3, { keys: sources }),
  // sorted sets
  zadd: typed('zset', -4, { membersFrom: 1 }),
  zincrby: typed('zset', 4, { membersFrom: 1 }),
  zrem: typed('zset', -3, { membersFrom: 1 }),
  zremrangebyrank: typed('zset', 4),
  zremrangebyscore: typed('zset', 4),
  zpopmin: typed('zset', -2),
  zpopmax: typed('zset', -2),
  zinterstore,
  zscore: typed('zset', 3, { membersFrom: 1 }),
  zmscore: typed('zset', -3, { membersFrom: 1 }),
  zrank: typed('zset', 3, { membersFrom: 1 }),
  zrevrank: typed('zset', 3, { membersFrom: 1 }),
  // streams
  xadd: typed('stream', -5),
  // expiry: SET, SETEX, PSETEX, GETEX, EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT
  ...expiryRules,
};
