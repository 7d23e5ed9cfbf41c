import { BufferWriter, CodecError, encodeValue } from '../format/codec';
import type { KeyState } from '../format/records';
import { Capture, CaptureVisitor, Keyspace } from './keyspace';
import { READ_IN_PLACE_BYTES, RestoredStates } from './restored-states';
import { dataView, expiresView } from '../ioredis-mock/views';
import {
  addGeneration,
  Encoded,
  storedState,
  storedStates,
} from '../../test/support/keyspace-states';

const plain = (state: KeyState | null): KeyState | null =>
  state && { value: state.value, expiresAt: state.expiresAt };

/** A visitor that hands every key to `onKey`, deleted ones with `null`. */
function visitor(onKey: (key: string, state: KeyState | null) => void): CaptureVisitor {
  return { visit: onKey, visitDeleted: (key) => onKey(key, null) };
}

/** Reads a whole capture at once into a map (tombstones as `null`). */
function readAll(capture: Capture, sliceSize = 2): Map<string, KeyState | null> {
  const out = new Map<string, KeyState | null>();
  for (const _ of capture.read(
    visitor((key, state) => out.set(key, plain(state))),
    sliceSize,
  )) {
    // no interleaving
  }
  return out;
}

/** Reads a capture one slice at a time, calling `between` after each slice. */
function readWith(
  capture: Capture,
  between: (slice: number) => void,
): Map<string, KeyState | null> {
  const out = new Map<string, KeyState | null>();
  let slice = 0;
  for (const _ of capture.read(
    visitor((key, state) => out.set(key, plain(state))),
    1,
  )) {
    between(slice++);
  }
  return out;
}

function filled(n: number): Keyspace {
  const keyspace = new Keyspace();
  const data = dataView(keyspace);
  for (let i = 0; i < n; i++) data.set(`k${i}`, `v${i}`);
  return keyspace;
}

describe('Keyspace (ioredis-mock data/expires semantics)', () => {
  it('copies values in and out so stored values cannot be mutated from outside', () => {
    const keyspace = new Keyspace();
    const data = dataView(keyspace);
    const list = ['a'];
    data.set('l', list);
    list.push('b');
    const read = data.get('l') as string[];
    read.push('c');
    expect(data.get('l')).toEqual(['a']);
    const buf = Buffer.from('xy');
    data.set('b', buf);
    buf[0] = 0;
    expect(data.get('b')).toEqual(Buffer.from('xy'));
    data.set('s', new Set(['m']));
    (data.get('s') as Set<string>).add('n');
    expect(data.get('s')).toEqual(new Set(['m']));
    data.set('z', new Map([['m', { score: 1, value: 'm' }]]));
    (data.get('z') as Map<string, unknown>).delete('m');
    expect((data.get('z') as Map<string, unknown>).size).toBe(1);
    data.set('h', { f: 'v' });
    (data.get('h') as Record<string, string>).g = 'w';
    expect(data.get('h')).toEqual({ f: 'v' });
  });

  it('answers a key looked up again and again as it is now: deleted, set anew, or another key', () => {
    const keyspace = new Keyspace();
    const data = dataView(keyspace);
    data.set('a', '1');
    data.set('b', '2');
    expect([data.get('a'), data.has('a'), data.get('a')]).toEqual(['1', true, '1']);
    data.delete('a');
    expect([data.get('a'), data.has('a'), keyspace.size]).toEqual([undefined, false, 1]);
    data.set('a', '3');
    expect([data.get('a'), data.get('b'), data.get('a'), keyspace.size]).toEqual([
      '3',
      '2',
      '3',
      2,
    ]);
    keyspace.clear();
    expect([data.has('a'), data.get('a'), data.has('b')]).toEqual([false, undefined, false]);
  });

  it('expires lazily: an expired key is removed when touched, and hidden from keys()', () => {
    const keyspace = new Keyspace();
    const data = dataView(keyspace);
    const expires = expiresView(keyspace);
    data.set('gone', 'x');
    expires.set('gone', Date.now() - 1);
    data.set('kept', 'y');
    expires.set('kept', Date.now() + 60_000);
    expect(data.keys()).toEqual(['kept']);
    expect(keyspace.size).toBe(2);
    expect(expires.isExpired('gone')).toBe(true);
    expect(data.has('gone')).toBe(false);
    expect(keyspace.size).toBe(1);
    expect(data.get('gone')).toBeUndefined();
    expect(expires.has('kept')).toBe(true);
    expect(expires.get('gone')).toBeUndefined();
  });

  it('keeps an expiry set on a key without a value, as ioredis-mock does', () => {
    const keyspace = new Keyspace();
    const data = dataView(keyspace);
    const expires = expiresView(keyspace);
    expires.set('later', Date.now() + 60_000);
    expect(expires.has('later')).toBe(true);
    data.set('later', 'v');
    expect(expires.get('later')).toBeGreaterThan(Date.now());
    expires.delete('later');
    expect(expires.has('later')).toBe(false);
    expires.set('orphan', Date.now() + 1000);
    expires.delete('orphan');
    expect(expires.has('orphan')).toBe(false);
  });

  it('applies key prefixes like ioredis-mock', () => {
    const keyspace = new Keyspace();
    const data = dataView(keyspace).withKeyPrefix('app:');
    const expires = expiresView(keyspace).withKeyPrefix('app:');
    data.set('a', '1');
    dataView(keyspace).set('other', '2');
    expires.set('a', Date.now() + 1000);
    expect(keyspace.valueOf('app:a')).toBe('1');
    expect(data.keys()).toEqual(['app:a']);
    expect(expires.has('a')).toBe(true);
    expect(data.withKeyPrefix('x:').keys()).toEqual([]);
    data.delete('a');
    expect(keyspace.size).toBe(1);
  });

  it('clears values and expiries', () => {
    const keyspace = filled(3);
    expiresView(keyspace).set('k1', Date.now() + 1000);
    expiresView(keyspace).clear();
    expect(keyspace.expiryOf('k1')).toBeUndefined();
    dataView(keyspace).clear();
    expect(keyspace.size).toBe(0);
  });
});

