/**
 * OBJECT ENCODING | REFCOUNT | IDLETIME | FREQ key, OBJECT HELP (https://redis.io/docs/latest/commands/object/).
 *
 * ioredis-mock answers IDLETIME 0 and REFCOUNT 1 always, refuses FREQ whatever the policy, and names encodings
 * Redis 7.0 does not use (`listpack` for every list and set, `embstr` for any text). Here OBJECT reads the keyspace
 * without counting as a use of the key (Redis's `LOOKUP_NOTOUCH`):
 * - ENCODING: the encoding Redis 7.0 picks with its default configuration, from the value as it is now: `int` for an
 *   integer text of at most 20 characters within 64 bits, `embstr` up to 44 bytes, else `raw`; lists `quicklist`;
 *   sets `intset` (all members integers, at most 512), else `hashtable`; hashes `listpack` (at most 512 fields,
 *   fields and values of at most 64 bytes), else `hashtable`; sorted sets `listpack` (at most 128 members of at most
 *   64 bytes), else `skiplist`; streams `stream`. Redis keeps an encoding it grew out of when a collection shrinks
 *   again: that history is not known here. A string's is, as long as its entry lasts: it keeps the encoding the
 *   command that stored it gives it (`raw` after APPEND, SETRANGE, SETBIT, …: see `KeyWriter.markEncoding`).
 * - REFCOUNT: 2147483647 for the integers 0 to 9999 Redis shares, else 1 (Redis does not share them when they are
 *   stored under a memory limit with an LRU or LFU policy).
 * - IDLETIME: seconds since the key's last use (an LFU policy keeps no such time: Redis's error);
 * - FREQ: the key's LFU counter (only under an LFU policy, else Redis's error). Keys used before the policy became
 *   LFU, and shared integers, whose counter Redis does not keep per key, answer otherwise than Redis.
 */
import { keyByteLength } from '../format/key-bytes';
import { isLfu, type Keyspace, lfuCounter } from '../keyspace/keyspace';
import { bytesOf, type CommandRule, holds, keyName, reply } from './command-rule';
import { fieldCount } from './hash-fields';
import { kindOf } from './mock-values';
import { type Arg, argText, parseInteger, replyError, wrongArity } from './redis-replies';

const HELP = [
  'OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
  'ENCODING <key>',
  '    Return the kind of internal representation used in order to store the value',
  '    associated with a <key>.',
  'FREQ <key>',
  '    Return the access frequency index of the <key>. The returned integer is',
  '    proportional to the logarithm of the recent access frequency of the key.',
  'IDLETIME <key>',
  '    Return the idle time of the <key>, that is the approximated number of',
  '    seconds elapsed since the last access to the key.',
  'REFCOUNT <key>',
  '    Return the number of references of the value associated with the specified',
  '    <key>.',
  'HELP',
  '    Prints this help.',
];

const SWITCHING =
  'Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.';
const NO_IDLE_TIME = `ERR An LFU maxmemory policy is selected, idle time not tracked. ${SWITCHING}`;
const NO_FREQUENCY = `ERR An LFU maxmemory policy is not selected, access frequency not tracked. ${SWITCHING}`;

/**
 * Redis 7.0's built-in limits of the small encodings (`hash-max-listpack-entries` 512, `zset-max-listpack-entries`
 * 128, `*-max-listpack-value`, `set-max-intset-entries`).
 */
const HASH_LISTPACK_ENTRIES = 512;
const ZSET_LISTPACK_ENTRIES = 128;
const LISTPACK_VALUE = 64;
const INTSET_ENTRIES = 512;
/** The longest string Redis keeps in one allocation with its object (`embstr`), bytes. */
export const EMBSTR_SIZE = 44;
const SHARED_INTEGERS = 10000;
const SHARED_REFCOUNT = 2147483647;

/** The integer a string value is stored as by Redis (`int` encoding), if it is one. */
function storedInteger(value: string | Buffer): bigint | undefined {
  const bytes = bytesOf(value);
  return bytes.length <= 20 ? parseInteger(bytes.toString('latin1')) : undefined;
}

/**
 * `members` in the order Redis answers a set it holds as an intset (at most 512 members, each an integer): by value.
 * Anything else comes back as it is: Redis answers a hash table's members in an order of its own, and other replies
 * (nil, a count) are not sets. SMEMBERS, SUNION, SDIFF, SINTER, SPOP and SRANDMEMBER of the whole set answer so.
 */
