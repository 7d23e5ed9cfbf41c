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
