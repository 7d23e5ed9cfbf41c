import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { removeTempDirs, tempDir } from './support/harness';

const ROOT = resolve(__dirname, '..');
const BOOT = join(ROOT, 'dist', 'test', 'fixtures', 'boot-child.js');

afterAll(removeTempDirs);

describe('an app without shutdown hooks', () => {
  const run = (mode: string): string => {
    const options = { persistence: { dataDir: tempDir(), snapshotInterval: 0 } };
    const child = spawnSync(process.execPath, [BOOT, JSON.stringify(options), mode], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.status).toBe(0);
    expect(child.stdout).toContain('{"booted":true}');
    return child.stdout;
  };

  it('is warned that a signal would end it without its final snapshot', () => {
    expect(run('wait')).toMatch(
      /Nothing listens to SIGTERM or SIGINT: .* without the final snapshot of .*Call app\.enableShutdownHooks\(\)/,
    );
  });

  it('is not warned once it calls enableShutdownHooks()', () => {
    expect(run('wait-hooks')).not.toContain('Nothing listens to');
  });
});

describe('a bootstrap that fails after the cache module is up', () => {
  it.each([
    ['periodic snapshots', { persistence: { dataDir: '', snapshotInterval: '1s' } }],
    ['persistence off', { persistence: { enabled: false } }],
  ])('with %s: the error is given and the process exits on its own', (_, options) => {
    const given = JSON.parse(
      JSON.stringify(options).replace('""', JSON.stringify(tempDir())),
    ) as object;
    const started = Date.now();
    const child = spawnSync(process.execPath, [BOOT, JSON.stringify(given), 'fail'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect({ signal: child.signal, status: child.status }).toEqual({ signal: null, status: 0 });
    expect(JSON.parse(child.stdout.trim())).toEqual({ error: 'a provider after the cache failed' });
    expect(Date.now() - started).toBeLessThan(15_000);
  });
});
