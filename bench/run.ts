/**
 * Runs the benchmarks one after the other, each in a node of its own with this process's node flags (`--expose-gc`,
 * `--max-old-space-size`) and the same arguments, which all accept: `--keys`, `--out`, `--no-redis`, `--datasets`
 * and `--no-warmup` (`--datasets` only matters to the snapshot benchmark); `--parts` goes to the memory benchmark
 * only, `--duration`, `--rate` and `--interval` to the interval benchmark only, `--ms` to the commands benchmark only.
 *
 *   npm run bench                                      # snapshot, memory, interval, then commands
 *   npm run bench -- --keys 10000                      # a small run (CI)
 *   npm run bench -- --only memory --parts eviction    # one benchmark (--only is this runner's)
 *   npm run bench -- --only interval --duration 30s    # snapshots every second under a steady write load
 *   npm run bench -- --only commands                   # commands: embedded vs ioredis-mock vs redis-server
 *   npm run bench -- --out results.json                # results-snapshot.json, results-memory.json, ...
 *
 * Exits non-zero when any benchmark failed (the others still run).
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const BENCHES = ['snapshot', 'memory', 'interval', 'commands'] as const;
type Bench = (typeof BENCHES)[number];

/** Options only one benchmark knows, with whether they take a value: left out of the other's arguments. */
const ONLY_FOR: Record<string, { bench: Bench; takesValue: boolean }> = {
  '--parts': { bench: 'memory', takesValue: true },
  '--ms': { bench: 'commands', takesValue: true },
  '--duration': { bench: 'interval', takesValue: true },
  '--rate': { bench: 'interval', takesValue: true },
  '--interval': { bench: 'interval', takesValue: true },
};

interface Plan {
  only: Bench[];
  args: string[];
}

function parse(argv: string[]): Plan {
  const plan: Plan = { only: [...BENCHES], args: [] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg];
    if (name === '--only') {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new Error(`--only needs a value among ${BENCHES.join(', ')}`);
      plan.only = value.split(',').map((s) => {
        const bench = s.trim() as Bench;
        if (!BENCHES.includes(bench)) {
          throw new Error(`--only: "${s}" is not one of ${BENCHES.join(', ')}`);
        }
        return bench;
      });
    } else {
      plan.args.push(arg);
    }
  }
  return plan;
}

/** The arguments of one benchmark: `--out x.json` becomes `x-<bench>.json`; others' own options are left out. */
function argsFor(bench: Bench, args: string[]): string[] {
  const result: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg];
    const own = ONLY_FOR[name];
    if (own !== undefined && own.bench !== bench) {
      if (own.takesValue && inline === undefined) i++;
      continue;
    }
    if (name === '--out') {
      const value = inline ?? args[++i];
      if (value === undefined) {
        result.push(arg);
        continue;
      }
      const dot = value.lastIndexOf('.');
      const slash = Math.max(value.lastIndexOf('/'), value.lastIndexOf('\\'));
      const perBench =
        dot > slash ? `${value.slice(0, dot)}-${bench}${value.slice(dot)}` : `${value}-${bench}`;
      result.push('--out', perBench);
      continue;
    }
    result.push(arg);
  }
  return result;
}

/** The benchmark running now: a SIGTERM sent to this runner alone is passed on to it. */
let current: ReturnType<typeof spawn> | undefined;

function run(bench: Bench, args: string[]): Promise<number> {
  const script = join(__dirname, `${bench}.bench.js`);
  console.log(
    `\n=== ${bench} benchmark: node ${[...process.execArgv, script, ...args].join(' ')}\n`,
  );
  const child = spawn(process.execPath, [...process.execArgv, script, ...args], {
    stdio: 'inherit',
  });
  current = child;
  return new Promise((resolve) => {
    child.once('error', (error) => {
      console.error(`${bench} benchmark could not start: ${error.message}`);
      resolve(1);
    });
    child.once('exit', (code, signal) => resolve(code ?? (signal === null ? 1 : 128)));
  });
}

async function main(): Promise<void> {
  const plan = parse(process.argv.slice(2));
  // Ctrl-C reaches the benchmark too (same process group): it cleans up and exits; this runner then stops. A
  // SIGTERM sent to the runner alone is passed on.
  let interrupted = false;
  process.on('SIGINT', () => {
    interrupted = true;
  });
  process.on('SIGTERM', () => {
    interrupted = true;
    current?.kill('SIGTERM');
  });
  const failed: Bench[] = [];
  for (const bench of plan.only) {
    if (interrupted) break;
    const code = await run(bench, argsFor(bench, plan.args));
    if (code !== 0) failed.push(bench);
  }
  if (failed.length > 0) {
    console.error(`\nFailed: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exitCode = 1;
});
