/**
 * Reads a committed chain of generations out of the `chunks` table, checking every chunk's CRC, each generation's
 * chunk count, record count and CRC, and handing the records to a {@link RestoreTarget} without decoding them.
 */
import type { Database } from 'lmdb';
import { CodecError } from '../format/codec';
import { CHUNK_HEADER_BYTES, chunkCrc, chunkProblem, GenerationCrc } from '../format/chunks';
import type { ChunkKey } from '../format/lmdb-layout';
import type { GenerationInfo, Manifest } from '../format/manifest';
import { BufferReader } from '../format/reader';
import { readRecords, type RecordSink } from '../format/records';

/**
 * Records a restore decodes between two looks at the clock. A chunk holds a few thousand: decoded whole, the first
 * ones of a restore at startup, before V8 has compiled the decoder, held the event loop for 20-30 ms (decoding
 * runs at 10-20 µs a record then, under 1 µs once compiled).
 */
const RECORDS_PER_STEP = 64;

/** Where a restore puts the records it reads (the keyspace's restored index). */
export interface RestoreTarget extends RecordSink {
  /** Makes room for about this many records. */
  reserve(records: number): void;
  /** Drops the records whose expiry time is at or before `now`; returns how many. */
  leaveOutExpired(now: number): number;
}

export interface RestoredData<T extends RestoreTarget = RestoreTarget> {
  readonly states: T;
  /** Keys whose expiry time had passed at restore time, left out. */
  readonly expired: number;
  readonly manifest: Manifest;
}

/**
 * The steps of a read of `manifest`'s chain into `target`: it yields after each chunk, and every
 * {@link RECORDS_PER_STEP} records. `corrupt` makes the error thrown for what is wrong.
 */
export function* readChain<T extends RestoreTarget>(
  chunks: Database<Buffer, ChunkKey>,
  manifest: Manifest,
  target: T,
  now: number,
  corrupt: (what: string) => Error,
): Generator<void, RestoredData<T>> {
  target.reserve(manifest.generations.reduce((sum, g) => sum + g.records, 0));
  yield; // about a millisecond at 1M records: V8 may collect garbage for the memory it takes
  for (const generation of manifest.generations) {
    yield* readGeneration(chunks, generation, target, (what) =>
      corrupt(`generation ${generation.gen}: ${what}`),
    );
  }
  const expired = target.leaveOutExpired(now);
  return { states: target, expired, manifest };
}

function* readGeneration(
  table: Database<Buffer, ChunkKey>,
  generation: GenerationInfo,
  target: RestoreTarget,
  corrupt: (what: string) => Error,
): Generator<void> {
  let chunks = 0;
  let records = 0;
  const crc = new GenerationCrc();
  // A range iterator reads through one LMDB read transaction for its whole life, across the steps' yields.
  for (const { key, value } of table.getRange({
    start: [generation.gen],
    end: [generation.gen + 1],
  })) {
    if (key[1] !== chunks) throw corrupt(`chunk ${chunks} is missing (found chunk ${key[1]})`);
    const problem = chunkProblem(value);
    if (problem !== undefined) throw corrupt(`chunk ${chunks} ${problem}`);
    crc.add(chunkCrc(value));
    try {
      // Keys and values stay as bytes: the target indexes them where they lie (the chunk's CRC covers them).
      const reader = new BufferReader(value, CHUNK_HEADER_BYTES);
      records += yield* readRecords(value, reader, target, RECORDS_PER_STEP);
    } catch (error) {
      if (error instanceof CodecError) throw corrupt(`chunk ${chunks}: ${error.message}`);
      throw error;
    }
    chunks++;
    yield;
  }
  if (chunks !== generation.chunks) {
    throw corrupt(`expected ${generation.chunks} chunks, found ${chunks}`);
  }
  if (records !== generation.records) {
    throw corrupt(`expected ${generation.records} records, found ${records}`);
  }
  if (crc.value !== generation.crc) throw corrupt('the chunk list does not match its checksum');
}
