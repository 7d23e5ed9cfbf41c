import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';
import { infoFields } from '../../lib/util/info-fields';
import { freePort } from './free-port';

/**
 * A real `redis-server` on 127.0.0.1 in a directory of its own, with automatic persistence off: for the tests that
 * compare with Redis, and for the benchmark. No test-framework globals (the benchmark imports it).
 *
 * How a test suite uses it:
 *
 *     const redisServerBinary = findRedisServer(); // null: not installed (and not required), notice printed
 *     if (redisServerBinary !== null) {
 *       describe('against a real Redis', () => {
 *         let server: RedisServer;
 *         beforeAll(async () => { server = await startRedisServer(redisServerBinary); });
 *         afterAll(() => server.stop());
 *         ...
 *       });
 *     }
 *
 * When `redis-server` is not on the PATH: with the environment variable `PERSISTENT_CACHE_REQUIRE_REDIS=1` (CI
 * sets it) {@link findRedisServer} throws, failing the suite; otherwise it prints why the real-Redis tests are
 * left out and returns `null`, and the suite registers none of them.
 *
 * The benchmark drives a {@link RedisServerProcess} itself: it saves, stops, and starts the server again on the
 * same directory to time the load of the dump.
 */

export const REQUIRE_REDIS_ENV = 'PERSISTENT_CACHE_REQUIRE_REDIS';

/** Path of `binary` on the PATH, or `undefined`. */
function lookUp(binary: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, binary);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Path of `redis-server` on the PATH, or `undefined` (no notice, nothing required). */
export function redisServerOnPath(): string | undefined {
  return lookUp('redis-server');
}

/**
 * The `redis-server` binary, or `null` when it is not installed and the environment does not require it (a notice
 * saying which tests are left out and why is printed). Throws when it is required but missing.
 */
export function findRedisServer(suite: string): string | null {
  const binary = redisServerOnPath();
  if (binary !== undefined) return binary;
  const why = 'redis-server is not on the PATH (install it, e.g. `apt-get install redis-server`)';
  if (process.env[REQUIRE_REDIS_ENV] === '1') {
    throw new Error(`${suite}: ${why}, and ${REQUIRE_REDIS_ENV}=1 requires the real-Redis tests`);
  }
  console.warn(
    `NOTICE: ${suite}: the tests against a real Redis are NOT run: ${why}. ` +
      `Set ${REQUIRE_REDIS_ENV}=1 to make this an error.`,
  );
  return null;
}

/** Path of `redis-cli` on the PATH, or `undefined`. */
export function findRedisCli(): string | undefined {
  return lookUp('redis-cli');
}

