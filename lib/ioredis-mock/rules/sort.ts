/**
 * SORT and SORT_RO (https://redis.io/docs/latest/commands/sort/), which ioredis-mock 8.13.1 lacks (it answers
 * `Unsupported command`): computed as Redis 7.0's `sortCommandGeneric` computes them.
 *
 * - Options in any order, each word compared without case: `ASC`, `DESC`, `ALPHA`, `LIMIT offset count`, `BY pattern`,
 *   `GET pattern` (repeatable), and `STORE destination` for SORT only. A word that is none of them, or an option
 *   without its arguments, is `ERR syntax error`; the options are read before the key's type is checked.
 * - The elements of a list, a set or a sorted set; a missing key sorts as an empty list.
 * - By default each element is read as a double, as C's `strtod` reads it (leading spaces, hexadecimal, `inf`;
 *   nothing may follow the number; NaN, overflow and results below the smallest normal double are refused with
 *   `ERR One or more scores can't be converted into double`; an empty string is 0); equal scores are ordered by the
 *   elements' bytes. `ALPHA` compares the elements' bytes instead (Redis uses `strcoll`; this is its order in the C
 *   locale, stopping at a zero byte as C strings do; with STORE, Redis compares all the bytes, and so does this).
 * - `BY pattern`: the first `*` of the pattern is replaced with the element to name a key; `key->field` reads a hash
 *   field. A key (or field) that is missing, or of another type, counts as 0 (an `ALPHA` one sorts first). A pattern
 *   without `*` does not sort at all: the elements keep their order (a list's, from the end with `DESC`; a sorted
 *   set's by score), and `LIMIT` takes a range of it.
 * - `GET pattern`: for each element, the value its pattern names (`#` is the element itself), `null` when missing
 *   (an empty string when stored).
 * - `STORE`: the result replaces `destination` as a list, without a TTL; an empty result deletes it. The reply is the
 *   number of elements stored.
 *
 * SORT is refused like any write when memory is over the limit (Redis flags it `denyoom`); SORT_RO never is.
 */
import { type CommandRule, bytesOf, holds, keyName, reply, run, write } from '../command-rule';
import type { ListLike } from '../../format/list-deque';
import {
  type Arg,
  integerArg,
  optionName,
  replyError,
  SYNTAX_ERROR,
  WRONGTYPE,
} from '../redis-replies';
import { inIntsetOrder } from '../object-command';
import type { Lookup } from './sorted-set-stores';
import { ordered, type SortedSet } from './sorted-sets';

const NOT_A_DOUBLE = "ERR One or more scores can't be converted into double";

/** What SORT was asked to do (see the top of this file). */
export interface SortQuery {
  readonly key: Arg;
  readonly by: Buffer | undefined;
  /** `BY` with a pattern that has no `*`: the elements keep their order. */
  readonly dontSort: boolean;
  readonly offset: bigint;
  readonly count: bigint;
  readonly gets: readonly Buffer[];
  readonly desc: boolean;
  readonly alpha: boolean;
  readonly store: Arg | undefined;
}

/** Bytes of `text` up to its first zero byte: what C's string functions see of it. */
function cString(bytes: Buffer): Buffer {
  const end = bytes.indexOf(0);
  return end < 0 ? bytes : bytes.subarray(0, end);
}

/** Whether a pattern names keys (`strchr(pattern, '*')`), where C sees it. */
function hasStar(pattern: Buffer): boolean {
  return cString(pattern).includes(0x2a);
}

/** SORT's (or SORT_RO's, `readonly`) options, read as Redis reads them: errors before the key is looked at. */
export function sortQuery(args: readonly Arg[], readonly: boolean): SortQuery {
  let desc = false;
  let alpha = false;
  let offset = 0n;
  let count = -1n;
  let by: Buffer | undefined;
  let dontSort = false;
  let store: Arg | undefined;
  const gets: Buffer[] = [];
  for (let j = 1; j < args.length; j++) {
    const left = args.length - j - 1;
    const option = optionName(args[j]);
    if (option === 'ASC') desc = false;
    else if (option === 'DESC') desc = true;
    else if (option === 'ALPHA') alpha = true;
    else if (option === 'LIMIT' && left >= 2) {
      offset = integerArg(args[j + 1]);
      count = integerArg(args[j + 2]);
      j += 2;
    } else if (!readonly && option === 'STORE' && left >= 1) {
      store = args[++j];
    } else if (option === 'BY' && left >= 1) {
      by = bytesOf(args[++j]);
      dontSort = !hasStar(by);
    } else if (option === 'GET' && left >= 1) {
      gets.push(bytesOf(args[++j]));
    } else {
      throw replyError(SYNTAX_ERROR);
    }
  }
  return { key: args[0], by, dontSort, offset, count, gets, desc, alpha, store };
}

const ARROW = Buffer.from('->');

/**
 * The value `pattern` names for `element` (Redis's `lookupKeyByPattern`): `#` is the element itself; the first `*`
 * is replaced with it to name a key, whose string value it is, or with `->field` after the `*`, that hash field's.
 * `undefined` when the pattern has no `*`, or names nothing of that type.
 */
