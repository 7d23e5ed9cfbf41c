import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { METRICS } from '../lib';
import { PERSISTENT_CACHE_ENV } from '../lib/config';
import { STORE_FILE } from '../lib/store/data-dir';
import { OWNER_FILE } from '../lib/store/owner-lock';
import { INVALID_ENV } from '../lib/persistent-cache.messages';
import { DURATION_ACCEPTED } from '../lib/persistent-cache.options';
import { removeTempDirs, tempDir } from './support/harness';
import { findRedisServer, startRedisServer, type RedisServer } from './support/redis-server';
import {
  type ExitResult,
  type HttpResult,
  type SampleAppProcess,
  spawnSampleApp,
  startSampleApp,
  stopSampleApps,
  waitFor,
  escapeRegExp,
} from './support/sample-app';

// End-to-end: the compiled sample app (dist/, built by the jest global setup) runs as a child process and is
// driven over real HTTP and real signals.

afterAll(async () => {
  await stopSampleApps();
  removeTempDirs();
});

const SNAPSHOT_SUCCESS = `${METRICS.snapshots}{result="success"}`;
const SNAPSHOT_FAILURE = `${METRICS.snapshots}{result="failure"}`;

interface Workspace {
  /** Working directory of the spawned apps; nothing but the data dir may appear in it. */
  readonly cwd: string;
  readonly dataDir: string;
}

function workspace(): Workspace {
  const cwd = tempDir('persistent-cache-e2e-');
  return { cwd, dataDir: join(cwd, 'data') };
}

function start(ws: Workspace, env: Record<string, string> = {}): Promise<SampleAppProcess> {
  return startSampleApp({ cwd: ws.cwd, dataDir: ws.dataDir, env });
}

/** Asserts a clean exit; on failure jest prints the whole result, output included. */
function expectCleanExit(exit: ExitResult): void {
  expect(exit).toMatchObject({ code: 0, signal: null });
}

/** Sends SIGTERM, asserts a clean exit, and returns what the process printed after the signal. */
async function terminate(app: SampleAppProcess): Promise<string> {
  const before = app.output().length;
  const exit = await app.signal('SIGTERM');
  expectCleanExit(exit);
  return exit.output.slice(before);
}

function kv(key: string): string {
  return `/kv/${encodeURIComponent(key)}`;
}

async function put(app: SampleAppProcess, key: string, value: string, ttl?: number) {
  const query = ttl === undefined ? '' : `?ttl=${ttl}`;
  const result = await app.request('PUT', kv(key) + query, { value });
  expect(result.status).toBe(200);
  return result.body as { key: string; ttl: number };
}

async function get(app: SampleAppProcess, key: string) {
  const result = await app.request('GET', kv(key));
  expect(result).toMatchObject({ status: 200 });
  return result.body as { key: string; value: string; ttl: number };
}

async function score(app: SampleAppProcess, board: string, player: string, points: number) {
  const result = await app.request('POST', `/leaderboards/${board}`, { player, points });
  expect(result.status).toBe(201);
}

async function ranking(app: SampleAppProcess, board: string) {
  const result = await app.request('GET', `/leaderboards/${board}?top=100`);
  expect(result.status).toBe(200);
  return result.body as { player: string; score: number }[];
}

/** `GET /reports/leaderboards/:board`: its status, report and how many requests the throttler has left. */
async function report(app: SampleAppProcess, board: string) {
  const result = await app.request('GET', `/reports/leaderboards/${board}`);
  return { ...result, remaining: result.headers.get('x-ratelimit-remaining') };
}

/** The key under which @nestjs/cache-manager keeps a response of the sample app: namespace `http`, then the URL. */
function cachedResponseKey(board: string): string {
  return `http:/reports/leaderboards/${board}`;
}

