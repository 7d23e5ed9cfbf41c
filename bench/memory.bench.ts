/**
 * Memory benchmark: the embedded cache's memory limit (Redis's `maxmemory` and eviction policies) and active expiry,
 * in three parts, against redis-server with the same limits when it is on the PATH.
 *
 *   soak        `keys` long-lived keys, then 5 × `keys` writes with a 1 s TTL spread over 60 s × keys / 1M (at
 *               least 3 s): event-loop delay, heap over the run, CPU share of active expiry, keys expired at the end.
 *   eviction    a Zipf(0.99) trace of 5 × `keys` requests over `keys` keys (GET, and SET on a miss) with room for
 *               10% of them, under allkeys-lru and allkeys-lfu: hit ratio against redis-server's and an exact LRU's.
 *   throughput  SET of `keys` distinct keys without a limit, then with maxmemory at 30% of what they took
 *               (allkeys-lru, evicting throughout): writes/s of both, median of 3 runs of each, alternated.
 *
 * `--keys` scales every part (default 1M; CI runs 10k, about half a minute).
 *
 *   npm run bench                                    # this and the snapshot benchmark (bench/run.ts), 1M keys
 *   npm run bench -- --keys 10000                    # a small run (CI)
 *   npm run build && node --expose-gc dist/bench/memory.bench.js --keys 100k --parts eviction --no-redis
 *
 * Figures are printed against the goals (GOALS), not asserted: the run fails only when something breaks.
 */
import 'reflect-metadata';
import { Module, type DynamicModule, type INestApplicationContext } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { ChainableCommander, Redis } from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import {
  CACHE,
  PersistentCacheModule,
  type MemoryOptions,
  type PersistentCacheModuleOptions,
} from '../lib';
import type { Keyspace } from '../lib/keyspace/keyspace';
import { KEYSPACE } from '../lib/persistent-cache.constants';
import { ActiveExpiryService } from '../lib/persistent-cache.expiry';
import { freePort } from '../test/support/free-port';
import {
  RedisServerProcess,
  redisServerOnPath,
  redisServerVersion,
} from '../test/support/redis-server';
import { parseBenchArgs } from './args';
import { cleanups, runBench } from './lifecycle';
import { writeResults } from './results';
import { settle } from './monitor';
import { exactLruHits, zipfTopShare, zipfTrace } from './trace';
import { log, fmtMs, fmtMB, mark, table } from './format';

/** Goals of the memory-limit work (Redis semantics for `maxmemory`, eviction and expiry). */
const GOALS = {
  /** Largest event-loop delay during the TTL soak outside the write batches, ms. */
  soakMaxDelayMs: 10,
  /** Share of the TTL writes expired (and gone) once their TTL has passed. */
  soakExpiredShare: 1,
  /** Hit ratio of ours minus redis-server's on the same trace and limit, points: at least this. */
  hitRatioVsRedisPoints: -1,
  /** Writes/s while evicting over writes/s without a limit: at least this. */
  evictingThroughputRatio: 0.8,
} as const;

const PARTS = ['soak', 'eviction', 'throughput'] as const;
type Part = (typeof PARTS)[number];

const POLICIES = ['allkeys-lru', 'allkeys-lfu'] as const;
type Policy = (typeof POLICIES)[number];

/** TTL soak: TTL writes per key, their TTL, how long they are spread over at 1M keys, the pacing. */
const SOAK_WRITES_PER_KEY = 5;
const SOAK_TTL_MS = 1000;
const SOAK_MS_PER_MILLION = 60_000;
const SOAK_MIN_MS = 3000;
const SOAK_TICK_MS = 10;
/** How long after the last TTL has passed the soak ends. */
const SOAK_TAIL_MS = 2000;
const HEAP_SAMPLE_MS = 250;

/** Eviction: the trace, and the limit as a share of the keys. */
const ZIPF_S = 0.99;
const TRACE_SEED = 0x5eed;
const TRACE_REQUESTS_PER_KEY = 5;
const CAPACITY_SHARE = 0.1;
/**
 * Requests per batch (GETs pipelined, then the misses' SETs pipelined): 1000, but at most 1% of the capacity, so that
 * the batch's replies and pending SETs, which redis-server counts in `used_memory`, stay small next to the limit.
 */
const TRACE_BATCH_MAX = 1000;
const TRACE_BATCH_MIN = 10;

/** Throughput: the limit as a share of what the unlimited run took, and runs of each kind. */
const THROUGHPUT_CAP_SHARE = 0.3;
const THROUGHPUT_RUNS = 3;
/** Unmeasured fills go on for at least this long first (one of each kind at least), ms. */
const THROUGHPUT_WARMUP_MS = 2000;

/** Commands per pipeline when filling. */
const FILL_BATCH = 1000;
const VALUE_BYTES = 100;
const TTL_VALUE_BYTES = 200;

interface Options {
  keys: number[];
  parts: Part[];
  out: string;
  redis: boolean;
  warmup: boolean;
}

// ---- results ---------------------------------------------------------------------------------------------------

