/**
 * `nestjs-persistent-cache/config`: the module's options read from environment variables, as a `@nestjs/config`
 * namespace. Kept out of the main entry point so that `@nestjs/config` is needed only by apps that import this.
 */
export {
  optionsFromEnv,
  persistentCacheConfig,
  PERSISTENT_CACHE_ENV,
} from './persistent-cache.config';
