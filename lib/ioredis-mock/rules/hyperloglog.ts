/**
 * HyperLogLog (https://redis.io/docs/latest/commands/?group=hyperloglog): PFADD, PFCOUNT and PFMERGE, which
 * ioredis-mock 8.13.1 lacks. A port of Redis 7.0's `hyperloglog.c`, so that a HyperLogLog is the same string here as
 * in Redis, byte for byte (GET, DUMP of it elsewhere, a restore from a snapshot): the `HYLL` header with its cached
 * cardinality, the sparse encoding (ZERO, XZERO and VAL opcodes, merged as Redis merges them) until it would pass
 * `hll-sparse-max-bytes` (3000) or a register passes 32, then the dense one (16384 registers of 6 bits),
 * MurmurHash64A, and Otmar Ertl's estimator. PFCOUNT of one key stores the cardinality it computed in the header, as
 * Redis does. Errors: `WRONGTYPE Key is not a valid HyperLogLog string value.` for a string that is not one, and
 * `INVALIDOBJ Corrupted HLL object detected` for a sparse one that does not add up.
 */
import { bytesOf, type CommandRule, encodedAs, holds, keyName, write } from '../command-rule';
import { type Arg, replyError, WRONGTYPE } from '../redis-replies';
import { keptExpiry } from '../expiry-rules';

const P = 14;
const Q = 64 - P;
const REGISTERS = 1 << P;
const REGISTER_MAX = 63;
const HEADER = 16;
const DENSE_SIZE = HEADER + Math.floor((REGISTERS * 6 + 7) / 8);
const DENSE = 0;
const SPARSE = 1;
const SPARSE_MAX_BYTES = 3000;
const VAL_MAX_VALUE = 32;
const VAL_MAX_LEN = 4;
const ZERO_MAX_LEN = 64;
const XZERO_MAX_LEN = 16384;
/** Redis's HLL_ALPHA_INF, 0.5 / ln 2, as a double. */
const ALPHA_INF = 0.7213475204444817;
const MAGIC = [0x48, 0x59, 0x4c, 0x4c]; // "HYLL"

const NOT_HLL = 'WRONGTYPE Key is not a valid HyperLogLog string value.';
const CORRUPTED = 'INVALIDOBJ Corrupted HLL object detected';

// ---- MurmurHash64A, as Redis computes it (endian-neutral) -------------------------------------------------------

const M = 0xc6a4a7935bd1e995n;
const u64 = (n: bigint): bigint => BigInt.asUintN(64, n);

function murmurHash64A(data: Buffer, seed: bigint): bigint {
  const length = data.length;
  let h = u64(seed ^ u64(BigInt(length) * M));
  const blocks = length - (length & 7);
  for (let i = 0; i < blocks; i += 8) {
    let k = data.readBigUInt64LE(i);
    k = u64(k * M);
    k ^= k >> 47n;
    k = u64(k * M);
    h ^= k;
    h = u64(h * M);
  }
  const rest = length & 7;
  if (rest > 0) {
    for (let i = rest - 1; i >= 0; i--) h ^= BigInt(data[blocks + i]) << BigInt(8 * i);
    h = u64(h * M);
  }
  h ^= h >> 47n;
  h = u64(h * M);
  h ^= h >> 47n;
  return h;
}

/** The register an element falls in, and the length of its hash's `000…1` pattern (Redis's `hllPatLen`). */
function patternOf(element: Buffer): { index: number; count: number } {
  let hash = murmurHash64A(element, 0xadc83b19n);
  const index = Number(hash & BigInt(REGISTERS - 1));
  hash >>= BigInt(P);
  hash |= 1n << BigInt(Q);
  let count = 1;
  while ((hash & 1n) === 0n) {
    count++;
    hash >>= 1n;
  }
  return { index, count };
}

// ---- the string: header, dense registers, sparse opcodes --------------------------------------------------------

/** A HyperLogLog string's bytes: a plain array while sparse (its opcodes are split and merged), else typed. */
type Bytes = number[] | Uint8Array;