/** The version `binary --version` reports (`7.0.15`), or `unknown`. */
export function redisServerVersion(binary: string): string {
  const probe = spawnSync(binary, ['--version'], { encoding: 'utf8' });
  return /v=(\S+)/.exec(probe.stdout ?? '')?.[1] ?? 'unknown';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A `redis-server` child on `host:port` with `dir` as its working directory (`dump.rdb` there), no automatic
 * persistence. It may be started again after {@link stop}, on the same directory: it then loads the dump.
 */
export class RedisServerProcess {
  private child: ChildProcess | undefined;
  private output = '';
  /** A client connected since {@link start} resolved, until {@link stop}. */
  client: Redis | undefined;

  constructor(
    readonly binary: string,
    readonly dir: string,
    readonly port: number,
    readonly host = '127.0.0.1',
    /** More `redis-server` options (`--cluster-enabled yes`, …), after the ones above. */
    readonly extraArgs: readonly string[] = [],
    /** A sentinel's configuration file (which it rewrites): the process is then a Redis Sentinel. */
    readonly sentinelConfig?: string,
  ) {}

  get url(): string {
    return `redis://${this.host}:${this.port}`;
  }

  get dumpFile(): string {
    return join(this.dir, 'dump.rdb');
  }

  dumpSize(): number {
    return statSync(this.dumpFile).size;
  }

  /** Everything the server printed since it was last started. */
  get log(): string {
    return this.output;
  }

  /**
   * Starts the server (loading `dump.rdb` if there is one) and resolves once it answers PING, which it answers
   * `LOADING` until the dump is loaded; returns the ms taken. Fails if the server exits first, or after `timeoutMs`.
   */
  async start(timeoutMs = Infinity): Promise<number> {
    this.output = '';
    const started = performance.now();
    const child = spawn(
      this.binary,
      [
        ...(this.sentinelConfig === undefined ? [] : [this.sentinelConfig, '--sentinel']),
        '--port',
        String(this.port),
        '--bind',
        this.host,
        '--dir',
        this.dir,
        '--dbfilename',
        'dump.rdb',
        '--save',
        '',
        '--appendonly',
        'no',
        '--daemonize',
        'no',
        '--protected-mode',
        'yes',
        '--logfile',
        '',
        '--loglevel',
        'notice',
        ...this.extraArgs,
      ],
      // The C locale: SORT … ALPHA compares with `strcoll`, which the embedded cache does in the C locale's order.
      { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LC_ALL: 'C' } },
    );
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    // Set once the process has ended (or could not be spawned): the start fails with it.
    let ended: Error | undefined;
    child.once('exit', (code, signal) => {
      ended ??= new Error(`redis-server exited with ${code ?? signal}:\n${this.output}`);
    });
    child.once('error', (error) => {
      ended ??= new Error(`redis-server could not be started: ${error.message}`);
    });
    // Poll every millisecond: first for a connection, then for PONG (not LOADING).
    let client: Redis | undefined;
    try {
      for (;;) {
        if (ended !== undefined) throw ended;
        if (performance.now() - started > timeoutMs) {
          throw new Error(
            `redis-server did not answer PING within ${timeoutMs} ms:\n${this.output}`,
          );
        }
        if (client === undefined) {
          const candidate = this.newClient();
          try {
            await candidate.connect();
            client = candidate;
          } catch {
            // Not listening yet. The failed client has ended: disconnecting it again would leave a timer behind.
            await sleep(1);
            continue;
          }
        }
        try {
          if ((await client.ping()) === 'PONG') break;
        } catch {
          // LOADING, or the connection was lost: then connect again.
          if (client.status !== 'ready') {
            if (client.status !== 'end') client.disconnect();
            client = undefined;
          }
        }
        await sleep(1);
      }
    } catch (error) {
      if (client !== undefined && client.status !== 'end') client.disconnect();
      await this.stop();
      throw error;
    }
    this.client = client;
    return performance.now() - started;
  }

  private newClient(): Redis {
    const client = new Redis({
      host: this.host,
      port: this.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      enableOfflineQueue: false,
      // ioredis's ready check waits out the server's loading ETA before it looks again; the PING poll sees the end
      // of loading within a millisecond instead.
      enableReadyCheck: false,
    });
    // Connection errors are expected while the server starts; the poll retries.
    client.on('error', () => undefined);
    return client;
  }

  /** Seconds redis itself reports for loading the dump ("DB loaded from disk: N seconds"), if it logged it. */
  get loadSecondsFromLog(): number | undefined {
    const match = /DB loaded from disk: ([\d.]+) seconds/.exec(this.output);
    return match === null ? undefined : Number(match[1]);
  }

  /** The fields of one section of `INFO`. */
  async info(section: string): Promise<Record<string, string>> {
    return infoFields(await this.requireClient().info(section));
  }

  requireClient(): Redis {
    if (this.client === undefined) throw new Error('redis-server is not started');
    return this.client;
  }

  /** Stops the server without saving (SIGTERM, SIGKILL after 10 s) and waits for it to exit. Idempotent. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    const client = this.client;
    this.client = undefined;
    // A connection the server closed (a sentinel demoting it closes its clients') has ended: disconnecting it again
    // would leave ioredis's socket timer behind.
    if (client !== undefined && client.status !== 'end') client.disconnect();
    const running =
      child?.pid !== undefined && child.exitCode === null && child.signalCode === null;
    if (child === undefined || !running) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timeout = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timeout);
  }
}

/** A started {@link RedisServerProcess} of a test, on a free port, in a temp dir of its own. */
export interface RedisServer {
  readonly host: string;
  readonly port: number;
  /** `redis://127.0.0.1:<port>` (database 0); add `/<db>` for another database. */
  readonly url: string;
  /** A new client (the caller closes it). */
  client(db?: number): Redis;
  /** Stops the server and removes its directory. Idempotent. */
  stop(): Promise<void>;
}

/** How long a test's server may take to answer PING. */
const START_TIMEOUT_MS = 10_000;

/** What else a test's server is besides a plain redis-server. */
export interface RedisServerRole {
  /** More server options (a cluster node's, a replica's). */
  readonly args?: readonly string[];
  /** The lines of a sentinel's configuration (`sentinel monitor …`): the server is then a Redis Sentinel. */
  readonly sentinel?: string;
}

/**
 * Starts `redis-server` (from {@link findRedisServer}) on a free port (or on `port`), in a new temp dir, and waits
 * until it answers PING.
 */
export async function startRedisServer(
  binary: string,
  port?: number,
  role: RedisServerRole = {},
): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'persistent-cache-redis-'));
  let config: string | undefined;
  if (role.sentinel !== undefined) {
    config = join(dir, 'sentinel.conf');
    writeFileSync(config, `${role.sentinel}\n`);
  }
  let server: RedisServerProcess | undefined;
  for (let attempt = 1; server === undefined; attempt++) {
    const candidate = new RedisServerProcess(
      binary,
      dir,
      port ?? (await freePort()),
      '127.0.0.1',
      role.args,
      config,
    );
    try {
      await candidate.start(START_TIMEOUT_MS);
      server = candidate;
    } catch (error) {
      // Another process may have taken the port between freePort() and listen(): try another.
      if (attempt === 3 || port !== undefined) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  const { host } = server;
  const running = server;
  let stopping: Promise<void> | undefined;
  return {
    host,
    port: running.port,
    url: running.url,
    client: (db = 0) => new Redis({ host, port: running.port, db }),
    stop: () => {
      stopping ??= running.stop().then(() => rmSync(dir, { recursive: true, force: true }));
      return stopping;
    },
  };
}

/** Runs `command` on a new client of each of `servers` (closed after), in their order. */
export function onEachServer<T>(
  servers: readonly RedisServer[],
  command: (client: Redis) => Promise<T>,
): Promise<T[]> {
  return Promise.all(
    servers.map(async (server) => {
      const client = server.client();
      try {
        return await command(client);
      } finally {
        client.disconnect();
      }
    }),
  );
}
