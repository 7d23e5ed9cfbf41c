/**
 * Binary codec for the JS values that ioredis-mock keeps in its keyspace (snapshot records).
 *
 * THIS IS AN ON-DISK FORMAT. Tag bytes and encodings below must never change meaning; new
 * types may only be added under tags that are currently unused.
 *
 * Value = tag byte followed by a payload:
 *
 *   tag   type                payload
 *   ----  ------------------  -----------------------------------------------------------------
 *   0x00  (never used)        reserved so that zero-filled garbage is rejected as an unknown tag
 *   0x01  undefined           -
 *   0x02  null                -
 *   0x03  false               -
 *   0x04  true                -
 *   0x05  number (float64)    8 bytes IEEE-754 binary64, little-endian; any number (NaN, ±Infinity,
 *                             -0, fractions, unsafe integers); written for non-safe-integers and -0
 *   0x06  number (uint)       varuint n, value n; written for safe integers 0..2^53-1 (not -0)
 *   0x07  number (negint)     varuint n >= 1, value -n; written for safe integers -(2^53-1)..-1
 *   0x08  string              string body (see below)
 *   0x09  bytes               varuint length + raw bytes; decoded as a Node Buffer (a copy)
 *   0x0a  array               varuint count + count values
 *   0x0b  Set                 varuint count + count values (insertion order)
 *   0x0c  Map                 varuint count + count × (key value, value value) (insertion order)
 *   0x0d  plain object        varuint count + count × (key string body, value); decoded as a plain
 *                             object with Object.prototype
 *   0x0e  scored Map          varuint count + count × (key string body, number value): a Map from
 *                             each key to a plain object `{ score, value }` whose value is the key
 *                             (how ioredis-mock keeps a sorted set). Written for any Map of that exact
 *                             shape; a Map with any other content is written as 0x0c. Since format 3.
 *   0x0f  stream              string body last id, varuint count + count × (string body id, value fields):
 *                             a StreamValue (`stream-value.ts`): entries [id, fields] and the last id the
 *                             stream generated. Since format 4.
 *
 * varuint: unsigned LEB128 (7 bits per byte, least significant group first, high bit = "more"),
 * at most 8 bytes, value <= 2^53-1, canonical (no redundant trailing 0x00 group).
 *
 * string body: varuint h, then
 *   h even: h/2 bytes of UTF-8 (strings that are well-formed UTF-16; the bytes must be valid UTF-8)
 *   h odd:  (h-1)/2 UTF-16 code units as UTF-16LE (2 bytes each); used only for strings that are
 *           not well-formed (lone surrogates), so that they round-trip exactly.
 *
 * Containers may nest at most MAX_DEPTH (64) levels, both when encoding and decoding.
 *
 * The tags and limits are in `tags.ts`. The encoder is `writer.ts` (tagged values and containers) on top of
 * `byte-writer.ts` (the buffer, varuints, string bodies and other untagged encodings); the decoder is `reader.ts`
 * on top of `byte-reader.ts`, split the same way.
 */
import { CodecError } from './codec-errors';
import { BufferReader } from './reader';
import { BufferWriter } from './writer';

export { CodecError } from './codec-errors';
export { BufferReader } from './reader';
export { BufferWriter } from './writer';

/** Encodes one value into a new Buffer. */
export function encodeValue(value: unknown): Buffer {
  const writer = new BufferWriter(256);
  writer.writeValue(value);
  return writer.finish();
}

/** Decodes exactly one value from buf[start, end); throws CodecError if bytes remain after it. */
export function decodeValue(buf: Uint8Array, start = 0, end: number = buf.length): unknown {
  const reader = new BufferReader(buf, start, end);
  const value = reader.readValue();
  if (!reader.done) {
    const left = end - reader.offset;
    throw new CodecError(`trailing bytes at offset ${reader.offset}: ${left} left after the value`);
  }
  return value;
}
