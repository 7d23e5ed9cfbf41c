import { EventEmitter } from 'node:events';
import type { Cluster, Redis } from 'ioredis';
import type { KeyvStoreAdapter, StoredData } from 'keyv';
import { keySlot } from './util/key-slot';
import { INVALID_OPTION, KEYV_CLEAR_WITHOUT_NAMESPACE } from './persistent-cache.messages';
import { checkOptionKeys, requireClient } from './persistent-cache.integration-args';
import { parseTtl } from './persistent-cache.ttl';

const OWNER = 'PersistentCacheKeyvStore';
const KNOWN_OPTIONS: readonly (keyof PersistentCacheKeyvStoreOptions)[] = [
  'defaultTtl',
  'clearBatch',
];

/** Options of {@link PersistentCacheKeyvStore}. */
export interface PersistentCacheKeyvStoreOptions {
  /**
   * TTL of the keys written without one (neither cache-manager's `ttl` nor Keyv's `ttl` nor a per-call TTL):
   * milliseconds, or a duration such as `"10m"`. Default none: such keys never expire.
   */
  defaultTtl?: number | string;
  /**
   * Keys `clear()` deletes per round trip: SCAN's COUNT, and one UNLINK each (on a Cluster, per primary, and one
   * UNLINK per hash slot among the keys found). Default 500.
   */
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
 * On a Cluster (`redis.cluster`), the keys of one `getMany`, `setMany`, `hasMany` or `deleteMany` are sent in one
 * command per hash slot, concurrently (Redis refuses a multi-key command across slots with `CROSSSLOT`), so a
 * `setMany` is atomic per slot only; a single Redis and the embedded cache get one MGET, MULTI or DEL for the lot.
 *
 * `clear()` deletes the namespace's keys only (SCAN `<namespace>:*` and UNLINK), never the rest of the keyspace the
 * application shares with it; with no namespace it refuses. On a Cluster it walks every primary (SCAN reaches one
 * node). With ioredis's `keyPrefix` (`redis.options` or the cluster's options) it scans `<keyPrefix><namespace>:*`,
 * since ioredis prefixes key arguments and SCAN's pattern is none. `disconnect()` does nothing: the client belongs to
 * `PersistentCacheModule`, which closes it at shutdown.
 */
export class PersistentCacheKeyvStore extends EventEmitter implements KeyvStoreAdapter {
  /** Set by Keyv to its namespace. */
  namespace: string | undefined;
  readonly opts: { readonly defaultTtlMs: number | undefined; readonly dialect: 'redis' };
  private readonly clearBatch: number;
  /** The client when it is a Cluster, whose multi-key commands must keep to one hash slot. */
  private readonly cluster: Cluster | undefined;
  /** What the client adds to every key (ioredis's `keyPrefix`), and SCAN does not. */
  private readonly keyPrefix: string;

  constructor(
    private readonly client: Redis | Cluster,
    options: PersistentCacheKeyvStoreOptions = {},
  ) {
    super();
    requireClient(client, OWNER);
    checkOptionKeys(options, KNOWN_OPTIONS, OWNER);
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
    this.cluster = asCluster(client);
    this.keyPrefix = keyPrefixOf(client);
    this.opts = { defaultTtlMs, dialect: 'redis' };
  }

  async get<Value>(key: string): Promise<StoredData<Value> | undefined> {
    const value = await this.client.get(key);
    return (value ?? undefined) as StoredData<Value> | undefined;
  }

