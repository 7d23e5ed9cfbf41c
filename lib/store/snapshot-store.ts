import {
  closeSync,
  chmodSync,
  fsyncSync,
  lstatSync,
  openSync,
  renameSync,
  rmSync,
  type Stats,
} from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { Logger } from '@nestjs/common';
import { open, type Database, type RootDatabase } from 'lmdb';
import { LOG_CONTEXT } from '../persistent-cache.constants';
import { RestoredStates, type EncodedRecord, type KeyState } from '../embedded/keyspace';
import {
  CORRUPT_SNAPSHOT,
  NO_STORE_FILE,
  STORE_CLOSED,
  STORE_FILE_MISSING,
  STORE_FILE_REPLACED,
  STORE_NOT_OPEN,
  STORE_READ_ONLY,
  WRITE_IN_PROGRESS,
  UNSUPPORTED_FORMAT,
} from '../persistent-cache.messages';
import { showKey } from '../show-key';
import { runInSlices } from '../slices';
import { checkStoreFile } from './check-file';
import { BufferReader, BufferWriter, CodecError } from './codec';
import {
  checkStoreFiles,
  claimWithRoom,
  lockFileOf,
  prepareDataDir,
  statIfAny,
  STORE_FILE,
} from './data-dir';
import { closeWithin, createStoreFile } from './new-store';
import { quarantineStore } from './quarantine';
import { explainOpenError, messageOf, StoreEnvironmentError } from './store-errors';

export { QUARANTINE_DIR, STORE_FILE } from './data-dir';
export { StoreEnvironmentError } from './store-errors';

/**
 * The snapshot store: an LMDB file holding a chain of generations, like Redis 7's multi-part AOF (a base file, the
 * increments after it, and a manifest naming them).
 *
 * - `chunks` maps `[generation, sequence]` to a chunk: a CRC-32 of the rest, then records. A record is a key with
 *   its value and expiry time, or a tombstone for a deleted key. Chunks are appended in key order, which is the
 *   fast way to fill LMDB, and each is one LMDB value of about {@link CHUNK_BYTES}.
 * - `meta` holds the manifest: the format version and the committed chain — a full generation followed by the
 *   incremental ones written after it, each with its chunk count, record count, size and a CRC over its chunks.
 *
 * A snapshot writes a new generation's chunks in as many LMDB transactions as it likes, waits until they are all
 * committed, then commits by writing the manifest, in one transaction with the generation's last chunk: a crash or
 * error at any point before it leaves the previous manifest, and every chunk it names, untouched. Chunks of
 * generations the manifest does not name (an interrupted snapshot's, or a chain a full snapshot replaced) are removed
 * after the commit, or when the next snapshot begins if a crash or failure may have left some.
 */

/**
 * Version of the on-disk layout this library writes. 2: each value is preceded by its length, so that a restore
 * steps over values it keeps encoded (1, before it, had no lengths). 3: values may use the codec's scored-map tag
 * (sorted sets); a format-2 store is a format-3 store that does not, so both are read.
 */
export const FORMAT_VERSION = 3;
/** Format versions a restore reads; it refuses any other. */
export const READABLE_FORMATS: readonly number[] = [2, 3];
/** How long {@link SnapshotStore.close} waits for LMDB. */
const CLOSE_TIMEOUT_MS = 5_000;
/** Target size of one chunk. */
const CHUNK_BYTES = 256 * 1024;
/**
 * Records a restore decodes between two looks at the clock. A chunk holds a few thousand: decoded whole, the first
 * ones of a restore at startup, before V8 has compiled the decoder, held the event loop for 20-30 ms (decoding
 * runs at 10-20 µs a record then, under 1 µs once compiled).
 */
const RECORDS_PER_STEP = 64;
/** Bytes of chunks a writer may have queued for LMDB before it waits for commits. */
const MAX_PENDING_BYTES = 16 * 1024 * 1024;
const MANIFEST_KEY = 'manifest';
/** Suffix of the compacted copy {@link SnapshotStore.compact} makes beside the store file. */
const COMPACT_SUFFIX = '.compact';
/** A store file is worth compacting once it is this many times the size of the chain it holds... */
const COMPACT_RATIO = 4;
/** ...and at least this much of it is free pages. */
const COMPACT_MIN_FREE_BYTES = 64 * 2 ** 20;