describe('sample app: SIGTERM and restart', () => {
  const PLAIN: Record<string, string> = {
    greeting: 'hello',
    'café ☕': 'unicode ✓',
    'user:1/profile': '{"name":"Ann"}',
    empty: '',
  };
  const SESSION = 'session:42';
  const SESSION_TTL = 600;

  test('SIGTERM takes the final snapshot and exits 0; a restarted process serves the same data', async () => {
    const ws = workspace();
    const first = await start(ws, { [PERSISTENT_CACHE_ENV.snapshotInterval]: '0' });

    for (const [key, value] of Object.entries(PLAIN)) await put(first, key, value);
    expect((await put(first, SESSION, 'token-abc', SESSION_TTL)).ttl).toBe(SESSION_TTL);
    await score(first, 'weekly', 'ann', 5);
    await score(first, 'weekly', 'bob', 12);
    await score(first, 'weekly', 'cid', 7.5);
    await score(first, 'weekly', 'ann', 3);
    await score(first, 'weekly', 'dee', -1);
    const board = await ranking(first, 'weekly');
    expect(board).toEqual([
      { player: 'bob', score: 12 },
      { player: 'ann', score: 8 },
      { player: 'cid', score: 7.5 },
      { player: 'dee', score: -1 },
    ]);
    const keys = Object.keys(PLAIN).length + 2; // + the session + the leaderboard's sorted set

    // Periodic snapshots are off: nothing is on disk until the final snapshot.
    expect((await first.metrics()).get(SNAPSHOT_SUCCESS) ?? 0).toBe(0);
    expect(existsSync(join(ws.dataDir, STORE_FILE))).toBe(true); // opened at startup
    const { ttl: ttlBefore } = await get(first, SESSION);

    const afterSignal = await terminate(first);
    expect(afterSignal).toMatch(
      new RegExp(`Snapshot \\(full\\) committed to ${escapeRegExp(ws.dataDir)}: ${keys} keys`),
    );
    expect(statSync(join(ws.dataDir, STORE_FILE)).size).toBeGreaterThan(0);

    const second = await start(ws, { [PERSISTENT_CACHE_ENV.snapshotInterval]: '0' });
    expect(second.output()).toMatch(
      new RegExp(`Restored ${keys} keys from ${escapeRegExp(ws.dataDir)}`),
    );
    const metrics = await second.metrics();
    expect(metrics.get(METRICS.lastRestoreKeys)).toBe(keys);
    expect(metrics.get(METRICS.lastRestoreExpiredKeys)).toBe(0);

    for (const [key, value] of Object.entries(PLAIN)) {
      expect(await get(second, key)).toEqual({ key, value, ttl: -1 });
    }
    const session = await get(second, SESSION);
    expect(session.value).toBe('token-abc');
    expect(session.ttl).toBeGreaterThan(0);
    expect(session.ttl).toBeLessThanOrEqual(ttlBefore);
    expect(await ranking(second, 'weekly')).toEqual(board);
    expect((await second.request('GET', kv('never-written'))).status).toBe(404);

    await terminate(second);
  });

  test('a key DELETEd after one snapshot stays gone after the next SIGTERM and restart', async () => {
    const ws = workspace();
    const env = { [PERSISTENT_CACHE_ENV.snapshotInterval]: '0' };

    const first = await start(ws, env);
    await put(first, 'keep', 'kept');
    await put(first, 'doomed', 'to be deleted');
    await put(first, 'doomed-with-ttl', 'also deleted', 3600);
    await score(first, 'daily', 'ann', 1);
    await score(first, 'daily', 'bob', 2);
    expect(await terminate(first)).toMatch(/Snapshot \(full\) committed to .*: 4 keys/);

    // The second process deletes keys that the first snapshot holds, and changes others.
    const second = await start(ws, env);
    expect((await get(second, 'doomed')).value).toBe('to be deleted');
    expect((await second.request('DELETE', kv('doomed'))).status).toBe(204);
    expect((await second.request('DELETE', kv('doomed-with-ttl'))).status).toBe(204);
    expect((await second.request('GET', kv('doomed'))).status).toBe(404);
    await put(second, 'late', 'written after the restart');
    await score(second, 'daily', 'ann', 5);
    const board = await ranking(second, 'daily');
    expect(board).toEqual([
      { player: 'ann', score: 6 },
      { player: 'bob', score: 2 },
    ]);
    expect(await terminate(second)).toMatch(
      /Snapshot \((full|incremental)\) committed to .*: 3 keys/,
    );

    const third = await start(ws, env);
    expect((await third.metrics()).get(METRICS.lastRestoreKeys)).toBe(3);
    expect((await third.request('GET', kv('doomed'))).status).toBe(404);
    expect((await third.request('GET', kv('doomed-with-ttl'))).status).toBe(404);
    expect((await third.request('DELETE', kv('doomed'))).status).toBe(404);
    expect(await get(third, 'keep')).toEqual({ key: 'keep', value: 'kept', ttl: -1 });
    expect((await get(third, 'late')).value).toBe('written after the restart');
    expect(await ranking(third, 'daily')).toEqual(board);
    await terminate(third);
  });
});

