import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STORE_FILE } from '../lib/store/data-dir';
import { datasetSnapshot, runMain } from './support/cli';
import { removeTempDirs, tempDir } from './support/harness';

/** The CLI's program (`lib/cli/main.ts`): help, usage errors, and data directories it refuses to open. */

afterAll(() => removeTempDirs());

describe('persistent-cache CLI: usage and errors', () => {
  let dataDir: string;

  beforeAll(async () => {
    ({ dataDir } = await datasetSnapshot({ unsupported: true }));
  });

  it('prints help for the program and each command', async () => {
    const top = await runMain(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Usage: persistent-cache \[options\] \[command\]/);
    for (const command of ['inspect', 'verify', 'export', 'import']) {
      const help = await runMain([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: persistent-cache ${command}`);
    }
    const none = await runMain([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: persistent-cache');
  });

  it('prints its version with --version and -V', async () => {
    const { version } = JSON.parse(readFileSync(join(__dirname, '..', 'package.json'), 'utf8')) as {
      version: string;
    };
    for (const flag of ['--version', '-V']) {
      expect(await runMain([flag])).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
    }
  });

  it('export --resp sums up on stderr, keeping stdout for the commands; inspect --json gives every time as ISO', async () => {
    const resp = await runMain(['export', dataDir, '--resp', '--skip-unsupported']);
    expect(resp.code).toBe(0);
    expect(resp.stderr).toMatch(/export: wrote the commands of \d+ keys to stdout/);
    expect(resp.stdout).not.toContain('export:');
    const inspect = await runMain(['inspect', dataDir, '--json']);
    const report = JSON.parse(inspect.stdout) as {
      createdAt: string;
      generations: { createdAt: unknown }[];
    };
    const iso = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;
    expect(report.createdAt).toMatch(iso);
    expect(report.generations.length).toBeGreaterThan(0);
    for (const g of report.generations) expect(g.createdAt).toEqual(expect.stringMatching(iso));
  });

  it('reports usage errors with exit code 2', async () => {
    const unknown = await runMain(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const both = await runMain(['export', dataDir, '--to', 'redis://127.0.0.1:1', '--resp']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--to .* cannot be used with option '--resp'/);
    const neither = await runMain(['export', dataDir]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('pass exactly one of --to <redis-url> and --resp');
    for (const [url, reason] of [
      ['not a url', 'is not a URL'],
      ['http://127.0.0.1:6379', 'has the scheme http'],
      ['redis://127.0.0.1:6379/db', 'which is not a number'],
    ]) {
      const bad = await runMain(['export', dataDir, '--to', url]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(reason);
    }
    const badFrom = await runMain(['import', '--from', 'redis:///', tempDir()]);
    expect(badFrom.code).toBe(2);
    expect(badFrom.stderr).toContain('names no host');
    const missingFrom = await runMain(['import', tempDir()]);
    expect(missingFrom.code).toBe(2);
    expect(missingFrom.stderr).toContain("required option '--from <url>' not specified");
  });

  it('refuses a missing data directory without creating it, and a directory without a snapshot', async () => {
    const missing = join(tempDir(), 'nope');
    for (const command of ['inspect', 'verify']) {
      const run = await runMain([command, missing]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`data directory ${missing} does not exist`);
    }
    expect(existsSync(missing)).toBe(false);
    const empty = tempDir();
    const run = await runMain(['verify', empty]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`holds no snapshot (no ${STORE_FILE} file)`);
    expect(readdirSync(empty)).toEqual([]);
    const file = join(tempDir(), 'file');
    writeFileSync(file, 'x');
    expect((await runMain(['inspect', file])).stderr).toContain('is not a directory');
  });
});
