/**
 * How often the embedded client answers otherwise than redis-server: the seeded command sequences of the
 * differential test (`test/support/command-sequences.ts`) sent to a real redis-server, to plain ioredis-mock and to
 * this library's embedded client, every reply compared. Prints `divergent of N replies (P%)` per command family for
 * both, and the kinds of divergence left with the library's client.
 *
 *   npm run fidelity                       # 400 sequences of 25 steps
 *   npm run fidelity -- --sequences 2000   # more
 *   npm run fidelity -- --kinds 40         # list more kinds of divergence
 *   npm run fidelity -- --rounds 5         # longer throughput runs (rounds of 500 ms per command)
 *
 * Then what the layer costs: ops/s of GET, SET, HSET, ZADD, LPUSH, INCR and a 10-command pipeline on the embedded
 * client, with its command rules and without them (the same client otherwise), run in alternating slices so that
 * both see the same load of the machine, side by side.
 *
 * Needs `redis-server` on the PATH (started on a free port of 127.0.0.1 and stopped at the end).
 */
import RedisMock from 'ioredis-mock';
import type { Redis } from 'ioredis';
import { createEmbeddedClient } from '../lib/ioredis-mock/adapter';
import { Keyspace } from '../lib/keyspace/keyspace';
import { pipelineOfTen } from './operations';
import { performance } from 'node:perf_hooks';
import { divergenceKinds, formatCounts, runDifferential } from '../test/support/differential';
import { redisServerOnPath, startRedisServer } from '../test/support/redis-server';

function option(name: string, fallback: number): number {
  const at = process.argv.indexOf(name);
  if (at === -1) return fallback;
  const value = Number(process.argv[at + 1]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} takes a positive integer`);
  return value;
}

type Operation = (client: Redis, i: number) => Promise<unknown>;

const OPERATIONS: Record<string, Operation> = {
  GET: (c, i) => c.get(`str:${i % 1000}`),
  SET: (c, i) => c.set(`str:${i % 1000}`, 'value'),
  HSET: (c, i) => c.hset(`hash:${i % 100}`, `f${i % 50}`, 'v'),
  ZADD: (c, i) => c.zadd(`zset:${i % 100}`, i % 1000, `m${i % 50}`),
  LPUSH: (c, i) => c.lpush(`list:${i % 100}`, 'v'),
  INCR: (c, i) => c.incr(`n:${i % 1000}`),
  'pipeline(10)': pipelineOfTen,
};

/** Commands of one operation per slice: each client runs a slice in turn, so that both see the same machine load. */
const SLICE = 200;

/** ops/s of `operation` on each client, in alternating slices over `ms` ms (the time of each client's own slices). */
async function opsPerSecond(
  clients: readonly [Redis, Redis],
  operation: Operation,
  ms: number,
): Promise<[number, number]> {
  const spent = [0, 0];
  const started = performance.now();
  let n = 0;
  while (performance.now() - started < ms) {
    for (const [c, client] of clients.entries()) {
      const sliceStarted = performance.now();
      for (let j = 0; j < SLICE; j++) await operation(client, n + j);
      spent[c] += performance.now() - sliceStarted;
    }
    n += SLICE;
  }
  return [(n / spent[0]) * 1000, (n / spent[1]) * 1000];
}

/** ops/s with and without the rules (the same embedded client, the same kind of keyspace), side by side. */
async function throughput(rounds: number, ms: number): Promise<string[]> {
  const guarded = createEmbeddedClient(new Keyspace());
  const plain = createEmbeddedClient(new Keyspace(), { commandRules: false });
  const lines = [
    `${'command'.padEnd(14)}${'with rules'.padStart(12)}${'without'.padStart(12)}${'ratio'.padStart(8)}`,
  ];
  try {
    for (const [name, operation] of Object.entries(OPERATIONS)) {
      const [withRules, without] = await opsPerSecond([guarded, plain], operation, rounds * ms);
      lines.push(
        `${name.padEnd(14)}${Math.round(withRules).toLocaleString('en-US').padStart(12)}` +
          `${Math.round(without).toLocaleString('en-US').padStart(12)}${(withRules / without).toFixed(2).padStart(8)}`,
      );
    }
  } finally {
    guarded.disconnect();
    plain.disconnect();
  }
  return lines;
}

async function main(): Promise<void> {
  const binary = redisServerOnPath();
  if (binary === undefined) {
    throw new Error(
      'npm run fidelity compares with a real redis-server: install it (e.g. apt-get install redis-server)',
    );
  }
  const sequences = option('--sequences', 400);
  const steps = option('--steps', 25);
  const kinds = option('--kinds', 25);
  const rounds = option('--rounds', 3);
  const seeds = Array.from({ length: sequences }, (_, i) => i + 1);
  const server = await startRedisServer(binary);
  const redis = server.client();
  const plain = new RedisMock({ host: 'fidelity-plain', port: 6379 });
  const embedded = createEmbeddedClient(new Keyspace());
  try {
    const started = Date.now();
    const without = await runDifferential(redis, plain, { seeds, steps });
    const withLayer = await runDifferential(redis, embedded, { seeds, steps });
    process.stdout.write(
      `${sequences} sequences of ${steps} steps against redis-server (${((Date.now() - started) / 1000).toFixed(1)} s)\n\n` +
        `plain ioredis-mock:\n${formatCounts(without.counts).join('\n')}\n\n` +
        `embedded client (with the fidelity layer):\n${formatCounts(withLayer.counts).join('\n')}\n\n`,
    );
    const left = divergenceKinds(withLayer.divergences);
    if (left.length > 0) {
      process.stdout.write(
        `kinds of divergence left (${left.length}, the first ${Math.min(kinds, left.length)}):\n`,
      );
      process.stdout.write(`${left.slice(0, kinds).join('\n')}\n`);
    }
  } finally {
    plain.disconnect();
    embedded.disconnect();
    redis.disconnect();
    await server.stop();
  }
  const lines = await throughput(rounds, 500);
  process.stdout.write(
    `\nthroughput, ops/s (a pipeline counts once), ${rounds} × 500 ms each:\n${lines.join('\n')}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
