import type { Redis } from 'ioredis';
import { createEmbeddedClient } from '../lib/ioredis-mock/adapter';
import { Keyspace } from '../lib/keyspace/keyspace';
import { findRedisServer, startRedisServer, type RedisServer } from './support/redis-server';

/**
 * CONFIG GET/SET of the memory parameters and MEMORY USAGE answer as a real redis-server 7 does: the same replies and
 * error texts, and a refused CONFIG SET changes nothing. Each case starts from the same settings on both.
 */

type Cmd = [string, ...string[]];

const DEFAULTS: Cmd = [
  'config',
  'set',
  'maxmemory',
  '0',
  'maxmemory-policy',
  'noeviction',
  'maxmemory-samples',
  '5',
];
const SETTINGS: Cmd = ['config', 'get', 'maxmemory', 'maxmemory-policy', 'maxmemory-samples'];
const huge = '18446744073709551615';

const CASES: Cmd[][] = [
  // values Redis's memtoull and string2ll take or refuse
  ...[
    '1gb',
    '1GB',
    '100b',
    '1k',
    '1kb',
    '',
    huge,
    '18446744073709551616',
    '99999999999999999999999',
  ].map((v): Cmd[] => [['config', 'set', 'maxmemory', v], SETTINGS]),
  ...['50%', ' 100', '100 mb', '-1', '1.5gb', 'abc', '+5', '1tb'].map((v): Cmd[] => [
    ['config', 'set', 'maxmemory', v],
    SETTINGS,
  ]),
  ...['1', '64', '65', '2147483647', '2147483648', '0', '-3', 'abc', '1k', '01', '+5', ' 5'].map(
    (v): Cmd[] => [['config', 'set', 'maxmemory-samples', v], SETTINGS],
  ),
  ...['ALLKEYS-LRU', 'volatile-ttl', 'bogus', ''].map((v): Cmd[] => [
    ['config', 'set', 'maxmemory-policy', v],
    SETTINGS,
  ]),
  // several at once: all or nothing; a name twice; an unknown name; pairs
  [['config', 'set', 'maxmemory', '1mb', 'maxmemory-policy', 'allkeys-lru'], SETTINGS],
  [['config', 'set', 'maxmemory', '1mb', 'maxmemory-policy', 'nope'], SETTINGS],
  [['config', 'set', 'maxmemory', '1mb', 'maxmemory-samples', '0'], SETTINGS],
  [['config', 'set', 'maxmemory', '2mb', 'maxmemory', '3mb'], SETTINGS],
  [['config', 'set', 'maxmemory', '2mb', 'MAXMEMORY', '3mb'], SETTINGS],
  [['config', 'set', 'maxmemory', '1', 'foo', '1', 'maxmemory', '2'], SETTINGS],
  [['config', 'set', 'maxmemory', '1', 'maxmemory', '2', 'foo', '1'], SETTINGS],
  [['config', 'set', 'maxmemory', '2mb', 'maxmemory-policy'], SETTINGS],
  [['config', 'set', 'maxmemory'], SETTINGS],
  [['config', 'set'], SETTINGS],
  // names as given, patterns
  [['config', 'get', 'MAXMEMORY']],
  [['config', 'get', 'MaxMemory-Policy', 'maxmemory-policy']],
  [['config', 'get', 'maxmemory', 'MAXMEMORY']],
  [['config', 'get', 'nosuchparameter']],
  // `databases` cannot be set (the first name refused decides the error; later ones are only looked up)
  [['config', 'set', 'databases', '1'], SETTINGS],
  [['config', 'set', 'DATABASES', '4', 'maxmemory', '1mb'], SETTINGS],
  [['config', 'set', 'maxmemory', '1mb', 'databases', '4'], SETTINGS],
  [['config', 'set', 'databases', '4', 'nosuchparameter', '1'], SETTINGS],
  [['config', 'set', 'nosuchparameter', '1', 'databases', '4'], SETTINGS],
  [['config', 'set', 'maxmemory', '1mb', 'maxmemory', '2mb', 'databases', '4'], SETTINGS],
  // MEMORY USAGE's arguments
  [['memory', 'usage', 'nokey']],
  [['memory', 'usage', 'nokey', 'samples', '5']],
  [['memory', 'usage', 'nokey', 'samples', '5', 'samples', '0']],
  [['memory', 'usage', 'nokey', 'samples', '-1']],
  [['memory', 'usage', 'nokey', 'samples', 'abc']],
  [['memory', 'usage', 'nokey', 'samples', '9223372036854775808']],
  [['memory', 'usage', 'nokey', 'samples']],
  [['memory', 'usage', 'nokey', 'foo']],
  [['memory', 'usage']],
  [['memory', 'foo']],
  [['memory', 'help', 'x']],
];

