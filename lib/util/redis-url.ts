/**
 * The Redis URLs the library accepts (the module's `redis.url` and its environment variable, the CLI's `--to` and
 * `--from`), checked once where they are given. ioredis takes worse ones without a word: it sends `SELECT NaN` for a
 * database that is not a number (unhandled rejections), throws a bare `TypeError: Invalid URL` for a port over
 * 65535, and when the `SELECT` of a database the server does not have fails it goes on, ready, in database 0. The
 * last one only the server can tell: {@link selectRefusal} recognises it.
 */

/** The form of a Redis URL, for messages. */
export const REDIS_URL_FORM = 'redis[s]://[[user]:password@]host[:port][/db]';

/** The most a database index can be: Redis's `databases` setting is an `int`. */
export const MAX_DB = 2 ** 31 - 1;

export const PORT_ACCEPTED = 'a whole number from 1 to 65535';
export const DB_ACCEPTED = `a whole number from 0 to ${MAX_DB}`;

/** What a Redis URL may be, for messages: the form, and what its port and database take. */
export const REDIS_URL_ACCEPTED =
  `${REDIS_URL_FORM} with a port from 1 to 65535 (default 6379) and a db from 0 to ${MAX_DB} (default 0), ` +
  'without a query string';

/** What a Redis Cluster accepts as a database: it has only database 0. */
export const CLUSTER_DB_ONLY = 'a Redis Cluster has only database 0';

/** The parts of a checked Redis URL. */
export interface RedisUrl {
  readonly url: URL;
  /** Without the brackets of an IPv6 address. */
  readonly host: string;
  readonly port: number;
  readonly db: number;
  readonly tls: boolean;
}

/** `text` as a Redis URL, or what is wrong with it (e.g. `its port 99999 is not from 1 to 65535`). */
export type RedisUrlCheck = { readonly url: RedisUrl } | { readonly problem: string };

/**
 * Checks `text` against {@link REDIS_URL_FORM}. The port is read before `new URL()`, which refuses one over 65535
 * without saying what is wrong.
 */
export function checkRedisUrl(text: string): RedisUrlCheck {
  const start = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?#]*)/.exec(text);
  if (start === null) return { problem: 'it does not start with redis:// or rediss://' };
  const scheme = start[1].toLowerCase();
  if (scheme !== 'redis' && scheme !== 'rediss') {
    return { problem: `its scheme is ${JSON.stringify(start[1])}, not redis or rediss` };
  }
  const authority = start[2];
  const hostPort = /^(\[[^\]]*\]|[^:]*)(?::(.*))?$/.exec(
    authority.slice(authority.lastIndexOf('@') + 1),
  );
  const host = (hostPort?.[1] ?? '').replace(/^\[(.*)\]$/, '$1');
  if (host === '') return { problem: 'it names no host' };
  const portText = hostPort?.[2] ?? '';
  if (portText !== '' && !/^\d+$/.test(portText)) {
    return { problem: `its port ${JSON.stringify(portText)} is not a number from 1 to 65535` };
  }
  const port = portText === '' ? 6379 : Number(portText);
  if (port < 1 || port > 65535) return { problem: `its port ${portText} is not from 1 to 65535` };
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return { problem: 'it is not a valid URL' };
  }
  if (url.search !== '') {
    return {
      problem: `it has a query string (${JSON.stringify(url.search)}), which is not part of the form`,
    };
  }
  if (url.hash !== '') {
    return {
      problem: `it has a fragment (${JSON.stringify(url.hash)}), which is not part of the form`,
    };
  }
  const dbText = url.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : /^\d+$/.test(dbText) ? Number(dbText) : NaN;
  if (Number.isNaN(db)) {
    return { problem: `its database ${JSON.stringify(dbText)} is not ${DB_ACCEPTED}` };
  }
  if (db > MAX_DB) return { problem: `its database ${dbText} is not ${DB_ACCEPTED}` };
  return { url: { url, host, port, db, tls: scheme === 'rediss' } };
}

/** Whether `value` is a database index: {@link DB_ACCEPTED}. */
export function isDbIndex(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_DB;
}

/** Whether `value` is a TCP port: {@link PORT_ACCEPTED}. */
export function isPort(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1 && value <= 65535;
}

/**
 * The server's answer when `error` is the failed `SELECT` ioredis sends as it connects (it reports it as an `error`
 * event, a reply error with the command attached, and then goes on in database 0), e.g. `ERR DB index is out of
 * range`; `undefined` for any other error.
 */
export function selectRefusal(error: unknown): string | undefined {
  const { command, message } = (error ?? {}) as { command?: { name?: unknown }; message?: unknown };
  return command?.name === 'select' && typeof message === 'string' ? message : undefined;
}

/** Why a server refused the database, and what to do, after its answer to `SELECT`. */
export function selectAdvice(answer: string): string {
  return /cluster/i.test(answer)
    ? `the server is a node of a Redis Cluster, which has only database 0: give /0 or no database`
    : /out of range/i.test(answer)
      ? 'the server has fewer databases (its `databases` setting, 16 by default): give one it has'
      : 'give a database the server accepts';
}
