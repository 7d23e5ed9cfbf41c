import { Entries } from './entries';
import { Entry } from './entry';

/** A key's entry with the given `use` and expiry time. */
function entryOf(value: string, use: number, expiresAt?: number): Entry {
  const entry = new Entry(value, expiresAt);
  entry.use = use;
  entry.bytes = 100;
  return entry;
}

/** Checks that every key of `entries.added` is at its entry's position, with its `use`, and counted once. */
function expectConsistent(entries: Entries, keys: Map<string, Entry>): void {
  expect(entries.addedCount).toBe(keys.size);
  expect(entries.added.size).toBe(keys.size);
  const seen = new Set<string>();
  for (let i = 0; i < entries.addedCount; i++) {
    const key = entries.addedKeyAt(i);
    const entry = entries.addedEntryAt(i);
    expect(keys.get(key)).toBe(entry);
    expect(entry.slot).toBe(i);
    expect(entries.addedUseAt(i)).toBe(entry.use);
    seen.add(key);
  }
  expect(seen.size).toBe(keys.size);
}

describe('Entries: the arrays keys are drawn from', () => {
  it('keeps every key at its position through removals, and through the copy that gives room back', () => {
    const entries = new Entries();
    const keys = new Map<string, Entry>();
    const now = 1_000_000;
    for (let i = 0; i < 5000; i++) {
      // Every third key has an expiry time, half of them passed.
      const expiresAt = i % 3 !== 0 ? undefined : i % 2 === 0 ? now - 1 : now + 60_000;
      const entry = entryOf(`v${i}`, i, expiresAt);
      entries.add(`k${i}`, entry);
      keys.set(`k${i}`, entry);
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
    for (const [, entry] of keys) entries.touch(entry, entry.use + 10_000);
    expectConsistent(entries, keys);
    const expired = [...keys.values()].filter(
      (e) => e.expiresAt !== undefined && e.expiresAt <= now,
    );
    expect(expired.length).toBeGreaterThan(0);
    expect(entries.liveCount(now)).toBe(keys.size - expired.length);
    expect(entries.volatileCount).toBe(
      [...keys.values()].filter((e) => e.expiresAt !== undefined).length,
    );
    // Keys added after the copy go on from there.
    for (let i = 5000; i < 5100; i++) {
      const entry = entryOf(`v${i}`, i);
      entries.add(`k${i}`, entry);
      keys.set(`k${i}`, entry);
    }
    expectConsistent(entries, keys);
  });

  it('draws only keys that are there, with their own use and expiry time', () => {
    const entries = new Entries();
    const keys = new Map<string, Entry>();
    for (let i = 0; i < 3000; i++) {
      const entry = entryOf(`v${i}`, i, 5_000_000 + i);
      entries.add(`k${i}`, entry);
      keys.set(`k${i}`, entry);
    }
    for (let i = 0; i < 3000; i += 2) {
      entries.delete(`k${i}`);
      keys.delete(`k${i}`);
    }
    let draws = 0;
    for (const volatileOnly of [false, true]) {
      entries.sample(volatileOnly, 2000, {
        readsUse: true,
        readsExpiry: true,
        wants: () => true,
        visit: (key, use, expiresAt, entry) => {
          draws++;
          const own = keys.get(key);
          expect(own).toBeDefined();
          expect(entry).toBe(own);
          expect(use).toBe(own?.use);
          expect(expiresAt).toBe(own?.expiresAt);
        },
      });
    }
    expect(draws).toBe(4000);
  });
});
