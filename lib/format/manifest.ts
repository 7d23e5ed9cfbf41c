/**
 * The manifest: the store's commit point, one JSON document in the `meta` table (see `lmdb-layout.ts`), wrapped
 * with a CRC-32 of its text: `{"crc": <crc32 of body>, "body": "<the manifest as JSON>"}`. It names the committed
 * chain of generations (a full one, then the incremental ones written after it) with what a restore checks each
 * against.
 */
import { crc32 } from 'node:zlib';

/**
 * Version of the on-disk layout this library writes. 2: each value is preceded by its length, so that a restore
 * steps over values it keeps encoded (1, before it, had no lengths). 3: values may use the codec's scored-map tag
 * (sorted sets); a format-2 store is a format-3 store that does not, so both are read. 4: values may use the stream
 * tag (a stream's last id and empty streams); a format-2 or 3 store is a format-4 store that does not. 5: records may
 * keep their key's idle time or LFU counter (see `records.ts`); an earlier store is a format-5 store whose records do
 * not. CHANGELOG.md lists them.
 */
export const FORMAT_VERSION = 5;
/** Format versions a restore reads; it refuses any other. */
export const READABLE_FORMATS: readonly number[] = [2, 3, 4, 5];

export type GenerationKind = 'full' | 'incremental';

export interface GenerationInfo {
  readonly gen: number;
  readonly kind: GenerationKind;
  readonly chunks: number;
  readonly records: number;
  readonly bytes: number;
  /** CRC-32 over the chunks' own CRCs, in order: a missing, extra or reordered chunk changes it. */
  readonly crc: number;
  readonly createdAt: number;
}

export interface Manifest {
  readonly format: number;
  /** When the last committed snapshot began (ms since epoch): the point in time it holds. */
  readonly createdAt: number;
  /** Keys the keyspace held when the last snapshot began (keys past their TTL but not yet removed included). */
  readonly keys: number;
  /** Bytes of all chunks of the chain. */
  readonly bytes: number;
  /** The committed chain: one full generation, then incremental ones, oldest first. */
  readonly generations: readonly GenerationInfo[];
  readonly nextGen: number;
}

/** A manifest that cannot be read: damaged (`corrupt`, with what is wrong) or of a format this version does not read. */
export class ManifestError extends Error {
  override name = 'ManifestError';

  constructor(
    readonly reason: 'corrupt' | 'unsupported',
    detail: string,
    /** The format version found, for `unsupported`. */
    readonly format?: unknown,
  ) {
    super(detail);
  }
}

/** The manifest of a store that holds no snapshot yet. */
export function emptyManifest(createdAt: number): Manifest {
  return { format: FORMAT_VERSION, createdAt, keys: 0, bytes: 0, generations: [], nextGen: 1 };
}

/** The manifest that commits `generation`: a full one starts a new chain, an incremental one extends `base`'s. */
export function manifestWith(
  base: Manifest | undefined,
  generation: GenerationInfo,
  keys: number,
): Manifest {
  const chain =
    generation.kind === 'full' ? [generation] : [...(base?.generations ?? []), generation];
  return {
    format: FORMAT_VERSION,
    createdAt: generation.createdAt,
    keys,
    bytes: chain.reduce((sum, g) => sum + g.bytes, 0),
    generations: chain,
    nextGen: generation.gen + 1,
  };
}

export function serializeManifest(manifest: Manifest): Buffer {
  const body = JSON.stringify(manifest);
  return Buffer.from(JSON.stringify({ crc: crc32(body), body }));
}

/** Parses a stored manifest. Throws a {@link ManifestError} when it is damaged or of an unreadable format. */
export function parseManifest(raw: Buffer): Manifest {
  let envelope: unknown;
  try {
    envelope = JSON.parse(raw.toString('utf8'));
  } catch {
    throw new ManifestError('corrupt', 'the manifest is not valid JSON');
  }
  const { crc, body } = (envelope ?? {}) as { crc?: unknown; body?: unknown };
  if (typeof body !== 'string' || typeof crc !== 'number' || crc32(body) !== crc) {
    throw new ManifestError('corrupt', 'the manifest fails its checksum');
  }
  const manifest = JSON.parse(body) as Manifest;
  if (!READABLE_FORMATS.includes(manifest.format)) {
    throw new ManifestError('unsupported', 'unsupported format', manifest.format);
  }
  const generations: unknown = manifest.generations;
  if (
    !Array.isArray(generations) ||
    (generations.length > 0 && (generations[0] as GenerationInfo).kind !== 'full')
  ) {
    throw new ManifestError('corrupt', 'the manifest names no full generation');
  }
  return manifest;
}
