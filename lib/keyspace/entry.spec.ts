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
