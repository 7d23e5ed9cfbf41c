import { getHeapStatistics } from 'node:v8';

/** Redis's memory units (`memtoull`): `k`, `m`, `g` are powers of 1000, `kb`, `mb`, `gb` powers of 1024. */
export const UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1e3,
  kb: 1024,
  m: 1e6,
  mb: 1024 ** 2,
  g: 1e9,
  gb: 1024 ** 3,
};

export const SIZE_ACCEPTED =
  'a number of bytes (0 for no limit), a size such as "512mb" or "2gb" (units b, k, kb, m, mb, g, gb as in ' +
  'redis.conf; at most 2^53 - 1 bytes), or a share of the V8 heap limit above 0% and at most 100%, such as "50%"';

/** V8's heap limit, which `"N%"` sizes are a share of. */
export function heapLimit(): number {
  return getHeapStatistics().heap_size_limit;
}

/**
 * Parses a memory size: a whole number of bytes, a string of digits with one of Redis's units, or a percentage
 * (1 to 100) of V8's heap limit. Returns the bytes, or `undefined` when it is not one.
 */
export function parseSize(value: unknown): number | undefined {
  if (typeof value === 'number') {
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  }
  if (typeof value !== 'string') return undefined;
  const share = /^\s*(\d+(?:\.\d+)?)\s*%\s*$/.exec(value);
  if (share !== null) {
    const percent = Number(share[1]);
    return percent > 0 && percent <= 100 ? Math.floor((heapLimit() * percent) / 100) : undefined;
  }
  const size = /^\s*(\d+)\s*([a-z]*)\s*$/i.exec(value);
  const unit = size === null ? undefined : UNITS[size[2].toLowerCase()];
  if (size === null || unit === undefined) return undefined;
  const bytes = Number(size[1]) * unit;
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}

/** A size for log lines: `1.5 GB`, `512.0 MB`, `900 B`. */
export function formatSize(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let value = bytes / 1024;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return `${value.toFixed(1)} ${units[i]}`;
}
