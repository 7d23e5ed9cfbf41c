/**
 * Sorted-set algebra and stores (https://redis.io/docs/latest/commands/?group=sorted-set): ZUNION, ZINTER, ZDIFF,
 * their …STORE forms, ZRANGESTORE and ZRANDMEMBER.
 *
 * ioredis-mock 8.13.1 has none of them but ZINTERSTORE (without WEIGHTS or AGGREGATE, and sets refused as inputs)
 * and ZDIFF (sets refused): it answers `Unsupported command`. Here they are computed as Redis's
 * `zunionInterDiffGenericCommand`, `zrangeGenericCommand` and `zrandmemberWithCountCommand` compute them: sets count
 * as sorted sets whose scores are 1, a weighted score that is NaN (`0 * inf`) counts as 0 and so does a sum that is
 * (`inf + -inf`), an empty result deletes the destination, and a stored result drops the destination's TTL. The
 * reads answer here; the stores run as commands added to ioredis-mock (`added-commands.ts`) after these rules have
 * checked their arguments.
 */
import { type CommandRule, keyName, memberOf, reply, typed } from '../command-rule';
import {
  type Arg,
  checkDrawn,
  checkRandomCount,
  floatArg,
  integerArg,
  optionName,
  parseInteger,
  replyError,
  SYNTAX_ERROR,
} from '../redis-replies';
import {
  bound,
  lexBound,
  ordered,
  type RangeQuery,
  rangeOptions,
  type Scored,
  selectRange,
  type SortedSet,
  withScores,
} from './sorted-sets';
import { intersectionLimit, intersectionSize } from './sets';

/** Reads a key's stored value (the rules' reader, or ioredis-mock's `data` in an added command). */
export type Lookup = (key: string) => unknown;

type Operation = 'union' | 'inter' | 'diff';
type Aggregate = 'SUM' | 'MIN' | 'MAX';

/** What ZUNION, ZINTER, ZDIFF and their stores compute: inputs, weights, how scores add up, and the reply form. */
export interface Algebra {
  readonly operation: Operation;
  readonly keys: readonly Arg[];
  readonly weights: readonly number[];
  readonly aggregate: Aggregate;
  readonly withScores: boolean;
}

const atLeastOneKey = (command: string): string =>
  `ERR at least 1 input key is needed for '${command}' command`;

/** The input keys after `numkeys` (at `at`): a positive count no larger than the arguments left. */
function inputKeys(args: readonly Arg[], at: number, command: string): readonly Arg[] {
  const numkeys = integerArg(args[at]);
  if (numkeys < 1n) throw replyError(atLeastOneKey(command));
  if (numkeys > BigInt(args.length - at - 1)) throw replyError(SYNTAX_ERROR);
  return args.slice(at + 1, at + 1 + Number(numkeys));
}

/** The options after the input keys, parsed as Redis parses them (after it has checked the inputs' types). */
export function algebraOf(
  args: readonly Arg[],
  at: number,
  operation: Operation,
  command: string,
): Algebra {
  const keys = inputKeys(args, at, command);
  const store = at === 1;
  const weights = keys.map(() => 1);
  let aggregate: Aggregate = 'SUM';
  let scores = false;
  for (let j = at + 1 + keys.length; j < args.length;) {
    const remaining = args.length - j;
    const option = optionName(args[j]);
    if (operation !== 'diff' && remaining >= keys.length + 1 && option === 'WEIGHTS') {
      for (let i = 0; i < keys.length; i++) {
        weights[i] = floatArg(args[j + 1 + i], 'ERR weight value is not a float');
      }
      j += keys.length + 1;
    } else if (operation !== 'diff' && remaining >= 2 && option === 'AGGREGATE') {
      const how = optionName(args[j + 1]);
      if (how !== 'SUM' && how !== 'MIN' && how !== 'MAX') throw replyError(SYNTAX_ERROR);
      aggregate = how;
      j += 2;
    } else if (!store && option === 'WITHSCORES') {
      scores = true;
      j++;
    } else throw replyError(SYNTAX_ERROR);
  }
  return { operation, keys, weights, aggregate, withScores: scores };
}

/** The input keys of a command whose `numkeys` is at `at` (none when it is not a count: parsing fails first). */
function inputsAt(at: number): (args: readonly Arg[]) => readonly Arg[] {
  return (args) => {
    const numkeys = parseInteger(args[at]);
    return numkeys === undefined || numkeys < 1n
      ? []
      : args.slice(at + 1, at + 1 + Number(numkeys));
  };
}

