import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { STORE_FILE } from '../lib/store/data-dir';
import { OWNER_FILE } from '../lib/store/owner-lock';
import { CLI, runMain } from './support/cli';
import { bootWith, durable, removeTempDirs, restoredKeys, tempDir } from './support/harness';
import { findRedisServer, startRedisServer, type RedisServer } from './support/redis-server';
import { entries } from './support/stores';

/**
 * A CLI command stopped by Ctrl-C (SIGINT), SIGTERM or SIGHUP (`runAsProcess` in `lib/cli/main.ts`): it stops at
 * its next step, undoes what it made, says what it did and what it left, and ends with 128 + the signal's number.
 */

afterAll(() => removeTempDirs());

function interrupted(signal: string): AbortSignal {
  const controller = new AbortController();
  controller.abort(signal);
  return controller.signal;
}

/** A snapshot of `count` string keys `key:<i>` with 100-byte values, in a new data directory. */
async function snapshotOf(count: number): Promise<string> {
  const dataDir = tempDir();
  const app = await bootWith(durable(dataDir));
  try {
    const pipeline = app.redis.pipeline();
    for (let i = 0; i < count; i++) pipeline.set(`key:${i}`, 'v'.repeat(100));
    await pipeline.exec();
    await app.snapshots.snapshot();
  } finally {
    await app.app.close();
  }
  return dataDir;
}

describe('persistent-cache CLI: interrupted commands', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await snapshotOf(2_000);
  });

  it('each command interrupted before its work says so, ends with 128 + the signal number and makes nothing', async () => {
    const parent = tempDir();
    const missing = join(parent, 'new', 'cache');
    const empty = tempDir();
    const runs = [
      [['import', '--from', 'redis://127.0.0.1:1', missing], 'SIGINT'],
      [['import', '--from', 'redis://127.0.0.1:1', empty], 'SIGTERM'],
      [['export', dataDir, '--to', 'redis://127.0.0.1:1'], 'SIGHUP'],
      [['export', dataDir, '--resp'], 'SIGINT'],
      [['verify', dataDir], 'SIGINT'],
      [['inspect', dataDir], 'SIGTERM'],
    ] as const;
    const results = [];
    for (const [args, signal] of runs) {
      const run = await runMain([...args], { interrupt: interrupted(signal) });
      results.push([run.code, run.stderr, run.stdout]);
    }
    expect(results).toEqual([
      [
        130,
        `persistent-cache: import: interrupted by SIGINT after reading 0 keys; no snapshot was written, and ` +
          `${missing} is as it was\n`,
        '',
      ],
      [
        143,
        `persistent-cache: import: interrupted by SIGTERM after reading 0 keys; no snapshot was written, and ` +
          `${empty} is as it was\n`,
        '',
      ],
      [129, 'persistent-cache: export: interrupted by SIGHUP; nothing was written\n', ''],
      [130, 'persistent-cache: export: interrupted by SIGINT; nothing was written\n', ''],
      [130, 'persistent-cache: verify: interrupted by SIGINT; the store was not checked\n', ''],
      [143, 'persistent-cache: inspect: interrupted by SIGTERM\n', ''],
    ]);
    expect(readdirSync(parent)).toEqual([]);
    expect(readdirSync(empty)).toEqual([]);
    expect(entries(dataDir)).not.toContain(OWNER_FILE);
  });

  it('export --resp interrupted midway names the keys whose commands it wrote, and stdout holds exactly those', async () => {
    const controller = new AbortController();
    const run = await runMain(['export', dataDir, '--resp'], {
      interrupt: controller.signal,
      onStdout: () => controller.abort('SIGINT'),
    });
    const match =
      /after writing the commands of (\d+) of 2000 keys to stdout: the output is incomplete\n$/.exec(
        run.stderr,
      );
    expect([run.code, match !== null]).toEqual([130, true]);
    const written = Number(match?.[1]);
    expect(written).toBeGreaterThan(0);
    expect(written).toBeLessThan(2_000);
    expect(run.raw.toString('latin1').split('*3\r\n$3\r\nSET\r\n').length - 1).toBe(written);
  });
});

