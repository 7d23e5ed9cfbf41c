/**
 * Commands benchmark: ops/s of single commands (DBSIZE and the calls of a SCAN walk over the ~23k keys the others
 * work on among them), a 10-command pipeline, a MULTI/EXEC of 5 commands, and commands on collections of 100k
 * members (one at a time: see LARGE_COMMANDS) on
 *
 *   (a) the embedded client as users get it: `createEmbeddedClient(new Keyspace())`, command rules on;
 *   (b) plain ioredis-mock (the version package.json pins), with its own in-memory data;
 *   (c) ioredis against a redis-server on 127.0.0.1 (a free port), when redis-server is on the PATH;
 *
 * each "one await at a time" (serial) and "100 in flight" (batches of 100 commands sent together, then awaited), side
 * by side with the ratios (a)/(b) and (a)/(c). A pipeline or a MULTI/EXEC counts as one operation.
 *
 * The clients take turns in time slices of a few milliseconds, the first of each round changing from round to round,
 * so that the load of the machine hits all of them alike; each command and form runs unmeasured first (warm-up).
 * `--keys` only sets how long each measurement runs (1M, the default: 1 s per client per command and form, about two
 * minutes in all; 10k, what CI passes: 0.1 s, under a minute in all, most of it plain ioredis-mock's commands on the
 * large collections); the commands work on the same keys whatever it is.
 *
 *   npm run bench -- --only commands                 # about two minutes
 *   npm run bench -- --only commands --keys 10000    # a small run (CI), under a minute
 *   npm run build && node dist/bench/commands.bench.js --ms 3000 --no-redis
 *
 * Figures are printed against the goal (GOALS), not asserted: the run fails only when something breaks.
 */