/** A HyperLogLog string being read and changed: a sparse one may become dense. */
interface Sketch {
  bytes: Bytes;
}

function newSketch(): Sketch {
  const bytes = new Array<number>(HEADER).fill(0);
  MAGIC.forEach((byte, i) => (bytes[i] = byte));
  bytes[4] = SPARSE;
  // XZERO opcodes covering every register.
  for (let left = REGISTERS; left > 0; left -= XZERO_MAX_LEN) {
    const run = Math.min(XZERO_MAX_LEN, left) - 1;
    bytes.push((run >> 8) | 0x40, run & 0xff);
  }
  return { bytes };
}

/** A stored value as a HyperLogLog (Redis's `isHLLObjectOrReply`), or Redis's error. */
function sketchOf(stored: unknown): Sketch {
  if (!holds(stored, 'string')) throw replyError(WRONGTYPE);
  const bytes = bytesOf(stored);
  if (
    bytes.length < HEADER ||
    MAGIC.some((byte, i) => bytes[i] !== byte) ||
    bytes[4] > SPARSE ||
    (bytes[4] === DENSE && bytes.length !== DENSE_SIZE)
  ) {
    throw replyError(NOT_HLL);
  }
  if (bytes[4] === DENSE) return { bytes: new Uint8Array(bytes) };
  // A loop: Array.from iterates a Buffer one element at a time through its iterator, 40 times slower.
  const sparse = new Array<number>(bytes.length);
  for (let i = 0; i < bytes.length; i++) sparse[i] = bytes[i];
  return { bytes: sparse };
}

const invalidateCache = (hll: Bytes): void => {
  hll[15] |= 0x80;
};

function denseGet(hll: Bytes, register: number): number {
  const at = HEADER + ((register * 6) >> 3);
  const fb = (register * 6) & 7;
  const b0 = hll[at];
  const b1 = hll[at + 1] ?? 0;
  return ((b0 >> fb) | (b1 << (8 - fb))) & REGISTER_MAX;
}

function denseSetRegister(hll: Bytes, register: number, value: number): void {
  const at = HEADER + ((register * 6) >> 3);
  const fb = (register * 6) & 7;
  const fb8 = 8 - fb;
  hll[at] = (hll[at] & ~(REGISTER_MAX << fb) & 0xff) | ((value << fb) & 0xff);
  if (at + 1 < hll.length) {
    hll[at + 1] = (hll[at + 1] & ~(REGISTER_MAX >> fb8) & 0xff) | (value >> fb8);
  }
}

/** Raises the register to `count` if lower; whether it did (Redis's `hllDenseSet`). */
function denseSet(hll: Bytes, register: number, count: number): boolean {
  if (count <= denseGet(hll, register)) return false;
  denseSetRegister(hll, register, count);
  return true;
}

const isZero = (op: number): boolean => (op & 0xc0) === 0;
const isXzero = (op: number): boolean => (op & 0xc0) === 0x40;
const isVal = (op: number): boolean => (op & 0x80) !== 0;
const zeroLength = (op: number): number => (op & 0x3f) + 1;
const xzeroLength = (hll: Bytes, at: number): number => (((hll[at] & 0x3f) << 8) | hll[at + 1]) + 1;
const valValue = (op: number): number => ((op >> 2) & 0x1f) + 1;
const valLength = (op: number): number => (op & 0x3) + 1;
const valOp = (value: number, length: number): number => ((value - 1) << 2) | (length - 1) | 0x80;

/** A run of `length` zero registers: one ZERO opcode, or an XZERO of two bytes past 64. */
function zeroRun(length: number): number[] {
  return length > ZERO_MAX_LEN ? [((length - 1) >> 8) | 0x40, (length - 1) & 0xff] : [length - 1];
}

/**
 * Walks a sparse string's opcodes, calling `onValues` with each run of registers a VAL opcode sets (its first
 * register, its length, its value). Whether the opcodes covered exactly every register: a corrupted string does not,
 * and one with a run past the last register is corrupted at once (as in Redis's releases since the fix of
 * CVE-2025-32023, which redis-server answers with `INVALIDOBJ` for PFCOUNT and PFMERGE alike).
 */
