import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { datasetSnapshot, runMain, type DatasetSnapshot } from './support/cli';
import { removeTempDirs, tempDir } from './support/harness';
import { findRedisServer, startRedisServer, type RedisServer } from './support/redis-server';

/**
 * A Redis URL naming a database the server does not have. ioredis's `SELECT` of it fails, and ioredis goes on,
 * ready, in database 0: the CLI's `export --replace` overwrote another application's keys there. It now refuses to
 * go on, before touching database 0.
 */

afterAll(() => removeTempDirs());

const OUT_OF_RANGE = 'ERR DB index is out of range';

const redisServerBinary = findRedisServer('test/redis-database.e2e-spec.ts');
if (redisServerBinary !== null) {
  describe('a database the server does not have (redis-server with its default 16 databases)', () => {
    let server: RedisServer;
    let db0: Redis;
    let dataset: DatasetSnapshot;

    beforeAll(async () => {
      server = await startRedisServer(redisServerBinary);
      db0 = server.client(0);
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
  });
}
