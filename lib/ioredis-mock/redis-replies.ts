/**
 * Redis's own error texts (as redis-server 7 sends them) and its argument parsing, for the commands the embedded
 * client corrects (see `command-rules.ts`). These texts are Redis's, not ours: tests compare them with a real
 * redis-server. The embedded client's own messages come last.
 */
import { ReplyError as IoredisReplyError } from 'ioredis';
import { showKey } from '../util/show-key';

/** The Redis the embedded client answers like (INFO's `redis_version`, scripts' `redis.REDIS_VERSION`). */
export const REDIS_VERSION = '7.0.15';

export const WRONGTYPE = 'WRONGTYPE Operation against a key holding the wrong kind of value';
export const NOT_AN_INTEGER = 'ERR value is not an integer or out of range';
export const SYNTAX_ERROR = 'ERR syntax error';
export const INDEX_OUT_OF_RANGE = 'ERR index out of range';
export const NO_SUCH_KEY = 'ERR no such key';
/** ioredis's error for a command sent on a connection that was closed (its `CONNECTION_CLOSED_ERROR_MSG`). */
export const CONNECTION_CLOSED = 'Connection is closed.';
/** A `duplicate({ keyPrefix })` of the embedded client, which would read and write its keys unprefixed. */
export const KEY_PREFIX_UNSUPPORTED = (prefix: string): string =>
  `The embedded cache's client does not apply ioredis's keyPrefix (duplicate({ keyPrefix: ${JSON.stringify(prefix)} })): ` +
  'its commands would read and write the keys unprefixed, mixing what each prefix should keep apart. Put the ' +
  'prefix in the key names, or give each keyspace a cache of its own (forRoot({ name })).';
export const OUT_OF_MEMORY = "OOM command not allowed when used memory > 'maxmemory'.";
export const HASH_VALUE_NOT_AN_INTEGER = 'ERR hash value is not an integer';
export const WOULD_OVERFLOW = 'ERR increment or decrement would overflow';
export const OFFSET_OUT_OF_RANGE = 'ERR offset is out of range';
export const DECREMENT_WOULD_OVERFLOW = 'ERR decrement would overflow';
export const MUST_BE_POSITIVE = 'ERR value is out of range, must be positive';
export const EXPIRE_NX_CONFLICT =
  'ERR NX and XX, GT or LT options at the same time are not compatible';
export const EXPIRE_GT_LT_CONFLICT = 'ERR GT and LT options at the same time are not compatible';

export const wrongArity = (command: string): string =>
  `ERR wrong number of arguments for '${command}' command`;
export const invalidExpireTime = (command: string): string =>
  `ERR invalid expire time in '${command}' command`;
export const unsupportedOption = (option: string): string => `ERR Unsupported option ${option}`;

/** ioredis's class of error replies (from `redis-errors`; ioredis declares it `any`). */
export const ReplyError = IoredisReplyError as new (message: string) => Error;

/** An error reply, as ioredis rejects with one: a `ReplyError` holding Redis's text. */
export function replyError(text: string): Error {
  return new ReplyError(text);
}

/**
 * Redis's reply to a command name it does not know: the name, then the arguments quoted, 128 characters of them at
 * most (as `processCommand` writes it; newlines become spaces).
 */
export function unknownCommand(command: string, args: readonly unknown[]): string {
  let shown = '';
  for (let i = 0; i < args.length && shown.length < 128; i++) {
    const arg = args[i];
    const text = Buffer.isBuffer(arg) ? arg.toString() : String(arg);
    shown += `'${text.slice(0, 128 - shown.length)}' `;
  }
  const reply = `ERR unknown command '${command.slice(0, 128)}', with args beginning with: ${shown}`;
  return reply.replace(/[\r\n]/g, ' ');
}

/**
 * What LMPOP and ZMPOP (and their blocking forms, after their timeout) ask:
 * `numkeys key [key …] <end> [COUNT count]`, `<end>` one of `ends` (LEFT|RIGHT, MIN|MAX), checked in Redis's order
 * (`lmpopGenericCommand`, `zmpopGenericCommand`) before any key is read.
 */
