/**
 * The keyspace digest without test-framework globals, so that compiled fixtures (child processes) can use it too.
 * Tests import it through `digest.ts`, which adds the jest assertions.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

export interface KeyspaceDigest {
  /** Hash of every key's type and value, read through Redis commands. */
  readonly hash: string;
  readonly keys: number;
  /** Absolute expiry time (ms) of each key that has one. */
  readonly expiries: Map<string, number>;
  /** A readable dump, to show what differs when hashes do not match. */
  readonly dump: string[];
}

function show(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) return `#${String(v)}`;
    if (typeof v === 'object' && v !== null && (v as { type?: string }).type === 'Buffer') {
      return `#buf:${Buffer.from((v as { data: number[] }).data).toString('hex')}`;
    }
    return v;
  });
}

/**
 * A digest of the whole keyspace through the client's own commands, like Redis's `DEBUG DIGEST`: keys sorted,
 * each with its type and value in an order-independent form where Redis does not keep order (sets, hashes).
 */
export async function digest(redis: Redis): Promise<KeyspaceDigest> {
  const keys = (await redis.keys('*')).sort();
  const hash = createHash('sha256');
  const expiries = new Map<string, number>();
  const dump: string[] = [];
  for (const key of keys) {
    // ioredis-mock's TYPE answers nothing for a string stored as a Buffer.
    const type = (await redis.type(key)) || 'string';
    let value: unknown;
    switch (type) {
      case 'string':
        value = (await redis.getBuffer(key))?.toString('hex');
        break;
      case 'hash': {
        const h = await redis.hgetallBuffer(key);
        value = Object.keys(h)
          .sort()
          .map((f) => [f, h[f].toString('hex')]);
        break;
      }
      case 'list':
        value = await redis.lrangeBuffer(key, 0, -1);
        break;
      case 'set':
        value = (await redis.smembersBuffer(key)).map((m) => m.toString('hex')).sort();
        break;
      case 'zset':
        value = await redis.zrange(key, 0, -1, 'WITHSCORES');
        break;
      default:
        value = `unknown type ${type}`;
    }
    // The clock is read next to PTTL: a digest of many keys takes a while, and the expiry time must not drift.
    const before = Date.now();
    const pttl = await redis.pttl(key);
    if (pttl >= 0) expiries.set(key, before + pttl);
    const line = `${show(key)} ${type} ${show(value)}`;
    dump.push(line);
    hash.update(line).update('\n');
  }
  return { hash: hash.digest('hex'), keys: keys.length, expiries, dump };
}
