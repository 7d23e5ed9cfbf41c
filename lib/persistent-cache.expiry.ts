import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { expireCycle } from './keyspace/active-expiry';
import type { Keyspace } from './keyspace/keyspace';
import { KEYSPACE, RESOLVED_OPTIONS } from './persistent-cache.constants';
import type { ResolvedPersistentCacheOptions } from './persistent-cache.interfaces';
import { messageOf } from './util/errors';
import { LOG_CONTEXT } from './util/log-context';
import { PersistentCacheMetrics } from './snapshots/snapshot.metrics';
import { runAtOnce, runInSlices } from './util/slices';
import { formatSize, heapLimit } from './util/sizes';
import { MEMORY_LIMIT, MEMORY_UNLIMITED } from './persistent-cache.messages';

/** How often a cycle starts (Redis's default `hz` of 10). */
export const EXPIRE_CYCLE_INTERVAL_MS = 100;
/** The longest a cycle runs: a quarter of the interval, as Redis's slow cycle allows itself 25% of the CPU. */
const EXPIRE_CYCLE_BUDGET_MS = 25;
/** A cycle gives the event loop a turn at least this often. */
const SLICE_MS = 1;
/**
 * After a cycle that ran out of time with expired keys still coming (Redis's fast cycle): one more of
 * {@link SLICE_MS} every {@link FAST_CYCLE_GAP_MS}, until one ends on a sample with few expired keys. Expiry may then
 * take up to a third more of the CPU, so that a high rate of short-lived writes does not outrun it.
 */
const FAST_CYCLE_GAP_MS = 2;
/** Packing passes (see `Keyspace.pack`) start at most every half `memory.packAfter`, within these bounds. */
const PACK_GAP_MIN_MS = EXPIRE_CYCLE_INTERVAL_MS;
const PACK_GAP_MAX_MS = 60_000;

/** `steps`, adding the time spent in each step to `busy` (not the time between them, when others run). */
function* timed<T>(steps: Generator<void, T>, busy: { ms: number }): Generator<void, T> {
  for (;;) {
    const started = performance.now();
    const step = steps.next();
    busy.ms += performance.now() - started;
    if (step.done === true) return step.value;
    yield;
  }
}

/** `steps` until `stop()` says so (checked before each step after the first). */
function* until<T>(steps: Generator<void, T>, stop: () => boolean): Generator<void, T | undefined> {
  try {
    for (let step = steps.next(); ; step = steps.next()) {
      if (step.done === true) return step.value;
      yield;
      if (stop()) return undefined;
    }
  } finally {
    steps.return(undefined as T);
  }
}

/** Evicts keys in slices of {@link SLICE_MS} until memory is within the limit, no key can go, or `deadline` passes. */
function* evictions(keyspace: Keyspace, deadline: number): Generator<void, void> {
  while (keyspace.makeRoom(SLICE_MS) === 'running' && performance.now() < deadline) yield;
}

/**
 * The embedded keyspace's background work, every {@link EXPIRE_CYCLE_INTERVAL_MS}, in slices of {@link SLICE_MS}:
 * active expiry (see `keyspace/active-expiry.ts`), then eviction while memory is over the limit (commands evict
 * too, before they run, but a lowered limit or a large restore needs no command to be brought back), then the
 * keyspace's metrics. Besides, now and then, a pass that packs the keys unused for `memory.packAfter` (see
 * `Keyspace.pack`). It starts with the module and stops at shutdown; its timers never keep the process alive on their
 * own. With `mode: 'redis'` it does nothing: Redis expires and evicts its own keys.
 */
