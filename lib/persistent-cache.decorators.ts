import { Inject } from '@nestjs/common';
import { CACHE } from './persistent-cache.constants';

/** Injects the cache client (an ioredis `Redis`): `constructor(@InjectCache() private readonly redis: Redis)`. */
export const InjectCache = (): PropertyDecorator & ParameterDecorator => Inject(CACHE);
