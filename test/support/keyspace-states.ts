/**
 * What tests read of a keyspace's insides and build into a restored index, which the library itself never needs:
 * every key's stored state (expired or not, still encoded or not), the snapshot bytes a restored index still holds,
 * and restored records laid out in chunks as a snapshot stores them. The unit specs of `lib/keyspace/` and the
 * end-to-end suites share them.
 */
import { BufferWriter } from '../../lib/format/codec';
import type { KeyState } from '../../lib/format/records';
import type { Keyspace } from '../../lib/keyspace/keyspace';
import type { RestoredStates } from '../../lib/keyspace/restored-states';

/** Every key's stored state, restored keys first, without copying or expiring anything. */
export function storedStates(keyspace: Keyspace): [string, KeyState][] {
  return [...keyspace['entries']];
}

/** The stored state of `key`, without copying or expiring it (a restored key gets its entry built). */
export function storedState(keyspace: Keyspace, key: string): KeyState | undefined {
  return keyspace['entries'].get(key);
}

/** Bytes of snapshot chunks a restored index still holds for records kept as bytes. */
export function heldBytes(states: RestoredStates): number {
  return states['sources'].reduce((sum, source) => sum + source.length, 0);
}

/** A value given as its encoded bytes (which need not decode), for {@link chunkOf}. */
export class Encoded {
  constructor(readonly bytes: Uint8Array) {}
}

/** Where a record lies in a chunk. */
export interface RecordSpan {
  readonly key: string;
  readonly keyStart: number;
  readonly keyEnd: number;
  readonly valueStart: number;
  readonly valueEnd: number;
}

/** One chunk holding the records as a snapshot lays them out: key bytes, then value bytes. */
export function chunkOf(records: [string, unknown][]): { chunk: Buffer; spans: RecordSpan[] } {
  const writer = new BufferWriter(64);
  const spans: RecordSpan[] = [];
  for (const [key, value] of records) {
    const keyStart = writer.length;
    writer.writeString(key);
    const keyEnd = writer.length;
    if (value instanceof Encoded) writer.writeRange(value.bytes, 0, value.bytes.length);
    else writer.writeValue(value);
    spans.push({ key, keyStart, keyEnd, valueStart: keyEnd, valueEnd: writer.length });
  }
  return { chunk: writer.finish(), spans };
}

/** Adds every record of a chunk (a generation of one chunk); keys listed in `deleted` become tombstones. */
export function addGeneration(
  states: RestoredStates,
  records: [string, unknown][],
  { deleted = [], expiresAt }: { deleted?: string[]; expiresAt?: number } = {},
): void {
  const { chunk, spans } = chunkOf([...records, ...deleted.map((k): [string, unknown] => [k, 0])]);
  for (const s of spans) {
    if (deleted.includes(s.key)) states.deleteRecord(chunk, s.keyStart, s.keyEnd);
    else states.setRecord(chunk, s.keyStart, s.keyEnd, s.valueStart, s.valueEnd, expiresAt);
  }
}
