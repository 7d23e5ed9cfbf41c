/**
 * Lua 5.1's `string.format` and `string.rep`, as Redis 7.0's scripts have them (`lstrlib.c`): fengari's are Lua 5.3's,
 * which refuse a float for `%d` (`string.format('%d', 3.7)`, or any number past 2^31 since its integers are 32 bits),
 * write `%e` and `%g` their own way (`1.2345678e+4`), format `nil` and tables with `%s`, and take a separator in
 * `rep`.
 *
 * Each conversion is C's `sprintf` on x86-64 with glibc, as Lua 5.1 calls it: `%d` and `%i` of the number truncated
 * to a `long`, `%o`, `%u`, `%x`, `%X` of it as an `unsigned long`, `%c` of it as an `int`, `%e`, `%E`, `%f`, `%g`, `%G`
 * of the double, exactly rounded with ties to even; flags `-+ #0`, a width and a precision of at most two digits each.
 */
import { exactBinary, exactDigits } from './redis-replies';
import {
  argumentError,
  checkBytes,
  checkNumber,
  cInt,
  lua,
  luaInteger,
  raise,
  typeName,
} from './lua-vm';
import { constants } from 'node:buffer';

/** The longest string `string.rep` makes: what a Buffer can hold. */
const MAX_STRING_BYTES = constants.MAX_LENGTH;

const PERCENT = 0x25;
/** Lua 5.1's `FLAGS`: at most five of them in one conversion. */
const FLAGS = '-+ #0';
const INT64_MIN = -(2n ** 63n);
const TWO_63 = 2 ** 63;
const TWO_64 = 2 ** 64;

interface Spec {
  readonly flags: string;
  readonly width: number;
  /** `undefined` when the conversion gives none. */
  readonly precision: number | undefined;
}

const isDigit = (byte: number | undefined): boolean =>
  byte !== undefined && byte >= 0x30 && byte <= 0x39;

