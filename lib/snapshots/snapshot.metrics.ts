import { Inject, Injectable, Optional } from '@nestjs/common';
import {
  InjectMetric,
  makeCounterProvider,
  makeGaugeProvider,
  makeHistogramProvider,
} from '@willsoto/nestjs-prometheus';
import type { Counter, Gauge, Histogram } from 'prom-client';
import { CACHE_NAME } from '../persistent-cache.constants';

/** Names of the Prometheus metrics the module exports. */
export const METRICS = {
  snapshotDuration: 'persistent_cache_snapshot_duration_seconds',
  snapshots: 'persistent_cache_snapshots_total',
  lastSnapshotBytes: 'persistent_cache_last_snapshot_bytes',
  lastSnapshotKeys: 'persistent_cache_last_snapshot_keys',
  lastSnapshotSuccess: 'persistent_cache_last_snapshot_success_timestamp_seconds',
  restoreDuration: 'persistent_cache_restore_duration_seconds',
  lastRestoreKeys: 'persistent_cache_last_restore_keys',
  lastRestoreExpiredKeys: 'persistent_cache_last_restore_expired_keys',
  restoreFailures: 'persistent_cache_restore_failures_total',
  unstorableKeys: 'persistent_cache_last_snapshot_unstorable_keys',
  keys: 'persistent_cache_keys',
  expiredKeys: 'persistent_cache_expired_keys_total',
  memoryBytes: 'persistent_cache_memory_bytes',
  maxMemoryBytes: 'persistent_cache_max_memory_bytes',
  evictedKeys: 'persistent_cache_evicted_keys_total',
  oomRejections: 'persistent_cache_oom_rejections_total',
  // `redis` mode (see persistent-cache.redis-metrics.ts): read from the server when /metrics is scraped.
  redisUp: 'persistent_cache_redis_up',
  redisClusterNodeUp: 'persistent_cache_redis_cluster_node_up',
  redisClusterSlotsServed: 'persistent_cache_redis_cluster_slots_served',
  redisPrimary: 'persistent_cache_redis_primary',
  redisPrimaryChanges: 'persistent_cache_redis_primary_changes_total',
} as const;

/** What the embedded keyspace reports to the metrics, ten times a second. */
export interface KeyspaceFigures {
  readonly keys: number;
  readonly memoryBytes: number;
  readonly maxMemoryBytes: number;
  /** Counts since the previous report. */
  readonly newlyExpired: number;
  readonly newlyEvicted: number;
  readonly newlyRejected: number;
}

export type SnapshotResult = 'success' | 'failure' | 'skipped';

const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * Metric providers; `@willsoto/nestjs-prometheus` dedupes them by name, so several apps (and several caches of one
 * app) share them. Every metric has a `cache` label, set only by named caches: the default cache's series carry no
 * such label, exactly as before named caches existed, so dashboards and alerts written for one cache keep working.
 */
export const metricProviders = [
  makeHistogramProvider({
    name: METRICS.snapshotDuration,
    help: 'Time taken by snapshots that completed, by kind (full or incremental).',
    labelNames: ['kind', 'cache'],
    buckets: DURATION_BUCKETS,
  }),
  makeCounterProvider({
    name: METRICS.snapshots,
    help: 'Snapshots by result: success, failure, or skipped because one was still running.',
    labelNames: ['result', 'cache'],
  }),
  makeGaugeProvider({
    name: METRICS.lastSnapshotBytes,
    labelNames: ['cache'],
    help: 'Bytes of the committed snapshot chain after the last successful snapshot.',
  }),
  makeGaugeProvider({
    name: METRICS.lastSnapshotKeys,
    labelNames: ['cache'],
    help: 'Keys held when the last successful snapshot began.',
  }),
  makeGaugeProvider({
    name: METRICS.lastSnapshotSuccess,
    labelNames: ['cache'],
    help: 'Unix time of the last successful snapshot, in seconds.',
  }),
  makeHistogramProvider({
    name: METRICS.restoreDuration,
    labelNames: ['cache'],
    help: 'Time taken by restores that completed.',
    buckets: DURATION_BUCKETS,
  }),
  makeGaugeProvider({
    name: METRICS.lastRestoreKeys,
    labelNames: ['cache'],
    help: 'Keys loaded by the last restore.',
  }),
  makeGaugeProvider({
    name: METRICS.lastRestoreExpiredKeys,
    labelNames: ['cache'],
    help: 'Keys left out by the last restore because their TTL had run out.',
  }),
  makeGaugeProvider({
    name: METRICS.unstorableKeys,
    labelNames: ['cache'],
    help: 'Keys the last successful snapshot left out because their values cannot be stored (see the log).',
  }),
  makeGaugeProvider({
    name: METRICS.keys,
    labelNames: ['cache'],
    help: 'Keys the embedded cache holds (expired ones not removed yet included), updated ten times a second.',
  }),
  makeCounterProvider({
    name: METRICS.expiredKeys,
    labelNames: ['cache'],
    help: 'Keys the embedded cache deleted because their TTL had run out (touched by a command, or by active expiry).',
  }),
  makeGaugeProvider({
    name: METRICS.memoryBytes,
    labelNames: ['cache'],
    help: 'Estimated bytes the embedded cache holds (Redis used_memory, for the keys alone), updated ten times a second.',
  }),
  makeGaugeProvider({
    name: METRICS.maxMemoryBytes,
    labelNames: ['cache'],
    help: 'The memory limit of the embedded cache (memory.maxBytes, or CONFIG SET maxmemory), 0 for none.',
  }),
  makeCounterProvider({
    name: METRICS.evictedKeys,
    labelNames: ['cache'],
    help: 'Keys the embedded cache evicted to stay within its memory limit (Redis evicted_keys).',
  }),
  makeCounterProvider({
    name: METRICS.oomRejections,
    labelNames: ['cache'],
    help: 'Commands refused with an OOM error: memory over the limit and no key could be evicted.',
  }),
  makeCounterProvider({
    name: METRICS.restoreFailures,
    labelNames: ['cache'],
    help: 'Startup restores that found the snapshot unreadable (damaged, or in an unknown format).',
  }),
];

