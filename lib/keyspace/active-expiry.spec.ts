import { performance } from 'node:perf_hooks';
import { dataView, expiresView } from '../ioredis-mock/views';
import { addGeneration, heldBytes } from '../../test/support/keyspace-states';
import { expireCycle, KEYS_PER_SAMPLE } from './active-expiry';
import { Keyspace } from './keyspace';
import { RestoredStates } from './restored-states';

/** Runs one cycle to its end, with a generous time budget. */
function cycle(keyspace: Keyspace): { checked: number; expired: number } {
  const steps = expireCycle(keyspace, performance.now() + 10_000);
  for (;;) {
    const step = steps.next();
    if (step.done === true) return step.value;
  }
}

/** A keyspace with `n` keys created by commands, expiring at `expiresAt` (none when undefined). */
function withKeys(keyspace: Keyspace, prefix: string, n: number, expiresAt?: number): void {
  const data = dataView(keyspace);
  const expires = expiresView(keyspace);
  for (let i = 0; i < n; i++) {
    data.set(`${prefix}${i}`, `v${i}`);
    if (expiresAt !== undefined) expires.set(`${prefix}${i}`, expiresAt);
  }
}

describe('active expiry', () => {
  it('deletes expired keys nobody touches, and only those', () => {
    const keyspace = new Keyspace();
    withKeys(keyspace, 'gone:', 1_000, Date.now() - 1);
    withKeys(keyspace, 'later:', 100, Date.now() + 60_000);
    withKeys(keyspace, 'kept:', 100);
    expect(keyspace.size).toBe(1_200);
    // A cycle goes on while a sample finds many expired keys: the first one takes most of them.
    expect(cycle(keyspace).expired).toBeGreaterThan(800);
    for (let i = 0; i < 100 && keyspace.size > 200; i++) cycle(keyspace);
    expect(keyspace.size).toBe(200);
    expect(keyspace.expiredKeys).toBe(1_000);
    expect(keyspace.liveKeys('later:')).toHaveLength(100);
    expect(keyspace.liveKeys('kept:')).toHaveLength(100);
  });

  it('stops a cycle once a sample finds few expired keys, and finds the rest in later cycles', () => {
    const keyspace = new Keyspace();
    withKeys(keyspace, 'later:', 10 * KEYS_PER_SAMPLE, Date.now() + 60_000);
    withKeys(keyspace, 'gone:', 10, Date.now() - 1);
    // Before any has expired, a cycle ends after its first sample: none of it had expired.
    const none = new Keyspace();
    withKeys(none, 'later:', 10 * KEYS_PER_SAMPLE, Date.now() + 60_000);
    expect(cycle(none)).toEqual({ checked: KEYS_PER_SAMPLE, expired: 0, timedOut: false });
    // About 5% have expired: a cycle rarely goes on after its first sample, and later cycles find the rest.
    cycle(keyspace);
    let cycles = 1;
    while (keyspace.size > 10 * KEYS_PER_SAMPLE && cycles < 1_000) {
      cycle(keyspace);
      cycles++;
    }
    expect(keyspace.size).toBe(10 * KEYS_PER_SAMPLE);
    expect(keyspace.expiredKeys).toBe(10);
    expect(keyspace.liveKeys('later:')).toHaveLength(10 * KEYS_PER_SAMPLE);
  });

  it('deletes restored keys still kept as bytes, and lets their chunk go', () => {
    const keyspace = new Keyspace();
    const states = new RestoredStates();
    const past = Date.now() - 1;
    addGeneration(
      states,
      Array.from({ length: 500 }, (_, i): [string, unknown] => [`r${i}`, `value ${i}`]),
      { expiresAt: past },
    );
    addGeneration(states, [['persistent', 'stays']]);
    keyspace.replaceAll(states);
    const held = heldBytes(states);
    expect(keyspace.size).toBe(501);
    let expired = 0;
    for (let i = 0; i < 100 && keyspace.size > 1; i++) expired += cycle(keyspace).expired;
    expect(expired).toBe(500);
    expect(keyspace.liveKeys()).toEqual(['persistent']);
    // The first chunk's records are all gone: only the last chunk (the one holding `persistent`) is held.
    expect(heldBytes(states)).toBeLessThan(held);
  });

  it('follows expiry times changed by commands, on created and on restored keys', () => {
    const keyspace = new Keyspace();
    const states = new RestoredStates();
    addGeneration(states, [['restored', 'v']], { expiresAt: Date.now() + 60_000 });
    keyspace.replaceAll(states);
    withKeys(keyspace, 'created', 1, Date.now() + 60_000);
    const expires = expiresView(keyspace);
    expires.set('restored', Date.now() - 1);
    expires.set('created0', Date.now() - 1);
    withKeys(keyspace, 'persisted', 1, Date.now() - 1);
    expires.delete('persisted0'); // PERSIST: no longer volatile
    cycle(keyspace);
    cycle(keyspace);
    expect(keyspace.liveKeys()).toEqual(['persisted0']);
  });

  it('removes what a lazy expiry would: WATCH hears it, and the next incremental capture reads a deletion', () => {
    const keyspace = new Keyspace();
    withKeys(keyspace, 'k', 3, Date.now() + 60_000);
    keyspace.beginCapture(false)?.close();
    const written: string[] = [];
    keyspace.onKeyWritten((key) => written.push(key));
    expiresView(keyspace).set('k1', Date.now() - 1);
    expect(written).toEqual(['k1']); // a TTL set is a change WATCH hears
    written.length = 0;
    cycle(keyspace);
    expect(written).toEqual(['k1']);
    const capture = keyspace.beginCapture(true);
    const deleted: string[] = [];
    for (const _ of capture?.read(
      { visit: () => undefined, visitDeleted: (key) => deleted.push(key) },
      8,
    ) ?? []) {
      // reads in steps
    }
    capture?.close();
    expect(deleted).toEqual(['k1']);
  });

  it('counts lazy expiries too, but not a deleted expiry time on a key without a value', () => {
    const keyspace = new Keyspace();
    withKeys(keyspace, 'k', 2, Date.now() - 1);
    const data = dataView(keyspace);
    expect(data.get('k0')).toBeUndefined(); // GET expires it
    expect(keyspace.reader.valueOf('k1')).toBeUndefined(); // as does a command rule's look
    expiresView(keyspace).set('orphan', Date.now() - 1);
    expect(data.has('orphan')).toBe(false);
    expect(keyspace.expiredKeys).toBe(2);
  });
});

