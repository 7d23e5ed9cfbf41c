import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

interface Loaded {
  readonly threshold: unknown;
  readonly stderr: string;
}

/** Loads jest.config.js in a child process with this PATH and environment: its threshold and what it printed. */
function load(path: string, env: Record<string, string> = {}): Loaded {
  const script =
    "const c = require('./jest.config.js'); process.stdout.write(JSON.stringify(c.coverageThreshold ?? null));";
  const child = spawnSync(process.execPath, ['-e', script], {
    cwd: ROOT,
    env: { PATH: path, ...env },
    encoding: 'utf8',
  });
  if (child.status !== 0) throw new Error(`loading jest.config.js failed: ${child.stderr}`);
  return { threshold: JSON.parse(child.stdout) as unknown, stderr: child.stderr };
}

describe('jest.config.js: the coverage gate and redis-server', () => {
  const empty = mkdtempSync(join(tmpdir(), 'persistent-cache-path-'));
  const withRedis = mkdtempSync(join(tmpdir(), 'persistent-cache-path-'));
  symlinkSync(process.execPath, join(withRedis, 'redis-server')); // any executable named redis-server
  afterAll(() => {
    rmSync(empty, { recursive: true, force: true });
    rmSync(withRedis, { recursive: true, force: true });
  });

  it('applies the 90% threshold when redis-server is on the PATH', () => {
    expect(load(withRedis)).toEqual({ threshold: { global: { lines: 90 } }, stderr: '' });
  });

  it('leaves it out, saying so, on a machine without redis-server, so that npm test passes there', () => {
    const loaded = load(empty);
    expect(loaded.threshold).toBeNull();
    expect(loaded.stderr).toContain('NOTICE: redis-server is not on the PATH');
  });

  it('always applies it when the real-Redis suites are required (CI)', () => {
    expect(load(empty, { PERSISTENT_CACHE_REQUIRE_REDIS: '1' }).threshold).toEqual({
      global: { lines: 90 },
    });
  });
});
