import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { CACHE, SnapshotService } from '../lib';
import { lockFileOf, STORE_FILE } from '../lib/store/data-dir';
import { LOCK_FILE_LOST, LOCK_FILE_NOT_MADE_AGAIN } from '../lib/store/store.messages';
import { bootWith, durable, removeTempDirs, tempDir } from './support/harness';
import { bootLogged, CapturingLogger } from './support/logs';
import { canChattr, chattr, clearFlags } from './support/root';
import { entries, messagePattern } from './support/stores';

// The store closed and opened again while the app runs. A lock file deleted and replaced by something LMDB cannot
// use (a directory, a dangling link, an immutable file), or not creatable again (an immutable directory), was handed
// to LMDB as it was: the process died of SIGSEGV at the next snapshot. A compaction whose rename failed left the
// store closed: every later snapshot, the final one included, failed with "not open", and the writes since were lost.

afterEach(() => clearFlags());

afterAll(() => removeTempDirs());

const LOCK_LOST_CHILD = join(__dirname, '..', 'dist', 'test', 'fixtures', 'lock-lost-child.js');

interface LockLostOutcome {
  readonly duringFault: string;
  readonly afterCure: string;
  readonly lines: string[];
}

const lockFaults: { name: string; code: string }[] = [
  { name: 'directory', code: 'EISDIR' },
  { name: 'dangling link', code: 'no error code' },
];
if (canChattr()) {
  lockFaults.push({ name: 'immutable file', code: 'EPERM' });
  lockFaults.push({ name: 'immutable directory', code: 'EPERM' });
} else {
  console.warn(
    'NOTICE: the tests of a lost lock file replaced by an immutable file, or in an immutable directory, need chattr, ' +
      'which takes root: not run here (CI runs as root).',
  );
}

describe.each(lockFaults)('the lock file deleted, and then: $name', ({ name, code }) => {
  it('snapshots go on into the store, with a warning; once cured the store is reopened; nothing is lost', async () => {
    const dataDir = tempDir();
    const child = spawnSync(process.execPath, [LOCK_LOST_CHILD, dataDir, name], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    const lock = lockFileOf(join(dataDir, STORE_FILE));
    if (name.startsWith('immutable')) {
      for (const path of [lock, dataDir]) chattr('-i', path); // should the child have died with them set
    }
    expect({ signal: child.signal, status: child.status, stderr: child.stderr }).toEqual({
      signal: null,
      status: 0,
      stderr: expect.any(String) as string,
    });
    const outcome = JSON.parse(child.stdout) as LockLostOutcome;
    expect(outcome).toMatchObject({ duringFault: '2 keys, then 3 keys', afterCure: '4 keys' });

    const notMadeAgain = messagePattern(
      `WARN ${LOCK_FILE_NOT_MADE_AGAIN(lock, code, 'REASON')}`,
      'REASON.',
    );
    // Said when first met, and the second time counted and written once it is over; then the store is reopened.
    expect(outcome.lines).toHaveLength(3);
    expect(outcome.lines[0]).toMatch(notMadeAgain);
    expect(outcome.lines[1]).toBe(outcome.lines[0]);
    expect(outcome.lines[2]).toBe(`WARN ${LOCK_FILE_LOST(lock)}`);

    const restarted = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    try {
      expect(await restarted.redis.mget('before', 'during', 'again', 'after', 'unsaved')).toEqual([
        '1',
        '2',
        '3',
        '4',
        '5',
      ]);
    } finally {
      await restarted.app.close();
    }
  });
});

if (canChattr()) {
  describe('a compaction whose rename fails (the data directory made append-only: chattr +a)', () => {
    it('leaves the store open and as it was: later snapshots, the final one included, go on', async () => {
      const dataDir = tempDir();
      const logger = new CapturingLogger();
      const app = await bootLogged(durable(dataDir), logger);
      const redis = app.get<Redis>(CACHE);
      const snapshots = app.get(SnapshotService);
      try {
        await redis.set('kept', 'small');
        for (let i = 0; i < 80; i++) await redis.set(`big:${i}`, randomBytes(1024 * 1024));
        await snapshots.snapshot();
        const grown = statSync(join(dataDir, STORE_FILE)).size;
        for (let i = 0; i < 80; i++) await redis.del(`big:${i}`);

        chattr('+a', dataDir);
        // Worth compacting; the copy is made, but cannot be renamed over the store file (nor removed).
        expect(await snapshots.snapshot()).toMatchObject({ kind: 'full', keys: 1 });
        const compaction = () => logger.lines.filter((line) => line.includes('compact'));
        expect(compaction()).toEqual([
          expect.stringMatching(/^WARN Could not compact the store file in .+: EPERM.+rename/),
        ]);
        expect(statSync(join(dataDir, STORE_FILE)).size).toBeGreaterThanOrEqual(grown);
        await redis.set('during', 'the fault');
        expect(await snapshots.snapshot()).toMatchObject({ keys: 2 });

        chattr('-a', dataDir);
        await redis.set('after', 'the fault');
        // Compacted now; the copy the failed one left is gone with it.
        expect(await snapshots.snapshot()).toMatchObject({ keys: 3 });
        expect(statSync(join(dataDir, STORE_FILE)).size).toBeLessThan(grown / 4);
        expect(entries(dataDir)).toEqual(['owner.json', STORE_FILE, `${STORE_FILE}-lock`]);
        await redis.set('final', 'snapshot');
      } finally {
        clearFlags();
        await app.close();
      }
      expect(logger.starting('ERROR')).toEqual([]);
      expect(existsSync(join(dataDir, `${STORE_FILE}.compact`))).toBe(false);

      const restarted = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
      try {
        expect(await restarted.redis.mget('kept', 'during', 'after', 'final')).toEqual([
          'small',
          'the fault',
          'the fault',
          'snapshot',
        ]);
        expect(await restarted.redis.dbsize()).toBe(4);
      } finally {
        await restarted.app.close();
      }
    });
  });
} else {
  console.warn(
    'NOTICE: the test of a compaction that cannot rename its copy needs chattr, which takes root: not run here ' +
      '(CI runs as root).',
  );
}
