/**
 * The `cjson` table Redis 7.0 gives scripts (lua-cjson 2.1.0, `deps/lua/src/lua_cjson.c`), ported to fengari:
 * `encode`, `decode`, `null` and the configuration functions, with Redis's defaults and error texts.
 *
 * - `encode`: strings as their bytes with `"`, `\`, `/`, control bytes and DEL escaped (`\/`, `\n`, `\u0001`, …);
 *   numbers as C's `%.14g` (`0.33333333333333`, `1e+20`), NaN and infinities refused; a table whose keys are all
 *   whole numbers ≥ 1 is an array up to its largest key (holes as `null`; refused as "excessively sparse" past twice
 *   its keys and 10), any other table an object (number keys written as strings, other keys refused), an empty one
 *   `{}`; nesting past 1000 refused.
 * - `decode`: JSON to Lua values, `null` as `cjson.null`, numbers read as C's `strtod` reads them (so `0x10`, `+1`,
 *   `inf` and `nan` are accepted, as lua-cjson accepts them by default), `\uXXXX` escapes (surrogate pairs joined) to
 *   UTF-8; the text ends at a zero byte, as a C string does. Errors say what was expected and at which character.
 *
 * Differs from Redis: an object's members come in fengari's table order, which is not Lua 5.1's (decode then compare,
 * rather than compare texts, for objects of several members); settings changed by the configuration functions last
 * for the script that changed them (Redis keeps them for later scripts too).
 */
import { binaryValue } from './rules/sort';
import { formatG } from './redis-replies';
import {
  argumentError,
  cInt,
  checkBytes,
  checkInteger,
  FrameSlots,
  GrowingBytes,
  lua,
  luaString,
  pushBytes,
  pushNumber,
  raise,
  setFunction,
  typeName,
} from './lua-vm';

const INT_MAX = 2 ** 31 - 1;

/** lua-cjson's settings, Redis's defaults (`lua_cjson.c`'s DEFAULT_…). */
interface Settings {
  sparseConvert: boolean;
  sparseRatio: number;
  sparseSafe: number;
  encodeMaxDepth: number;
  decodeMaxDepth: number;
  /** 0 off, 1 on, 2 `null`. */
  encodeInvalidNumbers: number;
  decodeInvalidNumbers: boolean;
  keepBuffer: boolean;
  precision: number;
}

const defaults = (): Settings => ({
  sparseConvert: false,
  sparseRatio: 2,
  sparseSafe: 10,
  encodeMaxDepth: 1000,
  decodeMaxDepth: 1000,
  encodeInvalidNumbers: 0,
  decodeInvalidNumbers: true,
  keepBuffer: true,
  precision: 14,
});

/** What a JSON text is written into. */
class Bytes extends GrowingBytes {}

// ---- encode -----------------------------------------------------------------------------------------------------

/** lua-cjson's `char2escape`: what each byte is written as, `undefined` for itself. */
const ESCAPES: (string | undefined)[] = Array.from({ length: 256 }, (_, b) => {
  if (b === 0x08) return '\\b';
  if (b === 0x09) return '\\t';
  if (b === 0x0a) return '\\n';
  if (b === 0x0c) return '\\f';
  if (b === 0x0d) return '\\r';
  if (b < 0x20 || b === 0x7f) return `\\u${b.toString(16).padStart(4, '0')}`;
  if (b === 0x22) return '\\"';
  if (b === 0x5c) return '\\\\';
  if (b === 0x2f) return '\\/';
  return undefined;
});

function appendString(out: Bytes, bytes: Uint8Array): void {
  out.byte(0x22);
  for (const b of bytes) {
    const escape = ESCAPES[b];
    if (escape === undefined) out.byte(b);
    else out.ascii(escape);
  }
  out.byte(0x22);
}

/** `json_encode_exception`: `Cannot serialise <type of the value at index>: <reason>`. */
function cannotSerialise(L: unknown, index: number, reason: string): never {
  return raise(L, `Cannot serialise ${typeName(L, index)}: ${reason}`);
}

/**
 * One `cjson.encode`: the value on the top of the stack, written into {@link out}. The values lua-cjson would hold on
 * its Lua 5.1 frame are counted ({@link FrameSlots}), for its nesting check to fail where Redis's does.
 */
class Encoder {
  readonly out = new Bytes();
  /** How deep the table being written is (for the error when JS's own stack runs out first). */
  depth = 0;
  private readonly slots: FrameSlots;

