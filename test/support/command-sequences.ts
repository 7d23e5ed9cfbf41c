import type { Redis } from 'ioredis';
import { randomInt, type Random } from './datasets';

/**
 * Seeded sequences of everyday Redis commands, to send to the embedded client and to a real redis-server alike and
 * compare every reply (the differential test, `test/differential.e2e-spec.ts`, and `npm run fidelity`).
 *
 * Keys collide on purpose: each family mostly uses keys of its own (`str:1`, `hash:1`, …) so that most commands
 * find the type they expect, and now and then any key of the pool, so that wrong-type answers are exercised too.
 * TTLs are long (100 s and more) so that nothing expires during a run: expiry timing is not what is compared.
 * Commands whose reply is random (SPOP, SRANDMEMBER, HRANDFIELD, ZRANDMEMBER) ask for more elements than the key
 * holds, which makes their reply the whole key in some order; {@link normaliseReply} sorts what Redis leaves in no
 * given order (ZRANDMEMBER's members and scores together).
 */

export type Cmd = readonly [string, ...(string | Buffer)[]];

export const FAMILIES = [
  'strings',
  'hashes',
  'lists',
  'sets',
  'zsets',
  'streams',
  'keys',
  'transactions',
  'scripts',
] as const;
export type Family = (typeof FAMILIES)[number];

/** One generated step: a command, or a MULTI/EXEC block of commands. */
export interface Step {
  readonly family: Family;
  readonly commands: readonly Cmd[];
  /** Sent as MULTI … EXEC. */
  readonly multi?: boolean;
}

const OWN_KEYS: Record<Exclude<Family, 'transactions' | 'scripts'>, readonly string[]> = {
  strings: ['str:1', 'str:2', 'str:3'],
  hashes: ['hash:1', 'hash:2'],
  lists: ['list:1', 'list:2'],
  sets: ['set:1', 'set:2', 'set:3'],
  zsets: ['zset:1', 'zset:2'],
  streams: ['stream:1', 'stream:2'],
  keys: ['key:1', 'key:2'],
};
const ALL_KEYS = Object.values(OWN_KEYS).flat();
/** SCAN MATCH patterns over the keys above: classes, ranges, negation, escapes, an unclosed class. */
const SCAN_PATTERNS = [
  '*',
  's*',
  '*:1',
  '?et:?',
  '[hl]*',
  '[^s]*:[1-2]',
  '*[3-1]',
  'str\\:1',
  '\\s*',
  'key:[',
  '**:*',
  '',
];
/** HSCAN, SSCAN and ZSCAN MATCH patterns over the fields, members and texts above. */
const ELEMENT_PATTERNS = ['*', 'f*', '?', '[a-c]*', '*[^0-9]', 'é', '??', 'h*o', '\\f1'];
/** SCAN's argument errors: cursor, COUNT, a missing value, an unknown option. */
const SCAN_ERRORS: Cmd[] = [
  ['scan', 'x'],
  ['scan', '1.5'],
  ['scan', '99999999999999999999999'],
  ['scan', '0', 'COUNT', '0'],
  ['scan', '0', 'COUNT', '-1'],
  ['scan', '0', 'COUNT', 'ten'],
  ['scan', '0', 'MATCH'],
  ['scan', '0', 'LIMIT', '5'],
];

const TEXTS = ['a', 'b', 'c', 'hello', '', 'é', '日本', '1', '-3', '10', '3.5', ' 2', 'abc'];
/**
 * Numbers a script reads with `tonumber`: fengari's Lua 5.3 refuses `inf` and `nan` where Redis's 5.1 reads them, and
 * writes large floats otherwise (`tostring`), so those are left out.
 */
const LUA_NUMBERS = ['0', '1', '-1', '2', '5', '-5', '10', '100', '1.5', '-2.5', 'x'];
/** Numbers past 2^31 (where fengari's 5.3 integers wrapped around), fractions and exponents. */
const LUA_BIG_NUMBERS = [
  '1700000000',
  '3000000000',
  '-2147483649',
  '2.5',
  '1e15',
  '0.1',
  '-7',
  'x',
];
const INTEGERS = ['0', '1', '-1', '2', '5', '-5', '10', '100', '9223372036854775807', 'x', '1.5'];
const FIELDS = ['f1', 'f2', 'f3', 'n', '7', 'constructor', 'é'];
const SCORES = [
  '1',
  '2',
  '-1',
  '0',
  '1.5',
  '-2.5',
  'inf',
  '-inf',
  '+inf',
  '10',
  'x',
  '0.1',
  '1e20',
  '-3.14159',
  '-0',
];
const BOUNDS = ['-inf', '+inf', 'inf', '0', '1', '(1', '2', '(2', '-1', '1.5', '10', 'x'];
const INDEXES = ['0', '1', '-1', '2', '-2', '5', '-10', 'x'];
const TTL_SECONDS = ['100', '1000', '0', '-5', 'x'];

export class CommandGenerator {
  private streamIds = 0;

