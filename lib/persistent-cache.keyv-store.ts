import { EventEmitter } from 'node:events';
import type { Cluster, Redis } from 'ioredis';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { INVALID_OPTION, KEYV_CLEAR_WITHOUT_NAMESPACE } from './persistent-cache.messages';
import { parseTtl } from './persistent-cache.ttl';

const OWNER = 'PersistentCacheKeyvStore';

/** Options of {@link PersistentCacheKeyvStore}. */
export interface PersistentCacheKeyvStoreOptions {
  /**
   * TTL of the keys written without one (neither cache-manager's `ttl` nor Keyv's `ttl` nor a per-call TTL):
   * milliseconds, or a duration such as `"10m"`. Default none: such keys never expire.
   */
  defaultTtl?: number | string;
  /** Keys `clear()` deletes per round trip (SCAN's COUNT, and one UNLINK each). Default 500. */
  clearBatch?: number;
}

/**
 * A Keyv store (`KeyvStoreAdapter`) on the cache's client, for `cache-manager` 6/7 and so for
 * `@nestjs/cache-manager` 3: `new Keyv({ store: new PersistentCacheKeyvStore(redis), namespace: 'http' })`.
 *
 * Keyv hands it keys already prefixed with its namespace (`http:<key>`) and values already serialized (a string
 * holding the value and its expiry), so each entry is one Redis string: the embedded cache snapshots and restores
 * it like any other key, and in `redis` mode it is an ordinary key of that Redis. A TTL (milliseconds, from
 * cache-manager or Keyv) becomes the key's `PX`, so Redis (or the embedded cache) expires it on its own, and a key
 * written without one gets {@link PersistentCacheKeyvStoreOptions.defaultTtl}.
 *
 * `clear()` deletes the namespace's keys only (SCAN `<namespace>:*` and UNLINK), never the rest of the keyspace the
 * application shares with it; with no namespace it refuses. `disconnect()` does nothing: the client belongs to
 * `PersistentCacheModule`, which closes it at shutdown.
 */
export class PersistentCacheKeyvStore extends EventEmitter implements KeyvStoreAdapter {
  /** Set by Keyv to its namespace. */
  namespace: string | undefined;
  readonly opts: { readonly defaultTtlMs: number | undefined; readonly dialect: 'redis' };
  private readonly clearBatch: number;

  constructor(
    private readonly client: Redis | Cluster,
    options: PersistentCacheKeyvStoreOptions = {},
  ) {
    super();
    const defaultTtlMs =
      options.defaultTtl === undefined
        ? undefined
        : parseTtl(options.defaultTtl, 'defaultTtl', OWNER);
    const clearBatch = options.clearBatch ?? 500;
    if (!Number.isInteger(clearBatch) || clearBatch < 1) {
      throw new Error(
        INVALID_OPTION('clearBatch', 'a whole number, at least 1', clearBatch, OWNER),
      );
    }
    this.clearBatch = clearBatch;
    this.opts = { defaultTtlMs, dialect: 'redis' };
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const value = await this.client.get(key);
    return (value ?? undefined) as StoredData<Value> | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    if (keys.length === 0) return [];
    const values = await this.client.mget(keys);
    return values.map((value) => (value ?? undefined) as StoredData<Value | undefined>);
  }

  /** `ttl`: milliseconds; 0 or none means {@link PersistentCacheKeyvStoreOptions.defaultTtl}. */
  async set(key: string, value: unknown, ttl?: number): Promise<boolean> {
    const ms = this.ttlOf(ttl);
    const text = serialized(value);
    const reply =
      ms === undefined
        ? await this.client.set(key, text)
        : await this.client.set(key, text, 'PX', ms);
    return reply === 'OK';
  }

  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    if (entries.length === 0) return;
    const multi = this.client.multi();
    for (const { key, value, ttl } of entries) {
      const ms = this.ttlOf(ttl);
      if (ms === undefined) multi.set(key, serialized(value));
      else multi.set(key, serialized(value), 'PX', ms);
    }
    await execOrThrow(multi.exec());
  }

  async delete(key: string): Promise<boolean> {
    return (await this.client.del(key)) > 0;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    if (keys.length === 0) return false;
    return (await this.client.del(keys)) > 0;
  }

  async has(key: string): Promise<boolean> {
    return (await this.client.exists(key)) === 1;
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    if (keys.length === 0) return [];
    const multi = this.client.multi();
    for (const key of keys) multi.exists(key);
    const replies = await execOrThrow(multi.exec());
    return replies.map((reply) => reply === 1);
  }

  /** Deletes the keys of this store's namespace, and nothing else. */
  async clear(): Promise<void> {
    const { namespace } = this;
    if (namespace === undefined || namespace === '') throw new Error(KEYV_CLEAR_WITHOUT_NAMESPACE);
    const match = `${escapeGlob(namespace)}:*`;
    // Each page is deleted as it comes: deleting keys during a walk moves no other key (Redis's SCAN guarantee,
    // which the embedded client keeps too), and a key SCAN returns twice is simply deleted once.
    let cursor = '0';
    do {
      const [next, found] = await this.client.scan(
        cursor,
        'MATCH',
        match,
        'COUNT',
        this.clearBatch,
      );
      if (found.length > 0) await this.client.unlink(found);
      cursor = next;
    } while (cursor !== '0');
  }

  /** The module owns the client and closes it at shutdown: nothing to do here. */
  async disconnect(): Promise<void> {}

  private ttlOf(ttl: number | undefined): number | undefined {
    if (ttl === undefined || ttl === 0) return this.opts.defaultTtlMs;
    if (!Number.isFinite(ttl) || ttl < 0) return this.opts.defaultTtlMs;
    return Math.max(1, Math.ceil(ttl));
  }
}

/** Keyv serializes before it stores; a Keyv without a serializer hands objects over, kept as JSON. */
function serialized(value: unknown): string | Buffer {
  return typeof value === 'string' || Buffer.isBuffer(value) ? value : JSON.stringify(value);
}

/** A Redis glob pattern that matches `text` literally. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}

/** The replies of a MULTI, or its first error. */
async function execOrThrow(
  replies: Promise<[error: Error | null, result: unknown][] | null>,
): Promise<unknown[]> {
  const results = await replies;
  if (results === null) throw new Error('MULTI was aborted');
  return results.map(([error, result]) => {
    if (error !== null) throw error;
    return result;
  });
}