function walkSparse(
  hll: Bytes,
  onValues: (first: number, run: number, value: number) => void,
): boolean {
  let register = 0;
  for (let p = HEADER; p < hll.length;) {
    const op = hll[p];
    if (isZero(op)) {
      register += zeroLength(op);
      p++;
    } else if (isXzero(op)) {
      register += xzeroLength(hll, p);
      p += 2;
    } else {
      const run = valLength(op);
      if (run + register > REGISTERS) return false;
      onValues(register, run, valValue(op));
      register += run;
      p++;
    }
  }
  return register === REGISTERS;
}

/** The sparse string as a dense one (Redis's `hllSparseToDense`); false if it does not add up. */
function toDense(sketch: Sketch): boolean {
  const hll = sketch.bytes;
  if (hll[4] === DENSE) return true;
  const dense = new Uint8Array(DENSE_SIZE);
  for (let i = 0; i < HEADER; i++) dense[i] = hll[i];
  dense[4] = DENSE;
  const valid = walkSparse(hll, (first, run, value) => {
    for (let i = first; i < first + run; i++) denseSetRegister(dense, i, value);
  });
  if (valid) sketch.bytes = dense;
  return valid;
}

/**
 * Raises a register of a sparse string to `count` (Redis's `hllSparseSet`): 1 if it changed, 0 if not, -1 for a
 * corrupted string. The opcode holding the register is split in up to three, neighbours of one value are merged, and
 * the string becomes dense when a value passes 32 or its length would pass `hll-sparse-max-bytes`.
 */
function sparseSet(sketch: Sketch, index: number, count: number): number {
  if (count > VAL_MAX_VALUE) return promote(sketch, index, count);
  const hll = sketch.bytes as number[];
  let end = hll.length;
  let p = HEADER;
  let first = 0;
  let prev = -1;
  let span = 0;
  while (p < end) {
    const op = hll[p];
    let length = 1;
    if (isZero(op)) span = zeroLength(op);
    else if (isVal(op)) span = valLength(op);
    else {
      span = xzeroLength(hll, p);
      length = 2;
    }
    if (index <= first + span - 1) break;
    prev = p;
    p += length;
    first += span;
  }
  if (span === 0 || p >= end) return -1;
  const op = hll[p];
  const zero = isZero(op);
  const xzero = isXzero(op);
  const run = zero ? zeroLength(op) : xzero ? xzeroLength(hll, p) : valLength(op);
  let done = false;
  if (!zero && !xzero) {
    if (valValue(op) >= count) return 0;
    if (run === 1) {
      hll[p] = valOp(count, 1);
      done = true;
    }
  } else if (zero && run === 1) {
    hll[p] = valOp(count, 1);
    done = true;
  }
  if (!done) {
    const last = first + span - 1;
    const seq: number[] = [];
    if (zero || xzero) {
      if (index !== first) seq.push(...zeroRun(index - first));
      seq.push(valOp(count, 1));
      if (index !== last) seq.push(...zeroRun(last - index));
    } else {
      const current = valValue(op);
      if (index !== first) seq.push(valOp(current, index - first));
      seq.push(valOp(count, 1));
      if (index !== last) seq.push(valOp(current, last - index));
    }
    const delta = seq.length - (xzero ? 2 : 1);
    if (delta > 0 && hll.length + delta > SPARSE_MAX_BYTES) return promote(sketch, index, count);
    hll.splice(p, xzero ? 2 : 1, ...seq);
    end += delta;
  }
  // Merge neighbouring VAL opcodes of one value, over up to 5 opcodes from the one before the change.
  p = prev >= 0 ? prev : HEADER;
  let scan = 5;
  while (p < end && scan-- !== 0) {
    if (isXzero(hll[p])) {
      p += 2;
      continue;
    }
    if (isZero(hll[p])) {
      p++;
      continue;
    }
    if (p + 1 < end && isVal(hll[p + 1])) {
      const value = valValue(hll[p]);
      if (value === valValue(hll[p + 1])) {
        const length = valLength(hll[p]) + valLength(hll[p + 1]);
        if (length <= VAL_MAX_LEN) {
          hll[p + 1] = valOp(value, length);
          hll.splice(p, 1);
          end--;
          continue;
        }
      }
    }
    p++;
  }
  invalidateCache(hll);
  return 1;
}

