import { ReplyError, type Redis } from 'ioredis';
import { createEmbeddedClient } from './adapter';
import { Keyspace } from '../keyspace/keyspace';
import { CONNECTION_CLOSED, NOT_AN_INTEGER, OUT_OF_MEMORY, WRONGTYPE } from './redis-replies';
import { EXECABORT } from './command-guard';
import { SUBSCRIBER_MODE } from './pubsub-commands';

/**
 * The errors the embedded client rejects with are ioredis's: an error reply is a `ReplyError` naming the command as
 * ioredis sent it (`command: { name, args }`), except in EXEC's reply; an error ioredis raises itself is a plain
 * `Error`. (The same shapes are compared with ioredis against a real redis-server, for every command of the
 * differential test: test/differential.e2e-spec.ts.)
 */

let keyspace: Keyspace;
let client: Redis;

beforeEach(async () => {
  keyspace = new Keyspace();
  client = createEmbeddedClient(keyspace);
  await client.set('text', 'abc');
  await client.rpush('list', 'a');
});
afterEach(() => client.disconnect());

/** A method ioredis's types do not declare (a Buffer variant). */
const send = (name: string, ...args: unknown[]): Promise<unknown> =>
  (client as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>)[name](...args);

interface Described {
  class: string;
  message: string;
  command?: unknown;
  previousErrors?: Described[];
}

/** What a caller can see of an error: its class, its text, the command it names, the errors before it. */
function describe_(error: unknown): Described {
  if (!(error instanceof Error)) throw new Error(`not an error: ${String(error)}`);
  const { command, previousErrors } = error as { command?: unknown; previousErrors?: unknown[] };
  return {
    class: error instanceof ReplyError ? 'ReplyError' : error.constructor.name,
    message: error.message,
    ...(command === undefined ? {} : { command }),
    ...(previousErrors === undefined ? {} : { previousErrors: previousErrors.map(describe_) }),
  };
}

async function rejection(promise: Promise<unknown>): Promise<Described> {
  try {
    await promise;
  } catch (error) {
    return describe_(error);
  }
  throw new Error('it did not reject');
}

const reply = (message: string, name?: string, args?: unknown[]): Described => ({
  class: 'ReplyError',
  message,
  ...(name === undefined ? {} : { command: { name, args } }),
});

