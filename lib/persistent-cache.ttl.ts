import { INVALID_OPTION } from './persistent-cache.messages';
import { parseDuration } from './persistent-cache.options';

/** What a TTL option of the integrations accepts. */
export const TTL_ACCEPTED =
  'a whole number of milliseconds above 0, or a duration such as "500ms", "30s", "10m", "1h", "7d"';

/**
 * A TTL option (`defaultTtl`) in milliseconds: validated where the integration is created, with the option's name in
 * the error. Unlike the snapshot interval it is not bound by `setInterval`'s limit: Redis takes any `PX` a 64-bit
 * integer holds, and days-long TTLs are common for sessions.
 */
export function parseTtl(value: unknown, option: string, owner: string): number {
  const ms = parseDuration(value, Number.MAX_SAFE_INTEGER);
  if (ms === undefined || ms === 0)
    throw new Error(INVALID_OPTION(option, TTL_ACCEPTED, value, owner));
  return ms;
}