interface SoakResult {
  keys: number;
  ttlWrites: number;
  ttlMs: number;
  /** Time the TTL writes were meant to be spread over, and what they took, ms. */
  plannedWriteMs: number;
  writeMs: number;
  writeBatches: number;
  writeBatchMaxMs: number;
  /** From the first TTL write until `SOAK_TAIL_MS` after the last one expired, ms. */
  runMs: number;
  /** `monitorEventLoopDelay({ resolution: 1 })` over the whole run, ms (the write batches block the loop too). */
  eldMaxMs: number;
  eldP99Ms: number;
  /** The same from the last write to the end: expiry (and GC) alone. */
  eldAfterWritesMaxMs: number;
  eldAfterWritesP99Ms: number;
  /** A 1 ms timer chain: largest and p99 gap between callbacks during which no write batch ran, ms. */
  probeMaxGapOutsideWritesMs: number;
  probeP99GapOutsideWritesMs: number;
  probeGapsOutsideWrites: number;
  /** Garbage collections during the run (PerformanceObserver `gc`): count, longest pause and total, ms. */
  gcCount: number;
  gcMaxPauseMs: number;
  gcTotalMs: number;
  /**
   * V8 heap + external memory: before the app booted, after the fill (both after a GC), highest sampled over the
   * run, and at the end after a GC, bytes.
   */
  heapBaseline: number;
  heapStart: number;
  heapMax: number;
  heapEnd: number;
  /** Most keys sampled in the keyspace, and how many the TTL writes alone keep alive at their rate. */
  keyspaceMaxSize: number;
  steadyStateKeys: number;
  /** `busyMs` of active expiry over the run, ms, and its share of the run's wall time. */
  expiryBusyMs: number;
  expiryCpuShare: number;
  /** Keys expired over the run (the keyspace's counter), and `DBSIZE` at the end. */
  expiredKeys: number;
  dbsizeEnd: number;
  /** `expired_keys` of `INFO stats` at the end. */
  expiredKeysInfo: number;
}

interface EvictionRun {
  policy: Policy;
  maxmemory: number;
  hits: number;
  hitRatio: number;
  /** `DBSIZE` at the end: the keys the limit held. */
  keysHeld: number;
  evictedKeys: number;
  usedMemoryEnd: number;
  ms: number;
  /** Exact LRU with room for `keysHeld` keys, on the same trace and batches. */
  exactLruHitRatio: number;
}

interface EvictionSide {
  /** `used_memory` empty, and its growth per key from a fill of the capacity's keys, bytes. */
  emptyBytes: number;
  perKeyBytes: number;
  runs: EvictionRun[];
}

interface EvictionResult {
  keys: number;
  requests: number;
  capacityKeys: number;
  batch: number;
  zipfS: number;
  seed: number;
  /** Observed share of the most requested key, and Zipf's. */
  topKeyShare: number;
  topKeyShareExpected: number;
  /** Exact LRU with room for `capacityKeys`, batched as the caches are, and sequential. */
  exactLruHitRatio: number;
  exactLruSequentialHitRatio: number;
  ours: EvictionSide;
  redis: EvictionSide | null;
  /** Per policy: ours − redis, points, and whether the goal is met (null: without redis-server). */
  comparison: { policy: Policy; diffPoints: number | null; goal: boolean | null }[];
}

interface ThroughputSide {
  /** Writes/s of the unmeasured warm-up fills, unlimited and limited alternately (none with --no-warmup). */
  warmupWritesPerSec: number[];
  /** Writes/s of each run without a limit, and their median. */
  unlimitedWritesPerSec: number[];
  unlimitedMedian: number;
  /** `used_memory` growth of the unlimited fills (median), and `used_memory` empty, bytes. */
  datasetBytes: number;
  emptyBytes: number;
  /** `keysHeld` and `evictedKeys`: of the last run. */
  capped: {
    maxmemory: number;
    writesPerSec: number[];
    median: number;
    keysHeld: number;
    evictedKeys: number;
  };
  ratio: number;
}

interface ThroughputResult {
  keys: number;
  ours: ThroughputSide;
  redis: ThroughputSide | null;
  goal: boolean;
}

// ---- arguments -------------------------------------------------------------------------------------------------

function usage(): string {
  return [
    'Usage: node dist/bench/memory.bench.js [--keys 1000000] [--parts soak,eviction,throughput] [--out <file>] [--no-redis]',
    '  --keys      comma-separated key counts (default 1000000); every part scales with it',
    '  --parts     comma-separated parts among soak, eviction, throughput (default all)',
    '  --out       JSON output file (default bench-results/memory-<timestamp>.json)',
    '  --no-redis  skip the redis-server comparison (it runs when redis-server is on the PATH)',
    '  --no-warmup measure throughput from a cold start (by default unmeasured fills run first, for 2 s at least)',
    '  --datasets  accepted and ignored (an option of the snapshot benchmark, which bench/run.ts shares)',
  ].join('\n');
}

function parseArgs(argv: string[]): Options {
  let parts: Part[] = [...PARTS];
  const { keys, out, redis, warmup } = parseBenchArgs(argv, {
    name: 'memory',
    usage,
    keys: [1_000_000],
    minKeys: 100,
    option: (name, value) => {
      if (name !== '--parts') return false;
      parts = value()
        .split(',')
        .map((s) => {
          const p = s.trim() as Part;
          if (!PARTS.includes(p)) {
            throw new Error(`--parts: "${s}" is not one of ${PARTS.join(', ')}`);
          }
          return p;
        });
      return true;
    },
  });
  return { keys, parts, out, redis, warmup };
}

// ---- the caches ------------------------------------------------------------------------------------------------

@Module({})
class BenchModule {}