describe('Capture', () => {
  it('reads every key once, in slices', () => {
    const keyspace = filled(10);
    const capture = keyspace.beginCapture(false)!;
    let slices = 0;
    const seen = readWith(capture, () => slices++);
    capture.close();
    expect(seen.size).toBe(10);
    expect(seen.get('k3')).toEqual({ value: 'v3', expiresAt: undefined });
    expect(slices).toBeGreaterThanOrEqual(10);
    expect(capture.sizeAtStart).toBe(10);
  });

  it('is a point in time: writes, deletes, TTL changes and new keys during the read are not in it', () => {
    const keyspace = filled(20);
    const data = dataView(keyspace);
    const expires = expiresView(keyspace);
    expires.set('k19', Date.now() + 60_000);
    const at = keyspace.expiryOf('k19');
    const capture = keyspace.beginCapture(false)!;
    const seen = readWith(capture, (slice) => {
      if (slice === 2) {
        data.set('k0', 'changed after read'); // already read
        data.set('k15', 'changed before read');
        data.delete('k16');
        data.set('new', 'created during the capture');
        expires.delete('new'); // a second write to the new key (ioredis-mock's SET does this)
        expires.set('k17', Date.now() + 5);
        expires.delete('k19');
        data.delete('k18');
        data.set('k18', 're-created');
        data.set('k15', 'changed twice');
      }
    });
    capture.close();
    const expected = new Map<string, KeyState>();
    for (let i = 0; i < 20; i++) expected.set(`k${i}`, { value: `v${i}`, expiresAt: undefined });
    expected.set('k19', { value: 'v19', expiresAt: at });
    expect(new Map([...seen].sort())).toEqual(new Map([...expected].sort()));
    // ...while the live keyspace has moved on.
    expect(data.get('k15')).toBe('changed twice');
    expect(data.has('k16')).toBe(false);
    expect(data.get('new')).toBe('created during the capture');
  });

  it('keeps a key that was read, then deleted and re-created during an incremental capture', () => {
    const keyspace = new Keyspace();
    const data = dataView(keyspace);
    keyspace.replaceAll(new Map());
    data.set('a', 'start');
    data.set('b', 'x'); // a second changed key, so that the reader yields after reading `a`
    const capture = keyspace.beginCapture(true)!;
    const records: [string, unknown][] = [];
    const reader = capture.read(
      visitor((key, state) => records.push([key, state === null ? null : state.value])),
      1,
    );
    while (!records.some(([key]) => key === 'a')) reader.next();
    data.delete('a');
    data.set('a', 'new');
    while (!reader.next().done);
    capture.close();
    const restored = new Map<string, unknown>();
    for (const [key, value] of records) {
      if (value === null) restored.delete(key);
      else restored.set(key, value);
    }
    expect(restored).toEqual(
      new Map([
        ['a', 'start'],
        ['b', 'x'],
      ]),
    );
  });

  it('keeps reading the old content when the keyspace is flushed during the read', () => {
    const keyspace = filled(10);
    expiresView(keyspace).set('k9', Date.now() + 60_000);
    const capture = keyspace.beginCapture(false)!;
    const seen = readWith(capture, (slice) => {
      if (slice === 3) {
        expiresView(keyspace).clear();
        dataView(keyspace).clear();
        dataView(keyspace).set('k8', 'after flush');
      }
    });
    capture.close();
    expect(seen.size).toBe(10);
    expect(seen.get('k8')?.value).toBe('v8');
    expect(seen.get('k9')?.expiresAt).toBeGreaterThan(Date.now());
    expect(keyspace.size).toBe(1);
  });

  it('lists the keys changed since the previous capture, with tombstones for deleted ones', () => {
    const keyspace = filled(10);
    expect(keyspace.changedCount).toBeUndefined();
    expect(keyspace.beginCapture(true)).toBeUndefined();
    const full = keyspace.beginCapture(false)!;
    expect(() => keyspace.beginCapture(false)).toThrow('already open');
    readAll(full);
    full.close();
    const data = dataView(keyspace);
    data.set('k1', 'new');
    data.delete('k2');
    data.set('k2', 'back');
    data.delete('k3');
    data.set('fresh', 'x');
    expect(keyspace.changedCount).toBe(4);
    const capture = keyspace.beginCapture(true)!;
    const seen = readAll(capture);
    capture.close();
    expect(seen).toEqual(
      new Map<string, KeyState | null>([
        ['k1', { value: 'new', expiresAt: undefined }],
        ['k2', { value: 'back', expiresAt: undefined }],
        ['k3', null],
        ['fresh', { value: 'x', expiresAt: undefined }],
      ]),
    );
    expect(keyspace.changedCount).toBe(0);
  });

  it('reads changed keys as they were at its start, even when they change again during the read', () => {
    const keyspace = filled(5);
    const full = keyspace.beginCapture(false)!;
    readAll(full);
    full.close();
    const data = dataView(keyspace);
    for (const k of ['k0', 'k1', 'k2']) data.set(k, `${k}!`);
    data.delete('k3');
    const capture = keyspace.beginCapture(true)!;
    const seen = readWith(capture, (slice) => {
      if (slice === 0) {
        data.set('k1', 'later');
        data.set('k3', 'resurrected');
        data.delete('k2');
        data.set('k4', 'unchanged before the capture');
      }
    });
    capture.close();
    expect(seen).toEqual(
      new Map<string, KeyState | null>([
        ['k0', { value: 'k0!', expiresAt: undefined }],
        ['k1', { value: 'k1!', expiresAt: undefined }],
        ['k2', { value: 'k2!', expiresAt: undefined }],
        ['k3', null],
      ]),
    );
    expect(keyspace.changedCount).toBe(4);
  });

  it('gives back the keys of a failed incremental capture, and requires a full one after a failed full one', () => {
    const keyspace = filled(3);
    const full = keyspace.beginCapture(false)!;
    full.close();
    dataView(keyspace).set('k0', 'x');
    const incremental = keyspace.beginCapture(true)!;
    readAll(incremental);
    incremental.close();
    dataView(keyspace).set('k1', 'y');
    keyspace.restoreChanges(incremental);
    expect(keyspace.changedCount).toBe(2);
    const failedFull = keyspace.beginCapture(false)!;
    failedFull.close();
    keyspace.restoreChanges(failedFull);
    expect(keyspace.changedCount).toBeUndefined();
    keyspace.restoreChanges(failedFull);
    expect(keyspace.changedCount).toBeUndefined();
  });

  it('after a failed incremental capture, reads each key as it is now, not as the failed one saw it', () => {
    const keyspace = filled(4);
    const full = keyspace.beginCapture(false)!;
    readAll(full);
    full.close();
    const data = dataView(keyspace);
    data.set('k0', 'first');
    data.set('k1', 'first');
    expiresView(keyspace).set('k2', 9e15);
    const failed = keyspace.beginCapture(true)!;
    // Changed while the capture runs; then the capture fails and gives its keys back.
    data.delete('k0');
    data.set('k0', 're-created');
    data.delete('k1');
    failed.close();
    keyspace.restoreChanges(failed);
    const capture = keyspace.beginCapture(true)!;
    expect(readAll(capture)).toEqual(
      new Map<string, KeyState | null>([
        ['k0', { value: 're-created', expiresAt: undefined }],
        ['k1', null],
        ['k2', { value: 'v2', expiresAt: 9e15 }],
      ]),
    );
    capture.close();
  });

  it('refuses a replace while a capture is open, and resets what changed after one', () => {
    const keyspace = filled(2);
    const capture = keyspace.beginCapture(false)!;
    expect(() => keyspace.replaceAll(new Map())).toThrow('capture is open');
    capture.close();
    capture.close();
    keyspace.replaceAll(new Map([['a', { value: '1', expiresAt: 5 }]]));
    expect(storedStates(keyspace).map(([k, v]) => [k, plain(v)])).toEqual([
      ['a', { value: '1', expiresAt: 5 }],
    ]);
    expect(keyspace.changedCount).toBe(0);
  });

  it('stops a read of a capture closed under it', () => {
    const keyspace = filled(5);
    const capture = keyspace.beginCapture(false)!;
    const reader = capture.read(
      visitor(() => undefined),
      1,
    );
    reader.next();
    capture.close();
    expect(() => reader.next()).toThrow('closed');
  });
});

