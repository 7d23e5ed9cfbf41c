import type Redis from 'ioredis';
import { CliError } from './io';
import { CLUSTER_SLOTS, keySlot } from '../util/key-slot';
import { connect, type CliRedisUrl } from './redis-url';
import { infoFields } from '../util/info-fields';
import { redactUrl } from '../util/redact-url';

/**
 * The Redis that `export --to` writes into and `import --from` reads: one server, or — when the URL names a node
 * of a Redis Cluster — every primary of that cluster. A cluster node holds only its own slots' keys, so a command
 * that spoke to that one node would read a fraction of the data (and report success) or fail halfway on `MOVED`.
 * The cluster is therefore detected from the server itself (`INFO cluster`), and the commands speak to each primary
 * directly: import SCANs every one of them, export sends each key to the primary that serves its slot.
 */
export interface RedisTarget {
  /** What the summaries name: the URL (password hidden), and for a cluster how many primaries it has. */
  readonly description: string;
  /** The servers that hold the keys: the one server, or each primary of the cluster. */
  readonly primaries: readonly Redis[];
  /** The server that holds `key`. */
  serverFor(key: string | Buffer): Redis;
  /** Closes every connection. */
  close(): Promise<void>;
}

/**
 * Connects to the server of `url` and, if it is a cluster node, to every primary of its cluster. With
 * `requireCluster` (the commands' `--cluster`), a server that is not a cluster node is refused. Once `abort` is
 * aborted, every connection is dropped, and whatever waits on one fails.
 */
export async function openRedisTarget(
  target: CliRedisUrl,
  requireCluster = false,
  abort?: AbortSignal,
): Promise<RedisTarget> {
  const { url } = target;
  const first = await connect(target, abort);
  const opened: Redis[] = [first];
  // Aborted (the command was stopped): every connection is dropped, and the commands waiting on one fail.
  const disconnect = () => {
    for (const client of opened) client.disconnect();
  };
  abort?.addEventListener('abort', disconnect, { once: true });
  const close = async () => {
    abort?.removeEventListener('abort', disconnect);
    await Promise.all(opened.map((c) => c.quit().catch(() => c.disconnect())));
  };
  try {
    const info = infoFields(await first.info('cluster'));
    if (info.cluster_enabled !== '1') {
      if (requireCluster) {
        throw new CliError(
          `--cluster: ${redactUrl(url)} is not a node of a Redis Cluster (its INFO says cluster_enabled:` +
            `${info.cluster_enabled ?? '?'}); nothing was read or written. Leave out --cluster for a single server`,
        );
      }
      return { description: redactUrl(url), primaries: [first], serverFor: () => first, close };
    }
    const state = infoFields(String(await first.call('CLUSTER', 'INFO'))).cluster_state;
    if (state !== 'ok') {
      throw new CliError(
        `${redactUrl(url)} is a node of a Redis Cluster that reports cluster_state:${state}; nothing was read ` +
          'or written. Some slots have no reachable primary: bring the failed nodes back ' +
          '(`redis-cli --cluster check <host:port>` shows which) and run the command again',
      );
    }
    const ranges = (await first.call('CLUSTER', 'SLOTS')) as [number, number, [string, number]][];
    const primaries: Redis[] = [];
    const byAddress = new Map<string, number>();
    const owners = new Int32Array(CLUSTER_SLOTS).fill(-1);
    for (const [from, to, [reportedHost, port]] of ranges) {
      // An empty host means "the address you reached me at".
      const host = reportedHost === '' || reportedHost === '?' ? url.hostname : reportedHost;
      const address = `${host}:${port}`;
      let index = byAddress.get(address);
      if (index === undefined) {
        const nodeUrl = new URL(url.href);
        nodeUrl.hostname = host;
        nodeUrl.port = String(port);
        const isFirst = nodeUrl.hostname === url.hostname && nodeUrl.port === url.port;
        const client = isFirst ? first : await connect({ ...target, url: nodeUrl }, abort);
        if (!isFirst) opened.push(client);
        index = primaries.push(client) - 1;
        byAddress.set(address, index);
      }
      owners.fill(index, from, to + 1);
    }
    const unserved = owners.indexOf(-1);
    if (unserved >= 0) {
      throw new CliError(
        `${redactUrl(url)} is a node of a Redis Cluster in which slot ${unserved} has no primary; nothing was ` +
          'read or written. Assign every slot (`redis-cli --cluster fix <host:port>`) and run the command again',
      );
    }
    return {
      description: `the Redis Cluster at ${redactUrl(url)} (${primaries.length} primaries)`,
      primaries,
      serverFor: (key) => primaries[owners[keySlot(key)]],
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}
