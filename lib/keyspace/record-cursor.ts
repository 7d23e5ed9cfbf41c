import type { EncodedRecord, EncodedSink } from '../format/records';

/** What a {@link RecordCursor} reads a record through: the restored index, by record number. */
export interface RecordColumns {
  expiresAt(r: number): number | undefined;
  copyKey(r: number, sink: EncodedSink): void;
  copyValue(r: number, sink: EncodedSink): void;
}

/**
 * A restored record as an {@link EncodedRecord}, for a snapshot that copies the bytes of keys nobody looked up: one
 * view, moved from record to record (`r`), so that a full snapshot of millions of them builds no object per key.
 */
export class RecordCursor implements EncodedRecord {
  r = 0;

  constructor(private readonly columns: RecordColumns) {}

  get expiresAt(): number | undefined {
    return this.columns.expiresAt(this.r);
  }

  copyKeyTo(sink: EncodedSink): void {
    this.columns.copyKey(this.r, sink);
  }

  copyValueTo(sink: EncodedSink): void {
    this.columns.copyValue(this.r, sink);
  }
}
