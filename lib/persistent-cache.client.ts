import { Logger } from '@nestjs/common';
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { LOG_CONTEXT } from './util/log-context';
import { parseUrl, redactUrl } from './util/redact-url';
import { checkRedisUrl, selectAdvice, selectRefusal } from './util/redis-url';
import { withTimeout } from './util/timeout';
import {
  REDIS_CONNECTED,
  REDIS_DB_REFUSED,
  REDIS_MODE,
  REDIS_UNREACHABLE,
} from './persistent-cache.messages';
import type { ResolvedRedisOptions } from './persistent-cache.interfaces';

/** How long a shutdown waits for Redis to answer QUIT before it drops the connection. */
const QUIT_TIMEOUT_MS = 2_000;

/** How long {@link openRedisClient} waits for the first connection to be ready or to fail. */
const STARTUP_CHECK_MS = 10_000;

/** The last connection error of each client made by {@link createRedisClient}, until it is ready again. */
const connectionErrors = new WeakMap<Redis | Cluster, Error>();

/** Clients made by {@link createRedisClient} that were closed because the server refused their database. */
const refusedDatabases = new WeakMap<Redis, Error>();

/**
 * The client of `redis` mode: an ioredis `Redis` from `redis.url` and `redis.options` (the options win over what
 * the URL gives; sentinels are ioredis options too), or an ioredis `Cluster` from `redis.cluster`.
 *
 * A Redis that cannot be reached does not stop the application from starting: ioredis connects in the
 * background and keeps retrying with its backoff (`retryStrategy`); commands sent meanwhile wait in its offline
 * queue and fail after `maxRetriesPerRequest` retries (20 by default; set `enableOfflineQueue: false` to make them
 * fail at once). The first failure after a working (or not yet working) connection is logged once as an error
 * naming the server — the URL without its password — and the next success is logged too; the health indicator
 * reports the connection meanwhile.
 *
 * A server that refuses the database (`SELECT` answered with an error, e.g. `ERR DB index is out of range` for
 * `/99` on a server of 16 databases) closes the client for good, with an error logged and reported by the health
 * indicator: ioredis would go on, ready, in database 0, and the cache would read and overwrite another
 * application's keys. ioredis sends that `SELECT` before its ready check, so its answer comes before `ready` and no
 * command reaches database 0 (unless `enableReadyCheck: false` with `disableClientInfo: true`, where `ready` comes at
 * once). At startup, {@link openRedisClient} turns that refusal into an error.
 */
export function createRedisClient(redis: ResolvedRedisOptions): Redis | Cluster {
  const logger = new Logger(LOG_CONTEXT);
  const target = describeRedisTarget(redis);
  let client: Redis | Cluster;
  if (redis.cluster !== undefined) {
    client = new Cluster(redis.cluster.nodes, redis.cluster.options);
  } else if (redis.url !== undefined) {
    // Not `new Redis(url, options)`: ioredis lets the URL win over the options given with it.
    client = new Redis({ ...urlOptions(redis.url), ...redis.options });
  } else {
    client = new Redis(redis.options);
  }
  logger.log(REDIS_MODE(target));
  let reported = false;
  let connected = false;
  client.on('ready', () => {
    connectionErrors.delete(client);
    logger.log(REDIS_CONNECTED(target, connected));
    connected = true;
    reported = false;
  });
  // Without a listener ioredis would print every failed reconnection attempt to the console.
  client.on('error', (error: Error) => {
    const answer = client instanceof Redis ? selectRefusal(error) : undefined;
    if (client instanceof Redis && answer !== undefined) {
      const db = client.options.db ?? 0;
      const refused = new Error(REDIS_DB_REFUSED(target, db, answer, selectAdvice(answer)));
      connectionErrors.set(client, refused);
      refusedDatabases.set(client, refused);
      logger.error(refused.message);
      client.disconnect();
      return;
    }
    connectionErrors.set(client, error);
    if (reported) return;
    reported = true;
    logger.error(REDIS_UNREACHABLE(target, error.message));
  });
  return client;
}

/**
 * {@link createRedisClient}, after the first connection's outcome: a server that refuses the database fails the
 * startup with an error naming the database and the server's answer. One that cannot be reached does not (ioredis
 * keeps trying, as described there), nor one still connecting after {@link STARTUP_CHECK_MS}, nor a client with
 * `lazyConnect` or a `Cluster` (whose options cannot name a database): for those the refusal closes the client
 * when it comes.
 */
