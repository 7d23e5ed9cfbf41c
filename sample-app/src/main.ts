import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { AppModule } from './app.module';

async function bootstrap(): Promise<void> {
  const app = await NestFactory.create(AppModule);
  // SIGTERM / SIGINT run the shutdown hooks: the final snapshot is taken before the process exits. With
  // useProcessExit the process then exits with code 0 (by default Nest re-raises the signal, which a process
  // manager reports as a kill rather than a clean stop).
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  const port = Number(process.env.PORT ?? 3000);
  try {
    await app.listen(port, process.env.HOST ?? '127.0.0.1');
  } catch (error) {
    // The cache may have started (a port in use fails after it): close it as a stop would, so that its data
    // directory is released rather than left claimed by a process that no longer runs.
    await app.close();
    throw error;
  }
  Logger.log(`Sample app listening on ${await app.getUrl()}`, 'SampleApp');
}

// A failed start (an invalid PERSISTENT_CACHE_* variable, a data directory in use, a port in use) is one line
// naming the problem, and exit code 1.
bootstrap().catch((error: unknown) => {
  Logger.error(error instanceof Error ? error.message : String(error), 'SampleApp');
  process.exit(1);
});
