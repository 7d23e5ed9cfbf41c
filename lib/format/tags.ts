/** The codec's tag bytes and limits (the format is described in `codec.ts`). */

export const TAG_UNDEFINED = 0x01;
export const TAG_NULL = 0x02;
export const TAG_FALSE = 0x03;
export const TAG_TRUE = 0x04;
export const TAG_FLOAT64 = 0x05;
export const TAG_UINT = 0x06;
export const TAG_NEGINT = 0x07;
export const TAG_STRING = 0x08;
export const TAG_BYTES = 0x09;
export const TAG_ARRAY = 0x0a;
export const TAG_SET = 0x0b;
export const TAG_MAP = 0x0c;
export const TAG_OBJECT = 0x0d;
export const TAG_SCORED_MAP = 0x0e;
export const TAG_STREAM = 0x0f;

/** Maximum container nesting (a container directly inside a container is level 2). */
export const MAX_DEPTH = 64;
/** Largest number of entries V8 allows in a Map or Set. */
export const MAX_COLLECTION_SIZE = 2 ** 24;
/** A varuint never needs more than 8 bytes (8 × 7 = 56 bits >= 53). */
export const MAX_VARUINT_BYTES = 8;

export function isSafeUint(n: number): boolean {
  return Number.isSafeInteger(n) && n >= 0;
}