/** Replies in a form both clients give alike: numbers as text, errors as their text. */
async function outcomes(client: Redis, cmds: Cmd[]): Promise<unknown[]> {
  const out: unknown[] = [];
  for (const [name, ...args] of cmds) {
    try {
      const reply = await client.call(name, ...args);
      out.push(Array.isArray(reply) ? pairsOf(reply as unknown[]) : reply);
    } catch (error) {
      out.push({ error: (error as Error).message });
    }
  }
  return out;
}

/** CONFIG GET's reply as sorted name/value pairs (Redis answers from a hash table, in no set order). */
function pairsOf(reply: unknown[]): unknown {
  const pairs: string[][] = [];
  for (let i = 0; i + 1 < reply.length; i += 2)
    pairs.push([String(reply[i]), String(reply[i + 1])]);
  return pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

const redisServerBinary = findRedisServer(
  'config fidelity suite (test/config-fidelity.e2e-spec.ts)',
);
if (redisServerBinary !== null) {
  describe('CONFIG and MEMORY of the memory limit, against a real redis-server', () => {
    let server: RedisServer;
    let redis: Redis;
    let embedded: Redis;
    let keyspace: Keyspace;

    beforeAll(async () => {
      server = await startRedisServer(redisServerBinary);
      redis = server.client();
      keyspace = new Keyspace();
      embedded = createEmbeddedClient(keyspace);
    });
    beforeEach(async () => {
      await redis.call(...DEFAULTS);
      await embedded.call(...DEFAULTS);
    });
    afterAll(async () => {
      embedded.disconnect();
      redis.disconnect();
      await server.stop();
    });

    it.each(CASES.map((cmds) => [cmds.map((c) => c.join(' ')).join('; '), cmds] as const))(
      'answers as Redis does: %s',
      async (_name, cmds) => {
        expect(await outcomes(embedded, cmds)).toEqual(await outcomes(redis, cmds));
      },
    );

    it('answers CONFIG GET databases as a redis-server with one database', async () => {
      const single = await startRedisServer(redisServerBinary, undefined, {
        args: ['--databases', '1'],
      });
      const oneDb = single.client();
      const cmds: Cmd[] = [
        ['config', 'get', 'databases'],
        ['config', 'get', 'DATABASES'],
        ['config', 'get', 'data*'],
        ['config', 'get', 'databases', 'maxmemory-samples'],
      ];
      try {
        const expected = await outcomes(oneDb, cmds);
        expect(expected).toEqual([
          [['databases', '1']],
          [['DATABASES', '1']],
          [['databases', '1']],
          [
            ['databases', '1'],
            ['maxmemory-samples', '5'],
          ],
        ]);
        expect(await outcomes(embedded, cmds)).toEqual(expected);
      } finally {
        oneDb.disconnect();
        await single.stop();
      }
    });

    /** Where memory stands when a case runs: over a 1-byte limit, or 100 kB under the limit. */
    type Memory = 'full' | 'room';
    const FULL_CASES: [string, Memory, (r: Redis) => Promise<unknown>][] = [
      [
        "a script's writes all run when memory was not full as it began, past the limit",
        'room',
        (r) =>
          r.eval(
            "redis.call('set', KEYS[1], string.rep('x', 300000)); redis.call('set', KEYS[2], 'b'); return 'done'",
            2,
            'a',
            'b',
          ),
      ],
      [
        'a script whose first write may add memory is refused',
        'full',
        (r) => r.eval("return redis.call('set', KEYS[1], 'x')", 1, 'a'),
      ],
      [
        'a script that read first is refused at its first write',
        'full',
        (r) => r.eval("redis.call('get', KEYS[1]); return redis.call('set', KEYS[1], 'x')", 1, 'a'),
      ],
      [
        'a script that deleted first writes on: only its first write may be refused',
        'full',
        (r) =>
          r.eval(
            "redis.call('del', KEYS[1]); return redis.call('set', KEYS[2], 'x')",
            2,
            'nokey',
            'a',
          ),
      ],
      [
        'redis.pcall gets the refusal as an error table',
        'full',
        (r) => r.eval("local ok = redis.pcall('set', KEYS[1], 'x'); return ok.err", 1, 'a'),
      ],
      [
        'SET with an unknown option is refused for memory first',
        'full',
        (r) => r.call('set', 'a', '1', 'BADOPT'),
      ],
      ['INCR of text is refused for memory first', 'full', (r) => r.incr('str')],
      ['SADD on a string is refused for memory first', 'full', (r) => r.sadd('str', 'a')],
      ['ZADD XX that would change nothing is refused', 'full', (r) => r.zadd('z', 'XX', '1', 'm')],
      [
        'LINSERT on a missing key is refused',
        'full',
        (r) => r.linsert('nokey', 'BEFORE', 'a', 'b'),
      ],
      ['an arity error comes before memory', 'full', (r) => r.call('set', 'a')],
      ['DEL runs', 'full', (r) => r.del('str')],
      ['a transaction of reads is discarded', 'full', (r) => r.multi().get('str').exec()],
      [
        'a transaction is discarded, every command refused',
        'full',
        (r) => r.multi().set('a', '1').get('str').exec(),
      ],
      ['an empty transaction runs', 'full', (r) => r.multi().exec()],
      [
        'a pipeline refuses only its writes',
        'full',
        (r) => r.pipeline().get('str').set('a', '1').exec(),
      ],
      // Redis 7's script flags: `no-writes` reads while memory is full and refuses writes, `allow-oom` writes while
      // it is full, a script with a shebang and neither is refused whole.
      ...(
        [
          ['no-writes', 'full', "#!lua flags=no-writes\nreturn redis.call('get', KEYS[1])", 'str'],
          [
            'no-writes',
            'room',
            "#!lua flags=no-writes\nreturn redis.call('set', KEYS[1], 'x')",
            'a',
          ],
          ['a shebang without flags', 'full', "#!lua\nreturn redis.call('get', KEYS[1])", 'str'],
          ['a shebang without flags', 'room', "#!lua\nreturn redis.call('set', KEYS[1], 'x')", 'a'],
          [
            'allow-oom',
            'full',
            "#!lua flags=allow-oom\nreturn redis.call('set', KEYS[1], 'x')",
            'a',
          ],
          [
            'every flag',
            'room',
            '#!lua flags=allow-stale,no-cluster,allow-cross-slot-keys\nreturn 2',
            'a',
          ],
          ['empty flags', 'room', '#!lua flags=\nreturn 1', 'a'],
          ['a first line only', 'room', '#!lua', 'a'],
          ['another engine', 'room', '#!python\nreturn 1', 'a'],
          ['an unknown flag', 'room', '#!lua flags=no-writes,foo\nreturn 1', 'a'],
          ['an unknown option', 'room', '#!lua name=x\nreturn 1', 'a'],
          ['its line numbers', 'room', "#!lua\n\nerror('boom')", 'a'],
        ] as const
      ).map(([flags, memory, script, key]): [string, Memory, (r: Redis) => Promise<unknown>] => [
        `a script with ${flags}, memory ${memory}: ${JSON.stringify(script)}`,
        memory,
        (r) => r.eval(script, 1, key),
      ]),
      [
        'EVAL_RO of a script that may write',
        'room',
        (r) => r.call('eval_ro', '#!lua\nreturn 1', '0'),
      ],
      [
        'EVAL_RO of a no-writes script',
        'room',
        (r) => r.call('eval_ro', '#!lua flags=no-writes\nreturn 1', '0'),
      ],
      [
        'SCRIPT LOAD of an unknown flag',
        'room',
        (r) => r.script('LOAD', '#!lua flags=bar\nreturn 1'),
      ],
      [
        'EVALSHA of a loaded no-writes script that writes',
        'room',
        async (r) =>
          r.evalsha(
            (await r.script(
              'LOAD',
              "#!lua flags=no-writes\nreturn redis.call('set', 'a', '1')",
            )) as string,
            0,
          ),
      ],
    ];

    it.each(FULL_CASES)(
      'with memory full or nearly: %s, as Redis does',
      async (_name, memory, run) => {
        const outcome = async (client: Redis): Promise<unknown> => {
          await client.flushall();
          await client.set('str', 'hello');
          const used = Number(/used_memory:(\d+)/.exec(await client.info('memory'))?.[1]);
          await client.config('SET', 'maxmemory', memory === 'full' ? '1' : String(used + 100_000));
          let reply: unknown;
          try {
            const value = await run(client);
            reply = Array.isArray(value)
              ? (value as unknown[]).map((entry) =>
                  Array.isArray(entry) && entry[0] instanceof Error
                    ? { error: entry[0].message }
                    : entry,
                )
              : value;
          } catch (error) {
            const { message, previousErrors } = error as Error & { previousErrors?: Error[] };
            reply = { error: message, previous: previousErrors?.map((e) => e.message) };
          }
          await client.config('SET', 'maxmemory', '0');
          return [reply, await client.exists('a', 'b', 'str')];
        };
        const expected = await outcome(redis);
        expect(await outcome(embedded)).toEqual(expected);
      },
    );

    it("answers INFO's other sections as a Redis that has not saved, with no modules, replicas or errors", async () => {
      const fields = (text: string): Map<string, string> =>
        new Map(
          text
            .split('\r\n')
            .filter((line) => line !== '' && !line.startsWith('#'))
            .map((line): [string, string] => [
              line.slice(0, line.indexOf(':')),
              line.slice(line.indexOf(':') + 1),
            ]),
        );
      // Fields whose values are the server's own: the same names, and values of the same form.
      const form = (value: string): string =>
        value.replace(/[0-9a-f]{40}/, '<id>').replace(/\d+/g, '<n>');
      for (const section of ['persistence', 'replication', 'cpu', 'clients']) {
        const expected = fields(await redis.info(section));
        const answered = fields(await embedded.info(section));
        expect([...answered.keys()]).toEqual([...expected.keys()]);
        for (const [name, value] of expected)
          expect([name, form(answered.get(name) ?? '')]).toEqual([name, form(value)]);
      }
      expect(await embedded.info('modules')).toBe(await redis.info('modules'));
      expect(await embedded.info('modules')).toBe('# Modules\r\n');
      expect(await embedded.info('errorstats')).toBe('# Errorstats\r\n');
      const persistence = fields(await embedded.info('persistence'));
      expect(persistence.get('rdb_saves')).toBe('0');
      expect(
        Math.abs(Number(persistence.get('rdb_last_save_time')) - Date.now() / 1000),
      ).toBeLessThan(5);
      const cpu = fields(await embedded.info('cpu'));
      expect(Number(cpu.get('used_cpu_user'))).toBeLessThanOrEqual(process.cpuUsage().user / 1e6);
      expect(Number(cpu.get('used_cpu_user'))).toBeGreaterThan(0);
    });

    it.each([
      '1023',
      '1536',
      '3gb',
      '1099511627776',
      '1125899906842624',
      '9007199254740993',
      '1152921504606846976',
      '9223372036854775808',
      huge,
    ])('INFO memory writes maxmemory %s as Redis does', async (value) => {
      const fields = async (client: Redis): Promise<string[]> => {
        await client.config('SET', 'maxmemory', value);
        const memory = await client.info('memory');
        return ['maxmemory', 'maxmemory_human'].map(
          (name) => new RegExp(`^${name}:(.*)$`, 'm').exec(memory)?.[1]?.trim() ?? 'absent',
        );
      };
      expect(await fields(embedded)).toEqual(await fields(redis));
    });

    it('CONFIG RESETSTAT zeroes expired_keys and evicted_keys, as Redis does', async () => {
      const counts = async (client: Redis): Promise<string[]> => {
        const stats = await client.info('stats');
        return ['expired_keys', 'evicted_keys'].map(
          (name) => new RegExp(`^${name}:(\\d+)`, 'm').exec(stats)?.[1] ?? 'absent',
        );
      };
      const outcome = async (client: Redis): Promise<string[][]> => {
        await client.flushall();
        await client.config('RESETSTAT');
        await client.set('gone', 'v', 'PX', 1);
        await new Promise((resolve) => setTimeout(resolve, 20));
        await client.get('gone'); // expired, lazily if no cycle came first
        for (let i = 0; i < 5; i++) await client.set(`k${i}`, 'v');
        await client.config('SET', 'maxmemory-policy', 'allkeys-random', 'maxmemory', '1');
        await client.get('k0'); // Redis evicts before a command
        await client.config('SET', 'maxmemory', '0');
        const before = await counts(client);
        expect(await client.config('RESETSTAT')).toBe('OK');
        const after = await counts(client);
        await client.set('gone', 'v', 'PX', 1);
        await new Promise((resolve) => setTimeout(resolve, 20));
        await client.get('gone');
        return [before, after, await counts(client)];
      };
      const expected = await outcome(redis);
      expect(expected).toEqual([
        ['1', '5'],
        ['0', '0'],
        ['1', '0'],
      ]);
      expect(await outcome(embedded)).toEqual(expected);
    });

    it('keeps every key when a CONFIG SET that would lower the limit is refused', async () => {
      await embedded.flushall();
      await embedded.call('config', 'set', 'maxmemory', '10mb', 'maxmemory-policy', 'allkeys-lru');
      const pipeline = embedded.pipeline();
      for (let i = 0; i < 100; i++) pipeline.set(`k${i}`, 'x'.repeat(100));
      await pipeline.exec();
      await expect(
        embedded.call('config', 'set', 'maxmemory', '1', 'maxmemory-policy', 'nope'),
      ).rejects.toThrow("ERR CONFIG SET failed (possibly related to argument 'maxmemory-policy')");
      expect(await embedded.dbsize()).toBe(100);
      expect(keyspace.memory.maxBytes).toBe(10 * 1024 * 1024);
      // Accepted, the same lower limit evicts at once.
      await embedded.call('config', 'set', 'maxmemory', '1', 'maxmemory-policy', 'allkeys-lru');
      expect(await embedded.dbsize()).toBeLessThan(100);
    });
  });
}
