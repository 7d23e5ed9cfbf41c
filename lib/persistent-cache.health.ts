import { Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { HealthIndicatorService } from '@nestjs/terminus';
import { Cluster, type Redis } from 'ioredis';
import {
  clusterHealth,
  type PersistentCacheClusterNodeHealth,
} from './persistent-cache.cluster-health';
import { describeRedisTarget, lastConnectionError } from './persistent-cache.client';
import type { Keyspace } from './keyspace/keyspace';
import { CACHE, KEYSPACE, RESOLVED_OPTIONS } from './persistent-cache.constants';
import type { CacheMode, ResolvedPersistentCacheOptions } from './persistent-cache.interfaces';
import { SnapshotService } from './snapshots/snapshot.service';
import { withTimeout } from './util/timeout';
import { messageOf } from './util/errors';
import {
  HEALTH_LAST_SNAPSHOT_FAILED,
  HEALTH_OUT_OF_MEMORY,
  HEALTH_PROVIDER_MISSING,
  HEALTH_SNAPSHOT_TOO_OLD,
  HEALTH_UNSTORABLE_KEYS,
  TERMINUS_MISSING,
} from './persistent-cache.messages';

/** How long the health check waits for Redis to answer PING in `redis` mode. */
export const HEALTH_PING_TIMEOUT_MS = 1_000;

/** What the indicator reports besides `status`; which fields are set depends on the mode and the state. */
export interface PersistentCacheHealthDetails {
  readonly mode: CacheMode;
  /** Why the cache is down. */
  readonly message?: string;
  /** Embedded mode with persistence off. */
  readonly persistence?: 'disabled';
  /** Embedded mode with `persistence.snapshotInterval` 0. */
  readonly periodicSnapshots?: 'disabled';
  /**
   * ISO time of the point in time the last successful snapshot holds; before the first since startup, the restored
   * one's.
   */
  readonly lastSnapshotAt?: string;
  /** Keys in the last successful snapshot. */
  readonly lastSnapshotKeys?: number;
  /** Milliseconds since the last successful snapshot began (or since startup, when there has been none). */
  readonly snapshotAgeMs?: number;
  /** The age above which the indicator reports down: `health.maxSnapshotAgeIntervals` × the interval. */
  readonly maxSnapshotAgeMs?: number;
  /** ISO time of the last snapshot's failure, when the last snapshot failed. */
  readonly lastFailureAt?: string;
  /** Embedded mode: the keys' estimated bytes (`INFO memory`'s `used_memory`). */
  readonly memoryBytes?: number;
  /** Embedded mode: the memory limit in bytes, 0 for none. */
  readonly maxMemoryBytes?: number;
  /** Redis mode: where the client connects (never with a password). */
  readonly redis?: string;
  /** Redis mode: the ioredis connection status (`ready`, `reconnecting`, …). */
  readonly connection?: string;
  /** Redis mode: PING's round trip in milliseconds (on a cluster, each node's is in `nodes`). */
  readonly pingMs?: number;
  /** Redis through Sentinel: the `host:port` of the primary the client is connected to now. */
  readonly primary?: string;
  /** Redis Cluster: `cluster_state` as the first reachable primary reports it. */
  readonly clusterState?: string;
  /** Redis Cluster: each primary, with the slots it serves and whether it answered PING. */
  readonly nodes?: readonly PersistentCacheClusterNodeHealth[];
}

/**
 * The indicator's result, shaped like `@nestjs/terminus`'s `HealthIndicatorResult` (so it can be returned from a
 * `HealthCheckService.check([...])` function) without naming terminus's types in this library's public types.
 */
export type PersistentCacheHealthResult<Key extends string = string> = Record<
  Key,
  { status: 'up' | 'down' } & PersistentCacheHealthDetails
>;

type Terminus = typeof import('@nestjs/terminus');

/** `@nestjs/terminus` is an optional peer dependency: it is loaded when the indicator is first used. */
function loadTerminus(): Terminus {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require('@nestjs/terminus') as Terminus;
  } catch (error) {
    throw new Error(TERMINUS_MISSING(messageOf(error)));
  }
}

