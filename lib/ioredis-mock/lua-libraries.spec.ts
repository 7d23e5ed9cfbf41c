import type { Redis } from 'ioredis';
import { createEmbeddedClient } from './adapter';
import { Keyspace } from '../keyspace/keyspace';

/**
 * The libraries Redis gives scripts (`cjson`, `cmsgpack`, `bit`), with the values redis-server 7.0 answers
 * (test/command-fidelity.e2e-spec.ts compares more of them with a real server when one is installed).
 */

let client: Redis;

beforeEach(() => {
  client = createEmbeddedClient(new Keyspace());
});
afterEach(() => client.disconnect());

const run = (script: string, ...args: (string | number)[]): Promise<unknown> =>
  client.eval(script, 0, ...args);

/** The hex of what a Lua expression packs to. */
const packed = (expr: string): Promise<unknown> =>
  run(
    `local s = ${expr} local t = {} for i = 1, #s do t[i] = string.format('%02x', s:byte(i)) end ` +
      'return table.concat(t)',
  );

/** A script's error, without its SHA1. */
async function failure(script: string): Promise<string> {
  try {
    await run(script);
  } catch (error) {
    return (error as Error).message.replace(/ script: [0-9a-f]{40}, on @user_script:\d+\.$/, '');
  }
  throw new Error(`the script did not fail: ${script}`);
}