  constructor(
    private readonly L: unknown,
    private readonly settings: Settings,
  ) {
    this.slots = new FrameSlots(lua.lua_gettop(L));
  }

  private number(index: number): void {
    const { L, out, settings } = this;
    const n = lua.lua_tonumber(L, index);
    if (!Number.isFinite(n)) {
      if (settings.encodeInvalidNumbers === 0) cannotSerialise(L, index, 'must not be NaN or Inf');
      if (settings.encodeInvalidNumbers === 2) {
        out.ascii('null');
        return;
      }
      if (Number.isNaN(n)) {
        out.ascii('nan');
        return;
      }
    }
    out.ascii(formatG(n, settings.precision));
  }

  /**
   * The length of the table on the top of the stack as an array (its largest key), or -1 for an object: lua-cjson's
   * `lua_array_length`, which refuses an excessively sparse array unless told to write it as an object.
   */
  private arrayLength(): number {
    const { L, settings } = this;
    let max = 0;
    let items = 0;
    lua.lua_pushnil(L);
    while (lua.lua_next(L, -2) !== 0) {
      const k = lua.lua_type(L, -2) === lua.LUA_TNUMBER ? lua.lua_tonumber(L, -2) : 0;
      if (k !== 0 && Math.floor(k) === k && k >= 1) {
        // C's `int max = k`: past INT_MAX, x86 gives INT_MIN (the table is then written as an object).
        if (k > max) max = k > INT_MAX ? -INT_MAX - 1 : k;
        items++;
        lua.lua_settop(L, -2);
        continue;
      }
      lua.lua_settop(L, -3);
      return -1;
    }
    // `items * ratio` in C's `int`, which wraps.
    const limit = Math.imul(items, settings.sparseRatio);
    if (settings.sparseRatio > 0 && max > limit && max > settings.sparseSafe) {
      if (!settings.sparseConvert) cannotSerialise(L, -1, 'excessively sparse array');
      return -1;
    }
    return max;
  }

  /** Appends the value on the top of the stack (`json_append_data`). */
  value(depth: number): void {
    const { L, out } = this;
    const type = lua.lua_type(L, -1);
    if (type === lua.LUA_TSTRING) appendString(out, lua.lua_tolstring(L, -1) ?? new Uint8Array());
    else if (type === lua.LUA_TNUMBER) this.number(-1);
    else if (type === lua.LUA_TBOOLEAN) out.ascii(lua.lua_toboolean(L, -1) ? 'true' : 'false');
    else if (type === lua.LUA_TNIL) out.ascii('null');
    else if (type === lua.LUA_TLIGHTUSERDATA && lua.lua_touserdata(L, -1) === null)
      out.ascii('null');
    else if (type === lua.LUA_TTABLE) {
      this.depth = ++depth;
      if (depth > this.settings.encodeMaxDepth || !this.slots.fits(L, 3)) {
        raise(L, `Cannot serialise, excessive nesting (${depth})`);
      }
      const length = this.arrayLength();
      if (length > 0) this.array(depth, length);
      else this.object(depth);
    } else cannotSerialise(L, -1, 'type not supported');
  }

  private array(depth: number, length: number): void {
    const { L, out, slots } = this;
    out.byte(0x5b);
    for (let i = 1; i <= length; i++) {
      if (i > 1) out.byte(0x2c);
      lua.lua_rawgeti(L, -1, i);
      slots.used++;
      this.value(depth);
      lua.lua_settop(L, -2);
      slots.used--;
    }
    out.byte(0x5d);
  }

  private object(depth: number): void {
    const { L, out, slots } = this;
    out.byte(0x7b);
    let comma = false;
    const base = slots.used;
    lua.lua_pushnil(L);
    while (lua.lua_next(L, -2) !== 0) {
      slots.used = base + 2; // the key and the value
      if (comma) out.byte(0x2c);
      comma = true;
      const keyType = lua.lua_type(L, -2);
      if (keyType === lua.LUA_TNUMBER) {
        out.byte(0x22);
        this.number(-2);
        out.ascii('":');
      } else if (keyType === lua.LUA_TSTRING) {
        appendString(out, lua.lua_tolstring(L, -2) ?? new Uint8Array());
        out.byte(0x3a);
      } else cannotSerialise(L, -2, 'table key must be a number or string');
      this.value(depth);
      lua.lua_settop(L, -2);
    }
    slots.used = base;
    out.byte(0x7d);
  }
}

