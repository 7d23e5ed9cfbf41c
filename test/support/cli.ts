import { spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The compiled CLI, built by the jest global setup (what `npx persistent-cache` runs). */
export const CLI = resolve(__dirname, '..', '..', 'dist', 'lib', 'cli', 'index.js');

export interface CliRun {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the compiled CLI in a process of its own, optionally as another user and with stdout into a file. */
export function runCli(
  args: readonly string[],
  options: { user?: { uid: number; gid: number }; stdoutFile?: string } = {},
): Promise<CliRun> {
  return new Promise((resolvePromise, reject) => {
    const out = options.stdoutFile === undefined ? 'pipe' : openSync(options.stdoutFile, 'w');
    const child = spawn(process.execPath, [CLI, ...args], {
      stdio: ['ignore', out, 'pipe'],
      cwd: join(CLI, '..'),
      uid: options.user?.uid,
      gid: options.user?.gid,
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (typeof out === 'number') closeSync(out);
      resolvePromise({ code, signal, stdout, stderr });
    });
  });
}
