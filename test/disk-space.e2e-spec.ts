import { mkdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STORE_FILE } from '../lib/store/data-dir';
import { LOW_SPACE_NO_REHEARSAL, NO_SPACE } from '../lib/store/store.messages';
import { runCheck } from '../lib/store/check-file';
import { OWNER_FILE } from '../lib/store/owner-lock';
import { QUARANTINE_DIR } from '../lib/store/data-dir';
import { removeTempDirs, tempDir } from './support/harness';
import { canMount, fillUntil, mountTmpfs, unmountAll } from './support/tmpfs';
import { spawnSampleApp, startSampleApp, stopSampleApps } from './support/sample-app';
import {
  checkLeftovers,
  entries,
  healthyStore,
  messagePattern,
  restoredDigest,
} from './support/stores';

/**
 * A nearly full disk is not damage. The startup check used to copy the store and fail to rehearse writes on the
 * copy, report the healthy store unreadable, leave the copy behind, and with `start-empty` quarantine the store and
 * die of SIGBUS creating a new one (LMDB maps its files: a page a full tmpfs cannot back kills the process). Now the
 * app starts, restores and says snapshots may fail; where nothing can be started, it says there is no space.
 */

afterAll(async () => {
  await stopSampleApps();
  unmountAll();
  removeTempDirs();
});

const KiB = 1024;
const MiB = 1024 * KiB;
/** LOW_SPACE_NO_REHEARSAL, whatever the amounts of space it names, with or without the error met. */
const lowSpaceWarning = (file: string) =>
  new RegExp(
    messagePattern(
      LOW_SPACE_NO_REHEARSAL(file, 111 * MiB, 222 * MiB, 'REASON'),
      '111.0 MiB',
      '222.0 MiB',
    ).source.replace('REASON; ', '(?:.+?; )?'),
  );
/** NO_SPACE for `what`, whatever free space it names. */
const noSpace = (dataDir: string, what: string) =>
  messagePattern(NO_SPACE(dataDir, what, 333 * MiB), '333.0 MiB');

function diskSpaceTests(): void {
  describe('a nearly full disk', () => {
    it('room to copy the store but not to rehearse: restored, a warning, nothing quarantined or left', async () => {
      const mount = mountTmpfs('size=24m');
      const store = await healthyStore(join(mount, 'data'), 6);
      const size = statSync(store.file).size;
      const bytes = readFileSync(store.file);
      fillUntil(mount, size + 2 * MiB); // the copy fits, the rehearsal's writes do not

      // With start-empty, the policy that used to quarantine the healthy store, in a process of its own.
      const app = await startSampleApp({
        dataDir: store.dataDir,
        cwd: store.dataDir,
        env: {
          PERSISTENT_CACHE_ON_RESTORE_ERROR: 'start-empty',
          PERSISTENT_CACHE_SNAPSHOT_ON_SHUTDOWN: 'false',
        },
      });
      expect((await app.request('GET', `/kv/${store.key}`)).body).toMatchObject({
        value: store.value,
      });
      const exit = await app.signal('SIGTERM');
      expect(exit.output).toMatch(lowSpaceWarning(store.file));
      expect(exit.output).toMatch(/Restored 64 keys/);
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });

      // With 'fail', in this process.
      expect((await restoredDigest(store.dataDir, { inPlace: true })).hash).toBe(store.digest);
      expect(entries(store.dataDir)).toEqual([STORE_FILE, `${STORE_FILE}-lock`]);
      expect(readFileSync(store.file).equals(bytes)).toBe(true);
      expect(checkLeftovers(store.dataDir)).toEqual([]);
    });

    it('a rehearsal that runs out of space part-way, or a copy that does not fit, is not damage', async () => {
      const store = await healthyStore(tempDir(), 3);
      const size = statSync(store.file).size;
      // The copy on a file system of its own: too small for the copy, then too small for the rehearsal's writes.
      for (const room of ['2m', `${Math.ceil(size / MiB) + 1}m`]) {
        const copy = join(mountTmpfs(`size=${room}`), 'copy.mdb');
        expect([room, await runCheck(store.file, copy, size)]).toEqual([
          room,
          { verdict: 'not-rehearsed', reason: expect.any(String) as string, noSpace: true },
        ]);
      }
    });

    it('almost no space: a store is restored; without its lock file, a clear error, never a signal', async () => {
      const mount = mountTmpfs('size=4m');
      const store = await healthyStore(join(mount, 'data'));
      fillUntil(mount, 32 * KiB);
      expect((await restoredDigest(store.dataDir, { inPlace: true })).hash).toBe(store.digest);

      rmSync(store.lock);
      fillUntil(mount, 8 * KiB);
      const app = await spawnSampleApp({ dataDir: store.dataDir, cwd: store.dataDir });
      const exit = await app.waitForExit();
      expect(exit.output).toMatch(noSpace(store.dataDir, `create the lock file ${store.lock}`));
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 1, signal: null });
      expect(entries(store.dataDir)).toEqual([STORE_FILE]);

      // A lock file LMDB made with ftruncate (what a start that crashed here used to leave): it has holes, and
      // LMDB writing into them on this disk would be killed by SIGBUS.
      writeFileSync(store.lock, '');
      truncateSync(store.lock, 8272);
      const again = await (
        await spawnSampleApp({ dataDir: store.dataDir, cwd: store.dataDir })
      ).waitForExit();
      expect(again.output).toMatch(
        noSpace(
          store.dataDir,
          `map the lock file ${store.lock} (parts of it are not yet allocated)`,
        ),
      );
      expect({ code: again.code, signal: again.signal }).toEqual({ code: 1, signal: null });
    });

    it('an empty data dir on a full file system: a clear error, never a signal; with 2 MiB, it starts', async () => {
      for (const [free, what] of [
        [0, 'claim it'],
        [16 * KiB, 'create a new, empty snapshot store'],
        [200 * KiB, 'create a new, empty snapshot store'],
      ] as const) {
        const mount = mountTmpfs('size=4m');
        const dataDir = join(mount, 'data');
        mkdirSync(dataDir, { mode: 0o700 });
        fillUntil(mount, free);
        const app = await spawnSampleApp({ dataDir, cwd: mount });
        const exit = await app.waitForExit();
        expect([free, exit.output]).toEqual([free, expect.stringMatching(noSpace(dataDir, what))]);
        expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 1, signal: null });
        // (With no room at all, the claim's write fails after its file was created: an empty claim, taken over.)
        expect(entries(dataDir).filter((name) => name !== OWNER_FILE)).toEqual([]);
      }
      const mount = mountTmpfs('size=4m');
      const dataDir = join(mount, 'data');
      mkdirSync(dataDir, { mode: 0o700 });
      fillUntil(mount, 2 * MiB);
      const app = await startSampleApp({ dataDir, cwd: mount });
      expect((await app.request('PUT', '/kv/k', { value: 'v' })).status).toBe(200);
      const exit = await app.signal('SIGTERM');
      expect({ code: exit.code, signal: exit.signal }).toEqual({ code: 0, signal: null });
      expect(exit.output).not.toContain(QUARANTINE_DIR);
      // The store it created is not checked: no warning that writes to it were not rehearsed for lack of room.
      expect(exit.output).not.toMatch(lowSpaceWarning(join(dataDir, STORE_FILE)));
      expect(exit.output).not.toMatch(/WARN/);
    });
  });
}

if (canMount()) {
  diskSpaceTests();
} else {
  console.warn(
    'NOTICE: the nearly-full-disk tests need to mount a tmpfs, which takes root: not run here (CI runs as root).',
  );
}
