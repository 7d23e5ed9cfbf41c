/** What the benchmarks print with: one line at a time, times, sizes, goal marks and aligned tables. */

export function log(line: string): void {
  console.log(line);
}

export function fmtMs(ms: number): string {
  return ms >= 10_000 ? `${(ms / 1000).toFixed(1)} s` : `${ms.toFixed(ms < 10 ? 1 : 0)} ms`;
}

export function fmtMB(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

/** ✓ or ✗ for a goal met or not; a blank when there was nothing to compare with. */
export function mark(ok: boolean | null): string {
  return ok === null ? ' ' : ok ? '✓' : '✗';
}

/** A table of `rows` under `header`: the first `left` columns aligned left, the others (figures) right. */
export function table(header: string[], rows: string[][], left = 1): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i < left ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}