/** Whether `error` is JS's own stack running out (a nesting deeper than JS's stack holds, Lua's limit raised). */
function isStackExhausted(error: unknown): boolean {
  return error instanceof RangeError && /call stack/i.test(error.message);
}

function encode(L: unknown, settings: Settings): number {
  if (lua.lua_gettop(L) !== 1) argumentError(L, 1, 'expected 1 argument');
  const encoder = new Encoder(L, settings);
  try {
    encoder.value(0);
  } catch (error) {
    if (isStackExhausted(error)) raise(L, `Cannot serialise, excessive nesting (${encoder.depth})`);
    throw error;
  }
  pushBytes(L, encoder.out.view());
  return 1;
}

// ---- decode -----------------------------------------------------------------------------------------------------

const enum Token {
  ObjectBegin,
  ObjectEnd,
  ArrayBegin,
  ArrayEnd,
  String,
  Number,
  Boolean,
  Null,
  Colon,
  Comma,
  End,
  Error,
}

/** How lua-cjson names a token in its errors. */
const TOKEN_NAMES = [
  'T_OBJ_BEGIN',
  'T_OBJ_END',
  'T_ARR_BEGIN',
  'T_ARR_END',
  'T_STRING',
  'T_NUMBER',
  'T_BOOLEAN',
  'T_NULL',
  'T_COLON',
  'T_COMMA',
  'T_END',
];

const SINGLE: Partial<Record<number, Token>> = {
  0x7b: Token.ObjectBegin,
  0x7d: Token.ObjectEnd,
  0x5b: Token.ArrayBegin,
  0x5d: Token.ArrayEnd,
  0x2c: Token.Comma,
  0x3a: Token.Colon,
  0x00: Token.End,
};

const UNESCAPED: Partial<Record<number, number>> = {
  0x22: 0x22,
  0x5c: 0x5c,
  0x2f: 0x2f,
  0x62: 0x08,
  0x74: 0x09,
  0x6e: 0x0a,
  0x66: 0x0c,
  0x72: 0x0d,
};

/** What C's `strtod` reads at the start of a text: its length, and its value. */
const STRTOD_SPECIAL = /^[+-]?(?:inf(?:inity)?|nan(?:\([0-9A-Za-z_]*\))?)/i;
const STRTOD_HEX =
  /^([+-]?)0[xX](?:([0-9a-fA-F]+)\.?([0-9a-fA-F]*)|\.([0-9a-fA-F]+))(?:[pP]([+-]?[0-9]+))?/;
const STRTOD_DECIMAL = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/;

const STRTOD_CHARACTERS = new Uint8Array(256);
for (const c of '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.+-_()') {
  STRTOD_CHARACTERS[c.charCodeAt(0)] = 1;
}

export function strtod(text: string): { length: number; value: number } | undefined {
  const special = STRTOD_SPECIAL.exec(text);
  if (special !== null) {
    const [read] = special;
    const value = /nan/i.test(read) ? NaN : read.startsWith('-') ? -Infinity : Infinity;
    return { length: read.length, value };
  }
  const hex = STRTOD_HEX.exec(text);
  if (hex !== null) {
    const [read, sign, whole = '', fraction = '', onlyFraction, exponent = '0'] = hex;
    const digits = onlyFraction ?? `${whole}${fraction}`;
    const power = Number(exponent) - 4 * (onlyFraction ?? fraction).length;
    const { value } = binaryValue(BigInt(`0x${digits}`), power);
    return { length: read.length, value: sign === '-' ? -value : value };
  }
  const decimal = STRTOD_DECIMAL.exec(text);
  return decimal === null ? undefined : { length: decimal[0].length, value: Number(decimal[0]) };
}

/** `json_is_invalid_number`: a number strict JSON refuses (and strtod may read). */
function isInvalidNumber(data: Uint8Array, at: number): boolean {
  let p = at;
  if (data[p] === 0x2b) return true;
  if (data[p] === 0x2d) p++;
  if (data[p] === 0x30) {
    const next = data[p + 1] ?? 0;
    return (next | 0x20) === 0x78 || (next >= 0x30 && next <= 0x39);
  }
  if ((data[p] ?? 0) <= 0x39) return false;
  const word = Buffer.from(data.subarray(p, p + 3))
    .toString('latin1')
    .toLowerCase();
  return word === 'inf' || word === 'nan';
}

