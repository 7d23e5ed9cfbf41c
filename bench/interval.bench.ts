/**
 * Interval benchmark: what periodic snapshots every second cost a cache under a steady write load, through the real
 * module (`PersistentCacheModule` with `@nestjs/schedule`), and how much a crash would lose.
 *
 *   npm run bench -- --only interval                                  # 1M mixed keys, 10k writes/s for 60 s
 *   npm run bench -- --only interval --keys 10000                     # a small run (CI): 5 s
 *   npm run bench -- --only interval --interval 5s --duration 120s --rate 2000
 *
 * It fills the cache, takes one snapshot so that the chain starts from everything, then writes at a steady rate to
 * keys drawn from a Zipf(0.99) law while the interval snapshots. It measures:
 * - CPU share of snapshots: the process's CPU time (every thread, LMDB's included) from each snapshot's capture to
 *   its commit, less what the write load alone used over the same time (its rate outside snapshots); and, as a
 *   check, the difference in the process's CPU rate against a phase of the same load with the interval stopped.
 * - Event-loop delay over the whole load (`monitorEventLoopDelay` max and p99, and the timer probe's gaps).
 * - The data-loss window: for each write, the time from when it was sent to the commit of the first snapshot whose
 *   capture began after the write was acknowledged (what a crash right before that commit would lose).
 * - The store file's size after each commit, against the full snapshot's bytes.
 */
import 'reflect-metadata';
import { Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ScheduleModule, SchedulerRegistry } from '@nestjs/schedule';
import type { ChainableCommander, Redis } from 'ioredis';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance, PerformanceObserver, type PerformanceEntry } from 'node:perf_hooks';
import {
  CACHE,
  getSnapshotIntervalName,
  PersistentCacheModule,
  SnapshotService,
  type SnapshotReport,
} from '../lib';
import type { Keyspace } from '../lib/keyspace/keyspace';
import { KEYSPACE, SNAPSHOT_STORE } from '../lib/persistent-cache.constants';
import { STORE_FILE } from '../lib/store/data-dir';
import type { SnapshotStore } from '../lib/store/snapshot-store';
import { fill, queueKeyWrite, type DatasetName } from '../test/support/datasets';
import { parseBenchArgs } from './args';
import { cleanups, runBench } from './lifecycle';
import { writeResults } from './results';
import { measure, settle, type PhaseStats } from './monitor';
import { zipfTrace } from './trace';
import { messageOf } from '../lib/util/errors';
import { log, fmtMs, fmtMB, mark, table as formatTable } from './format';
/** Tables with their first two columns (what the row is) aligned left. */
const table = (header: string[], rows: string[][]): string => formatTable(header, rows, 2);

/** Goals (issue: "Snapshots every second"). */
const GOALS = {
  /** CPU time of snapshots over the process's CPU time during the load. */
  snapshotCpuShare: 0.05,
  /** Largest event-loop delay during the load, ms. */
  maxStallMs: 5,
  /** 99th percentile of the data-loss window, ms. */
  windowP99Ms: 2000,
  /** Largest store file over the full snapshot's bytes. */
  fileVsFull: 3,
} as const;

const ZIPF_S = 0.99;
/** `perf_hooks.constants.NODE_PERFORMANCE_GC_MAJOR`: a mark-compact collection. */
const NODE_PERFORMANCE_GC_MAJOR = 4;
const TRACE_SEED = 16;
/** Key counts below this make a small run: its default duration is {@link SMALL_DURATION_MS}. */
const SMALL_RUN_KEYS = 100_000;
const DEFAULT_DURATION_MS = 60_000;
const SMALL_DURATION_MS = 5_000;
/** The phase with the interval stopped (the CPU check) lasts this share of the measured load, at most 20 s. */
const BASELINE_SHARE = 1 / 3;
const BASELINE_MAX_MS = 20_000;
/**
 * Writes sent in one pipeline, one pipeline a tick, at most: a late tick catches up over the next ones. (Sending the
 * whole backlog at once ran thousands of writes in one turn after any pause, and made the pause longer.)
 */
const MAX_BATCH = 100;
/** Members a write may add to a set of the `mixed` dataset: writes replace values, they do not grow keys. */
const SET_EXTRA_MEMBERS = 16;

