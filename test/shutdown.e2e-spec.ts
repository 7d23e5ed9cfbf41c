import {
  Global,
  Injectable,
  Module,
  type OnApplicationShutdown,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import type { Redis } from 'ioredis';
import { setImmediate, setTimeout as sleep } from 'node:timers/promises';
import { CACHE, InjectCache, PersistentCacheModule, SnapshotService } from '../lib';
import { bootWith, durable, removeTempDirs, restoredKeys, tempDir } from './support/harness';
import { bootLogged, CapturingLogger } from './support/logs';

afterAll(removeTempDirs);

const CLOSED = 'Connection is closed.';

describe('closing the app closes every connection before the final snapshot', () => {
  it('refuses commands on the client and its duplicates afterwards, as ioredis on a closed connection', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir));
    const duplicate = h.redis.duplicate();
    await h.redis.set('before', '1');
    await duplicate.set('before-duplicate', '1');
    await h.app.close();

    for (const client of [h.redis, duplicate]) {
      expect(client.status).toBe('end');
      await expect(client.set('after', '1')).rejects.toThrow(CLOSED);
      await expect(client.get('before')).rejects.toThrow(CLOSED);
      await expect(client.hset('h', 'f', 'v')).rejects.toThrow(CLOSED);
      await expect(client.echo('x')).rejects.toThrow(CLOSED);
      await expect(client.watch('before')).rejects.toThrow(CLOSED);
      await expect(client.call('set', 'after', '1')).rejects.toThrow(CLOSED);
      await expect(client.getBuffer('before')).rejects.toThrow(CLOSED);
      await expect(client.blpop('list', 0.01)).rejects.toThrow(CLOSED);
      await expect(client.multi().set('after', '1').get('after').exec()).rejects.toThrow(CLOSED);
      const entries = await client.pipeline().set('after', '1').incr('n').exec();
      expect(entries?.map(([error]) => (error as Error).message)).toEqual([CLOSED, CLOSED]);
      const fromCallback = await new Promise<unknown>((resolve) => {
        void client.set('after', '1', (error) => resolve(error)).catch(() => undefined);
      });
      expect((fromCallback as Error).message).toBe(CLOSED);
      // Connecting again finds no server: the cache that answered is gone.
      await expect(client.connect()).rejects.toThrow(CLOSED);
      expect(client.status).toBe('end');
    }
    // A duplicate made afterwards is no way around it.
    await expect(h.redis.duplicate().set('after', '1')).rejects.toThrow(CLOSED);
    expect(await restoredKeys(dataDir)).toEqual(['before', 'before-duplicate']);
  });

  // Writes race the close at several points: before it begins, while the final snapshot is captured, and after it.
  it.each([0, 1, 3, 10])(
    'every write acknowledged while the app closes is in the final snapshot (close after %i ms of writes)',
    async (delayMs) => {
      const dataDir = tempDir();
      const h = await bootWith(durable(dataDir));
      await h.redis.mset(
        Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`k${i}`, 'v'])),
      );
      const writers = [h.redis, h.redis.duplicate(), h.redis.duplicate()];
      const acknowledged: string[] = [];
      let refused = 0;
      const write = async (client: Redis, name: string): Promise<void> => {
        for (let i = 0; ; i++) {
          const key = `${name}:${i}`;
          try {
            // A pipeline and a transaction as well as a plain command.
            if (i % 3 === 0) await client.set(key, 'v');
            else if (i % 3 === 1) await client.multi().set(key, 'v').exec();
            else {
              const [[error]] = (await client.pipeline().set(key, 'v').exec()) ?? [[null]];
              if (error !== null) throw error;
            }
            acknowledged.push(key);
          } catch (error) {
            expect((error as Error).message).toBe(CLOSED);
            refused++;
            return;
          }
          if (i % 50 === 49) await setImmediate();
        }
      };
      const writing = writers.map((client, at) => write(client, `w${at}`));
      await sleep(delayMs);
      await h.app.close();
      await Promise.all(writing);
      expect(refused).toBe(writers.length);
      expect(acknowledged.length).toBeGreaterThan(0);
      const restored = new Set(await restoredKeys(dataDir));
      expect(acknowledged.filter((key) => !restored.has(key))).toEqual([]);
      expect(restored.size).toBe(5_000 + acknowledged.length);
    },
  );

  it("keeps what the app's own shutdown hooks write, and refuses writes once the module is down", async () => {
    const dataDir = tempDir();

    @Injectable()
    class SessionFlusher implements OnModuleDestroy, OnApplicationShutdown {
      constructor(@InjectCache() readonly redis: Redis) {}
      async onModuleDestroy(): Promise<void> {
        await this.redis.set('flushed:destroy', '1');
      }
      async onApplicationShutdown(): Promise<void> {
        await this.redis.hset('flushed:shutdown', 'sessions', '3');
      }
    }

    @Module({
      imports: [PersistentCacheModule.forRoot(durable(dataDir))],
      providers: [SessionFlusher],
    })
    class AppModule {}

    const moduleRef = await Test.createTestingModule({
      imports: [ScheduleModule.forRoot(), AppModule],
    }).compile();
    const app = moduleRef.createNestApplication({ logger: false });
    await app.init();
    const redis = app.get<Redis>(CACHE);
    await redis.set('a', '1');
    await app.close();
    await expect(redis.set('late', '1')).rejects.toThrow(CLOSED);
    expect(await restoredKeys(dataDir)).toEqual(['a', 'flushed:destroy', 'flushed:shutdown']);
  });

  // Nest runs global modules' hooks last at shutdown and first at startup: the cache module places itself deeper.
  it.each([
    'a @Global() module that re-exports the cache',
    'a @Global() module beside a global cache',
  ])(
    'keeps what %s writes in its hooks, before the restore and after the final snapshot',
    async (shape) => {
      const dataDir = tempDir();
      const first = await bootWith(durable(dataDir));
      await first.redis.set('old', '1');
      await first.app.close();

      @Injectable()
      class Hooks implements OnModuleInit, OnApplicationShutdown {
        constructor(@InjectCache() readonly redis: Redis) {}
        async onModuleInit(): Promise<void> {
          await this.redis.set('written:init', '1');
        }
        async onApplicationShutdown(): Promise<void> {
          await this.redis.set('written:shutdown', '1');
        }
      }
      const reexports = shape.includes('re-exports');
      const cache = PersistentCacheModule.forRoot({ ...durable(dataDir), isGlobal: !reexports });
      @Global()
      @Module({
        imports: reexports ? [cache] : [],
        providers: [Hooks],
        exports: reexports ? [cache] : [],
      })
      class Shared {}
      const moduleRef = await Test.createTestingModule({
        imports: reexports
          ? [ScheduleModule.forRoot(), Shared]
          : [ScheduleModule.forRoot(), Shared, cache],
      }).compile();
      const app = moduleRef.createNestApplication({ logger: false });
      await app.init();
      expect((await app.get<Redis>(CACHE).keys('*')).sort()).toEqual(['old', 'written:init']);
      await app.close();
      expect(await restoredKeys(dataDir)).toEqual(['old', 'written:init', 'written:shutdown']);
    },
  );

  it('refuses a pop or a stream read blocked at close, and tells each pipeline entry why', async () => {
    const h = await bootWith(durable(tempDir()));
    const waiter = h.redis.duplicate();
    const popping = waiter.blpop('jobs', 0);
    const reading = waiter.xread('BLOCK', 0, 'STREAMS', 'events', '$');
    await sleep(20);
    await h.app.close();
    await expect(popping).rejects.toThrow(CLOSED);
    await expect(reading).rejects.toThrow(CLOSED);
    const told: string[] = [];
    const tell = (error: Error | null | undefined): void => {
      told.push(error?.message ?? 'no error');
    };
    await h.redis.pipeline().set('a', '1', tell).getBuffer('a', tell).exec();
    await expect(h.redis.multi().set('a', '1', tell).exec()).rejects.toThrow(CLOSED);
    await setImmediate();
    expect(told).toEqual([CLOSED, CLOSED, CLOSED]);
    // Closed once: closing again emits nothing more, and QUIT is refused as ioredis refuses it.
    let ends = 0;
    h.redis.on('end', () => ends++);
    h.redis.disconnect();
    await expect(h.redis.quit()).rejects.toThrow(CLOSED);
    expect(ends).toBe(0);
    expect(h.redis.duplicate().status).toBe('end');
  });

  it('a write nobody awaits while the app closes does not end the process before the final snapshot', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir));
    await h.redis.set('kept', '1');
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown): void => {
      unhandled.push(reason);
    };
    process.on('unhandledRejection', onUnhandled);
    try {
      const ticker = setInterval(() => void h.redis.incr('ticks'), 1);
      await sleep(10);
      await h.app.close();
      await sleep(20);
      clearInterval(ticker);
      await sleep(10);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
    expect(unhandled).toEqual([]);
    const h2 = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    try {
      expect(await h2.redis.get('kept')).toBe('1');
      expect(Number(await h2.redis.get('ticks'))).toBeGreaterThan(0);
    } finally {
      await h2.app.close();
    }
  });

  it('without persistence, closes the connections all the same', async () => {
    const h = await bootWith({ persistence: { enabled: false } });
    const duplicate = h.redis.duplicate();
    await h.app.close();
    await expect(duplicate.set('a', '1')).rejects.toThrow(CLOSED);
    await expect(h.redis.get('a')).rejects.toThrow(CLOSED);
  });
});