export async function openRedisClient(redis: ResolvedRedisOptions): Promise<Redis | Cluster> {
  const client = createRedisClient(redis);
  if (!(client instanceof Redis) || client.options.lazyConnect === true) return client;
  let settle = () => {};
  const settled = new Promise<void>((resolve) => (settle = resolve));
  const outcomes = ['ready', 'close', 'end'] as const;
  for (const event of outcomes) client.once(event, settle);
  try {
    await withTimeout(settled, STARTUP_CHECK_MS).catch(() => undefined);
    if (client.status === 'ready' && (client.options.db ?? 0) !== 0) {
      // Answered after the SELECT that ioredis sent as it connected, which `ready` may come before (see above).
      await withTimeout(client.ping(), STARTUP_CHECK_MS).catch(() => undefined);
    }
  } finally {
    for (const event of outcomes) client.off(event, settle);
  }
  const refused = refusedDatabases.get(client);
  if (refused !== undefined) throw refused;
  return client;
}

/** What a URL (checked with the options) gives: ioredis options, as ioredis reads a URL. */
function urlOptions(text: string): RedisOptions {
  const checked = checkRedisUrl(text);
  if ('problem' in checked) throw new Error(`redis.url: ${checked.problem}`); // resolveOptions refused it already
  const { url, host, port, db, tls } = checked.url;
  const credentials =
    url.username === '' && url.password === ''
      ? {}
      : { username: decodeURIComponent(url.username), password: decodeURIComponent(url.password) };
  return { host, port, db, ...credentials, ...(tls ? { tls: {} } : {}) };
}

/** The last error a client made by {@link createRedisClient} met since it was last ready, if any. */
export function lastConnectionError(client: unknown): Error | undefined {
  return client instanceof Redis || client instanceof Cluster
    ? connectionErrors.get(client)
    : undefined;
}

/** Where the client connects, for log lines and health reports: never shows a password. */
export function describeRedisTarget(redis: ResolvedRedisOptions): string {
  if (redis.cluster !== undefined) {
    const nodes = redis.cluster.nodes.map((node) =>
      typeof node === 'object'
        ? `${node.host ?? '127.0.0.1'}:${node.port ?? 6379}`
        : typeof node === 'number'
          ? `127.0.0.1:${node}`
          : redactUrl(node),
    );
    return `cluster ${nodes.join(', ')}`;
  }
  const options: RedisOptions = redis.options;
  if (options.sentinels !== undefined && options.sentinels.length > 0) {
    const sentinels = options.sentinels.map((s) => `${s.host ?? '127.0.0.1'}:${s.port ?? 26379}`);
    return `sentinel master "${options.name ?? 'mymaster'}" via ${sentinels.join(', ')}`;
  }
  if (options.path !== undefined) return `unix:${options.path}`;
  const overridden = options.host ?? options.port ?? options.db;
  if (redis.url !== undefined && overridden === undefined) return redactUrl(redis.url);
  const base = redis.url === undefined ? undefined : parseUrl(redis.url);
  const host = options.host ?? base?.hostname ?? '127.0.0.1';
  const port = options.port ?? (base?.port ? Number(base.port) : 6379);
  const db = options.db ?? (base !== undefined ? Number(base.pathname.slice(1) || 0) : 0);
  const scheme = base?.protocol === 'rediss:' || options.tls !== undefined ? 'rediss' : 'redis';
  return `${scheme}://${host}:${port}${db === 0 ? '' : `/${db}`}`;
}

/**
 * Closes a client without hanging shutdown, and resolves once its connection is closed (status `end`):
 * - connected: QUIT (Redis answers once it has replied to the commands sent before); if QUIT fails or is not
 *   answered within {@link QUIT_TIMEOUT_MS}, the connection is dropped;
 * - connecting: the attempt is abandoned;
 * - waiting to reconnect (`reconnecting`): the retry is cancelled. ioredis leaves such a client in status
 *   `reconnecting`, but with no socket and no timer: it does nothing more.
 */
export async function closeClient(client: Redis | Cluster): Promise<void> {
  // Read afresh each time: the status changes while this function awaits.
  const status = (): string => client.status;
  if (status() === 'end') return;
  if (status() === 'ready') {
    const ended = endOf(client);
    try {
      await withTimeout(client.quit(), QUIT_TIMEOUT_MS);
    } catch {
      // The connection broke during QUIT: nothing left to say goodbye to.
    }
    if (await withTimeout(ended, QUIT_TIMEOUT_MS).catch(() => false)) return;
  }
  if (status() === 'end') return;
  if (status() === 'reconnecting') {
    client.disconnect();
    return;
  }
  const ended = endOf(client);
  client.disconnect();
  await withTimeout(ended, QUIT_TIMEOUT_MS).catch(() => undefined);
}

/** Resolves to `true` when the client emits `end`. */
function endOf(client: Redis | Cluster): Promise<boolean> {
  return new Promise((resolve) => client.once('end', () => resolve(true)));
}
