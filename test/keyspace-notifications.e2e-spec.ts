import type { Redis } from 'ioredis';
import { once } from 'node:events';
import { trackApps } from './support/apps';
import { bootWith, durable, removeTempDirs, tempDir, type Harness } from './support/harness';
import { findRedisServer, startRedisServer, type RedisServer } from './support/redis-server';

/**
 * Keyspace notifications (`notify-keyspace-events`) of the embedded client, held to redis-server 7.0's: the same
 * sequences of commands of every family run on both, each with a listener subscribed to `__key*__:*`, and the
 * ordered lists of (channel, message) each listener received must be equal. Commands run one by one, in
 * transactions and in scripts.
 */

type Step = readonly (string | number)[];

/** A sequence: the setting it runs under, and its commands (`multi` and `eval` steps group the ones they hold). */
interface Sequence {
  readonly name: string;
  readonly flags: string;
  readonly steps: readonly (
    | Step
    | { readonly multi: readonly Step[] }
    | { readonly pipeline: readonly Step[] }
    | { readonly lua: string }
    /** `blocked` sent on a connection of its own, then `then` once it waits. */
    | { readonly blocked: Step; readonly then: Step }
  )[];
}

const ALL = 'AKE';

const SEQUENCES: readonly Sequence[] = [
  {
    name: 'strings',
    flags: ALL,
    steps: [
      ['set', 's', 'v'],
      ['set', 's', 'v'],
      ['set', 's', 'w', 'NX'],
      ['set', 'x', 'w', 'XX'],
      ['set', 's', 'w', 'XX', 'GET'],
      ['set', 's', 'v', 'EX', 100],
      ['set', 's', 'v', 'PX', 100000],
      ['set', 's', 'v', 'EXAT', 4000000000],
      ['set', 's', 'v', 'PXAT', 4000000000000],
      ['set', 's', 'v', 'KEEPTTL'],
      ['setex', 's2', 100, 'v'],
      ['psetex', 's3', 100000, 'v'],
      ['setnx', 's', 'v'],
      ['setnx', 's4', 'v'],
      ['mset', 'm1', 'a', 'm2', 'b', 'm1', 'c'],
      ['msetnx', 'm1', 'a', 'm9', 'b'],
      ['msetnx', 'm8', 'a', 'm9', 'b'],
      ['getset', 's', 'n'],
      ['getset', 'g1', 'n'],
      ['getdel', 'g1'],
      ['getdel', 'g1'],
      ['getex', 's', 'EX', 100],
      ['getex', 's', 'PX', 100000],
      ['getex', 's', 'PERSIST'],
      ['getex', 's', 'PERSIST'],
      ['getex', 's'],
      ['getex', 'nokey', 'EX', 10],
      ['append', 'a', 'x'],
      ['append', 'a', 'y'],
      ['setrange', 'r', 0, ''],
      ['setrange', 'r', 2, 'ab'],
      ['setrange', 'r', 0, ''],
      ['setrange', 'r', 0, 'z'],
      ['incr', 'i'],
      ['incrby', 'i', 5],
      ['decr', 'i'],
      ['decrby', 'i', 2],
      ['incrbyfloat', 'i', '1.5'],
      ['incrbyfloat', 'f', '2'],
      ['incr', 's'],
      ['setbit', 'b', 7, 1],
      ['setbit', 'b', 7, 1],
      ['bitfield', 'bf', 'SET', 'u8', 0, 255],
      ['bitfield', 'bf', 'GET', 'u8', 0],
      ['bitfield', 'bf', 'INCRBY', 'u8', 0, 1],
      ['bitop', 'AND', 'bo', 'b', 'bf'],
      ['bitop', 'OR', 'bo', 'none1', 'none2'],
      ['bitop', 'OR', 'bo2', 'none1', 'none2'],
      ['pfadd', 'h', 'a', 'b'],
      ['pfadd', 'h', 'a'],
      ['pfadd', 'h2'],
      ['pfmerge', 'h3', 'h', 'h2'],
      ['pfcount', 'h'],
      ['get', 's'],
      ['del', 's', 'a', 'nothere', 's'],
      ['unlink', 'r', 'i', 'nothere'],
    ],
  },
  {
    name: 'generic',
    flags: ALL,
    steps: [
      ['set', 'k', 'v'],
      ['expire', 'k', 100],
      ['pexpire', 'k', 100000],
      ['expireat', 'k', 4000000000],
      ['pexpireat', 'k', 4000000000000],
      ['expire', 'k', 50, 'GT'],
      ['expire', 'k', 50, 'LT'],
      ['expire', 'k', 60, 'NX'],
      ['expire', 'nokey', 60],
      ['persist', 'k'],
      ['persist', 'k'],
      ['expire', 'k', 100, 'XX'],
      ['pexpire', 'k', -1],
      ['set', 'k', 'v'],
      ['expireat', 'k', 1],
      ['set', 'k', 'v'],
      ['pexpireat', 'k', 1],
      ['set', 'k', 'v'],
      ['rename', 'k', 'k2'],
      ['set', 'k3', 'x'],
      ['rename', 'k2', 'k3'],
      ['rename', 'k3', 'k3'],
      ['renamenx', 'k3', 'k4'],
      ['set', 'k5', 'v'],
      ['renamenx', 'k4', 'k5'],
      ['copy', 'k5', 'c1'],
      ['copy', 'k5', 'c1'],
      ['copy', 'k5', 'c1', 'REPLACE'],
      ['copy', 'nokey', 'c2'],
      ['touch', 'k5', 'nokey'],
      ['exists', 'k5', 'nokey'],
      ['type', 'k5'],
      ['ttl', 'k5'],
      ['rpush', 'srt', 3, 1, 2],
      ['sort', 'srt'],
      ['sort', 'srt', 'STORE', 'sorted'],
      ['sort', 'nokey', 'STORE', 'sorted'],
      ['sort', 'nokey', 'STORE', 'sorted'],
      ['del', 'k5', 'c1'],
      ['flushall'],
    ],
  },
  {
    name: 'lists',
    flags: ALL,
    steps: [
      ['lpush', 'l', 'a', 'b'],
      ['rpush', 'l', 'c'],
      ['lpushx', 'l', 'd'],
      ['rpushx', 'l', 'e'],
      ['lpushx', 'nol', 'd'],
      ['rpushx', 'nol', 'd'],
      ['linsert', 'l', 'BEFORE', 'a', 'x'],
      ['linsert', 'l', 'AFTER', 'zz', 'x'],
      ['linsert', 'nol', 'AFTER', 'zz', 'x'],
      ['lset', 'l', 0, 'y'],
      ['lrem', 'l', 0, 'x'],
      ['lrem', 'l', 0, 'x'],
      ['ltrim', 'l', 0, 3],
      ['ltrim', 'nol', 0, 3],
      ['lpop', 'l'],
      ['rpop', 'l'],
      ['lpop', 'l', 1],
      ['lpop', 'nol'],
      ['lpop', 'nol', 2],
      ['rpush', 'l', 'p', 'q'],
      ['rpoplpush', 'l', 'l2'],
      ['lmove', 'l', 'l2', 'LEFT', 'RIGHT'],
      ['lmove', 'l2', 'l2', 'LEFT', 'RIGHT'],
      ['lmove', 'nol', 'l2', 'LEFT', 'RIGHT'],
      ['rpush', 'l3', 'only'],
      ['ltrim', 'l3', 1, 0],
      ['rpush', 'l3', 'a', 'b', 'c'],
      ['lmpop', 2, 'nol', 'l3', 'RIGHT', 'COUNT', 2],
      ['lmpop', 1, 'l3', 'LEFT', 'COUNT', 5],
      ['lmpop', 1, 'l3', 'LEFT'],
      ['rpush', 'l4', 'a'],
      ['lrem', 'l4', 1, 'a'],
      ['rpush', 'l4', 'a', 'b'],
      ['rpop', 'l4', 5],
      ['rpush', 'l5', 'a'],
      ['lindex', 'l5', 0],
      ['lrange', 'nol', 0, -1],
      ['llen', 'nol'],
      ['blpop', 'l5', 1],
      ['rpush', 'l5', 'a', 'b'],
      ['brpop', 'l5', 1],
      ['blmove', 'l5', 'l6', 'LEFT', 'LEFT', 1],
      ['brpoplpush', 'l6', 'l6', 1],
      ['blmpop', 1, 1, 'l6', 'LEFT'],
    ],
  },
  {
    name: 'hashes',
    flags: ALL,
    steps: [
      ['hset', 'h', 'a', '1', 'b', '2'],
      ['hset', 'h', 'a', '1'],
      ['hmset', 'h', 'c', '3'],
      ['hsetnx', 'h', 'a', '9'],
      ['hsetnx', 'h', 'd', '9'],
      ['hincrby', 'h', 'a', 2],
      ['hincrbyfloat', 'h', 'a', '0.5'],
      ['hincrby', 'h2', 'n', 1],
      ['hdel', 'h', 'zz'],
      ['hdel', 'h', 'a', 'b', 'zz'],
      ['hdel', 'h', 'c', 'd'],
      ['hget', 'h', 'a'],
      ['hgetall', 'h2'],
      ['hdel', 'nohash', 'a'],
    ],
  },
  {
    name: 'sets',
    flags: ALL,
    steps: [
      ['sadd', 's', 'a', 'b', 'c'],
      ['sadd', 's', 'a'],
      ['srem', 's', 'zz'],
      ['srem', 's', 'a'],
      ['smove', 's', 't', 'b'],
      ['smove', 's', 't', 'zz'],
      ['smove', 's', 's', 'c'],
      ['sadd', 't', 'c'],
      ['smove', 's', 't', 'c'],
      ['sadd', 'u', 'a', 'b', 'c', 'd'],
      ['spop', 'u'],
      ['spop', 'u', 1],
      ['spop', 'u', 0],
      ['spop', 'u', 10],
      ['spop', 'u'],
      ['sadd', 'v', 'x'],
      ['spop', 'v'],
      ['sadd', 'a1', 'a', 'b'],
      ['sadd', 'a2', 'b', 'c'],
      ['sinterstore', 'd', 'a1', 'a2'],
      ['sunionstore', 'd', 'a1', 'a2'],
      ['sdiffstore', 'd', 'a1', 'a2'],
      ['sinterstore', 'd', 'a1', 'nos'],
      ['sinterstore', 'd', 'a1', 'nos'],
      ['sdiffstore', 'd2', 'nos', 'a1'],
      ['sunionstore', 'd3', 'nos'],
      ['sismember', 'nos', 'a'],
      ['smembers', 'a1'],
      ['srem', 'a1', 'a', 'b'],
    ],
  },
  {
    name: 'sorted sets',
    flags: ALL,
    steps: [
      ['zadd', 'z', 1, 'a', 2, 'b'],
      ['zadd', 'z', 1, 'a'],
      ['zadd', 'z', 5, 'a'],
      ['zadd', 'z', 'NX', 9, 'a'],
      ['zadd', 'z', 'XX', 9, 'zz'],
      ['zadd', 'z', 'CH', 6, 'a'],
      ['zadd', 'z', 'INCR', 1, 'a'],
      ['zadd', 'z', 'NX', 'INCR', 1, 'a'],
      ['zincrby', 'z', 1, 'c'],
      ['zincrby', 'z2', 1, 'c'],
      ['zrem', 'z', 'zz'],
      ['zrem', 'z', 'c'],
      ['zadd', 'z', 3, 'c', 4, 'd', 5, 'e'],
      ['zremrangebyscore', 'z', 100, 200],
      ['zremrangebyscore', 'z', 3, 3],
      ['zremrangebyrank', 'z', 0, 0],
      ['zremrangebylex', 'z', '[zz', '[zzz'],
      ['zadd', 'lex', 0, 'a', 0, 'b'],
      ['zremrangebylex', 'lex', '[a', '[a'],
      ['zpopmin', 'z'],
      ['zpopmax', 'z'],
      ['zpopmin', 'z', 0],
      ['zpopmin', 'noz'],
      ['zmpop', 1, 'z', 'MIN', 'COUNT', 10],
      ['zmpop', 1, 'lex', 'MAX'],
      ['zadd', 'y1', 1, 'a', 2, 'b'],
      ['zadd', 'y2', 1, 'b'],
      ['zunionstore', 'yd', 2, 'y1', 'y2'],
      ['zinterstore', 'yd', 2, 'y1', 'y2'],
      ['zdiffstore', 'yd', 2, 'y1', 'y2'],
      ['zrangestore', 'yd', 'y1', 0, 0],
      ['zinterstore', 'yd', 2, 'y1', 'noz'],
      ['zinterstore', 'yd', 2, 'y1', 'noz'],
      ['zrangestore', 'yd2', 'y1', 5, 6],
      ['zscore', 'noz', 'a'],
      ['zrem', 'y2', 'b'],
      ['bzpopmin', 'y1', 1],
      ['bzpopmax', 'y1', 1],
      ['zadd', 'y3', 1, 'a'],
      ['bzmpop', 1, 1, 'y3', 'MIN'],
    ],
  },
  {
    name: 'geo',
    flags: ALL,
    steps: [
      ['geoadd', 'g', 13.361389, 38.115556, 'Palermo', 15.087269, 37.502669, 'Catania'],
      ['geoadd', 'g', 'NX', 13.361389, 38.115556, 'Palermo'],
      ['georadius', 'g', 15, 37, 200, 'km', 'STORE', 'gs'],
      ['georadius', 'g', 15, 37, 200, 'km', 'STOREDIST', 'gd'],
      ['georadiusbymember', 'g', 'Palermo', 1, 'km', 'STORE', 'gs'],
      ['geosearchstore', 'gs2', 'g', 'FROMLONLAT', 15, 37, 'BYRADIUS', 200, 'km'],
      ['geosearchstore', 'gs2', 'g', 'FROMLONLAT', 0, 0, 'BYRADIUS', 1, 'km'],
      ['geosearchstore', 'gs3', 'g', 'FROMLONLAT', 0, 0, 'BYRADIUS', 1, 'km'],
      ['georadius', 'g', 0, 0, 1, 'km', 'STORE', 'gs4'],
      ['geodist', 'g', 'Palermo', 'Catania'],
    ],
  },
  {
    name: 'streams',
    flags: ALL,
    steps: [
      ['xadd', 'x', '1-1', 'f', 'v'],
      ['xadd', 'x', '2-1', 'f', 'v'],
      ['xadd', 'x', 'MAXLEN', 1, '3-1', 'f', 'v'],
      ['xadd', 'x', 'MAXLEN', 5, '4-1', 'f', 'v'],
      ['xadd', 'nox', 'NOMKSTREAM', '*', 'f', 'v'],
      ['xdel', 'x', '3-1'],
      ['xdel', 'x', '9-9'],
      ['xtrim', 'x', 'MAXLEN', 0],
      ['xtrim', 'x', 'MAXLEN', 0],
      ['xlen', 'nox'],
      ['del', 'x'],
    ],
  },
  {
    name: 'transactions and scripts',
    flags: ALL,
    steps: [
      {
        multi: [
          ['set', 'k', 'v'],
          ['sadd', 's', 'a'],
          ['incr', 'k'],
          ['lpush', 'l', 'a'],
          ['lpop', 'l'],
        ],
      },
      {
        lua:
          "redis.call('hset', 'h', 'f', 'v'); redis.call('hdel', 'h', 'f'); redis.call('set', 'x', '1', 'PX', 5000);" +
          "redis.call('zadd', 'z', 1, 'a'); redis.call('zpopmin', 'z'); redis.call('expire', 'x', 0); return 1",
      },
    ],
  },
  {
    name: 'new keys among the other events, and key misses of writes',
    flags: 'AKEnm',
    steps: [
      ['set', 's', 'v', 'EX', 100],
      ['set', 'g', 'v', 'GET'],
      ['getset', 'gs', 'v'],
      ['getex', 'nokey', 'PERSIST'],
      ['rpush', 'src', 'a', 'b'],
      ['lmove', 'src', 'dst', 'LEFT', 'RIGHT'],
      ['rpoplpush', 'src', 'dst2'],
      ['sadd', 'ss', 'a', 'b'],
      ['smove', 'ss', 'sd', 'a'],
      ['smove', 'ss', 'sd', 'b'],
      ['set', 'r2', 'x'],
      ['rename', 's', 'r2'],
      ['copy', 'r2', 'g', 'REPLACE'],
      ['copy', 'nokey', 'g'],
      ['sunionstore', 'u', 'sd', 'nos'],
      ['zunionstore', 'zu', 2, 'noz', 'noz2'],
      ['zadd', 'z', 1, 'a'],
      ['zunionstore', 'zu', 2, 'z', 'noz'],
      ['zinterstore', 'zu', 2, 'z', 'noz'],
      ['zrangestore', 'zr', 'noz', 0, -1],
      ['xadd', 'x', '1-1', 'f', 'v'],
      ['xadd', 'x', 'MINID', '2', '2-1', 'f', 'v'],
      ['xadd', 'x', 'NOMKSTREAM', '3-1', 'f', 'v'],
      ['hincrby', 'h', 'f', 1],
      ['hincrbyfloat', 'h2', 'f', 1],
      ['geoadd', 'geo', 13.361389, 38.115556, 'Palermo'],
      ['geoadd', 'geo', 'XX', 'CH', 13.5, 38.1, 'Palermo'],
      ['georadius', 'nogeo', 0, 0, 1, 'km', 'STORE', 'gd'],
      ['georadius', 'nogeo', 0, 0, 1, 'km'],
      ['geosearchstore', 'gd', 'nogeo', 'FROMLONLAT', 0, 0, 'BYRADIUS', 1, 'km'],
      ['pfadd', 'hll', 'a'],
      ['pfmerge', 'hll2', 'hll', 'nohll'],
      ['pfcount', 'hll', 'nohll'],
      ['bitop', 'OR', 'bo', 'nob', 'hll'],
      ['setbit', 'bits', 3, 1],
      ['setbit', 'bits', 100, 0],
      ['setbit', 'bits', 3, 0],
      ['append', 'ap', 'x'],
      ['setrange', 'sr', 1, 'x'],
      ['incrbyfloat', 'fl', 1],
      ['sort', 'nolist', 'STORE', 'st'],
      ['sort', 'nolist'],
      ['rpush', 'sl', 2, 1],
      ['sort', 'sl', 'STORE', 'st'],
      ['touch', 'nokey', 'sl'],
      ['lcs', 'nokey', 'sl2'],
      ['object', 'encoding', 'nokey'],
      ['zadd', 'zz', 'GT', 1, 'a'],
      ['zadd', 'zz', 'GT', 0, 'a'],
      ['zadd', 'zz', 'LT', 0, 'a'],
      ['zadd', 'zz', 'GT', 'CH', 0, 'a', 5, 'b'],
      ['zadd', 'zz', 'INCR', 0, 'a'],
      ['lmpop', 2, 'nol', 'nol2', 'LEFT'],
      ['zmpop', 2, 'noz', 'z', 'MAX'],
      ['spop', 'nos', 2],
      ['srandmember', 'nos'],
      ['sintercard', 2, 'nos', 'sd'],
      ['zinter', 2, 'noz', 'z'],
      ['zinter', 2, 'zu', 'noz'],
      ['hrandfield', 'noh'],
      ['lpos', 'nol', 'a'],
      ['expire', 'nokey', -1],
      ['persist', 'nokey'],
      ['ltrim', 'nol', 0, 1],
      ['set', 'past', 'v', 'PXAT', 1],
      ['set', 'past', 'v'],
      ['getex', 'past', 'PXAT', 1],
      ['set', 'past', 'v', 'EX', 100],
      ['getex', 'past', 'EXAT', 1],
      ['hsetnx', 'hn', 'f', 'v'],
      ['xadd', 'xs', '1-1', 'f', 'v'],
      ['xadd', 'xs', '2-1', 'f', 'v'],
      ['xdel', 'xs', '1-1', '2-1', '9-1'],
      ['memory', 'usage', 'nokey'],
      ['watch', 'nokey'],
      ['unwatch'],
      ['randomkey'],
      ['rpush', 'same', 'a'],
      ['lmove', 'same', 'same', 'LEFT', 'RIGHT'],
      ['setrange', 'nsr', 0, ''],
      ['mset', 'ma', 1, 'mb', 2],
      ['msetnx', 'ma', 1, 'mc', 2],
      ['bitfield', 'bf', 'OVERFLOW', 'FAIL', 'INCRBY', 'u2', 0, 5],
      ['bitfield', 'bf2', 'SET', 'u8', 0, 1],
      ['bitfield', 'bf2', 'OVERFLOW', 'FAIL', 'INCRBY', 'u8', 0, 300],
      ['bitfield', 'bf2', 'OVERFLOW', 'FAIL', 'INCRBY', 'u8', 0, 3],
      ['bitfield', 'bf2', 'SET', 'u8', 0, 4],
      ['bitfield', 'bf2', 'INCRBY', 'u8', 0, 0],
      ['bitfield', 'bf3', 'SET', 'u8', 0, 0],
      ['bitfield', 'bf2', 'SET', 'u8', 16, 0],
      ['bitfield', 'bf2', 'OVERFLOW', 'FAIL', 'INCRBY', 'u2', 100, 5],
    ],
  },
  {
    name: 'commands that fail publish nothing',
    flags: 'AKEnm',
    steps: [
      ['set', 's', 'text'],
      ['incr', 's'],
      ['incrbyfloat', 's', 'x'],
      ['lpush', 's', 'a'],
      ['sadd', 's', 'a'],
      ['hset', 's', 'f', 'v'],
      ['zadd', 's', 1, 'a'],
      ['xadd', 's', '*', 'f', 'v'],
      ['append', 'nol', 'x'],
      ['lpush', 'l', 'a'],
      ['lset', 'l', 5, 'x'],
      ['lset', 'nol2', 0, 'x'],
      ['append', 'l', 'x'],
      ['rename', 'nokey', 'x'],
      ['hset', 'h', 'f', 'v'],
      ['hincrby', 'h', 'f', 1],
      ['zadd', 'z', 'NX', 'XX', 1, 'a'],
      ['zincrby', 'z', 'x', 'a'],
      ['setex', 'e', -1, 'v'],
      ['set', 'e', 'v', 'EX', 0],
      ['getex', 's', 'EX', -1],
      ['expire', 's', 'x'],
      ['xadd', 'x', '0-0', 'f', 'v'],
      ['smove', 's', 'sd', 'a'],
      ['lmove', 'l', 's', 'LEFT', 'LEFT'],
      ['copy', 's', 'l'],
      ['setrange', 's', -1, 'x'],
      ['get', 'l'],
    ],
  },
  {
    name: 'pipelines, transactions with failing commands, scripts',
    flags: 'AKE',
    steps: [
      {
        multi: [
          ['set', 'k', 'v'],
          ['lpush', 'k', 'a'],
          ['hset', 'h', 'f', 'v'],
          ['hincrby', 'h', 'f', 1],
          ['del', 'h', 'k'],
          ['expire', 'k', 10],
        ],
      },
      {
        lua:
          "redis.call('rpush', 'l', 'a', 'b'); redis.call('lmove', 'l', 'm', 'LEFT', 'LEFT');" +
          "redis.call('rpoplpush', 'l', 'm'); redis.call('sadd', 's', 'a'); redis.call('spop', 's');" +
          "redis.call('xadd', 'x', '1-1', 'f', 'v'); redis.call('xdel', 'x', '1-1'); redis.call('persist', 'm');" +
          "redis.call('pexpire', 'm', 100000); redis.call('persist', 'm'); redis.call('incr', 'l'); return 1",
      },
      { lua: "redis.call('set', 'k', 'v'); return redis.pcall('incr', 'k')" },
    ],
  },
  {
    name: 'pipelines, and blocked pops served later',
    flags: 'AKEn',
    steps: [
      {
        pipeline: [
          ['rpush', 'l', 'a'],
          ['lpop', 'l'],
          ['sadd', 's', 'a'],
          ['srem', 's', 'a'],
        ],
      },
      { blocked: ['blpop', 'bl', 5], then: ['rpush', 'bl', 'a'] },
      { blocked: ['blmove', 'bm', 'bd', 'RIGHT', 'LEFT', 5], then: ['lpush', 'bm', 'a', 'b'] },
      { blocked: ['bzpopmax', 'bz', 5], then: ['zadd', 'bz', 1, 'a'] },
      { blocked: ['blmpop', 5, 1, 'bp', 'RIGHT', 'COUNT', 3], then: ['rpush', 'bp', 'a', 'b'] },
    ],
  },
  {
    name: 'large collections, changed in place',
    flags: 'AKEn',
    steps: [
      {
        lua:
          "local t = {} for i = 1, 200 do t[#t + 1] = string.rep('x', 90) .. i end " +
          "local h = {} for i = 1, 200 do h[#h + 1] = 'f' .. i; h[#h + 1] = t[i] end " +
          'local z = {} for i = 1, 200 do z[#z + 1] = i; z[#z + 1] = t[i] end ' +
          "redis.call('rpush', 'bl', unpack(t)); redis.call('rpush', 'bl2', unpack(t)); " +
          "redis.call('hset', 'bh', unpack(h)); redis.call('sadd', 'bs', unpack(t)); " +
          "redis.call('zadd', 'bz', unpack(z)); return 1",
      },
      ['lpush', 'bl', 'a'],
      ['rpush', 'bl', 'b'],
      ['lpop', 'bl'],
      ['rpop', 'bl', 2],
      ['lpop', 'bl', 0],
      ['lrem', 'bl', 0, 'nothere'],
      ['lrem', 'bl', 1, `${'x'.repeat(90)}5`],
      ['lset', 'bl', 0, 'y'],
      ['linsert', 'bl', 'AFTER', 'y', 'z'],
      ['lmove', 'bl', 'bl', 'LEFT', 'RIGHT'],
      ['lmpop', 1, 'bl', 'LEFT', 'COUNT', 3],
      ['ltrim', 'bl', 0, 10],
      ['ltrim', 'bl2', 1, 0],
      ['hset', 'bh', 'f1', 'new'],
      ['hsetnx', 'bh', 'f1', 'x'],
      ['hsetnx', 'bh', 'g', 'x'],
      ['hdel', 'bh', 'nothere'],
      ['hdel', 'bh', 'f2', 'f3'],
      ['hincrby', 'bh', 'n', 1],
      ['sadd', 'bs', 'new'],
      ['sadd', 'bs', 'new'],
      ['srem', 'bs', 'new', 'nothere'],
      ['spop', 'bs', 2],
      ['zadd', 'bz', 1, 'new'],
      ['zadd', 'bz', 1, 'new'],
      ['zincrby', 'bz', 1, 'new'],
      ['zrem', 'bz', 'new'],
      ['zpopmin', 'bz', 2],
      ['zremrangebyrank', 'bz', 0, 1],
      ['zremrangebyscore', 'bz', 1000, 2000],
      ['zremrangebyscore', 'bz', '-inf', '+inf'],
    ],
  },
  {
    name: 'class filters: keyspace only, lists and generic',
    flags: 'Klg',
    steps: [
      ['lpush', 'l', 'a'],
      ['set', 's', 'v'],
      ['lpop', 'l'],
      ['expire', 's', 10],
      ['sadd', 'st', 'a'],
    ],
  },
  {
    name: 'class filters: new and key misses',
    flags: 'KEnm',
    steps: [
      ['set', 's', 'v'],
      ['set', 's', 'w'],
      ['get', 'nokey'],
      ['get', 's'],
      ['mget', 's', 'n1', 'n2'],
      ['exists', 'n1', 'n1', 's'],
      ['hget', 'nohash', 'f'],
      ['lpush', 'l', 'a'],
      ['sunionstore', 'd', 'none1', 'none2'],
      ['sadd', 'st', 'a'],
      ['type', 'nokey'],
      ['ttl', 'nokey'],
      ['strlen', 'nokey'],
      ['lrange', 'nol', 0, 1],
      ['zscore', 'noz', 'a'],
      ['getdel', 'nokey'],
      ['incr', 'counter'],
      ['smembers', 'nos'],
      ['zrange', 'noz', 0, -1],
      ['xrange', 'nox', '-', '+'],
      ['hgetall', 'nohash'],
      ['scard', 'nos'],
      ['rename', 's', 's2'],
      ['copy', 's2', 's3'],
      ['hscan', 'nohash', 0],
      ['sscan', 'nos', 0],
      ['zscan', 'noz', 0],
      ['bitfield_ro', 'nob', 'GET', 'u8', 0],
      ['sort_ro', 'nol'],
      ['getbit', 'nob', 0],
      ['bitcount', 'nob'],
      ['geopos', 'nogeo', 'a'],
      ['geosearch', 'nogeo', 'FROMLONLAT', 0, 0, 'BYRADIUS', 1, 'km'],
      ['xlen', 'nox'],
      ['sadd', 'st2', 'a'],
      ['sinter', 'nos', 'st2'],
      ['sinter', 'st2', 'nos', 'nos2'],
      ['sintercard', 3, 'st2', 'nos', 'nos2'],
      ['sinterstore', 'd', 'st2', 'nos', 'nos2'],
      ['sdiff', 'nos', 'nos2'],
      ['sunion', 'nos', 'nos2'],
      ['zcard', 'noz'],
      ['hlen', 'nohash'],
      ['llen', 'nol'],
      ['xadd', 'xs', '1-1', 'f', 'v'],
      ['xread', 'COUNT', 1, 'STREAMS', 'nox', 'xs', 'nox2', 0, 0, 0],
      ['xread', 'STREAMS', 'nox', '0', 'extra'],
      { multi: [['xread', 'BLOCK', 10, 'STREAMS', 'nox', 0]] },
    ],
  },
  {
    name: 'class filters: events only, strings, expiry and new keys',
    flags: 'E$xn',
    steps: [
      ['set', 's', 'v', 'PX', 1],
      ['sleep'],
      ['set', 's', 'w'],
      ['set', 'k', 'v'],
      ['append', 'k', 'w'],
      ['del', 'k'],
    ],
  },
];

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function attempt(call: () => Promise<unknown>): Promise<void> {
  await call().catch(() => undefined);
}

