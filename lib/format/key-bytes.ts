import { isUtf8 } from 'buffer';

/**
 * Keys and hash field names as JS strings that keep their bytes.
 *
 * ioredis-mock holds keys (in the keyspace) and hash field names (as object properties) as JS strings, and Redis holds
 * them as bytes. A name given as bytes that are UTF-8 is its text, as before. A name given as bytes that are not
 * UTF-8 is decoded as Python's `surrogateescape` does: each byte that is not part of a valid UTF-8 sequence becomes
 * the lone surrogate U+DC80 + byte, which no UTF-8 decodes to. So `<ff>` and `<fe>` are two names (a plain UTF-8
 * decoding reads both as U+FFFD), and the bytes come back exactly with {@link keyToBytes}: in the `…Buffer` replies,
 * in snapshots (see `records.ts` and `writer.ts`), in the CLI's export to Redis.
 *
 * A name given as a JS string is taken as it is: one holding a lone surrogate U+DC80–U+DCFF (which ioredis would send
 * as U+FFFD) names the byte it stands for here.
 */

interface WellFormed {
  isWellFormed(): boolean;
}

/** String.prototype.isWellFormed (ES2024; present in Node >= 20, missing from the ES2023 lib). */
export function isWellFormed(s: string): boolean {
  return (s as unknown as WellFormed).isWellFormed();
}

const ESCAPE_BASE = 0xdc00;
const ESCAPE_MIN = 0xdc80;
const ESCAPE_MAX = 0xdcff;
const REPLACEMENT = Buffer.from('\ufffd', 'utf8');

/** The length of the valid UTF-8 sequence at `bytes[i]`, 0 when the bytes there are not one. */
function sequenceAt(bytes: Uint8Array, i: number, end: number): number {
  const b0 = bytes[i];
  if (b0 < 0x80) return 1;
  const cont = (at: number, min = 0x80, max = 0xbf): boolean =>
    at < end && bytes[at] >= min && bytes[at] <= max;
  if (b0 >= 0xc2 && b0 <= 0xdf) return cont(i + 1) ? 2 : 0;
  if (b0 >= 0xe0 && b0 <= 0xef) {
    // No overlong forms (E0 A0..), no UTF-16 surrogates (ED ..9F).
    const min = b0 === 0xe0 ? 0xa0 : 0x80;
    const max = b0 === 0xed ? 0x9f : 0xbf;
    return cont(i + 1, min, max) && cont(i + 2) ? 3 : 0;
  }
  if (b0 >= 0xf0 && b0 <= 0xf4) {
    // No overlong forms (F0 90..), nothing past U+10FFFF (F4 ..8F).
    const min = b0 === 0xf0 ? 0x90 : 0x80;
    const max = b0 === 0xf4 ? 0x8f : 0xbf;
    return cont(i + 1, min, max) && cont(i + 2) && cont(i + 3) ? 4 : 0;
  }
  return 0;
}

/** The name `bytes[start, end)` stand for: their UTF-8 text, each byte outside valid UTF-8 as U+DC80 + byte. */
export function keyFromBytes(bytes: Uint8Array, start = 0, end = bytes.length): string {
  const buf = Buffer.isBuffer(bytes)
    ? bytes
    : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length);
  if (isUtf8(buf.subarray(start, end))) return buf.toString('utf8', start, end);
  let out = '';
  let run = start;
  let i = start;
  while (i < end) {
    const n = sequenceAt(buf, i, end);
    if (n > 0) {
      i += n;
      continue;
    }
    if (run < i) out += buf.toString('utf8', run, i);
    out += String.fromCharCode(ESCAPE_BASE + buf[i]);
    i++;
    run = i;
  }
  if (run < end) out += buf.toString('utf8', run, end);
  return out;
}

/**
 * The name a command argument gives: a string as it is, bytes as {@link keyFromBytes} reads them. (A string is not
 * made well-formed here: the commands hand names they read on as strings, escapes included.)
 */
export function keyOf(arg: string | Buffer): string {
  return typeof arg === 'string' ? arg : keyFromBytes(arg);
}

/** Whether the lone surrogate at `s[i]` (one not in a pair) is a byte's escape. */
function isLoneAt(s: string, i: number, c: number): boolean {
  if (c >= 0xdc00 && c <= 0xdfff) {
    const before = i > 0 ? s.charCodeAt(i - 1) : 0;
    return !(before >= 0xd800 && before <= 0xdbff);
  }
  if (c >= 0xd800 && c <= 0xdbff) {
    const after = i + 1 < s.length ? s.charCodeAt(i + 1) : 0;
    return !(after >= 0xdc00 && after <= 0xdfff);
  }
  return false;
}

/**
 * The bytes of a name: its UTF-8, each escaped byte (see {@link keyFromBytes}) as that byte. Another lone surrogate
 * (which {@link keyOf} never makes) is written as U+FFFD, as `Buffer.from` writes it.
 */
export function keyToBytes(key: string): Buffer {
  if (isWellFormed(key)) return Buffer.from(key, 'utf8');
  const parts: Buffer[] = [];
  let run = 0;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0xd800 || c > 0xdfff || !isLoneAt(key, i, c)) continue;
    if (run < i) parts.push(Buffer.from(key.slice(run, i), 'utf8'));
    parts.push(c >= ESCAPE_MIN && c <= ESCAPE_MAX ? Buffer.of(c - ESCAPE_BASE) : REPLACEMENT);
    run = i + 1;
  }
  if (run < key.length) parts.push(Buffer.from(key.slice(run), 'utf8'));
  return Buffer.concat(parts);
}

/** Whether `key` holds escaped bytes (then {@link keyToBytes} differs from its UTF-8). */
export function hasEscapes(key: string): boolean {
  return !isWellFormed(key);
}

/** The name as an ioredis text method gives it: its bytes decoded as UTF-8, bytes outside UTF-8 as U+FFFD. */
export function keyAsText(key: string): string {
  return isWellFormed(key) ? key : keyToBytes(key).toString('utf8');
}

/** The number of bytes of a name (see {@link keyToBytes}). */
export function keyByteLength(key: string): number {
  return isWellFormed(key) ? Buffer.byteLength(key, 'utf8') : keyToBytes(key).length;
}
