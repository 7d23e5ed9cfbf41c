/**
 * Hashes (https://redis.io/docs/latest/commands/?group=hash).
 *
 * ioredis-mock keeps a hash as a plain object and looks fields up with `obj[field]`, so `HGET h constructor` answers
 * a function and `HMGET` misses fields that are there; here single-field reads are answered from the stored object's
 * own properties. Its HINCRBY/HINCRBYFLOAT store `NaN` for a value that is not a number, its HSTRLEN counts UTF-16
 * code units, and its writes accept any key (HSET on a list writes array indexes). Every hash command refuses a key
 * of another type with WRONGTYPE; HRANDFIELD with a count answers an empty array for a missing key.
 */
import {
  allText,
  byteLength,
  type CommandRule,
  copyOut,
  firstKey,
  keyName,
  type KeyReader,
  type Outcome,
  reply,
  typed,
  write,
} from '../command-rule';
import {
  type Arg,
  checkDrawn,
  checkRandomCount,
  checkSum,
  HASH_VALUE_NOT_AN_INTEGER,
  integerArg,
  ioredisInteger,
  storedInteger,
} from '../redis-replies';
import { finiteIncrement, floatSum } from '../long-double';
import type { KeyWriter } from '../../keyspace/keyspace';
import { hashFieldBytes, IN_PLACE_FROM_BYTES } from '../../keyspace/memory';
import { drawFields, fieldCount, fieldCounts, fieldList, fieldLists } from '../hash-fields';

const HASH_VALUE_NOT_A_FLOAT = 'ERR hash value is not a float';

/** Where field names are (see {@link CommandRule.fields}): HGET's one, HSET's before each value, HDEL's all. */
const ONE_FIELD = { from: 1, step: 1, count: 1 } as const;
const PAIRED_FIELDS = { from: 1, step: 2 } as const;
const ALL_FIELDS = { from: 1, step: 1 } as const;

type Hash = Record<string, unknown>;

/** The value of `field` in the hash under `key` (type-checked by the rule), `undefined` when it has none. */
function fieldOf(reader: KeyReader, key: Arg, field: Arg): unknown {
  const hash = reader.valueOf(keyName(key)) as Hash | undefined;
  const name = keyName(field);
  return hash !== undefined && Object.hasOwn(hash, name) ? hash[name] : undefined;
}

const hincrby = typed('hash', 4, {
  fields: ONE_FIELD,
  parse: (args) => {
    integerArg(args[2]);
  },
  check: (args, reader) => {
    const current = fieldOf(reader, args[0], args[1]);
    const before = storedInteger(current, HASH_VALUE_NOT_AN_INTEGER);
    const increment = integerArg(args[2]);
    const sum = checkSum(before, increment);
    const answer = ioredisInteger(sum);
    // ioredis-mock adds in doubles and reads a Buffer as NaN: the exact sum is stored as HSET stores it.
    return storeField(reader, args[0], args[1], sum.toString(), answer);
  },
});

/** A hash as HGETALL answers it: a new object, Buffers copied; a field named `__proto__` as a field, as ioredis does. */
function copyOfHash(hash: Hash | undefined): Hash {
  const out: Hash = {};
  if (hash === undefined) return out;
  for (const field of Object.keys(hash))
    setField(out, field, copyOut(hash[field]) as string | Buffer);
  return out;
}

/** Sets `field` of `hash`; a field named `__proto__` as a field (an assignment would set the object's prototype). */
function setField(hash: Hash, field: string, value: string | Buffer): void {
  if (field === '__proto__') {
    Object.defineProperty(hash, field, {
      value,
      configurable: true,
      enumerable: true,
      writable: true,
    });
  } else hash[field] = value;
}

/**
 * HSET and HMSET key field value […] with text fields and values: the new hash is built and stored here, once. A
 * large hash is changed in place instead, its size changed by the fields' sizes: a copy of a 100k-field hash took
 * 0.25 s a write.
 */
/** The arguments with each Buffer copied: ioredis-mock stores a hash value as it is given, the caller's own Buffer. */
function ownBuffers(args: readonly Arg[]): Outcome | undefined {
  if (allText(args)) return undefined;
  return { args: args.map((arg) => (Buffer.isBuffer(arg) ? Buffer.from(arg) : arg)) };
}

