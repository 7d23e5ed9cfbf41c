import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Keyspace } from '../lib/keyspace/keyspace';
import { KEYSPACE } from '../lib/persistent-cache.constants';
import { DATA_DIR_NOT_WRITABLE } from '../lib/store/store.messages';
import { STORE_FILE } from '../lib/store/data-dir';
import { digest } from './support/digest';
import { bootWith, durable, removeTempDirs, tempDir } from './support/harness';
import { canMount, mountTmpfs, unmountAll } from './support/tmpfs';
import { dataView } from '../lib/ioredis-mock/views';

afterAll(() => {
  unmountAll();
  removeTempDirs();
});

const DISK_FULL_CHILD = join(__dirname, '..', 'dist', 'test', 'fixtures', 'disk-full-child.js');

describe('large and odd values round-trip exactly', () => {
  it('a 64 MB string, a hash of 100k fields and a sorted set of 1M members', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir));
    const big = randomBytes(64 * 1024 * 1024);
    await h.redis.set('big', big);
    for (let start = 0; start < 100_000; start += 10_000) {
      const fields: string[] = [];
      for (let i = start; i < start + 10_000; i++) fields.push(`field:${i}`, `value ${i}`);
      await h.redis.hset('wide', ...fields);
    }
    // Built in place: through ZADD, ioredis-mock copies the whole set on every call (O(n) per write).
    const ranking = new Map<string, { score: number; value: string }>();
    for (let i = 0; i < 1_000_000; i++)
      ranking.set(`member:${i}`, { score: i / 7, value: `member:${i}` });
    dataView(h.app.get<Keyspace>(KEYSPACE)).set('ranking', ranking);
    expect(await h.redis.zscore('ranking', 'member:7')).toBe('1');
    const report = await h.snapshots.snapshot();
    expect(report.keys).toBe(3);
    await h.app.close();

    const r = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    try {
      expect((await r.redis.getBuffer('big'))?.equals(big)).toBe(true);
      expect(await r.redis.hlen('wide')).toBe(100_000);
      expect(await r.redis.hget('wide', 'field:99999')).toBe('value 99999');
      expect(await r.redis.zcard('ranking')).toBe(1_000_000);
      expect(await r.redis.zscore('ranking', 'member:999999')).toBe(String(999_999 / 7));
      expect(await r.redis.zrange('ranking', 500_000, 500_001)).toEqual([
        'member:500000',
        'member:500001',
      ]);
    } finally {
      await r.app.close();
    }
  });
});

describe('a store file that once grew gives its space back', () => {
  it('a full snapshot of a store file mostly made of free pages compacts it', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    try {
      await h.redis.set('kept', 'small');
      for (let i = 0; i < 80; i++) await h.redis.set(`big:${i}`, randomBytes(1024 * 1024));
      await h.snapshots.snapshot();
      const grown = statSync(join(dataDir, STORE_FILE)).size;
      expect(grown).toBeGreaterThan(80 * 1024 * 1024);

      for (let i = 0; i < 80; i++) await h.redis.del(`big:${i}`);
      const report = await h.snapshots.snapshot();
      expect(report).toMatchObject({ kind: 'full', keys: 1 });
      expect(statSync(join(dataDir, STORE_FILE)).size).toBeLessThan(1024 * 1024);
      expect(existsSync(join(dataDir, `${STORE_FILE}.compact`))).toBe(false);
      // The compacted store is the one the app goes on writing, and restores.
      await h.redis.set('after', 'compaction');
      await h.snapshots.snapshot();
    } finally {
      await h.app.close();
    }
    const r = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    try {
      expect(await r.redis.keys('*')).toEqual(expect.arrayContaining(['kept', 'after']));
      expect(await r.redis.dbsize()).toBe(2);
    } finally {
      await r.app.close();
    }
  });
});

if (canMount()) {
  describe('a full disk (a 4 MB tmpfs) and a read-only data dir', () => {
    it('fails the snapshot clearly, keeps serving and the previous snapshot, and recovers once space is freed', async () => {
      const dataDir = join(mountTmpfs('size=4m'), 'data');
      const copyDir = tempDir();
      // In a process of its own: see the fixture's comment.
      const child = JSON.parse(
        execFileSync(process.execPath, [DISK_FULL_CHILD, dataDir, copyDir], {
          encoding: 'utf8',
          // lmdb-js prints the failed commit to stderr; kept with the error should the child fail.
          stdio: ['ignore', 'pipe', 'pipe'],
        }),
      ) as Record<string, string | number>;
      expect(child.failure).toMatch(/LMDB could not commit the write: .* \(is the disk full\?/);
      expect(child.lastFailure).toBe(child.failure);
      expect(child.failuresCounted).toBe(1);
      expect(child.servedDuringFailure).toBe('ok');
      expect(child.recovered).toBe(3);

      // What the store held right after the failed snapshot: the previous one.
      const before = await bootWith(durable(copyDir, { snapshotOnShutdown: false }));
      expect((await digest(before.redis)).hash).toBe(child.committed);
      await before.app.close();
      // And after space was freed, the next snapshot's state.
      const after = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
      expect((await digest(after.redis)).hash).toBe(child.live);
      await after.app.close();
    });

    it('refuses a data dir it cannot write, even as root (a read-only mount)', async () => {
      const mount = mountTmpfs('size=64k');
      mkdirSync(join(mount, 'data'), { mode: 0o700 });
      execFileSync('mount', ['-o', 'remount,ro', mount]);
      const dataDir = join(mount, 'data');
      await expect(bootWith(durable(dataDir))).rejects.toThrow(
        DATA_DIR_NOT_WRITABLE(dataDir, 'EROFS'),
      );
    });
  });
} else {
  console.warn(
    'NOTICE: the full-disk and read-only tests need to mount a tmpfs, which takes root: not run here (CI runs as root).',
  );
}
