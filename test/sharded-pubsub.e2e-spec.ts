import type { Redis } from 'ioredis';
import { once } from 'node:events';
import { trackApps } from './support/apps';
import { bootWith, durable, removeTempDirs, tempDir, type Harness } from './support/harness';
import { findRedisServer, startRedisServer, type RedisServer } from './support/redis-server';

/**
 * Redis 7.0's sharded pub/sub (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH, PUBSUB SHARDCHANNELS|SHARDNUMSUB) on the embedded
 * client, as a single redis-server answers it through ioredis: each scenario runs on the client a Nest app injects,
 * its answers held to the ones a real redis-server 7.0 gives (the same scenarios are run on one below, when it is
 * installed, and must give exactly these).
 */

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const CONTEXT = (command: string): string =>
  `ERR Can't execute '${command}': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are allowed in ` +
  'this context';
const SUBSCRIBER_MODE = 'Connection in subscriber mode, only subscriber commands may be used';

/** A pipeline's or transaction's replies, each its value or its error's text. */
function entries(replies: [Error | null, unknown][] | null): unknown {
  return (replies ?? []).map(([error, value]) =>
    error === null ? value : `error: ${error.message}`,
  );
}

/** What `call` answers, or its error's text. */
async function attempt(call: () => Promise<unknown>): Promise<unknown> {
  return call().catch((error: Error) => `error: ${error.message}`);
}

/** Waits until `done()` or a second has passed (messages arrive on a later tick, or over a socket). */
async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !done(); i++) await sleep(5);
}

/**
 * Connections made from `client` (duplicates), ready, each closed by `closeAll`. (ioredis sends its ready check,
 * INFO, after a command sent while it connects: after an SSUBSCRIBE it refuses its own check, and reconnects.)
 */
function connections(client: Redis): { open(): Promise<Redis>; closeAll(): void } {
  const made: Redis[] = [];
  return {
    async open() {
      const connection = client.duplicate();
      made.push(connection);
      if (connection.status !== 'ready') await once(connection, 'ready');
      return connection;
    },
    closeAll() {
      // One that quit is closed already (ioredis keeps a handle open if it is disconnected again).
      for (const connection of made.splice(0))
        if (connection.status !== 'end') connection.disconnect();
    },
  };
}

/** SPUBLISH reaches the shard subscribers alone, PUBLISH the others alone; the events each receives. */
async function delivery(client: Redis): Promise<unknown[]> {
  const { open, closeAll } = connections(client);
  try {
    const shard = await open();
    const plain = await open();
    // Each connection's events in the order it received them (two sockets are not ordered with each other).
    const shardEvents: unknown[] = [];
    const plainEvents: unknown[] = [];
    shard.on('smessage', (channel: string, message: string) =>
      shardEvents.push(['smessage', channel, message]),
    );
    shard.on('smessageBuffer', (channel: Buffer, message: Buffer) =>
      shardEvents.push(['smessageBuffer', channel.toString('hex'), message.toString('hex')]),
    );
    shard.on('message', (channel: string) => shardEvents.push(['message', channel]));
    plain.on('message', (channel: string, message: string) =>
      plainEvents.push(['message', channel, message]),
    );
    plain.on('pmessage', (pattern: string, channel: string, message: string) =>
      plainEvents.push(['pmessage', pattern, channel, message]),
    );
    plain.on('smessage', (channel: string) => plainEvents.push(['smessage', channel]));
    const out: unknown[] = [
      await shard.ssubscribe('orders', 'bytes'),
      await plain.subscribe('orders'),
      await plain.psubscribe('*'),
      await client.spublish('orders', 'shard'),
      await client.publish('orders', 'plain'),
      await client.spublish('nobody', 'x'),
      await client.spublish(Buffer.from('bytes'), Buffer.from([0, 255])),
      await client.call('spublish', 'orders', 'by call'),
      await client.eval("return redis.call('spublish', KEYS[1], ARGV[1])", 1, 'orders', 'lua'),
      await client.eval("return redis.call('SPUBLISH', 'nobody', 'lua')", 0),
    ];
    await until(() => shardEvents.length >= 8 && plainEvents.length >= 2);
    await sleep(20); // and nothing more
    out.push(shardEvents, plainEvents);
    return out;
  } finally {
    closeAll();
  }
}