  /** `exclude`: commands never generated (a step that would hold one is drawn again). */
  constructor(
    private readonly random: Random,
    private readonly exclude: ReadonlySet<string> = new Set(),
  ) {}

  private pick<T>(items: readonly T[]): T {
    return items[randomInt(this.random, items.length)];
  }

  private chance(p: number): boolean {
    return this.random() < p;
  }

  private key(family: keyof typeof OWN_KEYS): string {
    return this.chance(0.85) ? this.pick(OWN_KEYS[family]) : this.pick(ALL_KEYS);
  }

  private value(): string | Buffer {
    const text = this.pick(TEXTS);
    return this.chance(0.08) ? Buffer.from(text) : text;
  }

  private values(n: number): (string | Buffer)[] {
    return Array.from({ length: n }, () => this.value());
  }

  private count(max = 4): number {
    return 1 + randomInt(this.random, max);
  }

  /** A generated step of `family`, or of a random family. */
  next(family: Family = this.pick(FAMILIES)): Step {
    for (;;) {
      const step = this.draw(family);
      if (!step.commands.some((c) => this.exclude.has(c[0]))) return step;
    }
  }

  private draw(family: Family): Step {
    switch (family) {
      case 'transactions':
        return {
          family,
          multi: true,
          commands: Array.from({ length: this.count(3) }, () => this.command(this.basicFamily())),
        };
      case 'scripts':
        return { family, commands: [this.script()] };
      default:
        return { family, commands: [this.command(family)] };
    }
  }

  private basicFamily(): Exclude<Family, 'transactions' | 'scripts'> {
    return this.pick(['strings', 'hashes', 'lists', 'sets', 'zsets', 'keys'] as const);
  }

  private command(family: Exclude<Family, 'transactions' | 'scripts'>): Cmd {
    switch (family) {
      case 'strings':
        return this.stringCommand();
      case 'hashes':
        return this.hashCommand();
      case 'lists':
        return this.listCommand();
      case 'sets':
        return this.setCommand();
      case 'zsets':
        return this.zsetCommand();
      case 'streams':
        return this.streamCommand();
      case 'keys':
        return this.keyCommand();
    }
  }

  private stringCommand(): Cmd {
    const k = this.key('strings');
    const choices: (() => Cmd)[] = [
      () => ['set', k, this.value()],
      () => ['set', k, this.value(), ...this.setOptions()],
      () => ['get', k],
      () => [
        'lcs',
        k,
        this.key('strings'),
        ...this.pick([[], ['LEN'], ['IDX'], ['idx', 'WITHMATCHLEN']]),
      ],
      () => [
        'lcs',
        k,
        this.key('strings'),
        'IDX',
        'MINMATCHLEN',
        this.pick(INTEGERS),
        'WITHMATCHLEN',
      ],
      () => ['pfadd', k, ...this.values(this.count(6))],
      () => ['pfcount', k, ...this.pick([[], [this.key('strings')]])],
      () => ['pfmerge', k, this.key('strings')],
      () => ['bitfield', k, ...this.bitfieldOps()],
      () => ['bitfield_ro', k, ...this.bitfieldOps()],
      () => ['getset', k, this.value()],
      () => ['append', k, this.value()],
      () => ['strlen', k],
      () => ['incr', k],
      () => ['decr', k],
      () => ['incrby', k, this.pick(INTEGERS)],
      () => ['decrby', k, this.pick(INTEGERS)],
      () => ['incrbyfloat', k, this.pick(['1.5', '-2', '0.1', 'x', '3'])],
      () => ['setrange', k, this.pick(['0', '1', '3', '-1']), this.value()],
      () => ['getrange', k, this.pick(INDEXES), this.pick(INDEXES)],
      () => ['substr', k, this.pick(INDEXES), this.pick(INDEXES)],
      () => ['mget', k, this.key('strings'), this.key('strings')],
      () => ['mset', k, this.value(), this.key('strings'), this.value()],
      () => ['msetnx', k, this.value(), this.key('strings'), this.value()],
      () => ['setnx', k, this.value()],
      () => ['getdel', k],
      () => ['getex', k, ...this.pick([[], ['EX', this.pick(TTL_SECONDS)], ['PERSIST']])],
      () => ['setex', k, this.pick(TTL_SECONDS), this.value()],
      () => ['psetex', k, this.pick(['100000', '0', '-1']), this.value()],
      () => ['setbit', k, this.pick(['0', '1', '7', '9']), this.pick(['0', '1'])],
      () => ['getbit', k, this.pick(['0', '1', '7', '100'])],
      () => ['bitcount', k],
      () => [
        'bitop',
        this.pick(['AND', 'or', 'XOR', 'NOT', 'NAND']),
        this.key('strings'),
        k,
        ...this.pick([[], [this.key('strings')], [this.key('strings'), this.key('hashes')]]),
      ],
      () => [
        'bitpos',
        k,
        this.pick(['0', '1', '2']),
        ...this.pick([
          [],
          ['1'],
          ['0', '-1'],
          ['-2', '-1', 'BYTE'],
          ['3', '12', 'BIT'],
          ['0', '5', 'bits'],
        ]),
      ],
    ];
    return this.pick(choices)();
  }

