import { lstatSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { isAlive, Owner } from './owner-record';
import { giveUp, readClaim, removeIfThere, takeName } from './owner-take';
import { messageOf } from '../util/errors';

/** A temporary claim file naming no process is abandoned once this old: a claim publishes its file at once. */
const ABANDONED_TEMP_MS = 10 * 60_000;

const MARKER = /\.takeover\.\d+$/;

/**
 * Removes what claims of processes that no longer run left beside the owner file `file`: temporary files (never
 * used by anyone but their writer, so removing a dead writer's is safe) and take-over markers (taken over, then
 * given up, the same race-free way as the owner file: {@link takeName}). A live process's are left alone. Returns
 * the names removed, and what could not be checked or removed (`<name>: <error>`); never throws.
 */
export function removeLeftovers(file: string, me: Owner): { removed: string[]; failed: string[] } {
  const prefix = `${basename(file)}.`;
  const removed: string[] = [];
  const failed: string[] = [];
  let names: string[];
  try {
    names = readdirSync(dirname(file));
  } catch (error) {
    return { removed, failed: [`${dirname(file)}: ${messageOf(error)}`] };
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const path = join(dirname(file), name);
    try {
      if (name.endsWith('.tmp') ? removeTemp(path) : MARKER.test(name) && removeMarker(path, me)) {
        removed.push(name);
      }
    } catch (error) {
      failed.push(`${name}: ${messageOf(error)}`);
    }
  }
  return { removed, failed };
}

function removeTemp(path: string): boolean {
  const claim = readClaim(path);
  if (claim === undefined) return false;
  const abandoned =
    claim.owner === undefined
      ? Date.now() - lstatSync(path).mtimeMs > ABANDONED_TEMP_MS
      : !isAlive(claim.owner);
  if (abandoned) removeIfThere(path);
  return abandoned;
}

function removeMarker(path: string, me: Owner): boolean {
  const claim = readClaim(path);
  if (claim === undefined || (claim.owner !== undefined && isAlive(claim.owner))) return false;
  const taken = takeName(path, me, {}, path.split('.takeover.').length - 1);
  if (taken.won) giveUp(path, taken.ino, me);
  return taken.won;
}