describe('expiry on writes, while active expiry is behind', () => {
  it('makes each write that may add memory remove what a small sample finds expired, and only then', () => {
    const keyspace = new Keyspace();
    withKeys(keyspace, 'gone:', 1_000, Date.now() - 1);
    withKeys(keyspace, 'later:', 1_000, Date.now() + 60_000);
    withKeys(keyspace, 'kept:', 1_000);
    for (let i = 0; i < 200; i++) expect(keyspace.admitWrite(0.5)).toBe(true);
    expect(keyspace.expiredKeys).toBe(0); // not behind: writes leave expiry to the cycles

    keyspace.expiryBehind = true;
    for (let i = 0; i < 200; i++) expect(keyspace.admitWrite(0.5)).toBe(true);
    // 4 draws a write among the 2,000 keys with an expiry time, half of them expired at first: about 330 removed.
    expect(keyspace.expiredKeys).toBeGreaterThan(200);
    expect(keyspace.expiredKeys).toBeLessThan(480);
    expect(keyspace.size).toBe(3_000 - keyspace.expiredKeys);
    expect(keyspace.liveKeys('later:')).toHaveLength(1_000);
    expect(keyspace.liveKeys('kept:')).toHaveLength(1_000);
    expect(keyspace.expiringOnWritesMs).toBeGreaterThan(0);
  });

  it('keeps expired keys from piling up when writes add short-lived keys faster than cycles run', () => {
    const keyspace = new Keyspace();
    keyspace.expiryBehind = true;
    const data = dataView(keyspace);
    const expires = expiresView(keyspace);
    const past = Date.now() - 1;
    // No cycle runs: 20,000 writes, each adding a key that has already expired by the next one.
    for (let i = 0; i < 20_000; i++) {
      keyspace.admitWrite(0.5);
      data.set(`s${i}`, 'v');
      expires.set(`s${i}`, past);
    }
    // Each write removes 4 × (expired share) keys: the keys held settle where that is one, a few at most.
    expect(keyspace.size).toBeLessThan(20);
    expect(keyspace.expiredKeys).toBe(20_000 - keyspace.size);
  });
});