  private setOptions(): string[] {
    const options: string[][] = [
      ['EX', this.pick(TTL_SECONDS)],
      ['PX', this.pick(['100000', '0', '-1'])],
      ['NX'],
      ['XX'],
      ['GET'],
      ['KEEPTTL'],
      ['XX', 'GET'],
      ['NX', 'EX', '100'],
    ];
    return this.pick(options);
  }

  private hashCommand(): Cmd {
    const k = this.key('hashes');
    const f = (): string => this.pick(FIELDS);
    const choices: (() => Cmd)[] = [
      () => ['hset', k, f(), this.value()],
      () => ['hset', k, f(), this.value(), f(), this.value()],
      () => ['hget', k, f()],
      () => ['hmget', k, f(), f()],
      () => ['hgetall', k],
      () => ['hdel', k, f(), f()],
      () => ['hexists', k, f()],
      () => ['hincrby', k, f(), this.pick(INTEGERS)],
      () => ['hincrbyfloat', k, f(), this.pick(['1.5', '-2', 'x'])],
      () => ['hkeys', k],
      () => ['hvals', k],
      () => ['hlen', k],
      () => ['hsetnx', k, f(), this.value()],
      () => [
        'hscan',
        k,
        '0',
        ...this.pick([[], ['COUNT', '1'], ['MATCH', this.pick(ELEMENT_PATTERNS)]]),
      ],
      () => [
        'hscan',
        k,
        this.pick(['x', '0', '-1']),
        'COUNT',
        this.pick(['0', '5', 'x']),
        'TYPE',
        'hash',
      ],
      () => ['hstrlen', k, f()],
      () => ['hrandfield', k, '20'],
    ];
    return this.pick(choices)();
  }

  private listCommand(): Cmd {
    const k = this.key('lists');
    const choices: (() => Cmd)[] = [
      () => ['lpush', k, ...this.values(this.count())],
      () => ['rpush', k, ...this.values(this.count())],
      () => ['lpop', k],
      () => ['rpop', k, this.pick(['1', '2', '0'])],
      () => ['lrange', k, this.pick(INDEXES), this.pick(INDEXES)],
      () => ['llen', k],
      () => ['lindex', k, this.pick(INDEXES)],
      () => ['lset', k, this.pick(INDEXES), this.value()],
      () => ['linsert', k, this.pick(['BEFORE', 'AFTER', 'before']), this.value(), this.value()],
      () => ['lrem', k, this.pick(['0', '1', '-1', '2']), this.value()],
      () => ['ltrim', k, this.pick(INDEXES), this.pick(INDEXES)],
      () => ['lpushx', k, this.value()],
      () => ['rpushx', k, this.value()],
      () => [
        'lmove',
        k,
        this.key('lists'),
        this.pick(['LEFT', 'RIGHT']),
        this.pick(['LEFT', 'RIGHT']),
      ],
      () => ['rpoplpush', k, this.key('lists')],
      () => [this.pick(['blpop', 'brpop']), k, this.key('lists'), this.blockTimeout()],
      () => [
        'blmove',
        k,
        this.key('lists'),
        'LEFT',
        this.pick(['RIGHT', 'UP']),
        this.blockTimeout(),
      ],
      () => [
        'blmpop',
        this.blockTimeout(),
        this.pick(['2', '1', '3']),
        k,
        this.key('lists'),
        'RIGHT',
        ...this.pick([[], ['COUNT', '2']]),
      ],
      () => ['lmpop', this.pick(['2', '1', '3']), k, this.key('lists'), 'LEFT'],
      () => ['lpos', k, this.value()],
      () => [
        'lpos',
        k,
        this.value(),
        ...this.pick([
          ['RANK', '-1'],
          ['RANK', '2', 'COUNT', '0'],
          ['RANK', '-9223372036854775808', 'COUNT', '1'],
          ['COUNT', '2'],
          ['maxlen', '2'],
        ]),
      ],
    ];
    return this.pick(choices)();
  }

  private setCommand(): Cmd {
    const k = this.key('sets');
    const choices: (() => Cmd)[] = [
      () => ['sadd', k, ...this.values(this.count())],
      () => ['srem', k, ...this.values(this.count(2))],
      () => ['smembers', k],
      () => [
        'sscan',
        k,
        '0',
        'COUNT',
        '1000',
        ...this.pick([[], ['MATCH', this.pick(ELEMENT_PATTERNS)]]),
      ],
      () => ['sscan', k, this.pick(['0', 'x']), 'MATCH', '*', 'COUNT', this.pick(['0', '-2', 'x'])],
      () => ['sismember', k, this.value()],
      () => ['smismember', k, this.value(), this.value()],
      () => ['scard', k],
      () => ['spop', k, '20'],
      () => ['srandmember', k, '20'],
      () => ['sinter', k, this.key('sets')],
      () => [
        'sintercard',
        this.pick(['2', '1', '0', '3', 'x']),
        k,
        this.key('sets'),
        ...this.cardLimit(),
      ],
      () => ['sunion', k, this.key('sets')],
      () => ['sdiff', k, this.key('sets')],
      () => ['sinterstore', this.key('sets'), k, this.key('sets')],
      () => ['sunionstore', this.key('sets'), k, this.key('sets')],
      () => ['sdiffstore', this.key('sets'), k, this.key('sets')],
      () => ['smove', k, this.key('sets'), this.value()],
    ];
    return this.pick(choices)();
  }

