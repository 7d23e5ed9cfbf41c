import { Inject } from '@nestjs/common';
import { getInjectionToken, getSnapshotServiceToken } from './persistent-cache.constants';

/**
 * Injects the cache client (an ioredis `Redis`): `constructor(@InjectCache() private readonly redis: Redis)`, or the
 * client of a named cache with `@InjectCache('sessions')` (`forRoot({ name: 'sessions', … })`).
 */
export const InjectCache = (name?: string): PropertyDecorator & ParameterDecorator =>
  Inject(getInjectionToken(name));

/**
 * Injects the `SnapshotService` of the cache named `name`. The default cache's is injected by its class, as before:
 * `constructor(private readonly snapshots: SnapshotService)`.
 */
export const InjectSnapshotService = (name: string): PropertyDecorator & ParameterDecorator =>
  Inject(getSnapshotServiceToken(name));