/**
 * A `@nestjs/terminus` health indicator of the cache.
 *
 * - Embedded mode: **down** when the last snapshot failed (with its error and time), when it left out keys whose
 *   values cannot be stored (naming them), or when the last successful
 *   snapshot — or the startup, before the first one — is older than `health.maxSnapshotAgeIntervals` ×
 *   `persistence.snapshotInterval`; **up** otherwise, with the age, time and key count of the last snapshot. With
 *   periodic snapshots off (interval 0) only a failure makes it down; with persistence off it is always up
 *   (`persistence: 'disabled'`).
 * - Redis mode: PINGs the client (waiting at most {@link HEALTH_PING_TIMEOUT_MS}); **down** with the error when
 *   PING fails or is not answered in time. On a Redis Cluster it PINGs every primary and reports each with its
 *   slots; **down** when some slot range has no primary that answers, or the cluster's own state is not `ok`.
 *   Through Sentinel it also reports the primary the client is connected to (`primary`).
 *
 * **Wiring.** `@nestjs/terminus` is an optional peer dependency: nothing in this library loads it unless this
 * indicator is used, so applications without health checks need not install it. To use it, install
 * `@nestjs/terminus` and list the indicator as a provider of a module that imports `TerminusModule`:
 *
 *     @Module({ imports: [TerminusModule], controllers: [HealthController], providers: [PersistentCacheHealthIndicator] })
 *     export class HealthModule {}
 *
 *     @Get('health') @HealthCheck()
 *     check() { return this.health.check([() => this.cache.isHealthy('cache')]); }
 *
 * The module it is provided in does not need to import `PersistentCacheModule`: like terminus's own indicators it
 * finds the cache anywhere in the application (the first `PersistentCacheModule` when there are several). Startup
 * fails with a clear error when `TerminusModule` or `PersistentCacheModule` is missing.
 */
@Injectable()
export class PersistentCacheHealthIndicator implements OnModuleInit {
  private indicators!: HealthIndicatorService;
  private options!: ResolvedPersistentCacheOptions;
  private client!: Redis | Cluster;
  private snapshots!: SnapshotService;
  private keyspace!: Keyspace;
  /** Before the first snapshot, the age is counted from here. */
  private readonly startedAt = Date.now();

  constructor(private readonly moduleRef: ModuleRef) {}

  onModuleInit(): void {
    const terminus = loadTerminus();
    this.indicators = this.find(
      terminus.HealthIndicatorService,
      'HealthIndicatorService: import TerminusModule in the module that provides the indicator',
    );
    this.options = this.find(
      RESOLVED_OPTIONS,
      'PersistentCacheModule: import it in the application',
    );
    this.client = this.find(CACHE, 'the cache client');
    this.snapshots = this.find(SnapshotService, 'SnapshotService');
    this.keyspace = this.find(KEYSPACE, 'the embedded keyspace');
  }

  /** Reports the cache under `key` (e.g. `'cache'`); never throws. */
  async isHealthy<const Key extends string>(key: Key): Promise<PersistentCacheHealthResult<Key>> {
    const session = this.indicators.check(key);
    const { status, ...details } =
      this.options.mode === 'redis' ? await this.redisHealth() : this.embeddedHealth();
    const result = status === 'up' ? session.up(details) : session.down(details);
    return result;
  }

  private embeddedHealth(): HealthState {
    const { keyspace } = this;
    const memory = { memoryBytes: keyspace.usedBytes, maxMemoryBytes: keyspace.memory.maxBytes };
    const state = this.snapshotHealth();
    if (state.status === 'up' && keyspace.refusingWrites) {
      const message = HEALTH_OUT_OF_MEMORY(
        memory.memoryBytes,
        memory.maxMemoryBytes,
        keyspace.memory.policy,
      );
      return { ...state, status: 'down', message, ...memory };
    }
    return { ...state, ...memory };
  }