  private zsetCommand(): Cmd {
    const k = this.key('zsets');
    const m = (): string | Buffer => this.value();
    const s = (): string => this.pick(SCORES);
    const b = (): string => this.pick(BOUNDS);
    const choices: (() => Cmd)[] = [
      () => ['zadd', k, s(), m()],
      () => ['zadd', k, s(), m(), s(), m()],
      () => [
        'zadd',
        k,
        ...this.pick([['NX'], ['XX'], ['GT'], ['LT'], ['CH'], ['XX', 'CH']]),
        s(),
        m(),
      ],
      () => ['zadd', k, 'INCR', s(), m()],
      () => ['zscore', k, m()],
      () => ['zmscore', k, m(), m()],
      () => ['zincrby', k, s(), m()],
      () => ['zrange', k, this.pick(INDEXES), this.pick(INDEXES)],
      () => ['zrange', k, '0', '-1', 'WITHSCORES'],
      () => [
        'zscan',
        k,
        '0',
        ...this.pick([[], ['COUNT', '1'], ['MATCH', this.pick(ELEMENT_PATTERNS)]]),
      ],
      () => ['zscan', k, '0', 'NOSCORES'],
      () => ['zrange', k, b(), b(), 'BYSCORE'],
      () => ['zrange', k, b(), b(), 'BYSCORE', 'WITHSCORES'],
      () => ['zrangebyscore', k, b(), b()],
      () => ['zrangebyscore', k, b(), b(), 'WITHSCORES'],
      () => ['zrevrangebyscore', k, b(), b()],
      () => ['zrevrange', k, '0', '-1', 'WITHSCORES'],
      () => ['zrank', k, m()],
      () => ['zrevrank', k, m()],
      () => ['zrem', k, m()],
      () => ['zcard', k],
      () => ['zcount', k, b(), b()],
      () => ['zpopmin', k],
      () => [this.pick(['bzpopmin', 'bzpopmax']), k, this.key('zsets'), this.blockTimeout()],
      () => ['bzmpop', this.blockTimeout(), '1', k, this.pick(['MIN', 'MAX']), 'COUNT', '2'],
      () => [
        'zmpop',
        this.pick(['2', '1', '0', '3']),
        k,
        this.key('zsets'),
        this.pick(['MIN', 'max', 'LEFT']),
        ...this.pick([[], ['COUNT', '2'], ['COUNT', '0'], ['count', '5', 'COUNT', '1']]),
      ],
      () => ['zintercard', this.pick(['2', '1', '0', '3']), k, this.input(), ...this.cardLimit()],
      () => ['zpopmax', k, this.pick(['1', '2'])],
      () => ['zremrangebyrank', k, this.pick(INDEXES), this.pick(INDEXES)],
      () => ['zremrangebyscore', k, b(), b()],
      () => ['zinterstore', this.key('zsets'), '2', k, this.key('zsets')],
      () => ['zunionstore', this.key('zsets'), '2', k, this.key('zsets')],
      () => [
        this.pick(['zunionstore', 'zinterstore']),
        this.key('zsets'),
        '2',
        k,
        this.input(),
        'WEIGHTS',
        this.pick(['2', '0', '-1', 'inf']),
        this.pick(['1', '0.5', '-inf']),
        'AGGREGATE',
        this.pick(['SUM', 'MIN', 'max']),
      ],
      () => ['zdiffstore', this.key('zsets'), '2', k, this.input()],
      () => [this.pick(['zunion', 'zinter', 'zdiff']), '2', k, this.input(), 'WITHSCORES'],
      () => ['zrangestore', this.key('zsets'), k, b(), b(), 'BYSCORE'],
      () => ['zrangestore', this.key('zsets'), k, this.pick(INDEXES), this.pick(INDEXES)],
      () => ['zrandmember', k, '20', ...this.pick([[], ['WITHSCORES']])],
      () => ['zrangebylex', k, this.lexBound(), this.lexBound(), ...this.lexLimit()],
      () => ['zrevrangebylex', k, this.lexBound(), this.lexBound(), ...this.lexLimit()],
      () => ['zrange', k, this.lexBound(), this.lexBound(), 'BYLEX', ...this.pick([[], ['REV']])],
      () => ['zlexcount', k, this.lexBound(), this.lexBound()],
      () => ['zremrangebylex', k, this.lexBound(), this.lexBound()],
      () => ['zrangestore', this.key('zsets'), k, this.lexBound(), this.lexBound(), 'BYLEX'],
    ];
    return this.pick(choices)();
  }

