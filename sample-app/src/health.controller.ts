import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';
import { PersistentCacheHealthIndicator } from 'nestjs-persistent-cache';

/**
 * `GET /health`: 200 `{"status": "ok", ...}` while the cache is healthy, 503 with the reason otherwise (a failed
 * or too old snapshot in embedded mode; an unreachable server in redis mode).
 */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly cache: PersistentCacheHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.cache.isHealthy('cache')]);
  }
}
