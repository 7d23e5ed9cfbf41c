/**
 * Round trips through encodeValue/decodeValue, compared exactly (constructors, order, -0), and the bytes of the
 * container encodings. Numbers and string bodies have their own specs (writer.spec.ts, byte-writer.spec.ts).
 */

import * as fc from 'fast-check';
import RedisMock from 'ioredis-mock';
import { BufferReader, BufferWriter, CodecError, decodeValue, encodeValue } from './codec';
import { StreamValue, type StreamEntryValue, type StreamFields } from './stream-value';
import { asciiBody, bytes, codecError } from '../../test/support/codec-bytes';

/**
 * Exact structural comparison: Object.is for primitives, same constructor for containers,
 * insertion order for Map/Set/object keys. Plain and null-prototype objects both decode as plain
 * objects; Uint8Array decodes as Buffer. Returns a description of the first difference, or null.
 */
function difference(actual: unknown, expected: unknown, path = '$'): string | null {
  if (typeof expected !== 'object' || expected === null) {
    return Object.is(actual, expected)
      ? null
      : `${path}: expected ${String(expected)} (${typeof expected}), got ${String(actual)}`;
  }
  if (typeof actual !== 'object' || actual === null) return `${path}: expected an object`;
  if (expected instanceof Uint8Array) {
    if (!Buffer.isBuffer(actual)) return `${path}: expected a Buffer`;
    return Buffer.compare(actual, expected) === 0 ? null : `${path}: bytes differ`;
  }
  if (Array.isArray(expected)) {
    if (!Array.isArray(actual) || Object.getPrototypeOf(actual) !== Array.prototype) {
      return `${path}: expected an Array`;
    }
    if (actual.length !== expected.length) return `${path}: length differs`;
    for (let i = 0; i < expected.length; i++) {
      if (!(i in actual)) return `${path}[${i}]: hole`;
      const d = difference(actual[i], expected[i], `${path}[${i}]`);
      if (d !== null) return d;
    }
    return null;
  }
  if (expected instanceof Map) {
    if (!(actual instanceof Map) || actual.constructor !== Map) return `${path}: expected a Map`;
    if (actual.size !== expected.size) return `${path}: size differs`;
    const a = [...(actual as Map<unknown, unknown>)];
    const e = [...(expected as Map<unknown, unknown>)];
    for (let i = 0; i < e.length; i++) {
      const d =
        difference(a[i][0], e[i][0], `${path}<key ${i}>`) ??
        difference(a[i][1], e[i][1], `${path}<value ${i}>`);
      if (d !== null) return d;
    }
    return null;
  }
  if (expected instanceof Set) {
    if (!(actual instanceof Set) || actual.constructor !== Set) return `${path}: expected a Set`;
    if (actual.size !== expected.size) return `${path}: size differs`;
    const a = [...(actual as Set<unknown>)];
    const e = [...(expected as Set<unknown>)];
    for (let i = 0; i < e.length; i++) {
      const d = difference(a[i], e[i], `${path}<member ${i}>`);
      if (d !== null) return d;
    }
    return null;
  }
  if (Object.getPrototypeOf(actual) !== Object.prototype) {
    return `${path}: expected a plain object`;
  }
  const ak = Object.keys(actual);
  const ek = Object.keys(expected);
  if (ak.join('\0') !== ek.join('\0')) return `${path}: keys differ (${ak.join()} vs ${ek.join()})`;
  for (const k of ek) {
    const d = difference(
      (actual as Record<string, unknown>)[k],
      (expected as Record<string, unknown>)[k],
      `${path}.${k}`,
    );
    if (d !== null) return d;
  }
  return null;
}

function expectRoundTrip(value: unknown): unknown {
  const decoded = decodeValue(encodeValue(value));
  expect(difference(decoded, value)).toBeNull();
  return decoded;
}