/** An in-memory cache (no persistence), with a memory limit when `memory` is given. */
async function bootApp(memory?: MemoryOptions): Promise<INestApplicationContext> {
  const options: PersistentCacheModuleOptions = {
    persistence: { enabled: false },
    ...(memory === undefined ? {} : { memory }),
  };
  const root: DynamicModule = {
    module: BenchModule,
    imports: [PersistentCacheModule.forRoot(options)],
  };
  // abortOnError: false, or Nest would exit the process on a rejected option instead of throwing.
  const app = await NestFactory.createApplicationContext(root, {
    logger: ['error', 'warn'],
    abortOnError: false,
  });
  // Closed by the run, or by the cleanups if the run fails first.
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

async function startRedis(binary: string): Promise<RedisServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'persistent-cache-bench-redis-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const server = new RedisServerProcess(binary, dir, await freePort());
  cleanups.push(() => server.stop());
  await server.start(10_000);
  return server;
}

// ---- commands --------------------------------------------------------------------------------------------------

/** The fields of an `INFO` answer (`name:value\r\n` lines). */
function parseInfo(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const at = line.indexOf(':');
    if (at > 0 && !line.startsWith('#')) fields[line.slice(0, at)] = line.slice(at + 1).trim();
  }
  return fields;
}

/** A numeric field of `INFO <section>`; throws when the answer does not have it. */
async function infoNumber(client: Redis, section: string, field: string): Promise<number> {
  const raw = parseInfo(await client.info(section))[field];
  const n = Number(raw);
  if (raw === undefined || raw === '' || !Number.isFinite(n)) {
    throw new Error(`INFO ${section} has no numeric ${field} (got ${raw})`);
  }
  return n;
}

async function usedMemory(client: Redis): Promise<number> {
  return infoNumber(client, 'memory', 'used_memory');
}

async function configSet(client: Redis, name: string, value: string | number): Promise<void> {
  await client.config('SET', name, String(value));
}

/** Runs a pipeline; throws the first command error. */
async function execAll(pipeline: ChainableCommander): Promise<unknown[]> {
  const replies = (await pipeline.exec()) ?? [];
  return replies.map(([error, reply]) => {
    if (error) throw error;
    return reply;
  });
}

/** A value of `bytes` characters, distinct for each key (no two keys share a string). */
function valueOf(tag: string, n: number, bytes: number): string {
  return `${tag}${n}:`.padEnd(bytes, 'x');
}

/** `SET key(n) value(n)` for each `n` of `ids`, in pipelines of {@link FILL_BATCH}. */
async function fillKeys(
  client: Redis,
  count: number,
  key: (i: number) => string,
  value: (i: number) => string,
): Promise<void> {
  for (let start = 0; start < count; start += FILL_BATCH) {
    const pipeline = client.pipeline();
    for (let i = start; i < Math.min(count, start + FILL_BATCH); i++)
      pipeline.set(key(i), value(i));
    await execAll(pipeline);
  }
}

