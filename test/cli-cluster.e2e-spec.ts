import { join } from 'node:path';
import type { Cluster } from 'ioredis';
import type { InspectReport } from '../lib/cli/inspect';
import { keySlot } from '../lib/util/key-slot';
import { infoFields } from '../lib/util/info-fields';
import { datasetSnapshot, expectReexportNeedsReplace, runCli, runMain } from './support/cli';
import { fill } from './support/datasets';
import { digest, expectSameData, portableDigest } from './support/digest';
import { bootWith, durable, removeTempDirs, tempDir } from './support/harness';
import { startRedisCluster, type RedisCluster } from './support/redis-cluster';
import { findRedisServer, onEachServer, type RedisServer } from './support/redis-server';

/**
 * `persistent-cache export --to` / `import --from` pointed at one node of a real 3-primary Redis Cluster: they
 * handle the whole cluster (each key written to the primary of its slot, every primary scanned), and refuse a
 * cluster that cannot serve every slot instead of moving part of the data.
 */

afterAll(() => removeTempDirs());

/** Keys on each of `nodes`. */
const keysPerNode = (nodes: readonly RedisServer[]) => onEachServer(nodes, (c) => c.dbsize());

const redisServerBinary = findRedisServer('test/cli-cluster.e2e-spec.ts');
if (redisServerBinary !== null) {
  describe('persistent-cache CLI on a real Redis Cluster (3 primaries)', () => {
    let cluster: RedisCluster;
    let client: Cluster;

    beforeAll(async () => {
      cluster = await startRedisCluster(redisServerBinary);
      client = cluster.client();
    });

    /** `import --from` the first node, `--cluster`, into `dir`. */
    const importCluster = (dir: string) =>
      runMain(['import', '--from', cluster.nodes[0].url, dir, '--cluster']);

    afterAll(async () => {
      client?.disconnect();
      await cluster?.stop();
    });

    it('computes the slot of a key as the cluster does', async () => {
      const keys = [
        'str:text',
        'ключ 🔑',
        'bin\u0000key',
        `long:${'k'.repeat(10_000)}`,
        '{user:1}:name',
        'prefix{user:1}',
        'a{}b',
        '{}',
        '{{x}}y',
        'x}{y}',
        '{',
        '',
      ];
      const node = cluster.nodes[0].client();
      try {
        for (const key of keys) {
          expect([key.slice(0, 20), keySlot(key)]).toEqual([
            key.slice(0, 20),
            Number(await node.call('CLUSTER', 'KEYSLOT', key)),
          ]);
        }
      } finally {
        node.disconnect();
      }
      expect(keySlot('{user:1}:name')).toBe(keySlot('prefix{user:1}'));
    });

    it('refuses a database other than 0 before reading or writing: a cluster has only database 0', async () => {
      const { dataDir } = await datasetSnapshot();
      const url = `${cluster.nodes[0].url}/3`;
      const exported = await runMain(['export', dataDir, '--to', url, '--replace']);
      expect(exported).toMatchObject({
        code: 1,
        stderr:
          `persistent-cache: --to: ${url} names database 3, which the server refused (SELECT 3: ERR SELECT is ` +
          'not allowed in cluster mode); nothing was read or written. The server is a node of a Redis Cluster, ' +
          'which has only database 0: give /0 or no database\n',
      });
      expect(await keysPerNode(cluster.nodes)).toEqual([0, 0, 0]);
      const target = join(tempDir(), 'imported');
      const imported = await runMain(['import', '--from', url, target]);
      expect(imported.code).toBe(1);
      expect(imported.stderr).toContain(
        `--from: ${url} names database 3, which the server refused`,
      );
      expect((await runMain(['inspect', target])).code).toBe(1);
      // Database 0, named or not, is the cluster's.
      const zero = await runMain(['export', dataDir, '--to', `${cluster.nodes[0].url}/0`]);
      expect(zero.stderr).toBe(
        `export: wrote 15 keys into the Redis Cluster at ${cluster.nodes[0].url}/0 (3 primaries)\n`,
      );
      expect((await keysPerNode(cluster.nodes)).reduce((a, b) => a + b, 0)).toBe(15);
      await onEachServer(cluster.nodes, (c) => c.flushall());
    });

    it('snapshot → export --to a node → import --from another node → restore: digests equal', async () => {
      const { dataDir, portable, strict } = await datasetSnapshot();
      const [first, second, third] = cluster.nodes;

      const exported = await runCli(['export', dataDir, '--to', second.url]);
      expect(exported.stderr).toBe(
        `export: wrote 15 keys into the Redis Cluster at ${second.url} (3 primaries)\n`,
      );
      expect(exported.code).toBe(0);
      // The keys are spread over the primaries, each where its slot is served.
      const perNode = await keysPerNode(cluster.nodes);
      expect(perNode.reduce((a, b) => a + b, 0)).toBe(15);
      expect(perNode.filter((n) => n > 0).length).toBeGreaterThanOrEqual(2);
      expectSameData(await portableDigest(client), portable);

      // Not empty: refused, counting the keys of every primary; --replace overwrites and keeps other keys.
      await expectReexportNeedsReplace(dataDir, first.url, client, portable);

      const importedDir = join(tempDir(), 'imported');
      const imported = await runMain(['import', '--from', third.url, importedDir], { tty: true });
      expect(imported.stderr).toContain(
        `import: wrote a snapshot of 15 keys from the Redis Cluster at ${third.url} (3 primaries) into ${importedDir}`,
      );
      // Progress counts the keys of the whole cluster.
      expect(imported.stderr).toMatch(/\rimport \[#+\] 100% 15\/15/);
      expect(imported.code).toBe(0);
      const app = await bootWith(durable(importedDir));
      try {
        expectSameData(await portableDigest(app.redis), portable);
        expectSameData(await digest(app.redis), strict);
      } finally {
        await app.app.close();
      }
      await onEachServer(cluster.nodes, (c) => c.flushall());
    });

    it('2,000 keys of every type round-trip through the cluster, none left behind', async () => {
      const sourceDir = tempDir();
      const source = await bootWith(durable(sourceDir));
      let expected;
      try {
        await fill(source.redis, 'mixed', 2000);
        await source.snapshots.snapshot();
        expected = await portableDigest(source.redis);
      } finally {
        await source.app.close();
      }
      const to = cluster.nodes[0].url;
      const exported = await runMain(['export', sourceDir, '--to', to, '--cluster']);
      expect(exported.code).toBe(0);
      expect(exported.stderr).toContain('export: wrote 2000 keys into the Redis Cluster');
      const perNode = await keysPerNode(cluster.nodes);
      expect(perNode.every((n) => n > 500)).toBe(true);
      expect(perNode.reduce((a, b) => a + b, 0)).toBe(2000);
      expectSameData(await portableDigest(client), expected);

      const importedDir = join(tempDir(), 'imported');
      const imported = await importCluster(importedDir);
      expect(imported.code).toBe(0);
      expect(imported.stderr).toContain(
        'import: wrote a snapshot of 2000 keys from the Redis Cluster',
      );
      const report = JSON.parse(
        (await runMain(['inspect', importedDir, '--json'])).stdout,
      ) as InspectReport;
      expect(report.types).toMatchObject({
        string: 400,
        hash: 400,
        list: 400,
        set: 400,
        zset: 400,
        stream: 0,
      });
      const app = await bootWith(durable(importedDir));
      try {
        expectSameData(await portableDigest(app.redis), expected);
      } finally {
        await app.app.close();
      }
    });

    // Last: it stops a primary, which leaves the cluster failed.
    it('refuses a cluster with a failed primary instead of moving part of the data', async () => {
      const { dataDir } = await datasetSnapshot();
      const survivors = cluster.nodes.slice(0, 2);
      const before = await keysPerNode(survivors);
      await cluster.nodes[2].stop();
      const survivor = cluster.nodes[0].client();
      try {
        for (let i = 0; ; i++) {
          const info = infoFields(String(await survivor.call('CLUSTER', 'INFO')));
          if (info.cluster_state === 'fail') break;
          if (i === 200) throw new Error(`the cluster is still ${info.cluster_state}`);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      } finally {
        survivor.disconnect();
      }
      const importedDir = join(tempDir(), 'partial');
      const imported = await importCluster(importedDir);
      expect(imported.code).toBe(1);
      expect(imported.stderr).toBe(
        `persistent-cache: ${cluster.nodes[0].url} is a node of a Redis Cluster that reports ` +
          'cluster_state:fail; nothing was read or written. Some slots have no reachable primary: bring the ' +
          'failed nodes back (`redis-cli --cluster check <host:port>` shows which) and run the command again\n',
      );
      const to = cluster.nodes[1].url;
      const exported = await runMain(['export', dataDir, '--to', to, '--replace']);
      expect(exported.code).toBe(1);
      expect(exported.stderr).toContain('reports cluster_state:fail; nothing was read or written');
      expect(await keysPerNode(survivors)).toEqual(before);
    });
  });
}
