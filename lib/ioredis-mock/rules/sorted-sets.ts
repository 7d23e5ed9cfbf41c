/**
 * Sorted sets (https://redis.io/docs/latest/commands/?group=sorted-set).
 *
 * ioredis-mock parses scores with `Number` (`inf` is `NaN`) and score bounds with `parseInt` (`(1.5` is `(1`), leaves
 * members scored ±inf out of `-inf`/`+inf` ranges, answers scores as numbers (ZPOPMIN) or as `Infinity`, ignores
 * ZADD's GT and LT and answers a count for ZADD … INCR. Here scores and bounds are parsed as Redis parses them, ZADD
 * is decided here and handed to ioredis-mock as plain score-member pairs, the range reads are answered from the
 * stored members in Redis's order (score, then member bytes), and ranges are removed with ZREM. Every sorted-set
 * command refuses a key of another type with WRONGTYPE.
 */
import {
  bytesOf,
  type CommandRule,
  expectType,
  firstKey,
  keyName,
  type KeyReader,
  memberOf,
  reply,
  typed,
  write,
} from '../command-rule';
import {
  type Arg,
  argText,
  floatArg,
  integerArg,
  MIN_MAX_NOT_FLOAT,
  optionName,
  parseFloatArg,
  replyError,
  scoreText,
  SYNTAX_ERROR,
} from '../redis-replies';

export interface Scored {
  readonly score: number;
  readonly value: string | Buffer;
}
/** A sorted set as ioredis-mock stores it: members (strings, canonical Buffers) to their score. */
export type SortedSet = Map<string | Buffer, Scored>;

const NAN_SCORE = 'ERR resulting score is not a number (NaN)';
const LIMIT_NEEDS_RANGE =
  'ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX';

export function setOf(reader: KeyReader, key: Arg): SortedSet | undefined {
  return reader.valueOf(keyName(key)) as SortedSet | undefined;
}

const memberKey = memberOf;

/** Members in Redis's order: by score, then by their bytes. */
export function ordered(set: SortedSet | undefined): Scored[] {
  if (set === undefined) return [];
  return [...set.values()].sort(
    (a, b) => a.score - b.score || Buffer.compare(bytesOf(a.value), bytesOf(b.value)),
  );
}

/** A score as ioredis-mock's `Number` reads it back exactly. */
const mockScore = (score: number): string => String(score);

interface Bound {
  readonly value: number;
  readonly exclusive: boolean;
}

export function bound(arg: Arg): Bound {
  const text = argText(arg);
  const exclusive = text.startsWith('(');
  const value = parseFloatArg(exclusive ? text.slice(1) : text);
  if (value === undefined) throw replyError(MIN_MAX_NOT_FLOAT);
  return { value, exclusive };
}

function within(score: number, min: Bound, max: Bound): boolean {
  return (
    (min.exclusive ? score > min.value : score >= min.value) &&
    (max.exclusive ? score < max.value : score <= max.value)
  );
}

export interface RangeQuery {
  by: 'rank' | 'score' | 'lex';
  rev: boolean;
  limit?: { offset: number; count: number };
  withScores: boolean;
}

