import type { Redis } from 'ioredis';
import type { Keyspace } from '../lib/keyspace/keyspace';
import { KEYSPACE } from '../lib/persistent-cache.constants';
import { bootWith, durable, removeTempDirs, tempDir, type Harness } from './support/harness';
import { findRedisServer, startRedisServer, type RedisServer } from './support/redis-server';

/**
 * The embedded client's stream commands (lib/ioredis-mock/rules/streams.ts): what ioredis-mock 8.13.1 answered
 * otherwise than redis-server 7, each checked on the embedded client, after a snapshot and a restart too, and, where
 * redis-server is installed, against it.
 */

afterAll(removeTempDirs);

const TIME_ID = /^(\d{13})-(\d+)$/;

function idParts(id: string): [bigint, bigint] {
  const [ms, seq] = id.split('-').map(BigInt);
  return [ms, seq];
}

describe('streams on the embedded client', () => {
  let dataDir: string;
  let h: Harness;
  let cache: Redis;

  beforeEach(async () => {
    dataDir = tempDir();
    h = await bootWith(durable(dataDir));
    cache = h.redis;
  });
  afterEach(async () => {
    await h.app.close();
  });

  async function restart(): Promise<void> {
    await h.snapshots.snapshot();
    await h.app.close();
    h = await bootWith(durable(dataDir));
    cache = h.redis;
  }

  it('gives time-based ids that always increase, and follows <ms>-* as Redis does', async () => {
    const before = Date.now();
    const ids: string[] = [];
    for (let i = 0; i < 50; i++) ids.push((await cache.xadd('s', '*', 'f', String(i))) as string);
    for (const id of ids) expect(id).toMatch(TIME_ID);
    expect(Number(idParts(ids[0])[0])).toBeGreaterThanOrEqual(before);
    for (let i = 1; i < ids.length; i++) {
      const [a, b] = [idParts(ids[i - 1]), idParts(ids[i])];
      expect(b[0] > a[0] || (b[0] === a[0] && b[1] > a[1])).toBe(true);
    }
    expect(await cache.xadd('t', '0-*', 'f', 'v')).toBe('0-1');
    expect(await cache.xadd('t', '5-*', 'f', 'v')).toBe('5-0');
    expect(await cache.xadd('t', '5-*', 'f', 'v')).toBe('5-1');
    expect(await cache.xadd('t', '7', 'f', 'v')).toBe('7-0');
    // A clock behind the last id: the next id is the last one plus one.
    expect(await cache.xadd('future', '99999999999999-5', 'f', 'v')).toBe('99999999999999-5');
    expect(await cache.xadd('future', '*', 'f', 'v')).toBe('99999999999999-6');
  });

  it('adds to a large stream in place: entries, trims, its size, and a snapshot taken meanwhile', async () => {
    const keyspace = h.app.get<Keyspace>(KEYSPACE);
    for (let at = 1; at <= 2000; at += 200) {
      const p = cache.pipeline();
      for (let i = at; i < at + 200; i++)
        p.xadd('big', `${i}-1`, 'n', String(i), 'pad', 'x'.repeat(20));
      await p.exec();
    }
    const stored = keyspace.valueOf('big');
    const before = keyspace.memoryUsage('big') as number;
    expect(await cache.xadd('big', '2001-1', 'n', '2001')).toBe('2001-1');
    expect(await cache.xadd('big', '2001-*', 'n', '2001b')).toBe('2001-2');
    await expect(cache.xadd('big', '5-5', 'n', 'old')).rejects.toThrow(
      'ERR The ID specified in XADD is equal or smaller than the target stream top item',
    );
    expect(keyspace.valueOf('big')).toBe(stored);
    expect(await cache.xlen('big')).toBe(2002);
    expect(keyspace.memoryUsage('big')).toBeGreaterThan(before);
    expect(await cache.xadd('big', 'MAXLEN', '1500', '2002-1', 'n', '2002')).toBe('2002-1');
    expect(keyspace.valueOf('big')).toBe(stored);
    expect(await cache.xlen('big')).toBe(1500);
    expect(await cache.xrange('big', '-', '+', 'COUNT', 1)).toEqual([
      ['504-1', ['n', '504', 'pad', 'x'.repeat(20)]],
    ]);
    expect(keyspace.memoryUsage('big')).toBeLessThan(before);
    // Entries added while a snapshot is under way, then a restart: the stream comes back whole.
    const snapshot = h.snapshots.snapshot();
    for (let i = 3000; i < 3100; i++)
      await cache.xadd('big', 'MAXLEN', '~', '1000', `${i}-1`, 'n', String(i));
    await snapshot;
    const all = await cache.xrange('big', '-', '+');
    expect(all.at(-1)).toEqual(['3099-1', ['n', '3099']]);
    await restart();
    expect(await cache.xrange('big', '-', '+')).toEqual(all);
    expect(await cache.xadd('big', '*', 'n', 'after')).toMatch(TIME_ID);
  });

  it('checks explicit ids and answers them in Redis form', async () => {
    expect(await cache.xadd('s', '1-1', 'f', 'v')).toBe('1-1');
    await expect(cache.xadd('s', '1-1', 'f', 'v')).rejects.toThrow(
      'ERR The ID specified in XADD is equal or smaller than the target stream top item',
    );
    await expect(cache.xadd('s', '1-0', 'f', 'v')).rejects.toThrow('equal or smaller');
    await expect(cache.xadd('s', '0-0', 'f', 'v')).rejects.toThrow(
      'ERR The ID specified in XADD must be greater than 0-0',
    );
    for (const bad of ['x', '5-x', '-', '1-2-3', '18446744073709551616']) {
      await expect(cache.xadd('s', bad, 'f', 'v')).rejects.toThrow(
        'ERR Invalid stream ID specified as stream command argument',
      );
    }
    await expect(cache.xadd('s', '2-0', 'f')).rejects.toThrow(
      "ERR wrong number of arguments for 'xadd' command",
    );
    expect(await cache.xrange('s', '-', '+')).toEqual([['1-1', ['f', 'v']]]);
    expect(await cache.keys('*')).toEqual(['s']);
    expect(await cache.dbsize()).toBe(1);
    expect(await cache.type('s')).toBe('stream');
  });

  it('ranges: exclusive bounds, incomplete ids, COUNT, reversed', async () => {
    for (const id of ['1-0', '1-1', '2-0', '2-5', '3-0']) await cache.xadd('s', id, 'f', id);
    const ids = (reply: unknown): string[] => (reply as [string, unknown][]).map(([id]) => id);
    expect(ids(await cache.xrange('s', '1', '2'))).toEqual(['1-0', '1-1', '2-0', '2-5']);
    expect(ids(await cache.xrange('s', '(1-0', '(2-5'))).toEqual(['1-1', '2-0']);
    expect(ids(await cache.xrange('s', '-', '+', 'COUNT', 2))).toEqual(['1-0', '1-1']);
    expect(await cache.xrange('s', '-', '+', 'COUNT', 0)).toBeNull();
    expect(await cache.xrange('missing', '-', '+', 'COUNT', 0)).toEqual([]);
    expect(ids(await cache.xrevrange('s', '+', '-', 'COUNT', 2))).toEqual(['3-0', '2-5']);
    // An incomplete end is <ms>-<max> before `(` excludes it: `(3` still takes 3-0, as in Redis.
    expect(ids(await cache.xrevrange('s', '(3', '(1'))).toEqual(['3-0', '2-5', '2-0', '1-1']);
    await expect(cache.xrange('s', '(-', '+')).rejects.toThrow('ERR Invalid stream ID');
    await expect(cache.xrange('s', '-', '(0-0')).rejects.toThrow(
      'ERR invalid end ID for the interval',
    );
  });

  it('XDEL and XTRIM; an emptied stream stays, with its last id', async () => {
    for (const id of ['1-0', '2-0', '3-0', '4-0']) await cache.xadd('s', id, 'f', id);
    expect(await cache.xdel('s', '2-0', '2-0', '9-0')).toBe(1);
    expect(await cache.xtrim('s', 'MINID', '4')).toBe(2);
    expect(await cache.xtrim('s', 'MAXLEN', '~', 0)).toBe(1); // approximate: a whole node of 1 entry
    expect(await cache.xtrim('s', 'MAXLEN', 0)).toBe(0);
    expect(await cache.xlen('s')).toBe(0);
    expect(await cache.exists('s')).toBe(1);
    expect(await cache.type('s')).toBe('stream');
    await expect(cache.xadd('s', '4-0', 'f', 'v')).rejects.toThrow('equal or smaller');
    expect(await cache.xadd('s', '4-*', 'f', 'v')).toBe('4-1');
    expect(await cache.xadd('m', 'MAXLEN', '0', '9-9', 'f', 'v')).toBe('9-9');
    expect(await cache.xlen('m')).toBe(0);
    expect(await cache.xadd('none', 'NOMKSTREAM', '*', 'f', 'v')).toBeNull();
    expect(await cache.exists('none')).toBe(0);
    await expect(cache.xtrim('s', 'MAXLEN', 1, 'LIMIT', 5)).rejects.toThrow(
      'ERR syntax error, LIMIT cannot be used without the special ~ option',
    );
  });

  it('XREAD: $ means after the last id, nothing is null, COUNT, BLOCK', async () => {
    await cache.xadd('s', '1-0', 'f', 'a');
    await cache.xadd('s', '2-0', 'f', 'b');
    expect(await cache.xread('STREAMS', 's', '$')).toBeNull();
    expect(await cache.xread('STREAMS', 's', '2-0')).toBeNull();
    expect(await cache.xread('COUNT', 1, 'STREAMS', 's', '0')).toEqual([
      ['s', [['1-0', ['f', 'a']]]],
    ]);
    // Reading does not consume: the same read answers the same.
    expect(await cache.xread('COUNT', 1, 'STREAMS', 's', '0')).toEqual([
      ['s', [['1-0', ['f', 'a']]]],
    ]);
    const blocked = cache.xread('BLOCK', 2000, 'STREAMS', 's', '$');
    await new Promise((resolve) => setTimeout(resolve, 30));
    await cache.xadd('s', '3-0', 'f', 'c');
    expect(await blocked).toEqual([['s', [['3-0', ['f', 'c']]]]]);
    expect(await cache.xread('BLOCK', 20, 'STREAMS', 's', '$')).toBeNull();
  });

  it('XREAD BLOCK: text methods get text, and a read blocked without limit is refused when its client disconnects', async () => {
    const reader = cache.duplicate();
    const blocked = reader.xread('BLOCK', 0, 'STREAMS', 's', '$');
    const blockedBuffers = reader.xreadBuffer('BLOCK', 2000, 'STREAMS', 's', '$');
    await new Promise((resolve) => setTimeout(resolve, 30));
    await cache.xadd('s', '5-0', 'f', Buffer.from('é'));
    expect(await blocked).toEqual([['s', [['5-0', ['f', 'é']]]]]);
    expect(await blockedBuffers).toEqual([
      [Buffer.from('s'), [[Buffer.from('5-0'), [Buffer.from('f'), Buffer.from('é')]]]],
    ]);
    const forever = reader.xread('BLOCK', 0, 'STREAMS', 's', '$');
    reader.disconnect();
    await expect(forever).rejects.toThrow('Connection is closed.');
  });

  it('COPY takes a stream with its last id, emptied or not', async () => {
    await cache.xadd('s', '5-1', 'f', 'a');
    await cache.xdel('s', '5-1');
    expect([
      await cache.copy('s', 'empty'),
      await cache.type('empty'),
      await cache.xlen('empty'),
    ]).toEqual([1, 'stream', 0]);
    await expect(cache.xadd('empty', '5-1', 'f', 'b')).rejects.toThrow(
      'ERR The ID specified in XADD is equal or smaller than the target stream top item',
    );
    await cache.xadd('s', '6-1', 'f', 'c');
    await cache.copy('s', 'full');
    await cache.xadd('s', '7-1', 'f', 'd'); // the copy is not the source
    expect(await cache.xrange('full', '-', '+')).toEqual([['6-1', ['f', 'c']]]);
  });

  it('WRONGTYPE both ways', async () => {
    await cache.set('str', 'x');
    await cache.xadd('s', '1-0', 'f', 'v');
    const wrong = 'WRONGTYPE Operation against a key holding the wrong kind of value';
    await expect(cache.xadd('str', '*', 'f', 'v')).rejects.toThrow(wrong);
    await expect(cache.xlen('str')).rejects.toThrow(wrong);
    await expect(cache.xrange('str', '-', '+')).rejects.toThrow(wrong);
    await expect(cache.xread('STREAMS', 'str', '0')).rejects.toThrow(wrong);
    await expect(cache.xdel('str', '1-0')).rejects.toThrow(wrong);
    await expect(cache.lpush('s', 'a')).rejects.toThrow(wrong);
    await expect(cache.get('s')).rejects.toThrow(wrong);
    await cache.xdel('s', '1-0'); // an empty stream is still a stream, not an empty list
    await expect(cache.lpush('s', 'a')).rejects.toThrow(wrong);
  });

  it('a restored stream answers as before: entries, last id, an emptied stream, RENAME', async () => {
    await cache.xadd('s', '1-1', 'f', 'v');
    await cache.xadd('s', '5-0', 'g', Buffer.from([0xff, 0x00]));
    await cache.xdel('s', '5-0');
    await cache.xadd('e', '7-7', 'f', 'v');
    await cache.xdel('e', '7-7');
    const t = (await cache.xadd('t', '*', 'f', 'v')) as string;
    await cache.rename('t', 't2');
    await cache.expire('s', 1000);
    await restart();
    expect(await cache.dbsize()).toBe(3);
    expect(await cache.xrange('s', '-', '+')).toEqual([['1-1', ['f', 'v']]]);
    await expect(cache.xadd('s', '5-0', 'f', 'v')).rejects.toThrow('equal or smaller');
    expect(await cache.xadd('s', '5-*', 'f', 'v')).toBe('5-1');
    expect(await cache.ttl('s')).toBeGreaterThan(900);
    expect(await cache.type('e')).toBe('stream');
    expect(await cache.xlen('e')).toBe(0);
    await expect(cache.xadd('e', '7-7', 'f', 'v')).rejects.toThrow('equal or smaller');
    expect(await cache.xrange('t2', '-', '+')).toEqual([[t, ['f', 'v']]]);
    const next = (await cache.xadd('t2', '*', 'f', 'w')) as string;
    const [a, b] = [idParts(t), idParts(next)];
    expect(b[0] > a[0] || (b[0] === a[0] && b[1] > a[1])).toBe(true);
  });
});

