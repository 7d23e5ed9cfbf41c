import type { Redis } from 'ioredis';
import { createEmbeddedClient } from '../lib/ioredis-mock/adapter';
import { Keyspace } from '../lib/keyspace/keyspace';
import { findRedisServer, startRedisServer, type RedisServer } from './support/redis-server';

/**
 * Details of Redis 7.0's answers the embedded client matches, each compared with a real redis-server: what a lazy
 * expiry by SCAN and RANDOMKEY does, the uses (LFU) a write counts of a key it makes,
 * (P)(UN)SUBSCRIBE in pipelines and transactions, MEMORY's subcommands.
 */

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `expired_keys` of INFO stats. */
async function expiredKeys(client: Redis): Promise<number> {
  return Number(/expired_keys:(\d+)/.exec(await client.info('stats'))?.[1]);
}

const redisServerBinary = findRedisServer(
  'fidelity details suite (test/fidelity-details.e2e-spec.ts)',
);
if (redisServerBinary !== null) {
  describe('details of the embedded client, against a real redis-server', () => {
    let server: RedisServer;
    let redis: Redis;
    let embedded: Redis;

    beforeAll(async () => {
      // DEBUG SET-ACTIVE-EXPIRE: only the lookups a test makes delete expired keys.
      server = await startRedisServer(redisServerBinary, undefined, {
        args: ['--enable-debug-command', 'yes'],
      });
      redis = server.client();
      embedded = createEmbeddedClient(new Keyspace());
    });
    afterAll(async () => {
      embedded.disconnect();
      redis.disconnect();
      await server.stop();
    });

    it('deletes the expired keys SCAN and RANDOMKEY meet: counted, announced, seen by WATCH', async () => {
      const run = async (client: Redis): Promise<unknown> => {
        await client.flushall();
        // Only the lookups delete here: Redis's active expiry is paused (the embedded client's runs in an app).
        await client.call('debug', 'set-active-expire', '0').catch(() => undefined);
        const listener = client.duplicate();
        const watcher = client.duplicate();
        const events: string[] = [];
        listener.on('message', (_channel: string, key: string) => events.push(key));
        try {
          await client.config('SET', 'notify-keyspace-events', 'Ex');
          await listener.subscribe('__keyevent@0__:expired');
          await client.set('a1', 'v', 'PX', 150);
          await client.set('b1', 'v', 'PX', 150);
          await client.set('live', 'v');
          await watcher.watch('a1');
          await sleep(250);
          const out: unknown[] = [await expiredKeys(client)];
          // MATCH first: an expired key it does not take stays until a later lookup.
          out.push(await client.scan(0, 'MATCH', 'a*', 'COUNT', 100));
          out.push(await expiredKeys(client));
          out.push(await watcher.multi().set('x', '1').exec());
          out.push((await client.scan(0, 'COUNT', 100))[1]);
          out.push(await expiredKeys(client), await client.dbsize());
          await client.set('r', 'v', 'PX', 150);
          await client.del('live');
          await sleep(250);
          out.push(await client.randomkey(), await expiredKeys(client), await client.dbsize());
          for (let i = 0; i < 100 && events.length < 3; i++) await sleep(5);
          out.push(events.sort());
          return out;
        } finally {
          await client.config('SET', 'notify-keyspace-events', '');
          await client.call('debug', 'set-active-expire', '1').catch(() => undefined);
          listener.disconnect();
          watcher.disconnect();
        }
      };
      const expected = await run(redis);
      expect(expected).toEqual([
        0,
        ['0', []],
        1,
        null,
        ['live'],
        2,
        1,
        null,
        3,
        0,
        ['a1', 'b1', 'r'],
      ]);
      expect(await run(embedded)).toEqual(expected);
    });

    it('counts no use of a key the command makes (LFU), for every family of writes', async () => {
      // Under allkeys-lfu a new key's counter is 5 and its first use takes it to 6: OBJECT FREQ (which counts no use)
      // tells whether the command that made the key also counted a use of it. INCR and INCRBY are left out: Redis
      // answers a small integer with a shared object whose counter is not the key's while maxmemory is 0.
      const writes: string[][] = [
        ['set', 'k', 'v'],
        ['set', 'k', 'v', 'GET'],
        ['setnx', 'k', 'v'],
        ['mset', 'k', 'v'],
        ['getset', 'k', 'v'],
        ['append', 'k', 'x'],
        ['decr', 'k'],
        ['incrbyfloat', 'k', '1.5'],
        ['setrange', 'k', '0', 'x'],
        ['setbit', 'k', '1', '1'],
        ['bitfield', 'k', 'SET', 'u8', '0', '1'],
        ['pfadd', 'k', 'a'],
        ['hset', 'k', 'f', 'v'],
        ['hmset', 'k', 'f', 'v'],
        ['hsetnx', 'k', 'f', 'v'],
        ['hincrby', 'k', 'f', '1'],
        ['hincrbyfloat', 'k', 'f', '1'],
        ['lpush', 'k', 'x'],
        ['rpush', 'k', 'x'],
        ['lmove', 'src', 'k', 'LEFT', 'RIGHT'],
        ['rpoplpush', 'src', 'k'],
        ['sadd', 'k', 'a'],
        ['smove', 'sset', 'k', 'a'],
        ['sunionstore', 'k', 'sset'],
        ['zadd', 'k', '1', 'a'],
        ['zincrby', 'k', '1', 'a'],
        ['zunionstore', 'k', '1', 'zs'],
        ['zrangestore', 'k', 'zs', '0', '-1'],
        ['xadd', 'k', '*', 'f', 'v'],
        ['copy', 'src', 'k'],
        ['eval', "return redis.call('sadd', KEYS[1], 'a')", '1', 'k'],
        // made, then read by a second command of the script: that one counts a use
        ['eval', "redis.call('sadd', KEYS[1], 'a'); return redis.call('scard', KEYS[1])", '1', 'k'],
      ];
      const run = async (client: Redis): Promise<string[]> => {
        await client.config('SET', 'maxmemory-policy', 'allkeys-lfu');
        const out: string[] = [];
        try {
          for (const [name, ...args] of writes) {
            await client.flushall();
            await client.rpush('src', 'a');
            await client.sadd('sset', 'a');
            await client.zadd('zs', 1, 'a');
            await client.call(name, ...args);
            out.push(`${name} ${args.join(' ')}: ${String(await client.object('FREQ', 'k'))}`);
          }
        } finally {
          await client.config('SET', 'maxmemory-policy', 'noeviction');
        }
        return out;
      };
      const expected = await run(redis);
      expect(expected).toContain('sadd k a: 5');
      expect(expected[expected.length - 1]).toMatch(/: 6$/);
      expect(await run(embedded)).toEqual(expected);
    });

    it.each(['multi', 'pipeline'] as const)(
      'answers (P)(UN)SUBSCRIBE in a %s as Redis does, and subscribes',
      async (mode) => {
        const run = async (client: Redis): Promise<unknown> => {
          const subscriber = client.duplicate();
          const other = client.duplicate();
          const messages: string[] = [];
          subscriber.on('message', (channel: string, message: string) =>
            messages.push(`${channel} ${message}`),
          );
          try {
            const first = await subscriber[mode]()
              .subscribe('x')
              .unsubscribe('y')
              .psubscribe('p*')
              .punsubscribe('q*')
              .exec();
            const published = await other.publish('x', 'hello');
            for (let i = 0; i < 100 && messages.length === 0; i++) await sleep(5);
            const second = await other[mode]().subscribe('z').call('unsubscribe').exec();
            return [first, published, messages, second];
          } finally {
            subscriber.disconnect();
            other.disconnect();
          }
        };
        const expected = await run(redis);
        expect(expected).toEqual([
          mode === 'multi'
            ? [
                [null, ['subscribe', 'x', 1]],
                [null, ['unsubscribe', 'y', 1]],
                [null, ['psubscribe', 'p*', 2]],
                [null, ['punsubscribe', 'q*', 2]],
              ]
            : [
                [null, 1],
                [null, 1],
                [null, 2],
                [null, 2],
              ],
          1,
          ['x hello'],
          mode === 'multi'
            ? [
                [null, ['subscribe', 'z', 1]],
                [null, ['unsubscribe', 'z', 0]],
              ]
            : [
                [null, 1],
                [null, 0],
              ],
        ]);
        expect(await run(embedded)).toEqual(expected);
      },
    );

    it("answers MEMORY STATS, DOCTOR, PURGE, MALLOC-STATS and HELP in Redis 7.0's shape", async () => {
      const shape = (reply: unknown): unknown =>
        Array.isArray(reply)
          ? (reply as unknown[]).map((item: unknown, i) => (i % 2 === 0 ? item : shape(item)))
          : typeof reply === 'number'
            ? 'integer'
            : typeof reply === 'string' && /^-?\d+(\.\d+)?(e[+-]\d+)?$/.test(reply)
              ? 'double'
              : reply;
      const run = async (client: Redis): Promise<unknown[]> => {
        await client.flushall();
        await client.hset('h', 'f', 'v');
        await client.set('t', 'v', 'EX', 100);
        const out: unknown[] = [shape(await client.call('memory', 'stats'))];
        for (const args of [
          ['doctor'],
          ['purge'],
          ['help'],
          ['stats', 'x'],
          ['doctor', 'x'],
          ['bogus'],
        ]) {
          out.push(await client.call('memory', ...args).catch((error: Error) => error.message));
        }
        out.push(typeof (await client.call('memory', 'malloc-stats')));
        return out;
      };
      const expected = await run(redis);
      expect(expected[1]).toMatch(/^Hi Sam, this instance is empty/);
      expect(await run(embedded)).toEqual(expected);
      // The figures are the keyspace's: those INFO and DBSIZE give.
      const stats = (await embedded.call('memory', 'stats')) as unknown[];
      const field = (name: string): unknown => stats[stats.indexOf(name) + 1];
      const used = Number(/used_memory:(\d+)/.exec(await embedded.info('memory'))?.[1]);
      expect(field('total.allocated')).toBe(used);
      expect(used).toBeGreaterThan(0);
      expect(field('keys.count')).toBe(2);
      expect(field('db.0')).toEqual([
        'overhead.hashtable.main',
        expect.any(Number),
        'overhead.hashtable.expires',
        expect.any(Number),
        'overhead.hashtable.slot-to-keys',
        0,
      ]);
      expect((field('dataset.bytes') as number) + (field('overhead.total') as number)).toBe(used);
      expect(field('allocator.resident')).toBeGreaterThan(0);
      expect(await embedded.call('memory', 'malloc-stats')).toBe(
        'Stats not supported for the current allocator',
      );
    });
  });
}