function promote(sketch: Sketch, index: number, count: number): number {
  if (!toDense(sketch)) return -1;
  denseSet(sketch.bytes, index, count);
  return 1;
}

/** Adds an element: 1 if a register changed, 0 if not, -1 for a corrupted string (Redis's `hllAdd`). */
function add(sketch: Sketch, element: Buffer): number {
  const { index, count } = patternOf(element);
  if (sketch.bytes[4] === DENSE) return denseSet(sketch.bytes, index, count) ? 1 : 0;
  return sparseSet(sketch, index, count);
}

/** Raises `max[i]` to each register of `hll` (Redis's `hllMerge`); false for a corrupted sparse string. */
function mergeInto(max: Uint8Array, hll: Bytes): boolean {
  if (hll[4] === DENSE) {
    for (let i = 0; i < REGISTERS; i++) max[i] = Math.max(max[i], denseGet(hll, i));
    return true;
  }
  return walkSparse(hll, (first, run, value) => {
    for (let i = first; i < first + run; i++) max[i] = Math.max(max[i], value);
  });
}

// ---- the estimate (Otmar Ertl, "New cardinality estimation algorithms for HyperLogLog sketches") --------------

function sigma(x: number): number {
  if (x === 1) return Infinity;
  let y = 1;
  let z = x;
  let previous: number;
  do {
    x *= x;
    previous = z;
    z += x * y;
    y += y;
  } while (previous !== z);
  return z;
}

function tau(x: number): number {
  if (x === 0 || x === 1) return 0;
  let y = 1;
  let z = 1 - x;
  let previous: number;
  do {
    x = Math.sqrt(x);
    previous = z;
    y *= 0.5;
    z -= (1 - x) * (1 - x) * y;
  } while (previous !== z);
  return z / 3;
}

/** The estimate from the registers' histogram (Redis's `hllCount`). */
function estimate(histogram: Float64Array): number {
  const m = REGISTERS;
  let z = m * tau((m - histogram[Q + 1]) / m);
  for (let j = Q; j >= 1; --j) {
    z += histogram[j];
    z *= 0.5;
  }
  z += m * sigma(histogram[0] / m);
  return Math.round((ALPHA_INF * m * m) / z);
}

/** The registers' histogram of a string; `undefined` for a sparse one that does not add up. */
function histogramOf(hll: Bytes): Float64Array | undefined {
  const histogram = new Float64Array(64);
  if (hll[4] === DENSE) {
    for (let i = 0; i < REGISTERS; i++) histogram[denseGet(hll, i)]++;
    return histogram;
  }
  let set = 0;
  const valid = walkSparse(hll, (_first, run, value) => {
    histogram[value] += run;
    set += run;
  });
  histogram[0] = REGISTERS - set;
  return valid ? histogram : undefined;
}

// ---- the commands -----------------------------------------------------------------------------------------------

/** A command's answer, and the new bytes of the key it wrote (`undefined`: none). */
export interface HllResult {
  readonly answer: unknown;
  readonly writes?: { readonly key: Arg; readonly bytes: Buffer };
}

/** PFADD key [element …]: 1 if the key was created or a register changed, else 0. */
export function pfadd(lookup: (key: string) => unknown, args: readonly Arg[]): HllResult {
  const stored = lookup(keyName(args[0]));
  const created = stored === undefined;
  const sketch = created ? newSketch() : sketchOf(stored);
  let updated = created;
  for (const element of args.slice(1)) {
    const changed = add(sketch, bytesOf(element));
    if (changed < 0) throw replyError(CORRUPTED);
    if (changed === 1) updated = true;
  }
  if (!updated) return { answer: 0 };
  invalidateCache(sketch.bytes);
  return { answer: 1, writes: { key: args[0], bytes: Buffer.from(sketch.bytes) } };
}