function hex4(data: Uint8Array, at: number): number {
  let n = 0;
  for (let i = at; i < at + 4; i++) {
    const c = data[i] ?? 0;
    const lower = c | 0x20;
    const digit =
      c >= 0x30 && c <= 0x39 ? c - 0x30 : lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
    if (digit < 0) return -1;
    n = (n << 4) | digit;
  }
  return n;
}

/** lua-cjson's parser over `data` (a C string: it ends at the first zero byte, or at its end). */
class Parser {
  private at = 0;
  private depth = 0;
  /** The values lua-cjson's decoder would hold on its Lua 5.1 frame (see {@link descend}). */
  private readonly slots: FrameSlots;
  /** The last token: where it began (or where it failed), and its value. */
  private type = Token.End;
  private index = 0;
  private error = '';
  private text: Uint8Array = new Uint8Array();
  private number = 0;
  private flag = false;

  constructor(
    private readonly L: unknown,
    private readonly data: Buffer,
    private readonly settings: Settings,
  ) {
    this.slots = new FrameSlots(lua.lua_gettop(L));
  }

  private byte(i: number): number {
    return i < this.data.length ? this.data[i] : 0;
  }

  private fail(reason: string): void {
    this.type = Token.Error;
    this.index = this.at;
    this.error = reason;
  }

  private startsWith(word: string): boolean {
    for (let i = 0; i < word.length; i++)
      if (this.byte(this.at + i) !== word.charCodeAt(i)) return false;
    return true;
  }

  /** `json_next_token`. */
  next(): void {
    let c = this.byte(this.at);
    while (c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d) c = this.byte(++this.at);
    this.index = this.at;
    const single = SINGLE[c];
    if (single !== undefined) {
      this.type = single;
      if (single !== Token.End) this.at++;
      return;
    }
    if (c === 0x22) return this.string();
    if (c === 0x2d || (c >= 0x30 && c <= 0x39)) {
      if (!this.settings.decodeInvalidNumbers && isInvalidNumber(this.data, this.at)) {
        return this.fail('invalid number');
      }
      return this.numberToken();
    }
    const unknown =
      c === 0x66 || c === 0x69 || c === 0x49 || c === 0x6e || c === 0x4e || c === 0x74;
    if (!unknown && c !== 0x2b) return this.fail('invalid token');
    for (const [word, type, flag] of [
      ['true', Token.Boolean, true],
      ['false', Token.Boolean, false],
      ['null', Token.Null, false],
    ] as const) {
      if (this.startsWith(word)) {
        this.type = type;
        this.flag = flag;
        this.at += word.length;
        return;
      }
    }
    if (this.settings.decodeInvalidNumbers && isInvalidNumber(this.data, this.at))
      return this.numberToken();
    this.fail('invalid token');
  }

  private numberToken(): void {
    // What strtod may read: the characters of decimal and hexadecimal numbers, `inf`, `infinity` and `nan(…)`.
    let end = this.at;
    while (end < this.data.length && STRTOD_CHARACTERS[this.data[end]] === 1) end++;
    const read = strtod(this.data.toString('latin1', this.at, end));
    if (read === undefined) return this.fail('invalid number');
    this.type = Token.Number;
    this.number = read.value;
    this.at += read.length;
  }

  private string(): void {
    const out = new Bytes();
    this.at++;
    for (let c = this.byte(this.at); c !== 0x22; c = this.byte(this.at)) {
      if (c === 0) return this.fail('unexpected end of string');
      if (c === 0x5c) {
        const escape = this.byte(this.at + 1);
        if (escape === 0x75) {
          if (!this.unicodeEscape(out)) return this.fail('invalid unicode escape code');
          continue;
        }
        const unescaped = UNESCAPED[escape];
        if (unescaped === undefined) return this.fail('invalid escape code');
        out.byte(unescaped);
        this.at += 2;
        continue;
      }
      out.byte(c);
      this.at++;
    }
    this.at++;
    this.type = Token.String;
    this.text = out.view();
  }

