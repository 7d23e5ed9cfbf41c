import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import Redis from 'ioredis';
import { freePort } from './free-port';

/**
 * A real `redis-server` for tests, on 127.0.0.1, a free port and its own temp dir, with persistence off.
 *
 * How a suite uses it:
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
 */

export const REQUIRE_REDIS_ENV = 'PERSISTENT_CACHE_REQUIRE_REDIS';

/** Path of `redis-server` on the PATH, or `undefined`. */
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

/**
 * The `redis-server` binary, or `null` when it is not installed and the environment does not require it (a notice
 * saying which tests are left out and why is printed). Throws when it is required but missing.
 */
export function findRedisServer(suite: string): string | null {
  const binary = lookUp('redis-server');
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

async function waitForPing(host: string, port: number, child: ChildProcess, log: () => string) {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) {
      throw new Error(`redis-server exited with code ${child.exitCode}:\n${log()}`);
    }
    const client = new Redis({ host, port, lazyConnect: true, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') return;
    } catch {
      // not listening yet
    } finally {
      // A client whose connection failed has ended; disconnecting it again would leave an ioredis timer behind.
      if (client.status !== 'end') client.disconnect();
    }
    if (Date.now() > deadline) throw new Error(`redis-server did not answer PING:\n${log()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Starts `redis-server` (from {@link findRedisServer}) and waits until it answers PING. */
export async function startRedisServer(binary: string): Promise<RedisServer> {
  const host = '127.0.0.1';
  const dir = mkdtempSync(join(tmpdir(), 'persistent-cache-redis-'));
  let port = 0;
  let child: ChildProcess | undefined;
  let output = '';
  for (let attempt = 0; attempt < 3 && child === undefined; attempt++) {
    port = await freePort();
    const started = spawn(
      binary,
      ['--bind', host, '--port', String(port), '--dir', dir, '--save', '', '--appendonly', 'no'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    started.stdout?.on('data', (d: Buffer) => (output += d.toString()));
    started.stderr?.on('data', (d: Buffer) => (output += d.toString()));
    try {
      await waitForPing(host, port, started, () => output);
      child = started;
    } catch (error) {
      started.kill('SIGKILL');
      // Another process may have taken the port between freePort() and listen(): try another.
      if (attempt === 2) {
        rmSync(dir, { recursive: true, force: true });
        throw error;
      }
    }
  }
  const server = child as ChildProcess;
  let stopping: Promise<void> | undefined;
  return {
    host,
    port,
    url: `redis://${host}:${port}`,
    client: (db = 0) => new Redis({ host, port, db }),
    stop: () => {
      stopping ??= new Promise<void>((resolve) => {
        const done = () => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        };
        if (server.exitCode !== null || server.signalCode !== null) return done();
        server.once('exit', done);
        server.kill('SIGTERM');
      });
      return stopping;
    },
  };
}