export function mpopOptions<End extends string>(
  args: readonly Arg[],
  ends: readonly [End, End],
): { keys: readonly Arg[]; end: End; count: number } {
  const numkeys = parseInteger(args[0]);
  if (numkeys === undefined || numkeys < 1n)
    throw replyError('ERR numkeys should be greater than 0');
  if (numkeys >= BigInt(args.length - 1)) throw replyError(SYNTAX_ERROR);
  const whereAt = 1 + Number(numkeys);
  const end = ends.find((name) => name === optionName(args[whereAt]));
  if (end === undefined) throw replyError(SYNTAX_ERROR);
  let count: bigint | undefined;
  for (let i = whereAt + 1; i < args.length; i += 2) {
    if (count !== undefined || optionName(args[i]) !== 'COUNT' || i + 1 === args.length) {
      throw replyError(SYNTAX_ERROR);
    }
    count = parseInteger(args[i + 1]);
    if (count === undefined || count < 1n) throw replyError('ERR count should be greater than 0');
  }
  return { keys: args.slice(1, whereAt), end, count: Number(count ?? 1n) };
}

export const INT64_MAX = (1n << 63n) - 1n;

/** Redis's error for a count outside -LONG_MAX..LONG_MAX (`getRangeLongFromObjectOrReply`). */
export const COUNT_RANGE =
  'ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807';

/**
 * The most elements a negative count (drawn with repeats: SRANDMEMBER, HRANDFIELD, ZRANDMEMBER) may ask for. V8
 * cannot build a larger reply (past about 134M elements the process aborts, taking the app with it), where
 * redis-server would try, and run out of memory.
 */
export const MAX_DRAWN = 2 ** 26;
export const TOO_MANY_DRAWN = `ERR count is out of range: the embedded cache draws at most ${MAX_DRAWN} elements`;

/**
 * Checks `key [count [option]]` of HRANDFIELD (`WITHVALUES`) and ZRANDMEMBER (`WITHSCORES`) as Redis 7.0 does: the
 * count within -LONG_MAX..LONG_MAX, then the option, then with it a count within half that.
 */
export function checkRandomCount(args: readonly Arg[], option: 'WITHVALUES' | 'WITHSCORES'): void {
  if (args.length === 1) return;
  const count = integerArg(args[1]);
  if (count < -INT64_MAX) throw replyError(COUNT_RANGE);
  if (args.length > 3 || (args.length === 3 && optionName(args[2]) !== option)) {
    throw replyError(SYNTAX_ERROR);
  }
  if (args.length === 3 && (count < -(INT64_MAX / 2n) || count > INT64_MAX / 2n)) {
    throw replyError('ERR value is out of range');
  }
}

/** Refuses a negative `count` of a non-empty collection that asks for more than {@link MAX_DRAWN} elements. */
export function checkDrawn(count: bigint, nonEmpty: boolean): void {
  if (nonEmpty && count < -BigInt(MAX_DRAWN)) throw replyError(TOO_MANY_DRAWN);
}
export const INT64_MIN = -(1n << 63n);
/** The range of seconds whose time in ms fits in 64 bits (C's integer division truncates toward zero). */
export const INT64_MAX_SECONDS = INT64_MAX / 1000n;
export const INT64_MIN_SECONDS = INT64_MIN / 1000n;

/** A command argument as ioredis-mock receives it (ioredis turns numbers and the like into strings). */
export type Arg = string | Buffer;

export function argText(arg: Arg): string {
  return typeof arg === 'string' ? arg : arg.toString('utf8');
}

const INTEGER = /^(?:0|-?[1-9][0-9]*)$/;

/** Whether `text` is an integer as Redis writes one (no `+`, no spaces, no leading zeros), of any size. */
export function isIntegerText(text: string): boolean {
  return INTEGER.test(text);
}

