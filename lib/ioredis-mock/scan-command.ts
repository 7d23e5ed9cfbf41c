/**
 * SCAN cursor [MATCH pattern] [COUNT count] [TYPE type], answered from the keyspace (see `Entries.scan`), and
 * HSCAN, SSCAN and ZSCAN key cursor [MATCH pattern] [COUNT count], answered from the stored collection.
 *
 * ioredis-mock's SCAN lists every key on each call (0.4 s a call at a million restored keys, so a walk over them
 * costs quadratic time), and its cursor is a position in that list: deleting keys during the walk, Redis's usual
 * SCAN-and-DEL loop, shifts the rest and skips keys. Here a call costs about COUNT keys, and a key present for
 * the whole walk is returned, as Redis guarantees. Its HSCAN, SSCAN and ZSCAN have the same cursor, page even a
 * small collection (Redis answers a listpack or intset whole, cursor 0), write infinite scores as `Infinity`, and
 * answer their own error texts; here they answer as Redis does, a large collection in parts by bits of each
 * element's hash (a few dozen calls at most, each a walk over the collection), so an element present for the
 * whole walk is returned however many others are removed meanwhile.
 */
import type { Keyspace } from '../keyspace/keyspace';
import { keyToBytes } from '../format/key-bytes';
import { GlobPattern } from '../util/glob';
import { type CommandRule, copyOut, keyName, reply, typed } from './command-rule';
import { fieldCount } from './hash-fields';
import { encodingOf, inIntsetOrder } from './object-command';
import { typeName } from './rules/keys';
import { ordered, type Scored, type SortedSet } from './rules/sorted-sets';
import {
  type Arg,
  argText,
  integerArg,
  optionName,
  replyError,
  scoreText,
  SYNTAX_ERROR,
} from './redis-replies';

/** What Redis's `parseScanCursorOrReply` takes (`strtoul`): decimal digits, with a sign, within 64 bits. */
const CURSOR = /^[+-]?[0-9]*$/;
const CURSOR_MAX = 2n ** 64n - 1n;
/** Redis's SCAN without COUNT. */
const DEFAULT_COUNT = 10;

function scanCursor(arg: Arg): number {
  const text = argText(arg);
  if (!CURSOR.test(text)) throw replyError('ERR invalid cursor');
  const digits = text.replace(/^[+-]/, '');
  const value = digits === '' ? 0n : BigInt(digits);
  if (value > CURSOR_MAX) throw replyError('ERR invalid cursor');
  // A negative cursor wraps around as `strtoul`'s does: past every key, so the walk is over.
  return text.startsWith('-') && value !== 0n ? Number.MAX_SAFE_INTEGER : Number(value);
}

/** Whether `pattern` matches a key, field or member by its bytes (a name's own bytes, see `key-bytes.ts`). */
function matchesName(pattern: GlobPattern, name: string | Buffer): boolean {
  return pattern.matches(typeof name === 'string' ? keyToBytes(name) : name);
}

interface ScanOptions {
  count: number;
  pattern: GlobPattern | undefined;
  type: string | undefined;
}

/** The options after the cursor, from `args[from]`, as Redis's `scanGenericCommand` reads them; TYPE for SCAN only. */
function scanOptions(args: readonly Arg[], from: number, typeAllowed: boolean): ScanOptions {
  const options: ScanOptions = { count: DEFAULT_COUNT, pattern: undefined, type: undefined };
  for (let i = from; i < args.length; i += 2) {
    const option = optionName(args[i]);
    if (i + 1 >= args.length) throw replyError(SYNTAX_ERROR);
    const value = args[i + 1];
    if (option === 'COUNT') {
      const n = integerArg(value);
      if (n < 1n) throw replyError(SYNTAX_ERROR);
      options.count = Number(n);
    } else if (option === 'MATCH') options.pattern = new GlobPattern(value);
    else if (option === 'TYPE' && typeAllowed) options.type = keyName(value).toLowerCase();
    else throw replyError(SYNTAX_ERROR);
  }
  return options;
}

/**
 * The rule of KEYS over `keyspace`: the live keys `pattern` matches, `*` alone every one, the empty key too (Redis's
 * `keysCommand` tests no pattern then; ioredis-mock's glob match leaves the empty key out).
 */
