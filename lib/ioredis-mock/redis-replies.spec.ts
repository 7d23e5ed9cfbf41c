import { scoreText } from './redis-replies';

/**
 * Scores as redis-server 7.0 writes them (`%.17g`), each pair read back from one (ZADD, then ZSCORE; -0 from a
 * skiplist, or ZADD … INCR's reply: a listpack stores it as 0).
 */
describe('scoreText', () => {
  it.each([
    [0.1, '0.10000000000000001'],
    [1e20, '1e+20'],
    [1e16, '10000000000000000'],
    [1e17, '1e+17'],
    [Number('123456789012345678'), '1.2345678901234568e+17'],
    [0.0001, '0.0001'],
    [0.00001, '1.0000000000000001e-05'],
    [1.5e-7, '1.4999999999999999e-07'],
    [3.14159, '3.1415899999999999'],
    [-2.5, '-2.5'],
    [1e308, '1e+308'],
    [4.9e-324, '4.9406564584124654e-324'],
    [100, '100'],
    [Number('12345678901234567890'), '1.2345678901234567e+19'],
    [-0, '-0'],
    [0, '0'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
  ])('writes %p as %p', (score, text) => {
    expect(scoreText(score)).toBe(text);
  });

  it('rounds a value halfway between two 17-digit ones to the even one, as printf does', () => {
    // 112067014263974.125 and -246673559419193.125 are exact doubles: JS's toFixed would round them up.
    expect(scoreText(112067014263974.125)).toBe('112067014263974.12');
    expect(scoreText(-246673559419193.125)).toBe('-246673559419193.12');
    expect(scoreText(4395246808135.53125)).toBe('4395246808135.5312');
    expect(scoreText(112067014263974.375)).toBe('112067014263974.38');
  });
});