/**
 * Stores `value` in `field` of the hash under `key` as HSET does, in place in a large hash, and answers `answer`:
 * ioredis-mock's HINCRBY, HINCRBYFLOAT and HSETNX copy the hash out and back in (0.4 ms a write at 1,000 fields).
 */
function storeField(reader: KeyReader, key: Arg, field: Arg, value: Arg, answer: unknown): Outcome {
  const args = [key, field, value];
  const outcome = setFields(() => answer)(args, reader, 'hset');
  if (outcome !== undefined && 'write' in outcome) return outcome;
  // Without a writer, or with Buffers: ioredis-mock's HSET stores it (the Buffers copied).
  const stored = outcome !== undefined && 'args' in outcome ? outcome.args : args;
  return { args: stored, command: 'hset', answer: () => answer };
}

function setFields(answer: (added: number) => unknown): NonNullable<CommandRule['check']> {
  return (args, reader) => {
    const writer = reader.writer;
    if (writer === undefined || !allText(args)) return ownBuffers(args);
    const key = args[0];
    if (writer.bytesOf(key) >= IN_PLACE_FROM_BYTES) {
      return write(() => {
        const hash = writer.inPlace(key) as Hash | undefined;
        if (hash === undefined) return answer(setInCopy(writer, key, undefined, args));
        let bytes = 0;
        let added = 0;
        const list = fieldLists.get(hash);
        for (let i = 1; i < args.length; i += 2) {
          const field = args[i];
          if (Object.hasOwn(hash, field)) bytes -= hashFieldBytes(field, hash[field]);
          else {
            added++;
            list?.push(field);
          }
          setField(hash, field, args[i + 1]);
          bytes += hashFieldBytes(field, args[i + 1]);
        }
        const count = fieldCounts.get(hash);
        if (count !== undefined) fieldCounts.set(hash, count + added);
        writer.changedInPlace(key, bytes);
        return answer(added);
      });
    }
    const stored = reader.valueOf(key) as Hash | undefined;
    return write(() => answer(setInCopy(writer, key, stored, args)));
  };
}

/** HSET's fields and values set on a copy of `stored` (or a new hash), stored under `key`; returns the fields added. */
function setInCopy(
  writer: KeyWriter,
  key: string,
  stored: Hash | undefined,
  args: readonly string[],
): number {
  const hash: Hash = stored === undefined ? {} : { ...stored };
  let added = 0;
  for (let i = 1; i < args.length; i += 2) {
    if (!Object.hasOwn(hash, args[i])) added++;
    setField(hash, args[i], args[i + 1]);
  }
  // New fields may have turned the object into a slow dictionary: a copy of it is a compact object again, one whose
  // layout hashes with the same fields share.
  writer.store(key, added > 0 ? { ...hash } : hash);
  return added;
}

/**
 * HDEL key field […] on a large hash: the fields are deleted in place (ioredis-mock copies the hash out and back in,
 * 0.25 s at 100k fields); a smaller hash goes to ioredis-mock.
 */
const deleteFields: CommandRule['check'] = (args, reader) => {
  const writer = reader.writer;
  const key = keyName(args[0]);
  if (writer === undefined || writer.bytesOf(key) < IN_PLACE_FROM_BYTES) return undefined;
  const fields = [...new Set(args.slice(1).map(keyName))];
  return write(() => {
    const hash = writer.inPlace(key) as Hash | undefined;
    if (hash === undefined) return 0;
    const count = fieldCount(hash);
    let deleted = 0;
    let bytes = 0;
    for (const field of fields) {
      if (!Object.hasOwn(hash, field)) continue;
      bytes -= hashFieldBytes(field, hash[field]);
      delete hash[field];
      deleted++;
    }
    if (deleted > 0) {
      fieldCounts.set(hash, count - deleted);
      fieldLists.delete(hash);
      if (count === deleted)
        writer.remove(key); // Redis deletes a hash it empties
      else writer.changedInPlace(key, bytes);
    }
    return deleted;
  });
};

