import { isUtf8 } from 'buffer';
import { keyAsText, keyByteLength, keyFromBytes, keyOf, keyToBytes } from './key-bytes';

const hex = (h: string): Buffer => Buffer.from(h.replace(/ /g, ''), 'hex');

describe('key bytes', () => {
  it('reads UTF-8 bytes as their text, unchanged', () => {
    for (const text of ['', 'user:1', 'héllo', '中文键', '😀 emoji', '\ufffd']) {
      const bytes = Buffer.from(text, 'utf8');
      expect(keyFromBytes(bytes)).toBe(text);
      expect(keyToBytes(text).equals(bytes)).toBe(true);
      expect(keyOf(text)).toBe(text);
      expect(keyOf(bytes)).toBe(text);
      expect(keyAsText(text)).toBe(text);
      expect(keyByteLength(text)).toBe(bytes.length);
    }
  });

  it('escapes each byte outside UTF-8 as U+DC80 + byte, so that other bytes make other names', () => {
    expect(keyFromBytes(hex('ff'))).toBe('\udcff');
    expect(keyFromBytes(hex('fe'))).toBe('\udcfe');
    expect(keyFromBytes(hex('80'))).toBe('\udc80');
    // a valid sequence between invalid bytes stays text; a truncated one is its bytes escaped one by one
    expect(keyFromBytes(hex('61 c3 28 c3a9 e282'))).toBe('a\udcc3(é\udce2\udc82');
    // UTF-16 surrogates encoded (CESU), overlong forms and code points past U+10FFFF are not UTF-8
    expect(keyFromBytes(hex('eda080'))).toBe('\udced\udca0\udc80');
    expect(keyFromBytes(hex('c0af'))).toBe('\udcc0\udcaf');
    expect(keyFromBytes(hex('f4908080'))).toBe('\udcf4\udc90\udc80\udc80');
    expect(keyFromBytes(hex('f09f9880 ff'))).toBe('😀\udcff');
    expect(keyAsText('\udcff')).toBe('\ufffd');
    expect(keyByteLength('a\udcff')).toBe(2);
  });

  it('gives back the very bytes of any name it read, and reads them back the same', () => {
    let seed = 7;
    const random = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const pieces = [0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0x98, 0x80, 0x61, 0xed, 0xf4];
    for (let t = 0; t < 5000; t++) {
      const bytes = Buffer.alloc(Math.floor(random() * 9));
      for (let i = 0; i < bytes.length; i++) {
        bytes[i] =
          random() < 0.5
            ? Math.floor(random() * 256)
            : pieces[Math.floor(random() * pieces.length)];
      }
      const key = keyFromBytes(bytes);
      expect(keyToBytes(key).equals(bytes)).toBe(true);
      expect(keyFromBytes(keyToBytes(key))).toBe(key);
      expect(key === bytes.toString('utf8')).toBe(isUtf8(bytes));
    }
  });

  it('takes a string as it is, and writes a lone surrogate that is no escape as U+FFFD', () => {
    expect(keyOf('\udcff')).toBe('\udcff');
    expect(keyOf('a\ud800b')).toBe('a\ud800b');
    expect(keyToBytes('\ud800x').equals(hex('efbfbd 78'))).toBe(true);
    expect(keyToBytes('😀\udcff').equals(hex('f09f9880 ff'))).toBe(true);
  });
});