  /** A bound of a lexicographic range: open ends, inclusive or exclusive members, past the ASCII ones, or invalid. */
  private lexBound(): string {
    return this.pick(['-', '+', '[a', '(b', '[c', '(m', '[hello', '(é', '[é', 'c', '']);
  }

  /** A blocking pop's timeout: short (nothing waits long for a key no one writes meanwhile), or not one. */
  private blockTimeout(): string {
    return this.pick(['0.01', '0.01', '0.001', '-1', 'x', '0x0.01']);
  }

  /** A LIMIT of SINTERCARD or ZINTERCARD, most often none. */
  private cardLimit(): string[] {
    if (!this.chance(0.4)) return [];
    return this.pick([['LIMIT', '1'], ['limit', '0'], ['LIMIT', '-1'], ['LIMIT'], ['FOO', '1']]);
  }

  /** A LIMIT of a lexicographic range, most often none. */
  private lexLimit(): string[] {
    if (!this.chance(0.4)) return [];
    return ['LIMIT', this.pick(['0', '1', '2', '-1']), this.pick(['1', '2', '0', '-1'])];
  }

  /** A second input of the sorted-set algebra: a sorted set, or now and then a set (which counts with scores 1). */
  private input(): string {
    return this.chance(0.3) ? this.pick(OWN_KEYS.sets) : this.key('zsets');
  }

  private streamId(): string {
    if (this.chance(0.15))
      return this.pick(['0-0', '1', 'x', '5-x', '0-*', '-', '18446744073709551616']);
    this.streamIds += 1 + randomInt(this.random, 2);
    if (this.chance(0.15)) return `${this.streamIds}-*`;
    return `${this.streamIds}-${randomInt(this.random, 3)}`;
  }

  /** An id near the explicit ones given so far, whole (`3-1`) or incomplete (`3`). */
  private knownId(): string {
    const ms = randomInt(this.random, this.streamIds + 2);
    return this.chance(0.3) ? `${ms}` : `${ms}-${randomInt(this.random, 3)}`;
  }

  private bound(): string {
    return this.pick(['-', '+', '(', '', '', 'x']) === '('
      ? `(${this.knownId()}`
      : this.pick(['-', '+', this.knownId(), this.knownId(), '(-', 'x', '(0-0']);
  }

  private trimArgs(): string[] {
    const strategy = this.pick([
      ['MAXLEN', this.pick(['0', '1', '3', '-1', 'x'])],
      ['MAXLEN', '=', this.pick(['1', '2'])],
      ['MAXLEN', '~', this.pick(['0', '1'])],
      ['MINID', this.knownId()],
      ['MINID', this.pick(['=', '~']), this.knownId()],
      ['MINID', 'x'],
    ]);
    const limit = this.pick([[], [], [], ['LIMIT', this.pick(['0', '5', '-1'])]]);
    return [...strategy, ...limit];
  }

  private streamCommand(): Cmd {
    const k = this.key('streams');
    const choices: (() => Cmd)[] = [
      () => ['xadd', k, this.streamId(), 'f', this.value()],
      () => ['xadd', k, this.streamId(), 'f', this.value(), 'g', this.value()],
      () => ['xadd', k, '*', 'f', this.value()],
      () => ['xadd', k, '*', 'f', this.value()],
      () => ['xadd', k, 'NOMKSTREAM', this.pick(['*', this.streamId()]), 'f', this.value()],
      () => ['xadd', k, ...this.trimArgs(), this.pick(['*', this.streamId()]), 'f', this.value()],
      () => ['xadd', k, this.pick(['*', this.streamId()]), 'f'],
      () => ['xlen', k],
      () => ['xrange', k, '-', '+'],
      () => ['xrange', k, this.pick(['-', '1', '2-0', '(1-0']), this.pick(['+', '5', '10-2'])],
      () => ['xrange', k, this.bound(), this.bound()],
      () => ['xrange', k, '-', '+', 'COUNT', this.pick(['1', '2', '0', '-1', 'x'])],
      () => ['xrevrange', k, '+', '-'],
      () => ['xrevrange', k, this.bound(), this.bound()],
      () => ['xrevrange', k, '+', '-', 'COUNT', this.pick(['1', '2', '0'])],
      () => [
        'xdel',
        k,
        `${randomInt(this.random, this.streamIds + 1)}-${randomInt(this.random, 3)}`,
      ],
      () => ['xdel', k, this.knownId(), this.knownId(), this.pick([this.knownId(), 'x'])],
      () => ['xtrim', k, 'MAXLEN', this.pick(['0', '1', '3'])],
      () => ['xtrim', k, ...this.trimArgs()],
      () => ['xread', 'COUNT', '10', 'STREAMS', k, this.pick(['0', '0-0', '$', '3-0'])],
      () => ['xread', 'STREAMS', k, this.key('streams'), this.knownId(), this.pick(['$', '0'])],
      () => ['xread', 'COUNT', this.pick(['1', '0', 'x']), 'STREAMS', k, this.knownId()],
      () => ['xread', 'STREAMS', k, this.pick(['x', '$'])],
      () => ['type', k],
      () => ['exists', k],
      () => ['lpush', k, this.value()],
      () => ['get', k],
    ];
    return this.pick(choices)();
  }