describe('cjson', () => {
  it('encodes as lua-cjson does: escapes, %.14g numbers, arrays and objects', async () => {
    expect(
      await run(
        "return cjson.encode({1, 2.5, 'a/b\"c\\\\', true, false, 1/3, 1e20, 123456789012345})",
      ),
    ).toBe('[1,2.5,"a\\/b\\"c\\\\",true,false,0.33333333333333,1e+20,1.2345678901234e+14]');
    // Ties at the 14th digit go to even, as C's printf does (JS would round 12345678901234.5 up).
    expect(await run('return cjson.encode({12345678901234.5, 2^-25})')).toBe(
      '[12345678901234,2.9802322387695e-08]',
    );
    expect(await run("return cjson.encode('\\0\\1\\8\\9\\10\\12\\13\\31\\127é')")).toBe(
      '"\\u0000\\u0001\\b\\t\\n\\f\\r\\u001f\\u007fé"',
    );
    expect(await run("return cjson.encode({a={b={'c', cjson.null}}})")).toBe(
      '{"a":{"b":["c",null]}}',
    );
    expect(await run('return cjson.encode({[-5]=1})')).toBe('{"-5":1}');
    expect(await run('return cjson.encode({[1]=1, [3]=3})')).toBe('[1,null,3]');
    expect(await run('return cjson.encode({})')).toBe('{}');
    expect(await run('return cjson.encode(nil)')).toBe('null');
    // A key past INT_MAX: lua-cjson's `int` holds INT_MIN then, and the table is written as an object.
    expect(await run('return cjson.encode({[2^40]=1})')).toBe('{"1099511627776":1}');
  });

  it('refuses what lua-cjson refuses, with its messages', async () => {
    expect(await failure('return cjson.encode({[1]=1, [20]=2})')).toBe(
      'ERR user_script:1: Cannot serialise table: excessively sparse array',
    );
    expect(await failure('return cjson.encode({[true]=1})')).toBe(
      'ERR user_script:1: Cannot serialise boolean: table key must be a number or string',
    );
    expect(await failure('return cjson.encode(function() end)')).toBe(
      'ERR user_script:1: Cannot serialise function: type not supported',
    );
    expect(await failure('return cjson.encode(0/0)')).toBe(
      'ERR user_script:1: Cannot serialise number: must not be NaN or Inf',
    );
    expect(await failure('return cjson.encode()')).toBe(
      "ERR user_script:1: bad argument #1 to 'encode' (expected 1 argument)",
    );
    expect(
      await failure(
        'local t = {} local c = t for i = 1, 1001 do c[1] = {} c = c[1] end return cjson.encode(t)',
      ),
    ).toBe('ERR user_script:1: Cannot serialise, excessive nesting (1001)');
  });

  it('decodes JSON to Lua values, null as cjson.null, numbers as strtod reads them', async () => {
    expect(await run('return cjson.decode(\'[1, "two", [3, 4.5], true]\')')).toEqual([
      1,
      'two',
      [3, 4],
      1,
    ]);
    expect(
      await run('return cjson.decode(ARGV[1]).user.tags[2]', '{"user":{"tags":["a","b"]}}'),
    ).toBe('b');
    expect(await run("return cjson.decode('[null]')[1] == cjson.null and 'null' or 'other'")).toBe(
      'null',
    );
    expect(await run('return cjson.decode(\'"\\\\u00e9\\\\ud83d\\\\ude00\\\\/\\\\n"\')')).toBe(
      'é😀/\n',
    );
    expect(
      await run("return {cjson.decode('0x10'), cjson.decode('+5'), cjson.decode('007')}"),
    ).toEqual([16, 5, 7]);
    // The text ends at a zero byte, as a C string does (two leading ones would be UTF-16).
    expect(await run("return cjson.decode('12\\0garbage')")).toBe(12);
    expect(await run('return cjson.encode(cjson.decode(\'{"k":[1,2,{"n":null}]}\'))')).toBe(
      '{"k":[1,2,{"n":null}]}',
    );
  });

  it('says what it expected and where when the text is not JSON', async () => {
    const cases: [string, string][] = [
      ['x', 'Expected value but found invalid token at character 1'],
      ['', 'Expected value but found T_END at character 1'],
      ['[1,]', 'Expected value but found T_ARR_END at character 4'],
      ['{"a":1,}', 'Expected object key string but found T_OBJ_END at character 8'],
      ['{"a" 1}', 'Expected colon but found T_NUMBER at character 6'],
      ['[1 2]', 'Expected comma or array end but found T_NUMBER at character 4'],
      ['1 2', 'Expected the end but found T_NUMBER at character 3'],
      ['"abc', 'Expected value but found unexpected end of string at character 5'],
      ['"a\\qb"', 'Expected value but found invalid escape code at character 3'],
      ['"\\udc00"', 'Expected value but found invalid unicode escape code at character 2'],
      ['-', 'Expected value but found invalid number at character 1'],
      ['\0\0', 'JSON parser does not support UTF-16 or UTF-32'],
    ];
    for (const [text, message] of cases) {
      const script = `return cjson.decode(${JSON.stringify(text).replace(/\\u0000/g, '\\0')})`;
      expect([text, await failure(script)]).toEqual([text, `ERR user_script:1: ${message}`]);
    }
    expect(await failure(`return cjson.decode('${'['.repeat(1001)}')`)).toBe(
      'ERR user_script:1: Found too many nested data structures (1001) at character 1001',
    );
  });

  it('takes the configuration functions, for the script that calls them', async () => {
    expect(await run('return {cjson.encode_sparse_array()}')).toEqual([null, 2, 10]);
    expect(await run('cjson.encode_sparse_array(true) return cjson.encode({[1]=1, [20]=2})')).toBe(
      '{"1":1,"20":2}',
    );
    expect(await run('cjson.encode_number_precision(3) return cjson.encode(1/3)')).toBe('0.333');
    expect(await run("cjson.encode_invalid_numbers('null') return cjson.encode({1/0})")).toBe(
      '[null]',
    );
    expect(await failure('return cjson.encode_number_precision(15)')).toBe(
      "ERR user_script:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)",
    );
    // A new script starts from the defaults.
    expect(await run('return cjson.encode(1/3)')).toBe('0.33333333333333');
  });
});

