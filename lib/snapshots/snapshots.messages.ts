/** Messages of snapshots and restores. Tests assert against the same functions. */

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
  `"start-empty"); the snapshot was moved to ${quarantine} — see "Recovery" in the README.`;

export const UNSTORABLE_KEYS_LEFT_OUT = (count: number, which: string): string =>
  `Snapshot left out ${count} key(s) whose values cannot be stored, and would lose them on a restart: ${which}. ` +
  'No Redis command stores such a value: overwrite or delete these keys (every other key was persisted).';
