import type { Redis } from 'ioredis';
import { createEmbeddedClient } from './adapter';
import type { KeyState } from '../format/records';
import { Keyspace } from '../keyspace/keyspace';
import { storedStates } from '../../test/support/keyspace-states';
import {
  bytesToMock,
  formatScore,
  fromPortable,
  isStreamHelper,
  kindOf,
  mockStreamIdToRedis,
  MockValueError,
  parseScore,
  toPortable,
  type PortableValue,
} from './mock-values';
import { INVALID_STREAM_ID, XADD_ID_TOO_SMALL, XADD_ID_ZERO } from './rules/streams';
import { StreamValue } from '../keyspace/streams';

/** A fresh embedded client (real ioredis-mock) over its own keyspace. */
function fresh(): { keyspace: Keyspace; redis: Redis } {
  const keyspace = new Keyspace();
  return { keyspace, redis: createEmbeddedClient(keyspace) };
}

const clients: Redis[] = [];
function client(): { keyspace: Keyspace; redis: Redis } {
  const c = fresh();
  clients.push(c.redis);
  return c;
}
afterAll(() => {
  for (const c of clients) c.disconnect();
});

function stored(keyspace: Keyspace, key: string): unknown {
  return keyspace.valueOf(key);
}

/** Converts every key of `from` to portable and back into a new keyspace, as export + import do. */
function roundTrip(from: Keyspace): { keyspace: Keyspace; redis: Redis } {
  const states = new Map<string, KeyState>();
  for (const [key, state] of storedStates(from)) {
    const portable = toPortable(key, state.value);
    if (portable === undefined) continue;
    states.set(key, { value: fromPortable(portable), expiresAt: state.expiresAt });
  }
  const target = client();
  target.keyspace.replaceAll(states);
  return target;
}

