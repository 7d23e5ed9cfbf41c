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

    it('keeps every key when a CONFIG SET that would lower the limit is refused', async () => {
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
