import type Redis from 'ioredis';
import { resolve } from 'node:path';
import {
  bytesToMock,
  fromPortable,
  MockValueError,
  parseScore,
  type Bytes,
  type PortableValue,
  type StreamEntry,
} from '../ioredis-mock/mock-values';
import { keyFromBytes } from '../format/key-bytes';
import { nameBytes } from './redis-commands';
import { CliError, EXIT_OK, throwIfInterrupted, write, type CliIo } from './io';
import { Progress } from './progress';
import { parseRedisUrl } from './redis-url';
import { openRedisTarget, type RedisTarget } from './redis-target';
import { directoryBefore, leaveAsFound, openTargetStore } from './store-access';
import type { SnapshotStore } from '../store/snapshot-store';
import { refuseOrLeaveOut } from './unsupported-keys';
import { messageOf } from '../util/errors';
import { counted } from '../util/counted';
import { showKey } from '../util/show-key';

export interface ImportOptions {
  readonly from: string;
  /** Replace the snapshot the data directory already holds. */
  readonly replace?: boolean;
  /** Leave out keys the embedded cache cannot hold instead of failing. */
  readonly skipUnsupported?: boolean;
  /** Require `from` to name a node of a Redis Cluster (one is detected without it). */
  readonly cluster?: boolean;
}

/** Keys asked for per SCAN call, and fetched per pipeline. */
const SCAN_COUNT = 1000;

/**
 * `import --from redis://… <dataDir>`: reads every key of a Redis database with SCAN (binary-safe, every type,
 * streams included), converts each to what ioredis-mock stores, and writes one full snapshot the module restores
 * on startup. TTLs become absolute expiry times (PTTL read against the local clock when it was asked). A URL
 * naming a node of a Redis Cluster reads the whole cluster, every primary in turn (see `redis-target.ts`).
 *
 * SCAN is not a point-in-time view: import from a database nobody writes to. Keys deleted while it runs are left
 * out. Key and hash field names that are not UTF-8 keep their bytes (see `key-bytes.ts`). Values the embedded cache
 * cannot hold (module types, empty streams) fail the import unless `--skip-unsupported` is given.
 */
export async function importSnapshot(
  dataDir: string,
  options: ImportOptions,
  io: CliIo,
): Promise<number> {
  const url = parseRedisUrl('--from', options.from, options.cluster === true);
  const before = directoryBefore(dataDir);
  let store: SnapshotStore | undefined;
  let target: RedisTarget | undefined;
  let committed = false;
  let read = 0;
  const stopped = (signal: string) =>
    `import: interrupted by ${signal} after reading ${counted(read, 'key')}; no snapshot was written, and ` +
    `${resolve(dataDir)} is as it was`;
  try {
    // Inside the try: a store that fails to open (a full disk, say) may have made the directory already.
    store = await openTargetStore(dataDir, options.replace === true);
    throwIfInterrupted(io, stopped);
    target = await openRedisTarget(url, options.cluster === true, io.interrupt);
    throwIfInterrupted(io, stopped);
    const startedAt = Date.now();
    const writer = store.beginWrite('full');
    const sizes = await Promise.all(target.primaries.map((server) => server.dbsize()));
    const progress = new Progress(
      io,
      'import',
      sizes.reduce((a, b) => a + b, 0),
    );
    const seen = new Set<string>();
    const errors: string[] = [];
    let records = 0;
    try {
      // On a cluster every primary is scanned in turn: each holds only the keys of its own slots.
      for (const server of target.primaries) {
        let cursor = '0';
        do {
          const [next, rawKeys] = await server.scanBuffer(cursor, 'COUNT', SCAN_COUNT);
          cursor = next.toString();
          const keys: string[] = [];
          for (const raw of rawKeys) {
            // A name that is not UTF-8 keeps its bytes (see `key-bytes.ts`), as the embedded client holds it.
            const key = keyFromBytes(raw);
            if (seen.has(key)) continue; // SCAN may return a key more than once
            seen.add(key);
            keys.push(key);
          }
          for (const item of await fetchKeys(server, keys, errors)) {
            writer.add(item.key, {
              value: fromPortable(item.value),
              expiresAt: item.expiresAt,
            });
            records++;
          }
          progress.tick(rawKeys.length);
          await writer.drain();
          read += keys.length;
          throwIfInterrupted(io, stopped);
        } while (cursor !== '0');
      }
      progress.finish();
      await refuseOrLeaveOut(
        'import',
        errors,
        options.skipUnsupported === true,
        `${errors.length} key(s) cannot be held by the embedded cache; no snapshot was written`,
        io,
      );
      throwIfInterrupted(io, stopped);
      const manifest = await writer.commit(records, startedAt);
      committed = true;
      await write(
        io.stderr,
        `import: wrote a snapshot of ${counted(records, 'key')} from ${target.description} into ` +
          `${store.dataDir} (${counted(records, 'record')}, ${counted(manifest.bytes, 'byte')})\n`,
      );
    } catch (error) {
      await writer.abort().catch(() => undefined);
      throw error;
    }
    return EXIT_OK;
  } catch (error) {
    // An interruption drops the connections: a command it cut short says "Connection is closed", not why.
    throwIfInterrupted(io, stopped);
    throw error;
  } finally {
    await target?.close();
    await store?.close();
    if (!committed) leaveAsFound(dataDir, before);
  }
}

