import { setTimeout as sleep } from 'node:timers/promises';
import { register } from 'prom-client';
import type { Redis } from 'ioredis';
import {
  getCacheToken,
  METRICS,
  PersistentCacheModule,
  type PersistentCacheClusterNodeHealth,
} from '../lib';
import { freePort } from './support/free-port';
import { bootApp } from './support/harness';
import { healthApps } from './support/health';
import { metricValue } from './support/metrics';
import { CLUSTER_SLOTS, startRedisCluster, type RedisCluster } from './support/redis-cluster';
import { findRedisServer } from './support/redis-server';

/**
 * The health indicator in `redis` mode on a real 3-primary Redis Cluster: every primary is PINGed and reported with
 * its slots, and the cluster is down as soon as a slot range has no primary that answers.
 */

const { apps, start } = healthApps();

const byNode = (nodes: readonly PersistentCacheClusterNodeHealth[] | undefined) =>
  [...(nodes ?? [])].sort((a, b) => a.node.localeCompare(b.node));

test('a cluster the client cannot reach is down: no slot has a primary', async () => {
  const port = await freePort(); // nothing listens there
  const h = await start({
    mode: 'redis',
    redis: {
      cluster: {
        nodes: [{ host: '127.0.0.1', port }],
        options: { clusterRetryStrategy: () => null },
      },
    },
  });
  const node = `127.0.0.1:${port}`;
  expect((await h.indicator.isHealthy('cache')).cache).toEqual({
    status: 'down',
    mode: 'redis',
    redis: `cluster ${node}`,
    connection: expect.any(String) as string,
    message:
      `Slots 0-16383 have no reachable primary (no primary known, ${node}: Connection is closed.): ` +
      'commands on their keys fail until it is back or a replica takes over.',
    nodes: [{ node, slots: '', reachable: false, message: 'Connection is closed.' }],
  });
});

const redisServerBinary = findRedisServer('test/health-cluster.e2e-spec.ts');
if (redisServerBinary !== null) {
  describe('health indicator: redis mode on a real Redis Cluster', () => {
    let cluster: RedisCluster;
    beforeAll(async () => {
      cluster = await startRedisCluster(redisServerBinary);
    });
    afterAll(() => cluster?.stop());

    test('a named cache on the cluster: its redis-mode metrics carry cache="<name>", and leave with it', async () => {
      const { app } = await bootApp([
        PersistentCacheModule.forRoot({
          name: 'sessions',
          mode: 'redis',
          redis: { cluster: { nodes: [...cluster.startupNodes] } },
        }),
      ]);
      const labels = { cache: 'sessions' };
      try {
        // Once connected: before its first slot map the client knows no primary (down, 0 slots served).
        await app.get<Redis>(getCacheToken('sessions')).set('{metrics}probe', '1');
        expect(await metricValue(METRICS.redisUp, labels)).toBe(1);
        expect(await metricValue(METRICS.redisClusterSlotsServed, labels)).toBe(CLUSTER_SLOTS);
        for (const { host, port } of cluster.startupNodes) {
          const node = `${host}:${port}`;
          expect(await metricValue(METRICS.redisClusterNodeUp, { ...labels, node })).toBe(1);
        }
        // Only the named cache's series: none without the label, as a default cache would have.
        const up = await register.getSingleMetric(METRICS.redisUp)?.get();
        expect(up?.values.map((v) => v.labels)).toEqual([labels]);
      } finally {
        await app.close();
      }
      expect(await metricValue(METRICS.redisUp, labels)).toBeUndefined();
    });

    test('up with every primary and its slots; down naming the slots and node once a primary stops', async () => {
      const h = await start({
        mode: 'redis',
        redis: { cluster: { nodes: [...cluster.startupNodes] } },
      });
      await h.redis.set('{health}probe', '1');
      const expected = cluster.nodes.map((node, i) => ({
        node: `${node.host}:${node.port}`,
        slots: cluster.slotRanges[i].join('-'),
        reachable: true,
        pingMs: expect.any(Number) as number,
      }));
      const up = (await h.indicator.isHealthy('cache')).cache;
      expect(up).toEqual({
        status: 'up',
        mode: 'redis',
        redis: `cluster ${cluster.startupNodes.map((n) => `${n.host}:${n.port}`).join(', ')}`,
        connection: 'ready',
        clusterState: 'ok',
        nodes: expect.any(Array) as unknown[],
      });
      expect(byNode(up.nodes)).toEqual(byNode(expected));

      // The third primary stops: its slots have no primary (no replica takes over), the others still answer.
      const stopped = cluster.nodes[2];
      await stopped.stop();
      let down = (await h.indicator.isHealthy('cache')).cache;
      for (let i = 0; i < 100 && down.status === 'up'; i++) {
        await sleep(100);
        down = (await h.indicator.isHealthy('cache')).cache;
      }
      expect(down.status).toBe('down');
      expect(down.message).toMatch(
        new RegExp(
          `^Slots ${cluster.slotRanges[2].join('-')} have no reachable primary \\(${stopped.host}:${stopped.port}: .+\\)`,
        ),
      );
      const nodes = byNode(down.nodes);
      expect(nodes.map((n) => [n.node, n.reachable])).toEqual(
        byNode(expected).map((n) => [n.node, n.node !== `${stopped.host}:${stopped.port}`]),
      );
      expect(nodes.find((n) => !n.reachable)?.message).toEqual(expect.any(String));
      await apps.close(h);
      expect(h.redis.status).toBe('end');
    });
  });
}
