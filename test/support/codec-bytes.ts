/** Helpers of the format specs: the errors the codec throws and the bytes it writes, spelled out. */
import { CodecError } from '../../lib/format/codec';

/** Returns the CodecError thrown by fn (failing the test if it throws anything else). */
export function codecError(fn: () => unknown): CodecError {
  try {
    fn();
  } catch (err) {
    if (err instanceof CodecError) return err;
    throw new Error(`expected a CodecError, got ${String(err)}`);
  }
  throw new Error('expected a CodecError, but nothing was thrown');
}

/** The bytes of a varuint (unsigned LEB128). */
export function varUint(n: number): number[] {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n % 0x80) | 0x80);
    n = Math.floor(n / 0x80);
  }
  out.push(n);
  return out;
}

/** The string body of an ASCII string: its header (UTF-8 byte length × 2), then its bytes. */
export function asciiBody(s: string): number[] {
  return [...varUint(s.length * 2), ...Buffer.from(s, 'latin1')];
}

export const bytes = (...b: number[]): Buffer => Buffer.from(b);
