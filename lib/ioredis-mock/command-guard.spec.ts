import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { commandRules } from './command-rules';
import { createEmbeddedClient } from './adapter';
import { Keyspace } from '../keyspace/keyspace';
import {
  INDEX_OUT_OF_RANGE,
  invalidExpireTime,
  NO_SUCH_KEY,
  NOT_AN_INTEGER,
  WRONGTYPE,
  wrongArity,
} from './redis-replies';

/**
 * The command rules as the embedded client applies them, wherever a command comes from: its methods (with a
 * callback or not, Buffer variants, object arguments), pipelines and transactions, duplicates. What Redis answers is
 * checked against a real redis-server in test/command-fidelity.e2e-spec.ts; here, that the rules are in front of
 * every way in, and that nothing is stored when they refuse.
 */

let keyspace: Keyspace;
let client: Redis;

beforeEach(async () => {
  keyspace = new Keyspace();
  client = createEmbeddedClient(keyspace);
  await client.rpush('l', 'a', 'b', 'c');
  await client.set('s', 'v');
});
afterEach(() => client.disconnect());

const list = (): unknown => keyspace.valueOf('l');

/** A command by name, with arguments ioredis's types do not take (lower-case options, Buffer variants). */
const send = (name: string, ...args: unknown[]): Promise<unknown> =>
  (client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name](...args);

