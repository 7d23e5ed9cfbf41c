import type { Redis } from 'ioredis';
import { createEmbeddedClient } from './adapter';
import { Keyspace } from '../keyspace/keyspace';

/**
 * Scripts of the embedded client beyond what a real redis-server can be compared on (test/command-fidelity.e2e-spec.ts
 * compares EVAL, EVALSHA and SCRIPT): ioredis's defined commands, scripts in pipelines and transactions, the script
 * cache of duplicates, and the rules' clean-up after a script's command.
 */

let keyspace: Keyspace;
let client: Redis;

beforeEach(async () => {
  keyspace = new Keyspace();
  client = createEmbeddedClient(keyspace);
  await client.set('text', 'abc');
});
afterEach(() => client.disconnect());

type Defined = Redis & Record<string, (...args: unknown[]) => Promise<unknown>>;

describe('scripts of the embedded client', () => {
  it('run defined commands through the rules, as methods and in pipelines', async () => {
    client.defineCommand('incrTwice', {
      numberOfKeys: 1,
      lua: "redis.call('incr', KEYS[1]); return redis.call('incr', KEYS[1])",
    });
    const defined = client as Defined;
    expect(await defined.incrTwice('n')).toBe(2);
    await expect(defined.incrTwice('text')).rejects.toThrow(
      /^ERR value is not an integer or out of range script: [0-9a-f]{40}, on @user_script:1\.$/,
    );
    expect(await client.get('text')).toBe('abc');
    const pipeline = client.pipeline() as unknown as Record<string, (...a: unknown[]) => unknown>;
    pipeline.incrTwice('n');
    pipeline.eval("return redis.call('get', KEYS[1])", 1, 'n');
    expect(await (pipeline as unknown as { exec(): Promise<unknown> }).exec()).toEqual([
      [null, 4],
      [null, '4'],
    ]);
  });

  it('run in pipelines beside the commands the embedded client adds, each pipeline with its own queue', async () => {
    const first = client.pipeline() as unknown as Record<string, (...a: unknown[]) => unknown>;
    client.defineCommand('setTwice', {
      numberOfKeys: 2,
      lua: "redis.call('set', KEYS[1], ARGV[1]); return redis.call('set', KEYS[2], ARGV[1])",
    });
    const second = client.pipeline() as unknown as Record<string, (...a: unknown[]) => unknown>;
    // Commands ioredis-mock lacks and the embedded client adds (COPY, ZUNION, GEOADD, a blocking pop), and one defined
    // after the first pipeline was made: only pipelines made since have it, as with ioredis-mock.
    first.copy('text', 'copied');
    second.setTwice('a', 'b', 'v');
    second.zadd('z', 1, 'm');
    first.geoadd('g', 13.361389, 38.115556, 'palermo');
    second.zunion(1, 'z', 'WITHSCORES');
    first.lpush('q', 'job');
    first.blpop('q', 0);
    second.copy('a', 'a2');
    expect(first.setTwice).toBeUndefined();
    const exec = (p: Record<string, unknown>): Promise<unknown> =>
      (p as unknown as { exec(): Promise<unknown> }).exec();
    expect(await exec(first)).toEqual([
      [null, 1],
      [null, 1],
      [null, 1],
      [null, ['q', 'job']],
    ]);
    expect(await exec(second)).toEqual([
      [null, 'OK'],
      [null, 1],
      [null, ['m', '1']],
      [null, 1],
    ]);
    expect(await client.mget('copied', 'a', 'b', 'a2')).toEqual(['abc', 'v', 'v', 'v']);
  });

  it('take the number of keys first when the definition does not give it', async () => {
    client.defineCommand('echoKeys', { lua: 'return {KEYS[1], ARGV[1]}' });
    expect(await (client as Defined).echoKeys(1, 'k', 'a')).toEqual(['k', 'a']);
  });

  it('fail alone in a transaction, with the error of the script', async () => {
    const replies = await client
      .multi()
      .eval("return redis.call('lpush', KEYS[1], 'x')", 1, 'text')
      .eval("return redis.call('set', KEYS[1], 'y')", 1, 'other')
      .exec();
    expect(replies?.[0][0]).toEqual(
      expect.objectContaining({ message: expect.stringMatching(/^WRONGTYPE Operation/) }),
    );
    expect(replies?.[1]).toEqual([null, 'OK']);
    expect(await client.get('other')).toBe('y');
  });

  it('share the script cache with duplicates', async () => {
    const sha = (await client.script('LOAD', 'return ARGV[1]')) as string;
    const copy = client.duplicate();
    try {
      expect(await copy.evalsha(sha, 0, 'hello')).toBe('hello');
      expect(await copy.script('EXISTS', sha, sha.toUpperCase(), '0'.repeat(40))).toEqual([
        1, 1, 0,
      ]);
      expect(await client.script('FLUSH')).toBe('OK');
      await expect(copy.evalsha(sha, 0, 'x')).rejects.toThrow(
        'NOSCRIPT No matching script. Please use EVAL.',
      );
    } finally {
      copy.disconnect();
    }
  });

  it('are cached by EVAL only once their number of keys is checked and they compile', async () => {
    const sha = (await client.script('LOAD', 'return 1')) as string;
    await client.script('FLUSH');
    await expect(client.eval('return 1', 'x' as unknown as number)).rejects.toThrow(
      'ERR value is not an integer or out of range',
    );
    await expect(client.eval('return 1', 2, 'a')).rejects.toThrow(
      "ERR Number of keys can't be greater than number of args",
    );
    expect(await client.script('EXISTS', sha)).toEqual([0]);
    await expect(client.eval('return 1 +', 0)).rejects.toThrow('ERR Error compiling script');
    expect(await client.eval('return 1', 0)).toBe(1);
    expect(await client.script('EXISTS', sha)).toEqual([1]);
    // EVALSHA of an unknown script: the number of keys is checked first.
    await expect(client.evalsha('0'.repeat(40), -1)).rejects.toThrow(
      "ERR Number of keys can't be negative",
    );
    await expect(client.evalsha('0'.repeat(40), 0)).rejects.toThrow('NOSCRIPT');
    // A SHA1 that is not 40 bytes long is refused first.
    await expect(client.evalsha('0'.repeat(39), -1)).rejects.toThrow('NOSCRIPT');
  });

  it('delete a collection a command of the script emptied, as Redis does', async () => {
    await client.zadd('z', 1, 'm');
    expect(await client.eval("return redis.call('zpopmin', KEYS[1])", 1, 'z')).toEqual(['m', '1']);
    expect(keyspace.valueOf('z')).toBeUndefined();
  });

  it('answer Buffers from the Buffer method and text otherwise', async () => {
    await client.set('bytes', Buffer.from([0xff, 0x00]));
    const script = "return redis.call('get', KEYS[1])";
    expect(await (client as Defined).evalBuffer(script, 1, 'bytes')).toEqual(
      Buffer.from([0xff, 0x00]),
    );
    expect(await client.eval(script, 1, 'text')).toBe('abc');
  });
});