function lookupByPattern(
  lookup: Lookup,
  pattern: Buffer,
  element: string | Buffer,
): string | Buffer | undefined {
  const seen = cString(pattern);
  if (seen.length === 1 && seen[0] === 0x23) return element; // '#'
  const star = seen.indexOf(0x2a);
  if (star < 0) return undefined;
  const arrow = seen.indexOf(ARROW, star + 1);
  const hasField = arrow >= 0 && arrow + 2 < seen.length;
  const keyEnd = hasField ? arrow : pattern.length;
  const name = Buffer.concat([
    pattern.subarray(0, star),
    bytesOf(element),
    pattern.subarray(star + 1, keyEnd),
  ]);
  const value = lookup(keyName(name));
  if (value === undefined) return undefined;
  if (!hasField) return holds(value, 'string') ? (value as string | Buffer) : undefined;
  if (!holds(value, 'hash')) return undefined;
  const field = keyName(pattern.subarray(arrow + 2));
  const hash = value as Record<string, string | Buffer>;
  return Object.hasOwn(hash, field) ? hash[field] : undefined;
}

const SPACE = /^[ \t\n\v\f\r]*/;
const DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
const HEXADECIMAL =
  /^([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))(?:[pP]([+-]?[0-9]+))?$/;
const INFINITE = /^([+-]?)inf(?:inity)?$/i;
const SMALLEST_NORMAL = 2.2250738585072014e-308;

/**
 * A SORT score: `text` as C's `strtod` reads it when Redis sorts (`sortCommandGeneric`): the whole of it, up to a
 * zero byte, after leading spaces; `undefined` where Redis refuses it (nothing read, something left, NaN, or out of
 * range: beyond the largest double, or below the smallest normal one and not exact, as a decimal that is not zero
 * never is). An empty text is 0.
 */
export function sortScore(text: string): number | undefined {
  const end = text.indexOf('\0');
  const seen = end < 0 ? text : text.slice(0, end);
  if (seen === '') return 0;
  const number = seen.slice(SPACE.exec(seen)?.[0].length ?? 0);
  const infinite = INFINITE.exec(number);
  if (infinite !== null) return infinite[1] === '-' ? -Infinity : Infinity;
  const hex = HEXADECIMAL.exec(number);
  if (hex !== null) {
    const [, sign, whole = '', fraction = '', onlyFraction, exponent = '0'] = hex;
    const digits = onlyFraction ?? `${whole}${fraction}`;
    const power = Number(exponent) - 4 * (onlyFraction ?? fraction).length;
    const { value, exact } = binaryValue(BigInt(`0x${digits}`), power);
    if (value === Infinity || (value < SMALLEST_NORMAL && !exact)) return undefined;
    return sign === '-' ? -value : value;
  }
  if (!DECIMAL.test(number)) return undefined;
  const value = Number(number);
  const magnitude = Math.abs(value);
  if (magnitude === Infinity) return undefined;
  // Below the smallest normal double: inexact, an underflow (a zero result from digits that are not all zeros too).
  if (magnitude < SMALLEST_NORMAL && (magnitude !== 0 || /[1-9]/.test(number.split(/[eE]/)[0]))) {
    return undefined;
  }
  return value;
}

/**
 * `m × 2^power` rounded to the nearest double (ties to even), and whether that is exact: `Infinity` beyond the largest
 * double. Subnormal results keep the bits they have room for.
 */
export function binaryValue(m: bigint, power: number): { value: number; exact: boolean } {
  if (m === 0n) return { value: 0, exact: true };
  if (power > 2048) return { value: Infinity, exact: false };
  const bits = m.toString(2).length;
  const top = power + bits - 1;
  if (top > 1023) return { value: Infinity, exact: false };
  // Significant bits a double has at this magnitude: 53, fewer below the smallest normal.
  const room = top >= -1022 ? 53 : top + 1075;
  if (bits <= room) return { value: Number(m) * 2 ** power, exact: true };
  const shift = bits - Math.max(room, 0);
  let q = m >> BigInt(shift);
  const rest = m - (q << BigInt(shift));
  const half = 1n << BigInt(shift - 1);
  if (rest > half || (rest === half && (q & 1n) === 1n)) q++;
  return { value: Number(q) * 2 ** (power + shift), exact: rest === 0n };
}

/** One element being sorted, its bytes, and what it sorts by (a score, or bytes under ALPHA, its own or BY's). */
interface Item {
  readonly element: string | Buffer;
  readonly bytes: Buffer;
  readonly alpha: Buffer;
  score: number;
  by: Buffer | undefined;
}

/** The elements a sort starts from, in the stored value's own order (see {@link sortedElements}). */
function elementsOf(value: unknown): (string | Buffer)[] {
  if (value === undefined) return [];
  if (holds(value, 'list')) return (value as ListLike<string | Buffer>).slice();
  // A set as Redis iterates it: an intset by value (a hash table in an order of its own).
  if (holds(value, 'set'))
    return inIntsetOrder([...(value as Set<string | Buffer>)]) as (string | Buffer)[];
  return ordered(value as SortedSet).map(({ value: member }) => member);
}

