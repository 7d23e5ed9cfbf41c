import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { createEmbeddedClient } from '../lib/ioredis-mock/adapter';
import { Keyspace } from '../lib/keyspace/keyspace';
import { digest, expectSameData } from './support/digest';
import { bootWith, copyOfStore, durable, removeTempDirs, tempDir } from './support/harness';
import { findRedisServer, startRedisServer, type RedisServer } from './support/redis-server';

/**
 * The commands the embedded client corrects (lib/embedded/command-rules.ts, expiry-rules.ts) answer as a real
 * redis-server 7 does: the same reply or the same error text, and the same keys afterwards (nothing stored when the
 * command is refused). Each case runs on a fresh keyspace holding one key of each type, on both.
 */

type Cmd = [string, ...string[]];
type KeyType = 'string' | 'hash' | 'list' | 'set' | 'zset' | 'stream';

const FIXTURE: Cmd[] = [
  ['set', 'str', 'v'],
  ['set', 'num', '10'],
  ['set', 'big', '9223372036854775807'],
  ['set', 'spaced', ' 1'],
  ['hset', 'h', 'f', 'v', 'n', '5'],
  ['rpush', 'l', 'a', 'b', 'c'],
  ['sadd', 's', 'a', 'b'],
  ['zadd', 'z', '1', 'a', '2', 'b'],
  ['xadd', 'x', '*', 'f', 'v'],
  ['set', 'ttl', 'v', 'PX', '100000'],
];
/** The fixture's key of each type. */
const KEY_OF: Record<KeyType, string> = {
  string: 'str',
  hash: 'h',
  list: 'l',
  set: 's',
  zset: 'z',
  stream: 'x',
};
/** Keys whose state is compared after each case. */
const WATCHED = [...new Set([...FIXTURE.map((c) => c[1]), 'k', 'dest', 'nokey', 'a', 'b'])].sort();

/** Resolves once `client` is connected and past its ready check. */
async function ready(client: Redis): Promise<void> {
  if (client.status !== 'ready') await new Promise((resolve) => client.once('ready', resolve));
}

async function send(client: Redis, [name, ...args]: Cmd): Promise<unknown> {
  const method = (client as unknown as Record<string, unknown>)[name];
  if (typeof method !== 'function') return client.call(name, ...args);
  return (method as (...a: string[]) => Promise<unknown>).apply(client, args);
}

/** A reply in a form both clients give alike: numbers as text, hashes as sorted pairs. */
function normalise(reply: unknown): unknown {
  if (typeof reply === 'number') return String(reply);
  if (Buffer.isBuffer(reply)) return `#${reply.toString('hex')}`;
  if (Array.isArray(reply)) return reply.map(normalise);
  if (typeof reply === 'object' && reply !== null) {
    return Object.entries(reply)
      .map(([k, v]) => [k, normalise(v)])
      .sort();
  }
  return reply;
}

async function outcome(client: Redis, cmd: Cmd): Promise<unknown> {
  try {
    return normalise(await send(client, cmd));
  } catch (error) {
    return { error: (error as Error).message };
  }
}

/** Each watched key: its type and value, and whether it has a TTL. */
async function state(client: Redis): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const key of WATCHED) {
    // ioredis-mock's TYPE calls a stream a list: the fixture's stream is read as one.
    const type =
      key === 'x' && (await client.exists('x')) === 1 ? 'stream' : await client.type(key);
    let value: unknown;
    if (type === 'string') value = await client.get(key);
    else if (type === 'hash') value = normalise(await client.hgetall(key));
    else if (type === 'list') value = await client.lrange(key, 0, -1);
    else if (type === 'set') value = (await client.smembers(key)).sort();
    else if (type === 'zset') value = await client.zrange(key, 0, -1, 'WITHSCORES');
    else if (type === 'stream') value = await client.xlen(key);
    const pttl = await client.pttl(key);
    out.push([key, type, value, pttl > 0 ? 'ttl' : pttl]);
  }
  return out;
}

async function scenario(client: Redis, setup: Cmd[], cmd: Cmd): Promise<unknown> {
  await client.flushall();
  for (const c of [...FIXTURE, ...setup]) await send(client, c);
  const reply = await outcome(client, cmd);
  return { reply, state: await state(client) };
}

/** Write commands, each with the type its key (`k`) must hold. */
const WRITES: [KeyType, (k: string) => Cmd][] = [
  ['string', (k) => ['append', k, 'x']],
  ['string', (k) => ['incr', k]],
  ['string', (k) => ['decr', k]],
  ['string', (k) => ['incrby', k, '2']],
  ['string', (k) => ['decrby', k, '2']],
  ['string', (k) => ['incrbyfloat', k, '1.5']],
  ['string', (k) => ['getset', k, 'x']],
  ['string', (k) => ['getdel', k]],
  ['string', (k) => ['getex', k, 'EX', '100']],
  ['string', (k) => ['setrange', k, '0', 'x']],
  ['string', (k) => ['setbit', k, '1', '0']],
  ['string', (k) => ['set', k, 'x', 'GET']],
  ['hash', (k) => ['hset', k, '7', 'x']],
  ['hash', (k) => ['hset', k, 'length', 'x']],
  ['hash', (k) => ['hmset', k, '0', 'x']],
  ['hash', (k) => ['hsetnx', k, 'length', 'x']],
  ['hash', (k) => ['hincrby', k, '7', '1']],
  ['hash', (k) => ['hincrbyfloat', k, '7', '1.5']],
  ['hash', (k) => ['hdel', k, '0']],
  ['list', (k) => ['lpush', k, 'x']],
  ['list', (k) => ['rpush', k, 'x']],
  ['list', (k) => ['lpushx', k, 'x']],
  ['list', (k) => ['rpushx', k, 'x']],
  ['list', (k) => ['linsert', k, 'BEFORE', 'a', 'x']],
  ['list', (k) => ['lset', k, '0', 'x']],
  ['list', (k) => ['lrem', k, '0', 'a']],
  ['list', (k) => ['ltrim', k, '0', '1']],
  ['list', (k) => ['lpop', k]],
  ['list', (k) => ['rpop', k, '2']],
  ['list', (k) => ['lmove', k, 'l', 'LEFT', 'RIGHT']],
  ['list', (k) => ['lmove', 'l', k, 'LEFT', 'RIGHT']],
  ['list', (k) => ['rpoplpush', k, 'l']],
  ['list', (k) => ['rpoplpush', 'l', k]],
  ['list', (k) => ['lmpop', '1', k, 'LEFT']],
  ['list', (k) => ['lpos', k, 'a']],
  ['set', (k) => ['sadd', k, 'x']],
  ['set', (k) => ['srem', k, 'a']],
  ['set', (k) => ['spop', k]],
  ['set', (k) => ['smove', k, 's', 'a']],
  ['set', (k) => ['smove', 's', k, 'a']],
  ['set', (k) => ['sismember', k, 'a']],
  ['set', (k) => ['smismember', k, 'a']],
  ['set', (k) => ['sinterstore', 'dest', 's', k]],
  ['set', (k) => ['sunionstore', 'dest', k, 's']],
  ['set', (k) => ['sdiffstore', 'dest', 's', k]],
  ['zset', (k) => ['zadd', k, '1', 'x']],
  ['zset', (k) => ['zincrby', k, '1', 'a']],
  ['zset', (k) => ['zrem', k, 'a']],
  ['zset', (k) => ['zremrangebyrank', k, '0', '0']],
  ['zset', (k) => ['zremrangebyscore', k, '0', '1']],
  ['zset', (k) => ['zpopmin', k]],
  ['zset', (k) => ['zpopmax', k]],
  ['zset', (k) => ['zscore', k, 'a']],
  ['zset', (k) => ['zmscore', k, 'a']],
  ['zset', (k) => ['zrank', k, 'a']],
  ['zset', (k) => ['zrevrank', k, 'a']],
  ['stream', (k) => ['xadd', k, '*', 'f', 'v']],
];

/** Each write command on each fixture key of another type: WRONGTYPE, and nothing changed. */
const WRONG_TYPES: [Cmd, Cmd[]][] = WRITES.flatMap(([type, make]) =>
  (Object.keys(KEY_OF) as KeyType[])
    .filter((other) => other !== type)
    .map((other): [Cmd, Cmd[]] => [make(KEY_OF[other]), []]),
).concat([
  // ZINTERSTORE takes sets too; anything else is refused.
  [['zinterstore', 'dest', '2', 'z', 'str'], []],
  [['zinterstore', 'dest', '2', 'l', 'z'], []],
]);

const sha1 = (script: string): string => createHash('sha1').update(script).digest('hex');
const huge = '9223372036854775'; // LLONG_MAX / 1000
const llongMax = '9223372036854775807';

/** INCRBYFLOAT and HINCRBYFLOAT: a stored value and an increment, summed in long double as Redis does. */
const FLOAT_SUMS: [string, string][] = [
  ['0.1', '0.2'],
  ['10', '0.5'],
  ['3.0e3', '0'],
  ['5.0e3', '1'],
  ['1e20', '1'],
  ['1.5', '-1.5'],
  ['0.1', '-0.3'],
  ['123456789012345678', '0.1'],
  ['3.14159265358979323846', '0'],
  ['1.5e-17', '0'],
  ['9223372036854775807', '1'],
  ['1e308', '1e308'],
  ['0x1p3', '0.5'],
  ['1e-5000', '0'],
  [' 2', '1'],
  ['inf', '1'],
  ['1', '-inf'],
  ['1', 'x'],
];

/** Arity, list indexes, integer arguments and values, and expiry arguments. */
/** A destination with a TTL, overwritten by a command that must drop it (Redis's `setKey`). */
const destWithTtl: Cmd = ['set', 'dest', 'old', 'PX', '300000'];
const manyFields: Cmd = [
  'hset',
  'k',
  ...Array.from({ length: 200 }, (_, i) => [`f${i}`, 'v']).flat(),
];

/** A sorted-set member longer than a listpack holds (64 bytes), and a sorted set larger than one (128 members). */
const LONG_MEMBER = 'm'.repeat(65);
const BIG_ZSET: Cmd = [
  'zadd',
  'k',
  ...Array.from({ length: 129 }, (_, i) => [String(i + 1), `member${i}`]).flat(),
];

