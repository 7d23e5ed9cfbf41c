import { lcsAnswer } from './lcs';

/** Answers checked against redis-server 7.0.15 with the same strings. */
describe('lcsAnswer', () => {
  const answer = (a: string, b: string, ...options: string[]): unknown => {
    const data = new Map([
      ['a', a],
      ['b', b],
    ]);
    return lcsAnswer((key) => data.get(key), ['a', 'b', ...options]);
  };

  it('walks back as Redis does over strings longer than 255 bytes (a table of wider cells)', () => {
    const a = 'ab'.repeat(150);
    const b = 'ba'.repeat(150);
    expect(answer(a, b, 'LEN')).toBe(299);
    expect(answer(a, b)).toEqual(Buffer.from(b.slice(0, 299)));
    expect(answer(a, b, 'IDX', 'MINMATCHLEN', '10', 'WITHMATCHLEN')).toEqual([
      'matches',
      [[[1, 299], [0, 298], 299]],
      'len',
      299,
    ]);
  });

  it('answers as Redis for an empty string, and refuses a table beyond proto-max-bulk-len', () => {
    expect(answer('', 'abc')).toEqual(Buffer.alloc(0));
    expect(answer('', 'abc', 'IDX')).toEqual(['matches', [], 'len', 0]);
    expect(() => answer('x'.repeat(12_000), 'x'.repeat(12_000), 'LEN')).toThrow(
      'ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len',
    );
    expect(answer('x'.repeat(11_000), 'x'.repeat(11_000), 'LEN')).toBe(11_000);
  });
});