/** A stored value SORT can read (a list, a set, a sorted set, or nothing), or WRONGTYPE. */
function sortable(stored: unknown): unknown {
  if (
    stored !== undefined &&
    !holds(stored, 'list') &&
    !holds(stored, 'set') &&
    !holds(stored, 'zset')
  ) {
    throw replyError(WRONGTYPE);
  }
  return stored;
}

/**
 * The elements SORT answers (or stores) for `query`, `null` for a GET that names nothing: as Redis's
 * `sortCommandGeneric` selects and orders them. Throws WRONGTYPE for a key that holds no list, set or sorted set,
 * and Redis's error when an element's score cannot be read (see {@link sortScore}).
 */
export function sortedElements(lookup: Lookup, query: SortQuery): (string | Buffer | null)[] {
  const stored = sortable(lookup(keyName(query.key)));
  let { dontSort, alpha } = query;
  let by = query.by;
  const isSet = stored !== undefined && holds(stored, 'set');
  // A set has no order of its own that replicas would agree on: stored, it is sorted by its bytes.
  if (dontSort && isSet && query.store !== undefined) {
    dontSort = false;
    alpha = true;
    by = undefined;
  }
  let elements = elementsOf(stored);
  // LIMIT as Redis bounds it: an offset past the end selects nothing, a negative count everything from the offset.
  const length = BigInt(elements.length);
  let start = query.offset < 0n ? 0n : query.offset;
  let end = query.count < 0n ? length - 1n : start + query.count - 1n;
  if (start >= length) {
    start = length - 1n;
    end = length - 2n;
  }
  if (end >= length) end = length - 1n;
  const [from, to] = [Number(start), Number(end) + 1];
  let selected: (string | Buffer)[];
  if (dontSort) {
    // A list or sorted set in its own order, from the end with DESC; a set as it iterates.
    if (query.desc && !isSet) elements = elements.reverse();
    selected = elements.slice(Math.max(from, 0), Math.max(to, 0));
  } else {
    const stores = query.store !== undefined;
    const items = elements.map((element): Item => {
      const bytes = bytesOf(element);
      const own = alpha ? alphaBytes(bytes, stores) : bytes;
      return { element, bytes, alpha: own, score: 0, by: undefined };
    });
    let unreadable = false;
    for (const item of items) {
      const value = by === undefined ? item.element : lookupByPattern(lookup, by, item.element);
      if (value === undefined) continue;
      if (alpha) {
        if (by !== undefined) item.by = alphaBytes(bytesOf(value), stores);
        continue;
      }
      const score = sortScore(typeof value === 'string' ? value : value.toString('latin1'));
      if (score === undefined) unreadable = true;
      else item.score = score;
    }
    if (unreadable) throw replyError(NOT_A_DOUBLE);
    const compare = alpha
      ? by !== undefined
        ? (a: Item, b: Item) => compareBy(a.by, b.by)
        : (a: Item, b: Item) => Buffer.compare(a.alpha, b.alpha)
      : (a: Item, b: Item) =>
          a.score > b.score ? 1 : a.score < b.score ? -1 : Buffer.compare(a.bytes, b.bytes);
    items.sort(query.desc ? (a, b) => -compare(a, b) : compare);
    selected = items.slice(Math.max(from, 0), Math.max(to, 0)).map((item) => item.element);
  }
  if (query.gets.length === 0) return selected;
  const out: (string | Buffer | null)[] = [];
  for (const element of selected) {
    for (const pattern of query.gets) out.push(lookupByPattern(lookup, pattern, element) ?? null);
  }
  return out;
}

/**
 * What ALPHA compares of a text: its bytes up to a zero byte (`strcoll` in the C locale), or all of them when the
 * result is stored (Redis compares those with `memcmp`).
 */
function alphaBytes(bytes: Buffer, stores: boolean): Buffer {
  return stores ? bytes : cString(bytes);
}

/** ALPHA BY's comparison: a missing value sorts first. */
function compareBy(a: Buffer | undefined, b: Buffer | undefined): number {
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? -1 : 1;
  return Buffer.compare(a, b);
}

/** SORT (`readonly`: SORT_RO) key [options]. */
function sortRule(readonly: boolean): CommandRule {
  return {
    arity: -2,
    parse: (args) => {
      sortQuery(args, readonly);
    },
    check: (args, reader) => {
      const query = sortQuery(args, readonly);
      // STORE runs as the command added to ioredis-mock (`added-commands.ts`), which sorts (once) and stores.
      if (query.store !== undefined) {
        sortable(reader.valueOf(keyName(query.key)));
        return run(args);
      }
      const elements = sortedElements((key) => reader.valueOf(key), query);
      // SORT is refused when memory is over the limit, as a write is (Redis flags it `denyoom`).
      return readonly ? reply(elements) : write(() => elements);
    },
  };
}

export const sortRules: Readonly<Record<string, CommandRule>> = {
  sort: sortRule(false),
  sort_ro: sortRule(true),
};
