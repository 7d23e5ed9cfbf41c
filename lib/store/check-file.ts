import { execFile } from 'node:child_process';
import { existsSync, lstatSync } from 'node:fs';

/**
 * LMDB is native code that maps the file into memory and follows the page numbers it finds there: a damaged file
 * can make it read outside the map and kill the process with SIGSEGV or SIGBUS, which no `try` catches. So before
 * the host process opens a store file, a short-lived child process opens it read-only and walks everything the
 * host will read — every page of both tables, every value, each CRC — the same way the host reads it. If the
 * child dies, the file is reported as damaged and the host never maps it.
 */
const CHILD_SCRIPT = `
const [lmdbPath, path] = process.argv.slice(1);
const { open } = require(lmdbPath);
const { crc32 } = require('node:zlib');
const root = open({ path, readOnly: true, maxDbs: 4 });
const chunks = root.openDB({ name: 'chunks', encoding: 'binary' });
const meta = root.openDB({ name: 'meta', encoding: 'binary' });
let count = 0;
let problem = null;
for (const { key, value } of chunks.getRange()) {
  count++;
  if (problem === null && (!Buffer.isBuffer(value) || value.length < 4 || crc32(value.subarray(4)) !== value.readUInt32LE(0))) {
    problem = Array.isArray(key) ? 'generation ' + key[0] + ': chunk ' + key[1] + ' fails its checksum' : 'a chunk has a foreign key ' + JSON.stringify(key);
  }
}
for (const gen of new Set(Array.from(chunks.getKeys(), (k) => Array.isArray(k) ? k[0] : k))) {
  for (const entry of chunks.getRange({ start: [gen], end: [gen + 1] })) void entry;
}
for (const { value } of meta.getRange()) void value;
for (const key of root.getKeys()) void key;
process.stdout.write(JSON.stringify({ chunks: count, problem }));
root.close();
`;

/** How long the check may take per MiB of file, on top of starting Node. */
const MS_PER_MIB = 50;
const BASE_TIMEOUT_MS = 30_000;

/**
 * Checks the store file at `path` in a child process. Resolves to `undefined` when it is fine or absent, or to a
 * description of what is wrong.
 */
export async function checkStoreFile(path: string): Promise<string | undefined> {
  if (!existsSync(path)) return undefined;
  const stat = lstatSync(path);
  if (!stat.isFile()) return `${path} is not a regular file`;
  if (stat.size === 0) return `${path} is empty`;
  const timeout = BASE_TIMEOUT_MS + Math.ceil(stat.size / 2 ** 20) * MS_PER_MIB;
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['-e', CHILD_SCRIPT, require.resolve('lmdb'), path],
      { timeout, maxBuffer: 1024 * 1024, env: {} },
      (error, stdout, stderr) => {
        if (error !== null) {
          const how =
            error.signal !== null && error.signal !== undefined
              ? `the check process was killed by ${error.signal}`
              : `the check process failed`;
          const detail = lastLine(stderr);
          resolve(`LMDB cannot read the file (${how}${detail === '' ? '' : `: ${detail}`})`);
          return;
        }
        try {
          const result = JSON.parse(stdout) as { problem: string | null };
          resolve(result.problem ?? undefined);
        } catch {
          resolve('LMDB cannot read the file (the check process gave no result)');
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
