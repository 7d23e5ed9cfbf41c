import { METRICS } from '../lib';
import type { Keyspace } from '../lib/keyspace/keyspace';
import { KEYSPACE } from '../lib/persistent-cache.constants';
import { digest, expectSameData } from './support/digest';
import { bootWith, durable, type Harness, removeTempDirs, tempDir } from './support/harness';
import { metricValue } from './support/metrics';
import { restoredDigest } from './support/stores';
import { dataView } from '../lib/ioredis-mock/views';

afterAll(removeTempDirs);

/**
 * A value no Redis command makes, left in the keyspace by a bug: a hash whose field holds something that is neither
 * a string nor a Buffer. The snapshot codec refuses it.
 */
function badHash(): Record<string, unknown> {
  return { ok: 'v', bad: () => 'a function' };
}

function keyspace(h: Harness): Keyspace {
  return h.app.get<Keyspace>(KEYSPACE);
}

describe('a value that cannot be stored does not stop persistence', () => {
  it('a full snapshot persists every other key, names the bad ones, and counts them', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    try {
      await h.redis.mset({ a: '1', b: '2' });
      await h.redis.hset('h', 'f', 'v');
      await h.redis.zadd('z', 1, 'm');
      const good = await digest(h.redis);
      dataView(keyspace(h)).set('bad:hash', badHash());
      dataView(keyspace(h)).set('bad:symbol', Symbol('not storable'));

      const report = await h.snapshots.snapshot();
      expect(report.kind).toBe('full');
      expect(report.keys).toBe(6);
      expect(report.records).toBe(4);
      expect(report.unstorable).toBe(2);
      expect(report.unstorableKeys.map((u) => u.key).sort()).toEqual(['bad:hash', 'bad:symbol']);
      expect(report.unstorableKeys.find((u) => u.key === 'bad:hash')?.message).toMatch(
        /^key "bad:hash": cannot encode .*function/,
      );
      expect(h.snapshots.lastFailure).toBeUndefined();
      expect(await metricValue(METRICS.unstorableKeys)).toBe(2);
      expectSameData(await restoredDigest(dataDir), good);
    } finally {
      await h.app.close();
    }
  });

  it('an incremental snapshot deletes the key in the chain rather than keep an older value', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    try {
      // A full generation big enough that three small increments stay within the chain policy's share of it.
      await h.redis.mset({ a: '1', q: 'old', pad: 'p'.repeat(4096) });
      expect((await h.snapshots.snapshot()).kind).toBe('full');
      dataView(keyspace(h)).set('q', badHash());
      await h.redis.set('b', '2');
      const second = await h.snapshots.snapshot();
      expect(second).toMatchObject({ kind: 'incremental', unstorable: 1, records: 2 });
      const restored = (await restoredDigest(dataDir)).dump.filter(
        (line) => !line.startsWith('"pad"'),
      );
      expect(restored).toEqual(['"a" string "31"', '"b" string "32"']);

      // Left out again by each snapshot while it stays (nothing else changed)...
      const third = await h.snapshots.snapshot();
      expect(third).toMatchObject({ kind: 'incremental', unstorable: 1 });
      expect(third.unstorableKeys[0]?.key).toBe('q');

      // ...and stored once a command gives it a value Redis could hold.
      await h.redis.del('q');
      await h.redis.rpush('q', 'x', 'y');
      const fixed = await h.snapshots.snapshot();
      expect(fixed).toMatchObject({ kind: 'incremental', unstorable: 0, unstorableKeys: [] });
      expect(await metricValue(METRICS.unstorableKeys)).toBe(0);
      expectSameData(await restoredDigest(dataDir), await digest(h.redis));
    } finally {
      await h.app.close();
    }
  });

  it('a key whose expiry time is not a number is named, not dropped as expired', async () => {
    const dataDir = tempDir();
    const h = await bootWith(durable(dataDir, { snapshotOnShutdown: false }));
    try {
      await h.redis.set('kept', 'v');
      keyspace(h).replaceAll(
        new Map([
          ['kept', { value: 'v', expiresAt: undefined }],
          ['nan', { value: 'v', expiresAt: NaN }],
        ]),
      );
      const report = await h.snapshots.snapshot();
      expect(report.expired).toBe(0);
      expect(report.unstorable).toBe(1);
      expect(report.unstorableKeys).toEqual([
        { key: 'nan', message: 'key "nan": its expiry time is not a number' },
      ]);
      expect((await restoredDigest(dataDir)).dump).toEqual(['"kept" string "76"']);
    } finally {
      await h.app.close();
    }
  });
});