  async getMany<Value>(keys: string[]): Promise<Array<StoredData<Value | undefined>>> {
    if (keys.length === 0) return [];
    const values = new Array<StoredData<Value | undefined>>(keys.length);
    await this.bySlot(keys, async (at) => {
      const replies = await this.client.mget(at.map((i) => keys[i]));
      at.forEach(
        (i, n) => (values[i] = (replies[n] ?? undefined) as StoredData<Value | undefined>),
      );
    });
    return values;
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

  /** On a Cluster, atomic per hash slot only: a slot's MULTI may fail while the others' are written. */
  async setMany(entries: Array<{ key: string; value: unknown; ttl?: number }>): Promise<void> {
    if (entries.length === 0) return;
    const keys = entries.map(({ key }) => key);
    await this.bySlot(keys, async (at) => {
      const multi = this.client.multi();
      for (const i of at) {
        const { key, value, ttl } = entries[i];
        const ms = this.ttlOf(ttl);
        if (ms === undefined) multi.set(key, serialized(value));
        else multi.set(key, serialized(value), 'PX', ms);
      }
      await execOrThrow(multi.exec());
    });
  }

  async delete(key: string): Promise<boolean> {
    return (await this.client.del(key)) > 0;
  }

  async deleteMany(keys: string[]): Promise<boolean> {
    if (keys.length === 0) return false;
    let deleted = 0;
    await this.bySlot(keys, async (at) => {
      deleted += await this.client.del(at.map((i) => keys[i]));
    });
    return deleted > 0;
  }

  async has(key: string): Promise<boolean> {
    return (await this.client.exists(key)) === 1;
  }

  async hasMany(keys: string[]): Promise<boolean[]> {
    if (keys.length === 0) return [];
    const found = new Array<boolean>(keys.length);
    await this.bySlot(keys, async (at) => {
      const multi = this.client.multi();
      for (const i of at) multi.exists(keys[i]);
      const replies = await execOrThrow(multi.exec());
      at.forEach((i, n) => (found[i] = replies[n] === 1));
    });
    return found;
  }

  /** Deletes the keys of this store's namespace, and nothing else. */
  async clear(): Promise<void> {
    const { namespace } = this;
    if (namespace === undefined || namespace === '') throw new Error(KEYV_CLEAR_WITHOUT_NAMESPACE);
    // ioredis prefixes key arguments only: SCAN's pattern is sent as it is, so it carries the prefix itself.
    const match = `${escapeGlob(this.keyPrefix)}${escapeGlob(namespace)}:*`;
    // A Cluster sends SCAN to one node: each primary holds its own slots' keys and is walked by itself.
    const servers = this.cluster === undefined ? [this.client] : await primaries(this.cluster);
    await Promise.all(servers.map((server) => this.clearOn(server, match)));
  }

  private async clearOn(server: Redis | Cluster, match: string): Promise<void> {
    // Each page is deleted as it comes: deleting keys during a walk moves no other key (Redis's SCAN guarantee,
    // which the embedded client keeps too), and a key SCAN returns twice is simply deleted once.
    let cursor = '0';
    do {
      const [next, found] = await server.scan(cursor, 'MATCH', match, 'COUNT', this.clearBatch);
      // SCAN returns the keys as stored, prefix included, and UNLINK (through the store's client, which routes each
      // slot's keys to their primary) adds the prefix again.
      const keys = found.map((key) => key.slice(this.keyPrefix.length));
      await this.bySlot(keys, async (at) => {
        await this.client.unlink(at.map((i) => keys[i]));
      });
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

  /**
   * Calls `send` with the indexes in `keys` that one multi-key command may take: all of them on a single Redis or
   * the embedded client, and on a Cluster those of each hash slot, concurrently, since Redis refuses a command whose
   * keys are in several slots (`CROSSSLOT`). The slot is the prefixed key's, as ioredis routes it.
   */
  private async bySlot(
    keys: readonly string[],
    send: (indexes: number[]) => Promise<void>,
  ): Promise<void> {
    if (keys.length === 0) return;
    if (this.cluster === undefined) return send(keys.map((_, i) => i));
    const slots = new Map<number, number[]>();
    keys.forEach((key, i) => {
      const slot = keySlot(`${this.keyPrefix}${key}`);
      const indexes = slots.get(slot);
      if (indexes === undefined) slots.set(slot, [i]);
      else indexes.push(i);
    });
    await Promise.all([...slots.values()].map(send));
  }
}

/** `client` if it is an ioredis `Cluster` (ioredis's own flag: an `instanceof` fails across copies of ioredis). */
function asCluster(client: Redis | Cluster): Cluster | undefined {
  return (client as { isCluster?: unknown }).isCluster === true ? (client as Cluster) : undefined;
}

/**
 * The `keyPrefix` ioredis adds to the keys of `client`'s commands (a Cluster's own, or its `redisOptions`' which it
 * takes over). The embedded client is no ioredis client (it has no `isCluster`) and takes no `keyPrefix` (its
 * `duplicate({ keyPrefix })` is refused), so none there.
 */
function keyPrefixOf(client: Redis | Cluster): string {
  if (typeof (client as { isCluster?: unknown }).isCluster !== 'boolean') return '';
  return client.options.keyPrefix ?? '';
}

/** The primaries of `cluster`: before its first slot map it knows only the startup nodes, so it is waited for. */
async function primaries(cluster: Cluster): Promise<Redis[]> {
  // A command waits in the offline queue until the cluster is ready, or fails as any command would.
  if (cluster.status !== 'ready') await cluster.ping();
  return cluster.nodes('master');
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
