import { spawnSync } from 'node:child_process';
import { join, resolve } from 'node:path';
import { PERSISTENT_CACHE_ENV } from '../lib/config';
import { INVALID_ENV, INVALID_OPTION } from '../lib/persistent-cache.messages';
import { DURATION_ACCEPTED, MAXMEMORY_POLICIES } from '../lib/persistent-cache.options';
import { removeTempDirs, tempDir } from './support/harness';

// A mistake in the module's options or PERSISTENT_CACHE_* variables stops the bootstrap: Nest logs the error and
// exits with code 1. What it prints is the library's one line naming the option or variable, the value and what is
// accepted, not a stack trace into the library's option checks.

const ROOT = resolve(__dirname, '..');
const CHILD = join(ROOT, 'dist', 'test', 'fixtures', 'config-child.js');

afterAll(() => removeTempDirs());

/** Runs the child with `args` and `env` (no other PERSISTENT_CACHE_* variable); returns its exit and output. */
function run(
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; output: string } {
  const base: NodeJS.ProcessEnv = { NO_COLOR: '1' };
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('PERSISTENT_CACHE_')) base[name] = value;
  }
  const child = spawnSync(process.execPath, [CHILD, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...base, NO_COLOR: '1', ...env },
  });
  return { status: child.status, output: `${child.stdout}${child.stderr}` };
}

/** The output's lines that say something (Nest's startup lines left out). */
function errorLines(output: string): string[] {
  return output.split('\n').filter((line) => line.trim() !== '' && !/\bLOG\b/.test(line));
}

describe('an invalid PERSISTENT_CACHE_* variable, read through ConfigModule and forRootAsync', () => {
  it.each([
    [
      PERSISTENT_CACHE_ENV.snapshotInterval,
      'soon',
      INVALID_ENV(PERSISTENT_CACHE_ENV.snapshotInterval, DURATION_ACCEPTED, 'soon'),
    ],
    [
      PERSISTENT_CACHE_ENV.policy,
      'lru',
      INVALID_ENV(PERSISTENT_CACHE_ENV.policy, `one of ${MAXMEMORY_POLICIES.join(', ')}`, 'lru'),
    ],
    [
      PERSISTENT_CACHE_ENV.samples,
      '0',
      'Invalid environment variable PERSISTENT_CACHE_MEMORY_SAMPLES: expected ',
    ],
  ])(
    '%s=%s: one line naming it, its value and what is accepted; exit 1',
    (variable, value, message) => {
      const { status, output } = run(['env'], {
        [variable]: value,
        [PERSISTENT_CACHE_ENV.dataDir]: join(tempDir(), 'data'),
      });
      expect(status).toBe(1);
      const lines = errorLines(output);
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/ERROR \[ExceptionHandler\] Invalid environment variable /);
      expect(lines[0]).toContain(message);
      expect(lines[0]).toContain(`got ${JSON.stringify(value)}`);
      expect(output).not.toMatch(/^\s+at /m);
    },
  );
});

describe('an invalid option given to forRoot', () => {
  it('one line naming the option, its value and what is accepted; exit 1', () => {
    const options = { persistence: { dataDir: join(tempDir(), 'data'), snapshotInterval: 'soon' } };
    const { status, output } = run(['options', JSON.stringify(options)]);
    expect(status).toBe(1);
    const lines = errorLines(output);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain(
      `ERROR [ExceptionHandler] ${INVALID_OPTION('persistence.snapshotInterval', DURATION_ACCEPTED, 'soon')}`,
    );
    expect(output).not.toMatch(/^\s+at /m);
  });
});