/** The module's metrics behind one small API, for one cache. */
@Injectable()
export class PersistentCacheMetrics {
  /** `{ cache: name }` for a named cache, nothing for the default one (see {@link metricProviders}). */
  private readonly labels: Readonly<Record<string, string>>;

  constructor(
    @InjectMetric(METRICS.snapshotDuration) private readonly snapshotDuration: Histogram<string>,
    @InjectMetric(METRICS.snapshots) private readonly snapshots: Counter<string>,
    @InjectMetric(METRICS.lastSnapshotBytes) private readonly lastSnapshotBytes: Gauge<string>,
    @InjectMetric(METRICS.lastSnapshotKeys) private readonly lastSnapshotKeys: Gauge<string>,
    @InjectMetric(METRICS.lastSnapshotSuccess) private readonly lastSnapshotSuccess: Gauge<string>,
    @InjectMetric(METRICS.restoreDuration) private readonly restoreDuration: Histogram<string>,
    @InjectMetric(METRICS.lastRestoreKeys) private readonly lastRestoreKeys: Gauge<string>,
    @InjectMetric(METRICS.lastRestoreExpiredKeys)
    private readonly lastRestoreExpired: Gauge<string>,
    @InjectMetric(METRICS.restoreFailures) private readonly restoreFailures: Counter<string>,
    @InjectMetric(METRICS.unstorableKeys) private readonly unstorable: Gauge<string>,
    @InjectMetric(METRICS.keys) private readonly keys: Gauge<string>,
    @InjectMetric(METRICS.expiredKeys) private readonly expired: Counter<string>,
    @InjectMetric(METRICS.memoryBytes) private readonly memoryBytes: Gauge<string>,
    @InjectMetric(METRICS.maxMemoryBytes) private readonly maxMemoryBytes: Gauge<string>,
    @InjectMetric(METRICS.evictedKeys) private readonly evicted: Counter<string>,
    @InjectMetric(METRICS.oomRejections) private readonly rejected: Counter<string>,
    @Optional() @Inject(CACHE_NAME) name?: string | null,
  ) {
    this.labels = name === undefined || name === null ? {} : { cache: name };
    const labels = this.labels;
    // Every series exists from the start, at zero (Prometheus practice: a rate over a series that appears with its
    // first event misses that event, and an alert on a missing series cannot tell "none yet" from "not scraped").
    for (const result of ['success', 'failure', 'skipped'] as const)
      this.snapshots.inc({ ...labels, result }, 0);
    for (const kind of ['full', 'incremental'] as const)
      this.snapshotDuration.zero({ ...labels, kind });
    this.restoreFailures.inc(labels, 0);
  }

  /**
   * The snapshot a restore found, as if it had just been taken: after a restart, the last success is the snapshot on
   * disk, not the epoch (a staleness alert would fire after every deploy).
   */
  snapshotRestored(takenAt: Date, bytes: number, keys: number): void {
    this.lastSnapshotBytes.set(this.labels, bytes);
    this.lastSnapshotKeys.set(this.labels, keys);
    this.lastSnapshotSuccess.set(this.labels, takenAt.getTime() / 1000);
  }

  /** What the keyspace holds now, and what it expired, evicted and refused since the last call. */
  keyspaceSeen(figures: KeyspaceFigures): void {
    this.keys.set(this.labels, figures.keys);
    this.memoryBytes.set(this.labels, figures.memoryBytes);
    this.maxMemoryBytes.set(this.labels, figures.maxMemoryBytes);
    // Counted even when nothing happened: the first call (at startup) makes each series exist at zero (see above).
    this.expired.inc(this.labels, figures.newlyExpired);
    this.evicted.inc(this.labels, figures.newlyEvicted);
    this.rejected.inc(this.labels, figures.newlyRejected);
  }

  unstorableKeys(count: number): void {
    this.unstorable.set(this.labels, count);
  }

  snapshotSucceeded(kind: string, seconds: number, bytes: number, keys: number): void {
    this.snapshotDuration.observe({ ...this.labels, kind }, seconds);
    this.snapshots.inc({ ...this.labels, result: 'success' });
    this.lastSnapshotBytes.set(this.labels, bytes);
    this.lastSnapshotKeys.set(this.labels, keys);
    this.lastSnapshotSuccess.set(this.labels, Date.now() / 1000);
  }

  snapshotEnded(result: Exclude<SnapshotResult, 'success'>): void {
    this.snapshots.inc({ ...this.labels, result });
  }

  restoreFailed(): void {
    this.restoreFailures.inc(this.labels);
  }

  restored(seconds: number, keys: number, expired: number): void {
    this.restoreDuration.observe(this.labels, seconds);
    this.lastRestoreKeys.set(this.labels, keys);
    this.lastRestoreExpired.set(this.labels, expired);
  }
}
