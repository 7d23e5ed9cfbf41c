import { addGeneration, chunkOf } from '../../test/support/keyspace-states';
import { prng } from '../../test/support/prng';
import { runAtOnce } from '../util/slices';
import { Keyspace } from './keyspace';
import { RestoredStates } from './restored-states';

/**
 * SCAN over the keyspace (`Keyspace.scan`): Redis's guarantee (a key present for the whole walk is returned), pages
 * of about COUNT keys, and no walk over every key per call. DBSIZE's count and KEYS's list, which build no entry.
 */

/** A keyspace of `restored` keys restored from a snapshot (`r:<n>`) and `added` keys written since (`a:<n>`). */
function keyspaceOf(
  restored: number,
  added: number,
): { keyspace: Keyspace; states: RestoredStates } {
  const states = new RestoredStates();
  const records = Array.from({ length: restored }, (_, i): [string, unknown] => [
    `r:${i}`,
    `v${i}`,
  ]);
  for (let at = 0; at < records.length; at += 1000)
    addGeneration(states, records.slice(at, at + 1000));
  const keyspace = new Keyspace();
  keyspace.replaceAll(states);
  for (let i = 0; i < added; i++) keyspace.set(`a:${i}`, `v${i}`);
  return { keyspace, states };
}

/** Every page of a walk from cursor 0, calling `between` after each call. */
function walk(
  keyspace: Keyspace,
  count: number,
  between: (call: number) => void = () => undefined,
): string[][] {
  const pages: string[][] = [];
  let cursor = 0;
  do {
    const page = keyspace.scan(cursor, count);
    pages.push(page.keys);
    cursor = page.cursor;
    between(pages.length);
    if (pages.length > 1_000_000) throw new Error('the walk does not end');
  } while (cursor !== 0);
  return pages;
}

