import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { inspect, type InspectReport } from '../lib/cli/inspect';
import { openTargetStore } from '../lib/cli/store-access';
import { FORMAT_VERSION } from '../lib/format/manifest';
import { STORE_FILE } from '../lib/store/data-dir';
import { datasetSnapshot, runCli, runMain } from './support/cli';
import { removeTempDirs, tempDir } from './support/harness';
import { withTables } from './support/stores';

/** `persistent-cache inspect` and `verify` (`lib/cli/inspect.ts`, `lib/cli/verify.ts`). */

afterAll(() => removeTempDirs());

describe('persistent-cache CLI: inspect and verify', () => {
  let dataDir: string;

  beforeAll(async () => {
    ({ dataDir } = await datasetSnapshot({ unsupported: true }));
  });

  it('inspect shows the format, time, keys by type, bytes, expired keys and generations', async () => {
    const run = await runMain(['inspect', dataDir, '--json']);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as InspectReport;
    expect(report.format).toBe(FORMAT_VERSION);
    expect(report.types).toEqual({
      string: 9,
      hash: 1,
      list: 1,
      set: 1,
      zset: 2,
      stream: 2,
      // ioredis-mock's XADD would store a helper key per entry; the embedded client's streams need none.
      'stream-helper': 0,
      unknown: 0,
    });
    expect(report.live).toBe(9 + 1 + 1 + 1 + 2 + 2);
    expect(report.keysAtSnapshot).toBe(report.live);
    expect(report.expired).toBe(0);
    // The snapshot taken, then the (empty) incremental one app.close() takes.
    expect(report.generations).toMatchObject([
      { gen: 1, kind: 'full', records: report.live },
      { gen: 2, kind: 'incremental', records: 0 },
    ]);
    expect(report.bytes).toBe(report.generations[0].bytes);
    expect(report.fileBytes).toBeGreaterThan(0);
    expect(Date.parse(report.createdAt)).toBeLessThanOrEqual(Date.now());

    // Judged 10 minutes later, every key with a TTL has expired.
    const later = new PassThrough();
    let text = '';
    later.on('data', (d: Buffer) => (text += d.toString()));
    const code = await inspect(
      dataDir,
      { json: true, now: Date.now() + 600_000 },
      {
        stdout: later,
        stderr: new PassThrough(),
      },
    );
    expect(code).toBe(0);
    const future = JSON.parse(text) as InspectReport;
    expect(future.expired).toBe(5); // str:ttl, hash:user, set:tags, zset:board and log
  });

  it('inspect prints a readable report', async () => {
    const run = await runMain(['inspect', dataDir]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(new RegExp(`format version: +${FORMAT_VERSION}\n`));
    expect(run.stdout).toMatch(/ {2}stream: +2\n/);
    expect(run.stdout).toMatch(/stream helpers: +0 /);
    expect(run.stdout).toMatch(/expired at now: +0\n/);
    expect(run.stdout).toMatch(
      / {2}#1 full +\S+ +\d+ chunks, 16 records, \d+ bytes\n {2}#2 incremental /,
    );
  });

  it('verify passes a sound snapshot and warns about values Redis cannot hold', async () => {
    const run = await runMain(['verify', dataDir]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(
        `^OK .*: format ${FORMAT_VERSION}, 2 generation\\(s\\), \\d+ chunks and 16 records checked`,
      ),
    );
    expect(run.stdout).toContain('1 that real Redis cannot hold');
    expect(run.stderr).toContain('verify: warning: key "nan-score": member "m" has the score NaN');
  });

  it('verify detects a chunk rewritten with a flipped byte (exit code 1, in process and as a command)', async () => {
    const corrupt = tempDir();
    cpSync(dataDir, corrupt, { recursive: true });
    await withTables(join(corrupt, STORE_FILE), false, async ({ chunks }) => {
      const [{ key, value }] = [...chunks.getRange({ limit: 1 })];
      const bad = Buffer.from(value);
      bad[bad.length - 3] ^= 0x01;
      await chunks.put(key, bad);
    });
    const inProcess = await runMain(['verify', corrupt]);
    expect(inProcess.code).toBe(1);
    expect(inProcess.stderr).toContain(`verify: FAILED: Snapshot in ${corrupt} cannot be restored`);
    expect(inProcess.stderr).toContain('fails its checksum');
    const child = await runCli(['verify', corrupt]);
    expect(child.code).toBe(1);
    expect(child.stderr).toContain('chunk 0 fails its checksum');
    const inspected = await runCli(['inspect', corrupt]);
    expect(inspected.code).toBe(1);
    expect(inspected.stderr).toContain('generation 1: chunk 0 fails its checksum');
  });

  it('verify decodes every value: a checksummed value that does not decode fails it', async () => {
    const dir = tempDir();
    const store = await openTargetStore(dir, false);
    try {
      const writer = store.beginWrite('full');
      writer.add('good', { value: 'fine', expiresAt: undefined });
      // What a writer bug would store: a string whose bytes are not UTF-8, under a valid checksum.
      const notUtf8 = Buffer.from([0x08, 0x04, 0xc3, 0x28]);
      writer.add('bad', {
        value: undefined,
        expiresAt: undefined,
        copyEncodedTo: (sink) => {
          sink.writeRange(notUtf8, 0, notUtf8.length);
          return true;
        },
      });
      await writer.commit(2, Date.now());
    } finally {
      await store.close();
    }
    const run = await runMain(['verify', dir]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^verify: FAILED: key "bad": a value restored from the snapshot cannot be decoded: invalid UTF-8 in string at offset \d+\n$/,
    );
  });

  it('verify detects a byte flipped in the LMDB file itself', async () => {
    const corrupt = tempDir();
    cpSync(dataDir, corrupt, { recursive: true });
    const file = join(corrupt, STORE_FILE);
    const bytes = readFileSync(file);
    const at = bytes.indexOf('looks internal, is user data');
    expect(at).toBeGreaterThan(0);
    bytes[at + 3] ^= 0x20;
    writeFileSync(file, bytes);
    const run = await runCli(['verify', corrupt]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('fails its checksum');
  });
});
