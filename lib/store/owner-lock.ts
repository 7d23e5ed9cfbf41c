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
import { describeOwner, type Owner, thisProcess } from './owner-record';
import {
  ClaimContendedError,
  ClaimHooks,
  ClaimStuckError,
  giveUp,
  readClaim,
  sameOwner,
  takeName,
  Taken,
} from './owner-take';

export type { ClaimHooks, ClaimStep } from './owner-take';

/** Name of the owner file in the data directory. */
export const OWNER_FILE = 'owner.json';

const logger = new Logger(LOG_CONTEXT);

/** Data directories owned by this process, with the inode of the claim file each is held by. */
const ownedHere = new Map<string, { ino: bigint }>();

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
  const claim = { ino: take(dataDir, me, hooks) };
  ownedHere.set(dataDir, claim);
  return () => {
    if (ownedHere.get(dataDir) !== claim) return;
    ownedHere.delete(dataDir);
    giveUp(file, claim.ino, me);
  };
}

/**
 * Makes sure a data directory this process claimed is still claimed on disk: its claim file goes with the directory
 * when that is deleted or replaced. A claim still in place is kept as it is (giving it up to claim again would leave
 * the directory unclaimed meanwhile, for another process to take); a missing one is made again, and is then what the
 * function {@link claimDataDir} returned gives up. Throws as {@link claimDataDir} does; the directory stays owned by
 * this process meanwhile, so that the next call tries again.
 */
export function renewClaim(dataDir: string): void {
  const claim = ownedHere.get(dataDir);
  if (claim === undefined) throw new Error(`${dataDir} is not claimed by this process`);
  const file = join(dataDir, OWNER_FILE);
  const me = thisProcess();
  const found = readClaim(file);
  if (found?.ino === claim.ino && sameOwner(found.owner, me)) return;
  claim.ino = take(dataDir, me, {});
}

/** Takes the owner file of `dataDir` for `me` (see {@link claimDataDir}); returns the inode of the claim. */
function take(dataDir: string, me: Owner, hooks: ClaimHooks): bigint {
  const file = join(dataDir, OWNER_FILE);
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
  const { removed, failed } = removeLeftovers(file, me);
  if (removed.length > 0) {
    logger.log(CLAIM_FILES_REMOVED(dataDir, removed));
  }
  if (failed.length > 0) {
    logger.warn(CLAIM_FILES_NOT_REMOVED(dataDir, failed));
  }
  return taken.ino;
}
