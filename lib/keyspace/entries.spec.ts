import { Entries } from './entries';
import { Entry } from './entry';

/** A key as the test expects it: its entry, and the `use` it was last given. */
interface Held {
  entry: Entry;
  use: number;
}

/** Adds `key` to `entries` and to `keys`, with the given `use` and expiry time. */
function addKey(
  entries: Entries,
  keys: Map<string, Held>,
  key: string,
  use: number,
  expiresAt?: number,
): void {
  const entry = new Entry(`value of ${key}`, expiresAt);
  entry.bytes = 100;
  entries.add(key, entry, use);
  keys.set(key, { entry, use });
}

/**
 * Checks that every key of `entries.added` is at its entry's position, with its `use`, and counted once: those
 * without an expiry time first (`slot` their position), then those with one (`slot` -2 - their position among them).
 */
function expectConsistent(entries: Entries, keys: Map<string, Held>): void {
  expect(entries.addedCount).toBe(keys.size);
  expect(entries.added.size).toBe(keys.size);
  const persistent = [...keys.values()].filter(({ entry }) => entry.expiresAt === undefined);
  const seen = new Set<string>();
  for (let i = 0; i < entries.addedCount; i++) {
    const key = entries.addedKeyAt(i);
    const entry = entries.addedEntryAt(i);
    expect(keys.get(key)?.entry).toBe(entry);
    expect(entry.expiresAt === undefined).toBe(i < persistent.length);
    expect(entry.slot).toBe(i < persistent.length ? i : -2 - (i - persistent.length));
    expect(entries.addedUseAt(i)).toBe(keys.get(key)?.use);
    expect(entries.useOf(entry)).toBe(keys.get(key)?.use);
    seen.add(key);
  }
  expect(seen.size).toBe(keys.size);
}