interface FetchedKey {
  readonly key: string;
  readonly value: PortableValue;
  readonly expiresAt: number | undefined;
}

type Reply = [Error | null, unknown];

/** Reads the type, TTL and value of each key in two pipelined round trips. */
async function fetchKeys(client: Redis, keys: string[], errors: string[]): Promise<FetchedKey[]> {
  if (keys.length === 0) return [];
  const meta = client.pipeline();
  for (const key of keys) meta.type(nameBytes(key)).pttl(nameBytes(key));
  const askedAt = Date.now();
  const metaReplies = checked(await meta.exec(), 'TYPE/PTTL');
  const fetch = client.pipeline();
  const wanted: { key: string; type: string; ttl: number }[] = [];
  keys.forEach((key, i) => {
    const type = String(metaReplies[2 * i]);
    const ttl = Number(metaReplies[2 * i + 1]);
    if (type === 'none' || ttl === -2) return; // deleted since SCAN saw it
    const name = nameBytes(key);
    switch (type) {
      case 'string':
        fetch.callBuffer('GET', [name]);
        break;
      case 'hash':
        fetch.callBuffer('HGETALL', [name]);
        break;
      case 'list':
        fetch.callBuffer('LRANGE', [name, '0', '-1']);
        break;
      case 'set':
        fetch.callBuffer('SMEMBERS', [name]);
        break;
      case 'zset':
        fetch.callBuffer('ZRANGE', [name, '0', '-1', 'WITHSCORES']);
        break;
      case 'stream':
        fetch.callBuffer('XRANGE', [name, '-', '+']);
        break;
      default:
        errors.push(`key ${showKey(key)}: the Redis type ${type} has no ioredis-mock equivalent`);
        return;
    }
    wanted.push({ key, type, ttl });
  });
  const replies = checked(await fetch.exec(), 'read');
  const out: FetchedKey[] = [];
  wanted.forEach(({ key, type, ttl }, i) => {
    const reply = replies[i];
    if (reply === null) return; // expired or deleted between the two round trips
    try {
      const value = toPortableValue(key, type, reply);
      if (value !== undefined) {
        out.push({ key, value, expiresAt: ttl >= 0 ? askedAt + ttl : undefined });
      }
    } catch (error) {
      if (!(error instanceof MockValueError)) throw error;
      errors.push(error.message);
    }
  });
  return out;
}

function checked(replies: Reply[] | null, what: string): unknown[] {
  if (replies === null) throw new CliError(`import: the ${what} pipeline was aborted`);
  return replies.map(([error, value]) => {
    if (error) throw new CliError(`import: a ${what} command failed: ${messageOf(error)}`);
    return value;
  });
}

function asBuffers(reply: unknown): Buffer[] {
  return Array.isArray(reply) ? (reply as Buffer[]) : [];
}

/** Converts a Buffer reply of GET/HGETALL/LRANGE/SMEMBERS/ZRANGE/XRANGE to a portable value. */
function toPortableValue(key: string, type: string, reply: unknown): PortableValue | undefined {
  switch (type) {
    case 'string':
      return { type: 'string', value: bytesToMock(reply as Buffer) };
    case 'hash': {
      const flat = asBuffers(reply);
      const fields: [string, Bytes][] = [];
      for (let i = 0; i < flat.length; i += 2) {
        // A field name that is not UTF-8 keeps its bytes (see `key-bytes.ts`), as the embedded client holds it.
        fields.push([keyFromBytes(flat[i]), bytesToMock(flat[i + 1])]);
      }
      return fields.length === 0 ? undefined : { type: 'hash', fields };
    }
    case 'list': {
      const items = asBuffers(reply).map(bytesToMock);
      return items.length === 0 ? undefined : { type: 'list', items };
    }
    case 'set': {
      const members = asBuffers(reply).map(bytesToMock);
      return members.length === 0 ? undefined : { type: 'set', members };
    }
    case 'zset': {
      const flat = asBuffers(reply);
      const members: [Bytes, number][] = [];
      for (let i = 0; i < flat.length; i += 2) {
        members.push([bytesToMock(flat[i]), parseScore(flat[i + 1].toString())]);
      }
      return members.length === 0 ? undefined : { type: 'zset', members };
    }
    default: {
      // stream: [[id, [field, value, …]], …]
      const entries: StreamEntry[] = (reply as [Buffer, Buffer[]][]).map(([id, fields]) => ({
        id: id.toString(),
        fields: fields.map(bytesToMock),
      }));
      if (entries.length === 0) {
        throw new MockValueError(
          key,
          'an empty stream: import reads entries, not the last id it alone would carry',
        );
      }
      return { type: 'stream', entries };
    }
  }
}
