import type { Cluster, Redis } from 'ioredis';
import {
  INTEGRATION_NEEDS_CLIENT,
  INVALID_OPTION,
  UNKNOWN_OPTION,
} from './persistent-cache.messages';

/**
 * The checks of what an integration's constructor is given (`owner`: its class), made where it is created, as the
 * module checks its options: a client that is not one (`undefined` from a factory without `inject: [CACHE]`) would
 * otherwise fail later with a `TypeError`, at the first request, and a misspelt option (`defaultTTL`) would be
 * ignored.
 */

/** Throws unless `client` is an ioredis client (`Redis` or `Cluster`, the cache's or a real one). */
export function requireClient(client: unknown, owner: string): asserts client is Redis | Cluster {
  const candidate = client as { get?: unknown; multi?: unknown } | null | undefined;
  if (
    typeof candidate !== 'object' ||
    candidate === null ||
    typeof candidate.get !== 'function' ||
    typeof candidate.multi !== 'function'
  ) {
    throw new Error(INTEGRATION_NEEDS_CLIENT(owner, client));
  }
}

/** Throws unless `options` is an object whose keys are all `known`. */
export function checkOptionKeys(options: unknown, known: readonly string[], owner: string): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new Error(INVALID_OPTION('options', 'an object', options, owner));
  }
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new Error(UNKNOWN_OPTION(key, known, owner));
  }
}
