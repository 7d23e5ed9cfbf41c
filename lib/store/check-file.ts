import { execFile } from 'node:child_process';
import { lstatSync, rmSync } from 'node:fs';

/**
 * LMDB is native code that maps the file into memory and follows the page numbers it finds there: a damaged file
 * can make it read outside the map, or trip an assertion while writing, and kill the process with SIGSEGV, SIGBUS
 * or SIGABRT, which no `try` catches. So before the host process opens a store file, a short-lived child process
 * opens it read-only and walks everything the host will read — every page of both tables, every value, each CRC —
 * the same way the host reads it. If the child dies, the file is reported as damaged and the host never maps it.
 *
 * Reads are not all: a damaged free-page list or branch page can crash LMDB when it writes. So the child then
 * copies the file and rehearses on the copy the writes the host makes after a restore, and deletes the copy.
 */
const CHILD_SCRIPT = `
const [lmdbPath, path, copyPath] = process.argv.slice(1);
const { open } = require(lmdbPath);
const { crc32 } = require('node:zlib');
const root = open({ path, readOnly: true, maxDbs: 4 });
const chunks = root.openDB({ name: 'chunks', encoding: 'binary' });
const meta = root.openDB({ name: 'meta', encoding: 'binary' });
let count = 0;
let problem = null;
const generations = new Set();
for (const { key, value } of chunks.getRange()) {
  count++;
  generations.add(Array.isArray(key) ? key[0] : key);
  if (problem === null && (!Buffer.isBuffer(value) || value.length < 4 || crc32(value.subarray(4)) !== value.readUInt32LE(0))) {
    problem = Array.isArray(key) ? 'generation ' + key[0] + ': chunk ' + key[1] + ' fails its checksum' : 'a chunk has a foreign key ' + JSON.stringify(key);
  }
}
// The host seeks to each generation: descend the branch pages the same way, without reading the values again.
for (const gen of generations) {
  for (const key of chunks.getKeys({ start: [gen], end: [gen + 1] })) void key;
}
for (const { value } of meta.getRange()) void value;
if (problem === null && meta.get('manifest') === undefined) problem = 'the manifest is missing';
for (const key of root.getKeys()) void key;
(async () => {
  let copyError = null;
  if (problem === null) {
    try {
      require('node:fs').copyFileSync(path, copyPath);
    } catch (error) {
      copyError = String(error);
    }
    if (copyError === null) {
      // Rehearse on the copy the writes the host makes next (new chunks, the manifest, removals, reuse of the
      // freed pages): a damaged free list or branch page crashes this process, not the host.
      const scratch = open({ path: copyPath, maxDbs: 4 });
      const scratchChunks = scratch.openDB({ name: 'chunks', encoding: 'binary' });
      const scratchMeta = scratch.openDB({ name: 'meta', encoding: 'binary' });
      const keys = Array.from(scratchChunks.getKeys());
      let next = 1;
      for (const key of keys) if (Array.isArray(key) && key[0] >= next) next = key[0] + 1;
      const filler = Buffer.alloc(256 * 1024, 7);
      for (let i = 0; i < 8; i++) scratchChunks.put([next, i], filler);
      await scratchMeta.put('manifest', scratchMeta.get('manifest'));
      for (const key of keys) scratchChunks.remove(key);
      await scratchChunks.put([next, 8], filler);
      for (let i = 0; i <= 8; i++) scratchChunks.remove([next, i]);
      await scratchChunks.put([next + 1, 0], filler);
      await scratch.close();
    }
    for (const file of [copyPath, copyPath + '-lock']) require('node:fs').rmSync(file, { force: true });
  }
  process.stdout.write(JSON.stringify({ chunks: count, problem, copyError }));
  await root.close();
})().catch((error) => {
  process.stderr.write(String(error));
  process.exit(1);
});
`;

/** How long the check and the rehearsal may take per MiB of file, on top of starting Node. */
const MS_PER_MIB = 100;
const BASE_TIMEOUT_MS = 30_000;

/** What the check found. */
export interface StoreFileCheck {
  /** What is wrong with the file, if anything. */
  readonly problem?: string;
  /** Why the scratch copy for the write rehearsal could not be made (e.g. a full disk); the file reads fine. */
  readonly copyError?: string;
}

/**
 * Checks the store file at `path` in a child process, which rehearses writes on a scratch copy at `copyPath`.
 */
export async function checkStoreFile(path: string, copyPath: string): Promise<StoreFileCheck> {
  rmSync(copyPath, { force: true });
  const stat = lstatSync(path);
  if (!stat.isFile()) return { problem: `${path} is not a regular file` };
  if (stat.size === 0) return { problem: `${path} is empty` };
  const timeout = BASE_TIMEOUT_MS + Math.ceil(stat.size / 2 ** 20) * MS_PER_MIB;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-e', CHILD_SCRIPT, require.resolve('lmdb'), path, copyPath],
      { timeout, maxBuffer: 1024 * 1024, env: {} },
      (error, stdout, stderr) => {
        if (error !== null) {
          const how =
            error.signal !== null && error.signal !== undefined
              ? `the check process was killed by ${error.signal}`
              : `the check process failed`;
          const detail = lastLine(stderr);
          resolve({
            problem: `LMDB cannot read the file (${how}${detail === '' ? '' : `: ${detail}`})`,
          });
          return;
        }
        try {
          const result = JSON.parse(stdout) as { problem: string | null; copyError: string | null };
          resolve({
            problem: result.problem ?? undefined,
            copyError: result.copyError ?? undefined,
          });
        } catch {
          resolve({ problem: 'LMDB cannot read the file (the check process gave no result)' });
        }
      },
    );
  });
}

function lastLine(text: string): string {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('at '));
  return lines[lines.length - 1] ?? '';
}
