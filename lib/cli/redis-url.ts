import Redis from 'ioredis';
import { CliError, EXIT_USAGE } from './io';
import { messageOf } from '../util/errors';
import { redactUrl } from '../util/redact-url';

/** Checks a `redis://host:port[/db]` (or `rediss://`, with optional `user:password@`) URL. */
export function parseRedisUrl(option: string, text: string): URL {
  const expected = 'expected redis://host:port[/db] (or rediss:// for TLS)';
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliError(`${option}: ${JSON.stringify(text)} is not a URL; ${expected}`, EXIT_USAGE);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new CliError(
      `${option}: ${JSON.stringify(text)} has the scheme ${url.protocol.replace(/:$/, '')}; ${expected}`,
      EXIT_USAGE,
    );
  }
  if (url.hostname === '') {
    throw new CliError(`${option}: ${JSON.stringify(text)} names no host; ${expected}`, EXIT_USAGE);
  }
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) {
    throw new CliError(
      `${option}: ${JSON.stringify(text)} has the database ${JSON.stringify(db)}, which is not a number; ${expected}`,
      EXIT_USAGE,
    );
  }
  return url;
}

/** Connects to Redis, failing fast (no reconnection attempts) with a message naming the server. */
export async function connect(url: URL): Promise<Redis> {
  const client = new Redis(url.href, {
    lazyConnect: true,
    retryStrategy: () => null,
    maxRetriesPerRequest: 1,
    connectTimeout: 10_000,
  });
  let lastError: unknown;
  client.on('error', (error: unknown) => {
    lastError = error;
  });
  try {
    await client.connect();
    await client.ping();
  } catch (error) {
    client.disconnect();
    throw new CliError(
      `cannot connect to ${redactUrl(url)}: ${messageOf(lastError ?? error) || messageOf(error)}`,
    );
  }
  return client;
}