  /**
   * SORT or SORT_RO of any key, with options that Redis answers the same whatever a set's internal order (which the
   * embedded cache does not share): a set is not read unsorted (`BY nosort`) unless stored, when Redis sorts it too,
   * and not sorted by ALPHA BY, where equal values keep that order.
   */
  private sortCommand(): Cmd {
    const k = this.pick(ALL_KEYS);
    const ordered = this.pick([...OWN_KEYS.lists, ...OWN_KEYS.zsets]);
    const store = this.key('lists');
    return this.pick<Cmd>([
      ['sort', k],
      ['sort', k, 'ALPHA'],
      ['sort', k, 'desc'],
      ['sort', k, 'ALPHA', 'DESC', 'LIMIT', '0', '3'],
      ['sort', k, 'LIMIT', this.pick(INDEXES), this.pick(INDEXES)],
      ['sort', k, 'BY', 'str:*'],
      ['sort', k, 'BY', 'hash:*->f1', 'DESC'],
      ['sort', k, 'GET', '#', 'GET', 'str:*'],
      ['sort', k, 'ALPHA', 'GET', 'hash:*->f2'],
      ['sort', k, 'STORE', store],
      ['sort', k, 'ALPHA', 'LIMIT', '1', '2', 'STORE', store],
      ['sort', k, 'BY', 'nosort', 'STORE', store],
      ['sort', ordered, 'BY', 'nosort', this.pick(['ASC', 'DESC'])],
      ['sort', ordered, 'by', 'nosort', 'LIMIT', '1', '2'],
      ['sort', k, this.pick(['foo', 'LIMIT', 'BY', 'GET', 'STORE'])],
      ['sort_ro', k, 'ALPHA'],
      ['sort_ro', k, 'STORE', store],
    ]);
  }

  /** BITFIELD subcommands: fields of any width at bit or field offsets, each overflow kind, and some errors. */
  private bitfieldOps(): string[] {
    const types = ['u1', 'u4', 'u8', 'i5', 'i8', 'i16', 'u31', 'i32', 'u63', 'i64', 'u64', 'x8'];
    const values = [
      '0',
      '1',
      '-1',
      '100',
      '300',
      '-300',
      '2147483648',
      '-9223372036854775808',
      'x',
    ];
    const offsets = ['0', '3', '8', '#1', '#3', '-1', 'x'];
    const ops: string[] = [];
    for (let i = this.count(3); i > 0; i--) {
      const field = [this.pick(types), this.pick(offsets)];
      ops.push(
        ...this.pick([
          ['GET', ...field],
          ['SET', ...field, this.pick(values)],
          ['INCRBY', ...field, this.pick(values)],
          ['OVERFLOW', this.pick(['WRAP', 'SAT', 'FAIL', 'sat', 'NONE'])],
        ]),
      );
    }
    return ops;
  }

  private keyCommand(): Cmd {
    const k = this.pick(ALL_KEYS);
    const other = this.pick(ALL_KEYS);
    const choices: (() => Cmd)[] = [
      () => ['set', this.key('keys'), this.value()],
      () => this.sortCommand(),
      () => ['del', k],
      () => ['exists', k, other],
      () => ['touch', k, other, k],
      () => ['type', k],
      () => ['rename', k, other],
      () => ['renamenx', k, other],
      () => ['expire', k, this.pick(TTL_SECONDS)],
      () => ['expire', k, '500', this.pick(['NX', 'XX', 'GT', 'LT'])],
      () => ['pexpire', k, this.pick(['100000', '0', '-1'])],
      () => ['ttl', k],
      () => ['pttl', k],
      () => ['expiretime', k],
      () => ['pexpiretime', k],
      () => ['persist', k],
      () => ['keys', '*'],
      () => ['dbsize'],
      () => ['copy', k, other],
      () => ['copy', k, other, 'REPLACE'],
      () => ['unlink', k],
      () => ['scan', '0', 'COUNT', '1000'],
      () => ['scan', '0', 'COUNT', '1000', 'TYPE', this.pick(['string', 'hash', 'list', 'stream'])],
      () => ['scan', '0', 'MATCH', this.pick(SCAN_PATTERNS), 'COUNT', '1000'],
      () => ['scan', '0', 'match', this.pick(SCAN_PATTERNS), 'count', '1000', 'type', 'set'],
      () => this.pick(SCAN_ERRORS),
    ];
    return this.pick(choices)();
  }

