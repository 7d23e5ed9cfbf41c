import { open } from 'lmdb';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WRITE_IN_PROGRESS } from './store.messages';
import type { Manifest } from '../format/manifest';
import { RestoredStates } from '../keyspace/restored-states';
import { SnapshotStore, type SnapshotWriter } from './snapshot-store';
import { STORE_FILE } from './data-dir';

const dirs: string[] = [];
const stores: SnapshotStore[] = [];

async function openStore(dataDir = mkdtempSync(join(tmpdir(), 'snapshot-store-'))) {
  if (!dirs.includes(dataDir)) dirs.push(dataDir);
  const store = new SnapshotStore(dataDir);
  stores.push(store);
  await store.open();
  await store.openForWriting();
  return store;
}

afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Adds `count` keys of about 1 KB to `writer` (a few hundred make a chunk), and waits for LMDB to take them. */
async function addKeys(writer: SnapshotWriter, prefix: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    writer.add(`${prefix}${i}`, { value: `${i} `.repeat(300), expiresAt: undefined });
    if (i % 500 === 0) await writer.drain();
  }
  await writer.drain();
}

/** Writes `count` keys of about 1 KB and commits them. */
async function writeKeys(
  store: SnapshotStore,
  kind: 'full' | 'incremental',
  prefix: string,
  count: number,
): Promise<Manifest> {
  const writer = store.beginWrite(kind);
  await addKeys(writer, prefix, count);
  return writer.commit(count, Date.now());
}

/** The chunk keys in the store's file, read with LMDB directly (the store must be closed). */
async function chunkKeys(dataDir: string): Promise<[number, number][]> {
  const env = open({ path: join(dataDir, STORE_FILE), maxDbs: 4, readOnly: true });
  try {
    const chunks = env.openDB<Buffer, [number, number]>({ name: 'chunks', encoding: 'binary' });
    return [...chunks.getKeys()];
  } finally {
    await env.close();
  }
}

function namedChunks(manifest: Manifest): [number, number][] {
  return manifest.generations.flatMap((g) =>
    Array.from({ length: g.chunks }, (_, seq): [number, number] => [g.gen, seq]),
  );
}

function restoredKeys(store: SnapshotStore): string[] {
  const data = store.read(new RestoredStates());
  return [...(data?.states.entries() ?? [])].map(([key]) => key).sort();
}

describe('SnapshotStore reads', () => {
  it('gives the event loop turns within a chunk, not only between chunks', async () => {
    const store = await openStore();
    const writer = store.beginWrite('full');
    for (let i = 0; i < 1_000; i++) writer.add(`k${i}`, { value: 'v', expiresAt: undefined });
    const manifest = await writer.commit(1_000, Date.now());
    expect(manifest.generations[0].chunks).toBe(1);
    let turns = 0;
    let reading = true;
    const countTurns = (): void => {
      turns++;
      if (reading) setImmediate(countTurns);
    };
    setImmediate(countTurns);
    const data = await store.readInSlices(new RestoredStates(), 0);
    reading = false;
    expect(data?.states.size).toBe(1_000);
    expect(turns).toBeGreaterThanOrEqual(1_000 / 64);
  });
});