function heapAndExternal(): number {
  const { heapUsed, external } = process.memoryUsage();
  return heapUsed + external;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const yieldToLoop = () => new Promise<void>((resolve) => setImmediate(resolve));

function median(values: number[]): number {
  const sorted = values.slice().sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

// ---- 1. TTL soak -----------------------------------------------------------------------------------------------

async function runSoak(keys: number): Promise<SoakResult> {
  await settle();
  const heapBaseline = heapAndExternal();
  const app = await bootApp();
  try {
    const cache = app.get<Redis>(CACHE);
    const keyspace = app.get<Keyspace>(KEYSPACE);
    const expiry = app.get(ActiveExpiryService);
    const valueLong = (n: number) => valueOf('long', n, VALUE_BYTES);
    const t = performance.now();
    await fillKeys(cache, keys, (n) => `long:${n}`, valueLong);
    log(
      `  filled ${keys.toLocaleString('en-US')} long-lived keys in ${fmtMs(performance.now() - t)}`,
    );
    await settle();
    const heapStart = heapAndExternal();
    const expiredStart = keyspace.expiredKeys;

    const ttlWrites = SOAK_WRITES_PER_KEY * keys;
    const plannedWriteMs = Math.max(SOAK_MIN_MS, (SOAK_MS_PER_MILLION * keys) / 1_000_000);
    /** Writes per pipeline at most; when behind, the next batch follows at once. */
    const maxBatch = Math.max(
      FILL_BATCH,
      Math.ceil((ttlWrites * SOAK_TICK_MS * 4) / plannedWriteMs),
    );

    // Heap and keyspace size every HEAP_SAMPLE_MS.
    let heapMax = heapStart;
    let keyspaceMaxSize = keyspace.size;
    const sampler = setInterval(() => {
      heapMax = Math.max(heapMax, heapAndExternal());
      keyspaceMaxSize = Math.max(keyspaceMaxSize, keyspace.size);
    }, HEAP_SAMPLE_MS);

    // A 1 ms timer chain: a gap counts as "outside writes" when no write batch ran at any time within it.
    let writing = false;
    let batchesStarted = 0;
    const cleanGaps: number[] = [];
    let probing = true;
    let last = performance.now();
    let lastBatches = 0;
    let lastWriting = false;
    let probeTimer: NodeJS.Timeout | undefined;
    const tick = (): void => {
      const now = performance.now();
      if (!lastWriting && !writing && batchesStarted === lastBatches) cleanGaps.push(now - last);
      last = now;
      lastBatches = batchesStarted;
      lastWriting = writing;
      if (probing) probeTimer = setTimeout(tick, 1);
    };
    probeTimer = setTimeout(tick, 1);

    const gcPauses: number[] = [];
    const gcObserver = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) gcPauses.push(entry.duration);
    });
    gcObserver.observe({ entryTypes: ['gc'] });
    const eld = monitorEventLoopDelay({ resolution: 1 });
    eld.enable();
    const busyStart = expiry.busyMs;
    const started = performance.now();
    let issued = 0;
    let writeBatches = 0;
    let writeBatchMaxMs = 0;
    while (issued < ttlWrites) {
      const due = Math.min(
        ttlWrites,
        Math.ceil((ttlWrites * (performance.now() - started)) / plannedWriteMs),
      );
      if (due > issued) {
        const end = Math.min(due, issued + maxBatch);
        writing = true;
        batchesStarted++;
        const batchStart = performance.now();
        const pipeline = cache.pipeline();
        for (let n = issued; n < end; n++) {
          pipeline.set(`ttl:${n}`, valueOf('ttl', n, TTL_VALUE_BYTES), 'PX', SOAK_TTL_MS);
        }
        await execAll(pipeline);
        writing = false;
        writeBatchMaxMs = Math.max(writeBatchMaxMs, performance.now() - batchStart);
        writeBatches++;
        issued = end;
      }
      if (issued < ttlWrites) {
        if (issued < due) await yieldToLoop();
        else await sleep(SOAK_TICK_MS);
      }
    }
    const lastWriteAt = performance.now();
    const writeMs = lastWriteAt - started;
    const eldAfter = monitorEventLoopDelay({ resolution: 1 });
    eldAfter.enable();
    log(
      `  ${ttlWrites.toLocaleString('en-US')} TTL writes in ${fmtMs(writeMs)} ` +
        `(planned ${fmtMs(plannedWriteMs)}), ${writeBatches} batches`,
    );
    if (writeMs > 1.1 * plannedWriteMs) {
      log(
        '  WARNING: the writes fell behind their schedule: they saturate the process, and the expiry and delay ' +
          'figures are those of an overloaded cache',
      );
    }
    await sleep(SOAK_TTL_MS + SOAK_TAIL_MS);
    const runMs = performance.now() - started;
    const busyEnd = expiry.busyMs;
    eld.disable();
    eldAfter.disable();
    gcObserver.disconnect();
    probing = false;
    clearTimeout(probeTimer);
    clearInterval(sampler);
    heapMax = Math.max(heapMax, heapAndExternal());

    const expiredKeys = keyspace.expiredKeys - expiredStart;
    const expiredKeysInfo = await infoNumber(cache, 'stats', 'expired_keys');
    const dbsizeEnd = await cache.dbsize();
    await settle();
    const heapEnd = heapAndExternal();
    cleanGaps.sort((a, b) => a - b);
    const expiryBusyMs = busyEnd - busyStart;
    return {
      keys,
      ttlWrites,
      ttlMs: SOAK_TTL_MS,
      plannedWriteMs,
      writeMs,
      writeBatches,
      writeBatchMaxMs,
      runMs,
      eldMaxMs: eld.max / 1e6,
      eldP99Ms: eld.percentile(99) / 1e6,
      eldAfterWritesMaxMs: eldAfter.max / 1e6,
      eldAfterWritesP99Ms: eldAfter.percentile(99) / 1e6,
      probeMaxGapOutsideWritesMs: cleanGaps.at(-1) ?? 0,
      probeP99GapOutsideWritesMs: percentile(cleanGaps, 99),
      probeGapsOutsideWrites: cleanGaps.length,
      gcCount: gcPauses.length,
      gcMaxPauseMs: Math.max(0, ...gcPauses),
      gcTotalMs: gcPauses.reduce((a, b) => a + b, 0),
      heapBaseline,
      heapStart,
      heapMax,
      heapEnd,
      keyspaceMaxSize,
      steadyStateKeys: keys + Math.round((ttlWrites * SOAK_TTL_MS) / plannedWriteMs),
      expiryBusyMs,
      expiryCpuShare: expiryBusyMs / runMs,
      expiredKeys,
      dbsizeEnd,
      expiredKeysInfo,
    };
  } finally {
    await app.close();
  }
}

// ---- 2. eviction quality ---------------------------------------------------------------------------------------

const traceKey = (id: number) => `key:${id}`;
const traceValue = (id: number) => valueOf('v', id, VALUE_BYTES);

/** Replays the trace: per batch, the GETs pipelined, then a SET of each miss pipelined. Returns the hits. */
async function replay(client: Redis, trace: Uint32Array, batch: number): Promise<number> {
  let hits = 0;
  const misses: number[] = [];
  for (let start = 0; start < trace.length; start += batch) {
    const end = Math.min(trace.length, start + batch);
    const gets = client.pipeline();
    for (let i = start; i < end; i++) gets.get(traceKey(trace[i]));
    const replies = await execAll(gets);
    misses.length = 0;
    for (let i = start; i < end; i++) {
      if (replies[i - start] === null) misses.push(trace[i]);
      else hits++;
    }
    if (misses.length > 0) {
      const sets = client.pipeline();
      for (const id of misses) sets.set(traceKey(id), traceValue(id));
      await execAll(sets);
    }
  }
  return hits;
}

