/**
 * INCRBYFLOAT's and HINCRBYFLOAT's arithmetic as Redis does it on x86-64: in C's `long double` (the x87 80-bit
 * format, a 64-bit significand), the texts read with `strtold`, the sum rounded to nearest (ties to even), and the
 * result written with `%.17Lf` before trailing zeros are trimmed (`ld2string(…, LD_STR_HUMAN)`). So `0.1 + 0.2`
 * answers `0.3` where doubles give `0.30000000000000004`, and `123456789012345678 + 0.1` answers
 * `123456789012345678.1015625` (the nearest long double, written out).
 *
 * Computed exactly with BigInt: a value is `m × 2^e` with `m` of at most 64 bits, every rounding done on the exact
 * result. Subnormal long doubles (below about 3.4e-4932) are not modelled: such values read as out of range, as
 * values beyond the largest long double (about 1.19e4932) do.
 */

import { type Arg, argText, NAN_OR_INFINITY, NOT_A_FLOAT, replyError } from './redis-replies';

/** A finite long double: `(-1)^negative × m × 2^e`, `m` of at most 64 bits (0 for zero). */
export interface LongDouble {
  readonly negative: boolean;
  readonly m: bigint;
  readonly e: number;
}

const SIGNIFICAND_BITS = 64;
/** Exponents (of `m × 2^e` with a 64-bit `m`) of the smallest normal and beyond the largest long double. */
const MIN_E = -16382 - 63;
const MAX_E = 16384 - 64;

function bitLength(n: bigint): number {
  return n === 0n ? 0 : n.toString(2).length;
}

/** `n × 2^e` rounded to 64 significant bits, to nearest, ties to even (`sticky`: bits below `n` were not zero). */
function rounded(negative: boolean, n: bigint, e: number, sticky = false): LongDouble {
  const extra = bitLength(n) - SIGNIFICAND_BITS;
  if (extra <= 0) return { negative, m: n, e };
  let m = n >> BigInt(extra);
  const rest = n & ((1n << BigInt(extra)) - 1n);
  const half = 1n << BigInt(extra - 1);
  if (rest > half || (rest === half && (sticky || (m & 1n) === 1n))) m++;
  if (bitLength(m) > SIGNIFICAND_BITS) return { negative, m: m >> 1n, e: e + extra + 1 };
  return { negative, m, e: e + extra };
}

function inRange(x: LongDouble): boolean {
  return x.m === 0n || (x.e + bitLength(x.m) - SIGNIFICAND_BITS >= MIN_E && x.e <= MAX_E);
}

const DECIMAL = /^([+-]?)(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/;
const INFINITE = /^([+-]?)inf(?:inity)?$/i;
const HEXADECIMAL = /^([+-]?)0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?\d+))?$/;

/** A hexadecimal float (`0x1.8p3`), as `strtold` reads one. */
function parseHexadecimal(match: RegExpExecArray): LongDouble | undefined {
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  if (whole === '' && fraction === '') return undefined;
  const power = Number(exponent) - 4 * fraction.length;
  if (Math.abs(power) > 20000) return undefined;
  const x = rounded(sign === '-', BigInt(`0x${whole}${fraction}`), power);
  return inRange(x) ? x : undefined;
}

/**
 * A text as Redis's `string2ld` reads it (`strtold`, no leading space, nothing after the number, not NaN, not out
 * of range), decimal or hexadecimal: a long double, `Infinity` or `-Infinity`, or `undefined`.
 */