const redisServerBinary = findRedisServer(
  'stream commands against redis-server (streams.e2e-spec.ts)',
);
if (redisServerBinary !== null) {
  describe('streams: the embedded client and redis-server answer alike', () => {
    let server: RedisServer;
    let redis: Redis;
    let h: Harness;

    beforeAll(async () => {
      server = await startRedisServer(redisServerBinary);
      redis = server.client();
      h = await bootWith(durable(tempDir()));
    });
    afterAll(async () => {
      await h.app.close();
      redis.disconnect();
      await server.stop();
    });

    const script: (string | number)[][] = [
      ['xadd', 's', '1-1', 'f', 'v'],
      ['xadd', 's', '1-1', 'f', 'v'],
      ['xadd', 's', '1-*', 'f', 'v', 'g', 'w'],
      ['xadd', 's', 'MAXLEN', '=', 5, 'MINID', 1, '*', 'f', 'v'],
      ['xadd', 's', 'LIMIT', 5, '3-0', 'f', 'v'],
      ['xadd', 's', 'MAXLEN', '~', 1, 'LIMIT', 5, '3-0', 'f', 'v'],
      ['xadd', 's', 'MINID', '2', '4-0', 'f', 'v'],
      ['xadd', 's', 'nomkstream', '5', 'f', 'v'],
      ['xrange', 's', '-', '+'],
      ['xrange', 's', '(3-0', '+', 'COUNT', 5],
      ['xrange', 's', '-', '+', 'COUNT'],
      ['xrevrange', 's', '+', '(4', 'COUNT', -1],
      ['xtrim', 's', 'MAXLEN', -1],
      ['xtrim', 's', 'MAXLEN', 1, 'MINID', 3],
      ['xtrim', 's', 'LIMIT', 1],
      ['xtrim', 'missing', 'MAXLEN', 0],
      ['xtrim', 's', 'MAXLEN', 0],
      ['xlen', 's'],
      ['exists', 's'],
      ['xdel', 'missing', 'x'],
      ['xdel', 's', 'x'],
      ['xread', 'COUNT', 'x', 'STREAMS', 's', '0'],
      ['xread', 'STREAMS', 's', 'missing', '0', '$'],
      ['xread', 'STREAMS', 's', '0', '1'],
      ['xread', 'COUNT', 1, 's', '0'],
      ['xread', 'BLOCK', -1, 'STREAMS', 's', '0'],
      ['set', 'str', 'x'],
      ['xadd', 'str', '0-0', 'f', 'v'],
      ['xadd', 'str', '*', 'f', 'v'],
      ['xread', 'STREAMS', 's', 'str', 'x', '0'],
      ['type', 's'],
    ];

    async function answer(
      client: Redis,
      [command, ...args]: (string | number)[],
    ): Promise<unknown> {
      const method = (client as unknown as Record<string, (...a: string[]) => Promise<unknown>>)[
        String(command)
      ];
      try {
        return await method.apply(client, args.map(String));
      } catch (error) {
        return { error: (error as Error).message };
      }
    }

    it('answers each command of a script as redis-server does', async () => {
      for (const command of script) {
        expect([command, await answer(h.redis, command)]).toEqual([
          command,
          await answer(redis, command),
        ]);
      }
    });
  });
}