describe('SnapshotStore writes', () => {
  it('allows one write at a time: another begins only once it is committed or aborted', async () => {
    const store = await openStore();
    const first = store.beginWrite('full');
    expect(() => store.beginWrite('full')).toThrow(WRITE_IN_PROGRESS(store.dataDir));
    first.add('a', { value: '1', expiresAt: undefined });
    await first.commit(1, Date.now());
    const second = store.beginWrite('incremental');
    expect(() => store.beginWrite('incremental')).toThrow('already being written');
    second.add('b', { value: '2', expiresAt: undefined });
    await second.abort();
    const third = store.beginWrite('incremental');
    third.addTombstone('a');
    third.add('c', { value: '3', expiresAt: undefined });
    const manifest = await third.commit(1, Date.now());
    expect(manifest.generations.map((g) => [g.kind, g.records])).toEqual([
      ['full', 1],
      ['incremental', 2],
    ]);
    expect(restoredKeys(store)).toEqual(['c']);
  });

  it('commits a many-chunk incremental whole, and leaves only the chunks its manifest names', async () => {
    const store = await openStore();
    await writeKeys(store, 'full', 'k', 2_000);
    const given = store.beginWrite('incremental');
    await addKeys(given, 'given up ', 2_000);
    await given.abort();
    const manifest = await writeKeys(store, 'incremental', 'n', 2_000);
    expect(manifest.generations.map((g) => g.kind)).toEqual(['full', 'incremental']);
    expect(manifest.generations[1].chunks).toBeGreaterThan(3);
    const keys = restoredKeys(store);
    expect(keys).toHaveLength(4_000);
    expect(keys.filter((k) => k.startsWith('given up'))).toEqual([]);
    await store.close();
    expect(await chunkKeys(store.dataDir)).toEqual(namedChunks(manifest));
  });

  it('removes the chunks of a write cut off by a crash when the next write begins', async () => {
    const store = await openStore();
    await writeKeys(store, 'full', 'k', 1_000);
    const cutOff = store.beginWrite('incremental');
    await addKeys(cutOff, 'cut off ', 2_000);
    await store.close(); // as a crash would leave it: chunks written, no manifest naming them
    const strays = (await chunkKeys(store.dataDir)).filter(([gen]) => gen === cutOff.gen);
    expect(strays.length).toBeGreaterThan(3);

    const reopened = await openStore(store.dataDir);
    expect(restoredKeys(reopened)).toHaveLength(1_000);
    // An incremental commit removes nothing itself: the strays go when the write begins.
    const manifest = await writeKeys(reopened, 'incremental', 'n', 10);
    await reopened.close();
    expect(await chunkKeys(store.dataDir)).toEqual(namedChunks(manifest));
  });

  it('keeps the manifest it committed, the same one a reader sees in the file', async () => {
    const store = await openStore();
    await writeKeys(store, 'full', 'k', 100);
    const committed = await writeKeys(store, 'incremental', 'n', 100);
    expect(store.manifest()).toEqual(committed);
    const reader = new SnapshotStore(store.dataDir);
    stores.push(reader);
    await reader.open({ claim: false });
    expect(reader.manifest()).toEqual(committed);
    await store.close();
    expect(() => store.manifest()).toThrow('closed');
  });

  it('a full snapshot replaces the chain, and its old chunks are removed', async () => {
    const store = await openStore();
    await writeKeys(store, 'full', 'k', 1_000);
    await writeKeys(store, 'incremental', 'n', 1_000);
    const manifest = await writeKeys(store, 'full', 'f', 500);
    expect(manifest.generations.map((g) => g.kind)).toEqual(['full']);
    expect(restoredKeys(store)).toHaveLength(500);
    await store.close();
    expect(await chunkKeys(store.dataDir)).toEqual(namedChunks(manifest));
  });
});

describe('SnapshotStore compaction', () => {
  it('gives the free pages of a store that once grew back, and the store goes on as before', async () => {
    const store = await openStore();
    await writeKeys(store, 'full', 'big', 20_000); // about 20 MB
    const manifest = await writeKeys(store, 'full', 'k', 50);
    const grown = store.fileSize();
    expect(grown).toBeGreaterThan(20 * manifest.bytes);

    const { before, after } = await store.compact();
    expect(before).toBe(grown);
    expect(after).toBe(store.fileSize());
    expect(after).toBeLessThan(grown / 10);
    expect(existsSync(join(store.dataDir, `${STORE_FILE}.compact`))).toBe(false);
    expect(store.manifest()).toEqual(manifest);
    expect(restoredKeys(store)).toHaveLength(50);

    // Writes go to the compacted file, which a new process then reads.
    const next = await writeKeys(store, 'incremental', 'n', 10);
    await store.close();
    const reader = await openStore(store.dataDir);
    expect(reader.manifest()).toEqual(next);
    expect(restoredKeys(reader)).toHaveLength(60);
  });
});