describe('SCAN over the keyspace', () => {
  it('returns every key once in pages of about COUNT when nothing changes', () => {
    const { keyspace, states } = keyspaceOf(30_000, 50_000);
    for (let i = 0; i < 100; i++) keyspace.valueOf(`r:${i * 7}`); // some restored keys built
    expect(states.builtCount).toBe(100);
    const pages = walk(keyspace, 100);
    const all = pages.flat();
    expect(all).toHaveLength(80_000);
    expect(new Set(all).size).toBe(80_000);
    expect(new Set(all)).toEqual(new Set(keyspace.liveKeys()));
    // A page holds at least a part of a shard and at most a few: about COUNT, never the whole keyspace.
    const sizes = pages.map((p) => p.length);
    expect(Math.max(...sizes)).toBeLessThan(400);
    expect(pages.length).toBeGreaterThan(80_000 / 400);
    expect(pages.length).toBeLessThan((3 * 80_000) / 100);
  });

  it('answers a small keyspace in one call, and an empty one with cursor 0', () => {
    const { keyspace } = keyspaceOf(5, 5);
    const page = keyspace.scan(0, 10);
    expect(page.cursor).toBe(0);
    expect(page.keys.sort()).toEqual([
      'a:0',
      'a:1',
      'a:2',
      'a:3',
      'a:4',
      'r:0',
      'r:1',
      'r:2',
      'r:3',
      'r:4',
    ]);
    expect(new Keyspace().scan(0, 10)).toEqual({ cursor: 0, keys: [] });
  });

  it('returns every key present for the whole walk while keys are deleted, written, built and packed', () => {
    for (const seed of [1, 2, 3]) {
      const random = prng(seed);
      const { keyspace } = keyspaceOf(5_000, 5_000);
      const everPresent = new Set(keyspace.liveKeys());
      const deleted = new Set<string>();
      let next = 0;
      const pages = walk(keyspace, 50, (call) => {
        for (let i = 0; i < 20; i++) {
          const victim = `${random() < 0.5 ? 'r' : 'a'}:${Math.floor(random() * 5_000)}`;
          keyspace.delete(victim);
          deleted.add(victim);
          const fresh = `n:${next++}`;
          keyspace.set(fresh, 'new');
          everPresent.add(fresh);
          const kept = `${random() < 0.5 ? 'r' : 'a'}:${Math.floor(random() * 5_000)}`;
          if (!deleted.has(kept)) keyspace.set(kept, `rewritten ${call}`); // a restored key is built
        }
        // Idle keys written since startup become restored records mid-walk.
        if (call % 10 === 0) runAtOnce(keyspace.pack(0));
      });
      const returned = new Set(pages.flat());
      for (const key of everPresent) {
        if (!deleted.has(key) && !key.startsWith('n:')) expect(returned.has(key)).toBe(true);
      }
      for (const key of returned) expect(everPresent.has(key)).toBe(true);
    }
  });

  it('keeps a restored key in its record when a snapshot adopts it', () => {
    const { keyspace, states } = keyspaceOf(2_000, 0);
    keyspace.set('r:1500', 'changed');
    const entries = keyspace['entries'];
    const entry = entries.get('r:1500');
    const before = states.recordOf('r:1500');
    const records = states.recordCount;
    const { chunk, spans } = chunkOf([['r:1500', 'changed']]);
    const [s] = spans;
    if (entry === undefined) throw new Error('no entry');
    entries.adopt('r:1500', entry, chunk, s.keyStart, s.keyEnd, s.valueStart, s.valueEnd);
    expect(states.recordOf('r:1500')).toBe(before);
    expect(states.recordCount).toBe(records);
    expect(states.builtCount).toBe(0);
    expect(keyspace.valueOf('r:1500')).toBe('changed');
  });

  it('leaves out keys whose TTL ran out before anything removed them, and deletes them as Redis does', () => {
    const { keyspace, states } = keyspaceOf(100, 100);
    // Restored records whose expiry time has passed, never built.
    addGeneration(
      states,
      Array.from({ length: 5 }, (_, i): [string, unknown] => [`old:${i}`, 'v']),
      { expiresAt: Date.now() - 1 },
    );
    const past = Date.now() - 1;
    for (let i = 0; i < 10; i++) keyspace.setExpiry(`a:${i}`, past);
    for (let i = 0; i < 10; i++) keyspace.setExpiry(`r:${i}`, past);
    const removed: string[] = [];
    keyspace.onKeyRemoved((key, why) => removed.push(`${why} ${key}`));
    const returned = walk(keyspace, 10).flat();
    expect(returned).toHaveLength(180);
    expect(returned.filter((key) => /^([ar]:\d|old:.*)$/.test(key))).toEqual([]);
    // Each expired key the walk met is gone: counted, announced, no longer held.
    expect(keyspace.expiredKeys).toBe(25);
    expect(removed).toHaveLength(25);
    expect(removed.every((r) => r.startsWith('expired '))).toBe(true);
    for (const key of ['a:3', 'r:3', 'old:3']) expect(keyspace.has(key)).toBe(false);
    expect(keyspace.size).toBe(180);
  });

  it('deletes only the expired keys its MATCH takes, as Redis filters by pattern first', () => {
    const { keyspace } = keyspaceOf(0, 20);
    for (let i = 0; i < 10; i++) keyspace.setExpiry(`a:${i}`, Date.now() - 1);
    const page = keyspace.scan(0, 100, (key) => key.endsWith('1'));
    expect(page.keys.sort()).toEqual(Array.from({ length: 10 }, (_, i) => `a:${i + 10}`).sort());
    expect(keyspace.has('a:1')).toBe(false);
    expect(keyspace.has('a:2')).toBe(true); // expired, not matched: left to a later look-up
    expect(keyspace.expiredKeys).toBe(1);
  });
});

