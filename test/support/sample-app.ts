import { spawn, type ChildProcess } from 'node:child_process';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port';

const ROOT = resolve(__dirname, '..', '..');
/** The compiled sample app, built by the jest global setup (test/support/global-setup.ts). */
export const SAMPLE_APP_MAIN = join(ROOT, 'dist', 'sample-app', 'src', 'main.js');

const HOST = '127.0.0.1';
/** How long a spawned app may take to answer HTTP, or to exit once asked to. */
const START_TIMEOUT_MS = 30_000;
const EXIT_TIMEOUT_MS = 30_000;

export interface ExitResult {
  /** Exit code, or null when the process was ended by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Everything the process wrote to stdout and stderr, interleaved. */
  readonly output: string;
}

export interface HttpResult {
  readonly status: number;
  readonly body: unknown;
  readonly text: string;
  readonly headers: Headers;
}

export interface SampleAppOptions {
  /** PERSISTENT_CACHE_DATA_DIR; omitted from the environment when undefined. */
  readonly dataDir?: string;
  /** Extra environment, e.g. other PERSISTENT_CACHE_* variables. */
  readonly env?: Record<string, string>;
  /** Working directory of the process (a temp dir keeps a default `./data` out of the repo). */
  readonly cwd: string;
  /** Runs the app as this user (the test process must be root). */
  readonly user?: { readonly uid: number; readonly gid: number };
  /**
   * Runs it the way `npm start` does once built: `npm run serve` from the repository (`cwd` is then unused, so
   * `dataDir` must be given). The process is npm's, with the app as its child.
   */
  readonly viaNpm?: boolean;
}

/** One spawned sample-app process. */
export class SampleAppProcess {
  private readonly chunks: string[] = [];
  private readonly exit: Promise<ExitResult>;
  private exitResult: ExitResult | undefined;

  constructor(
    readonly child: ChildProcess,
    readonly port: number,
  ) {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => this.chunks.push(chunk));
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => this.chunks.push(chunk));
    // 'close' (not 'exit') fires once the output streams are drained too.
    this.exit = new Promise((resolveExit) => {
      child.once('close', (code: number | null, signal: NodeJS.Signals | null) => {
        this.exitResult = { code, signal, output: this.output() };
        resolveExit(this.exitResult);
      });
    });
  }

  get url(): string {
    return `http://${HOST}:${this.port}`;
  }

  get running(): boolean {
    return this.exitResult === undefined;
  }

  /** Everything written to stdout and stderr so far. */
  output(): string {
    return this.chunks.join('');
  }

  /** Resolves when the process has exited, with its code, signal and output. */
  exited(): Promise<ExitResult> {
    return this.exit;
  }

  /** Sends `signal` and waits for the process to exit. */
  async signal(signal: NodeJS.Signals): Promise<ExitResult> {
    if (this.running) this.child.kill(signal);
    return this.waitForExit();
  }

  /** Waits for the process to exit on its own; kills it and fails if it takes longer than a generous bound. */
  async waitForExit(): Promise<ExitResult> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolveTimeout) => {
      timer = setTimeout(() => resolveTimeout('timeout'), EXIT_TIMEOUT_MS);
    });
    const winner = await Promise.race([this.exit, timedOut]);
    clearTimeout(timer);
    if (winner === 'timeout') {
      this.child.kill('SIGKILL');
      await this.exit;
      throw new Error(
        `Sample app (pid ${this.child.pid}) did not exit within ${EXIT_TIMEOUT_MS} ms; killed it. ` +
          `Output:\n${this.output()}`,
      );
    }
    return winner;
  }

  /** Sends a request; a JSON body is sent as JSON, and a JSON response is parsed. */
  async request(method: string, path: string, body?: unknown): Promise<HttpResult> {
    const response = await fetch(this.url + path, {
      method,
      headers: body === undefined ? undefined : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    const json = (response.headers.get('content-type') ?? '').includes('application/json');
    return {
      status: response.status,
      text,
      body: json && text !== '' ? JSON.parse(text) : text,
      headers: response.headers,
    };
  }

  /** The `/metrics` page as a map from series (name and labels, as printed) to value. */
  async metrics(): Promise<Map<string, number>> {
    const { status, text } = await this.request('GET', '/metrics');
    if (status !== 200) throw new Error(`GET /metrics answered ${status}: ${text}`);
    return parseMetrics(text);
  }
}

/** Parses Prometheus text exposition into series → value. */
export function parseMetrics(text: string): Map<string, number> {
  const series = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    series.set(line.slice(0, space), Number(line.slice(space + 1)));
  }
  return series;
}

