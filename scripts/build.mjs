#!/usr/bin/env node
/**
 * `npm run build` (and the jest global setup): compiles the project with `tsconfig.build.json` into an empty `dist/`
 * (nothing compiled from a file since renamed or removed is left in it), then makes the package's `bin` files
 * executable. tsc writes them with mode 0644; npm sets the bit when it links a bin, but `npx persistent-cache` in this
 * repository reuses the link it made once, so a later build left a CLI the shell refused (`Permission denied`).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, readFileSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

rmSync(join(root, 'dist'), { recursive: true, force: true });
const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
try {
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: root,
    stdio: 'inherit',
  });
} catch {
  process.stderr.write('build: tsc -p tsconfig.build.json failed (its errors are above)\n');
  process.exit(1);
}

const { bin = {} } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
for (const file of typeof bin === 'string' ? [bin] : Object.values(bin)) {
  const path = join(root, file);
  // Read and execute for everyone, as npm installs a bin; the owner keeps write.
  chmodSync(path, statSync(path).mode | 0o755);
}
