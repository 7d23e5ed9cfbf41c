/**
 * What Redis's SAVE, BGSAVE, LASTSAVE and `INFO persistence` ask of whoever makes a keyspace durable: its snapshots
 * (see `SnapshotService`, which sets itself as the keyspace's {@link Keyspace.saver} while its store is open).
 */
export interface KeyspaceSaver {
  /** Takes a snapshot now; resolves once it is committed, rejects with why it was not. */
  save(): Promise<void>;
  /** When the snapshot running now began (ms since the epoch), or `undefined` when none runs. */
  readonly savingSince: number | undefined;
  /** When the last snapshot was committed, or when the saver started if none was since (ms since the epoch). */
  readonly lastSaveAt: number;
  /** Whether the last snapshot failed. */
  readonly lastSaveFailed: boolean;
  /** How long the last snapshot took (ms), `undefined` before the first one. */
  readonly lastSaveMs: number | undefined;
  /** Snapshots committed since the saver started. */
  readonly saves: number;
  /** What the startup restore loaded: its keys and the keys it left out as expired (0 and 0 without one). */
  readonly loaded: { readonly keys: number; readonly expired: number };
}