describe('sample app: /metrics over HTTP', () => {
  test('snapshot counters move with periodic snapshots; restore metrics show after a restart', async () => {
    const ws = workspace();
    const app = await start(ws, { [PERSISTENT_CACHE_ENV.snapshotInterval]: '300ms' });

    const strings = 20;
    for (let i = 0; i < strings; i++) await put(app, `item:${i}`, `value ${i} `.repeat(10));
    await score(app, 'metrics', 'ann', 1);
    await score(app, 'metrics', 'bob', 2);
    const keys = strings + 1;

    // Every snapshot that starts after this point holds all the keys written above.
    const baseline = (await app.metrics()).get(SNAPSHOT_SUCCESS) ?? 0;
    const metrics = await waitFor(
      async () => {
        const current = await app.metrics();
        return (current.get(SNAPSHOT_SUCCESS) ?? 0) >= baseline + 2 ? current : undefined;
      },
      () => `two more successful snapshots than ${baseline}. Output:\n${app.output()}`,
    );
    expect(metrics.get(METRICS.lastSnapshotKeys)).toBe(keys);
    expect(metrics.get(METRICS.lastSnapshotBytes)).toBeGreaterThan(0);
    expect(metrics.get(METRICS.lastSnapshotSuccess)).toBeGreaterThan(0);
    expect(metrics.get(SNAPSHOT_FAILURE) ?? 0).toBe(0);
    const durations =
      (metrics.get(`${METRICS.snapshotDuration}_count{kind="full"}`) ?? 0) +
      (metrics.get(`${METRICS.snapshotDuration}_count{kind="incremental"}`) ?? 0);
    expect(durations).toBe(metrics.get(SNAPSHOT_SUCCESS));

    await terminate(app);

    const restarted = await start(ws, { [PERSISTENT_CACHE_ENV.snapshotInterval]: '0' });
    const after = await restarted.metrics();
    // The last success is the restored snapshot's, not the epoch; every series exists, at zero before any event.
    expect(after.get(METRICS.lastSnapshotSuccess)).toBeGreaterThanOrEqual(
      metrics.get(METRICS.lastSnapshotSuccess) ?? Infinity,
    );
    expect(after.get(METRICS.lastSnapshotKeys)).toBe(keys);
    expect(after.get(METRICS.lastSnapshotBytes)).toBeGreaterThan(0);
    expect(after.get(SNAPSHOT_FAILURE)).toBe(0);
    expect(after.get(`${METRICS.snapshots}{result="skipped"}`)).toBe(0);
    expect(after.get(`${METRICS.snapshotDuration}_count{kind="incremental"}`)).toBe(0);
    expect(after.get(METRICS.expiredKeys)).toBe(0);
    expect(after.get(METRICS.evictedKeys)).toBe(0);
    expect(after.get(METRICS.oomRejections)).toBe(0);
    const health = await restarted.request('GET', '/health');
    expect(health.body).toMatchObject({
      status: 'ok',
      info: { cache: { status: 'up', lastSnapshotKeys: keys, lastSnapshotAt: expect.any(String) } },
    });
    expect(after.get(METRICS.lastRestoreKeys)).toBe(keys);
    expect(after.get(METRICS.lastRestoreExpiredKeys)).toBe(0);
    expect(after.get(`${METRICS.restoreDuration}_count`)).toBe(1);
    expect(after.get(SNAPSHOT_SUCCESS)).toBe(0);
    expect((await get(restarted, 'item:7')).value).toBe('value 7 '.repeat(10));
    await terminate(restarted);
  });
});

