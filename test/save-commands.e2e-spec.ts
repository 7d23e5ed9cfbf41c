import { randomBytes } from 'node:crypto';
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { STORE_FILE } from '../lib/store/data-dir';
import { STORE_FILE_REPLACED } from '../lib/store/store.messages';
import { trackApps } from './support/apps';
import { bootWith, durable, removeTempDirs, tempDir, type Harness } from './support/harness';
import { findRedisServer, startRedisServer, type RedisServer } from './support/redis-server';

/**
 * SAVE, BGSAVE, LASTSAVE and INFO persistence of the embedded client take and report the cache's snapshots: an
 * application that saves before it stops finds its data after a restart, as with Redis. ioredis-mock answered `OK`
 * and saved nothing.
 */

afterAll(removeTempDirs);
const apps = trackApps<Harness>();

function persistence(text: string): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const line of text.split('\r\n')) {
    const at = line.indexOf(':');
    if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1);
  }
  return fields;
}

const info = async (redis: Redis): Promise<Record<string, string>> =>
  persistence(await redis.info('persistence'));

describe('SAVE and BGSAVE of a durable cache', () => {
  it('SAVE answers OK once a snapshot holding every write is committed: a restart without a final one finds them', async () => {
    const dataDir = tempDir();
    const before = await apps.track(bootWith(durable(dataDir, { snapshotOnShutdown: false })));
    const startedAt = Number(await before.redis.lastsave());
    expect(Math.abs(startedAt - Date.now() / 1000)).toBeLessThan(5);
    await before.redis.mset({ a: '1', b: '2' });
    expect((await info(before.redis)).rdb_changes_since_last_save).toBe('2');
    expect(await before.redis.save()).toBe('OK');
    expect(before.snapshots.lastSnapshot?.records).toBe(2);
    const fields = await info(before.redis);
    expect(fields).toMatchObject({
      rdb_changes_since_last_save: '0',
      rdb_bgsave_in_progress: '0',
      rdb_last_bgsave_status: 'ok',
      rdb_saves: '1',
      aof_enabled: '0',
    });
    expect(Number(fields.rdb_last_save_time)).toBe(Number(await before.redis.lastsave()));
    await before.redis.set('c', 'lost'); // no final snapshot: written after the last save
    await before.app.close();

    const after = await apps.track(bootWith(durable(dataDir)));
    expect(await after.redis.mget('a', 'b', 'c')).toEqual(['1', '2', null]);
    expect(await info(after.redis)).toMatchObject({
      rdb_last_load_keys_loaded: '2',
      rdb_last_load_keys_expired: '0',
      rdb_saves: '0',
    });
  });

  it('BGSAVE starts one and answers at once; while it runs SAVE and BGSAVE are refused as Redis refuses them', async () => {
    const h = await apps.track(bootWith(durable(tempDir())));
    const values = Object.fromEntries(
      Array.from({ length: 20_000 }, (_, i) => [`k:${i}`, 'v'.repeat(100)]),
    );
    await h.redis.mset(values);
    expect(await h.redis.bgsave()).toBe('Background saving started');
    expect((await info(h.redis)).rdb_bgsave_in_progress).toBe('1');
    await expect(h.redis.save()).rejects.toThrow('ERR Background save already in progress');
    await expect(h.redis.bgsave()).rejects.toThrow('ERR Background save already in progress');
    await expect(h.redis.bgsave('SCHEDULE')).rejects.toThrow(
      'ERR Background save already in progress',
    );
    for (
      let tries = 0;
      tries < 200 && (await info(h.redis)).rdb_bgsave_in_progress !== '0';
      tries++
    ) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(await info(h.redis)).toMatchObject({ rdb_bgsave_in_progress: '0', rdb_saves: '1' });
    expect(h.snapshots.lastSnapshot?.keys).toBe(20_000);
    expect(await h.redis.call('bgsave', 'schedule')).toBe('Background saving started');
    await expect(h.redis.call('bgsave', 'now')).rejects.toThrow('ERR syntax error');
    await expect(h.redis.call('save', 'x')).rejects.toThrow(
      "ERR wrong number of arguments for 'save' command",
    );
  });

  it('a failed SAVE says why, and INFO reports it until a snapshot succeeds', async () => {
    const dataDir = tempDir();
    const h = await apps.track(bootWith(durable(dataDir)));
    await h.redis.set('k', 'v');
    const store = join(dataDir, STORE_FILE);
    // Another file in the store's place: snapshots are refused until the store is back.
    renameSync(store, `${store}.aside`);
    writeFileSync(store, randomBytes(4096));
    await expect(h.redis.save()).rejects.toThrow(
      `ERR the snapshot failed: ${STORE_FILE_REPLACED(store)}`,
    );
    expect(await info(h.redis)).toMatchObject({ rdb_last_bgsave_status: 'err', rdb_saves: '0' });
    renameSync(`${store}.aside`, store);
    expect(await h.redis.save()).toBe('OK');
    expect(await info(h.redis)).toMatchObject({ rdb_last_bgsave_status: 'ok', rdb_saves: '1' });
  });

  it('SAVE inside MULTI is refused when queued and discards the transaction; BGSAVE runs there', async () => {
    const h = await apps.track(bootWith(durable(tempDir())));
    await expect(h.redis.multi().set('a', '1').save().exec()).rejects.toThrow(
      'EXECABORT Transaction discarded because of previous errors.',
    );
    expect(await h.redis.get('a')).toBeNull();
    expect(await h.redis.multi().set('a', '1').bgsave().exec()).toEqual([
      [null, 'OK'],
      [null, 'Background saving started'],
    ]);
  });
});

