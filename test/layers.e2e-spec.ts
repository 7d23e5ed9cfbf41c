import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const SCRIPT = resolve(__dirname, '..', 'scripts', 'check-layers.mjs');

/** Runs the lint step's layer check on a repository made of `files` (path → content). */
function check(files: Record<string, string>): { status: number | null; stderr: string } {
  const root = mkdtempSync(join(tmpdir(), 'layers-'));
  try {
    for (const [path, content] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), content);
    }
    const run = spawnSync(process.execPath, [SCRIPT, root], { encoding: 'utf8' });
    return { status: run.status, stderr: run.stderr };
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

describe('the layer check of the lint step', () => {
  it('passes on this repository', () => {
    expect(() => execFileSync(process.execPath, [SCRIPT], { stdio: 'pipe' })).not.toThrow();
  });

  it('passes on imports that follow the direction', () => {
    const result = check({
      'lib/format/codec.ts': 'export const x = 1;\n',
      'lib/util/slices.ts': 'export const y = 1;\n',
      'lib/keyspace/keyspace.ts':
        "import { x } from '../format/codec';\nimport { y } from '../util/slices';\n",
      'lib/store/store.ts': "import type { x } from '../format/codec';\n",
      'lib/snapshots/service.ts':
        "import '../store/store';\nimport '../keyspace/keyspace';\nimport { T } from '../persistent-cache.constants';\n",
      'lib/persistent-cache.constants.ts': 'export const T = 1;\n',
      'lib/persistent-cache.module.ts':
        "import '../lib/snapshots/service';\nimport './store/store';\n",
      // Specs are not part of the library: they may drive a layer through one above it.
      'lib/keyspace/keyspace.spec.ts': "import '../snapshots/service';\n",
    });
    expect(result).toEqual({ status: 0, stderr: '' });
  });

  it.each([
    [
      'the store importing the keyspace',
      'lib/store/store.ts',
      "import type { K } from '../keyspace/keyspace';",
    ],
    [
      'the format importing a helper',
      'lib/format/records.ts',
      "import { y } from '../util/slices';",
    ],
    [
      'the keyspace importing ioredis-mock',
      'lib/keyspace/keyspace.ts',
      "export { V } from '../ioredis-mock/views';",
    ],
    [
      'a layer importing the module',
      'lib/snapshots/service.ts',
      "import { M } from '../persistent-cache.module';",
    ],
    ['a dynamic import', 'lib/util/slices.ts', "const m = import('../store/store');"],
    ['a require', 'lib/format/codec.ts', "const m = require('../keyspace/keyspace');"],
  ])('fails on %s, naming the file and the import', (_what, file, line) => {
    const result = check({ [file]: `${line}\n` });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain(`${file} imports`);
    expect(result.stderr).toMatch(/may not depend on/);
  });

  it('fails on a declaration file that imports anything of ours, and on an unknown folder', () => {
    const declarations = check({
      'lib/persistent-cache.constants.ts': "import { x } from './util/slices';\n",
    });
    expect(declarations.status).toBe(1);
    expect(declarations.stderr).toContain(
      'lib/persistent-cache.constants.ts imports ./util/slices',
    );
    const unknown = check({ 'lib/extras/thing.ts': 'export {};\n' });
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain('lib/extras/ is not a known layer');
  });
});
