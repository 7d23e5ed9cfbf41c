import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { removeTempDirs, tempDir } from './support/harness';

const ROOT = resolve(__dirname, '..');
const WITHOUT_LMDB = join(ROOT, 'dist', 'test', 'fixtures', 'without-lmdb.js');
const BOOT = join(ROOT, 'dist', 'test', 'fixtures', 'boot-child.js');
const CLI = join(ROOT, 'dist', 'lib', 'cli', 'index.js');

afterAll(removeTempDirs);

/** Runs node with lmdb-js failing to load, as where its native binary is missing. */
function withoutLmdb(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const child = spawnSync(process.execPath, ['--require', WITHOUT_LMDB, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });
  return { status: child.status, stdout: child.stdout, stderr: child.stderr };
}

function boot(options: object): unknown {
  const child = withoutLmdb([BOOT, JSON.stringify(options)]);
  return JSON.parse(child.stdout.trim().split('\n').pop() ?? 'null');
}

describe("without LMDB's native binary", () => {
  it('the library and the CLI load; --help works', () => {
    expect(withoutLmdb(['-e', "require('./dist/lib'); require('./dist/lib/config')"]).status).toBe(
      0,
    );
    const help = withoutLmdb([CLI, '--help']);
    expect(help.status).toBe(0);
    expect(help.stdout).toContain('Usage: persistent-cache');
  });

  it('an app without persistence, or in redis mode, boots', () => {
    expect(boot({ persistence: { enabled: false } })).toEqual({ booted: true });
    expect(
      boot({
        mode: 'redis',
        redis: { url: 'redis://127.0.0.1:1', options: { lazyConnect: true } },
      }),
    ).toEqual({ booted: true });
  });

  it('an app with persistence fails to boot, saying what is missing and what to do', () => {
    const result = boot({ persistence: { dataDir: tempDir(), snapshotInterval: 0 } });
    expect(result).toEqual({
      error: expect.stringMatching(
        /LMDB, which stores the embedded cache's snapshots, cannot be loaded: No native build was found.*without --omit=optional.*persistence\.enabled: false/,
      ),
    });
  });
});
