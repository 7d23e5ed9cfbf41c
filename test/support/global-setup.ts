import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

/**
 * Jest global setup: builds the project as `npm run build` does (`scripts/build.mjs`: `tsc -p tsconfig.build.json`
 * into an empty `dist/`, then the package's bin made executable), so tests that spawn processes run `dist/`, the same
 * artifact `npm start` runs and `npm pack` ships, built from the sources under test.
 */
export default function globalSetup(): void {
  try {
    execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], {
      cwd: ROOT,
      stdio: 'pipe',
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(
      `The build (scripts/build.mjs: tsc -p tsconfig.build.json) failed; tests that run dist/ cannot start:\n` +
        `${stdout?.toString() ?? ''}${stderr?.toString() ?? ''}`,
    );
  }
  const main = join(ROOT, 'dist', 'sample-app', 'src', 'main.js');
  if (!existsSync(main)) throw new Error(`The build did not emit ${main}.`);
}
