/**
 * How many bytes of the host's memory a key holds: an estimate, as Redis's `used_memory` is Redis's own count of
 * what it allocated. The keyspace keeps the total up to date on every write (see `Entries`), so that a memory limit
 * can be checked before each command in O(1).
 *
 * The estimate models how V8 (64-bit, no pointer compression: Node's default) lays out what the keyspace keeps for
 * a key: its entry object, its slots in the keyspace's hash table and sampling arrays, the key's string, and the value
 * in ioredis-mock's representation. A collection is estimated from its length and a few of its elements (as Redis's
 * `MEMORY USAGE` samples 5), so a write costs the same whatever the collection's size. The constants were measured on
 * Node 20, writing through the embedded client (`test/fixtures/accounting-child.ts` measures each type, and
 * `npm run bench` prints the estimate against the measured heap and external memory for each dataset).
 */
import { heldBytes } from './growable-strings';

import { ListDeque, type ListLike } from '../format/list-deque';

/**
 * The entry object (64 bytes), its slot in the keyspace's map and in a sampling array (with their spare capacity:
 * measured 106 to 135 bytes in all as the map's capacity doubles), and its 8-byte cell in a sampling column (its use;
 * the column doubles as it grows).
 */
export const KEY_OVERHEAD = 136;
/**
 * A restored key's entry, once built, holds five more fields: where its value's bytes lie, its `use` (a boxed
 * number: a written key's is in a column instead) and its position among such entries with an expiry time.
 */
export const RESTORED_ENTRY_EXTRA = 56;
/**
 * A key with an expiry time: its second cell in the sampling column of the keys with one (a key is in one sampling
 * array, with or without an expiry time, and its entry holds the time unboxed: 12 bytes measured over those without).
 */
export const VOLATILE_OVERHEAD = 12;
/** A V8 sequential string's header (map, hash, length), before its characters. */
const STRING_HEADER = 16;
/** A Buffer: its Uint8Array object and ArrayBuffer (small ones share Node's 8 KB pool for their bytes). */
const BUFFER_OVERHEAD = 112;
/**
 * A hash (a plain object). Up to {@link SMALL_HASH_FIELDS} fields V8 keeps it with fast properties, whose field names
 * are shared by every object with the same fields (the usual hash of a cache: `name`, `email`, ...): each field costs
 * its slot and value. A larger one is a dictionary (with the spare capacity ioredis-mock's copies leave): each field
 * costs its entry, name and value.
 */
const SMALL_HASH_BASE = 64;
const SMALL_HASH_FIELD = 8;
const SMALL_HASH_FIELDS = 32;
const HASH_BASE = 170;
const HASH_FIELD = 100;
/** An array used as a list (a `slice()` copy: no spare capacity), and each element's slot. */
const LIST_BASE = 48;
const LIST_SLOT = 8;
/** A Set, and each member's slot in its hash table (20 to 40 bytes as the table's capacity doubles, and slack). */
const SET_BASE = 96;
const SET_SLOT = 32;
/** ioredis-mock's sorted set: a Map of member to `{ score, value }`; each member's slot and object. */
const ZSET_BASE = 120;
const ZSET_SLOT = 82;
/** A score that is not a small integer is a heap number. */
const SCORE_BYTES = 16;
/**
 * An array used as a stream, each entry's `[id, fields]` pair and slot, and a fields array. (ioredis-mock also writes
 * a key `stream:<key>:<id>` for each entry, counted as a key of its own.)
 */
const STREAM_BASE = 48;
const STREAM_ENTRY = 72;
const ARRAY_BASE = 48;
/** Elements of a collection looked at to estimate the size of the others. */
const SAMPLED_ELEMENTS = 5;
/** Characters of a string looked at to tell whether V8 stores it with one byte per character or two. */
const SAMPLED_CHARS = 32;

/**
 * A restored key kept as bytes: its record in the restored index (41 bytes of typed-array columns, 2 to 4 hash-table
 * slots of 4 bytes) and its framing in the snapshot's chunk.
 */
export const RECORD_OVERHEAD = 56;

/** V8 allocates in 8-byte words. */
function words(bytes: number): number {
  return (bytes + 7) & ~7;
}

/** Bytes of a string: one byte a character when the characters looked at all fit in Latin-1, else two. */
export function stringBytes(value: string): number {
  const length = value.length;
  let wide = false;
  for (let i = 0, n = Math.min(length, SAMPLED_CHARS); i < n; i++) {
    if (value.charCodeAt(i) > 0xff) {
      wide = true;
      break;
    }
  }
  return words(STRING_HEADER + (wide ? 2 * length : length));
}

/** Bytes of a string or Buffer element of a collection. */
export function elementBytes(element: unknown): number {
  if (typeof element === 'string') return stringBytes(element);
  if (Buffer.isBuffer(element)) return BUFFER_OVERHEAD + element.length;
  return 16; // a number
}

/** The mean size of the first {@link SAMPLED_ELEMENTS} elements `next` gives (0 when there are none). */
function meanOf(elements: Iterator<unknown>, size: (element: unknown) => number): number {
  let total = 0;
  let n = 0;
  for (
    let next = elements.next();
    n < SAMPLED_ELEMENTS && next.done !== true;
    next = elements.next()
  ) {
    total += size(next.value);
    n++;
  }
  return n === 0 ? 0 : total / n;
}

