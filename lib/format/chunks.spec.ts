import { crc32 } from 'node:zlib';
import { CHUNK_HEADER_BYTES, chunkCrc, chunkProblem, GenerationCrc, sealChunk } from './chunks';

/** A chunk with room for its header, then `records`. */
function chunkOf(records: Buffer): Buffer {
  return Buffer.concat([Buffer.alloc(CHUNK_HEADER_BYTES), records]);
}

describe('chunks', () => {
  it('seals a chunk with the CRC-32 of its records, little-endian, in its first 4 bytes', () => {
    const records = Buffer.from('some records');
    const chunk = chunkOf(records);
    const crc = sealChunk(chunk);
    expect(crc).toBe(crc32(records));
    expect(chunk.readUInt32LE(0)).toBe(crc);
    expect(chunk.subarray(CHUNK_HEADER_BYTES)).toEqual(records);
    expect(chunkCrc(chunk)).toBe(crc);
    expect(chunkProblem(chunk)).toBeUndefined();
  });

  it('accepts a chunk with no records', () => {
    const chunk = chunkOf(Buffer.alloc(0));
    expect(sealChunk(chunk)).toBe(0);
    expect(chunkProblem(chunk)).toBeUndefined();
  });

  it('finds a chunk too short for its header truncated', () => {
    for (const length of [0, 1, 3]) {
      expect(chunkProblem(Buffer.alloc(length))).toBe('is truncated');
    }
  });

  it('finds any changed byte, in the header or the records, by the checksum', () => {
    const chunk = chunkOf(Buffer.from('records of a chunk'));
    sealChunk(chunk);
    for (let i = 0; i < chunk.length; i++) {
      const damaged = Buffer.from(chunk);
      damaged[i] ^= 0x01;
      expect(chunkProblem(damaged)).toBe('fails its checksum');
    }
    expect(chunkProblem(chunk.subarray(0, chunk.length - 1))).toBe('fails its checksum');
    expect(chunkProblem(Buffer.concat([chunk, Buffer.from([0])]))).toBe('fails its checksum');
  });
});

describe('GenerationCrc', () => {
  function generationCrc(chunkCrcs: number[]): number {
    const crc = new GenerationCrc();
    for (const c of chunkCrcs) crc.add(c);
    return crc.value;
  }

  it("is the CRC-32 of the chunks' CRCs as little-endian uint32s, in order", () => {
    const crcs = [0x01020304, 0xffffffff, 0];
    const bytes = Buffer.alloc(4 * crcs.length);
    crcs.forEach((c, i) => bytes.writeUInt32LE(c, 4 * i));
    expect(generationCrc(crcs)).toBe(crc32(bytes));
    expect(generationCrc([])).toBe(0);
  });

  it('changes when chunks are reordered, missing or extra', () => {
    const a = crc32('first chunk');
    const b = crc32('second chunk');
    const c = crc32('third chunk');
    const whole = generationCrc([a, b, c]);
    expect(generationCrc([a, b, c])).toBe(whole);
    expect(generationCrc([b, a, c])).not.toBe(whole);
    expect(generationCrc([a, c])).not.toBe(whole);
    expect(generationCrc([a, b, c, c])).not.toBe(whole);
  });
});
