import { CacheInterceptor, CacheTTL } from '@nestjs/cache-manager';
import { Controller, Get, Param, UseGuards, UseInterceptors } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { Redis } from 'ioredis';
import { InjectCache } from 'nestjs-persistent-cache';

/** What `GET /reports/leaderboards/:board` answers. */
export interface LeaderboardReport {
  board: string;
  players: number;
  leader: { player: string; score: number } | null;
  generatedAt: string;
}

/**
 * `GET /reports/leaderboards/:board`: a summary of a leaderboard, through Nest's own Redis integrations on the
 * cache (see app.module.ts). `@nestjs/throttler` lets each client make 5 requests a minute (the 6th answers 429),
 * counting them in the cache; `@nestjs/cache-manager` keeps each answer 30 seconds in the cache, under the key
 * `http:<url>`, so a second request within that time gets the same report, `generatedAt` included, even if the
 * board has changed since. Both are ordinary keys of the cache: they survive a restart like any other.
 */
@Controller('reports')
@UseGuards(ThrottlerGuard)
@UseInterceptors(CacheInterceptor)
export class ReportsController {
  constructor(@InjectCache() private readonly redis: Redis) {}

  @Get('leaderboards/:board')
  @CacheTTL(30_000) // milliseconds
  async leaderboard(@Param('board') board: string): Promise<LeaderboardReport> {
    const key = `leaderboard:${board}`;
    const [players, top] = await Promise.all([
      this.redis.zcard(key),
      this.redis.zrevrange(key, 0, 0, 'WITHSCORES'),
    ]);
    return {
      board,
      players,
      leader: top.length === 0 ? null : { player: top[0], score: Number(top[1]) },
      generatedAt: new Date().toISOString(),
    };
  }
}
