import { Cluster, type Redis } from 'ioredis';
import { infoFields } from '../../lib/util/info-fields';
import { startRedisServer, type RedisServer } from './redis-server';

/**
 * A real Redis Cluster on 127.0.0.1: `primaries` redis-server processes from the installed binary, each with
 * `--cluster-enabled yes`, on a free port and in a temp dir of its own (its `nodes.conf` there), no replicas. The
 * 16384 slots are split into equal ranges in node order (`CLUSTER ADDSLOTSRANGE`), the nodes meet, and the start
 * resolves once every node reports `cluster_state:ok` and knows all the others.
 *
 *     const redisServerBinary = findRedisServer('…'); // the same notice/requirement as for one server
 *     if (redisServerBinary !== null) {
 *       let cluster: RedisCluster;
 *       beforeAll(async () => { cluster = await startRedisCluster(redisServerBinary); });
 *       afterAll(() => cluster?.stop());
 *     }
 *
 * A node's failure is detected after {@link NODE_TIMEOUT_MS}: stopping one primary (`nodes[i].stop()`) turns the
 * others to `cluster_state:fail` about that long after, since no replica can take its slots over.
 */

/** Slots of a Redis Cluster. */
export const CLUSTER_SLOTS = 16384;

/** `cluster-node-timeout`: short, so that a test sees a stopped primary marked as failed within seconds. */
export const NODE_TIMEOUT_MS = 2_000;

/** How long the nodes may take to agree that the cluster is up. */
const READY_TIMEOUT_MS = 20_000;

export interface RedisCluster {
  /** The primaries, in slot order: node `i` serves the `i`-th range of {@link slotRanges}. */
  readonly nodes: readonly RedisServer[];
  /** `[first, last]` slots of each node. */
  readonly slotRanges: readonly (readonly [number, number])[];
  /** The nodes as ioredis `Cluster` startup nodes (and `redis.cluster.nodes` of the module). */
  readonly startupNodes: readonly { host: string; port: number }[];
  /** A new ioredis `Cluster` client, connected to every node (the caller closes it). */
  client(): Cluster;
  /** Stops every node (by its process) and removes their directories. Idempotent. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts a cluster of `primaries` nodes (at least 3, as Redis requires for a failover majority). */
export async function startRedisCluster(binary: string, primaries = 3): Promise<RedisCluster> {
  const args = [
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    'nodes.conf',
    '--cluster-node-timeout',
    String(NODE_TIMEOUT_MS),
  ];
  const started = await Promise.allSettled(
    Array.from({ length: primaries }, () => startRedisServer(binary, undefined, { args })),
  );
  const nodes = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const stop = async () => {
    await Promise.all(nodes.map((node) => node.stop()));
  };
  const slotRanges = Array.from({ length: primaries }, (_, i): [number, number] => [
    Math.floor((i * CLUSTER_SLOTS) / primaries),
    Math.floor(((i + 1) * CLUSTER_SLOTS) / primaries) - 1,
  ]);
  const clients: Redis[] = [];
  try {
    const failed = started.find((s) => s.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    clients.push(...nodes.map((node) => node.client()));
    await Promise.all(
      clients.map(async (client, i) => {
        const [first, last] = slotRanges[i];
        await client.call('CLUSTER', 'ADDSLOTSRANGE', first, last);
        if (i > 0) await client.call('CLUSTER', 'MEET', nodes[0].host, nodes[0].port);
      }),
    );
    await waitUntilReady(clients, primaries);
  } catch (error) {
    await stop();
    throw error;
  } finally {
    for (const client of clients) client.disconnect();
  }
  const startupNodes = nodes.map(({ host, port }) => ({ host, port }));
  return {
    nodes,
    slotRanges,
    startupNodes,
    client: () => new Cluster(startupNodes),
    stop,
  };
}

/** Waits until every node reports `cluster_state:ok` and knows `count` nodes. */
async function waitUntilReady(clients: readonly Redis[], count: number): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let states: Record<string, string>[] = [];
  while (Date.now() < deadline) {
    states = await Promise.all(
      clients.map(async (client) => infoFields(String(await client.call('CLUSTER', 'INFO')))),
    );
    const ready = states.every(
      (s) => s.cluster_state === 'ok' && Number(s.cluster_known_nodes) === count,
    );
    if (ready) return;
    await sleep(50);
  }
  throw new Error(
    `the cluster did not become ready within ${READY_TIMEOUT_MS} ms: ` +
      states.map((s) => `${s.cluster_state}/${s.cluster_known_nodes} nodes`).join(', '),
  );
}