/** `string.format` of Lua 5.1. */
export function stringFormat(L: unknown): number {
  const top = lua.lua_gettop(L);
  let arg = 1;
  const format = checkBytes(L, arg);
  const out: (string | Buffer)[] = [];
  let literal = 0;
  let i = 0;
  while (i < format.length) {
    if (format[i] !== PERCENT) {
      i++;
      continue;
    }
    if (literal < i) out.push(format.subarray(literal, i));
    i++;
    if (format[i] === PERCENT) {
      out.push('%');
      literal = ++i;
      continue;
    }
    if (++arg > top) argumentError(L, arg, 'no value');
    // scanformat
    const flagsStart = i;
    while (i < format.length && format[i] !== 0 && FLAGS.includes(String.fromCharCode(format[i])))
      i++;
    if (i - flagsStart >= FLAGS.length + 1) raise(L, 'invalid format (repeated flags)');
    const flags = format.toString('latin1', flagsStart, i);
    let width = 0;
    for (let n = 0; n < 2 && isDigit(format[i]); n++) width = width * 10 + format[i++] - 0x30;
    let precision: number | undefined;
    if (format[i] === 0x2e) {
      i++;
      precision = 0;
      for (let n = 0; n < 2 && isDigit(format[i]); n++)
        precision = precision * 10 + format[i++] - 0x30;
    }
    if (isDigit(format[i])) raise(L, 'invalid format (width or precision too long)');
    const conversion = i < format.length ? format[i] : 0;
    literal = ++i;
    out.push(convert(L, arg, String.fromCharCode(conversion), { flags, width, precision }));
  }
  if (literal < format.length) out.push(format.subarray(literal));
  const bytes = Buffer.concat(
    out.map((part) => (typeof part === 'string' ? Buffer.from(part, 'latin1') : part)),
  );
  lua.lua_pushstring(L, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return 1;
}

/** One conversion of argument `arg`, as bytes (a latin1 string or a Buffer). */
function convert(L: unknown, arg: number, conversion: string, spec: Spec): string | Buffer {
  switch (conversion) {
    case 'c':
      // sprintf's buffer is read up to its first NUL: a character 0 leaves what came before it.
      return cString(pad(String.fromCharCode(cIntOf(checkNumber(L, arg)) & 0xff), spec));
    case 'd':
    case 'i':
      return integer(signedOf(checkNumber(L, arg)), spec, 10, '');
    case 'o':
    case 'u':
    case 'x':
    case 'X': {
      const n = unsignedOf(checkNumber(L, arg));
      // No sign for an unsigned conversion.
      const unsigned = { ...spec, flags: spec.flags.replace(/[+ ]/g, '') };
      if (conversion === 'u') return integer(n, unsigned, 10, '');
      const base = conversion === 'o' ? 8 : 16;
      const prefix = !spec.flags.includes('#')
        ? ''
        : conversion === 'o'
          ? 'o'
          : n === 0n
            ? ''
            : `0${conversion}`;
      const text = integer(n, unsigned, base, prefix);
      return conversion === 'X' ? text.toUpperCase() : text;
    }
    case 'e':
    case 'E':
    case 'f':
    case 'g':
    case 'G':
      return floating(checkNumber(L, arg), conversion, spec);
    case 'q':
      return quoted(checkBytes(L, arg));
    case 's': {
      const type = lua.lua_type(L, arg);
      if (type !== lua.LUA_TSTRING && type !== lua.LUA_TNUMBER) {
        argumentError(L, arg, `string expected, got ${typeName(L, arg)}`);
      }
      const bytes = checkBytes(L, arg);
      // No precision and 100 bytes or more: the string as it is (NULs included).
      if (spec.precision === undefined && bytes.length >= 100) return bytes;
      let text = cString(bytes.toString('latin1'));
      if (spec.precision !== undefined) text = text.slice(0, spec.precision);
      return pad(text, spec);
    }
    default:
      // C's `%c` of the NUL that ends the format writes nothing.
      return raise(L, `invalid option '%${conversion.replace('\0', '')}' to 'format'`);
  }
}

/** What C's text of a buffer is: up to its first NUL. */
function cString(text: string): string {
  const end = text.indexOf('\0');
  return end === -1 ? text : text.slice(0, end);
}

/** `(long)x` on x86-64: truncated, and the "integer indefinite" -2^63 for NaN and what is out of range. */
function signedOf(x: number): bigint {
  return Number.isFinite(x) && x > -TWO_63 - 1 && x < TWO_63 ? BigInt(Math.trunc(x)) : INT64_MIN;
}

/** `(unsigned long)x` as gcc converts it on x86-64 (below 2^63 through the signed conversion, above it shifted). */
function unsignedOf(x: number): bigint {
  if (x >= TWO_63) return x < TWO_64 ? BigInt(x) : 0n;
  return BigInt.asUintN(64, signedOf(x));
}

/** `(int)x` on x86-64: truncated, and -2^31 for NaN and what is out of range. */
function cIntOf(x: number): number {
  return Number.isFinite(x) && x > -(2 ** 31) - 1 && x < 2 ** 31 ? Math.trunc(x) : -(2 ** 31);
}

/** Pads `body` to the width with spaces, on the left unless the `-` flag is given. */
function pad(body: string, spec: Spec): string {
  if (body.length >= spec.width) return body;
  const fill = ' '.repeat(spec.width - body.length);
  return spec.flags.includes('-') ? body + fill : fill + body;
}

/** A number's sign, digits and prefix padded to the width: with zeros after the sign when `zeros`. */
function padNumber(
  sign: string,
  prefix: string,
  digits: string,
  spec: Spec,
  zeros: boolean,
): string {
  const length = sign.length + prefix.length + digits.length;
  if (zeros && !spec.flags.includes('-') && spec.flags.includes('0') && length < spec.width) {
    return sign + prefix + '0'.repeat(spec.width - length) + digits;
  }
  return pad(sign + prefix + digits, spec);
}

function signOf(negative: boolean, flags: string): string {
  return negative ? '-' : flags.includes('+') ? '+' : flags.includes(' ') ? ' ' : '';
}

/**
 * An integer conversion: at least `precision` digits (none for a zero of precision 0); `prefix` is `0x` or `0X` for
 * `#x`, and `o` for `#o`, which makes the first digit a 0.
 */
function integer(n: bigint, spec: Spec, base: number, prefix: string): string {
  const negative = n < 0n;
  let digits = (negative ? -n : n).toString(base);
  if (spec.precision !== undefined) {
    digits = spec.precision === 0 && n === 0n ? '' : digits.padStart(spec.precision, '0');
  }
  let shown = prefix;
  if (prefix === 'o') {
    shown = '';
    if (!digits.startsWith('0')) digits = `0${digits}`;
  }
  return padNumber(signOf(negative, spec.flags), shown, digits, spec, spec.precision === undefined);
}

/** `%e`, `%E`, `%f`, `%g`, `%G` of `x`. */
function floating(x: number, conversion: string, spec: Spec): string {
  const upper = conversion === 'E' || conversion === 'G';
  const negative = x < 0 || Object.is(x, -0) || Number.isNaN(x); // a NaN from x86 arithmetic is negative (-nan)
  const sign = signOf(negative, spec.flags);
  if (!Number.isFinite(x)) {
    const text = Number.isNaN(x) ? 'nan' : 'inf';
    return padNumber(sign, '', upper ? text.toUpperCase() : text, spec, false);
  }
  const precision = spec.precision ?? 6;
  const alternate = spec.flags.includes('#');
  let body: string;
  if (conversion === 'f') body = fixed(Math.abs(x), precision, alternate);
  else if (conversion === 'e' || conversion === 'E')
    body = scientific(Math.abs(x), precision, alternate);
  else body = general(Math.abs(x), precision === 0 ? 1 : precision, alternate);
  return padNumber(sign, '', upper ? body.toUpperCase() : body, spec, true);
}

/** round(x × 10^k) to an integer, exactly, ties to even, for a finite x ≥ 0. */
function scaledRound(x: number, k: number): bigint {
  if (x === 0) return 0n;
  const { mantissa, exponent } = exactBinary(x);
  let numerator = mantissa;
  let denominator = 1n;
  if (exponent >= 0) numerator <<= BigInt(exponent);
  else denominator <<= BigInt(-exponent);
  if (k >= 0) numerator *= 10n ** BigInt(k);
  else denominator *= 10n ** BigInt(-k);
  const quotient = numerator / denominator;
  const twice = 2n * (numerator % denominator);
  if (twice > denominator || (twice === denominator && quotient % 2n === 1n)) return quotient + 1n;
  return quotient;
}

function withPoint(whole: string, fraction: string, alternate: boolean): string {
  return fraction === '' && !alternate ? whole : `${whole}.${fraction}`;
}

function fixed(x: number, precision: number, alternate: boolean): string {
  const digits = scaledRound(x, precision)
    .toString()
    .padStart(precision + 1, '0');
  const cut = digits.length - precision;
  return withPoint(digits.slice(0, cut), digits.slice(cut), alternate);
}

/** The digits of x rounded to `count` significant digits, and the exponent of the first one. */
function significant(x: number, count: number): { digits: string; exponent: number } {
  if (x === 0) return { digits: '0'.repeat(count), exponent: 0 };
  let { exponent } = exactDigits(x);
  let digits = scaledRound(x, count - 1 - exponent).toString();
  if (digits.length > count) {
    // Rounded up to the next power of ten (9.99 → 10.0).
    exponent++;
    digits = digits.slice(0, count);
  }
  return { digits, exponent };
}

function exponentText(exponent: number): string {
  return `e${exponent < 0 ? '-' : '+'}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

function scientific(x: number, precision: number, alternate: boolean): string {
  const { digits, exponent } = significant(x, precision + 1);
  return withPoint(digits[0], digits.slice(1), alternate) + exponentText(exponent);
}

function general(x: number, precision: number, alternate: boolean): string {
  const { exponent } = significant(x, precision);
  let text =
    exponent < -4 || exponent >= precision
      ? scientific(x, precision - 1, alternate)
      : fixed(x, precision - 1 - exponent, alternate);
  if (!alternate) {
    // The fraction's trailing zeros go, and the point with them.
    const e = text.indexOf('e');
    const mantissa = e === -1 ? text : text.slice(0, e);
    if (mantissa.includes('.')) {
      text = mantissa.replace(/0+$/, '').replace(/\.$/, '') + (e === -1 ? '' : text.slice(e));
    }
  }
  return text;
}

/** `%q`: Lua 5.1's `addquoted`. */
function quoted(bytes: Buffer): Buffer {
  const parts: number[] = [0x22];
  for (const byte of bytes) {
    if (byte === 0x22 || byte === 0x5c || byte === 0x0a) parts.push(0x5c, byte);
    else if (byte === 0x0d) parts.push(0x5c, 0x72);
    else if (byte === 0) parts.push(0x5c, 0x30, 0x30, 0x30);
    else parts.push(byte);
  }
  parts.push(0x22);
  return Buffer.from(parts);
}

/** `string.rep` of Lua 5.1: `n` copies of the string, no separator (a third argument is not read). */
export function stringRep(L: unknown): number {
  const bytes = checkBytes(L, 1);
  const n = cInt(luaInteger(checkNumber(L, 2))); // `luaL_checkint`: through 64 bits, then an int
  // Past what a Lua string can hold here, as Lua 5.1 fails when it cannot allocate it.
  if (n > 0 && bytes.length * n > MAX_STRING_BYTES) raise(L, 'not enough memory');
  const result = n <= 0 ? Buffer.alloc(0) : Buffer.alloc(bytes.length * n, bytes);
  lua.lua_pushstring(L, new Uint8Array(result.buffer, result.byteOffset, result.byteLength));
  return 1;
}
