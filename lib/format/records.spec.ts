import { BufferReader, BufferWriter, CodecError, decodeValue, encodeValue } from './codec';
import {
  readKey,
  readRecords,
  writeEncodedRecord,
  writeKey,
  writeRecord,
  writeTombstone,
  type EncodedRecord,
  type EncodedSink,
  type KeyState,
  type RecordSink,
} from './records';
import { codecError } from '../../test/support/codec-bytes';
import { keyFromBytes, keyToBytes } from './key-bytes';

/** A record as readRecords hands it over, with its key and value decoded. */
type Read =
  | {
      kind: 'set';
      key: string;
      value: unknown;
      expiresAt: number | undefined;
      idleMs: number;
      counter: number;
      raw: RecordBytes;
    }
  | { kind: 'delete'; key: string };

/** Where a record's key and value lie in its chunk. */
interface RecordBytes {
  chunk: Uint8Array;
  keyStart: number;
  keyEnd: number;
  valueStart: number;
  valueEnd: number;
}

/** Reads every record of `chunk` from `start`, and how many times readRecords yielded. */
function readAll(
  chunk: Uint8Array,
  start = 0,
  recordsPerStep = 1000,
  ageMs = 0,
): { records: Read[]; count: number; yields: number } {
  const records: Read[] = [];
  const sink: RecordSink = {
    setRecord(c, keyStart, keyEnd, valueStart, valueEnd, expiresAt, idleMs, counter) {
      records.push({
        kind: 'set',
        key: readKey(c, keyStart, keyEnd),
        value: decodeValue(c, valueStart, valueEnd),
        expiresAt,
        idleMs,
        counter,
        raw: { chunk: c, keyStart, keyEnd, valueStart, valueEnd },
      });
    },
    deleteRecord(c, keyStart, keyEnd) {
      records.push({ kind: 'delete', key: readKey(c, keyStart, keyEnd) });
    },
  };
  const steps = readRecords(chunk, new BufferReader(chunk, start), sink, recordsPerStep, ageMs);
  let yields = 0;
  for (let step = steps.next(); ; step = steps.next()) {
    if (step.done === true) return { records, count: step.value, yields };
    yields++;
  }
}

function state(value: unknown, expiresAt?: number): KeyState {
  return { value, expiresAt };
}

