/**
 * A log line that may repeat many times a second (a snapshot skipped at every tick of a short interval, the same
 * failure at every tick while a disk is full): the first occurrence is written at once, the next ones are counted
 * and written as one line with their count at most once per `windowMs`. No timer: the count is written by the next
 * occurrence after the window, by a different one, or by {@link flush}. Occurrences are the same when their `kind`
 * is (by default their message): the same failure may say different things each time (a file offset, a size), and
 * a line with a count shows the last of them.
 *
 * @internal
 */
export class RepeatedLog {
  private pending = 0;
  private lastWrittenAt = -Infinity;
  private lastKind: string | undefined;
  private lastMessage = '';

  constructor(
    /** Writes one line standing for `count` occurrences of `message` (1 for a first occurrence). */
    private readonly write: (message: string, count: number) => void,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Reports one occurrence of `message`. */
  report(message: string, kind = message): void {
    const now = this.now();
    if (kind !== this.lastKind) {
      this.flush();
      this.lastKind = kind;
    } else if (now - this.lastWrittenAt < this.windowMs) {
      this.pending++;
      this.lastMessage = message;
      return;
    }
    this.lastMessage = message;
    this.write(message, this.pending + 1);
    this.pending = 0;
    this.lastWrittenAt = now;
  }

  /** Writes the occurrences not written yet, if any, and forgets the message. Returns how many there were. */
  flush(): number {
    const pending = this.pending;
    if (pending > 0) this.write(this.lastMessage, pending);
    this.pending = 0;
    this.lastKind = undefined;
    this.lastWrittenAt = -Infinity;
    return pending;
  }
}
