import { BadRequestException, Body, Controller, Get, Param, Post, Query } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { InjectCache } from 'nestjs-persistent-cache';

interface ScoreBody {
  player?: unknown;
  points?: unknown;
}

/** A sorted-set API: `POST /leaderboards/:board {"player": "ann", "points": 5}`, `GET /leaderboards/:board?top=10`. */
@Controller('leaderboards')
export class LeaderboardController {
  constructor(@InjectCache() private readonly redis: Redis) {}

  @Post(':board')
  async score(
    @Param('board') board: string,
    @Body() body: ScoreBody,
  ): Promise<{ player: string; score: number }> {
    const { player, points } = body ?? {};
    if (typeof player !== 'string' || typeof points !== 'number' || !Number.isFinite(points)) {
      throw new BadRequestException(
        'Body must be JSON: {"player": "<string>", "points": <number>}',
      );
    }
    const score = await this.redis.zincrby(`leaderboard:${board}`, points, player);
    return { player, score: Number(score) };
  }

  @Get(':board')
  async top(
    @Param('board') board: string,
    @Query('top') top = '10',
  ): Promise<{ player: string; score: number }[]> {
    const n = Number(top);
    if (!Number.isInteger(n) || n <= 0)
      throw new BadRequestException('top must be a positive integer');
    const flat = await this.redis.zrevrange(`leaderboard:${board}`, 0, n - 1, 'WITHSCORES');
    const result: { player: string; score: number }[] = [];
    for (let i = 0; i < flat.length; i += 2)
      result.push({ player: flat[i], score: Number(flat[i + 1]) });
    return result;
  }
}
