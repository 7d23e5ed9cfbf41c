import type { Redis } from 'ioredis';
import type { Keyspace } from '../lib/keyspace/keyspace';
import { KEYSPACE } from '../lib/persistent-cache.constants';
import { trackApps } from './support/apps';
import { digest, expectSameData } from './support/digest';
import { bootWith, durable, removeTempDirs, tempDir, type Harness } from './support/harness';
import { describeWithRedisServer } from './support/redis-suite';
import { restoredDigest } from './support/stores';
import { whileWriting } from './support/concurrent-writes';

/**
 * Large sets, hashes, sorted sets and lists are changed in place by SADD, SREM, HSET, HMSET, HINCRBY, HINCRBYFLOAT,
 * HSETNX, SPOP, SMOVE, ZADD, ZINCRBY, ZREM, ZPOPMIN, ZPOPMAX, ZREMRANGEBY*, LPUSH, RPUSH, LPOP, RPOP, LMOVE and
 * RPOPLPUSH (a copy for each write cost the collection's size), SISMEMBER, SMISMEMBER, SRANDMEMBER, HRANDFIELD and
 * HLEN read the stored collection without copying it, and a sorted set's order is kept rather than sorted again at
 * each read (score ranges, ZCOUNT and ZRANDMEMBER read it without copying it). From the outside nothing changes but
 * the time: the same answers, the memory estimate following the changes, and snapshots that hold each collection as
 * it was when they began, while writes change it in place.
 */

afterAll(removeTempDirs);
const apps = trackApps<Harness>();

const keyspaceOf = (h: Harness): Keyspace => h.app.get<Keyspace>(KEYSPACE);

const MEMBERS = 20_000;

/** A set `s` and a hash `h` of {@link MEMBERS} members and fields, well above the size changed in place. */
async function fillLarge(redis: Redis): Promise<void> {
  for (let start = 0; start < MEMBERS; start += 1000) {
    const members: string[] = [];
    const fields: Record<string, string> = {};
    for (let i = start; i < start + 1000; i++) {
      members.push(`m${i}`);
      fields[`f${i}`] = `v${i}`;
    }
    await redis.sadd('s', ...members);
    await redis.hset('h', fields);
    await redis.zadd('z', ...members.flatMap((m, j) => [(start + j) % 997, m]));
    await redis.rpush('l', ...members);
  }
}

/**
 * A TTL given to `key` (Redis answers 1), then `write`: a snapshot under way keeps aside a reference to the collection
 * at the first, which the second then changes in place.
 */
async function expiring(
  redis: Redis,
  key: string,
  write: () => Promise<unknown>,
): Promise<unknown> {
  await redis.pexpire(key, 1_000_000);
  return write();
}

