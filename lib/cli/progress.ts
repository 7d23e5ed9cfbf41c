import type { CliIo } from './io';

const WIDTH = 30;
const EVERY_MS = 100;

/**
 * A one-line progress bar on stderr, drawn only when stderr is a terminal: piped or redirected output stays
 * clean. Redrawn at most every 100 ms.
 */
export class Progress {
  private readonly enabled: boolean;
  private count = 0;
  private lastDraw = 0;
  private drawn = false;

  constructor(
    private readonly io: CliIo,
    private readonly label: string,
    private readonly total: number | undefined,
  ) {
    this.enabled = io.stderr.isTTY === true;
  }

  /** Advances by `n` items. */
  tick(n = 1): void {
    this.count += n;
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.lastDraw < EVERY_MS) return;
    this.lastDraw = now;
    this.draw();
  }

  /** Draws the final state and ends the line. */
  finish(): void {
    if (!this.enabled) return;
    this.draw();
    if (this.drawn) this.io.stderr.write('\n');
  }

  private draw(): void {
    const total = this.total;
    let line: string;
    if (total !== undefined && total > 0) {
      const ratio = Math.min(1, this.count / total);
      const filled = Math.round(ratio * WIDTH);
      const percent = Math.floor(ratio * 100)
        .toString()
        .padStart(3);
      line = `${this.label} [${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${percent}% ${this.count}/${total}`;
    } else {
      line = `${this.label} ${this.count}`;
    }
    this.io.stderr.write(`\r${line}\u001b[K`);
    this.drawn = true;
  }
}