/**
 * PFCOUNT key [key …]: the estimate of one key (its cached one while valid, else computed and stored in its header),
 * or of the union of several (nothing stored).
 */
export function pfcount(lookup: (key: string) => unknown, args: readonly Arg[]): HllResult {
  if (args.length > 1) {
    const max = new Uint8Array(REGISTERS);
    for (const key of args) {
      const stored = lookup(keyName(key));
      if (stored === undefined) continue;
      if (!mergeInto(max, sketchOf(stored).bytes)) throw replyError(CORRUPTED);
    }
    const histogram = new Float64Array(64);
    for (const value of max) histogram[value]++;
    return { answer: estimate(histogram) };
  }
  const stored = lookup(keyName(args[0]));
  if (stored === undefined) return { answer: 0 };
  const { bytes } = sketchOf(stored);
  if ((bytes[15] & 0x80) === 0) {
    let cached = 0;
    for (let i = 15; i >= 8; i--) cached = cached * 256 + bytes[i];
    return { answer: cached };
  }
  const histogram = histogramOf(bytes);
  if (histogram === undefined) throw replyError(CORRUPTED);
  const count = estimate(histogram);
  let rest = count;
  for (let i = 8; i < 16; i++) {
    bytes[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return { answer: count, writes: { key: args[0], bytes: Buffer.from(bytes) } };
}

/** PFMERGE destkey [sourcekey …]: the union stored under the destination (itself one of the sources). */
export function pfmerge(lookup: (key: string) => unknown, args: readonly Arg[]): HllResult {
  const max = new Uint8Array(REGISTERS);
  let dense = false;
  for (const key of args) {
    const stored = lookup(keyName(key));
    if (stored === undefined) continue;
    const { bytes } = sketchOf(stored);
    if (bytes[4] === DENSE) dense = true;
    if (!mergeInto(max, bytes)) throw replyError(CORRUPTED);
  }
  const stored = lookup(keyName(args[0]));
  const sketch = stored === undefined ? newSketch() : sketchOf(stored);
  if (dense && !toDense(sketch)) throw replyError(CORRUPTED);
  for (let i = 0; i < REGISTERS; i++) {
    if (max[i] === 0) continue;
    if (sketch.bytes[4] === DENSE) denseSet(sketch.bytes, i, max[i]);
    else sparseSet(sketch, i, max[i]);
  }
  invalidateCache(sketch.bytes);
  return { answer: 'OK', writes: { key: args[0], bytes: Buffer.from(sketch.bytes) } };
}

type Command = (lookup: (key: string) => unknown, args: readonly Arg[]) => HllResult;

/**
 * A rule that answers the command, storing what it wrote (the key's TTL kept, as Redis changes it in place). A
 * `denyOom` command is refused when memory is over the limit even when it changes nothing, as Redis refuses it.
 */
function hllRule(arity: number, command: Command, denyOom: boolean): CommandRule {
  return {
    arity,
    check: (args, reader) => {
      const { answer, writes } = command((key) => reader.valueOf(key), args);
      if (writes === undefined) return denyOom ? write(() => answer) : { reply: answer };
      // Kept as bytes: a sketch is binary (no look for UTF-8 text in 12 KB at each write).
      const expiry = keptExpiry(reader, writes.key);
      // Redis's sketches are `raw` strings, however short.
      return encodedAs(
        { args: [writes.key, writes.bytes, ...expiry], command: 'set', answer: () => answer },
        reader,
        writes.key,
        'raw',
      );
    },
  };
}

export const hyperLogLogRules: Readonly<Record<string, CommandRule>> = {
  pfadd: hllRule(-2, pfadd, true),
  pfcount: hllRule(-2, pfcount, false),
  pfmerge: hllRule(-2, pfmerge, true),
};