/**
 * Whether a store file of `fileBytes` holding a chain of `chainBytes` is mostly free pages: after a burst of keys
 * since deleted, or a full disk's failed snapshots. LMDB reuses free pages, so a file up to a few times its chain
 * (a full snapshot written beside the chain it replaces, and its increments) is its steady size.
 */
export function worthCompacting(fileBytes: number, chainBytes: number): boolean {
  return fileBytes > COMPACT_RATIO * chainBytes && fileBytes - chainBytes >= COMPACT_MIN_FREE_BYTES;
}

const FLAG_TOMBSTONE = 1;
const FLAG_EXPIRES = 2;

export type GenerationKind = 'full' | 'incremental';

export interface GenerationInfo {
  readonly gen: number;
  readonly kind: GenerationKind;
  readonly chunks: number;
  readonly records: number;
  readonly bytes: number;
  /** CRC-32 over the chunks' own CRCs, in order: a missing, extra or reordered chunk changes it. */
  readonly crc: number;
  readonly createdAt: number;
}

export interface Manifest {
  readonly format: number;
  /** When the last committed snapshot began (ms since epoch): the point in time it holds. */
  readonly createdAt: number;
  /** Keys the keyspace held when the last snapshot began (keys past their TTL but not yet removed included). */
  readonly keys: number;
  /** Bytes of all chunks of the chain. */
  readonly bytes: number;
  /** The committed chain: one full generation, then incremental ones, oldest first. */
  readonly generations: readonly GenerationInfo[];
  readonly nextGen: number;
}

export interface RestoredData {
  readonly states: RestoredStates;
  /** Keys whose expiry time had passed at restore time, left out. */
  readonly expired: number;
  readonly manifest: Manifest;
}

type ChunkKey = [number, number];

/** A chunk's bytes and where they go. */
interface ChunkToWrite {
  readonly gen: number;
  readonly seq: number;
  readonly bytes: Buffer;
}

interface Tables {
  readonly root: RootDatabase;
  readonly chunks: Database<Buffer, ChunkKey>;
  readonly meta: Database<Buffer, string>;
}

/**
 * Thrown by {@link SnapshotStore.open}, {@link SnapshotStore.read} and {@link SnapshotStore.manifest} when the
 * stored snapshot is damaged or in a format this version does not read.
 */
export class UnreadableSnapshotError extends Error {
  override name = 'UnreadableSnapshotError';
}

/**
 * Thrown by {@link SnapshotStore.beginWrite} and at a snapshot's commit when the store file at the path is no longer
 * the one this process writes: deleted (`missing`; {@link SnapshotStore.recreate} makes a new one) or replaced by
 * another file (left alone).
 */
export class StoreMovedError extends Error {
  override name = 'StoreMovedError';

  constructor(
    readonly path: string,
    readonly missing: boolean,
  ) {
    super(missing ? STORE_FILE_MISSING(path) : STORE_FILE_REPLACED(path));
  }
}

/** Which file a path names: its device and inode. */
interface FileIdentity {
  readonly dev: number;
  readonly ino: number;
}

/**
 * The store in `dataDir`. {@link open} claims the directory, checks the file and opens it; {@link close} gives it
 * all up. {@link quarantine} moves a damaged store aside.
 */
export class SnapshotStore {
  private readonly logger = new Logger(LOG_CONTEXT);
  private tablesOpen: Tables | undefined;
  private writable = false;
  private release: (() => void) | undefined;
  private closing: Promise<void> | undefined;
  /**
   * Whether the chunk table may hold chunks no committed manifest names, besides those of a write in progress.
   * True until a cleanup or a commit shows otherwise (an interrupted snapshot, or a crash, leaves some); while false,
   * a snapshot does not scan the table for them.
   */
  private strayChunksPossible = true;
  /** The write in progress: one at a time, since each takes the next generation number. */
  private writer: SnapshotWriter | undefined;
  /**
   * The manifest this process last committed. Nobody else writes a store this process opened for writing (it owns
   * the directory), so {@link manifest} returns it without reading LMDB, whose first read after a large write took
   * 2-4 ms here.
   */
  private committed: Manifest | undefined;
  /**
   * The store file and lock file this process opened for writing. LMDB keeps writing to the files it opened, even
   * once they are deleted or replaced at their paths: snapshots would succeed into a file nobody can restore.
   */
  private identity: { readonly store: FileIdentity; readonly lock: FileIdentity } | undefined;

