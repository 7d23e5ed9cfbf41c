/**
 * The store file: one LMDB environment with two named tables.
 *
 * - `chunks`: key `[generation, sequence]` (lmdb-js's ordered array key), value a chunk (see `chunks.ts`).
 *   Chunks are appended in key order, the fast way to fill LMDB.
 * - `meta`: key `"manifest"`, value the manifest (see `manifest.ts`).
 *
 * Every piece of code that opens a store file opens it through {@link openTables}, except the check process, which
 * cannot import it and opens the file with the same {@link OPEN_OPTIONS} and {@link TABLES}.
 */
import type { Database, RootDatabase } from 'lmdb';

type Lmdb = typeof import('lmdb');
let lmdb: Lmdb | undefined;

/**
 * lmdb-js, loaded when a store file is first opened: its native binary is an optional dependency, and an app in
 * `redis` mode, without persistence, or a CLI asked for `--help` must not need it.
 */
function loadLmdb(): Lmdb {
  if (lmdb === undefined) {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      lmdb = require('lmdb') as Lmdb;
    } catch (error) {
      throw new Error(
        `LMDB, which stores the embedded cache's snapshots, cannot be loaded: ` +
          `${error instanceof Error ? error.message : String(error)}. Its native binary is an optional dependency ` +
          `(@lmdb/lmdb-<platform>-<arch>): install the dependencies again without --omit=optional, on the platform ` +
          `that runs the app; or run without snapshots (persistence.enabled: false) or with mode: 'redis'.`,
      );
    }
  }
  return lmdb;
}

export const MANIFEST_KEY = 'manifest';

/** The named tables and how lmdb-js opens each: values are bytes, stored and read as they are. */
export const TABLES = {
  chunks: { name: 'chunks', encoding: 'binary' },
  meta: { name: 'meta', encoding: 'binary' },
} as const;

/**
 * The options of every open of a store file besides `path` and `readOnly`; {@link openTables} says why the last two
 * are off. Plain data, so that the check process (`lib/store/check-file.child.ts`) can be given them.
 */
export const OPEN_OPTIONS = {
  maxDbs: 4,
  eventTurnBatching: false,
  overlappingSync: false,
} as const;

export type ChunkKey = [number, number];

export interface Tables {
  readonly root: RootDatabase;
  readonly chunks: Database<Buffer, ChunkKey>;
  readonly meta: Database<Buffer, string>;
}

/**
 * Opens the tables of the store file at `path`. Two lmdb-js options keep every failed write (a full disk, EPERM,
 * EIO) a rejection of a promise the caller holds, and keep closing from waiting forever after one:
 * - `eventTurnBatching: false`: with it, lmdb-js starts each turn's batch with a write of its own whose promise
 *   nobody holds; when that transaction fails, the rejection is unhandled and Node ends the process.
 * - `overlappingSync: false`: with it, a write resolves before its flush, and closing waits for the flush of the
 *   last transaction, which never comes when that transaction failed. Without it a write resolves once its commit is
 *   synced to disk, which is what a snapshot waits for anyway.
 */
export function openTables(path: string, readOnly: boolean): Tables {
  const root = loadLmdb().open({ path, readOnly, ...OPEN_OPTIONS });
  return {
    root,
    chunks: root.openDB<Buffer, ChunkKey>({ ...TABLES.chunks }),
    meta: root.openDB<Buffer, string>({ ...TABLES.meta }),
  };
}
