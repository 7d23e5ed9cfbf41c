import type { INestApplication, LoggerService } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import { PersistentCacheModule, type PersistentCacheModuleOptions } from '../../lib';

/** Collects what the module logs (Nest's `Logger` instances write through the logger set here). */
export class CapturingLogger implements LoggerService {
  readonly lines: string[] = [];
  log(message: unknown): void {
    this.lines.push(`LOG ${String(message)}`);
  }
  error(message: unknown): void {
    this.lines.push(`ERROR ${String(message)}`);
  }
  warn(message: unknown): void {
    this.lines.push(`WARN ${String(message)}`);
  }
  /** The lines that begin with `prefix`. */
  starting(prefix: string): string[] {
    return this.lines.filter((line) => line.startsWith(prefix));
  }
}

/**
 * Boots the module with `forRoot(options)`, logging to `logger`. Nest's loggers are global: an app booted after it
 * with another logger (or none, as `bootWith` does) takes the module's lines.
 */
export async function bootLogged(
  options: PersistentCacheModuleOptions,
  logger = new CapturingLogger(),
): Promise<INestApplication> {
  const moduleRef = await Test.createTestingModule({
    imports: [ScheduleModule.forRoot(), PersistentCacheModule.forRoot(options)],
  })
    .setLogger(logger)
    .compile();
  const app = moduleRef.createNestApplication({ logger });
  await app.init();
  return app;
}