/** Runs each sequence on `client`, with a listener on `__key*__:*`: what the listener received, in order. */
async function received(client: Redis, sequence: Sequence): Promise<string[]> {
  const listener = client.duplicate();
  if (listener.status !== 'ready') await once(listener, 'ready');
  const blocking = client.duplicate();
  if (blocking.status !== 'ready') await once(blocking, 'ready');
  const events: string[] = [];
  listener.on('pmessage', (_pattern: string, channel: string, message: string) =>
    events.push(`${channel} ${message}`),
  );
  try {
    await client.flushall();
    await listener.psubscribe('__key*__:*');
    await client.config('SET', 'notify-keyspace-events', sequence.flags);
    for (const step of sequence.steps) {
      if ('multi' in step || 'pipeline' in step) {
        const batch = 'multi' in step ? client.multi() : client.pipeline();
        for (const [command, ...args] of 'multi' in step ? step.multi : step.pipeline)
          batch.call(String(command), ...args);
        await attempt(() => batch.exec());
      } else if ('blocked' in step) {
        const [command, ...args] = step.blocked;
        const waiting = attempt(() => blocking.call(String(command), ...args));
        await sleep(50);
        const [then, ...thenArgs] = step.then;
        await attempt(() => client.call(String(then), ...thenArgs));
        await waiting;
      } else if ('lua' in step) {
        await attempt(() => client.eval(step.lua, 0));
      } else if (step[0] === 'sleep') {
        await sleep(20);
      } else {
        const [command, ...args] = step;
        await attempt(() => client.call(String(command), ...args));
      }
    }
    await client.config('SET', 'notify-keyspace-events', '');
    await client.publish('__keyevent@0__:end', 'end');
    for (let i = 0; i < 200 && !events.includes('__keyevent@0__:end end'); i++) await sleep(5);
    return events;
  } finally {
    listener.disconnect();
    blocking.disconnect();
  }
}

