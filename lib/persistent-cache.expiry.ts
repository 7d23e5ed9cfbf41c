import { Inject, Injectable, Logger, OnApplicationShutdown, OnModuleInit } from '@nestjs/common';
import { performance } from 'node:perf_hooks';
import { expireCycle } from './keyspace/active-expiry';
import type { Keyspace } from './keyspace/keyspace';
import { KEYSPACE, RESOLVED_OPTIONS } from './persistent-cache.constants';
import type { ResolvedPersistentCacheOptions } from './persistent-cache.interfaces';
import { messageOf } from './util/errors';
import { LOG_CONTEXT } from './util/log-context';
import { PersistentCacheMetrics } from './snapshots/snapshot.metrics';
import { runInSlices } from './util/slices';

/** How often a cycle starts (Redis's default `hz` of 10). */
export const EXPIRE_CYCLE_INTERVAL_MS = 100;
/** The longest a cycle runs: a quarter of the interval, as Redis's slow cycle allows itself 25% of the CPU. */
const EXPIRE_CYCLE_BUDGET_MS = 25;
/** A cycle gives the event loop a turn at least this often. */
const SLICE_MS = 1;

/**
 * Runs active expiry on the embedded keyspace every {@link EXPIRE_CYCLE_INTERVAL_MS} (see
 * `keyspace/active-expiry.ts`), in slices of {@link SLICE_MS}, and after each cycle updates the keyspace's metrics. It
 * starts with the module and stops at shutdown; its timer never keeps the process alive on its own. With
 * `mode: 'redis'` it does nothing: Redis expires its own keys.
 */
@Injectable()
export class ActiveExpiryService implements OnModuleInit, OnApplicationShutdown {
  private readonly logger = new Logger(LOG_CONTEXT);
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<unknown> | undefined;
  /** {@link Keyspace.expiredKeys} as last reported to the metrics. */
  private expiredReported = 0;

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedPersistentCacheOptions,
    @Inject(KEYSPACE) private readonly keyspace: Keyspace,
    private readonly metrics: PersistentCacheMetrics,
  ) {}

  onModuleInit(): void {
    if (this.options.mode === 'redis') return;
    this.timer = setInterval(() => this.tick(), EXPIRE_CYCLE_INTERVAL_MS);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Updates the keyspace's metrics (`persistent_cache_keys`, `persistent_cache_expired_keys_total`). */
  private report(): void {
    const expired = this.keyspace.expiredKeys;
    this.metrics.keyspaceSeen(this.keyspace.size, expired - this.expiredReported);
    this.expiredReported = expired;
  }

  /** Starts a cycle unless the last one still runs. */
  private tick(): void {
    if (this.running !== undefined) return;
    const deadline = performance.now() + EXPIRE_CYCLE_BUDGET_MS;
    this.running = runInSlices(expireCycle(this.keyspace, deadline), SLICE_MS)
      .catch((error: unknown) => this.logger.error(`Active expiry failed: ${messageOf(error)}`))
      .finally(() => {
        this.running = undefined;
        this.report();
      });
  }
}
