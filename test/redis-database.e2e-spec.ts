import type { INestApplication } from '@nestjs/common';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { CACHE } from '../lib';
import { lastConnectionError } from '../lib/persistent-cache.client';
import { INVALID_OPTION_BECAUSE, REDIS_DB_REFUSED } from '../lib/persistent-cache.messages';
import { REDIS_URL_ACCEPTED, selectAdvice } from '../lib/util/redis-url';
import { datasetSnapshot, runMain, type DatasetSnapshot } from './support/cli';
import { removeTempDirs, tempDir } from './support/harness';
import { bootLogged, CapturingLogger } from './support/logs';
import { findRedisServer, startRedisServer, type RedisServer } from './support/redis-server';

/**
 * A Redis URL (or `redis.options.db`) naming a database the server does not have. ioredis's `SELECT` of it fails,
 * and ioredis goes on, ready, in database 0: the CLI's `export --replace` overwrote another application's keys
 * there, and the module in redis mode read and wrote them. Both now refuse to go on, before touching database 0.
 */

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterAll(async () => {
  removeTempDirs();
  // A client closed during its ready check (as a refused SELECT closes it) leaves ioredis a timer of
  // `disconnectTimeout` (2 s) that would destroy a socket that did not close: waited out, so nothing is left running.
  await sleep(2_100);
});

const OUT_OF_RANGE = 'ERR DB index is out of range';

/** What the module says when the server refuses `db` of `target`. */
const refused = (target: string, db: number) =>
  REDIS_DB_REFUSED(target, db, OUT_OF_RANGE, selectAdvice(OUT_OF_RANGE));

/** Waits (up to 5 s) until `done()` holds. */
async function waitFor(done: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 250 && !(await done()); i++) await sleep(20);
  expect(await done()).toBe(true);
}

/** The connections of the server `client` is connected to. */
const clientsOf = async (client: Redis) =>
  String(await client.call('CLIENT', 'LIST'))
    .trim()
    .split('\n').length;

