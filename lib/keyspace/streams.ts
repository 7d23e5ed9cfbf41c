/**
 * Streams in the keyspace: Redis's stream ids (`<ms>-<seq>`, two unsigned 64-bit integers), the time-based ids XADD
 * generates, and ioredis-mock's stream helper keys, which the keyspace does not keep.
 *
 * A stream is stored as a {@link StreamValue} (see `format/stream-value.ts`): its entries with ids in Redis's form,
 * and the last id it generated.
 */
import { StreamValue } from '../format/stream-value';

export { StreamValue, type StreamEntryValue, type StreamFields } from '../format/stream-value';

/** A stream id: milliseconds and sequence number, each 0 to 2^64-1. */
export interface StreamId {
  readonly ms: bigint;
  readonly seq: bigint;
}

export const U64_MAX = (1n << 64n) - 1n;
export const MIN_ID: StreamId = { ms: 0n, seq: 0n };
export const MAX_ID: StreamId = { ms: U64_MAX, seq: U64_MAX };

/** What Redis's `string2ull` (`strtoull`) reads as an unsigned 64-bit integer: blanks, an optional `+`, digits. */
const U64_TEXT = /^[ \t\n\v\f\r]*\+?(\d+)$/;

/** An unsigned 64-bit decimal as Redis's `string2ull` reads it (at most 2^64-1), else `undefined`. */
export function parseU64(text: string): bigint | undefined {
  const m = U64_TEXT.exec(text);
  if (m === null) return undefined;
  const n = BigInt(m[1]);
  return n > U64_MAX ? undefined : n;
}

/**
 * Parses `<ms>-<seq>` or `<ms>` (the sequence then `missingSeq`), as Redis's `streamParseID` does; `undefined` when
 * it is not an id.
 */
export function parseStreamId(text: string, missingSeq = 0n): StreamId | undefined {
  const dash = text.indexOf('-');
  if (dash === -1) {
    const ms = parseU64(text);
    return ms === undefined ? undefined : { ms, seq: missingSeq };
  }
  const ms = parseU64(text.slice(0, dash));
  const seq = parseU64(text.slice(dash + 1));
  return ms === undefined || seq === undefined ? undefined : { ms, seq };
}

export function formatStreamId(id: StreamId): string {
  return `${id.ms}-${id.seq}`;
}

export function compareStreamIds(a: StreamId, b: StreamId): number {
  if (a.ms !== b.ms) return a.ms < b.ms ? -1 : 1;
  return a.seq === b.seq ? 0 : a.seq < b.seq ? -1 : 1;
}

/** The id after `id`, `undefined` after the largest. */
export function incrementId(id: StreamId): StreamId | undefined {
  if (id.seq < U64_MAX) return { ms: id.ms, seq: id.seq + 1n };
  if (id.ms < U64_MAX) return { ms: id.ms + 1n, seq: 0n };
  return undefined;
}

/** The id before `id`, `undefined` before `0-0`. */
export function decrementId(id: StreamId): StreamId | undefined {
  if (id.seq > 0n) return { ms: id.ms, seq: id.seq - 1n };
  if (id.ms > 0n) return { ms: id.ms - 1n, seq: U64_MAX };
  return undefined;
}

/**
 * The id `XADD key * …` gives after `last` at `now` (ms since the epoch), as Redis's `streamNextID`: `<now>-0` when
 * the clock is past the last id's milliseconds, else the last id plus one (the ids of a stream always increase,
 * whatever the clock does). `undefined` when `last` is the largest id.
 */
export function nextStreamId(last: StreamId, now: number): StreamId | undefined {
  const ms = BigInt(Math.max(0, Math.floor(now)));
  return last.ms < ms ? { ms, seq: 0n } : incrementId(last);
}

/** The parsed id of a stored entry (ids are stored in Redis's form). */
export function entryId(entry: readonly [string, unknown]): StreamId {
  return parseStreamId(entry[0]) ?? MIN_ID;
}

