/**
 * The expiry arguments of SET, SETEX, PSETEX, GETEX, EXPIRE, PEXPIRE, EXPIREAT and PEXPIREAT, checked as Redis 7
 * checks them (see {@link CommandRule}).
 *
 * ioredis-mock multiplies whatever it is given: `SET k v EX abc` and `EXPIRE k NaN` store the expiry time `NaN`, and
 * the key vanishes at the next snapshot, which takes it for expired. It also reads SET's options in upper case only
 * (`ex 10` is ignored, and so is the expiry after `GET`), drops the TTL on `KEEPTTL`, and ignores EXPIRE's NX, XX,
 * GT and LT. So these rules refuse what Redis refuses, with its errors, and hand ioredis-mock its options in the one
 * form it reads.
 */

import {
  type CommandRule,
  expectType,
  keyName,
  type KeyReader,
  reply,
  run,
  write,
} from './command-rule';
import {
  type Arg,
  argText,
  EXPIRE_GT_LT_CONFLICT,
  EXPIRE_NX_CONFLICT,
  INT64_MAX,
  INT64_MAX_SECONDS,
  INT64_MIN_SECONDS,
  integerArg,
  invalidExpireTime,
  isIntegerText,
  optionName,
  replyError,
  SYNTAX_ERROR,
  unsupportedOption,
} from './redis-replies';

type Unit = 'EX' | 'PX' | 'EXAT' | 'PXAT';
const UNITS: readonly string[] = ['EX', 'PX', 'EXAT', 'PXAT'];

interface ExpiryArg {
  readonly unit: Unit;
  readonly value: Arg;
}

/** SET's and GETEX's options, parsed as Redis's `parseExtendedStringArgumentsOrReply` does. */
interface StringOptions {
  nx: boolean;
  xx: boolean;
  get: boolean;
  keepTtl: boolean;
  persist: boolean;
  expiry: ExpiryArg | undefined;
}

function parseStringOptions(args: readonly Arg[], from: number, forSet: boolean): StringOptions {
  const o: StringOptions = {
    nx: false,
    xx: false,
    get: false,
    keepTtl: false,
    persist: false,
    expiry: undefined,
  };
  for (let j = from; j < args.length; j++) {
    const option = optionName(args[j]);
    if (forSet && option === 'NX' && !o.xx) o.nx = true;
    else if (forSet && option === 'XX' && !o.nx) o.xx = true;
    else if (forSet && option === 'GET') o.get = true;
    else if (forSet && option === 'KEEPTTL' && !o.persist && o.expiry === undefined) {
      o.keepTtl = true;
    } else if (!forSet && option === 'PERSIST' && !o.keepTtl && o.expiry === undefined) {
      o.persist = true;
    } else if (
      UNITS.includes(option) &&
      !o.keepTtl &&
      !o.persist &&
      (o.expiry === undefined || o.expiry.unit === option) &&
      j + 1 < args.length
    ) {
      o.expiry = { unit: option as Unit, value: args[++j] };
    } else {
      throw replyError(SYNTAX_ERROR);
    }
  }
  return o;
}

/** A time argument checked by {@link expiryTime}: its integer as decimal text, and the expiry time it gives. */
interface Time {
  /** What ioredis-mock is given (it would multiply a Buffer into NaN). */
  readonly text: string;
  /** Absolute, in ms (as a double: exact where it matters, for comparing with another expiry time). */
  readonly at: number;
}

/** Integers of up to 12 characters are exact in ms as doubles, and cannot overflow 64 bits. */
const SHORT_INTEGER = 12;

/**
 * Checks a time argument as Redis does: an integer (else "not an integer") whose time in ms, `base` added, fits in
 * 64 bits (else "invalid expire time"); with `positive`, the integer must be positive too, as SET's EX and the like
 * require (Redis's `getExpireMillisecondsOrReply`; EXPIRE takes any, `expireGenericCommand`).
 */
