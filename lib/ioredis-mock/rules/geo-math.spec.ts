import fc from 'fast-check';
import { asin, cos, sin } from './geo-math';

/**
 * Arguments where V8's Math functions are one bit off the nearest double and glibc's (which Redis uses) are not: the
 * nearest doubles, as a 200-bit computation gives them.
 */
const NEAREST: readonly [(x: number) => number, (x: number) => number, number, number][] = [
  [sin, Math.sin, 2.2403382431306467, 0.7841060471684703],
  [sin, Math.sin, 1.0390457695788515, 0.8619207839138815],
  [sin, Math.sin, -2.3234200555259754, -0.7298979172725996],
  [cos, Math.cos, -2.8595825256904908, -0.9604979868591047],
  [cos, Math.cos, 2.2403382431306467, -0.6206268659942434],
  [asin, Math.asin, 0.7983000245140763, 0.9244672533415469],
  [asin, Math.asin, 0.5962853385230908, 0.6388658225383724],
];

describe('GEO math (sin, cos, asin rounded to the nearest double)', () => {
  it.each(NEAREST)(
    'rounds to the nearest double where Math is a bit off (%#)',
    (f, math, x, nearest) => {
      expect(math(x)).not.toBe(nearest);
      expect(f(x)).toBe(nearest);
    },
  );

  it('agrees with Math to within one bit everywhere, and answers its special values', () => {
    const ulp = (x: number): number => Math.max(Number.MIN_VALUE, Math.abs(x) * 2 ** -52);
    fc.assert(
      fc.property(
        fc.double({ min: -8, max: 8, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        (x, y) => {
          expect(Math.abs(sin(x) - Math.sin(x))).toBeLessThanOrEqual(ulp(Math.sin(x)));
          expect(Math.abs(cos(x) - Math.cos(x))).toBeLessThanOrEqual(ulp(Math.cos(x)));
          expect(Math.abs(asin(y) - Math.asin(y))).toBeLessThanOrEqual(ulp(Math.asin(y)));
        },
      ),
    );
    expect([sin(0), sin(-0), cos(0), asin(1), asin(-1), asin(0)]).toEqual([
      0,
      -0,
      1,
      Math.PI / 2,
      -Math.PI / 2,
      0,
    ]);
    expect([sin(Infinity), cos(NaN), asin(1.0000000000000002)]).toEqual([NaN, NaN, NaN]);
    expect(sin(1e-300)).toBe(1e-300);
  });
});