  private snapshotHealth(): HealthState {
    const { persistence, health } = this.options;
    if (!persistence.enabled) return { status: 'up', mode: 'embedded', persistence: 'disabled' };
    const last = this.snapshots.lastSnapshot;
    // Before the first snapshot since startup, the one the restore found.
    const restored = this.snapshots.restoredFrom;
    const lastSnapshot =
      last !== undefined
        ? { lastSnapshotAt: last.startedAt.toISOString(), lastSnapshotKeys: last.keys }
        : restored !== undefined
          ? { lastSnapshotAt: restored.at.toISOString(), lastSnapshotKeys: restored.keys }
          : {};
    const failure = this.snapshots.lastFailure;
    if (failure !== undefined) {
      return {
        status: 'down',
        mode: 'embedded',
        message: HEALTH_LAST_SNAPSHOT_FAILED(failure.message),
        lastFailureAt: failure.at.toISOString(),
        ...lastSnapshot,
      };
    }
    if (last !== undefined && last.unstorable > 0) {
      return {
        status: 'down',
        mode: 'embedded',
        message: HEALTH_UNSTORABLE_KEYS(
          last.unstorable,
          last.unstorableKeys
            .slice(0, 3)
            .map((u) => u.message)
            .join('; '),
        ),
        ...lastSnapshot,
      };
    }
    const intervalMs = persistence.snapshotIntervalMs;
    if (intervalMs === 0) {
      return { status: 'up', mode: 'embedded', periodicSnapshots: 'disabled', ...lastSnapshot };
    }
    const since = last?.startedAt.getTime() ?? this.startedAt;
    const snapshotAgeMs = Math.max(0, Date.now() - since);
    const maxSnapshotAgeMs = health.maxSnapshotAgeIntervals * intervalMs;
    const age = { snapshotAgeMs, maxSnapshotAgeMs, ...lastSnapshot };
    if (snapshotAgeMs > maxSnapshotAgeMs) {
      return {
        status: 'down',
        mode: 'embedded',
        message: HEALTH_SNAPSHOT_TOO_OLD(
          snapshotAgeMs,
          last !== undefined,
          health.maxSnapshotAgeIntervals,
          intervalMs,
        ),
        ...age,
      };
    }
    return { status: 'up', mode: 'embedded', ...age };
  }

  private async redisHealth(): Promise<HealthState> {
    const redis = this.options.redis === undefined ? '' : describeRedisTarget(this.options.redis);
    if (this.client instanceof Cluster) {
      const health = await clusterHealth(this.client, HEALTH_PING_TIMEOUT_MS);
      return { mode: 'redis', redis, connection: this.client.status, ...health };
    }
    const started = Date.now();
    try {
      const reply = await withTimeout(
        this.client.ping(),
        HEALTH_PING_TIMEOUT_MS,
        `PING not answered within ${HEALTH_PING_TIMEOUT_MS} ms`,
      );
      if (reply !== 'PONG') throw new Error(`PING answered ${JSON.stringify(reply)}`);
      return {
        status: 'up',
        mode: 'redis',
        redis,
        connection: this.client.status,
        pingMs: Date.now() - started,
        ...this.sentinelPrimary(this.client),
      };
    } catch (error) {
      const cause = lastConnectionError(this.client);
      const message = messageOf(error);
      return {
        status: 'down',
        mode: 'redis',
        redis,
        connection: this.client.status,
        message:
          cause === undefined ? message : `${message} (last connection error: ${cause.message})`,
      };
    }
  }

  /**
   * Through Sentinel the configuration names the sentinels, not the server: the address the connection reached is
   * the primary they named, which changes with a failover.
   */
  private sentinelPrimary(client: Redis): { primary?: string } {
    const sentinels = this.options.redis?.options.sentinels;
    const { remoteAddress, remotePort } = client.stream ?? {};
    if (sentinels === undefined || sentinels.length === 0 || remotePort === undefined) return {};
    return { primary: `${remoteAddress?.replace(/^::ffff:/, '') ?? ''}:${remotePort}` };
  }

  private find<T>(
    token: string | symbol | (abstract new (...args: never[]) => T),
    what: string,
  ): T {
    try {
      return this.moduleRef.get<T>(token, { strict: false });
    } catch {
      throw new Error(HEALTH_PROVIDER_MISSING(what));
    }
  }
}

type HealthState = { status: 'up' | 'down' } & PersistentCacheHealthDetails;
