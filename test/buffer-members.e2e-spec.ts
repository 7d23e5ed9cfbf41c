import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Keyspace } from '../lib/keyspace/keyspace';
import { KEYSPACE } from '../lib/persistent-cache.constants';
import { bootWith, copyOfStore, durable, removeTempDirs, tempDir } from './support/harness';
import { findRedisServer, startRedisServer } from './support/redis-server';

/**
 * Buffer members of sets, sorted sets and lists: every command answers the same on a restored key as on the key
 * before the snapshot, and as Redis does. ioredis-mock finds members by object identity; a restore used to decode
 * each occurrence of a member into a Buffer of its own (a sorted set's map key and its entry's `.value` included).
 */

const binary = (...bytes: number[]): Buffer => Buffer.from(bytes);
/** Members given as a new Buffer at each use, as an application passes them. */
const A = (): Buffer => binary(0xff, 0x00, 0x01); // not UTF-8
const B = (): Buffer => Buffer.from('b-bytes'); // UTF-8, given as a Buffer
const C = (): Buffer => binary(0xfe);

type Client = Redis & Record<string, (...args: unknown[]) => Promise<unknown>>;

async function populate(redis: Redis): Promise<void> {
  const r = redis as Client;
  for (const key of ['jobs', 'zmax', 'zrank', 'zscore']) {
    await r.zadd(key, 1, A(), 2, B(), 3, 'text', 4, C());
  }
  await r.sadd('s1', A(), B(), 'x');
  await r.sadd('s2', B(), C());
  await r.sunionstore('union', 's1', 's2');
  await r.sinterstore('inter', 's1', 's2');
  await r.sdiffstore('diff', 's1', 's2');
  await r.rpush('list', A(), B(), A(), 'text');
}

/** Bytes as hex, whichever form a client returns them in (numbers as their text). */
function bytes(reply: unknown): unknown {
  if (Buffer.isBuffer(reply)) return reply.toString('hex');
  if (typeof reply === 'string' || typeof reply === 'number') {
    return Buffer.from(String(reply)).toString('hex');
  }
  if (Array.isArray(reply)) return reply.map(bytes);
  return reply;
}

const unordered = (reply: unknown): unknown => (bytes(reply) as string[]).sort();

/** Commands over the members, each answer in a comparable form. Mutating: run once per copy of the data. */
async function battery(redis: Redis): Promise<Record<string, unknown>> {
  const r = redis as Client;
  const out: Record<string, unknown> = {};
  const ask = async (name: string, reply: Promise<unknown>, order = bytes): Promise<void> => {
    out[name] = order(await reply);
  };
  // A ZPOPMIN job queue hands out each job once.
  await ask('zpopmin 1', r.zpopminBuffer('jobs'));
  await ask('zpopmin 2', r.zpopminBuffer('jobs'));
  await ask('zpopmin 3', r.zpopminBuffer('jobs', 2));
  await ask('zcard jobs', r.zcard('jobs'));
  await ask('zpopmax', r.zpopmaxBuffer('zmax', 2));
  await ask('zrange zmax', r.zrangeBuffer('zmax', 0, -1));
  await ask('zremrangebyrank', r.zremrangebyrank('zrank', 0, 1));
  await ask('zrange zrank', r.zrangeBuffer('zrank', 0, -1));
  await ask('zremrangebyscore', r.zremrangebyscore('zscore', 1, 2));
  await ask('zrange zscore', r.zrangeBuffer('zscore', 0, -1));
  await ask('zscore A', r.zscore('zmax', A()));
  await ask('zrank A', r.zrank('zmax', A()));
  await ask('zadd A again', r.zadd('zmax', 5, A()));
  await ask('zincrby A', r.zincrby('zmax', 1, A()));
  await ask('zrem A', r.zrem('zmax', A()));
  await ask('zcard zmax', r.zcard('zmax'));
  // Sets copied by SUNIONSTORE, SINTERSTORE and SDIFFSTORE still share their members with their sources.
  await ask('sinter s1 union', r.sinterBuffer('s1', 'union'), unordered);
  await ask('sunion s1 union', r.sunionBuffer('s1', 'union'), unordered);
  await ask('sdiff union s1', r.sdiffBuffer('union', 's1'), unordered);
  await ask('sinter inter s2', r.sinterBuffer('inter', 's2'), unordered);
  await ask('sdiff s1 diff', r.sdiffBuffer('s1', 'diff'), unordered);
  await ask('sismember A', r.sismember('union', A()));
  await ask('smismember', r.smismember('union', A(), B(), C(), binary(0)));
  await ask('sadd A again', r.sadd('union', A()));
  await ask('srem B', r.srem('union', B()));
  await ask('smove C', r.smove('union', 'diff', C()));
  await ask('smembers union', r.smembersBuffer('union'), unordered);
  await ask('smembers diff', r.smembersBuffer('diff'), unordered);
  // Lists find their elements by value.
  await ask('lpos B', r.lpos('list', B()));
  await ask('lrem A', r.lrem('list', 0, A()));
  await ask('linsert', r.linsert('list', 'BEFORE', B(), C()));
  await ask('lrange', r.lrangeBuffer('list', 0, -1));
  return out;
}