const DELIVERY = [
  2,
  1,
  2,
  1,
  2,
  0,
  1,
  1,
  1,
  0,
  [
    ['smessage', 'orders', 'shard'],
    ['smessageBuffer', '6f7264657273', '7368617264'],
    ['smessage', 'bytes', '\u0000\ufffd'],
    ['smessageBuffer', '6279746573', '00ff'],
    ['smessage', 'orders', 'by call'],
    ['smessageBuffer', '6f7264657273', '62792063616c6c'],
    ['smessage', 'orders', 'lua'],
    ['smessageBuffer', '6f7264657273', '6c7561'],
  ],
  [
    ['message', 'orders', 'plain'],
    ['pmessage', '*', 'orders', 'plain'],
  ],
];

/**
 * What SSUBSCRIBE and SUNSUBSCRIBE count (shard channels alone; the others channels and patterns), and what a
 * subscriber may send: ioredis refuses what it does not send in its subscriber mode, which it leaves when a reply counts
 * 0, and Redis refuses the rest while any subscription is left.
 */
async function counts(client: Redis): Promise<unknown[]> {
  const { open, closeAll } = connections(client);
  try {
    const subscriber = await open();
    return [
      await attempt(() => subscriber.ssubscribe()),
      await subscriber.sunsubscribe(),
      await subscriber.call('sunsubscribe', 'none'),
      await subscriber.ssubscribe('a', 'b', 'a'),
      await attempt(() => subscriber.get('k')),
      await attempt(() => subscriber.spublish('a', 'm')),
      await attempt(() => subscriber.call('pubsub', 'shardchannels')),
      await attempt(() => subscriber.call('bogus')),
      await attempt(() => subscriber.multi().get('k').exec()),
      await subscriber.ping(),
      await subscriber.ping('hi'),
      await subscriber.subscribe('c'),
      await subscriber.psubscribe('p*'),
      await subscriber.ssubscribe('d'),
      await subscriber.sunsubscribe('a', 'none'),
      await subscriber.sunsubscribe('b', 'd'),
      // ioredis left its subscriber mode: Redis refuses the commands now (the channel and the pattern are left).
      await attempt(() => subscriber.get('k')),
      await attempt(() => subscriber.call('client', 'id')),
      await attempt(() => subscriber.call('get')),
      await attempt(() => subscriber.pipeline().set('k', 'v').ping('x').exec().then(entries)),
      await subscriber.ping(),
      await subscriber.unsubscribe('c'),
      await subscriber.punsubscribe(),
      await subscriber.get('k'),
      await subscriber.ssubscribe('e'),
      // An UNSUBSCRIBE counts the channels and patterns: 0, and ioredis leaves its mode with shard channels left.
      await subscriber.unsubscribe(),
      await attempt(() => subscriber.echo('x')),
      await attempt(() => subscriber.call('pubsub', 'channels')),
      await subscriber.sunsubscribe(),
      await subscriber.get('k'),
      await subscriber.ping(),
    ];
  } finally {
    closeAll();
  }
}

const COUNTS = [
  "error: ERR wrong number of arguments for 'ssubscribe' command",
  0,
  0,
  2,
  `error: ${SUBSCRIBER_MODE}`,
  `error: ${SUBSCRIBER_MODE}`,
  `error: ${SUBSCRIBER_MODE}`,
  `error: ${SUBSCRIBER_MODE}`,
  `error: ${SUBSCRIBER_MODE}`,
  ['pong', ''],
  ['pong', 'hi'],
  1,
  2,
  3,
  2,
  0,
  `error: ${CONTEXT('get')}`,
  `error: ${CONTEXT('client|id')}`,
  "error: ERR wrong number of arguments for 'get' command",
  [`error: ${CONTEXT('set')}`, ['pong', 'x']],
  ['pong', ''],
  1,
  0,
  null,
  1,
  0,
  `error: ${CONTEXT('echo')}`,
  `error: ${CONTEXT('pubsub|channels')}`,
  0,
  null,
  'PONG',
];

