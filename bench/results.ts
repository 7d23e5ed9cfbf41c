import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { dirname, resolve } from 'node:path';

/** Writes a benchmark's `results` to `path` as JSON, after the date and a description of the machine. */
export function writeResults(path: string, results: Record<string, unknown>): void {
  const out = resolve(path);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(
    out,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        node: process.version,
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model,
        totalMemory: totalmem(),
        ...results,
      },
      null,
      2,
    ) + '\n',
  );
  console.log(`\nJSON: ${out}`);
}
