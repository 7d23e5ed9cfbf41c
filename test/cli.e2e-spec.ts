import { spawn } from 'node:child_process';
import {
  closeSync,
  cpSync,
  existsSync,
  openSync,
  readFileSync,
  readdirSync,
  writeFileSync,
} from 'node:fs';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Redis } from 'ioredis';
import { main } from '../lib/cli/main';
import { inspect, type InspectReport } from '../lib/cli/inspect';
import { openTargetStore } from '../lib/cli/store-access';
import { FORMAT_VERSION } from '../lib/format/manifest';
import { STORE_FILE } from '../lib/store/data-dir';
import { digest, expectSameData, portableDigest } from './support/digest';
import { bootWith, durable, removeTempDirs, tempDir } from './support/harness';
import { withTables } from './support/stores';
import {
  findRedisCli,
  findRedisServer,
  startRedisServer,
  type RedisServer,
} from './support/redis-server';

const CLI = resolve(__dirname, '..', 'dist', 'lib', 'cli', 'index.js');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the compiled CLI as a child process (what `npx persistent-cache` runs). */
function runCli(
  args: string[],
  options: { stdoutFile?: string; stdin?: string } = {},
): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const out = options.stdoutFile === undefined ? 'pipe' : openSync(options.stdoutFile, 'w');
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', out, 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (typeof out === 'number') closeSync(out);
      resolvePromise({ code: code ?? (signal === null ? -1 : 128), stdout, stderr });
    });
  });
}

/** Runs the CLI in this process (for coverage), capturing its output. */
async function runMain(
  args: string[],
  options: { tty?: boolean } = {},
): Promise<Run & { raw: Buffer }> {
  const chunks: Buffer[] = [];
  let stderr = '';
  const stdout = new PassThrough();
  stdout.on('data', (d: Buffer) => chunks.push(d));
  const err = Object.assign(new PassThrough(), { isTTY: options.tty === true });
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await main(args, { stdout, stderr: err });
  const raw = Buffer.concat(chunks);
  return { code, stdout: raw.toString(), stderr, raw };
}

/** A dataset of every type, with TTLs, binary values and keys, written through the embedded client. */
async function writeDataset(redis: Redis): Promise<void> {
  await redis.set('str:text', 'héllo wörld ✓');
  await redis.set('str:bin', Buffer.from([0x00, 0xff, 0x80, 0x0d, 0x0a]));
  await redis.set('str:empty', '');
  await redis.set('str:number', 42);
  await redis.set('str:ttl', 'short-lived', 'PX', 120_000);
  await redis.set('ключ 🔑', 'unicode key');
  await redis.set(Buffer.from('bin\u0000key'), 'key with a NUL');
  await redis.set(`long:${'k'.repeat(10_000)}`, '10 KB key');
  await redis.set('_meta:version', 'looks internal, is user data');
  await redis.hset('hash:user', 'name', 'Ada', 'bytes', Buffer.from([0xfe, 0xff]), 'n', 7);
  await redis.pexpire('hash:user', 300_000);
  await redis.rpush('list:q', 'a', Buffer.from([0xc3, 0x28]), 'c', 'a');
  await redis.sadd('set:tags', 'x', 'y', Buffer.from([0x80]));
  await redis.pexpire('set:tags', 200_000);
  await redis.zadd('zset:board', 1, 'a', 2.5, 'b', 0.1, 'c', 1, 'tie', -3, 'neg');
  await redis.zadd('zset:board', Infinity, 'top');
  await redis.zadd('zset:board', -Infinity, 'bottom');
  await redis.zadd('zset:board', 4, Buffer.from([0xff, 0x01]) as unknown as string);
  await redis.pexpire('zset:board', 250_000);
  await redis.xadd('events', '1700000000000-1', 'type', 'login', 'user', 'ada');
  await redis.xadd('events', '1700000000000-2', 'type', 'bin', 'data', Buffer.from([0xff, 0]));
  await redis.xadd('events', '1700000000001', 'type', 'logout');
  await redis.xadd('log', '*', 'line', 'first');
  await redis.xadd('log', '*', 'line', 'second');
  await redis.pexpire('log', 400_000);
}

const STREAM_HELPERS = 5; // one per stream entry

afterAll(() => removeTempDirs());

