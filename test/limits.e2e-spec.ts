import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { register } from 'prom-client';
import { METRICS } from '../lib';
import type { Keyspace } from '../lib/embedded/keyspace';
import { KEYSPACE } from '../lib/persistent-cache.constants';
import { DATA_DIR_NOT_WRITABLE } from '../lib/persistent-cache.messages';
import { digest } from './support/digest';
import { bootWith, durable, removeTempDirs, tempDir } from './support/harness';

const mounts: string[] = [];
afterAll(() => {
  // Lazily: a test that failed midway may leave a file open there until its app is collected.
  for (const dir of mounts.splice(0)) execFileSync('umount', ['-l', dir]);
  removeTempDirs();
});

/**
 * Mounts a tmpfs of `size` at a new temp dir. Only root can; elsewhere the tests that need one are not registered,
 * and a notice says so.
 */
function canMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    const probe = tempDir();
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', probe]);
    execFileSync('umount', [probe]);
    return true;
  } catch {
    return false;
  }
}
function mountTmpfs(options: string): string {
  const dir = tempDir();
  execFileSync('mount', ['-t', 'tmpfs', '-o', options, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

async function snapshotFailures(): Promise<number> {
  const metric = await register.getSingleMetric(METRICS.snapshots)?.get();
  return metric?.values.find((v) => v.labels.result === 'failure')?.value ?? 0;
}

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
    h.app.get<Keyspace>(KEYSPACE).dataView().set('ranking', ranking);
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

if (canMount()) {
  describe('a full disk (a 4 MB tmpfs)', () => {
    it('fails the snapshot clearly, keeps serving and the previous snapshot, and recovers once space is freed', async () => {
      const dataDir = join(mountTmpfs('size=4m'), 'data');
      const h = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
      {
        await h.redis.mset({ a: '1', b: '2' });
        await h.snapshots.snapshot();
        const committed = await digest(h.redis);

        for (let i = 0; i < 60; i++) await h.redis.set(`big:${i}`, randomBytes(100_000));
        const failures = await snapshotFailures();
        await expect(h.snapshots.snapshot()).rejects.toThrow(/disk full|No space left/);
        expect(await snapshotFailures()).toBe(failures + 1);
        expect(h.snapshots.lastFailure?.message).toMatch(/disk full|No space left/);
        // Still serving.
        await h.redis.set('during', 'ok');
        expect(await h.redis.get('during')).toBe('ok');

        // Space freed: the next snapshot commits, and holds everything since the last good one.
        for (let i = 0; i < 60; i++) await h.redis.del(`big:${i}`);
        await h.snapshots.snapshot();
        expect(h.snapshots.lastFailure).toBeUndefined();
        const live = await digest(h.redis);
        expect(live.hash).not.toBe(committed.hash);
        await h.app.close();

        const r = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
        expect((await digest(r.redis)).hash).toBe(live.hash);
        await r.app.close();
      }
    });

    it('keeps the previous snapshot restorable after a failed one', async () => {
      const dataDir = join(mountTmpfs('size=4m'), 'data');
      const h = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
      await h.redis.mset({ a: '1', b: '2' });
      await h.snapshots.snapshot();
      const committed = await digest(h.redis);
      for (let i = 0; i < 60; i++) await h.redis.set(`big:${i}`, randomBytes(100_000));
      await expect(h.snapshots.snapshot()).rejects.toThrow(/disk full|No space left/);
      await h.app.close();

      const r = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
      expect((await digest(r.redis)).hash).toBe(committed.hash);
      await r.app.close();
    });

    it('refuses a data dir it cannot write, even as root (a read-only mount)', async () => {
      const mount = mountTmpfs('size=64k');
      mkdirSync(join(mount, 'data'), { mode: 0o700 });
      execFileSync('mount', ['-o', 'remount,ro', mount]);
      const dataDir = join(mount, 'data');
      await expect(bootWith(durable(dataDir))).rejects.toThrow(DATA_DIR_NOT_WRITABLE(dataDir));
    });
  });
} else {
  console.warn(
    'NOTICE: the full-disk and read-only tests need to mount a tmpfs, which takes root: not run here (CI runs as root).',
  );
}