/** The options after the range of ZRANGE and its older forms (`from`: where they start). */
export function rangeOptions(args: readonly Arg[], modern: boolean, query: RangeQuery): RangeQuery {
  for (let i = 3; i < args.length; i++) {
    const option = optionName(args[i]);
    if (option === 'WITHSCORES') query.withScores = true;
    else if (option === 'BYSCORE' && modern) query.by = 'score';
    else if (option === 'BYLEX' && modern) query.by = 'lex';
    else if (option === 'REV' && modern) query.rev = true;
    else if (option === 'LIMIT' && i + 2 < args.length && (modern || query.by !== 'rank')) {
      query.limit = {
        offset: Number(integerArg(args[i + 1])),
        count: Number(integerArg(args[i + 2])),
      };
      i += 2;
    } else throw replyError(SYNTAX_ERROR);
  }
  if (query.limit !== undefined && query.by === 'rank') throw replyError(LIMIT_NEEDS_RANGE);
  if (query.withScores && query.by === 'lex') {
    throw replyError('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
  }
  return query;
}

/** A BYLEX bound: `-`, `+`, or bytes after `[` (inclusive) or `(` (exclusive). */
type LexBound = '-' | '+' | { readonly bytes: Buffer; readonly exclusive: boolean };

const INVALID_LEX = 'ERR min or max not valid string range item';

export function lexBound(arg: Arg): LexBound {
  const bytes = bytesOf(arg);
  if (bytes.length === 1 && (bytes[0] === 0x2d || bytes[0] === 0x2b))
    return bytes[0] === 0x2d ? '-' : '+';
  if (bytes[0] !== 0x28 && bytes[0] !== 0x5b) throw replyError(INVALID_LEX);
  return { bytes: bytes.subarray(1), exclusive: bytes[0] === 0x28 };
}

function withinLex(member: Buffer, min: LexBound, max: LexBound): boolean {
  const above =
    min === '-' ||
    (min !== '+' &&
      (min.exclusive
        ? Buffer.compare(member, min.bytes) > 0
        : Buffer.compare(member, min.bytes) >= 0));
  const below =
    max === '+' ||
    (max !== '-' &&
      (max.exclusive
        ? Buffer.compare(member, max.bytes) < 0
        : Buffer.compare(member, max.bytes) <= 0));
  return above && below;
}

export function withScores(members: readonly Scored[], withScores: boolean): unknown[] {
  if (!withScores) return members.map((m) => m.value);
  return members.flatMap((m) => [m.value, scoreText(m.score)]);
}

/** The members a range selects, in reply order. */
export function selectRange(
  set: SortedSet | undefined,
  start: Arg,
  stop: Arg,
  query: RangeQuery,
): Scored[] {
  let members = ordered(set);
  if (query.rev) members.reverse();
  if (query.by === 'rank') {
    const length = members.length;
    let from = Number(integerArg(start));
    let to = Number(integerArg(stop));
    if (from < 0) from = Math.max(0, length + from);
    if (to < 0) to += length;
    if (from > to || from >= length) return [];
    return members.slice(from, Math.min(to, length - 1) + 1);
  }
  // BYSCORE and BYLEX with REV take max then min.
  const [first, last] = query.rev ? [stop, start] : [start, stop];
  if (query.by === 'lex') {
    const [min, max] = [lexBound(first), lexBound(last)];
    members = members.filter((m) => withinLex(bytesOf(m.value), min, max));
  } else {
    const [min, max] = [bound(first), bound(last)];
    members = members.filter((m) => within(m.score, min, max));
  }
  if (query.limit !== undefined) {
    const { offset, count } = query.limit;
    if (offset < 0) return [];
    members = members.slice(offset, count < 0 ? undefined : offset + count);
  }
  return members;
}

/** A range read: ZRANGE (`modern`: by rank, BYSCORE or BYLEX) and its older forms. */
function rangeRule(modern: boolean, base: Partial<RangeQuery>): CommandRule {
  const queryOf = (args: readonly Arg[]): RangeQuery =>
    rangeOptions(args, modern, { by: 'rank', rev: false, withScores: false, ...base });
  return typed('zset', -4, {
    // Redis parses the range and its options before it looks the key up.
    parse: (args) => {
      const query = queryOf(args);
      if (query.by === 'rank') {
        integerArg(args[1]);
        integerArg(args[2]);
      } else {
        const parseEnd = query.by === 'score' ? bound : lexBound;
        parseEnd(args[1]);
        parseEnd(args[2]);
      }
    },
    check: (args, reader) => {
      const query = queryOf(args);
      const members = selectRange(setOf(reader, args[0]), args[1], args[2], query);
      return reply(withScores(members, query.withScores));
    },
  });
}

const ZADD_FLAGS = new Set(['NX', 'XX', 'GT', 'LT', 'CH', 'INCR']);
const NO_FLAGS: ReadonlySet<string> = new Set();

/** ZADD's options (`flags`), where its pairs start (`i`), and its scores, checked as Redis checks them. */
function zaddOptions(args: readonly Arg[]): {
  flags: ReadonlySet<string>;
  i: number;
  scores: number[];
} {
  let options: Set<string> | undefined;
  let i = 1;
  for (; i < args.length; i++) {
    const option = optionName(args[i]);
    if (!ZADD_FLAGS.has(option)) break;
    (options ??= new Set()).add(option);
  }
  const flags = options ?? NO_FLAGS;
  const pairs = args.length - i;
  if (pairs === 0 || pairs % 2 !== 0) throw replyError(SYNTAX_ERROR);
  if (flags.has('NX') && flags.has('XX')) {
    throw replyError('ERR XX and NX options at the same time are not compatible');
  }
  if (
    (flags.has('GT') && flags.has('LT')) ||
    ((flags.has('GT') || flags.has('LT')) && flags.has('NX'))
  ) {
    throw replyError('ERR GT, LT, and/or NX options at the same time are not compatible');
  }
  if (flags.has('INCR') && pairs > 2) {
    throw replyError('ERR INCR option supports a single increment-element pair');
  }
  const scores: number[] = [];
  for (let j = i; j < args.length; j += 2) scores.push(floatArg(args[j]));
  return { flags, i, scores };
}

/** Whether ioredis-mock does what Redis does with these pairs: finite scores, members as text, no options. */
function plainPairs(args: readonly Arg[], flags: ReadonlySet<string>, scores: number[]): boolean {
  if (flags.size > 0) return false;
  for (let j = 0; j < scores.length; j++) {
    if (!Number.isFinite(scores[j]) || typeof args[2 + 2 * j] !== 'string') return false;
  }
  return true;
}

/**
 * ZADD key [NX|XX] [GT|LT] [CH] [INCR] score member […]: decided here, stored by ioredis-mock as plain pairs (as the
 * caller gave them when they are: then ioredis-mock's reply, the number of members added, is Redis's).
 */
const zadd: CommandRule = {
  arity: -4,
  check: (args, reader) => {
    // Redis parses the options and every score before it looks the key up.
    const { flags, i, scores } = zaddOptions(args);
    const set = expectType(reader, args[0], ['zset']) as SortedSet | undefined;
    const writer = reader.writer;
    if (plainPairs(args, flags, scores)) {
      if (writer === undefined) return { args };
      return write(() => {
        const next: SortedSet =
          set === undefined ? new Map<string | Buffer, Scored>() : new Map(set);
        let added = 0;
        for (let j = 0; j < scores.length; j++) {
          const member = args[2 + 2 * j] as string;
          if (!next.has(member)) added++;
          next.set(member, { score: scores[j], value: member });
        }
        writer.store(keyName(args[0]), next);
        return added;
      });
    }
    const incr = flags.has('INCR');
    const writes: Arg[] = [];
    const written = new Map<string | Buffer, number>();
    let added = 0;
    let changed = 0;
    let incremented: string | null = null;
    for (let j = 0; j < scores.length; j++) {
      const member = memberKey(args[i + 2 * j + 1]);
      const current = written.get(member) ?? set?.get(member)?.score;
      let score = scores[j];
      if (current === undefined) {
        if (flags.has('XX')) continue;
      } else {
        if (flags.has('NX')) continue;
        if (incr) score += current;
        if (Number.isNaN(score)) throw replyError(NAN_SCORE);
        if ((flags.has('GT') && score <= current) || (flags.has('LT') && score >= current))
          continue;
      }
      if (Number.isNaN(score)) throw replyError(NAN_SCORE);
      incremented = scoreText(score);
      if (current === undefined) added++;
      else if (current !== score) changed++;
      else continue;
      written.set(member, score);
      writes.push(mockScore(score), member);
    }
    const answer = incr ? incremented : flags.has('CH') ? added + changed : added;
    if (writes.length === 0) return reply(answer);
    if (writer === undefined) return { args: [args[0], ...writes], answer: () => answer };
    return write(() => {
      const next: SortedSet = set === undefined ? new Map<string | Buffer, Scored>() : new Map(set);
      for (const [member, score] of written) next.set(member, { score, value: member });
      writer.store(keyName(args[0]), next);
      return answer;
    });
  },
};

/** ZINCRBY key increment member. */
const zincrby = typed('zset', 4, {
  // Redis parses the increment before it looks the key up.
  parse: (args) => {
    floatArg(args[1]);
  },
  check: (args, reader) => {
    const by = floatArg(args[1]);
    const member = memberKey(args[2]);
    const score = (setOf(reader, args[0])?.get(member)?.score ?? 0) + by;
    if (Number.isNaN(score)) throw replyError(NAN_SCORE);
    return { args: [args[0], mockScore(by), member], answer: () => scoreText(score) };
  },
});

/** ZREMRANGEBYSCORE and ZREMRANGEBYRANK: the members are chosen here, and removed with ZREM. */
function removeRange(by: 'score' | 'rank'): CommandRule {
  return typed('zset', 4, {
    empties: firstKey,
    parse: (args) => {
      const parseEnd = by === 'rank' ? integerArg : bound;
      parseEnd(args[1]);
      parseEnd(args[2]);
    },
    check: (args, reader) => {
      const members = selectRange(setOf(reader, args[0]), args[1], args[2], {
        by,
        rev: false,
        withScores: false,
      });
      if (members.length === 0) return reply(0);
      return { args: [args[0], ...members.map((m) => m.value)], command: 'zrem' };
    },
  });
}

/** ZPOPMIN and ZPOPMAX key [count]: ioredis-mock answers the scores as numbers. */
const pop = typed('zset', -2, {
  empties: firstKey,
  parse: (args) => {
    if (args.length > 2) throw replyError(SYNTAX_ERROR);
    if (args.length === 2 && integerArg(args[1]) < 0n) {
      throw replyError('ERR value is out of range, must be positive');
    }
  },
  answer: (popped) =>
    Array.isArray(popped)
      ? popped.map((item: unknown, i) =>
          i % 2 === 1 && typeof item === 'number' ? scoreText(item) : item,
        )
      : popped,
});

function rank(reverse: boolean): CommandRule {
  return typed('zset', 3, {
    check: (args, reader) => {
      const member = memberKey(args[1]);
      const members = ordered(setOf(reader, args[0]));
      if (reverse) members.reverse();
      const at = members.findIndex((m) => m.value === member);
      return reply(at === -1 ? null : at);
    },
  });
}

function scoreOf(reader: KeyReader, key: Arg, member: Arg): string | null {
  const found = setOf(reader, key)?.get(memberKey(member));
  return found === undefined ? null : scoreText(found.score);
}

export const sortedSetRules: Readonly<Record<string, CommandRule>> = {
  zadd,
  zincrby,
  zrem: typed('zset', -3, { membersFrom: 1, empties: firstKey }),
  zremrangebyrank: removeRange('rank'),
  zremrangebyscore: removeRange('score'),
  zpopmin: pop,
  zpopmax: pop,
  zscore: typed('zset', 3, { check: (args, reader) => reply(scoreOf(reader, args[0], args[1])) }),
  zmscore: typed('zset', -3, {
    check: (args, reader) => reply(args.slice(1).map((m) => scoreOf(reader, args[0], m))),
  }),
  zrank: rank(false),
  zrevrank: rank(true),
  zcard: typed('zset', 2, { check: (args, reader) => reply(setOf(reader, args[0])?.size ?? 0) }),
  zcount: typed('zset', 4, {
    parse: (args) => {
      bound(args[1]);
      bound(args[2]);
    },
    check: (args, reader) => {
      const [min, max] = [bound(args[1]), bound(args[2])];
      return reply(ordered(setOf(reader, args[0])).filter((m) => within(m.score, min, max)).length);
    },
  }),
  zrange: rangeRule(true, {}),
  zrevrange: rangeRule(false, { rev: true }),
  zrangebyscore: rangeRule(false, { by: 'score' }),
  zrevrangebyscore: rangeRule(false, { by: 'score', rev: true }),
  zrangebylex: rangeRule(false, { by: 'lex' }),
  zrevrangebylex: rangeRule(false, { by: 'lex', rev: true }),
};
