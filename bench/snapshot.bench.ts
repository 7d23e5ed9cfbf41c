/**
 * Snapshot benchmark: full and incremental snapshot, restore, event-loop stalls and memory of the embedded cache,
 * against redis-server's SAVE and load-on-restart for the same data when redis-server is on the PATH. It also
 * measures how long a restored cache takes to serve at full speed ("time to hot"): right after a restore into a
 * fresh app, a full read of every key (the first) and then a second one (steady); time to hot = restore + (first
 * read - steady read), the restore plus what the first read cost beyond a steady one.
 *
 *   npm run bench                                 # 100k and 1M keys, both datasets, with redis-server
 *   npm run bench -- --keys 10000                 # a small run (CI)
 *   npm run bench -- --keys 1000000 --datasets mixed --no-redis --out results.json
 */
import 'reflect-metadata';
import { Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { CACHE, PersistentCacheModule, SnapshotService, type SnapshotReport } from '../lib';
import type { Keyspace } from '../lib/keyspace/keyspace';
import { KEYSPACE } from '../lib/persistent-cache.constants';
import { ActiveExpiryService } from '../lib/persistent-cache.expiry';
import { STORE_FILE } from '../lib/store/data-dir';
import {
  changeOnePercent,
  DATASETS,
  fill,
  keyOf,
  kindOf,
  type DatasetName,
} from '../test/support/datasets';
import { parseBenchArgs } from './args';
import { cleanups, runBench } from './lifecycle';
import { writeResults } from './results';
import { measure, settle, settleAfterClose, type PhaseStats } from './monitor';
import { freePort } from '../test/support/free-port';
import {
  RedisServerProcess,
  redisServerOnPath,
  redisServerVersion,
} from '../test/support/redis-server';
import { log, fmtMs, fmtMB, mark, table as formatTable } from './format';
/** Tables with their first two columns (what the row is) aligned left. */
const table = (header: string[], rows: string[][]): string => formatTable(header, rows, 2);

/** Goals of the snapshot work (issue: "A million keys without a pause"). */
const GOALS = {
  fullVsSave: 1.0,
  restoreVsLoad: 1.0,
  incrementalVsFull: 0.05,
  maxStallMs: 20,
  rssGrowthShare: 0.25,
  /** Restore + (first full read - steady full read), over redis-server's load of the same data. */
  timeToHotVsLoad: 1.0,
  /** The keyspace's memory estimate (`usedBytes`) within this share of the measured dataset, either way. */
  estimateWithin: 0.25,
  /**
   * Bytes per key over redis-server's (growth of `used_memory` from filling it): ours after filling, and in a
   * restarted process after its restore and a read of every key.
   */
  bytesPerKeyVsRedis: 1.5,
} as const;

interface Options {
  keys: number[];
  datasets: DatasetName[];
  out: string;
  redis: boolean;
  warmup: boolean;
}

/**
 * Keys of the warm-up round (at most the smallest measured count): enough for V8 to compile the snapshot, restore and
 * codec paths of every type before anything is measured, as the measured rows after the first one otherwise are.
 */
const WARMUP_KEYS = 50_000;

interface OursResult {
  /** Keys in the cache after filling. */
  keys: number;
  fillMs: number;
  /** RSS growth from filling the cache, measured after a full GC on both sides, bytes. */
  datasetBytes: number;
  /**
   * The dataset's size: growth of V8's heap and external memory from filling the cache, after a full GC on both
   * sides, bytes. Unlike RSS, it does not depend on how much freed memory the process had kept from earlier runs.
   */
  datasetHeapBytes: number;
  /** The keyspace's estimate of the same (`usedBytes`, what the memory limit counts) after filling, bytes. */
  estimatedBytes: number;
  full: PhaseStats & { records: number; bytes: number };
  /**
   * After the full snapshot: the service's next step, which reads it back for its bytes to hold the keys unchanged
   * since (see `Keyspace.adopt`), and the dataset's size once that is done, measured as {@link datasetHeapBytes} is,
   * bytes: what the data costs the process that wrote it once its first snapshot is in.
   */
  adopt: PhaseStats;
  snapshottedHeapBytes: number;
  snapshottedEstimatedBytes: number;
  changedKeys: number;
  incremental: PhaseStats & { records: number; bytes: number };
  /**
   * Restore of the chain (full + incremental) into a freshly booted app on the same data directory, with the growth
   * of V8's heap and external memory from booting it and restoring (after a full GC on both sides), and the
   * keyspace's estimate after the restore (restored keys counted by their snapshot bytes until decoded), bytes.
   */
  restore: PhaseStats & { keys: number; datasetHeapBytes: number; estimatedBytes: number };
  /**
   * A second restore into a fresh app, followed at once by a full read of every key (the first read) and another
   * (the steady read), each in pipelines of {@link READ_PIPELINE} of the type's read command.
   */
  hot: HotResult;
  /**
   * A cache without persistence filled the same way, then left idle until its background packing (see
   * `Keyspace.pack`, `memory.packAfter` {@link PACK_AFTER_MS}) held every key as bytes: the time from the end of the
   * fill until then (the idle time included), with the event loop during it, the time spent packing, and the
   * dataset's size then, measured as {@link datasetHeapBytes} is: what the data costs a process that wrote it,
   * without a snapshot.
   */
  packed: PhaseStats & { packingMs: number; heapBytes: number };
  /** Size of the LMDB file after the incremental snapshot, bytes. */
  lmdbFileBytes: number;
  /** Bytes of snapshot data in the chain (full + incremental). */
  chainBytes: number;
}

/** `memory.packAfter` of the packed phase (the other phases' caches do not pack: their keys stay as written). */
const PACK_AFTER_MS = 1000;

/** Commands per pipeline of a full read. */
const READ_PIPELINE = 1000;

interface HotResult {
  /** The restore, with the event loop during it. */
  restore: PhaseStats;
  /** The first full read, started as soon as the restore resolved, with the event loop during it. */
  firstRead: PhaseStats;
  /** The second full read. */
  steadyRead: PhaseStats;
  /** restore + (first read - steady read), ms. */
  timeToHotMs: number;
  /**
   * Growth of V8's heap and external memory from booting the app, restoring and reading every key twice (after a
   * full GC on both sides), bytes: what the data costs a restarted process that serves it.
   */
  datasetHeapBytes: number;
}

/** What the warm-up round took: the first snapshot, incremental and restore of the process, V8 compiling as it goes. */
interface WarmupResult {
  dataset: DatasetName;
  keys: number;
  fullMs: number;
  incrementalMs: number;
  restoreMs: number;
}

interface RedisResult {
  version: string;
  keys: number;
  fillMs: number;
  usedMemoryDataset: number;
  /** Growth of `used_memory` from filling the server, bytes. */
  usedMemoryGrowth: number;
  /** Wall time of a `SAVE` command, ms. */
  saveMs: number;
  rdbBytes: number;
  /** From spawning redis-server on the dump until it answers PING (not LOADING), ms. */
  loadMs: number;
  /** What redis logged for the load ("DB loaded from disk"), ms. */
  loadLoggedMs: number | undefined;
  keysLoaded: number;
}

interface Ratios {
  fullVsSave?: number;
  restoreVsLoad?: number;
  timeToHotVsLoad?: number;
  incrementalVsFull: number;
  /**
   * Bytes per key over redis-server's: after filling, after the first (full) snapshot in the same process, and after a
   * restart, its restore and a read of every key.
   */
  bytesPerKeyVsRedis?: number;
  /** In a process without persistence, once its idle keys were packed. */
  packedBytesPerKeyVsRedis?: number;
  snapshottedBytesPerKeyVsRedis?: number;
  restartedBytesPerKeyVsRedis?: number;
  /** Largest stall (probe gap or histogram max) during the full snapshot, its adoption and the incremental one, ms. */
  snapshotMaxStallMs: number;
  /** Peak RSS growth during the full snapshot over the dataset size. */
  rssGrowthShare: number;
  /** The keyspace's estimate over the measured dataset: after filling, and after the restore. */
  estimateVsMeasured: number;
  restoredEstimateVsMeasured: number;
}

interface RunResult {
  dataset: DatasetName;
  keys: number;
  ours: OursResult;
  redis?: RedisResult;
  ratios: Ratios;
  /**
   * `estimateWithin` applies to both estimates: after filling, and (`restoredEstimateWithin`) after the restore.
   * `timeToHotVsLoad` holds when time to hot is within it and the restore before the reads held the event loop no
   * longer than `maxStallMs`.
   */
  goals: Record<
    | keyof typeof GOALS
    | 'restoredEstimateWithin'
    | 'packedBytesPerKeyVsRedis'
    | 'snapshottedBytesPerKeyVsRedis'
    | 'restartedBytesPerKeyVsRedis',
    boolean | null
  >;
}

function usage(): string {
  return [
    'Usage: npm run bench -- [--keys 100000,1000000] [--datasets strings,mixed] [--out <file>] [--no-redis] [--no-warmup]',
    '  --keys      comma-separated key counts (default 100000,1000000)',
    '  --datasets  comma-separated datasets among strings, mixed (default both)',
    '  --out       JSON output file (default bench-results/snapshot-<timestamp>.json)',
    '  --no-redis  skip the redis-server comparison (it runs when redis-server is on the PATH)',
    '  --no-warmup measure from a cold start (by default a small round of each dataset runs first, unmeasured)',
  ].join('\n');
}

function parseArgs(argv: string[]): Options {
  return parseBenchArgs(argv, {
    name: 'snapshot',
    usage,
    keys: [100_000, 1_000_000],
    datasets: [...DATASETS],
  });
}

@Module({})
class BenchModule {}

function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Boots a cache in `dataDir`, or without persistence; it packs idle keys only when `packAfter` is given. */
async function bootApp(
  dataDir: string | undefined,
  packAfter = 0,
): Promise<INestApplicationContext> {
  const root: DynamicModule = {
    module: BenchModule,
    imports: [
      PersistentCacheModule.forRoot({
        persistence:
          dataDir === undefined
            ? { enabled: false }
            : { dataDir, snapshotInterval: 0, snapshotOnShutdown: false, restoreOnStartup: false },
        memory: { packAfter },
      }),
    ],
  };
  const app = await NestFactory.createApplicationContext(root, { logger: ['error', 'warn'] });
  // Closed by the run, or by the cleanups if the run fails first; once closed, nothing keeps a reference to it.
  const close = app.close.bind(app);
  let closing: Promise<void> | undefined;
  const cleanup = (): Promise<void> => app.close();
  app.close = () => {
    if (closing === undefined) {
      closing = close();
      const at = cleanups.indexOf(cleanup);
      if (at >= 0) cleanups.splice(at, 1);
    }
    return closing;
  };
  cleanups.push(cleanup);
  return app;
}

function snapshotStats(
  stats: PhaseStats,
  report: SnapshotReport,
): PhaseStats & { records: number; bytes: number } {
  return { ...stats, records: report.records, bytes: report.bytes };
}

type SnapshotPhases = Omit<OursResult, 'restore' | 'hot' | 'packed'> & { keysAfterChange: number };

/** Resolves once the service has nothing running or queued. */
async function idle(snapshots: SnapshotService): Promise<void> {
  while (snapshots.busy) await new Promise((resolve) => setTimeout(resolve, 1));
}

/** Fills a cache, takes the full and the incremental snapshot, and closes the app. */
async function snapshotPhases(
  dataset: DatasetName,
  keys: number,
  dataDir: string,
): Promise<SnapshotPhases> {
  await settle();
  const rssBefore = process.memoryUsage.rss();
  const heapBefore = heapAndExternal();

  const app = await bootApp(dataDir);
  try {
    const cache = app.get<Redis>(CACHE);
    const snapshots = app.get(SnapshotService);

    let t = performance.now();
    await fill(cache, dataset, keys);
    const fillMs = performance.now() - t;
    const keyCount = await cache.dbsize();
    await settle();
    const datasetBytes = process.memoryUsage.rss() - rssBefore;
    const datasetHeapBytes = heapAndExternal() - heapBefore;
    const estimatedBytes = app.get<Keyspace>(KEYSPACE).usedBytes;
    log(
      `  filled ${keyCount} keys in ${fmtMs(fillMs)} (dataset ≈ ${fmtMB(datasetHeapBytes)} of V8 heap, ` +
        `${fmtMB(datasetBytes)} of RSS; estimated ${fmtMB(estimatedBytes)})`,
    );

    const [fullReport, fullStats] = await measure(() => snapshots.snapshot());
    if (fullReport.kind !== 'full') {
      throw new Error(`expected a full snapshot, got ${fullReport.kind}`);
    }
    log(`  full snapshot ${fmtMs(fullStats.ms)}, ${fullReport.records} records`);
    // The snapshot's promise resolves at its commit; the keys' adoption of its bytes is queued after it.
    const [, adopt] = await measure(() => idle(snapshots));
    log(`  its bytes adopted in ${fmtMs(adopt.ms)}`);
    await settle();
    const snapshottedHeapBytes = heapAndExternal() - heapBefore;
    const snapshottedEstimatedBytes = app.get<Keyspace>(KEYSPACE).usedBytes;
    log(
      `  after the full snapshot: dataset ≈ ${fmtMB(snapshottedHeapBytes)} of V8 heap; ` +
        `estimated ${fmtMB(snapshottedEstimatedBytes)}`,
    );

    t = performance.now();
    const changedKeys = await changeOnePercent(cache, dataset, keys);
    log(`  changed ${changedKeys} keys in ${fmtMs(performance.now() - t)}`);
    const keysAfterChange = await cache.dbsize();
    await settle();
    const [incReport, incStats] = await measure(() => snapshots.snapshot());
    if (incReport.kind !== 'incremental') {
      throw new Error(`expected an incremental snapshot, got ${incReport.kind}`);
    }
    log(`  incremental snapshot ${fmtMs(incStats.ms)}, ${incReport.records} records`);
    return {
      keys: keyCount,
      fillMs,
      datasetBytes,
      datasetHeapBytes,
      estimatedBytes,
      full: snapshotStats(fullStats, fullReport),
      adopt,
      snapshottedHeapBytes,
      snapshottedEstimatedBytes,
      changedKeys,
      incremental: snapshotStats(incStats, incReport),
      lmdbFileBytes: statSync(join(dataDir, STORE_FILE)).size,
      chainBytes: incReport.totalBytes,
      keysAfterChange,
    };
  } finally {
    await app.close();
  }
}

/** Boots a fresh app on `dataDir` and restores the chain into its empty cache (called on a settled process). */
async function restorePhase(dataDir: string, expectedKeys: number): Promise<OursResult['restore']> {
  const heapBefore = heapAndExternal();
  const app = await bootApp(dataDir);
  try {
    const [report, stats] = await measure(() => app.get(SnapshotService).restore());
    if (report === undefined) throw new Error('restore found no snapshot');
    const restoredKeys = await app.get<Redis>(CACHE).dbsize();
    if (restoredKeys !== expectedKeys) {
      throw new Error(`restored ${restoredKeys} keys, expected ${expectedKeys}`);
    }
    await settle();
    const datasetHeapBytes = heapAndExternal() - heapBefore;
    const estimatedBytes = app.get<Keyspace>(KEYSPACE).usedBytes;
    log(
      `  restore ${fmtMs(stats.ms)}, ${restoredKeys} keys (≈ ${fmtMB(datasetHeapBytes)} of V8 heap; ` +
        `estimated ${fmtMB(estimatedBytes)})`,
    );
    return { ...stats, keys: report.keys, datasetHeapBytes, estimatedBytes };
  } finally {
    await app.close();
  }
}

/** Reads every key `0` to `keys - 1` of `dataset` with its type's read, in pipelines; returns how many exist. */
async function readAll(cache: Redis, dataset: DatasetName, keys: number): Promise<number> {
  let found = 0;
  for (let from = 0; from < keys; from += READ_PIPELINE) {
    const p = cache.pipeline();
    for (let i = from, to = Math.min(keys, from + READ_PIPELINE); i < to; i++) {
      const key = keyOf(dataset, i);
      switch (kindOf(dataset, i)) {
        case 'string':
          p.get(key);
          break;
        case 'hash':
          p.hgetall(key);
          break;
        case 'list':
          p.lrange(key, 0, -1);
          break;
        case 'set':
          p.smembers(key);
          break;
        case 'zset':
          p.zrange(key, 0, -1, 'WITHSCORES');
          break;
      }
    }
    for (const [error, value] of (await p.exec()) ?? []) {
      if (error) throw error;
      const empty =
        value === null ||
        (Array.isArray(value) && value.length === 0) ||
        (typeof value === 'object' && Object.keys(value).length === 0);
      if (!empty) found++;
    }
  }
  return found;
}

/**
 * Boots a fresh app on `dataDir`, restores the chain, and reads every key at once, twice (called on a settled
 * process): what a restarted app serving at once goes through.
 */
async function hotPhase(
  dataset: DatasetName,
  keys: number,
  dataDir: string,
  expectedKeys: number,
): Promise<HotResult> {
  const heapBefore = heapAndExternal();
  const app = await bootApp(dataDir);
  try {
    const cache = app.get<Redis>(CACHE);
    const [report, restore] = await measure(() => app.get(SnapshotService).restore());
    if (report === undefined) throw new Error('restore found no snapshot');
    const [firstFound, firstRead] = await measure(() => readAll(cache, dataset, keys));
    const [steadyFound, steadyRead] = await measure(() => readAll(cache, dataset, keys));
    for (const found of [firstFound, steadyFound]) {
      if (found !== expectedKeys) throw new Error(`read ${found} keys, expected ${expectedKeys}`);
    }
    const timeToHotMs = restore.ms + (firstRead.ms - steadyRead.ms);
    await settle();
    const datasetHeapBytes = heapAndExternal() - heapBefore;
    log(
      `  restore ${fmtMs(restore.ms)}, then first full read ${fmtMs(firstRead.ms)}, steady full read ` +
        `${fmtMs(steadyRead.ms)}: time to hot ${fmtMs(timeToHotMs)}; ` +
        `${fmtMB(datasetHeapBytes)} of V8 heap after the reads`,
    );
    return { restore, firstRead, steadyRead, timeToHotMs, datasetHeapBytes };
  } finally {
    await app.close();
  }
}

/** Fills a cache without persistence, and waits until its background packing holds every key as bytes. */
async function packedPhase(dataset: DatasetName, keys: number): Promise<OursResult['packed']> {
  await settle();
  const heapBefore = heapAndExternal();
  const app = await bootApp(undefined, PACK_AFTER_MS);
  try {
    const cache = app.get<Redis>(CACHE);
    const keyspace = app.get<Keyspace>(KEYSPACE);
    await fill(cache, dataset, keys);
    const [, stats] = await measure(async () => {
      while (keyspace.packCandidates > 0) await new Promise((resolve) => setTimeout(resolve, 20));
    });
    const packingMs = app.get(ActiveExpiryService).packingMs;
    await settle();
    const heapBytes = heapAndExternal() - heapBefore;
    log(
      `  without persistence: every key packed ${fmtMs(stats.ms)} after the fill (${fmtMs(packingMs)} of ` +
        `packing, max stall ${fmtMs(stall(stats))}); dataset ≈ ${fmtMB(heapBytes)} of V8 heap`,
    );
    return { ...stats, packingMs, heapBytes };
  } finally {
    await app.close();
  }
}

async function runOurs(dataset: DatasetName, keys: number): Promise<OursResult> {
  const dataDir = tempDir('persistent-cache-bench-');
  const { keysAfterChange, ...snapshotResults } = await snapshotPhases(dataset, keys, dataDir);
  // The first app (and its keyspace) is unreachable now: the restore runs on a heap without it, as after a restart.
  await settleAfterClose();
  const restore = await restorePhase(dataDir, keysAfterChange);
  await settleAfterClose();
  const hot = await hotPhase(dataset, keys, dataDir, keysAfterChange);
  rmSync(dataDir, { recursive: true, force: true });
  await settleAfterClose();
  const packed = await packedPhase(dataset, keys);
  await settleAfterClose();
  return { ...snapshotResults, restore, hot, packed };
}

async function runRedis(binary: string, dataset: DatasetName, keys: number): Promise<RedisResult> {
  const dir = tempDir('persistent-cache-bench-redis-');
  const server = new RedisServerProcess(binary, dir, await freePort());
  cleanups.push(() => server.stop());
  await server.start();
  const client = server.requireClient();
  const usedBefore = Number((await server.info('memory')).used_memory);
  let t = performance.now();
  await fill(client, dataset, keys);
  const fillMs = performance.now() - t;
  const keyCount = await client.dbsize();
  const memory = await server.info('memory');
  log(`  redis: filled ${keyCount} keys in ${fmtMs(fillMs)}`);

  t = performance.now();
  await client.save();
  const saveMs = performance.now() - t;
  const rdbBytes = server.dumpSize();
  log(`  redis: SAVE ${fmtMs(saveMs)}`);
  await server.stop();

  const loadMs = await server.start();
  const persistence = await server.info('persistence');
  const keysLoaded = Number(
    persistence.rdb_last_load_keys_loaded ?? (await server.requireClient().dbsize()),
  );
  const logged = server.loadSecondsFromLog;
  log(`  redis: load on restart ${fmtMs(loadMs)} (logged ${logged ?? '?'} s), ${keysLoaded} keys`);
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  return {
    version: redisServerVersion(binary),
    keys: keyCount,
    fillMs,
    usedMemoryDataset: Number(memory.used_memory_dataset ?? 0),
    usedMemoryGrowth: Number(memory.used_memory) - usedBefore,
    saveMs,
    rdbBytes,
    loadMs,
    loadLoggedMs: logged === undefined ? undefined : logged * 1000,
    keysLoaded,
  };
}

function heapAndExternal(): number {
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

const stall = (s: PhaseStats): number => Math.max(s.probeMaxGapMs, s.eldMaxMs);

/** Whether `ratio` is within `goal`; `null` when there is nothing to compare with. */
const atMost = (ratio: number | undefined, goal: number): boolean | null =>
  ratio === undefined ? null : ratio <= goal;

function evaluate(
  dataset: DatasetName,
  keys: number,
  ours: OursResult,
  redis: RedisResult | undefined,
): RunResult {
  const ratios: Ratios = {
    fullVsSave: redis ? ours.full.ms / redis.saveMs : undefined,
    restoreVsLoad: redis ? ours.restore.ms / redis.loadMs : undefined,
    timeToHotVsLoad: redis ? ours.hot.timeToHotMs / redis.loadMs : undefined,
    incrementalVsFull: ours.incremental.ms / ours.full.ms,
    bytesPerKeyVsRedis: redis ? ours.datasetHeapBytes / redis.usedMemoryGrowth : undefined,
    packedBytesPerKeyVsRedis: redis ? ours.packed.heapBytes / redis.usedMemoryGrowth : undefined,
    snapshottedBytesPerKeyVsRedis: redis
      ? ours.snapshottedHeapBytes / redis.usedMemoryGrowth
      : undefined,
    restartedBytesPerKeyVsRedis: redis
      ? ours.hot.datasetHeapBytes / redis.usedMemoryGrowth
      : undefined,
    snapshotMaxStallMs: Math.max(stall(ours.full), stall(ours.adopt), stall(ours.incremental)),
    rssGrowthShare: ours.full.rssGrowth / ours.datasetHeapBytes,
    estimateVsMeasured: ours.estimatedBytes / ours.datasetHeapBytes,
    restoredEstimateVsMeasured: ours.restore.estimatedBytes / ours.restore.datasetHeapBytes,
  };
  const withinBand = (ratio: number) => Math.abs(ratio - 1) <= GOALS.estimateWithin;
  return {
    dataset,
    keys,
    ours,
    redis,
    ratios,
    goals: {
      fullVsSave: ratios.fullVsSave === undefined ? null : ratios.fullVsSave <= GOALS.fullVsSave,
      restoreVsLoad:
        ratios.restoreVsLoad === undefined ? null : ratios.restoreVsLoad <= GOALS.restoreVsLoad,
      timeToHotVsLoad:
        ratios.timeToHotVsLoad === undefined
          ? null
          : ratios.timeToHotVsLoad <= GOALS.timeToHotVsLoad &&
            stall(ours.hot.restore) <= GOALS.maxStallMs,
      incrementalVsFull: ratios.incrementalVsFull <= GOALS.incrementalVsFull,
      maxStallMs: ratios.snapshotMaxStallMs <= GOALS.maxStallMs,
      rssGrowthShare: ratios.rssGrowthShare <= GOALS.rssGrowthShare,
      estimateWithin: withinBand(ratios.estimateVsMeasured),
      restoredEstimateWithin: withinBand(ratios.restoredEstimateVsMeasured),
      bytesPerKeyVsRedis: atMost(ratios.bytesPerKeyVsRedis, GOALS.bytesPerKeyVsRedis),
      packedBytesPerKeyVsRedis: atMost(ratios.packedBytesPerKeyVsRedis, GOALS.bytesPerKeyVsRedis),
      snapshottedBytesPerKeyVsRedis: atMost(
        ratios.snapshottedBytesPerKeyVsRedis,
        GOALS.bytesPerKeyVsRedis,
      ),
      restartedBytesPerKeyVsRedis: atMost(
        ratios.restartedBytesPerKeyVsRedis,
        GOALS.bytesPerKeyVsRedis,
      ),
    },
  };
}

// ---- output ----------------------------------------------------------------------------------------------------

function fmtRatio(r: number | undefined): string {
  return r === undefined ? '-' : `${r.toFixed(2)}×`;
}

function printTables(results: RunResult[]): void {
  const name = (r: RunResult) => [r.dataset, r.keys.toLocaleString('en-US')];
  console.log('\nTimes (ours vs redis-server)\n');
  console.log(
    table(
      [
        'dataset',
        'keys',
        'full',
        'SAVE',
        'full/SAVE',
        'adoption',
        'incr (1%)',
        'incr/full',
        'restore',
        'load',
        'restore/load',
      ],
      results.map((r) => [
        ...name(r),
        fmtMs(r.ours.full.ms),
        r.redis ? fmtMs(r.redis.saveMs) : '-',
        `${fmtRatio(r.ratios.fullVsSave)} ${mark(r.goals.fullVsSave)}`,
        fmtMs(r.ours.adopt.ms),
        fmtMs(r.ours.incremental.ms),
        `${fmtRatio(r.ratios.incrementalVsFull)} ${mark(r.goals.incrementalVsFull)}`,
        fmtMs(r.ours.restore.ms),
        r.redis ? fmtMs(r.redis.loadMs) : '-',
        `${fmtRatio(r.ratios.restoreVsLoad)} ${mark(r.goals.restoreVsLoad)}`,
      ]),
    ),
  );
  console.log(
    '\nTime to hot: restore, then a full read of every key at once (first) and again (steady); ' +
      'time to hot = restore + (first - steady)\n',
  );
  console.log(
    table(
      [
        'dataset',
        'keys',
        'restore',
        'first read',
        'steady read',
        'time to hot',
        'load',
        'hot/load',
        'restore stall',
        'first-read stall',
      ],
      results.map((r) => [
        ...name(r),
        fmtMs(r.ours.hot.restore.ms),
        fmtMs(r.ours.hot.firstRead.ms),
        fmtMs(r.ours.hot.steadyRead.ms),
        fmtMs(r.ours.hot.timeToHotMs),
        r.redis ? fmtMs(r.redis.loadMs) : '-',
        `${fmtRatio(r.ratios.timeToHotVsLoad)} ${mark(r.goals.timeToHotVsLoad)}`,
        `${stall(r.ours.hot.restore).toFixed(1)} ms`,
        `${stall(r.ours.hot.firstRead).toFixed(1)} ms`,
      ]),
    ),
  );
  console.log('\nEvent-loop delay, ms: probe max gap / histogram max / histogram p99\n');
  const delay = (s: PhaseStats) =>
    `${s.probeMaxGapMs.toFixed(1)} / ${s.eldMaxMs.toFixed(1)} / ${s.eldP99Ms.toFixed(1)}`;
  console.log(
    table(
      [
        'dataset',
        'keys',
        'full',
        'adoption',
        'incremental',
        'restore',
        'packing (no persistence)',
        'max stall (snapshots)',
      ],
      results.map((r) => [
        ...name(r),
        delay(r.ours.full),
        delay(r.ours.adopt),
        delay(r.ours.incremental),
        delay(r.ours.restore),
        delay(r.ours.packed),
        `${r.ratios.snapshotMaxStallMs.toFixed(1)} ${mark(r.goals.maxStallMs)}`,
      ]),
    ),
  );
  console.log('\nMemory and files\n');
  console.log(
    table(
      [
        'dataset',
        'keys',
        'dataset (V8)',
        'redis dataset',
        'RSS growth full',
        'share',
        'peak RSS full',
        'RSS growth restore',
        'LMDB file',
        'chain',
        'RDB',
      ],
      results.map((r) => [
        ...name(r),
        fmtMB(r.ours.datasetHeapBytes),
        r.redis ? fmtMB(r.redis.usedMemoryDataset) : '-',
        fmtMB(r.ours.full.rssGrowth),
        `${(r.ratios.rssGrowthShare * 100).toFixed(1)}% ${mark(r.goals.rssGrowthShare)}`,
        fmtMB(r.ours.full.rssPeak),
        fmtMB(r.ours.restore.rssGrowth),
        fmtMB(r.ours.lmdbFileBytes),
        fmtMB(r.ours.chainBytes),
        r.redis ? fmtMB(r.redis.rdbBytes) : '-',
      ]),
    ),
  );
  console.log(
    '\nBytes per key: ours (V8 heap + external) after filling, in a process without persistence once its idle keys ' +
      `were packed (memory.packAfter ${PACK_AFTER_MS} ms), in the same process as the first after its first (full) ` +
      "snapshot, and in a restarted process after its restore and two reads of every key; redis-server's " +
      'used_memory growth from filling it\n',
  );
  const perKey = (bytes: number, keys: number) => (bytes / keys).toFixed(0);
  console.log(
    table(
      [
        'dataset',
        'keys',
        'ours filled',
        'packed',
        'snapshotted',
        'restarted',
        'redis',
        'filled/redis',
        'packed/redis',
        'snapshotted/redis',
        'restarted/redis',
      ],
      results.map((r) => [
        ...name(r),
        perKey(r.ours.datasetHeapBytes, r.ours.keys),
        perKey(r.ours.packed.heapBytes, r.ours.keys),
        perKey(r.ours.snapshottedHeapBytes, r.ours.keys),
        perKey(r.ours.hot.datasetHeapBytes, r.ours.keys),
        r.redis ? perKey(r.redis.usedMemoryGrowth, r.redis.keys) : '-',
        `${fmtRatio(r.ratios.bytesPerKeyVsRedis)} ${mark(r.goals.bytesPerKeyVsRedis)}`,
        `${fmtRatio(r.ratios.packedBytesPerKeyVsRedis)} ${mark(r.goals.packedBytesPerKeyVsRedis)}`,
        `${fmtRatio(r.ratios.snapshottedBytesPerKeyVsRedis)} ${mark(r.goals.snapshottedBytesPerKeyVsRedis)}`,
        `${fmtRatio(r.ratios.restartedBytesPerKeyVsRedis)} ${mark(r.goals.restartedBytesPerKeyVsRedis)}`,
      ]),
    ),
  );
  console.log(
    "\nMemory estimate: the keyspace's usedBytes against the measured dataset (V8 heap + external)\n",
  );
  console.log(
    table(
      [
        'dataset',
        'keys',
        'estimate',
        'measured',
        'estimate/measured',
        'restored: estimate',
        'measured',
        'estimate/measured',
      ],
      results.map((r) => [
        ...name(r),
        fmtMB(r.ours.estimatedBytes),
        fmtMB(r.ours.datasetHeapBytes),
        `${fmtRatio(r.ratios.estimateVsMeasured)} ${mark(r.goals.estimateWithin)}`,
        fmtMB(r.ours.restore.estimatedBytes),
        fmtMB(r.ours.restore.datasetHeapBytes),
        `${fmtRatio(r.ratios.restoredEstimateVsMeasured)} ${mark(r.goals.restoredEstimateWithin)}`,
      ]),
    ),
  );
  console.log(
    `\nGoals: full ≤ ${GOALS.fullVsSave}× SAVE, restore ≤ ${GOALS.restoreVsLoad}× load, time to hot ≤ ` +
      `${GOALS.timeToHotVsLoad}× load (with the restore's stall ≤ ${GOALS.maxStallMs} ms), incremental ≤ ` +
      `${GOALS.incrementalVsFull}× full, max stall ≤ ${GOALS.maxStallMs} ms, RSS growth ≤ ` +
      `${GOALS.rssGrowthShare * 100}% of the dataset (dataset = growth of V8's heap and external memory from ` +
      'filling the cache, after GC), memory estimate within ±' +
      `${GOALS.estimateWithin * 100}% of the dataset after filling and after the restore (restored: growth from ` +
      'booting the app and restoring, after GC), bytes per key ≤ ' +
      `${GOALS.bytesPerKeyVsRedis}× redis-server's, filled, packed, snapshotted and restarted.`,
  );
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const redis = options.redis ? redisServerOnPath() : undefined;
  if (options.redis && redis === undefined) {
    log('redis-server is not on the PATH: skipping the comparison.');
  }
  if ((globalThis as { gc?: unknown }).gc === undefined) {
    log('note: run node with --expose-gc for steadier memory figures.');
  }
  const warmup: WarmupResult[] = [];
  if (options.warmup) {
    const keys = Math.min(WARMUP_KEYS, ...options.keys);
    for (const dataset of options.datasets) {
      log(`\nwarm-up (not measured): ${dataset}, ${keys.toLocaleString('en-US')} keys`);
      const ours = await runOurs(dataset, keys);
      warmup.push({
        dataset,
        keys,
        fullMs: ours.full.ms,
        incrementalMs: ours.incremental.ms,
        restoreMs: ours.restore.ms,
      });
    }
  }
  const results: RunResult[] = [];
  for (const keys of options.keys) {
    for (const dataset of options.datasets) {
      log(`\n${dataset}, ${keys.toLocaleString('en-US')} keys`);
      const ours = await runOurs(dataset, keys);
      const redisResult = redis === undefined ? undefined : await runRedis(redis, dataset, keys);
      results.push(evaluate(dataset, keys, ours, redisResult));
      await settle();
    }
  }
  printTables(results);
  writeResults(options.out, {
    goals: GOALS,
    warmup,
    results,
  });
}

runBench(main);