const redisServerBinary = findRedisServer('test/cli-interrupt.e2e-spec.ts');
if (redisServerBinary !== null) {
  describe('persistent-cache CLI: Ctrl-C against a real redis-server', () => {
    const KEYS = 100_000;
    let server: RedisServer;

    beforeAll(async () => {
      server = await startRedisServer(redisServerBinary);
      const client = server.client(1);
      try {
        for (let i = 0; i < KEYS; i += 10_000) {
          const pipeline = client.pipeline();
          for (let j = i; j < i + 10_000; j++) pipeline.set(`key:${j}`, 'v'.repeat(100));
          await pipeline.exec();
        }
      } finally {
        client.disconnect();
      }
    }, 60_000);

    afterAll(async () => {
      await server?.stop();
    });

    /** Runs the compiled CLI; once `ready()` holds, sends it SIGINT, as Ctrl-C does. */
    async function interruptWhen(
      args: readonly string[],
      ready: () => boolean | Promise<boolean>,
    ): Promise<{ code: number | null; stderr: string; pid: number }> {
      const child = spawn(process.execPath, [CLI, ...args], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const closed = new Promise<number | null>((resolveClose) => child.on('close', resolveClose));
      let exited = false;
      void closed.then(() => (exited = true));
      while (!exited && !(await ready())) await sleep(10);
      child.kill('SIGINT');
      return { code: await closed, stderr, pid: child.pid ?? -1 };
    }

    it('import: a new data directory is left missing, a replaced snapshot as it was, and no claim stays', async () => {
      const parent = tempDir();
      const dir = join(parent, 'cache');
      const fresh = await interruptWhen(['import', '--from', `${server.url}/1`, dir], () =>
        existsSync(dir),
      );
      expect(fresh.stderr).toMatch(
        new RegExp(
          `import: interrupted by SIGINT after reading \\d+ keys; no snapshot was written, and ${dir} is as it was\\n$`,
        ),
      );
      expect([fresh.code, readdirSync(parent)]).toEqual([130, []]);

      const kept = await snapshotOf(1);
      const replaced = await interruptWhen(
        ['import', '--from', `${server.url}/1`, kept, '--replace'],
        () => existsSync(join(kept, OWNER_FILE)),
      );
      expect(replaced.stderr).toContain('import: interrupted by SIGINT after reading');
      expect([replaced.code, entries(kept)]).toEqual([130, [STORE_FILE, `${STORE_FILE}-lock`]]);
      expect(await restoredKeys(kept)).toEqual(['key:0']);
    }, 120_000);

    it('export --to: says how many keys it wrote, which the server holds, and removes its temporary directory', async () => {
      const imported = join(tempDir(), 'cache');
      expect((await runMain(['import', '--from', `${server.url}/1`, imported])).code).toBe(0);
      // The store file alone (a backup): it is read through a private directory in the system's temp directory.
      const backup = tempDir();
      mkdirSync(backup, { recursive: true });
      copyFileSync(join(imported, STORE_FILE), join(backup, STORE_FILE));
      const target = server.client(2);
      try {
        const run = await interruptWhen(
          ['export', backup, '--to', `${server.url}/2`],
          async () => (await target.dbsize()) > 0,
        );
        const match =
          /export: interrupted by SIGINT after writing (\d+) of 100000 keys into (\S+); the others were not written\. Run the export again with --replace/.exec(
            run.stderr,
          );
        expect([run.code, match?.[2]]).toEqual([130, `${server.url}/2`]);
        expect(await target.dbsize()).toBe(Number(match?.[1]));
        expect(
          readdirSync(tmpdir()).filter((n) => n.startsWith(`persistent-cache-read-${run.pid}-`)),
        ).toEqual([]);
        expect(entries(backup)).toEqual([STORE_FILE]);
      } finally {
        target.disconnect();
      }
    }, 120_000);
  });
}
