import {
  type DynamicModule,
  Inject,
  Logger,
  Module,
  OnApplicationBootstrap,
  OnApplicationShutdown,
  OnModuleInit,
} from '@nestjs/common';
import { ModulesContainer } from '@nestjs/core';
import type { Redis } from 'ioredis';
import { createEmbeddedClient } from './ioredis-mock/adapter';
import { Keyspace } from './keyspace/keyspace';
import {
  CACHE_INSTANCE,
  CACHE_NAME,
  CLIENT,
  KEYSPACE,
  RESOLVED_OPTIONS,
  SNAPSHOT_STORE,
  SNAPSHOTS,
} from './persistent-cache.constants';
import type { ResolvedPersistentCacheOptions } from './persistent-cache.interfaces';
import { closeClient, openRedisClient } from './persistent-cache.client';
import { ActiveExpiryService } from './persistent-cache.expiry';
import { metricProviders, PersistentCacheMetrics } from './snapshots/snapshot.metrics';
import { redisMetricProviders, RedisMetricsService } from './persistent-cache.redis-metrics';
import {
  ConfigurableModuleClass,
  PERSISTENT_CACHE_OPTIONS,
  type PersistentCacheAsyncOptions,
  type PersistentCacheRootOptions,
} from './persistent-cache.module-definition';
import {
  APP_ABANDONED,
  APP_NOT_CLOSED,
  CLOSE_FAILED,
  INVALID_OPTION,
  TAKEN_OVER_WHILE_STARTING,
} from './persistent-cache.messages';
import {
  closeAbandoned,
  unwatch,
  watch,
  type UnclosedReason,
  type WatchedCache,
} from './persistent-cache.lifecycle';
import { LOG_CONTEXT } from './util/log-context';
import { messageOf } from './util/errors';
import { resolveOptions } from './persistent-cache.options';
import { type CacheInstance, registerCache, unregisterCache } from './persistent-cache.registry';
import { SnapshotService } from './snapshots/snapshot.service';
import { SnapshotStore } from './store/snapshot-store';

const logger = new Logger(LOG_CONTEXT);

/**
 * Nest runs the lifecycle hooks module by module in the order of their depth in the import graph: the deepest first
 * at startup and last at shutdown, global modules counting as deepest of all. The cache's module takes a place deeper
 * than any (`Infinity`), found here by its keyspace: its restore runs before any other module's `onModuleInit` (whose
 * writes it would otherwise replace), and its final snapshot after every other module's shutdown hooks, global ones
 * included (whose writes it would otherwise refuse, or leave out).
 */
function placeDeepest(container: ModulesContainer, keyspace: Keyspace): void {
  for (const moduleRef of container.values()) {
    if (moduleRef.providers.get(KEYSPACE)?.instance === keyspace) moduleRef.distance = Infinity;
  }
}

/**
 * An embedded, durable, Redis-compatible cache: `PersistentCacheModule.forRoot({...})` or
 * `forRootAsync({ useFactory | useClass | useExisting, ... })`, with `isGlobal` and `name` as extras. Each `name`
 * is a cache of its own (client, keyspace, data directory, snapshot job, metrics label, health result).
 *
 * With `mode: 'redis'` the same `CACHE` token is a real ioredis client (a `Redis`, or a `Cluster` with
 * `redis.cluster`) instead: no snapshot store is opened and no snapshot job runs, since Redis keeps its own data.
 * The application starts even when that Redis cannot be reached yet, but not when it refuses the database (see
 * {@link openRedisClient}).
 *
 * The host application imports `ScheduleModule.forRoot()` (for periodic snapshots), and `PrometheusModule.register()`
 * to serve `/metrics`; this module does neither itself.
 */