import type { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { createEmbeddedClient } from '../lib/ioredis-mock/adapter';
import { Keyspace } from '../lib/keyspace/keyspace';
import { parseBenchArgs, parseCount } from './args';
import { writeResults } from './results';
import { pipelineOfTen } from './operations';
import {
  redisServerOnPath,
  redisServerVersion,
  startRedisServer,
  type RedisServer,
} from '../test/support/redis-server';
import { mark, table } from './format';

/** Goal of issue "Commands against a Redis round trip": the command rules cost at most 10% of ioredis-mock's rate. */
const GOALS = {
  /** ops/s of the embedded client over plain ioredis-mock's, for every command and form: at least this. */
  embeddedVsPlain: 0.9,
} as const;

/** Per client, per command and form, at the default `--keys` (1M), ms; scaled by keys / 1M within the bounds. */
const MEASURE_MS_AT_1M = 1000;
const MEASURE_MS_MIN = 100;
/** Unmeasured run of each client before each measurement: this share of the measured time, at least the minimum. */
const WARMUP_SHARE = 0.15;
const WARMUP_MS_MIN = 30;
/** Length of one client's turn, ms. */
const SLICE_MS = 10;
/** Operations sent together before they are awaited, in the concurrent form. */
const IN_FLIGHT = 100;
/** In the serial form, the clock is read every this many operations. */
const SERIAL_CHECK = 10;

/** Keys the commands work on (prefilled where a command reads them), and the value SET writes. */
const STRING_KEYS = 10_000;
const COUNTER_KEYS = 1000;
const HASH_KEYS = 1000;
const HASH_FIELDS = 10;
const ZSET_KEYS = 1000;
const ZSET_MEMBERS = 50;
/** LPUSH spreads over this many lists, so that none grows long over a run (one list per 10k pushes would). */
const LIST_KEYS = 10_000;
const VALUE = 'v'.repeat(100);

type Operation = (client: Redis, i: number) => Promise<unknown>;

/** Where each client's SCAN walk goes on: one SCAN call, one operation; a walk over ends and starts again. */
const scanCursors = new WeakMap<Redis, string>();
const scanStep: Operation = async (c) => {
  const [next] = await c.scan(scanCursors.get(c) ?? '0', 'COUNT', 100);
  scanCursors.set(c, next);
};

const COMMANDS: readonly (readonly [string, Operation])[] = [
  ['GET', (c, i) => c.get(`str:${i % STRING_KEYS}`)],
  ['SET', (c, i) => c.set(`str:${i % STRING_KEYS}`, VALUE)],
  ['INCR', (c, i) => c.incr(`n:${i % COUNTER_KEYS}`)],
  ['HSET', (c, i) => c.hset(`hash:${i % HASH_KEYS}`, `f${i % HASH_FIELDS}`, 'v')],
  ['HGETALL', (c, i) => c.hgetall(`hash:${i % HASH_KEYS}`)],
  ['ZADD', (c, i) => c.zadd(`zset:${i % ZSET_KEYS}`, i % 1000, `m${i % ZSET_MEMBERS}`)],
  ['LPUSH', (c, i) => c.lpush(`list:${i % LIST_KEYS}`, 'v')],
  ['DBSIZE', (c) => c.dbsize()],
  ['SCAN COUNT 100', scanStep],
  ['pipeline(10)', pipelineOfTen],
  [
    'MULTI/EXEC(5)',
    (c, i) =>
      c
        .multi()
        .set(`t:${i % 100}`, 'v')
        .get(`t:${i % 100}`)
        .incr(`tn:${i % 100}`)
        .hset(`th:${i % 10}`, 'f', 'v')
        .zadd(`tz:${i % 10}`, 1, 'm')
        .exec(),
  ],
];

/**
 * Commands on collections of {@link LARGE_MEMBERS} members (prefilled): what a command costs when its collection is
 * large, one at a time only (ioredis-mock copies such a collection for each command: 100 in flight would take
 * seconds a batch). Each pair leaves the collection's size as it was, so that every client works on the same sizes.
 */
const LARGE_MEMBERS = 100_000;
const member = (i: number): string => `m${i % LARGE_MEMBERS}`;
const LARGE_COMMANDS: readonly (readonly [string, Operation])[] = [
  ['SISMEMBER (100k set)', (c, i) => c.sismember('big:set', member(i * 7919))],
  [
    'SADD+SREM (100k set)',
    (c, i) => c.sadd('big:set', `x${i}`).then(() => c.srem('big:set', `x${i}`)),
  ],
  ['HSET (100k hash)', (c, i) => c.hset('big:hash', member(i * 7919), `v${i}`)],
  [
    'ZINCRBY+ZREVRANGE 0 9 (100k zset)',
    (c, i) => c.zincrby('big:zset', 1, member(i * 7919)).then(() => c.zrevrange('big:zset', 0, 9)),
  ],
  ['ZRANK (100k zset)', (c, i) => c.zrank('big:zset', member(i * 7919))],
  ['LPUSH+RPOP (100k list)', (c, i) => c.lpush('big:list', `x${i}`).then(() => c.rpop('big:list'))],
];

const FORMS = ['serial', 'in-flight'] as const;
type Form = (typeof FORMS)[number];

const FORM_LABEL: Record<Form, string> = {
  serial: '1 at a time',
  'in-flight': `${IN_FLIGHT} in flight`,
};

const SIDES = ['embedded', 'plain', 'redis'] as const;
type Side = (typeof SIDES)[number];

interface Options {
  keys: number;
  /** Per client, per command and form, ms (from `--ms`, or from `--keys`). */
  measureMs: number;
  warmup: boolean;
  out: string;
  redis: boolean;
}

// ---- arguments -------------------------------------------------------------------------------------------------

function usage(): string {
  return [
    'Usage: node dist/bench/commands.bench.js [--keys 1000000] [--ms <ms>] [--out <file>] [--no-redis] [--no-warmup]',
    `  --keys      sets how long each measurement runs: keys / 1M × ${MEASURE_MS_AT_1M} ms per client per command and`,
    `              form, at least ${MEASURE_MS_MIN} ms (default 1000000; the largest of a comma-separated list)`,
    '  --ms        that time directly, ms (instead of --keys)',
    '  --out       JSON output file (default bench-results/commands-<timestamp>.json)',
    '  --no-redis  skip the redis-server comparison (it runs when redis-server is on the PATH)',
    '  --no-warmup measure from a cold start (by default each command and form runs unmeasured first)',
    '  --datasets  accepted and ignored (an option of the snapshot benchmark, which bench/run.ts shares)',
  ].join('\n');
}

function parseArgs(argv: string[]): Options {
  let ms: number | undefined;
  const options = parseBenchArgs(argv, {
    name: 'commands',
    usage,
    keys: [1_000_000],
    minKeys: 100,
    keysExample: false,
    option: (name, value) => {
      if (name !== '--ms') return false;
      ms = parseCount(value(), '--ms', 10);
      return true;
    },
  });
  const keys = Math.max(...options.keys);
  const measureMs =
    ms ??
    Math.min(
      MEASURE_MS_AT_1M,
      Math.max(MEASURE_MS_MIN, Math.round((MEASURE_MS_AT_1M * keys) / 1_000_000)),
    );
  return { keys, measureMs, out: options.out, redis: options.redis, warmup: options.warmup };
}

// ---- measuring -------------------------------------------------------------------------------------------------

/** Runs `operation` on `client` for about `ms` ms from operation number `from`; returns the operations run. */
async function turn(
  client: Redis,
  operation: Operation,
  form: Form,
  from: number,
  ms: number,
): Promise<{ ops: number; ms: number }> {
  const started = performance.now();
  let i = from;
  let now = started;
  if (form === 'serial') {
    do {
      for (let j = 0; j < SERIAL_CHECK; j++) await operation(client, i++);
      now = performance.now();
    } while (now - started < ms);
  } else {
    const batch = new Array<Promise<unknown>>(IN_FLIGHT);
    do {
      for (let j = 0; j < IN_FLIGHT; j++) batch[j] = operation(client, i++);
      await Promise.all(batch);
      now = performance.now();
    } while (now - started < ms);
  }
  return { ops: i - from, ms: now - started };
}

/**
 * ops/s of `operation` on each client, in turns of `SLICE_MS` until each has run `ms` ms; the client that goes first
 * changes every round. Each client numbers its operations from 0, so all of them touch the same keys in the same order.
 */
async function interleaved(
  clients: readonly Redis[],
  operation: Operation,
  form: Form,
  ms: number,
): Promise<number[]> {
  const ops = clients.map(() => 0);
  const spent = clients.map(() => 0);
  for (let round = 0; Math.min(...spent) < ms; round++) {
    for (let k = 0; k < clients.length; k++) {
      const c = (round + k) % clients.length;
      // A client done with its time waits for the others: one whose operation takes longer than a turn (plain
      // ioredis-mock's DBSIZE lists every key) would otherwise run a whole batch in every round the others need.
      if (spent[c] >= ms) continue;
      const slice = Math.min(SLICE_MS, Math.max(1, ms - spent[c]));
      const done = await turn(clients[c], operation, form, ops[c], slice);
      ops[c] += done.ops;
      spent[c] += done.ms;
    }
  }
  return ops.map((n, c) => (n / spent[c]) * 1000);
}

/** The keys the read commands read, and a zero for every counter, on one client. */
async function prefill(client: Redis): Promise<void> {
  await client.flushall();
  const pipeline = client.pipeline();
  for (let i = 0; i < STRING_KEYS; i++) pipeline.set(`str:${i}`, VALUE);
  for (let i = 0; i < COUNTER_KEYS; i++) pipeline.set(`n:${i}`, '0');
  for (let i = 0; i < HASH_KEYS; i++) {
    const fields: string[] = [];
    for (let f = 0; f < HASH_FIELDS; f++) fields.push(`f${f}`, 'v');
    pipeline.hset(`hash:${i}`, ...fields);
  }
  await pipeline.exec();
  // The large collections, 1000 members a command.
  for (let start = 0; start < LARGE_MEMBERS; start += 1000) {
    const members: string[] = [];
    for (let i = start; i < start + 1000; i++) members.push(member(i));
    await client.sadd('big:set', ...members);
    await client.hset('big:hash', ...members.flatMap((m) => [m, 'v']));
    await client.zadd('big:zset', ...members.flatMap((m, j) => [(start + j) % 1000, m]));
    await client.rpush('big:list', ...members);
  }
}

interface Row {
  command: string;
  form: Form;
  /** ops/s of each client (`redis`: null without redis-server). */
  embedded: number;
  plain: number;
  redis: number | null;
  /** (a)/(b) and (a)/(c). */
  embeddedVsPlain: number;
  embeddedVsRedis: number | null;
  /** (a)/(b) ≥ the goal. */
  goal: boolean;
}

async function measureAll(
  clients: Partial<Record<Side, Redis>>,
  options: Options,
  progress: (line: string) => void,
): Promise<Row[]> {
  const sides = SIDES.filter((side) => clients[side] !== undefined);
  const list = sides.map((side) => clients[side] as Redis);
  const warmupMs = Math.max(WARMUP_MS_MIN, Math.round(options.measureMs * WARMUP_SHARE));
  const rows: Row[] = [];
  const plan = [
    ...COMMANDS.flatMap(([command, operation]) =>
      FORMS.map((form) => [command, operation, form] as const),
    ),
    ...LARGE_COMMANDS.map(([command, operation]) => [command, operation, 'serial'] as const),
  ];
  for (const [command, operation, form] of plan) {
    if (options.warmup) await interleaved(list, operation, form, warmupMs);
    const rates = await interleaved(list, operation, form, options.measureMs);
    const rate = (side: Side): number | null => {
      const at = sides.indexOf(side);
      return at < 0 ? null : rates[at];
    };
    const embedded = rate('embedded') ?? 0;
    const plain = rate('plain') ?? 0;
    const redis = rate('redis');
    const row: Row = {
      command,
      form,
      embedded,
      plain,
      redis,
      embeddedVsPlain: embedded / plain,
      embeddedVsRedis: redis === null ? null : embedded / redis,
      goal: embedded / plain >= GOALS.embeddedVsPlain,
    };
    rows.push(row);
    progress(
      `  ${command} ${FORM_LABEL[form]}: ${fmtRate(embedded)} / ${fmtRate(plain)}` +
        (redis === null ? '' : ` / ${fmtRate(redis)}`),
    );
  }
  return rows;
}

// ---- output ----------------------------------------------------------------------------------------------------

function fmtRate(perSec: number): string {
  if (perSec < 1000) return `${perSec.toFixed(1)}/s`;
  return perSec >= 1e6 ? `${(perSec / 1e6).toFixed(2)}M/s` : `${(perSec / 1000).toFixed(1)}k/s`;
}

function fmtRatio(r: number): string {
  return `${r.toFixed(r >= 10 ? 1 : 2)}×`;
}

function printRows(rows: Row[], withRedis: boolean): void {
  const header = ['command', 'form', '(a) embedded', '(b) ioredis-mock', '(a)/(b)'];
  if (withRedis) header.push('(c) redis-server', '(a)/(c)');
  console.log(
    '\n' +
      table(
        header,
        rows.map((r) => {
          const cells = [
            r.command,
            FORM_LABEL[r.form],
            fmtRate(r.embedded),
            fmtRate(r.plain),
            `${fmtRatio(r.embeddedVsPlain)} ${mark(r.goal)}`,
          ];
          if (withRedis) {
            cells.push(
              r.redis === null ? '-' : fmtRate(r.redis),
              r.embeddedVsRedis === null ? '-' : fmtRatio(r.embeddedVsRedis),
            );
          }
          return cells;
        }),
        2,
      ),
  );
}

/** The version in an installed package's package.json. */
function packageVersion(name: string): string {
  const file = require.resolve(`${name}/package.json`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { version: string }).version;
}

// ---- main ------------------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const binary = options.redis ? redisServerOnPath() : undefined;
  if (options.redis && binary === undefined) {
    console.log('redis-server is not on the PATH: (c) ioredis against redis-server is left out.');
  } else if (!options.redis) {
    console.log('--no-redis: (c) ioredis against redis-server is left out.');
  }
  const versions = {
    ioredis: packageVersion('ioredis'),
    ioredisMock: packageVersion('ioredis-mock'),
    redisServer: binary === undefined ? null : redisServerVersion(binary),
  };
  const embedded = createEmbeddedClient(new Keyspace());
  // A host of its own: ioredis-mock shares data between instances of the same host:port.
  const plain = new RedisMock({ host: `bench-commands-plain-${process.pid}`, port: 6379 });
  let server: RedisServer | undefined;
  let redis: Redis | undefined;
  const loadBefore = loadavg();
  const started = performance.now();
  let rows: Row[];
  try {
    if (binary !== undefined) {
      server = await startRedisServer(binary);
      stopServer = server.stop;
      redis = server.client();
    }
    const clients: Partial<Record<Side, Redis>> = { embedded, plain, redis };
    for (const client of [embedded, plain, redis]) if (client !== undefined) await prefill(client);
    const warmupMs = Math.max(WARMUP_MS_MIN, Math.round(options.measureMs * WARMUP_SHARE));
    console.log(
      `\nops/s of (a) the embedded client (command rules on), (b) plain ioredis-mock ${versions.ioredisMock}` +
        (redis === undefined
          ? ''
          : `, (c) ioredis ${versions.ioredis} against redis-server ${versions.redisServer} on 127.0.0.1`) +
        `:\n${options.measureMs} ms per client per row, in turns of ${SLICE_MS} ms` +
        (options.warmup ? ` after ${warmupMs} ms of warm-up each` : ', no warm-up') +
        `; load average ${loadBefore[0].toFixed(2)}\n`,
    );
    rows = await measureAll(clients, options, (line) => console.log(line));
  } finally {
    embedded.disconnect();
    plain.disconnect();
    redis?.disconnect();
    await server?.stop();
  }
  const loadAfter = loadavg();
  printRows(rows, redis !== undefined);
  console.log(
    `\nA pipeline or a MULTI/EXEC counts as one operation. ${FORM_LABEL['in-flight']}: ${IN_FLIGHT} operations sent ` +
      `together, then awaited. Load average (1 min) ${loadBefore[0].toFixed(2)} before, ` +
      `${loadAfter[0].toFixed(2)} after; ${((performance.now() - started) / 1000).toFixed(1)} s.`,
  );
  console.log(
    `\nGoal: (a) ≥ ${GOALS.embeddedVsPlain}× (b) for every command and form: ` +
      `${rows.filter((r) => r.goal).length} of ${rows.length} ${mark(rows.every((r) => r.goal))}`,
  );
  writeResults(options.out, {
    versions,
    loadAverage: { before: loadBefore, after: loadAfter },
    goals: GOALS,
    settings: {
      measureMs: options.measureMs,
      warmupMs: options.warmup
        ? Math.max(WARMUP_MS_MIN, Math.round(options.measureMs * WARMUP_SHARE))
        : 0,
      sliceMs: SLICE_MS,
      inFlight: IN_FLIGHT,
    },
    commands: rows,
  });
}

// Ctrl-C reaches redis-server too (same process group); a SIGTERM sent to this process alone stops it here.
let stopServer: (() => Promise<void>) | undefined;
process.once('SIGTERM', () => {
  console.error('\nSIGTERM: stopping');
  void (stopServer?.() ?? Promise.resolve()).finally(() => process.exit(143));
});

main().catch((error: unknown) => {
  console.error(error instanceof Error ? (error.stack ?? error.message) : error);
  process.exitCode = 1;
});
