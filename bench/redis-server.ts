import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Redis from 'ioredis';

/** Whether a `redis-server` binary is on the PATH. */
export function redisServerAvailable(): boolean {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return probe.status === 0;
}

export function redisServerVersion(): string {
  const probe = spawnSync('redis-server', ['--version'], { encoding: 'utf8' });
  return /v=(\S+)/.exec(probe.stdout)?.[1] ?? 'unknown';
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A `redis-server` child on 127.0.0.1 with its own directory, no automatic persistence. */
export class RedisServer {
  private child: ChildProcess | undefined;
  private output = '';
  client: Redis | undefined;

  constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

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

  /** Starts the server (loading `dump.rdb` if there is one) and resolves once it answers PING; returns ms taken. */
  async start(): Promise<number> {
    this.output = '';
    const started = performance.now();
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
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
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    child.stdout?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (this.output += chunk.toString()));
    const exited = new Promise<never>((_, reject) =>
      child.once('exit', (code) =>
        reject(new Error(`redis-server exited with code ${code}:\n${this.output}`)),
      ),
    );
    exited.catch(() => undefined);
    const client = new Redis({
      host: '127.0.0.1',
      port: this.port,
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      enableOfflineQueue: false,
      // ioredis's ready check waits out the server's loading ETA before it looks again; the PING poll below
      // sees the end of loading within a millisecond instead.
      enableReadyCheck: false,
    });
    // Connection errors are expected while the server starts; the poll below retries.
    client.on('error', () => undefined);
    this.client = client;
    // Poll: first the connection, then PING, which answers "LOADING" until the dump is loaded.
    for (;;) {
      if (child.exitCode !== null) await exited;
      try {
        if (client.status !== 'ready') await client.connect();
        if ((await client.ping()) === 'PONG') break;
      } catch {
        if (client.status === 'end' || client.status === 'close') client.disconnect();
        await sleep(1);
      }
    }
    return performance.now() - started;
  }

  /** Seconds redis itself reports for loading the dump ("DB loaded from disk: N seconds"), if it logged it. */
  get loadSecondsFromLog(): number | undefined {
    const match = /DB loaded from disk: ([\d.]+) seconds/.exec(this.output);
    return match === null ? undefined : Number(match[1]);
  }

  async info(section: string): Promise<Record<string, string>> {
    const text = await this.requireClient().info(section);
    const fields: Record<string, string> = {};
    for (const line of text.split('\r\n')) {
      const at = line.indexOf(':');
      if (at > 0) fields[line.slice(0, at)] = line.slice(at + 1);
    }
    return fields;
  }

  requireClient(): Redis {
    if (this.client === undefined) throw new Error('redis-server is not started');
    return this.client;
  }

  /** Stops the server without saving and waits for the process to exit. Idempotent. */
  async stop(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    const client = this.client;
    this.client = undefined;
    client?.disconnect();
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    const timeout = setTimeout(() => child.kill('SIGKILL'), 10_000);
    await exited;
    clearTimeout(timeout);
  }
}