  constructor(readonly dataDir: string) {}

  private get path(): string {
    return join(this.dataDir, STORE_FILE);
  }

  /**
   * Creates the data directory if needed (mode 0700), claims it for this process, checks the store file in a
   * child process (see `check-file.ts`) and opens it. Throws a {@link UnreadableSnapshotError} when the file's
   * content is damaged; the directory stays claimed, so that {@link quarantine} can move the file aside. Any other
   * problem — permissions, the kind of a file, a full disk — is a {@link StoreEnvironmentError}, found before LMDB
   * sees the files. Tools that only read (the CLI's inspect, verify, export) pass `claim: false`: LMDB lets them
   * read beside the running app, and they create no store.
   */
  async open({ claim = true }: { claim?: boolean } = {}): Promise<void> {
    this.assertOpen(false);
    if (this.tablesOpen !== undefined) return;
    this.committed = undefined;
    prepareDataDir(this.dataDir);
    if (claim) {
      this.release ??= claimWithRoom(this.dataDir);
      rmSync(`${join(this.dataDir, STORE_FILE)}${COMPACT_SUFFIX}`, { force: true }); // a compaction cut short
    }
    const path = join(this.dataDir, STORE_FILE);
    if (statIfAny(path) === undefined) {
      if (!claim) throw new StoreEnvironmentError(NO_STORE_FILE(this.dataDir, STORE_FILE));
      await createEmptyStore(path);
    }
    checkStoreFiles(path, claim ? 'read-write' : 'read');
    const { problem, warning } = await checkStoreFile(path);
    if (problem !== undefined) {
      throw new UnreadableSnapshotError(CORRUPT_SNAPSHOT(this.dataDir, problem));
    }
    if (warning !== undefined) this.logger.warn(warning);
    try {
      this.tablesOpen = openTables(path, true);
    } catch (error) {
      throw explainOpenError(
        path,
        error,
        (cause) =>
          new UnreadableSnapshotError(
            CORRUPT_SNAPSHOT(this.dataDir, `LMDB cannot open it: ${messageOf(cause)}`),
          ),
      );
    }
    this.writable = false;
    // Every store is created with a manifest, so a missing one is damage, not a new store.
    this.manifest();
  }

  /**
   * Makes the store writable. {@link open} opens the checked file read-only, so that a snapshot that fails to
   * restore is left untouched; call this after restoring.
   */
  async openForWriting(): Promise<void> {
    const tables = this.tables();
    if (this.writable) return;
    this.tablesOpen = undefined;
    await tables.root.close();
    const path = join(this.dataDir, STORE_FILE);
    try {
      this.tablesOpen = openTables(path, false);
    } catch (error) {
      throw explainOpenError(path, error, (cause) =>
        cause instanceof Error ? cause : new Error(String(cause)),
      );
    }
    this.writable = true;
    for (const file of [path, lockFileOf(path)]) {
      if (statIfAny(file) !== undefined) chmodSync(file, 0o600);
    }
    this.identity = {
      store: identityOf(lstatSync(path)),
      lock: identityOf(lstatSync(`${path}-lock`)),
    };
  }

  /**
   * Throws a {@link StoreMovedError} when the store file at the path is not the one this process writes. A lock file
   * deleted or replaced (LMDB coordinates readers through it: a reader that made a new one would not see this
   * writer) is made again by reopening the store. Call it before {@link beginWrite}; a commit checks again.
   */
  async ensureInPlace(): Promise<void> {
    const identity = this.identity;
    if (identity === undefined) return;
    const store = identityAt(this.path);
    if (store === undefined) throw new StoreMovedError(this.path, true);
    if (!sameFile(store, identity.store)) throw new StoreMovedError(this.path, false);
    const lock = identityAt(`${this.path}-lock`);
    if (lock !== undefined && sameFile(lock, identity.lock)) return;
    this.logger.warn(
      `The lock file ${this.path}-lock was deleted or replaced while the application ran; reopening the store.`,
    );
    this.identity = undefined;
    this.writable = false;
    await this.openForWriting();
  }