  private script(): Cmd {
    const k = this.pick(ALL_KEYS);
    const scripts: Cmd[] = [
      ['eval', "return redis.call('get', KEYS[1])", '1', k],
      ['eval', "return redis.call('incr', KEYS[1])", '1', k],
      // Sorted: ioredis-mock's hashes list fields that look like array indexes first (see docs/FIDELITY.md).
      [
        'eval',
        "local r = redis.call('hgetall', KEYS[1]); local t = {}; " +
          "for i = 1, #r, 2 do t[#t + 1] = r[i] .. '=' .. r[i + 1] end; table.sort(t); return t",
        '1',
        k,
      ],
      ['eval', "return redis.call('lrange', KEYS[1], 0, -1)", '1', k],
      [
        'eval',
        "redis.call('set', KEYS[1], ARGV[1]); return redis.call('strlen', KEYS[1])",
        '1',
        k,
        'é',
      ],
      ['eval', "return redis.pcall('incr', KEYS[1])", '1', k],
      ['eval', 'return {1, 2, 3}', '0'],
      ['eval', "return {1, 'two', nil, 3}", '0'],
      ['eval', 'return {3.99, -2.5, true, false}', '0'],
      ['eval', "return redis.call('set', KEYS[1], ARGV[1])", '1', k, this.pick(TEXTS)],
      ['eval', "return redis.call('zadd', KEYS[1], ARGV[1], 'm')", '1', k, this.pick(SCORES)],
      ['eval', "return redis.call('setrange', KEYS[1], 1, ARGV[1])", '1', k, 'é'],
      ['eval', "return redis.call('incrbyfloat', KEYS[1], ARGV[1])", '1', k, '0.1'],
      [
        'eval',
        "local r = redis.pcall('lpush', KEYS[1], 'x'); " +
          "if type(r) == 'table' and r.err then return 'failed: ' .. r.err end; return r",
        '1',
        k,
      ],
      ['eval', "return redis.call('copy', KEYS[1], KEYS[2])", '2', k, this.pick(ALL_KEYS)],
      // Lua 5.1's numbers: doubles written with %.14g, and its string.format, stored and read back.
      [
        'eval',
        "local n = tonumber(ARGV[1]) or 0; return redis.call('set', KEYS[1], n * 1000 .. ':' .. " +
          "string.format('%d|%.3f|%g|%x|%5.1e', n, n, n, n, n))",
        '1',
        k,
        this.pick(LUA_BIG_NUMBERS),
      ],
      [
        'eval',
        "local n = redis.call('incrby', KEYS[1], ARGV[1]); return {n .. '', tostring(n * 1000), n % 7}",
        '1',
        k,
        this.pick(LUA_BIG_NUMBERS),
      ],
      ['eval', "return {err='custom failure'}", '0'],
      ['eval', "error('boom')", '0'],
      ['eval', "return redis.call('nosuchcommand')", '0'],
      // The libraries Redis loads for scripts: values stored through them, and read back.
      [
        'eval',
        "return redis.call('set', KEYS[1], cjson.encode({ARGV[1], tonumber(ARGV[2]), {ok=true}}))",
        '1',
        k,
        this.pick(TEXTS),
        this.pick(LUA_NUMBERS),
      ],
      [
        'eval',
        "local ok, v = pcall(cjson.decode, redis.call('get', KEYS[1]) or 'null'); " +
          "if not ok then return 'not JSON: ' .. v end; return cjson.encode(v)",
        '1',
        k,
      ],
      [
        'eval',
        "return redis.call('set', KEYS[1], cmsgpack.pack(ARGV[1], tonumber(ARGV[2]) or 0, {1, 2}))",
        '1',
        k,
        this.pick(TEXTS),
        this.pick(LUA_NUMBERS),
      ],
      [
        'eval',
        "local ok, a, b = pcall(cmsgpack.unpack, redis.call('get', KEYS[1]) or ''); " +
          "if not ok then return 'not packed: ' .. a end; " +
          "return {type(a), type(b) == 'table' and 'table' or tostring(b)}",
        '1',
        k,
      ],
      [
        'eval',
        'return bit.bxor(bit.lshift(tonumber(ARGV[1]) or 1, 3), 0xff)',
        '0',
        this.pick(LUA_NUMBERS),
      ],
    ];
    return this.pick(scripts);
  }
}

/** Commands whose reply Redis gives in no particular order: compared sorted. */
const UNORDERED = new Set([
  'smembers',
  'sinter',
  'sunion',
  'sdiff',
  'spop',
  'srandmember',
  'hkeys',
  'hvals',
  'hrandfield',
  'zrandmember',
  'keys',
]);

/**
 * Time-based stream ids (`<ms>-<seq>`, ms since 1970, what `XADD *` gives) differ between two servers by nature. Each
 * side names its own by their order of first appearance in its replies (`<time-id 3>`: the third such id it gave), so
 * that the same id must come back where Redis's comes back, in the same order; an id that appears for the first time
 * and is not greater than every time-based id the side gave before is shown as such (`<time-id 3, not increasing>`).
 * One naming per side and sequence: the ids of a sequence start again from none.
 */
