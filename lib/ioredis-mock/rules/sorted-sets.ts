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
import { IN_PLACE_FROM_BYTES, zsetMemberBytes } from '../../keyspace/memory';
import {
  type Arg,
  argText,
  floatArg,
  integerArg,
  parseInteger,
  strtod,
  MIN_MAX_NOT_FLOAT,
  mpopOptions,
  optionName,
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

/** Redis's order of a sorted set's members: by score, then by their bytes. */
function compareMembers(a: Scored, b: Scored): number {
  return a.score - b.score || Buffer.compare(bytesOf(a.value), bytesOf(b.value));
}

/**
 * The members of each stored sorted set in order, sorted on the first read that needs them, then kept as long as the
 * Map: a leaderboard read again and again is sorted once (100k members took 50 ms a read), not at each read. A small
 * set is written as a new Map (a new order is made when it is read); a large one is changed in place, and its order
 * with it (see {@link changeInPlace}).
 */
const orders = new WeakMap<SortedSet, Scored[]>();

/** Members in Redis's order: by score, then by their bytes. The array may be shared: never change it. */
export function ordered(set: SortedSet | undefined): readonly Scored[] {
  if (set === undefined) return [];
  let members = orders.get(set);
  if (members === undefined || members.length !== set.size) {
    members = [...set.values()].sort(compareMembers);
    orders.set(set, members);
  }
  return members;
}

/** Where `member` goes in `members` (in Redis's order): the first position whose member comes after it. */
function insertionPoint(members: readonly Scored[], member: Scored): number {
  let low = 0;
  let high = members.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareMembers(members[middle], member) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/**
 * Sets the scores of a stored sorted set in place (`undefined` removes the member): ioredis-mock's writes, and a new
 * Map for each, cost the set's size (ZADD took 37 ms at 100k members, ZINCRBY 100 ms; at 50 members a copy was most
 * of a ZADD's time), and its order would be sorted again at the next read. Its order, if made, is kept by moving each
 * changed member (a binary search, and a move of the members between its old and new places; a new member's
 * insertion moves those after it). Returns false, changing nothing, when the set is not there: the caller writes a new
 * Map.
 */
function changeInPlace(
  reader: KeyReader,
  key: string,
  changes: ReadonlyMap<string | Buffer, number | undefined>,
): boolean {
  const writer = reader.writer;
  if (writer === undefined) return false;
  const set = writer.inPlace(key) as SortedSet | undefined;
  if (set === undefined) return false;
  const order = orders.get(set);
  let bytes = 0;
  for (const [member, score] of changes) {
    const old = set.get(member);
    if (old !== undefined) bytes -= zsetMemberBytes(old);
    if (score === undefined) {
      if (old === undefined) continue;
      if (order !== undefined) order.splice(positionOf(order, old), 1);
      set.delete(member);
      continue;
    }
    const scored: Scored = { score, value: member };
    set.set(member, scored);
    if (order !== undefined) {
      if (old === undefined) order.splice(insertionPoint(order, scored), 0, scored);
      else move(order, positionOf(order, old), scored);
    }
    bytes += zsetMemberBytes(scored);
  }
  if (set.size === 0)
    writer.remove(key); // Redis deletes a sorted set it empties
  else writer.changedInPlace(key, bytes);
  return true;
}

/**
 * Puts `member` in the place of the one at `from` (the same member with its old score), moving only the members
 * between its old and new places: a leaderboard's `ZINCRBY` moves a member a few places, where a removal and an
 * insertion each moved every member after them (100-200 µs a command at 100k members).
 */
function move(members: Scored[], from: number, member: Scored): void {
  // The order still holds the old member at `from`, so the search over all of it is a search over the others.
  const to = insertionPoint(members, member);
  if (to > from) {
    for (let i = from; i < to - 1; i++) members[i] = members[i + 1];
    members[to - 1] = member;
  } else {
    for (let i = from; i > to; i--) members[i] = members[i - 1];
    members[to] = member;
  }
}

/** The position of `member` in `members` (in Redis's order), -1 if it is not there: a binary search. */
function positionOf(members: readonly Scored[], member: Scored): number {
  let low = 0;
  let high = members.length - 1;
  while (low <= high) {
    const middle = (low + high) >>> 1;
    const order = compareMembers(members[middle], member);
    if (order === 0) return middle;
    if (order < 0) low = middle + 1;
    else high = middle - 1;
  }
  return -1;
}

/** A score as ioredis-mock's `Number` reads it back exactly. */
const mockScore = (score: number): string => String(score);

/** Redis 7.0's `zset-max-listpack-entries` and `zset-max-listpack-value` (see `object-command.ts`). */
const LISTPACK_ENTRIES = 128;
const LISTPACK_VALUE = 64;

/** Whether a member is short enough for a listpack: at most 64 bytes (3 bytes at most to a UTF-16 unit). */
function fitsListpack(member: string | Buffer): boolean {
  if (typeof member !== 'string') return member.length <= LISTPACK_VALUE;
  return member.length * 3 <= LISTPACK_VALUE || Buffer.byteLength(member) <= LISTPACK_VALUE;
}

/** Whether Redis 7.0 holds `set` as a listpack, judged by what it holds now (as `OBJECT ENCODING` is). */
function heldAsListpack(set: SortedSet): boolean {
  if (set.size > LISTPACK_ENTRIES) return false;
  for (const member of set.keys()) if (!fitsListpack(member)) return false;
  return true;
}

/**
 * Negative zero, as the sorted set Redis 7.0 writes it into stores it. A listpack stores a score that is an integer
 * as an integer (`zzlInsertAt`, `double2ll`), so -0 is stored, and read back, as 0; a skiplist keeps the double, -0.
 * ZADD and ZINCRBY write their members one by one (`zsetAdd`): a new key is a listpack unless its first member is
 * longer than 64 bytes, and a listpack becomes a skiplist, for good, when a new member is longer or is the 129th.
 * `score` is the score of `member`, written after the members `before` (in the order written; the set's own members
 * among them are updates); `first` is the command's first member (what a new key is made for). Other scores than -0
 * are stored as they are.
 */
export function zeroAsWritten(
  score: number,
  set: SortedSet | undefined,
  first: string | Buffer,
  before: Iterable<string | Buffer>,
  member: string | Buffer,
): number {
  if (!Object.is(score, -0)) return score;
  let listpack = set === undefined ? fitsListpack(first) : heldAsListpack(set);
  let size = set?.size ?? 0;
  let earlier = false;
  const add = (m: string | Buffer): void => {
    if (set?.has(m) === true) return;
    if (listpack && (size + 1 > LISTPACK_ENTRIES || !fitsListpack(m))) listpack = false;
    size++;
  };
  for (const m of before) {
    if (m === member) earlier = true;
    add(m);
  }
  if (!earlier) add(member);
  return listpack ? 0 : score;
}

/**
 * The scores of a sorted set a store made (ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE: `converted`; ZRANGESTORE: in its
 * order), with negative zero as Redis 7.0 stores it (see {@link zeroAsWritten}). The algebra builds a skiplist and
 * converts it to a listpack when it has at most 128 members of at most 64 bytes; ZRANGESTORE makes a listpack for at
 * most 128 members and adds them one by one (a longer member converts it). Changes `set` in place.
 */
export function storedZeros(set: SortedSet, converted: boolean): void {
  let zeros = false;
  for (const { score } of set.values()) if (Object.is(score, -0)) zeros = true;
  if (!zeros) return;
  let listpack = set.size <= LISTPACK_ENTRIES;
  if (converted && listpack) listpack = heldAsListpack(set);
  for (const [member, scored] of set) {
    if (!converted && listpack && !fitsListpack(member)) listpack = false;
    if (listpack && Object.is(scored.score, -0)) set.set(member, { score: 0, value: scored.value });
  }
}

interface Bound {
  readonly value: number;
  readonly exclusive: boolean;
}

export function bound(arg: Arg): Bound {
  const text = argText(arg);
  const exclusive = text.startsWith('(');
  // Redis's `zslParseRange`: `strtod` of all of it (white space before it, an empty text as 0, out of range as
  // ±inf or 0), not NaN.
  const number = exclusive ? text.slice(1) : text;
  const read = strtod(number);
  if (read.length !== number.length || Number.isNaN(read.value)) {
    throw replyError(MIN_MAX_NOT_FLOAT);
  }
  return { value: read.value, exclusive };
}

/** The index of the first of `sorted` (in score order) whose score is at least `min`; the length if none. */
function firstFrom(sorted: readonly Scored[], min: Bound): number {
  let [low, high] = [0, sorted.length];
  while (low < high) {
    const mid = (low + high) >>> 1;
    const score = sorted[mid].score;
    if (min.exclusive ? score > min.value : score >= min.value) high = mid;
    else low = mid + 1;
  }
  return low;
}

/** The index after the last of `sorted` (in score order) whose score is at most `max`; 0 if none. */
function endAt(sorted: readonly Scored[], max: Bound): number {
  let [low, high] = [0, sorted.length];
  while (low < high) {
    const mid = (low + high) >>> 1;
    const score = sorted[mid].score;
    if (max.exclusive ? score < max.value : score <= max.value) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The positions [from, to) of the members of `sorted` (in score order) within `min` and `max`: binary searches. */
function scoreSpan(sorted: readonly Scored[], min: Bound, max: Bound): [number, number] {
  const from = firstFrom(sorted, min);
  return [from, Math.max(from, endAt(sorted, max))];
}

export interface RangeQuery {
  by: 'rank' | 'score' | 'lex';
  rev: boolean;
  limit?: { offset: number; count: number };
  withScores: boolean;
}

/**
 * The options after the range of ZRANGE and its older forms, as Redis's `zrangeGenericCommand` reads them: `REV`,
 * `BYSCORE` and `BYLEX` once each, and only where the command leaves them open (`modern`: ZRANGE, ZRANGESTORE),
 * `WITHSCORES` except when storing (`store`), `LIMIT` anywhere; then the conflicts (a LIMIT other than `-1` on a rank
 * range, WITHSCORES with BYLEX).
 */
export function rangeOptions(
  args: readonly Arg[],
  modern: boolean,
  query: RangeQuery,
  store = false,
): RangeQuery {
  let direction = !modern;
  let type = !modern;
  for (let i = 3; i < args.length; i++) {
    const option = optionName(args[i]);
    if (option === 'WITHSCORES' && !store) query.withScores = true;
    else if (option === 'LIMIT' && i + 2 < args.length) {
      query.limit = {
        offset: Number(integerArg(args[i + 1])),
        count: Number(integerArg(args[i + 2])),
      };
      i += 2;
    } else if (option === 'REV' && !direction) {
      direction = true;
      query.rev = true;
    } else if ((option === 'BYSCORE' || option === 'BYLEX') && !type) {
      type = true;
      query.by = option === 'BYSCORE' ? 'score' : 'lex';
    } else throw replyError(SYNTAX_ERROR);
  }
  if (query.limit !== undefined && query.by === 'rank') {
    if (query.limit.count !== -1) throw replyError(LIMIT_NEEDS_RANGE);
    query.limit = undefined; // a rank range takes no LIMIT: one of count -1 changes nothing
  }
  if (query.withScores && query.by === 'lex') {
    throw replyError('ERR syntax error, WITHSCORES not supported in combination with BYLEX');
  }
  return query;
}

/** A BYLEX bound: `-`, `+`, or bytes after `[` (inclusive) or `(` (exclusive). */
export type LexBound = '-' | '+' | { readonly bytes: Buffer; readonly exclusive: boolean };

const INVALID_LEX = 'ERR min or max not valid string range item';

export function lexBound(arg: Arg): LexBound {
  const bytes = bytesOf(arg);
  if (bytes.length === 1 && (bytes[0] === 0x2d || bytes[0] === 0x2b))
    return bytes[0] === 0x2d ? '-' : '+';
  if (bytes[0] !== 0x28 && bytes[0] !== 0x5b) throw replyError(INVALID_LEX);
  return { bytes: bytes.subarray(1), exclusive: bytes[0] === 0x28 };
}

/** Whether `member` is at or past `min` (Redis's `zslLexValueGteMin`). */
function lexAtLeast(member: Scored, min: LexBound): boolean {
  if (min === '-' || min === '+') return min === '-';
  const cmp = Buffer.compare(bytesOf(member.value), min.bytes);
  return min.exclusive ? cmp > 0 : cmp >= 0;
}

/** Whether `member` is at or before `max` (Redis's `zslLexValueLteMax`). */
function lexAtMost(member: Scored, max: LexBound): boolean {
  if (max === '-' || max === '+') return max === '+';
  const cmp = Buffer.compare(bytesOf(member.value), max.bytes);
  return max.exclusive ? cmp < 0 : cmp <= 0;
}

/** Redis's order of two bounds (`sdscmplex`): `-` before everything, `+` after. */
function compareLexBounds(a: LexBound, b: LexBound): number {
  if (a === b) return 0;
  if (a === '-' || b === '+') return -1;
  if (a === '+' || b === '-') return 1;
  return Buffer.compare(a.bytes, b.bytes);
}

/**
 * The members of a lexicographic range, as Redis walks a sorted set for ZRANGEBYLEX, ZLEXCOUNT and ZREMRANGEBYLEX
 * (its `zzlFirstInLexRange` and the loops after it): from the first member, in order, that is at least `min`, then on
 * while members are at most `max` (`rev`: from the last member at most `max`, back while members are at least
 * `min`); LIMIT's offset skips members without looking at them. When every member has the same score, as the
 * commands' documentation asks, these are exactly the members within the range; with mixed scores Redis gives this
 * walk's result, and so does this.
 */
export function lexRange(
  sorted: readonly Scored[],
  min: LexBound,
  max: LexBound,
  rev = false,
  limit: { offset: number; count: number } = { offset: 0, count: -1 },
): Scored[] {
  const length = sorted.length;
  const order = compareLexBounds(min, max);
  const exclusive = (b: LexBound): boolean => b === '-' || b === '+' || b.exclusive;
  if (length === 0 || order > 0 || (order === 0 && (exclusive(min) || exclusive(max)))) return [];
  if (!lexAtLeast(sorted[length - 1], min) || !lexAtMost(sorted[0], max)) return [];
  const step = rev ? -1 : 1;
  const inRange = rev ? (m: Scored) => lexAtLeast(m, min) : (m: Scored) => lexAtMost(m, max);
  let at = rev ? length - 1 : 0;
  if (rev) while (at >= 0 && !lexAtMost(sorted[at], max)) at--;
  else while (at < length && !lexAtLeast(sorted[at], min)) at++;
  if (at < 0 || at >= length || !inRange(sorted[at])) return [];
  if (limit.offset < 0) return [];
  at += step * limit.offset;
  const members: Scored[] = [];
  for (let left = limit.count; at >= 0 && at < length && left !== 0; at += step, left--) {
    if (!inRange(sorted[at])) break;
    members.push(sorted[at]);
  }
  return members;
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
): readonly Scored[] {
  const sorted = ordered(set);
  if (query.by === 'rank') {
    const length = sorted.length;
    let from = Number(integerArg(start));
    let to = Number(integerArg(stop));
    if (from < 0) from = Math.max(0, length + from);
    if (to < 0) to += length;
    if (from > to || from >= length) return [];
    to = Math.min(to, length - 1);
    // Only the range is copied (in reverse from the end for REV), not the whole set.
    if (!query.rev) return sorted.slice(from, to + 1);
    return sorted.slice(length - 1 - to, length - from).reverse();
  }
  // BYSCORE and BYLEX with REV take max then min.
  const [first, last] = query.rev ? [stop, start] : [start, stop];
  if (query.by === 'lex')
    return lexRange(sorted, lexBound(first), lexBound(last), query.rev, query.limit);
  // Only the members the range and its LIMIT select are copied, found by binary searches (the set is in score order).
  const [from, to] = scoreSpan(sorted, bound(first), bound(last));
  const { offset, count } = query.limit ?? { offset: 0, count: -1 };
  if (offset < 0) return [];
  const taken = Math.max(0, Math.min(count < 0 ? Infinity : count, to - from - offset));
  if (taken === 0) return [];
  if (!query.rev) return sorted.slice(from + offset, from + offset + taken);
  return sorted.slice(to - offset - taken, to - offset).reverse();
}

/** ZLEXCOUNT's answer: the members of the range, walked as Redis walks them (see {@link lexRange}). */
export function lexCount(set: SortedSet | undefined, min: Arg, max: Arg): number {
  return lexRange(ordered(set), lexBound(min), lexBound(max)).length;
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
      storeZeros(scores, set, args);
      return write(() => {
        const key = keyName(args[0]);
        if (set !== undefined) {
          const changes = new Map<string, number>();
          for (let j = 0; j < scores.length; j++) changes.set(args[2 + 2 * j] as string, scores[j]);
          let added = 0;
          for (const member of changes.keys()) if (set?.has(member) !== true) added++;
          if (changeInPlace(reader, key, changes)) return added;
        }
        const next: SortedSet =
          set === undefined ? new Map<string | Buffer, Scored>() : new Map(set);
        let added = 0;
        for (let j = 0; j < scores.length; j++) {
          const member = args[2 + 2 * j] as string;
          if (!next.has(member)) added++;
          next.set(member, { score: scores[j], value: member });
        }
        writer.store(key, next);
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
      const stored = zeroAsWritten(score, set, memberKey(args[i + 1]), written.keys(), member);
      written.set(member, stored);
      writes.push(mockScore(stored), member);
    }
    const answer = incr ? incremented : flags.has('CH') ? added + changed : added;
    if (writes.length === 0) return reply(answer);
    if (writer === undefined) return { args: [args[0], ...writes], answer: () => answer };
    return write(() => {
      if (changeInPlace(reader, keyName(args[0]), written)) return answer;
      const next: SortedSet = set === undefined ? new Map<string | Buffer, Scored>() : new Map(set);
      for (const [member, score] of written) next.set(member, { score, value: member });
      writer.store(keyName(args[0]), next);
      return answer;
    });
  },
};

/**
 * ZADD's plain pairs (from the third argument on): a score of -0 as Redis stores it (see {@link zeroAsWritten}); a
 * member whose score is 0 or -0 already keeps it for either, as Redis changes only a score that compares unequal.
 */
function storeZeros(scores: number[], set: SortedSet | undefined, args: readonly Arg[]): void {
  for (let j = 0; j < scores.length; j++) {
    if (scores[j] !== 0) continue;
    const member = args[2 + 2 * j] as string;
    let current = set?.get(member)?.score;
    for (let k = 0; k < j; k++) if (args[2 + 2 * k] === member) current = scores[k];
    if (current === 0) {
      scores[j] = current;
      continue;
    }
    if (!Object.is(scores[j], -0)) continue;
    const before: string[] = [];
    for (let k = 0; k < j; k++) before.push(args[2 + 2 * k] as string);
    scores[j] = zeroAsWritten(scores[j], set, args[2], before, member);
  }
}

/** ZINCRBY key increment member. */
const zincrby = typed('zset', 4, {
  // Redis parses the increment before it looks the key up.
  parse: (args) => {
    floatArg(args[1]);
  },
  check: (args, reader) => {
    const by = floatArg(args[1]);
    const member = memberKey(args[2]);
    // A new member's score is the increment itself (-0, stored as Redis stores it: see `zeroAsWritten`).
    const set = setOf(reader, args[0]);
    const current = set?.get(member)?.score;
    const score = current === undefined ? by : current + by;
    if (Number.isNaN(score)) throw replyError(NAN_SCORE);
    const key = keyName(args[0]);
    if (reader.writer !== undefined) {
      // A score that compares equal is not written (-0 after 0, 0 after -0), as in Redis's `zsetAdd`.
      const stored = score === current ? current : zeroAsWritten(score, set, member, [], member);
      return write(() => {
        if (!changeInPlace(reader, key, new Map([[member, stored]]))) {
          const next: SortedSet = new Map(setOf(reader, args[0]));
          next.set(member, { score: stored, value: member });
          reader.writer?.store(key, next);
        }
        return scoreText(score);
      });
    }
    return { args: [args[0], mockScore(by), member], answer: () => scoreText(score) };
  },
});

/** ZREMRANGEBYSCORE, ZREMRANGEBYRANK and ZREMRANGEBYLEX: the members are chosen here, and removed with ZREM. */
function removeRange(by: RangeQuery['by']): CommandRule {
  return typed('zset', 4, {
    empties: firstKey,
    parse: (args) => {
      const parseEnd = by === 'rank' ? integerArg : by === 'score' ? bound : lexBound;
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
      const key = keyName(args[0]);
      if (isLarge(reader, key)) return write(() => removeInPlace(reader, key, members));
      return { args: [args[0], ...members.map((m) => m.value)], command: 'zrem' };
    },
  });
}

/** Whether `key` holds a sorted set large enough to be changed in place (see {@link changeInPlace}). */
function isLarge(reader: KeyReader, key: string): boolean {
  return reader.writer !== undefined && reader.writer.bytesOf(key) >= IN_PLACE_FROM_BYTES;
}

/** Removes `members` from the large sorted set `key` in place; returns how many it held. */
function removeInPlace(reader: KeyReader, key: string, members: Iterable<Scored>): number {
  const set = setOf(reader, key);
  const changes = new Map<string | Buffer, undefined>();
  for (const { value } of members) if (set?.has(value) === true) changes.set(value, undefined);
  if (changes.size > 0 && !changeInPlace(reader, key, changes)) {
    const next: SortedSet = new Map(set);
    for (const member of changes.keys()) next.delete(member);
    if (next.size === 0) reader.writer?.remove(key);
    else reader.writer?.store(key, next);
  }
  return changes.size;
}

/** ZPOPMIN and ZPOPMAX key [count]: ioredis-mock answers the scores as numbers. */
const pop = typed('zset', -2, {
  empties: firstKey,
  parse: (args) => {
    if (args.length > 2) throw replyError(SYNTAX_ERROR);
    // Redis's `getPositiveLongFromObjectOrReply`: one error for a count that is not a whole number or is negative.
    if (args.length === 2) {
      const count = parseInteger(args[1]);
      if (count === undefined || count < 0n) {
        throw replyError('ERR value is out of range, must be positive');
      }
    }
  },
  // A count of 0 pops nothing (ioredis-mock read it as no count, and popped every member). A large set: the members
  // popped are taken from its order (ioredis-mock sorts a copy: 0.3 s at 100k members).
  check: (args, reader, command) => {
    const key = keyName(args[0]);
    if (args.length === 2 && parseInteger(args[1]) === 0n) return reply([]);
    if (!isLarge(reader, key)) return undefined;
    const count = args.length === 2 ? Number(integerArg(args[1])) : 1;
    const taken = popped(setOf(reader, key), command === 'zpopmin', count);
    return write(() => {
      removeInPlace(reader, key, taken);
      return withScores(taken, true);
    });
  },
  answer: (popped) =>
    Array.isArray(popped)
      ? popped.map((item: unknown, i) =>
          i % 2 === 1 && typeof item === 'number' ? scoreText(item) : item,
        )
      : popped,
});

/** What ZMPOP numkeys key [key …] MIN|MAX [COUNT count] asks (see `mpopOptions`). */
export function zmpopOptions(args: readonly Arg[]): {
  keys: readonly Arg[];
  min: boolean;
  count: number;
} {
  const { keys, end, count } = mpopOptions(args, ['MIN', 'MAX']);
  return { keys, min: end === 'MIN', count };
}

/** The members ZMPOP (and ZPOPMIN, ZPOPMAX) takes from `set`: the `count` lowest or highest, in reply order. */
export function popped(set: SortedSet | undefined, min: boolean, count: number): Scored[] {
  const sorted = ordered(set);
  return min ? sorted.slice(0, count) : sorted.slice(Math.max(0, sorted.length - count)).reverse();
}

/** ZMPOP's reply: the key popped from and its members with their scores, as pairs. */
export function zmpopReply(key: Arg, members: readonly Scored[]): unknown {
  return [keyName(key), members.map((m) => [m.value, scoreText(m.score)])];
}

/**
 * ZMPOP numkeys key [key …] MIN|MAX [COUNT count]: pops from the first of the keys that exists, after checking the
 * type of each key up to it (as Redis does); nil when none exists.
 */
const zmpop: CommandRule = {
  arity: -4,
  empties: firstKey, // of the ZREM it runs
  parse: (args) => {
    zmpopOptions(args);
  },
  check: (args, reader) => {
    const { keys, min, count } = zmpopOptions(args);
    for (const key of keys) {
      const set = expectType(reader, key, ['zset']) as SortedSet | undefined;
      if (set === undefined) continue;
      const taken = popped(set, min, count);
      const answer = zmpopReply(key, taken);
      const name = keyName(key);
      if (isLarge(reader, name)) {
        return write(() => {
          removeInPlace(reader, name, taken);
          return answer;
        });
      }
      return { args: [key, ...taken.map((m) => m.value)], command: 'zrem', answer: () => answer };
    }
    return reply(null);
  },
};

function rank(reverse: boolean): CommandRule {
  return typed('zset', 3, {
    check: (args, reader) => {
      const set = setOf(reader, args[0]);
      const found = set?.get(memberKey(args[1]));
      if (found === undefined) return reply(null);
      const members = ordered(set);
      const at = positionOf(members, found);
      return reply(reverse ? members.length - 1 - at : at);
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
  zrem: typed('zset', -3, {
    membersFrom: 1,
    empties: firstKey,
    check: (args, reader) => {
      const key = keyName(args[0]);
      if (!isLarge(reader, key)) return undefined;
      const members = args.slice(1).map((arg) => ({ score: 0, value: memberKey(arg) }));
      return write(() => removeInPlace(reader, key, members));
    },
  }),
  zremrangebyrank: removeRange('rank'),
  zremrangebyscore: removeRange('score'),
  zremrangebylex: removeRange('lex'),
  zpopmin: pop,
  zpopmax: pop,
  zmpop,
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
      const [from, to] = scoreSpan(ordered(setOf(reader, args[0])), min, max);
      return reply(to - from);
    },
  }),
  zlexcount: typed('zset', 4, {
    parse: (args) => {
      lexBound(args[1]);
      lexBound(args[2]);
    },
    check: (args, reader) => reply(lexCount(setOf(reader, args[0]), args[1], args[2])),
  }),
  zrange: rangeRule(true, {}),
  zrevrange: rangeRule(false, { rev: true }),
  zrangebyscore: rangeRule(false, { by: 'score' }),
  zrevrangebyscore: rangeRule(false, { by: 'score', rev: true }),
  zrangebylex: rangeRule(false, { by: 'lex' }),
  zrevrangebylex: rangeRule(false, { by: 'lex', rev: true }),
};