/**
 * An integer of at most 15 digits, as a number (such integers and their sums are exact in doubles, as ioredis-mock
 * computes), `undefined` for anything else: the fast path of the INCR family.
 */
export function smallInteger(value: unknown): number | undefined {
  return typeof value === 'string' && value.length <= 15 && INTEGER.test(value)
    ? Number(value)
    : undefined;
}

/**
 * Parses an argument as Redis's `string2ll` does: decimal digits with an optional `-`, no `+`, no spaces, no
 * leading zeros, within 64 bits. `undefined` when Redis would not take it for an integer.
 */
export function parseInteger(arg: Arg): bigint | undefined {
  const text = argText(arg);
  if (text.length > 20 || !isIntegerText(text)) return undefined;
  const n = BigInt(text);
  return n > INT64_MAX || n < INT64_MIN ? undefined : n;
}

/** {@link parseInteger}, or the error Redis answers for an argument that is not an integer. */
export function integerArg(arg: Arg): bigint {
  const n = parseInteger(arg);
  if (n === undefined) throw replyError(NOT_AN_INTEGER);
  return n;
}

/** {@link integerArg} within 32 bits, as Redis's `getIntFromObjectOrReply` takes it. */
export function int32Arg(arg: Arg): bigint {
  const n = integerArg(arg);
  if (n > 2147483647n || n < -2147483648n) {
    throw replyError('ERR value is out of range, value must between -2147483648 and 2147483647');
  }
  return n;
}

const LETTERS = /^[A-Za-z]+$/;

/**
 * An argument as an option name, in upper case, the way Redis compares option names (`strcasecmp`, ASCII only).
 * Anything but ASCII letters is returned as it is: no option name has other characters.
 */
export function optionName(arg: Arg): string {
  const text = argText(arg);
  return LETTERS.test(text) ? text.toUpperCase() : text;
}

/**
 * An error reply of the embedded client, for a write no Redis command makes: an ioredis-mock command (run where no
 * command rule applies) would have stored an array with holes, which no snapshot can encode.
 */
export const LIST_WITH_HOLES = (key: string): string =>
  `ERR the embedded cache refuses to store a list with missing elements under key ${showKey(key)} ` +
  '(an ioredis-mock command wrote past the end of a list, or a hash field into one; Redis answers such a command ' +
  'with an error)';

/** Not a reply: the installed ioredis-mock lacks `what`, which the embedded client is built on. */
export const UNSUPPORTED_IOREDIS_MOCK = (what: string): string =>
  `This version of ioredis-mock ${what}; nestjs-persistent-cache supports ioredis-mock 8.13.x.`;

export const NOT_A_FLOAT = 'ERR value is not a valid float';
export const MIN_MAX_NOT_FLOAT = 'ERR min or max is not a float';
export const NAN_OR_INFINITY = 'ERR increment would produce NaN or Infinity';

const PLAIN_DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
/** A digit 1-9 before any exponent: text whose value is not 0. */
const NON_ZERO_MANTISSA = /^[^eE]*[1-9]/;
const DECIMAL = /^([+-]?)(?:([0-9]+)\.?([0-9]*)|\.([0-9]+))(?:[eE]([+-]?[0-9]+))?/;
const HEXADECIMAL =
  /^([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))(?:[pP]([+-]?[0-9]+))?/;
const SPECIAL = /^([+-]?)(?:(inf(?:inity)?)|nan(?:\([0-9a-zA-Z_]*\))?)/i;

/** What C's `strtod` reads at the start of `text`: the value, how many characters, and whether it set ERANGE. */
export interface Strtod {
  readonly value: number;
  /** Characters read (0: no number, and the value is 0). */
  readonly length: number;
  /** Out of range: overflowed to ±infinity, or a non-zero number that underflowed (glibc's ERANGE). */
  readonly range: boolean;
}

/**
 * C's `strtod` as glibc reads text (the parts Redis relies on): leading white space, a sign, decimal or hexadecimal
 * (`0x1.8p3`) notation, `inf`, `infinity` and `nan` in any case. Numbers are rounded to the nearest double.
 */
