import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { STORE_FILE } from '../lib/store/data-dir';
import { bootWith, copyOfStore, durable, removeTempDirs, tempDir } from './support/harness';
import { findRedisServer, startRedisServer } from './support/redis-server';
import { withTables } from './support/stores';

/**
 * Keys and hash field names given as bytes that are not UTF-8 stay apart and keep their bytes: `<ff>` and `<fe>` are
 * two keys (they were both U+FFFD, one key), in every command, in the `…Buffer` replies, and through a snapshot.
 */

const bin = (...bytes: number[]): Buffer => Buffer.from(bytes);
const FF = (): Buffer => bin(0xff);
const FE = (): Buffer => bin(0xfe);
const MIXED = (): Buffer => bin(0x6b, 0xff, 0x00, 0xc3, 0xa9); // k, <ff>, NUL, é
const CUT = (): Buffer => bin(0xc3); // the first byte of é alone
const TEXT_KEYS = ['😀 emoji', '中文键', 'clé', 'plain'];

type Client = Redis & Record<string, (...args: unknown[]) => Promise<unknown>>;

async function populate(redis: Redis): Promise<void> {
  const r = redis as Client;
  await r.set(FF(), 'ff');
  await r.set(FE(), 'fe');
  await r.set(MIXED(), bin(0x01, 0xff));
  await r.set(CUT(), 'cut');
  for (const key of TEXT_KEYS) await r.set(key, `text ${key}`);
  await r.hset('h', FF(), 'field ff', FE(), 'field fe', 'x', 'field x', CUT(), 'field cut');
  await r.hset(bin(0xf9), FF(), 'in f9', FE(), 'also in f9');
  await r.mset(bin(0xfd, 1), 'm1', bin(0xfd, 2), 'm2');
  await r.sadd('members', FF(), FE());
}

/** Bytes as hex, whichever form a client returns them in (numbers as their text); hashes with their fields. */
function hex(reply: unknown): unknown {
  if (Buffer.isBuffer(reply)) return reply.toString('hex');
  if (typeof reply === 'string' || typeof reply === 'number') {
    return Buffer.from(String(reply)).toString('hex');
  }
  if (Array.isArray(reply)) return reply.map(hex);
  if (typeof reply === 'object' && reply !== null) {
    return Object.entries(reply as Record<string, unknown>)
      .map(([field, value]) => [Buffer.from(field).toString('hex'), hex(value)])
      .sort();
  }
  return reply;
}

const sorted = (reply: unknown): unknown => (hex(reply) as string[]).sort();
/** A flat array of pairs as its pairs, sorted. */
const pairs = (reply: unknown): unknown => {
  const flat = hex(reply) as string[];
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) out.push(`${flat[i]}=${flat[i + 1]}`);
  return out.sort();
};
const scanned = (reply: unknown): unknown => sorted((reply as [string, unknown[]])[1]);
const scannedPairs = (reply: unknown): unknown => pairs((reply as [string, unknown[]])[1]);