describe('the command rules', () => {
  it('name only commands ioredis-mock has (a misspelt rule would guard nothing)', () => {
    const methods = client as unknown as Record<string, unknown>;
    for (const name of Object.keys(commandRules))
      expect([name, typeof methods[name]]).toEqual([name, 'function']);
  });

  it('refuse through the methods, and nothing is stored', async () => {
    await expect(client.lset('l', 3, 'x')).rejects.toThrow(INDEX_OUT_OF_RANGE);
    await expect(client.lset('nokey', 0, 'x')).rejects.toThrow(NO_SUCH_KEY);
    await expect(client.hset('l', '7', 'x')).rejects.toThrow(WRONGTYPE);
    await expect(client.hset('l', { length: 'x' })).rejects.toThrow(WRONGTYPE);
    await expect(send('hsetBuffer', 'l', '0', 'x')).rejects.toThrow(WRONGTYPE);
    await expect(client.hdel('l', '0')).rejects.toThrow(WRONGTYPE);
    await expect(client.sadd('l', 'x')).rejects.toThrow(WRONGTYPE);
    await expect(client.incr('l')).rejects.toThrow(WRONGTYPE);
    await expect(client.incr('s')).rejects.toThrow(NOT_AN_INTEGER);
    await expect(client.set('k', 'v', 'EX', 'abc')).rejects.toThrow(NOT_AN_INTEGER);
    await expect(client.set('k', 'v', 'EX', 0)).rejects.toThrow(invalidExpireTime('set'));
    await expect(client.setex('k', -1, 'v')).rejects.toThrow(invalidExpireTime('setex'));
    await expect(client.expire('s', Number.NaN)).rejects.toThrow(NOT_AN_INTEGER);
    await expect(client.pexpire('s', 1.5)).rejects.toThrow(NOT_AN_INTEGER);
    await expect(send('hset', 'h', 'f')).rejects.toThrow(wrongArity('hset'));
    expect(list()).toEqual(['a', 'b', 'c']);
    expect(keyspace.valueOf('s')).toBe('v');
    expect(keyspace.expiryOf('s')).toBeUndefined();
    expect(keyspace.has('k')).toBe(false);
    expect(keyspace.has('h')).toBe(false);
  });

  it('let the commands they allow run as ioredis-mock runs them', async () => {
    expect(await client.lset('l', -1, 'z')).toBe('OK');
    expect(await client.hset('h', { a: '1', b: '2' })).toBe(2);
    expect(await client.mset({ m1: 'x', m2: 'y' })).toBe('OK');
    expect(await send('set', 'k', 'v', 'ex', 100)).toBe('OK');
    expect(await client.incrby('n', 5)).toBe(5);
    expect(list()).toEqual(['a', 'b', 'z']);
    expect(keyspace.valueOf('h')).toEqual({ a: '1', b: '2' });
    expect(keyspace.valueOf('m2')).toBe('y');
    expect(keyspace.expiryOf('k')).toBeGreaterThan(Date.now() + 99_000);
  });

  it('answer a node-style callback too', async () => {
    const error = await new Promise<unknown>((resolve) => {
      void client.lset('l', 9, 'x', (err) => resolve(err)).catch(() => undefined);
    });
    expect(error).toEqual(new Error(INDEX_OUT_OF_RANGE));
    const answer = await new Promise<unknown>((resolve) => {
      void client.expire('nokey', 10, 'NX', (_err, reply) => resolve(reply));
    });
    expect(answer).toBe(0);
  });

  it('refuse inside transactions and pipelines, in the entry of the command refused', async () => {
    expect(await client.multi().lset('l', 5, 'x').exec()).toEqual([
      [new Error(INDEX_OUT_OF_RANGE)],
    ]);
    expect(await client.pipeline().hset('l', '7', 'x').set('p', '1').exec()).toEqual([
      [new Error(WRONGTYPE)],
      [null, 'OK'],
    ]);
    expect(await client.multi([['hsetnx', 'l', 'length', 'x']]).exec()).toEqual([
      [new Error(WRONGTYPE)],
    ]);
    expect(list()).toEqual(['a', 'b', 'c']);
    // A wrong number of arguments is found when MULTI queues the command: nothing runs.
    await expect(client.multi().set('q', '1').hset('h', 'f').exec()).rejects.toThrow(
      'EXECABORT Transaction discarded because of previous errors.',
    );
    expect(await client.exists('q')).toBe(0);
    expect(await client.pipeline().set('q', '1').hset('h', 'f').exec()).toEqual([
      [null, 'OK'],
      [new Error("ERR wrong number of arguments for 'hset' command")],
    ]);
    expect(
      await client
        .multi()
        .set('k', 'v', 'PX', 100_000)
        .expire('k', 10, 'GT')
        .lset('l', 0, 'x')
        .exec(),
    ).toEqual([
      [null, 'OK'],
      [null, 0],
      [null, 'OK'],
    ]);
    expect(keyspace.expiryOf('k')).toBeGreaterThan(Date.now() + 90_000);
  });

  it('keep a failure its own entry whatever ioredis-mock does to the reply (HGETALL rebuilds its reply)', async () => {
    expect(await client.multi().hgetall('l').hgetall('nokey').exec()).toEqual([
      [new Error(WRONGTYPE)],
      [null, {}],
    ]);
    expect(await client.pipeline().hgetallBuffer('s').exec()).toEqual([[new Error(WRONGTYPE)]]);
    await client.hset('h', 'error', 'x', '\0persistent-cache:failed', 'y');
    expect(await client.pipeline().hgetall('h').exec()).toEqual([
      [null, { error: 'x', '\0persistent-cache:failed': 'y' }],
    ]);
  });

  it('give each pipeline command its own callback, with its error, and the others their replies', async () => {
    const calls: unknown[][] = [];
    const replies = await client
      .pipeline()
      .lset('l', 9, 'x', (err, reply) => calls.push(['lset', err, reply]))
      .llen('l', (err, reply) => calls.push(['llen', err, reply]))
      .exec();
    await new Promise((resolve) => setImmediate(resolve));
    expect(replies).toEqual([[new Error(INDEX_OUT_OF_RANGE)], [null, 3]]);
    expect(calls).toEqual([
      ['lset', new Error(INDEX_OUT_OF_RANGE), undefined],
      ['llen', null, 3],
    ]);
  });

  it('take long argument lists (MSET of an object of 30,000 keys overflowed the stack)', async () => {
    const many = Object.fromEntries(Array.from({ length: 30_000 }, (_, i) => [`k${i}`, 'v']));
    expect(await client.mset(many)).toBe('OK');
    expect(await client.pipeline().mset(many).exec()).toEqual([[null, 'OK']]);
    const members = Array.from({ length: 30_000 }, (_, i) => Buffer.from(`m${i}`));
    expect(await client.sadd('big', members)).toBe(30_000);
    expect(await client.multi().srem('big', members).exec()).toEqual([[null, 30_000]]);
    expect(keyspace.valueOf('k29999')).toBe('v');
  });

  it('guard duplicates, which share the keyspace', async () => {
    const copy = client.duplicate();
    try {
      await expect(copy.hset('l', '7', 'x')).rejects.toThrow(WRONGTYPE);
      expect(await copy.multi().lset('l', 7, 'x').exec()).toEqual([
        [new Error(INDEX_OUT_OF_RANGE)],
      ]);
      expect(list()).toEqual(['a', 'b', 'c']);
    } finally {
      copy.disconnect();
    }
  });

  it('leave other ioredis-mock clients and their pipelines as they are', async () => {
    const plain = new RedisMock({ host: 'command-guard-spec', port: 1 });
    try {
      await plain.rpush('l', 'a');
      expect(await plain.multi().lset('l', 2, 'x').exec()).toEqual([[null, 'OK']]);
      expect(await plain.llen('l')).toBe(3); // a hole at index 1
    } finally {
      plain.disconnect();
    }
  });

  it('answer a Buffer method with bytes where a rule wrote the answer, a text method with text', async () => {
    await client.zadd('z', 1.5, 'a', 2, 'b');
    expect(await client.zpopminBuffer('z')).toEqual([Buffer.from('a'), Buffer.from('1.5')]);
    expect(await client.zpopmin('z')).toEqual(['b', '2']);
    expect(await send('incrbyfloatBuffer', 'n', '0.5')).toEqual(Buffer.from('0.5'));
    expect(await client.incrbyfloat('n', '0.25')).toBe('0.75');
    await client.set('t', 'text');
    expect(await client.multi().getdelBuffer('t').exec()).toEqual([[null, Buffer.from('text')]]);
  });

  it('run call() through the same rules, on a duplicate too', async () => {
    const copy = client.duplicate();
    try {
      await expect(copy.call('hset', 'l', '7', 'x')).rejects.toThrow(WRONGTYPE);
      expect(await copy.multi().call('lset', 'l', 7, 'x').exec()).toEqual([
        [new Error(INDEX_OUT_OF_RANGE)],
      ]);
      await expect(client.call('multi')).rejects.toThrow('use multi() and exec()');
      expect(list()).toEqual(['a', 'b', 'c']);
    } finally {
      copy.disconnect();
    }
  });

  it('fail a command ioredis-mock lacks through its promise, its callback or its pipeline entry, never by a throw', async () => {
    const unsupported = (name: string): string => `Unsupported command: "${name}"`;
    let located: Promise<unknown> | undefined;
    expect(() => (located = client.dump('geo'))).not.toThrow();
    await expect(located).rejects.toThrow(unsupported('dump'));
    const called = await new Promise((resolve) => {
      void send('xgroup', 'CREATE', 'geo', 'g', '$', (error: Error | null) =>
        resolve(error?.message),
      );
    });
    expect(called).toContain(unsupported('xgroup'));
    await expect(client.call('dump', 'geo')).rejects.toThrow(unsupported('dump'));
    const replies = await client.pipeline().set('k', '1').dump('geo').get('k').exec();
    expect(
      replies?.map(([error, reply]) => [
        error?.message.slice(0, unsupported('dump').length) ?? null,
        reply,
      ]),
    ).toEqual([[null, 'OK'], [unsupported('dump')], [null, '1']]);
    const copy = client.duplicate();
    try {
      await expect(copy.dump('geo')).rejects.toThrow(unsupported('dump'));
    } finally {
      copy.disconnect();
    }
  });

  it('refuse a pop blocked for ever once its client disconnects (as ioredis), and serve one waiting in a duplicate', async () => {
    const copy = client.duplicate();
    const forever = copy.brpop('queue', 0);
    const served = client.blpop('other', 0);
    await new Promise((resolve) => setTimeout(resolve, 20));
    copy.disconnect();
    await expect(forever).rejects.toThrow('Connection is closed.');
    await client.duplicate().lpush('other', 'job');
    expect(await served).toEqual(['other', 'job']);
    expect(keyspace.valueOf('other')).toBeUndefined();
  });

  it('keep a blocked pop waiting as Redis does: past a key of another type, not after its client left', async () => {
    const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
    const writer = client.duplicate();
    const gone = client.duplicate();
    try {
      // A client that disconnected takes nothing pushed after it left.
      const left = gone.blpop('jobs', 0);
      await pause(20);
      gone.disconnect();
      await writer.rpush('jobs', 'job');
      await expect(left).rejects.toThrow('Connection is closed.');
      expect(await writer.lrange('jobs', 0, -1)).toEqual(['job']);
      // A key that holds another type for a while is waited past, and popped once it is a list again.
      const waiting = client.blpop('retyped', 'other', 1);
      await pause(20);
      await writer.set('retyped', 'text');
      await pause(20);
      await writer.rpush('other', 'v');
      expect(await waiting).toEqual(['other', 'v']);
      // Connected again, a client blocks again.
      await gone.connect();
      const started = Date.now();
      expect(await gone.blpop('nothing', 0.05)).toBeNull();
      expect(Date.now() - started).toBeGreaterThanOrEqual(45);
      // The wrong number of arguments discards a transaction when the pop is queued.
      await expect(client.multi().set('k', '1').blpop('jobs').exec()).rejects.toThrow('EXECABORT');
      expect(await client.exists('k')).toBe(0);
      // BLMOVE may add memory: refused while memory is over the limit, as BLPOP is not.
      await client.config('SET', 'maxmemory', '1');
      await expect(client.blmove('jobs', 'done', 'LEFT', 'LEFT', 0)).rejects.toThrow('OOM');
      expect(await client.blpop('jobs', 0)).toEqual(['jobs', 'job']);
    } finally {
      gone.disconnect();
      writer.disconnect();
    }
  });

  it('give call() and a blocking pop queued in a pipeline their own callback, not an argument', async () => {
    const seen: [string, unknown][] = [];
    const note =
      (name: string) =>
      (error: Error | null, reply?: unknown): void => {
        seen.push([name, error?.message.slice(0, 19) ?? reply]);
      };
    const pipeline = client.pipeline() as unknown as Record<
      string,
      (...args: unknown[]) => unknown
    > & {
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    pipeline.blpop('l', 0, note('blpop'));
    pipeline.call('llen', 'l', note('llen'));
    pipeline.call('nosuchcommand', note('unknown'));
    const replies = await pipeline.exec();
    await new Promise((resolve) => setImmediate(resolve));
    expect(replies?.map(([error, reply]) => error?.message.slice(0, 19) ?? reply)).toEqual([
      ['l', 'a'],
      2,
      'ERR unknown command',
    ]);
    expect(seen.sort()).toEqual([
      ['blpop', ['l', 'a']],
      ['llen', 2],
      ['unknown', 'ERR unknown command'],
    ]);
  });

  it('let ioredis-mock refuse commands in subscriber mode with its own error', async () => {
    await client.subscribe('channel');
    await expect(client.hset('l', '7', 'x')).rejects.toThrow(/subscriber mode/);
  });
});

describe('Lua scripts, whose commands go through the rules too', () => {
  it('refuse a list with holes and a non-finite expiry time with Redis errors; nothing is stored', async () => {
    const lua = (script: string, ...keys: string[]) => client.eval(script, keys.length, ...keys);
    const lset = "return redis.call('LSET', KEYS[1], '5', 'x')";
    const sha = createHash('sha1').update(lset).digest('hex');
    await expect(lua(lset, 'l')).rejects.toThrow(
      `ERR index out of range script: ${sha}, on @user_script:1.`,
    );
    await expect(lua("return redis.call('HSET', KEYS[1], '7', 'x')", 'l')).rejects.toThrow(
      /^WRONGTYPE Operation against a key holding the wrong kind of value script: /,
    );
    await expect(lua("return redis.call('EXPIRE', KEYS[1], 'abc')", 's')).rejects.toThrow(
      /^ERR value is not an integer or out of range script: /,
    );
    await expect(lua("return redis.pcall('PEXPIREAT', KEYS[1], 'inf')", 's')).rejects.toThrow(
      /^ERR value is not an integer or out of range$/,
    );
    expect(list()).toEqual(['a', 'b', 'c']);
    expect(keyspace.expiryOf('s')).toBeUndefined();
  });
});

describe('memory while a script runs', () => {
  it('evicts before a script, never during it: its own writes stay, and its later writes are not refused', async () => {
    await client.set('before', 'v');
    await client.config('SET', 'maxmemory-policy', 'allkeys-random');
    await client.config('SET', 'maxmemory', String(keyspace.usedBytes + 60_000));
    const script =
      "for i = 1, 3 do redis.call('set', KEYS[i], string.rep('x', 100000)) end " +
      "return redis.call('exists', KEYS[1], KEYS[2], KEYS[3])";
    expect(await client.eval(script, 3, 'a', 'b', 'c')).toBe(3);
    expect(keyspace.usedBytes).toBeGreaterThan(keyspace.memory.maxBytes);
    expect(keyspace.oomRejections).toBe(0);
    // The next command evicts, as Redis's does before it runs.
    await client.set('after', 'v');
    expect(keyspace.usedBytes).toBeLessThanOrEqual(keyspace.memory.maxBytes);
    expect(await client.exists('a', 'b', 'c')).toBeLessThan(3);
  });

  it('counts a refused write of a script once, and the commands of a discarded transaction each', async () => {
    await client.set('k', 'v');
    await client.config('SET', 'maxmemory', '1');
    await expect(client.eval("return redis.call('set', 'k', 'x')", 0)).rejects.toThrow('OOM');
    expect(keyspace.oomRejections).toBe(1);
    await expect(client.multi().get('k').set('k', 'y').exec()).rejects.toThrow('EXECABORT');
    expect(keyspace.oomRejections).toBe(3);
    expect(await client.get('k')).toBe('v');
  });
});

describe('HGETALL, answered by its rule from the stored hash', () => {
  it('answers as ioredis-mock does, text and Buffer forms, in pipelines and transactions', async () => {
    const plain = new RedisMock({ host: 'hgetall-plain', port: 41999 });
    try {
      for (const c of [client, plain]) await c.hset('h', 'a', '1', '2', 'two', 'constructor', 'c');
      const forms = async (c: Redis): Promise<unknown[]> => [
        await c.hgetall('h'),
        await c.hgetallBuffer('h'),
        await c.hgetall('missing'),
        await c.pipeline().hgetall('h').hgetallBuffer('h').exec(),
        await c.multi().hgetall('missing').exec(),
      ];
      const ours = await forms(client);
      expect(ours).toEqual(await forms(plain));
      expect(ours[0]).toEqual({ a: '1', '2': 'two', constructor: 'c' });
      expect(ours[1]).toEqual({
        a: Buffer.from('1'),
        '2': Buffer.from('two'),
        constructor: Buffer.from('c'),
      });
    } finally {
      plain.disconnect();
    }
  });

  it('decodes stored bytes for the text form (as ioredis does), and hands out copies', async () => {
    await client.hset('h', 'a', '1', 'bin', Buffer.from([0xff, 0x01]));
    expect(await client.hgetall('h')).toEqual({
      a: '1',
      bin: Buffer.from([0xff, 0x01]).toString(),
    });
    const bytes = { a: Buffer.from('1'), bin: Buffer.from([0xff, 0x01]) };
    const got = await client.hgetallBuffer('h');
    expect(got).toEqual(bytes);
    got.bin[0] = 0x41;
    got.a = Buffer.from('changed');
    expect(await client.hgetallBuffer('h')).toEqual(bytes);
    await expect(client.hgetall('s')).rejects.toThrow(WRONGTYPE);
  });
});

describe('SMEMBERS and SCARD, answered by their rules from the stored set', () => {
  it('answer as ioredis-mock does, text and Buffer forms, in pipelines and transactions', async () => {
    const plain = new RedisMock({ host: 'smembers-plain', port: 41998 });
    try {
      for (const c of [client, plain]) await c.sadd('set', 'a', 'b', '3', 'constructor');
      const forms = async (c: Redis): Promise<unknown[]> => [
        await c.smembers('set'),
        await c.smembersBuffer('set'),
        await c.smembers('missing'),
        await c.scard('set'),
        await c.scard('missing'),
        await c.pipeline().smembers('set').smembersBuffer('set').scard('set').exec(),
        await c.multi().smembers('missing').scard('missing').exec(),
      ];
      const ours = await forms(client);
      expect(ours).toEqual(await forms(plain));
      expect(ours.slice(0, 5)).toEqual([
        ['a', 'b', '3', 'constructor'],
        ['a', 'b', '3', 'constructor'].map((m) => Buffer.from(m)),
        [],
        4,
        0,
      ]);
    } finally {
      plain.disconnect();
    }
  });

  it('decode stored bytes for the text form, hand out copies, and refuse other types', async () => {
    await client.sadd('set', 'a', Buffer.from([0xff, 0x01]));
    expect(await client.smembers('set')).toEqual(['a', Buffer.from([0xff, 0x01]).toString()]);
    const got = await client.smembersBuffer('set');
    expect(got).toEqual([Buffer.from('a'), Buffer.from([0xff, 0x01])]);
    got[1][0] = 0x41;
    expect(await client.smembersBuffer('set')).toEqual([
      Buffer.from('a'),
      Buffer.from([0xff, 0x01]),
    ]);
    expect(await client.sismember('set', Buffer.from([0xff, 0x01]))).toBe(1);
    await expect(client.smembers('s')).rejects.toThrow(WRONGTYPE);
    await expect(client.scard('l')).rejects.toThrow(WRONGTYPE);
  });
});

describe('call(), transforming as ioredis does under the name as spelt', () => {
  beforeEach(async () => {
    await client.hset('h', 'b', '1', 'a', '2');
  });

  it("answers HGETALL's flat array unless the name is `hgetall`", async () => {
    expect(await client.call('HGETALL', 'h')).toEqual(['b', '1', 'a', '2']);
    expect(await client.call('hgetall', 'h')).toEqual({ b: '1', a: '2' });
    expect(await client.callBuffer('HGETALL', 'h')).toEqual(
      ['b', '1', 'a', '2'].map((s) => Buffer.from(s)),
    );
    expect(await client.call('HGETALL', 'nokey')).toEqual([]);
    const told = await new Promise((resolve) => {
      void client.call('HgetAll', 'h', (_error: unknown, reply: unknown) => resolve(reply));
    });
    expect(told).toEqual(['b', '1', 'a', '2']);
  });

  it('does so in pipelines and transactions, entry by entry', async () => {
    const piped = await client
      .pipeline()
      .call('HGETALL', 'h')
      .hgetall('h')
      .callBuffer('HGETALL', 'h')
      .call('HGETALL', 's')
      .exec();
    expect(piped?.map(([error, reply]) => error?.message ?? reply)).toEqual([
      ['b', '1', 'a', '2'],
      { b: '1', a: '2' },
      ['b', '1', 'a', '2'].map((s) => Buffer.from(s)),
      WRONGTYPE,
    ]);
    const transaction = await client.multi().call('hgetall', 'h').call('HGETALL', 'h').exec();
    expect(transaction).toEqual([
      [null, { b: '1', a: '2' }],
      [null, ['b', '1', 'a', '2']],
    ]);
  });

  it('sends an object argument as its text unless the name is lower case', async () => {
    await expect(send('call', 'HSET', 'h2', { f: 1 })).rejects.toThrow(wrongArity('hset'));
    await send('call', 'MSET', 'k', { f: 1 });
    expect(await client.get('k')).toBe('[object Object]');
    await send('call', 'hset', 'h2', { f: 1 });
    expect(await client.hgetall('h2')).toEqual({ f: '1' });
  });
});

describe('OBJECT ENCODING of a string', () => {
  it('keeps the encoding the command that stored it gives it, until a write of a value', async () => {
    const encoding = (key: string): Promise<unknown> => client.object('ENCODING', key);
    await client.set('a', '12');
    await client.append('a', '3');
    expect(await encoding('a')).toBe('raw'); // Redis appends in place: `int` by its value
    await client.set('f', '5');
    await client.incrbyfloat('f', 1);
    expect(await encoding('f')).toBe('embstr'); // INCRBYFLOAT's new string: `int` by its value
    await client.rename('a', 'b');
    await client.copy('b', 'c');
    await client.expire('c', 100);
    expect([await encoding('b'), await encoding('c')]).toEqual(['raw', 'raw']);
    await client.set('b', '123');
    expect(await encoding('b')).toBe('int'); // a write of a value, equal or not, makes it anew
    await client.append('new', 'x');
    expect(await encoding('new')).toBe('embstr'); // APPEND that makes the key stores it as SET does
    await client.multi().setrange('t', 0, 'ab').setbit('u', 1, 1).exec();
    await client.eval("redis.call('pfadd', KEYS[1], 'x')", 1, 'h');
    expect([await encoding('t'), await encoding('u'), await encoding('h')]).toEqual([
      'raw',
      'raw',
      'raw',
    ]);
  });
});