@Module({
  providers: [
    {
      provide: RESOLVED_OPTIONS,
      useFactory: (options: unknown) => resolveOptions(options),
      inject: [PERSISTENT_CACHE_OPTIONS],
    },
    {
      provide: KEYSPACE,
      useFactory: ({ memory }: ResolvedPersistentCacheOptions) => {
        const keyspace = new Keyspace();
        keyspace.memory.maxBytes = memory.maxBytes;
        keyspace.memory.samples = memory.samples;
        keyspace.setPolicy(memory.policy);
        return keyspace;
      },
      inject: [RESOLVED_OPTIONS],
    },
    {
      provide: SNAPSHOT_STORE,
      useFactory: async (
        { persistence }: ResolvedPersistentCacheOptions,
        container: ModulesContainer,
      ): Promise<SnapshotStore | null> => {
        if (!persistence.enabled) return null;
        // An application of this process whose bootstrap failed may still hold the directory (see lifecycle).
        await closeAbandoned(persistence.dataDir, container);
        return new SnapshotStore(persistence.dataDir);
      },
      inject: [RESOLVED_OPTIONS, ModulesContainer],
    },
    {
      provide: CLIENT,
      useFactory: async (
        { mode, redis }: ResolvedPersistentCacheOptions,
        keyspace: Keyspace,
      ): Promise<Redis> =>
        mode === 'redis' && redis !== undefined
          ? // A Cluster answers the same commands as a Redis; the token is typed as the one users inject.
            ((await openRedisClient(redis)) as Redis)
          : createEmbeddedClient(keyspace),
      inject: [RESOLVED_OPTIONS, KEYSPACE],
    },
    ...metricProviders,
    PersistentCacheMetrics,
    ...redisMetricProviders,
    RedisMetricsService,
    { provide: SNAPSHOTS, useClass: SnapshotService },
    ActiveExpiryService,
    {
      provide: CACHE_INSTANCE,
      useFactory: (
        container: ModulesContainer,
        name: string | null,
        options: ResolvedPersistentCacheOptions,
        client: Redis,
        snapshots: SnapshotService,
        keyspace: Keyspace,
      ): CacheInstance => {
        placeDeepest(container, keyspace);
        return registerCache(container, { name, options, client, snapshots, keyspace });
      },
      inject: [ModulesContainer, CACHE_NAME, RESOLVED_OPTIONS, CLIENT, SNAPSHOTS, KEYSPACE],
    },
  ],
  // The exports depend on the cache's name: see `persistent-cache.module-definition.ts`.
})
export class PersistentCacheModule
  extends ConfigurableModuleClass
  implements OnModuleInit, OnApplicationBootstrap, OnApplicationShutdown
{
  /** This cache, as the owner of caches whose app is never closed sees it (see `persistent-cache.lifecycle.ts`). */
  private readonly watched: WatchedCache;
  /** The application finished its bootstrap. */
  private bootstrapped = false;
  /** Another application of the process took the data directory over while this one was starting. */
  private takenOver = false;

  /** The cache with `options`; `forRoot()` alone is the default cache with every default. */
  static forRoot(options: PersistentCacheRootOptions = {}): DynamicModule {
    return super.forRoot(options);
  }

  /** The cache with options from a factory, a class or an existing provider (`useFactory`, `useClass`, `useExisting`). */
  static forRootAsync(options: PersistentCacheAsyncOptions): DynamicModule {
    const given = options as Partial<PersistentCacheAsyncOptions> | undefined;
    if (
      typeof given !== 'object' ||
      given === null ||
      (given.useFactory === undefined &&
        given.useClass === undefined &&
        given.useExisting === undefined)
    ) {
      throw new Error(
        INVALID_OPTION(
          'forRootAsync',
          'an object with useFactory, useClass or useExisting',
          options,
        ),
      );
    }
    return super.forRootAsync(options);
  }

  constructor(
    @Inject(RESOLVED_OPTIONS) private readonly options: ResolvedPersistentCacheOptions,
    @Inject(CLIENT) private readonly client: Redis,
    @Inject(SNAPSHOT_STORE) private readonly store: SnapshotStore | null,
    @Inject(CACHE_INSTANCE) private readonly instance: CacheInstance,
    @Inject(KEYSPACE) private readonly keyspace: Keyspace,
    private readonly container: ModulesContainer,
    @Inject(SNAPSHOTS) private readonly snapshots: SnapshotService,
    private readonly expiry: ActiveExpiryService,
  ) {
    super();
    const { persistence } = options;
    this.watched = {
      close: (reason) => this.closeUnclosed(reason),
      exit: () => this.exitUnclosed(),
      claim: persistence.enabled
        ? { dataDir: persistence.dataDir, app: container, bootstrapped: () => this.bootstrapped }
        : undefined,
    };
  }

  /**
   * Runs once the cache's providers have started (its restore done): from here until its shutdown, a process left
   * with nothing to do, or exiting, without `app.close()` (a bootstrap that failed after this point) closes it.
   */
  onModuleInit(): void {
    watch(this.watched);
  }

  /**
   * The application started: from now on its cache is closed by `app.close()`, never taken over by another
   * application of the process (see `persistent-cache.lifecycle.ts`). One whose cache was taken over while it started
   * fails its bootstrap here, rather than run on a closed cache.
   */
  onApplicationBootstrap(): void {
    if (this.takenOver)
      throw new Error(TAKEN_OVER_WHILE_STARTING(this.options.persistence.dataDir));
    this.bootstrapped = true;
  }

  /** Runs after the providers' shutdown hooks (the final snapshot among them): the owner closes what it opened. */
  async onApplicationShutdown(): Promise<void> {
    unwatch(this.watched);
    unregisterCache(this.container, this.instance);
    if (this.options.mode === 'redis') {
      await closeClient(this.client);
    } else {
      // Closes the client and its duplicates, if the snapshot service has not already (it does before its snapshot).
      this.keyspace.stopServing();
    }
    await this.store?.close();
  }

  /**
   * The app was never closed, and the process has nothing left to do (`idle`), or another application of it claims
   * the data directory (`taken-over`): closed as `app.close()` would.
   */
  private async closeUnclosed(reason: UnclosedReason): Promise<void> {
    const { enabled, dataDir } = this.options.persistence;
    if (reason === 'taken-over') {
      this.takenOver = true;
      logger.warn(APP_ABANDONED(dataDir));
    } else if (enabled) {
      logger.warn(APP_NOT_CLOSED(dataDir));
    }
    try {
      await this.snapshots.onApplicationShutdown(); // the final snapshot, if the startup restore succeeded
      await this.expiry.onApplicationShutdown();
      await this.onApplicationShutdown();
    } catch (error) {
      logger.error(CLOSE_FAILED(messageOf(error)));
    }
  }

  /** The process exits and the app was never closed: the data directory is given up if no write would be lost. */
  private exitUnclosed(): void {
    const changed = this.keyspace.changedCount;
    const unsaved = changed === undefined ? this.keyspace.size > 0 : changed > 0;
    if (!unsaved) this.store?.giveUpClaimAtExit();
  }
}
