import { crc32 } from 'node:zlib';
import {
  emptyManifest,
  FORMAT_VERSION,
  type GenerationInfo,
  type Manifest,
  ManifestError,
  manifestWith,
  parseManifest,
  READABLE_FORMATS,
  serializeManifest,
} from './manifest';

function generation(gen: number, kind: GenerationInfo['kind'], bytes: number): GenerationInfo {
  return {
    gen,
    kind,
    chunks: 2,
    records: 10 * gen,
    bytes,
    crc: 0x1000 + gen,
    createdAt: 1000 * gen,
  };
}

const sample: Manifest = {
  format: FORMAT_VERSION,
  createdAt: 3000,
  keys: 42,
  bytes: 600,
  generations: [generation(1, 'full', 500), generation(3, 'incremental', 100)],
  nextGen: 4,
};

/** A stored manifest whose body is `body`, with a CRC that matches it. */
function stored(body: unknown): Buffer {
  const text = JSON.stringify(body);
  return Buffer.from(JSON.stringify({ crc: crc32(text), body: text }));
}

/** Returns the ManifestError thrown by fn (failing the test if it throws anything else). */
function manifestError(fn: () => unknown): ManifestError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ManifestError) return err;
    throw new Error(`expected a ManifestError, got ${String(err)}`);
  }
  throw new Error('expected a ManifestError, but nothing was thrown');
}

describe('manifest', () => {
  it('round-trips through serializeManifest and parseManifest', () => {
    expect(parseManifest(serializeManifest(sample))).toEqual(sample);
    const empty = emptyManifest(5);
    expect(parseManifest(serializeManifest(empty))).toEqual(empty);
  });

  it('is stored as JSON text wrapped with the CRC-32 of that text', () => {
    const envelope = JSON.parse(serializeManifest(sample).toString('utf8')) as {
      crc: number;
      body: string;
    };
    expect(Object.keys(envelope)).toEqual(['crc', 'body']);
    expect(JSON.parse(envelope.body)).toEqual(sample);
    expect(envelope.crc).toBe(crc32(envelope.body));
  });

  it('reads every readable format and refuses others as unsupported, naming the format', () => {
    expect(READABLE_FORMATS).toContain(FORMAT_VERSION);
    for (const format of READABLE_FORMATS) {
      expect(parseManifest(stored({ ...sample, format })).format).toBe(format);
    }
    for (const format of [1, FORMAT_VERSION + 1, '3', undefined]) {
      const err = manifestError(() => parseManifest(stored({ ...sample, format })));
      expect(err.reason).toBe('unsupported');
      expect(err.format).toBe(format);
      expect(err.message).toBe('unsupported format');
    }
  });

  it('finds text that is not JSON corrupt', () => {
    for (const raw of ['', '{"crc": 1, "body": ', 'not json', '\u0000\u0000']) {
      const err = manifestError(() => parseManifest(Buffer.from(raw)));
      expect(err.reason).toBe('corrupt');
      expect(err.message).toBe('the manifest is not valid JSON');
      expect(err.format).toBeUndefined();
    }
  });

  it('finds a body that does not match its CRC, or an envelope without one, corrupt', () => {
    const good = JSON.parse(serializeManifest(sample).toString('utf8')) as {
      crc: number;
      body: string;
    };
    const envelopes: unknown[] = [
      { crc: good.crc ^ 1, body: good.body },
      { crc: good.crc, body: good.body.replace('"keys":42', '"keys":43') },
      { crc: String(good.crc), body: good.body },
      { body: good.body },
      { crc: good.crc },
      { crc: good.crc, body: JSON.parse(good.body) as unknown },
      null,
      [],
      7,
    ];
    for (const envelope of envelopes) {
      const err = manifestError(() => parseManifest(Buffer.from(JSON.stringify(envelope))));
      expect(err.reason).toBe('corrupt');
      expect(err.message).toBe('the manifest fails its checksum');
    }
  });

  it('finds a chain that does not start with a full generation corrupt', () => {
    const chains: unknown[] = [
      [generation(2, 'incremental', 10)],
      [generation(2, 'incremental', 10), generation(1, 'full', 10)],
      undefined,
      { 0: generation(1, 'full', 10) },
    ];
    for (const generations of chains) {
      const err = manifestError(() => parseManifest(stored({ ...sample, generations })));
      expect(err.reason).toBe('corrupt');
      expect(err.message).toBe('the manifest names no full generation');
    }
  });

  it('is a ManifestError, an Error', () => {
    const err = manifestError(() => parseManifest(Buffer.from('x')));
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('ManifestError');
  });
});

describe('emptyManifest', () => {
  it('commits no generation and starts numbering at 1', () => {
    expect(emptyManifest(1234)).toEqual({
      format: FORMAT_VERSION,
      createdAt: 1234,
      keys: 0,
      bytes: 0,
      generations: [],
      nextGen: 1,
    });
  });
});

describe('manifestWith', () => {
  it('starts a chain with a full generation, whatever came before', () => {
    const full = generation(5, 'full', 700);
    for (const base of [undefined, emptyManifest(0), sample]) {
      expect(manifestWith(base, full, 9)).toEqual({
        format: FORMAT_VERSION,
        createdAt: full.createdAt,
        keys: 9,
        bytes: 700,
        generations: [full],
        nextGen: 6,
      });
    }
  });

  it('extends the chain with an incremental generation and sums its bytes', () => {
    const incremental = generation(4, 'incremental', 50);
    const next = manifestWith(sample, incremental, 44);
    expect(next).toEqual({
      format: FORMAT_VERSION,
      createdAt: incremental.createdAt,
      keys: 44,
      bytes: 500 + 100 + 50,
      generations: [...sample.generations, incremental],
      nextGen: 5,
    });
    const later = generation(5, 'incremental', 25);
    expect(manifestWith(next, later, 45)).toMatchObject({
      bytes: 675,
      generations: [...next.generations, later],
      nextGen: 6,
    });
    expect(sample.generations).toHaveLength(2); // the base is left as it was
  });

  it('writes the current format even on a base of an older readable one', () => {
    const old: Manifest = { ...sample, format: READABLE_FORMATS[0] };
    expect(manifestWith(old, generation(4, 'incremental', 1), 1).format).toBe(FORMAT_VERSION);
  });

  it('round-trips what it makes', () => {
    const chain = manifestWith(
      manifestWith(undefined, generation(1, 'full', 10), 1),
      generation(2, 'incremental', 5),
      2,
    );
    expect(parseManifest(serializeManifest(chain))).toEqual(chain);
  });
});
