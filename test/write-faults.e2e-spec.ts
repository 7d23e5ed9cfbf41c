import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { METRICS } from '../lib';
import { STORE_FILE } from '../lib/store/data-dir';
import { STORE_FILE_MISSING, STORE_FILE_REPLACED } from '../lib/store/store.messages';
import { removeTempDirs, tempDir } from './support/harness';
import {
  type SampleAppProcess,
  startSampleApp,
  stopSampleApps,
  waitFor,
  escapeRegExp,
} from './support/sample-app';
import { canMount, mountTmpfs, unmountAll } from './support/tmpfs';

// Faults of the store's file system while the app runs: the compiled sample app, real HTTP, real signals, and a
// real small tmpfs (root only), a real file size limit, or real files changed under the app.

afterAll(async () => {
  await stopSampleApps();
  unmountAll();
  removeTempDirs();
});

const FAILURES = `${METRICS.snapshots}{result="failure"}`;
const SUCCESSES = `${METRICS.snapshots}{result="success"}`;

function start(dataDir: string): Promise<SampleAppProcess> {
  return startSampleApp({
    cwd: tempDir(),
    dataDir,
    env: { PERSISTENT_CACHE_SNAPSHOT_INTERVAL: '100ms' },
  });
}

async function put(app: SampleAppProcess, key: string, value: string): Promise<void> {
  const { status } = await app.request('PUT', `/kv/${encodeURIComponent(key)}`, { value });
  expect(status).toBe(200);
}

async function get(app: SampleAppProcess, key: string): Promise<unknown> {
  const { status, body } = await app.request('GET', `/kv/${encodeURIComponent(key)}`);
  return status === 200 ? (body as { value: unknown }).value : status;
}

interface Health {
  readonly status: number;
  readonly message?: string;
  readonly lastSnapshotKeys?: number;
  readonly lastSnapshotAt?: string;
}

async function health(app: SampleAppProcess): Promise<Health> {
  const { status, body } = await app.request('GET', '/health');
  const details = (body as { details?: { cache?: Record<string, unknown> } }).details?.cache ?? {};
  return {
    status,
    message: details.message as string | undefined,
    lastSnapshotKeys: details.lastSnapshotKeys as number | undefined,
    lastSnapshotAt: details.lastSnapshotAt as string | undefined,
  };
}

/** Waits until /health answers `status` (and, when given, the last snapshot holds `keys` keys). */
function healthBecomes(app: SampleAppProcess, status: number, keys?: number): Promise<Health> {
  return waitFor(
    async () => {
      const h = await health(app);
      return h.status === status && (keys === undefined || h.lastSnapshotKeys === keys)
        ? h
        : undefined;
    },
    () => `/health ${status}${keys === undefined ? '' : ` with ${keys} keys`}:\n${app.output()}`,
  );
}

/** Writes `count` keys of 3 KB each: more than a full 8 MB tmpfs has left, once filled. */
async function putMany(
  app: SampleAppProcess,
  prefix: string,
  count: number,
): Promise<Map<string, string>> {
  const written = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const value = randomBytes(1536).toString('hex');
    await put(app, `${prefix}${i}`, value);
    written.set(`${prefix}${i}`, value);
  }
  return written;
}

function countLines(output: string, pattern: RegExp): number {
  return output.split('\n').filter((line) => pattern.test(line)).length;
}

/** A way an LMDB write can fail at run time: where the data dir is, the fault, what health says, and the cure. */
interface Fault {
  readonly name: string;
  /** The data directory to use (on a small tmpfs for a full disk). */
  readonly dataDir: () => string;
  readonly inject: (app: SampleAppProcess, dataDir: string) => void;
  readonly cure: (app: SampleAppProcess, dataDir: string) => void;
  readonly message: RegExp;
}

