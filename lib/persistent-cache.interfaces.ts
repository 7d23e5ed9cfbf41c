/** Options of {@link PersistentCacheModule}. Every field is optional; defaults are listed per field. */
export interface PersistentCacheModuleOptions {
  persistence?: PersistenceOptions;
}

/** How the embedded cache is made durable. */
export interface PersistenceOptions {
  /** Snapshot the cache to disk and restore it on startup. `false` gives a plain in-memory cache. Default `true`. */
  enabled?: boolean;
  /** Directory of the snapshot store, created with mode 0700 if missing. Default `./data` (from the cwd). */
  dataDir?: string;
  /**
   * Time between periodic snapshots: milliseconds, or a duration such as `"30s"`, `"5m"`, `"1h"`, `"250ms"`.
   * `0` disables periodic snapshots. Default `"5m"`.
   */
  snapshotInterval?: number | string;
  /** Take a final snapshot when the application shuts down. Default `true`. */
  snapshotOnShutdown?: boolean;
  /** Restore the last snapshot when the module starts. Default `true`. */
  restoreOnStartup?: boolean;
}

/** The options after defaults and validation: what the module runs with. */
export interface ResolvedPersistentCacheOptions {
  readonly persistence: {
    readonly enabled: boolean;
    /** Absolute path. */
    readonly dataDir: string;
    /** Milliseconds; `0` when periodic snapshots are disabled. */
    readonly snapshotIntervalMs: number;
    readonly snapshotOnShutdown: boolean;
    readonly restoreOnStartup: boolean;
  };
}
