import { Inject, Module, OnApplicationShutdown } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { createEmbeddedClient } from './embedded/ioredis-mock.adapter';
import { Keyspace } from './embedded/keyspace';
import { CACHE, KEYSPACE, RESOLVED_OPTIONS, SNAPSHOT_STORE } from './persistent-cache.constants';
import type { ResolvedPersistentCacheOptions } from './persistent-cache.interfaces';
import { metricProviders, PersistentCacheMetrics } from './persistent-cache.metrics';
import {
  ConfigurableModuleClass,
  PERSISTENT_CACHE_OPTIONS,
} from './persistent-cache.module-definition';
import { resolveOptions } from './persistent-cache.options';
import { SnapshotService } from './snapshot.service';
import { SnapshotStore } from './store/snapshot-store';

/**
 * An embedded, durable, Redis-compatible cache: `PersistentCacheModule.forRoot({...})` or
 * `forRootAsync({ useFactory | useClass | useExisting, ... })`, with `isGlobal` as an extra.
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
    { provide: KEYSPACE, useFactory: () => new Keyspace() },
    {
      provide: SNAPSHOT_STORE,
      useFactory: ({ persistence }: ResolvedPersistentCacheOptions) =>
        persistence.enabled ? new SnapshotStore(persistence.dataDir) : null,
      inject: [RESOLVED_OPTIONS],
    },
    {
      provide: CACHE,
      useFactory: (keyspace: Keyspace) => createEmbeddedClient(keyspace),
      inject: [KEYSPACE],
    },
    ...metricProviders,
    PersistentCacheMetrics,
    SnapshotService,
  ],
  exports: [CACHE, SnapshotService],
})
export class PersistentCacheModule
  extends ConfigurableModuleClass
  implements OnApplicationShutdown
{
  constructor(
    @Inject(CACHE) private readonly client: Redis,
    @Inject(SNAPSHOT_STORE) private readonly store: SnapshotStore | null,
  ) {
    super();
  }

  /** Runs after the providers' shutdown hooks (the final snapshot among them): the owner closes what it opened. */
  async onApplicationShutdown(): Promise<void> {
    this.client.disconnect();
    await this.store?.close();
  }
}
