/** Malformed input: every way bytes can fail to be a value is a CodecError naming what and where, never a crash. */

import * as fc from 'fast-check';
import { CodecError, decodeValue, encodeValue } from './codec';
import { BufferReader } from './reader';
import { asciiBody, bytes, codecError, varUint } from '../../test/support/codec-bytes';

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

  it('rejects invalid UTF-8 in a string but accepts a real U+FFFD', () => {
    for (const body of [[0xff], [0xc3], [0xed, 0xa0, 0x80], [0xc0, 0x80], [0x61, 0x80, 0x62]]) {
      expect(
        codecError(() => decodeValue(bytes(0x08, ...varUint(body.length * 2), ...body))).message,
      ).toBe('invalid UTF-8 in string at offset 1');
    }
    // A hash field name is bytes: those outside UTF-8 are read as their escapes (see key-bytes.ts).
    const long = [...Buffer.from('x'.repeat(20)), 0xff];
    expect(decodeValue(bytes(0x0d, 0x01, ...varUint(long.length * 2), ...long, 0x02))).toEqual({
      [`${'x'.repeat(20)}\udcff`]: null,
    });
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