interface Options {
  keys: number[];
  datasets: DatasetName[];
  durationMs: number | undefined;
  rate: number;
  interval: string;
  out: string;
}

/** One committed snapshot of the load. */
interface Commit {
  kind: SnapshotReport['kind'];
  /** Since the load began, ms: when its capture began, and when the bench saw its commit. */
  captureAtMs: number;
  commitAtMs: number;
  records: number;
  bytes: number;
  chainBytes: number;
  /** Bytes of the chain's full generation after it. */
  fullBytes: number;
  /** The store file after it, bytes. */
  fileBytes: number;
  /** Process CPU time (all threads) from its capture to its commit, ms. */
  cpuMs: number;
  /** The service's own duration (from its start to its commit), ms. */
  durationMs: number;
}

interface Distribution {
  p50: number;
  p99: number;
  max: number;
}

interface RunResult {
  dataset: DatasetName;
  keys: number;
  intervalMs: number;
  durationMs: number;
  targetRate: number;
  writes: number;
  achievedRate: number;
  /** Distinct keys written during the load. */
  distinctKeys: number;
  fillMs: number;
  load: PhaseStats;
  /** Process CPU time during the load, ms, and its share of one core. */
  processCpuMs: number;
  processCpuCores: number;
  /** CPU of snapshots by windows: CPU inside capture→commit windows less the load's own rate over them, ms. */
  snapshotCpuMs: number;
  snapshotCpuShare: number;
  /** CPU inside the windows, not corrected: an upper bound. */
  snapshotWindowCpuMs: number;
  /** The check: the same load with the interval stopped. */
  baseline: { durationMs: number; processCpuMs: number; processCpuCores: number; writes: number };
  /** (CPU rate with snapshots − without) × duration, over the process's CPU during the load. */
  abCpuShare: number;
  /**
   * Garbage collections during the load (PerformanceObserver `gc`): count, longest pause and total, ms, and the
   * longest pause of a full (mark-compact) collection. The load replaces values of a 1M-key heap: its old values are
   * what V8's major collections sweep, snapshots or not.
   */
  gc: { count: number; maxMs: number; totalMs: number; majorCount: number; majorMaxMs: number };
  /** Writer-tick gaps, inside and outside snapshot windows: the largest, ms. */
  maxGapInSnapshotMs: number;
  maxGapOutsideMs: number;
  windowMs: Distribution;
  /** Writes of the load that no commit holds by the end (none, when the last snapshot came). */
  writesUncommitted: number;
  snapshots: number;
  fullSnapshots: number;
  /** Seconds between full snapshots during the load (`null`: fewer than two). */
  fullEverySeconds: number | null;
  /** Ticks of the interval that found a snapshot still running (skipped). */
  expectedSnapshots: number;
  incrementalMs: Distribution;
  fullMs: Distribution | null;
  fullSnapshotBytes: number;
  fileBytes: { start: number; min: number; max: number; end: number };
  fileVsFull: number;
  commits: Commit[];
  goals: Record<keyof typeof GOALS, boolean>;
}

function usage(): string {
  return [
    'Usage: npm run bench -- --only interval [--keys 1000000] [--datasets mixed] [--duration 60s] [--rate 10000]',
    '                                        [--interval 1s] [--out <file>]',
    '  --keys      comma-separated key counts (default 1000000)',
    '  --datasets  comma-separated datasets among strings, mixed (default mixed)',
    `  --duration  length of the measured load (default 60s; ${SMALL_DURATION_MS / 1000}s when --keys is below ` +
      `${SMALL_RUN_KEYS})`,
    '  --rate      writes per second during the load (default 10000)',
    "  --interval  the module's persistence.snapshotInterval (default 1s)",
    '  --out       JSON output file (default bench-results/interval-<timestamp>.json)',
    '  --no-redis, --no-warmup are accepted and ignored (the runner passes them to every benchmark)',
  ].join('\n');
}

function parseDuration(name: string, text: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (match === null) throw new Error(`${name}: "${text}" is not a duration (e.g. 60s, 500ms, 2m)`);
  const unit = match[2] ?? 'ms';
  return Number(match[1]) * (unit === 'm' ? 60_000 : unit === 's' ? 1000 : 1);
}

