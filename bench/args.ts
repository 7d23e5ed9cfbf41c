/**
 * The command line the benchmarks share: bench/run.ts passes the same arguments to each of them, so each accepts
 * `--keys`, `--datasets`, `--out`, `--no-redis`, `--no-warmup` and `--help`, and adds options of its own.
 */
import { join } from 'node:path';
import { DATASETS, type DatasetName } from '../test/support/datasets';

/** The options every benchmark accepts, with its defaults where they are not given. */
export interface CommonOptions {
  keys: number[];
  /** Empty for a benchmark that ignores `--datasets`. */
  datasets: DatasetName[];
  out: string;
  redis: boolean;
  warmup: boolean;
}

export interface ArgsSpec {
  /** The benchmark's name, in the default `--out`: `bench-results/<name>-<timestamp>.json`. */
  name: string;
  usage: () => string;
  /** Default key counts. */
  keys: number[];
  /** Smallest key count `--keys` accepts (default 1). */
  minKeys?: number;
  /** Whether `--keys` errors give an example of a count (default true). */
  keysExample?: boolean;
  /** Default datasets; without it the benchmark reads `--datasets`'s value and ignores it. */
  datasets?: DatasetName[];
  /**
   * Handles one of the benchmark's own options (`value()` reads its value, or throws when it has none); returns
   * false when `name` is not one, for an "unknown option" error.
   */
  option?: (name: string, value: () => string) => boolean;
}

/**
 * A count such as `10000`, `10k`, `1m` or `1_000_000` of at least `min`. `example` adds one to the error, which
 * says "a positive integer" when `min` is 1.
 */
export function parseCount(text: string, flag: string, min: number, example = false): number {
  const n = Number(text.trim().replace(/_/g, '').replace(/k$/i, '000').replace(/m$/i, '000000'));
  if (!Number.isSafeInteger(n) || n < min) {
    const what = min === 1 ? 'a positive integer' : `an integer ≥ ${min}`;
    throw new Error(`${flag}: "${text}" is not ${what}${example ? ' (e.g. 10000 or 10k)' : ''}`);
  }
  return n;
}

/** Walks `argv` (`--name=value` or `--name value`): prints the usage and exits on `--help` or `-h`. */
export function parseBenchArgs(argv: string[], spec: ArgsSpec): CommonOptions {
  const { usage } = spec;
  const options: CommonOptions = {
    keys: spec.keys,
    datasets: spec.datasets ?? [],
    out: join(
      'bench-results',
      `${spec.name}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
    ),
    redis: true,
    warmup: true,
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const [name, inline] = arg.startsWith('--') && arg.includes('=') ? arg.split(/=(.*)/s) : [arg];
    const value = (): string => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${name} needs a value\n${usage()}`);
      return v;
    };
    switch (name) {
      case '--keys':
        options.keys = value()
          .split(',')
          .map((s) => parseCount(s, '--keys', spec.minKeys ?? 1, spec.keysExample ?? true));
        break;
      case '--datasets': {
        const datasets = value();
        if (spec.datasets === undefined) break;
        options.datasets = datasets.split(',').map((s) => {
          const d = s.trim() as DatasetName;
          if (!DATASETS.includes(d)) {
            throw new Error(`--datasets: "${s}" is not one of ${DATASETS.join(', ')}`);
          }
          return d;
        });
        break;
      }
      case '--out':
        options.out = value();
        break;
      case '--no-redis':
        options.redis = false;
        break;
      case '--no-warmup':
        options.warmup = false;
        break;
      case '--help':
      case '-h':
        console.log(usage());
        process.exit(0);
        break;
      default:
        if (spec.option?.(name, value) !== true) {
          throw new Error(`unknown option "${arg}"\n${usage()}`);
        }
    }
  }
  return options;
}
