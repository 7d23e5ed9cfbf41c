/**
 * LCS key1 key2 [LEN] [IDX] [MINMATCHLEN len] [WITHMATCHLEN] (https://redis.io/docs/latest/commands/lcs/), which
 * ioredis-mock 8.13.1 lacks: computed as Redis 7.0's `lcsCommand` computes it, over the strings' bytes. The keys'
 * types are checked before the options (`ERR The specified keys must contain string values`; a missing key is an
 * empty string), then the options in any order and case. The common subsequence is the one Redis's walk back through
 * its table finds, and `IDX` lists its matching ranges as Redis does (last first, `MINMATCHLEN` dropping the shorter
 * ones). As in Redis, the table takes (n + 1) × (m + 1) cells for strings of n and m bytes, and is refused beyond
 * `proto-max-bulk-len` (512 MB at 4 bytes a cell); here a cell takes 1, 2 or 4 bytes (by the shorter string's
 * length), and `LEN` alone keeps two rows of it.
 */
import { bytesOf, type CommandRule, holds, keyName, reply } from '../command-rule';
import { type Arg, integerArg, optionName, replyError, SYNTAX_ERROR } from '../redis-replies';
import type { Lookup } from './sorted-set-stores';

const NOT_STRINGS = 'ERR The specified keys must contain string values';
const LEN_AND_IDX = 'ERR If you want both the length and indexes, please just use IDX.';
const TOO_LARGE = 'ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len';
/** Redis's default `proto-max-bulk-len`, which bounds LCS's table (of 4-byte cells there). */
const PROTO_MAX_BULK_LEN = 512 * 1024 * 1024;

interface LcsOptions {
  readonly idx: boolean;
  readonly len: boolean;
  readonly withMatchLen: boolean;
  readonly minMatchLen: bigint;
}

function lcsOptions(args: readonly Arg[]): LcsOptions {
  let idx = false;
  let len = false;
  let withMatchLen = false;
  let minMatchLen = 0n;
  for (let j = 2; j < args.length; j++) {
    const option = optionName(args[j]);
    if (option === 'IDX') idx = true;
    else if (option === 'LEN') len = true;
    else if (option === 'WITHMATCHLEN') withMatchLen = true;
    else if (option === 'MINMATCHLEN' && j + 1 < args.length) {
      const n = integerArg(args[++j]);
      minMatchLen = n < 0n ? 0n : n;
    } else {
      throw replyError(SYNTAX_ERROR);
    }
  }
  if (idx && len) throw replyError(LEN_AND_IDX);
  return { idx, len, withMatchLen, minMatchLen };
}

/** A string key's bytes: an empty string for a missing key, Redis's error for another type. */
function stringAt(lookup: Lookup, key: Arg): Buffer {
  const value = lookup(keyName(key));
  if (value === undefined) return Buffer.alloc(0);
  if (!holds(value, 'string')) throw replyError(NOT_STRINGS);
  return bytesOf(value);
}

/** The length of the longest common subsequence of `a` and `b`, with two rows of the table. */
function lcsLength(a: Buffer, b: Buffer): number {
  let previous = new Uint32Array(b.length + 1);
  let row = new Uint32Array(b.length + 1);
  for (let i = 1; i <= a.length; i++) {
    const ai = a[i - 1];
    for (let j = 1; j <= b.length; j++) {
      row[j] = ai === b[j - 1] ? previous[j - 1] + 1 : Math.max(previous[j], row[j - 1]);
    }
    [previous, row] = [row, previous];
  }
  return previous[b.length];
}

/** LCS's reply (see the top of this file). */
export function lcsAnswer(lookup: Lookup, args: readonly Arg[]): unknown {
  const a = stringAt(lookup, args[0]);
  const b = stringAt(lookup, args[1]);
  const { idx, len, withMatchLen, minMatchLen } = lcsOptions(args);
  const width = b.length + 1;
  const cells = (a.length + 1) * width;
  if (cells * 4 > PROTO_MAX_BULK_LEN) throw replyError(TOO_LARGE);
  if (len) return lcsLength(a, b);
  // The table: LCS[i][j] is the length of the LCS of a[0, i) and b[0, j), at most the shorter string's length.
  const shorter = Math.min(a.length, b.length);
  const table =
    shorter < 0x100
      ? new Uint8Array(cells)
      : shorter < 0x10000
        ? new Uint16Array(cells)
        : new Uint32Array(cells);
  for (let i = 1; i <= a.length; i++) {
    const ai = a[i - 1];
    const row = i * width;
    const above = row - width;
    for (let j = 1; j <= b.length; j++) {
      table[row + j] =
        ai === b[j - 1] ? table[above + j - 1] + 1 : Math.max(table[above + j], table[row + j - 1]);
    }
  }
  const length = table[cells - 1];
  // Redis's walk back from the end: a match takes the byte and extends the current range backwards; otherwise it
  // steps back in `a` where that keeps a strictly longer subsequence, else in `b`, and a range in progress ends.
  const result = Buffer.alloc(length);
  const matches: unknown[] = [];
  let at = length;
  let i = a.length;
  let j = b.length;
  let aStart = a.length; // a.length: no range in progress
  let aEnd = 0;
  let bStart = 0;
  let bEnd = 0;
  while (i > 0 && j > 0) {
    let emit = false;
    if (a[i - 1] === b[j - 1]) {
      result[at - 1] = a[i - 1];
      if (aStart === a.length) {
        aStart = aEnd = i - 1;
        bStart = bEnd = j - 1;
      } else if (aStart === i && bStart === j) {
        aStart--;
        bStart--;
      } else {
        emit = true;
      }
      if (aStart === 0 || bStart === 0) emit = true;
      at--;
      i--;
      j--;
    } else {
      if (table[(i - 1) * width + j] > table[i * width + j - 1]) i--;
      else j--;
      if (aStart !== a.length) emit = true;
    }
    if (emit) {
      const matchLen = aEnd - aStart + 1;
      if (idx && (minMatchLen === 0n || BigInt(matchLen) >= minMatchLen)) {
        const match: unknown[] = [
          [aStart, aEnd],
          [bStart, bEnd],
        ];
        if (withMatchLen) match.push(matchLen);
        matches.push(match);
      }
      aStart = a.length;
    }
  }
  return idx ? ['matches', matches, 'len', length] : result;
}

/** LCS key1 key2 [options]: answered from the stored strings. */
export const lcs: CommandRule = {
  arity: -3,
  check: (args, reader) => reply(lcsAnswer((key) => reader.valueOf(key), args)),
};