describe('persistent-cache CLI without a Redis server', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = tempDir();
    const app = await bootWith(durable(dataDir));
    await writeDataset(app.redis);
    await app.redis.zadd('nan-score', 'inf', 'm'); // ioredis-mock stores NaN for the string 'inf'
    await app.snapshots.snapshot();
    await app.app.close();
  });

  it('prints help for the program and each command', async () => {
    const top = await runMain(['--help']);
    expect(top.code).toBe(0);
    expect(top.stdout).toMatch(/Usage: persistent-cache \[options\] \[command\]/);
    for (const command of ['inspect', 'verify', 'export', 'import']) {
      const help = await runMain([command, '--help']);
      expect(help.code).toBe(0);
      expect(help.stdout).toContain(`Usage: persistent-cache ${command}`);
    }
    const none = await runMain([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: persistent-cache');
  });

  it('reports usage errors with exit code 2', async () => {
    const unknown = await runMain(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
    const both = await runMain(['export', dataDir, '--to', 'redis://127.0.0.1:1', '--resp']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--to .* cannot be used with option '--resp'/);
    const neither = await runMain(['export', dataDir]);
    expect(neither.code).toBe(2);
    expect(neither.stderr).toContain('pass exactly one of --to <redis-url> and --resp');
    for (const [url, reason] of [
      ['not a url', 'is not a URL'],
      ['http://127.0.0.1:6379', 'has the scheme http'],
      ['redis://127.0.0.1:6379/db', 'which is not a number'],
    ]) {
      const bad = await runMain(['export', dataDir, '--to', url]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(reason);
    }
    const badFrom = await runMain(['import', '--from', 'redis:///', tempDir()]);
    expect(badFrom.code).toBe(2);
    expect(badFrom.stderr).toContain('names no host');
    const missingFrom = await runMain(['import', tempDir()]);
    expect(missingFrom.code).toBe(2);
    expect(missingFrom.stderr).toContain("required option '--from <url>' not specified");
  });

  it('refuses a missing data directory without creating it, and a directory without a snapshot', async () => {
    const missing = join(tempDir(), 'nope');
    for (const command of ['inspect', 'verify']) {
      const run = await runMain([command, missing]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(`data directory ${missing} does not exist`);
    }
    expect(existsSync(missing)).toBe(false);
    const empty = tempDir();
    const run = await runMain(['verify', empty]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`holds no snapshot (no ${STORE_FILE} file)`);
    expect(readdirSync(empty)).toEqual([]);
    const file = join(tempDir(), 'file');
    writeFileSync(file, 'x');
    expect((await runMain(['inspect', file])).stderr).toContain('is not a directory');
  });

  it('inspect shows the format, time, keys by type, bytes, expired keys and generations', async () => {
    const run = await runMain(['inspect', dataDir, '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as InspectReport;
    expect(report.format).toBe(FORMAT_VERSION);
    expect(report.types).toEqual({
      string: 9,
      hash: 1,
      list: 1,
      set: 1,
      zset: 2,
      stream: 2,
      'stream-helper': STREAM_HELPERS,
      unknown: 0,
    });
    expect(report.live).toBe(9 + 1 + 1 + 1 + 2 + 2 + STREAM_HELPERS);
    expect(report.keysAtSnapshot).toBe(report.live);
    expect(report.expired).toBe(0);
    // The snapshot taken, then the (empty) incremental one app.close() takes.
    expect(report.generations).toMatchObject([
      { gen: 1, kind: 'full', records: report.live },
      { gen: 2, kind: 'incremental', records: 0 },
    ]);
    expect(report.bytes).toBe(report.generations[0].bytes);
    expect(report.fileBytes).toBeGreaterThan(0);
    expect(Date.parse(report.createdAt)).toBeLessThanOrEqual(Date.now());

    // Judged 10 minutes later, every key with a TTL has expired.
    const later = new PassThrough();
    let text = '';
    later.on('data', (d: Buffer) => (text += d.toString()));
    const code = await inspect(
      dataDir,
      { json: true, now: Date.now() + 600_000 },
      {
        stdout: later,
        stderr: new PassThrough(),
      },
    );
    expect(code).toBe(0);
    const future = JSON.parse(text) as InspectReport;
    expect(future.expired).toBe(5); // str:ttl, hash:user, set:tags, zset:board and log
  });

  it('inspect prints a readable report', async () => {
    const run = await runMain(['inspect', dataDir]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`format version: +${FORMAT_VERSION}\n`));
    expect(run.stdout).toMatch(/ {2}stream: +2\n/);
    expect(run.stdout).toMatch(/stream helpers: +5 /);
    expect(run.stdout).toMatch(/expired at now: +0\n/);
    expect(run.stdout).toMatch(
      / {2}#1 full +\S+ +\d+ chunks, 21 records, \d+ bytes\n {2}#2 incremental /,
    );
  });

  it('verify passes a sound snapshot and warns about values Redis cannot hold', async () => {
    const run = await runMain(['verify', dataDir]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `^OK .*: format ${FORMAT_VERSION}, 2 generation\\(s\\), \\d+ chunks and 21 records checked`,
      ),
    );
    expect(run.stdout).toContain('1 that real Redis cannot hold');
    expect(run.stderr).toContain('verify: warning: key "nan-score": member "m" has the score NaN');
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

  it('import refuses a non-empty target before connecting', async () => {
    const run = await runMain(['import', '--from', 'redis://127.0.0.1:1', dataDir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('is not empty; pass --replace');
    const other = tempDir();
    writeFileSync(join(other, 'notes.txt'), 'x');
    const replace = await runMain(['import', '--from', 'redis://127.0.0.1:1', other, '--replace']);
    expect(replace.code).toBe(1);
    expect(replace.stderr).toContain('holds no snapshot');
  });

  it('verify detects a chunk rewritten with a flipped byte (exit code 1, in process and as a command)', async () => {
    const corrupt = tempDir();
    cpSync(dataDir, corrupt, { recursive: true });
    await withTables(join(corrupt, STORE_FILE), false, async ({ chunks }) => {
      const [{ key, value }] = [...chunks.getRange({ limit: 1 })];
      const bad = Buffer.from(value);
      bad[bad.length - 3] ^= 0x01;
      await chunks.put(key, bad);
    });
    const inProcess = await runMain(['verify', corrupt]);
    expect(inProcess.code).toBe(1);
    expect(inProcess.stderr).toContain(`verify: FAILED: Snapshot in ${corrupt} cannot be restored`);
    expect(inProcess.stderr).toContain('fails its checksum');
    const child = await runCli(['verify', corrupt]);
    expect(child.code).toBe(1);
    expect(child.stderr).toContain('chunk 0 fails its checksum');
    const inspected = await runCli(['inspect', corrupt]);
    expect(inspected.code).toBe(1);
    expect(inspected.stderr).toContain('generation 1: chunk 0 fails its checksum');
  });

  it('verify decodes every value: a checksummed value that does not decode fails it', async () => {
    const dir = tempDir();
    const store = await openTargetStore(dir, false);
    try {
      const writer = store.beginWrite('full');
      writer.add('good', { value: 'fine', expiresAt: undefined });
      // What a writer bug would store: a string whose bytes are not UTF-8, under a valid checksum.
      const notUtf8 = Buffer.from([0x08, 0x04, 0xc3, 0x28]);
      writer.add('bad', {
        value: undefined,
        expiresAt: undefined,
        copyEncodedTo: (sink) => {
          sink.writeRange(notUtf8, 0, notUtf8.length);
          return true;
        },
      });
      await writer.commit(2, Date.now());
    } finally {
      await store.close();
    }
    const run = await runMain(['verify', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^verify: FAILED: key "bad": a value restored from the snapshot cannot be decoded: invalid UTF-8 in string at offset \d+\n$/,
    );
  });

  it('verify detects a byte flipped in the LMDB file itself', async () => {
    const corrupt = tempDir();
    cpSync(dataDir, corrupt, { recursive: true });
    const file = join(corrupt, STORE_FILE);
    const bytes = readFileSync(file);
    const at = bytes.indexOf('looks internal, is user data');
    expect(at).toBeGreaterThan(0);
    bytes[at + 3] ^= 0x20;
    writeFileSync(file, bytes);
    const run = await runCli(['verify', corrupt]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('fails its checksum');
  });
});

const redisServerBinary = findRedisServer('test/cli.e2e-spec.ts');
if (redisServerBinary !== null) {
  describe('persistent-cache CLI round trip through a real redis-server', () => {
    let server: RedisServer;
    let real: Redis;
    let sourceDir: string;
    let source: Awaited<ReturnType<typeof portableDigest>>;
    let sourceStrict: Awaited<ReturnType<typeof digest>>;

    beforeAll(async () => {
      server = await startRedisServer(redisServerBinary);
      real = server.client();
      sourceDir = tempDir();
      const app = await bootWith(durable(sourceDir));
      await writeDataset(app.redis);
      await app.snapshots.snapshot();
      source = await portableDigest(app.redis);
      sourceStrict = await digest(app.redis);
      await app.app.close();
    });

    afterAll(async () => {
      real?.disconnect();
      await server?.stop();
    });

    it('the dataset covers every type, helper keys left out of the portable digest', () => {
      expect(source.keys).toBe(15);
      const types = source.dump.map((line) => line.split(' ').at(-2));
      expect(new Set(types)).toEqual(new Set(['string', 'hash', 'list', 'set', 'zset', 'stream']));
      expect(source.expiries.size).toBe(5);
    });

    it('snapshot → export --to → import --from → restore: digests equal at every step', async () => {
      // export (child process, the compiled bin) into the real Redis
      const exported = await runCli(['export', sourceDir, '--to', server.url]);
      expect(exported.stderr).toContain('export: wrote 15 keys into redis://127.0.0.1:');
      expect(exported.stderr).toContain(
        `left out: ${STREAM_HELPERS} ioredis-mock stream helper keys`,
      );
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
      const again = await runMain(['export', sourceDir, '--to', server.url]);
      expect(again.code).toBe(1);
      expect(again.stderr).toContain('already holds 15 keys; nothing was written');
      await real.set('str:text', 'changed');
      await real.rpush('list:q', 'extra');
      await real.set('unrelated', 'kept');
      const replaced = await runMain(['export', sourceDir, '--to', server.url, '--replace']);
      expect(replaced.code).toBe(0);
      expect(await real.get('unrelated')).toBe('kept');
      await real.del('unrelated');
      expectSameData(await portableDigest(real), source);

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
        // Every ID here has a single Redis form, so even the strict embedded digest (helper keys included) matches.
        expectSameData(await digest(app.redis), sourceStrict);
        expect(await app.redis.xlen('events')).toBe(3);
        const read = await app.redis.xread('STREAMS', 'log', '0');
        expect(read).toEqual([
          [
            'log',
            [
              ['1-0', ['line', 'first']],
              ['2-0', ['line', 'second']],
            ],
          ],
        ]);
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
      expect(report.types['stream-helper']).toBe(STREAM_HELPERS);
    });

    it('export --resp | redis-cli --pipe loads the same data', async () => {
      const redisCli = findRedisCli();
      expect(redisCli).toBeDefined();
      const out = join(tempDir(), 'out.resp');
      const exported = await runCli(['export', sourceDir, '--resp'], { stdoutFile: out });
      expect(exported.code).toBe(0);
      expect(exported.stderr).toBe(''); // quiet when stderr is not a terminal
      await real.flushall();
      const piped = await new Promise<Run>((resolvePromise, reject) => {
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
      });
      expect(piped.stdout).toMatch(/errors: 0, replies: \d+/);
      expect(piped.code).toBe(0);
      expectSameData(await portableDigest(real), source);
    });

    it('import reports keys the embedded cache cannot hold, and can leave them out', async () => {
      const db = 3;
      const client = server.client(db);
      try {
        await client.set('ok', 'v');
        await client.hset('odd-field', Buffer.from([0xff]), 'v');
        await client.set(Buffer.from([0xfe, 0x00]), 'binary key');
        const url = `${server.url}/${db}`;
        const refused = await runMain(['import', '--from', url, join(tempDir(), 'x')]);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain('2 key(s) cannot be held by the embedded cache');
        expect(refused.stderr).toContain('key "odd-field": hash field 0xff is not UTF-8 text');
        expect(refused.stderr).toContain('key 0xfe00: the name is not UTF-8 text');
        const dir = join(tempDir(), 'y');
        const skipped = await runMain(['import', '--from', url, dir, '--skip-unsupported']);
        expect(skipped.code).toBe(0);
        expect(skipped.stderr).toContain('import: wrote a snapshot of 1 keys');
        const app = await bootWith(durable(dir));
        try {
          expect(await app.redis.keys('*')).toEqual(['ok']);
        } finally {
          await app.app.close();
        }
      } finally {
        client.disconnect();
      }
    });
  });
}
