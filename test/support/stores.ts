import type { Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { MANIFEST_KEY, openTables, type Tables } from '../../lib/format/lmdb-layout';
import { STORE_FILE } from '../../lib/store/data-dir';
import { digest, type KeyspaceDigest } from './digest';
import { bootWith, copyOfStore, durable, tempDir } from './harness';

/** A data directory holding a committed snapshot, and the digest of what it restores to. */
export interface HealthyStore {
  readonly dataDir: string;
  readonly file: string;
  readonly lock: string;
  readonly digest: string;
  /** A key it holds, and its value. */
  readonly key: string;
  readonly value: string;
}

/**
 * Writes a committed snapshot into `dataDir` (a new temp dir by default): a few small keys, and `bigMiB` MiB of
 * random 100 KB values to make the file that large.
 */
export async function healthyStore(dataDir = tempDir(), bigMiB = 0): Promise<HealthyStore> {
  const h = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
  try {
    await h.redis.mset({ greeting: 'hello', 'user:1': 'ada', counter: '42' });
    await h.redis.hset('profile', 'name', 'Ada', 'lang', 'en');
    for (let i = 0; i < bigMiB * 10; i++) await h.redis.set(`big:${i}`, randomBytes(100_000));
    await h.snapshots.snapshot();
    const file = join(dataDir, STORE_FILE);
    return {
      dataDir,
      file,
      lock: `${file}-lock`,
      digest: (await digest(h.redis)).hash,
      key: 'greeting',
      value: 'hello',
    };
  } finally {
    await h.app.close();
  }
}

/** The entries of each stream of `keys`, in order: `[XLEN, XRANGE - +]`. */
export async function readStreams(redis: Redis, keys: readonly string[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const key of keys) out.push([await redis.xlen(key), await redis.xrange(key, '-', '+')]);
  return out;
}

/** What a cache restored: the digest of its keyspace, and the entries of the streams asked for. */
export interface RestoredDigest extends KeyspaceDigest {
  /** For each stream asked for, in order: `[XLEN, XRANGE - +]`. */
  readonly streams: unknown[];
}

/**
 * The digest of what `dataDir` restores to: a cache booted in this process (restore on, no snapshot on shutdown)
 * on a copy of its store, so that the app that wrote it may still hold it; with `inPlace`, on `dataDir` itself
 * (the directory as the app would find it: its file system, permissions and leftovers). With `streams`, also the
 * entries of those streams, which the digest does not show by ID.
 */
export async function restoredDigest(
  dataDir: string,
  options: { inPlace?: boolean; streams?: readonly string[] } = {},
): Promise<RestoredDigest> {
  const dir = options.inPlace === true ? dataDir : copyOfStore(dataDir);
  const h = await bootWith(durable(dir, { snapshotOnShutdown: false }));
  try {
    return {
      ...(await digest(h.redis)),
      streams: await readStreams(h.redis, options.streams ?? []),
    };
  } finally {
    await h.app.close();
  }
}

/** Opens the tables of the store file `file` (as the app does), runs `edit` on them, and closes the file. */
export async function withTables<T>(
  file: string,
  readOnly: boolean,
  edit: (tables: Tables) => T | Promise<T>,
): Promise<T> {
  const tables = openTables(file, readOnly);
  try {
    return await edit(tables);
  } finally {
    await tables.root.close();
  }
}

/** Flips one byte inside the first chunk's records, leaving LMDB's own structure intact. */
export function damageFirstChunk(dataDir: string): Promise<void> {
  return withTables(join(dataDir, STORE_FILE), false, async ({ chunks }) => {
    const [first] = chunks.getRange({ limit: 1 });
    const damaged = Buffer.from(first.value);
    damaged[damaged.length - 2] ^= 0x20;
    await chunks.put(first.key, damaged);
  });
}

/** The manifest of the store file `file`, as the JSON body of its envelope (not checked). */
export function readManifest(file: string): Promise<Record<string, unknown>> {
  return withTables(file, true, ({ meta }) => {
    const envelope = JSON.parse(meta.get(MANIFEST_KEY)!.toString()) as { body: string };
    return JSON.parse(envelope.body) as Record<string, unknown>;
  });
}

/** Rewrites the manifest of the store file `file` with `change` made to it, under a valid checksum. */
export function rewriteManifest(
  file: string,
  change: (manifest: Record<string, unknown>) => void,
): Promise<void> {
  return withTables(file, false, async ({ meta }) => {
    const envelope = JSON.parse(meta.get(MANIFEST_KEY)!.toString()) as { body: string };
    const manifest = JSON.parse(envelope.body) as Record<string, unknown>;
    change(manifest);
    const body = JSON.stringify(manifest);
    await meta.put(MANIFEST_KEY, Buffer.from(JSON.stringify({ crc: crc32(body), body })));
  });
}

/** The names in `dir`, sorted. */
export function entries(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** Scratch directories of store checks (`snapshot.mdb.check-…`) and earlier versions' rehearsal copies. */
export function checkLeftovers(dir: string): string[] {
  return entries(dir).filter((name) => name.includes('.check-') || name.includes('.rehearsal'));
}

/**
 * A pattern matching `message` (made by a message function with placeholder arguments) where each of `variable`
 * may be any text: for messages that quote a time or an amount of free space.
 */
export function messagePattern(message: string, ...variable: string[]): RegExp {
  const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  let pattern = escape(message);
  for (const part of variable) pattern = pattern.split(escape(part)).join('.+?');
  return new RegExp(pattern);
}