  /**
   * After a {@link StoreMovedError} for a deleted store: makes a new, empty store at the path (the data directory
   * too, if it went with it, and the claim on it) and opens it for writing. The next snapshot is then a full one.
   */
  async recreate(): Promise<void> {
    this.assertWritable();
    if (identityAt(this.path) !== undefined) throw new StoreMovedError(this.path, false);
    const tables = this.tables();
    this.tablesOpen = undefined;
    this.identity = undefined;
    this.writable = false;
    await tables.root.close();
    prepareDataDir(this.dataDir);
    // The claim may have gone with the directory: give it up and claim again, so another process cannot share it.
    this.release?.();
    this.release = undefined;
    this.release = claimWithRoom(this.dataDir);
    await createEmptyStore(this.path);
    this.committed = undefined;
    this.strayChunksPossible = false;
    this.tablesOpen = openTables(this.path, true);
    await this.openForWriting();
  }

  /**
   * Moves the store's files into `<dataDir>/quarantine/<time>/` — never deletes them — leaving the directory
   * ready for a new, empty store ({@link open} again). All or nothing: when a file cannot be moved, a
   * {@link StoreEnvironmentError} says why and the directory is left as it was. Returns where the files went.
   */
  async quarantine(): Promise<string> {
    this.assertOpen(false);
    const tables = this.tablesOpen;
    this.tablesOpen = undefined;
    await tables?.root.close();
    return quarantineStore(this.dataDir);
  }

  /** The committed manifest, or `undefined` if nothing was ever committed. Throws on an unreadable one. */
  manifest(): Manifest | undefined {
    const { meta } = this.tables();
    if (this.committed !== undefined) return this.committed;
    const raw = meta.get(MANIFEST_KEY);
    if (raw === undefined) {
      throw new UnreadableSnapshotError(CORRUPT_SNAPSHOT(this.dataDir, 'the manifest is missing'));
    }
    const manifest = parseManifest(raw, this.dataDir);
    return manifest.generations.length === 0 ? undefined : manifest;
  }

  /**
   * Starts writing a generation. An incremental one extends the committed chain; a full one replaces it when
   * committed. Synchronous, so that a capture can begin right after it. Chunks left by generations the manifest
   * does not name (an interrupted snapshot's), if there may be any, are removed first: LMDB applies queued writes
   * in order. One write at a time: it throws while another is neither committed nor aborted.
   */
  beginWrite(kind: GenerationKind): SnapshotWriter {
    this.assertWritable();
    if (this.writer !== undefined) throw new Error(WRITE_IN_PROGRESS(this.dataDir));
    const manifest = this.manifest();
    if (kind === 'incremental' && manifest === undefined) {
      throw new Error('an incremental snapshot needs a committed full snapshot to build on');
    }
    const cleanup = this.strayChunksPossible
      ? this.removeUnreferencedChunks(manifest).then(() => true)
      : undefined;
    // The new generation's chunks are strays until its manifest commits.
    this.strayChunksPossible = true;
    this.writer = new SnapshotWriter(this, kind, manifest, cleanup);
    return this.writer;
  }

  /** @internal called once `writer` has committed, or has been aborted (whether or not its cleanup succeeded). */
  endWrite(writer: SnapshotWriter): void {
    if (this.writer === writer) this.writer = undefined;
  }

  /** Reads the committed chain into key states, checking every CRC and count on the way. */
  read(now = Date.now()): RestoredData | undefined {
    const steps = this.readSteps(now);
    for (;;) {
      const step = steps.next();
      if (step.done === true) return step.value;
    }
  }

  /**
   * {@link read}, giving the event loop a turn whenever a slice of `sliceMs` has passed: a restore of millions of
   * keys then never stops the app for long. Each generation is read through one LMDB read transaction, and nothing
   * writes the store meanwhile (only its owner does, and not while it restores), so the chain read is consistent.
   */
  readInSlices(sliceMs: number, now = Date.now()): Promise<RestoredData | undefined> {
    return runInSlices(this.readSteps(now), sliceMs);
  }

