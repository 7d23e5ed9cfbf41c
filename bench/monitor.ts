import { monitorEventLoopDelay, performance } from 'node:perf_hooks';

/** What the event loop and the process's memory did while one measured operation ran. */
export interface PhaseStats {
  /** Wall time of the operation, ms. */
  readonly ms: number;
  /** `monitorEventLoopDelay({ resolution: 1 })`: largest recorded delay, ms. */
  readonly eldMaxMs: number;
  /** `monitorEventLoopDelay({ resolution: 1 })`: 99th percentile, ms. */
  readonly eldP99Ms: number;
  /** Timer probe (a 1 ms `setTimeout` chain): the largest gap between two callbacks, ms. */
  readonly probeMaxGapMs: number;
  /** Timer probe: 99th percentile of the gaps, ms. */
  readonly probeP99GapMs: number;
  /** Number of probe callbacks that ran while the operation was in flight. */
  readonly probeTicks: number;
  /** RSS when the operation began, bytes. */
  readonly rssStart: number;
  /** Highest RSS sampled while it ran (by the probe, every 5 ms, and at the end), bytes. */
  readonly rssPeak: number;
  /** `rssPeak - rssStart`, bytes. */
  readonly rssGrowth: number;
}

const NS_PER_MS = 1e6;
const RSS_EVERY_MS = 5;

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, index)];
}

/**
 * Runs `operation` while watching the event loop (histogram and a timer chain) and RSS. The probe runs on the same
 * event loop as the operation, so a stall shows up as a long gap between two of its callbacks.
 */
export async function measure<T>(operation: () => Promise<T> | T): Promise<[T, PhaseStats]> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  const gaps: number[] = [];
  const rssStart = process.memoryUsage.rss();
  let rssPeak = rssStart;
  let running = true;
  let last = performance.now();
  let lastRss = last;
  let timer: NodeJS.Timeout | undefined;
  const tick = (): void => {
    const now = performance.now();
    gaps.push(now - last);
    last = now;
    // Reading RSS costs tens of microseconds (it parses /proc): every 5 ms is enough to see the peak.
    if (now - lastRss >= RSS_EVERY_MS) {
      lastRss = now;
      const rss = process.memoryUsage.rss();
      if (rss > rssPeak) rssPeak = rss;
    }
    if (running) timer = setTimeout(tick, 1);
  };
  histogram.enable();
  timer = setTimeout(tick, 1);
  const started = performance.now();
  let result: T;
  let stats: PhaseStats;
  try {
    result = await operation();
  } finally {
    const ended = performance.now();
    running = false;
    if (timer !== undefined) clearTimeout(timer);
    histogram.disable();
    // The time from the last probe callback to the end counts as a gap too: a synchronous operation is one.
    gaps.push(ended - last);
    const rss = process.memoryUsage.rss();
    if (rss > rssPeak) rssPeak = rss;
    stats = {
      ms: ended - started,
      eldMaxMs: histogram.count > 0 ? histogram.max / NS_PER_MS : ended - started,
      eldP99Ms: histogram.count > 0 ? histogram.percentile(99) / NS_PER_MS : ended - started,
      // A loop, not Math.max(...gaps): a run of minutes has more gaps than the stack holds arguments.
      probeMaxGapMs: gaps.reduce((max, gap) => (gap > max ? gap : max), 0),
      probeP99GapMs: percentile(
        gaps.slice().sort((a, b) => a - b),
        99,
      ),
      probeTicks: gaps.length - 1,
      rssStart,
      rssPeak,
      rssGrowth: rssPeak - rssStart,
    };
  }
  return [result, stats];
}

const QUIET_WINDOW_MS = 50;
/** CPU time (all threads) per window below which the process counts as quiet: 5% of one core. */
const QUIET_CPU_SHARE = 0.05;
const QUIET_TIMEOUT_MS = 10_000;

/**
 * Runs a full garbage collection when node was started with `--expose-gc`, then waits until the process is quiet.
 * After a full collection of a large heap, V8 sweeps it on background threads for up to a second or more; on a
 * 2-core machine those threads take the CPU from the main thread, and a phase measured then would be timing the
 * sweep. So this waits until the whole process (every thread) uses less than 5% of a core over 50 ms (at most 10 s).
 */
export async function settle(): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc !== undefined) {
    gc();
    await new Promise((resolve) => setTimeout(resolve, 20));
    gc();
  }
  await quiet();
}

/**
 * {@link settle}, then a collection and a wait more: for a heap measured after an app was closed. A closed app's
 * keyspace stays referenced for some 20–40 ms after `close()` resolves, so a heap measured after one settle counts the
 * closed app's data in the next one's baseline.
 */
export async function settleAfterClose(): Promise<void> {
  await settle();
  const gc = (globalThis as { gc?: () => void }).gc;
  if (gc === undefined) return;
  gc();
  await quiet();
}

/** Waits until the process is quiet (see {@link settle}). */
async function quiet(): Promise<void> {
  const deadline = performance.now() + QUIET_TIMEOUT_MS;
  for (;;) {
    const before = process.cpuUsage();
    await new Promise((resolve) => setTimeout(resolve, QUIET_WINDOW_MS));
    const used = process.cpuUsage(before);
    const cpuMs = (used.user + used.system) / 1000;
    if (cpuMs < QUIET_WINDOW_MS * QUIET_CPU_SHARE || performance.now() > deadline) return;
  }
}
