/** Messages of snapshots and restores. Tests assert against the same functions. */
import { counted } from '../util/counted';
import type { RestoreReport, SnapshotReport } from './snapshot-reports';

export const SNAPSHOT_SKIPPED = (intervalMs: number): string =>
  'Periodic snapshot skipped: the previous snapshot is still running (snapshots take longer than ' +
  `persistence.snapshotInterval, ${intervalMs} ms).`;

export const SCHEDULE_MODULE_MISSING = (intervalMs: number): string =>
  `persistence.snapshotInterval is ${intervalMs} ms, but SchedulerRegistry is not available: import ` +
  'ScheduleModule.forRoot() once in your application module, or set persistence.snapshotInterval to 0.';

export const PERSISTENCE_DISABLED = (operation: string, mode: 'embedded' | 'redis'): string =>
  mode === 'redis'
    ? `Cannot ${operation}: mode is "redis", where Redis keeps its own data and nothing is snapshotted.`
    : `Cannot ${operation}: persistence is disabled (persistence.enabled is false).`;

export const RESTORE_FAILED_STARTING_EMPTY = (error: string, quarantine: string): string =>
  `Could not restore the snapshot: ${error} Starting with an empty cache (persistence.onRestoreError is ` +
  `"start-empty"); the snapshot was moved to ${quarantine} — see docs/RECOVERY.md.`;

export const UNSTORABLE_KEYS_LEFT_OUT = (count: number, which: string): string =>
  `Snapshot left out ${count} key(s) whose values cannot be stored, and would lose them on a restart: ${which}. ` +
  'No Redis command stores such a value: overwrite or delete these keys (every other key was persisted).';

export const PERSISTENCE_OFF =
  'Persistence is disabled (persistence.enabled is false): the cache lives in memory only.';

export const PERIODIC_SNAPSHOTS = (intervalMs: number, dataDir: string, name: string): string =>
  `Snapshots every ${intervalMs} ms to ${dataDir} (interval "${name}").`;

export const PERIODIC_SNAPSHOTS_OFF =
  'Periodic snapshots are disabled (persistence.snapshotInterval is 0).';

export const NOT_RESTORING = (dataDir: string): string =>
  `Not restoring the snapshot in ${dataDir} (persistence.restoreOnStartup is false).`;

export const NO_SNAPSHOT_YET = (dataDir: string): string =>
  `No snapshot in ${dataDir} yet: starting with an empty cache.`;

export const RESTORED = (dataDir: string, report: RestoreReport): string =>
  `Restored ${counted(report.keys, 'key')} from ${dataDir} (snapshot of ${report.snapshotTakenAt.toISOString()}) ` +
  `in ${report.durationMs.toFixed(0)} ms; ${counted(report.expired, 'expired key')} left out.`;

export const SNAPSHOT_COMMITTED = (dataDir: string, report: SnapshotReport): string =>
  `Snapshot (${report.kind}) committed to ${dataDir}: ${counted(report.keys, 'key')}, ` +
  `${counted(report.records, 'record')}, ${counted(report.bytes, 'byte')} in ${report.durationMs.toFixed(0)} ms` +
  (report.expired > 0 ? `; ${counted(report.expired, 'expired key')} left out.` : '.');

export const SNAPSHOTS_SUCCEED_AGAIN = (dataDir: string, failed: number): string =>
  `Snapshots to ${dataDir} succeed again, after ${failed} failed.`;

export const SNAPSHOT_FAILED = (dataDir: string, reason: string): string =>
  `Snapshot to ${dataDir} failed; the previous snapshot is kept: ${reason}`;

/**
 * The final snapshot, at shutdown, failed: the process ends without the writes since the last committed snapshot,
 * which began at `heldAt` (undefined: the store holds none that can be read).
 */
export const FINAL_SNAPSHOT_FAILED = (
  dataDir: string,
  heldAt: Date | undefined,
  reason: string,
): string =>
  `The final snapshot to ${dataDir} failed, so this process ends without ` +
  (heldAt === undefined
    ? 'its keys (the store holds no snapshot)'
    : `the writes made since the last committed snapshot, of ${heldAt.toISOString()}`) +
  `: ${reason}`;

/** `reason` says what became of the store file and what happens next. */
export const STORE_MOVED_SNAPSHOT_FAILED = (dataDir: string, reason: string): string =>
  `Snapshot to ${dataDir} failed: ${reason}`;

export const SNAPSHOT_ADOPTED = (keys: number, gen: number, ms: number, stopped: boolean): string =>
  `${counted(keys, 'key')} now held as the bytes of snapshot generation ${gen} (${ms.toFixed(0)} ms)` +
  (stopped ? '; stopped for a snapshot, a restore or the shutdown.' : '.');

export const ADOPTION_FAILED = (gen: number, reason: string): string =>
  `Could not read snapshot generation ${gen} back to hold its keys as bytes; they keep their objects, and the ` +
  `snapshot is not affected: ${reason}`;

export const FAILED_CHUNKS_NOT_REMOVED = (reason: string): string =>
  `Could not remove the failed snapshot's chunks: ${reason}`;

export const STORE_COMPACTED = (file: string, before: number, after: number): string =>
  `Compacted ${file}: ${before} bytes, mostly free pages, down to ${after}.`;

export const COMPACTION_FAILED = (dataDir: string, reason: string): string =>
  `Could not compact the store file in ${dataDir}: ${reason}`;

export const STORE_RECREATED = (dataDir: string): string =>
  `Created a new, empty snapshot store in ${dataDir}.`;

export const STORE_NOT_RECREATED = (dataDir: string, reason: string): string =>
  `Could not create a new snapshot store in ${dataDir}: ${reason}`;

/** A line standing for `count` occurrences of `message` (`what`: snapshots, or times it happened). */
export const REPEATED = (message: string, count: number, what: 'snapshots' | 'times'): string =>
  count === 1 ? message : `${message} (${count} ${what} since the last such line)`;

export const RESTORED_OVER_LIMIT = (used: number, max: number, policy: string): string =>
  `The restored cache holds an estimated ${used} bytes, over its memory limit of ${max} bytes (memory.maxBytes): ` +
  (policy === 'noeviction'
    ? 'with memory.policy "noeviction", commands that add memory are refused with an OOM error until keys are ' +
      'deleted or expire, or the limit is raised (CONFIG SET maxmemory)'
    : `keys are being evicted by the "${policy}" policy until it fits`);

export const NO_SHUTDOWN_HOOKS = (signals: readonly string[], dataDir: string): string =>
  `Nothing listens to ${signals.join(' or ')}: a process stopped by ${signals.length > 1 ? 'either' : 'it'} ends ` +
  `without its shutdown hooks, so without the final snapshot of ${dataDir}, and the writes since the last snapshot ` +
  'are lost. Call app.enableShutdownHooks() (see the README).';

export const IMPORTED_TWICE = (interval: string): string =>
  `PersistentCacheModule is set up twice in this application (the periodic snapshot "${interval}" is already ` +
  'scheduled): import PersistentCacheModule once (isGlobal: true, or re-export it from one module).';
