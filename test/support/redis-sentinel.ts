import { infoFields } from '../../lib/util/info-fields';
import { onEachServer, startRedisServer, type RedisServer } from './redis-server';

/**
 * A real Sentinel-managed Redis on 127.0.0.1: one primary, one replica of it, and three sentinels (quorum 2)
 * watching it under the name {@link SENTINEL_MASTER}, each process on a free port in a temp dir of its own. The
 * start resolves once the replica is in sync and every sentinel knows the replica and the two other sentinels, so
 * that a failover can be asked for at once; {@link RedisSentinels.failover} forces one and waits until it is done.
 */

/** The name the sentinels monitor the primary under (`redis.options.name`). */
export const SENTINEL_MASTER = 'mymaster';

/** How long the sentinels may take to know each other, and a failover to end. */
const TIMEOUT_MS = 20_000;

export interface RedisSentinels {
  /** The first primary, and its replica (the primary after {@link failover}). */
  readonly primary: RedisServer;
  readonly replica: RedisServer;
  readonly sentinels: readonly RedisServer[];
  /** The sentinels as ioredis `sentinels` (`redis.options.sentinels` of the module). */
  readonly sentinelNodes: readonly { host: string; port: number }[];
  /**
   * Forces a failover (`SENTINEL FAILOVER`) and waits until every sentinel names the replica as the primary and the
   * old primary has been turned into its replica (which closes its clients' connections).
   */
  failover(): Promise<void>;
  /** Stops every process (by its pid) and removes their directories. Idempotent. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Calls `check` until it returns true, or fails with what `describe` says after {@link TIMEOUT_MS}. */
async function waitFor(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + TIMEOUT_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} did not happen within ${TIMEOUT_MS} ms`);
    await sleep(50);
  }
}

export async function startRedisSentinels(binary: string): Promise<RedisSentinels> {
  const started: RedisServer[] = [];
  const stop = async () => {
    await Promise.all(started.map((server) => server.stop()));
  };
  try {
    const primary = await startRedisServer(binary);
    started.push(primary);
    const replica = await startRedisServer(binary, undefined, {
      args: ['--replicaof', primary.host, String(primary.port)],
    });
    started.push(replica);
    await waitFor('the replica sync', async () => {
      const [info] = await onEachServer([replica], (c) => c.info('replication'));
      return infoFields(info).master_link_status === 'up';
    });
    const config = [
      `sentinel monitor ${SENTINEL_MASTER} ${primary.host} ${primary.port} 2`,
      `sentinel down-after-milliseconds ${SENTINEL_MASTER} 2000`,
      `sentinel failover-timeout ${SENTINEL_MASTER} 10000`,
    ].join('\n');
    const sentinels = await Promise.all(
      [0, 1, 2].map(() => startRedisServer(binary, undefined, { sentinel: config })),
    );
    started.push(...sentinels);
    await waitFor('the sentinels meeting the replica and each other', async () => {
      const views = await onEachServer(sentinels, async (c) => [
        ((await c.call('SENTINEL', 'REPLICAS', SENTINEL_MASTER)) as unknown[]).length,
        ((await c.call('SENTINEL', 'SENTINELS', SENTINEL_MASTER)) as unknown[]).length,
      ]);
      return views.every(([replicas, others]) => replicas === 1 && others === 2);
    });
    const replicaAddress = [replica.host, String(replica.port)];
    return {
      primary,
      replica,
      sentinels,
      sentinelNodes: sentinels.map(({ host, port }) => ({ host, port })),
      failover: async () => {
        await onEachServer([sentinels[0]], (c) => c.call('SENTINEL', 'FAILOVER', SENTINEL_MASTER));
        await waitFor('the failover', async () => {
          const named = await onEachServer(sentinels, (c) =>
            c.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', SENTINEL_MASTER),
          );
          // Done once the old primary is a replica too: until then it still takes writes (and loses them).
          const roles = await onEachServer([replica, primary], async (c) => {
            const role = (await c.call('ROLE')) as unknown[];
            return role[0];
          });
          return (
            JSON.stringify(roles) === JSON.stringify(['master', 'slave']) &&
            named.every((n) => JSON.stringify(n) === JSON.stringify(replicaAddress))
          );
        });
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}