/** PUBSUB's shard subcommands and CLIENT LIST from the subscriptions; what closing a connection ends. */
async function introspection(client: Redis): Promise<unknown[]> {
  const { open, closeAll } = connections(client);
  try {
    const first = await open();
    const second = await open();
    const leaving = await open();
    const quitting = await open();
    await sleep(50); // the connections of an earlier scenario are closed
    await first.ssubscribe('s1', 's2');
    await second.ssubscribe('s1');
    await second.subscribe('c1');
    await leaving.ssubscribe('gone', 's1');
    await quitting.ssubscribe('quit');
    const sorted = async (args: string[]): Promise<unknown> =>
      ((await client.call('pubsub', ...args)) as string[]).sort();
    const subscriptions = async (): Promise<unknown> =>
      ((await client.call('client', 'list', 'type', 'pubsub')) as string)
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => /sub=\d+ psub=\d+ ssub=\d+/.exec(line)?.[0])
        .sort();
    const out: unknown[] = [
      await sorted(['shardchannels']),
      await sorted(['SHARDCHANNELS', 's*']),
      await client.call('pubsub', 'shardchannels', 'none*'),
      await client.call('pubsub', 'shardnumsub', 's1', 's2', 'c1', 'gone'),
      await client.call('pubsub', 'shardnumsub'),
      await client.call('pubsub', 'numsub', 's1', 'c1'),
      await client.call('pubsub', 'channels'),
      await attempt(() => client.call('pubsub', 'shardchannels', 'a', 'b')),
      await client.call('pubsub', 'help'),
      await subscriptions(),
      await client.spublish('s1', 'm'),
    ];
    leaving.disconnect();
    await quitting.quit();
    await sleep(50); // the server learns of the closed connections
    out.push(
      await client.spublish('s1', 'm'),
      await client.spublish('quit', 'm'),
      await sorted(['shardchannels']),
      await client.call('pubsub', 'shardnumsub', 's1', 'gone', 'quit'),
      await subscriptions(),
    );
    return out;
  } finally {
    closeAll();
  }
}

const INTROSPECTION = [
  ['gone', 'quit', 's1', 's2'],
  ['s1', 's2'],
  [],
  ['s1', 3, 's2', 1, 'c1', 0, 'gone', 1],
  [],
  ['s1', 0, 'c1', 1],
  ['c1'],
  "error: ERR unknown subcommand or wrong number of arguments for 'shardchannels'. Try PUBSUB HELP.",
  [
    'PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
    'CHANNELS [<pattern>]',
    "    Return the currently active channels matching a <pattern> (default: '*').",
    'NUMPAT',
    '    Return number of subscriptions to patterns.',
    'NUMSUB [<channel> ...]',
    '    Return the number of subscribers for the specified channels, excluding',
    '    pattern subscriptions(default: no channels).',
    'SHARDCHANNELS [<pattern>]',
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    'SHARDNUMSUB [<shardchannel> ...]',
    '    Return the number of subscribers for the specified shard level channel(s)',
    'HELP',
    '    Prints this help.',
  ],
  ['sub=0 psub=0 ssub=1', 'sub=0 psub=0 ssub=2', 'sub=0 psub=0 ssub=2', 'sub=1 psub=0 ssub=1'],
  3,
  2,
  0,
  ['s1', 's2'],
  ['s1', 2, 'gone', 0, 'quit', 0],
  ['sub=0 psub=0 ssub=2', 'sub=1 psub=0 ssub=1'],
];

