/**
 * `nestjs-persistent-cache/throttler`: a `@nestjs/throttler` storage on the cache. Kept out of the main entry point
 * so that only apps that import this need `@nestjs/throttler` installed (it is used for its types only).
 */
export { PersistentCacheThrottlerStorage } from './persistent-cache.throttler-storage';
export type { ThrottlerRecord } from './persistent-cache.throttler-storage';