describe('error replies of the embedded client', () => {
  it('are ReplyErrors naming the command a method sent, its arguments as text or Buffers', async () => {
    expect(await rejection(client.incrby('text', 5))).toEqual(
      reply(NOT_AN_INTEGER, 'incrby', ['text', '5']),
    );
    expect(await rejection(send('incrbyBuffer', 'text', 5))).toEqual(
      reply(NOT_AN_INTEGER, 'incrby', ['text', '5']),
    );
    expect(await rejection(client.hset('list', { a: 1, b: 'x' }))).toEqual(
      reply(WRONGTYPE, 'hset', ['list', 'a', '1', 'b', 'x']),
    );
    expect(await rejection(client.lpush(Buffer.from('text'), 'x'))).toEqual(
      reply(WRONGTYPE, 'lpush', [Buffer.from('text'), 'x']),
    );
    // A reply ioredis-mock makes itself (no rule answers it), as one of the rules.
    expect(await rejection(client.lrange('text', 0, -1))).toEqual(
      reply(WRONGTYPE, 'lrange', ['text', '0', '-1']),
    );
  });

  it('name the command as `call` was given it, a name Redis does not know too', async () => {
    expect(await rejection(client.call('INCRBY', 'text', 5))).toEqual(
      reply(NOT_AN_INTEGER, 'INCRBY', ['text', '5']),
    );
    expect(await rejection(client.callBuffer('IncrBy', 'text', '1'))).toEqual(
      reply(NOT_AN_INTEGER, 'IncrBy', ['text', '1']),
    );
    expect(await rejection(client.call('nosuch', 'x', 2))).toEqual(
      reply("ERR unknown command 'nosuch', with args beginning with: 'x' '2' ", 'nosuch', [
        'x',
        '2',
      ]),
    );
    // The name given to `call` is not kept for the next command.
    expect(await rejection(client.incr('text'))).toEqual(reply(NOT_AN_INTEGER, 'incr', ['text']));
  });

  it('reach a callback as they reject', async () => {
    const error = await new Promise((resolve) => {
      void client.incr('text', (e: unknown) => resolve(e)).catch(() => undefined);
    });
    expect(describe_(error)).toEqual(reply(NOT_AN_INTEGER, 'incr', ['text']));
  });

  it('name the command in a pipeline entry, and none in an entry of EXEC', async () => {
    const piped = await client
      .pipeline()
      .incrby('text', 1)
      .call('LPUSH', 'text', 'x')
      .get('text')
      .exec();
    expect(piped?.map(([error]) => (error === null ? null : describe_(error)))).toEqual([
      reply(NOT_AN_INTEGER, 'incrby', ['text', '1']),
      reply(WRONGTYPE, 'LPUSH', ['text', 'x']),
      null,
    ]);
    const transaction = await client
      .multi()
      .incrby('text', 1)
      .lpush('text', 'x')
      .get('text')
      .exec();
    expect(transaction?.map(([error]) => (error === null ? null : describe_(error)))).toEqual([
      reply(NOT_AN_INTEGER),
      reply(WRONGTYPE),
      null,
    ]);
  });

  it('EXECABORT names EXEC, and each command refused when it was queued', async () => {
    expect(
      await rejection(
        client.multi().set('k', '1').call('incrby', 'text').call('nosuch', 'x').exec(),
      ),
    ).toEqual({
      ...reply(EXECABORT, 'exec', []),
      previousErrors: [
        reply("ERR wrong number of arguments for 'incrby' command", 'incrby', ['text']),
      ],
    });
    expect(await client.exists('k')).toBe(0);
  });

  it('of a blocking pop name the pop, not the form it runs', async () => {
    expect(await rejection(client.blpop('text', 0.01))).toEqual(
      reply(WRONGTYPE, 'blpop', ['text', '0.01']),
    );
    expect(await rejection(client.blmove('text', 'list', 'LEFT', 'RIGHT', -1))).toEqual(
      reply('ERR timeout is negative', 'blmove', ['text', 'list', 'LEFT', 'RIGHT', '-1']),
    );
    expect(await rejection(client.call('BZPOPMIN', 'text', '0.01'))).toEqual(
      reply(WRONGTYPE, 'BZPOPMIN', ['text', '0.01']),
    );
    const piped = await client.pipeline().brpop('text', 1).exec();
    expect(describe_(piped?.[0][0])).toEqual(reply(WRONGTYPE, 'brpop', ['text', '1']));
    const transaction = await client.multi().bzpopmax('list', 1).exec();
    expect(describe_(transaction?.[0][0])).toEqual(reply(WRONGTYPE));
  });

  it('of scripts are ReplyErrors naming EVAL, whatever code the script gives', async () => {
    expect(await rejection(client.eval('return {err="MYERR boom"}', 0))).toEqual(
      reply('MYERR boom', 'eval', ['return {err="MYERR boom"}', '0']),
    );
    expect(await rejection(client.eval('return {err="no code"}', 0))).toEqual(
      reply('no code', 'eval', ['return {err="no code"}', '0']),
    );
    const failed = await rejection(client.eval('return redis.call("incr", KEYS[1])', 1, 'text'));
    expect(failed).toMatchObject({ class: 'ReplyError', command: { name: 'eval' } });
    expect(failed.message).toContain(NOT_AN_INTEGER);
  });

  it('for memory are ReplyErrors naming the write refused', async () => {
    await client.config('SET', 'maxmemory', '1');
    expect(await rejection(client.set('k', 'v'))).toEqual(reply(OUT_OF_MEMORY, 'set', ['k', 'v']));
    const piped = await client.pipeline().set('k', 'v').exec();
    expect(describe_(piped?.[0][0])).toEqual(reply(OUT_OF_MEMORY, 'set', ['k', 'v']));
    expect(await rejection(client.multi().get('text').set('k', 'v').exec())).toEqual({
      ...reply(EXECABORT, 'exec', []),
      previousErrors: [
        reply(OUT_OF_MEMORY, 'get', ['text']),
        reply(OUT_OF_MEMORY, 'set', ['k', 'v']),
      ],
    });
  });
});

describe('errors ioredis raises itself', () => {
  it('stay plain Errors, naming no command', async () => {
    const subscriber = client.duplicate();
    await subscriber.subscribe('news');
    expect(await rejection(subscriber.get('text'))).toEqual({
      class: 'Error',
      message: SUBSCRIBER_MODE,
    });
    subscriber.disconnect();
    const closed = client.duplicate();
    await closed.quit();
    expect(await rejection(closed.get('text'))).toEqual({
      class: 'Error',
      message: CONNECTION_CLOSED,
    });
  });
});
