/** The reader's byte level: untagged reads, the reader's range and its bounds checks. */

import * as fc from 'fast-check';
import { decodeValue, encodeValue } from './codec';
import { BufferReader } from './reader';
import { BufferWriter } from './writer';
import { bytes, codecError } from '../../test/support/codec-bytes';

describe('BufferReader', () => {
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