/**
 * `used_memory` empty and per key (from a fill of `capacityKeys` keys of the trace's key space, evenly spread over the
 * ids so that the names have the trace's lengths); leaves the cache empty without a limit.
 */
async function calibrate(
  client: Redis,
  keys: number,
  capacityKeys: number,
): Promise<{ emptyBytes: number; perKeyBytes: number }> {
  await configSet(client, 'maxmemory', 0);
  await client.flushall();
  const emptyBytes = await usedMemory(client);
  const id = (i: number) => Math.floor((i * keys) / capacityKeys);
  await fillKeys(
    client,
    capacityKeys,
    (i) => traceKey(id(i)),
    (i) => traceValue(id(i)),
  );
  const held = await client.dbsize();
  const perKeyBytes = ((await usedMemory(client)) - emptyBytes) / held;
  if (!(perKeyBytes > 0)) {
    throw new Error(
      `used_memory did not grow with ${held} keys: INFO memory does not measure the keyspace`,
    );
  }
  await client.flushall();
  return { emptyBytes, perKeyBytes };
}

/** Calibrates, then replays the trace under each policy with room for `capacityKeys` keys. */
async function evictionSide(
  name: string,
  client: Redis,
  trace: Uint32Array,
  keys: number,
  capacityKeys: number,
  batch: number,
  exactLru: (capacity: number) => number,
): Promise<EvictionSide> {
  const { emptyBytes, perKeyBytes } = await calibrate(client, keys, capacityKeys);
  const maxmemory = Math.round(emptyBytes + perKeyBytes * capacityKeys);
  log(
    `  ${name}: used_memory ${fmtBytes(emptyBytes)} empty, ${perKeyBytes.toFixed(0)} B a key: ` +
      `maxmemory ${fmtBytes(maxmemory)}`,
  );
  const runs: EvictionRun[] = [];
  for (const policy of POLICIES) {
    await configSet(client, 'maxmemory', 0);
    await client.flushall();
    await configSet(client, 'maxmemory-policy', policy);
    await configSet(client, 'maxmemory', maxmemory);
    const evictedBefore = await infoNumber(client, 'stats', 'evicted_keys');
    const t = performance.now();
    const hits = await replay(client, trace, batch);
    const ms = performance.now() - t;
    const keysHeld = await client.dbsize();
    const evictedAfter = await infoNumber(client, 'stats', 'evicted_keys');
    const usedMemoryEnd = await infoNumber(client, 'memory', 'used_memory');
    const run: EvictionRun = {
      policy,
      maxmemory,
      hits,
      hitRatio: hits / trace.length,
      keysHeld,
      evictedKeys: evictedAfter - evictedBefore,
      usedMemoryEnd,
      ms,
      exactLruHitRatio: exactLru(keysHeld),
    };
    log(
      `  ${name} ${policy}: hit ratio ${fmtPct(run.hitRatio)}, ${keysHeld.toLocaleString('en-US')} keys held, ` +
        `${fmtMs(ms)}`,
    );
    runs.push(run);
  }
  await configSet(client, 'maxmemory', 0);
  await client.flushall();
  return { emptyBytes, perKeyBytes, runs };
}

async function runEviction(keys: number, redisBinary: string | undefined): Promise<EvictionResult> {
  const requests = TRACE_REQUESTS_PER_KEY * keys;
  const capacityKeys = Math.max(1, Math.round(CAPACITY_SHARE * keys));
  const batch = Math.max(
    TRACE_BATCH_MIN,
    Math.min(TRACE_BATCH_MAX, Math.floor(capacityKeys / 100)),
  );
  let t = performance.now();
  const trace = zipfTrace(keys, requests, ZIPF_S, TRACE_SEED);
  const counts = new Uint32Array(keys);
  let top = 0;
  for (const id of trace) top = Math.max(top, ++counts[id]);
  log(
    `  trace: ${requests.toLocaleString('en-US')} requests over ${keys.toLocaleString('en-US')} keys in ` +
      `${fmtMs(performance.now() - t)}, room for ${capacityKeys.toLocaleString('en-US')} keys, batches of ${batch}`,
  );
  const lruByCapacity = new Map<number, number>();
  const exactLru = (capacity: number): number => {
    let ratio = lruByCapacity.get(capacity);
    if (ratio === undefined) {
      ratio = exactLruHits(trace, keys, capacity, batch) / requests;
      lruByCapacity.set(capacity, ratio);
    }
    return ratio;
  };
  t = performance.now();
  const exactLruHitRatio = exactLru(capacityKeys);
  const exactLruSequentialHitRatio = exactLruHits(trace, keys, capacityKeys, 1) / requests;
  log(
    `  exact LRU (${capacityKeys.toLocaleString('en-US')} keys): ${fmtPct(exactLruHitRatio)} batched, ` +
      `${fmtPct(exactLruSequentialHitRatio)} sequential (${fmtMs(performance.now() - t)})`,
  );

  await settle();
  let ours: EvictionSide;
  const app = await bootApp({ maxBytes: 0, policy: 'allkeys-lru' });
  try {
    const cache = app.get<Redis>(CACHE);
    ours = await evictionSide('ours', cache, trace, keys, capacityKeys, batch, exactLru);
    const usedBytes = app.get<Keyspace>(KEYSPACE).usedBytes;
    log(`  ours: keyspace.usedBytes ${fmtBytes(usedBytes)} at the end`);
  } finally {
    await app.close();
  }
  let redis: EvictionSide | null = null;
  if (redisBinary !== undefined) {
    const server = await startRedis(redisBinary);
    try {
      redis = await evictionSide(
        'redis',
        server.requireClient(),
        trace,
        keys,
        capacityKeys,
        batch,
        exactLru,
      );
    } finally {
      await server.stop();
    }
  }
  const comparison = POLICIES.map((policy) => {
    const o = ours.runs.find((r) => r.policy === policy);
    const r = redis?.runs.find((x) => x.policy === policy);
    const diffPoints = o && r ? (o.hitRatio - r.hitRatio) * 100 : null;
    return {
      policy,
      diffPoints,
      goal: diffPoints === null ? null : diffPoints >= GOALS.hitRatioVsRedisPoints,
    };
  });
  return {
    keys,
    requests,
    capacityKeys,
    batch,
    zipfS: ZIPF_S,
    seed: TRACE_SEED,
    topKeyShare: top / requests,
    topKeyShareExpected: zipfTopShare(keys, ZIPF_S),
    exactLruHitRatio,
    exactLruSequentialHitRatio,
    ours,
    redis,
    comparison,
  };
}