describe('encoded states (values restored from a snapshot)', () => {
  /** A restored keyspace whose keys hold `values`, encoded one after another in one chunk. */
  function restored(values: Record<string, unknown>): {
    keyspace: Keyspace;
    states: RestoredStates;
  } {
    const states = new RestoredStates();
    addGeneration(states, Object.entries(values));
    const keyspace = new Keyspace();
    keyspace.replaceAll(states);
    return { keyspace, states };
  }

  /** The bytes a state copies while it is still encoded, or `false` once it is decoded. */
  function copied(state: KeyState | undefined): Buffer | false {
    const writer = new BufferWriter(8);
    return state?.copyEncodedTo?.(writer) === true ? writer.finish() : false;
  }

  it('decodes a value on first read, and copies its bytes as they are until then', () => {
    const { keyspace } = restored({ h: { f: 'v' }, z: new Map([['m', { score: 1, value: 'm' }]]) });
    expect(copied(storedState(keyspace, 'h'))).toEqual(encodeValue({ f: 'v' }));
    expect(dataView(keyspace).get('h')).toEqual({ f: 'v' });
    expect(copied(storedState(keyspace, 'h'))).toBe(false);
    expect(copied(storedState(keyspace, 'z'))).toEqual(
      encodeValue(new Map([['m', { score: 1, value: 'm' }]])),
    );
  });

  it('drops the encoded bytes once a value is replaced, and keeps them across an expiry change', () => {
    const { keyspace } = restored({ a: 'old', b: 'kept' });
    dataView(keyspace).set('a', 'new');
    expect(copied(storedState(keyspace, 'a'))).toBe(false);
    expect(keyspace.valueOf('a')).toBe('new');
    expiresView(keyspace).set('b', Date.now() + 60_000);
    expect(copied(storedState(keyspace, 'b'))).toEqual(encodeValue('kept'));
    expiresView(keyspace).clear();
    expect(copied(storedState(keyspace, 'b'))).toEqual(encodeValue('kept'));
    expect(keyspace.expiryOf('b')).toBeUndefined();
  });

  it('keeps a still-encoded state aside for a capture when a write replaces it during the read', () => {
    const { keyspace } = restored({ k0: 'a', k1: 'b', k2: 'c' });
    const capture = keyspace.beginCapture(false)!;
    const seen = new Map<string, Buffer | false>();
    const reader = capture.read(
      visitor((key, state) => seen.set(key, copied(state ?? undefined))),
      1,
    );
    reader.next();
    for (const key of ['k0', 'k1', 'k2']) dataView(keyspace).set(key, 'changed');
    while (!reader.next().done) {
      // read the rest
    }
    capture.close();
    expect(new Map([...seen].sort())).toEqual(
      new Map([
        ['k0', encodeValue('a')],
        ['k1', encodeValue('b')],
        ['k2', encodeValue('c')],
      ]),
    );
  });

  it("answers the rules' reads of small values from their bytes: nothing built, nothing kept, same answers", () => {
    const big = 'b'.repeat(READ_IN_PLACE_BYTES);
    const { keyspace, states: restoredStates } = restored({ s: 'small', h: { f: 'v' }, big });
    const bytesBefore = keyspace.usedBytes;
    for (let read = 0; read < 2; read++) {
      expect(keyspace.reader.valueOf('s')).toBe('small');
      expect(keyspace.reader.valueOf('h')).toEqual({ f: 'v' });
      expect(keyspace.reader.expiryOf('s')).toBeUndefined();
    }
    // Each read decodes a new object: a rule may hand it out or keep it as the start of a new value.
    expect(keyspace.reader.valueOf('h')).not.toBe(keyspace.reader.valueOf('h'));
    expect(restoredStates.madeEntry('s')).toBeUndefined();
    expect(restoredStates.madeEntry('h')).toBeUndefined();
    expect(keyspace.usedBytes).toBe(bytesBefore);

    // A value over the limit is built on its first read and kept, as is any value ioredis-mock's commands read.
    expect(keyspace.reader.valueOf('big')).toBe(big);
    expect(restoredStates.madeEntry('big')?.value).toBe(big);
    expect(dataView(keyspace).get('s')).toBe('small');
    expect(restoredStates.madeEntry('s')?.value).toBe('small');
  });

  it('counts a read in place as a use of the key, and the entry built later keeps it', () => {
    const { keyspace, states: restoredStates } = restored({ a: '1', b: '2', c: '3' });
    keyspace.setPolicy('allkeys-lfu');
    const before = keyspace.inspect('b')?.use;
    for (let i = 0; i < 50; i++) keyspace.reader.touch('a');
    const used = keyspace.inspect('a')?.use;
    expect(used).toBeGreaterThan(before as number);
    expect(keyspace.inspect('b')?.use).toBe(before);
    expect(restoredStates.madeEntry('a')?.use).toBe(used);
    // Uses counted under one policy mean nothing under another: records not built start again.
    for (let i = 0; i < 50; i++) keyspace.reader.touch('c');
    expect(restoredStates.madeEntry('c')).toBeUndefined();
    keyspace.setPolicy('allkeys-lru');
    expect(keyspace.inspect('c')?.use).toBe(restoredStates.initialUse);
  });

  it("keeps each key's use whether it was written, restored and built, or restored and read in place", () => {
    const { keyspace, states: restoredStates } = restored({ built: '1', inPlace: '2' });
    keyspace.setPolicy('allkeys-lfu');
    keyspace.set('written', 'w');
    expect(dataView(keyspace).get('built')).toBe('1'); // a command that reads the value builds the entry
    expect(restoredStates.madeEntry('built')).toBeDefined();
    const start = {
      written: keyspace.inspect('written')?.use as number,
      built: keyspace.inspect('built')?.use as number,
      inPlace: keyspace.inspect('inPlace')?.use as number,
    };
    for (let i = 0; i < 200; i++) {
      keyspace.reader.touch('written');
      keyspace.reader.touch('built');
    }
    // LFU counters (the low 8 bits) rose for the keys used, and only for them.
    const counter = (key: string): number => (keyspace.inspect(key)?.use as number) & 0xff;
    expect(counter('written')).toBeGreaterThan(start.written & 0xff);
    expect(counter('built')).toBeGreaterThan(start.built & 0xff);
    expect(keyspace.inspect('inPlace')?.use).toBe(start.inPlace);
    expect(keyspace.inspect('built')?.use).toBe(restoredStates.madeEntry('built')?.use);
  });

  it('draws restored and written keys with an expiry time, built or not, for eviction and expiry through TTL changes', () => {
    const states = new RestoredStates();
    const later = Date.now() + 60_000;
    addGeneration(
      states,
      [
        ['r1', 'a'],
        ['r2', 'b'],
        ['r3', 'c'],
      ],
      { expiresAt: later },
    );
    addGeneration(states, [['plain', 'p']]);
    const keyspace = new Keyspace();
    keyspace.replaceAll(states);
    keyspace.set('w1', 'x');
    keyspace.setExpiry('w1', later);
    keyspace.set('w2', 'y');
    expect(keyspace.volatileCount).toBe(4);
    // A command that reads the value builds a restored key's entry: it is still counted once.
    expect(dataView(keyspace).get('r1')).toBe('a');
    expect(dataView(keyspace).get('r2')).toBe('b');
    expect(states.madeEntry('r1')).toBeDefined();
    expect(keyspace.volatileCount).toBe(4);
    // PERSIST takes keys out of those with an expiry time, built or written; another time keeps one in.
    keyspace.setExpiry('r1', undefined);
    keyspace.setExpiry('w1', undefined);
    keyspace.setExpiry('r2', later + 1000);
    expect(keyspace.volatileCount).toBe(2);
    expect(keyspace.expiryOf('r2')).toBe(later + 1000);
    keyspace.setExpiry('w2', later);
    keyspace.setExpiry('r1', later);
    expect(keyspace.volatileCount).toBe(4);
    // Times that have passed: DBSIZE leaves them out at once, active expiry finds and deletes each of them.
    const now = Date.now();
    for (const key of ['r1', 'r3', 'w2']) keyspace.setExpiry(key, now - 1);
    expect(keyspace.liveCount).toBe(3); // r2, plain, w1
    expect(keyspace.expireStep(now, 200).expired).toBe(3);
    expect(keyspace.expiredKeys).toBe(3);
    expect(keyspace.volatileCount).toBe(1);
    // volatile-lru evicts only keys with an expiry time: r2, then none is left to evict.
    keyspace.setPolicy('volatile-lru');
    keyspace.memory.maxBytes = 1;
    expect(keyspace.makeRoom(1000)).toBe('full');
    expect(keyspace.evictedKeys).toBe(1);
    expect(keyspace.volatileCount).toBe(0);
    expect(keyspace.liveKeys().sort()).toEqual(['plain', 'w1']);
  });

  it('expires a key read in place whose time has run out, as a command would', () => {
    const states = new RestoredStates();
    addGeneration(states, [['gone', 'v']], { expiresAt: Date.now() - 1 });
    addGeneration(states, [['kept', 'v']], { expiresAt: Date.now() + 60_000 });
    const keyspace = new Keyspace();
    keyspace.replaceAll(states);
    expect(keyspace.reader.expiryOf('kept')).toBeGreaterThan(Date.now());
    expect(keyspace.reader.valueOf('gone')).toBeUndefined();
    expect(keyspace.has('gone')).toBe(false);
    expect(keyspace.expiredKeys).toBe(1);
    expect(keyspace.reader.valueOf('kept')).toBe('v');
    expect(keyspace.size).toBe(1);
  });

  it('reports a value that cannot be decoded when it is read, naming the snapshot', () => {
    const states = new RestoredStates();
    // A string whose bytes are not UTF-8.
    addGeneration(states, [['bad', new Encoded(Buffer.from([0x08, 0x04, 0xc3, 0x28]))]]);
    const keyspace = new Keyspace();
    keyspace.replaceAll(states);
    expect(dataView(keyspace).has('bad')).toBe(true);
    expect(() => dataView(keyspace).get('bad')).toThrow(
      /^a value restored from the snapshot cannot be decoded: invalid UTF-8/,
    );
    expect(() => dataView(keyspace).get('bad')).toThrow(CodecError);
  });
});

