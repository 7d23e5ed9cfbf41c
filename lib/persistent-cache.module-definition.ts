import { ConfigurableModuleBuilder, type ConfigurableModuleOptionsFactory } from '@nestjs/common';
import type { PersistentCacheModuleOptions } from './persistent-cache.interfaces';

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: PERSISTENT_CACHE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<PersistentCacheModuleOptions>({ moduleName: 'PersistentCache' })
  .setClassMethodName('forRoot')
  .setFactoryMethodName('createPersistentCacheOptions')
  .setExtras({ isGlobal: false }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();

/** What a `useClass` / `useExisting` options provider implements. */
export type PersistentCacheOptionsFactory = ConfigurableModuleOptionsFactory<
  PersistentCacheModuleOptions,
  'createPersistentCacheOptions'
>;

/** What {@link PersistentCacheModule.forRootAsync} takes: `useFactory` + `inject` + `imports`, `useClass` or `useExisting`, and `isGlobal`. */
export type PersistentCacheAsyncOptions = typeof ASYNC_OPTIONS_TYPE;
