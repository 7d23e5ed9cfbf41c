import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { writeFileSync } from 'node:fs';
import { bootWith, removeTempDirs, tempDir } from './support/harness';

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

describe('PersistentCacheModule imported twice in one application', () => {
  // In a process of its own: a bootstrap that fails leaves the first module's store open, as it would in an app.
  const twice = (a: string, b: string, snapshotInterval: string | number): unknown => {
    const options = { persistence: { dataDir: a, snapshotInterval } };
    const child = spawnSync(process.execPath, [BOOT, JSON.stringify(options), 'twice', b], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(child.signal).toBeNull(); // it exited on its own
    return JSON.parse(child.stdout.trim().split('\n').pop() ?? 'null');
  };

  it('with one data directory: the error says to import it once', () => {
    const dir = tempDir();
    expect(twice(dir, dir, 0)).toEqual({
      error: expect.stringMatching(
        /is in use by another PersistentCacheModule in this process \(pid \d+\); if both are in the same application, import PersistentCacheModule once \(isGlobal: true, or re-export it from one module\)/,
      ),
    });
  });

  it('with two data directories: the error says to import it once, not that an interval exists', () => {
    expect(twice(tempDir(), tempDir(), '1h')).toEqual({
      error: expect.stringMatching(
        /PersistentCacheModule is set up twice in this application .* import PersistentCacheModule once \(isGlobal: true, or re-export it from one module\)/,
      ),
    });
  });
});

describe('a data directory that cannot be created', () => {
  it('under a file: names persistence.dataDir, the cause and the fix', async () => {
    const file = join(tempDir(), 'a-file');
    writeFileSync(file, 'not a directory');
    const dataDir = join(file, 'data');
    await expect(bootWith({ persistence: { dataDir, snapshotInterval: 0 } })).rejects.toThrow(
      `Data directory ${dataDir} (persistence.dataDir) does not exist and cannot be created: a part of its path is ` +
        'a file, not a directory. Create it yourself, owned by the user the app runs as (mode 0700), or point ' +
        'persistence.dataDir at a writable directory.',
    );
  });
});
