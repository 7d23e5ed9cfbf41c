import { Logger } from '@nestjs/common';
import type { Redis } from 'ioredis';
import { createHash } from 'node:crypto';
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

  it('takes the configuration functions; the settings stay for later scripts, as in Redis', async () => {
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
    // Later scripts run on the same Lua state, with these settings; SCRIPT FLUSH gives a new one.
    expect(await run('return cjson.encode(1/3)')).toBe('0.333');
    expect(await client.script('FLUSH')).toBe('OK');
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

describe('struct', () => {
  it('packs and unpacks as lua_struct.c does on x86-64: sizes, order, alignment, strings', async () => {
    expect(await packed("struct.pack('>I2 <i4 b B', 513, -2, -1, 255)")).toBe('0201feffffffffff');
    expect(await packed("struct.pack('!4 b i', 1, 2)")).toBe('0100000002000000');
    expect(await packed("struct.pack('>d f', -2.5, 0.1)")).toBe('c0040000000000003dcccccd');
    expect(await packed("struct.pack('c3 c0 s', 'abcdef', 'xy', 'z')")).toBe('61626378797a00');
    expect(await packed("struct.pack('>i3 I12', -1, 2^60)")).toBe('ffffff000000001000000000000000');
    // Through a C long: 2^64 and NaN become 0, negative numbers their two's complement.
    expect(await packed("struct.pack('<I4 I4 i8', 2^64, 0/0, -2)")).toBe(
      '0000000000000000feffffffffffffff',
    );
    expect(
      await run(
        "return {struct.unpack('>I2 <i4 s b c0', '\\1\\2\\254\\255\\255\\255hi\\0\\2xyz')}",
      ),
    ).toEqual([258, -2, 'hi', 'xy', 13]);
    expect(await run("return {struct.unpack('b c0', '\\3abcdef')}")).toEqual(['abc', 5]);
    expect(await run("return {struct.unpack('!4 b i', '\\1\\0\\0\\0\\2\\0\\0\\0', 1)}")).toEqual([
      1, 2, 9,
    ]);
    expect(
      await run("return {struct.size('bhil'), struct.size('!8 b d'), struct.size('c5 i2')}"),
    ).toEqual([15, 16, 7]);
  });

  it('refuses what lua_struct.c refuses, with its messages', async () => {
    const cases: [string, string][] = [
      ["struct.pack('z')", "bad argument #1 to 'pack' (invalid format option 'z')"],
      ["struct.pack('!3')", 'alignment 3 is not a power of 2'],
      ["struct.pack('i40', 1)", 'integral size 40 is larger than limit of 32'],
      ["struct.pack('c3', 'ab')", "bad argument #3 to 'pack' (string too short)"],
      ["struct.pack('i')", "bad argument #2 to 'pack' (number expected, got nil)"],
      ["struct.unpack('i', 'ab')", "bad argument #2 to 'unpack' (data string too short)"],
      ["struct.unpack('s', 'abc')", 'unfinished string in data'],
      ["struct.unpack('c0', 'abc')", "format 'c0' needs a previous size"],
      ["struct.unpack('b', 'abc', 0)", "bad argument #3 to 'unpack' (offset must be 1 or greater)"],
      ["struct.size('s')", "bad argument #1 to 'size' (option 's' has no fixed size)"],
    ];
    for (const [call, message] of cases) {
      expect([call, await failure(`return ${call}`)]).toEqual([
        call,
        `ERR user_script:1: ${message}`,
      ]);
    }
  });
});

describe('the script environment', () => {
  it("has Lua 5.1's globals, not 5.3's, and none of those Redis removes", async () => {
    expect(
      await run(
        "return {select('#', unpack({1, 2, 3})), loadstring('return 7')(), math.pow(2, 10), table.getn({1, 2}), " +
          'table.maxn({1, [10]=2}), math.mod(7, 3), math.log10(1000), math.ldexp(0.5, 4), _VERSION, ' +
          "string.gfind('a b', '%a')()}",
      ),
    ).toEqual([3, 7, 1024, 2, 10, 1, 3, 8, 'Lua 5.1', 'a']);
    expect(await run('return {math.frexp(-0.3)}')).toEqual([0, -1]); // -0.6 and -1, as integers in the reply
    expect(await run('local m, e = math.frexp(48) return {m * 100, e}')).toEqual([75, 6]);
    expect(
      await run("redis.call('set', 'a', 'v') return redis.call('del', unpack({'a', 'b'}))"),
    ).toBe(1);
    for (const name of [
      'print',
      'os',
      'io',
      'require',
      'dofile',
      'loadfile',
      'package',
      'debug',
      'utf8',
    ]) {
      expect([name, await failure(`return ${name}`)]).toEqual([
        name,
        `ERR user_script:1: Script attempted to access nonexistent global variable '${name}'`,
      ]);
    }
    expect(await run('return {type(table.unpack), type(string.pack), type(math.type)}')).toEqual([
      'nil',
      'nil',
      'nil',
    ]);
    expect(await failure('return table.setn({}, 1)')).toBe("ERR user_script:1: 'setn' is obsolete");
    expect(await failure("return math.pow('x', 2)")).toBe(
      "ERR user_script:1: bad argument #1 to 'pow' (number expected, got string)",
    );
  });

  it("writes numbers with tostring as Lua 5.1 does (%.14g), where fengari's 5.3 writes 5.0", async () => {
    expect(
      await run(
        'local z = 0 return {tostring(10/2), tostring(1e20), tostring(0.1), tostring(2^53), ' +
          'tostring(12345678901234.5), tostring(1/z), tostring(-1/z), tostring(0/z), tostring(7)}',
      ),
    ).toEqual([
      '5',
      '1e+20',
      '0.1',
      '9.007199254741e+15',
      '12345678901234',
      'inf',
      '-inf',
      '-nan',
      '7',
    ]);
    // (One zero constant a script: Lua 5.1 keeps 0 and -0 as one.)
    expect(await run('local z = 0.0 return tostring(-z)')).toBe('-0');
    expect(await failure('return tostring()')).toBe(
      "ERR user_script:1: bad argument #1 to 'tostring' (value expected)",
    );
    // A number given to a command is written with %.17g: -0 and infinities as C writes them.
    expect(
      await run(
        "local z = 0.0 redis.call('rpush', 'l', -z) return redis.call('lrange', 'l', 0, -1)",
      ),
    ).toEqual(['-0']);
    expect(
      await run("redis.call('rpush', 'm', 1/0, 0.1) return redis.call('lrange', 'm', 0, -1)"),
    ).toEqual(['inf', '0.10000000000000001']);
  });

  it('refuses to write globals or library tables, and to read globals that do not exist, as Redis 7 does', async () => {
    for (const script of [
      'x = 5 return x',
      'function helper() end return 1',
      '_G.y = 1',
      'redis.foo = 1',
      'string.x = 1',
      'cjson.x = 1',
    ]) {
      expect([script, await failure(script)]).toEqual([
        script,
        'ERR user_script:1: Attempt to modify a readonly table',
      ]);
    }
    expect(await failure('return undefined_name')).toBe(
      "ERR user_script:1: Script attempted to access nonexistent global variable 'undefined_name'",
    );
    expect(await run('return {pcall(function() return missing end)}')).toEqual([
      null, // false
      "user_script:1: Script attempted to access nonexistent global variable 'missing'",
    ]);
    // Locals, and the library tables' own functions, are untouched.
    expect(
      await run("local x = 5 local s = ('abc'):upper() return {x, s, string.rep('ab', 2)}"),
    ).toEqual([5, 'ABC', 'abab']);
    expect(await run('local n = 0 for _ in pairs(math) do n = n + 1 end return n > 20')).toBe(1);
  });

  it('runs every script on one Lua state: KEYS and ARGV per run, settings kept, reset by SCRIPT FLUSH', async () => {
    const script = "return {#KEYS, #ARGV, KEYS[1] or '-', ARGV[1] or '-'}";
    expect(await client.eval(script, 1, 'k1', 'a1')).toEqual([1, 1, 'k1', 'a1']);
    expect(await client.eval(script, 2, 'k2', 'k3')).toEqual([2, 0, 'k2', '-']);
    expect(await client.evalsha(createHash('sha1').update(script).digest('hex'), 0, 'x')).toEqual([
      0,
      1,
      '-',
      'x',
    ]);
    // A failed script leaves nothing behind for the next one.
    expect(await failure('local t = {} t.x = t.x.y')).toMatch(
      /^ERR user_script:1: attempt to index /,
    );
    expect(await run('return 1 + 1')).toBe(2);
  });

  it("has Redis's redis.* functions and constants", async () => {
    expect(
      await run(
        'redis.set_repl(redis.REPL_ALL) redis.setresp(2) return {redis.replicate_commands(), redis.REPL_NONE, ' +
          'redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL, redis.REDIS_VERSION, ' +
          'redis.REDIS_VERSION_NUM, redis.breakpoint(), redis.debug("x"), redis.LOG_WARNING}',
      ),
    ).toEqual([1, 0, 1, 2, 2, 3, '7.0.15', 0x07000f, null]);
    expect(await failure('return redis.set_repl()')).toBe(
      'ERR redis.set_repl() requires two arguments.',
    );
    expect(await failure('return redis.set_repl(8)')).toBe(
      'ERR Invalid replication flags. Use REPL_AOF, REPL_REPLICA, REPL_ALL or REPL_NONE.',
    );
    expect(await failure('return redis.setresp(4)')).toBe('ERR RESP version must be 2 or 3.');
    expect(await failure('return redis.setresp(3)')).toBe(
      'ERR redis.setresp(3) is not supported by the embedded cache.',
    );
    expect(await failure('return redis.log()')).toBe(
      'ERR redis.log() requires two arguments or more.',
    );
    expect(await failure("return redis.log('x', 'y')")).toBe(
      'ERR First argument must be a number (log level).',
    );
    expect(await failure("return redis.log(9, 'y')")).toBe('ERR Invalid debug level.');
  });

  it("writes redis.log's messages to Nest's logger, at the level's counterpart", async () => {
    const seen: string[] = [];
    const capture = (level: string) => (message: unknown) =>
      void seen.push(`${level} ${String(message)}`);
    Logger.overrideLogger({
      log: capture('log'),
      warn: capture('warn'),
      error: capture('error'),
      debug: capture('debug'),
      verbose: capture('verbose'),
    });
    try {
      await run(
        "redis.log(redis.LOG_WARNING, 'low stock', 3) redis.log(redis.LOG_NOTICE, 'note') " +
          "redis.log(redis.LOG_DEBUG, 'detail') return 1",
      );
    } finally {
      Logger.overrideLogger(false);
    }
    expect(seen).toEqual([
      'warn Lua script: low stock 3',
      'log Lua script: note',
      'debug Lua script: detail',
    ]);
  });
});

describe('limits of the libraries', () => {
  it('fail where Redis fails, with its errors, not on JS stack exhaustion', async () => {
    // lua-cmsgpack's frame holds two values a level of nesting, and Lua 5.1's hold 8000.
    expect(await run("return type(cmsgpack.unpack(string.rep('\\145', 3999) .. '\\1'))")).toBe(
      'table',
    );
    expect(await failure("return cmsgpack.unpack(string.rep('\\145', 4000) .. '\\1')")).toBe(
      'ERR user_script:1: stack overflow (in function mp_decode_to_lua_array)',
    );
    expect(await run("return select('#', cmsgpack.unpack(string.rep('\\1', 7999)))")).toBe(7999);
    expect(await failure("return select('#', cmsgpack.unpack(string.rep('\\1', 8000)))")).toBe(
      'ERR user_script:1: stack overflow (too many return values at once; use unpack_one or unpack_limit instead.)',
    );
    // A setting NaN is 0 as C's int, out of the range; 2^32 + 5 wraps to 5.
    expect(await failure('return cjson.encode_number_precision(0/0)')).toBe(
      "ERR user_script:1: bad argument #1 to 'encode_number_precision' (expected integer between 1 and 14)",
    );
    expect(await run('local r = cjson.encode_number_precision(2^32 + 5) return r')).toBe(5);
    // A number as long as it comes (strtod reads it whole).
    expect(await run("return cjson.decode('0.' .. string.rep('0', 1200) .. '15e1201')")).toBe(1);
    expect(await failure('return cmsgpack.unpack_one()')).toBe(
      "ERR user_script:1: bad argument #1 to 'unpack_one' (string expected, got no value)",
    );
  });
});

describe('the protection of the one Lua state', () => {
  it('keeps every script from changing what the next one sees', async () => {
    const writes = [
      "tostring = function() return 'pwned' end",
      'redis = {}',
      'KEYS = {}',
      'unpack = nil',
      'local _, real = pairs(redis) real.call = nil',
      "getmetatable('').__index.rep = nil",
      "getmetatable('').__add = function() return 1 end",
      "getmetatable(cjson).kept = 'for later'",
      'getmetatable(_G).y = 1',
    ];
    for (const script of writes) {
      expect([script, await failure(script)]).toEqual([
        script,
        'ERR user_script:1: Attempt to modify a readonly table',
      ]);
    }
    for (const script of [
      "rawset(_G, 'leak', 5)",
      "rawset(string, 'x', 1)",
      'setmetatable(string, {})',
    ]) {
      expect([script, await failure(script)]).toEqual([
        script,
        'ERR Attempt to modify a readonly table',
      ]);
    }
    expect(
      await run(
        "return {tostring(1), type(redis.call), string.rep('a', 2), type(unpack), rawget(_G, 'leak') or 'none'}",
      ),
    ).toEqual(['1', 'function', 'aa', 'function', 'none']);
    // A chunk's _ENV (a Lua 5.3 upvalue) is the globals again at each run of the same script.
    const counter =
      "local e = _ENV if rawget(e, 'n') == nil then _ENV = setmetatable({n = 0}, {__index = e}) end n = n + 1 return n";
    expect([await run(counter), await run(counter)]).toEqual([1, 1]);
    // Reading through the views: rawget, next and pairs find what the tables hold.
    expect(
      await run(
        "local n = 0 for _ in pairs(string) do n = n + 1 end return {n > 10, rawget(string, 'upper') ~= nil, next(math) ~= nil}",
      ),
    ).toEqual([1, 1, 1]);
  });

  it('survives what could break the state: metamethods on a reply, a nested script, the error handler', async () => {
    expect(await run("return setmetatable({1, 2}, {__index = function() error('x') end})")).toEqual(
      [1, 2],
    );
    // Nested replies: past fengari's 20 guaranteed stack slots, and past what JS's stack reads.
    const nested = (depth: number): string =>
      `local t = {} local c = t for i = 1, ${depth} do c[1] = {} c = c[1] end return t`;
    let reply = await run(nested(25));
    let depth = 0;
    while (Array.isArray(reply) && reply.length > 0) [reply, depth] = [reply[0], depth + 1];
    expect(depth).toBe(25);
    await expect(run(nested(50_000))).rejects.toThrow(/^ERR reached lua stack limit$/);
    expect(await run('return 1')).toBe(1);
    expect(await failure("rawset(_G, '__redis__err__handler', nil)")).toBe(
      'ERR Attempt to modify a readonly table',
    );
    client.defineCommand('inner', { numberOfKeys: 0, lua: "return 'inner'" });
    expect(await failure("return redis.call('inner')")).toBe(
      'ERR Unknown Redis command called from script',
    );
    expect(await failure("redis.call('INNER') return redis.call('ping')")).toBe(
      'ERR Unknown Redis command called from script',
    );
    expect(await (client as unknown as { inner(): Promise<unknown> }).inner()).toBe('inner');
    expect(await run("return redis.call('ping')")).toEqual('PONG');
  });
});

describe("Lua 5.1's functions and Redis's", () => {
  it("draw math.random's numbers from Redis's generator", async () => {
    // The same numbers from the same seed (and from a new state's) as Redis.
    expect(
      await run('return {math.random(100), math.random(1000), tostring(math.random())}'),
    ).toEqual([40, 841, '0.35333609737146']);
    expect(await run('math.randomseed(42) return {math.random(100), math.random(1, 6)}')).toEqual([
      75, 3,
    ]);
  });

  it('answer as in Redis', async () => {
    expect(
      await run(
        "local ok, e = pcall(redis.call, 'nosuch') " +
          'return {ok, e, tostring(math.log(100, 10)), tostring(math.fmod(7, 0)), math.random(3.7) <= 3, math.ldexp(1, 2^40)}',
      ),
    ).toEqual([
      null,
      'ERR Unknown Redis command called from script',
      '4.6051701859881',
      '-nan',
      1,
      1,
    ]);
    expect(
      await run('return {math.atan2(1, 1) * 4 > 3, type(table.foreach), type(table.foreachi)}'),
    ).toEqual([1, 'function', 'function']);
    expect(
      await run(
        'return {table.foreachi({10, 20}, function(i, v) if v == 20 then return i end end)}',
      ),
    ).toEqual([2]);
    expect(await run('return {unpack({1, 2, 3}, 2.7)}')).toEqual([2, 3]);
    expect(await failure("return unpack('abc')")).toBe(
      "ERR user_script:1: bad argument #1 to 'unpack' (table expected, got string)",
    );
    expect(await failure('return unpack({}, 1, 8000)')).toBe(
      'ERR user_script:1: too many results to unpack',
    );
    expect(await failure("return load('return 1')")).toBe(
      "ERR user_script:1: bad argument #1 to 'load' (function expected, got string)",
    );
    expect(
      await run('local f = loadstring(string.dump(function() return 1 end)) return type(f)'),
    ).toBe('nil');
    expect(
      await run('return tostring(setmetatable({}, {__tostring = function() return 42 end})) + 1'),
    ).toBe(43);
    expect(
      await run(
        "return {tostring(setmetatable({}, {__name = 'x'})):sub(1, 6), type(coroutine.running())}",
      ),
    ).toEqual(['table:', 'nil']);
    expect(await failure('error(5)')).toBe('ERR user_script:1: 5');
    expect(await failure('return redis.sha1hex()')).toBe('ERR wrong number of arguments');
    expect(await failure("return redis.error_reply('x')")).toBe('ERR x');
    expect(await failure("return redis.error_reply('-MY bad thing')")).toBe('MY bad thing');
  });
});

describe("Lua 5.1's numbers", () => {
  it('are doubles: no wrap-around at 2^31, for loops past it end, hex numerals of 64 bits', async () => {
    // fengari's Lua 5.3 read these as 32-bit integers: 1700000000 * 1000 was -807049216.
    expect(await run('return tostring(tonumber(ARGV[1]) * 1000)', '1700000000')).toBe(
      '1700000000000',
    );
    expect(await run('return tonumber(ARGV[1]) * 1000', '1700000000')).toBe(1_700_000_000_000);
    expect(await run('return {1700000000 + 1700000000, 65536 * 65536}')).toEqual([
      3_400_000_000, 4_294_967_296,
    ]);
    expect(await run('local s = 0 for i = 1, 100000 do s = s + i end return s')).toBe(
      5_000_050_000,
    );
    // The loop's counter was an integer that wrapped around before reaching the limit: the script never ended.
    expect(
      await run('local n = 0 for i = 1, 3000000000, 1000000000 do n = n + 1 end return n'),
    ).toBe(3);
    expect(await run('return math.floor(2147483647.5) + math.floor(2147483647.5)')).toBe(
      4_294_967_294,
    );
    expect(await run("return {tostring(0x100000000), tostring(tonumber('0x10'))}")).toEqual([
      '4294967296',
      '16',
    ]);
  });

  it('become text with %.14g wherever a number becomes text: .., table.concat, string.len', async () => {
    // `now .. '-' .. id` gave '1700000000123.0-abc': a member name, a key name written wrong.
    expect(await run("return tonumber(ARGV[1]) .. '-' .. ARGV[2]", '1700000000123', 'abc')).toBe(
      '1700000000123-abc',
    );
    expect(
      await run(
        "return {1e15 .. '', 1e14 .. '', (10 / 2) .. '', -0.0 .. '', (1/0) .. '', 2^63 .. ''}",
      ),
    ).toEqual(['1e+15', '1e+14', '5', '-0', 'inf', '9.2233720368548e+18']);
    expect(await run("return table.concat({1, 2.5, 1/3}, ',')")).toBe('1,2.5,0.33333333333333');
    expect(await run('return string.len(10 / 2)')).toBe(1);
    expect(await run("return ('10' + 1) .. ',' .. ('3' * '4')")).toBe('11,12');
  });

  it("are read by tonumber as Lua 5.1 reads them (C's strtod and strtoul), inf and nan too", async () => {
    // A reply of 2^64 - 1 is C's cast to long long: LLONG_MIN, which ioredis's parser reads as this.
    const LLONG_MIN = -9223372036854778000;
    // Each argument's number with %.17g, 'nan' or 'nil' (the values redis-server 7.0 answers).
    const read = (...args: string[]): Promise<unknown> =>
      run(
        'local out = {} for i, a in ipairs(ARGV) do local n = tonumber(a) ' +
          "out[i] = n == nil and 'nil' or n ~= n and 'nan' or string.format('%.17g', n) end return out",
        ...args,
      );
    expect(
      await read('inf', '-Infinity', '+inf', 'nan', 'NaN(12)', '1e500', 'infx', 'in', 'nan x'),
    ).toEqual(['inf', '-inf', 'inf', 'nan', 'nan', 'inf', 'nil', 'nil', 'nil']);
    expect(
      await read(' 5 ', '\t7\n', '0x10', ' 0x1p4 ', '-0x1.8p1', '.5', '5.', '+3', '-0'),
    ).toEqual(['5', '7', '16', '16', '-3', '0.5', '5', '3', '-0']);
    expect(await read('', ' ', '0x', '1e', '12abc', '1 2', '1_000', '\u0661')).toEqual(
      Array(8).fill('nil'),
    );
    expect(
      await run(
        "return {tonumber('ff', 16), tonumber(' 11 ', 2), tonumber('0x1f', 16), tonumber('+z', 36), " +
          "tostring(tonumber('8', 8)), tonumber('-1', 16), tonumber('ffffffffffffffffffff', 16), " +
          "tostring(tonumber({})), type(tonumber('5')), tostring(tonumber('inf', 10))}",
      ),
    ).toEqual([255, 3, 31, 35, 'nil', LLONG_MIN, LLONG_MIN, 'nil', 'number', 'inf']);
    expect(await failure('return tonumber()')).toBe(
      "ERR user_script:1: bad argument #1 to 'tonumber' (value expected)",
    );
    expect(await failure("return tonumber('10', 37)")).toBe(
      "ERR user_script:1: bad argument #2 to 'tonumber' (base out of range)",
    );
    expect(await failure('return tonumber({}, 16)')).toBe(
      "ERR user_script:1: bad argument #1 to 'tonumber' (string expected, got table)",
    );
  });
});

describe("Lua 5.1's string.format", () => {
  it('converts as C does: %d of a float, 64-bit integers, glibc rounding to even', async () => {
    const format = (spec: string, ...values: string[]): Promise<unknown> =>
      run(`return string.format('${spec}', ${values.join(', ')})`);
    expect(await format('%d|%i|%d', '3.7', '-0.5', '2^31')).toBe('3|0|2147483648');
    expect(await format('%d|%d', '2^63', '0/0')).toBe('-9223372036854775808|-9223372036854775808');
    expect(await format('%x|%X|%#x|%#o|%u|%x', '2^32', '255', '255', '8', '-1', '-1')).toBe(
      '100000000|FF|0xff|010|18446744073709551615|ffffffffffffffff',
    );
    expect(
      await format('[%5d|%-5d|%05d|%+d|% d|%.3d|%.0d]', '42', '42', '42', '42', '42', '7', '0'),
    ).toBe('[   42|42   |00042|+42| 42|007|]');
    expect(await format('%e|%E|%.0e|%.0e', '12345.678', '0.000123', '2.5', '3.5')).toBe(
      '1.234568e+04|1.230000E-04|2e+00|4e+00',
    );
    expect(
      await format('%g|%g|%g|%g|%#g|%.3g', '1e20', '100000', '1000000', '0.0001', '1', '3.14159'),
    ).toBe('1e+20|100000|1e+06|0.0001|1.00000|3.14');
    expect(await format('%.0f|%.0f|%.0f|%.2f|%.20f', '0.5', '1.5', '2.5', '-0.001', '0.1')).toBe(
      '0|2|2|-0.00|0.10000000000000000555',
    );
    expect(
      await format('[%10.4f|%-10.2f|%010.3f|%5.1f|%f]', '3.14159', '2.5', '-1.5', '1/0', '0/0'),
    ).toBe('[    3.1416|2.50      |-00001.500|  inf|-nan]');
    expect(await format('%c%c%c|%5c|', '72', '105', '33', '65')).toBe('Hi!|    A|');
  });

  it('formats strings and numbers with %s and %q, and refuses what Lua 5.1 refuses', async () => {
    expect(await run("return string.format('%s|%s|%5s|%-3s|%.2s', 5, 2.5, 'ab', 'x', 'abc')")).toBe(
      '5|2.5|   ab|x  |ab',
    );
    expect(await run("return string.format('%q', 'a\"b\\\\c\\nd\\re\\0f')")).toBe(
      '"a\\"b\\\\c\\\nd\\re\\000f"',
    );
    expect(await run("return #string.format('%s', string.rep('x', 120))")).toBe(120);
    expect(await failure("return string.format('%s', nil)")).toBe(
      "ERR user_script:1: bad argument #2 to 'format' (string expected, got nil)",
    );
    expect(await failure("return string.format('%a', 1)")).toBe(
      "ERR user_script:1: invalid option '%a' to 'format'",
    );
    expect(await failure("return string.format('%d')")).toBe(
      "ERR user_script:1: bad argument #2 to 'format' (no value)",
    );
    expect(await failure("return string.format('%-+ #0-d', 1)")).toBe(
      'ERR user_script:1: invalid format (repeated flags)',
    );
    expect(await failure("return string.format('%123d', 1)")).toBe(
      'ERR user_script:1: invalid format (width or precision too long)',
    );
  });

  it('takes string.rep, table.insert, assert and tostring of cjson.null from Lua 5.1 too', async () => {
    expect(await run("return {string.rep('ab', 3, ','), string.rep('ab', 0)}")).toEqual([
      'ababab',
      '',
    ]);
    expect(
      await run("local t = {'x', 'y'} table.insert(t, 5, 'z') return {t[1], t[2], t[5], #t}"),
    ).toEqual(['x', 'y', 'z', 2]);
    expect(await run('local t = {1, 2} table.insert(t, 1, 0) table.insert(t, 3) return t')).toEqual(
      [0, 1, 2, 3],
    );
    expect(await failure("return assert(false, {err='X y'})")).toBe(
      "ERR user_script:1: bad argument #2 to 'assert' (string expected, got table)",
    );
    expect(await failure('return assert(false)')).toBe('ERR user_script:1: assertion failed!');
    expect(await run('return {assert(1, 2, 3)}')).toEqual([1, 2, 3]);
    expect(await run('return tostring(cjson.null)')).toBe('userdata: (nil)');
    // The count through 64 bits, then a C int (2^32 + 2 is 2); more than a string can hold is Lua's memory error.
    expect(await run("return string.rep('ab', 2^32 + 2)")).toBe('abab');
    expect(
      await run("local ok, e = pcall(string.rep, 'abc', 2^31 - 1) return {tostring(ok), e}"),
    ).toEqual(['false', 'not enough memory']);
    expect(
      await run("return {tostring(0x10000000000000000000), tostring(tonumber('+0x100000000'))}"),
    ).toEqual(['7.5557863725914e+22', '4294967296']);
  });
});

describe('commands Redis does not run from a script', () => {
  it('are refused with its errors, the number of arguments checked first', async () => {
    const notAllowed = 'ERR This Redis command is not allowed from script';
    const wrongArgs = 'ERR Wrong number of args calling Redis command from script';
    expect(await failure("return redis.call('blpop', 'l', 0)")).toBe(notAllowed);
    expect(await failure("return redis.call('brpoplpush', 'l', 'm', 1)")).toBe(notAllowed);
    expect(await failure("return redis.call('auth', 'x')")).toBe(notAllowed);
    expect(await failure("return redis.call('config', 'set', 'maxmemory', '0')")).toBe(notAllowed);
    expect(await failure("return redis.call('client', 'list')")).toBe(notAllowed);
    expect(await failure("return redis.call('blpop', 'l')")).toBe(wrongArgs);
    expect(await failure("return redis.call('client')")).toBe(wrongArgs);
    expect(await failure("return redis.call('wait', 0)")).toBe(wrongArgs);
    expect(await failure("return redis.call('xread', 'BLOCK', 0, 'STREAMS', 's', '$')")).toBe(
      'ERR xread command is not allowed with BLOCK option from scripts',
    );
    // Without BLOCK, XREAD runs.
    expect(await run("return redis.call('XREAD', 'STREAMS', 's', '0')")).toBeNull();
  });
});

describe('read-only scripts (EVAL_RO, EVALSHA_RO)', () => {
  it('run reads and refuse writes with Redis 7 error, its arity check first', async () => {
    await client.set('a', 'v');
    expect(await client.call('eval_ro', "return redis.call('get', KEYS[1])", '1', 'a')).toBe('v');
    const refused = (script: string): Promise<string> =>
      Promise.resolve(client.call('eval_ro', script, '0')).then(
        () => 'ran',
        (error: Error) =>
          error.message.replace(/ script: [0-9a-f]{40}, on @user_script:\d+\.$/, ''),
      );
    expect(await refused("return redis.call('set', 'a', 'w')")).toBe(
      'ERR Write commands are not allowed from read-only scripts.',
    );
    expect(await refused("return redis.call('del', 'a')")).toBe(
      'ERR Write commands are not allowed from read-only scripts.',
    );
    // Commands that may replicate are refused too.
    expect(await refused("return redis.call('pfcount', 'h')")).toBe(
      'ERR Write commands are not allowed from read-only scripts.',
    );
    expect(await refused("return redis.call('set', 'a')")).toBe(
      'ERR Wrong number of args calling Redis command from script',
    );
    expect(await client.get('a')).toBe('v');
    const sha = (await client.script('LOAD', "return redis.call('get', 'a')")) as string;
    expect(await client.call('evalsha_ro', sha, '0')).toBe('v');
    await expect(client.call('evalsha_ro', '0'.repeat(40), '0')).rejects.toThrow(
      'NOSCRIPT No matching script. Please use EVAL.',
    );
  });
});

describe("scripts with Redis 7's flags (a first line `#!lua flags=…`)", () => {
  const outcome = (script: string, ...rest: string[]): Promise<unknown> =>
    Promise.resolve(client.eval(script, rest.length, ...rest)).catch((error: Error) =>
      error.message.replace(/ script: [0-9a-f]{40}, on @user_script:(\d+)\.$/, ' (line $1)'),
    );

  it('run without their first line, its line counted; no-writes refuses writes', async () => {
    await client.set('a', 'v');
    expect(await outcome("#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", 'a')).toBe(
      'v',
    );
    expect(
      await outcome("#!lua flags=no-writes\nreturn redis.call('set', KEYS[1], 'w')", 'a'),
    ).toBe('ERR Write commands are not allowed from read-only scripts. (line 2)');
    expect(await outcome("#!lua\nreturn redis.call('set', KEYS[1], 'w')", 'a')).toBe('OK');
    expect(await outcome("#!lua\n\nerror('boom')")).toBe('ERR user_script:3: boom (line 3)');
    expect(await outcome('#!lua flags=\nreturn 1')).toBe(1);
    await expect(client.call('eval_ro', '#!lua\nreturn 1', '0')).rejects.toThrow(
      'ERR Can not execute a script with write flag using *_ro command.',
    );
    expect(await client.call('eval_ro', '#!lua flags=no-writes\nreturn 1', '0')).toBe(1);
  });

  it("refuse a shebang Redis refuses, with Redis's errors", async () => {
    expect(await outcome('#!lua')).toBe('ERR Invalid script shebang');
    expect(await outcome('#!python\nreturn 1')).toBe(
      'ERR Unexpected engine in script shebang: #!python',
    );
    expect(await outcome('#!lua flags=no-writes,foo\nreturn 1')).toBe(
      'ERR Unexpected flag in script shebang: foo',
    );
    expect(await outcome('#!lua name=x\nreturn 1')).toBe('ERR Unknown lua shebang option: name=x');
    await expect(client.script('LOAD', '#!lua flags=bar\nreturn 1')).rejects.toThrow(
      'ERR Unexpected flag in script shebang: bar',
    );
  });

  it('with memory full: no-writes and allow-oom run, a script with neither is refused whole', async () => {
    await client.set('a', 'v');
    await client.config('SET', 'maxmemory', '1');
    expect(await outcome("#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", 'a')).toBe(
      'v',
    );
    expect(
      await outcome("#!lua flags=allow-oom\nreturn redis.call('set', KEYS[1], 'w')", 'a'),
    ).toBe('OK');
    expect(await outcome("#!lua\nreturn redis.call('get', KEYS[1])", 'a')).toBe(
      "OOM command not allowed when used memory > 'maxmemory'.",
    );
    expect(await client.get('a')).toBe('w');
  });
});

describe('error replies of scripts', () => {
  it("word runtime errors as Lua 5.1 does, where fengari's 5.3 words them its way", async () => {
    expect(await failure('local t = nil; return t.x')).toBe(
      "ERR user_script:1: attempt to index local 't' (a nil value)",
    );
    expect(await failure("return ('x'):bad()")).toBe(
      "ERR user_script:1: attempt to call method 'bad' (a nil value)",
    );
    expect(await failure('local x; return x + 1')).toBe(
      "ERR user_script:1: attempt to perform arithmetic on local 'x' (a nil value)",
    );
    expect(await failure('return #nil')).toBe(
      'ERR user_script:1: attempt to get length of a nil value',
    );
    expect(await failure('return 1 end')).toBe(
      "ERR Error compiling script (new function): user_script:1: '<eof>' expected near 'end'",
    );
  });
});