function parseArgs(argv: string[]): Options {
  let durationMs: number | undefined;
  let rate = 10_000;
  let interval = '1s';
  const { keys, datasets, out } = parseBenchArgs(argv, {
    name: 'interval',
    usage,
    keys: [1_000_000],
    datasets: ['mixed'],
    option: (name, value) => {
      switch (name) {
        case '--duration':
          durationMs = parseDuration(name, value());
          return true;
        case '--rate': {
          const v = value();
          rate = Number(v.replace(/_/g, '').replace(/k$/i, '000'));
          if (!Number.isFinite(rate) || rate <= 0) {
            throw new Error(`--rate: "${v}" is not a positive number`);
          }
          return true;
        }
        case '--interval':
          interval = value();
          parseDuration(name, interval);
          return true;
        default:
          return false;
      }
    },
  });
  return { keys, datasets, durationMs, rate, interval, out };
}

@Module({})
class BenchModule {}

async function bootApp(dataDir: string, interval: string): Promise<INestApplicationContext> {
  const root: DynamicModule = {
    module: BenchModule,
    imports: [
      ScheduleModule.forRoot(),
      PersistentCacheModule.forRoot({
        persistence: {
          dataDir,
          snapshotInterval: interval,
          snapshotOnShutdown: false,
          restoreOnStartup: false,
        },
      }),
    ],
  };
  const app = await NestFactory.createApplicationContext(root, { logger: ['error', 'warn'] });
  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => (closing ??= app.close());
  cleanups.push(close);
  return app;
}

/** Queues a write to key `i` that replaces part of its value (it does not grow the key). */
function queueWrite(p: ChainableCommander, dataset: DatasetName, i: number, n: number): void {
  const fresh = `w${n.toString(36).padStart(9, '0')}`;
  queueKeyWrite(p, dataset, i, {
    string: fresh.repeat(10),
    field0: fresh,
    head: fresh,
    setMember: `x-${n % SET_EXTRA_MEMBERS}`,
    zsetMember: `m0-${i}`,
    score: n % 1000,
  });
}

