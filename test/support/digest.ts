import { createHash } from 'node:crypto';
import { Cluster, type Redis } from 'ioredis';
import { digest, type KeyspaceDigest } from './keyspace-digest';

export { digest };
export type { KeyspaceDigest };

/** Asserts two digests hold the same data and expiry times within `toleranceMs`. */
export function expectSameData(
  actual: KeyspaceDigest,
  expected: KeyspaceDigest,
  toleranceMs = 1000,
): void {
  expect(actual.dump).toEqual(expected.dump);
  expect(actual.hash).toBe(expected.hash);
  expect([...actual.expiries.keys()].sort()).toEqual([...expected.expiries.keys()].sort());
  for (const [key, at] of expected.expiries) {
    expect(Math.abs((actual.expiries.get(key) ?? NaN) - at)).toBeLessThanOrEqual(toleranceMs);
  }
}

/** Parses a score as either ioredis-mock (`Infinity`) or Redis (`inf`) prints it. */
function parseAnyScore(text: string): number {
  const t = text.toLowerCase();
  if (t === 'inf' || t === '+inf' || t === 'infinity') return Infinity;
  if (t === '-inf' || t === '-infinity') return -Infinity;
  return Number(t);
}

/** A stream ID in Redis form, from ioredis-mock's (which appends `-0` to the ID XADD was given). */
function redisStreamId(id: string): string {
  const m = /^(\d+)(?:-(\d+))?-0$/.exec(id);
  if (m !== null) return `${m[1]}-${m[2] ?? '0'}`;
  return /^\d+-\d+$/.test(id) ? id : `unconvertible:${id}`; // already Redis form (<ms>-<seq>, seq > 0)
}

type StreamReply = [Buffer, Buffer[]][];

function showPortable(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    typeof v === 'number' && !Number.isFinite(v) ? `#${String(v)}` : v,
  );
}

/**
 * A digest that compares an embedded cache with a real Redis (or either with itself), through commands only.
 * Differences from {@link digest}, which stays the strict embedded-to-embedded comparison:
 * - ioredis-mock's `TYPE` quirks are undone: a stream, which it reports as `list`, is told by its entries (arrays)
 *   and shown as `stream`; a string set from a Buffer, for which it reports nothing, is shown as `string`.
 * - ioredis-mock's hidden stream helper keys (`stream:<key>:<id>` holding `{ polled: <boolean> }`) and emptied
 *   sorted sets (which it keeps and Redis deletes) are left out.
 * - Stream IDs are shown in Redis form (`7-0`, `1-1`) whichever way they are stored (`7-0`, `1-1-0`, `7-0-0`).
 * - Values are bytes (hex), sorted sets in Redis's order (score, then member bytes) with numeric scores.
 * - On a Redis Cluster the keys of every primary are read.
 */
export async function portableDigest(redis: Redis | Cluster): Promise<KeyspaceDigest> {
  const keys = (await allKeys(redis)).sort();
  const hash = createHash('sha256');
  const expiries = new Map<string, number>();
  const dump: string[] = [];
  const hex = (b: Buffer) => b.toString('hex');
  const stream = (entries: StreamReply) =>
    entries.map(([id, fields]) => [redisStreamId(id.toString()), fields.map(hex)]);
  for (const key of keys) {
    let type = ((await redis.type(key)) as string | undefined) ?? '';
    let value: unknown;
    let skip = false;
    switch (type) {
      case '': // ioredis-mock: a string set from a Buffer
      case 'string':
        type = 'string';
        value = (await redis.getBuffer(key))?.toString('hex');
        break;
      case 'hash': {
        const h = (await redis.hgetallBuffer(key)) as Record<string, Buffer | boolean>;
        const names = Object.keys(h).sort();
        skip = key.startsWith('stream:') && names.length === 1 && typeof h.polled === 'boolean';
        value = names.map((f) => [f, hex(h[f] as Buffer)]);
        break;
      }
      case 'list': {
        const items = (await redis.lrangeBuffer(key, 0, -1)) as unknown[];
        if (items.length > 0 && Array.isArray(items[0])) {
          type = 'stream';
          value = stream(items as StreamReply);
        } else {
          value = (items as Buffer[]).map(hex);
        }
        break;
      }
      case 'stream':
        value = stream(await redis.xrangeBuffer(key, '-', '+'));
        break;
      case 'set':
        value = (await redis.smembersBuffer(key)).map(hex).sort();
        break;
      case 'zset': {
        const flat = await redis.zrangeBuffer(key, 0, -1, 'WITHSCORES');
        const pairs: [Buffer, number][] = [];
        for (let i = 0; i < flat.length; i += 2) {
          pairs.push([flat[i], parseAnyScore(flat[i + 1].toString())]);
        }
        pairs.sort(([am, as], [bm, bs]) =>
          as !== bs ? (as < bs ? -1 : 1) : Buffer.compare(am, bm),
        );
        value = pairs.map(([m, s]) => [hex(m), s]);
        skip = pairs.length === 0;
        break;
      }
      default:
        value = `unknown type ${type}`;
    }
    if (skip) continue;
    const pttl = await redis.pttl(key);
    // Against the clock of this key's PTTL: a digest of thousands of keys takes longer than the tolerance.
    if (pttl >= 0) expiries.set(key, Date.now() + pttl);
    const line = `${showPortable(key)} ${type} ${showPortable(value)}`;
    dump.push(line);
    hash.update(line).update('\n');
  }
  return { hash: hash.digest('hex'), keys: dump.length, expiries, dump };
}

/** Every key: of the one server, or of each primary of a cluster (`KEYS` answers for one node only). */
export async function allKeys(redis: Redis | Cluster): Promise<string[]> {
  if (!(redis instanceof Cluster)) return redis.keys('*');
  const perNode = await Promise.all(redis.nodes('master').map((node) => node.keys('*')));
  return perNode.flat();
}