describe('cmsgpack', () => {
  it('packs numbers in their smallest form, as lua-cmsgpack does on Lua 5.1', async () => {
    const cases: [string, string][] = [
      ['0', '00'],
      ['127', '7f'],
      ['128', 'cc80'],
      ['65536', 'ce00010000'],
      ['4294967296', 'cf0000000100000000'],
      ['-1', 'ff'],
      ['-33', 'd0df'],
      ['-32769', 'd2ffff7fff'],
      ['-2147483649', 'd3ffffffff7fffffff'],
      ['0.5', 'ca3f000000'],
      ['0.1', 'cb3fb999999999999a'],
      ['1/0', 'ca7f800000'],
      ['2^63', 'ca5f000000'],
    ];
    for (const [expr, hex] of cases)
      expect([expr, await packed(`cmsgpack.pack(${expr})`)]).toEqual([expr, hex]);
  });

  it('packs strings, booleans, arrays, maps and what it cannot pack as nil', async () => {
    expect(await packed("cmsgpack.pack('abc', true, false, nil)")).toBe('a3616263c3c2c0');
    expect(await packed("cmsgpack.pack(string.rep('x', 32))")).toBe(`d920${'78'.repeat(32)}`);
    expect(await packed("cmsgpack.pack({1, 'a', {}})")).toBe('9301a16190');
    expect(await packed('cmsgpack.pack({a=1})')).toBe('81a16101');
    expect(await packed('cmsgpack.pack({[2]=1})')).toBe('810201');
    expect(await packed('cmsgpack.pack(function() end)')).toBe('c0');
    // Tables 16 deep are nil: a table that holds itself ends.
    expect(await packed('(function() local t = {} t[1] = t return cmsgpack.pack(t) end)()')).toBe(
      `${'91'.repeat(16)}c0`,
    );
    expect(await failure('return cmsgpack.pack()')).toBe(
      "ERR user_script:1: bad argument #0 to 'pack' (MessagePack pack needs input.)",
    );
  });

  it('unpacks every value, one at a time, or a few from an offset', async () => {
    expect(await run("return {cmsgpack.unpack(cmsgpack.pack(1, 'a', {2, 3}, true, -5))}")).toEqual([
      1,
      'a',
      [2, 3],
      1,
      -5,
    ]);
    expect(
      await run("local t = cmsgpack.unpack('\\130\\161a\\1\\161b\\2') return {t.a, t.b}"),
    ).toEqual([1, 2]);
    // uint 64 past 2^63 comes back negative: lua-cmsgpack pushes it as a signed integer.
    expect(
      await run("return cmsgpack.unpack('\\207\\255\\255\\255\\255\\255\\255\\255\\255')"),
    ).toBe(-1);
    expect(await run("return {cmsgpack.unpack_one('\\1\\2\\3')}")).toEqual([1, 1]);
    expect(await run("return {cmsgpack.unpack_one('\\1\\2\\3', 2)}")).toEqual([-1, 3]);
    expect(await run("return {cmsgpack.unpack_limit('\\1\\2\\3', 2, 1)}")).toEqual([-1, 2, 3]);
    expect(await run("return {cmsgpack.unpack_limit('\\1\\2\\3', 0)}")).toEqual([1, 2, 3]);
    expect(await failure("return cmsgpack.unpack('\\205\\1')")).toBe(
      'ERR user_script:1: Missing bytes in input.',
    );
    expect(await failure("return cmsgpack.unpack('\\193')")).toBe(
      'ERR user_script:1: Bad data format in input.',
    );
    expect(await failure("return cmsgpack.unpack_one('\\1', 5)")).toBe(
      'ERR user_script:1: Start offset 5 greater than input length 1.',
    );
    expect(await failure("return cmsgpack.unpack('\\129\\192\\1')")).toBe('ERR table index is nil');
  });
});

describe('bit', () => {
  it('works on 32 bits as LuaBitOp does, results signed', async () => {
    expect(
      await run(
        'return {bit.tobit(2^32 + 1), bit.tobit(0xffffffff), bit.tobit(2.5), bit.tobit(3.5), ' +
          'bit.bnot(0), bit.band(0xff, 0x0f, 0x3), bit.bor(1, 2, 4), bit.bxor(0xff, 0x0f), ' +
          'bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.rol(0x12345678, 8), ' +
          "bit.ror(0x12345678, 8), bit.bswap(0x12345678), bit.tobit('12')}",
      ),
    ).toEqual([
      1, -1, 2, 4, -1, 3, 7, 240, -2147483648, 15, -16, 878082066, 2014458966, 2018915346, 12,
    ]);
    expect(
      await run('return {bit.tohex(255), bit.tohex(-1), bit.tohex(255, -4), bit.tohex(0x1234, 2)}'),
    ).toEqual(['000000ff', 'ffffffff', '00FF', '34']);
    expect(await failure("return bit.band(1, 'x')")).toBe(
      "ERR user_script:1: bad argument #2 to 'band' (number expected, got string)",
    );
  });
});
