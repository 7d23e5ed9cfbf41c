import { execFileSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '..', '..');

/**
 * Jest global setup: compiles the project with `tsconfig.build.json`, so tests that spawn processes run `dist/`,
 * the same artifact `npm start` runs and `npm pack` ships, built from the sources under test. As `npm run build`
 * does, it starts from an empty `dist/`: nothing compiled from a file since renamed or removed is left in it.
 */
export default function globalSetup(): void {
  const tsc = join(ROOT, 'node_modules', '.bin', 'tsc');
  rmSync(join(ROOT, 'dist'), { recursive: true, force: true });
  try {
    execFileSync(tsc, ['-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'pipe' });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: Buffer; stderr?: Buffer };
    throw new Error(
      `The build (tsc -p tsconfig.build.json) failed; tests that run dist/ cannot start:\n` +
        `${stdout?.toString() ?? ''}${stderr?.toString() ?? ''}`,
    );
  }
  const main = join(ROOT, 'dist', 'sample-app', 'src', 'main.js');
  if (!existsSync(main)) throw new Error(`The build did not emit ${main}.`);
}