describe('sample app: @nestjs/cache-manager and @nestjs/throttler on the cache', () => {
  test('GET /reports/…: served from the cache for 30 s, 5 requests a minute, both kept across a restart', async () => {
    const ws = workspace();
    const env = { [PERSISTENT_CACHE_ENV.snapshotInterval]: '0' };
    const first = await start(ws, env);
    await score(first, 'weekly', 'ann', 5);
    const fresh = await report(first, 'weekly');
    expect(fresh).toMatchObject({
      status: 200,
      body: {
        board: 'weekly',
        players: 1,
        leader: { player: 'ann', score: 5 },
        generatedAt: expect.any(String),
      },
      remaining: '4',
    });
    expect(fresh.headers.get('x-ratelimit-limit')).toBe('5');

    // The board changes, but within the TTL the same report is served from the cache, generatedAt included.
    await score(first, 'weekly', 'bob', 12);
    expect(await report(first, 'weekly')).toMatchObject({
      status: 200,
      body: fresh.body,
      remaining: '3',
    });
    // It is an ordinary key of the cache: Keyv's entry, with @CacheTTL(30_000) as its TTL.
    const entry = await get(first, cachedResponseKey('weekly'));
    expect((JSON.parse(entry.value) as { value: unknown }).value).toEqual(fresh.body);
    expect(entry.ttl).toBeGreaterThan(0);
    expect(entry.ttl).toBeLessThanOrEqual(30);
    // Another URL is an entry of its own; the throttler counts per client and route, not per URL.
    expect(await report(first, 'daily')).toMatchObject({
      status: 200,
      body: { board: 'daily', players: 0, leader: null },
      remaining: '2',
    });

    await terminate(first); // the final snapshot holds the cached responses and the throttler's counter

    const second = await start(ws, env);
    expect(await report(second, 'weekly')).toMatchObject({
      status: 200,
      body: fresh.body,
      remaining: '1',
    });
    expect(await report(second, 'weekly')).toMatchObject({ status: 200, remaining: '0' });
    const refused = await report(second, 'weekly');
    expect(refused).toMatchObject({ status: 429, body: { statusCode: 429 } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    // The other routes are not throttled, and the board itself has both players.
    expect(await ranking(second, 'weekly')).toEqual([
      { player: 'bob', score: 12 },
      { player: 'ann', score: 5 },
    ]);
    await terminate(second);
  });
});

describe('sample app: npm start under a process manager', () => {
  // `npm start` is `npm run build && exec npm run serve`: this runs its second half. A process manager or
  // `docker stop` signals npm's pid; npm passes the signal on to the app, which must run its shutdown.
  test.each(['SIGTERM', 'SIGINT'] as const)(
    '%s to npm reaches the app: final snapshot, exit 0, nothing left running',
    async (signal) => {
      const ws = workspace();
      const env = { [PERSISTENT_CACHE_ENV.snapshotInterval]: '0' };
      const app = await startSampleApp({ cwd: ws.cwd, dataDir: ws.dataDir, env, viaNpm: true });
      await put(app, 'kept', 'through npm');
      const exit = await app.signal(signal);
      expect(exit).toMatchObject({ code: 0, signal: null });
      expect(exit.output).toMatch(/Snapshot \(full\) committed to .*: 1 key,/);
      // The app is gone too: its port is free, and a new process takes the data directory over at once.
      await expect(fetch(`${app.url}/metrics`)).rejects.toThrow();
      const again = await start(ws, env);
      expect((await get(again, 'kept')).value).toBe('through npm');
      await terminate(again);
    },
  );
});

describe('sample app: a memory limit, seen over HTTP', () => {
  test('noeviction: writes answer 503 with the OOM error, /metrics and /health show it; reads go on', async () => {
    const app = await start(workspace(), {
      [PERSISTENT_CACHE_ENV.snapshotInterval]: '0',
      [PERSISTENT_CACHE_ENV.maxBytes]: '64kb',
      [PERSISTENT_CACHE_ENV.policy]: 'noeviction',
    });
    let refused: HttpResult | undefined;
    let written = 0;
    while (refused === undefined && written < 2_000) {
      const result = await app.request('PUT', kv(`item:${written}`), { value: 'v'.repeat(300) });
      if (result.status === 200) written++;
      else refused = result;
    }
    expect(refused).toMatchObject({
      status: 503,
      body: { message: "OOM command not allowed when used memory > 'maxmemory'." },
    });
    expect((await get(app, 'item:0')).value).toBe('v'.repeat(300));
    const health = await app.request('GET', '/health');
    expect(health.status).toBe(503);
    expect(health.text).toContain('Writes are refused with OOM errors');
    const metrics = await waitFor(
      async () => {
        const current = await app.metrics();
        return (current.get(METRICS.oomRejections) ?? 0) >= 1 ? current : undefined;
      },
      () => `an OOM rejection in /metrics. Output:\n${app.output()}`,
    );
    expect(metrics.get(METRICS.maxMemoryBytes)).toBe(65_536);
    expect(metrics.get(METRICS.memoryBytes)).toBeGreaterThan(65_536);
    expect(metrics.get(METRICS.keys)).toBe(written);
    expect(metrics.get(METRICS.evictedKeys) ?? 0).toBe(0);
    expect(app.output()).toContain(
      'Memory limit of the embedded cache: 64.0 KB (memory.maxBytes "64kb"), policy noeviction',
    );
    await terminate(app);
  });

  test('allkeys-lru: writes keep succeeding, old keys are evicted, memory stays at the limit', async () => {
    const app = await start(workspace(), {
      [PERSISTENT_CACHE_ENV.snapshotInterval]: '0',
      [PERSISTENT_CACHE_ENV.maxBytes]: '64kb',
      [PERSISTENT_CACHE_ENV.policy]: 'allkeys-lru',
    });
    for (let i = 0; i < 600; i++) await put(app, `item:${i}`, 'v'.repeat(300));
    expect((await get(app, 'item:599')).value).toBe('v'.repeat(300));
    expect((await app.request('GET', kv('item:0'))).status).toBe(404);
    const metrics = await waitFor(
      async () => {
        const current = await app.metrics();
        // The figures of a report made after the last write: every key written is held or was evicted.
        const seen = (current.get(METRICS.evictedKeys) ?? 0) + (current.get(METRICS.keys) ?? 0);
        return seen === 600 ? current : undefined;
      },
      () => `600 keys held or evicted in /metrics. Output:\n${app.output()}`,
    );
    expect(metrics.get(METRICS.evictedKeys)).toBeGreaterThan(300);
    expect(metrics.get(METRICS.memoryBytes)).toBeLessThanOrEqual(65_536 + 1_000);
    expect(metrics.get(METRICS.oomRejections) ?? 0).toBe(0);
    expect((await app.request('GET', '/health')).status).toBe(200);
    await terminate(app);
  });
});

describe('sample app: REST API input', () => {
  let app: SampleAppProcess;

  beforeAll(async () => {
    app = await start(workspace(), { [PERSISTENT_CACHE_ENV.snapshotInterval]: '0' });
  });

  afterAll(async () => {
    await terminate(app);
  });

  test.each([
    ['a ttl that is not a number', '?ttl=abc', { value: 'v' }, /ttl/],
    ['a zero ttl', '?ttl=0', { value: 'v' }, /ttl/],
    ['a negative ttl', '?ttl=-5', { value: 'v' }, /ttl/],
    ['a fractional ttl', '?ttl=1.5', { value: 'v' }, /ttl/],
    ['an empty ttl', '?ttl=', { value: 'v' }, /ttl/],
    ['a missing value', '', {}, /value/],
    ['a value that is not a string', '', { value: 5 }, /value/],
    ['a null value', '?ttl=10', { value: null }, /value/],
  ])('PUT /kv/:key with %s is rejected with 400', async (_case, query, body, message) => {
    const result = await app.request('PUT', kv('rejected') + query, body);
    expect(result.status).toBe(400);
    expect(result.body).toMatchObject({ statusCode: 400, message: expect.stringMatching(message) });
    // Nothing was written.
    expect((await app.request('GET', kv('rejected'))).status).toBe(404);
  });

  test('PUT /kv/:key without a body is rejected with 400', async () => {
    const result = await app.request('PUT', kv('rejected'));
    expect(result.status).toBe(400);
    expect((await app.request('GET', kv('rejected'))).status).toBe(404);
  });

  test('GET and DELETE of a missing key answer 404', async () => {
    const missing = await app.request('GET', kv('missing'));
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ statusCode: 404, message: 'No key "missing"' });
    expect((await app.request('DELETE', kv('missing'))).status).toBe(404);
  });

  test('a key is gone after DELETE', async () => {
    await put(app, 'short-lived', 'v');
    expect((await app.request('DELETE', kv('short-lived'))).status).toBe(204);
    expect((await app.request('GET', kv('short-lived'))).status).toBe(404);
  });

  test.each([
    ['points that are not a number', { player: 'ann', points: '5' }],
    ['a missing player', { points: 5 }],
    ['a player that is not a string', { player: 7, points: 5 }],
  ])('POST /leaderboards/:board with %s is rejected with 400', async (_case, body) => {
    const result = await app.request('POST', '/leaderboards/input', body);
    expect(result.status).toBe(400);
    expect(await ranking(app, 'input')).toEqual([]);
  });

  test.each(['0', '-1', 'ten'])(
    'GET /leaderboards/:board?top=%s is rejected with 400',
    async (top) => {
      expect((await app.request('GET', `/leaderboards/input?top=${top}`)).status).toBe(400);
    },
  );
});