/** Commands over binary keys and fields, each answer in a comparable form. Mutating: run once per copy of the data. */
async function battery(redis: Redis): Promise<Record<string, unknown>> {
  const r = redis as Client;
  // Patterns given as bytes (ioredis's types take text).
  const loose = redis as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const out: Record<string, unknown> = {};
  const ask = async (name: string, reply: Promise<unknown>, form = hex): Promise<void> => {
    out[name] = form(await reply);
  };
  await ask('get ff', r.getBuffer(FF()));
  await ask('get fe', r.getBuffer(FE()));
  await ask('get mixed', r.getBuffer(MIXED()));
  await ask('get cut', r.get(CUT()));
  await ask('get text', r.get(TEXT_KEYS[0]));
  await ask('get utf8 as bytes', r.get(Buffer.from(TEXT_KEYS[1])));
  await ask('get U+FFFD', r.get('\ufffd'));
  await ask('exists', r.exists(FF(), FE(), bin(0xfc), MIXED()));
  await ask('type', r.type(FE()));
  await ask('strlen', r.strlen(MIXED()));
  await ask('keys', r.keysBuffer('*'), sorted);
  await ask('keys as text', r.keys('*'), sorted);
  await ask('keys match', loose.keysBuffer(bin(0x5b, 0xfe, 0xff, 0x5d)), sorted); // [<fe><ff>]
  await ask('keys ?', r.keysBuffer('?'), sorted);
  await ask('scan', r.scanBuffer('0', 'COUNT', '1000'), scanned);
  await ask(
    'scan match',
    loose.scanBuffer('0', 'MATCH', bin(0x2a, 0xff, 0x2a), 'COUNT', '1000'),
    scanned,
  );
  await ask('mget', r.mgetBuffer(bin(0xfd, 1), bin(0xfd, 2), bin(0xfd, 3)));
  await ask('hget ff', r.hget('h', FF()));
  await ask('hget fe', r.hget('h', FE()));
  await ask('hget cut', r.hget('h', CUT()));
  await ask('hget U+FFFD', r.hget('h', '\ufffd'));
  await ask('hlen', r.hlen('h'));
  await ask('hkeys', r.hkeysBuffer('h'), sorted);
  await ask('hkeys as text', r.hkeys('h'), sorted);
  await ask('hgetall', r.hgetallBuffer(bin(0xf9)));
  await ask('hscan', r.hscanBuffer('h', '0'), scannedPairs);
  await ask('hscan match', loose.hscanBuffer('h', '0', 'MATCH', bin(0xfe)), scannedPairs);
  await ask('hmget', r.hmget('h', FF(), FE(), 'x', bin(0xfc)));
  await ask('hexists', r.hexists('h', FE()));
  await ask('hstrlen', r.hstrlen('h', FF()));
  await ask('hsetnx', r.hsetnx('h', FE(), 'again'));
  await ask('hincrby', r.hincrby('h', bin(0xfc), 5));
  await ask('hincrbyfloat', r.hincrbyfloat('h', bin(0xfc), '0.5'));
  await ask('hrandfield', r.hrandfieldBuffer('h', 10), sorted);
  await ask('hdel', r.hdel('h', FE(), FE(), bin(0xfb)));
  await ask('hkeys after hdel', r.hkeysBuffer('h'), sorted);
  await ask('rename', r.rename(FF(), bin(0xfa)));
  await ask('get renamed', r.getBuffer(bin(0xfa)));
  await ask('get ff after rename', r.getBuffer(FF()));
  await ask('del', r.del(FE(), bin(0xfd, 1)));
  await ask('script keys', r.eval("return redis.call('KEYS', '*')", 0), sorted);
  await ask(
    'script hget',
    r.evalBuffer("return redis.call('HGET', KEYS[1], ARGV[1])", 1, 'h', FF()),
  );
  await ask('keys at the end', r.keysBuffer('*'), sorted);
  return out;
}

