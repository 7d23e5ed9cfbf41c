import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { METRICS } from '../lib';
import { SnapshotStore } from '../lib/store/snapshot-store';
import { QUARANTINE_DIR } from '../lib/store/data-dir';
import { runCli, type CliRun } from './support/cli';
import { removeTempDirs, tempDir } from './support/harness';
import { startSampleApp, stopSampleApps } from './support/sample-app';
import { checkLeftovers, healthyStore, restoredDigest } from './support/stores';

/**
 * The startup check of every open (the app's, and the CLI's `verify`, `inspect`, `export`) used to copy the store
 * to one fixed scratch path: checks at once overwrote and deleted each other's copies, and reported a healthy store
 * damaged (killed by SIGBUS, "Invalid value to put in database undefined") — with `start-empty`, an app starting
 * beside `verify` once quarantined it. Each check now has a scratch directory of its own, and a copy a commit
 * overlapped is made again, so a writer committing meanwhile cannot tear it.
 */

afterAll(async () => {
  await stopSampleApps();
  removeTempDirs();
});

const OK = { code: 0, signal: null };
const outcome = (run: CliRun) => ({ code: run.code, signal: run.signal });

describe('checks at once on one data directory', () => {
  it('four verify, two export and an inspect, with an app starting beside them: all correct', async () => {
    const store = await healthyStore(tempDir(), 10); // about 10 MB
    const out = tempDir();
    const exports = [0, 1].map((i) => join(out, `${i}.resp`));
    const app = startSampleApp({
      dataDir: store.dataDir,
      cwd: store.dataDir,
      env: { PERSISTENT_CACHE_ON_RESTORE_ERROR: 'start-empty' },
    });
    const [verifies, exported, inspected] = await Promise.all([
      Promise.all(Array.from({ length: 4 }, () => runCli(['verify', store.dataDir]))),
      Promise.all(
        exports.map((file) => runCli(['export', store.dataDir, '--resp'], { stdoutFile: file })),
      ),
      Promise.all([runCli(['inspect', store.dataDir, '--json'])]),
    ]);
    for (const run of verifies) {
      expect([outcome(run), run.stderr]).toEqual([OK, '']);
      expect(run.stdout).toMatch(/^OK .*, 104 live keys/);
    }
    for (const run of exported) {
      expect([outcome(run), run.stderr]).toEqual([
        OK,
        'export: wrote the commands of 104 keys to stdout\n',
      ]);
    }
    for (const run of inspected) expect([outcome(run), run.stderr]).toEqual([OK, '']);
    expect(readFileSync(exports[1]).equals(readFileSync(exports[0]))).toBe(true);
    expect(readFileSync(exports[0]).length).toBeGreaterThan(10_000_000);
    for (const run of inspected)
      expect((JSON.parse(run.stdout) as { live: number }).live).toBe(104);

    const started = await app;
    expect((await started.request('GET', `/kv/${store.key}`)).body).toMatchObject({
      value: store.value,
    });
    const exit = await started.signal('SIGTERM');
    expect(exit.output).toMatch(/Restored 104 keys/);
    expect({ code: exit.code, signal: exit.signal }).toEqual(OK);
    expect(existsSync(join(store.dataDir, QUARANTINE_DIR))).toBe(false);
    expect(checkLeftovers(store.dataDir)).toEqual([]);
    expect((await restoredDigest(store.dataDir, { inPlace: true })).hash).toBe(store.digest);
  }, 120_000);

  it('checks beside an app committing snapshots every 100 ms never report damage', async () => {
    const store = await healthyStore(tempDir(), 2);
    const app = await startSampleApp({
      dataDir: store.dataDir,
      cwd: store.dataDir,
      env: { PERSISTENT_CACHE_SNAPSHOT_INTERVAL: '100ms' },
    });
    let writing = true;
    const writer = (async () => {
      for (let i = 0; writing; i++) {
        await app.request('PUT', `/kv/w${i % 20}`, { value: `${i} `.repeat(20_000) });
      }
    })();
    try {
      // Nine checks, three at a time, each opening the store read-only as the CLI does.
      for (let batch = 0; batch < 3; batch++) {
        await Promise.all(
          [0, 1, 2].map(async () => {
            const reader = new SnapshotStore(store.dataDir);
            try {
              await reader.open({ claim: false });
              expect(reader.manifest()).toBeDefined();
            } finally {
              await reader.close();
            }
          }),
        );
      }
    } finally {
      writing = false;
      await writer;
    }
    // Periodic snapshots were committed meanwhile (counted: their log lines are aggregated), and none failed.
    const metrics = await app.metrics();
    expect(metrics.get(`${METRICS.snapshots}{result="success"}`)).toBeGreaterThan(5);
    expect(metrics.get(`${METRICS.snapshots}{result="failure"}`) ?? 0).toBe(0);
    const exit = await app.signal('SIGTERM');
    expect(exit.output).not.toMatch(/Snapshot to .* failed/);
    expect(checkLeftovers(store.dataDir)).toEqual([]);
  });
});