describe('sample app: persistence disabled', () => {
  test('PERSISTENT_CACHE_ENABLED=false serves from memory and creates no file', async () => {
    const ws = workspace();
    const app = await start(ws, {
      [PERSISTENT_CACHE_ENV.enabled]: 'false',
      [PERSISTENT_CACHE_ENV.snapshotInterval]: '300ms',
    });
    expect(app.output()).toContain('Persistence is disabled');
    await put(app, 'volatile', 'in memory only');
    expect((await get(app, 'volatile')).value).toBe('in memory only');
    const metrics = await app.metrics();
    expect(metrics.get(SNAPSHOT_SUCCESS) ?? 0).toBe(0);

    expect(await terminate(app)).not.toMatch(/Snapshot .*committed/);
    // Neither the configured data dir nor anything else appeared in the app's working directory.
    expect(existsSync(ws.dataDir)).toBe(false);
    expect(readdirSync(ws.cwd)).toEqual([]);

    // And so a restart starts empty.
    const restarted = await start(ws, { [PERSISTENT_CACHE_ENV.enabled]: 'false' });
    expect((await restarted.request('GET', kv('volatile'))).status).toBe(404);
    await terminate(restarted);
    expect(readdirSync(ws.cwd)).toEqual([]);
  });
});

describe('sample app: a start that fails after the cache opened', () => {
  it('a port in use ends it with code 1 and one line naming the address; its data directory is released', async () => {
    const running = await start(workspace());
    const ws = workspace();
    const failed = await spawnSampleApp({
      cwd: ws.cwd,
      dataDir: ws.dataDir,
      env: { PORT: String(running.port) },
    });
    const exit = await failed.waitForExit();
    expect([exit.code, exit.signal]).toEqual([1, null]);
    expect(exit.output).toContain(
      `[SampleApp] listen EADDRINUSE: address already in use 127.0.0.1:${running.port}\n`,
    );
    expect(exit.output).not.toMatch(/^\s+at /m); // no stack trace
    expect(exit.output).toMatch(/Snapshot \(full\) committed/); // closed as a stop closes it
    expect(readdirSync(ws.dataDir)).not.toContain(OWNER_FILE);
    const next = await start(ws);
    expect(await terminate(next)).not.toContain('Took over');
    expect(next.output()).not.toContain('Took over');
    await terminate(running);
  });

  it("another app's data directory ends it with code 1 and one line naming the owner", async () => {
    const ws = workspace();
    const running = await start(ws);
    const failed = await spawnSampleApp({ cwd: ws.cwd, dataDir: ws.dataDir });
    const exit = await failed.waitForExit();
    expect([exit.code, exit.signal]).toEqual([1, null]);
    expect(exit.output).toContain(
      `[SampleApp] Data directory ${ws.dataDir} is in use by process ${running.child.pid} on `,
    );
    expect(exit.output).not.toMatch(/^\s+at /m);
    expect(running.running).toBe(true);
    await terminate(running);
  });
});

