import { Logger } from '@nestjs/common';
import { join } from 'node:path';
import {
  CLAIM_FILES_NOT_REMOVED,
  CLAIM_FILES_REMOVED,
  CLAIM_TAKEN_OVER,
  DATA_DIR_CLAIM_CONTENDED,
  DATA_DIR_CLAIM_STUCK,
  DATA_DIR_IN_USE,
  OWNED_IN_THIS_PROCESS,
} from './store.messages';
import { LOG_CONTEXT } from '../util/log-context';
import { removeLeftovers } from './owner-leftovers';
import { describeOwner, thisProcess } from './owner-record';
import {
  ClaimContendedError,
  ClaimHooks,
  ClaimStuckError,
  giveUp,
  takeName,
  Taken,
} from './owner-take';

export type { ClaimHooks, ClaimStep } from './owner-take';

/** Name of the owner file in the data directory. */
export const OWNER_FILE = 'owner.json';

const logger = new Logger(LOG_CONTEXT);

/** Data directories owned by this process, so that a second app in the same process is refused too. */
const ownedHere = new Set<string>();

/**
 * Claims the data directory for this process: one writer per snapshot store. A claim left by a process that no
 * longer runs (killed, crashed), or one naming no process, is taken over; one held by a live process, or by another
 * app in this process, is refused with an error naming it. Of processes claiming at once, exactly one wins (see
 * `owner-take.ts`). `hooks` lets tests pause the claim between steps. Returns the function that gives it up.
 */
export function claimDataDir(dataDir: string, hooks: ClaimHooks = {}): () => void {
  if (ownedHere.has(dataDir)) {
    throw new Error(DATA_DIR_IN_USE(dataDir, OWNED_IN_THIS_PROCESS(process.pid)));
  }
  const file = join(dataDir, OWNER_FILE);
  const me = thisProcess();
  let taken: Taken;
  try {
    taken = takeName(file, me, hooks);
  } catch (error) {
    if (error instanceof ClaimStuckError)
      throw new Error(DATA_DIR_CLAIM_STUCK(dataDir, error.path));
    if (error instanceof ClaimContendedError) throw new Error(DATA_DIR_CLAIM_CONTENDED(dataDir));
    throw error;
  }
  if (!taken.won) throw new Error(DATA_DIR_IN_USE(dataDir, describeOwner(taken.holder)));
  if (taken.replaced !== undefined) {
    const from =
      taken.replaced === null ? 'a claim naming no process' : describeOwner(taken.replaced);
    logger.warn(CLAIM_TAKEN_OVER(dataDir, from));
  }
  ownedHere.add(dataDir);
  const { removed, failed } = removeLeftovers(file, me);
  if (removed.length > 0) {
    logger.log(CLAIM_FILES_REMOVED(dataDir, removed));
  }
  if (failed.length > 0) {
    logger.warn(CLAIM_FILES_NOT_REMOVED(dataDir, failed));
  }
  const { ino } = taken;
  return () => {
    ownedHere.delete(dataDir);
    giveUp(file, ino, me);
  };
}
