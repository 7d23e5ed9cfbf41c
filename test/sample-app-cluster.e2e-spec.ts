import { METRICS } from '../lib';
import { PERSISTENT_CACHE_ENV } from '../lib/config';
import { keySlot } from '../lib/util/key-slot';
import { removeTempDirs, tempDir } from './support/harness';
import { CLUSTER_SLOTS, startRedisCluster, type RedisCluster } from './support/redis-cluster';
import { findRedisServer } from './support/redis-server';
import {
  type SampleAppProcess,
  startSampleApp,
  stopSampleApps,
  waitFor,
} from './support/sample-app';

/**
 * The compiled sample app in redis mode on a real 3-primary Redis Cluster, configured by the environment alone
 * (PERSISTENT_CACHE_REDIS_CLUSTER_NODES): the README's curl flow over real HTTP, its keys on the primaries of their
 * slots, and the cluster's metrics on /metrics — every primary up and 16384 slots served, then a primary stopped.
 */

afterAll(async () => {
  await stopSampleApps();
  removeTempDirs();
});

const redisServerBinary = findRedisServer('test/sample-app-cluster.e2e-spec.ts');
if (redisServerBinary !== null) {
  describe('sample app: redis mode on a real Redis Cluster', () => {
    let cluster: RedisCluster;
    beforeAll(async () => {
      cluster = await startRedisCluster(redisServerBinary);
    });
    afterAll(() => cluster?.stop());

    /** The index of the node serving `key`'s slot. */
    const nodeOf = (key: string) =>
      cluster.slotRanges.findIndex(([first, last]) => {
        const slot = keySlot(key);
        return slot >= first && slot <= last;
      });

    const nodeUp = (node: { host: string; port: number }) =>
      `${METRICS.redisClusterNodeUp}{node="${node.host}:${node.port}"}`;

    async function json(app: SampleAppProcess, method: string, path: string, body?: unknown) {
      const result = await app.request(method, path, body);
      return { status: result.status, body: result.body };
    }

    test("PERSISTENT_CACHE_REDIS_CLUSTER_NODES: the README's curl flow, keys on several nodes, cluster metrics", async () => {
      // Both forms of an entry; the client finds the nodes not listed.
      const [first, second] = cluster.startupNodes;
      const nodes = `${first.host}:${first.port},redis://${second.host}:${second.port}`;
      const app = await startSampleApp({
        cwd: tempDir('persistent-cache-cluster-app-'),
        env: {
          [PERSISTENT_CACHE_ENV.mode]: 'redis',
          [PERSISTENT_CACHE_ENV.redisClusterNodes]: nodes,
        },
      });
      expect(app.output()).toContain(
        `Redis mode: the cache is the Redis at cluster ${first.host}:${first.port}, ${second.host}:${second.port}`,
      );

      // The README's flow.
      expect(await json(app, 'PUT', '/kv/greeting?ttl=60', { value: 'hello' })).toEqual({
        status: 200,
        body: { key: 'greeting', ttl: 60 },
      });
      const read = await json(app, 'GET', '/kv/greeting');
      expect(read).toMatchObject({ status: 200, body: { key: 'greeting', value: 'hello' } });
      const { ttl } = read.body as { ttl: number };
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(60);
      expect((await app.request('DELETE', '/kv/greeting')).status).toBe(204);
      expect((await app.request('DELETE', '/kv/greeting')).status).toBe(404);
      expect((await app.request('GET', '/kv/greeting')).status).toBe(404);
      expect(await json(app, 'POST', '/leaderboards/weekly', { player: 'ann', points: 5 })).toEqual(
        { status: 201, body: { player: 'ann', score: 5 } },
      );
      expect(await json(app, 'POST', '/leaderboards/weekly', { player: 'bob', points: 7 })).toEqual(
        { status: 201, body: { player: 'bob', score: 7 } },
      );
      expect(await json(app, 'GET', '/leaderboards/weekly?top=10')).toEqual({
        status: 200,
        body: [
          { player: 'bob', score: 7 },
          { player: 'ann', score: 5 },
        ],
      });

      // Keys until every primary holds one: each lands on the primary of its slot, and reads back through the app.
      const written = new Map<string, string>([['leaderboard:weekly', '']]);
      for (let i = 0; new Set([...written.keys()].map(nodeOf)).size < cluster.nodes.length; i++) {
        const key = `item:${i}`;
        written.set(key, `value ${i}`);
        expect(await json(app, 'PUT', `/kv/${key}`, { value: `value ${i}` })).toEqual({
          status: 200,
          body: { key, ttl: -1 },
        });
      }
      for (const [key, value] of written) {
        if (key.startsWith('item:')) {
          expect(await json(app, 'GET', `/kv/${key}`)).toEqual({
            status: 200,
            body: { key, value, ttl: -1 },
          });
        }
      }
      const direct = cluster.nodes.map((node) => node.client());
      try {
        const held = await Promise.all(direct.map((client) => client.keys('*')));
        expect(held.every((keys) => keys.length > 0)).toBe(true);
        for (const [key, value] of written) {
          expect(held[nodeOf(key)]).toContain(key);
          if (value !== '') expect(await direct[nodeOf(key)].get(key)).toBe(value);
        }
        expect(await direct[nodeOf('leaderboard:weekly')].zscore('leaderboard:weekly', 'bob')).toBe(
          '7',
        );
        expect(held.flat().sort()).toEqual([...written.keys()].sort());
      } finally {
        for (const client of direct) client.disconnect();
      }

      // The report route: a response cached by @nestjs/cache-manager and a request count of @nestjs/throttler, as
      // keys of the cluster.
      const report = await json(app, 'GET', '/reports/leaderboards/weekly');
      expect(report).toMatchObject({
        status: 200,
        body: { board: 'weekly', players: 2, leader: { player: 'bob', score: 7 } },
      });
      expect(await json(app, 'GET', '/reports/leaderboards/weekly')).toEqual(report);
      const checkers = cluster.nodes.map((node) => node.client());
      try {
        const keys = (await Promise.all(checkers.map((client) => client.keys('*')))).flat();
        expect(keys).toContain('http:/reports/leaderboards/weekly');
        const hits = keys.filter((key) => key.endsWith(':hits'));
        expect(hits).toHaveLength(1);
        expect(await checkers[nodeOf(hits[0])].get(hits[0])).toBe('2');
      } finally {
        for (const client of checkers) client.disconnect();
      }

      // The cluster's metrics: every primary answers, every slot is served.
      const metrics = await app.metrics();
      expect(metrics.get(METRICS.redisUp)).toBe(1);
      expect(metrics.get(METRICS.redisClusterSlotsServed)).toBe(CLUSTER_SLOTS);
      for (const node of cluster.nodes) expect(metrics.get(nodeUp(node))).toBe(1);
      expect(
        [...metrics.keys()].filter((s) => s.startsWith(METRICS.redisClusterNodeUp)),
      ).toHaveLength(3);
      expect(metrics.has(METRICS.redisPrimaryChanges)).toBe(false);
      expect((await json(app, 'GET', '/health')).body).toMatchObject({
        status: 'ok',
        info: { cache: { status: 'up', mode: 'redis', clusterState: 'ok' } },
      });

      // A primary stops: its node is down, its slots are no longer served, and the cache is down.
      const stopped = cluster.nodes[2];
      const [firstSlot, lastSlot] = cluster.slotRanges[2];
      await stopped.stop();
      const after = await waitFor(
        async () => {
          const seen = await app.metrics();
          return seen.get(nodeUp(stopped)) === 0 ? seen : undefined;
        },
        () => `${nodeUp(stopped)} 0 on /metrics`,
      );
      expect(after.get(METRICS.redisUp)).toBe(0);
      expect(after.get(METRICS.redisClusterSlotsServed)).toBe(
        CLUSTER_SLOTS - (lastSlot - firstSlot + 1),
      );
      for (const node of cluster.nodes.slice(0, 2)) expect(after.get(nodeUp(node))).toBe(1);
      expect((await app.request('GET', '/health')).status).toBe(503);

      const exit = await app.signal('SIGTERM');
      expect(exit).toMatchObject({ code: 0, signal: null });
    });
  });
}
