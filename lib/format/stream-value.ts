/**
 * A stream as the embedded client keeps it: an array of entries `[id, [field, value, field, value, …]]` in
 * increasing id order, ids in Redis's form `<ms>-<seq>` (decimal, without leading zeros), and the last id the stream
 * generated, which Redis keeps when entries are deleted or trimmed (an emptied stream keeps it, and stays a key).
 *
 * It is an array, as ioredis-mock's own streams are (its commands, called by a Lua script, still read it), with one
 * property more; the codec writes it under its own tag (`0x0f`, see `codec.ts`) so that the last id and an empty
 * stream survive a snapshot. Arrays derived from it (`slice`, `map`, …) are plain arrays.
 */
export type StreamFields = (string | Buffer)[];
export type StreamEntryValue = [string, StreamFields];

export class StreamValue extends Array<StreamEntryValue> {
  static override get [Symbol.species](): ArrayConstructor {
    return Array;
  }

  /** The last id the stream generated or was given (`0-0` for none). */
  lastId = '0-0';

  /** A stream of `entries` (taken as they are) whose last generated id is `lastId`. */
  static make(entries: readonly StreamEntryValue[], lastId: string): StreamValue {
    const stream = new StreamValue();
    for (let i = 0; i < entries.length; i++) stream.push(entries[i]);
    stream.lastId = lastId;
    return stream;
  }

  /** A copy of the stream: the entries array is new, the entries themselves are shared (they are never changed). */
  copy(): StreamValue {
    return StreamValue.make(this, this.lastId);
  }
}