describe('Entries: the arrays keys are drawn from', () => {
  it('keeps every key at its position through removals, and through the copy that gives room back', () => {
    const entries = new Entries();
    const keys = new Map<string, Held>();
    const now = 1_000_000;
    for (let i = 0; i < 5000; i++) {
      // Every third key has an expiry time, half of them passed.
      const expiresAt = i % 3 !== 0 ? undefined : i % 2 === 0 ? now - 1 : now + 60_000;
      addKey(entries, keys, `k${i}`, i, expiresAt);
    }
    expectConsistent(entries, keys);
    // Remove 4,200 keys in a scattered order: below a quarter of the peak, the arrays are copied to their length.
    const order = [...keys.keys()].sort(
      (a, b) =>
        ((a.length * 7919 + a.charCodeAt(1)) % 13) - ((b.length * 7919 + b.charCodeAt(1)) % 13),
    );
    for (const key of order.slice(0, 4200)) {
      expect(entries.delete(key)).toBe(true);
      keys.delete(key);
    }
    expectConsistent(entries, keys);
    // The uses and expiry times moved with their keys: touches land on the right key, expired ones are counted.
    for (const held of keys.values()) {
      held.use += 10_000;
      entries.touch(held.entry, held.use);
    }
    expectConsistent(entries, keys);
    const expired = [...keys.values()].filter(
      ({ entry }) => entry.expiresAt !== undefined && entry.expiresAt <= now,
    );
    expect(expired.length).toBeGreaterThan(0);
    expect(entries.liveCount(now)).toBe(keys.size - expired.length);
    expect(entries.volatileCount).toBe(
      [...keys.values()].filter(({ entry }) => entry.expiresAt !== undefined).length,
    );
    // Keys added after the copy go on from there.
    for (let i = 5000; i < 5100; i++) addKey(entries, keys, `k${i}`, i);
    expectConsistent(entries, keys);
    // A key given an expiry time, or losing its own, moves to the other set with its use; one given another stays.
    let moved = 0;
    for (const [key, held] of keys) {
      const { entry } = held;
      if (moved++ % 4 !== 0) continue;
      const before = entry.expiresAt;
      entry.expiresAt =
        before === undefined ? now + moved : moved % 8 === 1 ? undefined : before + 1;
      entries.expiryChanged(key, entry);
    }
    expectConsistent(entries, keys);
    expect(entries.volatileCount).toBe(
      [...keys.values()].filter(({ entry }) => entry.expiresAt !== undefined).length,
    );
    expect(entries.liveCount(now)).toBe(
      [...keys.values()].filter(
        ({ entry }) => entry.expiresAt === undefined || entry.expiresAt > now,
      ).length,
    );
  });

  it('draws only keys that are there, with their own use and expiry time, from both sets alike', () => {
    const entries = new Entries();
    const keys = new Map<string, Held>();
    // Half the keys that stay (odd ones) have an expiry time.
    for (let i = 0; i < 4000; i++)
      addKey(entries, keys, `k${i}`, i, i % 4 === 1 ? undefined : 5_000_000 + i);
    for (let i = 0; i < 4000; i += 2) {
      entries.delete(`k${i}`);
      keys.delete(`k${i}`);
    }
    for (const volatileOnly of [false, true]) {
      let draws = 0;
      let volatileDraws = 0;
      entries.sample(volatileOnly, 4000, {
        readsUse: true,
        readsExpiry: true,
        wants: () => true,
        visit: (key, use, expiresAt, entry) => {
          draws++;
          if (expiresAt !== undefined) volatileDraws++;
          const own = keys.get(key);
          expect(own).toBeDefined();
          expect(entry).toBe(own?.entry);
          expect(use).toBe(own?.use);
          expect(expiresAt).toBe(own?.entry.expiresAt);
        },
      });
      expect(draws).toBe(4000);
      // Of the 2,000 keys left, 1,000 have an expiry time: about half the draws of all keys (σ ≈ 32) are theirs.
      const expected = volatileOnly ? 4000 : 2000;
      expect(Math.abs(volatileDraws - expected)).toBeLessThan(volatileOnly ? 1 : 200);
    }
  });

  it('draws runs of neighbours for eviction: every key reachable, both sets in proportion', () => {
    const entries = new Entries();
    const keys = new Map<string, Held>();
    // 300 keys without an expiry time, 100 with one.
    for (let i = 0; i < 400; i++)
      addKey(entries, keys, `k${i}`, i, i % 4 === 3 ? 9_000_000 + i : undefined);
    for (const volatileOnly of [false, true]) {
      const seen = new Map<string, number>();
      let volatileRuns = 0;
      for (let run = 0; run < 2000; run++) {
        const drawn: string[] = [];
        entries.sampleRun(volatileOnly, 5, {
          readsUse: true,
          readsExpiry: true,
          wants: () => true,
          visit: (key, use, expiresAt, entry) => {
            const own = keys.get(key);
            expect(entry).toBe(own?.entry);
            expect(use).toBe(own?.use);
            expect(expiresAt).toBe(own?.entry.expiresAt);
            drawn.push(key);
            seen.set(key, (seen.get(key) ?? 0) + 1);
          },
        });
        // Five distinct keys, all from one set: neighbours in it, wrapping around its end.
        expect(new Set(drawn).size).toBe(5);
        const withExpiry = drawn.filter((key) => keys.get(key)?.entry.expiresAt !== undefined);
        expect([0, 5]).toContain(withExpiry.length);
        if (withExpiry.length === 5) volatileRuns++;
      }
      // Every key of the set drawn from is reached (each run starts at a random one of them).
      expect(seen.size).toBe(volatileOnly ? 100 : 400);
      // A quarter of the keys have an expiry time: about a quarter of the runs over all keys (σ ≈ 19) are theirs.
      expect(Math.abs(volatileRuns - (volatileOnly ? 2000 : 500))).toBeLessThan(
        volatileOnly ? 1 : 100,
      );
    }
  });
});