/** Commands of every family, whose keys (and the key names in their replies) are bytes that are not UTF-8. */
async function families(redis: Redis): Promise<Record<string, unknown>> {
  const r = redis as Client;
  const out: Record<string, unknown> = {};
  const ask = async (name: string, reply: Promise<unknown>, form = hex): Promise<void> => {
    try {
      out[name] = form(await reply);
    } catch (error) {
      out[name] = `error: ${(error as Error).message}`;
    }
  };
  const k = (n: number): Buffer => bin(0xf0, n, 0xff);
  await ask('rpush', r.rpush(k(1), 'a', 'b'));
  await ask('rpush other', r.rpush(k(2), 'c'));
  await ask('lmpop', r.lmpopBuffer(2, k(9), k(1), 'LEFT'));
  await ask('blpop', r.blpopBuffer(k(9), k(2), 1));
  await ask('lmove', r.lmove(k(1), k(3), 'LEFT', 'RIGHT'));
  await ask('lrange moved', r.lrange(k(3), 0, -1));
  await ask('zadd', r.zadd(k(4), 1, 'one', 2, 'two'));
  await ask('zmpop', r.zmpopBuffer(1, k(4), 'MIN'));
  await ask('bzpopmin', r.bzpopminBuffer(k(9), k(4), 1));
  await ask('zadd again', r.zadd(k(5), 3, 'three'));
  await ask('zunionstore', r.zunionstore(k(6), 2, k(4), k(5)));
  await ask('zrange stored', r.zrange(k(6), 0, -1, 'WITHSCORES'));
  await ask('sadd', r.sadd(k(7), 'm'));
  await ask('smove', r.smove(k(7), k(8), 'm'));
  await ask('sinterstore', r.sinterstore(k(10), k(8)));
  await ask('smembers stored', r.smembers(k(10)));
  await ask('xadd', r.xadd(k(11), '1-1', 'f', 'v'));
  await ask('xread', r.xreadBuffer('COUNT', 5, 'STREAMS', k(11), k(12), '0', '0'));
  await ask('xlen', r.xlen(k(11)));
  await ask('xadd binary field', r.xadd(k(11), '1-2', bin(0xff), 'v2', bin(0xfe), 'v3'));
  await ask('xrange', r.xrangeBuffer(k(11), '-', '+'));
  await ask('set', r.set(k(13), 'value', 'EX', 100));
  await ask('ttl', r.ttl(k(13)));
  await ask('expire', r.expire(k(13), 50));
  await ask('ttl after', r.ttl(k(13)));
  await ask('persist', r.persist(k(13)));
  await ask('copy', r.copy(k(13), k(14)));
  await ask('getdel copied', r.getdel(k(14)));
  await ask('setrange', r.setrange(k(15), 2, 'xy'));
  await ask('append', r.append(k(15), 'z'));
  await ask('getrange', r.getrangeBuffer(k(15), 0, -1));
  await ask('incr', r.incr(k(16)));
  await ask('bitop', r.bitop('OR', k(17), k(15), k(16)));
  await ask('strlen bitop', r.strlen(k(17)));
  await ask('pfadd', r.pfadd(k(18), 'a', 'b'));
  await ask('pfcount', r.pfcount(k(18)));
  await ask('lcs', r.lcs(k(15), k(17)));
  await ask('renamenx', r.renamenx(k(16), k(19)));
  await ask('touch', r.touch(k(19), k(16), k(3)));
  await ask('type', r.type(k(19)));
  await ask('object encoding', r.object('ENCODING', k(19)));
  await ask('unlink', r.unlink(k(19), k(18)));
  await ask('hset for sort', r.hset(k(20), bin(0xee), '5'));
  await ask('rpush for sort', r.rpush(k(21), bin(0xf0, 20, 0xff)));
  await ask(
    'sort by field',
    r.sortBuffer(k(21), 'BY', Buffer.concat([bin(0x2a), Buffer.from('->'), bin(0xee)]), 'GET', '#'),
  );
  // 40 bytes outside UTF-8: a field of a listpack (up to 64 bytes), not 120 bytes of U+FFFD.
  await ask('hset long field', r.hset(k(22), Buffer.alloc(40, 0xff), 'v'));
  await ask('object encoding hash', r.object('ENCODING', k(22)));
  await ask('pexpire', r.pexpire(k(15), 100_000));
  await ask('dbsize', r.dbsize());
  await ask('keys', r.keysBuffer('*'), sorted);
  return out;
}

/** Every key with its type, whether it expires, and its value read as bytes: comparable across servers. */
async function contents(redis: Redis): Promise<string[]> {
  const r = redis as Client;
  const out: string[] = [];
  for (const key of await redis.keysBuffer('*')) {
    const type = await redis.type(key);
    const reads: Record<string, () => Promise<unknown>> = {
      string: () => r.getBuffer(key),
      hash: async () => pairs((await r.hscanBuffer(key, '0', 'COUNT', '1000'))[1]),
      list: () => r.lrangeBuffer(key, 0, -1),
      set: async () => sorted(await r.smembersBuffer(key)),
      zset: () => r.zrangeBuffer(key, 0, -1, 'WITHSCORES'),
      stream: () => r.xrangeBuffer(key, '-', '+'),
    };
    const value = JSON.stringify(hex(await reads[type]()));
    out.push(`${key.toString('hex')} ${type} ${(await redis.pttl(key)) > 0} ${value}`);
  }
  return out.sort();
}

/** The records of the store in `dataDir`, its chunks one after another. */
function chunkBytes(dataDir: string): Promise<Buffer> {
  return withTables(join(dataDir, STORE_FILE), true, ({ chunks }) =>
    Buffer.concat([...chunks.getRange({})].map(({ value }) => Buffer.from(value as Uint8Array))),
  );
}

/** A key as a record holds it: a string body of its bytes (header: twice their number). */
const body = (bytes: Buffer): Buffer => Buffer.concat([bin(bytes.length * 2), bytes]);

afterAll(removeTempDirs);