describe('codec round trip', () => {
  it('round-trips undefined, null and booleans', () => {
    for (const v of [undefined, null, true, false]) expectRoundTrip(v);
    expect([...encodeValue(undefined)]).toEqual([0x01]);
    expect([...encodeValue(null)]).toEqual([0x02]);
    expect([...encodeValue(false)]).toEqual([0x03]);
    expect([...encodeValue(true)]).toEqual([0x04]);
  });

  it('decodes bytes as a Buffer copy', () => {
    for (const input of [
      Buffer.alloc(0),
      bytes(0, 1, 0xff),
      new Uint8Array([5, 6, 7]),
      new Uint8Array(new ArrayBuffer(16), 4, 8).fill(9),
      Buffer.alloc(100_000, 0xab),
    ]) {
      const decoded = expectRoundTrip(input);
      expect(Buffer.isBuffer(decoded)).toBe(true);
    }
    const enc = encodeValue(bytes(1, 2, 3));
    const decoded = decodeValue(enc) as Buffer;
    enc[enc.length - 1] = 99;
    expect([...decoded]).toEqual([1, 2, 3]);
    decoded[0] = 42;
    expect(decodeValue(enc)).toEqual(bytes(1, 2, 99));
  });

  it('round-trips arrays, sets, maps and objects preserving order and constructors', () => {
    const map = new Map<unknown, unknown>([
      ['z', 1],
      ['a', 2],
      [3, 'three'],
      [null, undefined],
      [bytes(1), [1, 2]],
      [{ k: 1 }, new Set([1])],
    ]);
    const value = {
      empty: { arr: [], set: new Set(), map: new Map(), obj: {} },
      arr: [1, 'two', null, undefined, [3, [4]], -0],
      set: new Set(['b', 'a', 1, NaN, undefined, null]),
      map,
      b: 2,
      a: 1,
      10: 'ten',
      2: 'two',
      'a b': { 'c.d': true },
    };
    const decoded = expectRoundTrip(value) as typeof value;
    expect(decoded.set).toBeInstanceOf(Set);
    expect(decoded.map).toBeInstanceOf(Map);
    expect(Object.keys(decoded)).toEqual([
      '2',
      '10',
      'empty',
      'arr',
      'set',
      'map',
      'b',
      'a',
      'a b',
    ]);
    expect([...decoded.set]).toEqual(['b', 'a', 1, NaN, undefined, null]);
  });

  it('writes a hash field name given as bytes outside UTF-8 as those bytes, and reads it back', () => {
    const hash = { '\udcff': 'a', '\udcfe': Buffer.from([0xff]), é: 'c', '😀': 'd' };
    const encoded = encodeValue(hash);
    expect(decodeValue(encoded)).toEqual(hash);
    expect(Object.keys(decodeValue(encoded) as object)).toEqual(['\udcff', '\udcfe', 'é', '😀']);
    // tag, count 4, then the first name: a UTF-8 body of the one byte ff
    expect(encoded.subarray(0, 4)).toEqual(Buffer.from('0d0402ff', 'hex'));
    // a string value keeps refusing bytes that are not UTF-8 (it is never written so)
    expect(codecError(() => decodeValue(Buffer.from('0802ff', 'hex'))).message).toMatch(
      /invalid UTF-8/,
    );
  });

  it('decodes null-prototype objects as plain objects', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.x = 1;
    o.y = { z: 'w' };
    const decoded = decodeValue(encodeValue(o)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(decoded).toEqual({ x: 1, y: { z: 'w' } });
  });

  it('keeps a "__proto__" key as an own property without touching the prototype', () => {
    const o = JSON.parse('{"a":1,"__proto__":{"polluted":true},"b":2}') as Record<string, unknown>;
    expect(Object.keys(o)).toEqual(['a', '__proto__', 'b']);
    const decoded = decodeValue(encodeValue(o)) as Record<string, unknown>;
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
    expect(Object.keys(decoded)).toEqual(['a', '__proto__', 'b']);
    expect(Object.getOwnPropertyDescriptor(decoded, '__proto__')?.value).toEqual({
      polluted: true,
    });
    expect((decoded as { polluted?: unknown }).polluted).toBeUndefined();
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    expect(difference(decoded, o)).toBeNull();
  });

  it('round-trips ioredis-mock shaped structures', () => {
    const zset = new Map<string, { score: number; value: string }>();
    for (let i = 0; i < 50; i++)
      zset.set(`member:${i}`, { score: i * 1.5 - 10, value: `member:${i}` });
    zset.set('inf', { score: Infinity, value: 'inf' });
    zset.set('-inf', { score: -Infinity, value: '-inf' });
    const stream: Array<[string, string[]]> = [
      ['1700000000000-0', ['field', 'value', 'other', 'x']],
      ['1700000000000-1', ['f', '']],
    ];
    const hash = { name: 'alice', bin: bytes(0xff, 0x00), empty: '', ünï: 'cødé' };
    const keyspace = new Map<string, unknown>([
      ['zset', zset],
      ['stream', stream],
      ['stream:stream:1700000000000-0', { polled: false }],
      ['hash', hash],
      ['list', ['a', 'b', 'c']],
      ['set', new Set(['x', 'y'])],
      ['string', 'value'],
      ['buffer', bytes(1, 2, 3)],
    ]);
    expectRoundTrip(keyspace);
    for (const v of keyspace.values()) expectRoundTrip(v);
  });

  it('writes a sorted set as a scored map, and any other Map as a map', () => {
    const scored = (entries: [string, number][]) =>
      new Map(entries.map(([value, score]) => [value, { score, value }]));
    const zset = scored([
      ['a', 1],
      ['b', -0],
      ['c', NaN],
      ['d', Infinity],
      ['', 2 ** 60],
    ]);
    expect(encodeValue(zset)[0]).toBe(0x0e);
    expectRoundTrip(zset);
    // Each member costs its key and its score, not an object repeating the member.
    expect(encodeValue(scored([['member', 7]]))).toEqual(
      bytes(0x0e, 0x01, ...asciiBody('member'), 0x06, 0x07),
    );
    const withExtra = { score: 1, value: 'a', extra: true };
    const withSymbol = Object.assign({ score: 1, value: 'a' }, { [Symbol('s')]: 1 });
    const nearMisses: Map<unknown, unknown>[] = [
      new Map([['a', { score: 1, value: 'b' }]]), // value is not the key
      new Map([['a', { value: 'a', score: 1 }]]), // other property order
      new Map([['a', { score: '1', value: 'a' }]]), // score not a number
      new Map([['a', withExtra]]),
      new Map([[1, { score: 1, value: 1 }]]), // key not a string
      new Map([['a', Object.assign(Object.create(null) as object, { score: 1, value: 'a' })]]),
      new Map<string, unknown>([
        ['a', { score: 1, value: 'a' }],
        ['b', 'plain'],
      ]),
      new Map(),
    ];
    for (const m of nearMisses) {
      expect(encodeValue(m)[0]).toBe(0x0c);
      expectRoundTrip(m);
    }
    // Symbol-keyed properties are not part of a member (no command makes them): it is written as scored.
    const symbolic = encodeValue(new Map([['a', withSymbol]]));
    expect(symbolic[0]).toBe(0x0e);
    expect(decodeValue(symbolic)).toEqual(new Map([['a', { score: 1, value: 'a' }]]));
  });

  describe('streams (tag 0x0f)', () => {
    /** Decodes `stream`'s encoding, checks it is an equal StreamValue, and that re-encoding gives the same bytes. */
    function streamRoundTrip(stream: StreamValue): StreamValue {
      const encoded = encodeValue(stream);
      expect(encoded[0]).toBe(0x0f);
      const decoded = decodeValue(encoded);
      expect(decoded).toBeInstanceOf(StreamValue);
      const back = decoded as StreamValue;
      expect(back.lastId).toBe(stream.lastId);
      expect(back.length).toBe(stream.length);
      for (let i = 0; i < stream.length; i++) {
        expect(back[i][0]).toBe(stream[i][0]);
        expect(difference(back[i][1], stream[i][1], `[${i}]`)).toBeNull();
      }
      expect(encodeValue(back)).toEqual(encoded);
      return back;
    }

    it('writes the last id, the count, then each entry as an id and its fields', () => {
      const stream = StreamValue.make([['1-1', ['f', 'v']]], '1-1');
      expect(encodeValue(stream)).toEqual(
        bytes(0x0f, ...asciiBody('1-1'), 0x01, ...asciiBody('1-1'), ...encodeValue(['f', 'v'])),
      );
      streamRoundTrip(stream);
    });

    it('keeps an empty stream and its last id', () => {
      const empty = StreamValue.make([], '1700000000000-7');
      expect(encodeValue(empty)).toEqual(bytes(0x0f, ...asciiBody('1700000000000-7'), 0x00));
      const back = streamRoundTrip(empty);
      expect(back.length).toBe(0);
      expect(back.lastId).toBe('1700000000000-7');
    });

    it('keeps a stream with deleted entries: the gaps, and a last id above its last entry', () => {
      // 1-0 … 9-3 were added; 2-0, 7-0 and 9-3 deleted.
      const stream = StreamValue.make(
        [
          ['1-0', ['type', 'login', 'user', 'ada']],
          ['3-0', ['data', Buffer.from([0xff, 0x00])]],
          ['5-18446744073709551615', ['k', '']],
        ],
        '9-3',
      );
      const back = streamRoundTrip(stream);
      expect(back.map(([id]) => id)).toEqual(['1-0', '3-0', '5-18446744073709551615']);
      expect(back[1][1][1]).toEqual(Buffer.from([0xff, 0x00]));
      expect(back.lastId).toBe('9-3');
    });

    it('tells a stream from a plain array of the same entries, and from arrays derived from it', () => {
      const entries: StreamEntryValue[] = [['1-0', ['f', 'v']]];
      const plain = encodeValue(entries);
      expect(plain[0]).toBe(0x0a);
      expect(decodeValue(plain)).not.toBeInstanceOf(StreamValue);
      expectRoundTrip(entries);
      // slice, map, … of a stream are plain arrays (Symbol.species), and are written as such.
      const derived = StreamValue.make(entries, '4-0').slice(0);
      expect(encodeValue(derived)).toEqual(plain);
    });

    it('refuses entries that are not [id, fields], and fields that are not an array', () => {
      const bad = StreamValue.make([['1-0', 'f' as unknown as StreamFields]], '1-0');
      expect(() => encodeValue(bad)).toThrow(/stream entry is not \[id, fields\]/);
      const fieldsNotArray = bytes(0x0f, ...asciiBody('1-0'), 0x01, ...asciiBody('1-0'), 0x01);
      expect(codecError(() => decodeValue(fieldsNotArray)).message).toMatch(
        /fields at offset \d+ in stream are not an array/,
      );
      const encoded = encodeValue(StreamValue.make([['1-0', ['f', 'v']]], '1-0'));
      for (let end = 1; end < encoded.length; end++) {
        expect(codecError(() => decodeValue(encoded.subarray(0, end)))).toBeInstanceOf(CodecError);
      }
    });
  });

  it('round-trips the values stored by a real ioredis-mock instance', async () => {
    const redis = new RedisMock({ host: 'codec-spec', port: 1 });
    try {
      await redis.set('str', 'value');
      await redis.set(Buffer.from('bin'), Buffer.from([0xff, 0x00, 0x80]));
      await redis.hset('hash', 'f1', 'v1', 'f2', '2');
      await redis.zadd('zset', 1, 'a', 2.5, 'b', '-inf', 'c');
      await redis.sadd('set', 'm1', 'm2');
      await redis.rpush('list', 'x', 'y');
      await redis.xadd('stream', '*', 'field', 'value');
      const data = (redis as unknown as { data: { keys(): string[]; get(k: string): unknown } })
        .data;
      const keys = data.keys();
      expect(keys.length).toBeGreaterThanOrEqual(7);
      for (const key of keys) expectRoundTrip(data.get(key));
    } finally {
      redis.disconnect();
    }
  });

  it('allows 64 levels of nesting and rejects 65 (both directions)', () => {
    const nest = (levels: number): unknown => {
      let v: unknown = null;
      for (let i = 0; i < levels; i++) v = i % 2 === 0 ? [v] : { k: v };
      return v;
    };
    expectRoundTrip(nest(64));
    expectRoundTrip(new Map([['k', nest(63)]]));
    expect(codecError(() => encodeValue(nest(65))).message).toMatch(
      /^cannot encode value nested deeper than 64 levels/,
    );
    // hand-built 65 nested arrays
    const deep = Buffer.from([...Array<number[]>(65).fill([0x0a, 0x01]).flat(), 0x02]);
    expect(codecError(() => decodeValue(deep)).message).toBe(
      'value at offset 128 is nested deeper than 64 levels',
    );
    const ok = Buffer.from([...Array<number[]>(64).fill([0x0a, 0x01]).flat(), 0x02]);
    let expected: unknown = null;
    for (let i = 0; i < 64; i++) expected = [expected];
    expect(difference(decodeValue(ok), expected)).toBeNull();
  });
});

