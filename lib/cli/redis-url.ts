import Redis from 'ioredis';
import { CliError, EXIT_USAGE } from './io';
import { messageOf } from '../util/errors';
import { redactUrl } from '../util/redact-url';
import {
  checkRedisUrl,
  CLUSTER_DB_ONLY,
  REDIS_URL_ACCEPTED,
  selectAdvice,
  selectRefusal,
  type RedisUrl,
} from '../util/redis-url';

/** A Redis URL of the command line, and the option that gave it (`--to`, `--from`), which messages name. */
export interface CliRedisUrl extends RedisUrl {
  readonly option: string;
}

/**
 * Checks a `redis[s]://[[user]:password@]host[:port][/db]` URL given as `option`. With `cluster` (the commands'
 * `--cluster`), a database other than 0 is refused too: a Redis Cluster has only database 0.
 */
export function parseRedisUrl(option: string, text: string, cluster = false): CliRedisUrl {
  const checked = checkRedisUrl(text);
  if ('problem' in checked) {
    throw new CliError(
      `${option}: ${JSON.stringify(redactUrl(text))} is not a Redis URL: ${checked.problem}; ` +
        `expected ${REDIS_URL_ACCEPTED}`,
      EXIT_USAGE,
    );
  }
  if (cluster && checked.url.db !== 0) {
    throw new CliError(
      `${option}: ${JSON.stringify(redactUrl(text))} names database ${checked.url.db}, but --cluster asks ` +
        `for a Redis Cluster and ${CLUSTER_DB_ONLY}: give /0 or no database`,
      EXIT_USAGE,
    );
  }
  return { ...checked.url, option };
}

/**
 * Connects to Redis, failing fast (no reconnection attempts) with a message naming the server. A server that
 * refuses the URL's database fails the connection too: ioredis would go on in database 0, and an export would
 * write into (and with `--replace` overwrite keys of) a database nobody named.
 */
export async function connect(url: CliRedisUrl, abort?: AbortSignal): Promise<Redis> {
  const client = new Redis(url.url.href, {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 1,
    connectTimeout: 10_000,
  });
  const drop = () => client.disconnect();
  abort?.addEventListener('abort', drop, { once: true });
  let lastError: unknown;
  let refusal: string | undefined;
  client.on('error', (error: unknown) => {
    lastError = error;
    refusal ??= selectRefusal(error);
  });
  try {
    abort?.throwIfAborted();
    await client.connect();
    // Answered after the SELECT that ioredis sent as it connected: its refusal, if any, has been seen by now.
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw new CliError(
      `cannot connect to ${redactUrl(url.url)}: ${messageOf(lastError ?? error) || messageOf(error)}`,
    );
  } finally {
    abort?.removeEventListener('abort', drop);
  }
  if (refusal !== undefined) {
    client.disconnect();
    throw new CliError(
      `${url.option}: ${redactUrl(url.url)} names database ${url.db}, which the server refused ` +
        `(SELECT ${url.db}: ${refusal}); nothing was read or written. ${capitalised(selectAdvice(refusal))}`,
    );
  }
  return client;
}

const capitalised = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);
