import { isDeepStrictEqual } from 'node:util';
import { BufferReader, BufferWriter, encodeValue } from '../format/codec';
import type { EncodedRecord, KeyState } from '../format/records';
import { Keyspace } from './keyspace';
import { RestoredStates } from './restored-states';
import { runAtOnce } from '../util/slices';
import { dataView, expiresView } from '../ioredis-mock/views';
import {
  addGeneration,
  chunkOf,
  heldBytes,
  storedStates,
} from '../../test/support/keyspace-states';

const values = (states: Iterable<[string, KeyState]>): Map<string, unknown> =>
  new Map([...states].map(([key, state]) => [key, state.value]));

describe('RestoredStates', () => {
  it('applies a chain of generations: later records replace earlier ones, tombstones remove keys', () => {
    const states = new RestoredStates();
    addGeneration(states, [
      ['a', '1'],
      ['b', '2'],
      ['c', '3'],
    ]);
    addGeneration(states, [['b', 'two']], { deleted: ['c', 'never-there'] });
    addGeneration(states, [['c', 'back']]);
    expect(states.size).toBe(3);
    expect(values(states)).toEqual(
      new Map([
        ['a', '1'],
        ['b', 'two'],
        ['c', 'back'],
      ]),
    );
    expect(states.has('c')).toBe(true);
    expect(states.has('never-there')).toBe(false);
  });

  it('finds keys of every encoding: ASCII, UTF-8, lone surrogates (UTF-16), empty and long', () => {
    const keys = ['plain', 'clé', '日本語キー', '\ud800lone', '', 'x'.repeat(1500), 'k\u0000nul'];
    const states = new RestoredStates();
    addGeneration(
      states,
      keys.map((k, i) => [k, i]),
    );
    for (const [i, key] of keys.entries()) {
      expect(states.has(key)).toBe(true);
      expect(states.entry(key)?.value).toBe(i);
    }
    expect(states.has('clé ')).toBe(false);
    expect(states.has('\ud801lone')).toBe(false);
    expect([...states].map(([key]) => key)).toEqual(keys);
  });

  it('grows past any reserve and still finds every key (10,000 keys, in 100 chunks)', () => {
    const states = new RestoredStates();
    runAtOnce(states.reserve(10));
    for (let c = 0; c < 100; c++) {
      addGeneration(
        states,
        Array.from({ length: 100 }, (_, i): [string, unknown] => [
          `key:${c * 100 + i}`,
          c * 100 + i,
        ]),
      );
    }
    expect(states.size).toBe(10_000);
    for (let i = 0; i < 10_000; i += 7) expect(states.entry(`key:${i}`)?.value).toBe(i);
    expect(states.has('key:10000')).toBe(false);
  });

  it('reserves room for a million records in small steps, and uses it', () => {
    const states = new RestoredStates();
    const steps = states.reserve(1_000_000);
    let count = 0;
    while (steps.next().done !== true) count++;
    // Eleven steps for the columns, then the table of 2M slots (8 MB) zeroed 128 KiB a step: 64 steps. In one step,
    // a zeroed table took 37 ms on a machine whose allocator reused freed memory.
    expect(count).toBeGreaterThanOrEqual(11 + 64);
    addGeneration(
      states,
      Array.from({ length: 1000 }, (_, i): [string, unknown] => [`key:${i}`, `value ${i}`]),
    );
    expect(states.size).toBe(1000);
    for (let i = 0; i < 1000; i += 37) expect(states.entry(`key:${i}`)?.value).toBe(`value ${i}`);
    expect(states.has('key:1000')).toBe(false);
  });

  it('grows its columns in steps while keys change, and the listed records keep their places', () => {
    const states = new RestoredStates();
    const at = Date.now() + 60_000;
    addGeneration(
      states,
      Array.from({ length: 3000 }, (_, i): [string, unknown] => [`plain:${i}`, i]),
    );
    addGeneration(
      states,
      Array.from({ length: 1000 }, (_, i): [string, unknown] => [`ttl:${i}`, i]),
      { expiresAt: at },
    );
    // Entries built for some keys of each kind: a built record leaves the records with an expiry time.
    for (let i = 0; i < 300; i++) expect(states.entry(`plain:${i}`)?.value).toBe(i);
    for (let i = 0; i < 200; i++) expect(states.entry(`ttl:${i}`)?.value).toBe(i);
    expect([states.builtCount, states.volatileRecords]).toEqual([500, 800]);

    // Keys deleted between the steps (commands run there), before, during and after the columns' copies.
    const gone = new Set<string>();
    const steps = states.reserveAdoptions(100_000);
    let count = 0;
    while (steps.next().done !== true) {
      count++;
      const key = count % 2 === 0 ? `ttl:${100 + 3 * count}` : `plain:${2 * count}`;
      if (states.delete(key)) gone.add(key);
    }
    // The parts of eleven columns the copies write, touched first (a step each here), then twelve copies.
    expect(count).toBeGreaterThanOrEqual(11 + 12);
    expect(gone.size).toBe(count);

    const live = (prefix: string, n: number): string[] =>
      Array.from({ length: n }, (_, i) => `${prefix}:${i}`).filter((key) => !gone.has(key));
    expect(states.size).toBe(4000 - gone.size);
    // Every record with an expiry time is still drawn, and only those: the list and its places were carried over.
    const volatileNow = states.volatileRecords;
    expect(volatileNow).toBe(live('ttl', 1000).filter((key) => Number(key.slice(4)) >= 200).length);
    const drawn = new Set<string>();
    const visitor = {
      readsUse: false,
      readsExpiry: true,
      wants: () => true,
      visit: (key: string) => drawn.add(key),
    };
    for (let i = 0; i < 50 * volatileNow; i++) expect(states.visitRandom(true, visitor)).toBe(true);
    expect(drawn.size).toBe(volatileNow);
    for (const key of drawn) expect(key.startsWith('ttl:') && !gone.has(key)).toBe(true);
    // Built entries leave through the places their list keeps; then every key reads as written, and goes.
    for (const key of live('plain', 300)) expect(states.delete(key)).toBe(true);
    for (const key of live('ttl', 200)) expect(states.delete(key)).toBe(true);
    expect(states.builtCount).toBe(0);
    const rest = [...live('plain', 3000), ...live('ttl', 1000)].filter(
      (key) => Number(key.split(':')[1]) >= (key.startsWith('ttl') ? 200 : 300),
    );
    expect(rest.length).toBe(states.size);
    for (const key of rest) expect(states.entry(key)?.value).toBe(Number(key.split(':')[1]));
    for (const key of rest) expect(states.delete(key)).toBe(true);
    expect([states.size, states.builtCount, states.volatileRecords]).toEqual([0, 0, 0]);
  });

  it("indexes a restore's records part by part: the later record of a key wins, a look-up midway ends it", () => {
    const states = new RestoredStates();
    runAtOnce(states.reserve(40_010));
    // 40,000 keys, then 10 of them again with other values and an expiry time, all in one generation.
    addGeneration(
      states,
      Array.from({ length: 40_000 }, (_, i): [string, unknown] => [`key:${i}`, i]),
    );
    addGeneration(
      states,
      Array.from({ length: 10 }, (_, i): [string, unknown] => [`key:${i * 4000}`, `again ${i}`]),
      { expiresAt: 9_000_000 },
    );
    const steps = states.indexRecords();
    for (let i = 0; i < 4; i++) expect(steps.next().done).toBe(false);
    // A look-up before the indexing ended runs the same indexing to its end: nothing is indexed twice.
    expect(states.entry('key:4000')?.value).toBe('again 1');
    expect(steps.next().done).toBe(true);
    expect(states.size).toBe(40_000);
    expect(states.volatileRecords).toBe(9); // key:4000's entry was built by the look-up
    for (let i = 0; i < 40_000; i += 1) {
      const expected = i % 4000 === 0 ? `again ${i / 4000}` : i;
      if (i % 97 === 0 || i % 4000 === 0) expect(states.entry(`key:${i}`)?.value).toBe(expected);
    }
    expect(states.has('key:40000')).toBe(false);
    expect([...states].length).toBe(40_000);
    // The table stays whole: more keys, tombstones (of keys never looked up, as in a restore) and look-ups after it.
    addGeneration(states, [['key:40000', 'new']], { deleted: ['key:1', 'key:8001'] });
    expect(states.size).toBe(39_999);
    expect(states.entry('key:40000')?.value).toBe('new');
    expect(states.has('key:1')).toBe(false);
    expect(states.has('key:8001')).toBe(false);
    expect(states.entry('key:2')?.value).toBe(2);
  });

  it('leaves out the keys whose expiry time has passed, and counts them', () => {
    const states = new RestoredStates();
    addGeneration(states, [['old', 1]], { expiresAt: 1_000 });
    addGeneration(states, [['later', 2]], { expiresAt: 5_000 });
    addGeneration(states, [['forever', 3]]);
    addGeneration(states, [['renewed', 4]], { expiresAt: 1_000 });
    addGeneration(states, [['renewed', 5]], { expiresAt: 9_000 });
    expect(runAtOnce(states.leaveOutExpired(2_000))).toBe(1);
    expect(values(states)).toEqual(
      new Map([
        ['later', 2],
        ['forever', 3],
        ['renewed', 5],
      ]),
    );
    expect(states.entry('later')?.expiresAt).toBe(5_000);
    expect(states.entry('forever')?.expiresAt).toBeUndefined();
  });

  it('builds a key`s entry once, on its first look-up', () => {
    const states = new RestoredStates();
    addGeneration(states, [['h', { f: 'v' }]]);
    const entry = states.entry('h');
    expect(entry).toBeDefined();
    expect(states.entry('h')).toBe(entry);
    expect(states.delete('h')).toBe(true);
    expect(states.entry('h')).toBeUndefined();
    expect(states.delete('h')).toBe(false);
    expect(states.size).toBe(0);
  });

  it('lets a chunk go once none of its keys is kept as bytes, and still serves every key', () => {
    const states = new RestoredStates();
    const first = chunkOf([
      ['a', 1],
      ['b', 2],
    ]);
    for (const r of first.spans) {
      states.setRecord(first.chunk, r.keyStart, r.keyEnd, r.valueStart, r.valueEnd, undefined);
    }
    addGeneration(states, [['c', 3]]);
    const held = heldBytes(states);
    expect(held).toBe(first.chunk.length + chunkOf([['c', 3]]).chunk.length);
    expect(states.entry('a')?.value).toBe(1); // looked up: its entry has the value now
    expect(heldBytes(states)).toBe(held);
    states.delete('b');
    expect(heldBytes(states)).toBe(held - first.chunk.length);
    first.chunk.fill(0); // nothing reads it any more
    expect(values(states)).toEqual(
      new Map([
        ['a', 1],
        ['c', 3],
      ]),
    );
    expect(states.has('a')).toBe(true);
    expect(states.has('b')).toBe(false);
  });
});