// ---- 3. throughput with eviction -------------------------------------------------------------------------------

const throughputKey = (n: number) => `k:${n}`;
const throughputValue = (n: number) => valueOf('v', n, VALUE_BYTES);

/** SETs `keys` distinct keys into an empty `client`; returns writes/s. */
async function timedFill(client: Redis, keys: number): Promise<number> {
  const t = performance.now();
  await fillKeys(client, keys, throughputKey, throughputValue);
  return (keys * 1000) / (performance.now() - t);
}

/** One fill of a fresh cache: writes/s, `used_memory` before and after, what it held. */
interface FillRun {
  rate: number;
  emptyBytes: number;
  usedBytes: number;
  keysHeld: number;
  evictedKeys: number;
}

/**
 * Runs of one side. `fresh(limit)` gives an empty cache (with `maxmemory` = `limit` under allkeys-lru when given), and
 * `done()` is called after each run. The limit is {@link THROUGHPUT_CAP_SHARE} of what the first fill took; the
 * measured runs alternate unlimited and limited, so that neither kind gets the JIT-warmer half of the process. With
 * `warmup`, fills of both kinds run unmeasured first, for at least {@link THROUGHPUT_WARMUP_MS}.
 */
async function throughputSide(
  name: string,
  keys: number,
  warmup: boolean,
  fresh: (limit: number | undefined) => Promise<Redis>,
  done: () => Promise<void>,
): Promise<ThroughputSide> {
  const fillOnce = async (limit: number | undefined): Promise<FillRun> => {
    await settle();
    const client = await fresh(limit);
    const emptyBytes = await usedMemory(client);
    const evictedBefore = await infoNumber(client, 'stats', 'evicted_keys');
    const rate = await timedFill(client, keys);
    const usedBytes = await usedMemory(client);
    const evictedAfter = await infoNumber(client, 'stats', 'evicted_keys');
    const keysHeld = await client.dbsize();
    await done();
    return { rate, emptyBytes, usedBytes, keysHeld, evictedKeys: evictedAfter - evictedBefore };
  };
  /** Set by the first unlimited fill (the first warm-up one, or the first measured one). */
  let maxmemory: number | undefined;
  const limitFrom = (run: FillRun): number =>
    (maxmemory ??= Math.round(
      run.emptyBytes + THROUGHPUT_CAP_SHARE * (run.usedBytes - run.emptyBytes),
    ));
  const warmupWritesPerSec: number[] = [];
  if (warmup) {
    const started = performance.now();
    do {
      const run = await fillOnce(undefined);
      warmupWritesPerSec.push(run.rate);
      warmupWritesPerSec.push((await fillOnce(limitFrom(run))).rate);
    } while (performance.now() - started < THROUGHPUT_WARMUP_MS);
  }
  const unlimited: FillRun[] = [];
  const capped: FillRun[] = [];
  let limit = 0;
  for (let run = 0; run < THROUGHPUT_RUNS; run++) {
    const u = await fillOnce(undefined);
    limit = limitFrom(u);
    unlimited.push(u);
    capped.push(await fillOnce(limit));
  }
  const unlimitedWritesPerSec = unlimited.map((r) => r.rate);
  const unlimitedMedian = median(unlimitedWritesPerSec);
  log(
    `  ${name}: ${fmtRate(unlimitedMedian)} without a limit (${unlimitedWritesPerSec.map(fmtRate).join(', ')})`,
  );
  const writesPerSec = capped.map((r) => r.rate);
  const cappedMedian = median(writesPerSec);
  const last = capped[capped.length - 1];
  if (last.keysHeld >= keys) {
    log(
      `  WARNING: ${name} evicted nothing under maxmemory ${limit}: the limited runs measure no eviction`,
    );
  }
  log(
    `  ${name}: ${fmtRate(cappedMedian)} with maxmemory ${fmtBytes(limit)} ` +
      `(${writesPerSec.map(fmtRate).join(', ')}), ${count(last.keysHeld)} keys held`,
  );
  return {
    warmupWritesPerSec,
    unlimitedWritesPerSec,
    unlimitedMedian,
    datasetBytes: median(unlimited.map((r) => r.usedBytes - r.emptyBytes)),
    emptyBytes: unlimited[0].emptyBytes,
    capped: {
      maxmemory: limit,
      writesPerSec,
      median: cappedMedian,
      keysHeld: last.keysHeld,
      evictedKeys: last.evictedKeys,
    },
    ratio: cappedMedian / unlimitedMedian,
  };
}

