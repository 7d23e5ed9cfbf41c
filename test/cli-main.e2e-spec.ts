import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { STORE_FILE } from '../lib/store/data-dir';
import { REDIS_URL_ACCEPTED, REDIS_URL_FORM } from '../lib/util/redis-url';
import { datasetSnapshot, runCli, runMain } from './support/cli';
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
    // Every exit code a command can end with, the interrupted ones too.
    for (const code of [
      '0 success',
      '1 a problem',
      '2 a usage error',
      '130, 143 or 129 interrupted',
    ]) {
      expect(top.stdout.replace(/\s+/g, ' ')).toContain(code);
    }
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

  it("runs as built: the package's bin is executable, as npx and a shell run it", () => {
    const { version, bin } = JSON.parse(
      readFileSync(join(__dirname, '..', 'package.json'), 'utf8'),
    ) as { version: string; bin: Record<string, string> };
    for (const file of Object.values(bin)) {
      // Run as a file, through its #! line: a bin written 0644 fails with EACCES.
      expect(execFileSync(join(__dirname, '..', file), ['--version'], { encoding: 'utf8' })).toBe(
        `${version}\n`,
      );
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

  it('says that its output is incomplete when stdout cannot be written (a full disk), without a stack trace', async () => {
    const runs = await Promise.all(
      [
        ['export', dataDir, '--resp', '--skip-unsupported'],
        ['inspect', dataDir],
        ['verify', dataDir],
      ].map((args) => runCli(args, { stdoutFile: '/dev/full' })),
    );
    expect(runs.map((run) => [run.code, run.stderr.split('\n').at(-2)])).toEqual(
      runs.map(() => [
        1,
        'persistent-cache: cannot write to standard output: ENOSPC: no space left on device, write; ' +
          'what was written is incomplete',
      ]),
    );
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
    const missingFrom = await runMain(['import', tempDir()]);
    expect(missingFrom.code).toBe(2);
    expect(missingFrom.stderr).toContain("required option '--from <url>' not specified");
  });

  it('refuses a bad Redis URL as a usage error naming the option, the problem and the accepted form', async () => {
    const bad = await runMain(['export', dataDir, '--to', 'redis://app:s3cret@127.0.0.1:99999/2']);
    expect(bad).toMatchObject({ code: 2, stdout: '' });
    expect(bad.stderr).toBe(
      'persistent-cache: --to: "redis://***@127.0.0.1:99999/2" is not a Redis URL: its port 99999 is not from ' +
        `1 to 65535; expected ${REDIS_URL_ACCEPTED}\n`,
    );
    for (const [url, problem] of [
      ['not a url', 'it does not start with redis:// or rediss://'],
      ['http://127.0.0.1:6379', 'its scheme is "http", not redis or rediss'],
      ['redis://127.0.0.1:6379/db', 'its database "db" is not a whole number'],
      ['redis://127.0.0.1:6379/abc', 'its database "abc" is not a whole number'],
      ['redis://127.0.0.1:6379/-1', 'its database "-1" is not a whole number'],
      ['redis://127.0.0.1:6379/1.5', 'its database "1.5" is not a whole number'],
      ['redis://127.0.0.1:0', 'its port 0 is not from 1 to 65535'],
      ['redis://127.0.0.1:65536/0', 'its port 65536 is not from 1 to 65535'],
      ['redis://127.0.0.1:6379?db=2', 'it has a query string ("?db=2")'],
    ]) {
      for (const args of [
        ['export', dataDir, '--to', url],
        ['import', '--from', url, join(tempDir(), 'new')],
      ]) {
        const run = await runMain(args);
        expect(run.code).toBe(2);
        expect(run.stderr).toContain(`${args.includes('--to') ? '--to' : '--from'}: `);
        expect(run.stderr).toContain(`is not a Redis URL: ${problem}`);
        expect(run.stderr).toContain(REDIS_URL_FORM);
      }
    }
    const badFrom = await runMain(['import', '--from', 'redis:///', tempDir()]);
    expect(badFrom.code).toBe(2);
    expect(badFrom.stderr).toContain('it names no host');
    // A cluster has database 0 only: --cluster with another is refused before connecting.
    const clusterDb = await runMain([
      'export',
      dataDir,
      '--to',
      'redis://127.0.0.1:1/3',
      '--cluster',
    ]);
    expect(clusterDb.code).toBe(2);
    expect(clusterDb.stderr).toBe(
      'persistent-cache: --to: "redis://127.0.0.1:1/3" names database 3, but --cluster asks for a Redis ' +
        'Cluster and a Redis Cluster has only database 0: give /0 or no database\n',
    );
    const target = join(tempDir(), 'new');
    const importDb = await runMain([
      'import',
      '--from',
      'redis://127.0.0.1:1/3',
      target,
      '--cluster',
    ]);
    expect(importDb.code).toBe(2);
    expect(importDb.stderr).toContain('--from: "redis://127.0.0.1:1/3" names database 3');
    expect(existsSync(target)).toBe(false);
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