/** Shard subscriptions in pipelines and transactions, and in scripts. */
async function batches(client: Redis): Promise<unknown[]> {
  const { open, closeAll } = connections(client);
  try {
    const subscriber = await open();
    const other = await open();
    return [
      entries(
        await subscriber
          .pipeline()
          .spublish('x', 'before')
          .ssubscribe('x', 'y')
          .sunsubscribe('y')
          .spublish('x', 'after')
          .ping()
          .sunsubscribe()
          .exec(),
      ),
      await subscriber.get('k'),
      entries(
        await subscriber
          .multi()
          .ssubscribe('x')
          .spublish('x', 'm')
          .sunsubscribe('x')
          .sunsubscribe()
          .exec(),
      ),
      // ioredis took the reply `QUEUED` to SSUBSCRIBE for a subscription: it is in its subscriber mode.
      await attempt(() => subscriber.get('k')),
      await subscriber.ping(),
      await subscriber.sunsubscribe(),
      await subscriber.get('k'),
      entries(await other.multi().sunsubscribe('x').spublish('x', 'y').exec()),
      await attempt(() => other.multi().call('ssubscribe').set('k', 'v').exec()),
      await attempt(() => other.multi().call('spublish', 'x').exec()),
      entries(await other.pipeline().call('sunsubscribe').call('sunsubscribe', 'z').exec()),
      await other.call('ssubscribe', 'q', 'r'),
      await other.call('sunsubscribe'),
      await attempt(() => client.eval("return redis.call('ssubscribe', 'q')", 0)),
      await attempt(() => client.eval("return redis.pcall('ssubscribe', 'q')", 0)),
      await attempt(() => client.eval("return redis.call('sunsubscribe')", 0)),
      await attempt(() => client.eval("return redis.call('spublish', 'q')", 0)),
      await attempt(() => client.call('eval_ro', "return redis.call('spublish', 'q', 'm')", 0)),
      await attempt(() => client.call('spublish', 'q')),
      await attempt(() => client.call('spublish', 'q', 'm', 'x')),
      await client.get('k'),
    ];
  } finally {
    closeAll();
  }
}

const sha = (script: string): string =>
  // The scripts' SHA1s, as Redis names a script in its errors.
  ({
    ssubscribe: '4dbec531884ec3ec34b248d7a1df36bcd43d4bd5',
    sunsubscribe: 'd43708c6c275464d4b3506297107ab49f399f4ed',
    eval_ro: '540e87cf4b717102f81b79063ab8fae034737d3c',
  })[script] ?? script;

const BATCHES = (spublishError: string): unknown[] => [
  [0, 2, 1, `error: ${CONTEXT('spublish')}`, ['pong', ''], 0],
  null,
  [
    "error: ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client",
    0,
    ['sunsubscribe', 'x', 0],
    ['sunsubscribe', null, 0],
  ],
  `error: ${SUBSCRIBER_MODE}`,
  'PONG',
  0,
  null,
  [['sunsubscribe', 'x', 0], 0],
  'error: EXECABORT Transaction discarded because of previous errors.',
  'error: EXECABORT Transaction discarded because of previous errors.',
  [0, 0],
  2,
  0,
  `error: ERR This Redis command is not allowed from script script: ${sha('ssubscribe')}, on @user_script:1.`,
  'error: ERR This Redis command is not allowed from script',
  `error: ERR This Redis command is not allowed from script script: ${sha('sunsubscribe')}, on @user_script:1.`,
  spublishError,
  `error: ERR Write commands are not allowed from read-only scripts. script: ${sha('eval_ro')}, on @user_script:1.`,
  "error: ERR wrong number of arguments for 'spublish' command",
  "error: ERR wrong number of arguments for 'spublish' command",
  null,
];

