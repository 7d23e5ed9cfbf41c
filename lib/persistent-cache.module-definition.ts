import {
  ConfigurableModuleBuilder,
  type ConfigurableModuleOptionsFactory,
  type DynamicModule,
  type Provider,
} from '@nestjs/common';
import {
  CACHE_NAME,
  CLIENT,
  getCacheToken,
  getInjectionToken,
  getSnapshotServiceToken,
  SNAPSHOTS,
} from './persistent-cache.constants';
import type { PersistentCacheModuleOptions } from './persistent-cache.interfaces';
import { CACHE_NAME_ACCEPTED, INVALID_OPTION } from './persistent-cache.messages';
import { SnapshotService } from './snapshots/snapshot.service';

/** What `forRoot` and `forRootAsync` take next to the options themselves. */
export interface PersistentCacheExtras {
  /** Make the cache's client (and `SnapshotService`) injectable in every module. Default `false`. */
  isGlobal?: boolean;
  /**
   * A name for a second (third, …) cache of the application: its client is injected with `@InjectCache(name)`,
   * its `SnapshotService` with `@InjectSnapshotService(name)`, its periodic snapshot is scheduled as
   * `persistent-cache:snapshot:<name>`, and its metrics carry the label `cache="<name>"`. Leave it out for the
   * default cache (`@InjectCache()`, unlabelled metrics).
   */
  name?: string;
}

const NAME = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * The module's providers and exports for the cache `name`: the default cache exports the `CACHE` token and the
 * `SnapshotService` class, as it always has; a named one exports them under tokens of its own, so that several caches
 * can be imported side by side without one's client shadowing another's.
 */
function cacheDefinition(definition: DynamicModule, extras: PersistentCacheExtras): DynamicModule {
  const { name, isGlobal } = extras;
  if (name !== undefined && (typeof name !== 'string' || !NAME.test(name))) {
    throw new Error(INVALID_OPTION('name', CACHE_NAME_ACCEPTED, name));
  }
  const client = getCacheToken(name);
  const injected = getInjectionToken(name);
  const snapshots = name === undefined ? SnapshotService : getSnapshotServiceToken(name);
  const providers: Provider[] = [
    ...(definition.providers ?? []),
    { provide: CACHE_NAME, useValue: name ?? null },
    { provide: client, useExisting: CLIENT },
    // Through the public token: a test's `overrideProvider(CACHE)` reaches `@InjectCache()` too.
    { provide: injected, useExisting: client },
    { provide: snapshots, useExisting: SNAPSHOTS },
  ];
  return { ...definition, global: isGlobal, providers, exports: [client, injected, snapshots] };
}

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: PERSISTENT_CACHE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<PersistentCacheModuleOptions>({ moduleName: 'PersistentCache' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createPersistentCacheOptions')
  .setExtras<PersistentCacheExtras>({ isGlobal: false, name: undefined }, cacheDefinition)
  .build();

/** What a `useClass` / `useExisting` options provider implements. */
export type PersistentCacheOptionsFactory = ConfigurableModuleOptionsFactory<
  PersistentCacheModuleOptions,
  'createPersistentCacheOptions'
>;

/** What {@link PersistentCacheModule.forRoot} takes: the options, and `isGlobal` and `name`. */
export type PersistentCacheRootOptions = typeof OPTIONS_TYPE;

/** What {@link PersistentCacheModule.forRootAsync} takes: `useFactory` + `inject` + `imports`, `useClass` or `useExisting`, and `isGlobal` and `name`. */
export type PersistentCacheAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
