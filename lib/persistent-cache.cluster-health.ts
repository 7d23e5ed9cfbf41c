import type { Cluster, Redis } from 'ioredis';
import { infoFields } from './util/info-fields';
import { CLUSTER_SLOTS } from './util/key-slot';
import { messageOf } from './util/errors';
import { withTimeout } from './util/timeout';
import {
  HEALTH_CLUSTER_SLOTS_UNREACHABLE,
  HEALTH_CLUSTER_STATE,
} from './persistent-cache.messages';

/** One primary of a Redis Cluster as the health indicator saw it. */
export interface PersistentCacheClusterNodeHealth {
  /** `host:port`, as the cluster announces it. */
  readonly node: string;
  /** The slot ranges it serves, e.g. `0-5460` (several separated by commas). */
  readonly slots: string;
  /** Whether it answered PING in time. */
  readonly reachable: boolean;
  /** PING's round trip in milliseconds, when it answered. */
  readonly pingMs?: number;
  /** Why it is not reachable. */
  readonly message?: string;
}

export interface ClusterHealth {
  readonly status: 'up' | 'down';
  readonly message?: string;
  /** `cluster_state` as the first reachable primary reports it. */
  readonly clusterState?: string;
  readonly nodes: PersistentCacheClusterNodeHealth[];
  /** Slots whose primary answered PING (all 16384 on a whole cluster): for the metrics, not the health report. */
  readonly slotsServed: number;
}

/** A run of consecutive slots served by one primary. */
interface SlotRange {
  readonly first: number;
  readonly last: number;
  /** The primary's `host:port`, or undefined when the client knows no primary for the range. */
  readonly node: string | undefined;
}

/** The runs of every slot, those the client knows no primary for (none before it first connects) included. */
function rangesOf(slots: readonly (readonly string[] | undefined)[]): SlotRange[] {
  const ranges: SlotRange[] = [];
  for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
    const node = slots[slot]?.[0];
    const previous = ranges.at(-1);
    if (previous !== undefined && previous.node === node && previous.last === slot - 1) {
      ranges[ranges.length - 1] = { ...previous, last: slot };
    } else {
      ranges.push({ first: slot, last: slot, node });
    }
  }
  return ranges;
}

const show = (r: SlotRange) => (r.first === r.last ? `${r.first}` : `${r.first}-${r.last}`);

/**
 * The health of a Redis Cluster client: a PING to every primary the client knows (at most `timeoutMs` each, all
 * at once), and the slot map the client routes by. A single PING would go to one node and say nothing of the
 * others, while each slot range is only as available as its primary: the cluster is **down** when some range has
 * no primary that answers (its keys' commands fail), or when the cluster itself reports a state other than `ok`.
 */
export async function clusterHealth(cluster: Cluster, timeoutMs: number): Promise<ClusterHealth> {
  // The primaries the client is connected to, and those its slot map names but it has dropped (unreachable).
  const primaries = new Map<string, Redis | undefined>();
  for (const node of cluster.nodes('master')) {
    primaries.set(`${node.options.host}:${node.options.port}`, node);
  }
  const ranges = rangesOf(cluster.slots);
  for (const { node } of ranges) {
    if (node !== undefined && !primaries.has(node)) primaries.set(node, undefined);
  }
  const pinged = await Promise.all(
    [...primaries].map(async ([name, client]) => ({
      name,
      client,
      ...(await ping(client, timeoutMs)),
    })),
  );
  const nodes: PersistentCacheClusterNodeHealth[] = pinged.map(
    ({ name, reachable, pingMs, message }) => ({
      node: name,
      slots: ranges
        .filter((r) => r.node === name)
        .map(show)
        .join(','),
      reachable,
      ...(pingMs === undefined ? {} : { pingMs }),
      ...(message === undefined ? {} : { message }),
    }),
  );
  const reachable = new Set(pinged.filter((p) => p.reachable).map((p) => p.name));
  const lost = ranges.filter((r) => r.node === undefined || !reachable.has(r.node));
  const reporter = pinged.find((p) => p.reachable)?.client;
  const clusterState =
    reporter === undefined ? undefined : await stateOf(reporter, timeoutMs).catch(() => undefined);
  const state = clusterState === undefined ? {} : { clusterState };
  const slotsServed = CLUSTER_SLOTS - lost.reduce((sum, r) => sum + r.last - r.first + 1, 0);
  if (lost.length > 0) {
    const unreachable = new Map(nodes.map((n) => [n.node, n.message]));
    const because = (node: string) => {
      const message = unreachable.get(node);
      return message === undefined ? node : `${node}: ${message}`;
    };
    // Slots of no known primary (the client never got a slot map): the nodes it tried say why.
    const unknown = lost.some((r) => r.node === undefined)
      ? [
          [
            'no primary known',
            ...nodes.filter((n) => !n.reachable).map((n) => because(n.node)),
          ].join(', '),
        ]
      : [];
    const named = [...new Set(lost.flatMap((r) => (r.node === undefined ? [] : [r.node])))];
    const why = [...named.map(because), ...unknown];
    return {
      status: 'down',
      message: HEALTH_CLUSTER_SLOTS_UNREACHABLE(lost.map(show).join(','), why.join('; ')),
      ...state,
      nodes,
      slotsServed,
    };
  }
  if (clusterState !== undefined && clusterState !== 'ok') {
    return {
      status: 'down',
      message: HEALTH_CLUSTER_STATE(clusterState),
      ...state,
      nodes,
      slotsServed,
    };
  }
  return { status: 'up', ...state, nodes, slotsServed };
}

async function ping(
  client: Redis | undefined,
  timeoutMs: number,
): Promise<{ reachable: boolean; pingMs?: number; message?: string }> {
  if (client === undefined)
    return {
      reachable: false,
      message: 'not connected: the connection was lost and is not back yet',
    };
  const started = Date.now();
  try {
    const reply = await withTimeout(
      client.ping(),
      timeoutMs,
      `PING not answered within ${timeoutMs} ms`,
    );
    if (reply !== 'PONG') throw new Error(`PING answered ${JSON.stringify(reply)}`);
    return { reachable: true, pingMs: Date.now() - started };
  } catch (error) {
    return { reachable: false, message: messageOf(error) };
  }
}

async function stateOf(client: Redis, timeoutMs: number): Promise<string | undefined> {
  const reply = await withTimeout(
    client.call('CLUSTER', 'INFO'),
    timeoutMs,
    `CLUSTER INFO not answered within ${timeoutMs} ms`,
  );
  return infoFields(String(reply)).cluster_state;
}
