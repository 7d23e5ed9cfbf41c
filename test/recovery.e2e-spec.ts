import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FORMAT_VERSION } from '../lib/format/manifest';
import { STORE_FILE } from '../lib/store/data-dir';
import {
  CORRUPT_SNAPSHOT,
  DATA_DIR_IN_USE,
  OWNED_IN_THIS_PROCESS,
  UNSUPPORTED_FORMAT,
} from '../lib/store/store.messages';
import { OWNER_FILE } from '../lib/store/owner-lock';
import { QUARANTINE_DIR } from '../lib/store/data-dir';
import { READABLE_FORMATS } from '../lib/format/manifest';
import { bootWith, durable, removeTempDirs, tempDir } from './support/harness';
import { restoreFailures } from './support/metrics';
import { startSampleApp, stopSampleApps } from './support/sample-app';
import { damageFirstChunk, readManifest, rewriteManifest, withTables } from './support/stores';

afterAll(async () => {
  await stopSampleApps();
  removeTempDirs();
});

/** A data dir holding a committed snapshot of `keys`. */
async function committed(keys: Record<string, string>): Promise<string> {
  const dataDir = tempDir();
  const h = await bootWith(durable(dataDir));
  await h.redis.mset(keys);
  await h.app.close();
  return dataDir;
}

describe('a snapshot that cannot be restored', () => {
  it('fails the bootstrap by default, naming the data dir and the problem, and touches nothing', async () => {
    const dataDir = await committed({ a: '1', b: '2' });
    await damageFirstChunk(dataDir);
    const before = readFileSync(join(dataDir, STORE_FILE));
    const failures = await restoreFailures();

    await expect(bootWith(durable(dataDir))).rejects.toThrow(
      CORRUPT_SNAPSHOT(dataDir, 'generation 1: chunk 0 fails its checksum'),
    );
    expect(await restoreFailures()).toBe(failures + 1);
    expect(readFileSync(join(dataDir, STORE_FILE)).equals(before)).toBe(true);
    expect(existsSync(join(dataDir, QUARANTINE_DIR))).toBe(false);
    // The failed bootstrap gave the directory up: the next start may claim it.
    expect(existsSync(join(dataDir, OWNER_FILE))).toBe(false);
  });

  it('with start-empty: moves it aside (never deletes it), starts empty, and snapshots again', async () => {
    const dataDir = await committed({ a: '1', b: '2' });
    await damageFirstChunk(dataDir);
    const before = readFileSync(join(dataDir, STORE_FILE));
    const failures = await restoreFailures();

    const h = await bootWith(durable(dataDir, { onRestoreError: 'start-empty' }));
    try {
      expect(await h.redis.dbsize()).toBe(0);
      expect(await restoreFailures()).toBe(failures + 1);
      const [moved] = readdirSync(join(dataDir, QUARANTINE_DIR));
      expect(moved).toMatch(/^\d{4}-\d\d-\d\dT/);
      expect(readFileSync(join(dataDir, QUARANTINE_DIR, moved, STORE_FILE)).equals(before)).toBe(
        true,
      );
      await h.redis.set('fresh', 'yes');
      expect((await h.snapshots.snapshot()).keys).toBe(1);
    } finally {
      await h.app.close();
    }
    const r = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    expect(await r.redis.keys('*')).toEqual(['fresh']);
    await r.app.close();
  });

  it('reads a format-2 store (format 3 only added the sorted-set encoding) and writes on as format 3', async () => {
    const dataDir = await committed({ a: '1', b: '2' });
    await rewriteManifest(join(dataDir, STORE_FILE), (m) => {
      m.format = 2;
    });
    const h = await bootWith(durable(dataDir));
    expect(await h.redis.mget('a', 'b')).toEqual(['1', '2']);
    await h.redis.zadd('z', 1, 'm');
    await h.snapshots.snapshot();
    await h.app.close();
    expect((await readManifest(join(dataDir, STORE_FILE))).format).toBe(FORMAT_VERSION);
    const again = await bootWith(durable(dataDir));
    expect(await again.redis.zrange('z', 0, -1, 'WITHSCORES')).toEqual(['m', '1']);
    await again.app.close();
  });

  it('refuses a snapshot in another format (newer, or format 1) with a clear message', async () => {
    for (const other of [FORMAT_VERSION + 1, 1]) {
      const dataDir = await committed({ a: '1' });
      await rewriteManifest(join(dataDir, STORE_FILE), (m) => {
        m.format = other;
      });
      await expect(bootWith(durable(dataDir))).rejects.toThrow(
        UNSUPPORTED_FORMAT(dataDir, other, READABLE_FORMATS),
      );
    }
  });

  it('detects a missing chunk and an extra one', async () => {
    const missing = await committed({ a: '1' });
    await rewriteManifest(join(missing, STORE_FILE), (m) => {
      const [g] = m.generations as { chunks: number }[];
      g.chunks += 1;
    });
    await expect(bootWith(durable(missing))).rejects.toThrow(
      CORRUPT_SNAPSHOT(missing, 'generation 1: expected 2 chunks, found 1'),
    );

    const extra = await committed({ a: '1' });
    await withTables(join(extra, STORE_FILE), false, async ({ chunks }) => {
      const [first] = chunks.getRange({ limit: 1 });
      await chunks.put([first.key[0], 1], first.value);
    });
    await expect(bootWith(durable(extra))).rejects.toThrow(
      CORRUPT_SNAPSHOT(extra, 'generation 1: expected 1 chunks, found 2'),
    );
  });

  it('never maps a file LMDB cannot read: garbage is caught by the check process', async () => {
    const dataDir = tempDir();
    writeFileSync(join(dataDir, STORE_FILE), Buffer.alloc(64 * 1024, 0x5a));
    await expect(bootWith(durable(dataDir))).rejects.toThrow(/LMDB cannot read the file/);
    const h = await bootWith(durable(dataDir, { onRestoreError: 'start-empty' }));
    expect(await h.redis.dbsize()).toBe(0);
    await h.app.close();
  });
});

