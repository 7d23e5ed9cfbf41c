/**
 * Records: what a snapshot chunk holds after its CRC (see `chunks.ts`), one after another until the chunk ends.
 *
 *   flags    varuint   bit 0: tombstone (the key is deleted as of this generation), bit 1: has an expiry,
 *                      bit 2: has an idle time, bit 3: has an LFU counter (bits 2 and 3 since format 5)
 *   key      string    the codec's string encoding (see `codec.ts`); keys are compared by these bytes
 *   expiry   float64   absolute expiry time in ms since the epoch (with bit 1 only)
 *   idle     varuint   ms the key had been idle when the generation's capture began (with bit 2 only)
 *   counter  varuint   the key's LFU counter, 0-255, when the generation's capture began (with bit 3 only)
 *   length   uint32    byte length of the value (not in tombstones)
 *   value    value     the codec's value encoding (not in tombstones)
 *
 * The length lets a restore step over a value without decoding it: values stay encoded until first read.
 */

import { CodecError } from './codec-errors';
import { BufferReader } from './reader';
import type { BufferWriter } from './writer';

const FLAG_TOMBSTONE = 1;
const FLAG_EXPIRES = 2;
const FLAG_IDLE = 4;
const FLAG_COUNTER = 8;
const MINUTE_MS = 60_000;
/** Flags a live key's record may have. */
const VALUE_FLAGS = FLAG_EXPIRES | FLAG_IDLE | FLAG_COUNTER;

/**
 * How a key was used, as a record keeps it (Redis's RDB does the same with its IDLE and FREQ opcodes, under an LRU
 * and an LFU `maxmemory-policy` respectively): how long the key had been idle, in ms, or its LFU counter (0-255), as
 * of the beginning of the capture; -1 for each one not kept.
 */
export interface KeyUsage {
  idleMs: number;
  counter: number;
}

/** A usage that keeps nothing. */
export const NO_USAGE: Readonly<KeyUsage> = Object.freeze({ idleMs: -1, counter: -1 });

/** Where a state still in its encoded form copies its bytes (see {@link KeyState.copyEncodedTo}). */
export interface EncodedSink {
  writeRange(source: Uint8Array, start: number, end: number): void;
}

/** A key's state: its value as ioredis-mock stores it and its absolute expiry time (ms since epoch). */
export interface KeyState {
  readonly value: unknown;
  readonly expiresAt: number | undefined;
  /**
   * A restored value is kept in its encoded form until it is first read. While it is, this writes those bytes
   * to `sink` and returns true (a snapshot then copies them instead of encoding the value again); once the value
   * has been decoded it returns false. States without it are always decoded.
   */
  copyEncodedTo?(sink: EncodedSink): boolean;
}

/** A restored record as a snapshot writer copies it: bytes, not values. */
export interface EncodedRecord {
  readonly expiresAt: number | undefined;
  /** Writes the key, in the codec's string encoding. */
  copyKeyTo(sink: EncodedSink): void;
  /** Writes the value, in the codec's value encoding. */
  copyValueTo(sink: EncodedSink): void;
}

/**
 * What {@link readRecords} hands each record to: where its key and value lie in the chunk, not decoded, and what the
 * record kept of the key's use (`idleMs` counted up to the beginning of the chain's last generation; -1 for each one
 * not kept, see {@link KeyUsage}).
 */
export interface RecordSink {
  setRecord(
    chunk: Uint8Array,
    keyStart: number,
    keyEnd: number,
    valueStart: number,
    valueEnd: number,
    expiresAt: number | undefined,
    idleMs: number,
    counter: number,
  ): void;
  deleteRecord(chunk: Uint8Array, keyStart: number, keyEnd: number): void;
}

/** Writes a key as records store it (and as a look-up must encode a key to compare it with stored ones). */
export function writeKey(out: BufferWriter, key: string): void {
  out.writeName(key);
}

/** Reads a key written by {@link writeKey} from bytes [start, end). */
export function readKey(bytes: Uint8Array, start: number, end: number): string {
  return new BufferReader(bytes, start, end).readName();
}

/** A live key's flags: they come before its key. */
function writeFlags(
  out: BufferWriter,
  expiresAt: number | undefined,
  usage: Readonly<KeyUsage>,
): void {
  out.writeVarUint(
    (expiresAt === undefined ? 0 : FLAG_EXPIRES) |
      (usage.idleMs < 0 ? 0 : FLAG_IDLE) |
      (usage.counter < 0 ? 0 : FLAG_COUNTER),
  );
}

