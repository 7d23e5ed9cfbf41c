/**
 * Chunks: the values of the `chunks` table (see `lmdb-layout.ts`). A chunk is a CRC-32 (uint32, little-endian) of
 * the rest of the chunk, then records (see `records.ts`). A generation's CRC is a CRC-32 over its chunks' CRCs, in
 * order, so that a missing, extra or reordered chunk is found too.
 */
import { crc32 } from 'node:zlib';

/** Bytes before a chunk's first record: its CRC. */
export const CHUNK_HEADER_BYTES = 4;

/** Writes the CRC of `chunk`'s records into its header, and returns it. */
export function sealChunk(chunk: Buffer): number {
  const crc = crc32(chunk.subarray(CHUNK_HEADER_BYTES));
  chunk.writeUInt32LE(crc, 0);
  return crc;
}

/** What is wrong with a stored chunk's framing, or `undefined` when its CRC matches its records. */
export function chunkProblem(chunk: Buffer): string | undefined {
  if (chunk.length < CHUNK_HEADER_BYTES) return 'is truncated';
  if (crc32(chunk.subarray(CHUNK_HEADER_BYTES)) !== chunk.readUInt32LE(0)) {
    return 'fails its checksum';
  }
  return undefined;
}

/** The CRC of a chunk as stored in its header. */
export function chunkCrc(chunk: Buffer): number {
  return chunk.readUInt32LE(0);
}

/** Accumulates a generation's CRC from its chunks' CRCs, in order. */
export class GenerationCrc {
  private crc = 0;
  private readonly bytes = Buffer.alloc(4);

  add(chunkCrc: number): void {
    this.bytes.writeUInt32LE(chunkCrc, 0);
    this.crc = crc32(this.bytes, this.crc);
  }

  get value(): number {
    return this.crc;
  }
}