async function runThroughput(
  keys: number,
  warmup: boolean,
  redisBinary: string | undefined,
): Promise<ThroughputResult> {
  let app: INestApplicationContext | undefined;
  const ours = await throughputSide(
    'ours',
    keys,
    warmup,
    async (limit) => {
      app = await bootApp(
        limit === undefined
          ? { maxBytes: 0, policy: 'noeviction' }
          : { maxBytes: limit, policy: 'allkeys-lru' },
      );
      return app.get<Redis>(CACHE);
    },
    async () => {
      await app?.close();
      app = undefined;
    },
  );
  let redis: ThroughputSide | null = null;
  if (redisBinary !== undefined) {
    const server = await startRedis(redisBinary);
    const client = server.requireClient();
    try {
      redis = await throughputSide(
        'redis',
        keys,
        warmup,
        async (limit) => {
          await configSet(client, 'maxmemory', 0);
          await client.flushall();
          await configSet(
            client,
            'maxmemory-policy',
            limit === undefined ? 'noeviction' : 'allkeys-lru',
          );
          await configSet(client, 'maxmemory', limit ?? 0);
          return client;
        },
        () => Promise.resolve(),
      );
    } finally {
      await server.stop();
    }
  }
  return {
    keys,
    ours,
    redis,
    goal: ours.ratio >= GOALS.evictingThroughputRatio,
  };
}

// ---- output ----------------------------------------------------------------------------------------------------

function count(n: number): string {
  return n.toLocaleString('en-US');
}

function fmtBytes(bytes: number): string {
  return bytes >= 1024 * 1024 ? fmtMB(bytes) : `${(bytes / 1024).toFixed(1)} KB`;
}

function fmtPct(ratio: number): string {
  return `${(ratio * 100).toFixed(2)}%`;
}

function fmtRate(perSec: number): string {
  return perSec >= 1e6 ? `${(perSec / 1e6).toFixed(2)}M/s` : `${(perSec / 1000).toFixed(1)}k/s`;
}

function fmtRatio(r: number): string {
  return `${r.toFixed(2)}×`;
}

function soakGoals(r: SoakResult): { delay: boolean; expired: boolean } {
  return {
    delay: r.probeMaxGapOutsideWritesMs <= GOALS.soakMaxDelayMs,
    expired:
      r.expiredKeys >= GOALS.soakExpiredShare * r.ttlWrites &&
      r.expiredKeysInfo >= GOALS.soakExpiredShare * r.ttlWrites &&
      r.dbsizeEnd === r.keys,
  };
}

function printSoak(results: SoakResult[]): void {
  console.log('\n1. TTL soak: event-loop delay, ms (max / p99)\n');
  console.log(
    table(
      [
        'keys',
        'TTL writes',
        'over',
        'whole run',
        'after writes',
        'outside writes',
        'write batch max',
        'GC max / total',
      ],
      results.map((r) => [
        count(r.keys),
        count(r.ttlWrites),
        fmtMs(r.writeMs),
        `${r.eldMaxMs.toFixed(1)} / ${r.eldP99Ms.toFixed(1)}`,
        `${r.eldAfterWritesMaxMs.toFixed(1)} / ${r.eldAfterWritesP99Ms.toFixed(1)}`,
        `${r.probeMaxGapOutsideWritesMs.toFixed(1)} / ${r.probeP99GapOutsideWritesMs.toFixed(1)} ` +
          mark(soakGoals(r).delay),
        r.writeBatchMaxMs.toFixed(1),
        `${r.gcMaxPauseMs.toFixed(1)} / ${r.gcTotalMs.toFixed(0)} (${r.gcCount})`,
      ]),
    ),
  );
  console.log('\n1. TTL soak: memory, expiry\n');
  console.log(
    table(
      [
        'keys',
        'app heap',
        'heap start',
        'heap max',
        'max/start',
        'heap end',
        'end/start',
        'max keys (steady)',
        'expiry CPU',
        'expired / writes',
        'INFO expired_keys',
        'DBSIZE end',
      ],
      results.map((r) => [
        count(r.keys),
        fmtMB(r.heapBaseline),
        fmtMB(r.heapStart),
        fmtMB(r.heapMax),
        fmtRatio(r.heapMax / r.heapStart),
        fmtMB(r.heapEnd),
        fmtRatio(r.heapEnd / r.heapStart),
        `${count(r.keyspaceMaxSize)} (${count(r.steadyStateKeys)})`,
        fmtPct(r.expiryCpuShare),
        `${count(r.expiredKeys)} / ${count(r.ttlWrites)} ${mark(soakGoals(r).expired)}`,
        count(r.expiredKeysInfo),
        count(r.dbsizeEnd),
      ]),
    ),
  );
  console.log(
    `\n"whole run": monitorEventLoopDelay over the writes and the ${SOAK_TTL_MS + SOAK_TAIL_MS} ms after them (the ` +
      'write batches block the loop too); "after writes": the same after the last write, expiry alone; "outside ' +
      'writes": gaps of a 1 ms timer chain during which no write batch ran. Expiry CPU: active expiry\'s busyMs ' +
      "over the run's wall time. GC: pauses seen by a PerformanceObserver over the run, ms (count). App heap: " +
      'heap + external before the app booted; heap start: after the fill and a GC; heap end: after a GC, ' +
      `${SOAK_TAIL_MS} ms after the last TTL passed. Steady: long-lived keys + TTL keys alive at the write rate.`,
  );
}

