/** Injection token of the cache client (an ioredis `Redis`). Prefer the {@link InjectCache} decorator. */
export const CACHE = 'PERSISTENT_CACHE_CLIENT';

/** Name under which the periodic snapshot is registered in `@nestjs/schedule`'s `SchedulerRegistry`. */
export const SNAPSHOT_INTERVAL_NAME = 'persistent-cache:snapshot';

/** Namespace of the `registerAs` configuration factory ({@link persistentCacheConfig}). */
export const CONFIG_NAMESPACE = 'persistentCache';

/** @internal tokens of the module's own providers. */
export const RESOLVED_OPTIONS = Symbol('PersistentCache:resolvedOptions');
export const KEYSPACE = Symbol('PersistentCache:keyspace');
export const SNAPSHOT_STORE = Symbol('PersistentCache:snapshotStore');