export function keysRule(keyspace: Keyspace): CommandRule {
  return {
    arity: 2,
    check: (args) => {
      const pattern = new GlobPattern(args[0]);
      return reply(keyspace.liveKeys().filter((key) => matchesName(pattern, key)));
    },
  };
}

/** The rule of SCAN over `keyspace`. */
export function scanRule(keyspace: Keyspace): CommandRule {
  return {
    arity: -2,
    check: (args, reader) => {
      const cursor = scanCursor(args[0]);
      const { count, pattern, type } = scanOptions(args, 1, true);
      // The page's keys whose time has passed and that MATCH takes are deleted, as Redis's lookup deletes them.
      const page = keyspace.scan(cursor, count, pattern && ((key) => matchesName(pattern, key)));
      let keys = page.keys;
      if (pattern !== undefined) keys = keys.filter((key) => matchesName(pattern, key));
      // As Redis does, the filters apply to the page: a page may come back emptier than COUNT, or empty.
      if (type !== undefined) keys = keys.filter((key) => typeName(reader, key) === type);
      return reply([String(page.cursor), keys]);
    },
  };
}

/** An element of a collection: what MATCH tests and its hash reads, and what the reply holds of it. */
type Element = readonly [name: string | Buffer, reply: readonly unknown[]];

function* elementsOf(value: unknown): Generator<Element> {
  if (value instanceof Set) {
    for (const member of value as Set<string | Buffer>) yield [member, [copyOut(member)]];
  } else if (value instanceof Map) {
    for (const { score, value: member } of (value as Map<string, Scored>).values()) {
      yield [member, [copyOut(member), scoreText(score)]];
    }
  } else {
    const hash = value as Record<string, unknown>;
    for (const field of Object.keys(hash)) yield [field, [field, copyOut(hash[field])]];
  }
}

/**
 * The elements of a collection Redis holds compactly, in the order it holds them: a sorted set's listpack by score
 * (then member), an intset by value; a hash's listpack in insertion order, as stored here.
 */
function compactOrder(value: unknown, encoding: 'listpack' | 'intset'): Iterable<Element> {
  if (value instanceof Map) {
    return ordered(value as SortedSet).map(({ score, value: member }): Element => [
      member,
      [copyOut(member), scoreText(score)],
    ]);
  }
  if (encoding === 'intset') {
    const members = inIntsetOrder([...(value as Set<string | Buffer>)]) as (string | Buffer)[];
    return members.map((member): Element => [member, [copyOut(member)]]);
  }
  return elementsOf(value);
}

function sizeOf(value: unknown): number {
  return value instanceof Set || value instanceof Map
    ? value.size
    : fieldCount(value as Record<string, unknown>);
}

/** Parts a large collection is walked in: at most 2^this, so that a walk takes a few dozen calls at most. */
const MAX_COLLECTION_PART_BITS = 6;
/** Bits of a collection cursor (1 + part × 2^this + bits) that hold `bits`. */
const COLLECTION_BITS_BITS = 5;

/** An element's 32-bit hash (FNV-1a over its characters or bytes, mixed): which part of a walk it falls in. */
function elementHash(name: string | Buffer): number {
  let hash = 0x811c9dc5;
  if (typeof name === 'string') {
    for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name.charCodeAt(i), 0x01000193);
  } else {
    for (let i = 0; i < name.length; i++) hash = Math.imul(hash ^ name[i], 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x45d9f3b);
  return (hash ^ (hash >>> 16)) >>> 0;
}

/**
 * One call of HSCAN, SSCAN or ZSCAN over a stored collection `value` of `key`. A collection Redis holds as a
 * listpack or an intset is answered whole, cursor 0, whatever the cursor and COUNT (as Redis does). A larger one is
 * walked in parts of about COUNT elements (at most 2^6 parts) by bits of each element's hash, the number of parts
 * chosen at cursor 0 and carried in the cursor.
 */
