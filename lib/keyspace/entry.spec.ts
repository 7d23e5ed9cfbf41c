import { encodeValue } from '../format/codec';
import { BufferWriter } from '../format/writer';
import { Entry } from './entry';

/** The bytes a state copies while it is encoded, or `false`. */
function copied(entry: Entry): Buffer | false {
  const writer = new BufferWriter(8);
  return entry.copyEncodedTo(writer) ? writer.finish() : false;
}

describe('Entry.withOwnCollection (the state a capture keeps of a collection changed in place)', () => {
  it('keeps the collection encoded, as it was, whatever the command then does to it', () => {
    const set = new Set(['a', 'b']);
    const entry = new Entry(set, 1_000);
    entry.bytes = 500;
    const kept = entry.withOwnCollection();
    set.add('c');
    set.delete('a');
    expect(copied(kept)).toEqual(encodeValue(new Set(['a', 'b'])));
    expect(kept.value).toEqual(new Set(['a', 'b']));
    expect([kept.expiresAt, kept.bytes]).toEqual([1_000, 500]);
  });

  it('keeps a copy of a collection that cannot be encoded', () => {
    const hash: Record<string, unknown> = { good: 'v', odd: new Date(0) };
    const kept = new Entry(hash, undefined).withOwnCollection();
    hash.good = 'changed';
    expect(copied(kept)).toBe(false);
    expect(kept.value).toEqual({ good: 'v', odd: new Date(0) });
  });
});

describe('Entry.expiresAt (kept relative to the moment the module loaded)', () => {
  it('gives back every whole-ms time exactly, near, far, past and none, set at creation or later', () => {
    const now = Date.now();
    const times = [
      now,
      now + 1,
      now - 1,
      now + 24 * 24 * 3_600_000, // near the edge of what is kept relative
      now + 2 ** 31, // about there
      now - 2 ** 31,
      now + 60 * 24 * 3_600_000, // past it
      32_503_680_000_000, // year 3000
      Number.MAX_SAFE_INTEGER,
      0,
      -1,
      // Far from the moment times are kept relative to: a difference from it would need rounding (one of two
      // neighbours at least).
      -Number.MAX_SAFE_INTEGER,
      -Number.MAX_SAFE_INTEGER + 1,
    ];
    for (const at of times) {
      const entry = new Entry('v', at);
      expect(entry.expiresAt).toBe(at);
      expect(entry.withExpiry(at).expiresAt).toBe(at);
      entry.expiresAt = undefined;
      expect(entry.expiresAt).toBeUndefined();
      entry.expiresAt = at;
      expect(entry.expiresAt).toBe(at);
    }
    expect(new Entry('v', undefined).expiresAt).toBeUndefined();
  });
});
