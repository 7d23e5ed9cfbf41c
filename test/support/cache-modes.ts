import type { Redis } from 'ioredis';
import type { PersistentCacheModuleOptions } from '../../lib';
import { tempDir } from './harness';
import type { RedisServer } from './redis-server';

/**
 * Where an integration suite's cache lives, so that one set of tests runs on the embedded cache and on a real
 * redis-server alike (the integrations must work in both modes).
 */
export interface CacheModeUnderTest {
  readonly mode: 'embedded' | 'redis';
  /**
   * Options of a cache no other test has used: a new data directory (embedded), or a database of the server no
   * other test of the file has used (redis). A test that restarts its app passes the same options to both.
   */
  fresh(): PersistentCacheModuleOptions;
  /**
   * A connection of its own to where `options`' data lives, for a test to check the data is there rather than in
   * the app: in redis mode a new client of that database (closed after the test); embedded, `undefined` (the
   * keyspace lives in the app's process only).
   */
  outside(options: PersistentCacheModuleOptions): Redis | undefined;
}

/** The embedded cache: a new data directory per cache, periodic snapshots off (the final one is taken at close). */
export const embeddedMode: CacheModeUnderTest = {
  mode: 'embedded',
  fresh: () => ({ persistence: { dataDir: tempDir(), snapshotInterval: 0 } }),
  outside: () => undefined,
};

/** Databases of a redis-server (its default `databases 16`); 0 is left to tests that flush the whole server. */
const DATABASES = 16;

/**
 * `redis` mode against `server` (inside {@link describeWithRedisServer}): each {@link CacheModeUnderTest.fresh}
 * takes the next unused database, so tests neither see each other's keys nor need to flush. Registers an
 * `afterEach` that closes the clients {@link CacheModeUnderTest.outside} opened.
 */
export function redisMode(server: () => RedisServer): CacheModeUnderTest {
  let next = 1;
  const databases = new Map<PersistentCacheModuleOptions, number>();
  const open: Redis[] = [];
  afterEach(async () => {
    for (const client of open.splice(0)) await client.quit();
  });
  return {
    mode: 'redis',
    fresh() {
      if (next >= DATABASES) {
        throw new Error(
          `More than ${DATABASES - 1} caches in one redis-mode block: no database left`,
        );
      }
      const db = next++;
      const options: PersistentCacheModuleOptions = {
        mode: 'redis',
        redis: { url: `${server().url}/${db}` },
      };
      databases.set(options, db);
      return options;
    },
    outside(options) {
      const db = databases.get(options);
      if (db === undefined) throw new Error('outside() takes options made by fresh()');
      const client = server().client(db);
      open.push(client);
      return client;
    },
  };
}