@Injectable()
export class ActiveExpiryService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(LOG_CONTEXT);
  private timer: NodeJS.Timeout | undefined;
  private fast: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  /** The keyspace's counters as last reported to the metrics. */
  private reported = { expired: 0, evicted: 0, rejected: 0 };
  private readonly busy = { ms: 0 };
  private packing: Promise<void> | undefined;
  private nextPackAt = 0;
  private readonly packBusy = { ms: 0 };

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedPersistentCacheOptions,
    @Inject(KEYSPACE) private readonly keyspace: Keyspace,
    private readonly metrics: PersistentCacheMetrics,
  ) {}

  /**
   * Time spent running cycles since startup, ms (not the time between their slices), and by writes removing expired
   * keys while the cycles were behind (see `Keyspace.expiryBehind`): what active expiry cost the event loop.
   */
  get busyMs(): number {
    return this.busy.ms + this.keyspace.expiringOnWritesMs;
  }

  /** Time spent packing idle keys since startup, ms (not the time between the slices). */
  get packingMs(): number {
    return this.packBusy.ms;
  }

  onModuleInit(): void {
    if (this.options.mode === 'redis') return;
    const { maxBytes, maxBytesGiven, policy } = this.options.memory;
    this.logger.log(
      maxBytes === 0
        ? MEMORY_UNLIMITED
        : MEMORY_LIMIT(formatSize(maxBytes), maxBytesGiven, policy, formatSize(heapLimit())),
    );
    this.report();
    this.timer = setInterval(() => this.tick(), EXPIRE_CYCLE_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    clearTimeout(this.fast);
    this.timer = undefined;
    this.fast = undefined;
    await Promise.all([this.running, this.packing]); // a packing pass stops at its next step
  }

  /** Updates the keyspace's metrics. */
  private report(): void {
    const { keyspace, reported } = this;
    const now = {
      expired: keyspace.expiredKeys,
      evicted: keyspace.evictedKeys,
      rejected: keyspace.oomRejections,
    };
    this.metrics.keyspaceSeen({
      keys: keyspace.size,
      memoryBytes: keyspace.usedBytes,
      maxMemoryBytes: keyspace.memory.maxBytes,
      newlyExpired: now.expired - reported.expired,
      newlyEvicted: now.evicted - reported.evicted,
      newlyRejected: now.rejected - reported.rejected,
    });
    this.reported = now;
  }

  /** Starts a cycle unless the last one still runs, and a packing pass when one is due. */
  private tick(): void {
    this.packWhenDue();
    if (this.running !== undefined) return;
    const deadline = performance.now() + EXPIRE_CYCLE_BUDGET_MS;
    this.running = runInSlices(timed(expireCycle(this.keyspace, deadline), this.busy), SLICE_MS)
      .then(async (cycle) => {
        this.keyspace.expiryBehind = cycle.timedOut;
        await runInSlices(timed(evictions(this.keyspace, deadline), this.busy), SLICE_MS);
        if (cycle.timedOut) this.fastCycleSoon();
      })
      .catch((error: unknown) => this.logger.error(`Active expiry failed: ${messageOf(error)}`))
      .finally(() => {
        this.running = undefined;
        this.report();
      });
  }

  /**
   * Starts a pass packing the keys unused for `memory.packAfter`, unless one runs or the last began less than half
   * that ago. It runs in slices of {@link SLICE_MS}, and stops at shutdown.
   */
  private packWhenDue(): void {
    const { packAfter } = this.options.memory;
    const now = performance.now();
    if (packAfter === 0 || this.packing !== undefined || now < this.nextPackAt) return;
    if (this.keyspace.packCandidates === 0) return;
    this.nextPackAt = now + Math.min(PACK_GAP_MAX_MS, Math.max(PACK_GAP_MIN_MS, packAfter / 2));
    const started = now;
    const steps = until(this.keyspace.pack(packAfter), () => this.timer === undefined);
    this.packing = runInSlices(timed(steps, this.packBusy), SLICE_MS)
      .then((packed) => {
        if (packed !== undefined && packed > 0) {
          this.logger.debug(
            `Packed ${packed} keys unused for ${packAfter} ms (${Math.round(performance.now() - started)} ms)`,
          );
        }
      })
      .catch((error: unknown) => this.logger.error(`Packing idle keys failed: ${messageOf(error)}`))
      .finally(() => {
        this.packing = undefined;
        this.report();
      });
  }

  /** Runs a fast cycle in {@link FAST_CYCLE_GAP_MS}, and another after it while they run out of time. */
  private fastCycleSoon(): void {
    if (this.fast !== undefined || this.timer === undefined) return;
    this.fast = setTimeout(() => {
      this.fast = undefined;
      if (this.running !== undefined || this.timer === undefined) return; // a slow cycle runs, or shutdown began
      const started = performance.now();
      try {
        const cycle = runAtOnce(expireCycle(this.keyspace, started + SLICE_MS));
        this.keyspace.expiryBehind = cycle.timedOut;
        if (cycle.timedOut) this.fastCycleSoon();
      } catch (error) {
        this.logger.error(`Active expiry failed: ${messageOf(error)}`);
      } finally {
        this.busy.ms += performance.now() - started;
      }
    }, FAST_CYCLE_GAP_MS);
    this.fast.unref();
  }
}