export function strtod(text: string): Strtod {
  const start = (/^[ \t\n\v\f\r]*/.exec(text) as RegExpExecArray)[0].length;
  const rest = text.slice(start);
  const special = SPECIAL.exec(rest);
  if (special !== null) {
    const value = special[2] === undefined ? NaN : special[1] === '-' ? -Infinity : Infinity;
    return { value, length: start + special[0].length, range: false };
  }
  const hex = HEXADECIMAL.exec(rest);
  if (hex !== null) {
    const whole = hex[2] ?? '';
    const fraction = hex[3] ?? hex[4] ?? '';
    const mantissa = BigInt(`0x0${whole}${fraction}`);
    const exponent = Number(hex[5] ?? '0') - 4 * fraction.length;
    const magnitude = mantissa === 0n ? 0 : Number(mantissa) * 2 ** exponent;
    const value = hex[1] === '-' ? -magnitude : magnitude;
    const range = !Number.isFinite(value) || (magnitude === 0 && mantissa !== 0n);
    return { value, length: start + hex[0].length, range };
  }
  const decimal = DECIMAL.exec(rest);
  if (decimal === null) return { value: 0, length: 0, range: false };
  const value = Number(decimal[0]);
  const nonZero = /[1-9]/.test(`${decimal[2] ?? ''}${decimal[3] ?? ''}${decimal[4] ?? ''}`);
  const range = !Number.isFinite(value) || (value === 0 && nonZero);
  return { value, length: start + decimal[0].length, range };
}

/**
 * Parses an argument as Redis's `getDoubleFromObject` does: all of it read by `strtod`, no leading space, not out of
 * range (an overflow, or an underflow to 0), not NaN. `undefined` when Redis would refuse it.
 */
export function parseFloatArg(arg: Arg): number | undefined {
  const text = argText(arg);
  // The common case, one regular expression: plain decimal text whose double is neither infinite nor an underflow.
  if (PLAIN_DECIMAL.test(text)) {
    const value = Number(text);
    if (Number.isFinite(value) && (value !== 0 || !NON_ZERO_MANTISSA.test(text))) return value;
  }
  if (text.length === 0 || /^[ \t\n\v\f\r]/.test(text)) return undefined;
  const read = strtod(text);
  if (read.length !== text.length || read.range || Number.isNaN(read.value)) return undefined;
  return read.value;
}

/** {@link parseFloatArg}, or Redis's error for an argument that is not a float. */
export function floatArg(arg: Arg, error = NOT_A_FLOAT): number {
  const n = parseFloatArg(arg);
  if (n === undefined) throw replyError(error);
  return n;
}

/** `d.ddd × 10^exponent` (`digits` without trailing zeros, at most `precision`) as C's `%.<precision>g` writes it. */
function formatDigits(
  negative: boolean,
  digits: string,
  exponent: number,
  precision: number,
): string {
  const sign = negative ? '-' : '';
  if (exponent < -4 || exponent >= precision) {
    const fraction = digits.length > 1 ? `.${digits.slice(1)}` : '';
    const power = String(Math.abs(exponent)).padStart(2, '0');
    return `${sign}${digits[0]}${fraction}e${exponent < 0 ? '-' : '+'}${power}`;
  }
  if (exponent < 0) return `${sign}0.${'0'.repeat(-exponent - 1)}${digits}`;
  const whole = digits.slice(0, exponent + 1).padEnd(exponent + 1, '0');
  const fraction = digits.slice(exponent + 1);
  return fraction === '' ? `${sign}${whole}` : `${sign}${whole}.${fraction}`;
}

const doubleBits = new DataView(new ArrayBuffer(8));

