/**
 * The two objects ioredis-mock's commands read and write the keyspace through, `client.data` and `client.expires`
 * (see `adapter.ts`), over a {@link Keyspace}: copies in and out, as ioredis-mock's own do, and ioredis-mock's
 * key-prefix rule.
 */
import { keyOf } from '../format/key-bytes';
import type { Keyspace } from '../keyspace/keyspace';
import { ListDeque } from '../format/list-deque';
import { StreamValue } from '../keyspace/streams';
import { LIST_WITH_HOLES, NOT_AN_INTEGER, replyError } from './redis-replies';

/** A key as ioredis-mock hands it over: as it was given, a Buffer too. */
export type MockKey = string | Buffer;

/** What ioredis-mock's commands call as `this.data`. */
export interface MockData {
  clear(): void;
  delete(key: MockKey): void;
  get(key: MockKey): unknown;
  has(key: MockKey): boolean;
  keys(): string[];
  set(key: MockKey, value: unknown): void;
  withKeyPrefix(prefix: string): MockData;
}

/** What ioredis-mock's commands call as `this.expires`. */
export interface MockExpires {
  clear(): void;
  delete(key: MockKey): void;
  get(key: MockKey): number | undefined;
  has(key: MockKey): boolean;
  isExpired(key: MockKey): boolean;
  set(key: MockKey, timestamp: number): void;
  withKeyPrefix(prefix: string): MockExpires;
}

/**
 * The key ioredis-mock's command names, with the prefix: it hands over keys as it was given them, Buffers too, and
 * a Buffer's bytes outside UTF-8 are kept apart (see `key-bytes.ts`), where a template string would read U+FFFD.
 */
function keyAt(prefix: string, key: MockKey): string {
  return prefix === '' ? keyOf(key) : prefix + keyOf(key);
}

/** Copies a value the way ioredis-mock does, so that nobody outside the keyspace can mutate a stored value. */
function shallowCopy(value: unknown): unknown {
  if (value instanceof StreamValue) return value.copy(); // its last id too (RENAME reads and writes through here)
  if (Array.isArray(value)) return value.slice();
  if (value instanceof ListDeque) return value.toArray(); // ioredis-mock's commands read lists as arrays
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  if (value instanceof Set) return new Set(value);
  if (value instanceof Map) return new Map(value);
  if (typeof value === 'object' && value !== null) return { ...value };
  return value;
}

/** The `client.data` view of `keyspace`. */
export function dataView(keyspace: Keyspace, prefix = ''): MockData {
  return {
    clear: () => keyspace.clear(),
    delete: (key) => keyspace.delete(keyAt(prefix, key)),
    get: (key) => {
      const k = keyAt(prefix, key);
      keyspace.expireIfDue(k);
      return shallowCopy(keyspace.valueOf(k));
    },
    has: (key) => {
      const k = keyAt(prefix, key);
      keyspace.expireIfDue(k);
      return keyspace.has(k);
    },
    keys: () => keyspace.liveKeys(prefix),
    set: (key, value) => {
      const k = keyAt(prefix, key);
      // Last line of defence where no command rule applies (a command without a rule): an ioredis-mock command that
      // indexes a list past its end would store an array with holes, which no snapshot can encode.
      if (Array.isArray(value) && value.includes(undefined)) throw replyError(LIST_WITH_HOLES(k));
      keyspace.set(k, shallowCopy(value));
    },
    withKeyPrefix: (newPrefix) => dataView(keyspace, newPrefix),
  };
}

/** The `client.expires` view of `keyspace`. */
export function expiresView(keyspace: Keyspace, prefix = ''): MockExpires {
  return {
    clear: () => keyspace.clearExpiries(),
    delete: (key) => keyspace.setExpiry(keyAt(prefix, key), undefined),
    get: (key) => keyspace.expiryOf(keyAt(prefix, key)),
    has: (key) => keyspace.expiryOf(keyAt(prefix, key)) !== undefined,
    isExpired: (key) => keyspace.isExpired(keyAt(prefix, key)),
    set: (key, timestamp) => {
      // ioredis-mock multiplies whatever TTL it is given (`EXPIRE k abc` gives NaN); the command rules refuse
      // such TTLs first, in scripts too, and this is the last line of defence. A NaN expiry would make the key
      // vanish at the next snapshot: refuse it with the error Redis gives for a TTL that is not an integer.
      const at = +timestamp;
      if (!Number.isFinite(at)) throw replyError(NOT_AN_INTEGER);
      keyspace.setExpiry(keyAt(prefix, key), at);
    },
    withKeyPrefix: (newPrefix) => expiresView(keyspace, newPrefix),
  };
}
