/** The writer's byte level: string bodies on each of their paths, the buffer's reuse and growth, untagged writes. */

import { CodecError, decodeValue, encodeValue } from './codec';
import { BufferReader } from './reader';
import { BufferWriter } from './writer';
import { codecError, varUint } from '../../test/support/codec-bytes';

describe('string bodies', () => {
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

  it('rejects invalid varuints and capacities', () => {
    const w = new BufferWriter();
    for (const n of [-1, 1.5, 2 ** 53, NaN, Infinity]) {
      expect(codecError(() => w.writeVarUint(n)).message).toMatch(/^cannot encode .* as varuint/);
    }
    expect(w.length).toBe(0);
    expect(() => new BufferWriter(-1)).toThrow(CodecError);
    expect(() => new BufferWriter(1.5)).toThrow('invalid initial capacity 1.5');
  });

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