/**
 * Elements of a Set's or Map's iterator at evenly spread positions: its first ones alone could be the small ones of
 * a set whose later members are large (and the estimate then far below what the set holds). The walk costs the
 * collection's size, as the copy ioredis-mock makes of it at each write does.
 */
function* spreadIterator(elements: Iterator<unknown>, size: number): Generator<unknown> {
  const step = Math.max(1, Math.floor(size / SAMPLED_ELEMENTS));
  let i = 0;
  for (let next = elements.next(); next.done !== true; next = elements.next(), i++) {
    if (i % step === 0) yield next.value;
  }
}

/** Elements of an array at evenly spread positions. */
function* spread(array: ListLike<unknown>): Generator<unknown> {
  const step = Math.max(1, Math.floor(array.length / SAMPLED_ELEMENTS));
  for (let i = 0; i < array.length; i += step) yield array.at(i);
}

/** The estimated bytes of one stream entry (`[id, fields]`), as a stream's estimate counts each. */
export function streamEntryBytes(entry: unknown): number {
  const [id, fields] = entry as [string, unknown[]];
  const n = fields.length;
  return (
    STREAM_ENTRY + stringBytes(id) + ARRAY_BASE + n * (8 + meanOf(spread(fields), elementBytes))
  );
}

function scoreBytes(member: unknown): number {
  const score = (member as { score?: unknown }).score;
  return typeof score === 'number' && Number.isInteger(score) && Math.abs(score) < 2 ** 31
    ? 0
    : SCORE_BYTES;
}

/** Bytes of a value in ioredis-mock's representation (see `ioredis-mock/mock-values.ts`). */
export function valueBytes(value: unknown): number {
  if (typeof value === 'string') return stringBytes(value);
  // A growable string's spare capacity is memory it holds too (see `growable-strings.ts`).
  if (Buffer.isBuffer(value)) return BUFFER_OVERHEAD + heldBytes(value);
  if (value instanceof Map) {
    const n = value.size;
    return (
      ZSET_BASE +
      Math.round(
        n *
          (ZSET_SLOT +
            meanOf(spreadIterator(value.keys(), n), elementBytes) +
            meanOf(spreadIterator(value.values(), n), scoreBytes)),
      )
    );
  }
  if (value instanceof Set) {
    const n = value.size;
    return (
      SET_BASE +
      Math.round(n * (SET_SLOT + meanOf(spreadIterator(value.values(), n), elementBytes)))
    );
  }
  if (Array.isArray(value)) {
    const n = value.length;
    if (n > 0 && Array.isArray(value[0])) {
      return STREAM_BASE + Math.round(n * meanOf(spread(value), streamEntryBytes));
    }
    return LIST_BASE + Math.round(n * (LIST_SLOT + meanOf(spread(value), elementBytes)));
  }
  if (value instanceof ListDeque) {
    const n = value.length;
    return LIST_BASE + Math.round(n * (LIST_SLOT + meanOf(spread(value), elementBytes)));
  }
  if (typeof value === 'object' && value !== null) {
    const hash = value as Record<string, unknown>;
    const fields = Object.keys(hash);
    const n = fields.length;
    if (n <= SMALL_HASH_FIELDS) {
      return (
        SMALL_HASH_BASE +
        Math.round(
          n * (SMALL_HASH_FIELD + meanOf(spread(fields), (f) => elementBytes(hash[f as string]))),
        )
      );
    }
    const pair = (f: unknown): number => stringBytes(f as string) + elementBytes(hash[f as string]);
    return HASH_BASE + Math.round(n * (HASH_FIELD + meanOf(spread(fields), pair)));
  }
  return 16;
}

/**
 * What one field of a large hash (a dictionary) costs, as {@link valueBytes} counts it: a change made in place adds or
 * takes this instead of sizing the whole hash again.
 */
export function hashFieldBytes(field: string, value: unknown): number {
  return HASH_FIELD + stringBytes(field) + elementBytes(value);
}

/** What one member of a sorted set (`{ score, value }`) costs, as {@link valueBytes} counts it. */
export function zsetMemberBytes(member: {
  readonly score: number;
  readonly value: unknown;
}): number {
  return ZSET_SLOT + elementBytes(member.value) + scoreBytes(member);
}

/** What one element of a list costs, as {@link valueBytes} counts it (see {@link hashFieldBytes}). */
export function listElementBytes(element: unknown): number {
  return LIST_SLOT + elementBytes(element);
}

/** What one member of a set costs, as {@link valueBytes} counts it (see {@link hashFieldBytes}). */
export function setMemberBytes(member: unknown): number {
  return SET_SLOT + elementBytes(member);
}

/**
 * Estimated bytes above which a rule changes a stored hash, set, sorted set or list in place rather than writing a copy of it: well
 * above the size where V8 keeps a hash as a dictionary (its fast properties gone either way), and where a copy would
 * cost more than the write.
 */
export const IN_PLACE_FROM_BYTES = 16 * 1024;

/** Bytes a key holding `value` costs, everything counted. */
export function keyBytes(key: string, value: unknown, volatile: boolean): number {
  return KEY_OVERHEAD + (volatile ? VOLATILE_OVERHEAD : 0) + stringBytes(key) + valueBytes(value);
}

/** Bytes a restored key kept as its encoded bytes costs: its record and the bytes it keeps alive. */
export function recordBytes(keyLength: number, valueLength: number): number {
  return RECORD_OVERHEAD + keyLength + valueLength;
}
