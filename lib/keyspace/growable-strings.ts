/**
 * Large strings that SETBIT, SETRANGE, APPEND and BITFIELD change in place (see `ioredis-mock/rules/strings.ts`).
 *
 * ioredis-mock stores a new copy of a string at each write: a SETBIT to a bitmap of 64 MB cost half a second, and a
 * string built by APPENDs cost the square of its length. Redis changes its string (an sds) in place, with spare
 * capacity grown geometrically. A growable string is the same thing in JS: a Buffer of the string's length (the
 * value the keyspace stores, and everything reads) over the start of an ArrayBuffer of more bytes, which the keyspace
 * owns alone: the writes above change its bytes and, when the string grows within its capacity, store a new view of
 * the same memory; past it, the bytes are copied into a larger ArrayBuffer. Every read sees the view, never the spare
 * bytes after it.
 *
 * An ArrayBuffer is marked here once it is made for this, and only then changed in place: a Buffer given by the app,
 * decoded from a snapshot or copied by ioredis-mock may share its memory with something else (Node's pool of small
 * Buffers, a caller's own), and is copied into a growable one at its first such write. Nothing else may hold the
 * stored view: replies and ioredis-mock's reads copy it, and a capture keeps the string aside before it changes (see
 * `KeyWriter.inPlace`).
 */

/** ArrayBuffers made for growable strings: each is held by one stored string alone. */
const growable = new WeakSet<ArrayBufferLike>();

/** The most spare capacity a growth adds, as Redis's `SDS_MAX_PREALLOC`: 1 MiB. */
const MAX_PREALLOC = 1024 * 1024;

/** Whether `value` is a growable string (a view at the start of an ArrayBuffer marked here). */
export function isGrowable(value: unknown): value is Buffer {
  return Buffer.isBuffer(value) && owned(value);
}

function owned(value: Buffer): boolean {
  return value.byteOffset === 0 && growable.has(value.buffer);
}

/** The bytes a stored string holds: its capacity if it is growable, else its length. */
export function heldBytes(value: Buffer): number {
  return owned(value) ? value.buffer.byteLength : value.length;
}

/** The capacity Redis's `sdsMakeRoomFor` gives a string that grows to `length`: twice that, or 1 MiB more. */
function roomFor(length: number): number {
  return length < MAX_PREALLOC ? length * 2 : length + MAX_PREALLOC;
}

/** A new growable string of `length` bytes and `capacity` bytes in all: `bytes` first, then zero bytes. */
function made(bytes: Uint8Array, length: number, capacity: number): Buffer {
  const memory = new ArrayBuffer(capacity);
  growable.add(memory);
  const view = Buffer.from(memory, 0, length);
  view.set(bytes.length > length ? bytes.subarray(0, length) : bytes);
  return view;
}

/**
 * A growable string of `length` bytes (at least `bytes.length`) starting with a copy of `bytes`, zero bytes after
 * them. As Redis sizes it: exactly for a new key (`created`), else with room to grow if it grew.
 */
export function growableCopy(bytes: Uint8Array, length: number, created: boolean): Buffer {
  const capacity = created || length <= bytes.length ? length : roomFor(length);
  return made(bytes, length, capacity);
}

/**
 * The growable string `stored` made `length` bytes long (never shorter), the bytes added zero: a new view of its
 * memory while it fits (the memory is then the same, changed in place), else a copy into a larger one (Redis's
 * `sdsgrowzero`). Changes nothing of `stored` itself.
 */
export function grown(stored: Buffer, length: number): Buffer {
  if (length <= stored.length) return stored;
  const memory = stored.buffer;
  if (length > memory.byteLength) return made(stored, length, roomFor(length));
  // The spare bytes are zero (a write never reaches past the length): filled again all the same, as sds does.
  const view = Buffer.from(memory, 0, length);
  view.fill(0, stored.length);
  return view;
}
