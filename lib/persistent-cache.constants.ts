/** Injection token of the cache client (an ioredis `Redis`). Prefer the {@link InjectCache} decorator. */
export const CACHE = 'PERSISTENT_CACHE_CLIENT';

/** Name under which the periodic snapshot is registered in `@nestjs/schedule`'s `SchedulerRegistry`. */
export const SNAPSHOT_INTERVAL_NAME = 'persistent-cache:snapshot';

/** Namespace of the `registerAs` configuration factory ({@link persistentCacheConfig}). */
export const CONFIG_NAMESPACE = 'persistentCache';

/**
 * Injection token of the client of the cache named `name` (`forRoot({ name, … })`); {@link CACHE} for the default,
 * unnamed cache, so that apps with one cache keep the token they have always used.
 */
export function getCacheToken(name?: string): string {
  return name === undefined ? CACHE : `${CACHE}:${name}`;
}

/**
 * @internal what `@InjectCache(name)` injects: the client of {@link getCacheToken} under a symbol whose description
 * says what to do when Nest cannot find it. Nest's "can't resolve dependencies" error names the missing token and
 * nothing else of the library's, so a feature module that neither imports the module nor sees a global one reads
 * the fix there. `Symbol.for`: the same token from every copy of the library in a process.
 */
export function getInjectionToken(name?: string): symbol {
  return Symbol.for(
    `${getCacheToken(name)}: import PersistentCacheModule once (isGlobal: true, or re-export it from the module ` +
      'that imports it) to inject it here',
  );
}

/** Injection token of the `SnapshotService` of the cache named `name`; the class itself for the default cache. */
export function getSnapshotServiceToken(name: string): string {
  return `PERSISTENT_CACHE_SNAPSHOTS:${name}`;
}

/** The periodic snapshot's interval name of the cache named `name`: each cache schedules its own. */
export function getSnapshotIntervalName(name?: string | null): string {
  return name === undefined || name === null
    ? SNAPSHOT_INTERVAL_NAME
    : `${SNAPSHOT_INTERVAL_NAME}:${name}`;
}

/** @internal tokens of the module's own providers. */
export const RESOLVED_OPTIONS = Symbol('PersistentCache:resolvedOptions');
export const KEYSPACE = Symbol('PersistentCache:keyspace');
export const SNAPSHOT_STORE = Symbol('PersistentCache:snapshotStore');
/**
 * @internal the module's own client and `SnapshotService`: exported as {@link CACHE} and the class for the default
 * cache, under {@link getCacheToken} and {@link getSnapshotServiceToken} for a named one. A named cache never holds
 * a provider under the default's tokens, so that `app.get(CACHE)` cannot find it instead of the default cache.
 */
export const CLIENT = Symbol('PersistentCache:client');
export const SNAPSHOTS = Symbol('PersistentCache:snapshots');
/** @internal the cache's name (`null` for the default cache), as given to `forRoot` / `forRootAsync`. */
export const CACHE_NAME = Symbol('PersistentCache:name');
/** @internal the cache as the application's registry of caches knows it (see `persistent-cache.registry.ts`). */
export const CACHE_INSTANCE = Symbol('PersistentCache:instance');