function expiryTime(
  value: Arg,
  seconds: boolean,
  base: number,
  positive: boolean,
  command: string,
): Time {
  const invalid = () => replyError(invalidExpireTime(command));
  const short = argText(value);
  if (short.length <= SHORT_INTEGER && isIntegerText(short)) {
    const n = Number(short);
    if (positive && n <= 0) throw invalid();
    return { text: short, at: (seconds ? n * 1000 : n) + base };
  }
  const n = integerArg(value);
  if (positive && n <= 0n) throw invalid();
  if (seconds && (n > INT64_MAX_SECONDS || n < INT64_MIN_SECONDS)) throw invalid();
  const at = (seconds ? n * 1000n : n) + BigInt(base);
  if (at > INT64_MAX) throw invalid();
  return { text: String(n), at: Number(at) };
}

/** An EX/PX/EXAT/PXAT option of SET or GETEX (a positive time). */
function optionTime(expiry: ExpiryArg, command: string): string {
  return checkedOption(expiry, command).text;
}

/** The expiry time an EX/PX/EXAT/PXAT option gives, ms since the epoch. */
function optionAt(expiry: ExpiryArg, command: string): number {
  return checkedOption(expiry, command).at;
}

function checkedOption({ unit, value }: ExpiryArg, command: string): Time {
  const relative = unit === 'EX' || unit === 'PX';
  const seconds = unit === 'EX' || unit === 'EXAT';
  return expiryTime(value, seconds, relative ? Date.now() : 0, true, command);
}

/** SET key value [NX|XX] [GET] [EX s|PX ms|EXAT s|PXAT ms|KEEPTTL] */
const set: CommandRule = {
  arity: -3,
  check: (args, reader) => {
    if (args.length === 2) {
      // SET key value, the most common write: stored here (ioredis-mock copies a Buffer value in too).
      const writer = reader.writer;
      if (writer === undefined) return;
      const value = args[1];
      return write(() => {
        writer.replace(keyName(args[0]), typeof value === 'string' ? value : Buffer.from(value));
        return 'OK';
      });
    }
    const o = parseStringOptions(args, 2, true);
    const writer = reader.writer;
    if (o.expiry !== undefined && !o.nx && !o.xx && !o.get && writer !== undefined) {
      // SET key value EX|PX|EXAT|PXAT time, a cache's most common write: stored here too.
      const at = optionAt(o.expiry, 'set');
      const value = args[1];
      return write(() => {
        const key = keyName(args[0]);
        writer.replace(key, typeof value === 'string' ? value : Buffer.from(value));
        writer.expireAt(key, at);
        return 'OK';
      });
    }
    const expiry = o.expiry === undefined ? undefined : optionTime(o.expiry, 'set');
    if (o.get) expectType(reader, args[0], ['string']);
    // ioredis-mock reads NX and XX anywhere, then the rest as pairs: the expiry must come before GET.
    const normalised: Arg[] = [args[0], args[1]];
    if (o.nx) normalised.push('NX');
    if (o.xx) normalised.push('XX');
    if (o.expiry !== undefined && expiry !== undefined) normalised.push(o.expiry.unit, expiry);
    if (o.keepTtl) normalised.push(...keptExpiry(reader, args[0]));
    if (o.get) normalised.push('GET');
    return run(normalised);
  },
};

/** KEEPTTL as ioredis-mock can do it: the key's current expiry time, given again (ioredis-mock drops it). */
export function keptExpiry(reader: KeyReader, key: Arg): Arg[] {
  if (reader.valueOf(keyName(key)) === undefined) return [];
  const at = reader.expiryOf(keyName(key));
  return at === undefined ? [] : ['PXAT', String(at)];
}

/** SETEX key seconds value, PSETEX key milliseconds value */
function setex(unit: 'EX' | 'PX'): CommandRule {
  return {
    arity: 4,
    parse: (args, command) => [args[0], optionTime({ unit, value: args[1] }, command), args[2]],
  };
}

/**
 * GETEX key [EX s|PX ms|EXAT s|PXAT ms|PERSIST]: a missing key answers null before the expiry is checked. The reply is
 * the stored value as it is (ioredis-mock's `getexBuffer` made a Buffer of the value's text, so bytes that are not
 * UTF-8 came back as U+FFFD).
 */