/** One write to the large set or hash, of the kind `step` picks. */
async function change(redis: Redis, step: number): Promise<unknown> {
  const i = (step * 7919) % MEMBERS;
  switch (step % 20) {
    case 14:
      return redis.lpush('l', `left${step}`, `left${step}b`);
    case 15:
      return redis.rpush('l', `right${step}`);
    case 16:
      return expiring(redis, 'l', async () => [
        await redis.lpop('l'),
        await redis.rpop('l'),
        await redis.lmpop(1, 'l', 'LEFT', 'COUNT', 2),
        await redis.lmpop(2, 'missing-list', 'l', 'RIGHT'),
        await redis.blpop('l', 1),
        await redis.brpop('missing-list', 'l', 1),
      ]);
    case 17:
      return [
        await redis.lpop('l', 3),
        await redis.rpop('l', 2),
        await redis.lpop('l', 0),
        await redis.ltrim('l', step % 2, -1 - (step % 3)),
        await redis.ltrim('l', -10 * MEMBERS, 10 * MEMBERS),
        await redis.lset('l', -1 - (step % 7), `set at the end ${step}`),
        await redis.rpoplpush('l', 'l'),
        await redis.lmove('l', 'l', 'LEFT', 'RIGHT'),
        step % 2 === 0
          ? await redis.lmove('l', 'q', 'LEFT', 'LEFT')
          : await redis.lmove('l', 'q', 'RIGHT', 'LEFT'),
        await redis.lmove('l', 'q', 'RIGHT', 'RIGHT'),
        await redis.rpoplpush('q', 'l'),
        await redis.lmove('missing-list', 'l', 'LEFT', 'LEFT'),
        await redis.lrange('q', 0, -1),
      ];
    case 18:
      return [
        await redis.lrange('l', 0, 3),
        await redis.lrange('l', -3, -1),
        await redis.lrange('l', 5, 2),
        await redis.llen('l'),
        await redis.lpos('l', `right${step - 3}`),
        await redis.lpos('l', `m${i}`, 'RANK', -1),
      ];
    case 19:
      // Writes ioredis-mock makes (to a copy) between those made in place, and reads of other kinds.
      return [
        await redis.lindex('l', step % 100),
        await redis.lindex('l', -1 - (step % 100)),
        await redis.lindex('l', -10 * MEMBERS),
        await redis.lset('l', step % 50, `set${step}`),
        await redis.linsert('l', 'BEFORE', `m${i}`, `inserted${step}`),
        await redis.lrem('l', 1, `right${step - 4}`),
        await redis.type('l'),
        await redis.object('ENCODING', 'l'),
        step % 200 === 19 ? await redis.sort('l', 'LIMIT', 0, 3, 'ALPHA') : null,
        step % 200 === 39 ? await redis.lmove('l', 'l2', 'LEFT', 'RIGHT') : null,
      ];
    case 6:
      return redis.zadd('z', (step % 1000) - 500, `m${i}`, step, `new${step}`);
    case 7:
      return redis.zincrby('z', 2.5, `m${(i * 3) % MEMBERS}`);
    case 8:
      return expiring(redis, 'z', () => redis.zrem('z', `m${i}`, `absent${step}`));
    case 9:
      return redis.zadd('z', 'GT', 'CH', step % 900, `m${(i * 7) % MEMBERS}`);
    case 10:
      return redis.zpopmin('z', 2);
    case 11:
      return redis.zpopmax('z');
    case 12:
      return [
        await redis.zrange('z', 0, 4, 'WITHSCORES'),
        await redis.zrevrange('z', 0, 4, 'WITHSCORES'),
        await redis.zrank('z', `m${i}`),
        await redis.zrevrank('z', `m${i}`),
        await redis.zcard('z'),
        await redis.zcount('z', step % 900, (step % 900) + 3),
        await redis.zcount('z', `(${step % 500}`, '+inf'),
        await redis.zcount('z', '-inf', `(${step % 700}`),
        await redis.zrangebyscore('z', step % 900, '+inf', 'WITHSCORES', 'LIMIT', step % 13, 4),
        await redis.zrevrangebyscore('z', `(${(step % 900) + 2}`, step % 900, 'LIMIT', 1, 3),
        await redis.zrange(
          'z',
          `(${step % 800}`,
          (step % 800) + 1,
          'BYSCORE',
          'REV',
          'LIMIT',
          0,
          -1,
        ),
        await redis.zremrangebyscore('z', `(${(step % 900) + 0.5}`, (step % 900) + 0.75),
        new Set(await redis.zrandmember('z', 6)).size,
        (await redis.zrandmember('z', -5, 'WITHSCORES')).length,
      ];
    case 13:
      return redis.zremrangebyscore('z', step % 900, (step % 900) + 0.5);
  }
  switch (step % 6) {
    case 0:
      return redis.sadd('s', `new${step}`, `m${i}`);
    case 1:
      return expiring(redis, 's', () => redis.srem('s', `m${i}`, `absent${step}`));
    case 2:
      return [
        await redis.hset('h', `f${i}`, `changed ${step}`, `g${step}`, 'added'),
        await redis.object('ENCODING', 'h'),
        await redis.object('ENCODING', 's'),
        await redis.object('ENCODING', 'z'),
        await redis.object('ENCODING', 's2'),
      ];
    case 3:
      return [
        await redis.hmset('h', { [`f${i}`]: `again ${step}` }),
        await redis.hincrby('h', `counter${step % 10}`, step - 500),
        await redis.hincrbyfloat('h', `float${step % 5}`, '1.25'),
        await redis.hsetnx('h', `f${i}`, 'not set'),
        await redis.hsetnx('h', `nx${step}`, 'set'),
      ];
    case 4:
      return [
        await redis.sadd('s', Buffer.from([0xff, step & 0xff])),
        await redis.smove('s', 's2', `m${i}`),
        await redis.smove('s2', 's', `m${(i * 3) % MEMBERS}`),
        await redis.smove('s', 's', `m${(i * 5) % MEMBERS}`),
        new Set(await redis.srandmember('s', 5)).size,
        (await redis.srandmember('s', -7)).length,
        ((await redis.hrandfield('h', -3)) as string[]).length,
        ((await redis.hrandfield('h', 4, 'WITHVALUES')) as string[]).length,
      ];
    default:
      return expiring(redis, 'h', () => redis.hdel('h', `f${i}`));
  }
}