describe('sample app: invalid environment', () => {
  test.each([
    [
      PERSISTENT_CACHE_ENV.snapshotInterval,
      'soon',
      INVALID_ENV(PERSISTENT_CACHE_ENV.snapshotInterval, DURATION_ACCEPTED, 'soon'),
    ],
    [
      PERSISTENT_CACHE_ENV.enabled,
      'maybe',
      `Invalid environment variable ${PERSISTENT_CACHE_ENV.enabled}: expected one of `,
    ],
    [
      PERSISTENT_CACHE_ENV.snapshotOnShutdown,
      'sometimes',
      `Invalid environment variable ${PERSISTENT_CACHE_ENV.snapshotOnShutdown}: expected one of `,
    ],
  ])(
    '%s=%s makes the process exit non-zero naming the variable',
    async (variable, value, message) => {
      const ws = workspace();
      const app = await spawnSampleApp({
        cwd: ws.cwd,
        dataDir: ws.dataDir,
        env: { [variable]: value },
      });
      const exit = await app.waitForExit();
      expect(exit.signal).toBeNull();
      expect(exit.code).not.toBe(0);
      expect(exit.output).toContain(message);
      expect(exit.output).toContain(JSON.stringify(value));
      // One line, not a stack trace into the library's checks.
      expect(exit.output.split('\n').filter((line) => line.includes(message))).toHaveLength(1);
      expect(exit.output).not.toMatch(/^\s+at /m);
      expect(exit.output).not.toContain('listening on');
      expect(existsSync(ws.dataDir)).toBe(false);
    },
  );
});

