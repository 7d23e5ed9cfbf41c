/**
 * Sets (https://redis.io/docs/latest/commands/?group=set).
 *
 * ioredis-mock's set commands answer other errors than WRONGTYPE for keys of another type (`Key … does not contain
 * a set`, a TypeError) or none at all, and SPOP and SRANDMEMBER with a count answer nil for a missing key where Redis
 * answers an empty array. Members given as Buffers are made canonical (see `buffer-members.ts`).
 */
import {
  type CommandRule,
  copyOut,
  expectType,
  firstKey,
  keyName,
  reply,
  typed,
} from '../command-rule';
import { type Arg, integerArg, MUST_BE_POSITIVE, parseInteger, replyError } from '../redis-replies';

/** SMOVE source destination member: a missing source answers 0 before the destination is looked at. */
const smove: CommandRule = {
  arity: 4,
  empties: firstKey,
  membersFrom: 2,
  check: (args, reader) => {
    if (expectType(reader, args[0], ['set']) === undefined) return reply(0);
    expectType(reader, args[1], ['set']);
  },
};

const all = (args: readonly Arg[]): readonly Arg[] => args;
const sources = (args: readonly Arg[]): readonly Arg[] => args.slice(1);

/** SPOP and SRANDMEMBER key [count]: an empty array for a missing key when a count is given. */
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
      }
    },
    check: (args, reader) =>
      args.length === 2 && reader.valueOf(keyName(args[0])) === undefined ? reply([]) : undefined,
  });
}

/** A stored set (the rule's type check passed), or an empty one for a missing key. */
function membersOf(value: unknown): ReadonlySet<unknown> {
  return (value as ReadonlySet<unknown> | undefined) ?? EMPTY;
}
const EMPTY: ReadonlySet<unknown> = new Set();

export const setRules: Readonly<Record<string, CommandRule>> = {
  sadd: typed('set', -3, { membersFrom: 1 }),
  srem: typed('set', -3, { membersFrom: 1, empties: firstKey }),
  spop: randomMembers('spop'),
  srandmember: randomMembers('srandmember'),
  smove,
  sismember: typed('set', 3, { membersFrom: 1 }),
  smismember: typed('set', -3, { membersFrom: 1 }),
  // Answered here, as ioredis-mock answers them: a restored set is then read from its bytes, not built (see
  // `restored-states.ts`).
  smembers: typed('set', 2, {
    check: (args, reader) =>
      reply(Array.from(membersOf(reader.valueOf(keyName(args[0]))), copyOut)),
  }),
  scard: typed('set', 2, {
    check: (args, reader) => reply(membersOf(reader.valueOf(keyName(args[0]))).size),
  }),
  sinter: typed('set', -2, { keys: all }),
  sunion: typed('set', -2, { keys: all }),
  sdiff: typed('set', -2, { keys: all }),
  sdiffstore: typed('set', -3, { keys: sources, empties: firstKey }),
  sinterstore: typed('set', -3, { keys: sources, empties: firstKey }),
  sunionstore: typed('set', -3, { keys: sources, empties: firstKey }),
};