export const hashRules: Readonly<Record<string, CommandRule>> = {
  hset: typed('hash', -4, {
    pairsFrom: 1,
    fields: PAIRED_FIELDS,
    check: setFields((added) => added),
  }),
  hmset: typed('hash', -4, { pairsFrom: 1, fields: PAIRED_FIELDS, check: setFields(() => 'OK') }),
  hsetnx: typed('hash', 4, {
    fields: ONE_FIELD,
    // Set as HSET sets a field; a `__proto__` field with a Buffer value is set here too (ioredis-mock's assignment
    // would lose it).
    check: (args, reader) => {
      if (fieldOf(reader, args[0], args[1]) !== undefined) return reply(0);
      const writer = reader.writer;
      if (keyName(args[1]) !== '__proto__' || writer === undefined) {
        return storeField(reader, args[0], args[1], args[2], 1);
      }
      const key = keyName(args[0]);
      const stored = reader.valueOf(key) as Hash | undefined;
      const value = args[2];
      return write(() => {
        const hash: Hash = stored === undefined ? {} : { ...stored };
        setField(hash, '__proto__', Buffer.isBuffer(value) ? Buffer.from(value) : value);
        writer.store(key, hash);
        return 1;
      });
    },
  }),
  hincrby,
  hincrbyfloat: typed('hash', 4, {
    fields: ONE_FIELD,
    // Redis parses the increment before it looks the key up.
    parse: (args) => {
      finiteIncrement(args[2]);
    },
    // ioredis-mock adds in doubles: the long double sum Redis computes is stored with HSET.
    check: (args, reader) => {
      const sum = floatSum(fieldOf(reader, args[0], args[1]), args[2], HASH_VALUE_NOT_A_FLOAT);
      return storeField(reader, args[0], args[1], sum, sum);
    },
  }),
  hdel: typed('hash', -3, { fields: ALL_FIELDS, empties: firstKey, check: deleteFields }),
  hget: typed('hash', 3, {
    fields: ONE_FIELD,
    check: (args, reader) => reply(copyOut(fieldOf(reader, args[0], args[1]) ?? null)),
  }),
  hmget: typed('hash', -3, {
    fields: ALL_FIELDS,
    check: (args, reader) =>
      reply(args.slice(1).map((field) => copyOut(fieldOf(reader, args[0], field) ?? null))),
  }),
  hexists: typed('hash', 3, {
    fields: ONE_FIELD,
    check: (args, reader) => reply(fieldOf(reader, args[0], args[1]) === undefined ? 0 : 1),
  }),
  hstrlen: typed('hash', 3, {
    fields: ONE_FIELD,
    check: (args, reader) => reply(byteLength(fieldOf(reader, args[0], args[1]))),
  }),
  /** HGETALL key: answered from the stored hash, one copy (ioredis-mock copies it out, then rebuilds it from pairs). */
  hgetall: typed('hash', 2, {
    check: (args, reader) =>
      reply(copyOfHash(reader.valueOf(keyName(args[0])) as Hash | undefined)),
  }),
  /** HKEYS key: the stored hash's field names (a `…Buffer` method answers their bytes, see `key-bytes.ts`). */
  hkeys: typed('hash', 2, {
    check: (args, reader) => {
      const hash = reader.valueOf(keyName(args[0])) as Hash | undefined;
      return reply(hash === undefined ? [] : Object.keys(hash));
    },
  }),
  hvals: typed('hash', 2),
  // Counted from the stored hash: ioredis-mock counts a copy of it (0.13 s at 100k fields).
  hlen: typed('hash', 2, {
    check: (args, reader) => {
      const hash = reader.valueOf(keyName(args[0])) as Hash | undefined;
      return reply(hash === undefined ? 0 : fieldCount(hash));
    },
  }),
  /** HRANDFIELD key [count [WITHVALUES]], its arguments checked as Redis 7.0's `hrandfieldCommand` checks them. */
  hrandfield: typed('hash', -2, {
    parse: (args) => checkRandomCount(args, 'WITHVALUES'),
    check: (args, reader) => {
      const hash = reader.valueOf(keyName(args[0])) as Hash | undefined;
      if (args.length === 1) {
        if (hash === undefined) return reply(null);
        const fields = fieldList(hash);
        return reply(fields[Math.floor(Math.random() * fields.length)]);
      }
      if (hash === undefined) return reply([]);
      const count = integerArg(args[1]);
      checkDrawn(count, true);
      const drawn = drawFields(fieldList(hash), count);
      return reply(args.length === 3 ? drawn.flatMap((f) => [f, copyOut(hash[f])]) : drawn);
    },
  }),
};