describe('a keyspace on restored states', () => {
  function restoredKeyspace(n: number): Keyspace {
    const states = new RestoredStates();
    addGeneration(
      states,
      Array.from({ length: n }, (_, i): [string, unknown] => [`k${i}`, `v${i}`]),
    );
    const keyspace = new Keyspace();
    keyspace.replaceAll(states);
    return keyspace;
  }

  it('serves restored and new keys alike: read, write, delete, re-create, size', () => {
    const keyspace = restoredKeyspace(5);
    const data = dataView(keyspace);
    expect(keyspace.size).toBe(5);
    expect(data.get('k1')).toBe('v1');
    data.set('k2', 'changed');
    data.delete('k3');
    data.set('new', 'n');
    expect(data.has('k3')).toBe(false);
    data.set('k3', 'again');
    expect(keyspace.size).toBe(6);
    expect(new Map(storedStates(keyspace).map(([k, s]) => [k, s.value]))).toEqual(
      new Map([
        ['k0', 'v0'],
        ['k1', 'v1'],
        ['k2', 'changed'],
        ['k4', 'v4'],
        ['new', 'n'],
        ['k3', 'again'],
      ]),
    );
  });

  it('keeps the key order of KEYS when keys are read (a SCAN cursor stays valid)', () => {
    const keyspace = restoredKeyspace(6);
    const data = dataView(keyspace);
    const before = data.keys();
    for (const key of ['k4', 'k0', 'k2']) data.get(key);
    expiresView(keyspace).set('k5', Date.now() + 60_000);
    expect(data.keys()).toEqual(before);
  });

  it('expires a restored key on access, as ioredis-mock does', async () => {
    // A wide margin: the first look-ups must land before the deadline even on a loaded machine.
    const expiresAt = Date.now() + 1_000;
    const states = new RestoredStates();
    addGeneration(states, [['soon', 'x']], { expiresAt });
    const keyspace = new Keyspace();
    keyspace.replaceAll(states);
    expect(dataView(keyspace).has('soon')).toBe(true);
    expect(expiresView(keyspace).get('soon')).toBe(expiresAt);
    while (Date.now() <= expiresAt)
      await new Promise((resolve) => setTimeout(resolve, expiresAt + 5 - Date.now()));
    expect(dataView(keyspace).has('soon')).toBe(false);
    expect(keyspace.size).toBe(0);
  });

  it('gives a full capture every restored key once: untouched ones as bytes, looked-up ones as states', () => {
    const keyspace = restoredKeyspace(50);
    const data = dataView(keyspace);
    data.get('k10'); // looked up, unchanged
    data.set('k20', 'changed before');
    data.set('fresh', 'f');
    const capture = keyspace.beginCapture(false)!;
    const seen = new Map<string, unknown>();
    const asBytes: string[] = [];
    const visitRecord = (record: EncodedRecord): void => {
      const out = new BufferWriter(16);
      record.copyKeyTo(out);
      const keyEnd = out.length;
      record.copyValueTo(out);
      const bytes = out.finish();
      const key = new BufferReader(bytes, 0, keyEnd).readString();
      expect(bytes.subarray(keyEnd)).toEqual(encodeValue(`v${key.slice(1)}`));
      asBytes.push(key);
      seen.set(key, `v${key.slice(1)}`);
    };
    const reader = capture.read(
      {
        visit: (key, state) => seen.set(key, state.value),
        visitDeleted: (key) => seen.set(key, null),
        visitRecord,
      },
      3,
    );
    let slices = 0;
    for (const _ of reader) {
      // Writes while the capture runs are not in it.
      if (slices++ === 2) {
        data.set('k40', 'during');
        data.get('k45');
        data.delete('k0');
        data.set('during', 'd');
      }
    }
    capture.close();
    expect(seen.size).toBe(51);
    expect(seen.get('k0')).toBe('v0');
    expect(seen.get('k10')).toBe('v10');
    expect(seen.get('k20')).toBe('changed before');
    expect(seen.get('k40')).toBe('v40');
    expect(seen.get('fresh')).toBe('f');
    expect(seen.has('during')).toBe(false);
    expect(asBytes).not.toContain('k10');
    expect(asBytes).not.toContain('k20');
    expect(asBytes.length).toBeGreaterThan(40);
  });

  it('adopts keys over given bytes, reusing gone records and rebuilding its table, and finds every key after', () => {
    const states = new RestoredStates();
    const adoptAll = (records: [string, unknown][], use: number): void => {
      const { chunk, spans } = chunkOf(records);
      runAtOnce(states.reserveAdoptions(spans.length));
      const before = spans.filter((s) => states.holdsAsBytes(chunk, s.keyStart, s.keyEnd));
      expect(before).toEqual([]);
      for (const s of spans) {
        states.adopt(chunk, s.keyStart, s.keyEnd, s.valueStart, s.valueEnd, undefined, use, 3);
      }
      const after = spans.filter((s) => states.holdsAsBytes(chunk, s.keyStart, s.keyEnd));
      expect(after.length).toBe(spans.length);
    };
    const round = (n: number): [string, unknown][] =>
      Array.from({ length: 1000 }, (_, i): [string, unknown] => [`r${n}:${i}`, { n, i }]);
    adoptAll(round(0), 7);
    const recordsAfterOne = states.recordCount;
    for (let n = 1; n <= 20; n++) {
      for (const [key] of round(n - 1)) expect(states.delete(key)).toBe(true);
      adoptAll(round(n), 7 + n);
    }
    // Each round's records took the numbers of the one before: the columns did not grow.
    expect(states.recordCount).toBe(recordsAfterOne);
    expect(states.size).toBe(1000);
    // Read in place: the use and mark the adoption gave, the value from the adopted bytes.
    const r = states.look('r20:999') as number;
    expect([states.useAt(r), states.readValueAt(r)]).toEqual([27, { n: 20, i: 999 }]);
    expect(states.markRecord(r, 3)).toBe(false);
    const found = round(20).filter(([key, value]) =>
      isDeepStrictEqual(states.entry(key)?.value, value),
    );
    expect(found.length).toBe(1000);
    expect(states.has('r19:5')).toBe(false);
  });

  it('draws among the records with an expiry time directly, however few they are among the others', () => {
    const states = new RestoredStates();
    addGeneration(
      states,
      Array.from({ length: 50_000 }, (_, i): [string, unknown] => [`plain:${i}`, i]),
    );
    const at = Date.now() + 60_000;
    addGeneration(
      states,
      [
        ['ttl:a', 'a'],
        ['ttl:b', 'b'],
        ['ttl:c', 'c'],
      ],
      { expiresAt: at },
    );
    const drawn = new Map<string, number>();
    const visitor = {
      readsUse: false,
      readsExpiry: true,
      wants: (_use: number, expiresAt: number | undefined) => expiresAt === at,
      visit: (key: string) => drawn.set(key, (drawn.get(key) ?? 0) + 1),
    };
    const draw = (times: number): void => {
      for (let i = 0; i < times; i++) expect(states.visitRandom(true, visitor)).toBe(true);
    };
    draw(3000);
    expect([...drawn.keys()].sort()).toEqual(['ttl:a', 'ttl:b', 'ttl:c']);
    for (const count of drawn.values()) expect(count).toBeGreaterThan(800);
    // No walk over the other records: the position a draw among all records goes on from did not move.
    expect(states['scan']).toBe(0);

    // Deleted, replaced with or without an expiry time, expired on restore: the draws follow.
    states.delete('ttl:a');
    addGeneration(states, [['ttl:b', 'no longer']]);
    addGeneration(states, [['plain:7', 'now with a TTL']], { expiresAt: at });
    drawn.clear();
    draw(2000);
    expect([...drawn.keys()].sort()).toEqual(['plain:7', 'ttl:c']);
    expect(states.volatileRecords).toBe(2);
    expect(runAtOnce(states.leaveOutExpired(at))).toBe(2);
    expect(states.volatileRecords).toBe(0);
    expect(states.visitRandom(true, visitor)).toBe(false);
    expect(states.size).toBe(50_000); // 50,000 plain and ttl:b; plain:7 expired with ttl:c
  });
});