const CASES: [Cmd, Cmd[]][] = [
  // GETRANGE counts bytes: ASCII text read where it is, other text and bytes through their UTF-8
  [['getrange', 'k', '2', '5'], [['set', 'k', 'hello world']]],
  [['getrange', 'k', '-3', '-1'], [['set', 'k', 'hello world']]],
  [
    ['getrange', 'k', '4', '100'],
    [
      ['append', 'k', 'abc'],
      ['append', 'k', 'de'],
    ],
  ],
  [['getrange', 'k', '1', '2'], [['set', 'k', 'héllo']]],
  [['getrange', 'k', '-5', '-2'], [['set', 'k', 'a日本語']]],
  [['getrange', 'k', '3', '1'], [['set', 'k', 'hello']]],
  // the destination's old TTL goes, the source's comes with it (RENAME), a RENAMENX that does nothing keeps it
  [
    ['rename', 'k', 'dest'],
    [destWithTtl, ['set', 'k', 'x']],
  ],
  [
    ['rename', 'k', 'dest'],
    [destWithTtl, ['set', 'k', 'x', 'PX', '100000']],
  ],
  [
    ['renamenx', 'k', 'dest'],
    [destWithTtl, ['set', 'k', 'x']],
  ],
  [
    ['eval', "return redis.call('rename', KEYS[1], KEYS[2])", '2', 'k', 'dest'],
    [destWithTtl, ['set', 'k', 'x']],
  ],
  [
    ['sunionstore', 'dest', 'a', 'b'],
    [destWithTtl, ['sadd', 'a', '1', '2'], ['sadd', 'b', '2']],
  ],
  [
    ['sinterstore', 'dest', 'a', 'b'],
    [destWithTtl, ['sadd', 'a', '1', '2'], ['sadd', 'b', '2']],
  ],
  [
    ['sdiffstore', 'dest', 'a', 'b'],
    [destWithTtl, ['sadd', 'a', '1', '2'], ['sadd', 'b', '2']],
  ],
  [
    ['sunionstore', 'dest', 'dest', 'a'],
    [
      ['sadd', 'dest', '1'],
      ['pexpire', 'dest', '300000'],
      ['sadd', 'a', '2'],
    ],
  ],
  // integer sums past 2^53: exact in 64 bits, not in doubles
  [['incrby', 'k', '-9007199254740000'], [['set', 'k', '9007199254740993']]],
  [['incrby', 'k', '-123456789012345670'], [['set', 'k', '123456789012345678']]],
  [['incrby', 'big', '-9223372036854775808'], []],
  [
    ['incrby', 'k', '9007199254740993'],
    [
      ['set', 'k', '1'],
      ['incrby', 'k', '-9007199254740993'],
    ],
  ],
  [
    ['decrby', 'k', '-9007199254740993'],
    [
      ['set', 'k', '1'],
      ['decrby', 'k', '9007199254740993'],
    ],
  ],
  [['hincrby', 'k', 'f', '-9007199254740000'], [['hset', 'k', 'f', '9007199254740993']]],
  [
    ['hincrby', 'k', 'f', '9007199254740993'],
    [
      ['hset', 'k', 'f', '1'],
      ['hincrby', 'k', 'f', '-9007199254740993'],
    ],
  ],
  // TTL rounds to the nearest second
  [['ttl', 'k'], [['set', 'k', 'v', 'PX', '400']]],
  [['ttl', 'k'], [['set', 'k', 'v', 'PX', '1300']]],
  [['ttl', 'k'], [['set', 'k', 'v', 'PX', '1700']]],
  [['ttl', 'str'], []],
  [['ttl', 'nokey'], []],
  [['pttl', 'nokey'], []],
  // arities ioredis-mock does not check
  [['exists'], []],
  [['unlink'], []],
  [['persist', 'ttl', 'ttl'], []],
  [['ttl'], []],
  [['ttl', 'ttl', 'ttl'], []],
  [['pttl'], []],
  [['expiretime'], []],
  [['pexpiretime', 'ttl', 'ttl'], []],
  // a new member incremented by -0 answers -0; a listpack stores -0 as 0, a skiplist (a member over 64 bytes, or
  // more than 128 members) keeps it; a score that compares equal (0 and -0) is not written
  [['zincrby', 'k', '-0', 'm'], []],
  [['zadd', 'k', 'INCR', '-0', 'm'], []],
  [['zincrby', 'k', '-0', 'm'], [['zadd', 'k', '-0', 'm']]],
  [['zadd', 'k', 'INCR', '-0', 'm'], [['zadd', 'k', '-0', 'm']]],
  [['zadd', 'k', '-0', 'm'], [['zadd', 'k', '1', LONG_MEMBER]]],
  [['zadd', 'k', '-0', 'm', '1', LONG_MEMBER], []],
  [['zadd', 'k', '1', LONG_MEMBER, '-0', 'm'], []],
  [['zadd', 'k', '0', 'm'], [['zadd', 'k', '1', LONG_MEMBER, '-0', 'm']]],
  [['zincrby', 'k', '0', 'm'], [['zadd', 'k', '1', LONG_MEMBER, '-0', 'm']]],
  [['zadd', 'k', 'GT', '-0', 'm'], [['zadd', 'k', '1', LONG_MEMBER, '-1', 'm']]],
  [['zadd', 'k', 'GT', '-0', 'm'], [['zadd', 'k', '-1', 'm']]],
  [['zadd', 'k', '-0', 'm'], [BIG_ZSET]],
  [
    ['zscore', 'k', 'm'],
    [BIG_ZSET, ['zadd', 'k', '-0', 'm']],
  ],
  [
    ['zpopmin', 'k'],
    [BIG_ZSET, ['zadd', 'k', '-0', 'm']],
  ],
  [['zunion', '1', 'z', 'WEIGHTS', '-1', 'WITHSCORES'], [['zadd', 'z', '0', 'c']]],
  [['zunionstore', 'dest', '1', 'z', 'WEIGHTS', '-1'], [['zadd', 'z', '0', 'c']]],
  [['zinterstore', 'dest', '1', 'k'], [['zadd', 'k', '1', LONG_MEMBER, '-0', 'm']]],
  [['zrangestore', 'dest', 'k', '0', '-1'], [['zadd', 'k', '1', LONG_MEMBER, '-0', 'm']]],
  [['zrangestore', 'dest', 'k', '0', '-1', 'REV'], [['zadd', 'k', '1', LONG_MEMBER, '-0', 'm']]],
  // LPOS's smallest RANK: Redis's 64-bit count of the matches never reaches COUNT
  [
    ['lpos', 'k', 'a', 'RANK', '-9223372036854775808', 'COUNT', '1'],
    [['rpush', 'k', 'a', 'b', 'a']],
  ],
  [
    ['lpos', 'k', 'a', 'RANK', '-9223372036854775808', 'MAXLEN', '2', 'COUNT', '1'],
    [['rpush', 'k', 'a', 'a', 'a']],
  ],
  [['lpos', 'k', 'a', 'RANK', '-9223372036854775808'], [['rpush', 'k', 'a', 'b', 'a']]],
  // BITCOUNT looks the key up before it reads its range
  [['bitcount', 'nokey', '0'], []],
  [['bitcount', 'nokey', '1', '2', 'FOO'], []],
  [['bitcount', 'nokey', 'a', 'b'], []],
  [['bitcount', 'l', 'x', 'y'], []],
  [['bitcount', 'str', '-1', '-2', 'FOO'], []],
  [['bitcount', 'str', '0'], []],
  // collections: a count of 0 pops nothing; a `__proto__` field is a field; counts and options as Redis checks them
  [['zpopmin', 'z', '0'], []],
  [['zpopmax', 'z', '0'], []],
  [['zpopmin', 'z', 'x'], []],
  [['zpopmin', 'z', '-0'], []],
  [['eval', "return redis.call('zpopmax', KEYS[1], 0)", '1', 'z'], []],
  [['hset', 'k', '__proto__', 'x'], []],
  [['hmset', 'k', '__proto__', 'x', 'a', '1'], []],
  [['hsetnx', 'k', '__proto__', 'x'], []],
  [['hdel', 'k', 'a'], [['hset', 'k', '__proto__', 'x', 'a', '1']]],
  [['hget', 'k', '__proto__'], [['hset', 'k', '__proto__', 'x']]],
  [['hincrby', 'k', 'a', '9223372036854775807'], [['hset', 'k', 'a', '-9223372036854775808']]],
  [['hrandfield', 'h', '-9223372036854775808'], []],
  [['hrandfield', 'h', '1', 'FOO'], []],
  [['hrandfield', 'h', '1', 'WITHVALUES', 'x'], []],
  [['hrandfield', 'h', '4611686018427387904', 'WITHVALUES'], []],
  [['srandmember', 's', '-9223372036854775808'], []],
  [['spop', 'k', '1'], [['sadd', 'k', 'only']]],
  [['srandmember', 'k', '1'], [['sadd', 'k', 'only']]],
  // scores as `strtod` reads them: out of range refused, hexadecimal taken; range bounds as `zslParseRange` reads them
  [['zadd', 'k', '1e400', 'a'], []],
  [['zadd', 'k', '1e-400', 'a'], []],
  [['zadd', 'k', '1e-310', 'a'], []],
  [['zadd', 'k', '0x10', 'a', '-0x1.8p1', 'b'], []],
  [['zincrby', 'z', '1e400', 'a'], []],
  [['zadd', 'z', 'XX', 'INCR', '0x1p3', 'a'], []],
  [['zunion', '1', 'z', 'WEIGHTS', '1e400'], []],
  [['zcount', 'z', '(', '+inf'], []],
  [['zcount', 'z', '', '+inf'], []],
  [['zrangebyscore', 'z', ' 1', '0x10'], []],
  [['zremrangebyscore', 'z', '(1', '1e999'], []],
  [['zcount', 'z', '(1x', '2'], []],
  // streams: `<ms>-*` after the largest sequence; options only XREADGROUP takes
  [['xadd', 'k', '5-*', 'a', '1'], [['xadd', 'k', '5-18446744073709551615', 'a', '1']]],
  [['xread', 'NOACK', 'STREAMS', 'x', '0'], []],
  [['xread', 'GROUP', 'g', 'c', 'STREAMS', 'x', '0'], []],
  // a script's status and error: one line, up to a zero byte, binary bytes kept
  [['eval', "return {ok='a\\r\\nb'}", '0'], []],
  [['eval', "return redis.error_reply('x\\ny z')", '0'], []],
  [['eval', "return {err='a\\0b'}", '0'], []],
  [['evalBuffer', "return {ok='\\255\\254'}", '0'], []],
  [['evalBuffer', "return {1, redis.status_reply('\\255')}", '0'], []],
  [['eval', 'return redis.status_reply(5)', '0'], []],
  // a container's unknown subcommand is an unknown command to a script, a wrong arity a wrong number of args
  [['eval', "return redis.call('object', 'foo', 'k')", '0'], []],
  [['eval', "return redis.pcall('memory', 'usage')", '0'], []],
  [['eval', "return redis.pcall('command', 'foo')", '0'], []],
  // CONFIG, CLUSTER and COMMAND: an unknown subcommand named as given, a wrong number of arguments, before the rest
  [['config', 'FOO', 'x'], []],
  [['config', 'Get'], []],
  [['cluster', 'FOO', 'x'], []],
  [['cluster', 'help', 'x'], []],
  [['cluster', 'keyslot'], []],
  [['cluster', 'info'], []],
  [['command', 'FOO', 'x'], []],
  [['command', 'getkeys'], []],
  [['command', 'count', 'x'], []],
  // ZINTER: NaN from a weight is 0 for the first input only, and never wins a MIN or MAX
  ...(['SUM', 'MIN', 'MAX'] as const).map((aggregate): [Cmd, Cmd[]] => [
    ['zinterstore', 'dest', '2', 'a', 'b', 'WEIGHTS', '-inf', '0', 'AGGREGATE', aggregate],
    [
      ['zadd', 'a', 'inf', 'i', '-inf', 'n', '1', 'o'],
      ['zadd', 'b', '-inf', 'i', 'inf', 'n', '2', 'o'],
    ],
  ]),
  [
    ['zinter', '2', 'a', 'b', 'WEIGHTS', '0', '-inf', 'WITHSCORES'],
    [
      ['zadd', 'a', 'inf', 'i'],
      ['zadd', 'b', '1', 'i'],
    ],
  ],
  // ZRANGE's options as Redis reads them: each once, LIMIT -1 on ranks, WITHSCORES not when storing
  [['zrange', 'z', '0', '-1', 'REV', 'REV'], []],
  [['zrange', 'z', '0', '-1', 'BYSCORE', 'BYLEX'], []],
  [['zrange', 'z', '0', '-1', 'LIMIT', '0', '-1'], []],
  [['zrevrange', 'z', '0', '-1', 'LIMIT', '0', '1'], []],
  [['zrangestore', 'dest', 'z', '0', '-1', 'REV', 'REV'], []],
  [['zrangestore', 'dest', 'z', '0', '-1', 'WITHSCORES'], []],
  [['zrangebyscore', 'z', '-inf', '+inf', 'REV'], []],
  // a small sorted set or set of integers is answered in the order Redis keeps it (by score, by value)
  [['zscan', 'k', '0'], [['zadd', 'k', '3', 'a', '1', 'b', '2', 'c', '1', 'a0']]],
  [['sscan', 'k', '0'], [['sadd', 'k', '10', '-3', '2', '100']]],
  // a set of up to 512 integers is an intset: read whole, it answers by value, as the sets Redis builds for replies
  ...(
    [
      ['smembers', 'k'],
      ['sunion', 'k', 'b'],
      ['sdiff', 'k', 'b'],
      ['sinter', 'k', 'k'],
      ['srandmember', 'k', '5'],
      ['srandmember', 'k', '100'],
      ['spop', 'k', '5'],
      ['sort', 'k', 'BY', 'nosort'],
      ['eval', "return redis.call('smembers', KEYS[1])", '1', 'k'],
    ] as Cmd[]
  ).map((cmd): [Cmd, Cmd[]] => [
    cmd,
    [
      ['sadd', 'k', '10', '-3', '9223372036854775807', '2', '-9223372036854775808'],
      ['sadd', 'b', '7', '2', '-12'],
    ],
  ]),
  [
    ['sinter', 'k', 'b'],
    [
      ['sadd', 'k', '10', '-3', '2'],
      ['sadd', 'b', '2', '-3', '10', 'x', 'y'],
    ],
  ],
  // a hash of up to 512 small fields is a listpack: HSCAN answers it whole
  [['object', 'encoding', 'k'], [manyFields]],
  [['hscan', 'k', '0'], [manyFields]],
  // arity: ioredis-mock would store `undefined`, or an empty container
  [['hset', 'h', 'f'], []],
  [['hset', 'k', 'f', 'v', 'g'], []],
  [['hmset', 'k', 'f'], []],
  [['mset', 'a'], []],
  [['mset', 'a', '1', 'b'], []],
  [['msetnx', 'a', '1', 'b'], []],
  [['setnx', 'k'], []],
  [['sadd', 'k'], []],
  [['lpush', 'k'], []],
  [['zadd', 'k', '1'], []],
  [['set', 'k'], []],
  // LSET and other index- and count-based list writes
  [['lset', 'l', '3', 'x'], []],
  [['lset', 'l', '-4', 'x'], []],
  [['lset', 'l', '-3', 'x'], []],
  [['lset', 'l', '2', 'x'], []],
  [['lset', 'l', '1.5', 'x'], []],
  [['lset', 'l', 'abc', 'x'], []],
  [['lset', 'nokey', '0', 'x'], []],
  [['lset', 'nokey', 'abc', 'x'], []],
  [['linsert', 'l', 'before', 'b', 'x'], []],
  [['linsert', 'l', 'After', 'b', 'x'], []],
  [['linsert', 'l', 'middle', 'b', 'x'], []],
  [['linsert', 'nokey', 'BEFORE', 'a', 'x'], []],
  [['lrem', 'nokey', '0', 'a'], []],
  [['lrem', 'l', 'abc', 'a'], []],
  [['ltrim', 'nokey', '0', '1'], []],
  [['ltrim', 'l', '0', 'x'], []],
  [['lpop', 'l', '-1'], []],
  [['lpop', 'l', 'abc'], []],
  [['lpop', 'l', '1', '2'], []],
  [['rpop', 'nokey', '2'], []],
  [['lmove', 'l', 'dest', 'left', 'right'], []],
  [['lmove', 'l', 'dest', 'up', 'down'], []],
  [['lmove', 'nokey', 'h', 'LEFT', 'LEFT'], []],
  [['rpoplpush', 'nokey', 'h'], []],
  [['smove', 'nokey', 'h', 'a'], []],
  [['setrange', 'str', '-1', 'x'], []],
  [['setrange', 'str', 'abc', 'x'], []],
  [['setrange', 'nokey', '0', ''], []],
  // LPUSHX/RPUSHX push every element; BITCOUNT … BIT; BRPOPLPUSH as BLMOVE … RIGHT LEFT
  [['spop', 's', '0'], []],
  [['srandmember', 's', '0'], []],
  [['spop', 'nokey', '0'], []],
  [['rpushx', 'l', 'x', 'y'], []],
  [['lpushx', 'l', 'x', 'y', 'z'], []],
  [['rpushx', 'nokey', 'x', 'y'], []],
  [['lpushx', 'str', 'x', 'y'], []],
  ...[
    ['1', '17'],
    ['0', '-1'],
    ['5', '30'],
    ['-5', '-1'],
    ['-100', '3'],
    ['7', '7'],
    ['3', '2'],
    ['-1', '-5'],
    ['0', '1000'],
  ].map(([start, end]): [Cmd, Cmd[]] => [
    ['bitcount', 'a', start, end, 'BIT'],
    [['set', 'a', 'foobar']],
  ]),
  [['bitcount', 'nokey', '0', '5', 'BIT'], []],
  [['bitcount', 'str', '0', '5', 'BITS'], []],
  [['brpoplpush', 'l', 'dest', '0.01'], []],
  [['brpoplpush', 'l', 'l', '0.01'], []],
  [['brpoplpush', 'nokey', 'dest', '0.01'], []],
  [['brpoplpush', 'l', 'str', '0.01'], []],
  [['brpoplpush', 'l', 'dest', '-1'], []],
  ...FLOAT_SUMS.flatMap(([stored, by]): [Cmd, Cmd[]][] => [
    [['incrbyfloat', 'a', by], [['set', 'a', stored, 'EX', '100']]],
    [['hincrbyfloat', 'a', 'f', by], [['hset', 'a', 'f', stored]]],
  ]),
  [['hincrbyfloat', 'h', 'f', 'inf'], []],
  // scripts: their commands go through the rules; Redis's conversions and error forms
  ...(
    [
      ["return redis.call('incr', KEYS[1])", 'str'],
      ["return redis.pcall('incr', KEYS[1])", 'str'],
      ["return redis.call('get', KEYS[1])", 'l'],
      ["return redis.call('lpush', KEYS[1], 'x', 'é')", 'l'],
      ["redis.call('set', KEYS[1], 'é'); return redis.call('strlen', KEYS[1])", 'a'],
      ["return redis.call('zadd', KEYS[1], 'inf', 'm')", 'z'],
      ["return redis.call('incrbyfloat', KEYS[1], '0.1')", 'a'],
      ["return redis.call('copy', KEYS[1], 'dest')", 'h'],
      ["local t = redis.call('set', KEYS[1], 'x'); return type(t)", 'a'],
      ["local r = redis.pcall('incr', KEYS[1]); return type(r) .. ':' .. r.err", 'str'],
      ["return redis.call('hget', KEYS[1], 'nofield')", 'h'],
    ] as const
  ).map(([script, key]): [Cmd, Cmd[]] => [['eval', script, '1', key], []]),
  ...[
    'return {1, 2, nil, 3}',
    'return {3.99, -3.99, true, false}',
    "return {ok='fine'}",
    "return {err='bad thing'}",
    "return redis.status_reply('GOOD')",
    "return redis.error_reply('MY bad')",
    "return redis.sha1hex('x')",
    "error('boom')",
    "return 'x' ..",
    "return redis.call('nosuch')",
    "return redis.pcall('nosuch')",
    "return redis.call('get')",
    "return redis.call('get', {})",
    "return redis.call('eval', 'return 1', '0')",
    'return redis.call()',
  ].map((script): [Cmd, Cmd[]] => [['eval', script, '0'], []]),
  // The libraries Redis loads for scripts: cjson, cmsgpack, bit (their settings are left as they were found).
  ...[
    "return cjson.encode({1, 'a/b', {x={true, false, cjson.null}}, 0.1, 1/3, -2.5e-8, 12345678901234.5})",
    "return cjson.encode({[1]=1, [3]=3, [4]='\\1\\127\\n'})",
    'return cjson.encode({[1]=1, [30]=2})',
    'return cjson.encode(0/0)',
    'return cjson.decode(\'[1, 2.5, "\\\\u00e9", {"k": [true, null]}]\')',
    'return cjson.decode(\'{"a":1,}\')',
    "return cjson.decode('[0x1F, +2, -inf]')",
    "return cjson.decode(string.rep('[', 1001))",
    'return {cjson.encode_sparse_array(true, 3, 1), cjson.encode({[1]=1, [9]=2}), ' +
      'cjson.encode_sparse_array(false, 2, 10)}',
    "return {cmsgpack.unpack(cmsgpack.pack(1, -200, 70000, 2^40, -2^40, 0.5, 'x', {1, {2}}, true))}",
    'return cmsgpack.pack(0.1, 1/0, 2^63, -2^63, -2147483649)',
    "return cmsgpack.pack(string.rep('a', 40), string.rep('b', 300), {a={b=1}})",
    "return {cmsgpack.unpack_limit('\\1\\2\\3\\4', 2, 1)}",
    "return cmsgpack.unpack('\\220\\0\\3\\1')",
    "return cmsgpack.unpack('\\199\\1\\1')",
    'return cmsgpack.pack()',
    'return {bit.band(0xff, 0x3c), bit.bor(1, 2^31), bit.bxor(-1, 1), bit.lshift(3, 30), ' +
      'bit.rshift(-8, 1), bit.arshift(-8, 1)}',
    'return {bit.tobit(2^32 + 7), bit.tobit(-0.5), bit.tobit(1.5), bit.rol(1, 33), ' +
      'bit.tohex(48879, -6), bit.bswap(-2)}',
    'return bit.tobit({})',
    "return {struct.unpack('>I2 <i4 s b c0', struct.pack('>I2 <i4 s b c0', 513, -2, 'hi', 2, 'xyz'))}",
    "return struct.pack('!4 b i >d f c3 x', 1, 2, -2.5, 0.1, 'abcdef')",
    "return {struct.size('!8 b d'), struct.unpack('b', 'abc', 2)}",
    "return struct.pack('i40', 1)",
    "return struct.unpack('s', 'abc')",
    // Redis's Lua environment: Lua 5.1's globals, its protection of the globals, its tostring, its redis.* API.
    "redis.call('set', 'a', 'v') return redis.call('del', unpack({'a', 'b'}))",
    "return {loadstring('return 7')(), math.pow(2, 10), table.getn({1, 2}), math.mod(7, 3), _VERSION}",
    'local z = 0 return {tostring(10/2), tostring(1e20), tostring(2^53), tostring(1/z), tostring(0/z)}',
    'x = 5 return x',
    'return undefined_global',
    "string.x = 1 return 'no'",
    'return {type(table.unpack), type(math.type)}',
    'return print',
    'return redis.set_repl(8)',
    "return {redis.replicate_commands(), redis.REPL_ALL, redis.setresp(2), redis.log(redis.LOG_DEBUG, 'x')}",
    'return redis.log(9, 1)',
    "return cmsgpack.unpack(string.rep('\\145', 4000) .. '\\1')",
    "return select('#', cmsgpack.unpack(string.rep('\\1', 8000)))",
    // Lua 5.1's numbers: doubles (fengari's integers wrapped around at 2^31), written with %.14g by `..` too.
    "local t = redis.call('time') return {tonumber(t[1]) * 1000 > 1600000000000, 1700000000 + 1700000000}",
    'local n = 0 for i = 2147483640, 2147483650, 5 do n = n + 1 end return n',
    "local s = 0 for i = 1, 100000 do s = s + i end return tostring(s) .. '|' .. 65536 * 65536",
    "return {tonumber('1700000000') * 1000 .. '-x', 1e15 .. '', (10 / 2) .. '', string.len(10 / 2)}",
    "return {tostring(0x100000000), tostring(math.floor(2147483647.5) + math.floor(2147483647.5)), -0.0 .. ''}",
    "return table.concat({1, 2.5, 1e100, 2^63, 1/0}, ',')",
    // string.format as Lua 5.1's (C's sprintf): %d of a float, glibc's %e and %g, %s of a number only.
    "return string.format('%d|%5.3d|%x|%#X|%o|%u|%c', 3.7, -7, 2^32, 255, 8, -1, 65)",
    "return string.format('%e|%.0e|%g|%g|%#g|%10.4f|%-8.2f|%+.3E', 12345.678, 2.5, 1e20, 0.0001, 1, 3.14159, 2.5, 1e-10)",
    "return string.format('%q|%5s|%.2s|%s', 'a\"b\\0\\n', 'ab', 'abc', 1e15)",
    "return string.format('%s', nil)",
    "return string.format('%a', 1)",
    "return string.format('%-+ #0-d', 1)",
    "return string.format('%123d', 1)",
    "return {string.rep('ab', 3, ','), string.rep('x', 0)}",
    "local t = {'x', 'y'} table.insert(t, 5, 'z') return {t[1], t[2], t[5], #t}",
    "return assert(false, {err='X y'})",
    'return {tostring(cjson.null), assert(1, 2)}',
    // Commands Redis does not run from a script: the arity first, then `not allowed`; XREAD refuses BLOCK itself.
    // Runtime errors worded as Lua 5.1's, compile errors quoting what was expected.
    'local t = nil; return t.x',
    "return ('x'):bad()",
    'local x; return x .. 1',
    'return 1 end',
    "return redis.call('blpop', 'l', 0)",
    "return redis.call('blpop', 'l')",
    "return redis.call('config', 'set', 'maxmemory', '0')",
    "return redis.call('client')",
    "return redis.call('wait', 0, 0)",
    "return redis.call('auth', 'x')",
    "return redis.call('xread', 'COUNT', 1, 'BLOCK', 0, 'STREAMS', 's', '$')",
  ].map((script): [Cmd, Cmd[]] => [['eval', script, '0'], []]),
  // A score halfway between two 17-digit texts: written as glibc's printf rounds, to even; so are a script's numbers.
  [['zscore', 'tie', 'm'], [['zadd', 'tie', '2.98023223876953125e-8', 'm']]],
  [['eval', "return redis.call('set', KEYS[1], 2^-25)", '1', 'a'], []],
  [['eval', "return redis.call('rpush', KEYS[1], 1/0, -1/0, 0.1, 2^70)", '1', 'a'], []],
  // Integer replies past 2^31 (fengari's integers are 32 bits) reach a script as numbers, as in Redis's Lua.
  [['eval', "return redis.call('incrby', KEYS[1], 3000000000)", '1', 'a'], [['set', 'a', '1']]],
  [
    ['eval', "local n = redis.call('incr', KEYS[1]); return {n, n - 1, n * 2}", '1', 'a'],
    [['set', 'a', '-9007199254740995']],
  ],
  [
    ['eval', "return redis.pcall('incr', KEYS[1])", '1', 'a'],
    [['set', 'a', '9223372036854775806']],
  ],
  [['eval', 'return 1', 'x'], []],
  [['eval', 'return 1', '-1'], []],
  [['eval', 'return 1', '3', 'a'], []],
  [['evalsha', sha1('return 7'), '0'], [['script', 'load', 'return 7']]],
  [['evalsha', '0'.repeat(40), '0'], []],
  // EVALSHA checks the number of keys before it looks the script up, after the length of its SHA1
  [['evalsha', '0'.repeat(40), 'x'], []],
  [['evalsha', '0'.repeat(39), 'x'], []],
  [['evalsha', 'é'.repeat(20), 'x'], []],
  [['evalsha', '0'.repeat(40), '2', 'a'], []],
  [['evalsha', '0'.repeat(40), '-1'], []],
  [['evalsha_ro', '0'.repeat(40), 'x'], []],
  // Read-only scripts: reads run, a write command fails (after its arity check).
  [['eval_ro', "return redis.call('get', KEYS[1])", '1', 'a'], [['set', 'a', 'v']]],
  [['eval_ro', "return redis.call('set', KEYS[1], 'w')", '1', 'a'], [['set', 'a', 'v']]],
  [['eval_ro', "return redis.call('set', KEYS[1])", '1', 'a'], []],
  [['eval_ro', "return redis.pcall('incr', 'n')", '0'], []],
  [
    ['evalsha_ro', sha1("return redis.call('get', 'a')"), '0'],
    [
      ['script', 'load', "return redis.call('get', 'a')"],
      ['set', 'a', 'v'],
    ],
  ],
  [['evalsha_ro', '0'.repeat(40), '0'], []],
  [['script', 'exists', sha1('return 7'), '0'.repeat(40)], [['script', 'load', 'return 7']]],
  [['script', 'load', "return 'x' .."], []],
  [['script', 'load'], []],
  [['script', 'flush', 'foo'], []],
  [['script', 'kill'], []],
  [['script', 'help'], []],
  [['script', 'foo'], []],
  // SELECT of the one database the embedded client has (another is `DB index is out of range`, as COPY's).
  [['select', '0'], []],
  [['select', 'x'], []],
  [['select', '9999999999'], []],
  [['copy', 'a', 'b', 'DB', '9999999999'], [['set', 'a', 'v']]],
  [['eval', "return redis.call('select', 0)", '0'], []],
  // MOVE and SWAPDB within database 0, and their argument errors (database 1 and up: see the one-database server
  // below); WAIT, a primary without replicas.
  [['move', 'a', '0'], [['set', 'a', 'v']]],
  [['move', 'missing', '0'], []],
  [['move', 'a', 'x'], [['set', 'a', 'v']]],
  [['move', 'a', '00'], [['set', 'a', 'v']]],
  [['move', 'a', '9999999999'], [['set', 'a', 'v']]],
  [['move', 'a', '-1'], [['set', 'a', 'v']]],
  [['move', 'a'], []],
  [['swapdb', '0', '0'], [['set', 'a', 'v']]],
  [['swapdb', 'x', '0'], []],
  [['swapdb', '0', 'x'], []],
  [['swapdb', '9999999999', '0'], []],
  [['swapdb', '0', '-1'], []],
  [['swapdb', '0'], []],
  [['wait', '0', '0'], [['set', 'a', 'v']]],
  [['wait', '-1', '100'], []],
  [['wait', 'x', '0'], []],
  [['wait', '0', '-1'], []],
  [['wait', '0', '1.5'], []],
  [['wait', '99999999999999999999', '0'], []],
  [['eval', "return {redis.call('swapdb', 0, 0), redis.pcall('move', 'a', 0)}", '0'], []],
  // CLIENT: what does not depend on the connection's id or address.
  [
    ['client', 'getname'],
    [
      ['client', 'setname', 'x'],
      ['client', 'setname', ''],
    ],
  ],
  [['client', 'setname', 'a b'], []],
  [['client', 'setname'], []],
  [['client', 'nope'], []],
  [['client', 'help'], []],
  [['client', 'list', 'type', 'nope'], []],
  [['client', 'list', 'id', '0', '-1'], []],
  [['client', 'list', 'id', 'x'], []],
  [['client', 'no-evict', 'maybe'], []],
  // Server and connection commands ioredis-mock ran whatever their arguments (FLUSHALL foo emptied the keyspace)
  [['flushall', 'foo'], []],
  [['flushdb', 'async', 'x'], []],
  [['flushdb', 'Sync'], []],
  [['ping', 'a', 'b'], []],
  [['echo'], []],
  [['echo', 'a', 'b'], []],
  [['time', 'x'], []],
  [['lastsave', 'x'], []],
  [['save', 'x'], []],
  [['bgsave', 'x'], []],
  [['role'], []],
  [['readwrite'], []],
  [['asking', 'x'], []],
  [['unwatch', 'k'], []],
  // in a script, a command's own count of its arguments is its own error, not the command table's
  ...[
    "return redis.call('ping', 'a', 'b')",
    "return redis.call('echo')",
    "return redis.call('time', 'x')",
    "return redis.call('flushall', 'foo')",
    "return redis.call('lpop', 'l', 1, 2)",
    "return redis.pcall('hset', 'h', 'f', 'v', 'g')",
    "return redis.call('mset', 'a', '1', 'b')",
    "return redis.call('xadd', 'x', '*', 'f', 'v', 'g')",
  ].map((script): [Cmd, Cmd[]] => [['eval', script, '0'], []]),
  // SETRANGE and SETBIT: byte offsets (ioredis-mock counts UTF-16 code units), zero bytes to fill, the TTL kept
  [['setrange', 'a', '1', 'x'], [['set', 'a', '日本']]],
  [['setrange', 'a', '7', 'é'], [['set', 'a', '日本']]],
  [['setrange', 'nokey', '3', 'é'], []],
  [['setrange', 'ttl', '1', 'Z'], []],
  [['setrange', 'str', '0', ''], []],
  [['setrange', 'str', '536870911', 'ab'], []],
  [['setrange', 'l', '0', ''], []],
  [['setbit', 'a', '1', '0'], [['set', 'a', 'é']]],
  [['setbit', 'a', '3', '1'], [['set', 'a', '日本']]],
  [['setbit', 'nokey', '9', '1'], []],
  [['setbit', 'ttl', '0', '1'], []],
  [['setbit', 'str', '4294967296', '1'], []],
  [['setbit', 'str', '-1', '1'], []],
  [['setbit', 'str', '1', '2'], []],
  [['setbit', 'str', 'x', '2'], []],
  [['setbit', 'l', 'x', '1'], []],
  [['getbit', 'str', '4294967296'], []],
  // COPY: ioredis-mock has none
  ...(['str', 'ttl', 'h', 'l', 's', 'z', 'nokey'].map((k) => [['copy', k, 'dest'], []]) as [
    Cmd,
    Cmd[],
  ][]),
  [['copy', 'str', 'num'], []],
  [['copy', 'str', 'ttl', 'REPLACE'], []],
  [['copy', 'ttl', 'num', 'replace'], []],
  [['copy', 'str', 'str'], []],
  [['copy', 'str', 'dest', 'DB', '0'], []],
  [['copy', 'str', 'dest', 'DB', 'x'], []],
  [['copy', 'str', 'dest', 'FOO'], []],
  [['rpush', 'dest', 'x'], [['copy', 'l', 'dest']]],
  [['zincrby', 'dest', '5', 'a'], [['copy', 'z', 'dest']]],
  // sorted-set algebra and stores: ioredis-mock has none (or refuses sets, WEIGHTS and AGGREGATE)
  [['zunionstore', 'dest', '2', 'z', 's'], []],
  [['zunionstore', 'dest', '2', 'z', 's', 'WEIGHTS', '2', '3', 'AGGREGATE', 'MAX'], []],
  [['zinterstore', 'dest', '2', 'z', 's', 'weights', '1', 'inf', 'aggregate', 'min'], []],
  [['zinterstore', 'ttl', '2', 'z', 'nokey'], []],
  [['zdiffstore', 'num', '2', 'z', 's'], []],
  [
    ['zunionstore', 'dest', '2', 'a', 'b'],
    [
      ['zadd', 'a', 'inf', 'm'],
      ['zadd', 'b', '-inf', 'm'],
    ],
  ],
  [['zunionstore', 'dest', '1', 'a', 'WEIGHTS', '0'], [['zadd', 'a', 'inf', 'm']]],
  [['zunionstore', 'dest', '0', 'z'], []],
  [['zunionstore', 'dest', '3', 'z'], []],
  [['zunionstore', 'dest', '1', 'z', 'WEIGHTS'], []],
  [['zunionstore', 'dest', '1', 'z', 'WEIGHTS', 'nan'], []],
  [['zunionstore', 'dest', '1', 'z', 'AGGREGATE', 'avg'], []],
  [['zunionstore', 'dest', '1', 'z', 'WITHSCORES'], []],
  [['zunionstore', 'dest', '2', 'z', 'str', 'FOO'], []],
  [['zunion', '2', 'z', 's', 'WITHSCORES'], []],
  [['zinter', '2', 'z', 's', 'WEIGHTS', '2', '1', 'WITHSCORES'], []],
  [['zdiff', '2', 'z', 's', 'WITHSCORES'], []],
  [['zdiff', '1', 'z', 'WEIGHTS', '1'], []],
  [['zrangestore', 'dest', 'z', '0', '-1'], []],
  [['zrangestore', 'dest', 'z', '(1', '+inf', 'BYSCORE'], []],
  [['zrangestore', 'dest', 'z', '+', '[a', 'BYLEX', 'REV', 'LIMIT', '0', '1'], []],
  [['zrangestore', 'dest', 'z', '[a', 'b', 'BYLEX'], []],
  [['zrangestore', 'ttl', 'z', '5', '10'], []],
  [['zrangestore', 'dest', 'z', '0', '-1', 'WITHSCORES'], []],
  [['zrangestore', 'dest', 's', '0', '-1'], []],
  [['zrandmember', 'a', '-3', 'WITHSCORES'], [['zadd', 'a', '1.5', 'm']]],
  [['zrandmember', 'a'], [['zadd', 'a', '1.5', 'm']]],
  [['zrandmember', 'nokey'], []],
  [['zrandmember', 'nokey', '3'], []],
  [['zrandmember', 'z', '0'], []],
  [['zrandmember', 'z', 'x'], []],
  [['zrandmember', 'z', '1', 'FOO'], []],
  [['zrandmember', 'z', '-9223372036854775808'], []],
  [['zrandmember', 's'], []],
  // OBJECT: ioredis-mock names other encodings, and answers REFCOUNT 1 and IDLETIME 0 whatever the key
  ...(['str', 'num', 'big', 'h', 'l', 's', 'z', 'x', 'nokey'].map((k) => [
    ['object', 'encoding', k],
    [],
  ]) as [Cmd, Cmd[]][]),
  [['object', 'encoding', 'a'], [['sadd', 'a', '1', '-2']]],
  [['object', 'encoding', 'a'], [['set', 'a', 'x'.repeat(45)]]],
  [['object', 'encoding', 'a'], [['hset', 'a', 'f', 'x'.repeat(65)]]],
  [['object', 'encoding', 'a'], [['zadd', 'a', '1', 'x'.repeat(65)]]],
  // A string keeps the encoding the command that stored it gives it: `raw` after APPEND to a string, SETRANGE, SETBIT,
  // BITFIELD, BITOP, PFADD and PFMERGE, `embstr` after INCRBYFLOAT; a write of a value makes it anew (an equal one
  // too); RENAME, COPY and EXPIRE keep it
  [
    ['object', 'encoding', 'a'],
    [
      ['set', 'a', 'hello'],
      ['append', 'a', 'x'],
    ],
  ],
  [
    ['object', 'encoding', 'a'],
    [
      ['set', 'a', '12'],
      ['append', 'a', '3'],
    ],
  ],
  [['object', 'encoding', 'a'], [['append', 'a', '123']]],
  [['object', 'encoding', 'a'], [['setrange', 'a', '0', 'ab']]],
  [
    ['object', 'encoding', 'a'],
    [
      ['set', 'a', 'hi'],
      ['setbit', 'a', '1', '1'],
    ],
  ],
  [
    ['object', 'encoding', 'a'],
    [
      ['set', 'a', '5'],
      ['incrbyfloat', 'a', '1'],
    ],
  ],
  [
    ['object', 'encoding', 'a'],
    [
      ['set', 'a', 'hi'],
      ['bitfield', 'a', 'SET', 'u8', '0', '1'],
    ],
  ],
  [['object', 'encoding', 'a'], [['pfadd', 'a', 'x']]],
  [
    ['object', 'encoding', 'b'],
    [
      ['pfadd', 'a', 'x'],
      ['pfmerge', 'b', 'a'],
    ],
  ],
  [['object', 'encoding', 'a'], [['bitop', 'OR', 'a', 'str', 'num']]],
  [
    ['object', 'encoding', 'b'],
    [
      ['set', 'a', 'hi'],
      ['append', 'a', 'x'],
      ['rename', 'a', 'b'],
    ],
  ],
  [
    ['object', 'encoding', 'b'],
    [
      ['set', 'a', 'hi'],
      ['append', 'a', 'x'],
      ['copy', 'a', 'b'],
    ],
  ],
  [
    ['object', 'encoding', 'a'],
    [
      ['set', 'a', 'hi'],
      ['append', 'a', 'x'],
      ['set', 'a', 'hix'],
    ],
  ],
  [
    ['object', 'encoding', 'a'],
    [
      ['set', 'a', 'hi'],
      ['append', 'a', 'x'],
      ['expire', 'a', '99'],
    ],
  ],
  [
    ['object', 'encoding', 'a'],
    [
      ['set', 'a', '1'],
      ['append', 'a', '2'],
      ['incr', 'a'],
    ],
  ],
  [['object', 'refcount', 'num'], []],
  [['object', 'refcount', 'str'], []],
  [['object', 'freq', 'str'], []],
  [['object', 'help'], []],
  [['object', 'Foo', 'str'], []],
  [['object', 'encoding'], []],
  // integers: ioredis-mock would store NaN, or lose digits
  [['incr', 'str'], []],
  [['incr', 'spaced'], []],
  [['incr', 'big'], []],
  [['decr', 'num'], []],
  [['incrby', 'num', '1.5'], []],
  [['incrby', 'num', 'abc'], []],
  [['incrby', 'num', '+1'], []],
  [['decrby', 'num', '-9223372036854775808'], []],
  [['decrby', 'num', '-2'], []],
  [['hincrby', 'h', 'f', '1'], []],
  [['hincrby', 'h', 'n', '1.5'], []],
  [['hincrby', 'h', 'n', llongMax], []],
  [['hincrby', 'h', 'n', '-7'], []],
  // SET's expiry
  ...[
    ['EX', 'abc'],
    ['EX', 'NaN'],
    ['EX', ''],
    ['EX', '0'],
    ['EX', '-1'],
    ['EX', '1.5'],
    ['EX', '010'],
    ['PX', '0'],
    ['EX', huge],
    ['PX', llongMax],
    ['EXAT', huge],
    ['PXAT', llongMax],
    ['EXAT', '9223372036854776'],
    ['ex', '100'],
    ['Px', '100000'],
    ['EX', '10', 'PX', '10'],
    ['EX', '10', 'EX', '20'],
    ['EX'],
    ['NX', 'XX'],
    ['KEEPTTL', 'EX', '10'],
    ['GET', 'EX', '100'],
    ['NX', 'EX', '100'],
    ['XX', 'EX', '100'],
    ['FOO'],
  ].map((options): [Cmd, Cmd[]] => [['set', 'k', 'v', ...options], []]),
  [['set', 'ttl', 'w', 'KEEPTTL'], []],
  [['set', 'ttl', 'w', 'keepttl', 'GET'], []],
  [['set', 'ttl', 'w'], []],
  [['set', 'str', 'w', 'XX', 'EX', '100'], []],
  // SETEX, PSETEX
  [['setex', 'k', 'abc', 'v'], []],
  [['setex', 'k', '0', 'v'], []],
  [['setex', 'k', '-1', 'v'], []],
  [['setex', 'k', '1.5', 'v'], []],
  [['setex', 'k', huge, 'v'], []],
  [['setex', 'k', '100', 'v'], []],
  [['psetex', 'k', '-1', 'v'], []],
  [['psetex', 'k', 'NaN', 'v'], []],
  [['psetex', 'k', '100000', 'v'], []],
  // GETEX
  [['getex', 'str', 'EX', 'abc'], []],
  [['getex', 'str', 'EX', '0'], []],
  [['getex', 'str', 'PX', '-1'], []],
  [['getex', 'str', 'ex', '100'], []],
  [['getex', 'str', 'EXAT', huge], []],
  [['getex', 'str', 'EX', '10', 'PERSIST'], []],
  [['getex', 'str', 'EX'], []],
  [['getex', 'ttl', 'persist'], []],
  [['getex', 'nokey', 'EX', 'abc'], []],
  // EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT and their options
  ...[
    'abc',
    'NaN',
    '1.5',
    '010',
    '+10',
    ' 10',
    '',
    huge,
    '9223372036854776',
    `-${huge}`,
    '-9223372036854776',
  ].map((t): [Cmd, Cmd[]] => [['expire', 'str', t], []]),
  [['expire', 'nokey', '10'], []],
  [['expire', 'nokey', 'abc'], []],
  [['expire', 'str', '10', 'FOO'], []],
  [['expire', 'str', 'abc', 'FOO'], []],
  [['expire', 'str', '10', 'NX', 'XX'], []],
  [['expire', 'str', '10', 'NX', 'GT'], []],
  [['expire', 'str', '10', 'GT', 'LT'], []],
  [['expire', 'str', '10', 'nx'], []],
  [['expire', 'ttl', '10', 'NX'], []],
  [['expire', 'str', '10', 'XX'], []],
  [['expire', 'ttl', '1000', 'xx', 'gt'], []],
  [['expire', 'str', '10', 'GT'], []],
  [['expire', 'str', '10', 'LT'], []],
  [['expire', 'ttl', '1000', 'GT'], []],
  [['expire', 'ttl', '1000', 'LT'], []],
  [['expire', 'ttl', '10', 'LT'], []],
  [['expire', 'str', '-1'], []],
  [['pexpire', 'str', llongMax], []],
  [['pexpire', 'str', 'abc'], []],
  [['pexpire', 'str', '100000'], []],
  [['expireat', 'str', huge], []],
  [['expireat', 'str', '9223372036854776'], []],
  [['expireat', 'str', '-1'], []],
  [['expireat', 'str', '1.5e9'], []],
  [['pexpireat', 'str', llongMax], []],
  [['pexpireat', 'str', '1'], []],
  [['pexpireat', 'str', 'Infinity'], []],
];

