/**
 * When a snapshot is full and when incremental, and when the store file is worth compacting: pure functions of
 * the committed chain and the keyspace's counts, each rule tested on its own (`snapshot-policy.spec.ts`).
 */
import type { GenerationKind, Manifest } from '../format/manifest';

/**
 * An incremental chain longer than this is folded into a full snapshot. It bounds the manifest (rewritten at each
 * commit) and the generations a restore walks; what a restore reads is bounded by {@link MAX_INCREMENTS_SHARE}.
 * Snapshots every second under a steady load write increments of about 0.6% of the full one each: with 32, a full
 * snapshot of 1M keys (seconds of CPU) came every 33 s and cost more CPU than all the increments together.
 */
export const MAX_CHAIN_LENGTH = 256;
/**
 * Once the increments hold more bytes than this share of the full generation, a full snapshot is due: it bounds a
 * restore's reading to 1.75× the full one, and the store file, whose largest size comes when a full snapshot is
 * written beside the chain it replaces (that chain is kept until the new one commits), to about 2.75× of it.
 */
export const MAX_INCREMENTS_SHARE = 0.75;
/** When more than this share of the keys changed, a full snapshot is cheaper to restore and no slower to take. */
export const MAX_CHANGED_SHARE = 0.25;
/** Changed keys an incremental snapshot may always hold, however small the keyspace. */
export const MIN_CHANGED_LIMIT = 1000;
/** A store file is worth compacting once it is this many times the size of the chain it holds... */
export const COMPACT_RATIO = 4;
/** ...and at least this much of it is free pages. */
export const COMPACT_MIN_FREE_BYTES = 64 * 2 ** 20;

/** What the keyspace holds when a snapshot begins. */
export interface KeyspaceCounts {
  /** Keys held (expired ones not yet removed included). */
  readonly keys: number;
  /** Keys changed since the last snapshot, or `undefined` when the keyspace cannot tell (a full one is due). */
  readonly changed: number | undefined;
}

/**
 * Full or incremental. Incremental only when there is a chain to extend and the keyspace knows what changed, and
 * then full when any of these holds:
 * 1. the chain already has {@link MAX_CHAIN_LENGTH} increments;
 * 2. the increments hold more bytes than {@link MAX_INCREMENTS_SHARE} of the full generation they extend;
 * 3. the keyspace holds fewer than half the full generation's records: a full snapshot is smaller than it, and
 *    frees its pages;
 * 4. more keys changed than {@link MAX_CHANGED_SHARE} of the keyspace (and more than {@link MIN_CHANGED_LIMIT}).
 */
export function chooseKind(
  manifest: Manifest | undefined,
  keyspace: KeyspaceCounts,
): GenerationKind {
  const changed = keyspace.changed;
  if (manifest === undefined || changed === undefined) return 'full';
  const [base, ...increments] = manifest.generations;
  if (increments.length >= MAX_CHAIN_LENGTH) return 'full';
  if (increments.reduce((sum, g) => sum + g.bytes, 0) > base.bytes * MAX_INCREMENTS_SHARE) {
    return 'full';
  }
  if (keyspace.keys * 2 < base.records) return 'full';
  if (changed > Math.max(MIN_CHANGED_LIMIT, keyspace.keys * MAX_CHANGED_SHARE)) return 'full';
  return 'incremental';
}

/**
 * Whether a store file of `fileBytes` holding a chain of `chainBytes` is mostly free pages: after a burst of keys
 * since deleted, or a full disk's failed snapshots. LMDB reuses free pages, so a file up to a few times its chain
 * (a full snapshot written beside the chain it replaces, and its increments) is its steady size.
 */
export function worthCompacting(fileBytes: number, chainBytes: number): boolean {
  return fileBytes > COMPACT_RATIO * chainBytes && fileBytes - chainBytes >= COMPACT_MIN_FREE_BYTES;
}
