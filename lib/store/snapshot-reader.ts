/**
 * Reads the committed manifest out of the `meta` table, and the chain of generations it names out of the `chunks`
 * table, checking every chunk's CRC, each generation's chunk count, record count and CRC, and handing the records
 * to a {@link RestoreTarget} without decoding them. What is damaged, or in a format this version does not read, is
 * an {@link UnreadableSnapshotError}.
 */
import type { Database } from 'lmdb';
import { CodecError } from '../format/codec';
import { CHUNK_HEADER_BYTES, chunkCrc, chunkProblem, GenerationCrc } from '../format/chunks';
import { MANIFEST_KEY, type ChunkKey, type Tables } from '../format/lmdb-layout';
import {
  ManifestError,
  parseManifest,
  READABLE_FORMATS,
  type GenerationInfo,
  type Manifest,
} from '../format/manifest';
import { BufferReader } from '../format/reader';
import { readRecords, type RecordSink } from '../format/records';
import { UnreadableSnapshotError } from './store-errors';
import { CORRUPT_SNAPSHOT, UNSUPPORTED_FORMAT } from './store.messages';

/**
 * Records a restore decodes between two looks at the clock. A chunk holds a few thousand: decoded whole, the first
 * ones of a restore at startup, before V8 has compiled the decoder, held the event loop for 20-30 ms (decoding
 * runs at 10-20 µs a record then, under 1 µs once compiled).
 */
const RECORDS_PER_STEP = 64;

/** Where a restore puts the records it reads (the keyspace's restored index). */
export interface RestoreTarget extends RecordSink {
  /** Makes room for about this many records, yielding now and then (see {@link leaveOutExpired}). */
  reserve(records: number): Generator<void, void>;
  /** Indexes the records read so far, yielding now and then: called after each generation. */
  indexRecords(): Generator<void, void>;
  /**
   * Drops the records whose expiry time is at or before `now`, yielding now and then for the restore to give the
   * event loop a turn; returns how many.
   */
  leaveOutExpired(now: number): Generator<void, number>;
}

export interface RestoredData<T extends RestoreTarget = RestoreTarget> {
  readonly states: T;
  /** Keys whose expiry time had passed at restore time, left out. */
  readonly expired: number;
  readonly manifest: Manifest;
}

/**
 * The committed manifest of the store in `dataDir`, or `undefined` if nothing was ever committed. Every store is
 * created with a manifest, so a missing one is damage, not a new store.
 */
export function readManifest(meta: Tables['meta'], dataDir: string): Manifest | undefined {
  const raw = meta.get(MANIFEST_KEY);
  if (raw === undefined) {
    throw new UnreadableSnapshotError(CORRUPT_SNAPSHOT(dataDir, 'the manifest is missing'));
  }
  let manifest: Manifest;
  try {
    manifest = parseManifest(raw);
  } catch (error) {
    if (!(error instanceof ManifestError)) throw error;
    throw new UnreadableSnapshotError(
      error.reason === 'unsupported'
        ? UNSUPPORTED_FORMAT(dataDir, error.format, READABLE_FORMATS)
        : CORRUPT_SNAPSHOT(dataDir, error.message),
    );
  }
  return manifest.generations.length === 0 ? undefined : manifest;
}

/**
 * The steps of a read of `manifest`'s chain (of the store in `dataDir`) into `target`: it yields after each chunk,
 * and every {@link RECORDS_PER_STEP} records; the target's reserve and the pass that leaves out expired keys yield
 * too.
 */
export function* readChain<T extends RestoreTarget>(
  chunks: Database<Buffer, ChunkKey>,
  manifest: Manifest,
  target: T,
  now: number,
  dataDir: string,
): Generator<void, RestoredData<T>> {
  yield* target.reserve(manifest.generations.reduce((sum, g) => sum + g.records, 0));
  yield; // V8 may collect garbage for the memory it took
  // Idle times are kept as of each generation's capture: a restore counts them up to the last one's.
  const lastCapture = manifest.generations[manifest.generations.length - 1].createdAt;
  for (const generation of manifest.generations) {
    yield* readGeneration(
      chunks,
      generation,
      target,
      (what) =>
        new UnreadableSnapshotError(
          CORRUPT_SNAPSHOT(dataDir, `generation ${generation.gen}: ${what}`),
        ),
      { chunks: 0 },
      Math.max(0, lastCapture - generation.createdAt),
    );
    yield* target.indexRecords();
  }
  const expired = yield* target.leaveOutExpired(now);
  return { states: target, expired, manifest };
}

/** Where a read of a generation begins, and how far it got: the number of its chunks read whole. */
export interface GenerationProgress {
  chunks: number;
}

/**
 * The steps of a read of one committed generation's records into `target`, checked as {@link readChain} checks them;
 * `corrupt` makes the error for what is damaged. It begins at chunk `progress.chunks` and counts there the chunks read
 * whole; a read that begins past the first chunk checks each chunk's CRC and the number of chunks, not the
 * generation's record count and checksum (they need every chunk). `ageMs` is added to the idle times the records
 * keep (see `readRecords`).
 */
export function* readGeneration(
  table: Database<Buffer, ChunkKey>,
  generation: GenerationInfo,
  target: RecordSink,
  corrupt: (what: string) => Error,
  progress: GenerationProgress = { chunks: 0 },
  ageMs = 0,
): Generator<void, void> {
  const first = progress.chunks;
  let chunks = first;
  let records = 0;
  const crc = new GenerationCrc();
  // A range iterator reads through one LMDB read transaction for its whole life, across the steps' yields.
  for (const { key, value } of table.getRange({
    start: [generation.gen, first],
    end: [generation.gen + 1],
  })) {
    if (key[1] !== chunks) throw corrupt(`chunk ${chunks} is missing (found chunk ${key[1]})`);
    const problem = chunkProblem(value);
    if (problem !== undefined) throw corrupt(`chunk ${chunks} ${problem}`);
    crc.add(chunkCrc(value));
    try {
      // Keys and values stay as bytes: the target indexes them where they lie (the chunk's CRC covers them).
      const reader = new BufferReader(value, CHUNK_HEADER_BYTES);
      records += yield* readRecords(value, reader, target, RECORDS_PER_STEP, ageMs);
    } catch (error) {
      if (error instanceof CodecError) throw corrupt(`chunk ${chunks}: ${error.message}`);
      throw error;
    }
    chunks++;
    progress.chunks = chunks;
    yield;
  }
  if (chunks !== generation.chunks) {
    throw corrupt(`expected ${generation.chunks} chunks, found ${chunks}`);
  }
  if (first !== 0) return; // each chunk's own CRC was checked; the generation's totals need all of them
  if (records !== generation.records) {
    throw corrupt(`expected ${generation.records} records, found ${records}`);
  }
  if (crc.value !== generation.crc) throw corrupt('the chunk list does not match its checksum');
}