describe('Keyspace: values no snapshot could keep', () => {
  it('refuses a non-finite expiry time, and keeps the one the key had', () => {
    const keyspace = new Keyspace();
    dataView(keyspace).set('k', 'v');
    expiresView(keyspace).set('k', 5_000_000_000_000);
    for (const bad of [NaN, Infinity, -Infinity, 'abc' as unknown as number]) {
      expect(() => expiresView(keyspace).set('k', bad)).toThrow(
        'ERR value is not an integer or out of range',
      );
    }
    expect(keyspace.expiryOf('k')).toBe(5_000_000_000_000);
    expect(() => expiresView(keyspace).set('none', NaN)).toThrow();
    expect(expiresView(keyspace).has('none')).toBe(false);
  });

  it('refuses a list with holes, and keeps the list the key had', () => {
    const keyspace = new Keyspace();
    dataView(keyspace).set('l', ['a', 'b']);
    const holey = ['a', 'b'];
    holey[3] = 'x';
    expect(() => dataView(keyspace).set('l', holey)).toThrow(/missing elements under key "l"/);
    expect(() => dataView(keyspace).set('m', [undefined])).toThrow(/missing elements/);
    expect(keyspace.valueOf('l')).toEqual(['a', 'b']);
    expect(keyspace.has('m')).toBe(false);
  });

  it('lets the command rules read a key without copying it, and expires it as a command would', () => {
    const keyspace = new Keyspace();
    const value = new Set(['a']);
    dataView(keyspace).set('s', value);
    expect(keyspace.reader.valueOf('s')).toBe(keyspace.valueOf('s'));
    expect(keyspace.reader.expiryOf('s')).toBeUndefined();
    expiresView(keyspace).set('s', Date.now() - 1);
    expect(keyspace.reader.valueOf('s')).toBeUndefined();
    expect(keyspace.has('s')).toBe(false);
    expect(keyspace.reader.expiryOf('nokey')).toBeUndefined();
  });
});

describe('changes that cancel out', () => {
  it('forgets a key created and deleted again since the last capture: no snapshot holds it', () => {
    const keyspace = new Keyspace();
    const data = dataView(keyspace);
    data.set('old', 'v');
    keyspace.beginCapture(false)?.close();
    for (let i = 0; i < 100; i++) {
      data.set(`tmp:${i}`, 'v');
      data.delete(`tmp:${i}`);
    }
    data.delete('never-existed');
    expect(keyspace.changedCount).toBe(0);
    data.delete('old'); // held by the last capture: its deletion must be written
    expect(keyspace.changedCount).toBe(1);
  });

  it('keeps the deletion of a key a failed snapshot may have left in the chain', () => {
    const keyspace = new Keyspace();
    const data = dataView(keyspace);
    data.set('k', 'v1');
    keyspace.beginCapture(false)?.close(); // the chain holds k
    data.delete('k');
    const failed = keyspace.beginCapture(true); // would write k's tombstone
    data.set('k', 'v2'); // created again while it runs
    failed?.close();
    if (failed !== undefined) keyspace.restoreChanges(failed); // its snapshot did not commit: the chain still holds k
    data.delete('k');
    expect(keyspace.changedCount).toBe(1);
  });
});
