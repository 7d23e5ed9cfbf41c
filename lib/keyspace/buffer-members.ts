/**
 * One Buffer object per byte content, for the members of sets, sorted sets and lists.
 *
 * ioredis-mock keeps members in JS `Set`s, `Map`s and arrays and finds them with `has`, `get`, `delete` and
 * `indexOf`: a Buffer member is found only through the very object stored, not through another Buffer with the same
 * bytes. Before a snapshot, a member is usually shared by every place it went (a sorted set's entry holds its
 * member twice, as map key and `.value`; SUNIONSTORE copies the objects into the new set); a restore decodes each
 * occurrence into an object of its own, and the same commands then answer differently (ZPOPMIN reports a member
 * removed that stays; SINTER loses members, SUNION returns them twice). And two Buffers with the same bytes passed to
 * SADD make two members, where Redis has one.
 *
 * So the embedded client gives every Buffer member the canonical object of its bytes: command arguments that are
 * members (see `command-rules.ts`) and decoded values (see `entry.ts`) alike. Members then compare by their bytes,
 * as Redis compares them, before a snapshot and after a restore. The canonical objects are this module's own copies
 * (never a caller's Buffer, which the caller may change later), held weakly: a member nobody stores any more is
 * collected, and its entry here with it.
 */

/** Canonical objects by their bytes (as a latin1 string: one character per byte). */
const canonical = new Map<string, WeakRef<Buffer>>();
const collected = new FinalizationRegistry<string>((bytes) => {
  if (canonical.get(bytes)?.deref() === undefined) canonical.delete(bytes);
});

/** The canonical Buffer with the bytes of `buffer`. */
export function canonicalBuffer(buffer: Buffer): Buffer {
  const bytes = buffer.toString('latin1');
  const known = canonical.get(bytes)?.deref();
  // A canonical object handed out by a command (SMEMBERS returns stored members) may have been changed since.
  if (known !== undefined && known.equals(buffer)) return known;
  const copy = Buffer.from(buffer);
  canonical.set(bytes, new WeakRef(copy));
  collected.register(copy, bytes);
  return copy;
}

/**
 * A decoded value with its Buffer members replaced with their canonical objects: the members of a Set, the members
 * of a sorted set (map key and `.value` both) and the elements of a list. A value without Buffer members is returned
 * as it is; one with some is changed in place or rebuilt in the same order (decoded values belong to the caller).
 */
export function withCanonicalMembers(value: unknown): unknown {
  if (value instanceof Set) return canonicalSet(value as Set<unknown>);
  if (value instanceof Map) return canonicalSortedSet(value as Map<unknown, unknown>);
  if (Array.isArray(value)) canonicalList(value as unknown[]);
  return value;
}

function canonicalSet(set: Set<unknown>): Set<unknown> {
  let hasBuffer = false;
  for (const member of set) {
    if (Buffer.isBuffer(member)) {
      hasBuffer = true;
      break;
    }
  }
  if (!hasBuffer) return set;
  const out = new Set<unknown>();
  for (const member of set) out.add(Buffer.isBuffer(member) ? canonicalBuffer(member) : member);
  return out;
}

function canonicalSortedSet(map: Map<unknown, unknown>): Map<unknown, unknown> {
  let hasBuffer = false;
  for (const member of map.keys()) {
    if (Buffer.isBuffer(member)) {
      hasBuffer = true;
      break;
    }
  }
  if (!hasBuffer) return map;
  const out = new Map<unknown, unknown>();
  map.forEach((entry, member) => {
    if (!Buffer.isBuffer(member)) {
      out.set(member, entry);
      return;
    }
    const canonicalMember = canonicalBuffer(member);
    const scored = entry as { value?: unknown } | null;
    if (
      typeof scored === 'object' &&
      scored !== null &&
      Buffer.isBuffer(scored.value) &&
      scored.value.equals(canonicalMember)
    ) {
      scored.value = canonicalMember;
    }
    out.set(canonicalMember, entry);
  });
  return out;
}

function canonicalList(list: unknown[]): void {
  // A stream is an array of [id, fields] entries: its field values are not compared, and left as they are.
  if (list.length === 0 || Array.isArray(list[0])) return;
  for (let i = 0; i < list.length; i++) {
    const element = list[i];
    if (Buffer.isBuffer(element)) list[i] = canonicalBuffer(element);
  }
}
