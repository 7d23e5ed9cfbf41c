import {
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  HttpCode,
  NotFoundException,
  Param,
  Put,
  Query,
} from '@nestjs/common';
import type { Redis } from 'ioredis';
import { InjectCache } from 'nestjs-persistent-cache';

interface PutBody {
  value?: unknown;
}

/** A string key-value API over the cache: `PUT /kv/:key?ttl=SECONDS {"value": "..."}`, `GET`, `DELETE`. */
@Controller('kv')
export class KvController {
  constructor(@InjectCache() private readonly redis: Redis) {}

  @Put(':key')
  async put(
    @Param('key') key: string,
    @Body() body: PutBody,
    @Query('ttl') ttl?: string,
  ): Promise<{ key: string; ttl: number }> {
    if (typeof body?.value !== 'string') {
      throw new BadRequestException('Body must be JSON: {"value": "<string>"}');
    }
    if (ttl === undefined) {
      await this.redis.set(key, body.value);
    } else {
      const seconds = Number(ttl);
      if (!Number.isInteger(seconds) || seconds <= 0) {
        throw new BadRequestException('ttl must be a positive whole number of seconds');
      }
      await this.redis.set(key, body.value, 'EX', seconds);
    }
    return { key, ttl: await this.redis.ttl(key) };
  }

  @Get(':key')
  async get(@Param('key') key: string): Promise<{ key: string; value: string; ttl: number }> {
    const value = await this.redis.get(key);
    if (value === null) throw new NotFoundException(`No key ${JSON.stringify(key)}`);
    return { key, value, ttl: await this.redis.ttl(key) };
  }

  @Delete(':key')
  @HttpCode(204)
  async remove(@Param('key') key: string): Promise<void> {
    if ((await this.redis.del(key)) === 0)
      throw new NotFoundException(`No key ${JSON.stringify(key)}`);
  }
}
