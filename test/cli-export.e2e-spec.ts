import { spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type { InspectReport } from '../lib/cli/inspect';
import { digest, expectSameData, portableDigest, type KeyspaceDigest } from './support/digest';
import { datasetSnapshot, expectReexportNeedsReplace, runCli, runMain } from './support/cli';
import { bootWith, durable, removeTempDirs, tempDir } from './support/harness';
import {
  findRedisCli,
  findRedisServer,
  startRedisServer,
  type RedisServer,
} from './support/redis-server';

/**
 * `persistent-cache export` (`lib/cli/export.ts`): refusals, RESP output, and against a real redis-server the round
 * trip back through `import` into a fresh embedded cache.
 */

afterAll(() => removeTempDirs());

describe('persistent-cache CLI: export without a Redis server', () => {
  let dataDir: string;

  beforeAll(async () => {
    ({ dataDir } = await datasetSnapshot({ unsupported: true }));
  });

  it('export refuses values Redis cannot hold unless told to leave them out', async () => {
    const refused = await runMain(['export', dataDir, '--resp']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(
      '1 key(s) hold values real Redis cannot hold; nothing was written',
    );
    expect(refused.stderr).toContain('key "nan-score"');
    const skipped = await runMain(
      ['export', dataDir, '--resp', '--skip-unsupported', '--replace'],
      {
        tty: true,
      },
    );
    expect(skipped.code).toBe(0);
    expect(skipped.stderr).toContain('leaving out 1 key(s)');
    // A progress bar is drawn when stderr is a terminal…
    expect(skipped.stderr).toMatch(/\rexport \[#+\] 100% 15\/15/);
    // …and the RESP holds one DEL per key (with --replace), absolute expiry times and the binary values intact.
    const resp = skipped.raw;
    expect(resp.toString().match(/\*2\r\n\$3\r\nDEL\r\n/g)).toHaveLength(15);
    expect(resp.toString().match(/\$9\r\nPEXPIREAT\r\n/g)).toHaveLength(5);
    expect(resp.includes(Buffer.from([0x00, 0xff, 0x80, 0x0d, 0x0a]))).toBe(true);
    expect(resp.toString()).toContain('$4\r\nXADD\r\n$6\r\nevents\r\n$15\r\n1700000000000-1\r\n');
    expect(resp.toString()).toContain('$4\r\n+inf\r\n$3\r\ntop\r\n');
    expect(resp.toString()).not.toContain('stream:events:');
  });

  it('export to an unreachable server fails with the address', async () => {
    const run = await runMain([
      'export',
      dataDir,
      '--to',
      'redis://127.0.0.1:1',
      '--skip-unsupported',
    ]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/cannot connect to redis:\/\/127\.0\.0\.1:1.*ECONNREFUSED/);
  });
});

const redisServerBinary = findRedisServer('test/cli-export.e2e-spec.ts');
if (redisServerBinary !== null) {
  describe('persistent-cache CLI round trip through a real redis-server', () => {
    let server: RedisServer;
    let real: Redis;
    let sourceDir: string;
    let source: KeyspaceDigest;
    let sourceStrict: KeyspaceDigest;

    beforeAll(async () => {
      server = await startRedisServer(redisServerBinary);
      real = server.client();
      const snapshot = await datasetSnapshot();
      sourceDir = snapshot.dataDir;
      source = snapshot.portable;
      sourceStrict = snapshot.strict;
    });

    afterAll(async () => {
      real?.disconnect();
      await server?.stop();
    });

    it('the dataset covers every type, and its portable digest holds every key the embedded client holds', () => {
      expect(source.keys).toBe(15);
      const types = source.dump.map((line) => line.split(' ').at(-2));
      expect(new Set(types)).toEqual(new Set(['string', 'hash', 'list', 'set', 'zset', 'stream']));
      expect(source.expiries.size).toBe(5);
      // No ioredis-mock stream helper keys, nor anything else only the embedded client holds.
      expect(sourceStrict.keys).toBe(15);
    });

    it('snapshot → export --to → import --from → restore: digests equal at every step', async () => {
      // export (child process, the compiled bin) into the real Redis
      const exported = await runCli(['export', sourceDir, '--to', server.url]);
      expect(exported.stderr).toContain('export: wrote 15 keys into redis://127.0.0.1:');
      // Nothing is left out: the snapshot holds only what Redis holds.
      expect(exported.stderr).not.toContain('left out');
      expect(exported.code).toBe(0);
      expect(await real.type('events')).toBe('stream');
      expect(await real.xrange('events', '-', '+')).toEqual([
        ['1700000000000-1', ['type', 'login', 'user', 'ada']],
        ['1700000000000-2', ['type', 'bin', 'data', '\ufffd\u0000']],
        ['1700000000001-0', ['type', 'logout']],
      ]);
      expect(await real.zscore('zset:board', 'top')).toBe('inf');
      expectSameData(await portableDigest(real), source);

      // a second export is refused (the target is not empty), unless --replace
      await expectReexportNeedsReplace(sourceDir, server.url, real, source);

      // import (in process) into a new data directory
      const importedDir = join(tempDir(), 'imported');
      const imported = await runMain(['import', '--from', server.url, importedDir]);
      expect(imported.stderr).toContain(
        `import: wrote a snapshot of 15 keys from ${server.url} into ${importedDir}`,
      );
      expect(imported.code).toBe(0);
      const verified = await runCli(['verify', importedDir]);
      expect(verified.code).toBe(0);

      // restore into a fresh embedded cache
      const app = await bootWith(durable(importedDir));
      try {
        expectSameData(await portableDigest(app.redis), source);
        // Every ID here has a single Redis form, so even the strict embedded digest (stream ids as stored) matches.
        expectSameData(await digest(app.redis), sourceStrict);
        expect(await app.redis.xlen('events')).toBe(3);
        // `log` was written with `XADD *`: time-based ids, the same in Redis and back in the embedded cache.
        const logged = await real.xrange('log', '-', '+');
        expect(logged.map(([, fields]) => fields)).toEqual([
          ['line', 'first'],
          ['line', 'second'],
        ]);
        expect(Number(logged[0][0].split('-')[0])).toBeGreaterThan(1_700_000_000_000);
        const read = await app.redis.xread('STREAMS', 'log', '0');
        expect(read).toEqual([['log', logged]]);
      } finally {
        await app.app.close();
      }

      // importing again into the same directory needs --replace
      const refused = await runMain(['import', '--from', server.url, importedDir]);
      expect(refused.code).toBe(1);
      const again2 = await runCli(['import', '--from', server.url, importedDir, '--replace']);
      expect(again2.code).toBe(0);
      const report = JSON.parse(
        (await runCli(['inspect', importedDir, '--json'])).stdout,
      ) as InspectReport;
      expect(report.generations).toHaveLength(1);
      expect(report.types.stream).toBe(2);
      expect(report.types['stream-helper']).toBe(0);
    });

    it('export --resp | redis-cli --pipe loads the same data', async () => {
      const redisCli = findRedisCli();
      expect(redisCli).toBeDefined();
      const out = join(tempDir(), 'out.resp');
      const exported = await runCli(['export', sourceDir, '--resp'], { stdoutFile: out });
      expect(exported.code).toBe(0);
      // No progress when stderr is not a terminal: only the summary, as with --to.
      expect(exported.stderr).toBe('export: wrote the commands of 15 keys to stdout\n');
      await real.flushall();
      const piped = await new Promise<{ code: number; stdout: string; stderr: string }>(
        (resolvePromise, reject) => {
          const child = spawn(
            redisCli as string,
            ['-h', server.host, '-p', String(server.port), '--pipe'],
            {
              stdio: [openSync(out, 'r'), 'pipe', 'pipe'],
            },
          );
          let stdout = '';
          let stderr = '';
          child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
          child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
          child.on('error', reject);
          child.on('close', (code) => resolvePromise({ code: code ?? -1, stdout, stderr }));
        },
      );
      expect(piped.stdout).toMatch(/errors: 0, replies: \d+/);
      expect(piped.code).toBe(0);
      expectSameData(await portableDigest(real), source);
    });
  });
}
