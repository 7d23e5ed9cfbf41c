import type { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { createEmbeddedClient } from './adapter';
import type { Capture } from '../keyspace/capture';
import { Keyspace } from '../keyspace/keyspace';
import { WRONGTYPE } from './redis-replies';

/**
 * The writes the rules do themselves (SET, INCR and its family, HSET, HMSET, LPUSH, RPUSH, ZADD: see `KeyWriter`),
 * and the guarded client's own pipeline class (`pipelines.ts`). Both replace work ioredis-mock did: each must leave
 * the keyspace, the TTLs and the replies as ioredis-mock's commands did, and be seen by everything that sees a write.
 */

let keyspace: Keyspace;
let client: Redis;
let plain: Redis;
let plainPort = 41000;

beforeEach(() => {
  keyspace = new Keyspace();
  client = createEmbeddedClient(keyspace);
  plain = new RedisMock({ host: 'rule-writes-plain', port: plainPort++ });
});
afterEach(() => {
  client.disconnect();
  plain.disconnect();
});

type Step = (c: Redis) => Promise<unknown>;

/** Replies, then every key's value and whether it has a TTL, on the embedded client and on plain ioredis-mock. */
async function both(steps: readonly Step[]): Promise<[unknown[], unknown[]]> {
  const run = async (c: Redis): Promise<unknown[]> => {
    const replies: unknown[] = [];
    for (const step of steps) replies.push(await step(c));
    const keys = (await c.keys('*')).sort();
    const state: unknown[] = [];
    for (const key of keys) {
      const type = await c.type(key);
      const value =
        type === 'string'
          ? await c.get(key)
          : type === 'hash'
            ? await c.hgetall(key)
            : type === 'list'
              ? await c.lrange(key, 0, -1)
              : await c.zrange(key, 0, -1, 'WITHSCORES');
      state.push([key, type, value, (await c.pttl(key)) > 0]);
    }
    return [replies, state];
  };
  return [await run(client), await run(plain)];
}

describe('the writes the rules do themselves', () => {
  it('store and answer what ioredis-mock stores and answers, and keep or drop the TTL as it does', async () => {
    const steps: Step[] = [
      (c) => c.set('s', 'one'),
      (c) => c.set('s', 'two'),
      (c) => c.set('n', '10', 'EX', 100),
      (c) => c.incr('n'),
      (c) => c.incrby('n', 5),
      (c) => c.decr('n'),
      (c) => c.decrby('n', 20),
      (c) => c.incr('fresh'),
      (c) => c.hset('h', 'a', '1', 'b', '2'),
      (c) => c.pexpire('h', 100_000),
      (c) => c.hset('h', 'b', '3', 'c', '4'),
      (c) => c.hmset('h', 'd', '5'),
      (c) => c.lpush('l', 'a', 'b', 'c'),
      (c) => c.pexpire('l', 100_000),
      (c) => c.rpush('l', 'd', 'e'),
      (c) => c.lpush('l', 'f'),
      (c) => c.rpush('r', 'x'),
      (c) => c.zadd('z', 2, 'b', 1, 'a', 1.5, 'c'),
      (c) => c.pexpire('z', 100_000),
      (c) => c.zadd('z', 3, 'a', 0, 'd'),
      (c) => c.zadd('z', 'NX', 9, 'a', 4, 'e'),
      (c) => c.set('h2', 'x', 'EX', 100),
      (c) => c.set('h2', 'plain again'), // SET drops the TTL
    ];
    const [embedded, reference] = await both(steps);
    expect(embedded).toEqual(reference);
    // The TTLs given above are still there, and SET's was dropped.
    expect(await client.pttl('n')).toBeGreaterThan(0);
    expect(await client.pttl('h')).toBeGreaterThan(0);
    expect(await client.pttl('l')).toBeGreaterThan(0);
    expect(await client.pttl('z')).toBeGreaterThan(0);
    expect(await client.pttl('h2')).toBe(-1);
    expect(embedded[0]).toEqual([
      ...['OK', 'OK', 'OK', 11, 16, 15, -5, 1, 2, 1, 1, 'OK', 3, 1, 5, 6, 1, 3, 1, 1, 1],
      ...['OK', 'OK'],
    ]);
  });

  it('SET … EX|PX|EXAT|PXAT: the value, and the expiry time ioredis-mock would set, from either unit', async () => {
    const now = Date.now();
    const inTenSeconds = Math.floor(now / 1000) + 10;
    expect(await client.set('ex', 'a', 'EX', 100)).toBe('OK');
    expect(await client.set('px', 'b', 'PX', 100_000)).toBe('OK');
    expect(await client.set('exat', 'c', 'EXAT', inTenSeconds)).toBe('OK');
    expect(await client.set('pxat', Buffer.from([0xff]), 'PXAT', now + 5_000)).toBe('OK');
    expect(keyspace.expiryOf('ex')).toBeGreaterThanOrEqual(now + 100_000);
    expect(keyspace.expiryOf('ex')).toBeLessThan(now + 101_000);
    expect(keyspace.expiryOf('px')).toBeGreaterThanOrEqual(now + 100_000);
    expect(keyspace.expiryOf('exat')).toBe(inTenSeconds * 1000);
    expect(keyspace.expiryOf('pxat')).toBe(now + 5_000);
    expect(await client.mget('ex', 'px', 'exat')).toEqual(['a', 'b', 'c']);
    expect(await client.getBuffer('pxat')).toEqual(Buffer.from([0xff]));
    // Replacing a key with a TTL by one with another: the new TTL only; then SET without one drops it.
    await client.set('ex', 'again', 'PX', 50_000);
    expect(keyspace.expiryOf('ex')).toBeLessThan(now + 60_000);
    await client.set('ex', 'forever');
    expect(await client.pttl('ex')).toBe(-1);
    // The options Redis refuses are still refused, and store nothing.
    await expect(client.set('bad', 'v', 'EX', 0)).rejects.toThrow("invalid expire time in 'set'");
    await expect(client.set('bad', 'v', 'EX', 'soon')).rejects.toThrow('not an integer');
    expect(await client.exists('bad')).toBe(0);
  });

  it('SET … EX still announces `expire` when notifications of generic events are on', async () => {
    expect(await client.config('SET', 'notify-keyspace-events', 'Eg')).toBe('OK');
    const subscriber = client.duplicate();
    const events: string[] = [];
    subscriber.on('message', (channel: string, key: string) => events.push(`${channel} ${key}`));
    try {
      await subscriber.subscribe('__keyevent@0__:expire');
      await client.set('announced', 'v', 'EX', 100);
      for (let i = 0; i < 50 && events.length === 0; i++)
        await new Promise((r) => setTimeout(r, 10));
      expect(events).toEqual(['__keyevent@0__:expire announced']);
      expect(await client.pttl('announced')).toBeGreaterThan(0);
    } finally {
      subscriber.disconnect();
    }
  });

  it('keep their checks: WRONGTYPE, and integers that are not small go the exact way', async () => {
    await client.set('s', 'text');
    await client.rpush('l', 'a');
    await expect(client.hset('l', 'f', 'v')).rejects.toThrow(WRONGTYPE);
    await expect(client.lpush('s', 'x')).rejects.toThrow(WRONGTYPE);
    await expect(client.zadd('s', 1, 'm')).rejects.toThrow(WRONGTYPE);
    await expect(client.incr('l')).rejects.toThrow(WRONGTYPE);
    await client.set('big', '9007199254740993');
    expect(await client.incr('big')).toBe(9007199254740994);
    expect(await client.get('big')).toBe('9007199254740994');
    expect(keyspace.valueOf('s')).toBe('text');
    expect(keyspace.valueOf('l')).toEqual(['a']);
  });

  it('store a copy of a Buffer value, never the caller’s Buffer', async () => {
    const bytes = Buffer.from([0xff, 0x00, 0x01]);
    expect(await client.set('b', bytes)).toBe('OK');
    bytes[0] = 0x41;
    expect(await client.getBuffer('b')).toEqual(Buffer.from([0xff, 0x00, 0x01]));
  });

  it('never change a hash or list a caller or an earlier read holds: each write stores a new object', async () => {
    await client.hset('h', 'a', '1');
    await client.rpush('l', 'a');
    const held = [keyspace.valueOf('h'), keyspace.valueOf('l')];
    const copies = held.map((v) => structuredClone(v));
    await client.hset('h', 'a', '2', 'b', '3');
    await client.lpush('l', 'b');
    expect(held).toEqual(copies);
    expect(await client.hgetall('h')).toEqual({ a: '2', b: '3' });
    expect(await client.lrange('l', 0, -1)).toEqual(['b', 'a']);
  });

  it('change a sorted set in place, and an open capture still reads it as it was', async () => {
    keyspace.replaceAll(new Map());
    await client.zadd('z', 1, 'a', 2, 'b');
    expect(await client.zrange('z', 0, -1)).toEqual(['a', 'b']); // its order is made, and kept from here
    const held = keyspace.valueOf('z');
    const capture = keyspace.beginCapture(false)!;
    await client.zadd('z', 5, 'a', 6, 'c');
    await client.zincrby('z', 10, 'b');
    await client.zadd('z', 'XX', 'CH', 7, 'c');
    expect(keyspace.valueOf('z')).toBe(held);
    const captured = new Map<string, unknown>();
    for (const _ of capture.read(
      { visit: (key, state) => void captured.set(key, state.value), visitDeleted: () => undefined },
      100,
    ))
      void _;
    capture.close();
    expect(captured.get('z')).toEqual(
      new Map([
        ['a', { score: 1, value: 'a' }],
        ['b', { score: 2, value: 'b' }],
      ]),
    );
    expect(await client.zrange('z', 0, -1, 'WITHSCORES')).toEqual(['a', '5', 'c', '7', 'b', '12']);
    expect(await client.zincrby('z', 1, 'new')).toBe('1');
    expect(await client.zrange('z', 0, 0, 'WITHSCORES')).toEqual(['new', '1']);
  });

  it('delete a value whose TTL has run out before SET stores a new one (counted as expired, as Redis does)', async () => {
    await client.set('k', 'old', 'PX', 1);
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(keyspace.expiredKeys).toBe(0);
    expect(await client.set('k', 'new')).toBe('OK');
    expect(keyspace.expiredKeys).toBe(1);
    expect(await client.get('k')).toBe('new');
    expect(await client.pttl('k')).toBe(-1);
  });

  it('are seen by WATCH, from another client of the keyspace', async () => {
    const other = client.duplicate();
    try {
      for (const write of [
        (c: Redis) => c.set('w', 'x'),
        (c: Redis) => c.incr('w:n'),
        (c: Redis) => c.hset('w:h', 'f', 'v'),
        (c: Redis) => c.lpush('w:l', 'v'),
        (c: Redis) => c.zadd('w:z', 1, 'm'),
      ]) {
        const key = ['w', 'w:n', 'w:h', 'w:l', 'w:z'][await client.dbsize()];
        await client.watch(key);
        await write(other);
        expect([key, await client.multi().get('unrelated').exec()]).toEqual([key, null]);
      }
    } finally {
      other.disconnect();
    }
  });

  it('and TTL changes are seen by WATCH as Redis signals them; EXEC unwatches every key', async () => {
    const other = client.duplicate();
    try {
      const cases: [string, (c: Redis) => Promise<unknown>, boolean][] = [
        ['t:expire', (c) => c.expire('t:expire', 100), true],
        ['t:pexpire', (c) => c.pexpire('t:pexpire', 100_000), true],
        ['t:persist', (c) => c.persist('t:persist'), true],
        ['t:getex', (c) => c.getex('t:getex', 'PX', 5_000), true],
        // PERSIST of a key without a TTL changes nothing: the transaction runs.
        ['t:plain', (c) => c.persist('t:plain'), false],
      ];
      for (const [key, change, aborts] of cases) {
        await (key === 't:persist' ? client.set(key, 'v', 'EX', 100) : client.set(key, 'v'));
        await client.watch(key);
        await change(other);
        const replies = await client.multi().set(key, 'mine').exec();
        expect([key, replies]).toEqual([key, aborts ? null : [[null, 'OK']]]);
      }
      // A transaction's own writes do not abort the next one: EXEC unwatched its keys, as Redis does.
      await client.watch('own');
      expect(await client.multi().set('own', 'x').exec()).toEqual([[null, 'OK']]);
      await client.watch('own');
      expect(await client.multi().set('own', 'y').exec()).toEqual([[null, 'OK']]);
      // A key watched before the last EXEC is not watched after it.
      await client.watch('old');
      await client.multi().get('unrelated').exec();
      await other.set('old', 'changed');
      expect(await client.multi().set('old', 'z').exec()).toEqual([[null, 'OK']]);
      expect(await client.get('old')).toBe('z');
    } finally {
      other.disconnect();
    }
  });

  it('FLUSHALL and FLUSHDB abort a watcher of a key they delete; WATCH inside MULTI is refused, not queued', async () => {
    const other = client.duplicate();
    try {
      for (const flush of [(c: Redis) => c.flushall(), (c: Redis) => c.flushdb()]) {
        await client.set('f', 'v');
        await client.watch('f');
        await flush(other);
        expect(await client.multi().set('f', 'x').exec()).toBeNull();
      }
      // A watched key that was not there is not touched by a flush.
      await client.set('g', 'v');
      await client.watch('absent');
      await other.flushall();
      expect(await client.multi().set('absent', 'x').exec()).toEqual([[null, 'OK']]);
      const errors: unknown[] = [];
      const replies = await client
        .multi()
        .watch('w', (error) => errors.push(error?.message))
        .set('w', 'x')
        .exec();
      await new Promise((resolve) => setImmediate(resolve));
      expect(replies).toEqual([[null, 'OK']]);
      expect(errors).toEqual(['ERR WATCH inside MULTI is not allowed']);
    } finally {
      other.disconnect();
    }
  });

  it('publish expired keys while the client itself is subscribed; CONFIG GET gives Redis form', async () => {
    const listener = client.duplicate();
    try {
      const events: string[] = [];
      listener.on('pmessage', (_pattern: string, channel: string, message: string) =>
        events.push(`${channel} ${message}`),
      );
      await listener.psubscribe('__key*__:*');
      await client.config('SET', 'notify-keyspace-events', 'KEA');
      expect(await client.config('GET', 'notify-keyspace-events')).toEqual([
        'notify-keyspace-events',
        'AKE',
      ]);
      await client.config('SET', 'notify-keyspace-events', 'Ex');
      expect(await client.config('GET', 'notify-keyspace-events')).toEqual([
        'notify-keyspace-events',
        'xE',
      ]);
      const writer = client.duplicate();
      await writer.set('soon', 'v', 'PX', 10);
      await client.subscribe('elsewhere'); // the client the keyspace publishes through is now a subscriber
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(await writer.get('soon')).toBeNull(); // expired as it is looked up
      await new Promise((resolve) => setImmediate(resolve));
      expect(events).toEqual(['__keyevent@0__:expired soon']);
      writer.disconnect();
    } finally {
      listener.disconnect();
    }
  });

  it('keep the bytes of a binary string: APPEND of text to it, and GETEX of it as bytes', async () => {
    const bytes = Buffer.from([0xff, 0x00, 0x80, 0x41]);
    await client.set('bin', bytes);
    expect(await client.append('bin', 'z')).toBe(5);
    expect(await client.getBuffer('bin')).toEqual(Buffer.from([0xff, 0x00, 0x80, 0x41, 0x7a]));
    expect(await client.strlen('bin')).toBe(5);
    await client.set('text', 'txt');
    expect(await client.append('text', Buffer.from([0xfe]))).toBe(4);
    expect(await client.getBuffer('text')).toEqual(Buffer.from([0x74, 0x78, 0x74, 0xfe]));
    expect(await client.append('new', Buffer.from([0xfe, 0x01]))).toBe(2);
    expect(await client.getBuffer('new')).toEqual(Buffer.from([0xfe, 0x01]));
    await client.set('text2', 'ab');
    expect(await client.append('text2', 'cé')).toBe(5);
    expect(await client.get('text2')).toBe('abcé');
    await client.set('g', bytes);
    expect(await client.getexBuffer('g', 'EX', 100)).toEqual(bytes);
    expect(await client.ttl('g')).toBe(100);
    expect(await client.getBuffer('g')).toEqual(bytes);
  });

  it('never hand out a stored Buffer, nor keep a caller’s: changing one changes no stored value', async () => {
    const bytes = (): Buffer => Buffer.from([0xff, 0x00, 0x80, 0x41]);
    const second = createEmbeddedClient(new Keyspace());
    try {
      const fill = async (): Promise<void> => {
        await client.flushall();
        await client.sadd('s', bytes());
        await client.zadd('z', 1, bytes());
        await client.rpush('l', bytes(), bytes());
        await client.hset('h', 'f', bytes());
        await second.flushall();
        await second.zadd('z', 1, bytes()); // the same bytes in another keyspace share one canonical Buffer
      };
      const intact = async (): Promise<boolean> =>
        (await client.sismember('s', bytes())) === 1 &&
        (await client.zscore('z', bytes())) === '1' &&
        (await second.zscore('z', bytes())) === '1' &&
        (await client.lindexBuffer('l', 0))?.equals(bytes()) === true &&
        (await client.hgetBuffer('h', 'f'))?.equals(bytes()) === true;
      const reads: [string, () => Promise<unknown>][] = [
        ['zrangeBuffer', () => client.zrangeBuffer('z', 0, -1)],
        ['zrangebyscoreBuffer', () => client.zrangebyscoreBuffer('z', '-inf', '+inf')],
        ['zrevrangeBuffer', () => client.zrevrangeBuffer('z', 0, -1)],
        ['zrandmemberBuffer', () => client.zrandmemberBuffer('z')],
        ['zunionBuffer', () => client.zunionBuffer(1, 'z')],
        ['smembersBuffer', () => client.smembersBuffer('s')],
        ['srandmemberBuffer', () => client.srandmemberBuffer('s')],
        ['sinterBuffer', () => client.sinterBuffer('s')],
        ['lrangeBuffer', () => client.lrangeBuffer('l', 0, -1)],
        ['sortBuffer', () => client.callBuffer('sort', 'l', 'ALPHA')],
        ['hvalsBuffer', () => client.hvalsBuffer('h')],
        ['hrandfieldBuffer', () => client.hrandfieldBuffer('h', 1, 'WITHVALUES')],
        ['pipeline', async () => (await client.pipeline().zrangeBuffer('z', 0, -1).exec())?.[0][1]],
        ['multi', async () => (await client.multi().srandmemberBuffer('s').exec())?.[0][1]],
        ['callBuffer', () => client.callBuffer('zrange', 'z', '0', '-1')],
      ];
      await fill();
      for (const [name, read] of reads) {
        const got = [await read()].flat(3).filter((b): b is Buffer => Buffer.isBuffer(b));
        expect([name, got.length > 0]).toEqual([name, true]);
        for (const b of got) b.fill(0x22);
        expect([name, await intact()]).toEqual([name, true]);
      }
      for (const write of [
        (b: Buffer) => client.hset('h2', 'a', b),
        (b: Buffer) => client.hsetnx('h2', 'a', b),
        (b: Buffer) => client.hmset('h2', { a: b }),
      ]) {
        await client.del('h2');
        const given = bytes();
        await write(given);
        given.fill(0x5a);
        expect(await client.hgetBuffer('h2', 'a')).toEqual(bytes());
      }
    } finally {
      second.disconnect();
    }
  });

  it('deliver every published message as text and as bytes, as ioredis emits them', async () => {
    const subscriber = client.duplicate();
    try {
      const seen: string[] = [];
      const show = (value: unknown): string =>
        Buffer.isBuffer(value) ? `<${value.toString('hex')}>` : String(value);
      for (const event of ['message', 'messageBuffer', 'pmessage', 'pmessageBuffer']) {
        subscriber.on(event, (...args: unknown[]) =>
          seen.push([event, ...args.map(show)].join(' ')),
        );
      }
      await subscriber.subscribe('ch');
      await subscriber.psubscribe('c?');
      await client.publish('ch', 'text');
      await client.publish('ch', Buffer.from([0xff, 0x41]));
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(seen.sort()).toEqual([
        'message ch text',
        'message ch \ufffdA',
        'messageBuffer <6368> <74657874>',
        'messageBuffer <6368> <ff41>',
        'pmessage c? ch text',
        'pmessage c? ch \ufffdA',
        'pmessageBuffer c? <6368> <74657874>',
        'pmessageBuffer c? <6368> <ff41>',
      ]);
    } finally {
      subscriber.disconnect();
    }
  });

  it('are changes the next incremental capture reads', async () => {
    keyspace.replaceAll(new Map()); // from here the keyspace tells what changed
    await client.set('a', '1');
    await client.set('untouched', '1');
    const read = (capture: Capture): string[] => {
      const keys: string[] = [];
      const visit = (key: string): void => void keys.push(key);
      for (const _ of capture.read({ visit, visitDeleted: visit }, 100)) void _;
      capture.close();
      return keys.sort();
    };
    expect(read(keyspace.beginCapture(true)!)).toEqual(['a', 'untouched']);
    await client.set('a', '2');
    await client.incr('n');
    await client.hset('h', 'f', 'v');
    await client.lpush('l', 'v');
    await client.zadd('z', 1, 'm');
    expect(read(keyspace.beginCapture(true)!)).toEqual(['a', 'h', 'l', 'n', 'z']);
  });
});

describe("the guarded client's pipelines", () => {
  it('queue and answer as ioredis-mock’s, with batches given to pipeline() and multi()', async () => {
    const pipeline = client
      .pipeline([
        ['set', 'a', '1'],
        ['incr', 'a'],
      ])
      .get('a');
    expect(pipeline.length).toBe(3);
    expect(await pipeline.exec()).toEqual([
      [null, 'OK'],
      [null, 2],
      [null, '2'],
    ]);
    expect(
      await client
        .multi([
          ['hset', 'h', 'f', 'v'],
          ['hget', 'h', 'f'],
        ])
        .exec(),
    ).toEqual([
      [null, 1],
      [null, 'v'],
    ]);
  });

  it('apply the rules: a failing command fails in its entry, a transaction refused when queued runs nothing', async () => {
    await client.set('s', 'text');
    const replies = await client.pipeline().lpush('s', 'x').set('ok', '1').exec();
    expect(replies?.[0][0]).toMatchObject({ message: WRONGTYPE });
    expect(replies?.[1]).toEqual([null, 'OK']);
    const transaction = client.multi().set('t', '1');
    (transaction as unknown as Record<string, (...a: unknown[]) => unknown>).get('a', 'b');
    await expect(transaction.exec()).rejects.toThrow('EXECABORT');
    expect(await client.exists('t')).toBe(0);
  });

  it('know commands defined after the client was made, and the client’s exec() runs its current transaction', async () => {
    await client.pipeline().set('before', '1').exec();
    client.defineCommand('getTwice', {
      numberOfKeys: 1,
      lua: "return {redis.call('get', KEYS[1]), redis.call('get', KEYS[1])}",
    });
    await client.set('k', 'v');
    const custom = client.pipeline() as unknown as {
      getTwice(key: string): { exec(): Promise<unknown> };
    };
    expect(await custom.getTwice('k').exec()).toEqual([[null, ['v', 'v']]]);
    client.multi().set('via-client', 'x');
    expect(await client.exec()).toEqual([[null, 'OK']]);
    expect(await client.get('via-client')).toBe('x');
  });

  it('run the commands ioredis-mock lacks and a rule answers (XTRIM, XDEL) with their arguments', async () => {
    await client.xadd('xs', '1-1', 'f', 'v');
    await client.xadd('xs', '2-1', 'f', 'v');
    await client.xadd('xs', '3-1', 'f', 'v');
    expect(await client.pipeline().xtrim('xs', 'MAXLEN', 2).xlen('xs').exec()).toEqual([
      [null, 1],
      [null, 2],
    ]);
    expect(await client.multi().xdel('xs', '2-1').xlen('xs').exec()).toEqual([
      [null, 1],
      [null, 1],
    ]);
    expect(await client.multi().call('XTRIM', 'xs', 'MAXLEN', '0').exec()).toEqual([[null, 1]]);
    expect(await client.xlen('xs')).toBe(0);
  });

  it('of a duplicate are guarded too, and write the same keyspace', async () => {
    const copy = client.duplicate();
    try {
      await copy.set('s', 'text');
      const replies = await copy.pipeline().hset('s', 'f', 'v').rpush('l', 'a').exec();
      expect(replies?.[0][0]).toMatchObject({ message: WRONGTYPE });
      expect(replies?.[1]).toEqual([null, 1]);
      expect(keyspace.valueOf('l')).toEqual(['a']);
    } finally {
      copy.disconnect();
    }
  });
});
