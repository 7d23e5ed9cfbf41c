import { Command, CommanderError, Option } from 'commander';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { exportSnapshot } from './export';
import { importSnapshot } from './import';
import { inspect } from './inspect';
import {
  CliError,
  CliInterrupted,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  INTERRUPT_EXIT_CODES,
  interruptedBy,
  type CliIo,
  type InterruptSignal,
} from './io';
import { messageOf } from '../util/errors';
import { REDIS_URL_FORM } from '../util/redis-url';
import { verify } from './verify';
import { removeDeadViews } from '../store/read-only-view';

const NAME = 'persistent-cache';

/** `--cluster` of export and import. */
const CLUSTER_HELP =
  'require the URL to name a node of a Redis Cluster (one is detected without it: the whole cluster is used)';

/** The version of this package: its package.json is the first one above this file named nestjs-persistent-cache. */
function packageVersion(): string {
  for (let dir = __dirname; ; dir = dirname(dir)) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: unknown;
        version?: unknown;
      };
      if (manifest.name === 'nestjs-persistent-cache' && typeof manifest.version === 'string') {
        return manifest.version;
      }
    } catch {
      // No package.json here: look further up.
    }
    if (dirname(dir) === dir) return 'unknown';
  }
}

function buildProgram(io: CliIo, setResult: (code: number) => void): Command {
  const program = new Command(NAME)
    .description(
      'Inspect, verify, export and import the snapshots of nestjs-persistent-cache ' +
        '(exit codes: 0 success, 1 a problem with the data, store or server, 2 a usage error, ' +
        '130, 143 or 129 interrupted by SIGINT, SIGTERM or SIGHUP).',
    )
    .version(packageVersion(), '-V, --version', 'print the version of nestjs-persistent-cache')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .showHelpAfterError('(run with --help for usage)')
    .helpCommand(false);

  program
    .command('inspect')
    .description(
      'Show a snapshot: format version, time, keys by type, bytes, keys expired at now, generations.',
    )
    .argument('<dataDir>', 'the data directory (persistence.dataDir)')
    .option('--json', 'print the report as JSON')
    .action(async (dataDir: string, opts: { json?: boolean }) => {
      setResult(await inspect(dataDir, { json: opts.json }, io));
    });

  program
    .command('verify')
    .description(
      'Read every chunk of the snapshot, checking every checksum and count. ' +
        'Exit code 0 if it restores, 1 with the reason if not.',
    )
    .argument('<dataDir>', 'the data directory (persistence.dataDir)')
    .action(async (dataDir: string) => {
      setResult(await verify(dataDir, io));
    });

  program
    .command('export')
    .description(
      'Write every live key of a snapshot (type, value, absolute expiry) into a Redis server, ' +
        'or as RESP commands for `redis-cli --pipe`.',
    )
    .argument('<dataDir>', 'the data directory (persistence.dataDir)')
    .addOption(
      new Option('--to <url>', `write into this Redis: ${REDIS_URL_FORM}`).conflicts('resp'),
    )
    .option(
      '--resp',
      'write RESP commands to stdout (e.g. `> out.resp`, then `redis-cli --pipe < out.resp`)',
    )
    .option(
      '--replace',
      'delete each exported key before writing it; without it --to refuses a non-empty database',
    )
    .option(
      '--skip-unsupported',
      'leave out keys whose values Redis cannot hold instead of failing',
    )
    .addOption(new Option('--cluster', CLUSTER_HELP).conflicts('resp'))
    .addHelpText(
      'after',
      '\nExamples:\n' +
        `  ${NAME} export ./data --to redis://127.0.0.1:6379/0\n` +
        `  ${NAME} export ./data --resp > out.resp && redis-cli --pipe < out.resp`,
    )
    .action(
      async (
        dataDir: string,
        opts: {
          to?: string;
          resp?: boolean;
          replace?: boolean;
          skipUnsupported?: boolean;
          cluster?: boolean;
        },
      ) => {
        setResult(await exportSnapshot(dataDir, opts, io));
      },
    );

  program
    .command('import')
    .description(
      'Read every key of a Redis database (SCAN; every type and TTL) and write it as a snapshot the module restores.',
    )
    .requiredOption('--from <url>', `read from this Redis: ${REDIS_URL_FORM}`)
    .argument('<dataDir>', 'the data directory to write (missing or empty, unless --replace)')
    .option('--replace', 'replace the snapshot the data directory already holds')
    .option(
      '--skip-unsupported',
      'leave out keys the embedded cache cannot hold instead of failing',
    )
    .option('--cluster', CLUSTER_HELP)
    .addHelpText('after', `\nExample:\n  ${NAME} import --from redis://127.0.0.1:6379/0 ./data`)
    .action(
      async (
        dataDir: string,
        opts: { from: string; replace?: boolean; skipUnsupported?: boolean; cluster?: boolean },
      ) => {
        setResult(await importSnapshot(dataDir, opts, io));
      },
    );

  return program;
}

/** Runs the CLI with `argv` (the arguments after the program name) and returns its exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo()): Promise<number> {
  let result = EXIT_OK;
  const program = buildProgram(io, (code) => {
    result = code;
  });
  // A read-only command killed while it read (SIGKILL) left its private view of a store in the temp directory.
  removeDeadViews();
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT_USAGE;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return result;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end with code 0; anything else commander reports is a usage error.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    }
    const signal = interruptedBy(io);
    if (signal !== undefined && !(error instanceof CliInterrupted)) {
      // Failed while stopping, e.g. a child process the terminal's Ctrl-C ended too: the signal is the cause.
      io.stderr.write(`${NAME}: interrupted by ${signal}: ${messageOf(error)}\n`);
      return INTERRUPT_EXIT_CODES[signal];
    }
    if (error instanceof CliError) {
      io.stderr.write(`${NAME}: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr.write(`${NAME}: ${messageOf(error)}\n`);
    return EXIT_FAILURE;
  }
}

function processIo(): CliIo {
  return { stdout: process.stdout, stderr: process.stderr };
}

/**
 * Runs the CLI as the process (the `bin`): the first SIGINT (Ctrl-C), SIGTERM or SIGHUP interrupts the command,
 * which stops at its next step, undoes what it made (an import's new store and claim, a read-only view's temporary
 * directory) and says what it left (an export's keys already written); it then ends with 128 + the signal's number.
 * A second signal ends the process at once, as without these handlers.
 */
export async function runAsProcess(argv: readonly string[]): Promise<number> {
  const controller = new AbortController();
  const signals = Object.keys(INTERRUPT_EXIT_CODES) as InterruptSignal[];
  const stopHandling = () => signals.forEach((s) => process.off(s, onSignal));
  function onSignal(signal: NodeJS.Signals): void {
    stopHandling(); // the next signal takes its default action: the process ends at once
    process.stderr.write(`${NAME}: ${signal}: stopping (send it again to stop at once)\n`);
    controller.abort(signal);
  }
  signals.forEach((s) => process.on(s, onSignal));
  try {
    return await main(argv, { ...processIo(), interrupt: controller.signal });
  } finally {
    stopHandling();
  }
}