function printEviction(results: EvictionResult[]): void {
  console.log('\n2. Eviction: hit ratio on a Zipf(0.99) trace with room for 10% of the keys\n');
  const rows: string[][] = [];
  for (const r of results) {
    for (const c of r.comparison) {
      const o = r.ours.runs.find((x) => x.policy === c.policy);
      const s = r.redis?.runs.find((x) => x.policy === c.policy);
      rows.push([
        count(r.keys),
        c.policy,
        o ? fmtPct(o.hitRatio) : '-',
        s ? fmtPct(s.hitRatio) : '-',
        c.diffPoints === null
          ? '-'
          : `${c.diffPoints >= 0 ? '+' : ''}${c.diffPoints.toFixed(2)} ${mark(c.goal)}`,
        o ? count(o.keysHeld) : '-',
        s ? count(s.keysHeld) : '-',
        o ? fmtPct(o.exactLruHitRatio) : '-',
        s ? fmtPct(s.exactLruHitRatio) : '-',
        `${fmtPct(r.exactLruHitRatio)} (${count(r.capacityKeys)})`,
      ]);
    }
  }
  console.log(
    table(
      [
        'keys',
        'policy',
        'ours',
        'redis',
        'ours−redis (pts)',
        'keys held ours',
        'keys held redis',
        'exact LRU @ours',
        'exact LRU @redis',
        'exact LRU @10%',
      ],
      rows,
      2,
    ),
  );
  for (const r of results) {
    console.log(
      `\n${count(r.keys)} keys: ${count(r.requests)} requests, batches of ${r.batch}; top key ` +
        `${fmtPct(r.topKeyShare)} of requests (Zipf: ${fmtPct(r.topKeyShareExpected)}); bytes a key: ours ` +
        `${r.ours ? r.ours.perKeyBytes.toFixed(0) : '-'}, redis ${r.redis ? r.redis.perKeyBytes.toFixed(0) : '-'}.`,
    );
  }
  console.log(
    '\nHit ratio: GETs that found the key. Keys held: DBSIZE at the end. Exact LRU: the same trace and batches on an ' +
      'exact LRU with room for as many keys as the cache held (or 10% of the keys): the upper reference for LRU. ' +
      "redis-server's LRU clock ticks once a second, so on a trace that lasts a few seconds (small --keys) its LRU " +
      'sees most keys as equally old.',
  );
}

function printThroughput(results: ThroughputResult[]): void {
  console.log('\n3. Throughput: SET of distinct keys, median of 3 runs\n');
  const rows: string[][] = [];
  for (const r of results) {
    for (const [name, side] of [
      ['ours', r.ours],
      ['redis', r.redis],
    ] as const) {
      if (side === null) continue;
      rows.push([
        count(r.keys),
        name,
        fmtRate(side.unlimitedMedian),
        fmtRate(side.capped.median),
        `${fmtRatio(side.ratio)} ${name === 'ours' ? mark(r.goal) : ' '}`,
        fmtBytes(side.capped.maxmemory),
        count(side.capped.keysHeld),
        count(side.capped.evictedKeys),
      ]);
    }
  }
  console.log(
    table(
      ['keys', 'cache', 'unlimited', 'evicting', 'ratio', 'maxmemory', 'keys held', 'evicted'],
      rows,
      2,
    ),
  );
}

function printGoals(): void {
  console.log(
    `\nGoals: delay outside writes ≤ ${GOALS.soakMaxDelayMs} ms during the soak, every TTL write expired by the ` +
      `end, hit ratio ≥ redis − ${-GOALS.hitRatioVsRedisPoints} point, writes/s while evicting ≥ ` +
      `${GOALS.evictingThroughputRatio}× without a limit.`,
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
  const soak: SoakResult[] = [];
  const eviction: EvictionResult[] = [];
  const throughput: ThroughputResult[] = [];
  for (const keys of options.keys) {
    if (options.parts.includes('soak')) {
      log(`\nTTL soak, ${count(keys)} keys`);
      soak.push(await runSoak(keys));
      await settle();
    }
    if (options.parts.includes('eviction')) {
      log(`\nEviction, ${count(keys)} keys`);
      eviction.push(await runEviction(keys, redis));
      await settle();
    }
    if (options.parts.includes('throughput')) {
      log(`\nThroughput, ${count(keys)} keys`);
      throughput.push(await runThroughput(keys, options.warmup, redis));
      await settle();
    }
  }
  if (soak.length > 0) printSoak(soak);
  if (eviction.length > 0) printEviction(eviction);
  if (throughput.length > 0) printThroughput(throughput);
  printGoals();
  writeResults(options.out, {
    redisVersion: redis === undefined ? null : redisServerVersion(redis),
    goals: GOALS,
    soak,
    eviction,
    throughput,
  });
}

runBench(main);
