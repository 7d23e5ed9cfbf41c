/**
 * The public API. Helpers that read the configuration through `@nestjs/config` are in the `/config` subpath
 * (`nestjs-persistent-cache/config`), so that an app without `@nestjs/config` can use everything here.
 */
export { PersistentCacheModule } from './persistent-cache.module';
export type {
  PersistentCacheAsyncOptions,
  PersistentCacheExtras,
  PersistentCacheOptionsFactory,
  PersistentCacheRootOptions,
} from './persistent-cache.module-definition';
export {
  CACHE,
  getCacheToken,
  getSnapshotIntervalName,
  getSnapshotServiceToken,
  SNAPSHOT_INTERVAL_NAME,
} from './persistent-cache.constants';
export { InjectCache, InjectSnapshotService } from './persistent-cache.decorators';
export type {
  CacheMode,
  HealthOptions,
  MaxMemoryPolicy,
  MemoryOptions,
  PersistentCacheModuleOptions,
  PersistenceOptions,
  RedisConnectionOptions,
  RestoreErrorPolicy,
} from './persistent-cache.interfaces';
export { DEFAULTS } from './persistent-cache.options';
export { METRICS } from './snapshots/snapshot.metrics';
export { SnapshotService } from './snapshots/snapshot.service';
export type {
  RestoreReport,
  SnapshotFailure,
  SnapshotKind,
  SnapshotReport,
} from './snapshots/snapshot-reports';
export type { UnstorableKey } from './snapshots/snapshot-copy';
export { StoreEnvironmentError, UnreadableSnapshotError } from './store/snapshot-store';
export { PersistentCacheHealthIndicator } from './persistent-cache.health';
export type { PersistentCacheClusterNodeHealth } from './persistent-cache.cluster-health';
export type {
  PersistentCacheHealthDetails,
  PersistentCacheHealthResult,
} from './persistent-cache.health';