const redisServerBinary = findRedisServer('test/redis-database.e2e-spec.ts');
if (redisServerBinary !== null) {
  describe('a database the server does not have (redis-server with its default 16 databases)', () => {
    let server: RedisServer;
    let db0: Redis;
    let dataset: DatasetSnapshot;
    let ownClients: number;

    beforeAll(async () => {
      server = await startRedisServer(redisServerBinary);
      db0 = server.client(0);
      ownClients = await clientsOf(db0);
      dataset = await datasetSnapshot();
    });

    afterAll(async () => {
      db0?.disconnect();
      await server?.stop();
    });

    // Database 0 holds another application's key; the other databases are empty.
    beforeEach(async () => {
      await db0.flushall();
      await db0.set('other-app:key', 'theirs');
    });

    /** Every key of database 0, which nothing here may write. */
    const keysOfDb0 = async () => (await db0.keys('*')).sort();

    /** The connections the server has besides the test's own (`db0`'s, the harness's). */
    const otherClients = async () => (await clientsOf(db0)) - ownClients;

    describe('the CLI', () => {
      it('export --to …/99 (with or without --replace) exits 1 before writing, naming the database and the answer', async () => {
        const url = `${server.url}/99`;
        for (const replace of [['--replace'], []]) {
          const run = await runMain(['export', dataset.dataDir, '--to', url, ...replace]);
          expect(run).toEqual({
            code: 1,
            stdout: '',
            raw: Buffer.alloc(0),
            stderr:
              `persistent-cache: --to: ${url} names database 99, which the server refused (SELECT 99: ` +
              `${OUT_OF_RANGE}); nothing was read or written. The server has fewer databases (its ` +
              '`databases` setting, 16 by default): give one it has\n',
          });
          expect(await keysOfDb0()).toEqual(['other-app:key']);
          expect(await db0.get('other-app:key')).toBe('theirs');
        }
        // The highest database the server has takes the export, and database 0 is still left alone.
        const ok = await runMain(['export', dataset.dataDir, '--to', `${server.url}/15`]);
        expect(ok.code).toBe(0);
        expect(ok.stderr).toBe(`export: wrote 15 keys into ${server.url}/15\n`);
        const db15 = server.client(15);
        try {
          expect(await db15.dbsize()).toBe(15);
        } finally {
          db15.disconnect();
        }
        expect(await keysOfDb0()).toEqual(['other-app:key']);
      });

      it('import --from …/99 exits 1 without writing a snapshot, and --replace keeps the one there', async () => {
        const url = `${server.url}/99`;
        const message =
          `persistent-cache: --from: ${url} names database 99, which the server refused (SELECT 99: ` +
          `${OUT_OF_RANGE}); nothing was read or written.`;
        const target = join(tempDir(), 'new');
        const fresh = await runMain(['import', '--from', url, target]);
        expect(fresh.code).toBe(1);
        expect(fresh.stderr).toContain(message);
        // Left as found: the import stopped before writing a snapshot.
        expect(existsSync(target)).toBe(false);

        const before = await runMain(['inspect', dataset.dataDir, '--json']);
        const replace = await runMain(['import', '--from', url, dataset.dataDir, '--replace']);
        expect(replace.code).toBe(1);
        expect(replace.stderr).toContain(message);
        const after = await runMain(['inspect', dataset.dataDir, '--json']);
        expect(after.stdout).toBe(before.stdout);
        expect(await keysOfDb0()).toEqual(['other-app:key']);
      });
    });

    describe('the module in redis mode', () => {
      it('fails its startup when the URL names a database the server does not have', async () => {
        const url = `${server.url}/99`;
        const logger = new CapturingLogger();
        await expect(bootLogged({ mode: 'redis', redis: { url } }, logger)).rejects.toThrow(
          `Redis at ${url} refused database 99 (SELECT 99 answered "${OUT_OF_RANGE}"): the client is closed ` +
            'instead of going on in database 0, which nobody named; the server has fewer databases (its ' +
            '`databases` setting, 16 by default): give one it has.',
        );
        expect(logger.lines.filter((line) => line.startsWith('ERROR'))).toEqual([
          `ERROR ${refused(url, 99)}`,
        ]);
        // The client it opened is closed, and it wrote nothing anywhere.
        await waitFor(async () => (await otherClients()) === 0);
        expect(await keysOfDb0()).toEqual(['other-app:key']);
      });

      it('likewise for redis.options.db, alone or over the database of the URL', async () => {
        for (const [redis, target] of [
          [{ url: server.url, options: { db: 99 } }, `${server.url}/99`],
          [{ url: `${server.url}/3`, options: { db: 16 } }, `${server.url}/16`],
          [{ options: { host: server.host, port: server.port, db: 42 } }, `${server.url}/42`],
        ] as const) {
          const db = Number(target.split('/').at(-1));
          await expect(bootLogged({ mode: 'redis', redis })).rejects.toThrow(refused(target, db));
        }
        await waitFor(async () => (await otherClients()) === 0);
        expect(await keysOfDb0()).toEqual(['other-app:key']);
      });

      it('refuses /abc and a port over 65535 at startup, with what the URL may be', async () => {
        const unhandled: unknown[] = [];
        const onUnhandled = (reason: unknown) => unhandled.push(reason);
        process.on('unhandledRejection', onUnhandled);
        try {
          for (const [url, problem] of [
            [`${server.url}/abc`, 'its database "abc" is not a whole number from 0 to 2147483647'],
            [`redis://${server.host}:99999`, 'its port 99999 is not from 1 to 65535'],
          ]) {
            await expect(bootLogged({ mode: 'redis', redis: { url } })).rejects.toThrow(
              INVALID_OPTION_BECAUSE('redis.url', REDIS_URL_ACCEPTED, url, problem),
            );
          }
          await sleep(100);
        } finally {
          process.off('unhandledRejection', onUnhandled);
        }
        expect(unhandled).toEqual([]);
        expect(await otherClients()).toBe(0);
        expect(await keysOfDb0()).toEqual(['other-app:key']);
      });

      it('uses a database the server has, from the URL or the options, and not database 0', async () => {
        for (const [redis, db] of [
          [{ url: `${server.url}/15` }, 15],
          [{ url: server.url, options: { db: 7 } }, 7],
          // The options win over the URL, as documented (ioredis itself lets the URL win).
          [{ url: `${server.url}/3`, options: { db: 8 } }, 8],
        ] as const) {
          const app = await bootLogged({ mode: 'redis', redis });
          try {
            const cache = app.get<Redis>(CACHE);
            await cache.set('written', `into ${db}`);
            const direct = server.client(db);
            try {
              expect(await direct.get('written')).toBe(`into ${db}`);
            } finally {
              direct.disconnect();
            }
          } finally {
            await app.close();
          }
        }
        expect(await keysOfDb0()).toEqual(['other-app:key']);
      });
    });
  });

  describe('a reconnection to a server that no longer has the database', () => {
    it('closes the client instead of going on in database 0: queued writes fail, the error is kept', async () => {
      const first = await startRedisServer(redisServerBinary);
      let second: RedisServer | undefined;
      const logger = new CapturingLogger();
      let app: INestApplication | undefined;
      try {
        const url = `${first.url}/12`;
        app = await bootLogged(
          {
            mode: 'redis',
            // Reconnect every 20 ms; queued commands wait for the connection however many attempts it takes.
            redis: { url, options: { retryStrategy: () => 20, maxRetriesPerRequest: null } },
          },
          logger,
        );
        const cache = app.get<Redis>(CACHE);
        await cache.set('before', 'in 12');
        await first.stop();
        await waitFor(() => cache.status !== 'ready');
        // Sent while the server is away: it waits in ioredis's offline queue.
        const queued = cache.set('queued', 'would land in 0');
        // The same port, now with 4 databases: SELECT 12 fails on the reconnection.
        second = await startRedisServer(redisServerBinary, first.port, {
          args: ['--databases', '4'],
        });
        await expect(queued).rejects.toThrow('Connection is closed.');
        expect(cache.status).toBe('end');
        await expect(cache.get('before')).rejects.toThrow('Connection is closed.');
        expect(lastConnectionError(cache)?.message).toBe(refused(url, 12));
        expect(logger.lines).toContain(`ERROR ${refused(url, 12)}`);
        const direct = second.client(0);
        try {
          expect(await direct.dbsize()).toBe(0);
          // Nothing reconnects: the server has only the test's connections (this one, the harness's).
          await sleep(100);
          expect(await clientsOf(direct)).toBe(2);
        } finally {
          direct.disconnect();
        }
      } finally {
        await app?.close();
        await second?.stop();
        await first.stop();
      }
    });
  });
}
