#!/usr/bin/env node
/**
 * `npm run test:crash -- [--trials N]`: the crash test (test/crash.e2e-spec.ts) alone, without coverage, with
 * CRASH_TRIALS set to N when given (the test's own default otherwise, or CRASH_TRIALS from the environment).
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { constants } from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `Usage: npm run test:crash -- [--trials N]

Runs the crash test (test/crash.e2e-spec.ts) alone, without coverage.

  --trials N, --trials=N  number of SIGKILL trials (a positive integer; sets CRASH_TRIALS, default 30)
  -h, --help              show this help

Environment: CRASH_TRIALS (overridden by --trials), CRASH_DUMPS=1 keeps readable dumps of each digest.
`;

/** Prints `message` and the usage to stderr, and exits with 2 (a usage error). */
function usageError(message) {
  process.stderr.write(`test:crash: ${message}\n\n${USAGE}`);
  process.exit(2);
}

function parseArgs(argv) {
  let trials;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '-h' || arg === '--help') {
      process.stdout.write(USAGE);
      process.exit(0);
    } else if (arg === '--trials') {
      if (i + 1 >= argv.length) usageError('--trials needs a value');
      trials = argv[++i];
    } else if (arg.startsWith('--trials=')) {
      trials = arg.slice('--trials='.length);
    } else {
      usageError(`unknown argument ${JSON.stringify(arg)}`);
    }
  }
  if (trials !== undefined && !/^[1-9]\d*$/.test(trials)) {
    usageError(`--trials must be a positive integer, got ${JSON.stringify(trials)}`);
  }
  return { trials };
}

const { trials } = parseArgs(process.argv.slice(2));
const env = { ...process.env };
if (trials !== undefined) env.CRASH_TRIALS = trials;

const jest = createRequire(import.meta.url).resolve('jest/bin/jest');
const child = spawn(
  process.execPath,
  [jest, '--selectProjects', 'e2e', '--coverage=false', 'test/crash.e2e-spec.ts'],
  { cwd: root, env, stdio: 'inherit' },
);
// Ctrl-C reaches jest too (same process group); wait for it to finish and report how it ended.
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => undefined);
child.on('error', (error) => {
  process.stderr.write(`test:crash: cannot run jest: ${error.message}\n`);
  process.exit(1);
});
child.on('exit', (code, signal) => {
  process.exit(signal === null ? (code ?? 1) : 128 + (constants.signals[signal] ?? 0));
});
