import { addGeneration } from '../../test/support/keyspace-states';
import { canonicalBuffer, withCanonicalMembers } from './buffer-members';
import { Keyspace } from './keyspace';
import { RestoredStates } from './restored-states';

const bytes = (...b: number[]): Buffer => Buffer.from(b);

describe('canonicalBuffer', () => {
  it('gives one object per byte content, never the caller’s own Buffer', () => {
    const given = bytes(1, 2, 3);
    const canonical = canonicalBuffer(given);
    expect(canonical).not.toBe(given);
    expect(canonical.equals(given)).toBe(true);
    expect(canonicalBuffer(bytes(1, 2, 3))).toBe(canonical);
    expect(canonicalBuffer(canonical)).toBe(canonical);
    expect(canonicalBuffer(bytes(1, 2))).not.toBe(canonical);
    given[0] = 9; // the caller's Buffer changes: the canonical one does not
    expect(canonical).toEqual(bytes(1, 2, 3));
  });

  it('replaces a canonical Buffer that was changed after it was handed out', () => {
    const canonical = canonicalBuffer(bytes(7, 7));
    canonical[1] = 8;
    const again = canonicalBuffer(bytes(7, 7));
    expect(again).not.toBe(canonical);
    expect(again).toEqual(bytes(7, 7));
  });
});

describe('withCanonicalMembers', () => {
  it('gives the members of sets, sorted sets and lists their canonical objects', () => {
    const set = withCanonicalMembers(new Set([bytes(1), 'a', bytes(1, 1)])) as Set<unknown>;
    expect([...set]).toEqual([bytes(1), 'a', bytes(1, 1)]);
    expect([...set][0]).toBe(canonicalBuffer(bytes(1)));

    const key = bytes(2);
    const zset = withCanonicalMembers(
      new Map<unknown, unknown>([
        [key, { score: 1, value: bytes(2) }],
        ['t', { score: 2, value: 't' }],
      ]),
    ) as Map<unknown, { score: number; value: unknown }>;
    const [[member, entry]] = zset;
    expect(member).toBe(canonicalBuffer(bytes(2)));
    expect(entry.value).toBe(member); // map key and entry are one object, as ioredis-mock's ZADD makes them
    expect([...zset.keys()]).toEqual([bytes(2), 't']);

    const list = withCanonicalMembers([bytes(3), 'x', bytes(3)]) as unknown[];
    expect(list[0]).toBe(canonicalBuffer(bytes(3)));
    expect(list[2]).toBe(list[0]);
  });

  it('leaves values without Buffer members, and streams, as they are', () => {
    const set = new Set(['a']);
    const zset = new Map([['a', { score: 1, value: 'a' }]]);
    const field = bytes(4);
    const stream = [['1-0', ['f', field]]];
    expect(withCanonicalMembers(set)).toBe(set);
    expect(withCanonicalMembers(zset)).toBe(zset);
    expect((withCanonicalMembers(stream) as [string, unknown[]][])[0][1][1]).toBe(field);
    const text = bytes(5);
    expect(withCanonicalMembers(text)).toBe(text);
  });

  it('merges members with the same bytes into one, as Redis holds them', () => {
    const set = withCanonicalMembers(new Set([bytes(6), bytes(6)])) as Set<unknown>;
    expect(set.size).toBe(1);
  });

  it('is applied to restored values when they are decoded', () => {
    const states = new RestoredStates();
    addGeneration(states, [
      ['z', new Map([[bytes(9, 9), { score: 1, value: bytes(9, 9) }]])],
      ['s', new Set([bytes(9, 9)])],
    ]);
    const keyspace = new Keyspace();
    keyspace.replaceAll(states);
    const [[member, entry]] = keyspace.valueOf('z') as Map<Buffer, { value: Buffer }>;
    expect(entry.value).toBe(member);
    expect([...(keyspace.valueOf('s') as Set<Buffer>)][0]).toBe(member);
  });
});
