/**
 * The open-addressing hash table through which the restored index finds a key's record: linear probing over an
 * `Int32Array` of slots, each holding a record number + 1 (0 for an empty slot), never more than half full. Keys are
 * hashed as their encoded bytes, so that a restore indexes records without building a string per key.
 */

/** `Math.imul`, read once: a global looked up in a loop is slow where globals are intercepted (a `vm` context). */
const imul = Math.imul;

/** FNV-1a over bytes [start, end), with a final mix so that the low bits the table uses depend on every byte. */
export function hashBytes(bytes: Uint8Array, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) h = imul(h ^ bytes[i], 0x01000193);
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  return h >>> 0;
}

/**
 * `table` grown to at least twice `keys` slots (a power of two), with what it holds inserted again by the hash of
 * each record (`hashes`); `table` itself if it is large enough.
 */
export function grownTable(table: Int32Array, hashes: Uint32Array, keys: number): Int32Array {
  if (2 * keys <= table.length) return table;
  let size = Math.max(table.length, 16);
  while (size < 2 * keys) size *= 2;
  const grown = new Int32Array(size);
  const mask = size - 1;
  for (let i = 0; i < table.length; i++) {
    const entry = table[i];
    if (entry === 0) continue;
    let slot = hashes[entry - 1] & mask;
    while (grown[slot] !== 0) slot = (slot + 1) & mask;
    grown[slot] = entry;
  }
  return grown;
}