/** Keyspace notifications go to channels and patterns as before: a shard subscriber of their channel gets none. */
async function notifications(client: Redis): Promise<unknown[]> {
  const { open, closeAll } = connections(client);
  const events: string[] = [];
  try {
    await sleep(50); // the connections of an earlier scenario are closed
    const shard = await open();
    const plain = await open();
    shard.on('smessage', (channel: string, key: string) =>
      events.push(`smessage ${channel} ${key}`),
    );
    plain.on('message', (channel: string, key: string) => events.push(`message ${channel} ${key}`));
    await client.config('SET', 'notify-keyspace-events', 'Eg');
    await shard.ssubscribe('__keyevent@0__:del');
    await plain.subscribe('__keyevent@0__:del');
    await client.set('noticed', 'v');
    await client.del('noticed');
    await client.publish('__keyevent@0__:del', 'end');
    await until(() => events.includes('message __keyevent@0__:del end'));
    await sleep(20);
    return [events, await client.call('pubsub', 'shardnumsub', '__keyevent@0__:del')];
  } finally {
    await client.config('SET', 'notify-keyspace-events', '');
    closeAll();
  }
}

const NOTIFICATIONS = [
  ['message __keyevent@0__:del noticed', 'message __keyevent@0__:del end'],
  ['__keyevent@0__:del', 1],
];

describe('sharded pub/sub of the embedded client', () => {
  const apps = trackApps<Harness>();
  afterAll(removeTempDirs);

  const embedded = async (): Promise<Redis> =>
    (await apps.track(bootWith(durable(tempDir('sharded-pubsub-'))))).redis;

  it('delivers SPUBLISH to shard subscribers alone, as `smessage` and `smessageBuffer`', async () => {
    expect(await delivery(await embedded())).toEqual(DELIVERY);
  });

  it('counts shard channels apart, and refuses what ioredis and Redis refuse a subscriber', async () => {
    expect(await counts(await embedded())).toEqual(COUNTS);
  });

  it('answers PUBSUB SHARDCHANNELS, SHARDNUMSUB and CLIENT LIST from the subscriptions of open connections', async () => {
    expect(await introspection(await embedded())).toEqual(INTROSPECTION);
  });

  it('runs SSUBSCRIBE, SUNSUBSCRIBE and SPUBLISH in pipelines, transactions and scripts as Redis 7.0 does', async () => {
    const client = await embedded();
    const spublishArity = await attempt(() => client.eval("return redis.call('spublish', 'q')", 0));
    expect(spublishArity).toMatch(
      /^error: ERR Wrong number of args calling Redis command from script script: /,
    );
    expect(await batches(client)).toEqual(BATCHES(spublishArity as string));
  });

  it('leaves keyspace notifications to channels and patterns', async () => {
    expect(await notifications(await embedded())).toEqual(NOTIFICATIONS);
  });
});

const redisServerBinary = findRedisServer(
  'sharded pub/sub suite (test/sharded-pubsub.e2e-spec.ts)',
);
if (redisServerBinary !== null) {
  describe('sharded pub/sub, against a real redis-server', () => {
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

    it('answers as the embedded client is held to: the server', async () => {
      expect(await redis.call('info', 'server')).toMatch(/redis_version:7\.0\./);
    });

    it('answers as the embedded client is held to: delivery', async () => {
      expect(await delivery(redis)).toEqual(DELIVERY);
    });

    it('answers as the embedded client is held to: counts and subscriber mode', async () => {
      expect(await counts(redis)).toEqual(COUNTS);
    });

    it('answers as the embedded client is held to: PUBSUB, CLIENT LIST, closed connections', async () => {
      expect(await introspection(redis)).toEqual(INTROSPECTION);
    });

    it('answers as the embedded client is held to: pipelines, transactions, scripts', async () => {
      const spublishArity = await attempt(() =>
        redis.eval("return redis.call('spublish', 'q')", 0),
      );
      expect(await batches(redis)).toEqual(BATCHES(spublishArity as string));
    });

    it('answers as the embedded client is held to: keyspace notifications', async () => {
      expect(await notifications(redis)).toEqual(NOTIFICATIONS);
    });
  });
}
