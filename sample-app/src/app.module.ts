import { Module } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { ConfigModule } from '@nestjs/config';
import { ScheduleModule } from '@nestjs/schedule';
import { TerminusModule } from '@nestjs/terminus';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { PersistentCacheHealthIndicator, PersistentCacheModule } from 'nestjs-persistent-cache';
import { persistentCacheConfig } from 'nestjs-persistent-cache/config';
import { CacheFullFilter } from './cache-full.filter';
import { HealthController } from './health.controller';
import { KvController } from './kv.controller';
import { LeaderboardController } from './leaderboard.controller';

@Module({
  imports: [
    ConfigModule.forRoot({ load: [persistentCacheConfig] }),
    ScheduleModule.forRoot(),
    PrometheusModule.register(),
    TerminusModule,
    // PERSISTENT_CACHE_MODE=redis with PERSISTENT_CACHE_REDIS_URL=redis://… switches the cache to a real Redis
    // (PERSISTENT_CACHE_REDIS_CLUSTER_NODES to a Redis Cluster, PERSISTENT_CACHE_REDIS_SENTINELS through Sentinel).
    PersistentCacheModule.forRootAsync(persistentCacheConfig.asProvider()),
  ],
  controllers: [KvController, LeaderboardController, HealthController],
  providers: [PersistentCacheHealthIndicator, { provide: APP_FILTER, useClass: CacheFullFilter }],
})
export class AppModule {}
