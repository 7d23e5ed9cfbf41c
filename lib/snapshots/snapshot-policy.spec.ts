import type { GenerationInfo, Manifest } from '../format/manifest';
import {
  chooseKind,
  MAX_CHAIN_LENGTH,
  MAX_INCREMENTS_SHARE,
  worthCompacting,
} from './snapshot-policy';

function generation(gen: number, records: number, bytes: number): GenerationInfo {
  return {
    gen,
    kind: gen === 1 ? 'full' : 'incremental',
    chunks: 1,
    records,
    bytes,
    crc: 0,
    createdAt: 0,
  };
}

/** A chain: a full generation of `base` records and bytes, then increments of the given bytes (10 records each). */
function chain(base: { records: number; bytes: number }, increments: number[] = []): Manifest {
  const generations = [
    generation(1, base.records, base.bytes),
    ...increments.map((bytes, i) => generation(i + 2, 10, bytes)),
  ];
  return {
    format: 3,
    createdAt: 0,
    keys: base.records,
    bytes: generations.reduce((sum, g) => sum + g.bytes, 0),
    generations,
    nextGen: generations.length + 1,
  };
}

const base = { records: 10_000, bytes: 1_000_000 };

describe('chooseKind', () => {
  it('is incremental when a chain exists, the keyspace knows its changes and no rule says otherwise', () => {
    expect(chooseKind(chain(base, [1000]), { keys: 10_000, changed: 10 })).toBe('incremental');
  });

  it('is full when nothing was committed yet', () => {
    expect(chooseKind(undefined, { keys: 10, changed: 0 })).toBe('full');
  });

  it('is full when the keyspace cannot tell what changed (after a FLUSHALL or a failed full snapshot)', () => {
    expect(chooseKind(chain(base), { keys: 10_000, changed: undefined })).toBe('full');
  });

  it(`is full once the chain holds ${MAX_CHAIN_LENGTH} increments`, () => {
    const short = chain(base, Array<number>(MAX_CHAIN_LENGTH - 1).fill(10));
    const long = chain(base, Array<number>(MAX_CHAIN_LENGTH).fill(10));
    expect(chooseKind(short, { keys: 10_000, changed: 1 })).toBe('incremental');
    expect(chooseKind(long, { keys: 10_000, changed: 1 })).toBe('full');
  });

  it('is full once the increments hold more bytes than three quarters of the full generation', () => {
    expect(MAX_INCREMENTS_SHARE).toBe(0.75);
    expect(chooseKind(chain(base, [500_000, 250_000]), { keys: 10_000, changed: 1 })).toBe(
      'incremental',
    );
    expect(chooseKind(chain(base, [500_000, 250_001]), { keys: 10_000, changed: 1 })).toBe('full');
  });

  it('keeps a chain of a minute of one-second increments incremental (no full snapshot every 33 of them)', () => {
    // Snapshots every second of a 1M-key cache taking 10k writes/s: increments of about 0.6% of the full one.
    const big = { records: 1_000_000, bytes: 157_000_000 };
    const minute = chain(big, Array<number>(60).fill(900_000));
    expect(chooseKind(minute, { keys: 1_000_000, changed: 5_600 })).toBe('incremental');
    // ...until they outweigh three quarters of it (131 of them here).
    const long = chain(big, Array<number>(131).fill(900_000));
    expect(chooseKind(long, { keys: 1_000_000, changed: 5_600 })).toBe('full');
  });

  it('is full when the keyspace holds fewer than half the full generation’s records', () => {
    expect(chooseKind(chain(base), { keys: 5_000, changed: 1 })).toBe('incremental');
    expect(chooseKind(chain(base), { keys: 4_999, changed: 1 })).toBe('full');
  });

  it('is full when more than a quarter of the keys changed, and more than 1000', () => {
    expect(chooseKind(chain(base), { keys: 10_000, changed: 2_500 })).toBe('incremental');
    expect(chooseKind(chain(base), { keys: 10_000, changed: 2_501 })).toBe('full');
    // A small keyspace may always change up to 1000 keys incrementally.
    const small = chain({ records: 100, bytes: 10_000 });
    expect(chooseKind(small, { keys: 100, changed: 1_000 })).toBe('incremental');
    expect(chooseKind(small, { keys: 100, changed: 1_001 })).toBe('full');
  });
});

describe('worthCompacting', () => {
  it('is worth it only for a file mostly made of free pages, and of some size', () => {
    const MiB = 2 ** 20;
    expect(worthCompacting(400 * MiB, 10 * MiB)).toBe(true);
    // A full snapshot beside the chain it replaces, and increments: the usual size of a store.
    expect(worthCompacting(30 * MiB, 10 * MiB)).toBe(false);
    expect(worthCompacting(400 * MiB, 200 * MiB)).toBe(false);
    // Small files are left alone, however sparse.
    expect(worthCompacting(60 * MiB, 1 * MiB)).toBe(false);
    expect(worthCompacting(66 * MiB, 1 * MiB)).toBe(true);
  });
});