describe('keyspace notifications of the embedded client', () => {
  const apps = trackApps<Harness>();
  afterAll(removeTempDirs);

  it('publishes an empty setting nothing, and refuses an unknown class letter', async () => {
    const client = (await apps.track(bootWith(durable(tempDir('notifications-'))))).redis;
    const events = await received(client, { name: 'off', flags: '', steps: [['set', 'k', 'v']] });
    expect(events).toEqual(['__keyevent@0__:end end']);
    await expect(client.config('SET', 'notify-keyspace-events', 'KEq')).rejects.toThrow(
      /Invalid event class character/,
    );
  });

  const redisServerBinary = findRedisServer(
    'keyspace notifications suite (test/keyspace-notifications.e2e-spec.ts)',
  );
  if (redisServerBinary === null) return;

  describe('against a real redis-server', () => {
    let server: RedisServer;
    let redis: Redis;

    beforeAll(async () => {
      server = await startRedisServer(redisServerBinary);
      redis = server.client();
    });
    afterAll(async () => {
      redis.disconnect();
      await server.stop();
    });

    it.each(SEQUENCES.map((sequence) => [sequence.name, sequence] as const))(
      'publishes what Redis 7.0 publishes: %s',
      async (_name, sequence) => {
        const expected = await received(redis, sequence);
        expect(expected.length).toBeGreaterThan(1);
        const embedded = (await apps.track(bootWith(durable(tempDir('notifications-'))))).redis;
        expect(await received(embedded, sequence)).toEqual(expected);
      },
    );
  });
});
