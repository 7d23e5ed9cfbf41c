import fc from 'fast-check';
import type { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { guardCommands } from './command-guard';
import { createEmbeddedClient } from './adapter';
import { Keyspace } from '../keyspace/keyspace';
import { MIN_ID, nextStreamId, parseStreamId } from '../keyspace/streams';

type Command = [string, ...(string | number)[]];

const key = fc.constantFrom('a', 'b', 'c', 'h', 'l', 's', 'z', 'x', '__proto__x', 'ключ');
const member = fc.constantFrom('m1', 'm2', 'm3', '', 'é');
const value = fc.oneof(fc.string({ maxLength: 8 }), fc.integer({ min: -5, max: 5 }).map(String));
const score = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(1.5));

/** A random command over every data type, with TTLs and deletes. */
const command: fc.Arbitrary<Command> = fc.oneof(
  fc.tuple(fc.constant('set'), key, value),
  fc.tuple(fc.constant('get'), key),
  fc.tuple(fc.constant('append'), key, value),
  fc.tuple(fc.constant('incr'), key),
  fc.tuple(fc.constant('del'), key),
  fc.tuple(fc.constant('exists'), key),
  fc.tuple(fc.constant('type'), key),
  fc.tuple(fc.constant('expire'), key, fc.integer({ min: 1, max: 1000 })),
  fc.tuple(fc.constant('persist'), key),
  // commands the command rules correct, so that their reads of the keyspace are compared too
  fc.tuple(
    fc.constant('set'),
    key,
    value,
    fc.constantFrom('EX', 'px', 'KEEPTTL'),
    fc.constantFrom(100, 0),
  ),
  fc.tuple(
    fc.constant('expire'),
    key,
    fc.integer({ min: -5, max: 1000 }),
    fc.constantFrom('NX', 'XX', 'GT', 'LT'),
  ),
  fc.tuple(fc.constant('lset'), key, fc.integer({ min: -3, max: 3 }), value),
  fc.tuple(fc.constant('hincrby'), key, member, fc.integer({ min: -3, max: 3 })),
  fc.tuple(fc.constant('ttl'), key),
  fc.tuple(fc.constant('hset'), key, member, value),
  fc.tuple(fc.constant('hdel'), key, member),
  fc.tuple(fc.constant('hgetall'), key),
  fc.tuple(fc.constant('rpush'), key, value),
  fc.tuple(fc.constant('lpop'), key),
  fc.tuple(fc.constant('lrange'), key, fc.constant(0), fc.constant(-1)),
  fc.tuple(fc.constant('sadd'), key, member),
  fc.tuple(fc.constant('srem'), key, member),
  fc.tuple(fc.constant('smembers'), key),
  fc.tuple(fc.constant('zadd'), key, score, member),
  fc.tuple(fc.constant('zincrby'), key, score, member),
  fc.tuple(fc.constant('zrem'), key, member),
  fc.tuple(fc.constant('zrange'), key, fc.constant(0), fc.constant(-1), fc.constant('WITHSCORES')),
  // Ids of given milliseconds: `*` takes the clock, which may tick between the two clients' XADDs.
  fc.tuple(
    fc.constant('xadd'),
    key,
    fc.constantFrom('5-*', '7', '7-*', '9-3', '0-*', 'x'),
    member,
    value,
  ),
  // No XDEL: the reference's ioredis-mock copies what it stores, and an emptied stream (which Redis keeps, with its
  // last id) comes back from it as an empty list. XDEL is held to redis-server in `test/command-fidelity.e2e-spec.ts`.
  fc.tuple(fc.constant('xlen'), key),
  fc.tuple(fc.constant('xrange'), key, fc.constant('-'), fc.constant('+')),
  fc.tuple(fc.constant('keys'), fc.constant('*')),
  fc.tuple(fc.constant('dbsize')),
  fc.tuple(fc.constant('flushall')),
);

async function run(client: Redis, [name, ...args]: Command): Promise<unknown> {
  const fn = (client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name];
  try {
    const result = await fn.apply(client, args);
    return name === 'smembers' || name === 'keys' ? (result as string[]).sort() : result;
  } catch (error) {
    return `error: ${(error as Error).message}`;
  }
}

let port = 20000;

/**
 * A plain ioredis-mock (its own keyspace) with the embedded client's command rules: what the embedded client must
 * answer, command for command, if its keyspace has ioredis-mock's semantics.
 */
function referenceMock(): Redis {
  const reference = new RedisMock({ port: ++port });
  const internals = reference as unknown as {
    data: {
      has(key: string): boolean;
      get(key: string): unknown;
      set(key: string, v: unknown): void;
    };
    expires: { get(key: string): number | undefined };
  };
  guardCommands(reference, {
    valueOf: (k) => (internals.data.has(k) ? internals.data.get(k) : undefined),
    expiryOf: (k) => (internals.data.has(k) ? internals.expires.get(k) : undefined),
    touch: () => undefined, // no LRU or LFU here
    // The stream rules write streams themselves: here into ioredis-mock's own data.
    streams: {
      store: (k, stream) => internals.data.set(k, stream),
      nextId: (lastId) => nextStreamId(parseStreamId(lastId) ?? MIN_ID, Date.now()),
      admit: () => true,
    },
  });
  return reference;
}

describe('createEmbeddedClient', () => {
  it('answers every command exactly as a plain ioredis-mock with the same command rules does (differential test)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(command, { maxLength: 60 }), async (commands) => {
        const reference = referenceMock();
        const embedded = createEmbeddedClient(new Keyspace());
        await reference.flushall();
        try {
          for (const c of commands) {
            expect([c, await run(embedded, c)]).toEqual([c, await run(reference, c)]);
          }
        } finally {
          reference.disconnect();
          embedded.disconnect();
        }
      }),
      { numRuns: 150 },
    );
  });

  it('gives each client its own keyspace, shared with its duplicates', async () => {
    const keyspace = new Keyspace();
    const one = createEmbeddedClient(keyspace);
    const two = createEmbeddedClient(new Keyspace());
    const copy = one.duplicate();
    await one.set('k', 'one');
    expect(await two.get('k')).toBeNull();
    expect(await copy.get('k')).toBe('one');
    await copy.set('k', 'from copy');
    expect(keyspace.valueOf('k')).toBe('from copy');
    for (const c of [one, two, copy]) c.disconnect();
  });

  it('cancels a transaction whose watched key changed, as ioredis-mock does (WATCH)', async () => {
    for (const client of [new RedisMock({ port: ++port }), createEmbeddedClient(new Keyspace())]) {
      const other = client.duplicate();
      await client.set('balance', '10');
      await client.watch('balance');
      await other.set('balance', '20');
      expect(await client.multi().set('balance', '11').exec()).toBeNull();
      await client.watch('balance');
      expect(await client.multi().set('balance', '12').exec()).toEqual([[null, 'OK']]);
      expect(await client.get('balance')).toBe('12');
      client.disconnect();
      other.disconnect();
    }
  });
});