describe('closing twice, or while starting', () => {
  it('a second app.close() takes no second snapshot and reports no failure', async () => {
    const dataDir = tempDir();
    const logger = new CapturingLogger();
    const app = await bootLogged(durable(dataDir), logger);
    const snapshots = app.get(SnapshotService);
    await app.get<Redis>(CACHE).set('a', '1');
    await Promise.all([app.close(), app.close()]);
    const final = snapshots.lastSnapshot;
    expect(final?.keys).toBe(1);
    await app.close();
    expect(snapshots.lastSnapshot).toBe(final);
    expect(snapshots.lastFailure).toBeUndefined();
    expect(logger.starting('ERROR')).toEqual([]);
    expect(await restoredKeys(dataDir)).toEqual(['a']);
  });

  it('closed during its startup restore, the final snapshot waits for the restore and holds every key', async () => {
    const dataDir = tempDir();
    const first = await bootWith(durable(dataDir));
    for (let batch = 0; batch < 10; batch++) {
      await first.redis.mset(
        Object.fromEntries(
          Array.from({ length: 10_000 }, (_, i) => [`k${batch}:${i}`, `value ${i}`]),
        ),
      );
    }
    await first.app.close();

    const logger = new CapturingLogger();
    const moduleRef = await Test.createTestingModule({
      imports: [ScheduleModule.forRoot(), PersistentCacheModule.forRoot(durable(dataDir))],
    })
      .setLogger(logger)
      .compile();
    const app = moduleRef.createNestApplication({ logger });
    const snapshots = app.get(SnapshotService);
    const initialized = app.init();
    await setImmediate(); // the restore has begun (a signal would call app.close() now)
    await app.close();
    await initialized;
    expect(logger.starting('ERROR')).toEqual([]);
    expect(snapshots.lastFailure).toBeUndefined();
    expect(await restoredKeys(dataDir)).toHaveLength(100_000);
  });
});
