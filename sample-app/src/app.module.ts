import { CacheModule } from '@nestjs/cache-manager';
import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConfigModule } from '@nestjs/config';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { ThrottlerModule } from '@nestjs/throttler';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import type { Redis } from 'ioredis';
import {
  CACHE,
  PersistentCacheHealthIndicator,
  PersistentCacheModule,
} from 'nestjs-persistent-cache';
import { persistentCacheConfig } from 'nestjs-persistent-cache/config';
import { PersistentCacheKeyvStore } from 'nestjs-persistent-cache/keyv';
import { PersistentCacheThrottlerStorage } from 'nestjs-persistent-cache/throttler';
import { CacheFullFilter } from './cache-full.filter';
import { HealthController } from './health.controller';
import { KvController } from './kv.controller';
import { LeaderboardController } from './leaderboard.controller';
import { ReportsController } from './reports.controller';

@Module({
  imports: [
    ConfigModule.forRoot({ load: [persistentCacheConfig] }),
    ScheduleModule.forRoot(),
    PrometheusModule.register(),
    TerminusModule,
    // PERSISTENT_CACHE_MODE=redis with PERSISTENT_CACHE_REDIS_URL=redis://… switches the cache to a real Redis
    // (PERSISTENT_CACHE_REDIS_CLUSTER_NODES to a Redis Cluster, PERSISTENT_CACHE_REDIS_SENTINELS through Sentinel).
    // Global: the integrations below take its client (the CACHE token) for their stores.
    PersistentCacheModule.forRootAsync({ ...persistentCacheConfig.asProvider(), isGlobal: true }),
    // @nestjs/cache-manager (CacheInterceptor, @CacheTTL) keeps responses in the cache, as keys http:<url>; an
    // entry written with no TTL (no @CacheTTL, no per-call ttl) expires after defaultTtl.
    CacheModule.registerAsync({
      inject: [CACHE],
      useFactory: (redis: Redis) => ({
        stores: new PersistentCacheKeyvStore(redis, { defaultTtl: '10m' }),
        namespace: 'http',
      }),
    }),
    // @nestjs/throttler counts requests in the cache; ThrottlerGuard applies it where it is used (ReportsController).
    ThrottlerModule.forRootAsync({
      inject: [CACHE],
      useFactory: (redis: Redis) => ({
        throttlers: [{ ttl: 60_000, limit: 5 }],
        storage: new PersistentCacheThrottlerStorage(redis),
      }),
    }),
  ],
  controllers: [KvController, LeaderboardController, ReportsController, HealthController],
  providers: [PersistentCacheHealthIndicator, { provide: APP_FILTER, useClass: CacheFullFilter }],
})
export class AppModule {}