function cpuMsNow(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

function distribution(sorted: readonly number[]): Distribution {
  const at = (p: number) =>
    sorted.length === 0
      ? 0
      : sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  return { p50: at(0.5), p99: at(0.99), max: sorted.length === 0 ? 0 : sorted[sorted.length - 1] };
}

/** A percentile of values each counted `weight` times. */
function weightedDistribution(
  values: Float64Array,
  weights: Uint32Array,
  count: number,
): Distribution {
  const order = Array.from({ length: count }, (_, i) => i).sort((a, b) => values[a] - values[b]);
  let total = 0;
  for (let i = 0; i < count; i++) total += weights[i];
  const at = (p: number): number => {
    const target = Math.ceil(p * total);
    let seen = 0;
    for (const i of order) {
      seen += weights[i];
      if (seen >= target) return values[i];
    }
    return count === 0 ? 0 : values[order[count - 1]];
  };
  return { p50: at(0.5), p99: at(0.99), max: count === 0 ? 0 : values[order[count - 1]] };
}

interface LoadOptions {
  cache: Redis;
  dataset: DatasetName;
  trace: Uint32Array;
  /** Index in the trace of the first write (and the write number `n`). */
  from: number;
  rate: number;
  durationMs: number;
  /** Called on every tick, with the time since the load began. */
  onTick?: (nowMs: number, gapMs: number) => void;
}

interface LoadResult {
  writes: number;
  startedAt: number;
  /** Per batch: when it was sent and acknowledged (ms since the load began), and its writes. */
  sentAt: Float64Array;
  ackedAt: Float64Array;
  sizes: Uint32Array;
  batches: number;
}

/**
 * Sends writes at `rate` per second for `durationMs`, from a 1 ms timer chain: each tick sends, in one pipeline, the
 * writes due by then, {@link MAX_BATCH} at most (a late tick catches up over the next ones). Resolves once every write
 * is acknowledged.
 */
function steadyLoad(options: LoadOptions): Promise<LoadResult> {
  const { cache, dataset, trace, from, rate, durationMs, onTick } = options;
  const maxBatches = Math.ceil(durationMs) * 2 + 1000;
  const sentAt = new Float64Array(maxBatches);
  const ackedAt = new Float64Array(maxBatches);
  const sizes = new Uint32Array(maxBatches);
  const startedAt = performance.now();
  let sent = 0;
  let batches = 0;
  let pending = 0;
  let last = startedAt;
  let failure: unknown;
  return new Promise((resolvePromise, reject) => {
    const finish = (): void => {
      if (failure !== undefined)
        reject(failure instanceof Error ? failure : new Error(messageOf(failure)));
      else resolvePromise({ writes: sent, startedAt, sentAt, ackedAt, sizes, batches });
    };
    const tick = (): void => {
      const now = performance.now();
      const elapsed = now - startedAt;
      onTick?.(elapsed, now - last);
      last = now;
      const due = Math.min(
        Math.floor((Math.min(elapsed, durationMs) * rate) / 1000),
        trace.length - from,
      );
      if (sent < due && batches < maxBatches && failure === undefined) {
        const count = Math.min(due - sent, MAX_BATCH);
        const p = cache.pipeline();
        for (let k = 0; k < count; k++) {
          const n = from + sent + k;
          queueWrite(p, dataset, trace[n], n);
        }
        const batch = batches++;
        sentAt[batch] = performance.now() - startedAt;
        sizes[batch] = count;
        sent += count;
        pending++;
        p.exec().then(
          (results) => {
            ackedAt[batch] = performance.now() - startedAt;
            for (const [error] of results ?? []) if (error) failure ??= error;
            if (--pending === 0 && done) finish();
          },
          (error: unknown) => {
            failure ??= error;
            if (--pending === 0 && done) finish();
          },
        );
      }
      if (
        (elapsed >= durationMs && sent >= due) ||
        batches >= maxBatches ||
        failure !== undefined
      ) {
        done = true;
        if (pending === 0) finish();
        return;
      }
      setTimeout(tick, 1);
    };
    let done = false;
    setTimeout(tick, 1);
  });
}

async function runOne(
  dataset: DatasetName,
  keys: number,
  options: Options,
  durationMs: number,
): Promise<RunResult> {
  const dataDir = mkdtempSync(join(tmpdir(), 'persistent-cache-bench-interval-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const storeFile = join(dataDir, STORE_FILE);
  const intervalMs = parseDuration('--interval', options.interval);
  const baselineMs = Math.min(BASELINE_MAX_MS, durationMs * BASELINE_SHARE);
  const totalWrites = Math.ceil(((durationMs + baselineMs) * options.rate) / 1000) + 1;
  const trace = zipfTrace(keys, totalWrites, ZIPF_S, TRACE_SEED);

  const app = await bootApp(dataDir, options.interval);
  const cache = app.get<Redis>(CACHE);
  const snapshots = app.get(SnapshotService);
  const store = app.get<SnapshotStore>(SNAPSHOT_STORE);
  const keyspace = app.get<Keyspace>(KEYSPACE);

  const t = performance.now();
  await fill(cache, dataset, keys);
  const fillMs = performance.now() - t;
  // Whatever the interval took while filling, this one holds every key: the load starts from a committed chain.
  const first = await snapshots.snapshot();
  log(
    `  filled ${keys.toLocaleString('en-US')} keys in ${fmtMs(fillMs)}; snapshot after filling: ${first.kind}, ` +
      `chain ${fmtMB(first.totalBytes)}`,
  );
  await settle();

  // The capture's start is the snapshot's point in time: noted here, with the process's CPU time then.
  const captures: { atMs: number; dateMs: number; cpuMs: number }[] = [];
  let loadStartedAt = Number.NaN;
  const beginCapture = keyspace.beginCapture.bind(keyspace);
  keyspace.beginCapture = (...args: Parameters<Keyspace['beginCapture']>) => {
    const atMs = performance.now() - loadStartedAt;
    const cpuMs = cpuMsNow();
    const capture = beginCapture(...args);
    // Its report's `startedAt` is this capture's: that is how a commit is matched to its capture.
    if (capture !== undefined) captures.push({ atMs, dateMs: capture.startedAt, cpuMs });
    return capture;
  };

  const commits: Commit[] = [];
  let lastSeen: SnapshotReport | undefined = snapshots.lastSnapshot;
  let inSnapshot = false;
  let maxGapIn = 0;
  let maxGapOut = 0;
  const fileStart = statSync(storeFile).size;
  const watch = (nowMs: number, gapMs: number): void => {
    if (inSnapshot) maxGapIn = Math.max(maxGapIn, gapMs);
    else maxGapOut = Math.max(maxGapOut, gapMs);
    const report = snapshots.lastSnapshot;
    const capture = captures.at(-1);
    inSnapshot = capture !== undefined && capture.atMs > (commits.at(-1)?.commitAtMs ?? -1);
    if (report !== lastSeen && report !== undefined) {
      lastSeen = report;
      // A snapshot begun before the load (its capture not noted) is not one of the load's.
      const at = report.startedAt.getTime();
      if (capture === undefined || at !== capture.dateMs) return;
      const manifest = store.manifest();
      commits.push({
        kind: report.kind,
        captureAtMs: capture.atMs,
        commitAtMs: nowMs,
        records: report.records,
        bytes: report.bytes,
        chainBytes: report.totalBytes,
        fullBytes: manifest?.generations[0]?.bytes ?? 0,
        fileBytes: statSync(storeFile).size,
        cpuMs: cpuMsNow() - capture.cpuMs,
        durationMs: report.durationMs,
      });
      inSnapshot = false;
    }
  };

  log(
    `  load: ${options.rate.toLocaleString('en-US')} writes/s (Zipf ${ZIPF_S}) for ${fmtMs(durationMs)}, ` +
      `snapshotInterval '${options.interval}'`,
  );
  const gc = { count: 0, maxMs: 0, totalMs: 0, majorCount: 0, majorMaxMs: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      gc.count++;
      gc.totalMs += entry.duration;
      gc.maxMs = Math.max(gc.maxMs, entry.duration);
      const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
      if (kind === NODE_PERFORMANCE_GC_MAJOR) {
        gc.majorCount++;
        gc.majorMaxMs = Math.max(gc.majorMaxMs, entry.duration);
      }
    }
  });
  gcObserver.observe({ entryTypes: ['gc'] });
  const cpuBefore = cpuMsNow();
  loadStartedAt = performance.now();
  const [load, loadStats] = await measure(() =>
    steadyLoad({ cache, dataset, trace, from: 0, rate: options.rate, durationMs, onTick: watch }),
  );
  const processCpuMs = cpuMsNow() - cpuBefore;
  const loadWallMs = performance.now() - loadStartedAt;
  gcObserver.disconnect();
  // Writes of the last second are held by the next commit: wait for it (a few intervals at most).
  const lastAck = load.batches > 0 ? load.ackedAt[load.batches - 1] : 0;
  const deadline = performance.now() + Math.max(10_000, 5 * intervalMs);
  while (!commits.some((c) => c.captureAtMs > lastAck) && performance.now() < deadline) {
    await new Promise((r) => setTimeout(r, 1));
    watch(performance.now() - loadStartedAt, 0);
  }
  keyspace.beginCapture = beginCapture;

  // The check: the same load with the interval stopped, after any snapshot still running.
  app.get(SchedulerRegistry).deleteInterval(getSnapshotIntervalName());
  await snapshots.snapshot();
  await settle();
  const baseCpuBefore = cpuMsNow();
  const baseStarted = performance.now();
  const baseLoad = await steadyLoad({
    cache,
    dataset,
    trace,
    from: load.writes,
    rate: options.rate,
    durationMs: baselineMs,
  });
  const baseline = {
    durationMs: performance.now() - baseStarted,
    processCpuMs: cpuMsNow() - baseCpuBefore,
    processCpuCores: 0,
    writes: baseLoad.writes,
  };
  baseline.processCpuCores = baseline.processCpuMs / baseline.durationMs;
  const distinctKeys = new Set(trace.subarray(0, load.writes)).size;
  await app.close();
  rmSync(dataDir, { recursive: true, force: true });

  // Commits during the load (the one after it included: it holds the load's last writes).
  const inLoad = commits.filter((c) => c.captureAtMs >= 0);
  // The data-loss window of each batch: to the commit of the first capture after its acknowledgement.
  const windows = new Float64Array(load.batches);
  const weights = new Uint32Array(load.batches);
  let counted = 0;
  let uncommitted = 0;
  let c = 0;
  for (let b = 0; b < load.batches; b++) {
    while (c < inLoad.length && inLoad[c].captureAtMs <= load.ackedAt[b]) c++;
    if (c === inLoad.length) {
      uncommitted += load.sizes[b];
      continue;
    }
    windows[counted] = inLoad[c].commitAtMs - load.sentAt[b];
    weights[counted] = load.sizes[b];
    counted++;
  }
  const windowMs = weightedDistribution(windows, weights, counted);

  const during = inLoad.filter((x) => x.commitAtMs <= loadWallMs);
  const inWindowMs = during.reduce((sum, x) => sum + (x.commitAtMs - x.captureAtMs), 0);
  const windowCpuMs = during.reduce((sum, x) => sum + x.cpuMs, 0);
  const outsideRate = (processCpuMs - windowCpuMs) / Math.max(1, loadWallMs - inWindowMs);
  const snapshotCpuMs = Math.max(0, windowCpuMs - outsideRate * inWindowMs);
  const withRate = processCpuMs / loadWallMs;
  const abCpuShare = ((withRate - baseline.processCpuCores) * loadWallMs) / processCpuMs;

  const fulls = during.filter((x) => x.kind === 'full');
  const fullEverySeconds =
    fulls.length >= 2
      ? (fulls[fulls.length - 1].captureAtMs - fulls[0].captureAtMs) / 1000 / (fulls.length - 1)
      : null;
  const fullSnapshotBytes = Math.max(
    first.kind === 'full' ? first.bytes : 0,
    ...inLoad.map((x) => x.fullBytes),
  );
  const files = [fileStart, ...inLoad.map((x) => x.fileBytes)];
  const fileBytes = {
    start: fileStart,
    min: Math.min(...files),
    max: Math.max(...files),
    end: files[files.length - 1],
  };
  const snapshotCpuShare = snapshotCpuMs / processCpuMs;
  const maxStall = Math.max(loadStats.eldMaxMs, loadStats.probeMaxGapMs);
  const result: RunResult = {
    dataset,
    keys,
    intervalMs,
    durationMs: loadWallMs,
    targetRate: options.rate,
    writes: load.writes,
    achievedRate: load.writes / (loadWallMs / 1000),
    distinctKeys,
    fillMs,
    load: loadStats,
    processCpuMs,
    processCpuCores: withRate,
    snapshotCpuMs,
    snapshotCpuShare,
    snapshotWindowCpuMs: windowCpuMs,
    baseline,
    abCpuShare,
    gc,
    maxGapInSnapshotMs: maxGapIn,
    maxGapOutsideMs: maxGapOut,
    windowMs,
    writesUncommitted: uncommitted,
    snapshots: during.length,
    fullSnapshots: fulls.length,
    fullEverySeconds,
    expectedSnapshots: Math.floor(loadWallMs / intervalMs),
    incrementalMs: distribution(
      during
        .filter((x) => x.kind === 'incremental')
        .map((x) => x.durationMs)
        .sort((a, b) => a - b),
    ),
    fullMs:
      fulls.length === 0
        ? null
        : distribution(fulls.map((x) => x.durationMs).sort((a, b) => a - b)),
    fullSnapshotBytes,
    fileBytes,
    fileVsFull: fileBytes.max / fullSnapshotBytes,
    commits: inLoad,
    goals: {
      snapshotCpuShare: snapshotCpuShare <= GOALS.snapshotCpuShare,
      maxStallMs: maxStall <= GOALS.maxStallMs,
      windowP99Ms: windowMs.p99 <= GOALS.windowP99Ms,
      fileVsFull: fileBytes.max / fullSnapshotBytes <= GOALS.fileVsFull,
    },
  };
  log(
    `  ${load.writes.toLocaleString('en-US')} writes (${distinctKeys.toLocaleString('en-US')} distinct keys), ` +
      `${during.length} snapshots (${fulls.length} full), process CPU ${fmtMs(processCpuMs)}`,
  );
  return result;
}

// ---- output ----------------------------------------------------------------------------------------------------

function fmtPct(share: number): string {
  return `${(share * 100).toFixed(1)}%`;
}

function printTables(results: RunResult[]): void {
  const name = (r: RunResult) => [r.dataset, r.keys.toLocaleString('en-US')];
  const dist = (d: Distribution) => `${fmtMs(d.p50)} / ${fmtMs(d.p99)} / ${fmtMs(d.max)}`;
  console.log('\nLoad and snapshots\n');
  console.log(
    table(
      [
        'dataset',
        'keys',
        'interval',
        'load',
        'writes/s',
        'snapshots',
        'full',
        'full every',
        'incr p50/p99/max',
        'full p50/max',
      ],
      results.map((r) => [
        ...name(r),
        fmtMs(r.intervalMs),
        fmtMs(r.durationMs),
        Math.round(r.achievedRate).toLocaleString('en-US'),
        `${r.snapshots} of ${r.expectedSnapshots}`,
        String(r.fullSnapshots),
        r.fullEverySeconds === null ? '-' : `${r.fullEverySeconds.toFixed(1)} s`,
        dist(r.incrementalMs),
        r.fullMs === null ? '-' : `${fmtMs(r.fullMs.p50)} / ${fmtMs(r.fullMs.max)}`,
      ]),
    ),
  );
  console.log('\nCPU, event loop and data-loss window\n');
  console.log(
    table(
      [
        'dataset',
        'keys',
        'process CPU',
        'snapshot CPU',
        'A/B check',
        'loop max',
        'loop p99',
        'gap in/out snapshots',
        'GC all/major, max, total',
        'window p50/p99/max',
      ],
      results.map((r) => [
        ...name(r),
        `${fmtMs(r.processCpuMs)} (${r.processCpuCores.toFixed(2)} cores)`,
        `${fmtMs(r.snapshotCpuMs)} = ${fmtPct(r.snapshotCpuShare)} ${mark(r.goals.snapshotCpuShare)}`,
        fmtPct(r.abCpuShare),
        `${Math.max(r.load.eldMaxMs, r.load.probeMaxGapMs).toFixed(1)} ms ${mark(r.goals.maxStallMs)}`,
        `${r.load.eldP99Ms.toFixed(1)} ms`,
        `${r.maxGapInSnapshotMs.toFixed(1)} / ${r.maxGapOutsideMs.toFixed(1)} ms`,
        `${r.gc.count} / ${r.gc.majorCount}, ${fmtMs(r.gc.maxMs)}, ${fmtMs(r.gc.totalMs)}`,
        `${dist(r.windowMs)} ${mark(r.goals.windowP99Ms)}`,
      ]),
    ),
  );
  console.log('\nStore file\n');
  console.log(
    table(
      [
        'dataset',
        'keys',
        'full snapshot',
        'file start',
        'file min',
        'file max',
        'file end',
        'max/full',
      ],
      results.map((r) => [
        ...name(r),
        fmtMB(r.fullSnapshotBytes),
        fmtMB(r.fileBytes.start),
        fmtMB(r.fileBytes.min),
        fmtMB(r.fileBytes.max),
        fmtMB(r.fileBytes.end),
        `${r.fileVsFull.toFixed(2)}× ${mark(r.goals.fileVsFull)}`,
      ]),
    ),
  );
  console.log(
    `\nGoals: snapshot CPU ≤ ${fmtPct(GOALS.snapshotCpuShare)} of the process's CPU during the load (CPU from ` +
      "each capture to its commit, less the load's own rate outside snapshots; the A/B check compares the CPU " +
      `rate with a phase of the same load with the interval stopped), event-loop max ≤ ${GOALS.maxStallMs} ms ` +
      `(histogram max or the timer probe's longest gap), p99 of the data-loss window ≤ ${GOALS.windowP99Ms} ms ` +
      '(from sending a write to the commit of the first capture after its acknowledgement), store file ≤ ' +
      `${GOALS.fileVsFull}× the full snapshot.`,
  );
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  if ((globalThis as { gc?: unknown }).gc === undefined) {
    log('note: run node with --expose-gc for steadier figures.');
  }
  const load = loadavg();
  const results: RunResult[] = [];
  for (const keys of options.keys) {
    const durationMs =
      options.durationMs ?? (keys < SMALL_RUN_KEYS ? SMALL_DURATION_MS : DEFAULT_DURATION_MS);
    for (const dataset of options.datasets) {
      log(`\n${dataset}, ${keys.toLocaleString('en-US')} keys`);
      results.push(await runOne(dataset, keys, options, durationMs));
      await settle();
    }
  }
  printTables(results);
  writeResults(options.out, {
    loadAverageAtStart: load,
    loadAverageAtEnd: loadavg(),
    goals: GOALS,
    zipfS: ZIPF_S,
    results,
  });
}

runBench(main);
