/**
 * How ioredis-mock (tested with 8.13.1, the version pinned in package.json) represents each Redis type in its
 * keyspace, and the conversion between that representation and a portable one that maps one-to-one onto real Redis
 * commands. The CLI's `export` and `import` go through this file only; nothing else needs to know these shapes.
 *
 * What ioredis-mock stores under a key (checked by experiment, see mock-values.spec.ts):
 *
 * | Redis type | stored value                                                                         |
 * |------------|--------------------------------------------------------------------------------------|
 * | string     | a JS string (numbers are stored as their decimal text), or a `Buffer` when set from one |
 * | hash       | a plain object `{ [field]: string \| Buffer }`; field names are always JS strings       |
 * | list       | an array of `string \| Buffer`                                                        |
 * | set        | a `Set` of `string \| Buffer`                                                          |
 * | zset       | a `Map` from member (`string \| Buffer`) to `{ score: number, value: member }`         |
 * | stream     | an array of entries `[id, [field, value, field, value, …]]`                           |
 *
 * The embedded client stores a stream as a `StreamValue` (`keyspace/streams.ts`): the same array, ids in Redis's
 * form, with the last id the stream generated. ioredis-mock's own form below is what streams of older snapshots hold.
 *
 * and its quirks:
 * - `TYPE` reports a stream as `list` (both are arrays) and a `Buffer` string as nothing at all (`undefined`).
 * - `XADD` appends `-0` to whatever ID it is given: `*` becomes `<length + 1>-0`, `7` becomes `7-0` and `1-1`
 *   becomes `1-1-0`. It does not check that IDs increase.
 * - Each `XADD` also stores a hidden helper key `stream:<key>:<id>` holding `{ polled: boolean }` (read and written
 *   by `XREAD`; `XREAD` throws if it is missing). Helper keys have no TTL and outlive trimmed entries. No real hash
 *   can hold a boolean, so the value's shape tells a helper key from user data.
 * - `ZADD key inf m` stores the score `NaN` (it parses scores with `Number`); a JS `Infinity` works.
 * - An emptied sorted set stays in the keyspace as an empty `Map` (lists, sets and hashes are deleted).
 *
 * Streams between the embedded client and Redis: a `StreamValue` holds Redis's ids and goes as it is, with its last
 * id when that is greater than its last entry's (or the stream is empty); one read from Redis becomes a
 * `StreamValue` whose last id is its last entry's unless given. A stream ioredis-mock stored (older snapshots) has its
 * mock IDs translated: `<ms>-0` to `<ms>-0`, `<ms>-<seq>-0` to `<ms>-<seq>` (so `<ms>-0-0` becomes the equivalent
 * `<ms>-0`). Consumer groups are not carried (the embedded client has none). An ID of any other form (`abc`, `5-*`),
 * IDs that do not increase, and `0-0` cannot be written to Redis and are refused with a {@link MockValueError}.
 */

import { ListDeque } from '../format/list-deque';
import {
  compareStreamIds,
  isStreamHelper,
  mockIdToRedis,
  parseStreamId,
  StreamValue,
} from '../keyspace/streams';
import { showKey } from '../util/show-key';

/** Binary-safe bytes as ioredis-mock keeps them: UTF-8 text as a string, anything else as a Buffer. */
export type Bytes = string | Buffer;

export type RedisType = 'string' | 'hash' | 'list' | 'set' | 'zset' | 'stream';

export interface StreamEntry {
  /** The entry's ID in Redis form, `<ms>-<seq>`. */
  readonly id: string;
  /** Field names and values, alternating. */
  readonly fields: readonly Bytes[];
}

/** A key's value in a form that maps one-to-one onto Redis commands (and replies). */
export type PortableValue =
  | { readonly type: 'string'; readonly value: Bytes }
  | { readonly type: 'hash'; readonly fields: ReadonlyArray<readonly [string, Bytes]> }
  | { readonly type: 'list'; readonly items: readonly Bytes[] }
  | { readonly type: 'set'; readonly members: readonly Bytes[] }
  | { readonly type: 'zset'; readonly members: ReadonlyArray<readonly [Bytes, number]> }
  | {
      readonly type: 'stream';
      readonly entries: readonly StreamEntry[];
      /** The last id the stream generated, when greater than its last entry's (or the stream is empty). */
      readonly lastId?: string;
    };

/** What a stored value is: a Redis type, an ioredis-mock stream helper key, or a shape this module does not know. */
export type MockValueKind = RedisType | 'stream-helper' | 'unknown';