describe('records', () => {
  it('round-trips live records with and without an expiry, and tombstones, in order', () => {
    const w = new BufferWriter(8);
    writeRecord(w, 'plain', state('value'));
    writeRecord(w, 'session:1', state({ user: 'ann', n: 3 }, 1_700_000_000_123.5));
    writeTombstone(w, 'gone');
    writeRecord(w, 'clé', state(new Set(['a', 'b']), 0));
    writeRecord(w, '\ud800lone', state(undefined));
    const chunk = w.finish();

    const { records, count } = readAll(chunk);
    expect(count).toBe(5);
    expect(
      records.map((r) => (r.kind === 'set' ? [r.key, r.value, r.expiresAt] : [r.key])),
    ).toEqual([
      ['plain', 'value', undefined],
      ['session:1', { user: 'ann', n: 3 }, 1_700_000_000_123.5],
      ['gone'],
      ['clé', new Set(['a', 'b']), 0],
      ['\ud800lone', undefined, undefined],
    ]);
    expect(records[2].kind).toBe('delete');
  });

  it('lays a record out as flags, key, expiry, value length and value', () => {
    const key = [0x02, 0x6b]; // string body of 'k'
    const value = [...encodeValue('v')];
    const length = [value.length, 0, 0, 0];

    const live = new BufferWriter();
    writeRecord(live, 'k', state('v'));
    expect([...live.finish()]).toEqual([0x00, ...key, ...length, ...value]);

    const expiring = new BufferWriter();
    writeRecord(expiring, 'k', state('v', 1.5));
    const expiry = Buffer.alloc(8);
    expiry.writeDoubleLE(1.5);
    expect([...expiring.finish()]).toEqual([0x02, ...key, ...expiry, ...length, ...value]);

    const tombstone = new BufferWriter();
    writeTombstone(tombstone, 'k');
    expect([...tombstone.finish()]).toEqual([0x01, ...key]);
  });

  it('reads records from the reader position to the end of the chunk', () => {
    const w = new BufferWriter();
    w.writeUInt32(0xdeadbeef); // a chunk header, say
    writeRecord(w, 'a', state(1));
    const chunk = w.finish();
    const { records, count } = readAll(chunk, 4);
    expect(count).toBe(1);
    expect(records).toMatchObject([{ kind: 'set', key: 'a', value: 1 }]);
    expect(readAll(chunk, chunk.length)).toEqual({ records: [], count: 0, yields: 0 });
  });

  it('yields before every recordsPerStep-th record', () => {
    const w = new BufferWriter();
    for (let i = 0; i < 7; i++) writeRecord(w, `k${i}`, state(i));
    const chunk = w.finish();
    expect(readAll(chunk, 0, 1).yields).toBe(7);
    expect(readAll(chunk, 0, 3).yields).toBe(2); // before the 3rd and the 6th
    expect(readAll(chunk, 0, 7).yields).toBe(1);
    expect(readAll(chunk, 0, 8).yields).toBe(0);
    expect(readAll(chunk, 0, 3).count).toBe(7);
  });

  it('copies a value still in its encoded form instead of encoding it again', () => {
    const encoded = encodeValue({ kept: 'as stored' });
    const copied: KeyState = {
      value: 'not written',
      expiresAt: 99,
      copyEncodedTo(sink: EncodedSink) {
        sink.writeRange(encoded, 0, encoded.length);
        return true;
      },
    };
    const decoded: KeyState = {
      value: 'written',
      expiresAt: undefined,
      copyEncodedTo: () => false,
    };
    const w = new BufferWriter();
    writeRecord(w, 'copied', copied);
    writeRecord(w, 'decoded', decoded);
    const { records } = readAll(w.finish());
    expect(records).toMatchObject([
      { key: 'copied', value: { kept: 'as stored' }, expiresAt: 99 },
      { key: 'decoded', value: 'written', expiresAt: undefined },
    ]);
  });

  it('rewrites a restored record byte for byte with writeEncodedRecord', () => {
    const w = new BufferWriter();
    writeRecord(w, 'with-ttl', state(new Map([['m', { score: 2, value: 'm' }]]), 123));
    writeRecord(w, 'no-ttl', state(['x', Buffer.from([1, 2])]));
    const original = w.finish();
    const { records } = readAll(original);

    const copy = new BufferWriter(4);
    for (const record of records) {
      if (record.kind !== 'set') throw new Error('expected live records');
      const { chunk, keyStart, keyEnd, valueStart, valueEnd } = record.raw;
      const encoded: EncodedRecord = {
        expiresAt: record.expiresAt,
        copyKeyTo: (sink) => sink.writeRange(chunk, keyStart, keyEnd),
        copyValueTo: (sink) => sink.writeRange(chunk, valueStart, valueEnd),
      };
      writeEncodedRecord(copy, encoded);
    }
    const rewritten = copy.finish();
    expect(rewritten).toEqual(original);
    const expected = Buffer.from(rewritten);
    original.fill(0); // the copy holds the bytes, not a view of the chunk they came from
    expect(rewritten).toEqual(expected);
  });

  it("rejects unknown flags with a CodecError, and a tombstone with a live key's flags", () => {
    for (const flags of [5, 9, 13, 16, 0x80]) {
      const w = new BufferWriter();
      w.writeVarUint(flags);
      writeKey(w, 'k');
      const chunk = w.finish();
      const at = flags < 0x80 ? 1 : 2;
      expect(codecError(() => readAll(chunk)).message).toBe(
        `unknown record flags ${flags} at offset ${at}`,
      );
    }
  });

  it("keeps a key's idle time or LFU counter when given one, and a restore adds the generation's age", () => {
    const w = new BufferWriter();
    writeRecord(w, 'plain', state('v'));
    writeRecord(w, 'idle', state('v', 1_700_000_000_000), { idleMs: 2_500.7, counter: -1 });
    writeRecord(w, 'hot', state({ f: 'x' }), { idleMs: -1, counter: 17 });
    writeRecord(w, 'capped', state('v'), { idleMs: -1, counter: 300 });
    writeRecord(w, 'both', state('v'), { idleMs: 0, counter: 0 });
    const chunk = w.finish();
    const read = (ageMs: number) =>
      readAll(chunk, 0, 1000, ageMs).records.map((r) =>
        r.kind === 'set' ? [r.key, r.value, r.expiresAt, r.idleMs, r.counter] : r,
      );
    expect(read(0)).toEqual([
      ['plain', 'v', undefined, -1, -1],
      ['idle', 'v', 1_700_000_000_000, 2_500, -1],
      ['hot', { f: 'x' }, undefined, -1, 17],
      ['capped', 'v', undefined, -1, 255],
      ['both', 'v', undefined, 0, 0],
    ]);
    expect(read(1_000).map((r) => (r as unknown[])[3])).toEqual([-1, 3_500, -1, -1, 1_000]);
    // Counters lose one a minute of age: 17 after 2.5 minutes is 15, 255 after 300 minutes is 0.
    expect(read(150_000).map((r) => (r as unknown[])[4])).toEqual([-1, -1, 15, 253, 0]);
    expect(read(300 * 60_000).map((r) => (r as unknown[])[4])).toEqual([-1, -1, 0, 0, 0]);
    // Without a usage, a record is byte for byte what format 4 wrote.
    const old = new BufferWriter();
    writeRecord(old, 'plain', state('v'));
    expect(chunk.subarray(0, old.length)).toEqual(old.finish());
    expect(chunk[0]).toBe(0);
  });

  it('copies a restored record with a usage of its own', () => {
    const w = new BufferWriter();
    writeRecord(w, 'k', state('value', 9), { idleMs: 10, counter: -1 });
    const chunk = w.finish();
    const [raw] = readAll(chunk).records;
    if (raw.kind !== 'set') throw new Error('expected a live record');
    const encoded: EncodedRecord = {
      expiresAt: raw.expiresAt,
      copyKeyTo: (sink) => sink.writeRange(chunk, raw.raw.keyStart, raw.raw.keyEnd),
      copyValueTo: (sink) => sink.writeRange(chunk, raw.raw.valueStart, raw.raw.valueEnd),
    };
    const copy = new BufferWriter();
    writeEncodedRecord(copy, encoded, { idleMs: -1, counter: 42 });
    writeEncodedRecord(copy, encoded);
    expect(
      readAll(copy.finish()).records.map((r) =>
        r.kind === 'set' ? [r.key, r.value, r.expiresAt, r.idleMs, r.counter] : r,
      ),
    ).toEqual([
      ['k', 'value', 9, -1, 42],
      ['k', 'value', 9, -1, -1],
    ]);
  });

  it('rejects an LFU counter over 255 with a CodecError', () => {
    const w = new BufferWriter();
    w.writeVarUint(8);
    writeKey(w, 'k');
    w.writeVarUint(256);
    expect(codecError(() => readAll(w.finish())).message).toMatch(
      /^LFU counter 256 over 255 at offset \d+$/,
    );
  });

  it('rejects records cut short with a CodecError', () => {
    const w = new BufferWriter();
    writeRecord(w, 'key', state('a value', 5));
    const whole = w.finish();
    for (let cut = 1; cut < whole.length; cut++) {
      expect(codecError(() => readAll(whole.subarray(0, cut))).message).toMatch(
        /^truncated [a-z0-9 ]+ at offset \d+/,
      );
    }
  });

  it('leaves a partial record when the value cannot be encoded', () => {
    const w = new BufferWriter();
    expect(() => writeRecord(w, 'k', state(new Date(0)))).toThrow(
      new CodecError('cannot encode value of type Date'),
    );
    expect(w.length).toBe(1 + 2 + 4); // flags, key and the length reserved for the value
  });
});

