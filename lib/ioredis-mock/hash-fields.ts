/**
 * What a stored hash (a plain object) does not say for itself: how many fields it has, and which (for a random draw).
 * Kept by the hash rules as they change a large hash in place; read by them, by HRANDFIELD and by OBJECT ENCODING
 * (and so HSCAN).
 */

type Hash = Record<string, unknown>;

/**
 * The number of fields of each stored hash that was counted, kept while the object is (a write that is not in place
 * stores a new object): V8 has no size for an object, and listing the fields of a hash of 100k fields takes 20 ms.
 * Only the in-place writes here change a stored hash object, and they keep its count.
 */
export const fieldCounts = new WeakMap<Hash, number>();

/**
 * The field names of each stored hash HRANDFIELD drew from, kept while the object is (as {@link fieldCounts}): the
 * in-place writes add the fields they add, and drop the list when they delete fields. V8 has no random access to an
 * object's properties: ioredis-mock copied the hash and listed its fields for every draw (32 ms at 20k fields).
 */
export const fieldLists = new WeakMap<Hash, string[]>();

export function fieldList(hash: Hash): string[] {
  let list = fieldLists.get(hash);
  if (list === undefined) {
    list = Object.keys(hash);
    fieldLists.set(hash, list);
  }
  return list;
}

function randomIndex(length: number): number {
  return Math.floor(Math.random() * length);
}

/**
 * HRANDFIELD's fields for `count` (of a hash that has fields): all of them when it asks for as many or more, `count`
 * distinct ones, or -`count` drawn independently.
 */
export function drawFields(fields: readonly string[], count: bigint): string[] {
  if (count < 0n)
    return Array.from({ length: Number(-count) }, () => fields[randomIndex(fields.length)]);
  if (count >= BigInt(fields.length)) return [...fields];
  const wanted = Number(count);
  // For most of the hash: the first `wanted` of a shuffled copy; else positions drawn until `wanted` differ.
  if (3 * wanted > fields.length) {
    const copy = [...fields];
    for (let i = 0; i < wanted; i++) {
      const j = i + randomIndex(copy.length - i);
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy.slice(0, wanted);
  }
  const positions = new Set<number>();
  while (positions.size < wanted) positions.add(randomIndex(fields.length));
  return [...positions].map((at) => fields[at]);
}

/** The number of fields of `hash`, counted once. */
export function fieldCount(hash: Hash): number {
  let count = fieldCounts.get(hash);
  if (count === undefined) {
    count = Object.keys(hash).length;
    fieldCounts.set(hash, count);
  }
  return count;
}
