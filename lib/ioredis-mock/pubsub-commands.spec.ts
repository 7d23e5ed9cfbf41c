import type { Redis } from 'ioredis';
import { createEmbeddedClient } from './adapter';
import { Keyspace } from '../keyspace/keyspace';
import { SUBSCRIBER_MODE } from './pubsub-commands';

const delivered = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('pub/sub of the embedded client', () => {
  let client: Redis;
  const others: Redis[] = [];
  const connection = (): Redis => {
    const c = client.duplicate();
    others.push(c);
    return c;
  };

  beforeEach(() => {
    client = createEmbeddedClient(new Keyspace());
  });
  afterEach(() => {
    for (const c of others.splice(0)) c.disconnect();
    client.disconnect();
  });

  it.each(['disconnect', 'quit'] as const)(
    'stops delivering to a subscriber once it %ss, and stops counting it',
    async (close) => {
      const subscriber = connection();
      const received: string[] = [];
      subscriber.on('message', (_channel: string, message: string) => received.push(message));
      subscriber.on('pmessage', (_p: string, _channel: string, message: string) =>
        received.push(`p:${message}`),
      );
      await subscriber.subscribe('news');
      await subscriber.psubscribe('n*');
      expect(await client.publish('news', 'one')).toBe(2);
      await delivered();
      expect(received).toEqual(['one', 'p:one']);

      if (close === 'quit') await subscriber.quit();
      else subscriber.disconnect();
      expect(await client.publish('news', 'two')).toBe(0);
      await delivered();
      expect(received).toEqual(['one', 'p:one']);
      expect(await client.pubsub('CHANNELS')).toEqual([]);
      expect(await client.call('pubsub', 'numpat')).toBe(0);
    },
  );

  it('counts every connection subscribed to a matching pattern', async () => {
    for (let i = 0; i < 3; i++) await connection().psubscribe('orders.*');
    await connection().subscribe('orders.new');
    expect(await client.publish('orders.new', 'x')).toBe(4);
    expect(await client.publish('orders', 'x')).toBe(0);
    expect(await client.call('pubsub', 'numpat')).toBe(1);
    expect(await client.call('pubsub', 'numsub', 'orders.new', 'orders')).toEqual([
      'orders.new',
      1,
      'orders',
      0,
    ]);
  });

  it('answers with the channels and patterns together, and leaves subscriber mode with the last', async () => {
    const subscriber = connection();
    expect(await subscriber.subscribe('a', 'b')).toBe(2);
    expect(await subscriber.psubscribe('p*')).toBe(3);
    await expect(subscriber.get('k')).rejects.toThrow('subscriber mode');
    expect(await subscriber.ping('hi')).toEqual(['pong', 'hi']);
    expect(await subscriber.unsubscribe()).toBe(1);
    expect(await subscriber.punsubscribe()).toBe(0);
    expect(await subscriber.get('k')).toBeNull();
    expect(await subscriber.ping()).toBe('PONG');
    await expect(subscriber.subscribe()).rejects.toThrow(
      "ERR wrong number of arguments for 'subscribe' command",
    );
  });

  it('answers (P)UNSUBSCRIBE of everything in a transaction with the first name, or none, as Redis 7.0 does', async () => {
    // Redis's replies on the wire (ioredis waits forever for these against a real server): an array per name
    // unsubscribed, `[unsubscribe, nil, 0]` when there was none.
    const subscriber = connection();
    const none = await subscriber.multi().call('unsubscribe').call('punsubscribe').exec();
    expect(none).toEqual([
      [null, ['unsubscribe', null, 0]],
      [null, ['punsubscribe', null, 0]],
    ]);
    const some = await subscriber
      .multi()
      .subscribe('a', 'b')
      .psubscribe('p*')
      .call('unsubscribe')
      .callBuffer('punsubscribe', 'p*')
      .exec();
    expect(some).toEqual([
      [null, ['subscribe', 'a', 1]],
      [null, ['psubscribe', 'p*', 3]],
      [null, ['unsubscribe', 'a', 2]],
      [null, [Buffer.from('punsubscribe'), Buffer.from('p*'), 0]],
    ]);
    // ioredis took the replies `QUEUED` to the subscriptions for subscriptions: it is in its subscriber mode, and
    // refuses a transaction there (MULTI and EXEC), until an UNSUBSCRIBE answers 0.
    await expect(subscriber.get('k')).rejects.toThrow(SUBSCRIBER_MODE);
    await expect(subscriber.multi().call('unsubscribe').exec()).rejects.toThrow(SUBSCRIBER_MODE);
    expect(await subscriber.unsubscribe()).toBe(0);
    expect(await subscriber.get('k')).toBeNull();
  });

  it('answers PUBSUB in any case, with its subcommands and errors', async () => {
    await connection().subscribe('alpha', 'beta');
    expect(((await client.call('pubsub', 'channels')) as string[]).sort()).toEqual([
      'alpha',
      'beta',
    ]);
    expect(await client.call('PubSub', 'Channels', 'a*')).toEqual(['alpha']);
    expect(await client.call('pubsub', 'shardchannels')).toEqual([]);
    await expect(client.call('pubsub', 'bogus')).rejects.toThrow(
      "ERR unknown subcommand 'bogus'. Try PUBSUB HELP.",
    );
    await expect(client.call('pubsub', 'numpat', 'x')).rejects.toThrow(
      "ERR wrong number of arguments for 'pubsub|numpat' command",
    );
    await expect(client.call('publish', 'alpha')).rejects.toThrow(
      "ERR wrong number of arguments for 'publish' command",
    );
  });

  it.each(['disconnect', 'quit'] as const)(
    'keeps shard channels apart, shared by duplicates, and ends them when a connection %ss',
    async (close) => {
      const subscriber = connection();
      const nested = subscriber.duplicate();
      others.push(nested);
      const received: string[] = [];
      subscriber.on('smessage', (channel: string, message: string) =>
        received.push(`${channel} ${message}`),
      );
      subscriber.on('message', (channel: string) => received.push(`message on ${channel}`));
      expect(await subscriber.ssubscribe('news', 'sport')).toBe(2);
      expect(await subscriber.subscribe('news')).toBe(1);
      expect(await nested.ssubscribe('news')).toBe(1);
      expect(await client.spublish('news', 'a')).toBe(2);
      expect(await nested.spublish('sport', 'b').catch((error: Error) => error.message)).toBe(
        SUBSCRIBER_MODE,
      );
      expect(await client.call('pubsub', 'shardnumsub', 'news', 'sport')).toEqual([
        'news',
        2,
        'sport',
        1,
      ]);
      await delivered();
      expect(received).toEqual(['news a']);
      if (close === 'quit') await subscriber.quit();
      else subscriber.disconnect();
      expect(await client.spublish('news', 'c')).toBe(1);
      expect(await client.spublish('sport', 'c')).toBe(0);
      expect(await client.call('pubsub', 'shardchannels')).toEqual(['news']);
      await delivered();
      expect(received).toEqual(['news a']);
    },
  );
});