describe('large sets and hashes', () => {
  it('answer as before when changed in place, and the memory estimate follows', async () => {
    const h = await apps.track(bootWith({ persistence: { enabled: false } }));
    await fillLarge(h.redis);
    const keyspace = keyspaceOf(h);
    const sizeBefore = keyspace.memoryUsage('s') as number;
    expect(await h.redis.sadd('s', 'm1', 'x1', 'x2', 'x2')).toBe(2);
    expect(await h.redis.srem('s', 'm1', 'm2', 'nope')).toBe(2);
    expect(await h.redis.scard('s')).toBe(MEMBERS);
    expect(await h.redis.sismember('s', 'x1')).toBe(1);
    expect(await h.redis.sismember('s', 'm1')).toBe(0);
    expect(await h.redis.smismember('s', 'm3', 'm1', 'x2')).toEqual([1, 0, 1]);
    expect(await h.redis.sismember('missing', 'm3')).toBe(0);
    expect(await h.redis.sadd('s', Buffer.from('m5'))).toBe(0); // the same bytes as the text member
    // A byte-string member and its bytes as text are one member (see buffer-members.ts).
    expect(await h.redis.sadd('s', Buffer.from([0xc3, 0x28]))).toBe(1);
    expect(await h.redis.sismember('s', Buffer.from([0xc3, 0x28]))).toBe(1);
    const grown = keyspace.memoryUsage('s') as number;
    expect(grown).toBeGreaterThan(sizeBefore);
    expect(grown - sizeBefore).toBeLessThan(1_000);

    const hashBefore = keyspace.memoryUsage('h') as number;
    expect(await h.redis.hset('h', 'f1', 'one', 'new', 'field')).toBe(1);
    expect(await h.redis.hmset('h', { f2: 'two', other: 'x' })).toBe('OK');
    expect(await h.redis.hlen('h')).toBe(MEMBERS + 2);
    expect(await h.redis.hget('h', 'f1')).toBe('one');
    expect(await h.redis.hmget('h', 'f2', 'other', 'f3')).toEqual(['two', 'x', 'v3']);
    expect(await h.redis.hdel('h', 'f1', 'new')).toBe(2);
    expect(await h.redis.hlen('h')).toBe(MEMBERS);
    const hashAfter = keyspace.memoryUsage('h') as number;
    expect(Math.abs(hashAfter - hashBefore)).toBeLessThan(1_000);
    // HINCRBY, HINCRBYFLOAT and HSETNX change the stored hash itself too (ioredis-mock copied it for each).
    const stored = keyspace.valueOf('h');
    expect(await h.redis.hincrby('h', 'counter', 5)).toBe(5);
    expect(await h.redis.hincrby('h', 'counter', -7)).toBe(-2);
    expect(await h.redis.hincrbyfloat('h', 'float', '2.5')).toBe('2.5');
    expect(await h.redis.hsetnx('h', 'f3', 'not set')).toBe(0);
    expect(await h.redis.hsetnx('h', 'nx', 'set')).toBe(1);
    await expect(h.redis.hincrby('h', 'f3', 1)).rejects.toThrow('ERR hash value is not an integer');
    expect(keyspace.valueOf('h')).toBe(stored);
    expect(await h.redis.hmget('h', 'counter', 'float', 'f3', 'nx')).toEqual([
      '-2',
      '2.5',
      'v3',
      'set',
    ]);
    expect(await h.redis.hlen('h')).toBe(MEMBERS + 3);
    const grownBy = (keyspace.memoryUsage('h') as number) - hashAfter;
    expect(grownBy).toBeGreaterThan(0);
    expect(grownBy).toBeLessThan(500);

    // SPOP, SRANDMEMBER, SMOVE and HRANDFIELD draw from the stored collections without copying them.
    const set = keyspace.valueOf('s');
    const setBytes = keyspace.memoryUsage('s') as number;
    const setSize = await h.redis.scard('s');
    const drawn = await h.redis.srandmember('s', 50);
    expect(new Set(drawn).size).toBe(50);
    expect(await h.redis.smismember('s', ...drawn)).toEqual(drawn.map(() => 1));
    expect(await h.redis.srandmember('s', -(MEMBERS * 2))).toHaveLength(MEMBERS * 2);
    const one = (await h.redis.srandmember('s')) as string;
    expect(await h.redis.sismember('s', one)).toBe(1);
    const popped = [(await h.redis.spop('s')) as string, ...(await h.redis.spop('s', 99))];
    expect(new Set(popped).size).toBe(100);
    expect(await h.redis.smismember('s', ...popped)).toEqual(popped.map(() => 0));
    expect(await h.redis.scard('s')).toBe(setSize - 100);
    expect(keyspace.memoryUsage('s')).toBeLessThan(setBytes);
    // Added members are drawn too; a member moved out never is.
    expect(await h.redis.sadd('s', 'late')).toBe(1);
    expect(await h.redis.smove('s', 'moved', popped[0])).toBe(0);
    expect(await h.redis.smove('s', 'moved', 'late')).toBe(1);
    expect(await h.redis.smove('s', 's', 'x1')).toBe(1);
    expect(await h.redis.smembers('moved')).toEqual(['late']);
    expect(await h.redis.sismember('s', (await h.redis.srandmember('s')) as string)).toBe(1);
    expect(await h.redis.srem('s', 'x2')).toBe(1);
    const membersDrawn = new Set(await h.redis.srandmember('s', -(MEMBERS * 5)));
    expect(['late', 'x2', ...popped].filter((m) => membersDrawn.has(m))).toEqual([]);
    expect(membersDrawn.size).toBeGreaterThan(MEMBERS * 0.9);
    expect(await h.redis.sadd('s', 'x2')).toBe(1);
    const rest = new Set(await h.redis.spopBuffer('s', MEMBERS));
    expect(rest.size).toBe(setSize - 100);
    const restText = new Set([...rest].map((m) => m.toString('latin1')));
    expect(restText.has('late') || popped.some((m) => restText.has(m))).toBe(false);
    expect(await h.redis.exists('s')).toBe(0);
    expect(keyspace.memoryUsage('s')).toBeUndefined();
    expect(set).toBeInstanceOf(Set);
    expect(await h.redis.sadd('s', ...rest)).toBe(setSize - 100);
    const hash = keyspace.valueOf('h');
    const field = (await h.redis.hrandfield('h')) as string;
    expect(await h.redis.hexists('h', field)).toBe(1);
    const pairs = (await h.redis.hrandfield('h', 3, 'WITHVALUES')) as string[];
    expect(pairs).toHaveLength(6);
    for (let at = 0; at < 6; at += 2)
      expect(await h.redis.hget('h', pairs[at])).toBe(pairs[at + 1]);
    expect(await h.redis.hset('h', 'only-new', '1')).toBe(1);
    expect(await h.redis.hdel('h', 'only-new')).toBe(1);
    const fieldsDrawn = new Set(await h.redis.hrandfield('h', -(MEMBERS * 5)));
    expect(fieldsDrawn.has('only-new')).toBe(false);
    expect(fieldsDrawn.size).toBeGreaterThan(MEMBERS * 0.9);
    expect(await h.redis.hrandfield('h', MEMBERS * 2)).toHaveLength(MEMBERS + 3);
    expect(keyspace.valueOf('h')).toBe(hash);

    // A change in place is a write: a transaction watching the key fails, for each kind of collection.
    for (const [key, write] of [
      ['s', () => h.redis.sadd('s', 'watched')],
      ['h', () => h.redis.hset('h', 'watched', '1')],
      ['z', () => h.redis.zadd('z', 5, 'watched')],
      ['l', () => h.redis.rpop('l')],
    ] as const) {
      const watcher = h.redis.duplicate();
      await watcher.watch(key);
      await write();
      expect(await watcher.multi().set('after-watch', key).exec()).toBeNull();
      watcher.disconnect();
    }
    expect(await h.redis.exists('after-watch')).toBe(0);
    // A SMOVE that moves nothing writes nothing, as in Redis: the watching transaction runs.
    const watcher = h.redis.duplicate();
    await watcher.watch('s');
    expect(await h.redis.smove('s', 'elsewhere', 'not-a-member')).toBe(0);
    expect(await h.redis.smove('s', 's', 'm5')).toBe(1);
    expect(await watcher.multi().set('after-watch', 's').exec()).toEqual([[null, 'OK']]);
    watcher.disconnect();
    expect(await h.redis.exists('elsewhere')).toBe(0);

    // Emptied by SREM in place, the set is deleted, as Redis deletes it.
    const all = await h.redis.smembersBuffer('s');
    for (let at = 0; at < all.length; at += 5_000) {
      await h.redis.srem('s', ...all.slice(at, at + 5_000));
    }
    expect(await h.redis.exists('s')).toBe(0);
    expect(keyspace.memoryUsage('s')).toBeUndefined();
    // And the hash, by HDEL in place.
    const fields = await h.redis.hkeys('h');
    let deleted = 0;
    for (let at = 0; at < fields.length; at += 5_000) {
      deleted += await h.redis.hdel('h', ...fields.slice(at, at + 5_000), 'absent');
    }
    expect(deleted).toBe(fields.length);
    expect(await h.redis.exists('h')).toBe(0);
    // A WRONGTYPE key is refused before anything changes.
    await h.redis.set('str', 'x');
    await expect(h.redis.sadd('str', 'm')).rejects.toThrow('WRONGTYPE');
    await expect(h.redis.sismember('str', 'm')).rejects.toThrow('WRONGTYPE');
    await expect(h.redis.hlen('str')).rejects.toThrow('WRONGTYPE');
  });

  it('keep a large list a queue: pushed and popped at either end, copied, snapshotted, restored and emptied', async () => {
    const dataDir = tempDir();
    const h = await apps.track(bootWith(durable(dataDir, { snapshotOnShutdown: false })));
    const model: string[] = [];
    for (let start = 0; start < 30_000; start += 1000) {
      const items = Array.from({ length: 1000 }, (_, j) => `q${start + j}`);
      await h.redis.rpush('queue', ...items);
      model.push(...items);
    }
    let pushed = 0;
    for (let step = 0; step < 6_000; step++) {
      const items = Array.from({ length: 1 + (step % 3) }, () => `p${pushed++}`);
      switch (step % 8) {
        case 0:
          expect(await h.redis.lpush('queue', ...items)).toBe(
            model.unshift(...[...items].reverse()),
          );
          break;
        case 1:
          expect(await h.redis.rpush('queue', ...items)).toBe(model.push(...items));
          break;
        case 2:
          expect(await h.redis.rpop('queue')).toBe(model.pop());
          break;
        case 3:
          expect(await h.redis.lpop('queue', 2)).toEqual(model.splice(0, 2));
          break;
        case 4:
          expect(await h.redis.brpop('queue', 1)).toEqual(['queue', model.pop()]);
          break;
        case 5:
          expect(await h.redis.blpop('queue', 1)).toEqual(['queue', model.shift()]);
          break;
        case 6:
          expect(await h.redis.lmpop(1, 'queue', 'RIGHT', 'COUNT', 3)).toEqual([
            'queue',
            model.splice(model.length - 3).reverse(),
          ]);
          break;
        default:
          expect(await h.redis.lindex('queue', -1 - (step % 50))).toBe(model.at(-1 - (step % 50)));
          expect(await h.redis.lrange('queue', step % 40, (step % 40) + 4)).toEqual(
            model.slice(step % 40, (step % 40) + 5),
          );
      }
    }
    expect(await h.redis.llen('queue')).toBe(model.length);
    expect(await h.redis.lrange('queue', 0, -1)).toEqual(model);
    expect(await h.redis.type('queue')).toBe('list');
    expect(await h.redis.object('ENCODING', 'queue')).toBe('quicklist');
    const size = keyspaceOf(h).memoryUsage('queue') as number;
    expect(size).toBeGreaterThan(model.length * 8);
    // A capped list, as LPUSH and LTRIM keep one: trimmed in place.
    const capped: string[] = [];
    for (let i = 0; i < 3_000; i++) {
      await h.redis.lpush('capped', `event ${i}`, `event ${i}b`);
      capped.unshift(`event ${i}b`, `event ${i}`);
      expect(await h.redis.ltrim('capped', 0, 1_999)).toBe('OK');
      capped.splice(2_000);
    }
    expect(await h.redis.lrange('capped', 0, -1)).toEqual(capped);
    expect(await h.redis.ltrim('capped', 5, 2)).toBe('OK'); // an empty range deletes the list
    expect(await h.redis.exists('capped')).toBe(0);
    // Copies are lists of their own: a write to one leaves the other as it was.
    expect(await h.redis.copy('queue', 'copied')).toBe(1);
    expect(await h.redis.lpush('copied', 'only in the copy')).toBe(model.length + 1);
    expect(await h.redis.rename('copied', 'renamed')).toBe('OK');
    expect(await h.redis.lrange('renamed', 1, -1)).toEqual(model);
    expect(await h.redis.lindex('queue', 0)).toBe(model[0]);

    expect((await h.snapshots.snapshot()).kind).toBe('full');
    await apps.close(h);
    const restarted = await apps.track(bootWith(durable(dataDir, { snapshotOnShutdown: false })));
    expect(await restarted.redis.lrange('queue', 0, -1)).toEqual(model);
    expect(await restarted.redis.llen('renamed')).toBe(model.length + 1);
    // Drained from the front in place, the list is deleted with its last element, as Redis deletes it.
    expect(await restarted.redis.lpush('queue', 'restored, then pushed')).toBe(model.length + 1);
    model.unshift('restored, then pushed');
    const drained: string[] = [];
    for (;;) {
      const taken = await restarted.redis.lpop('queue', 997);
      if (taken === null) break;
      drained.push(...taken);
    }
    expect(drained).toEqual(model);
    expect(await restarted.redis.exists('queue')).toBe(0);
    expect(keyspaceOf(restarted).memoryUsage('queue')).toBeUndefined();
  });

  it('snapshot each collection as it was when the snapshot began, while writes change it in place', async () => {
    const dataDir = tempDir();
    const h = await apps.track(bootWith(durable(dataDir, { snapshotOnShutdown: false })));
    // Small keys around the large ones: a capture reads them in slices, and writes come before it reaches the large
    // ones, whose state as it began it must then read from the copies kept aside.
    const pipeline = h.redis.pipeline();
    for (let i = 0; i < 40_000; i++) pipeline.set(`small:${i}`, 'v');
    await pipeline.exec();
    await fillLarge(h.redis);
    for (const round of [1, 2, 3]) {
      if (round > 1)
        for (let step = 0; step < 50; step++) await change(h.redis, round * 1000 + step);
      const atStart = await digest(h.redis);
      const { result: report, writes } = await whileWriting(
        h.snapshots.snapshot(),
        round * 100_000,
        5,
        (step) => change(h.redis, step),
      );
      // The first is full; later ones are full or incremental (the two large keys hold nearly all the bytes, so
      // the chain policy may rewrite them whole): either reads them through the same kept copies.
      if (round === 1) expect(report.kind).toBe('full');
      expect(writes).toBeGreaterThan(5);
      expect((await digest(h.redis)).hash).not.toBe(atStart.hash);
      expectSameData(await restoredDigest(dataDir), atStart);
    }
    // And a restart restores what the last snapshot held, which in-place writes then change again.
    const expected = await restoredDigest(dataDir);
    await apps.close(h);
    const restarted = await apps.track(bootWith(durable(dataDir)));
    expectSameData(await digest(restarted.redis), expected);
    expect(await restarted.redis.sadd('s', 'after restart')).toBe(1);
    expect(await restarted.redis.hset('h', 'after', 'restart')).toBe(1);
    expect(await restarted.redis.sismember('s', 'after restart')).toBe(1);
  });
});

