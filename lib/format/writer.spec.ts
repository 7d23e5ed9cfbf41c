/** Tagged values: how numbers are encoded, which values are refused and how the refusal names them. */

import { CodecError, decodeValue, encodeValue } from './codec';
import { BufferReader } from './reader';
import { BufferWriter } from './writer';
import { bytes, codecError } from '../../test/support/codec-bytes';

describe('numbers', () => {
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

  it('rejects cyclic structures with a CodecError', () => {
    const a: unknown[] = [];
    a.push(a);
    expect(codecError(() => encodeValue(a)).message).toMatch(/cyclic structure/);
    const o: Record<string, unknown> = {};
    o.self = o;
    expect(codecError(() => encodeValue(o)).message).toMatch(/nested deeper than 64 levels/);
  });
});

describe('BufferWriter', () => {
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
