/**
 * Blocks that byte ranges are copied into, one after another: the records a full snapshot's keys become (see
 * `Keyspace.adopt`) keep their own bytes in them, not the chunks they were read from. A chunk of which only a few
 * keys are adopted would otherwise be kept whole; a block is let go once no record points into it.
 */
export class ByteArena {
  /** The block being filled. */
  block: Uint8Array = new Uint8Array(0);
  private used = 0;

  constructor(private readonly blockBytes: number) {}

  /**
   * Makes room for `length` bytes in {@link block}, starting a new one if they do not fit, and returns where they go.
   * A range longer than a block gets a block of its own.
   */
  reserve(length: number): number {
    if (this.used + length > this.block.length) {
      this.block = Buffer.allocUnsafeSlow(Math.max(this.blockBytes, length));
      this.used = 0;
    }
    const at = this.used;
    this.used += length;
    return at;
  }
}