describeWithRedisServer(
  'large collections (test/large-collections.e2e-spec.ts)',
  'large sets and hashes against a real redis-server',
  (server) => {
    it('answer every write and read as Redis does', async () => {
      const redis = server().client();
      const h = await apps.track(bootWith({ persistence: { enabled: false } }));
      try {
        await redis.flushall();
        for (const client of [redis, h.redis]) await fillLarge(client);
        const differences: string[] = [];
        for (let step = 0; step < 2_000; step++) {
          const [theirs, ours] = await Promise.all(
            [redis, h.redis].map((client) => change(client, step)),
          );
          if (JSON.stringify(theirs) !== JSON.stringify(ours)) {
            differences.push(
              `step ${step}: redis ${JSON.stringify(theirs)}, ours ${JSON.stringify(ours)}`,
            );
          }
        }
        for (const client of [redis, h.redis]) {
          const reads = [
            await client.scard('s'),
            await client.hlen('h'),
            await client.smismember('s', 'm1', 'm7919', 'new5', 'absent1'),
          ];
          differences.push(JSON.stringify(reads));
        }
        expect(differences.slice(0, -2)).toEqual([]);
        expect(differences[differences.length - 1]).toBe(differences[differences.length - 2]);
        expect(new Set(await h.redis.smembers('s'))).toEqual(new Set(await redis.smembers('s')));
        expect(await h.redis.hgetall('h')).toEqual(await redis.hgetall('h'));
        expect(await h.redis.lrange('l', 0, -1)).toEqual(await redis.lrange('l', 0, -1));
        expect(await h.redis.zrange('z', 0, -1, 'WITHSCORES')).toEqual(
          await redis.zrange('z', 0, -1, 'WITHSCORES'),
        );
      } finally {
        redis.disconnect();
      }
    });
  },
);
