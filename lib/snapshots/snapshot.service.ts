import {
  Inject,
  Injectable,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { performance } from 'node:perf_hooks';
import type { Capture, Keyspace, KeyspaceSaver } from '../keyspace/keyspace';
import {
  CACHE_NAME,
  getSnapshotIntervalName,
  KEYSPACE,
  RESOLVED_OPTIONS,
  SNAPSHOT_STORE,
} from '../persistent-cache.constants';
import type { ResolvedPersistentCacheOptions } from '../persistent-cache.interfaces';
import {
  COMPACTION_FAILED,
  ADOPTION_FAILED,
  FAILED_CHUNKS_NOT_REMOVED,
  FINAL_SNAPSHOT_FAILED,
  SNAPSHOT_ADOPTED,
  NO_SNAPSHOT_YET,
  NOT_RESTORING,
  PERIODIC_SNAPSHOTS,
  PERIODIC_SNAPSHOTS_OFF,
  PERSISTENCE_DISABLED,
  PERSISTENCE_OFF,
  RESTORE_FAILED_STARTING_EMPTY,
  RESTORED,
  RESTORED_OVER_LIMIT,
  NO_SHUTDOWN_HOOKS,
  IMPORTED_TWICE,
  SCHEDULE_MODULE_MISSING,
  STORE_COMPACTED,
  STORE_NOT_RECREATED,
  STORE_RECREATED,
} from './snapshots.messages';
import { PersistentCacheMetrics } from './snapshot.metrics';
import { SnapshotLog } from './snapshot-log';
import { SnapshotCopy } from './snapshot-copy';
import {
  StoreMovedError,
  UnreadableSnapshotError,
  type SnapshotStore,
  type SnapshotWriter,
} from '../store/snapshot-store';
import { STORE_FILE } from '../store/data-dir';
import { chooseKind, worthCompacting } from './snapshot-policy';
import type { RestoreReport, SnapshotFailure, SnapshotReport } from './snapshot-reports';
import { messageOf } from '../util/errors';
import { runInSlices } from '../util/slices';
import type { GenerationProgress } from '../store/snapshot-reader';

/**
 * Time a snapshot or restore may hold the event loop before it gives other work a turn. With 1 ms, the p99 of the
 * event-loop delay during a snapshot of 1M keys stayed at 3-4.5 ms (3 ms slices: 5-9 ms), and the snapshot took
 * no measurably longer: a turn costs microseconds.
 */
const SLICE_MS = 1;
/** Unstorable keys a report names; the rest are counted. */
const UNSTORABLE_KEYS_REPORTED = 100;

/** A full snapshot's adoption that has not run to its end (see `SnapshotService.adoptSnapshot`). */
interface AdoptionProgress extends GenerationProgress {
  /** The full generation, and the id of the capture it was taken from. */
  readonly gen: number;
  readonly captureId: number;
}

/**
 * Makes the embedded cache durable: restores the last snapshot when the module starts, snapshots on an interval
 * and on shutdown, and offers {@link snapshot} and {@link restore} on demand.
 *
 * A snapshot never stops the event loop for long: it reads the keyspace in slices of about 1 ms ({@link SLICE_MS})
 * and LMDB commits on its own thread. It is still a point-in-time copy: writes made while it runs are not in it (see
 * {@link Capture}). After the first full snapshot, the next ones write only what changed, until the chain of
 * increments grows long or large enough that a full one is due.
 */
/** The service that schedules each interval name with each application's SchedulerRegistry. */
const scheduling = new WeakMap<SchedulerRegistry, Map<string, object>>();

/** The signals a process manager or a terminal stops an app with. */
const SHUTDOWN_SIGNALS = ['SIGTERM', 'SIGINT'] as const;
/** How long after the bootstrap the shutdown hooks are looked for. */
const SHUTDOWN_HOOKS_CHECK_MS = 1_000;

@Injectable()
export class SnapshotService
  implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  private readonly log = new SnapshotLog();
  private readonly persistence: ResolvedPersistentCacheOptions['persistence'];
  private readonly mode: ResolvedPersistentCacheOptions['mode'];
  /** Snapshots and restores run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private lastReport: SnapshotReport | undefined;
  private restoredSnapshot: { readonly at: Date; readonly keys: number } | undefined;
  private hooksCheck: NodeJS.Timeout | undefined;
  private lastError: SnapshotFailure | undefined;
  /**
   * The last snapshot's copy, kept (with its closed capture and writer, which have let go of their keys and
   * buffers) until the next one. V8 drops a class's hidden class once no instance of it is left, and with it the
   * optimized code of every function that reads such objects: without this, each snapshot ran its loop in the
   * interpreter while V8 compiled it again (an incremental snapshot of 10k changed keys among 1M: 15-30 ms of
   * copying, against 7-10 ms with it).
   */
  private lastCopy: SnapshotCopy | undefined;
  /** The app is shutting down: what only saves memory is not begun or gone on with. */
  private closing = false;
  /** Opening the store and restoring it, from `onModuleInit`: the final snapshot waits for it. */
  private startup: Promise<void> | undefined;
  /** The shutdown, once begun: a second `app.close()` waits for the first one's. */
  private shutdown: Promise<void> | undefined;
  /** A snapshot or restore was asked for: a running adoption (see {@link adoptSnapshot}) stops for it. */
  private yieldAdoption = false;
  /** An adoption is running. */
  private adopting = false;
  /**
   * The full snapshot whose adoption has not run to its end (see {@link adoptSnapshot}): its generation, its capture's
   * id, and the chunks adopted so far. It goes on after each later incremental snapshot, from where it stopped.
   */
  private pendingAdoption: AdoptionProgress | undefined;
  /** The periodic snapshot's name in the `SchedulerRegistry`: the cache's name is part of it. */
  private readonly intervalName: string;
  /** When the snapshot running now began (ms since the epoch); `undefined` when none runs. */
  private savingSince: number | undefined;
  /** When the last snapshot was committed, or when this service was made (Redis counts its start as a save). */
  private lastSavedAt = Date.now();
  private lastSaveMs: number | undefined;
  private saves = 0;
  private loaded = { keys: 0, expired: 0 };
  /** What SAVE, BGSAVE, LASTSAVE and INFO persistence read (see `KeyspaceSaver`), set while the store is open. */
  private readonly saver: KeyspaceSaver = ((service: SnapshotService): KeyspaceSaver => ({
    save: async () => {
      service.savingSince ??= Date.now(); // from the request on: a second one is refused meanwhile, as in Redis
      try {
        await service.snapshot();
      } catch (error) {
        // Refused before it ran (the snapshot clears it once it ran): nothing is saving.
        if (!service.busy) service.savingSince = undefined;
        throw error;
      }
    },
    get savingSince() {
      return service.savingSince;
    },
    get lastSaveAt() {
      return service.lastSavedAt;
    },
    get lastSaveFailed() {
      return service.lastError !== undefined;
    },
    get lastSaveMs() {
      return service.lastSaveMs;
    },
    get saves() {
      return service.saves;
    },
    get loaded() {
      return service.loaded;
    },
  }))(this);

  constructor(
    @Inject(RESOLVED_OPTIONS) options: ResolvedPersistentCacheOptions,
    @Inject(KEYSPACE) private readonly keyspace: Keyspace,
    @Inject(SNAPSHOT_STORE) private readonly store: SnapshotStore | null,
    private readonly metrics: PersistentCacheMetrics,
    @Optional() private readonly scheduler?: SchedulerRegistry,
    @Optional() @Inject(CACHE_NAME) name?: string | null,
  ) {
    this.intervalName = getSnapshotIntervalName(name);
    this.persistence = options.persistence;
    this.mode = options.mode;
  }

  /** Whether a snapshot or restore is running or waiting to run. */
  get busy(): boolean {
    return this.queued > 0;
  }

  /** The last successful snapshot's report, if any since startup. */
  get lastSnapshot(): SnapshotReport | undefined {
    return this.lastReport;
  }

  /**
   * The snapshot the startup restore found (its time and the keys it held), until one is taken: what the store holds
   * when no snapshot has been taken since startup.
   */
  get restoredFrom(): { readonly at: Date; readonly keys: number } | undefined {
    return this.lastReport === undefined ? this.restoredSnapshot : undefined;
  }

  /** The last snapshot's failure, if the last snapshot failed. */
  get lastFailure(): SnapshotFailure | undefined {
    return this.lastError;
  }

  async onModuleInit(): Promise<void> {
    const { enabled, snapshotIntervalMs } = this.persistence;
    if (!enabled) {
      // Redis mode is logged once by the module, with the server it uses.
      if (this.mode === 'embedded') this.log.log(PERSISTENCE_OFF);
      return;
    }
    if (snapshotIntervalMs > 0 && this.scheduler === undefined) {
      throw new Error(SCHEDULE_MODULE_MISSING(snapshotIntervalMs));
    }
    if (snapshotIntervalMs > 0 && this.scheduler !== undefined) {
      // Refused here, before any module of the app has started a timer that would keep a failed bootstrap alive.
      const scheduled = scheduling.get(this.scheduler) ?? new Map<string, object>();
      const other = scheduled.get(this.intervalName);
      if (other !== undefined && other !== this) throw new Error(IMPORTED_TWICE(this.intervalName));
      scheduled.set(this.intervalName, this);
      scheduling.set(this.scheduler, scheduled);
    }
    try {
      this.startup = this.openAndRestore(this.requireStore('open the snapshot store'));
      await this.startup;
      this.keyspace.saver = this.saver;
    } catch (error) {
      // Bootstrap stops here and shutdown hooks will not run: release LMDB and the data directory now.
      await this.store?.close();
      throw error;
    }
    if (snapshotIntervalMs === 0) this.log.log(PERIODIC_SNAPSHOTS_OFF);
  }

  /**
   * Starts the periodic snapshots. Their timer never keeps the process alive: an app whose bootstrap failed after
   * this (another module's `onApplicationBootstrap`, `app.listen()` on a port in use), or a script that did not call
   * `app.close()`, is closed with its final snapshot once the process has nothing left to do (see
   * `persistent-cache.lifecycle.ts`), instead of hanging.
   */
  onApplicationBootstrap(): void {
    const { enabled, snapshotIntervalMs, dataDir, snapshotOnShutdown } = this.persistence;
    if (enabled && snapshotOnShutdown) {
      // `app.enableShutdownHooks()` may come right after the bootstrap (an application context is bootstrapped by
      // NestFactory itself): look a moment later.
      this.hooksCheck = setTimeout(() => this.checkShutdownHooks(), SHUTDOWN_HOOKS_CHECK_MS);
      this.hooksCheck.unref();
    }
    if (!enabled || snapshotIntervalMs === 0 || this.scheduler === undefined) return;
    if (this.scheduler.doesExist('interval', this.intervalName)) {
      throw new Error(IMPORTED_TWICE(this.intervalName));
    }
    const timer = setInterval(() => void this.tick(), snapshotIntervalMs);
    timer.unref();
    this.scheduler.addInterval(this.intervalName, timer);
    this.log.log(PERIODIC_SNAPSHOTS(snapshotIntervalMs, dataDir, this.intervalName));
  }

  /**
   * Opens the store and restores it when configured. A snapshot that cannot be read fails the bootstrap, or with
   * `onRestoreError: 'start-empty'` is moved aside, never deleted, and the cache starts empty.
   */
  private async openAndRestore(store: SnapshotStore): Promise<void> {
    const { restoreOnStartup, onRestoreError, dataDir } = this.persistence;
    try {
      await store.open();
      if (restoreOnStartup) {
        await this.restore();
      } else {
        this.log.log(NOT_RESTORING(dataDir));
      }
      await store.openForWriting();
    } catch (error) {
      if (!(error instanceof UnreadableSnapshotError)) throw error;
      this.metrics.restoreFailed();
      if (onRestoreError === 'fail') throw error;
      const quarantine = await store.quarantine();
      this.log.error(RESTORE_FAILED_STARTING_EMPTY(error.message, quarantine));
      await store.open();
      await store.openForWriting();
      this.keyspace.replaceAll(new Map());
    }
  }

  /** Warns when a signal would end the process without running the shutdown hooks, the final snapshot among them. */
  private checkShutdownHooks(): void {
    const unheard = SHUTDOWN_SIGNALS.filter((signal) => process.listenerCount(signal) === 0);
    if (unheard.length > 0) this.log.warn(NO_SHUTDOWN_HOOKS(unheard, this.persistence.dataDir));
  }

  onApplicationShutdown(): Promise<void> {
    this.shutdown ??= this.shutDown();
    return this.shutdown;
  }

  private async shutDown(): Promise<void> {
    this.closing = true;
    clearTimeout(this.hooksCheck);
    // The clients are closed first: a write acknowledged after the final snapshot's capture would be lost. The app's
    // own shutdown hooks have run by now (Nest runs an importing module's before those of the modules it imports).
    this.keyspace.stopServing();
    if (this.keyspace.saver === this.saver) this.keyspace.saver = undefined;
    const scheduled = this.scheduler === undefined ? undefined : scheduling.get(this.scheduler);
    if (scheduled?.get(this.intervalName) === this) scheduled.delete(this.intervalName);
    if (!this.persistence.enabled) return;
    // @nestjs/schedule has cleared its intervals by now; this covers an app whose scheduler was not asked to.
    if (this.scheduler?.doesExist('interval', this.intervalName)) {
      this.scheduler.deleteInterval(this.intervalName);
    }
    // Closed while it started (a signal during the startup restore): the store is ready once the restore is done; a
    // startup that failed or never ran left nothing to snapshot, and its store closed.
    const started = await this.startup?.then(
      () => true,
      () => false,
    );
    if (started !== true) return;
    if (this.persistence.snapshotOnShutdown) {
      let failure: unknown;
      try {
        // A store deleted under the app is made again by the snapshot itself.
        await this.snapshot();
      } catch (error) {
        failure = error; // logged by snapshot()
      }
      this.log.flush();
      // The same failure as the periodic ones is only counted in the lines above: say what it costs, last.
      if (failure !== undefined) this.finalSnapshotFailed(this.store, failure);
    } else {
      await this.queue;
      this.log.flush();
    }
  }

  /** Logs that the final snapshot failed, and which writes the process therefore ends without. */
  private finalSnapshotFailed(store: SnapshotStore | null, failure: unknown): void {
    if (store === null) return;
    let heldAt: Date | undefined;
    try {
      const createdAt = store.manifest()?.createdAt;
      heldAt = createdAt === undefined ? undefined : new Date(createdAt);
    } catch {
      heldAt = undefined; // an unreadable manifest: the message says only that the writes are lost
    }
    this.log.error(FINAL_SNAPSHOT_FAILED(store.dataDir, heldAt, messageOf(failure)));
  }

  /**
   * Takes a snapshot now and resolves when it is committed. It begins after any snapshot or restore already
   * running, so it holds every write made before the call.
   */
  async snapshot(): Promise<SnapshotReport> {
    const store = this.requireStore('take a snapshot');
    this.yieldAdoption = true;
    return this.exclusive(() => this.takeSnapshot(store));
  }

  /**
   * Replaces the cache's content with the last committed snapshot, all at once: if reading it fails, the cache is
   * left as it was. The snapshot is read in slices of about 1 ms, during which the cache keeps serving (and
   * accepting writes to) its current content; the restored content then replaces it in one step, and writes made
   * meanwhile are lost. Resolves to `undefined` when there is no snapshot yet.
   */
  async restore(): Promise<RestoreReport | undefined> {
    const store = this.requireStore('restore');
    this.yieldAdoption = true;
    return this.exclusive(() => this.restoreFrom(store));
  }

  private async tick(): Promise<void> {
    // An adoption alone gives way to the periodic snapshot (see adoptSnapshot); anything else makes it skip.
    if (this.busy && !(this.adopting && this.queued === 1)) {
      this.log.skipped(this.persistence.snapshotIntervalMs);
      this.metrics.snapshotEnded('skipped');
      return;
    }
    try {
      const store = this.requireStore('take a snapshot');
      this.yieldAdoption = true;
      await this.exclusive(() => this.takeSnapshot(store, true));
    } catch {
      // Logged by takeSnapshot(); the next tick tries again.
    }
  }

  private requireStore(operation: string): SnapshotStore {
    if (this.store === null) throw new Error(PERSISTENCE_DISABLED(operation, this.mode));
    return this.store;
  }

  private exclusive<T>(operation: () => Promise<T>): Promise<T> {
    this.queued++;
    const run = this.queue.then(operation).finally(() => this.queued--);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** `periodic`: taken by the interval (see {@link SnapshotLog.committed}). */
  private async takeSnapshot(store: SnapshotStore, periodic = false): Promise<SnapshotReport> {
    this.savingSince ??= Date.now();
    try {
      return await this.snapshotInto(store, periodic);
    } finally {
      this.savingSince = undefined;
    }
  }

  private async snapshotInto(store: SnapshotStore, periodic: boolean): Promise<SnapshotReport> {
    const started = performance.now();
    this.yieldAdoption = false; // asked for by this snapshot, or by one already taken
    let writer: SnapshotWriter | undefined;
    let capture: Capture | undefined;
    let recreateTried = false;
    try {
      try {
        await store.ensureInPlace();
      } catch (error) {
        if (!(error instanceof StoreMovedError && error.missing)) throw error;
        // Deleted under the app: a new store is made, and this very snapshot writes the whole cache to it.
        recreateTried = true;
        if (!(await this.recreateStore(store, error))) throw error;
      }
      const kind = chooseKind(store.manifest(), {
        keys: this.keyspace.size,
        changed: this.keyspace.changedCount,
      });
      // The writer and the capture begin in the same turn of the event loop: the capture's start is the
      // snapshot's point in time.
      writer = store.beginWrite(kind);
      capture = this.keyspace.beginCapture(kind === 'incremental');
      if (capture === undefined) throw new Error('the keyspace cannot list its changes');
      this.lastCopy = new SnapshotCopy(capture, writer, SLICE_MS);
      const { expired, unstorable } = await this.lastCopy.run();
      capture.close();
      const manifest = await writer.commit(capture.sizeAtStart, capture.startedAt);
      const durationMs = performance.now() - started;
      const report: SnapshotReport = {
        kind,
        keys: capture.sizeAtStart,
        records: writer.recordCount,
        expired,
        unstorableKeys: unstorable.slice(0, UNSTORABLE_KEYS_REPORTED),
        unstorable: unstorable.length,
        bytes: manifest.generations[manifest.generations.length - 1].bytes,
        totalBytes: manifest.bytes,
        startedAt: new Date(capture.startedAt),
        durationMs,
      };
      this.lastReport = report;
      this.lastError = undefined;
      this.lastSavedAt = Date.now();
      this.lastSaveMs = durationMs;
      this.saves++;
      this.metrics.snapshotSucceeded(kind, durationMs / 1000, manifest.bytes, report.keys);
      this.metrics.unstorableKeys(unstorable.length);
      this.log.committed(store.dataDir, report, periodic);
      // Left out, and marked changed, so that the next snapshot tries them again (they may be fixed by then).
      for (const { key } of unstorable) this.keyspace.markChanged(key);
      this.log.unstorableKeys(unstorable);
      if (kind === 'full') {
        const full = manifest.generations[manifest.generations.length - 1];
        this.pendingAdoption = { gen: full.gen, captureId: capture.id, chunks: 0 };
      }
      if (this.pendingAdoption !== undefined && !this.closing) {
        // Queued after this snapshot, as its own step: the snapshot's promise resolves at its commit.
        void this.exclusive(() => this.adoptSnapshot(store));
      }
      if (worthCompacting(store.fileSize(), manifest.bytes)) {
        await this.compactStore(store);
      }
      return report;
    } catch (error) {
      if (capture !== undefined) {
        capture.close();
        this.keyspace.restoreChanges(capture);
      }
      if (writer !== undefined) {
        await writer.abort().catch((abortError: unknown) => {
          this.log.warn(FAILED_CHUNKS_NOT_REMOVED(messageOf(abortError)));
        });
      }
      this.lastError = { at: new Date(), message: messageOf(error) };
      this.metrics.snapshotEnded('failure');
      this.log.failed(store.dataDir, error);
      // Deleted after this snapshot began (found at its commit): it is taken again, into a new store.
      if (error instanceof StoreMovedError && error.missing && !recreateTried) {
        if (await this.recreateStore(store, error)) return this.snapshotInto(store, periodic);
      }
      throw error;
    }
  }

  /**
   * Lets the full snapshot just committed hold the keys it stored that have not changed since (see
   * `Keyspace.adopt`): its generation is read back as a restore reads it, in slices, and the keys' objects give way to
   * records over its bytes. Nothing is lost if this fails or stops (the keys keep their objects). A snapshot or
   * restore asked for meanwhile, or the app's shutdown, stops it at once: the keys adopted so far stay so, and it goes
   * on from the chunk it was in after the next incremental snapshot (with a snapshot every second, an adoption of a
   * million keys takes several of those turns). A restore or a newer full snapshot ends it. Never rejects.
   */
  private async adoptSnapshot(store: SnapshotStore): Promise<void> {
    const pending = this.pendingAdoption;
    if (pending === undefined || this.closing || this.yieldAdoption) return;
    // The chain's full generation, unless a restore or a newer full snapshot made it another.
    const generation = store.manifest()?.generations[0];
    const adoption =
      generation?.gen === pending.gen ? this.keyspace.adopt(pending.captureId) : undefined;
    if (generation === undefined || adoption === undefined) {
      this.pendingAdoption = undefined;
      return;
    }
    const started = performance.now();
    const parts = [adoption.reserve(), store.generationSteps(generation, adoption, pending)];
    const stop = (): boolean => this.closing || this.yieldAdoption;
    function* steps(): Generator<void, void> {
      for (const part of parts) {
        try {
          for (let step = part.next(); step.done !== true; step = part.next()) {
            if (stop()) return;
            yield;
          }
        } finally {
          part.return(); // ends the generation's LMDB read when stopped early
        }
      }
    }
    this.adopting = true;
    try {
      await runInSlices(steps(), SLICE_MS);
      const stopped = stop();
      if (!stopped) this.pendingAdoption = undefined;
      this.log.debug(
        SNAPSHOT_ADOPTED(adoption.adopted, generation.gen, performance.now() - started, stopped),
      );
    } catch (error) {
      this.pendingAdoption = undefined;
      this.log.warn(ADOPTION_FAILED(generation.gen, messageOf(error)));
    } finally {
      adoption.close();
      this.adopting = false;
    }
  }

  /** Gives a store file's free pages back to the file system; a failure leaves the store as it was. */
  private async compactStore(store: SnapshotStore): Promise<void> {
    try {
      const { before, after } = await store.compact();
      this.log.log(STORE_COMPACTED(`${store.dataDir}/${STORE_FILE}`, before, after));
    } catch (error) {
      this.log.warn(COMPACTION_FAILED(store.dataDir, messageOf(error)));
    }
  }

  /**
   * After the store file was deleted under the app (`missing`: the error that found it gone): a new store, to which
   * the next snapshot writes everything. A recreation that keeps failing the same way is logged at once, then once a
   * minute with its count (see {@link SnapshotLog.notRecreated}). Returns whether the store was made.
   */
  private async recreateStore(store: SnapshotStore, missing: StoreMovedError): Promise<boolean> {
    try {
      await store.recreate(); // it holds no snapshot: the next one is a full one
    } catch (error) {
      this.log.notRecreated(STORE_NOT_RECREATED(store.dataDir, messageOf(error)), error);
      return false;
    }
    this.log.recreated(missing.message, STORE_RECREATED(store.dataDir));
    return true;
  }

  private async restoreFrom(store: SnapshotStore): Promise<RestoreReport | undefined> {
    const started = performance.now();
    this.yieldAdoption = false;
    this.pendingAdoption = undefined; // the restored keys are records already
    // Read in slices: the cache keeps serving what it held until the restored content is swapped in at once.
    const data = await store.readInSlices(this.keyspace.restoreTarget(), SLICE_MS);
    if (data === undefined) {
      this.log.log(NO_SNAPSHOT_YET(store.dataDir));
      return undefined;
    }
    const keys = data.states.size;
    this.keyspace.replaceAll(data.states); // takes the states over: `data.states` is empty after
    const durationMs = performance.now() - started;
    const report: RestoreReport = {
      keys,
      expired: data.expired,
      snapshotTakenAt: new Date(data.manifest.createdAt),
      durationMs,
    };
    this.metrics.restored(durationMs / 1000, report.keys, report.expired);
    this.metrics.snapshotRestored(report.snapshotTakenAt, data.manifest.bytes, data.manifest.keys);
    this.restoredSnapshot = { at: report.snapshotTakenAt, keys: data.manifest.keys };
    this.loaded = { keys: report.keys, expired: report.expired };
    this.log.log(RESTORED(store.dataDir, report));
    const { keyspace } = this;
    if (keyspace.overLimit) {
      // As Redis after loading an RDB over maxmemory: everything is loaded; eviction, if the policy allows it, goes on
      // in the background and before each write, else writes are refused until memory is freed.
      const { usedBytes, memory } = keyspace;
      this.log.warn(RESTORED_OVER_LIMIT(usedBytes, memory.maxBytes, memory.policy));
    }
    return report;
  }
}
