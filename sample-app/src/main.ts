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
  await app.listen(port, process.env.HOST ?? '127.0.0.1');
  Logger.log(`Sample app listening on ${await app.getUrl()}`, 'SampleApp');
}

void bootstrap();
