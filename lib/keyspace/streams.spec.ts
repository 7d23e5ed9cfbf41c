import type { Redis } from 'ioredis';
import { createEmbeddedClient } from '../ioredis-mock/adapter';
import { addGeneration, chunkOf, storedStates } from '../../test/support/keyspace-states';
import { Keyspace } from './keyspace';
import { RestoredStates } from './restored-states';
import {
  asStreamValue,
  isEncodedStreamHelper,
  isStreamHelper,
  mockIdToRedis,
  nextStreamId,
  StreamValue,
} from './streams';

const clients: Redis[] = [];
afterAll(() => {
  for (const c of clients) c.disconnect();
});

/** A keyspace restored from one generation of `records`, and an embedded client over it. */
function restored(records: [string, unknown][]): { keyspace: Keyspace; redis: Redis } {
  const states = new RestoredStates();
  addGeneration(states, records);
  const keyspace = new Keyspace();
  keyspace.replaceAll(states);
  const redis = createEmbeddedClient(keyspace);
  clients.push(redis);
  return { keyspace, redis };
}

describe('streams of snapshots written before streams were corrected', () => {
  // What ioredis-mock's XADD stored: its own ids (`<ms>-<seq>-0`, `<ms>-0`) and a helper key per entry.
  const older: [string, unknown][] = [
    [
      'events',
      [
        ['1700000000000-1-0', ['type', 'login']],
        ['1700000000001-0', ['type', 'logout']],
      ],
    ],
    ['stream:events:1700000000000-1-0', { polled: true }],
    ['stream:events:1700000000001-0', { polled: false }],
    ['stream:lookalike', { polled: 'false' }], // a user hash: no Redis command stores a boolean
  ];

  it('restore without the helper keys, and answer with Redis ids and the greatest entry id as last id', async () => {
    const { keyspace, redis } = restored(older);
    expect(
      storedStates(keyspace)
        .map(([key]) => key)
        .sort(),
    ).toEqual(['events', 'stream:lookalike']);
    expect(await redis.dbsize()).toBe(2);
    expect(await redis.xrange('events', '-', '+')).toEqual([
      ['1700000000000-1', ['type', 'login']],
      ['1700000000001-0', ['type', 'logout']],
    ]);
    expect(await redis.xread('STREAMS', 'events', '1700000000000-1')).toEqual([
      ['events', [['1700000000001-0', ['type', 'logout']]]],
    ]);
    expect(await redis.xadd('events', '1700000000001-*', 'type', 'again')).toBe('1700000000001-1');
    // Written once, the stream is a StreamValue in Redis's form.
    const written = keyspace.valueOf('events') as StreamValue;
    expect(written).toBeInstanceOf(StreamValue);
    expect(written.map(([id]) => id)).toEqual([
      '1700000000000-1',
      '1700000000001-0',
      '1700000000001-1',
    ]);
    expect(written.lastId).toBe('1700000000001-1');
    expect(await redis.hgetall('stream:lookalike')).toEqual({ polled: 'false' });
  });

  it('reads an older stream as a StreamValue: ids translated, last id the greatest', () => {
    const stream = asStreamValue([
      ['5-0', ['f', 'v']],
      ['7-3-0', ['f', 'w']],
    ]);
    expect([...stream]).toEqual([
      ['5-0', ['f', 'v']],
      ['7-3', ['f', 'w']],
    ]);
    expect(stream.lastId).toBe('7-3');
    const same = StreamValue.make([['1-1', ['f', 'v']]], '4-0');
    expect(asStreamValue(same)).toBe(same);
    expect(mockIdToRedis('7-3-0')).toBe('7-3');
    expect(mockIdToRedis('7-0')).toBe('7-0');
    expect(mockIdToRedis('7-3')).toBeUndefined();
  });
});

describe('stream helper keys', () => {
  it('are told by key prefix and value shape, in memory and encoded', () => {
    const cases: [string, unknown, boolean][] = [
      ['stream:s:1-0', { polled: false }, true],
      ['stream:s:1-0', { polled: true }, true],
      ['stream:s:1-0', { polled: 'false' }, false],
      ['stream:s:1-0', { polled: false, other: '1' }, false],
      ['streams:s:1-0', { polled: false }, false],
      ['other', { polled: false }, false],
    ];
    for (const [key, value, helper] of cases) {
      expect([key, value, isStreamHelper(key, value)]).toEqual([key, value, helper]);
      // As a snapshot record: the key's string body, then the value.
      const { chunk, spans } = chunkOf([[key, value]]);
      const [{ keyStart, keyEnd, valueStart, valueEnd }] = spans;
      expect([
        key,
        value,
        isEncodedStreamHelper(chunk, keyStart, keyEnd, chunk, valueStart, valueEnd),
      ]).toEqual([key, value, helper]);
    }
  });

  it('are not kept when ioredis-mock writes one', () => {
    const keyspace = new Keyspace();
    keyspace.set('stream:s:1-0', { polled: false });
    keyspace.set('stream:s:2-0', { polled: 'false' });
    expect(storedStates(keyspace).map(([key]) => key)).toEqual(['stream:s:2-0']);
  });
});

describe('nextStreamId', () => {
  it('takes the clock when it is past the last id, else the last id plus one', () => {
    expect(nextStreamId({ ms: 5n, seq: 9n }, 7)).toEqual({ ms: 7n, seq: 0n });
    expect(nextStreamId({ ms: 7n, seq: 9n }, 7)).toEqual({ ms: 7n, seq: 10n });
    expect(nextStreamId({ ms: 9n, seq: 0n }, 7)).toEqual({ ms: 9n, seq: 1n }); // the clock went back
    const max = (1n << 64n) - 1n;
    expect(nextStreamId({ ms: 9n, seq: max }, 7)).toEqual({ ms: 10n, seq: 0n });
    expect(nextStreamId({ ms: max, seq: max }, 7)).toBeUndefined();
  });
});
