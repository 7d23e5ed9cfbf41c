import { chmodSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import {
  serializeManifest,
  type GenerationInfo,
  type GenerationKind,
  type Manifest,
} from '../format/manifest';
import type { RecordSink } from '../format/records';
import { MANIFEST_KEY, openTables, type Tables } from '../format/lmdb-layout';
import { LOG_CONTEXT } from '../util/log-context';
import { RepeatedLog } from '../util/repeated-log';
import { runAtOnce, runInSlices } from '../util/slices';
import { checkStoreFile } from './check-file';
import {
  checkStoreFiles,
  claimWithRoom,
  lockFileOf,
  prepareDataDir,
  renewClaimWithRoom,
  statIfAny,
  STORE_FILE,
} from './data-dir';
import { compactStoreFile, removeCompactionLeftover } from './compaction';
import { type FileIdentity, identityAt, OpenedFiles, sameFile } from './file-identity';
import { CLOSE_TIMEOUT_MS, closeWithin, createEmptyStore } from './new-store';
import { quarantineStore } from './quarantine';
import { openReadOnlyView, type ReadOnlyView } from './read-only-view';
import {
  readChain,
  readGeneration,
  type GenerationProgress,
  readManifest,
  type RestoredData,
  type RestoreTarget,
} from './snapshot-reader';
import { SnapshotWriter, type ChunkToWrite } from './snapshot-writer';
import {
  errnoCode,
  explainOpenError,
  StoreEnvironmentError,
  StoreMovedError,
  UnreadableSnapshotError,
} from './store-errors';
import { asError, messageOf } from '../util/errors';
import {
  CLAIM_NOT_GIVEN_UP,
  CORRUPT_SNAPSHOT,
  LOCK_FILE_LOST,
  LOCK_FILE_NOT_MADE_AGAIN,
  STORE_CLOSED,
  STORE_NOT_OPEN,
  STORE_OPENED_TO_READ,
  STORE_NOT_MADE_AGAIN,
  STORE_READ_ONLY,
  WRITE_IN_PROGRESS,
} from './store.messages';
import { explainWriteError } from './write-errors';

export { QUARANTINE_DIR, STORE_FILE } from './data-dir';
export { StoreEnvironmentError, StoreMovedError, UnreadableSnapshotError } from './store-errors';
export type { RestoredData, RestoreTarget } from './snapshot-reader';
export { SnapshotWriter } from './snapshot-writer';

/**
 * The snapshot store: an LMDB file holding a chain of generations, like Redis 7's multi-part AOF (a base file, the
 * increments after it, and a manifest naming them).
 *
 * - `chunks` maps `[generation, sequence]` to a chunk: a CRC-32 of the rest, then records. A record is a key with
 *   its value and expiry time, or a tombstone for a deleted key. Chunks are appended in key order, which is the
 *   fast way to fill LMDB, and each is one LMDB value of about `CHUNK_BYTES`.
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
  /** The store file and lock file this process opened for writing (see {@link ensureInPlace}). */
  private opened: OpenedFiles | undefined;
  /** Where a store opened to read only (`claim: false`) is open (see `read-only-view.ts`). */
  private view: ReadOnlyView | undefined;
  /**
   * The new, empty store a {@link recreate} made at the path but did not open, a later step having failed: until one
   * does, the store this process wrote counts as missing, and the next recreate opens this one rather than make
   * another.
   */
  private made: FileIdentity | undefined;
  /**
   * The store was closed to be opened again (its lock file lost, or a compaction), and that has not succeeded yet:
   * the next {@link ensureInPlace} tries again, instead of every later snapshot failing on a closed store.
   */
  private reopening = false;
  /** A lost lock file that cannot be made again, logged once a minute while it lasts. */
  private readonly lockProblems = new RepeatedLog((message, count) =>
    this.logger.warn(
      count === 1 ? message : `${message} (${count} times since the last such line)`,
    ),
  );

  constructor(readonly dataDir: string) {}

  private get path(): string {
    return join(this.dataDir, STORE_FILE);
  }

  /**
   * Creates the data directory if needed (mode 0700), claims it for this process, checks the store file in a
   * child process (see `check-file.ts`) and opens it. Throws a {@link UnreadableSnapshotError} when the file's
   * content is damaged; the directory stays claimed, so that {@link quarantine} can move the file aside. Any other
   * problem — permissions, the kind of a file, a full disk — is a {@link StoreEnvironmentError}, found before LMDB
   * sees the files. Tools that only read (the CLI's inspect, verify, export) pass `claim: false`: the store is then
   * opened read-only, beside a running app, and nothing is created, changed or moved in the data directory (see
   * `read-only-view.ts`), so a directory this process may only read, or a read-only mount, will do. Such a store
   * cannot be written, nor quarantined.
   */
  async open({ claim = true }: { claim?: boolean } = {}): Promise<void> {
    this.assertOpen(false);
    if (this.tablesOpen !== undefined) return;
    this.committed = undefined;
    const path = this.path;
    let created = false;
    if (claim) {
      if (this.view !== undefined) throw new Error(STORE_OPENED_TO_READ(this.dataDir));
      prepareDataDir(this.dataDir);
      this.release ??= claimWithRoom(this.dataDir);
      removeCompactionLeftover(path);
      if (statIfAny(path) === undefined) {
        await createEmptyStore(path);
        created = true;
      }
      checkStoreFiles(path);
    } else {
      if (this.release !== undefined) throw new Error(STORE_OPENED_TO_READ(this.dataDir));
      this.view ??= openReadOnlyView(this.dataDir);
    }
    const openAt = this.view?.path ?? path;
    // A store this process has just created holds an empty manifest it wrote itself: nothing to check, and no
    // rehearsal whose room (sized for a store with snapshots) would warn of a small disk before anything is stored.
    const { problem, warning } = created ? {} : await checkStoreFile(path, this.view?.path);
    if (problem !== undefined) {
      throw new UnreadableSnapshotError(CORRUPT_SNAPSHOT(this.dataDir, problem));
    }
    if (warning !== undefined) this.logger.warn(warning);
    try {
      this.tablesOpen = openTables(openAt, true);
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
    if (this.view !== undefined) throw new Error(STORE_OPENED_TO_READ(this.dataDir));
    this.tablesOpen = undefined;
    await tables.root.close();
    const path = this.path;
    try {
      this.tablesOpen = openTables(path, false);
    } catch (error) {
      throw explainOpenError(path, error, asError);
    }
    this.writable = true;
    for (const file of [path, lockFileOf(path)]) {
      if (statIfAny(file) !== undefined) chmodSync(file, 0o600);
    }
    this.opened = OpenedFiles.at(path);
  }

  /**
   * Throws a {@link StoreMovedError} when the store file at the path is not the one this process writes. A lock file
   * deleted or replaced (LMDB coordinates readers through it: a reader that made a new one would not see this
   * writer) is made again by reopening the store. Call it before {@link beginWrite}; a commit checks again.
   */
  ensureInPlace(): Promise<void> {
    return this.checkInPlace(true);
  }

  /** {@link ensureInPlace}; `report`: whether a lock file that cannot be made again is reported (once a snapshot). */
  private async checkInPlace(report: boolean): Promise<void> {
    if (this.reopening) {
      await this.reopenForWriting();
      return;
    }
    if (this.made !== undefined) {
      const found = identityAt(this.path);
      throw new StoreMovedError(this.path, found === undefined || sameFile(found, this.made));
    }
    if (this.opened === undefined) return;
    const state = this.opened.check();
    if (state === 'in place') return;
    if (state !== 'lock lost') throw new StoreMovedError(this.path, state === 'store missing');
    const lockFile = lockFileOf(this.path);
    try {
      // Before the open environment is given up: LMDB handed a lock file it cannot use kills the process.
      checkStoreFiles(this.path);
    } catch (error) {
      // The store file is still the one this process writes: snapshots go on through it, and each tries again.
      const code = errnoCode(error);
      if (report) {
        this.lockProblems.report(LOCK_FILE_NOT_MADE_AGAIN(lockFile, code, messageOf(error)), code);
      }
      return;
    }
    this.lockProblems.flush();
    this.logger.warn(LOCK_FILE_LOST(lockFile));
    await this.reopenForWriting();
  }

  /**
   * Closes LMDB's environment, if open, and opens the store file for writing again, once its files are checked (see
   * {@link checkStoreFiles}: a failed check leaves an open environment open). A store left closed is opened by the
   * next {@link ensureInPlace}.
   */
  private async reopenForWriting(): Promise<void> {
    try {
      checkStoreFiles(this.path);
      if (this.tablesOpen !== undefined) await this.closeTables();
      try {
        this.tablesOpen = openTables(this.path, false);
      } catch (error) {
        throw explainOpenError(this.path, error, asError);
      }
    } finally {
      this.reopening = this.tablesOpen === undefined;
    }
    this.writable = true;
    this.opened = OpenedFiles.at(this.path);
  }

  /**
   * After a {@link StoreMovedError} for a deleted store: makes a new, empty store at the path (the data directory
   * too, if it went with it, and the claim on it) and opens it for writing. The next snapshot is then a full one.
   * Any step may fail (a full disk, a directory that is now a file or cannot be written, a lock file LMDB cannot
   * use): nothing is given up before the new store is checked, so the store this process wrote stays open and the
   * directory claimed, and the next snapshot, finding the store still missing, calls this again. Throws a
   * {@link StoreEnvironmentError} naming the path, the error code and what failed.
   */
  async recreate(): Promise<void> {
    if (this.made === undefined) this.assertWritable();
    else this.assertOpen(false); // an earlier attempt may have closed the old store before failing
    const found = identityAt(this.path);
    const reuse = found !== undefined && this.made !== undefined && sameFile(found, this.made);
    if (found !== undefined && !reuse) throw new StoreMovedError(this.path, false);
    try {
      prepareDataDir(this.dataDir);
      // The claim may have gone with the directory. It is never given up meanwhile: another process could take it.
      renewClaimWithRoom(this.dataDir);
      if (!reuse) {
        await createEmptyStore(this.path);
        this.made = identityAt(this.path);
      }
      // As `open` does: LMDB handed a lock file it cannot use kills the process.
      checkStoreFiles(this.path);
      // Two LMDB environments must not share a lock file in one process: the old one goes first.
      if (this.tablesOpen !== undefined) await this.closeTables();
      this.committed = undefined;
      this.strayChunksPossible = false;
      this.tablesOpen = openTables(this.path, true);
      await this.openForWriting();
    } catch (error) {
      const code = errnoCode(error);
      throw new StoreEnvironmentError(
        STORE_NOT_MADE_AGAIN(this.path, code, messageOf(error)),
        code,
      );
    }
    this.made = undefined;
  }

  /**
   * Moves the store's files into `<dataDir>/quarantine/<time>/` — never deletes them — leaving the directory
   * ready for a new, empty store ({@link open} again). All or nothing: when a file cannot be moved, a
   * {@link StoreEnvironmentError} says why and the directory is left as it was. Returns where the files went.
   */
  async quarantine(): Promise<string> {
    this.assertOpen(false);
    if (this.view !== undefined) throw new Error(STORE_OPENED_TO_READ(this.dataDir));
    const tables = this.tablesOpen;
    this.tablesOpen = undefined;
    await tables?.root.close();
    return quarantineStore(this.dataDir);
  }

  /** The committed manifest, or `undefined` if nothing was ever committed. Throws on an unreadable one. */
  manifest(): Manifest | undefined {
    const { meta } = this.tables();
    return this.committed ?? readManifest(meta, this.dataDir);
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

  /**
   * Reads the committed chain into `target`, checking every CRC and count on the way (see `snapshot-reader.ts`).
   * Returns `undefined` when the store holds no snapshot.
   */
  read<T extends RestoreTarget>(target: T, now = Date.now()): RestoredData<T> | undefined {
    return runAtOnce(this.readSteps(target, now));
  }

  /**
   * {@link read}, giving the event loop a turn whenever a slice of `sliceMs` has passed: a restore of millions of
   * keys then never stops the app for long. Each generation is read through one LMDB read transaction, and nothing
   * writes the store meanwhile (only its owner does, and not while it restores), so the chain read is consistent.
   */
  readInSlices<T extends RestoreTarget>(
    target: T,
    sliceMs: number,
    now = Date.now(),
  ): Promise<RestoredData<T> | undefined> {
    return runInSlices(this.readSteps(target, now), sliceMs);
  }

  private *readSteps<T extends RestoreTarget>(
    target: T,
    now: number,
  ): Generator<void, RestoredData<T> | undefined> {
    const manifest = this.manifest();
    if (manifest === undefined) return undefined;
    return yield* readChain(this.tables().chunks, manifest, target, now, this.dataDir);
  }

  /**
   * The steps of a read of `generation`, of the committed chain, into `sink` (its chunks' bytes are handed over: they
   * are the reader's own), with every CRC and count checked, from chunk `progress.chunks` on (see `readGeneration`).
   * Nothing must write the store until they are done.
   */
  generationSteps(
    generation: GenerationInfo,
    sink: RecordSink,
    progress?: GenerationProgress,
  ): Generator<void, void> {
    return readGeneration(
      this.tables().chunks,
      generation,
      sink,
      (what) =>
        new UnreadableSnapshotError(
          CORRUPT_SNAPSHOT(this.dataDir, `generation ${generation.gen}: ${what}`),
        ),
      progress,
    );
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
    await this.checkInPlace(false);
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

  /** Removes chunks of generations the manifest does not name. */
  private async removeUnreferencedChunks(manifest: Manifest | undefined): Promise<number> {
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
   * Rewrites the store file without its free pages (see `compaction.ts`); a failure leaves the store as it was. Call
   * it between snapshots. Returns the sizes before and after.
   */
  async compact(): Promise<{ readonly before: number; readonly after: number }> {
    this.assertWritable();
    if (this.writer !== undefined) throw new Error(WRITE_IN_PROGRESS(this.dataDir));
    await this.ensureInPlace();
    const before = this.fileSize();
    try {
      await compactStoreFile(this.tables().root, this.path, () => this.closeTables());
    } finally {
      // Closed for the rename, whether or not it was done: the file at the path is opened again.
      if (this.tablesOpen === undefined) await this.reopenForWriting();
    }
    return { before, after: this.fileSize() };
  }

  /** Size of the LMDB file on disk, in bytes. */
  fileSize(): number {
    return lstatSync(this.path).size;
  }

  /** Closes LMDB's environment: the store is then neither open nor writable until it is opened again. */
  private async closeTables(): Promise<void> {
    const tables = this.tables();
    this.tablesOpen = undefined;
    this.opened = undefined;
    this.writable = false;
    await tables.root.close();
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
      try {
        if (this.tablesOpen !== undefined)
          await closeWithin(this.tablesOpen.root, CLOSE_TIMEOUT_MS);
      } finally {
        this.giveUpClaim();
        this.view?.dispose();
      }
    })();
    return this.closing;
  }

  /**
   * As the process exits without {@link close} (nothing asynchronous can run then): gives up the data directory's
   * claim, leaving LMDB's environment to the end of the process. The caller makes sure no write is lost.
   */
  giveUpClaimAtExit(): void {
    this.giveUpClaim();
  }

  /**
   * Gives up the data directory's claim. One that cannot be removed (its directory deleted, replaced by a file, or
   * made unwritable while the app ran) does not fail the shutdown: a claim naming a process that no longer runs is
   * taken over.
   */
  private giveUpClaim(): void {
    try {
      this.release?.();
    } catch (error) {
      this.logger.warn(CLAIM_NOT_GIVEN_UP(this.dataDir, messageOf(error)));
    }
  }
}