const fileSizeLimit: Fault = {
  name: 'a file size limit (RLIMIT_FSIZE: EFBIG, reported by LMDB as EIO)',
  dataDir: () => join(tempDir(), 'data'),
  inject: (app, dataDir) => {
    // The soft limit only, at the store's size now: the process may raise it again itself (and the cure does).
    const size = statSync(join(dataDir, STORE_FILE)).size;
    execFileSync('prlimit', [`--pid=${app.child.pid}`, `--fsize=${size}:unlimited`]);
  },
  cure: (app) => {
    // A new process starts without the limit.
    if (app.running)
      execFileSync('prlimit', [`--pid=${app.child.pid}`, '--fsize=unlimited:unlimited']);
  },
  // Depending on where LMDB meets it: its own page write, or a flush of spilled pages.
  message:
    /LMDB could not commit the write: (File too large.*\(is the file size limited|Input\/output error.*file size)/,
};

const diskFull: Fault = {
  name: 'no space left (ENOSPC, an 8 MB tmpfs)',
  dataDir: () => join(mountTmpfs('size=8m'), 'data'),
  inject: (_app, dataDir) => {
    // dd stops with an error once the file system is full: that is the point.
    const filler = join(dataDir, '..', 'filler');
    execFileSync('sh', ['-c', `dd if=/dev/zero of=${filler} bs=64k 2>/dev/null || true`]);
  },
  cure: (_app, dataDir) => rmSync(join(dataDir, '..', 'filler')),
  message:
    /LMDB could not commit the write: (No space left on device|Input\/output error).*\(is the disk full\?/,
};

const faults: Fault[] = [fileSizeLimit];
if (canMount()) {
  faults.push(diskFull);
} else {
  console.warn(
    'NOTICE: the run-time full-disk test needs to mount a tmpfs, which takes root: not run here (CI runs as root).',
  );
}

describe.each(faults)(
  'a failed LMDB write at run time: $name',
  ({ dataDir: where, inject, cure, message }) => {
    it('fails snapshots loudly while the app keeps serving, recovers once cured, and shuts down cleanly', async () => {
      const dataDir = where();
      const app = await start(dataDir);
      await put(app, 'before', 'fault');
      await healthBecomes(app, 200, 1);

      inject(app, dataDir);
      const written = await putMany(app, 'k', 40);
      const down = await healthBecomes(app, 503);
      expect(down.message).toMatch(message);
      // Several more ticks fail while the fault lasts; the app serves reads and writes throughout.
      await waitFor(
        async () => ((await app.metrics()).get(FAILURES) ?? 0) >= 5 || undefined,
        () => `five failed snapshots:\n${app.output()}`,
      );
      expect(app.running).toBe(true);
      expect(await get(app, 'k7')).toBe(written.get('k7'));
      await put(app, 'during', 'fault');
      // The same failure at every tick is logged once, then counted (within a minute).
      expect(countLines(app.output(), /Snapshot to .* failed/)).toBe(1);

      cure(app, dataDir);
      await healthBecomes(app, 200, 42);
      const exit = await app.signal('SIGTERM');
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(exit.output).toMatch(/Snapshot to .* failed.*\(\d+ times since the last such line\)/);
      expect(exit.output).toMatch(
        new RegExp(`Snapshots to ${escapeRegExp(dataDir)} succeed again, after \\d+ failed\\.`),
      );
      expect(exit.output).not.toMatch(/Commit failed \(see commitError|unhandled/i);

      const again = await start(dataDir);
      expect(await get(again, 'before')).toBe('fault');
      expect(await get(again, 'during')).toBe('fault');
      for (const [key, value] of written) expect(await get(again, key)).toBe(value);
      expect((await again.signal('SIGTERM')).code).toBe(0);
    });

    it('shuts down cleanly while the fault lasts, and the last good snapshot restores', async () => {
      const dataDir = where();
      const app = await start(dataDir);
      await put(app, 'before', 'fault');
      await healthBecomes(app, 200, 1);
      inject(app, dataDir);
      await putMany(app, 'k', 40);
      await healthBecomes(app, 503);

      // The final snapshot fails too; shutdown still completes, and its last line says what the stop cost: the
      // failure itself is the periodic ones' again, only counted in their line.
      const lastGood = new Date(String((await health(app)).lastSnapshotAt));
      const exit = await app.signal('SIGTERM');
      expect(exit).toMatchObject({ code: 0, signal: null });
      const errors = exit.output.split('\n').filter((line) => / ERROR /.test(line));
      expect(errors[errors.length - 1]).toMatch(
        new RegExp(
          escapeRegExp(
            `The final snapshot to ${dataDir} failed, so this process ends without the writes made since the ` +
              `last committed snapshot, of ${lastGood.toISOString()}: `,
          ) + message.source,
        ),
      );
      cure(app, dataDir);
      const again = await start(dataDir);
      expect(await get(again, 'before')).toBe('fault');
      expect((await again.signal('SIGTERM')).code).toBe(0);
    });
  },
);

describe('the store deleted or replaced under the running app', () => {
  async function running(): Promise<{ app: SampleAppProcess; dataDir: string; store: string }> {
    const dataDir = join(tempDir(), 'data');
    const app = await start(dataDir);
    await put(app, 'a', '1');
    await put(app, 'b', '2');
    await healthBecomes(app, 200, 2);
    return { app, dataDir, store: join(dataDir, STORE_FILE) };
  }

  /** After the fault: a new store was made by the next snapshot; everything the app held is in it. */
  async function expectRecreated(app: SampleAppProcess, dataDir: string): Promise<void> {
    const store = join(dataDir, STORE_FILE);
    await waitFor(
      () =>
        Promise.resolve(app.output().includes('Created a new, empty snapshot store') || undefined),
      () => `the store made again:\n${app.output()}`,
    );
    expect(app.output()).toContain(STORE_FILE_MISSING(store));
    await put(app, 'c', '3');
    await healthBecomes(app, 200, 3);
    expect(existsSync(store)).toBe(true);
    expect((await app.signal('SIGTERM')).code).toBe(0);

    const again = await start(dataDir);
    expect([await get(again, 'a'), await get(again, 'b'), await get(again, 'c')]).toEqual([
      '1',
      '2',
      '3',
    ]);
    expect((await again.signal('SIGTERM')).code).toBe(0);
  }

  it('the data directory deleted: the next snapshot makes a new store and writes the whole cache to it', async () => {
    const { app, dataDir } = await running();
    rmSync(dataDir, { recursive: true, force: true });
    await expectRecreated(app, dataDir);
  });

  it('the data directory replaced by an empty one: the same, and the old one is left as it was', async () => {
    const { app, dataDir, store } = await running();
    const aside = `${dataDir}.aside`;
    renameSync(dataDir, aside);
    mkdirSync(dataDir, { mode: 0o700 });
    await expectRecreated(app, dataDir);
    expect(existsSync(join(aside, STORE_FILE))).toBe(true);
    expect(store).toBe(join(dataDir, STORE_FILE));
  });

  it('the store file deleted alone (the lock file stays)', async () => {
    const { app, dataDir, store } = await running();
    rmSync(store);
    await expectRecreated(app, dataDir);
  });

  it('the store file replaced by another file: snapshots fail, health is down, and that file is never written', async () => {
    const { app, store } = await running();
    const other = randomBytes(4096);
    writeFileSync(`${store}.other`, other);
    renameSync(`${store}.other`, store);

    const down = await healthBecomes(app, 503);
    expect(down.message).toBe(`The last snapshot failed: ${STORE_FILE_REPLACED(store)}`);
    const successes = (await app.metrics()).get(SUCCESSES);
    await put(app, 'c', '3');
    await waitFor(
      async () => ((await app.metrics()).get(FAILURES) ?? 0) >= 3 || undefined,
      () => `three failed snapshots:\n${app.output()}`,
    );
    expect((await app.metrics()).get(SUCCESSES)).toBe(successes);
    expect((await app.signal('SIGTERM')).code).toBe(0);
    expect(readFileSync(store).equals(other)).toBe(true);
  });
});

describe('a 1 ms snapshot interval under load', () => {
  it('logs a few lines, not one per tick: skipped ticks and commits are counted', async () => {
    const app = await startSampleApp({
      cwd: tempDir(),
      dataDir: join(tempDir(), 'data'),
      env: { PERSISTENT_CACHE_SNAPSHOT_INTERVAL: '1ms' },
    });
    const value = randomBytes(1024).toString('hex');
    for (let round = 0; round < 50; round++) {
      await Promise.all(Array.from({ length: 8 }, (_, i) => put(app, `k${round}:${i}`, value)));
    }
    const metrics = await app.metrics();
    const successes = metrics.get(SUCCESSES) ?? 0;
    const skipped = metrics.get(`${METRICS.snapshots}{result="skipped"}`) ?? 0;
    const exit = await app.signal('SIGTERM');
    expect(exit.code).toBe(0);
    // Hundreds of ticks, a handful of lines (the first of each kind, one summary, the final snapshot's).
    expect(successes + skipped).toBeGreaterThan(100);
    expect(countLines(exit.output, /Periodic snapshot skipped/)).toBeLessThanOrEqual(3);
    expect(
      countLines(exit.output, /Snapshot \((full|incremental)\) committed/),
    ).toBeLessThanOrEqual(5);
    expect(exit.output).toMatch(/Snapshot \((full|incremental)\) committed to .*: 400 keys/);
  });
});
