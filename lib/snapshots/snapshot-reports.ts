import type { GenerationKind } from '../format/manifest';
import type { UnstorableKey } from './snapshot-copy';

/**
 * The kind of a snapshot: `full` rewrites every key; `incremental` writes only the keys changed since the previous
 * snapshot (and tombstones for the keys deleted since).
 */
export type SnapshotKind = GenerationKind;

/** What a snapshot did. */
export interface SnapshotReport {
  /** `full` rewrites every key; `incremental` writes only the keys changed since the previous snapshot. */
  readonly kind: SnapshotKind;
  /** Keys held when the snapshot began (the point in time it captured). */
  readonly keys: number;
  /** Records written: keys, and for an incremental snapshot, tombstones of deleted keys. */
  readonly records: number;
  /** Keys left out because their TTL had run out when the snapshot began. */
  readonly expired: number;
  /**
   * Keys left out because their values cannot be stored (a shape no Redis command makes): the first 100 of them,
   * each with why. Until they are overwritten or deleted, each snapshot leaves them out again, and the health
   * indicator reports the cache down.
   */
  readonly unstorableKeys: readonly UnstorableKey[];
  /** How many keys were left out because their values cannot be stored. */
  readonly unstorable: number;
  /** Bytes written by this snapshot. */
  readonly bytes: number;
  /** Bytes of the whole restorable chain after it. */
  readonly totalBytes: number;
  readonly startedAt: Date;
  readonly durationMs: number;
}

/** Why the last snapshot failed. */
export interface SnapshotFailure {
  readonly at: Date;
  readonly message: string;
}

/** What a restore did. */
export interface RestoreReport {
  /** Keys loaded into the cache. */
  readonly keys: number;
  /** Keys left out because their TTL had run out. */
  readonly expired: number;
  /** The point in time the restored snapshot holds. */
  readonly snapshotTakenAt: Date;
  readonly durationMs: number;
}