export function parseLongDouble(text: string): LongDouble | number | undefined {
  const infinite = INFINITE.exec(text);
  if (infinite !== null) return infinite[1] === '-' ? -Infinity : Infinity;
  const hexadecimal = HEXADECIMAL.exec(text);
  if (hexadecimal !== null) return parseHexadecimal(hexadecimal);
  const match = DECIMAL.exec(text);
  if (match === null) return undefined;
  const [, sign, whole, fraction = '', exponent = '0'] = match;
  if (whole === '' && fraction === '') return undefined;
  const negative = sign === '-';
  const digits = BigInt(`${whole}${fraction}` || '0');
  if (digits === 0n) return { negative, m: 0n, e: 0 };
  const power = Number(exponent) - fraction.length;
  // Far out of range either way (the digits themselves are at most a few thousand).
  if (power > 5000 + fraction.length || power < -20000) return undefined;
  let x: LongDouble;
  if (power >= 0) x = rounded(negative, digits * 10n ** BigInt(power), 0);
  else {
    const denominator = 10n ** BigInt(-power);
    const shift = Math.max(0, SIGNIFICAND_BITS + 2 + bitLength(denominator) - bitLength(digits));
    const numerator = digits << BigInt(shift);
    x = rounded(negative, numerator / denominator, -shift, numerator % denominator !== 0n);
  }
  return inRange(x) ? x : undefined;
}

/** `a + b` rounded to a long double; `undefined` when it overflows. */
export function addLongDouble(a: LongDouble, b: LongDouble): LongDouble | undefined {
  const e = Math.min(a.e, b.e);
  const signed = (x: LongDouble): bigint => (x.negative ? -1n : 1n) * (x.m << BigInt(x.e - e));
  const sum = signed(a) + signed(b);
  if (sum === 0n) return { negative: false, m: 0n, e: 0 };
  const x = rounded(sum < 0n, sum < 0n ? -sum : sum, e);
  return x.e <= MAX_E ? x : undefined;
}

const FRACTION_DIGITS = 17;
const SCALE = 10n ** BigInt(FRACTION_DIGITS);

/** `x` as `%.17Lf` writes it, trailing zeros (and a trailing point) trimmed, `-0` written `0`. */
export function formatLongDouble(x: LongDouble): string {
  let scaled: bigint;
  if (x.e >= 0) scaled = (x.m << BigInt(x.e)) * SCALE;
  else {
    const shift = BigInt(-x.e);
    const exact = x.m * SCALE;
    scaled = exact >> shift;
    const rest = exact & ((1n << shift) - 1n);
    const half = 1n << (shift - 1n);
    if (rest > half || (rest === half && (scaled & 1n) === 1n)) scaled++;
  }
  const whole = (scaled / SCALE).toString();
  const fraction = (scaled % SCALE).toString().padStart(FRACTION_DIGITS, '0').replace(/0+$/, '');
  const text = fraction === '' ? whole : `${whole}.${fraction}`;
  return x.negative && text !== '0' ? `-${text}` : text;
}

/** Redis's `MAX_LONG_DOUBLE_CHARS`: longer texts are not read as numbers. */
const LONGEST = 5 * 1024;

/** A stored value or an argument as a long double (a missing value is 0), or the error `error`. */
function readFloat(value: unknown, error: string): LongDouble | number {
  if (value === undefined) return { negative: false, m: 0n, e: 0 };
  const text = Buffer.isBuffer(value)
    ? value.toString('utf8')
    : typeof value === 'string'
      ? value
      : '';
  const x = text.length === 0 || text.length >= LONGEST ? undefined : parseLongDouble(text);
  if (x === undefined) throw replyError(error);
  return x;
}

/** An increment of HINCRBYFLOAT, which must be finite (Redis checks it before it looks the key up). */
export function finiteIncrement(arg: Arg): void {
  if (typeof readFloat(argText(arg), NOT_A_FLOAT) === 'number') {
    throw replyError('ERR value is NaN or Infinity');
  }
}

/**
 * What INCRBYFLOAT and HINCRBYFLOAT store and answer: the stored value (`error` when it is not a float) plus the
 * increment, or Redis's error when the sum is not finite.
 */
export function floatSum(stored: unknown, increment: Arg, error: string): string {
  const current = readFloat(stored, error);
  const by = readFloat(argText(increment), NOT_A_FLOAT);
  if (typeof current === 'number' || typeof by === 'number') throw replyError(NAN_OR_INFINITY);
  const sum = addLongDouble(current, by);
  if (sum === undefined) throw replyError(NAN_OR_INFINITY);
  return formatLongDouble(sum);
}
