import type { Capture, CaptureVisitor } from '../keyspace/keyspace';
import type { EncodedRecord, KeyState, KeyUsage } from '../format/records';
import { showKey } from '../util/show-key';
import { runInSlices } from '../util/slices';
import { CodecError } from '../format/codec';
import type { SnapshotWriter } from '../store/snapshot-store';

/** Keys read between two looks at the clock. */
const KEYS_PER_CLOCK_CHECK = 64;

/** A key a snapshot left out because its value cannot be stored. */
export interface UnstorableKey {
  readonly key: string;
  /** Why it cannot be stored, naming the key, e.g. `key "q": cannot encode sparse array (hole) at [1]`. */
  readonly message: string;
}

/** What a copy did besides writing records. */
export interface CopyResult {
  /** Keys left out because their TTL had run out when the capture began. */
  readonly expired: number;
  /** Keys left out because their values cannot be encoded. */
  readonly unstorable: readonly UnstorableKey[];
}

/**
 * Copies a capture into a writer in slices of `sliceMs`, leaving out keys whose TTL had run out when the capture
 * began. Each kind of key comes to its own method (see {@link CaptureVisitor}).
 *
 * A value the codec cannot encode (a shape no Redis command makes, left by a bug) is left out too, and named in the
 * result: one bad key must not cost every other key its persistence. In an incremental snapshot it is written as
 * deleted, so that a restore never brings back an older value, as a full snapshot would not either.
 *
 * @internal
 */
export class SnapshotCopy implements CaptureVisitor {
  private expired = 0;
  private readonly unstorable: UnstorableKey[] = [];
  private readonly startedAt: number;
  private readonly incremental: boolean;

  constructor(
    private readonly capture: Capture,
    private readonly writer: SnapshotWriter,
    private readonly sliceMs: number,
  ) {
    this.startedAt = capture.startedAt;
    this.incremental = capture.changedKeys !== undefined;
  }

  /** Copies every key of the capture. */
  async run(): Promise<CopyResult> {
    const steps = this.capture.read(this, KEYS_PER_CLOCK_CHECK);
    await runInSlices(steps, this.sliceMs, () => this.writer.drain());
    return { expired: this.expired, unstorable: this.unstorable };
  }

  visit(key: string, state: KeyState, usage: Readonly<KeyUsage>): void {
    // NaN compares false with every time: it would pass for expired and the key would vanish.
    if (Number.isNaN(state.expiresAt)) {
      this.leaveOut(key, `key ${showKey(key)}: its expiry time is not a number`);
      return;
    }
    if (!this.liveAtStart(state.expiresAt)) {
      this.expired++;
      // An expired key may be in the chain: an incremental snapshot deletes it there.
      if (this.incremental) this.writer.addTombstone(key);
      return;
    }
    try {
      this.writer.add(key, state, usage);
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      this.leaveOut(key, error.message);
    }
  }

  private leaveOut(key: string, message: string): void {
    this.unstorable.push({ key, message });
    if (this.incremental) this.writer.addTombstone(key);
  }

  visitDeleted(key: string): void {
    this.writer.addTombstone(key);
  }

  /** Restored keys nobody looked up, as bytes (full snapshots only). */
  visitRecord(record: EncodedRecord, usage: Readonly<KeyUsage>): void {
    if (this.liveAtStart(record.expiresAt)) {
      this.writer.addEncoded(record, usage);
    } else {
      this.expired++;
    }
  }

  /** Whether a key with this expiry time had not expired when the capture began. */
  private liveAtStart(expiresAt: number | undefined): boolean {
    return expiresAt === undefined || expiresAt > this.startedAt;
  }
}