describe('SAVE and BGSAVE of a cache without persistence', () => {
  it('are refused with why: there is nothing to save to', async () => {
    const h = await apps.track(bootWith({ persistence: { enabled: false } }));
    const message =
      'ERR this cache keeps no snapshots (persistence.enabled is false): there is nothing to save to';
    await expect(h.redis.save()).rejects.toThrow(message);
    await expect(h.redis.bgsave()).rejects.toThrow(message);
    const startedAt = Number(await h.redis.lastsave());
    expect(Math.abs(startedAt - Date.now() / 1000)).toBeLessThan(5);
    expect(await info(h.redis)).toMatchObject({ rdb_saves: '0', rdb_bgsave_in_progress: '0' });
  });
});

const redisServerBinary = findRedisServer('save commands suite (test/save-commands.e2e-spec.ts)');
if (redisServerBinary !== null) {
  describe('SAVE and BGSAVE answer as redis-server 7.0 does', () => {
    let server: RedisServer;

    beforeAll(async () => {
      server = await startRedisServer(redisServerBinary);
    });
    afterAll(() => server.stop());

    it('gives the same replies and errors, and INFO persistence has the same fields in the same order', async () => {
      const h = await apps.track(bootWith(durable(tempDir())));
      const real = server.client();
      try {
        const run = async (redis: Redis): Promise<unknown[]> => {
          const out: unknown[] = [];
          const attempt = async (f: () => Promise<unknown>): Promise<void> => {
            out.push(await f().catch((error: Error) => error.message));
          };
          await redis.set('k', 'v');
          await attempt(() => redis.save());
          await attempt(() => redis.call('save', 'x'));
          await attempt(() => redis.call('bgsave', 'x'));
          await attempt(() => redis.call('bgsave', 'schedule', 'x'));
          await attempt(() => redis.call('lastsave', 'x'));
          await attempt(() => redis.multi().save().exec());
          await attempt(() => redis.multi().call('save', 'x').exec());
          out.push(Object.keys(await info(redis)));
          out.push(typeof (await redis.lastsave()));
          return out;
        };
        expect(await run(h.redis)).toEqual(await run(real));
      } finally {
        real.disconnect();
      }
    });
  });
}
