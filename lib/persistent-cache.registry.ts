import type { ModulesContainer } from '@nestjs/core';
import type { Cluster, Redis } from 'ioredis';
import type { Keyspace } from './keyspace/keyspace';
import type { ResolvedPersistentCacheOptions } from './persistent-cache.interfaces';
import type { SnapshotService } from './snapshots/snapshot.service';
import {
  DUPLICATE_CACHE_NAME,
  DUPLICATE_DEFAULT_CACHE,
  SHARED_DATA_DIR,
} from './persistent-cache.messages';

/** One cache of an application: what the health indicator reports on, and what the registry checks. */
export interface CacheInstance {
  /** `null` for the default, unnamed cache. */
  readonly name: string | null;
  readonly options: ResolvedPersistentCacheOptions;
  readonly client: Redis | Cluster;
  readonly snapshots: SnapshotService;
  readonly keyspace: Keyspace;
}

/**
 * The caches of each application, keyed by its `ModulesContainer` (one per application, and dropped with it).
 * Caches register while the application is being instantiated, before any of them opens its store: a second cache
 * of the same name, or on a data directory another cache uses, stops the bootstrap before either touches the disk.
 */
const registries = new WeakMap<ModulesContainer, CacheInstance[]>();

/**
 * Adds `cache` to the application's caches, or throws when it clashes with one of them. Two unnamed caches are the
 * module imported twice (`forRoot` in two modules), whatever their options: two caches behind one token, each
 * module's providers seeing one of them, and one set of unlabelled metrics for both.
 */
export function registerCache(container: ModulesContainer, cache: CacheInstance): CacheInstance {
  const caches = registries.get(container) ?? [];
  for (const other of caches) {
    if (cache.name === null && other.name === null) throw new Error(DUPLICATE_DEFAULT_CACHE);
    if (cache.name !== null && other.name === cache.name) {
      throw new Error(DUPLICATE_CACHE_NAME(cache.name));
    }
    const dir = cache.options.persistence;
    if (
      dir.enabled &&
      other.options.persistence.enabled &&
      other.options.persistence.dataDir === dir.dataDir
    ) {
      throw new Error(SHARED_DATA_DIR(dir.dataDir, other.name, cache.name));
    }
  }
  caches.push(cache);
  registries.set(container, caches);
  return cache;
}

/** Removes `cache` from its application's caches (at shutdown). */
export function unregisterCache(container: ModulesContainer, cache: CacheInstance): void {
  const caches = registries.get(container);
  const at = caches?.indexOf(cache) ?? -1;
  if (caches !== undefined && at >= 0) caches.splice(at, 1);
}

/** The application's caches, in the order they were instantiated. */
export function cachesOf(container: ModulesContainer): readonly CacheInstance[] {
  return registries.get(container) ?? [];
}