describe('ioredis-mock 8.13.1 value shapes (checked against the real library)', () => {
  it('strings are JS strings (numbers as text) or Buffers', async () => {
    const { keyspace, redis } = client();
    await redis.set('text', 'héllo');
    await redis.set('number', 42);
    await redis.set('bytes', Buffer.from([0xff, 0x00]));
    expect(stored(keyspace, 'text')).toBe('héllo');
    expect(stored(keyspace, 'number')).toBe('42');
    expect(stored(keyspace, 'bytes')).toEqual(Buffer.from([0xff, 0x00]));
    expect(await redis.type('bytes')).toBe('string'); // ioredis-mock's own TYPE answers undefined
    for (const key of ['text', 'number', 'bytes']) {
      expect(kindOf(key, stored(keyspace, key))).toBe('string');
    }
    expect(toPortable('bytes', stored(keyspace, 'bytes'))).toEqual({
      type: 'string',
      value: Buffer.from([0xff, 0x00]),
    });
  });

  it('hashes are plain objects with string field names', async () => {
    const { keyspace, redis } = client();
    await redis.hset('h', 'a', 1, Buffer.from('b'), Buffer.from([0xfe]));
    expect(stored(keyspace, 'h')).toEqual({ a: '1', b: Buffer.from([0xfe]) });
    expect(kindOf('h', stored(keyspace, 'h'))).toBe('hash');
    expect(toPortable('h', stored(keyspace, 'h'))).toEqual({
      type: 'hash',
      fields: [
        ['a', '1'],
        ['b', Buffer.from([0xfe])],
      ],
    });
  });

  it('lists are arrays, sets are Sets, sorted sets are Maps of { score, value }', async () => {
    const { keyspace, redis } = client();
    await redis.rpush('l', 'a', Buffer.from([0xff]), 'a');
    await redis.sadd('s', 'x', 'y');
    await redis.zadd('z', 1.5, 'a', Infinity, 'b', '-inf', 'c');
    expect(stored(keyspace, 'l')).toEqual(['a', Buffer.from([0xff]), 'a']);
    expect(stored(keyspace, 's')).toEqual(new Set(['x', 'y']));
    expect(stored(keyspace, 'z')).toEqual(
      new Map([
        ['a', { score: 1.5, value: 'a' }],
        ['b', { score: Infinity, value: 'b' }],
        ['c', { score: -Infinity, value: 'c' }], // ioredis-mock's own ZADD stores '-inf' as NaN
      ]),
    );
    expect(kindOf('l', stored(keyspace, 'l'))).toBe('list');
    expect(kindOf('s', stored(keyspace, 's'))).toBe('set');
    expect(kindOf('z', stored(keyspace, 'z'))).toBe('zset');
    expect(() => toPortable('z', new Map([['c', { score: NaN, value: 'c' }]]))).toThrow(
      /score NaN/,
    );
    await redis.zrem('z', 'c');
    expect(toPortable('z', stored(keyspace, 'z'))).toEqual({
      type: 'zset',
      members: [
        ['a', 1.5],
        ['b', Infinity],
      ],
    });
  });

  it('an emptied sorted set is deleted, as Redis deletes it (ioredis-mock would keep an empty Map)', async () => {
    const { keyspace, redis } = client();
    await redis.zadd('z', 1, 'a');
    await redis.zrem('z', 'a');
    expect(stored(keyspace, 'z')).toBeUndefined();
    expect(await redis.exists('z')).toBe(0);
    expect(toPortable('z', new Map())).toBeUndefined();
  });

  it('streams are StreamValues: entries with Redis ids and the last id, and no helper keys', async () => {
    const { keyspace, redis } = client();
    expect(await redis.xadd('s', '1700000000000-5', 'f', Buffer.from([0xff]))).toBe(
      '1700000000000-5',
    );
    expect(await redis.xadd('s', '1700000000001', 'g', 'w')).toBe('1700000000001-0');
    const before = Date.now();
    const generated = await redis.xadd('s', '*', 'f', 'v');
    const after = Date.now();
    const [ms, seq] = (generated as string).split('-').map(Number);
    expect(seq).toBe(0);
    expect(ms).toBeGreaterThanOrEqual(before);
    expect(ms).toBeLessThanOrEqual(after);
    expect(await redis.type('s')).toBe('stream'); // ioredis-mock's own TYPE says list
    const value = stored(keyspace, 's');
    expect(value).toBeInstanceOf(StreamValue);
    expect([...(value as StreamValue)]).toEqual([
      ['1700000000000-5', ['f', Buffer.from([0xff])]],
      ['1700000000001-0', ['g', 'w']],
      [generated, ['f', 'v']],
    ]);
    expect((value as StreamValue).lastId).toBe(generated);
    // ioredis-mock's XADD would have stored `stream:s:<id>` beside each entry; the keyspace holds only the stream.
    expect(storedStates(keyspace).map(([key]) => key)).toEqual(['s']);
    expect(kindOf('s', value)).toBe('stream');
    expect(toPortable('s', value)).toEqual({
      type: 'stream',
      entries: [
        { id: '1700000000000-5', fields: ['f', Buffer.from([0xff])] },
        { id: '1700000000001-0', fields: ['g', 'w'] },
        { id: generated, fields: ['f', 'v'] },
      ],
    });
  });

  it('a stream keeps its last id when its last entries are deleted, and stays a key when emptied', async () => {
    const { keyspace, redis } = client();
    await redis.xadd('s', '5-1', 'f', 'v');
    await redis.xadd('s', '7-3', 'f', 'w');
    expect(await redis.xdel('s', '7-3')).toBe(1);
    // The last id is above the last entry's, so the portable form carries it.
    expect(toPortable('s', stored(keyspace, 's'))).toEqual({
      type: 'stream',
      entries: [{ id: '5-1', fields: ['f', 'v'] }],
      lastId: '7-3',
    });
    expect(await redis.xdel('s', '5-1')).toBe(1);
    expect(await redis.exists('s')).toBe(1);
    expect(await redis.xlen('s')).toBe(0);
    expect(toPortable('s', stored(keyspace, 's'))).toEqual({
      type: 'stream',
      entries: [],
      lastId: '7-3',
    });
    // The stream's ids still increase past the deleted ones.
    await expect(redis.xadd('s', '7-3', 'f', 'v')).rejects.toThrow(XADD_ID_TOO_SMALL);
    expect(await redis.xadd('s', '7-*', 'f', 'v')).toBe('7-4');
  });

  it('every type converts to portable and back to what ioredis-mock serves identically', async () => {
    const { keyspace, redis } = client();
    await redis.set('str', 'text');
    await redis.set('bin', Buffer.from([0, 0xff]));
    await redis.hset('hash', 'f', 'v', 'g', Buffer.from([0xff]));
    await redis.rpush('list', 'a', 'b', 'a');
    await redis.sadd('set', 'a', 'b');
    await redis.zadd('zset', 2, 'b', 1, 'a', -Infinity, 'm');
    await redis.xadd('stream', '5', 'f', 'v');
    await redis.xadd('stream', '6-1', 'f', 'w');
    await redis.xadd('emptied', '9-9', 'f', 'v');
    await redis.xdel('emptied', '9-9');
    await redis.pexpire('str', 60_000);
    const copy = roundTrip(keyspace);
    const r = copy.redis;
    expect(await r.get('str')).toBe('text');
    expect(copy.keyspace.expiryOf('str')).toBe(keyspace.expiryOf('str'));
    expect(await r.getBuffer('bin')).toEqual(Buffer.from([0, 0xff]));
    expect(await r.hgetall('hash')).toEqual(await redis.hgetall('hash'));
    expect(await r.hgetallBuffer('hash')).toEqual({ f: Buffer.from('v'), g: Buffer.from([0xff]) });
    expect(await r.lrange('list', 0, -1)).toEqual(['a', 'b', 'a']);
    expect((await r.smembers('set')).sort()).toEqual(['a', 'b']);
    expect(await r.zrange('zset', 0, -1, 'WITHSCORES')).toEqual(
      await redis.zrange('zset', 0, -1, 'WITHSCORES'),
    );
    expect(await r.xrange('stream', '-', '+')).toEqual(await redis.xrange('stream', '-', '+'));
    expect(await r.xlen('stream')).toBe(2);
    expect(await r.xread('STREAMS', 'stream', '0')).toEqual([
      [
        'stream',
        [
          ['5-0', ['f', 'v']],
          ['6-1', ['f', 'w']],
        ],
      ],
    ]);
    // The next generated id follows the last one, as it would have in the original.
    expect(await r.xadd('stream', '6-*', 'f', 'x')).toBe('6-2');
    // An emptied stream comes back empty, with its last id.
    expect(await r.exists('emptied')).toBe(1);
    expect(await r.xlen('emptied')).toBe(0);
    expect((stored(copy.keyspace, 'emptied') as StreamValue).lastId).toBe('9-9');
    await expect(r.xadd('emptied', '9-9', 'f', 'v')).rejects.toThrow(XADD_ID_TOO_SMALL);
  });

  it('XADD refuses the ids Redis refuses, and creates no key for them', async () => {
    const { keyspace, redis } = client();
    await expect(redis.xadd('named', 'abc', 'f', 'v')).rejects.toThrow(INVALID_STREAM_ID);
    await expect(redis.xadd('zero', '0', 'f', 'v')).rejects.toThrow(XADD_ID_ZERO);
    await redis.xadd('backwards', '9', 'f', 'v');
    await expect(redis.xadd('backwards', '3', 'f', 'v')).rejects.toThrow(XADD_ID_TOO_SMALL);
    expect(storedStates(keyspace).map(([key]) => key)).toEqual(['backwards']);
    expect(await redis.xrange('backwards', '-', '+')).toEqual([['9-0', ['f', 'v']]]);
  });

  it('a stored stream with an id Redis cannot take is refused with the key and reason', () => {
    // What ioredis-mock's XADD stored (restored from a snapshot written before streams were corrected).
    expect(() => toPortable('named', [['abc-0', ['f', 'v']]])).toThrow(
      /key "named": stream entry ID "abc-0" has no Redis equivalent/,
    );
    expect(() =>
      toPortable('backwards', [
        ['9-0', ['f', 'v']],
        ['3-0', ['f', 'v']],
      ]),
    ).toThrow(/IDs do not increase \(9-0 then 3-0\)/);
    expect(() => toPortable('zero', [['0-0', ['f', 'v']]])).toThrow(/0-0/);
    // A StreamValue holds Redis's form: ioredis-mock's `<ms>-<seq>-0` is not one.
    expect(() => toPortable('mock', StreamValue.make([['1-1-0', ['f', 'v']]], '1-1-0'))).toThrow(
      /key "mock": stream entry ID "1-1-0" has no Redis equivalent/,
    );
    // ioredis-mock's own ids are translated.
    expect(toPortable('old', [['1-1-0', ['f', 'v']]])).toEqual({
      type: 'stream',
      entries: [{ id: '1-1', fields: ['f', 'v'] }],
    });
  });
});