describe('property-based round trip', () => {
  const char = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...'abc:0123 _-'.split('')) },
    { weight: 2, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
    },
    {
      weight: 1,
      arbitrary: fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c)),
    },
  );
  const anyString = fc.oneof(
    fc.string({ unit: char, maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.string({ unit: char, minLength: 20, maxLength: 300 }),
  );
  const number = fc.oneof(
    fc.double(),
    fc.integer(),
    fc.maxSafeInteger(),
    fc.constantFrom(0, -0, NaN, Infinity, -Infinity, 2 ** 53, -(2 ** 53), Number.MIN_VALUE),
  );
  const leaf = fc.oneof(
    anyString,
    number,
    fc.boolean(),
    fc.constantFrom(null, undefined),
    fc.uint8Array({ maxLength: 20 }),
    fc.uint8Array({ maxLength: 20 }).map((u) => Buffer.from(u)),
  );
  const anything = fc.anything({
    key: anyString,
    values: [leaf],
    withMap: true,
    withSet: true,
    withNullPrototype: true,
    maxDepth: 4,
    maxKeys: 6,
  });
  /** Sorted sets as ioredis-mock keeps them, and Maps that only nearly have that shape. */
  const scoredMap = fc.array(fc.tuple(anyString, number, fc.nat(4)), { maxLength: 8 }).map(
    (members) =>
      new Map<unknown, unknown>(
        members.map(([value, score, miss]) => {
          switch (miss) {
            case 1:
              return [value, { score, value: `${value}!` }];
            case 2:
              return [value, { value, score }];
            default:
              return [value, { score, value }];
          }
        }),
      ),
  );
  const value = fc.oneof({ weight: 4, arbitrary: anything }, { weight: 1, arbitrary: scoredMap });

  it('decode(encode(x)) is x, and re-encoding is byte-identical', () => {
    fc.assert(
      fc.property(value, (v) => {
        const enc = encodeValue(v);
        const decoded = decodeValue(enc);
        const diff = difference(decoded, v);
        if (diff !== null) throw new Error(diff);
        expect(encodeValue(decoded).equals(enc)).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });

  it('strings round-trip exactly, tagged and untagged', () => {
    fc.assert(
      fc.property(fc.array(anyString, { maxLength: 10 }), (strings) => {
        const w = new BufferWriter(8);
        for (const s of strings) {
          w.writeString(s);
          w.writeValue(s);
        }
        const r = new BufferReader(w.finish());
        for (const s of strings) {
          expect(r.readString()).toBe(s);
          expect(r.readValue()).toBe(s);
        }
        expect(r.done).toBe(true);
      }),
      { numRuns: 1500 },
    );
  });

  it('every truncation of an encoded value throws a CodecError', () => {
    fc.assert(
      fc.property(value, (v) => {
        const enc = encodeValue(v);
        for (let cut = 0; cut < enc.length; cut++) {
          codecError(() => decodeValue(enc.subarray(0, cut)));
        }
      }),
      { numRuns: 300 },
    );
  });
});
