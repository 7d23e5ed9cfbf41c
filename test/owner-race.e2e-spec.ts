import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { DATA_DIR_IN_USE } from '../lib/store/store.messages';
import { OWNER_FILE } from '../lib/store/owner-lock';
import { takeoverMarker } from '../lib/store/owner-take';

/**
 * Owner race test: in each round, several real processes (test/fixtures/claim-child.ts, run from dist/) claim one
 * fresh data directory at the same instant, each pausing for a random time at every step of the claim (fault
 * injection, to make the windows between steps wide). Some rounds start with a claim left by a dead process, or
 * with a process that died while taking one over, so that take-overs race too. Every round must have exactly one
 * winner, named by the owner file and by every loser's error, and must leave nothing behind once the winner gives
 * the claim up.
 *
 * Environment: `OWNER_RACE_ROUNDS` (default 100), `OWNER_RACE_PAUSE_MS` (longest pause per step, default 40).
 */
const CHILD = resolve(__dirname, '..', 'dist', 'test', 'fixtures', 'claim-child.js');
const ROUNDS = Number(process.env.OWNER_RACE_ROUNDS ?? 100);
const PAUSE_MS = Number(process.env.OWNER_RACE_PAUSE_MS ?? 40);
const MAX_PROCESSES = 8;
const REPLY_TIMEOUT_MS = 20_000;

/** What a round's data directory holds before the processes claim it. */
const SETUPS = ['empty', 'dead owner', 'invalid owner', 'dead owner, dead taker'] as const;
type Setup = (typeof SETUPS)[number];

interface Reply {
  pid: number;
  ready?: true;
  won?: boolean;
  error?: string;
  released?: true;
}

interface Child {
  process: ChildProcess;
  send: (command: object) => void;
  next: () => Promise<Reply>;
}

const dirs: string[] = [];
let children: Child[] = [];
let deadPid = 0;

beforeAll(async () => {
  // A pid whose process has exited; the claims of the test record a start time no process has, should it be reused.
  const exited = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  deadPid = Number(exited.stdout.toString());
  children = Array.from({ length: MAX_PROCESSES }, (_, i) => start(i));
  for (const child of children) expect((await child.next()).ready).toBe(true);
});

afterAll(() => {
  for (const child of children) child.process.kill('SIGKILL');
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function start(seed: number): Child {
  const child = spawn(process.execPath, [CHILD], {
    env: { ...process.env, PAUSE_MS: String(PAUSE_MS), SEED: String(seed) },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  const next = async (): Promise<Reply> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, fail) => {
      timer = setTimeout(() => fail(new Error(`child ${child.pid} is silent`)), REPLY_TIMEOUT_MS);
    });
    try {
      const line = await Promise.race([lines.next(), timeout]);
      if (line.done === true) throw new Error(`child ${child.pid} exited`);
      return JSON.parse(line.value) as Reply;
    } finally {
      clearTimeout(timer);
    }
  };
  const send = (command: object): void => {
    child.stdin.write(`${JSON.stringify(command)}\n`);
  };
  return { process: child, send, next };
}

function deadClaim(): string {
  return JSON.stringify({ pid: deadPid, host: hostname(), started: '1' });
}

function prepare(setup: Setup): string {
  const dir = mkdtempSync(join(tmpdir(), 'persistent-cache-owner-race-'));
  dirs.push(dir);
  const file = join(dir, OWNER_FILE);
  if (setup === 'dead owner' || setup === 'dead owner, dead taker')
    writeFileSync(file, deadClaim());
  if (setup === 'invalid owner') writeFileSync(file, '');
  if (setup === 'dead owner, dead taker') {
    // A process died while it was taking over the dead owner's claim, leaving its take-over marker.
    writeFileSync(takeoverMarker(file, lstatSync(file, { bigint: true }).ino), deadClaim());
  }
  return dir;
}

/** Runs one round; returns what went wrong in it, if anything. */
async function round(n: number, setup: Setup, racers: Child[]): Promise<string[]> {
  const dataDir = prepare(setup);
  const at = Date.now() + 30;
  for (const child of racers) child.send({ claim: dataDir, at });
  const outcomes = await Promise.all(racers.map((child) => child.next()));

  const problems: string[] = [];
  const winners = outcomes.filter((outcome) => outcome.won === true);
  if (winners.length !== 1) {
    problems.push(`${winners.length} winners (${winners.map((w) => w.pid).join(', ')})`);
  }
  const expected = DATA_DIR_IN_USE(dataDir, `process ${winners[0]?.pid} on ${hostname()}`);
  for (const outcome of outcomes) {
    if (outcome.won !== true && outcome.error !== expected) {
      problems.push(`loser ${outcome.pid}: ${outcome.error}`);
    }
  }
  try {
    const owner = JSON.parse(readFileSync(join(dataDir, OWNER_FILE), 'utf8')) as { pid: number };
    if (owner.pid !== winners[0]?.pid) problems.push(`${OWNER_FILE} names ${owner.pid}`);
  } catch (error) {
    problems.push(`${OWNER_FILE} unreadable: ${String(error)}`);
  }

  for (const [i, child] of racers.entries()) {
    if (outcomes[i].won !== true) continue;
    child.send({ release: true });
    expect((await child.next()).released).toBe(true);
  }
  const left = readdirSync(dataDir);
  if (left.length > 0) problems.push(`left behind: ${left.join(', ')}`);
  return problems.map((problem) => `round ${n} (${setup}, ${racers.length} processes): ${problem}`);
}

describe('claiming a data directory', () => {
  it(`has exactly one winner when processes claim it at once (${ROUNDS} rounds)`, async () => {
    expect(deadPid).toBeGreaterThan(0);
    const problems: string[] = [];
    for (let n = 0; n < ROUNDS; n++) {
      const racers = children.slice(0, 4 + (n % (MAX_PROCESSES - 3)));
      problems.push(...(await round(n, SETUPS[n % SETUPS.length], racers)));
    }
    expect(problems).toEqual([]);
  }, 120_000);
});
