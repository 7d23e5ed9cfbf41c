import { BeforeApplicationShutdown, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectMetric, makeCounterProvider, makeGaugeProvider } from '@willsoto/nestjs-prometheus';
import { Cluster } from 'ioredis';
import type { Counter, Gauge } from 'prom-client';
import { CACHE_INSTANCE } from './persistent-cache.constants';
import { type RedisHealth, redisHealth, sentinelPrimary } from './persistent-cache.health';
import type { CacheInstance } from './persistent-cache.registry';
import { METRICS } from './snapshots/snapshot.metrics';

/**
 * The metrics of `redis` mode. What they show — whether the server answers, each primary of a cluster and the slots
 * served, the primary Sentinel gave — is what the health indicator finds (`redisHealth`), read when `/metrics` is
 * scraped: no timer polls the server between scrapes, and a scrape never shows a value older than itself. Each
 * gauge's `collect` reads every cache in `redis` mode of the process (caches register at startup and leave at
 * shutdown); the gauges of one scrape share one reading, so a scrape PINGs each server once.
 */

type Labels = Readonly<Record<string, string>>;

/** A cache in `redis` mode, as the gauges read it. */
interface Source {
  readonly labels: Labels;
  read(): Promise<RedisHealth>;
}

const sources = new Set<Source>();
let reading: Promise<readonly { labels: Labels; health: RedisHealth }[]> | undefined;

/** Every source's health, once for all the gauges that ask in the same scrape (prom-client starts them together). */
function readSources(): Promise<readonly { labels: Labels; health: RedisHealth }[]> {
  reading ??= Promise.all(
    [...sources].map(async (source) => ({ labels: source.labels, health: await source.read() })),
  ).finally(() => {
    reading = undefined;
  });
  return reading;
}

/** A gauge's `collect`: its series, set afresh from this scrape's reading (a primary gone leaves no stale series). */
function collectWith(
  fill: (gauge: Gauge<string>, labels: Labels, health: RedisHealth) => void,
): (this: Gauge<string>) => Promise<void> {
  return async function collect(this: Gauge<string>): Promise<void> {
    const readings = await readSources();
    this.reset();
    for (const { labels, health } of readings) fill(this, labels, health);
  };
}

/** The providers of the `redis`-mode metrics; like the others, deduplicated by name and labelled by cache name. */
export const redisMetricProviders = [
  makeGaugeProvider({
    name: METRICS.redisUp,
    labelNames: ['cache'],
    help:
      'redis mode: 1 when the health indicator finds Redis up (PING answered; on a cluster, every slot has a ' +
      'primary that answers and cluster_state is ok), 0 otherwise. Read at each scrape.',
    collect: collectWith((gauge, labels, { state }) =>
      gauge.set(labels, state.status === 'up' ? 1 : 0),
    ),
  }),
  makeGaugeProvider({
    name: METRICS.redisClusterNodeUp,
    labelNames: ['node', 'cache'],
    help: 'redis mode on a Redis Cluster: 1 for each primary (node="host:port") that answers PING, 0 otherwise.',
    collect: collectWith((gauge, labels, { state }) => {
      for (const node of state.nodes ?? []) {
        gauge.set({ ...labels, node: node.node }, node.reachable ? 1 : 0);
      }
    }),
  }),
  makeGaugeProvider({
    name: METRICS.redisClusterSlotsServed,
    labelNames: ['cache'],
    help: 'redis mode on a Redis Cluster: slots whose primary answers PING (16384 when the whole cluster is served).',
    collect: collectWith((gauge, labels, { slotsServed }) => {
      if (slotsServed !== undefined) gauge.set(labels, slotsServed);
    }),
  }),
  makeGaugeProvider({
    name: METRICS.redisPrimary,
    labelNames: ['node', 'cache'],
    help:
      'redis mode through Sentinel: 1, labelled with the primary (node="host:port") the client is connected to; ' +
      'no series while it is not connected.',
    collect: collectWith((gauge, labels, { state }) => {
      if (state.primary !== undefined) gauge.set({ ...labels, node: state.primary }, 1);
    }),
  }),
  makeCounterProvider({
    name: METRICS.redisPrimaryChanges,
    labelNames: ['cache'],
    help:
      'redis mode through Sentinel: times the client connected to a primary other than the one before (failovers ' +
      'it followed).',
  }),
];

/**
 * One cache's part in the `redis`-mode metrics: it makes the cache readable by the gauges from startup to shutdown,
 * and, through Sentinel, counts the changes of primary the client follows (each `ready` of its connection is compared
 * with the primary of the one before). Nothing in embedded mode.
 */
@Injectable()
export class RedisMetricsService implements OnModuleInit, BeforeApplicationShutdown {
  private source: Source | undefined;
  private onReady: (() => void) | undefined;

  constructor(
    @Inject(CACHE_INSTANCE) private readonly cache: CacheInstance,
    @InjectMetric(METRICS.redisPrimaryChanges) private readonly primaryChanges: Counter<string>,
    // Injected so that they exist (their providers run) in every app that has the module.
    @InjectMetric(METRICS.redisUp) _up: Gauge<string>,
    @InjectMetric(METRICS.redisClusterNodeUp) _nodeUp: Gauge<string>,
    @InjectMetric(METRICS.redisClusterSlotsServed) _slots: Gauge<string>,
    @InjectMetric(METRICS.redisPrimary) _primary: Gauge<string>,
  ) {}

  onModuleInit(): void {
    const { cache } = this;
    if (cache.options.mode !== 'redis') return;
    const labels: Labels = cache.name === null ? {} : { cache: cache.name };
    this.source = { labels, read: () => redisHealth(cache) };
    sources.add(this.source);
    const { client, options } = cache;
    if (client instanceof Cluster || (options.redis?.options.sentinels?.length ?? 0) === 0) return;
    this.primaryChanges.inc(labels, 0);
    let last = sentinelPrimary(options, client);
    this.onReady = () => {
      const now = sentinelPrimary(options, client);
      if (now === undefined) return;
      if (last !== undefined && now !== last) this.primaryChanges.inc(labels);
      last = now;
    };
    client.on('ready', this.onReady);
  }

  /** Before the client is closed: a scrape during shutdown no longer reads this cache. */
  beforeApplicationShutdown(): void {
    if (this.source !== undefined) sources.delete(this.source);
    if (this.onReady !== undefined) this.cache.client.off('ready', this.onReady);
    this.source = undefined;
    this.onReady = undefined;
  }
}