function scanCollection(
  key: string,
  value: unknown,
  cursor: number,
  options: ScanOptions,
): unknown {
  const { count, pattern } = options;
  const out: unknown[] = [];
  const keep = ([name, items]: Element): void => {
    if (pattern === undefined || matchesName(pattern, name)) out.push(...items);
  };
  const encoding = encodingOf(key, value);
  if (encoding === 'listpack' || encoding === 'intset') {
    for (const element of compactOrder(value, encoding)) keep(element);
    return ['0', out];
  }
  let part = 0;
  let bits = 0;
  if (cursor === 0) {
    const size = sizeOf(value);
    while (bits < MAX_COLLECTION_PART_BITS && size / 2 ** bits > count) bits++;
  } else {
    const position = cursor - 1;
    bits = position % 2 ** COLLECTION_BITS_BITS;
    part = Math.floor(position / 2 ** COLLECTION_BITS_BITS);
    if (bits > MAX_COLLECTION_PART_BITS || part >= 2 ** bits) return ['0', []];
  }
  const mask = 2 ** bits - 1;
  const parts = partsOf(value, bits, cursor === 0);
  let seen = 0;
  while (part <= mask && seen < count) {
    for (const handle of parts[part]) {
      const element = elementAt(value, handle);
      if (element === undefined) continue; // gone since the walk began
      seen++;
      keep(element);
    }
    part++;
  }
  if (part > mask) walks.get(value as object)?.delete(bits);
  return [String(part > mask ? 0 : 1 + part * 2 ** COLLECTION_BITS_BITS + bits), out];
}

/**
 * The parts of the walks under way over each large collection, for each number of parts (`bits`): the elements'
 * names (a set's members, a sorted set's Map keys, a hash's fields) by part. A walk's first call (cursor 0) makes
 * them and its later calls read its part there (a call walked the whole collection to pick the part's elements out:
 * 10–40 ms at 20k members), dropped once a walk reaches its end. Made at or after the beginning of every walk that
 * reads them, they hold every element present for a whole walk, which is all SCAN promises; an element gone since
 * is left out.
 */
const walks = new WeakMap<object, Map<number, unknown[][]>>();

function partsOf(value: unknown, bits: number, fresh: boolean): unknown[][] {
  const collection = value as object;
  let byBits = walks.get(collection);
  const kept = fresh ? undefined : byBits?.get(bits);
  if (kept !== undefined) return kept;
  const mask = 2 ** bits - 1;
  const parts = Array.from({ length: mask + 1 }, (): unknown[] => []);
  const add = (name: string | Buffer, handle: unknown): void => {
    parts[bits === 0 ? 0 : elementHash(name) & mask].push(handle);
  };
  if (value instanceof Set) for (const member of value as Set<string | Buffer>) add(member, member);
  else if (value instanceof Map) {
    for (const [handle, { value: member }] of value as Map<string, Scored>) add(member, handle);
  } else for (const field of Object.keys(collection)) add(field, field);
  if (byBits === undefined) {
    byBits = new Map();
    walks.set(collection, byBits);
  }
  byBits.set(bits, parts);
  return parts;
}

/** The element `handle` names in `value` now (see {@link partsOf}), `undefined` when it is gone. */
function elementAt(value: unknown, handle: unknown): Element | undefined {
  if (value instanceof Set) {
    const member = handle as string | Buffer;
    return value.has(member) ? [member, [copyOut(member)]] : undefined;
  }
  if (value instanceof Map) {
    const scored = (value as Map<string, Scored>).get(handle as string);
    return scored === undefined
      ? undefined
      : [scored.value, [copyOut(scored.value), scoreText(scored.score)]];
  }
  const hash = value as Record<string, unknown>;
  const field = handle as string;
  return Object.hasOwn(hash, field) ? [field, [field, copyOut(hash[field])]] : undefined;
}

/** HSCAN, SSCAN or ZSCAN key cursor [MATCH pattern] [COUNT count], on a key of `type`. */
function collectionScan(type: 'hash' | 'set' | 'zset'): CommandRule {
  return typed(type, -3, {
    // Redis reads the cursor before it looks the key up, and the options only for a key that exists.
    parse: (args) => {
      scanCursor(args[1]);
    },
    check: (args, reader) => {
      const key = keyName(args[0]);
      const value = reader.valueOf(key);
      if (value === undefined) return reply(['0', []]);
      const options = scanOptions(args, 2, false);
      return reply(scanCollection(key, value, scanCursor(args[1]), options));
    },
  });
}

/** HSCAN, SSCAN and ZSCAN. */
export const collectionScanRules: Readonly<Record<string, CommandRule>> = {
  hscan: collectionScan('hash'),
  sscan: collectionScan('set'),
  zscan: collectionScan('zset'),
};
