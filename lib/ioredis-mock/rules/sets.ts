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
  memberOf,
  reply,
  typed,
  write,
} from '../command-rule';
import { type Arg, integerArg, MUST_BE_POSITIVE, parseInteger, replyError } from '../redis-replies';
import { IN_PLACE_FROM_BYTES, setMemberBytes } from '../../keyspace/memory';

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
      for (const member of members) {
        if (set.has(member) === adding) continue;
        if (adding) set.add(member);
        else set.delete(member);
        changed++;
        bytes += (adding ? 1 : -1) * setMemberBytes(member);
      }
      if (set.size === 0)
        writer.remove(key); // Redis deletes a set it empties
      else writer.changedInPlace(key, bytes);
      return changed;
    });
  };
}

/** A member's test against a stored set, without copying it (ioredis-mock copies the set: 26 ms at 100k members). */
const isMember = (set: ReadonlySet<unknown>, arg: Arg): 0 | 1 => (set.has(memberOf(arg)) ? 1 : 0);

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