const live = new Set<SampleAppProcess>();

function environment(port: number, options: SampleAppOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  // Only what the test sets reaches the app: no PERSISTENT_CACHE_* from the environment jest runs in.
  for (const [name, value] of Object.entries(process.env)) {
    if (!name.startsWith('PERSISTENT_CACHE_')) env[name] = value;
  }
  Object.assign(env, { PORT: String(port), HOST, NO_COLOR: '1' });
  if (options.dataDir !== undefined) env.PERSISTENT_CACHE_DATA_DIR = options.dataDir;
  return Object.assign(env, options.env);
}

/** Spawns the compiled sample app without waiting for it; {@link stopSampleApps} kills it if still running. */
export async function spawnSampleApp(options: SampleAppOptions): Promise<SampleAppProcess> {
  const port = await freePort();
  const [command, args, cwd] =
    options.viaNpm === true
      ? ['npm', ['run', '--silent', 'serve'], ROOT]
      : [process.execPath, [SAMPLE_APP_MAIN], options.cwd];
  if (options.viaNpm === true && options.dataDir === undefined) {
    throw new Error('a sample app run through npm needs a dataDir');
  }
  const child = spawn(command, args, {
    cwd,
    env: environment(port, options),
    stdio: ['ignore', 'pipe', 'pipe'],
    uid: options.user?.uid,
    gid: options.user?.gid,
  });
  const app = new SampleAppProcess(child, port);
  live.add(app);
  void app.exited().then(() => live.delete(app));
  return app;
}

/** Spawns the compiled sample app and resolves once it answers HTTP. */
export async function startSampleApp(options: SampleAppOptions): Promise<SampleAppProcess> {
  for (let attempt = 1; ; attempt++) {
    const app = await spawnSampleApp(options);
    try {
      await waitUntilServing(app);
      return app;
    } catch (error) {
      // Another process may have taken the port between freePort() and listen(): try another one.
      if (attempt < 3 && !app.running && app.output().includes('EADDRINUSE')) continue;
      throw error;
    }
  }
}

async function waitUntilServing(app: SampleAppProcess): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (app.running) {
    try {
      await fetch(`${app.url}/metrics`, { signal: AbortSignal.timeout(2000) }).then((r) =>
        r.arrayBuffer(),
      );
      return;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) {
      await app.signal('SIGKILL');
      throw new Error(
        `Sample app did not answer HTTP within ${START_TIMEOUT_MS} ms. Output:\n${app.output()}`,
      );
    }
    await sleep(50);
  }
  const { code, signal, output } = await app.exited();
  throw new Error(
    `Sample app exited before answering HTTP (code ${code}, signal ${signal}). Output:\n${output}`,
  );
}

/** Kills every sample app still running and waits for them to exit; for `afterAll`. */
export async function stopSampleApps(): Promise<void> {
  await Promise.all([...live].map((app) => app.signal('SIGKILL')));
}

/**
 * Polls `condition` until it returns a value other than `undefined`; fails after `timeoutMs` with `describe()`.
 * The bound only turns a hang into a readable failure; it is not a performance assertion.
 */
export async function waitFor<T>(
  condition: () => Promise<T | undefined>,
  describe: () => string,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await condition();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${describe()}`);
    await sleep(100);
  }
}

/** `text` as a regular expression that matches it literally (paths in log lines). */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