  /** The steps of a read: it yields after each chunk, and after every few thousand keys of the expiry pass. */
  private *readSteps(now: number): Generator<void, RestoredData | undefined> {
    const manifest = this.manifest();
    if (manifest === undefined) return undefined;
    const states = new RestoredStates();
    states.reserve(manifest.generations.reduce((sum, g) => sum + g.records, 0));
    yield; // a few milliseconds at 1M records: V8 may collect garbage for the memory it takes
    for (const generation of manifest.generations) yield* this.readGeneration(generation, states);
    const expired = states.leaveOutExpired(now);
    return { states, expired, manifest };
  }

  private *readGeneration(generation: GenerationInfo, states: RestoredStates): Generator<void> {
    const corrupt = (what: string) =>
      new UnreadableSnapshotError(
        CORRUPT_SNAPSHOT(this.dataDir, `generation ${generation.gen}: ${what}`),
      );
    let chunks = 0;
    let records = 0;
    let crc = 0;
    const crcBytes = Buffer.alloc(4);
    // A range iterator reads through one LMDB read transaction for its whole life, across the steps' yields.
    for (const { key, value } of this.tables().chunks.getRange({
      start: [generation.gen],
      end: [generation.gen + 1],
    })) {
      if (key[1] !== chunks) throw corrupt(`chunk ${chunks} is missing (found chunk ${key[1]})`);
      if (value.length < 4) throw corrupt(`chunk ${chunks} is truncated`);
      const stored = value.readUInt32LE(0);
      if (crc32(value.subarray(4)) !== stored) throw corrupt(`chunk ${chunks} fails its checksum`);
      crcBytes.writeUInt32LE(stored, 0);
      crc = crc32(crcBytes, crc);
      try {
        records += yield* decodeChunk(value, states);
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
    if (crc !== generation.crc) throw corrupt('the chunk list does not match its checksum');
  }

  /** @internal */
  putChunk(gen: number, seq: number, chunk: Buffer): Promise<boolean> {
    this.assertWritable();
    return this.tables().chunks.put([gen, seq], chunk);
  }

  /**
   * @internal writes the manifest, the commit point of a snapshot, in one transaction with its generation's last
   * chunk (if given). A full generation's commit then removes the chain it replaced.
   */
  async commit(manifest: Manifest, lastChunk?: ChunkToWrite): Promise<void> {
    this.assertWritable();
    // Every chunk write has settled by now: reopening the store for a lost lock file loses nothing.
    await this.ensureInPlace();
    const { root, chunks, meta } = this.tables();
    const body = serializeManifest(manifest);
    await root.transaction(() => {
      if (lastChunk !== undefined) void chunks.put([lastChunk.gen, lastChunk.seq], lastChunk.bytes);
      void meta.put(MANIFEST_KEY, body);
    });
    this.committed = manifest;
    // A full generation starts a new chain: the one it replaced goes.
    if (manifest.generations.length === 1) await this.removeUnreferencedChunks(manifest);
    this.strayChunksPossible = false;
  }

  /** @internal removes the chunks of a write given up (every chunk the committed manifest does not name). */
  async discardUncommitted(): Promise<void> {
    await this.removeUnreferencedChunks(this.manifest());
    this.strayChunksPossible = false;
  }

  /** @internal removes chunks of generations the manifest does not name. */
  async removeUnreferencedChunks(manifest: Manifest | undefined): Promise<number> {
    const live = new Set(manifest?.generations.map((g) => g.gen));
    const removals: Promise<boolean>[] = [];
    for (const key of this.tables().chunks.getKeys()) {
      if (!live.has(key[0])) removals.push(this.tables().chunks.remove(key));
    }
    await Promise.all(removals).catch(async (error: unknown) => {
      throw await explainWriteError(error);
    });
    return removals.length;
  }

  /**
   * Rewrites the store file without its free pages. LMDB reuses the pages a snapshot frees but never gives them back
   * to the file system, so a store that once grew large (a burst of keys, a full disk's retries) keeps its size.
   * The compacted copy is made beside the file (by LMDB, from one read transaction, off the main thread), synced,
   * and renamed over it; the lock file goes with the old file, and processes still reading it keep the old pair. A
   * failure at any point leaves the store as it was. Call it between snapshots. Returns the sizes before and after.
   */
  async compact(): Promise<{ readonly before: number; readonly after: number }> {
    this.assertWritable();
    if (this.writer !== undefined) throw new Error(WRITE_IN_PROGRESS(this.dataDir));
    await this.ensureInPlace();
    const before = this.fileSize();
    const copy = `${this.path}${COMPACT_SUFFIX}`;
    rmSync(copy, { force: true });
    try {
      await this.tables().root.backup(copy, true);
      syncFile(copy);
    } catch (error) {
      rmSync(copy, { force: true });
      throw error;
    }
    const tables = this.tables();
    this.tablesOpen = undefined;
    this.identity = undefined;
    this.writable = false;
    await tables.root.close();
    renameSync(copy, this.path);
    rmSync(`${this.path}-lock`, { force: true });
    syncFile(this.dataDir);
    this.tablesOpen = openTables(this.path, true);
    await this.openForWriting();
    return { before, after: this.fileSize() };
  }

  /** Size of the LMDB file on disk, in bytes. */
  fileSize(): number {
    return lstatSync(join(this.dataDir, STORE_FILE)).size;
  }

  /**
   * The open tables. Writes queued after LMDB began closing would never settle, so once {@link close} is called
   * every operation fails at once instead.
   */
  private tables(): Tables {
    this.assertOpen(true);
    return this.tablesOpen as Tables;
  }

  private assertWritable(): void {
    this.tables();
    if (!this.writable) throw new Error(STORE_READ_ONLY(this.dataDir));
  }

  private assertOpen(opened: boolean): void {
    if (this.closing !== undefined) throw new Error(STORE_CLOSED(this.dataDir));
    if (opened && this.tablesOpen === undefined) throw new Error(STORE_NOT_OPEN(this.dataDir));
  }

  /**
   * Waits for queued writes, closes LMDB and gives up the data directory. Idempotent. After a commit failed on a
   * full disk, lmdb-js can wait forever for a flush that never comes; closing then gives up waiting after
   * {@link CLOSE_TIMEOUT_MS} and leaves the environment to the end of the process (nothing uncommitted is lost:
   * only committed snapshots are restorable anyway).
   */
  close(): Promise<void> {
    this.closing ??= (async () => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const closed = this.tablesOpen?.root.close();
        const gaveUp = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, CLOSE_TIMEOUT_MS);
        });
        await Promise.race([closed, gaveUp]);
      } finally {
        clearTimeout(timer);
        this.release?.();
      }
    })();
    return this.closing;
  }
}