  /** `json_append_unicode_escape`: `\uXXXX` (a surrogate pair as two) as UTF-8. */
  private unicodeEscape(out: Bytes): boolean {
    let codepoint = hex4(this.data, this.at + 2);
    if (codepoint < 0) return false;
    let length = 6;
    if ((codepoint & 0xf800) === 0xd800) {
      if ((codepoint & 0x400) !== 0) return false;
      if (this.byte(this.at + 6) !== 0x5c || this.byte(this.at + 7) !== 0x75) return false;
      const low = hex4(this.data, this.at + 8);
      if (low < 0 || (low & 0xfc00) !== 0xdc00) return false;
      codepoint = (((codepoint & 0x3ff) << 10) | (low & 0x3ff)) + 0x10000;
      length = 12;
    }
    out.bytes(Buffer.from(String.fromCodePoint(codepoint), 'utf8'));
    this.at += length;
    return true;
  }

  /** `json_throw_parse_error`. */
  private expected(what: string): never {
    const found = this.type === Token.Error ? this.error : TOKEN_NAMES[this.type];
    return raise(this.L, `Expected ${what} but found ${found} at character ${this.index + 1}`);
  }

  /** `json_decode_descend`: one level deeper, if lua-cjson's limit and its Lua 5.1 frame allow. */
  private descend(slots: number): void {
    this.depth++;
    if (this.depth <= this.settings.decodeMaxDepth && this.slots.fits(this.L, slots)) return;
    this.tooDeep();
  }

  tooDeep(): never {
    return raise(
      this.L,
      `Found too many nested data structures (${this.depth}) at character ${this.at}`,
    );
  }

  /** The current token's type (read through a call: {@link next} changes it). */
  private token(): Token {
    return this.type;
  }

  /** `json_process_value`: pushes the value the current token begins. */
  value(): void {
    const { L } = this;
    this.slots.used++;
    switch (this.type) {
      case Token.String:
        pushBytes(L, this.text);
        return;
      case Token.Number:
        pushNumber(L, this.number);
        return;
      case Token.Boolean:
        lua.lua_pushboolean(L, this.flag);
        return;
      case Token.Null:
        lua.lua_pushlightuserdata(L, null);
        return;
      case Token.ObjectBegin:
        this.slots.used--; // counted by `object` once its table is made
        return this.object();
      case Token.ArrayBegin:
        this.slots.used--;
        return this.array();
      default:
        this.expected('value');
    }
  }

  private object(): void {
    const { L } = this;
    this.descend(3);
    lua.lua_createtable(L, 0, 0);
    this.slots.used++;
    this.next();
    if (this.token() === Token.ObjectEnd) {
      this.depth--;
      return;
    }
    for (;;) {
      if (this.token() !== Token.String) this.expected('object key string');
      pushBytes(L, this.text);
      this.slots.used++;
      this.next();
      if (this.token() !== Token.Colon) this.expected('colon');
      this.next();
      this.value();
      lua.lua_rawset(L, -3);
      this.slots.used -= 2;
      this.next();
      if (this.token() === Token.ObjectEnd) {
        this.depth--;
        return;
      }
      if (this.token() !== Token.Comma) this.expected('comma or object end');
      this.next();
    }
  }

  private array(): void {
    const { L } = this;
    this.descend(2);
    lua.lua_createtable(L, 0, 0);
    this.slots.used++;
    this.next();
    if (this.token() === Token.ArrayEnd) {
      this.depth--;
      return;
    }
    for (let i = 1; ; i++) {
      this.value();
      lua.lua_rawseti(L, -2, i);
      this.slots.used--;
      this.next();
      if (this.token() === Token.ArrayEnd) {
        this.depth--;
        return;
      }
      if (this.token() !== Token.Comma) this.expected('comma or array end');
      this.next();
    }
  }

  /** The whole text as one value, nothing after it. */
  document(): void {
    this.next();
    this.value();
    this.next();
    if (this.token() !== Token.End) this.expected('the end');
  }
}

function decode(L: unknown, settings: Settings): number {
  if (lua.lua_gettop(L) !== 1) argumentError(L, 1, 'expected 1 argument');
  const data = checkBytes(L, 1);
  if (data.length >= 2 && (data[0] === 0 || data[1] === 0)) {
    raise(L, 'JSON parser does not support UTF-16 or UTF-32');
  }
  const parser = new Parser(L, data, settings);
  try {
    parser.document();
  } catch (error) {
    if (isStackExhausted(error)) parser.tooDeep();
    throw error;
  }
  return 1;
}

// ---- configuration ------------------------------------------------------------------------------------------------