/** A value that cannot be converted, with the key and the reason. */
export class MockValueError extends Error {
  constructor(
    readonly key: string,
    reason: string,
  ) {
    super(`key ${showKey(key)}: ${reason}`);
    this.name = 'MockValueError';
  }
}

function isBytes(v: unknown): v is Bytes {
  return typeof v === 'string' || Buffer.isBuffer(v);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

function isStreamEntry(v: unknown): v is [string, Bytes[]] {
  return (
    Array.isArray(v) &&
    v.length === 2 &&
    typeof v[0] === 'string' &&
    Array.isArray(v[1]) &&
    (v[1] as unknown[]).every(isBytes)
  );
}

/** Whether `key`/`value` is one of ioredis-mock's hidden stream helper keys rather than user data. */
export { isStreamHelper };

/** Classifies a stored value without converting it (cheap enough to run over every key). */
export function kindOf(key: string, value: unknown): MockValueKind {
  if (isBytes(value)) return 'string';
  if (value instanceof Set) return 'set';
  if (value instanceof Map) return 'zset';
  if (value instanceof StreamValue) return 'stream';
  if (value instanceof ListDeque) return 'list';
  if (Array.isArray(value)) {
    return value.length > 0 && Array.isArray(value[0]) ? 'stream' : 'list';
  }
  if (isStreamHelper(key, value)) return 'stream-helper';
  if (isPlainObject(value)) return 'hash';
  return 'unknown';
}

/** UTF-8 text as a string when the bytes round-trip exactly, otherwise a copy of the bytes. */
export function bytesToMock(bytes: Buffer): Bytes {
  const text = bytes.toString('utf8');
  return Buffer.byteLength(text) === bytes.length && Buffer.from(text).equals(bytes)
    ? text
    : Buffer.from(bytes);
}

/** Parses a score as Redis prints it (`inf`, `-inf`, `1.5`, `1e+300`). */
export function parseScore(text: string): number {
  const t = text.trim().toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity' || t === '+infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  const n = t === '' ? NaN : Number(t);
  if (Number.isNaN(n)) throw new Error(`not a sorted-set score: ${JSON.stringify(text)}`);
  return n;
}

/** Formats a score as Redis accepts it; `NaN` is refused (Redis has no NaN scores). */
export function formatScore(score: number): string {
  if (score === Infinity) return '+inf';
  if (score === -Infinity) return '-inf';
  if (Number.isNaN(score)) throw new Error('NaN is not a valid score');
  return String(score);
}

const REDIS_ID = /^(\d+)-(\d+)$/;

/** Converts an ID as ioredis-mock's XADD stored it to Redis's `<ms>-<seq>`, or `undefined` if it has no such form. */
export const mockStreamIdToRedis: (mockId: string) => string | undefined = mockIdToRedis;

/** A Redis id as the embedded client stores it (`<ms>-<seq>`), canonical, or `undefined`. */
function redisIdOrUndefined(id: string): string | undefined {
  if (!REDIS_ID.test(id)) return undefined;
  const parsed = parseStreamId(id);
  return parsed === undefined ? undefined : `${parsed.ms}-${parsed.seq}`;
}

/** Orders two ids in Redis's form (as {@link redisIdOrUndefined} gives them). */
function compareRedisIds(a: string, b: string): number {
  return compareStreamIds(
    parseStreamId(a) ?? { ms: 0n, seq: 0n },
    parseStreamId(b) ?? { ms: 0n, seq: 0n },
  );
}

/**
 * Converts a stored value to its portable form. Returns `undefined` for what real Redis does not hold: stream
 * helper keys and empty containers (an emptied sorted set). Throws a {@link MockValueError} for a value Redis
 * cannot represent (a NaN score, a stream ID of another form) or a shape this module does not know.
 */
export function toPortable(key: string, value: unknown): PortableValue | undefined {
  const fail = (reason: string) => new MockValueError(key, reason);
  switch (kindOf(key, value)) {
    case 'string':
      return { type: 'string', value: value as Bytes };
    case 'hash': {
      const fields: [string, Bytes][] = [];
      for (const [field, v] of Object.entries(value as Record<string, unknown>)) {
        if (!isBytes(v)) throw fail(`hash field ${JSON.stringify(field)} holds a ${typeof v}`);
        fields.push([field, v]);
      }
      return fields.length === 0 ? undefined : { type: 'hash', fields };
    }
    case 'list': {
      const items = value instanceof ListDeque ? value.toArray() : (value as unknown[]);
      if (!items.every(isBytes)) throw fail('a list element is not a string or Buffer');
      return items.length === 0 ? undefined : { type: 'list', items: items };
    }
    case 'set': {
      const members = [...(value as Set<unknown>)];
      if (!members.every(isBytes)) throw fail('a set member is not a string or Buffer');
      return members.length === 0 ? undefined : { type: 'set', members: members };
    }
    case 'zset': {
      const members: [Bytes, number][] = [];
      for (const [member, entry] of value as Map<unknown, unknown>) {
        const score = (entry as { score?: unknown } | null)?.score;
        if (!isBytes(member) || typeof score !== 'number') {
          throw fail('a sorted-set entry is not a member with a numeric score');
        }
        if (Number.isNaN(score)) {
          throw fail(
            `member ${JSON.stringify(String(member))} has the score NaN, which Redis cannot hold ` +
              "(ioredis-mock stores NaN for ZADD's string 'inf'; pass Infinity as a number instead)",
          );
        }
        members.push([member, score]);
      }
      return members.length === 0 ? undefined : { type: 'zset', members };
    }
    case 'stream': {
      const entries: StreamEntry[] = [];
      let previous: string | undefined;
      for (const entry of value as unknown[]) {
        if (!isStreamEntry(entry)) throw fail('a stream entry is not [id, [field, value, …]]');
        const [mockId, fields] = entry;
        // The embedded client's own streams hold Redis ids; ioredis-mock's (older snapshots) its own form.
        const id =
          value instanceof StreamValue ? redisIdOrUndefined(mockId) : mockStreamIdToRedis(mockId);
        if (id === undefined) {
          throw fail(`stream entry ID ${JSON.stringify(mockId)} has no Redis equivalent`);
        }
        if (id === '0-0') throw fail('stream entry ID 0-0 is not accepted by Redis');
        if (previous !== undefined && compareRedisIds(previous, id) >= 0) {
          throw fail(
            `stream entry IDs do not increase (${previous} then ${id}); ioredis-mock does not ` +
              'enforce it, Redis requires it',
          );
        }
        if (fields.length === 0 || fields.length % 2 !== 0) {
          throw fail(`stream entry ${mockId} does not hold field/value pairs`);
        }
        previous = id;
        entries.push({ id, fields });
      }
      if (value instanceof StreamValue) {
        const last = redisIdOrUndefined(value.lastId);
        if (last !== undefined && (previous === undefined || compareRedisIds(previous, last) < 0)) {
          return { type: 'stream', entries, lastId: last };
        }
      }
      if (entries.length === 0) return undefined;
      return { type: 'stream', entries };
    }
    case 'stream-helper':
      return undefined;
    default:
      throw fail(`holds a value of unknown shape (${describeShape(value)})`);
  }
}

function describeShape(value: unknown): string {
  if (typeof value !== 'object' || value === null) return typeof value;
  const ctor = (value as { constructor?: { name?: string } }).constructor?.name;
  return ctor ?? 'object';
}

/**
 * Converts a portable value (e.g. read from Redis) to what the embedded client stores for it. Throws for a stream
 * id not in Redis's form `<ms>-<seq>`.
 */
export function fromPortable(portable: PortableValue): unknown {
  switch (portable.type) {
    case 'string':
      return portable.value;
    case 'hash': {
      const hash: Record<string, Bytes> = {};
      for (const [field, v] of portable.fields) {
        Object.defineProperty(hash, field, {
          value: v,
          writable: true,
          enumerable: true,
          configurable: true,
        });
      }
      return hash;
    }
    case 'list':
      return [...portable.items];
    case 'set':
      return new Set(portable.members);
    case 'zset': {
      const map = new Map<Bytes, { score: number; value: Bytes }>();
      for (const [member, score] of portable.members) map.set(member, { score, value: member });
      return map;
    }
    case 'stream': {
      const entries: [string, Bytes[]][] = [];
      for (const { id, fields } of portable.entries) {
        if (redisIdOrUndefined(id) !== id)
          throw new Error(`not a stream ID: ${JSON.stringify(id)}`);
        entries.push([id, [...fields]]);
      }
      const last = portable.lastId ?? entries[entries.length - 1]?.[0] ?? '0-0';
      return StreamValue.make(entries, last);
    }
  }
}