describe('RANDOMKEY over the keyspace', () => {
  it('draws restored keys and new ones alike, never an expired one, without listing the keys', () => {
    const { keyspace, states } = keyspaceOf(1_000, 1_000);
    const past = Date.now() - 1;
    for (let i = 0; i < 500; i++) keyspace.setExpiry(`a:${i}`, past);
    for (let i = 0; i < 500; i++) keyspace.setExpiry(`r:${i}`, past); // built, with an expiry time that ran out
    const drawn = new Map<string, number>();
    let restoredRemoved = 0;
    keyspace.onKeyRemoved((key) => (restoredRemoved += key.startsWith('r:') ? 1 : 0));
    for (let i = 0; i < 2_000; i++) {
      const key = keyspace.randomKey() as string;
      drawn.set(key, (drawn.get(key) ?? 0) + 1);
    }
    expect([...drawn.keys()].filter((key) => Number(key.slice(2)) < 500)).toEqual([]);
    // The expired keys drawn were deleted, as Redis's `dbRandomKey` deletes them.
    expect(keyspace.expiredKeys).toBeGreaterThan(100);
    expect(keyspace.size).toBe(2_000 - keyspace.expiredKeys);
    const restored = [...drawn]
      .filter(([key]) => key.startsWith('r:'))
      .reduce((n, [, c]) => n + c, 0);
    expect(restored).toBeGreaterThan(600); // half the live keys are restored ones
    expect(restored).toBeLessThan(1_400);
    expect(drawn.size).toBeGreaterThan(600); // spread over the 1,000 live keys
    // Only those given an expiry time were built, and those deleted are gone.
    expect(states.builtCount).toBe(500 - restoredRemoved);
  });

  it('answers undefined for an empty keyspace, and finds the one live key among expired ones', () => {
    expect(new Keyspace().randomKey()).toBeUndefined();
    const { keyspace } = keyspaceOf(0, 5_000);
    for (let i = 1; i < 5_000; i++) keyspace.setExpiry(`a:${i}`, Date.now() - 1);
    expect(keyspace.randomKey()).toBe('a:0');
    keyspace.setExpiry('a:0', Date.now() - 1);
    expect(keyspace.randomKey()).toBeUndefined();
    expect(keyspace.size).toBe(0); // each drawn and deleted, as Redis does until none is left
    expect(keyspace.expiredKeys).toBe(5_000);
  });
});

describe('DBSIZE and KEYS over the keyspace', () => {
  it('counts the keys not expired, over every way a key holds its expiry time', () => {
    const states = new RestoredStates();
    const past = Date.now() - 1;
    const future = Date.now() + 60_000;
    addGeneration(
      states,
      [
        ['r:past:1', 'x'],
        ['r:past:2', 'x'],
        ['r:past:built', 'x'],
        ['r:past:persisted', 'x'],
      ],
      {
        expiresAt: past,
      },
    );
    addGeneration(
      states,
      [
        ['r:future', 'x'],
        ['r:future:expired', 'x'],
      ],
      { expiresAt: future },
    );
    addGeneration(states, [
      ['r:none', 'x'],
      ['r:none:expired', 'x'],
    ]);
    const keyspace = new Keyspace();
    keyspace.replaceAll(states);
    for (const [key, at] of [
      ['a:past', past],
      ['a:future', future],
      ['a:none', undefined],
    ] as const) {
      keyspace.set(key, 'x');
      if (at !== undefined) keyspace.setExpiry(key, at);
    }
    keyspace.reader.valueOf('r:none'); // built, keeps no expiry time
    keyspace.valueOf('r:past:built'); // built with its record's expiry time, which has passed
    keyspace.setExpiry('r:past:persisted', undefined); // PERSIST on a key whose record had one
    keyspace.setExpiry('r:future:expired', past); // a new time on a restored key
    keyspace.setExpiry('r:none:expired', past);
    expect(keyspace.size).toBe(11);
    const live = keyspace.liveKeys().sort();
    expect(live).toEqual(['a:future', 'a:none', 'r:future', 'r:none', 'r:past:persisted']);
    expect(keyspace.liveCount).toBe(live.length);
    // Each key with an expiry time counted once (INFO's `expires`), built or not: 3 restored records still bytes
    // (r:past:1, r:past:2, r:future), 2 added keys, 3 built restored keys (r:past:built, r:future:expired,
    // r:none:expired); r:past:persisted has none any more.
    expect(keyspace.volatileCount).toBe(8);
  });

  it('lists and counts restored keys without building their entries', () => {
    const { keyspace, states } = keyspaceOf(3_000, 10);
    expect(keyspace.liveCount).toBe(3_010);
    expect(keyspace.liveKeys('r:1')).toHaveLength(1_111);
    expect(walk(keyspace, 100).flat()).toHaveLength(3_010);
    expect(states.builtCount).toBe(0);
  });
});