/** An input's members with their scores: a set's score 1 each. */
function membersOf(value: unknown): Iterable<Scored> {
  if (value instanceof Map) return (value as SortedSet).values();
  if (value instanceof Set) {
    return [...(value as Set<string | Buffer>)].map((member) => ({ score: 1, value: member }));
  }
  return [];
}

function aggregated(how: Aggregate, current: number, score: number): number {
  // As C compares (Redis's `zunionInterAggregate`): a NaN score never replaces the current one.
  if (how === 'MIN') return score < current ? score : current;
  if (how === 'MAX') return score > current ? score : current;
  const sum = current + score;
  return Number.isNaN(sum) ? 0 : sum;
}

/** Computes `algebra` over the stored values, as a sorted set. */
export function combine(lookup: Lookup, algebra: Algebra): SortedSet {
  const inputs = algebra.keys.map((key, i) => ({
    value: lookup(keyName(key)),
    weight: algebra.weights[i],
  }));
  const scored = (score: number, weight: number): number => {
    const weighted = score * weight;
    return Number.isNaN(weighted) ? 0 : weighted;
  };
  const out: SortedSet = new Map();
  if (algebra.operation === 'diff') {
    const others = inputs.slice(1).map((input) => input.value);
    for (const member of membersOf(inputs[0].value)) {
      if (!others.some((other) => has(other, member.value))) out.set(member.value, member);
    }
    return out;
  }
  if (algebra.operation === 'union') {
    for (const { value, weight } of inputs) {
      for (const member of membersOf(value)) {
        const score = scored(member.score, weight);
        const current = out.get(member.value);
        out.set(member.value, {
          score:
            current === undefined ? score : aggregated(algebra.aggregate, current.score, score),
          value: member.value,
        });
      }
    }
    return out;
  }
  // ZINTER walks the smallest input first, as Redis does (the order scores add up in).
  const bySize = [...inputs].sort((a, b) => sizeOf(a.value) - sizeOf(b.value));
  for (const member of membersOf(bySize[0].value)) {
    let score = scored(member.score, bySize[0].weight);
    let everywhere = true;
    for (const { value, weight } of bySize.slice(1)) {
      const other = scoreIn(value, member.value);
      if (other === undefined) {
        everywhere = false;
        break;
      }
      // Only the first input's weighted score has NaN made 0; the others' go to the aggregate as they are.
      score = aggregated(algebra.aggregate, score, other * weight);
    }
    if (everywhere) out.set(member.value, { score, value: member.value });
  }
  return out;
}

function sizeOf(value: unknown): number {
  return value instanceof Map || value instanceof Set ? value.size : 0;
}

function scoreIn(value: unknown, member: string | Buffer): number | undefined {
  if (value instanceof Map) return (value as SortedSet).get(member)?.score;
  return value instanceof Set && value.has(member) ? 1 : undefined;
}

function has(value: unknown, member: string | Buffer): boolean {
  return scoreIn(value, member) !== undefined;
}

/**
 * ZUNION, ZINTER, ZDIFF numkeys key … [WEIGHTS …] [AGGREGATE …] [WITHSCORES] (`at` 0: answered here) and their
 * stores, destination first (`at` 1: checked here, stored by the added command).
 */
function algebraRule(operation: Operation, at: 0 | 1): CommandRule {
  return {
    arity: at === 0 ? -3 : -4,
    type: ['zset', 'set'],
    keys: inputsAt(at),
    parse: (args, command) => {
      inputKeys(args, at, command);
    },
    check: (args, reader, command) => {
      const algebra = algebraOf(args, at, operation, command);
      if (at === 1) return undefined;
      const result = ordered(combine((key) => reader.valueOf(key), algebra));
      return reply(withScores(result, algebra.withScores));
    },
  };
}

/**
 * ZINTERCARD numkeys key [key …] [LIMIT limit]: the size of ZINTER's result, counted up to the limit. As in Redis,
 * the inputs' types are checked before the options.
 */
const zintercard: CommandRule = {
  arity: -3,
  type: ['zset', 'set'],
  keys: inputsAt(0),
  parse: (args, command) => {
    inputKeys(args, 0, command);
  },
  check: (args, reader, command) =>
    reply(intersectionCount((key) => reader.valueOf(key), args, command)),
};