describe('one owner per data directory', () => {
  it('refuses a second app in the same process, naming it', async () => {
    const dataDir = tempDir();
    const first = await bootWith(durable(dataDir));
    try {
      await expect(bootWith(durable(dataDir))).rejects.toThrow(
        DATA_DIR_IN_USE(dataDir, OWNED_IN_THIS_PROCESS(process.pid)),
      );
    } finally {
      await first.app.close();
    }
    expect(existsSync(join(dataDir, OWNER_FILE))).toBe(false);
  });

  it('refuses a data dir owned by another live process, and takes over once it was killed', async () => {
    const dataDir = tempDir();
    const other = await startSampleApp({ dataDir, cwd: tempDir() });
    const owner = JSON.parse(readFileSync(join(dataDir, OWNER_FILE), 'utf8')) as { pid: number };
    expect(owner.pid).toBe(other.child.pid);
    await expect(bootWith(durable(dataDir))).rejects.toThrow(
      new RegExp(`in use by process ${other.child.pid} on `),
    );

    await other.signal('SIGKILL');
    // The claim is still on disk, but its process is gone.
    expect(existsSync(join(dataDir, OWNER_FILE))).toBe(true);
    const h = await bootWith(durable(dataDir));
    await h.app.close();
  });
});

describe('permissions', () => {
  it('creates the data dir 0700 and its files 0600', async () => {
    const dataDir = join(tempDir(), 'nested', 'data');
    const h = await bootWith(durable(dataDir));
    await h.redis.set('k', 'v');
    await h.snapshots.snapshot();
    try {
      expect(statSync(dataDir).mode & 0o777).toBe(0o700);
      for (const file of readdirSync(dataDir)) {
        expect([file, statSync(join(dataDir, file)).mode & 0o777]).toEqual([file, 0o600]);
      }
    } finally {
      await h.app.close();
    }
  });
});
