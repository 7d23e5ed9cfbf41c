/**
 * Records: what a snapshot chunk holds after its CRC (see `chunks.ts`), one after another until the chunk ends.
 *
 *   flags    varuint   bit 0: tombstone (the key is deleted as of this generation), bit 1: has an expiry
 *   key      string    the codec's string encoding (see `codec.ts`); keys are compared by these bytes
 *   expiry   float64   absolute expiry time in ms since the epoch (with bit 1 only)
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

/** What {@link readRecords} hands each record to: where its key and value lie in the chunk, not decoded. */
export interface RecordSink {
  setRecord(
    chunk: Uint8Array,
    keyStart: number,
    keyEnd: number,
    valueStart: number,
    valueEnd: number,
    expiresAt: number | undefined,
  ): void;
  deleteRecord(chunk: Uint8Array, keyStart: number, keyEnd: number): void;
}

/** Writes a key as records store it (and as a look-up must encode a key to compare it with stored ones). */
export function writeKey(out: BufferWriter, key: string): void {
  out.writeString(key);
}

/** Reads a key written by {@link writeKey} from bytes [start, end). */
export function readKey(bytes: Uint8Array, start: number, end: number): string {
  return new BufferReader(bytes, start, end).readString();
}

/** Writes a live key's record. Throws a {@link CodecError} if the value cannot be encoded (the record is then partial). */
export function writeRecord(out: BufferWriter, key: string, state: KeyState): void {
  const expiresAt = state.expiresAt;
  out.writeVarUint(expiresAt === undefined ? 0 : FLAG_EXPIRES);
  writeKey(out, key);
  if (expiresAt !== undefined) out.writeFloat64(expiresAt);
  const lengthAt = out.length;
  out.writeUInt32(0);
  // A value restored and not read since is copied as it was stored.
  if (state.copyEncodedTo?.(out) !== true) out.writeValue(state.value);
  out.patchUInt32(lengthAt, out.length - lengthAt - 4);
}

/** Writes a restored record as it was stored: its key's and value's bytes are copied, not encoded again. */
export function writeEncodedRecord(out: BufferWriter, record: EncodedRecord): void {
  const expiresAt = record.expiresAt;
  out.writeVarUint(expiresAt === undefined ? 0 : FLAG_EXPIRES);
  record.copyKeyTo(out);
  if (expiresAt !== undefined) out.writeFloat64(expiresAt);
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
 * records. Returns how many there were. Throws a {@link CodecError} on bytes that are not records.
 */
export function* readRecords(
  chunk: Uint8Array,
  reader: BufferReader,
  sink: RecordSink,
  recordsPerStep: number,
): Generator<void, number> {
  let records = 0;
  while (!reader.done) {
    if (records % recordsPerStep === recordsPerStep - 1) yield;
    const flags = reader.readVarUint();
    if (flags > (FLAG_TOMBSTONE | FLAG_EXPIRES)) {
      throw new CodecError(`unknown record flags ${flags} at offset ${reader.offset}`);
    }
    const keyStart = reader.offset;
    reader.skipString();
    const keyEnd = reader.offset;
    if (flags & FLAG_TOMBSTONE) {
      sink.deleteRecord(chunk, keyStart, keyEnd);
    } else {
      const expiresAt = flags & FLAG_EXPIRES ? reader.readFloat64() : undefined;
      const length = reader.readUInt32();
      const start = reader.offset;
      reader.skipBytes(length);
      sink.setRecord(chunk, keyStart, keyEnd, start, start + length, expiresAt);
    }
    records++;
  }
  return records;
}
