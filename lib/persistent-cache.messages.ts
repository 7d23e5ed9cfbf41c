/**
 * The messages of the module layer (options and environment). Each layer keeps its own: see
 * `store/store.messages.ts`, `snapshots/snapshots.messages.ts` and the error replies in `ioredis-mock/redis-replies.ts`.
 * Tests assert against the same functions.
 */
import { describeValue } from './util/describe-value';

export const INVALID_OPTION = (option: string, accepted: string, got: unknown): string =>
  `Invalid PersistentCacheModule option "${option}": expected ${accepted}, got ${describeValue(got)}.`;

export const UNKNOWN_OPTION = (option: string, known: readonly string[]): string =>
  `Unknown PersistentCacheModule option "${option}"; known options are: ${known.join(', ')}.`;

export const INVALID_ENV = (variable: string, accepted: string, got: string): string =>
  `Invalid environment variable ${variable}: expected ${accepted}, got ${JSON.stringify(got)}.`;