describe('mock-values helpers', () => {
  it('maps the stream IDs ioredis-mock stored to Redis', () => {
    expect(mockStreamIdToRedis('7-0')).toBe('7-0');
    expect(mockStreamIdToRedis('1-1-0')).toBe('1-1');
    expect(mockStreamIdToRedis('7-0-0')).toBe('7-0');
    expect(mockStreamIdToRedis('abc-0')).toBeUndefined();
    expect(mockStreamIdToRedis('5-*-0')).toBeUndefined();
    expect(mockStreamIdToRedis(`${2n ** 64n}-0`)).toBeUndefined();
    expect(mockStreamIdToRedis(`${2n ** 64n - 1n}-0`)).toBe(`${2n ** 64n - 1n}-0`);
    expect(mockStreamIdToRedis(`1-${2n ** 64n - 1n}-0`)).toBe(`1-${2n ** 64n - 1n}`);
    expect(mockStreamIdToRedis(' 1-0')).toBeUndefined();
  });

  it('parses and formats scores as Redis does', () => {
    expect(parseScore('inf')).toBe(Infinity);
    expect(parseScore('+inf')).toBe(Infinity);
    expect(parseScore('-inf')).toBe(-Infinity);
    expect(parseScore('1.5')).toBe(1.5);
    expect(parseScore('0.10000000000000001')).toBe(0.1);
    expect(() => parseScore('nan')).toThrow(/not a sorted-set score/);
    expect(() => parseScore('')).toThrow(/not a sorted-set score/);
    expect(formatScore(Infinity)).toBe('+inf');
    expect(formatScore(-Infinity)).toBe('-inf');
    expect(formatScore(1e300)).toBe('1e+300');
    expect(() => formatScore(NaN)).toThrow(/NaN/);
  });

  it('keeps UTF-8 text as strings and other bytes as Buffers', () => {
    expect(bytesToMock(Buffer.from('héllo ✓'))).toBe('héllo ✓');
    expect(bytesToMock(Buffer.from(''))).toBe('');
    const bin = Buffer.from([0xc3, 0x28]);
    const out = bytesToMock(bin);
    expect(out).toEqual(bin);
    expect(out).not.toBe(bin);
  });

  it('tells helper keys from user hashes by the value shape', () => {
    expect(isStreamHelper('stream:s:1-0', { polled: true })).toBe(true);
    expect(isStreamHelper('stream:s:1-0', { polled: 'false' })).toBe(false);
    expect(isStreamHelper('other:s:1-0', { polled: false })).toBe(false);
    expect(isStreamHelper('stream:s:1-0', { polled: false, x: '1' })).toBe(false);
    expect(kindOf('stream:s:1-0', { polled: 'false' })).toBe('hash');
  });

  it('refuses shapes it does not know, naming the key', () => {
    const cases: [unknown, RegExp][] = [
      [42, /unknown shape \(number\)/],
      [new Date(0), /unknown shape \(Date\)/],
      [{ f: 1 }, /hash field "f" holds a number/],
      [['a', 1], /list element/],
      [new Set([1]), /set member/],
      [new Map([['a', 1]]), /sorted-set entry/],
      [[['1-0', ['f']]], /field\/value pairs/],
      [[['1-0', 'f']], /stream entry is not/],
    ];
    for (const [value, message] of cases) {
      let caught: unknown;
      try {
        toPortable('k', value);
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(MockValueError);
      expect((caught as MockValueError).key).toBe('k');
      expect((caught as Error).message).toMatch(message);
    }
    expect(kindOf('k', 42)).toBe('unknown');
  });

  it('leaves out empty containers and builds each type from its portable form', () => {
    expect(toPortable('k', {})).toBeUndefined();
    expect(toPortable('k', [])).toBeUndefined();
    expect(toPortable('k', new Set())).toBeUndefined();
    const values: PortableValue[] = [
      { type: 'string', value: 'v' },
      { type: 'list', items: ['a'] },
      { type: 'set', members: ['a'] },
      { type: 'zset', members: [['a', 1]] },
    ];
    expect(values.map((v) => fromPortable(v))).toEqual([
      'v',
      ['a'],
      new Set(['a']),
      new Map([['a', { score: 1, value: 'a' }]]),
    ]);
    // A stream: Redis's ids as they are, no helper keys, the last entry's id as its last id unless given.
    const stream = fromPortable({ type: 'stream', entries: [{ id: '1-1', fields: ['f', 'v'] }] });
    expect(stream).toBeInstanceOf(StreamValue);
    expect([...(stream as StreamValue)]).toEqual([['1-1', ['f', 'v']]]);
    expect((stream as StreamValue).lastId).toBe('1-1');
    const emptied = fromPortable({ type: 'stream', entries: [], lastId: '4-2' });
    expect(emptied).toBeInstanceOf(StreamValue);
    expect((emptied as StreamValue).length).toBe(0);
    expect((emptied as StreamValue).lastId).toBe('4-2');
    for (const id of ['7', '1-1-0', '01-1']) {
      expect(() => fromPortable({ type: 'stream', entries: [{ id, fields: ['f', 'v'] }] })).toThrow(
        /not a stream ID/,
      );
    }
  });
});
