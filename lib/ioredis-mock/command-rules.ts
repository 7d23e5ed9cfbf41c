/**
 * The commands the embedded client corrects, and how (see {@link CommandRule}): one file of `rules/` per command
 * family, each saying what ioredis-mock 8.13.1 answers otherwise than Redis 7 and what its rules do about it, and
 * `expiry-rules.ts` for the expiry arguments of SET, SETEX, PSETEX, GETEX and the EXPIRE family.
 *
 * In short: every command of a family refuses a key of another type with Redis's WRONGTYPE error before it runs;
 * arities, integers, floats, scores, bounds and indexes are parsed as Redis parses them, in Redis's order, with its
 * error texts; lengths and offsets are in bytes; reads whose ioredis-mock answer is wrong are answered from the stored
 * value; a collection a command empties is deleted; text methods answer text, as ioredis does with Redis. The
 * differential test (`test/differential.e2e-spec.ts`) holds the families to redis-server's replies.
 */

import type { CommandRule } from './command-rule';
import { expiryRules } from './expiry-rules';
import { geoRules } from './rules/geo';
import { hashRules } from './rules/hashes';
import { keyRules } from './rules/keys';
import { collectionScanRules } from './scan-command';
import { hyperLogLogRules } from './rules/hyperloglog';
import { lcs } from './rules/lcs';
import { listRules } from './rules/lists';
import { serverRules } from './rules/server';
import { setRules } from './rules/sets';
import { sortRules } from './rules/sort';
import { sortedSetStoreRules } from './rules/sorted-set-stores';
import { sortedSetRules } from './rules/sorted-sets';
import { streamRules } from './rules/streams';
import { stringRules } from './rules/strings';

/** Commands by their lower-case ioredis-mock name, one file of `rules/` per command family. */
export const commandRules: Readonly<Record<string, CommandRule>> = {
  ...stringRules,
  lcs,
  ...hyperLogLogRules,
  ...hashRules,
  ...listRules,
  ...setRules,
  ...sortedSetRules,
  ...sortedSetStoreRules,
  ...geoRules,
  ...streamRules,
  ...keyRules,
  ...sortRules,
  ...collectionScanRules,
  // FLUSHALL, FLUSHDB, PING, ECHO, TIME and the like: their arguments
  ...serverRules,
  // expiry: SET, SETEX, PSETEX, GETEX, the EXPIRE family, TTL, PTTL, PERSIST, EXPIRETIME, PEXPIRETIME
  ...expiryRules,
};
