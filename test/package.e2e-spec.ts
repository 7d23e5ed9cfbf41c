import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, posix, resolve } from 'node:path';

/**
 * What `npm pack` ships, read from its own file list (`--dry-run --json`; the jest global setup has built `dist/`
 * from an empty directory, as `npm run build` and so `prepack` do): the compiled library with its typings, the
 * sources its source maps point at, the license and the docs, and nothing else: no tests, no benchmarks, no sample
 * app, and no compiled file whose source is gone.
 */

const ROOT = resolve(__dirname, '..');

interface PackedFile {
  readonly path: string;
}

function packedFiles(): Set<string> {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const [pack] = JSON.parse(out) as [{ files: PackedFile[] }];
  return new Set(pack.files.map((file) => file.path));
}

describe('the npm package', () => {
  let files: Set<string>;

  beforeAll(() => {
    files = packedFiles();
  });

  it('holds the license, the README, the entry points and their typings, and the CLI', () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
      main: string;
      types: string;
      bin: Record<string, string>;
      exports: Record<string, string | { types: string; default: string }>;
    };
    const entries = [manifest.main, manifest.types, ...Object.values(manifest.bin)];
    for (const target of Object.values(manifest.exports)) {
      if (typeof target === 'string') entries.push(target);
      else entries.push(target.types, target.default);
    }
    for (const file of ['LICENSE', 'README.md', 'package.json', ...entries]) {
      expect([file, files.has(posix.normalize(file))]).toEqual([file, true]);
    }
  });

  it('ships no tests, benchmarks, sample app or scripts', () => {
    const unwanted = [...files].filter(
      (file) =>
        /\.spec\.(ts|js|d\.ts)(\.map)?$/.test(file) ||
        /^(dist\/)?(test|bench|sample-app|scripts)\//.test(file),
    );
    expect(unwanted).toEqual([]);
  });

  it('ships no compiled file without its source (nothing left from a renamed or removed file)', () => {
    const orphans = [...files]
      .filter((file) => file.startsWith('dist/lib/') && file.endsWith('.js'))
      .filter((file) => !files.has(file.replace(/^dist\//, '').replace(/\.js$/, '.ts')));
    expect(orphans).toEqual([]);
    expect([...files].filter((file) => file.startsWith('dist/lib/')).length).toBeGreaterThan(100);
  });

  it('has every source map point at sources in the package, so that a debugger finds them', () => {
    const maps = [...files].filter((file) => file.endsWith('.map'));
    expect(maps.length).toBeGreaterThan(50);
    const missing: string[] = [];
    for (const map of maps) {
      const { sources } = JSON.parse(readFileSync(join(ROOT, map), 'utf8')) as {
        sources: string[];
      };
      for (const source of sources) {
        const path = posix.join(posix.dirname(map), source);
        if (!files.has(path)) missing.push(`${map} -> ${path}`);
      }
    }
    expect(missing).toEqual([]);
  });
});