afterAll(removeTempDirs);

const redisServerBinary = findRedisServer(
  'command fidelity suite (test/command-fidelity.e2e-spec.ts)',
);
if (redisServerBinary !== null) {
  describe('corrected commands, against a real redis-server', () => {
    let server: RedisServer;
    let redis: Redis;
    let embedded: Redis;

    beforeAll(async () => {
      server = await startRedisServer(redisServerBinary);
      redis = server.client();
      embedded = createEmbeddedClient(new Keyspace());
    });
    afterAll(async () => {
      embedded.disconnect();
      redis.disconnect();
      await server.stop();
    });

    it.each(WRONG_TYPES.map(([cmd, setup]) => [cmd.join(' '), cmd, setup] as const))(
      'refuses a key of the wrong type as Redis does: %s',
      async (_name, cmd, setup) => {
        const expected = await scenario(redis, setup, cmd);
        expect(await scenario(embedded, setup, cmd)).toEqual(expected);
        expect(expected).toMatchObject({
          reply: { error: 'WRONGTYPE Operation against a key holding the wrong kind of value' },
        });
      },
    );

    it.each(CASES.map(([cmd, setup]) => [cmd.join(' '), cmd, setup] as const))(
      'answers as Redis does, and stores the same: %s',
      async (_name, cmd, setup) => {
        expect(await scenario(embedded, setup, cmd)).toEqual(await scenario(redis, setup, cmd));
      },
    );

    it.each(['pipeline', 'multi'] as const)(
      "drops an overwritten destination's TTL in a %s as Redis does",
      async (mode) => {
        const run = async (client: Redis): Promise<unknown> => {
          await client.flushall();
          const queued = client[mode]();
          queued.set('dest', 'v', 'PX', 300000).set('k', 'x').rename('k', 'dest').pttl('dest');
          queued
            .set('sdest', 'v', 'PX', 300000)
            .sadd('a', '1')
            .sunionstore('sdest', 'a')
            .pttl('sdest');
          return ((await queued.exec()) ?? []).map(([error, value]) => error?.message ?? value);
        };
        const expected = await run(redis);
        expect(expected).toEqual(['OK', 'OK', 'OK', -1, 'OK', 1, 1, -1]);
        expect(await run(embedded)).toEqual(expected);
      },
    );

    it('answers MOVE, SWAPDB and WAIT as a redis-server with one database, alone, piped and in MULTI', async () => {
      const single = await startRedisServer(redisServerBinary, undefined, {
        args: ['--databases', '1'],
      });
      const oneDb = single.client();
      const run = async (client: Redis): Promise<unknown> => {
        await client.flushall();
        await client.set('a', 'v');
        const alone = await Promise.all(
          [
            ['move', 'a', '1'],
            ['move', 'missing', '1'],
            ['swapdb', '0', '1'],
            ['swapdb', '1', '0'],
            ['wait', '0', '0'],
          ].map((c) => outcome(client, c as Cmd)),
        );
        const piped = await client.pipeline().move('a', 1).swapdb(0, 0).wait(0, 0).get('a').exec();
        const queued = await client.multi().wait(1, 0).swapdb(0, 1).move('a', 0).get('a').exec();
        const entries = (replies: [Error | null, unknown][] | null): unknown[] =>
          (replies ?? []).map(([error, reply]) => error?.message ?? reply);
        return [alone, entries(piped), entries(queued), await state(client)];
      };
      try {
        const expected = await run(oneDb);
        expect(expected).toEqual([
          [
            { error: 'ERR DB index is out of range' },
            { error: 'ERR DB index is out of range' },
            { error: 'ERR DB index is out of range' },
            { error: 'ERR DB index is out of range' },
            '0',
          ],
          ['ERR DB index is out of range', 'OK', 0, 'v'],
          [
            0,
            'ERR DB index is out of range',
            'ERR source and destination objects are the same',
            'v',
          ],
          expect.anything(),
        ]);
        expect(await run(embedded)).toEqual(expected);
      } finally {
        oneDb.disconnect();
        await single.stop();
      }
    });

    it("answers HELLO as Redis does, with the connection's own id, and refuses RESP3", async () => {
      const cmds: Cmd[] = [
        ['hello'],
        ['hello', '2'],
        ['hello', '2', 'AUTH', 'default', 'any', 'SETNAME', 'named'],
        ['client', 'getname'],
        ['hello', '2', 'SETNAME', 'kept', 'FOO'],
        ['client', 'getname'],
        ['hello', '2', 'SETNAME', 'a b'],
        ['hello', '2', 'AUTH', 'default'],
        ['hello', '2', 'SETNAME'],
        ['hello', 'x'],
        ['hello', '1'],
        ['hello', '4'],
        ['eval', "return redis.pcall('hello')", '0'],
      ];
      const run = async (client: Redis): Promise<unknown[]> => {
        const id = await client.client('ID');
        const out: unknown[] = [];
        for (const cmd of cmds) {
          const reply = await outcome(client, cmd);
          // The connection's id is its own: checked against CLIENT ID, then left out.
          if (Array.isArray(reply) && reply[6] === 'id') {
            expect(reply[7]).toBe(String(id));
            out.push([...reply.slice(0, 7), ...reply.slice(8)]);
          } else out.push(reply);
        }
        return out;
      };
      const expected = await run(redis);
      await redis.client('SETNAME', ''); // as the other tests found it
      expect(expected[0]).toEqual([
        'server',
        'redis',
        'version',
        '7.0.15',
        'proto',
        '2',
        'id',
        'mode',
        'standalone',
        'role',
        'master',
        'modules',
        [],
      ]);
      expect(expected.slice(3, 6)).toEqual([
        'named',
        { error: "ERR Syntax error in HELLO option 'FOO'" },
        'kept',
      ]);
      expect(await run(embedded)).toEqual(expected);
      await embedded.client('SETNAME', '');
      // Redis 7.0 switches to RESP3, which the embedded client does not speak.
      expect(await outcome(embedded, ['hello', '3'])).toEqual({
        error: 'NOPROTO unsupported protocol version',
      });
    });

    it('caches a script EVAL runs once its number of keys is checked and it compiles, as Redis does', async () => {
      const scripts = [
        'return 11',
        'return 12',
        'return 13',
        'return 14',
        'return 15 +',
        'return 16',
      ];
      const run = async (client: Redis): Promise<unknown[]> => {
        await client.script('FLUSH');
        const replies = [
          await outcome(client, ['eval', scripts[0], 'x']),
          await outcome(client, ['eval', scripts[1], '-1']),
          await outcome(client, ['eval', scripts[2], '2', 'a']),
          await outcome(client, ['eval_ro', scripts[3], 'x']),
          await outcome(client, ['eval', scripts[4], '0']),
          await outcome(client, ['eval', scripts[5], '0']),
        ];
        return [...replies, await client.script('EXISTS', ...scripts.map(sha1))];
      };
      const expected = await run(redis);
      expect(expected[expected.length - 1]).toEqual([0, 0, 0, 0, 0, 1]);
      expect(await run(embedded)).toEqual(expected);
    });

    it('counts a use of a key (LFU counter) for the commands Redis counts one for, and only those', async () => {
      // Under allkeys-lfu a new key's counter is 5, and the first use always takes it to 6: OBJECT FREQ (which counts
      // no use) then tells whether a command counted one.
      const commands: readonly (readonly string[])[] = [
        ['type', 'k'],
        ['exists', 'k'],
        ['ttl', 'k'],
        ['pttl', 'k'],
        ['expiretime', 'k'],
        ['object', 'encoding', 'k'],
        ['memory', 'usage', 'k'],
        ['get', 'k'],
        ['strlen', 'k'],
        ['touch', 'k'],
        ['expire', 'k', '100'],
        ['pexpire', 'k', '100000', 'NX'],
        ['expireat', 'k', '1'],
        ['persist', 'k'],
        ['copy', 'k', 'other'],
        ['rename', 'k', 'renamed'],
        ['renamenx', 'k', 'renamed'],
        ['scan', '0'],
      ];
      const run = async (client: Redis): Promise<string[]> => {
        await client.config('SET', 'maxmemory-policy', 'allkeys-lfu');
        const out: string[] = [];
        try {
          for (const command of commands) {
            await client.flushall();
            await client.set('k', 'text');
            const before = await client.object('FREQ', 'k');
            await client.call(command[0], ...command.slice(1));
            const key = command[0].startsWith('rename') ? 'renamed' : 'k';
            const after =
              (await client.exists(key)) === 1 ? await client.object('FREQ', key) : null;
            out.push(`${command.join(' ')}: ${String(before)} -> ${String(after)}`);
          }
        } finally {
          await client.config('SET', 'maxmemory-policy', 'noeviction');
        }
        return out;
      };
      const expected = await run(redis);
      expect(expected).toContain('type k: 5 -> 5');
      expect(expected).toContain('rename k renamed: 5 -> 6');
      expect(await run(embedded)).toEqual(expected);
    });

    it('keeps the LFU counter of a key it renames, as Redis moves the key with its counter', async () => {
      const run = async (client: Redis): Promise<number> => {
        await client.config('SET', 'maxmemory-policy', 'allkeys-lfu');
        try {
          await client.flushall();
          await client.set('k', 'text');
          // Counters above 5 grow with a probability: read until it is well above a new key's.
          while (((await client.object('FREQ', 'k')) as number) < 8) await client.get('k');
          const before = (await client.object('FREQ', 'k')) as number;
          await client.rename('k', 'renamed');
          return ((await client.object('FREQ', 'renamed')) as number) - before;
        } finally {
          await client.config('SET', 'maxmemory-policy', 'noeviction');
        }
      };
      const gained = await run(redis);
      expect([0, 1]).toContain(gained);
      expect([0, 1]).toContain(await run(embedded));
    });

    it('answers pub/sub as Redis does: counts, PUBSUB, subscriber mode, closed subscribers', async () => {
      const run = async (client: Redis): Promise<unknown[]> => {
        const out: unknown[] = [];
        const attempt = async (call: () => Promise<unknown>): Promise<void> => {
          out.push(await call().catch((error: Error) => ({ error: error.message })));
        };
        const subscriber = client.duplicate();
        const other = client.duplicate();
        await Promise.all([ready(subscriber), ready(other)]);
        try {
          await attempt(() => subscriber.subscribe());
          await attempt(() => subscriber.subscribe('a', 'b'));
          await attempt(() => subscriber.psubscribe('p*', 'q*'));
          await attempt(() => subscriber.unsubscribe('a'));
          await attempt(() => subscriber.punsubscribe('p*'));
          await attempt(() => client.call('pubsub', 'numsub', 'b', 'x'));
          await attempt(() => client.call('pubsub', 'numpat'));
          await attempt(() => subscriber.ping('x'));
          await attempt(() => other.psubscribe('q*'));
          await attempt(() => client.publish('qq', 'm'));
          await attempt(() => client.eval("return redis.call('publish', 'qq', 'm')", 0));
          // Named: ioredis never settles an UNSUBSCRIBE of everything sent to a real server.
          await attempt(() => subscriber.unsubscribe('b'));
          await attempt(() => subscriber.punsubscribe('q*'));
          await attempt(() => subscriber.get('nokey'));
          await attempt(() => other.punsubscribe('q*'));
          await attempt(() => client.publish('qq', 'm'));
          await attempt(() => client.call('pubsub', 'CHANNELS'));
          await attempt(() => client.call('pubsub', 'bogus'));
          await attempt(() => client.call('pubsub', 'channels', 'a', 'b'));
          await attempt(() => client.call('publish', 'c'));
        } finally {
          subscriber.disconnect();
          other.disconnect();
        }
        return out;
      };
      const expected = await run(redis);
      expect(expected.slice(1, 5)).toEqual([2, 4, 3, 2]);
      expect(await run(embedded)).toEqual(expected);
    });

    it('runs XREAD … BLOCK in a transaction without blocking, and discards one holding a WATCH of nothing', async () => {
      const run = async (client: Redis): Promise<unknown> => {
        await client.flushall();
        await client.xadd('s', '1-1', 'f', 'v');
        const read = await client
          .multi()
          .xread('BLOCK', 0, 'STREAMS', 'none', '$')
          .xread('BLOCK', 100000, 'STREAMS', 's', '0')
          .set('after', '1')
          .exec();
        const watched = await client
          .multi()
          .set('a', '4')
          .watch(...([] as string[]))
          .exec()
          .then(
            () => 'ran',
            (error: Error) => error.message,
          );
        return [read, watched, await client.get('a')];
      };
      const expected = await run(redis);
      expect(expected).toEqual([
        [
          [null, null],
          [null, [['s', [['1-1', ['f', 'v']]]]]],
          [null, 'OK'],
        ],
        'EXECABORT Transaction discarded because of previous errors.',
        null,
      ]);
      expect(await run(embedded)).toEqual(expected);
    });

    it('fails a blocking pop with a negative timeout alone at EXEC, as Redis does', async () => {
      const run = async (client: Redis): Promise<unknown> => {
        await client.flushall();
        await client.zadd('z', 1, 'a');
        const replies = await client
          .multi()
          .call('bzmpop', '-1', '1', 'z', 'MAX', 'COUNT', '2')
          .call('blpop', 'l', '-1')
          .set('after', '1')
          .exec();
        return (replies ?? []).map(([error, value]) => error?.message ?? value);
      };
      const expected = await run(redis);
      expect(expected).toEqual(['ERR timeout is negative', 'ERR timeout is negative', 'OK']);
      expect(await run(embedded)).toEqual(expected);
    });

    it('announces a key an expiry time in the past deletes as `del`, as Redis does', async () => {
      const run = async (client: Redis): Promise<string[]> => {
        await client.flushall();
        const listener = client.duplicate();
        const events: string[] = [];
        listener.on('message', (channel: string, key: string) => events.push(`${channel} ${key}`));
        // ioredis's ready check fails on a connection that subscribed first, and reconnects without the subscription.
        await ready(listener);
        try {
          await client.config('SET', 'notify-keyspace-events', 'Eg');
          await listener.subscribe('__keyevent@0__:del', '__keyevent@0__:expire');
          await client.set('gone', 'v');
          await client.set('later', 'v');
          await client.expire('gone', 0);
          await client.expire('later', 100);
          await client.pexpire('missing', -5);
          await client.publish('__keyevent@0__:del', 'end');
          for (let i = 0; i < 100 && !events.includes('__keyevent@0__:del end'); i++) {
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        } finally {
          await client.config('SET', 'notify-keyspace-events', '');
          listener.disconnect();
        }
        return events;
      };
      const expected = await run(redis);
      expect(expected).toEqual([
        '__keyevent@0__:del gone',
        '__keyevent@0__:expire later',
        '__keyevent@0__:del end',
      ]);
      expect(await run(embedded)).toEqual(expected);
    });

    it('checks BRPOPLPUSH in a pipeline and a transaction as Redis does', async () => {
      const run = async (client: Redis): Promise<unknown> => {
        await client.flushall();
        await client.rpush('l', 'a', 'b');
        const piped = await client
          .pipeline()
          .brpoplpush('l', 'd', 'x')
          .brpoplpush('l', 'd', '-1')
          .brpoplpush('l', 'd', 0)
          .exec();
        const transaction = await client
          .multi()
          .brpoplpush('l', ...([] as unknown as [string, number]))
          .ping()
          .exec()
          .then(
            () => 'ran',
            (error: Error) => error.message,
          );
        return [
          (piped ?? []).map(([error, value]) => error?.message ?? value),
          transaction,
          await client.lrange('l', 0, -1),
          await client.lrange('d', 0, -1),
        ];
      };
      const expected = await run(redis);
      expect(expected).toEqual([
        ['ERR timeout is not a float or out of range', 'ERR timeout is negative', 'b'],
        'EXECABORT Transaction discarded because of previous errors.',
        ['a'],
        ['b'],
      ]);
      expect(await run(embedded)).toEqual(expected);
    });

    it.each([
      ['PERSIST of two keys', (m: ReturnType<Redis['multi']>) => m.persist('k', 'x' as never)],
      [
        'ECHO of nothing',
        (m: ReturnType<Redis['multi']>) => m.echo(...([] as unknown as [string])),
      ],
      ['TIME of a key', (m: ReturnType<Redis['multi']>) => m.call('time', 'k')],
      ['LASTSAVE of a key', (m: ReturnType<Redis['multi']>) => m.call('lastsave', 'k')],
      [
        'OBJECT of an unknown subcommand',
        (m: ReturnType<Redis['multi']>) => m.call('object', 'bogus'),
      ],
      ['SCRIPT EXISTS of nothing', (m: ReturnType<Redis['multi']>) => m.call('script', 'exists')],
      ['CONFIG GET of nothing', (m: ReturnType<Redis['multi']>) => m.call('config', 'get')],
    ])('discards a transaction holding %s (a wrong number of arguments)', async (_name, queue) => {
      const run = async (client: Redis): Promise<unknown> => {
        await client.flushall();
        const error = await queue(client.multi().set('k2', 'w'))
          .exec()
          .then(
            () => undefined,
            (e: Error) => e.message,
          );
        return [error, await client.get('k2')];
      };
      const expected = await run(redis);
      expect(expected).toEqual([
        'EXECABORT Transaction discarded because of previous errors.',
        null,
      ]);
      expect(await run(embedded)).toEqual(expected);
    });

    it.each([
      ['HSET of a field without its value', ['hset', 'h', 'f', 'v', 'g']],
      ['HMSET of a field without its value', ['hmset', 'h', 'f', 'v', 'g']],
      ['MSET of a key without its value', ['mset', 'a', '1', 'b']],
      ['MSETNX of a key without its value', ['msetnx', 'a', '1', 'b']],
      ['PING of two messages', ['ping', 'a', 'b']],
      ['FLUSHALL of an unknown option', ['flushall', 'foo']],
    ] as [string, Cmd][])(
      'runs a transaction holding %s, which fails alone when it runs',
      async (_name, [name, ...args]) => {
        const run = async (client: Redis): Promise<unknown> => {
          await client.flushall();
          const replies = await client
            .multi()
            .set('k', 'v')
            .call(name, ...args)
            .get('k')
            .exec()
            .then(
              (result) => (result ?? []).map(([error, value]) => error?.message ?? value),
              (error: Error) => error.message,
            );
          return [replies, await client.dbsize()];
        };
        const expected = await run(redis);
        expect(expected).toEqual([['OK', expect.stringMatching(/^ERR /), 'v'], 1]);
        expect(await run(embedded)).toEqual(expected);
      },
    );

    it.each(['pipeline', 'multi'] as const)(
      'answers the commands ioredis-mock lacks in a %s as Redis does',
      async (mode) => {
        const setup: Cmd[] = [
          ['set', 's1', 'foobar'],
          ['set', 's2', 'fooxbar'],
          ['sadd', 'set1', 'a', 'b'],
          ['sadd', 'set2', 'b'],
          ['zadd', 'z', '0', 'a', '0', 'b', '0', 'c'],
          ['zadd', 'z2', '1', 'c'],
          ['xadd', 'xs', '1-1', 'f', 'v'],
          ['xadd', 'xs', '2-1', 'f', 'v'],
          ['rpush', 'l', '3', '1', '2'],
        ];
        const batch: Cmd[] = [
          ['bitop', 'AND', 'dst', 's1', 's2'],
          ['bitpos', 's1', '1'],
          ['bitfield', 'bf', 'INCRBY', 'u8', '0', '5'],
          ['bitfield_ro', 'bf', 'GET', 'u8', '0'],
          ['lcs', 's1', 's2'],
          ['pfadd', 'hll', 'a', 'b'],
          ['pfcount', 'hll'],
          ['pfmerge', 'hll2', 'hll'],
          ['sintercard', '2', 'set1', 'set2'],
          ['zremrangebylex', 'z', '[a', '[b'],
          ['zmpop', '1', 'z', 'MIN'],
          ['zlexcount', 'z', '-', '+'],
          ['zunion', '2', 'z', 'z2'],
          ['zinter', '2', 'z', 'z2'],
          ['zunionstore', 'zu', '2', 'z', 'z2'],
          ['zdiffstore', 'zd', '2', 'z', 'z2'],
          ['zintercard', '2', 'z', 'z2'],
          ['zrangestore', 'zr', 'z', '0', '-1'],
          ['zrandmember', 'z2'],
          ['xtrim', 'xs', 'MAXLEN', '1'],
          ['xdel', 'xs', '2-1'],
          ['select', '0'],
          ['copy', 's1', 's1copy'],
          ['touch', 's1', 's2'],
          ['sort', 'l'],
          ['sort_ro', 'l'],
          ['xlen', 'xs'],
        ];
        const run = async (client: Redis): Promise<unknown> => {
          await client.flushall();
          for (const cmd of setup) await send(client, cmd);
          const queued = client[mode]() as unknown as Record<string, (...a: string[]) => unknown>;
          for (const [name, ...args] of batch) queued[name](...args);
          const replies = await (queued as unknown as { exec(): Promise<unknown[]> }).exec();
          return replies.map((entry) => {
            const [error, value] = entry as [Error | null, unknown];
            return error === null ? normalise(value) : { error: error.message };
          });
        };
        const expected = await run(redis);
        expect(expected).toHaveLength(batch.length);
        expect(await run(embedded)).toEqual(expected);
      },
    );
  });
}

describe('random draws too large to build', () => {
  it('are refused, where they would abort the process', async () => {
    const client = createEmbeddedClient(new Keyspace());
    try {
      await client.sadd('s', 'a');
      await client.hset('h', 'f', 'v');
      await client.zadd('z', 1, 'm');
      const huge = '-9223372036854775807';
      for (const draw of [
        () => client.srandmember('s', huge),
        () => client.hrandfield('h', huge),
        () => client.zrandmember('z', huge),
      ]) {
        await expect(draw()).rejects.toThrow(
          'ERR count is out of range: the embedded cache draws at most 67108864 elements',
        );
      }
      expect(await client.srandmember('s', -3)).toEqual(['a', 'a', 'a']);
      expect(await client.srandmember('missing', huge)).toEqual([]);
    } finally {
      client.disconnect();
    }
  });
});

describe('commands that used to store values no snapshot could encode', () => {
  it('are refused, and the snapshot and restore keep every key', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir));
    try {
      for (const cmd of FIXTURE) await send(h.redis, cmd);
      const refused: Cmd[] = [
        ['lset', 'l', '5', 'x'],
        ['hset', 'l', '7', 'x'],
        ['hsetnx', 'x', 'length', 'x'],
        ['hincrby', 'l', '10', '1'],
        ['hmset', 'x', '3', 'x'],
        ['hdel', 'l', '0'],
        ['set', 'k', 'v', 'EX', 'abc'],
        ['expire', 'str', 'NaN'],
        ['pexpireat', 'num', 'abc'],
      ];
      for (const cmd of refused) {
        expect(await outcome(h.redis, cmd)).toEqual({
          error: expect.stringMatching(/^(ERR|WRONGTYPE) /),
        });
      }
      expect(await h.redis.lrange('l', 0, -1)).toEqual(['a', 'b', 'c']);
      expect(await h.redis.exists('k')).toBe(0);
      expect(await h.redis.ttl('str')).toBe(-1);
      const before = await digest(h.redis);
      const report = await h.snapshots.snapshot();
      expect(report.keys).toBe(before.keys);
      const restored = await bootWith(durable(copyOfStore(dataDir), { snapshotOnShutdown: false }));
      try {
        expectSameData(await digest(restored.redis), before);
      } finally {
        await restored.app.close();
      }
    } finally {
      await h.app.close();
    }
  });
});