export function inIntsetOrder(members: unknown): unknown {
  if (!Array.isArray(members) || members.length < 2 || members.length > INTSET_ENTRIES)
    return members;
  const values = new Array<bigint>(members.length);
  for (let i = 0; i < members.length; i++) {
    const member: unknown = members[i];
    const n =
      typeof member === 'string' || Buffer.isBuffer(member) ? storedInteger(member) : undefined;
    if (n === undefined) return members;
    values[i] = n;
  }
  const order = values.map((_, i) => i).sort((a, b) => (values[a] < values[b] ? -1 : 1));
  return order.map((i): unknown => members[i]);
}

const small = (item: string | Buffer): boolean => bytesOf(item).length <= LISTPACK_VALUE;

/** The encoding Redis 7.0 gives `value` (OBJECT ENCODING's answer; HSCAN, SSCAN and ZSCAN page only a large one). */
export function encodingOf(key: string, value: unknown): string {
  if (holds(value, 'string')) {
    const text = value as string | Buffer;
    if (storedInteger(text) !== undefined) return 'int';
    return bytesOf(text).length <= EMBSTR_SIZE ? 'embstr' : 'raw';
  }
  // A collection past the small encoding's count is answered by its size alone: its members are not looked at.
  if (value instanceof Set) {
    if (value.size > INTSET_ENTRIES) return 'hashtable';
    const members = [...(value as Set<string | Buffer>)];
    return members.every((m) => storedInteger(m) !== undefined) ? 'intset' : 'hashtable';
  }
  if (value instanceof Map) {
    if (value.size > ZSET_LISTPACK_ENTRIES) return 'skiplist';
    const members = [...(value as Map<string | Buffer, unknown>).keys()];
    return members.every(small) ? 'listpack' : 'skiplist';
  }
  const kind = kindOf(key, value);
  if (kind === 'list') return 'quicklist';
  if (kind === 'stream') return 'stream';
  if (fieldCount(value as Record<string, unknown>) > HASH_LISTPACK_ENTRIES) return 'hashtable';
  const fields = Object.entries(value as Record<string, string | Buffer>);
  // A field name counts its own bytes (see `key-bytes.ts`), not the UTF-8 of its escapes.
  return fields.length <= HASH_LISTPACK_ENTRIES &&
    fields.every(([f, v]) => keyByteLength(f) <= LISTPACK_VALUE && small(v))
    ? 'listpack'
    : 'hashtable';
}

function refcount(value: unknown): number {
  if (!holds(value, 'string')) return 1;
  const n = storedInteger(value as string | Buffer);
  return n !== undefined && n >= 0n && n < BigInt(SHARED_INTEGERS) ? SHARED_REFCOUNT : 1;
}

function object(keyspace: Keyspace, args: readonly Arg[]): unknown {
  const sub = argText(args[0]).toLowerCase();
  const known = ['encoding', 'refcount', 'idletime', 'freq', 'help'].includes(sub);
  if (!known) {
    throw replyError(`ERR unknown subcommand '${argText(args[0])}'. Try OBJECT HELP.`);
  }
  if (sub === 'help' ? args.length !== 1 : args.length !== 2) {
    throw replyError(wrongArity(`object|${sub}`));
  }
  if (sub === 'help') return HELP;
  const key = keyName(args[1]);
  const found = keyspace.inspect(key);
  if (found === undefined) return null;
  const lfu = isLfu(keyspace.memory.policy);
  switch (sub) {
    case 'encoding':
      // A string keeps the encoding the command that stored it gave it (`raw` after APPEND, …).
      return (
        (holds(found.value, 'string') ? keyspace.reader.writer?.markedEncoding(key) : undefined) ??
        encodingOf(key, found.value)
      );
    case 'refcount':
      return refcount(found.value);
    case 'idletime':
      if (lfu) throw replyError(NO_IDLE_TIME);
      return Math.max(0, Math.floor((Date.now() - found.use) / 1000));
    default:
      if (!lfu) throw replyError(NO_FREQUENCY);
      return lfuCounter(found.use, Date.now());
  }
}

/** The rule of OBJECT, over `keyspace`. */
export function objectRule(keyspace: Keyspace): CommandRule {
  return { arity: -2, check: (args) => reply(object(keyspace, args)) };
}
