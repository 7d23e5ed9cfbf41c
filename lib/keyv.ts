/**
 * `nestjs-persistent-cache/keyv`: a Keyv store on the cache, for `cache-manager` and `@nestjs/cache-manager`. Kept
 * out of the main entry point so that only apps that import this need `keyv` installed.
 */
export { PersistentCacheKeyvStore } from './persistent-cache.keyv-store';
export type { PersistentCacheKeyvStoreOptions } from './persistent-cache.keyv-store';