/** `json_arg_init`: at most `count` arguments, missing ones read as nil. */
function checkArgumentCount(L: unknown, count: number): void {
  if (lua.lua_gettop(L) > count) argumentError(L, count + 1, 'found too many arguments');
  while (lua.lua_gettop(L) < count) lua.lua_pushnil(L);
}

/**
 * `json_integer_option`: sets the option from argument `arg` when given (`luaL_checkinteger` into a C `int`: 2^32 + 5
 * is 5, NaN is 0), checked against [min, max]; pushes its value.
 */
function integerOption(L: unknown, arg: number, current: number, min: number, max: number): number {
  let value = current;
  if (lua.lua_type(L, arg) !== lua.LUA_TNIL) {
    const n = cInt(checkInteger(L, arg));
    if (n < min || n > max) argumentError(L, 1, `expected integer between ${min} and ${max}`);
    value = n;
  }
  lua.lua_pushinteger(L, value);
  return value;
}

/** `json_enum_option`: a boolean or one of `names` from argument `arg` when given; pushes the setting. */
function enumOption(L: unknown, arg: number, current: number, names: readonly string[]): number {
  let value = current;
  const type = lua.lua_type(L, arg);
  if (type === lua.LUA_TBOOLEAN) value = lua.lua_toboolean(L, arg) ? 1 : 0;
  else if (type !== lua.LUA_TNIL) {
    // `luaL_checkoption`: a string, or a number as its text.
    const name = checkBytes(L, arg).toString('utf8');
    const at = names.indexOf(name);
    if (at < 0) argumentError(L, arg, `invalid option '${name}'`);
    value = at;
  }
  if (value <= 1) lua.lua_pushboolean(L, value === 1);
  else pushBytes(L, names[value]);
  return value;
}

const ON_OFF = ['off', 'on'] as const;

/** Pushes a new `cjson` table, its settings Redis's defaults. */
export function pushCjson(L: unknown): void {
  const settings = defaults();
  lua.lua_createtable(L, 0, 12);
  setFunction(L, 'encode', (state) => encode(state, settings));
  setFunction(L, 'decode', (state) => decode(state, settings));
  setFunction(L, 'encode_sparse_array', (state) => {
    checkArgumentCount(state, 3);
    settings.sparseConvert = enumOption(state, 1, +settings.sparseConvert, ON_OFF) === 1;
    settings.sparseRatio = integerOption(state, 2, settings.sparseRatio, 0, INT_MAX);
    settings.sparseSafe = integerOption(state, 3, settings.sparseSafe, 0, INT_MAX);
    return 3;
  });
  setFunction(L, 'encode_max_depth', (state) => {
    checkArgumentCount(state, 1);
    settings.encodeMaxDepth = integerOption(state, 1, settings.encodeMaxDepth, 1, INT_MAX);
    return 1;
  });
  setFunction(L, 'decode_max_depth', (state) => {
    checkArgumentCount(state, 1);
    settings.decodeMaxDepth = integerOption(state, 1, settings.decodeMaxDepth, 1, INT_MAX);
    return 1;
  });
  setFunction(L, 'encode_number_precision', (state) => {
    checkArgumentCount(state, 1);
    settings.precision = integerOption(state, 1, settings.precision, 1, 14);
    return 1;
  });
  setFunction(L, 'encode_keep_buffer', (state) => {
    checkArgumentCount(state, 1);
    settings.keepBuffer = enumOption(state, 1, +settings.keepBuffer, ON_OFF) === 1;
    return 1;
  });
  setFunction(L, 'encode_invalid_numbers', (state) => {
    checkArgumentCount(state, 1);
    settings.encodeInvalidNumbers = enumOption(state, 1, settings.encodeInvalidNumbers, [
      'off',
      'on',
      'null',
    ]);
    return 1;
  });
  setFunction(L, 'decode_invalid_numbers', (state) => {
    checkArgumentCount(state, 1);
    settings.decodeInvalidNumbers =
      enumOption(state, 1, +settings.decodeInvalidNumbers, ON_OFF) === 1;
    return 1;
  });
  setFunction(L, 'new', (state) => {
    pushCjson(state);
    return 1;
  });
  lua.lua_pushlightuserdata(L, null);
  lua.lua_setfield(L, -2, luaString('null'));
  pushBytes(L, 'cjson');
  lua.lua_setfield(L, -2, luaString('_NAME'));
  pushBytes(L, '2.1.0');
  lua.lua_setfield(L, -2, luaString('_VERSION'));
}
