import { BufferWriter, CodecError } from '../format/codec';
import { CHUNK_HEADER_BYTES, GenerationCrc, sealChunk } from '../format/chunks';
import {
  manifestWith,
  type GenerationInfo,
  type GenerationKind,
  type Manifest,
} from '../format/manifest';
import {
  NO_USAGE,
  writeEncodedRecord,
  writeRecord,
  writeTombstone,
  type EncodedRecord,
  type KeyState,
  type KeyUsage,
} from '../format/records';
import { showKey } from '../util/show-key';
import type { SnapshotStore } from './snapshot-store';
import { explainWriteError } from './write-errors';

/** Target size of a chunk: one LMDB value. */
export const CHUNK_BYTES = 256 * 1024;
/** Bytes of chunks queued in LMDB beyond which {@link SnapshotWriter.drain} waits. */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;
const HEADER_PLACEHOLDER = Buffer.alloc(CHUNK_HEADER_BYTES);

/** A chunk's bytes and where they go. */
export interface ChunkToWrite {
  readonly gen: number;
  readonly seq: number;
  readonly bytes: Buffer;
}

/** Writes one generation's chunks; {@link commit} makes it the restorable snapshot. */
export class SnapshotWriter {
  readonly gen: number;
  private readonly out = new BufferWriter(CHUNK_BYTES + 64 * 1024);
  private seq = 0;
  private records = 0;
  private bytes = 0;
  private readonly crc = new GenerationCrc();
  private readonly pending: { done: Promise<boolean>; bytes: number }[] = [];
  private pendingBytes = 0;
  /**
   * Buffers of chunks LMDB has committed, to write the next chunks into. lmdb-js reads a value from the caller's
   * memory until its write is committed, so a chunk's buffer is free again only then; reusing it keeps a snapshot's
   * memory to the chunks in flight instead of every chunk it wrote (until V8 collects them).
   */
  private readonly spare: Buffer[] = [];
  /** The first failed write, explained. */
  private failed: Promise<Error> | undefined;

  /** @internal use {@link SnapshotStore.beginWrite} */
  constructor(
    private readonly store: SnapshotStore,
    readonly kind: GenerationKind,
    private readonly base: Manifest | undefined,
    /** The store's removal of stray chunks, if it started one: a failure fails this write. */
    cleanup: Promise<boolean> | undefined,
  ) {
    this.gen = base?.nextGen ?? 1;
    if (cleanup !== undefined) this.track(cleanup, 0);
    this.startChunk();
  }

  /** Records in this generation so far. */
  get recordCount(): number {
    return this.records;
  }

  /**
   * Adds a key's state, with what `usage` keeps of its use. Throws a `CodecError` if the value cannot be stored.
   */
  add(key: string, state: KeyState, usage: Readonly<KeyUsage> = NO_USAGE): void {
    const mark = this.out.length;
    try {
      writeRecord(this.out, key, state, usage);
    } catch (error) {
      if (error instanceof CodecError) {
        error.message = `key ${showKey(key)}: ${error.message}`;
      }
      // Drop the partial record; the writer stays usable but the caller is expected to abort.
      this.out.truncate(mark);
      throw error;
    }
    this.recordAdded();
  }

  /** Adds a tombstone: `key` is deleted as of this generation. */
  addTombstone(key: string): void {
    writeTombstone(this.out, key);
    this.recordAdded();
  }

  /**
   * Adds a restored record as it was stored, with what `usage` keeps of its use: its key's and value's bytes are
   * copied, not encoded again.
   */
  addEncoded(record: EncodedRecord, usage: Readonly<KeyUsage> = NO_USAGE): void {
    writeEncodedRecord(this.out, record, usage);
    this.recordAdded();
  }

  /** Resolves once LMDB has caught up enough for more chunks to be queued; rejects if a write failed. */
  async drain(): Promise<void> {
    while (this.pendingBytes > MAX_PENDING_BYTES) {
      const oldest = this.pending.shift();
      if (oldest === undefined) break;
      this.pendingBytes -= oldest.bytes;
      await oldest.done.catch(() => undefined); // a failure is in `failed`, explained
    }
    if (this.failed !== undefined) throw await this.failed;
  }

  /**
   * Waits for every chunk written so far, then commits the last chunk and the manifest that names the generation in
   * one transaction. Returns the new manifest.
   */
  async commit(keys: number, createdAt: number): Promise<Manifest> {
    const lastChunk = this.out.length > CHUNK_HEADER_BYTES ? this.finishChunk() : undefined;
    await Promise.allSettled(this.pending.map((p) => p.done));
    if (this.failed !== undefined) throw await this.failed;
    const generation: GenerationInfo = {
      gen: this.gen,
      kind: this.kind,
      chunks: this.seq,
      records: this.records,
      bytes: this.bytes,
      crc: this.crc.value,
      createdAt,
    };
    const manifest = manifestWith(this.base, generation, keys);
    try {
      await this.store.commit(manifest, lastChunk);
    } catch (error) {
      throw await explainWriteError(error); // the caller aborts
    }
    this.releaseBuffers();
    this.store.endWrite(this);
    return manifest;
  }

  /**
   * Gives up the generation: waits for queued chunks and removes them (the next snapshot would otherwise). Call it
   * after anything failed, {@link commit} included; until then no other write can begin.
   */
  async abort(): Promise<void> {
    await Promise.allSettled(this.pending.map((p) => p.done));
    this.releaseBuffers();
    try {
      await this.store.discardUncommitted();
    } finally {
      this.store.endWrite(this);
    }
  }

  /** Counts the record just written, and sends the chunk off once it is full. */
  private recordAdded(): void {
    this.records++;
    if (this.out.length >= CHUNK_BYTES) this.flushChunk();
  }

  private startChunk(): void {
    const spare = this.spare.pop();
    if (spare !== undefined && !this.out.adopt(spare)) this.spare.push(spare);
    this.out.writeBytes(HEADER_PLACEHOLDER); // the chunk's CRC goes here
  }

  /** Ends the chunk being written: its CRC goes into it and into the generation's. */
  private finishChunk(): ChunkToWrite {
    const bytes = this.out.finish();
    this.crc.add(sealChunk(bytes));
    this.bytes += bytes.length;
    return { gen: this.gen, seq: this.seq++, bytes };
  }

  private flushChunk(): void {
    const chunk = this.finishChunk();
    const written = this.store.putChunk(chunk.gen, chunk.seq, chunk.bytes);
    this.track(written, chunk.bytes.length);
    // A chunk with a buffer of its own (the writer's, handed over) can be written into again once committed.
    const { buffer, byteOffset } = chunk.bytes;
    if (byteOffset === 0 && buffer.byteLength >= CHUNK_BYTES) {
      written.then(
        (ok) => ok && this.spare.push(Buffer.from(buffer)),
        () => undefined, // the failure is explained by track()
      );
    }
    this.startChunk();
  }

  /** Lets go of the chunk buffers once the generation is committed or given up. */
  private releaseBuffers(): void {
    this.out.release();
    this.spare.length = 0;
    this.pending.length = 0;
    this.pendingBytes = 0;
  }

  private track(done: Promise<boolean>, bytes: number): void {
    done.catch((error: unknown) => {
      // Every failed write's reason is read (an unread one would be an unhandled rejection); the first is kept.
      const explained = explainWriteError(error);
      this.failed ??= explained;
    });
    this.pending.push({ done, bytes });
    this.pendingBytes += bytes;
  }
}
