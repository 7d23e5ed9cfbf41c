import type { Redis } from 'ioredis';
import { join } from 'node:path';
import { CACHE, SnapshotService } from '../lib';
import { FINAL_SNAPSHOT_FAILED, SNAPSHOT_FAILED } from '../lib/snapshots/snapshots.messages';
import { STORE_FILE } from '../lib/store/data-dir';
import { COMMIT_FAILED_NO_REASON } from '../lib/store/store.messages';
import { COMMIT_REASON_WAIT_MS } from '../lib/store/write-errors';
import { withTimeout } from '../lib/util/timeout';
import { bootWith, durable, removeTempDirs, tempDir } from './support/harness';
import { bootLogged, CapturingLogger } from './support/logs';
import { canChattr, chattr, clearFlags } from './support/root';

// A commit refused with EPERM: lmdb-js rejects it, but never settles the promise holding the reason
// (`commitError`). Waiting for that promise hung the snapshot, everything queued after it (restore(), the final
// snapshot) and app.close(), with nothing logged. A real immutable store file (`chattr +i`, root only).

afterEach(() => clearFlags());

afterAll(() => removeTempDirs());

/** Long enough for anything that does not hang; a hang fails the test instead of outliving it. */
const PATIENCE_MS = 15_000;

if (canChattr()) {
  describe('a commit refused with EPERM (the store file made immutable: chattr +i)', () => {
    it('fails the snapshot, logged; restore() and app.close() go on; the last good snapshot stays', async () => {
      const dataDir = tempDir();
      const logger = new CapturingLogger();
      const app = await bootLogged(durable(dataDir), logger);
      const redis = app.get<Redis>(CACHE);
      const snapshots = app.get(SnapshotService);
      const message = COMMIT_FAILED_NO_REASON(COMMIT_REASON_WAIT_MS);
      let closed = false;
      let lastGood: Date | undefined;
      try {
        await redis.mset({ a: '1', b: '2' });
        const good = await snapshots.snapshot();
        expect(good).toMatchObject({ kind: 'full', keys: 2 });
        lastGood = good.startedAt;

        chattr('+i', join(dataDir, STORE_FILE));
        await redis.set('c', '3');
        await expect(withTimeout(snapshots.snapshot(), PATIENCE_MS)).rejects.toThrow(message);
        expect(logger.starting('ERROR')).toEqual([`ERROR ${SNAPSHOT_FAILED(dataDir, message)}`]);
        expect(snapshots.lastFailure).toMatchObject({ message });

        // The queue goes on: a restore after it reads the last committed snapshot back.
        expect(await withTimeout(snapshots.restore(), PATIENCE_MS)).toMatchObject({ keys: 2 });
        expect(await redis.mget('a', 'b', 'c')).toEqual(['1', '2', null]);
        await redis.set('d', '4');
        closed = true;
        await withTimeout(app.close(), PATIENCE_MS); // its final snapshot fails the same way
      } finally {
        clearFlags();
        if (!closed) await withTimeout(app.close(), PATIENCE_MS).catch(() => undefined);
      }
      // The final snapshot's failure, the same one again, was counted and written at shutdown, then what it cost.
      expect(logger.starting('ERROR')).toEqual([
        `ERROR ${SNAPSHOT_FAILED(dataDir, message)}`,
        `ERROR ${SNAPSHOT_FAILED(dataDir, message)}`,
        `ERROR ${FINAL_SNAPSHOT_FAILED(dataDir, lastGood, message)}`,
      ]);

      const again = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
      try {
        expect(await again.redis.mget('a', 'b', 'c', 'd')).toEqual(['1', '2', null, null]);
        expect(await again.redis.dbsize()).toBe(2);
      } finally {
        await again.app.close();
      }
    });
  });
} else {
  console.warn(
    'NOTICE: the test of a commit refused with EPERM needs chattr, which takes root: not run here (CI runs as root).',
  );
}