export class TimeIds {
  private readonly names = new Map<string, number>();
  private greatest: readonly [bigint, bigint] | undefined;

  name(id: string): string {
    const known = this.names.get(id);
    if (known !== undefined) return `<time-id ${known}>`;
    const [ms, seq] = id.split('-').map(BigInt);
    const increasing =
      this.greatest === undefined ||
      ms > this.greatest[0] ||
      (ms === this.greatest[0] && seq > this.greatest[1]);
    if (increasing) this.greatest = [ms, seq];
    const n = this.names.size + 1;
    this.names.set(id, n);
    return increasing ? `<time-id ${n}>` : `<time-id ${n}, not increasing>`;
  }
}

/** A reply in a form both sides give alike: Buffers as tagged hex, errors as their text, unordered replies sorted. */
export function normaliseReply(command: string, reply: unknown, ids = new TimeIds()): unknown {
  const name = command.toLowerCase();
  if (name === 'ttl' || name === 'pttl') {
    return typeof reply === 'number' && reply > 0 ? 'positive' : reply;
  }
  if (name === 'expiretime' || name === 'pexpiretime') {
    return typeof reply === 'number' && reply > 0 ? 'future' : reply;
  }
  if (name === 'scan' && Array.isArray(reply)) {
    return [reply[0], [...(reply[1] as string[])].sort()];
  }
  // A collection's elements come in no particular order: fields with their values, members with their scores.
  if ((name === 'hscan' || name === 'sscan' || name === 'zscan') && Array.isArray(reply)) {
    const items = plain(reply[1], ids) as unknown[];
    const width = name === 'sscan' ? 1 : 2;
    const groups: string[] = [];
    for (let i = 0; i < items.length; i += width) {
      groups.push(JSON.stringify(items.slice(i, i + width)));
    }
    return [reply[0], groups.sort()];
  }
  if (name === 'hgetall' && reply !== null && typeof reply === 'object' && !Array.isArray(reply)) {
    return Object.entries(reply as Record<string, unknown>)
      .map(([k, v]) => [k, plain(v, ids)])
      .sort();
  }
  const value = plain(reply, ids);
  if (UNORDERED.has(name) && Array.isArray(value)) return [...value].sort();
  return value;
}

/** A time-based stream id: ms since 1970 (13 digits, from 2001 on), then the sequence. */
const TIME_ID = /^1\d{12}-\d+$/;

function plain(value: unknown, ids: TimeIds): unknown {
  if (Buffer.isBuffer(value)) return `<buffer ${value.toString('hex')}>`;
  if (typeof value === 'string' && TIME_ID.test(value)) return ids.name(value);
  if (value instanceof Error) return { error: value.message };
  if (Array.isArray(value)) return value.map((v) => plain(v, ids));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v, ids)]));
  }
  return value;
}

/** Sends a command through the client's method of that name, as an application would (or `call` when it has none). */
function send(client: Redis, [command, ...args]: Cmd): Promise<unknown> {
  const method = (client as unknown as Record<string, unknown>)[command];
  if (typeof method !== 'function') return client.call(command, ...args);
  return (method as (...a: unknown[]) => Promise<unknown>).apply(client, args);
}

/** What a client answered to one step: the reply (normalised) or the error's text. */
export async function runStep(
  client: Redis,
  step: Step,
  ids: TimeIds = new TimeIds(),
): Promise<unknown> {
  if (step.multi === true) {
    try {
      const results = await client.multi(step.commands.map((c) => [...c])).exec();
      return results?.map(([error, reply], i) =>
        error !== null ? failure(error) : normaliseReply(step.commands[i][0], reply, ids),
      );
    } catch (error) {
      return failure(error);
    }
  }
  const [command, ...args] = step.commands[0];
  try {
    return normaliseReply(command, await send(client, [command, ...args]), ids);
  } catch (error) {
    return failure(error);
  }
}

/**
 * An error as a step's answer: its text, and what ioredis makes of it (its class, the command it names, the errors
 * of the commands a transaction discarded), all of which a caller may look at.
 */
function failure(error: unknown): unknown {
  if (!(error instanceof Error)) return { thrown: error };
  const { command, previousErrors } = error as { command?: unknown; previousErrors?: unknown };
  return {
    error: error.message,
    class: error.name,
    command,
    previousErrors: Array.isArray(previousErrors) ? previousErrors.map(failure) : previousErrors,
  };
}

/** The text a step is shown as in a report. */
export function showStep(step: Step): string {
  const show = (c: Cmd): string =>
    c
      .map((a) => (typeof a === 'string' ? JSON.stringify(a) : `<buffer ${a.toString('hex')}>`))
      .join(' ');
  return step.multi === true
    ? `MULTI; ${step.commands.map(show).join('; ')}; EXEC`
    : show(step.commands[0]);
}