afterAll(removeTempDirs);

describe('Buffer members', () => {
  it('get the same answers after a restore as before the snapshot', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir));
    let before: Record<string, unknown>;
    let copy: string;
    try {
      await populate(h.redis);
      await h.snapshots.snapshot();
      copy = copyOfStore(dataDir);
      before = await battery(h.redis);
    } finally {
      await h.app.close();
    }
    // The job queue drained in order, each job once; the copies kept sharing members with their sources.
    expect(before).toMatchObject({
      'zpopmin 1': bytes([A(), 1]),
      'zpopmin 2': bytes([B(), 2]),
      'zcard jobs': bytes(0),
      'sunion s1 union': unordered([A(), B(), C(), 'x']),
      'sadd A again': bytes(0),
      'lrem A': bytes(2),
    });
    const restored = await bootWith(durable(copy, { snapshotOnShutdown: false }));
    try {
      expect(await battery(restored.redis)).toEqual(before);
    } finally {
      await restored.app.close();
    }
  });

  it('get the same answers once their keys were packed as before', async () => {
    const packing = await bootWith({ persistence: { enabled: false }, memory: { packAfter: 50 } });
    const plain = await bootWith({ persistence: { enabled: false }, memory: { packAfter: 0 } });
    try {
      await populate(packing.redis);
      await populate(plain.redis);
      const keyspace = packing.app.get<Keyspace>(KEYSPACE);
      for (let waited = 0; keyspace.packCandidates > 0 && waited < 5_000; waited += 20)
        await sleep(20);
      expect(keyspace.packCandidates).toBe(0);
      expect(await battery(packing.redis)).toEqual(await battery(plain.redis));
    } finally {
      await packing.app.close();
      await plain.app.close();
    }
  });

  it('survive a second snapshot of their restored keys, and compare by bytes across keys', async () => {
    const first = tempDir();
    const h = await bootWith(durable(first));
    try {
      await populate(h.redis);
    } finally {
      await h.app.close(); // final snapshot
    }
    // Restore, touch every key (decoded), snapshot again, restore that.
    const second = copyOfStore(first);
    const middle = await bootWith(durable(second));
    let before: Record<string, unknown>;
    let third: string;
    try {
      await (middle.redis as Client).sadd('s1', A()); // decodes s1; A is already a member
      expect(await middle.redis.scard('s1')).toBe(3);
      for (const key of ['jobs', 'zmax', 'zrank', 'zscore', 'union', 'inter', 'diff', 'list']) {
        await middle.redis.type(key);
      }
      await middle.snapshots.snapshot();
      third = copyOfStore(second);
      before = await battery(middle.redis);
    } finally {
      await middle.app.close();
    }
    const last = await bootWith(durable(third, { snapshotOnShutdown: false }));
    try {
      expect(await battery(last.redis)).toEqual(before);
    } finally {
      await last.app.close();
    }
  });

  const redisServerBinary = findRedisServer('Buffer members (test/buffer-members.e2e-spec.ts)');
  if (redisServerBinary !== null) {
    it('get the answers a real redis-server gives, before and after a restore', async () => {
      const server = await startRedisServer(redisServerBinary);
      const redis = server.client();
      try {
        await populate(redis);
        const expected = await battery(redis);
        const dataDir = tempDir();
        const h = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
        try {
          await populate(h.redis);
          await h.snapshots.snapshot();
          expect(await battery(h.redis)).toEqual(expected);
        } finally {
          await h.app.close();
        }
        const restored = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
        try {
          // The store holds the data as it was before the first battery ran.
          expect(await battery(restored.redis)).toEqual(expected);
        } finally {
          await restored.app.close();
        }
      } finally {
        redis.disconnect();
        await server.stop();
      }
    });
  }
});