/** A finite, non-zero `x` as `mantissa × 2^exponent` exactly, `mantissa` odd unless `exponent` is 0 or more. */
export function exactBinary(x: number): { mantissa: bigint; exponent: number } {
  doubleBits.setFloat64(0, Math.abs(x));
  const bits = doubleBits.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  let mantissa = bits & ((1n << 52n) - 1n);
  let exponent = biased === 0 ? -1074 : biased - 1075;
  if (biased !== 0) mantissa |= 1n << 52n;
  while ((mantissa & 1n) === 0n && exponent < 0) {
    mantissa >>= 1n;
    exponent++;
  }
  return { mantissa, exponent };
}

/** The exact decimal digits of a finite, non-zero `x` (without trailing zeros) and the exponent of the first one. */
export function exactDigits(x: number): { digits: string; exponent: number } {
  const { mantissa: m, exponent: e } = exactBinary(x);
  const exact = e < 0 ? (m * 5n ** BigInt(-e)).toString() : (m << BigInt(e)).toString();
  return { digits: exact.replace(/0+$/, ''), exponent: exact.length - 1 + Math.min(e, 0) };
}

/**
 * `x` as glibc's `printf("%.<precision>g")` writes it: `precision` significant digits of its exact value, rounded to
 * nearest with ties to even (JS rounds ties up: `2^-25` is `2.9802322387695312e-08` at 17 digits, not `…313`), then
 * trailing zeros dropped; `inf`, `-inf`, `nan`; zero as `0` or `-0`.
 */
export function formatG(x: number, precision: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0' : '0';
  const negative = x < 0;
  // One digit more, exactly rounded: a tie at `precision` digits shows as a last 5 (and so do values just off one).
  const [longer] = Math.abs(x).toExponential(precision).split('e');
  if (longer.endsWith('5')) {
    const exact = exactDigits(x);
    if (exact.digits.length === precision + 1 && exact.digits.endsWith('5')) {
      let kept = BigInt(exact.digits.slice(0, precision));
      if (kept % 2n === 1n) kept++;
      const rounded = kept.toString();
      const exponent = exact.exponent + rounded.length - precision;
      return formatDigits(negative, rounded.replace(/0+$/, ''), exponent, precision);
    }
  }
  const [mantissa, e] = Math.abs(x)
    .toExponential(precision - 1)
    .split('e');
  return formatDigits(negative, mantissa.replace('.', '').replace(/0+$/, ''), Number(e), precision);
}

/**
 * A score as Redis 7.0 writes it (`addReplyDouble`: `inf`, `-inf`, else `%.17g`, so `0.1` is `0.10000000000000001`
 * and `1e20` is `1e+20`, and negative zero `-0`: a sorted set stores it as 0 unless it is a skiplist, see
 * `zeroAsWritten` in `rules/sorted-sets.ts`).
 */
export function scoreText(score: number): string {
  return formatG(score, 17);
}

/** The integer a stored string holds, or the error Redis answers (`error`) for a value that is not one. */
export function storedInteger(value: unknown, error: string): bigint {
  if (value === undefined) return 0n;
  const n = typeof value === 'string' || Buffer.isBuffer(value) ? parseInteger(value) : undefined;
  if (n === undefined) throw replyError(error);
  return n;
}

/** The sum, or Redis's error when it would not fit in 64 bits. */
export function checkSum(current: bigint, increment: bigint): bigint {
  const sum = current + increment;
  if (sum > INT64_MAX || sum < INT64_MIN) throw replyError(WOULD_OVERFLOW);
  return sum;
}

/** Whether ioredis-mock's arithmetic (in doubles) gets `n` exactly. */
export function isSafeInteger(n: bigint): boolean {
  return n <= 9007199254740991n && n >= -9007199254740991n;
}

/**
 * An integer reply as ioredis reads it from Redis: its parser adds up the decimal digits in a double, which beyond
 * 2^53 gives another number than `Number(n)` (ioredis-mock answers the latter).
 */
export function ioredisInteger(n: bigint): number {
  if (isSafeInteger(n)) return Number(n);
  const digits = (n < 0n ? -n : n).toString();
  let number = 0;
  for (let i = 0; i < digits.length; i++) number = number * 10 + (digits.charCodeAt(i) - 48);
  return n < 0n ? -number : number;
}
