import type { KeyState } from '../format/records';
import { runAtOnce } from '../util/slices';
import { idleMs } from './eviction';
import { Keyspace, type CaptureVisitor } from './keyspace';
import { StreamValue } from '../format/stream-value';

/** One key of each kind of value ioredis-mock stores, and a few with an expiry time. */
function values(): [string, unknown][] {
  const stream = StreamValue.make(
    [
      ['1-1', ['field', 'value']],
      ['2-0', ['f', 'v2']],
    ],
    '2-0',
  );
  return [
    ['string', 'hello'],
    ['unicode ключ 🔑', 'значение ✓'],
    ['empty', ''],
    ['buffer', Buffer.from([0, 1, 2, 255])],
    ['hash', { a: '1', b: '2' }],
    ['list', ['x', 'y', 'x']],
    ['set', new Set(['m1', 'm2'])],
    [
      'zset',
      new Map([
        ['one', { score: 1, value: 'one' }],
        ['inf', { score: Infinity, value: 'inf' }],
      ]),
    ],
    ['stream', stream],
    ['large', 'v'.repeat(5000)],
  ];
}

function filledKeyspace(): Keyspace {
  const keyspace = new Keyspace();
  for (const [key, value] of values()) keyspace.set(key, value);
  keyspace.setExpiry('string', Date.now() + 60_000);
  keyspace.setExpiry('hash', Date.now() + 120_000);
  return keyspace;
}

/** Every key's value and expiry time, as the command rules read them. */
function contents(keyspace: Keyspace): Map<string, { value: unknown; expiresAt?: number }> {
  const out = new Map<string, { value: unknown; expiresAt?: number }>();
  for (const key of keyspace.liveKeys().sort()) {
    out.set(key, { value: keyspace.reader.valueOf(key), expiresAt: keyspace.reader.expiryOf(key) });
  }
  return out;
}

/** What a full capture reads, key by key. */
function captured(keyspace: Keyspace): Map<string, KeyState> {
  const out = new Map<string, KeyState>();
  const capture = keyspace.beginCapture(false);
  if (capture === undefined) throw new Error('no capture');
  const visitor: CaptureVisitor = {
    visit: (key, state) => out.set(key, { value: state.value, expiresAt: state.expiresAt }),
    visitDeleted: () => undefined,
  };
  runAtOnce(capture.read(visitor, 3));
  capture.close();
  return out;
}