/**
 * ioredis-mock's own form of stream ids (what its XADD stored, in snapshots written before streams were corrected):
 * `<ms>-0` for `<ms>-0`, `<ms>-<seq>-0` for `<ms>-<seq>`. `undefined` for another form.
 */
const MOCK_ID = /^(\d+)(?:-(\d+))?-0$/;
export function mockIdToRedis(mockId: string): string | undefined {
  const m = MOCK_ID.exec(mockId);
  if (m === null) return undefined;
  const ms = parseU64(m[1]);
  const seq = parseU64(m[2] ?? '0');
  return ms === undefined || seq === undefined ? undefined : `${ms}-${seq}`;
}

/**
 * A stored stream as a {@link StreamValue}: itself, or one made from a stream ioredis-mock stored (an array of
 * `[id, fields]` entries with its own ids, restored from an older snapshot or written by a Lua script's XADD), ids
 * translated (an id of no Redis form is kept as it is and reads as `0-0`), its last id its greatest entry id.
 */
export function asStreamValue(value: unknown): StreamValue {
  if (value instanceof StreamValue) return value;
  const stream = new StreamValue();
  let last = MIN_ID;
  for (const entry of value as [string, (string | Buffer)[]][]) {
    const id = entry[0].split('-').length === 2 ? entry[0] : (mockIdToRedis(entry[0]) ?? entry[0]);
    const parsed = parseStreamId(id) ?? MIN_ID;
    if (compareStreamIds(parsed, last) > 0) last = parsed;
    stream.push([id, entry[1]]);
  }
  stream.lastId = formatStreamId(last);
  return stream;
}

const STREAM_HELPER_PREFIX = 'stream:';

/**
 * Whether `key`/`value` is one of ioredis-mock's hidden stream helper keys (`stream:<key>:<id>` holding
 * `{ polled: <boolean> }`, which its XADD writes and its XREAD reads) rather than user data: no Redis command can
 * store a boolean, so the shape tells. The keyspace keeps none (see `Keyspace.set`).
 */
export function isStreamHelper(key: string, value: unknown): boolean {
  if (!key.startsWith(STREAM_HELPER_PREFIX) || typeof value !== 'object' || value === null) {
    return false;
  }
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return false;
  const names = Object.keys(value);
  return (
    names.length === 1 &&
    names[0] === 'polled' &&
    typeof (value as { polled: unknown }).polled === 'boolean'
  );
}

/** A helper key's value as the codec writes it: `{ polled: false }` and `{ polled: true }`. */
const HELPER_VALUE = [0x0d, 0x01, 0x0c, 0x70, 0x6f, 0x6c, 0x6c, 0x65, 0x64];
const HELPER_KEY = Buffer.from(STREAM_HELPER_PREFIX);

/** Whether a snapshot record (key and value in the codec's encoding) is a stream helper key. */
export function isEncodedStreamHelper(
  bytes: Uint8Array,
  keyStart: number,
  keyEnd: number,
  valueBytes: Uint8Array,
  valueStart: number,
  valueEnd: number,
): boolean {
  if (valueEnd - valueStart !== HELPER_VALUE.length + 1) return false;
  for (let i = 0; i < HELPER_VALUE.length; i++) {
    if (valueBytes[valueStart + i] !== HELPER_VALUE[i]) return false;
  }
  const last = valueBytes[valueEnd - 1];
  if (last !== 0x03 && last !== 0x04) return false;
  // The key: a string body (a varuint header, even for UTF-8) then its bytes, which must start with `stream:`.
  let at = keyStart;
  while (at < keyEnd && (bytes[at] & 0x80) !== 0) at++;
  at++;
  if (keyEnd - at < HELPER_KEY.length) return false;
  for (let i = 0; i < HELPER_KEY.length; i++) if (bytes[at + i] !== HELPER_KEY[i]) return false;
  return true;
}
