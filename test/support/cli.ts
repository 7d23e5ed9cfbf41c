import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import type { Cluster, Redis } from 'ioredis';
import { main } from '../../lib/cli/main';
import { digest, expectSameData, portableDigest, type KeyspaceDigest } from './digest';
import { bootWith, durable, tempDir } from './harness';

/** The compiled CLI, built by the jest global setup (what `npx persistent-cache` runs). */
export const CLI = resolve(__dirname, '..', '..', 'dist', 'lib', 'cli', 'index.js');

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the compiled CLI in a process of its own, optionally as another user and with stdout into a file. */
export function runCli(
  args: readonly string[],
  options: { user?: { uid: number; gid: number }; stdoutFile?: string } = {},
): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const out = options.stdoutFile === undefined ? 'pipe' : openSync(options.stdoutFile, 'w');
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', out, 'pipe'],
      cwd: join(CLI, '..'),
      uid: options.user?.uid,
      gid: options.user?.gid,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (typeof out === 'number') closeSync(out);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}

export interface MainRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  /** stdout as bytes (RESP with binary values). */
  readonly raw: Buffer;
}

/**
 * Runs the CLI in this process (for coverage), capturing its output; `tty` makes stderr look like a terminal,
 * `interrupt` stands for the process's signals (abort it with a signal's name), `onStdout` sees each chunk written.
 */
export async function runMain(
  args: string[],
  options: { tty?: boolean; interrupt?: AbortSignal; onStdout?: (chunk: Buffer) => void } = {},
): Promise<MainRun> {
  const chunks: Buffer[] = [];
  let stderr = '';
  const stdout = new PassThrough();
  stdout.on('data', (d: Buffer) => {
    chunks.push(d);
    options.onStdout?.(d);
  });
  const err = Object.assign(new PassThrough(), { isTTY: options.tty === true });
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await main(args, { stdout, stderr: err, interrupt: options.interrupt });
  const raw = Buffer.concat(chunks);
  return { code, stdout: raw.toString(), stderr, raw };
}

/** A dataset of every type, with TTLs, binary values and keys, written through the embedded client. */
export async function writeDataset(redis: Redis): Promise<void> {
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

export interface DatasetSnapshot {
  /** A data directory holding a snapshot of the dataset. */
  readonly dataDir: string;
  /** The dataset as {@link portableDigest} shows it (comparable with a real Redis). */
  readonly portable: KeyspaceDigest;
  /** The dataset as {@link digest} shows it (stream ids as stored, every key the embedded client holds). */
  readonly strict: KeyspaceDigest;
}

/**
 * Writes {@link writeDataset} into a new data directory and snapshots it; with `unsupported`, also a key real Redis
 * cannot hold (a sorted set with a NaN score). Closing the app takes a second, empty, incremental snapshot.
 */
export async function datasetSnapshot(
  options: { unsupported?: boolean } = {},
): Promise<DatasetSnapshot> {
  const dataDir = tempDir();
  const app = await bootWith(durable(dataDir));
  try {
    await writeDataset(app.redis);
    // A score no command stores any more (ioredis-mock's own ZADD stores NaN for 'inf'; the rules, Lua scripts
    // included, refuse or parse it): written into ioredis-mock's data as that ZADD would.
    if (options.unsupported === true) {
      const data = (app.redis as unknown as { data: { set(key: string, value: unknown): void } })
        .data;
      data.set('nan-score', new Map([['m', { score: NaN, value: 'm' }]]));
    }
    await app.snapshots.snapshot();
    return { dataDir, portable: await portableDigest(app.redis), strict: await digest(app.redis) };
  } finally {
    await app.app.close();
  }
}

/**
 * After `dataDir` (the {@link writeDataset} snapshot) was exported into `url`: a second export is refused (the
 * target is not empty) unless `--replace`, which overwrites the exported keys — changed meanwhile through `target`
 * — and keeps the others. `expected` is the dataset's portable digest.
 */
export async function expectReexportNeedsReplace(
  dataDir: string,
  url: string,
  target: Redis | Cluster,
  expected: KeyspaceDigest,
): Promise<void> {
  const again = await runMain(['export', dataDir, '--to', url]);
  expect(again.code).toBe(1);
  expect(again.stderr).toContain('already holds 15 keys; nothing was written');
  await target.set('str:text', 'changed');
  await target.rpush('list:q', 'extra');
  await target.set('unrelated', 'kept');
  const replaced = await runMain(['export', dataDir, '--to', url, '--replace']);
  expect(replaced.code).toBe(0);
  expect(await target.get('unrelated')).toBe('kept');
  await target.del('unrelated');
  expectSameData(await portableDigest(target), expected);
}
