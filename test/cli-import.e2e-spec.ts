import { spawn } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type AddressInfo, createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, datasetSnapshot, runMain } from './support/cli';
import { bootWith, durable, removeTempDirs, restoredKeys, tempDir } from './support/harness';
import { findRedisServer, startRedisServer, type RedisServer } from './support/redis-server';
import { canMount, fillUntil, mountTmpfs, unmountAll } from './support/tmpfs';

/** `persistent-cache import` (`lib/cli/import.ts`): what it refuses, and keys the embedded cache cannot hold. */

afterAll(() => {
  try {
    unmountAll();
  } finally {
    removeTempDirs();
  }
});

describe('persistent-cache CLI: import without a Redis server', () => {
  let dataDir: string;

  beforeAll(async () => {
    ({ dataDir } = await datasetSnapshot({ unsupported: true }));
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

  it('a failed import leaves a missing or empty directory as it found it, so that it can be run again', async () => {
    const parent = tempDir();
    const missing = join(parent, 'new', 'cache');
    const empty = tempDir();
    for (const dir of [missing, empty]) {
      const run = await runMain(['import', '--from', 'redis://127.0.0.1:1', dir]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('127.0.0.1:1');
    }
    expect(readdirSync(parent)).toEqual([]); // the parent it made too
    expect(readdirSync(empty)).toEqual([]);
  });

  if (canMount()) {
    it('an import whose store cannot be created (a full disk) removes the directories it made', async () => {
      const mount = mountTmpfs('size=64k');
      fillUntil(mount, 0);
      const run = await runMain([
        'import',
        '--from',
        'redis://127.0.0.1:1',
        join(mount, 'new', 'cache'),
      ]);
      expect([run.code, run.stderr]).toEqual([1, expect.stringContaining('Not enough space')]);
      expect(readdirSync(mount)).toEqual(['filler']);
    });
  } else {
    console.warn(
      'NOTICE: the full-disk case of import needs to mount a tmpfs (root): not run here.',
    );
  }
});

describe('persistent-cache CLI: an import stopped by a signal', () => {
  // A server that accepts connections and answers nothing: the import waits on it when the signal comes.
  const sockets = new Set<Socket>();
  const silent = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  let url: string;

  beforeAll(async () => {
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    url = `redis://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
  });

  /** Runs the compiled CLI's import into `dir`, sends it `signal` once it waits on the server, and waits for it. */
  async function stopImport(
    args: string[],
    dir: string,
    signal: NodeJS.Signals,
  ): Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string; ms: number }> {
    const connections = sockets.size;
    const child = spawn(process.execPath, [CLI, 'import', '--from', url, ...args, dir], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child.on('close', (code, sig) => resolve([code, sig])),
    );
    const deadline = Date.now() + 20_000;
    while (sockets.size === connections && Date.now() < deadline) await sleep(5);
    await sleep(100);
    const sentAt = Date.now();
    child.kill(signal);
    const [code, sig] = await exited;
    return { code, signal: sig, stderr, ms: Date.now() - sentAt };
  }

  it('ends as a failed import: the directory as it was, the snapshot it would replace kept, no claim left', async () => {
    const parent = tempDir();
    const interrupted = await stopImport([], join(parent, 'new'), 'SIGINT');
    expect(interrupted).toMatchObject({
      code: 130,
      signal: null,
      stderr: expect.stringContaining(
        `import: interrupted by SIGINT after reading 0 keys; no snapshot was written, and ${join(parent, 'new')} ` +
          'is as it was',
      ) as string,
    });
    expect(interrupted.ms).toBeLessThan(10_000);
    expect(readdirSync(parent)).toEqual([]);
    const empty = tempDir();
    expect(await stopImport([], empty, 'SIGTERM')).toMatchObject({ code: 143, signal: null });
    expect(readdirSync(empty)).toEqual([]);

    const { dataDir } = await datasetSnapshot();
    const before = await restoredKeys(dataDir);
    const replacing = await stopImport(['--replace'], dataDir, 'SIGTERM');
    expect(replacing).toMatchObject({ code: 143, signal: null });
    expect(replacing.stderr).toContain('import: interrupted by SIGTERM');
    expect(readdirSync(dataDir).sort()).toEqual(['snapshot.mdb', 'snapshot.mdb-lock']);
    expect(await restoredKeys(dataDir)).toEqual(before);
  });
});

const redisServerBinary = findRedisServer('test/cli-import.e2e-spec.ts');
if (redisServerBinary !== null) {
  describe('persistent-cache CLI import from a real redis-server', () => {
    let server: RedisServer;

    beforeAll(async () => {
      server = await startRedisServer(redisServerBinary);
    });

    afterAll(async () => {
      await server?.stop();
    });

    it('import reports keys the embedded cache cannot hold, and can leave them out', async () => {
      const db = 3;
      const client = server.client(db);
      try {
        await client.set('ok', 'v');
        await client.xadd('emptied', '1-1', 'f', 'v');
        await client.xdel('emptied', '1-1');
        const url = `${server.url}/${db}`;
        const refusedDir = join(tempDir(), 'x');
        const refused = await runMain(['import', '--from', url, refusedDir]);
        expect(refused.code).toBe(1);
        expect(refused.stderr).toContain('1 key(s) cannot be held by the embedded cache');
        expect(refused.stderr).toContain('key "emptied": an empty stream');
        // --cluster asks for a cluster: a single server is refused before anything is read (and database 3, which
        // no cluster has, before connecting).
        const notCluster = await runMain([
          'import',
          '--from',
          server.url,
          join(tempDir(), 'z'),
          '--cluster',
        ]);
        expect(notCluster.code).toBe(1);
        expect(notCluster.stderr).toBe(
          `persistent-cache: --cluster: ${server.url} is not a node of a Redis Cluster (its INFO says ` +
            'cluster_enabled:0); nothing was read or written. Leave out --cluster for a single server\n',
        );
        const clusterDb = await runMain([
          'import',
          '--from',
          url,
          join(tempDir(), 'z'),
          '--cluster',
        ]);
        expect(clusterDb.code).toBe(2);
        expect(clusterDb.stderr).toContain(
          `--from: "${url}" names database 3, but --cluster asks for`,
        );
        const dir = join(tempDir(), 'y');
        // Refused above: the directory it would have made is not there to refuse the next run.
        expect(existsSync(refusedDir)).toBe(false);
        const unreachable = await runMain(['import', '--from', 'redis://127.0.0.1:1', dir]);
        expect(unreachable.code).toBe(1);
        const skipped = await runMain(['import', '--from', url, dir, '--skip-unsupported']);
        expect(skipped.code).toBe(0);
        expect(skipped.stderr).toContain('import: wrote a snapshot of 1 key ');
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

    it('import and export keep key and hash field names that are not UTF-8, byte for byte', async () => {
      const [from, to] = [4, 5];
      const source = server.client(from);
      const target = server.client(to);
      const bin = (...bytes: number[]): Buffer => Buffer.from(bytes);
      /** Every key with its hash's fields (or its string), as hex, sorted. */
      const contents = async (redis: typeof source): Promise<string[]> => {
        const out: string[] = [];
        for (const key of await redis.keysBuffer('*')) {
          if ((await redis.type(key)) === 'hash') {
            const flat = await redis.hscanBuffer(key, '0', 'COUNT', '100');
            const fields = flat[1].map((b) => b.toString('hex'));
            out.push(`${key.toString('hex')}: ${fields.join(' ')}`);
          } else
            out.push(`${key.toString('hex')}= ${(await redis.getBuffer(key))?.toString('hex')}`);
        }
        return out.sort();
      };
      try {
        await source.set(bin(0xff), 'ff');
        await source.set(bin(0xfe), 'fe');
        await source.set(bin(0xfe, 0x00, 0xc3), 'fe00c3');
        await source.set('😀 中文', 'text');
        await source.hset(bin(0xfd), bin(0xff), 'a', bin(0xfe), 'b', 'clé', 'c');
        await source.pexpire(bin(0xff), 100_000);
        const dir = join(tempDir(), 'binary');
        const imported = await runMain(['import', '--from', `${server.url}/${from}`, dir]);
        expect(imported.stderr).toContain('import: wrote a snapshot of 5 keys ');
        expect(imported.code).toBe(0);
        const app = await bootWith(durable(dir, { snapshotOnShutdown: false }));
        try {
          expect(await app.redis.get(bin(0xfe))).toBe('fe');
          expect(await app.redis.get(bin(0xff))).toBe('ff');
          expect(await app.redis.hget(bin(0xfd), bin(0xfe))).toBe('b');
          expect(await app.redis.hlen(bin(0xfd))).toBe(3);
        } finally {
          await app.app.close();
        }
        const exported = await runMain(['export', dir, '--to', `${server.url}/${to}`]);
        expect(exported.code).toBe(0);
        const expected = await contents(source);
        expect(expected).toHaveLength(5);
        expect(await contents(target)).toEqual(expected);
        expect(await target.pttl(bin(0xff))).toBeGreaterThan(0);
      } finally {
        source.disconnect();
        target.disconnect();
      }
    });
  });
}
