import { DynamicModule, INestApplication, Module, Type } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test, TestingModule } from '@nestjs/testing';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import {
  CACHE,
  PersistentCacheModule,
  PersistentCacheModuleOptions,
  SnapshotService,
} from '../../lib';
import { STORE_FILE } from '../../lib/store/data-dir';

/** A fresh temporary directory, removed by {@link removeTempDirs}. */
const dirs: string[] = [];
export function tempDir(prefix = 'persistent-cache-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}
export function removeTempDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/**
 * A copy of the store committed in `dataDir`, in a new directory: a second app may restore it while the app that
 * wrote it still holds `dataDir` (one owner per data directory).
 */
export function copyOfStore(dataDir: string): string {
  const copy = tempDir();
  copyFileSync(join(dataDir, STORE_FILE), join(copy, STORE_FILE));
  return copy;
}

export interface Harness {
  app: INestApplication;
  moduleRef: TestingModule;
  redis: Redis;
  snapshots: SnapshotService;
}

/** Boots a Nest app around `imports` (ScheduleModule is added), whichever caches it has. */
export async function bootApp(
  imports: (DynamicModule | Type)[],
): Promise<Pick<Harness, 'app' | 'moduleRef'>> {
  const moduleRef = await Test.createTestingModule({
    imports: [ScheduleModule.forRoot(), ...imports],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return { app, moduleRef };
}

/** Boots a Nest app around `imports` (ScheduleModule is added) and returns what tests need of its default cache. */
export async function boot(imports: (DynamicModule | Type)[]): Promise<Harness> {
  const { app, moduleRef } = await bootApp(imports);
  return {
    app,
    moduleRef,
    redis: app.get<Redis>(CACHE),
    snapshots: app.get(SnapshotService),
  };
}

/** Boots the module with `forRoot(options)`. */
export function bootWith(options: PersistentCacheModuleOptions): Promise<Harness> {
  return boot([PersistentCacheModule.forRoot(options)]);
}

/** Options for a durable cache in `dataDir` with periodic snapshots off (tests trigger them). */
export function durable(
  dataDir: string,
  persistence: PersistentCacheModuleOptions['persistence'] = {},
): PersistentCacheModuleOptions {
  return { persistence: { dataDir, snapshotInterval: 0, ...persistence } };
}

@Module({})
export class EmptyModule {}

/** Keys of a cache restored from `dataDir` (restore on, no snapshots), sorted. */
export async function restoredKeys(dataDir: string): Promise<string[]> {
  const h = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
  try {
    return (await h.redis.keys('*')).sort();
  } finally {
    await h.app.close();
  }
}
