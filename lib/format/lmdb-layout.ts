/**
 * The store file: one LMDB environment with two named tables.
 *
 * - `chunks`: key `[generation, sequence]` (lmdb-js's ordered array key), value a chunk (see `chunks.ts`).
 *   Chunks are appended in key order, the fast way to fill LMDB.
 * - `meta`: key `"manifest"`, value the manifest (see `manifest.ts`).
 *
 * Every piece of code that opens a store file opens it through {@link openTables}.
 */
import { open, type Database, type RootDatabase } from 'lmdb';

export const MANIFEST_KEY = 'manifest';

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