/** Writes one generation's chunks; {@link commit} makes it the restorable snapshot. */
export class SnapshotWriter {
  readonly gen: number;
  private readonly out = new BufferWriter(CHUNK_BYTES + 64 * 1024);
  private seq = 0;
  private records = 0;
  private bytes = 0;
  private crc = 0;
  private readonly crcBytes = Buffer.alloc(4);
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

  /** Adds a key's state. Throws a `CodecError` if the value cannot be stored. */
  add(key: string, state: KeyState): void {
    const out = this.out;
    const mark = out.length;
    try {
      if (state.expiresAt === undefined) {
        out.writeVarUint(0);
        out.writeString(key);
      } else {
        out.writeVarUint(FLAG_EXPIRES);
        out.writeString(key);
        out.writeFloat64(state.expiresAt);
      }
      const lengthAt = out.length;
      out.writeUInt32(0);
      // A value restored and not read since is copied as it was stored.
      if (state.copyEncodedTo?.(out) !== true) out.writeValue(state.value);
      out.patchUInt32(lengthAt, out.length - lengthAt - 4);
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
    this.out.writeVarUint(FLAG_TOMBSTONE);
    this.out.writeString(key);
    this.recordAdded();
  }

  /** Adds a restored record as it was stored: its key's and value's bytes are copied, not encoded again. */
  addEncoded(record: EncodedRecord): void {
    const out = this.out;
    const expiresAt = record.expiresAt;
    out.writeVarUint(expiresAt === undefined ? 0 : FLAG_EXPIRES);
    record.copyKeyTo(out);
    if (expiresAt !== undefined) out.writeFloat64(expiresAt);
    const lengthAt = out.length;
    out.writeUInt32(0);
    record.copyValueTo(out);
    out.patchUInt32(lengthAt, out.length - lengthAt - 4);
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
    const lastChunk = this.out.length > 4 ? this.finishChunk() : undefined;
    await Promise.allSettled(this.pending.map((p) => p.done));
    if (this.failed !== undefined) throw await this.failed;
    const generation: GenerationInfo = {
      gen: this.gen,
      kind: this.kind,
      chunks: this.seq,
      records: this.records,
      bytes: this.bytes,
      crc: this.crc,
      createdAt,
    };
    const chain =
      this.kind === 'full' ? [generation] : [...(this.base?.generations ?? []), generation];
    const manifest: Manifest = {
      format: FORMAT_VERSION,
      createdAt,
      keys,
      bytes: chain.reduce((sum, g) => sum + g.bytes, 0),
      generations: chain,
      nextGen: this.gen + 1,
    };
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
    this.out.writeBytes(this.crcBytes); // placeholder for the chunk's CRC
  }

  /** Ends the chunk being written: its CRC goes into it and into the generation's. */
  private finishChunk(): ChunkToWrite {
    const bytes = this.out.finish();
    const crc = crc32(bytes.subarray(4));
    bytes.writeUInt32LE(crc, 0);
    this.crcBytes.writeUInt32LE(crc, 0);
    this.crc = crc32(this.crcBytes, this.crc);
    this.crcBytes.fill(0);
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

/** What a failed write's errno (lmdb-js gives numbers, Node names) most likely means for an operator. */
const WRITE_ERROR_HINTS = new Map<number | string, string>();
for (const [codes, hint] of [
  [[28, 'ENOSPC'], ' (is the disk full?)'],
  [[122, 'EDQUOT'], ' (is the disk quota exceeded?)'],
  [[27, 'EFBIG'], ' (is the file size limited? see `ulimit -f`)'],
  // LMDB reports a full disk or a file size limit met while it flushes spilled pages as EIO.
  [[5, 'EIO'], ' (is the disk full? Else the file size may be limited, or the disk failing)'],
  [
    [1, 13, 30, 'EPERM', 'EACCES', 'EROFS'],
    ' (the store file or its file system cannot be written)',
  ],
] as const) {
  for (const code of codes) WRITE_ERROR_HINTS.set(code, hint);
}

/**
 * lmdb-js rejects a failed commit with "Commit failed (see commitError for details)" and the reason in a second
 * promise, which would otherwise go unhandled. Returns an error that says what happened.
 */
async function explainWriteError(error: unknown): Promise<Error> {
  const base = error instanceof Error ? error : new Error(String(error));
  const commitError = (base as { commitError?: unknown }).commitError;
  if (!(commitError instanceof Promise)) return base;
  const cause: unknown = await commitError.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  if (cause === undefined) return base;
  const hint = WRITE_ERROR_HINTS.get((cause as { code?: unknown }).code as number | string) ?? '';
  const reason = cause instanceof Error ? cause.message : JSON.stringify(cause);
  return new Error(`LMDB could not commit the write: ${reason}${hint}`, { cause });
}

/** Indexes a chunk's records into `states`, yielding every {@link RECORDS_PER_STEP}. Returns how many it held. */
function* decodeChunk(chunk: Buffer, states: RestoredStates): Generator<void, number> {
  const reader = new BufferReader(chunk, 4);
  let records = 0;
  while (!reader.done) {
    if (records % RECORDS_PER_STEP === RECORDS_PER_STEP - 1) yield;
    const flags = reader.readVarUint();
    if (flags > (FLAG_TOMBSTONE | FLAG_EXPIRES)) {
      throw new CodecError(`unknown record flags ${flags} at offset ${reader.offset}`);
    }
    // Keys, like values, stay as bytes: the states index them where they lie (see RestoredStates).
    const keyStart = reader.offset;
    reader.skipString();
    const keyEnd = reader.offset;
    if (flags & FLAG_TOMBSTONE) {
      states.deleteRecord(chunk, keyStart, keyEnd);
    } else {
      const expiresAt = flags & FLAG_EXPIRES ? reader.readFloat64() : undefined;
      // Values stay encoded until first read (the chunk's checksum covers them).
      const length = reader.readUInt32();
      const start = reader.offset;
      reader.skipBytes(length);
      states.setRecord(chunk, keyStart, keyEnd, start, start + length, expiresAt);
    }
    records++;
  }
  return records;
}

function serializeManifest(manifest: Manifest): Buffer {
  const body = JSON.stringify(manifest);
  return Buffer.from(JSON.stringify({ crc: crc32(body), body }));
}

function parseManifest(raw: Buffer, dataDir: string): Manifest {
  let envelope: unknown;
  try {
    envelope = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new UnreadableSnapshotError(CORRUPT_SNAPSHOT(dataDir, 'the manifest is not valid JSON'));
  }
  const { crc, body } = (envelope ?? {}) as { crc?: unknown; body?: unknown };
  if (typeof body !== 'string' || typeof crc !== 'number' || crc32(body) !== crc) {
    throw new UnreadableSnapshotError(CORRUPT_SNAPSHOT(dataDir, 'the manifest fails its checksum'));
  }
  const manifest = JSON.parse(body) as Manifest;
  if (!READABLE_FORMATS.includes(manifest.format)) {
    throw new UnreadableSnapshotError(
      UNSUPPORTED_FORMAT(dataDir, manifest.format, READABLE_FORMATS),
    );
  }
  const generations: unknown = manifest.generations;
  if (
    !Array.isArray(generations) ||
    (generations.length > 0 && (generations[0] as GenerationInfo).kind !== 'full')
  ) {
    throw new UnreadableSnapshotError(
      CORRUPT_SNAPSHOT(dataDir, 'the manifest names no full generation'),
    );
  }
  return manifest;
}

/**
 * Opens the store's tables. Two lmdb-js options keep every failed write (a full disk, EPERM, EIO) a rejection of a
 * promise this module holds, and keep {@link SnapshotStore.close} from waiting forever after one:
 * - `eventTurnBatching: false`: with it, lmdb-js starts each turn's batch with a write of its own whose promise
 *   nobody holds; when that transaction fails, the rejection is unhandled and Node ends the process.
 * - `overlappingSync: false`: with it, a write resolves before its flush, and closing waits for the flush of the
 *   last transaction, which never comes when that transaction failed. Without it a write resolves once its commit is
 *   synced to disk, which is what a snapshot waits for anyway.
 */
function openTables(path: string, readOnly: boolean): Tables {
  const root = open({
    path,
    maxDbs: 4,
    readOnly,
    eventTurnBatching: false,
    overlappingSync: false,
  });
  return {
    root,
    chunks: root.openDB<Buffer, ChunkKey>({ name: 'chunks', encoding: 'binary' }),
    meta: root.openDB<Buffer, string>({ name: 'meta', encoding: 'binary' }),
  };
}

/**
 * Creates a store holding an empty manifest, under a temporary name renamed into place once committed: a store
 * file without a manifest is then always damage, never a store whose creation was cut short (see `new-store.ts`).
 */
async function createEmptyStore(path: string): Promise<void> {
  await createStoreFile(path, async (draft) => {
    const tables = openTables(draft, false);
    const empty: Manifest = {
      format: FORMAT_VERSION,
      createdAt: Date.now(),
      keys: 0,
      bytes: 0,
      generations: [],
      nextGen: 1,
    };
    try {
      await tables.meta.put(MANIFEST_KEY, serializeManifest(empty));
    } finally {
      await closeWithin(tables.root, CLOSE_TIMEOUT_MS);
    }
  });
}

/** Flushes a file's (or a directory's entries') data to disk. */
function syncFile(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function identityOf(stat: Stats): FileIdentity {
  return { dev: stat.dev, ino: stat.ino };
}

/** The identity of the file at `path`, or `undefined` when there is none. */
function identityAt(path: string): FileIdentity | undefined {
  try {
    return identityOf(lstatSync(path));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw error;
  }
}

function sameFile(a: FileIdentity, b: FileIdentity): boolean {
  return a.dev === b.dev && a.ino === b.ino;
}
