export { PersistentCacheModule } from './persistent-cache.module';
export type { PersistentCacheOptionsFactory } from './persistent-cache.module-definition';
export { CACHE, SNAPSHOT_INTERVAL_NAME } from './persistent-cache.constants';
export { InjectCache } from './persistent-cache.decorators';
export {
  persistentCacheConfig,
  optionsFromEnv,
  PERSISTENT_CACHE_ENV,
} from './persistent-cache.config';
export type {
  CacheMode,
  HealthOptions,
  PersistentCacheModuleOptions,
  PersistenceOptions,
  RedisConnectionOptions,
  ResolvedPersistentCacheOptions,
  RestoreErrorPolicy,
} from './persistent-cache.interfaces';
export { DEFAULTS, parseDuration, resolveOptions } from './persistent-cache.options';
export { METRICS } from './persistent-cache.metrics';
export { SnapshotService } from './snapshot.service';
export type { SnapshotReport, SnapshotFailure, RestoreReport } from './snapshot.service';
export type { UnstorableKey } from './snapshot-copy';
export { FORMAT_VERSION, STORE_FILE } from './store/snapshot-store';
export { HEALTH_PING_TIMEOUT_MS, PersistentCacheHealthIndicator } from './persistent-cache.health';
export type {
  PersistentCacheHealthDetails,
  PersistentCacheHealthResult,
} from './persistent-cache.health';