describe('sample app: /health over HTTP', () => {
  test('GET /health answers 200 with the cache up and the last snapshot', async () => {
    const ws = workspace();
    const app = await start(ws, { [PERSISTENT_CACHE_ENV.snapshotInterval]: '200ms' });
    await put(app, 'a', '1');
    await put(app, 'b', '2');
    // A snapshot that starts after the writes holds both keys.
    const baseline = (await app.metrics()).get(SNAPSHOT_SUCCESS) ?? 0;
    await waitFor(
      async () => ((await app.metrics()).get(SNAPSHOT_SUCCESS) ?? 0) >= baseline + 2 || undefined,
      () => `two more successful snapshots than ${baseline}. Output:\n${app.output()}`,
    );

    const health = await app.request('GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body).toMatchObject({
      status: 'ok',
      info: {
        cache: {
          status: 'up',
          mode: 'embedded',
          lastSnapshotKeys: 2,
          maxSnapshotAgeMs: 3 * 200,
        },
      },
      error: {},
    });
    await terminate(app);
  });
});

const redisServerBinary = findRedisServer('sample app in redis mode (test/sample-app.e2e-spec.ts)');
if (redisServerBinary !== null) {
  describe('sample app: redis mode', () => {
    let server: RedisServer;
    beforeAll(async () => {
      server = await startRedisServer(redisServerBinary);
    });
    afterAll(() => server.stop());

    test('PERSISTENT_CACHE_MODE=redis serves from the Redis at PERSISTENT_CACHE_REDIS_URL', async () => {
      const ws = workspace();
      const env = {
        [PERSISTENT_CACHE_ENV.mode]: 'redis',
        [PERSISTENT_CACHE_ENV.redisUrl]: server.url,
      };
      const app = await start(ws, env);
      expect(app.output()).toContain(`Redis mode: the cache is the Redis at ${server.url}`);
      expect((await put(app, 'café ☕', 'in redis', 600)).ttl).toBe(600);
      await score(app, 'weekly', 'ann', 2.5);
      expect(await get(app, 'café ☕')).toMatchObject({ value: 'in redis' });
      const cached = await report(app, 'weekly');
      expect(cached).toMatchObject({ status: 200, body: { players: 1 }, remaining: '4' });

      // The data is in the server, not in the process.
      const direct = server.client();
      try {
        expect(await direct.get('café ☕')).toBe('in redis');
        expect(await direct.ttl('café ☕')).toBeGreaterThan(0);
        expect(await direct.zscore('leaderboard:weekly', 'ann')).toBe('2.5');
        // The integrations' keys too: cache-manager's cached response, the throttler's counter.
        const entry = JSON.parse((await direct.get(cachedResponseKey('weekly'))) ?? 'null') as {
          value: unknown;
        } | null;
        expect(entry?.value).toEqual(cached.body);
        expect(await direct.pttl(cachedResponseKey('weekly'))).toBeGreaterThan(0);
        const hits = await direct.keys('*:hits');
        expect(hits).toHaveLength(1);
        expect(await direct.get(hits[0])).toBe('1');
        await direct.set('written-directly', 'seen by the app');
      } finally {
        await direct.quit();
      }
      expect(await get(app, 'written-directly')).toMatchObject({ value: 'seen by the app' });

      const health = await app.request('GET', '/health');
      expect(health.status).toBe(200);
      expect(health.body).toMatchObject({
        status: 'ok',
        info: { cache: { status: 'up', mode: 'redis', redis: server.url, connection: 'ready' } },
      });

      expect(await terminate(app)).not.toMatch(/Snapshot .*committed/);
      // No data dir, nothing at all, in the working directory.
      expect(readdirSync(ws.cwd)).toEqual([]);

      // A restarted process finds the data in the server.
      const restarted = await start(ws, env);
      expect(await get(restarted, 'café ☕')).toMatchObject({ value: 'in redis' });
      expect(await ranking(restarted, 'weekly')).toEqual([{ player: 'ann', score: 2.5 }]);
      expect(await report(restarted, 'weekly')).toMatchObject({
        status: 200,
        body: cached.body,
        remaining: '3',
      });
      await terminate(restarted);
      expect(readdirSync(ws.cwd)).toEqual([]);
    });
  });
}