describe('binary keys and hash fields', () => {
  it('stay apart and answer the same after a restore, the snapshot holding their own bytes', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
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
    expect(before).toMatchObject({
      'get ff': hex('ff'),
      'get fe': hex('fe'),
      'get cut': hex('cut'),
      'get U+FFFD': null,
      exists: hex(3),
      'hget ff': hex('field ff'),
      'hget fe': hex('field fe'),
      'hget U+FFFD': null,
      hlen: hex(4),
      hkeys: ['78', 'c3', 'fe', 'ff'],
      'get renamed': hex('ff'),
      'get ff after rename': null,
    });
    const records = await chunkBytes(copy);
    for (const key of [FF(), FE(), MIXED(), CUT(), ...TEXT_KEYS.map((k) => Buffer.from(k))]) {
      expect(records.includes(body(key))).toBe(true);
    }
    // No key nor field was written as U+FFFD, nor as UTF-16.
    expect(records.includes(Buffer.from('\ufffd'))).toBe(false);
    const restored = await bootWith(durable(copy, { snapshotOnShutdown: false }));
    try {
      expect(await battery(restored.redis)).toEqual(before);
    } finally {
      await restored.app.close();
    }
  });

  it('come back as their bytes from pipelines, transactions, call() and RANDOMKEY', async () => {
    const h = await bootWith({ persistence: { enabled: false } });
    try {
      const r = h.redis;
      await r.set(FF(), 'x');
      expect(await r.randomkeyBuffer()).toEqual(FF());
      expect(await r.randomkey()).toBe('\ufffd');
      await r.hset('h', FF(), '1', FE(), '2');
      const piped = await r
        .pipeline()
        .hkeysBuffer('h')
        .hrandfieldBuffer('h', 5)
        .keysBuffer('*')
        .exec();
      const multi = await r.multi().hkeysBuffer('h').hscanBuffer('h', '0').scanBuffer('0').exec();
      const values = (replies: typeof piped): unknown =>
        (replies ?? []).map(([error, reply]) => {
          expect(error).toBeNull();
          return hex(reply);
        });
      expect(values(piped)).toEqual([
        ['ff', 'fe'],
        expect.arrayContaining(['ff', 'fe']),
        expect.arrayContaining(['68', 'ff']),
      ]);
      expect(values(multi)).toEqual([
        ['ff', 'fe'],
        ['30', ['ff', '31', 'fe', '32']],
        ['30', expect.arrayContaining(['68', 'ff'])],
      ]);
      expect(hex(await r.callBuffer('HKEYS', 'h'))).toEqual(['ff', 'fe']);
      expect(await r.call('HKEYS', 'h')).toEqual(['\ufffd', '\ufffd']);
    } finally {
      await h.app.close();
    }
  });

  it('are watched by their bytes', async () => {
    const h = await bootWith({ persistence: { enabled: false } });
    const other = h.redis.duplicate();
    try {
      await h.redis.set(FF(), '1');
      await h.redis.watch(FF());
      await other.set(FE(), 'another key');
      expect(await h.redis.multi().get(FF()).exec()).toEqual([[null, '1']]);
      await h.redis.watch(FF());
      await other.set(FF(), '2');
      expect(await h.redis.multi().get(FF()).exec()).toBeNull();
    } finally {
      other.disconnect();
      await h.app.close();
    }
  });

  const redisServerBinary = findRedisServer('binary keys (test/binary-keys.e2e-spec.ts)');
  if (redisServerBinary !== null) {
    it('get the answers a real redis-server gives, before and after a restore', async () => {
      const server = await startRedisServer(redisServerBinary);
      const redis = server.client();
      try {
        await populate(redis);
        const expected = await battery(redis);
        await redis.flushall();
        const expectedFamilies = await families(redis);
        const expectedContents = await contents(redis);
        expect(expectedContents).toHaveLength(12);
        expect(expectedContents.filter((line) => line.includes(' true '))).toHaveLength(1);
        const familiesDir = tempDir();
        const embedded = await bootWith(durable(familiesDir, { snapshotOnShutdown: false }));
        try {
          expect(await families(embedded.redis)).toEqual(expectedFamilies);
          expect(await contents(embedded.redis)).toEqual(expectedContents);
          await embedded.snapshots.snapshot();
        } finally {
          await embedded.app.close();
        }
        const familiesRestored = await bootWith(
          durable(familiesDir, { snapshotOnShutdown: false }),
        );
        try {
          expect(await contents(familiesRestored.redis)).toEqual(expectedContents);
        } finally {
          await familiesRestored.app.close();
        }
        await redis.flushall();
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