describe('Keyspace.pack', () => {
  it('packs idle keys of every type into bytes that read back as the same values, expiry times and sizes', () => {
    const keyspace = filledKeyspace();
    const before = contents(keyspace);
    const bytesBefore = keyspace.usedBytes;

    expect(keyspace.packCandidates).toBe(values().length);
    expect(runAtOnce(keyspace.pack(0))).toBe(values().length);

    expect(keyspace.packCandidates).toBe(0);
    expect(keyspace.size).toBe(values().length);
    expect(keyspace.volatileCount).toBe(2);
    expect(keyspace.usedBytes).toBeLessThan(bytesBefore);
    expect(contents(keyspace)).toEqual(before);
    expect(keyspace.reader.valueOf('zset')).toBeInstanceOf(Map);
    expect(keyspace.reader.valueOf('stream')).toBeInstanceOf(StreamValue);
    expect(captured(keyspace)).toEqual(
      new Map([...before].map(([key, { value, expiresAt }]) => [key, { value, expiresAt }])),
    );
  });

  it('leaves keys used within the idle time, and packs them once they are idle long enough', () => {
    const keyspace = filledKeyspace();
    expect(runAtOnce(keyspace.pack(60_000))).toBe(0);
    expect(keyspace.packCandidates).toBe(values().length);

    keyspace.memory.policy = 'allkeys-lru';
    keyspace.reader.touch('list'); // used now: a 1 ms idle time leaves it
    for (const key of keyspace.liveKeys()) {
      if (key !== 'list')
        keyspace['entries'].touch(keyspace['entries'].get(key)!, Date.now() - 5000);
    }
    expect(runAtOnce(keyspace.pack(1000))).toBe(values().length - 1);
    expect(keyspace.packCandidates).toBe(1);
    expect(keyspace.reader.valueOf('list')).toEqual(['x', 'y', 'x']);
  });

  it('keeps the use (LRU, LFU) a packed key had, and a write makes it an object again', () => {
    const keyspace = new Keyspace();
    keyspace.setPolicy('allkeys-lru');
    keyspace.set('k', 'v');
    const use = keyspace.inspect('k')!.use;
    runAtOnce(keyspace.pack(0));
    expect(keyspace.inspect('k')!.use).toBe(use);

    keyspace.set('k', 'v2');
    expect(keyspace.packCandidates).toBe(1);
    expect(keyspace.reader.valueOf('k')).toBe('v2');
    expect(runAtOnce(keyspace.pack(0))).toBe(1); // a restored key built again is packed again
    expect(keyspace.reader.valueOf('k')).toBe('v2');
    expect(keyspace.size).toBe(1);

    keyspace.setPolicy('allkeys-lfu');
    keyspace.set('hot', 'v');
    for (let i = 0; i < 200; i++) keyspace.reader.touch('hot');
    const lfuUse = keyspace.inspect('hot')!.use;
    expect(lfuUse & 0xff).toBeGreaterThan(5); // the counter went up from its initial 5
    expect(runAtOnce(keyspace.pack(0))).toBe(1);
    expect(keyspace.inspect('hot')!.use).toBe(lfuUse);
  });

  it('packs a restored key built again into its own record: expiry changes, deletes and table stay right', () => {
    const keyspace = new Keyspace();
    for (let i = 0; i < 1000; i++) keyspace.set(`k${i}`, `v${i}`);
    runAtOnce(keyspace.pack(0));
    const restored = keyspace['entries'].restored;
    const records = restored.recordCount;
    for (let round = 0; round < 5; round++) {
      for (let i = round; i < 1000; i += 5) {
        if (i % 3 === 0) keyspace.set(`k${i}`, `w${round}`);
        else if (i % 3 === 1) keyspace.setExpiry(`k${i}`, Date.now() + 60_000 * (round + 1));
        else keyspace.setExpiry(`k${i}`, undefined);
      }
      expect(runAtOnce(keyspace.pack(0))).toBe(200);
      expect(restored.recordCount).toBe(records); // each its own record again: nothing grew
      expect(restored.builtCount).toBe(0);
    }
    keyspace.delete('k1');
    expect(keyspace.size).toBe(999);
    expect(keyspace.volatileCount).toBe(332); // k1, k4, …, k997 (333) got one; k1 is deleted
    expect(keyspace.reader.valueOf('k3')).toBe('w3');
    expect(keyspace.reader.expiryOf('k4')).toBeGreaterThan(Date.now() + 4 * 60_000);
    expect(keyspace.reader.expiryOf('k5')).toBeUndefined();
    expect(keyspace.has('k1')).toBe(false);
    expect(keyspace.liveKeys().length).toBe(999);
  });

  it('finds the few restored keys built again among many records without walking the records', () => {
    const keyspace = new Keyspace();
    for (let i = 0; i < 100_000; i++) keyspace.set(`k${i}`, `v${i}`);
    runAtOnce(keyspace.pack(0));
    const restored = keyspace['entries'].restored;
    for (const i of [5, 50_000, 99_999]) keyspace.set(`k${i}`, 'rewritten');
    expect(restored.builtCount).toBe(3);
    // A pass looks at the built ones alone: one step, not one per 4096 records (25 here).
    const pass = keyspace.pack(0);
    let steps = 0;
    let result = pass.next();
    for (; result.done !== true; result = pass.next()) steps++;
    expect(result.value).toBe(3);
    expect(steps).toBeLessThanOrEqual(3);
    expect(restored.builtCount).toBe(0);
    expect(keyspace.reader.valueOf('k50000')).toBe('rewritten');
    expect(keyspace.reader.valueOf('k50001')).toBe('v50001');
  });

  it('leaves the keys changed since the last capture began, for the next incremental capture to read', () => {
    const keyspace = filledKeyspace();
    captured(keyspace);
    keyspace.set('string', 'changed');
    keyspace.set('new', 'key');
    keyspace.delete('list');

    expect(runAtOnce(keyspace.pack(0))).toBe(values().length - 2);
    const capture = keyspace.beginCapture(true)!;
    const seen = new Map<string, unknown>();
    runAtOnce(
      capture.read(
        {
          visit: (key, state) => seen.set(key, state.value),
          visitDeleted: (key) => seen.set(key, null),
        },
        2,
      ),
    );
    capture.close();
    expect(seen).toEqual(
      new Map<string, unknown>([
        ['string', 'changed'],
        ['new', 'key'],
        ['list', null],
      ]),
    );
  });

  it('stops at its next step when a capture begins, and does not start while one is open', () => {
    const keyspace = new Keyspace();
    for (let i = 0; i < 20_000; i++) keyspace.set(`k${i}`, `v${i}`);
    const pass = keyspace.pack(0);
    while (keyspace.packCandidates === 20_000) expect(pass.next().done).toBe(false);
    const capture = keyspace.beginCapture(false)!;
    const packedBefore = 20_000 - keyspace.packCandidates;
    expect(packedBefore).toBeGreaterThan(0);
    expect(packedBefore).toBeLessThan(20_000);
    expect(runAtOnce(pass)).toBe(packedBefore);
    expect(runAtOnce(keyspace.pack(0))).toBe(0); // the capture is open

    const seen = new Map<string, unknown>();
    runAtOnce(
      capture.read(
        { visit: (key, s) => seen.set(key, s.value), visitDeleted: () => undefined },
        100,
      ),
    );
    capture.close();
    expect(seen.size).toBe(20_000);
    for (let i = 0; i < 20_000; i += 997) expect(seen.get(`k${i}`)).toBe(`v${i}`);
    expect(runAtOnce(keyspace.pack(0))).toBe(20_000 - packedBefore);
  });

  it("gives way to a full snapshot's adoption, and does not start until it is closed", () => {
    const keyspace = new Keyspace();
    for (let i = 0; i < 20_000; i++) keyspace.set(`k${i}`, `v${i}`);
    const full = keyspace.beginCapture(false)!;
    runAtOnce(full.read({ visit: () => undefined, visitDeleted: () => undefined }, 1000));
    full.close();
    const pass = keyspace.pack(0);
    while (keyspace.packCandidates === 20_000) pass.next();
    const adoption = keyspace.adopt(full.id);
    expect(adoption).toBeDefined();
    const packed = 20_000 - keyspace.packCandidates;
    expect(runAtOnce(pass)).toBe(packed); // stopped at its next step
    expect(runAtOnce(keyspace.pack(0))).toBe(0);
    adoption!.close();
    expect(runAtOnce(keyspace.pack(0))).toBe(20_000 - packed);
    expect(keyspace.reader.valueOf('k19999')).toBe('v19999');
  });

  it('stops when the keyspace is flushed or replaced meanwhile', () => {
    const keyspace = new Keyspace();
    for (let i = 0; i < 20_000; i++) keyspace.set(`k${i}`, `v${i}`);
    const pass = keyspace.pack(0);
    pass.next();
    keyspace.clear();
    keyspace.set('after', 'flush');
    runAtOnce(pass);
    expect(keyspace.size).toBe(1);
    expect(keyspace.packCandidates).toBe(1);
    expect(keyspace.reader.valueOf('after')).toBe('flush');
  });

  it('keeps every key exactly once while commands add, change and delete keys between its steps', () => {
    const keyspace = new Keyspace();
    const expected = new Map<string, string>();
    const set = (key: string, value: string): void => {
      keyspace.set(key, value);
      expected.set(key, value);
    };
    for (let i = 0; i < 30_000; i++) set(`k${i}`, `v${i}`);
    let step = 0;
    for (const _ of keyspace.pack(0)) {
      step++;
      for (let j = 0; j < 50; j++) {
        const n = (step * 7919 + j * 104_729) % 30_000;
        if (j % 3 === 0) {
          keyspace.delete(`k${n}`);
          expected.delete(`k${n}`);
        } else if (j % 3 === 1) set(`k${n}`, `w${step}`);
        else set(`new${step}-${j}`, 'fresh');
      }
    }
    expect(step).toBeGreaterThan(10);
    expect(keyspace.size).toBe(expected.size);
    expect(new Set(keyspace.liveKeys())).toEqual(new Set(expected.keys()));
    const wrong = [...expected].filter(([key, value]) => keyspace.reader.valueOf(key) !== value);
    expect(wrong).toEqual([]);
    expect(captured(keyspace)).toEqual(
      new Map([...expected].map(([key, value]) => [key, { value, expiresAt: undefined }])),
    );
  });

  it('leaves a value that cannot be encoded as it is', () => {
    const keyspace = new Keyspace();
    keyspace.set('ok', 'fine');
    keyspace.set('odd', { when: new Date(0) });
    expect(runAtOnce(keyspace.pack(0))).toBe(1);
    expect(keyspace.packCandidates).toBe(1);
    expect(keyspace.valueOf('odd')).toEqual({ when: new Date(0) });
  });
});

describe('idleMs', () => {
  const now = Date.UTC(2026, 0, 1, 12, 30, 20); // 20 s into a minute
  it('is the time since the last use under LRU and the other non-LFU policies', () => {
    expect(idleMs(now - 1234, 'allkeys-lru', now)).toBe(1234);
    expect(idleMs(now - 1234, 'noeviction', now)).toBe(1234);
  });

  it('counts from the end of the minute of the last use under LFU', () => {
    const minute = Math.floor(now / 60_000) & 0xffff;
    const use = (minutesAgo: number) => (((minute - minutesAgo) & 0xffff) << 8) | 5;
    expect(idleMs(use(0), 'allkeys-lfu', now)).toBe(0);
    expect(idleMs(use(1), 'allkeys-lfu', now)).toBe(20_000);
    expect(idleMs(use(3), 'volatile-lfu', now)).toBe(2 * 60_000 + 20_000);
  });
});
