#!/usr/bin/env node
/**
 * Fails when a file in lib/ imports against the direction of the layers (see CONTRIBUTING.md, "Layout"):
 *
 *   format, util  <-  keyspace, store  <-  ioredis-mock, snapshots  <-  cli, the Nest module (lib/*.ts)
 *
 * Each folder of lib/ may import itself and the folders listed for it below, nothing else of ours. The module layer
 * (the files directly in lib/) may import anything; of its files, only the two declaration files listed in
 * DECLARATIONS may be imported from a folder, and they may import nothing of ours. Unit specs (`*.spec.ts`) are
 * not part of the library and may import across (a keyspace spec drives the keyspace through the views the embedded
 * client uses).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository to check: this one, or the one given as the first argument. */
const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
const lib = join(root, 'lib');

/** What each folder of lib/ may import besides itself. */
const ALLOWED = {
  format: [],
  util: [],
  keyspace: ['format', 'util'],
  store: ['format', 'util'],
  'ioredis-mock': ['keyspace', 'format', 'util'],
  snapshots: ['keyspace', 'store', 'format', 'util', 'declarations'],
  cli: ['store', 'keyspace', 'format', 'ioredis-mock', 'util'],
};

/** Files of the module layer that hold only types and tokens: the services below it are configured through them. */
const DECLARATIONS = ['persistent-cache.constants.ts', 'persistent-cache.interfaces.ts'];

const IMPORT =
  /(?:\bfrom\s*|\bimport\s*\(\s*|\brequire\s*\(\s*|^\s*import\s+)['"](\.{1,2}\/[^'"]*)['"]/gm;

function* sources(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* sources(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) yield path;
  }
}

/** The layer a path of lib/ belongs to: its folder, `declarations`, or `module`. */
function layerOf(path) {
  const parts = relative(lib, path).split(sep);
  if (parts.length > 1) return parts[0];
  const name = parts[0].endsWith('.ts') ? parts[0] : `${parts[0]}.ts`;
  return DECLARATIONS.includes(name) ? 'declarations' : 'module';
}

const problems = [];
for (const file of sources(lib)) {
  const from = layerOf(file);
  if (from !== 'module' && from !== 'declarations' && !(from in ALLOWED)) {
    problems.push(
      `${relative(root, file)}: lib/${from}/ is not a known layer; add it to ALLOWED in this script`,
    );
    continue;
  }
  const text = readFileSync(file, 'utf8');
  for (const match of text.matchAll(IMPORT)) {
    const target = resolve(dirname(file), match[1]);
    if (relative(lib, target).startsWith('..')) {
      problems.push(`${relative(root, file)} imports ${match[1]}, outside lib/`);
      continue;
    }
    const to = layerOf(target);
    if (to === from || from === 'module') continue;
    const allowed = from === 'declarations' ? [] : ALLOWED[from];
    if (!allowed.includes(to)) {
      const what = to === 'module' ? 'the module layer (lib/*.ts)' : `lib/${to}/`;
      problems.push(
        `${relative(root, file)} imports ${match[1]}: lib/${from}/ may not depend on ${what}`,
      );
    }
  }
}

if (problems.length > 0) {
  process.stderr.write(
    `Imports against the layers' direction (see "Layout" in CONTRIBUTING.md):\n  ${problems.join('\n  ')}\n`,
  );
  process.exit(1);
}