const getex: CommandRule = {
  arity: -2,
  check: (args, reader) => {
    const o = parseStringOptions(args, 1, false);
    const value = expectType(reader, args[0], ['string']);
    if (value === undefined) return reply(null);
    const answer = (): unknown => value;
    if (o.expiry !== undefined) {
      const time = checkedOption(o.expiry, 'getex');
      // An EXAT or PXAT time already past deletes the key (Redis 7.0's `getexCommand`): a deletion, announced as
      // `del`, not a key that expires (counted and announced as `expired` once it is next looked up).
      if (time.at <= Date.now()) return { args: [args[0]], command: 'del', answer };
      return { args: [args[0], o.expiry.unit, time.text], answer };
    }
    return { args: o.persist ? [args[0], 'PERSIST'] : [args[0]], answer };
  },
};

/**
 * EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT key time [NX|XX|GT|LT] (Redis's `expireGenericCommand`): the options, then
 * the time (any 64-bit integer whose time in ms fits: a time in the past deletes the key), then the key. ioredis-mock
 * ignores the options: a rule that fails answers 0 here, and the command runs without them.
 */
function expire(unit: Unit): CommandRule {
  const seconds = unit === 'EX' || unit === 'EXAT';
  const relative = unit === 'EX' || unit === 'PX';
  return {
    arity: -3,
    check: (args, reader, command) => {
      const flags = new Set<string>();
      for (let i = 2; i < args.length; i++) {
        const arg = args[i];
        const option = optionName(arg);
        if (option !== 'NX' && option !== 'XX' && option !== 'GT' && option !== 'LT') {
          throw replyError(unsupportedOption(argText(arg)));
        }
        flags.add(option);
      }
      if (flags.has('NX') && flags.size > 1) throw replyError(EXPIRE_NX_CONFLICT);
      if (flags.has('GT') && flags.has('LT')) throw replyError(EXPIRE_GT_LT_CONFLICT);
      const time = expiryTime(args[1], seconds, relative ? Date.now() : 0, false, command);
      reader.touch(keyName(args[0])); // Redis's lookup of the key for writing counts a use
      if (flags.size > 0) {
        if (reader.valueOf(keyName(args[0])) === undefined) return reply(0);
        const current = reader.expiryOf(keyName(args[0]));
        const when = time.at;
        if (flags.has('NX') && current !== undefined) return reply(0);
        if (flags.has('XX') && current === undefined) return reply(0);
        if (flags.has('GT') && (current === undefined || when <= current)) return reply(0);
        if (flags.has('LT') && current !== undefined && when >= current) return reply(0);
      }
      // A time already past deletes the key (Redis's `checkAlreadyExpired`), announced as `del`, not `expire`.
      if (time.at <= Date.now()) {
        if (reader.valueOf(keyName(args[0])) === undefined) return reply(0);
        return { args: [args[0]], command: 'del', answer: () => 1 };
      }
      return run([args[0], time.text]);
    },
  };
}

/**
 * TTL and PTTL key (Redis's `ttlGenericCommand`): the time left, 0 once past, TTL rounded to the nearest second
 * (ioredis-mock rounds up). A key without one (-1) or missing (-2) is ioredis-mock's answer. Neither counts as a use.
 */
function timeToLive(ms: boolean): CommandRule {
  return {
    arity: 2,
    check: (args, reader) => {
      const expiresAt = reader.expiryOf(keyName(args[0]));
      if (expiresAt === undefined) return;
      const left = Math.max(0, expiresAt - Date.now());
      return reply(ms ? left : Math.floor((left + 500) / 1000));
    },
  };
}

export const expiryRules: Readonly<Record<string, CommandRule>> = {
  ttl: timeToLive(false),
  pttl: timeToLive(true),
  // The arity: ioredis-mock takes any number of arguments (a transaction with one too many would run). Redis's lookup
  // of the key for writing counts a use.
  persist: { arity: 2, check: (args, reader) => reader.touch(keyName(args[0])) },
  expiretime: { arity: 2 },
  pexpiretime: { arity: 2 },
  set,
  setex: setex('EX'),
  psetex: setex('PX'),
  getex,
  expire: expire('EX'),
  pexpire: expire('PX'),
  expireat: expire('EXAT'),
  pexpireat: expire('PXAT'),
};
