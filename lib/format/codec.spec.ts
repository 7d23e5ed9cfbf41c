import * as fc from 'fast-check';
import RedisMock from 'ioredis-mock';
import { BufferReader, BufferWriter, CodecError, decodeValue, encodeValue } from './codec';

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

/** Returns the CodecError thrown by fn (failing the test if it throws anything else). */
function codecError(fn: () => unknown): CodecError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CodecError) return err;
    throw new Error(`expected a CodecError, got ${String(err)}`);
  }
  throw new Error('expected a CodecError, but nothing was thrown');
}

function varUint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

function asciiBody(s: string): number[] {
  return [...varUint(s.length * 2), ...Buffer.from(s, 'latin1')];
}

const bytes = (...b: number[]): Buffer => Buffer.from(b);

describe('codec round trip', () => {
  it('round-trips undefined, null and booleans', () => {
    for (const v of [undefined, null, true, false]) expectRoundTrip(v);
    expect([...encodeValue(undefined)]).toEqual([0x01]);
    expect([...encodeValue(null)]).toEqual([0x02]);
    expect([...encodeValue(false)]).toEqual([0x03]);
    expect([...encodeValue(true)]).toEqual([0x04]);
  });

  it('round-trips numbers exactly, including -0, NaN and infinities', () => {
    const numbers = [
      0,
      -0,
      1,
      -1,
      127,
      128,
      -127,
      -128,
      16383,
      16384,
      2 ** 31 - 1,
      2 ** 31,
      -(2 ** 31),
      2 ** 32,
      2 ** 32 + 1,
      1.7e12,
      Number.MAX_SAFE_INTEGER,
      Number.MIN_SAFE_INTEGER,
      2 ** 53,
      -(2 ** 53),
      2 ** 64,
      1.5,
      -1.5,
      0.1,
      1e21,
      -1e-7,
      Number.EPSILON,
      Number.MIN_VALUE,
      -Number.MIN_VALUE,
      Number.MAX_VALUE,
      -Number.MAX_VALUE,
      NaN,
      Infinity,
      -Infinity,
    ];
    for (const n of numbers) {
      const decoded = decodeValue(encodeValue(n));
      expect(Object.is(decoded, n)).toBe(true);
    }
  });

  it('uses compact integer forms and float64 for the rest', () => {
    expect([...encodeValue(0)]).toEqual([0x06, 0x00]);
    expect([...encodeValue(300)]).toEqual([0x06, 0xac, 0x02]);
    expect([...encodeValue(-1)]).toEqual([0x07, 0x01]);
    expect([...encodeValue(Number.MAX_SAFE_INTEGER)]).toEqual([
      0x06, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f,
    ]);
    expect(encodeValue(-0)[0]).toBe(0x05);
    expect(encodeValue(-0)).toHaveLength(9);
    expect(encodeValue(2 ** 53)[0]).toBe(0x05);
    expect(encodeValue(1.5)[0]).toBe(0x05);
    expect(encodeValue(NaN)[0]).toBe(0x05);
    // float64 is accepted for integral values too (not canonical, but valid)
    const w = new BufferWriter();
    w.writeBytes(bytes(0x05));
    w.writeFloat64(42);
    expect(decodeValue(w.finish())).toBe(42);
  });

  it('round-trips ASCII strings of every length around the fast-path boundaries', () => {
    for (let len = 0; len <= 200; len++) {
      const s = 'k:0123456789abcdefghijklmnopqrstuvwxyz'.repeat(6).slice(0, len);
      expect(decodeValue(encodeValue(s))).toBe(s);
      const header = varUint(len * 2);
      expect(encodeValue(s)).toHaveLength(1 + header.length + len);
    }
    expect([...encodeValue('')]).toEqual([0x08, 0x00]);
    expect([...encodeValue('ab')]).toEqual([0x08, 0x04, 0x61, 0x62]);
  });

  it('round-trips unicode strings as UTF-8', () => {
    const samples = [
      'héllo',
      'é',
      '日本語のテキスト',
      '😀',
      'a😀b',
      '\u0000',
      '\u007f\u0080\u07ff\u0800\uffff',
      '\uFEFF',
      '\uFEFFbom',
      'a\uFFFDb',
      '\uFFFD',
      '\uD83D\uDE00',
      '\uDBFF\uDFFF',
      'key:\u00e9\u00e8',
      'é'.repeat(40), // header grows from the ASCII guess (1 byte) to 2 bytes
      'é'.repeat(8200), // 2 -> 3 byte header
      'x'.repeat(70_000) + '😀',
      '日'.repeat(70_000),
      'x'.repeat(200_000),
    ];
    for (const s of samples) {
      const enc = encodeValue(s);
      expect(decodeValue(enc)).toBe(s);
      const r = new BufferReader(enc, 1);
      expect(r.readVarUint() % 2).toBe(0); // UTF-8 flag
    }
    expect([...encodeValue('é')]).toEqual([0x08, 0x04, 0xc3, 0xa9]);
  });

  it('round-trips strings with lone surrogates as UTF-16LE', () => {
    const samples = [
      '\uD800',
      '\uDC00',
      '\uDFFF',
      'a\uD800b',
      '\uDC00\uD800',
      '😀\uD83D',
      'x'.repeat(30) + '\uDC00',
      'y'.repeat(70_000) + '\uD800',
    ];
    for (const s of samples) {
      const enc = encodeValue(s);
      const decoded = decodeValue(enc);
      expect(decoded).toBe(s);
      const r = new BufferReader(enc, 1);
      expect(r.readVarUint()).toBe(s.length * 2 + 1); // UTF-16 flag
    }
    expect([...encodeValue('\uD800')]).toEqual([0x08, 0x03, 0x00, 0xd8]);
  });

  it('reads and writes untagged strings, varuints, float64 and raw bytes', () => {
    const w = new BufferWriter(4);
    w.writeString('user:12345');
    w.writeString('\uD800x');
    w.writeString('');
    w.writeVarUint(0);
    w.writeVarUint(127);
    w.writeVarUint(128);
    w.writeVarUint(2 ** 31);
    w.writeVarUint(2 ** 35 + 7);
    w.writeVarUint(Number.MAX_SAFE_INTEGER);
    w.writeFloat64(-0);
    w.writeFloat64(NaN);
    w.writeFloat64(3.25);
    w.writeBytes(bytes(1, 2, 3));
    w.writeValue({ a: 1 });
    const buf = w.finish();
    const r = new BufferReader(buf);
    expect(r.readString()).toBe('user:12345');
    expect(r.readString()).toBe('\uD800x');
    expect(r.readString()).toBe('');
    expect(r.readVarUint()).toBe(0);
    expect(r.readVarUint()).toBe(127);
    expect(r.readVarUint()).toBe(128);
    expect(r.readVarUint()).toBe(2 ** 31);
    expect(r.readVarUint()).toBe(2 ** 35 + 7);
    expect(r.readVarUint()).toBe(Number.MAX_SAFE_INTEGER);
    expect(Object.is(r.readFloat64(), -0)).toBe(true);
    expect(r.readFloat64()).toBeNaN();
    expect(r.readFloat64()).toBe(3.25);
    const raw = r.readBytes(3);
    expect(Buffer.isBuffer(raw)).toBe(true);
    expect([...raw]).toEqual([1, 2, 3]);
    expect(r.done).toBe(false);
    expect(r.readValue()).toEqual({ a: 1 });
    expect(r.done).toBe(true);
    expect(r.offset).toBe(buf.length);
  });

  it('steps over a string with skipString exactly as readString reads it, with the same checks', () => {
    for (const str of ['', 'ascii', 'x'.repeat(200), 'clé', '日本語', '\ud800lone', 'a\udfffb']) {
      const w = new BufferWriter(4);
      w.writeString(str);
      w.writeVarUint(7);
      const buf = w.finish();
      const skipped = new BufferReader(buf);
      skipped.skipString();
      const read = new BufferReader(buf);
      expect(read.readString()).toBe(str);
      expect(skipped.offset).toBe(read.offset);
      expect(skipped.readVarUint()).toBe(7);
    }
    const invalid = bytes(0x04, 0xc3, 0x28); // two bytes that are not UTF-8
    expect(() => new BufferReader(invalid).skipString()).toThrow(
      'invalid UTF-8 in string at offset 0',
    );
    expect(() => new BufferReader(invalid).readString()).toThrow(
      'invalid UTF-8 in string at offset 0',
    );
    for (const truncated of [bytes(0x06, 0x61), bytes(0x05, 0x61, 0x00, 0x62)]) {
      const skipError = codecError(() => new BufferReader(truncated).skipString());
      expect(skipError.message).toMatch(/^truncated string at offset 0/);
      expect(skipError.message).toBe(
        codecError(() => new BufferReader(truncated).readString()).message,
      );
    }
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
    expect(() => encodeValue(new Map([['a', withSymbol]]))).toThrow(CodecError);
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

  it('rejects cyclic structures with a CodecError', () => {
    const a: unknown[] = [];
    a.push(a);
    expect(codecError(() => encodeValue(a)).message).toMatch(/cyclic structure/);
    const o: Record<string, unknown> = {};
    o.self = o;
    expect(codecError(() => encodeValue(o)).message).toMatch(/nested deeper than 64 levels/);
  });
});

describe('unsupported values', () => {
  class Foo {
    x = 1;
  }
  const cases: Array<[string, unknown]> = [
    ['cannot encode value of type function', () => 1],
    ['cannot encode value of type symbol', Symbol('s')],
    ['cannot encode value of type bigint', 10n],
    ['cannot encode value of type Date', new Date(0)],
    ['cannot encode value of type Foo', new Foo()],
    ['cannot encode value of type RegExp', /re/],
    ['cannot encode value of type Uint16Array', new Uint16Array(2)],
    ['cannot encode value of type ArrayBuffer', new ArrayBuffer(2)],
    ['cannot encode value of type Error', new Error('x')],
    ['cannot encode value of type String', Object('boxed')],
    ['cannot encode value of type WeakMap', new WeakMap()],
    ['cannot encode value of type Promise', Promise.resolve()],
    ['cannot encode value of type object', Object.create(Object.create(null) as object)],
    [
      'cannot encode value of type object with a non-plain prototype',
      Object.create({ inherited: 1 }),
    ],
    ['cannot encode value of type object', new (class {})()],
    ['cannot encode object with symbol keys', { [Symbol('k')]: 1 }],
    ['cannot encode sparse array (hole) at $[1]', Object.assign([], { 0: 1, 2: 3 })],
    ['cannot encode sparse array (hole) at $[0]', new Array(2)],
  ];

  it.each(cases)('throws "%s"', (message, value) => {
    expect(codecError(() => encodeValue(value)).message).toBe(message);
    const w = new BufferWriter();
    expect(() => w.writeValue(value)).toThrow(CodecError);
    expect(w.length).toBe(0);
  });

  it('names the path of the offending value', () => {
    const date = new Date(0);
    const paths: Array<[unknown, string]> = [
      [{ a: [1, date] }, '$.a[1]'],
      [{ 'a b': { c: date } }, '$["a b"].c'],
      [new Map([['alice', { score: date }]]), '$.get("alice").score'],
      [new Map([[1, date]]), '$<map value #0>'],
      [
        new Map<unknown, unknown>([
          [1, 1],
          [date, 1],
        ]),
        '$<map key #1>',
      ],
      [new Set([1, 2, [date]]), '$<set member #2>[0]'],
      [[[[undefined, 1n]]], '$[0][0][1]'],
    ];
    for (const [value, path] of paths) {
      expect(codecError(() => encodeValue(value)).message).toMatch(
        new RegExp(` at ${path.replace(/[$[\]().*"<>#]/g, '\\$&')}$`),
      );
    }
  });

  it('does not annotate errors that are not CodecErrors', () => {
    const o = {
      get boom(): number {
        throw new TypeError('getter failed');
      },
    };
    const w = new BufferWriter();
    w.writeValue('kept');
    const before = w.length;
    expect(() => w.writeValue([o])).toThrow(TypeError);
    expect(w.length).toBe(before);
    expect(decodeValue(w.finish())).toBe('kept');
  });

  it('rejects invalid varuints and capacities', () => {
    const w = new BufferWriter();
    for (const n of [-1, 1.5, 2 ** 53, NaN, Infinity]) {
      expect(codecError(() => w.writeVarUint(n)).message).toMatch(/^cannot encode .* as varuint/);
    }
    expect(w.length).toBe(0);
    expect(() => new BufferWriter(-1)).toThrow(CodecError);
    expect(() => new BufferWriter(1.5)).toThrow('invalid initial capacity 1.5');
  });
});

describe('BufferWriter', () => {
  it('can be reused after finish() and never changes returned buffers', () => {
    const w = new BufferWriter();
    w.writeValue('first');
    const a = w.finish();
    expect(w.length).toBe(0);
    w.writeValue('second');
    const b = w.finish();
    expect(decodeValue(a)).toBe('first');
    expect(decodeValue(b)).toBe('second');
    expect(w.finish()).toHaveLength(0);
  });

  it('grows from a tiny capacity', () => {
    const w = new BufferWriter(1);
    const value = { list: Array.from({ length: 1000 }, (_, i) => `item:${i}`) };
    w.writeValue(value);
    expect(decodeValue(w.finish())).toEqual(value);
    const z = new BufferWriter(0);
    z.writeValue('x'.repeat(100));
    expect(decodeValue(z.finish())).toBe('x'.repeat(100));
  });

  it('hands over large buffers without reusing them', () => {
    const w = new BufferWriter(8192);
    w.writeValue('a'.repeat(6000));
    const a = w.finish();
    w.writeValue('b'.repeat(6000));
    const b = w.finish();
    w.writeValue('c'.repeat(10));
    const c = w.finish();
    expect(decodeValue(a)).toBe('a'.repeat(6000));
    expect(decodeValue(b)).toBe('b'.repeat(6000));
    expect(decodeValue(c)).toBe('c'.repeat(10));
  });

  it('writes into a buffer given back with adopt() only once it has handed its own over', () => {
    const w = new BufferWriter(8192);
    const spare = Buffer.alloc(8192, 0xee);
    expect(w.adopt(spare)).toBe(false); // it still has its own buffer
    w.writeBytes(Buffer.alloc(6000, 0xaa));
    const a = w.finish(); // mostly full: handed over
    expect(w.adopt(spare)).toBe(true);
    expect(w.adopt(Buffer.alloc(8192))).toBe(false);
    w.writeBytes(Buffer.alloc(5000, 0xbb));
    const b = w.finish();
    expect(b.buffer).toBe(spare.buffer);
    expect(b).toEqual(Buffer.alloc(5000, 0xbb));
    expect(a).toEqual(Buffer.alloc(6000, 0xaa));
  });

  it('rolls back a failed writeValue', () => {
    const w = new BufferWriter(16);
    w.writeString('key');
    expect(() => w.writeValue({ big: 'x'.repeat(100), bad: new Date() })).toThrow(
      'cannot encode value of type Date at $.bad',
    );
    w.writeValue(7);
    const r = new BufferReader(w.finish());
    expect(r.readString()).toBe('key');
    expect(r.readValue()).toBe(7);
    expect(r.done).toBe(true);
  });
});

describe('BufferReader', () => {
  it('honours start and end', () => {
    const buf = Buffer.concat([bytes(0xee, 0xee), encodeValue('hello'), bytes(0x06, 0x05)]);
    const r = new BufferReader(buf, 2, buf.length - 2);
    expect(r.offset).toBe(2);
    expect(r.readValue()).toBe('hello');
    expect(r.done).toBe(true);
    expect(codecError(() => r.readValue()).message).toBe(
      `truncated value at offset ${buf.length - 2}`,
    );
    const s = new BufferReader(buf, 2, 4);
    expect(codecError(() => s.readValue()).message).toBe(
      'truncated string at offset 3: length 5 exceeds the 0 bytes left',
    );
  });

  it('accepts plain Uint8Arrays with an offset', () => {
    const enc = encodeValue({ a: ['b', 1.5] });
    const backing = new Uint8Array(enc.length + 10);
    backing.set(enc, 7);
    const view = new Uint8Array(backing.buffer, 7, enc.length);
    expect(decodeValue(view)).toEqual({ a: ['b', 1.5] });
  });

  it('rejects invalid ranges', () => {
    const buf = bytes(1, 2, 3);
    for (const [s, e] of [
      [-1, 2],
      [2, 1],
      [0, 4],
      [0.5, 2],
    ]) {
      expect(codecError(() => new BufferReader(buf, s, e)).message).toMatch(
        /^invalid reader range/,
      );
    }
  });

  it('bounds-checks the raw reads', () => {
    const r = new BufferReader(bytes(1, 2, 3));
    expect(codecError(() => r.readFloat64()).message).toBe('truncated float64 at offset 0');
    expect(codecError(() => r.readBytes(4)).message).toBe(
      'truncated bytes at offset 0: length 4 exceeds the 3 bytes left',
    );
    expect(codecError(() => r.readBytes(-1)).message).toBe('invalid byte count -1');
    expect([...r.readBytes(3)]).toEqual([1, 2, 3]);
    expect(codecError(() => r.readVarUint()).message).toBe('truncated varuint at offset 3');
    expect(codecError(() => r.readString()).message).toBe('truncated string length at offset 3');
  });
});

describe('malformed input', () => {
  const sample = new Map<unknown, unknown>([
    ['hash', { f1: 'v1', ünï: 'cødé', lone: '\uD800', bin: bytes(1, 2), n: -5, big: 2 ** 40 }],
    ['zset', new Map([['a', { score: 1.5, value: 'a' }]])],
    ['list', ['x'.repeat(20), 'y'.repeat(200), null, true, false, undefined, NaN]],
    ['set', new Set(['s1', 's2'])],
  ]);

  it('throws a CodecError for every truncation of a valid encoding', () => {
    const enc = encodeValue(sample);
    for (let cut = 0; cut < enc.length; cut++) {
      const err = codecError(() => decodeValue(enc.subarray(0, cut)));
      expect(err.message).toMatch(/^truncated [a-z0-9 ]+ at offset \d+/);
      // the same through a range-limited reader over the full buffer
      codecError(() => new BufferReader(enc, 0, cut).readValue());
    }
  });

  it('rejects trailing bytes', () => {
    expect(codecError(() => decodeValue(bytes(0x02, 0x02))).message).toBe(
      'trailing bytes at offset 1: 1 left after the value',
    );
  });

  it('rejects unknown tags', () => {
    expect(codecError(() => decodeValue(bytes(0x7f))).message).toBe('unknown tag 0x7f at offset 0');
    expect(codecError(() => decodeValue(bytes(0x00))).message).toBe('unknown tag 0x00 at offset 0');
    expect(codecError(() => decodeValue(bytes(0x0a, 0x02, 0x02, 0xff))).message).toBe(
      'unknown tag 0xff at offset 3',
    );
  });

  it('rejects absurd lengths before allocating', () => {
    const huge = varUint(2 ** 52);
    expect(codecError(() => decodeValue(bytes(0x08, ...huge))).message).toMatch(
      /^truncated string at offset 1: length \d+ exceeds the 0 bytes left$/,
    );
    expect(codecError(() => decodeValue(bytes(0x08, ...varUint(2 ** 40 + 1)))).message).toMatch(
      /^truncated string at offset 1: \d+ UTF-16 units exceed the 0 bytes left$/,
    );
    expect(codecError(() => decodeValue(bytes(0x09, ...huge))).message).toMatch(
      /^truncated bytes at offset 0: length \d+ exceeds/,
    );
    for (const [tag, name] of [
      [0x0a, 'array'],
      [0x0b, 'set'],
      [0x0c, 'map'],
      [0x0d, 'object'],
    ] as const) {
      expect(codecError(() => decodeValue(bytes(tag, ...huge, 0x02))).message).toMatch(
        new RegExp(`^truncated ${name} at offset 0: \\d+ entries cannot fit in the 1 bytes left$`),
      );
    }
    expect(codecError(() => decodeValue(bytes(0x0c, 0x01, 0x02))).message).toMatch(
      /^truncated map at offset 0/,
    );
  });

  it('rejects sets and maps larger than V8 supports', () => {
    const n = 2 ** 24 + 1;
    const set = Buffer.alloc(1 + varUint(n).length + n, 0x02);
    Buffer.from([0x0b, ...varUint(n)]).copy(set);
    expect(codecError(() => decodeValue(set)).message).toBe('set at offset 0 is too large');
    const map = Buffer.alloc(1 + varUint(n).length + 2 * n, 0x02);
    Buffer.from([0x0c, ...varUint(n)]).copy(map);
    expect(codecError(() => decodeValue(map)).message).toBe('map at offset 0 is too large');
  });

  it('rejects malformed varuints', () => {
    expect(codecError(() => decodeValue(bytes(0x06, 0x80, 0x00))).message).toBe(
      'invalid integer at offset 1: non-canonical varuint',
    );
    expect(
      codecError(() => decodeValue(bytes(0x06, ...Array<number>(8).fill(0xff), 1))).message,
    ).toBe('invalid integer at offset 1: varuint longer than 8 bytes');
    expect(
      codecError(() => decodeValue(bytes(0x06, ...Array<number>(7).fill(0xff), 0x10))).message,
    ).toBe('invalid integer at offset 1: varuint exceeds 2^53-1');
    expect(codecError(() => decodeValue(bytes(0x06, 0x80))).message).toBe(
      'truncated integer at offset 1',
    );
    expect(codecError(() => decodeValue(bytes(0x07, 0x00))).message).toBe(
      'invalid negative integer 0 at offset 0',
    );
  });

  it('rejects invalid UTF-8 but accepts a real U+FFFD', () => {
    for (const body of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0x80], [0x61, 0x80, 0x62]]) {
      expect(
        codecError(() => decodeValue(bytes(0x08, ...varUint(body.length * 2), ...body))).message,
      ).toBe('invalid UTF-8 in string at offset 1');
    }
    const long = [...Buffer.from('x'.repeat(20)), 0xff];
    expect(
      codecError(() => decodeValue(bytes(0x0d, 0x01, ...varUint(long.length * 2), ...long, 0x02)))
        .message,
    ).toBe('invalid UTF-8 in object key at offset 2');
    expect(decodeValue(encodeValue('\uFFFD'.repeat(20)))).toBe('\uFFFD'.repeat(20));
  });

  it('rejects duplicate keys and members', () => {
    const a = asciiBody('a');
    expect(codecError(() => decodeValue(bytes(0x0d, 0x02, ...a, 0x02, ...a, 0x02))).message).toBe(
      'duplicate object key at offset 5',
    );
    const proto = asciiBody('__proto__');
    expect(
      codecError(() => decodeValue(bytes(0x0d, 0x02, ...proto, 0x02, ...proto, 0x02))).message,
    ).toMatch(/^duplicate object key/);
    expect(
      codecError(() => decodeValue(bytes(0x0c, 0x02, 0x08, ...a, 0x02, 0x08, ...a, 0x03))).message,
    ).toBe('duplicate key in map at offset 0');
    expect(codecError(() => decodeValue(bytes(0x0b, 0x02, 0x02, 0x02))).message).toBe(
      'duplicate member in set at offset 0',
    );
    expect(
      codecError(() => decodeValue(bytes(0x0e, 0x02, ...a, 0x06, 0x01, ...a, 0x06, 0x02))).message,
    ).toBe('duplicate key in map at offset 0');
  });

  it('rejects a scored map whose score is not a number', () => {
    const a = asciiBody('a');
    expect(codecError(() => decodeValue(bytes(0x0e, 0x01, ...a, 0x08, ...a))).message).toBe(
      'score at offset 4 in scored map is not a number',
    );
  });

  it('turns failures of the native string decoder into CodecErrors', () => {
    const proto = Buffer.prototype as unknown as { utf8Slice(s: number, e: number): string };
    const spy = jest.spyOn(proto, 'utf8Slice').mockImplementation(() => {
      throw new RangeError('Cannot create a string longer than 0x1fffffe8 characters');
    });
    try {
      expect(codecError(() => decodeValue(encodeValue('x'.repeat(100)))).message).toBe(
        'cannot decode string at offset 1: Cannot create a string longer than 0x1fffffe8 characters',
      );
      spy.mockImplementation(() => {
        // eslint-disable-next-line @typescript-eslint/only-throw-error
        throw 'not an error';
      });
      expect(codecError(() => decodeValue(encodeValue('y'.repeat(100)))).message).toBe(
        'cannot decode string at offset 1: not an error',
      );
    } finally {
      spy.mockRestore();
    }
  });

  it('never throws anything but CodecError on random garbage', () => {
    // Bytes biased towards valid tags and small lengths so decoding gets deep into the input.
    const byte = fc.oneof(
      { weight: 3, arbitrary: fc.integer({ min: 0, max: 0x0e }) },
      { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) },
    );
    fc.assert(
      fc.property(fc.array(byte, { maxLength: 64 }), (arr) => {
        try {
          decodeValue(Uint8Array.from(arr));
        } catch (err) {
          if (!(err instanceof CodecError)) throw err;
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('never throws anything but CodecError on corrupted encodings', () => {
    const enc = encodeValue(sample);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(enc.length - 1), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (edits) => {
          const corrupted = Buffer.from(enc);
          for (const [i, b] of edits) corrupted[i] = b;
          try {
            decodeValue(corrupted);
          } catch (err) {
            if (!(err instanceof CodecError)) throw err;
          }
        },
      ),
      { numRuns: 3000 },
    );
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

  it('varuints round-trip', () => {
    fc.assert(
      fc.property(fc.array(fc.maxSafeNat(), { maxLength: 20 }), (ns) => {
        const w = new BufferWriter(2);
        for (const n of ns) w.writeVarUint(n);
        const r = new BufferReader(w.finish());
        for (const n of ns) expect(r.readVarUint()).toBe(n);
        expect(r.done).toBe(true);
      }),
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

describe('encoded ranges', () => {
  it('copies a range with writeRange and decodes it with decodeValue(buf, start, end)', () => {
    const w = new BufferWriter(4);
    w.writeValue('before');
    const start = w.length;
    w.writeValue(new Map([['m', { score: 2, value: 'm' }]]));
    const end = w.length;
    w.writeValue(['after']);
    const enc = w.finish();

    const copy = new BufferWriter(2);
    copy.writeRange(enc, start, end);
    const copied = copy.finish();
    expect(copied).toEqual(enc.subarray(start, end));
    expect(decodeValue(copied)).toEqual(new Map([['m', { score: 2, value: 'm' }]]));
    expect(decodeValue(enc, start, end)).toEqual(new Map([['m', { score: 2, value: 'm' }]]));
    expect(codecError(() => copy.writeRange(enc, 5, 4)).message).toBe(
      `invalid range 5..4 of ${enc.length} bytes`,
    );
    expect(codecError(() => copy.writeRange(enc, 0, enc.length + 1)).message).toBe(
      `invalid range 0..${enc.length + 1} of ${enc.length} bytes`,
    );
    expect(codecError(() => decodeValue(enc, 0, end)).message).toMatch(
      /^trailing bytes at offset \d+/,
    );
  });

  it('writes, patches, reads and skips fixed-width lengths', () => {
    const w = new BufferWriter(2);
    w.writeUInt32(0);
    w.writeValue('abc');
    w.patchUInt32(0, w.length - 4);
    w.writeUInt32(0xffffffff);
    expect(codecError(() => w.writeUInt32(2 ** 32)).message).toBe(
      'cannot encode 4294967296 as uint32',
    );
    expect(codecError(() => w.patchUInt32(10, 1)).message).toBe(
      'cannot patch a uint32 at offset 10 of 13 bytes',
    );
    expect(codecError(() => w.patchUInt32(0, -1)).message).toBe('cannot encode -1 as uint32');
    const enc = w.finish();
    const r = new BufferReader(enc);
    const length = r.readUInt32();
    expect(length).toBe(encodeValue('abc').length);
    r.skipBytes(length);
    expect(r.readUInt32()).toBe(0xffffffff);
    expect(r.done).toBe(true);
    expect(codecError(() => r.readUInt32()).message).toBe('truncated uint32 at offset 13');
    const short = new BufferReader(enc, 0, 6);
    short.readUInt32();
    expect(codecError(() => short.skipBytes(3)).message).toBe(
      'truncated bytes at offset 4: length 3 exceeds the 2 bytes left',
    );
    expect(codecError(() => short.skipBytes(-1)).message).toBe('invalid byte count -1');
  });
});
