import { Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { ScheduleModule } from '@nestjs/schedule';
import { PrometheusModule } from '@willsoto/nestjs-prometheus';
import { PersistentCacheModule, persistentCacheConfig } from 'nestjs-persistent-cache';
import { KvController } from './kv.controller';
import { LeaderboardController } from './leaderboard.controller';

@Module({
  imports: [
    ConfigModule.forRoot({ load: [persistentCacheConfig] }),
    ScheduleModule.forRoot(),
    PrometheusModule.register(),
    PersistentCacheModule.forRootAsync(persistentCacheConfig.asProvider()),
  ],
  controllers: [KvController, LeaderboardController],
})
export class AppModule {}
