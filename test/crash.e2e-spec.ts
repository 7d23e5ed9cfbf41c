import { ChildProcess, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { digest } from './support/digest';
import { bootWith, durable, removeTempDirs, tempDir } from './support/harness';

/**
 * Crash test: a child process (test/fixtures/crash-child.ts, run from dist/) restores the data dir, writes
 * continuously and snapshots often; it is SIGKILLed at a random moment, and the next start on the same data dir must
 * restore exactly the last snapshot the killed child committed.
 *
 * The child logs `begin <n> <hash> <keys> <keys with a TTL>` before each snapshot, with the digest of the keyspace
 * the snapshot holds, and `commit <n> ...` once `snapshot()` resolved. A kill between the two may land before or
 * after LMDB committed the manifest, so either digest is a correct restore then, and nothing else is.
 *
 * Trials chain on one data dir: the child of each trial restores what the previous one left, logs the digest of what
 * it restored (`restored <hash> <keys> <keys with a TTL>`), and that is the check of the previous kill; after the
 * last kill, an app in the test process restores and checks. So chains of incremental snapshots, full ones that
 * replace them, and interrupted ones are all exercised. Half the trials kill at a random moment after the first
 * commit; the other half wait for a snapshot to begin and kill within the next few tens of milliseconds.
 *
 * `CRASH_TRIALS` sets the number of trials (default 30): `npm run test:crash -- --trials 200`. `CRASH_DUMPS=1`
 * makes the children write readable dumps of every digest, copied with the data dir when a check fails.
 */
const TRIALS = Number(process.env.CRASH_TRIALS || 30);
if (!Number.isInteger(TRIALS) || TRIALS < 1) {
  throw new Error(`CRASH_TRIALS must be a positive integer, got ${process.env.CRASH_TRIALS}`);
}
const CHILD = resolve(__dirname, '..', 'dist', 'test', 'fixtures', 'crash-child.js');
/** Longest wait for a child to get to the next step (start, first commit, next snapshot). */
const STEP_TIMEOUT_MS = 30_000;
/** Kills aimed at a snapshot land within this long after its `begin` line. */
const AIM_WINDOW_MS = 60;
/** Other kills land within this long after the first commit. */
const RANDOM_WINDOW_MS = 400;

interface LogLine {
  readonly event: 'restored' | 'begin' | 'commit';
  readonly n: number;
  readonly hash: string;
  readonly keys: number;
  readonly expiring: number;
}

/** The whole lines of a child's log (a line is written with one `write`, but only a newline proves it whole). */
function readLog(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n').slice(0, -1);
  return lines.map((line): LogLine => {
    const [event, ...fields] = line.split(' ');
    const [n, hash, keys, expiring] = event === 'restored' ? ['0', ...fields] : fields;
    return {
      event: event as LogLine['event'],
      n: Number(n),
      hash,
      keys: Number(keys),
      expiring: Number(expiring),
    };
  });
}

const describeState = (line: Pick<LogLine, 'hash' | 'keys' | 'expiring'>): string =>
  `${line.hash} (${line.keys} keys, ${line.expiring} with a TTL)`;

/** What a killed child's log allows a restore to hold. */
interface Expectation {
  readonly trial: number;
  readonly seed: number;
  readonly logFile: string;
  /** The last snapshot the child logged as committed. */
  readonly committed: LogLine;
  /** The snapshot it was writing when killed, if any: restorable if LMDB committed it before the kill. */
  readonly inFlight: LogLine | undefined;
}

describe('crash test: SIGKILL at random moments, then restore', () => {
  const children = new Set<ChildProcess>();

  afterAll(async () => {
    await Promise.all([...children].map((child) => kill(child)));
    removeTempDirs();
  });

  async function kill(child: ChildProcess): Promise<void> {
    const exited = new Promise<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) done();
      else child.once('exit', () => done());
    });
    child.kill('SIGKILL');
    await exited;
    children.delete(child);
    child.stdout?.destroy();
    child.stderr?.destroy();
  }

  function start(
    dataDir: string,
    logFile: string,
    seed: number,
  ): { child: ChildProcess; output: () => string } {
    const child = spawn(process.execPath, [CHILD], {
      env: { ...process.env, DATA_DIR: dataDir, LOG_FILE: logFile, SEED: String(seed) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.add(child);
    let output = '';
    const collect = (chunk: Buffer): void => {
      output += chunk.toString();
    };
    child.stdout?.on('data', collect);
    child.stderr?.on('data', collect);
    return { child, output: () => output };
  }

  /** Polls the child's log until `predicate` holds; fails if the child exits or takes too long. */
  async function waitFor(
    child: ChildProcess,
    output: () => string,
    logFile: string,
    what: string,
    predicate: (lines: LogLine[]) => boolean,
  ): Promise<LogLine[]> {
    const deadline = Date.now() + STEP_TIMEOUT_MS;
    for (;;) {
      const lines = readLog(logFile);
      if (predicate(lines)) return lines;
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(
          `The crash child exited (code ${child.exitCode}) while waiting for ${what}:\n${output()}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(
          `The crash child did not get to ${what} in ${STEP_TIMEOUT_MS} ms:\n${output()}`,
        );
      }
      await sleep(2);
    }
  }

  it(
    `restores exactly the last committed snapshot after each of ${TRIALS} kills`,
    async () => {
      if (!existsSync(CHILD)) {
        throw new Error(
          `${CHILD} is missing: the jest global setup builds it (npm run build does too).`,
        );
      }
      const dataDir = join(tempDir('persistent-cache-crash-'), 'data');
      const logs = tempDir('persistent-cache-crash-logs-');
      const summary = {
        trials: 0,
        killsDuringSnapshot: 0,
        /** Kills during a snapshot after which that snapshot restored: LMDB had committed it. */
        inFlightRestored: 0,
        killsBetweenSnapshots: 0,
        snapshotsCommitted: 0,
        restoresVerified: 0,
      };
      const printSummary = (): void =>
        console.log(
          `crash test: ${summary.trials} trials, ${summary.killsDuringSnapshot} kills during a snapshot ` +
            `(${summary.inFlightRestored} of them after LMDB had committed it), ` +
            `${summary.killsBetweenSnapshots} between snapshots; ${summary.snapshotsCommitted} snapshots ` +
            `committed; ${summary.restoresVerified}/${summary.trials} restores verified`,
        );

      /** Checks a restore against what the killed child logged: `undefined` if it is right, else what is wrong. */
      const check = (
        expected: Expectation,
        restored: Omit<LogLine, 'event' | 'n'>,
        by: string,
      ): string | undefined => {
        const matches = (line: LogLine | undefined): boolean =>
          line !== undefined &&
          line.hash === restored.hash &&
          line.keys === restored.keys &&
          line.expiring === restored.expiring;
        if (matches(expected.committed)) {
          summary.restoresVerified++;
          return undefined;
        }
        if (matches(expected.inFlight)) {
          summary.restoresVerified++;
          summary.inFlightRestored++;
          return undefined;
        }
        const { committed, inFlight } = expected;
        return (
          `Trial ${expected.trial} (seed ${expected.seed}): ${by} restored ${describeState(restored)}; ` +
          `the killed child had committed snapshot ${committed.n}: ${describeState(committed)}` +
          (inFlight === undefined
            ? ''
            : ` and was writing snapshot ${inFlight.n}: ${describeState(inFlight)}`) +
          `. Its log is ${basename(expected.logFile)}.`
        );
      };
      /** Keeps the data dir and the logs for investigation, then fails. */
      const fail = (problem: string): never => {
        const kept = mkdtempSync(join(tmpdir(), 'persistent-cache-crash-failure-'));
        cpSync(dataDir, join(kept, 'data'), { recursive: true });
        cpSync(logs, join(kept, 'logs'), { recursive: true });
        throw new Error(`${problem} Data dir and child logs copied to ${kept}.`);
      };

      let previous: Expectation | undefined;
      try {
        for (let trial = 1; trial <= TRIALS; trial++) {
          const seed = (Date.now() ^ Math.imul(trial, 0x9e3779b1)) >>> 0;
          const logFile = join(logs, `trial-${trial}.log`);
          const { child, output } = start(dataDir, logFile, seed);

          const [restored] = await waitFor(
            child,
            output,
            logFile,
            'its restore',
            (lines) => lines.length > 0,
          );
          if (previous === undefined) expect(restored.keys).toBe(0);
          const problem = previous && check(previous, restored, `the child of trial ${trial}`);
          if (problem !== undefined) {
            await kill(child); // before it snapshots over the evidence
            fail(problem);
          }

          await waitFor(child, output, logFile, 'its first commit', (lines) =>
            lines.some((l) => l.event === 'commit'),
          );
          if (trial % 2 === 0) {
            const begins = (lines: LogLine[]) => lines.filter((l) => l.event === 'begin').length;
            const before = begins(readLog(logFile));
            await waitFor(
              child,
              output,
              logFile,
              'its next snapshot',
              (lines) => begins(lines) > before,
            );
            await sleep(Math.random() * AIM_WINDOW_MS);
          } else {
            await sleep(Math.random() * RANDOM_WINDOW_MS);
          }
          await kill(child);
          summary.trials++;

          const lines = readLog(logFile);
          const commits = lines.filter((l) => l.event === 'commit');
          const last = lines[lines.length - 1];
          const committed = commits[commits.length - 1];
          const inFlight = last.event === 'begin' && last.n > committed.n ? last : undefined;
          summary.snapshotsCommitted += commits.length;
          if (inFlight === undefined) summary.killsBetweenSnapshots++;
          else summary.killsDuringSnapshot++;
          previous = { trial, seed, logFile, committed, inFlight };
        }

        // The last kill is checked by an app in this process, built from the sources rather than dist/.
        const app = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
        const restored = await digest(app.redis);
        await app.app.close();
        const problem =
          previous &&
          check(
            previous,
            { hash: restored.hash, keys: restored.keys, expiring: restored.expiries.size },
            'an app in the test process',
          );
        if (problem !== undefined) fail(problem);
      } finally {
        printSummary();
      }
      expect(summary.restoresVerified).toBe(TRIALS);
      // Half the trials aim at a snapshot: over a few of them, some kills must have landed inside one.
      if (TRIALS >= 10) expect(summary.killsDuringSnapshot).toBeGreaterThan(0);
    },
    TRIALS * 15_000 + 30_000,
  );
});
