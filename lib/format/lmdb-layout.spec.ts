import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHUNK_HEADER_BYTES, sealChunk } from './chunks';
import { MANIFEST_KEY, openTables, type ChunkKey, type Tables } from './lmdb-layout';
import { emptyManifest, parseManifest, serializeManifest } from './manifest';

let dir: string;
let file: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lmdb-layout-'));
  file = join(dir, 'snapshot.mdb');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `use` on the tables of `file`, and closes them however it ends. */
async function withTables<T>(
  readOnly: boolean,
  use: (tables: Tables) => Promise<T> | T,
): Promise<T> {
  const tables = openTables(file, readOnly);
  try {
    return await use(tables);
  } finally {
    await tables.root.close();
  }
}

function chunk(records: string): Buffer {
  const c = Buffer.concat([Buffer.alloc(CHUNK_HEADER_BYTES), Buffer.from(records)]);
  sealChunk(c);
  return c;
}

describe('openTables', () => {
  it('creates a store file holding the chunks and meta tables', async () => {
    const stored = chunk('records');
    const manifest = serializeManifest(emptyManifest(7));
    await withTables(false, async ({ root, chunks, meta }) => {
      await chunks.put([1, 0], stored);
      await meta.put(MANIFEST_KEY, manifest);
      expect(chunks.get([1, 0])).toEqual(stored);
      expect(meta.get(MANIFEST_KEY)).toEqual(manifest);
      expect([...root.getKeys()]).toEqual(['chunks', 'meta']);
    });
    expect(existsSync(file)).toBe(true);
  });

  it('stores values as the bytes given, not encoded by lmdb-js', async () => {
    // Bytes that are also msgpack (a fixarray of 1): neither wrapped when stored nor decoded when read.
    const bytes = Buffer.from([0x91, 0x01]);
    await withTables(false, async ({ chunks, meta }) => {
      await chunks.put([1, 0], bytes);
      await meta.put(MANIFEST_KEY, bytes);
      for (const [read, raw] of [
        [chunks.get([1, 0]), chunks.getBinary([1, 0])],
        [meta.get(MANIFEST_KEY), meta.getBinary(MANIFEST_KEY)],
      ]) {
        expect(Buffer.isBuffer(read)).toBe(true);
        expect(read).toEqual(bytes);
        expect(raw).toEqual(bytes);
      }
    });
  });

  it('orders chunk keys by generation, then sequence, as numbers', async () => {
    const keys: ChunkKey[] = [
      [2, 0],
      [1, 10],
      [1, 2],
      [10, 1],
      [1, 0],
    ];
    await withTables(false, async ({ chunks }) => {
      for (const key of keys) await chunks.put(key, chunk(key.join(':')));
      expect([...chunks.getKeys()]).toEqual([
        [1, 0],
        [1, 2],
        [1, 10],
        [2, 0],
        [10, 1],
      ]);
      expect([...chunks.getKeys({ start: [1], end: [2] })]).toEqual([
        [1, 0],
        [1, 2],
        [1, 10],
      ]);
    });
  });

  it('reads read-only what a writable open committed', async () => {
    const manifest = emptyManifest(11);
    const stored = chunk('generation 1');
    await withTables(false, async ({ chunks, meta }) => {
      await chunks.put([1, 0], stored);
      await meta.put(MANIFEST_KEY, serializeManifest(manifest));
    });
    await withTables(true, ({ chunks, meta }) => {
      expect(chunks.get([1, 0])).toEqual(stored);
      const raw = meta.get(MANIFEST_KEY);
      expect(raw).toBeDefined();
      expect(parseManifest(raw as Buffer)).toEqual(manifest);
      expect([...meta.getKeys()]).toEqual([MANIFEST_KEY]);
    });
  });
});