/** ZINTERCARD's answer (its arguments checked as far as the inputs' types). */
export function intersectionCount(lookup: Lookup, args: readonly Arg[], command: string): number {
  const keys = inputKeys(args, 0, command);
  const limit = intersectionLimit(args, 1 + keys.length);
  return intersectionSize(
    keys.map((key) => lookup(keyName(key))),
    sizeOf,
    membersOf,
    hasMember,
    limit,
  );
}

function hasMember(value: unknown, member: unknown): boolean {
  return has(value, (member as Scored).value);
}

/** ZRANGESTORE's query: ZRANGE's options but WITHSCORES, over the arguments after the destination. */
export function rangeStoreQuery(args: readonly Arg[]): RangeQuery {
  const query = rangeOptions(
    args.slice(1),
    true,
    { by: 'rank', rev: false, withScores: false },
    true,
  );
  if (query.withScores) throw replyError(SYNTAX_ERROR);
  return query;
}

/** ZRANGESTORE destination source start stop [BYSCORE|BYLEX] [REV] [LIMIT offset count]. */
const zrangestore = typed('zset', -5, {
  keys: (args) => [args[1]],
  parse: (args) => {
    const query = rangeStoreQuery(args);
    const parseEnd = query.by === 'rank' ? integerArg : query.by === 'score' ? bound : lexBound;
    parseEnd(args[2]);
    parseEnd(args[3]);
  },
});

/** The members ZRANGESTORE selects. */
export function rangeStored(lookup: Lookup, args: readonly Arg[]): readonly Scored[] {
  const set = lookup(keyName(args[1])) as SortedSet | undefined;
  return selectRange(set, args[2], args[3], rangeStoreQuery(args));
}

/**
 * ZRANDMEMBER key [count [WITHSCORES]]: distinct members for a positive count (the whole set, in random order, when
 * it asks for more), members drawn independently for a negative one.
 */
const zrandmember = typed('zset', -2, {
  parse: (args) => checkRandomCount(args, 'WITHSCORES'),
  check: (args, reader) => reply(randomMembers((key) => reader.valueOf(key), args)),
});

/**
 * ZRANDMEMBER's reply (its arguments checked), drawn from the set's order, which is kept beside it (see `ordered`):
 * not from a copy of all its members at each call (730 calls a second at 20k members).
 */
export function randomMembers(lookup: Lookup, args: readonly Arg[]): unknown {
  const members = ordered(lookup(keyName(args[0])) as SortedSet | undefined);
  if (args.length === 1) {
    return members.length === 0 ? null : members[randomIndex(members.length)].value;
  }
  const count = integerArg(args[1]);
  checkDrawn(count, members.length > 0);
  let drawn: Scored[] = [];
  if (count < 0n) {
    if (members.length > 0) {
      for (let i = 0n; i < -count; i++) drawn.push(members[randomIndex(members.length)]);
    }
  } else if (3n * count > BigInt(members.length)) {
    // Most of the set, or all of it: a shuffled copy.
    const copy = [...members];
    shuffle(copy);
    drawn = copy.slice(0, count > BigInt(copy.length) ? copy.length : Number(count));
  } else {
    const positions = new Set<number>();
    while (positions.size < Number(count)) positions.add(randomIndex(members.length));
    for (const at of positions) drawn.push(members[at]);
  }
  return withScores(drawn, args.length === 3);
}

function randomIndex(length: number): number {
  return Math.floor(Math.random() * length);
}

function shuffle<T>(items: T[]): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = randomIndex(i + 1);
    [items[i], items[j]] = [items[j], items[i]];
  }
}

/** A computed sorted set as ioredis-mock stores one: members as map keys, canonical. */
export function storedSet(members: Iterable<Scored>): SortedSet {
  const out: SortedSet = new Map();
  for (const { score, value } of members) {
    const member = memberOf(value);
    out.set(member, { score, value: member });
  }
  return out;
}

export const sortedSetStoreRules: Readonly<Record<string, CommandRule>> = {
  zunion: algebraRule('union', 0),
  zinter: algebraRule('inter', 0),
  zdiff: algebraRule('diff', 0),
  zunionstore: algebraRule('union', 1),
  zinterstore: algebraRule('inter', 1),
  zdiffstore: algebraRule('diff', 1),
  zintercard,
  zrangestore,
  zrandmember,
};
