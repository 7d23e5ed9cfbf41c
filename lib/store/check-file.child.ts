import { MANIFEST_KEY, OPEN_OPTIONS, TABLES } from '../format/lmdb-layout';
import { COMMIT_REASON_WAIT_MS } from './write-errors';

/** What the check process opens the store file with: the host's own options and tables (see `lmdb-layout.ts`). */
const LAYOUT = JSON.stringify({ options: OPEN_OPTIONS, tables: TABLES, manifestKey: MANIFEST_KEY });

/**
 * The program the check process runs (`node -e`), as text: the host may itself run from TypeScript sources (tests),
 * where no compiled file exists to point `node` at. So it cannot import `openTables`; it is given the layout that
 * function opens, and opens the file the same way, read-only for the check and writable for the rehearsal.
 * Arguments: the path of lmdb-js, the store file, the path of a scratch copy to rehearse writes on (empty: no
 * rehearsal) and the size of the lock file to reserve for that copy.
 *
 * It reports on stdout, one JSON object a line: `{"stage": …}` as it enters each stage (`open`, `read`, `copy`,
 * `rehearse`), so that a crash is known by the stage it happened in; then `{"done": {chunks, problem, rehearsed}}`,
 * or `{"failed": {stage, code, message}}` for an error it caught (`code`: Node's or lmdb-js's, with the reason of
 * a failed commit). See `check-file.ts`.
 */
export const CHECK_FILE_CHILD = String.raw`
const [lmdbPath, path, copyPath, lockBytes] = process.argv.slice(1);
const fs = require('node:fs');
const { crc32 } = require('node:zlib');
const layout = ${LAYOUT};
let stage = 'open';
const say = (message) => process.stdout.write(JSON.stringify(message) + '\n');
const enter = (next) => {
  stage = next;
  say({ stage });
};

// lmdb-js rejects a failed commit with "Commit failed" and the reason in a second promise, which it never settles
// on some failures (a write refused with EPERM): waited for as long as the host waits, no longer.
async function reasonOf(error) {
  const commitError = error && error.commitError;
  if (commitError && typeof commitError.then === 'function') {
    let timer;
    const late = new Promise((resolve) => (timer = setTimeout(resolve, ${COMMIT_REASON_WAIT_MS})));
    const reason = await Promise.race([commitError.then(() => undefined, (r) => r), late]);
    clearTimeout(timer);
    if (reason !== undefined) return reason;
  }
  return error;
}

// As lmdb-layout.ts's openTables does.
function openTables(open, file, readOnly) {
  const root = open({ path: file, readOnly, ...layout.options });
  return {
    root,
    chunks: root.openDB({ ...layout.tables.chunks }),
    meta: root.openDB({ ...layout.tables.meta }),
  };
}

async function main() {
  enter('open');
  const { open } = require(lmdbPath);
  const { root, chunks, meta } = openTables(open, path, true);
  enter('read');
  let count = 0;
  let problem = null;
  // A file shorter than its pages (cut short by a copy or a full disk): reading or copying the missing pages
  // through the map is a SIGBUS, and LMDB's copy fails with EINVAL.
  const { lastPageNumber, pageSize } = root.getStats();
  const size = fs.statSync(path).size;
  if (size < (lastPageNumber + 1) * pageSize) {
    problem = 'the file is truncated: ' + size + ' bytes, its pages end at ' + (lastPageNumber + 1) * pageSize;
  }
  const generations = new Set();
  for (const { key, value } of problem === null ? chunks.getRange() : []) {
    count++;
    generations.add(Array.isArray(key) ? key[0] : key);
    if (problem === null && (!Buffer.isBuffer(value) || value.length < 4 || crc32(value.subarray(4)) !== value.readUInt32LE(0))) {
      problem = Array.isArray(key)
        ? 'generation ' + key[0] + ': chunk ' + key[1] + ' fails its checksum'
        : 'a chunk has a foreign key ' + JSON.stringify(key);
    }
  }
  // The host seeks to each generation: descend the branch pages the same way, without reading the values again.
  for (const gen of generations) {
    for (const key of chunks.getKeys({ start: [gen], end: [gen + 1] })) void key;
  }
  if (problem === null) {
    for (const { value } of meta.getRange()) void value;
    if (meta.get(layout.manifestKey) === undefined) problem = 'the manifest is missing';
    for (const key of root.getKeys()) void key;
  }
  let rehearsed = false;
  if (problem === null && copyPath !== '') {
    enter('copy');
    // Written out in full: a lock file LMDB extends itself has holes, and a full disk then kills it with SIGBUS.
    fs.writeFileSync(copyPath + '-lock', Buffer.alloc(Number(lockBytes)), { flag: 'wx', mode: 0o600 });
    // Byte for byte, every meta page as the app's write open reads it (lmdb-js may roll back to the last flushed
    // snapshot, kept in a third one): LMDB's own copy writes fresh ones. A writer committing meanwhile (the CLI
    // checks beside the app) could tear it: then copy again, and after three tries take LMDB's consistent copy.
    let copied = false;
    for (let attempt = 0; attempt < 3 && !copied; attempt++) {
      const before = root.getStats().lastTxnId;
      fs.copyFileSync(path, copyPath);
      copied = root.getStats().lastTxnId === before;
    }
    if (!copied) {
      fs.rmSync(copyPath);
      await root.backup(copyPath, false);
    }
    enter('rehearse');
    // Rehearse on the copy the writes the host makes next (new chunks, the manifest, removals, reuse of the
    // freed pages): a damaged free list or branch page crashes this process, not the host.
    const { root: scratch, chunks: scratchChunks, meta: scratchMeta } = openTables(open, copyPath, false);
    const keys = Array.from(scratchChunks.getKeys());
    let next = 1;
    for (const key of keys) if (Array.isArray(key) && key[0] >= next) next = key[0] + 1;
    const filler = Buffer.alloc(256 * 1024, 7);
    for (let i = 0; i < 8; i++) scratchChunks.put([next, i], filler);
    await scratchMeta.put(layout.manifestKey, scratchMeta.get(layout.manifestKey));
    for (const key of keys) scratchChunks.remove(key);
    await scratchChunks.put([next, 8], filler);
    for (let i = 0; i <= 8; i++) scratchChunks.remove([next, i]);
    await scratchChunks.put([next + 1, 0], filler);
    await scratch.close();
    rehearsed = true;
  }
  await root.close();
  say({ done: { chunks: count, problem, rehearsed } });
}

let reported = false;
async function fail(error) {
  if (reported) return;
  reported = true;
  const reason = await reasonOf(error);
  const code = reason && (typeof reason.code === 'string' || typeof reason.code === 'number') ? reason.code : null;
  say({ failed: { stage, code, message: String((reason && reason.message) || reason) } });
  // Not closing LMDB: after a failed commit, lmdb-js may wait forever for a flush.
  process.exit(0);
}
// The rehearsal does not await every put: one that fails is reported, not left to crash the process.
process.on('unhandledRejection', fail);
main().then(() => process.exit(0), fail);
`;