describe('keys', () => {
  it('writes a key as a string body and reads it from a range', () => {
    for (const key of ['', 'user:1', 'x'.repeat(300), 'clé', '日本', '\udc00']) {
      const w = new BufferWriter();
      w.writeBytes(Buffer.from([0xee, 0xee]));
      writeKey(w, key);
      const end = w.length;
      w.writeBytes(Buffer.from([0xff]));
      const bytes = w.finish();
      expect(readKey(bytes, 2, end)).toBe(key);

      const body = new BufferWriter();
      body.writeString(key);
      expect(bytes.subarray(2, end)).toEqual(body.finish());
    }
  });

  it('writes a key given as bytes outside UTF-8 as those very bytes, and reads it back', () => {
    const keys = [
      '\udcff',
      '\udcfe',
      'id:\udc80\udcff😀',
      keyFromBytes(Buffer.from('c328', 'hex')),
    ];
    const chunk = new BufferWriter();
    keys.forEach((key, i) => writeRecord(chunk, key, state(String(i))));
    writeTombstone(chunk, '\udcfe');
    const { records } = readAll(chunk.finish());
    expect(records.map((r) => r.key)).toEqual([...keys, '\udcfe']);
    expect(records.map((r) => (r.kind === 'set' ? r.value : 'deleted'))).toEqual([
      '0',
      '1',
      '2',
      '3',
      'deleted',
    ]);
    for (const key of keys) {
      const w = new BufferWriter();
      writeKey(w, key);
      const bytes = keyToBytes(key);
      // a UTF-8 body (even header: twice the length) of the key's own bytes
      expect(w.finish()).toEqual(Buffer.concat([Buffer.of(bytes.length * 2), bytes]));
    }
    // a record's key compares by these bytes: <ff> and <fe> are two keys, not two U+FFFD
    const ff = new BufferWriter();
    writeKey(ff, '\udcff');
    expect(ff.finish()).toEqual(Buffer.from('02ff', 'hex'));
  });

  it('writes a UTF-8 key as before: its UTF-8 bytes', () => {
    for (const key of ['😀', '日本語のキー', 'emoji 🎉 and 中文', 'ascii']) {
      const w = new BufferWriter();
      writeKey(w, key);
      const utf8 = Buffer.from(key, 'utf8');
      expect(w.finish()).toEqual(Buffer.concat([Buffer.of(utf8.length * 2), utf8]));
    }
  });

  it('reads only within its range', () => {
    const w = new BufferWriter();
    writeKey(w, 'abc');
    const bytes = w.finish();
    expect(codecError(() => readKey(bytes, 0, 2)).message).toBe(
      'truncated string at offset 0: length 3 exceeds the 1 bytes left',
    );
  });
});
