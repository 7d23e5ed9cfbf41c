import {
  Inject,
  Injectable,
  Logger,
  OnApplicationShutdown,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { SchedulerRegistry } from '@nestjs/schedule';
import { performance } from 'node:perf_hooks';
import type { Capture, Keyspace } from '../keyspace/keyspace';
import {
  KEYSPACE,
  RESOLVED_OPTIONS,
  SNAPSHOT_INTERVAL_NAME,
  SNAPSHOT_STORE,
} from '../persistent-cache.constants';
import { LOG_CONTEXT } from '../util/log-context';
import type { ResolvedPersistentCacheOptions } from '../persistent-cache.interfaces';
import {
  PERSISTENCE_DISABLED,
  RESTORE_FAILED_STARTING_EMPTY,
  SCHEDULE_MODULE_MISSING,
  SNAPSHOT_SKIPPED,
  UNSTORABLE_KEYS_LEFT_OUT,
} from './snapshots.messages';
import { PersistentCacheMetrics } from './snapshot.metrics';
import { RepeatedLog } from '../util/repeated-log';
import { SnapshotCopy, type UnstorableKey } from './snapshot-copy';
import { RestoredStates } from '../keyspace/restored-states';
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
import { firstOf } from '../util/first-of';

/**
 * Time a snapshot or restore may hold the event loop before it gives other work a turn. With 1 ms, the p99 of the
 * event-loop delay during a snapshot of 1M keys stayed at 3-4.5 ms (3 ms slices: 5-9 ms), and the snapshot took
 * no measurably longer: a turn costs microseconds.
 */
const SLICE_MS = 1;
/** Periodic snapshots' commit lines are written at most this often. */
const COMMIT_LOG_WINDOW_MS = 10_000;
/** Unstorable keys a report names; the rest are counted. */
const UNSTORABLE_KEYS_REPORTED = 100;
/** Unstorable keys a log line names. */
const UNSTORABLE_KEYS_LOGGED = 10;

/**
 * Makes the embedded cache durable: restores the last snapshot when the module starts, snapshots on an interval
 * and on shutdown, and offers {@link snapshot} and {@link restore} on demand.
 *
 * A snapshot never stops the event loop for long: it reads the keyspace in slices of a few milliseconds and
 * LMDB commits on its own thread. It is still a point-in-time copy: writes made while it runs are not in it (see
 * {@link Capture}). After the first full snapshot, the next ones write only what changed, until the chain of
 * increments grows long or large enough that a full one is due.
 */
@Injectable()
export class SnapshotService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(LOG_CONTEXT);
  private readonly persistence: ResolvedPersistentCacheOptions['persistence'];
  private readonly mode: ResolvedPersistentCacheOptions['mode'];
  /** Snapshots and restores run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private queued = 0;
  private lastReport: SnapshotReport | undefined;
  private lastError: SnapshotFailure | undefined;
  /**
   * The last snapshot's copy, kept (with its closed capture and writer, which have let go of their keys and
   * buffers) until the next one. V8 drops a class's hidden class once no instance of it is left, and with it the
   * optimized code of every function that reads such objects: without this, each snapshot ran its loop in the
   * interpreter while V8 compiled it again (an incremental snapshot of 10k changed keys among 1M: 15-30 ms of
   * copying, against 7-10 ms with it).
   */
  private lastCopy: SnapshotCopy | undefined;
  /** Snapshots that failed since the last one that succeeded. */
  private failedInARow = 0;
  /**
   * Periodic snapshots committed: each is logged, unless the last such line is under
   * {@link COMMIT_LOG_WINDOW_MS} old (a short interval); then the count and the latest come in one line.
   */
  private readonly commits = new RepeatedLog(
    (message, count) =>
      this.logger.log(
        count === 1 ? message : `${message} (${count} snapshots since the last such line)`,
      ),
    COMMIT_LOG_WINDOW_MS,
  );
  /** Periodic snapshots skipped, logged at most once a minute with their count. */
  private readonly skips = new RepeatedLog((message, count) =>
    this.logger.warn(
      count === 1 ? message : `${message} (${count} times since the last such line)`,
    ),
  );
  /** Failed snapshots: the same failure again and again (a full disk) is logged once a minute with its count. */
  private readonly failures = new RepeatedLog((message, count) =>
    this.logger.error(
      count === 1 ? message : `${message} (${count} times since the last such line)`,
    ),
  );
  /** Unstorable keys, logged when they change and once a minute while they stay. */
  private readonly unstorable = new RepeatedLog((message, count) =>
    this.logger.error(
      count === 1 ? message : `${message} (${count} snapshots since the last such line)`,
    ),
  );

  constructor(
    @Inject(RESOLVED_OPTIONS) options: ResolvedPersistentCacheOptions,
    @Inject(KEYSPACE) private readonly keyspace: Keyspace,
    @Inject(SNAPSHOT_STORE) private readonly store: SnapshotStore | null,
    private readonly metrics: PersistentCacheMetrics,
    @Optional() private readonly scheduler?: SchedulerRegistry,
  ) {
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

  /** The last snapshot's failure, if the last snapshot failed. */
  get lastFailure(): SnapshotFailure | undefined {
    return this.lastError;
  }

  async onModuleInit(): Promise<void> {
    const { enabled, snapshotIntervalMs, dataDir } = this.persistence;
    if (!enabled) {
      // Redis mode is logged once by the module, with the server it uses.
      if (this.mode === 'embedded') {
        this.logger.log(
          'Persistence is disabled (persistence.enabled is false): the cache lives in memory only.',
        );
      }
      return;
    }
    if (snapshotIntervalMs > 0 && this.scheduler === undefined) {
      throw new Error(SCHEDULE_MODULE_MISSING(snapshotIntervalMs));
    }
    try {
      await this.openAndRestore(this.requireStore('open the snapshot store'));
    } catch (error) {
      // Bootstrap stops here and shutdown hooks will not run: release LMDB and the data directory now.
      await this.store?.close();
      throw error;
    }
    if (snapshotIntervalMs > 0 && this.scheduler !== undefined) {
      const timer = setInterval(() => void this.tick(), snapshotIntervalMs);
      this.scheduler.addInterval(SNAPSHOT_INTERVAL_NAME, timer);
      this.logger.log(
        `Snapshots every ${snapshotIntervalMs} ms to ${dataDir} (interval "${SNAPSHOT_INTERVAL_NAME}").`,
      );
    } else {
      this.logger.log('Periodic snapshots are disabled (persistence.snapshotInterval is 0).');
    }
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
        this.logger.log(
          `Not restoring the snapshot in ${dataDir} (persistence.restoreOnStartup is false).`,
        );
      }
      await store.openForWriting();
    } catch (error) {
      if (!(error instanceof UnreadableSnapshotError)) throw error;
      this.metrics.restoreFailed();
      if (onRestoreError === 'fail') throw error;
      const quarantine = await store.quarantine();
      this.logger.error(RESTORE_FAILED_STARTING_EMPTY(error.message, quarantine));
      await store.open();
      await store.openForWriting();
      this.keyspace.replaceAll(new Map());
    }
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.persistence.enabled) return;
    // @nestjs/schedule has cleared its intervals by now; this covers an app whose scheduler was not asked to.
    if (this.scheduler?.doesExist('interval', SNAPSHOT_INTERVAL_NAME)) {
      this.scheduler.deleteInterval(SNAPSHOT_INTERVAL_NAME);
    }
    if (this.persistence.snapshotOnShutdown) {
      try {
        await this.snapshot();
      } catch (error) {
        // Logged by snapshot(). A store deleted under the app has been made again: the final snapshot goes there.
        if (error instanceof StoreMovedError && error.missing)
          await this.snapshot().catch(() => undefined);
      }
    } else {
      await this.queue;
    }
    this.commits.flush();
    this.skips.flush();
    this.failures.flush();
    this.unstorable.flush();
  }

  /**
   * Takes a snapshot now and resolves when it is committed. It begins after any snapshot or restore already
   * running, so it holds every write made before the call.
   */
  async snapshot(): Promise<SnapshotReport> {
    const store = this.requireStore('take a snapshot');
    return this.exclusive(() => this.takeSnapshot(store));
  }

  /**
   * Replaces the cache's content with the last committed snapshot, all at once: if reading it fails, the cache is
   * left as it was. The snapshot is read in slices of a few milliseconds, during which the cache keeps serving (and
   * accepting writes to) its current content; the restored content then replaces it in one step, and writes made
   * meanwhile are lost. Resolves to `undefined` when there is no snapshot yet.
   */
  async restore(): Promise<RestoreReport | undefined> {
    const store = this.requireStore('restore');
    return this.exclusive(() => this.restoreFrom(store));
  }

  private async tick(): Promise<void> {
    if (this.busy) {
      this.skips.report(SNAPSHOT_SKIPPED(this.persistence.snapshotIntervalMs));
      this.metrics.snapshotEnded('skipped');
      return;
    }
    try {
      const store = this.requireStore('take a snapshot');
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

  /** `periodic`: taken by the interval, whose commits are logged at most every {@link COMMIT_LOG_WINDOW_MS}. */
  private async takeSnapshot(store: SnapshotStore, periodic = false): Promise<SnapshotReport> {
    const started = performance.now();
    let writer: SnapshotWriter | undefined;
    let capture: Capture | undefined;
    try {
      await store.ensureInPlace();
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
      this.failures.flush();
      if (this.failedInARow > 0) {
        this.logger.log(
          `Snapshots to ${store.dataDir} succeed again, after ${this.failedInARow} failed.`,
        );
        this.failedInARow = 0;
      }
      this.metrics.snapshotSucceeded(kind, durationMs / 1000, manifest.bytes, report.keys);
      this.metrics.unstorableKeys(unstorable.length);
      const committed =
        `Snapshot (${kind}) committed to ${store.dataDir}: ${report.keys} keys, ${report.records} records, ` +
        `${report.bytes} bytes in ${durationMs.toFixed(0)} ms` +
        (expired > 0 ? `; ${expired} expired keys left out.` : '.');
      if (periodic) {
        this.commits.report(committed, 'committed');
      } else {
        this.commits.flush();
        this.logger.log(committed);
      }
      this.reportUnstorable(unstorable);
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
          this.logger.warn(
            `Could not remove the failed snapshot's chunks: ${messageOf(abortError)}`,
          );
        });
      }
      this.lastError = { at: new Date(), message: messageOf(error) };
      this.failedInARow++;
      this.metrics.snapshotEnded('failure');
      if (error instanceof StoreMovedError) {
        this.failures.report(`Snapshot to ${store.dataDir} failed: ${error.message}`);
        if (error.missing) await this.recreateStore(store);
      } else {
        this.failures.report(
          `Snapshot to ${store.dataDir} failed; the previous snapshot is kept: ${messageOf(error)}`,
          failureKind(error),
        );
      }
      throw error;
    }
  }

  /** Gives a store file's free pages back to the file system; a failure leaves the store as it was. */
  private async compactStore(store: SnapshotStore): Promise<void> {
    try {
      const { before, after } = await store.compact();
      this.logger.log(
        `Compacted ${store.dataDir}/${STORE_FILE}: ${before} bytes, mostly free pages, down to ${after}.`,
      );
    } catch (error) {
      this.logger.warn(`Could not compact the store file in ${store.dataDir}: ${messageOf(error)}`);
    }
  }

  /** After the store file was deleted under the app: a new store, to which the next snapshot writes everything. */
  private async recreateStore(store: SnapshotStore): Promise<void> {
    try {
      await store.recreate(); // it holds no snapshot: the next one is a full one
      this.logger.warn(`Created a new, empty snapshot store in ${store.dataDir}.`);
    } catch (error) {
      this.logger.error(
        `Could not create a new snapshot store in ${store.dataDir}: ${messageOf(error)}`,
      );
    }
  }

  /**
   * Logs the keys a snapshot left out because their values cannot be stored, and marks them changed, so that the
   * next snapshot tries them again (they may have been fixed by then).
   */
  private reportUnstorable(unstorable: readonly UnstorableKey[]): void {
    if (unstorable.length === 0) {
      this.unstorable.flush();
      return;
    }
    for (const { key } of unstorable) this.keyspace.markChanged(key);
    const named = firstOf(
      unstorable.map((u) => u.message),
      UNSTORABLE_KEYS_LOGGED,
      (rest) => `and ${rest} more`,
    );
    this.unstorable.report(UNSTORABLE_KEYS_LEFT_OUT(unstorable.length, named.join('; ')));
  }

  private async restoreFrom(store: SnapshotStore): Promise<RestoreReport | undefined> {
    const started = performance.now();
    // Read in slices: the cache keeps serving what it held until the restored content is swapped in at once.
    const data = await store.readInSlices(new RestoredStates(), SLICE_MS);
    if (data === undefined) {
      this.logger.log(`No snapshot in ${store.dataDir} yet: starting with an empty cache.`);
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
    this.logger.log(
      `Restored ${report.keys} keys from ${store.dataDir} (snapshot of ${report.snapshotTakenAt.toISOString()}) ` +
        `in ${durationMs.toFixed(0)} ms; ${report.expired} expired keys left out.`,
    );
    return report;
  }
}

/**
 * What makes two failures the same for the log: the errno of the cause when there is one (a full disk's message
 * names a different file offset at each attempt), else the message.
 */
function failureKind(error: unknown): string {
  const code =
    error instanceof Error ? (error.cause as { code?: unknown } | undefined)?.code : undefined;
  return typeof code === 'number' || typeof code === 'string' ? `code ${code}` : messageOf(error);
}