/** A live key's expiry time and usage: they come after its key. */
function writeKeyFields(
  out: BufferWriter,
  expiresAt: number | undefined,
  usage: Readonly<KeyUsage>,
): void {
  if (expiresAt !== undefined) out.writeFloat64(expiresAt);
  const { idleMs, counter } = usage;
  if (idleMs >= 0) out.writeVarUint(Math.floor(idleMs));
  if (counter >= 0) out.writeVarUint(Math.min(255, Math.floor(counter)));
}

/**
 * Writes a live key's record, with what `usage` keeps of the key's use. Throws a {@link CodecError} if the value
 * cannot be encoded (the record is then partial).
 */
export function writeRecord(
  out: BufferWriter,
  key: string,
  state: KeyState,
  usage: Readonly<KeyUsage> = NO_USAGE,
): void {
  const expiresAt = state.expiresAt;
  writeFlags(out, expiresAt, usage);
  writeKey(out, key);
  writeKeyFields(out, expiresAt, usage);
  const lengthAt = out.length;
  out.writeUInt32(0);
  // A value restored and not read since is copied as it was stored.
  if (state.copyEncodedTo?.(out) !== true) out.writeValue(state.value);
  out.patchUInt32(lengthAt, out.length - lengthAt - 4);
}

/**
 * Writes a restored record as it was stored, with what `usage` keeps of the key's use: its key's and value's bytes are
 * copied, not encoded again.
 */
export function writeEncodedRecord(
  out: BufferWriter,
  record: EncodedRecord,
  usage: Readonly<KeyUsage> = NO_USAGE,
): void {
  const expiresAt = record.expiresAt;
  writeFlags(out, expiresAt, usage);
  record.copyKeyTo(out);
  writeKeyFields(out, expiresAt, usage);
  const lengthAt = out.length;
  out.writeUInt32(0);
  record.copyValueTo(out);
  out.patchUInt32(lengthAt, out.length - lengthAt - 4);
}

/** Writes a tombstone: `key` is deleted as of this generation. */
export function writeTombstone(out: BufferWriter, key: string): void {
  out.writeVarUint(FLAG_TOMBSTONE);
  writeKey(out, key);
}

/**
 * Hands the records from the reader's position to the end of `chunk` to `sink`, yielding every `recordsPerStep`
 * records. Returns how many there were. Throws a {@link CodecError} on bytes that are not records. `ageMs` is how long
 * before the chain's last generation this one's capture began: it is added to each idle time kept, and each LFU
 * counter kept loses one for each minute of it (Redis's default `lfu-decay-time`).
 */
export function* readRecords(
  chunk: Uint8Array,
  reader: BufferReader,
  sink: RecordSink,
  recordsPerStep: number,
  ageMs = 0,
): Generator<void, number> {
  let records = 0;
  while (!reader.done) {
    if (records % recordsPerStep === recordsPerStep - 1) yield;
    const flags = reader.readVarUint();
    // A tombstone has no other flag than its own (bit 1 was let pass before format 5, and is still).
    if (flags & FLAG_TOMBSTONE ? flags > (FLAG_TOMBSTONE | FLAG_EXPIRES) : flags > VALUE_FLAGS) {
      throw new CodecError(`unknown record flags ${flags} at offset ${reader.offset}`);
    }
    const keyStart = reader.offset;
    reader.skipString(true);
    const keyEnd = reader.offset;
    if (flags & FLAG_TOMBSTONE) {
      sink.deleteRecord(chunk, keyStart, keyEnd);
    } else {
      const expiresAt = flags & FLAG_EXPIRES ? reader.readFloat64() : undefined;
      const idleMs = flags & FLAG_IDLE ? reader.readVarUint() + ageMs : -1;
      let counter = flags & FLAG_COUNTER ? reader.readVarUint() : -1;
      if (counter > 255) {
        throw new CodecError(`LFU counter ${counter} over 255 at offset ${reader.offset}`);
      }
      // Decayed as the cache would have decayed it until the last generation: one a minute (lfu-decay-time 1).
      if (counter > 0 && ageMs >= MINUTE_MS) {
        counter = Math.max(0, counter - Math.floor(ageMs / MINUTE_MS));
      }
      const length = reader.readUInt32();
      const start = reader.offset;
      reader.skipBytes(length);
      sink.setRecord(chunk, keyStart, keyEnd, start, start + length, expiresAt, idleMs, counter);
    }
    records++;
  }
  return records;
}
