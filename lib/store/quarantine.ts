import { renameSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { PATH_IN_THE_WAY, QUARANTINE_FAILED } from './store.messages';
import {
  kindOf,
  lockFileOf,
  makeDirectory,
  QUARANTINE_DIR,
  statIfAny,
  STORE_FILE,
} from './data-dir';
import { errnoCode, StoreEnvironmentError } from './store-errors';
import { messageOf } from '../util/errors';

/**
 * Moves the store's files into `<dataDir>/quarantine/<time>/` — never deletes them — leaving the directory ready for
 * a new, empty store. All or nothing: if a file cannot be moved, those already moved are moved back and a
 * {@link StoreEnvironmentError} says why, so that the next start finds the store where it was instead of starting
 * empty beside it. Returns where the files went.
 */
export function quarantineStore(dataDir: string, now = new Date()): string {
  const base = join(dataDir, QUARANTINE_DIR);
  const baseStat = statIfAny(base);
  if (baseStat !== undefined && !baseStat.isDirectory()) {
    throw new StoreEnvironmentError(
      PATH_IN_THE_WAY(base, kindOf(baseStat), 'the directory damaged stores are moved into'),
    );
  }
  let target = join(base, now.toISOString().replace(/[:.]/g, '-'));
  for (let n = 2; statIfAny(target) !== undefined; n++) {
    target = join(base, `${now.toISOString().replace(/[:.]/g, '-')}-${n}`);
  }
  try {
    makeDirectory(target);
  } catch (error) {
    const code = errnoCode(error);
    throw new StoreEnvironmentError(
      QUARANTINE_FAILED(dataDir, target, `cannot create it: ${messageOf(error)}`, code, []),
      code,
    );
  }
  // The lock file first: should the store file then fail to move, the store is still whole where it was.
  const names = [lockFileOf(STORE_FILE), STORE_FILE].filter(
    (name) => statIfAny(join(dataDir, name)) !== undefined,
  );
  const moved: string[] = [];
  for (const name of names) {
    const file = join(dataDir, name);
    try {
      renameSync(file, join(target, name));
      moved.push(name);
    } catch (error) {
      const stuck = moveBack(moved, dataDir, target);
      if (stuck.length === 0) {
        try {
          rmdirSync(target);
        } catch {
          // An empty directory left in quarantine/ is harmless.
        }
      }
      const code = errnoCode(error);
      throw new StoreEnvironmentError(
        QUARANTINE_FAILED(dataDir, target, `cannot move ${file}: ${messageOf(error)}`, code, stuck),
        code,
      );
    }
  }
  return target;
}

/** Moves the files `names` back from `target`, last first. Returns the paths of those that could not be. */
function moveBack(names: readonly string[], dataDir: string, target: string): string[] {
  const stuck: string[] = [];
  for (const name of [...names].reverse()) {
    try {
      renameSync(join(target, name), join(dataDir, name));
    } catch {
      stuck.push(join(target, name));
    }
  }
  return stuck;
}
