import { ArgumentsHost, Catch, ServiceUnavailableException } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';

/**
 * A write refused because the cache is at its memory limit (`memory.policy: 'noeviction'`) answers 503 with Redis's
 * OOM message, instead of a bare 500: the request may succeed once keys expire or are deleted.
 */
@Catch()
export class CacheFullFilter extends BaseExceptionFilter {
  override catch(exception: unknown, host: ArgumentsHost): void {
    const full = exception instanceof Error && exception.message.startsWith('OOM ');
    super.catch(full ? new ServiceUnavailableException(exception.message) : exception, host);
  }
}
