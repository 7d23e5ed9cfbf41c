/**
 * Streams (https://redis.io/docs/latest/commands/?group=stream).
 *
 * ioredis-mock 8.13.1's XADD gives `<length + 1>-0` for `*`, appends `-0` to any id it is given (`1-1` becomes
 * `1-1-0`) without checking it, and stores a helper key `stream:<key>:<id>` per entry; its XREAD marks entries as read
 * in those helpers (a second XREAD from `0` finds nothing), returns what is already there for `$`, and answers
 * `[[key, []]]` for nothing; its XRANGE compares ids with `parseInt`; it has no XDEL or XTRIM; its stream commands
 * accept keys of other types. Here the stream commands are answered from the stored value and write through the
 * keyspace (`KeyReader.streams`), as Redis 7.0 does: ids in Redis's form, `*` and `<ms>-*` ids from the clock and the
 * stream's last id (which the stream keeps when entries are deleted: an emptied stream stays a key), every id checked,
 * Redis's parsing order and error texts, NOMKSTREAM, MAXLEN and MINID (`=` and `~`, LIMIT), exclusive `(` bounds,
 * COUNT, and XREAD's `$`, BLOCK and null for nothing. A stream is stored as a `StreamValue` (see
 * `keyspace/streams.ts`); one ioredis-mock stored (restored from an older snapshot) is read as one.
 *
 * Approximate trimming (`~`) removes whole blocks of 100 entries from the head, as Redis removes whole nodes of its
 * radix tree (100 entries each by default): exact for streams nobody deleted entries from and whose entries are
 * small; Redis's nodes also close at 4 KB and keep deleted entries in them.
 */
import {
  type CommandRule,
  expectType,
  holds,
  keyName,
  type KeyReader,
  reply,
} from '../command-rule';
import {
  type Arg,
  argText,
  integerArg,
  optionName,
  parseInteger,
  replyError,
  SYNTAX_ERROR,
  wrongArity,
  OUT_OF_MEMORY,
  CONNECTION_CLOSED,
} from '../redis-replies';
import {
  asStreamValue,
  compareStreamIds,
  decrementId,
  entryId,
  formatStreamId,
  incrementId,
  MAX_ID,
  MIN_ID,
  parseStreamId,
  type StreamEntryValue,
  type StreamFields,
  type StreamId,
  StreamValue,
} from '../../keyspace/streams';
import type { StreamWriter } from '../../keyspace/keyspace';
import { IN_PLACE_FROM_BYTES, streamEntryBytes } from '../../keyspace/memory';

export const INVALID_STREAM_ID = 'ERR Invalid stream ID specified as stream command argument';
export const XADD_ID_TOO_SMALL =
  'ERR The ID specified in XADD is equal or smaller than the target stream top item';
export const XADD_ID_ZERO = 'ERR The ID specified in XADD must be greater than 0-0';
/** `XADD <ms>-*` when the last id of that millisecond has the largest sequence. */
const ELEMENTS_TOO_LARGE = 'ERR Elements are too large to be stored';
const STREAM_EXHAUSTED =
  'ERR The stream has exhausted the last possible ID, unable to add more items';
const MAXLEN_AND_MINID =
  'ERR syntax error, MAXLEN and MINID options at the same time are not compatible';
const LIMIT_WITHOUT_STRATEGY =
  'ERR syntax error, LIMIT cannot be used without specifying a trimming strategy';
const LIMIT_WITHOUT_APPROX = 'ERR syntax error, LIMIT cannot be used without the special ~ option';
const XTRIM_WITHOUT_STRATEGY = 'ERR syntax error, XTRIM must be called with a trimming strategy';

/** Redis's `stream-node-max-entries`: approximate trimming removes whole nodes of this many entries. */
const NODE_ENTRIES = 100;
/** Redis's default LIMIT of approximate trimming (100 × `stream-node-max-entries`). */
const DEFAULT_APPROX_LIMIT = 100 * NODE_ENTRIES;

/** A stream id argument as Redis's `streamGenericParseIDOrReply` reads it (`strict`: not `-` or `+`). */
function idArg(arg: Arg, missingSeq: bigint, strict: boolean): StreamId {
  const text = argText(arg);
  if (text.length > 127) throw replyError(INVALID_STREAM_ID);
  if (text === '-' || text === '+') {
    if (strict) throw replyError(INVALID_STREAM_ID);
    return text === '-' ? MIN_ID : MAX_ID;
  }
  const id = parseStreamId(text, missingSeq);
  if (id === undefined) throw replyError(INVALID_STREAM_ID);
  return id;
}

/** XADD's id: `<ms>-<seq>`, `<ms>`, or `<ms>-*` (the sequence then comes from the stream: `seqGiven` false). */
function xaddIdArg(arg: Arg): { id: StreamId; seqGiven: boolean } {
  const text = argText(arg);
  const dash = text.indexOf('-');
  if (dash !== -1 && text.slice(dash + 1) === '*' && text.length <= 127) {
    return { id: idArg(text.slice(0, dash), 0n, true), seqGiven: false };
  }
  return { id: idArg(arg, 0n, true), seqGiven: true };
}

/** The stream stored under `key` (WRONGTYPE for another type), `undefined` when missing. */
function streamAt(reader: KeyReader, key: Arg): StreamValue | undefined {
  const value = expectType(reader, key, ['stream']);
  return value === undefined ? undefined : asStreamValue(value);
}

/** A field or value to store: UTF-8 text as a string, other bytes as a copy (the caller may change its Buffer). */
function storedField(arg: Arg): string | Buffer {
  if (typeof arg === 'string') return arg;
  const text = arg.toString('utf8');
  return Buffer.from(text, 'utf8').equals(arg) ? text : Buffer.from(arg);
}

/** An entry as Redis replies it: `[id, [field, value, …]]`, Buffers copied. */
function entryReply(entry: StreamEntryValue): [string, StreamFields] {
  return [entry[0], entry[1].map((f) => (Buffer.isBuffer(f) ? Buffer.from(f) : f))];
}

interface Trim {
  readonly strategy: 'maxlen' | 'minid';
  readonly maxlen: number;
  readonly minid: StreamId;
  readonly approx: boolean;
  /** Entries approximate trimming may remove at most (0: no limit). */
  readonly limit: number;
}

interface AddOrTrimArgs {
  trim?: Trim;
  noMkStream: boolean;
  /** Index of the id (XADD), or of the end of the arguments (XTRIM). */
  at: number;
}

/** Redis's `streamParseAddOrTrimArgsOrReply`: XADD's options up to the id, or XTRIM's. */
function parseAddOrTrim(args: readonly Arg[], xadd: boolean): AddOrTrimArgs {
  let strategy: Trim['strategy'] | undefined;
  let maxlen = 0;
  let minid = MIN_ID;
  let approx = false;
  let limit = 0;
  let limitGiven = false;
  let noMkStream = false;
  let i = 1;
  for (; i < args.length; i++) {
    const more = args.length - 1 - i;
    const text = argText(args[i]);
    const option = optionName(args[i]);
    if (xadd && text === '*') break;
    if ((option === 'MAXLEN' || option === 'MINID') && more > 0) {
      if (strategy !== undefined) throw replyError(MAXLEN_AND_MINID);
      approx = false;
      const next = argText(args[i + 1]);
      if (more >= 2 && next === '~') {
        approx = true;
        i++;
      } else if (more >= 2 && next === '=') {
        i++;
      }
      if (option === 'MAXLEN') {
        const n = integerArg(args[i + 1]);
        if (n < 0n) throw replyError('ERR The MAXLEN argument must be >= 0.');
        maxlen = Number(n);
      } else {
        minid = idArg(args[i + 1], 0n, true);
      }
      i++;
      strategy = option === 'MAXLEN' ? 'maxlen' : 'minid';
    } else if (option === 'LIMIT' && more > 0) {
      const n = integerArg(args[i + 1]);
      if (n < 0n) throw replyError('ERR The LIMIT argument must be >= 0.');
      limit = Number(n);
      limitGiven = true;
      i++;
    } else if (xadd && option === 'NOMKSTREAM') {
      noMkStream = true;
    } else if (xadd) {
      xaddIdArg(args[i]); // an id, or Redis's error for what is neither an option nor an id
      break;
    } else {
      throw replyError(SYNTAX_ERROR);
    }
  }
  if (limit !== 0 && strategy === undefined) throw replyError(LIMIT_WITHOUT_STRATEGY);
  if (!xadd && strategy === undefined) throw replyError(XTRIM_WITHOUT_STRATEGY);
  if (!limitGiven) limit = approx ? DEFAULT_APPROX_LIMIT : 0;
  else if (!approx) throw replyError(LIMIT_WITHOUT_APPROX);
  const trim = strategy === undefined ? undefined : { strategy, maxlen, minid, approx, limit };
  return { trim, noMkStream, at: i };
}

/** Redis's `streamTrim`: removes entries from the head of `entries` (changed in place); returns how many. */
function trimEntries(
  entries: StreamEntryValue[],
  trim: Trim,
  onRemoved?: (entry: StreamEntryValue) => void,
): number {
  const keep = (from: number): boolean =>
    trim.strategy === 'maxlen'
      ? entries.length - from <= trim.maxlen
      : compareStreamIds(entryId(entries[from]), trim.minid) >= 0;
  let removed = 0;
  if (!trim.approx) {
    while (removed < entries.length && !keep(removed)) removed++;
  } else {
    for (;;) {
      const node = Math.min(NODE_ENTRIES, entries.length - removed);
      if (node === 0 || keep(removed)) break;
      if (trim.limit !== 0 && removed + node > trim.limit) break;
      const whole =
        trim.strategy === 'maxlen'
          ? entries.length - removed - node >= trim.maxlen
          : compareStreamIds(entryId(entries[removed + node - 1]), trim.minid) < 0;
      if (!whole) break;
      removed += node;
    }
  }
  if (removed > 0) {
    if (onRemoved !== undefined) for (let i = 0; i < removed; i++) onRemoved(entries[i]);
    entries.splice(0, removed);
  }
  return removed;
}

function writerOf(reader: KeyReader): StreamWriter | undefined {
  return reader.streams;
}

/** XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value [field value …] */
const xadd: CommandRule = {
  arity: -5,
  check: (args, reader) => {
    const writer = writerOf(reader);
    if (writer === undefined) return; // no keyspace to write to: ioredis-mock's own XADD
    const { trim, noMkStream, at } = parseAddOrTrim(args, true);
    const fields = args.length - (at + 1);
    if (fields < 2 || fields % 2 === 1) throw replyError(wrongArity('xadd'));
    const idText = argText(args[at]);
    let given: StreamId | undefined;
    let seqGiven = true;
    if (idText !== '*') {
      ({ id: given, seqGiven } = xaddIdArg(args[at]));
      if (seqGiven && given.ms === 0n && given.seq === 0n) throw replyError(XADD_ID_ZERO);
    }
    const key = keyName(args[0]);
    const stored = streamAt(reader, args[0]);
    if (stored === undefined && noMkStream) return reply(null);
    if (!writer.admit()) throw replyError(OUT_OF_MEMORY);
    // A large stream is added to in place (a copy for each entry cost the stream's length: 235 XADDs a second at
    // 20k entries), once the new id is known to be valid.
    const keyWriter = reader.writer;
    const inPlace =
      stored !== undefined &&
      keyWriter !== undefined &&
      keyWriter.bytesOf(key) >= IN_PLACE_FROM_BYTES &&
      reader.valueOf(key) === stored;
    const stream = stored === undefined ? new StreamValue() : inPlace ? stored : stored.copy();
    const last = parseStreamId(stream.lastId) ?? MIN_ID;
    if (last.ms === MAX_ID.ms && last.seq === MAX_ID.seq) throw replyError(STREAM_EXHAUSTED);
    let id: StreamId | undefined;
    if (given === undefined) id = writer.nextId(stream.lastId);
    else if (seqGiven) id = given;
    else if (last.ms === given.ms) {
      // `<ms>-*` after the largest sequence of that millisecond: Redis refuses it (`streamAppendItem`).
      if (last.seq === MAX_ID.seq) throw replyError(ELEMENTS_TOO_LARGE);
      id = incrementId(last);
    } else id = given;
    if (id === undefined || compareStreamIds(id, last) <= 0) {
      throw replyError(XADD_ID_TOO_SMALL);
    }
    const idReply = formatStreamId(id);
    const entry: StreamEntryValue = [idReply, args.slice(at + 1).map(storedField)];
    if (inPlace) {
      keyWriter.inPlace(key); // a capture under way keeps the stream as it was
      let bytes = streamEntryBytes(entry);
      stream.push(entry);
      stream.lastId = idReply;
      if (trim !== undefined) {
        trimEntries(stream, trim, (removed) => (bytes -= streamEntryBytes(removed)));
      }
      keyWriter.changedInPlace(key, bytes);
      return reply(idReply);
    }
    stream.push(entry);
    stream.lastId = idReply;
    if (trim !== undefined) trimEntries(stream, trim);
    writer.store(key, stream);
    return reply(idReply);
  },
};

/** XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count] */
const xtrim: CommandRule = {
  arity: -4,
  check: (args, reader) => {
    const writer = writerOf(reader);
    if (writer === undefined) return;
    const { trim } = parseAddOrTrim(args, false);
    const stored = streamAt(reader, args[0]);
    if (stored === undefined || trim === undefined) return reply(0);
    const stream = stored.copy();
    const removed = trimEntries(stream, trim);
    if (removed > 0) writer.store(keyName(args[0]), stream);
    return reply(removed);
  },
};

/** XDEL key id [id …]: the stream stays, emptied or not, with its last id. */
const xdel: CommandRule = {
  arity: -3,
  check: (args, reader) => {
    const writer = writerOf(reader);
    if (writer === undefined) return;
    const stored = streamAt(reader, args[0]);
    if (stored === undefined) return reply(0);
    const ids = args.slice(1).map((arg) => formatStreamId(idArg(arg, 0n, true)));
    const stream = stored.copy();
    let deleted = 0;
    for (const id of new Set(ids)) {
      const at = stream.findIndex((entry) => entry[0] === id);
      if (at === -1) continue;
      stream.splice(at, 1);
      deleted++;
    }
    if (deleted > 0) writer.store(keyName(args[0]), stream);
    return reply(deleted);
  },
};

/** The entries of `stream` from `start` to `end` (inclusive), oldest first, at most `count` (0: all). */
function range(
  stream: readonly StreamEntryValue[],
  start: StreamId,
  end: StreamId,
  count: number,
  reverse: boolean,
): [string, StreamFields][] {
  const out: [string, StreamFields][] = [];
  if (compareStreamIds(start, end) > 0) return out;
  const n = stream.length;
  for (let k = 0; k < n; k++) {
    const entry = stream[reverse ? n - 1 - k : k];
    const id = entryId(entry);
    if (compareStreamIds(id, start) < 0 || compareStreamIds(id, end) > 0) continue;
    out.push(entryReply(entry));
    if (count > 0 && out.length >= count) break;
  }
  return out;
}

/** An interval bound of XRANGE: `(` excludes it. */
function boundArg(arg: Arg, missingSeq: bigint): { id: StreamId; exclusive: boolean } {
  const text = argText(arg);
  if (text.length > 1 && text.startsWith('(')) {
    return { id: idArg(text.slice(1), missingSeq, true), exclusive: true };
  }
  return { id: idArg(arg, missingSeq, false), exclusive: false };
}

/** XRANGE key start end [COUNT n] and XREVRANGE key end start [COUNT n], as Redis's `xrangeGenericCommand`. */
function rangeRule(reverse: boolean): CommandRule {
  return {
    arity: -4,
    check: (args, reader) => {
      const startArg = reverse ? args[2] : args[1];
      const endArg = reverse ? args[1] : args[2];
      const start = boundArg(startArg, 0n);
      let startId: StreamId | undefined = start.id;
      if (start.exclusive) {
        startId = incrementId(start.id);
        if (startId === undefined) throw replyError('ERR invalid start ID for the interval');
      }
      const end = boundArg(endArg, MAX_ID.seq);
      let endId: StreamId | undefined = end.id;
      if (end.exclusive) {
        endId = decrementId(end.id);
        if (endId === undefined) throw replyError('ERR invalid end ID for the interval');
      }
      let count = -1;
      for (let j = 3; j < args.length; j++) {
        if (optionName(args[j]) === 'COUNT' && args.length - j - 1 >= 1) {
          const n = integerArg(args[j + 1]);
          count = n < 0n ? 0 : Number(n);
          j++;
        } else {
          throw replyError(SYNTAX_ERROR);
        }
      }
      const stream = streamAt(reader, args[0]);
      if (stream === undefined) return reply([]);
      if (count === 0) return reply(null);
      return reply(range(stream, startId, endId, count === -1 ? 0 : count, reverse));
    },
  };
}

/** XLEN key */
const xlen: CommandRule = {
  arity: 2,
  check: (args, reader) => reply(streamAt(reader, args[0])?.length ?? 0),
};

const UNBALANCED =
  "ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be specified.";

/** How often a blocked XREAD looks at its streams again. */
const BLOCK_POLL_MS = 5;

/** What XREAD found for `keys` after `ids`: `[[key, entries], …]` for the streams with entries, or null. */
function readAfter(
  reader: KeyReader,
  keys: readonly Arg[],
  ids: readonly StreamId[],
  count: number,
): unknown {
  const out: [Arg, [string, StreamFields][]][] = [];
  keys.forEach((key, i) => {
    const value = reader.valueOf(keyName(key));
    if (value === undefined || !holds(value, 'stream')) return;
    const stream = asStreamValue(value);
    if (stream.length === 0) return;
    const last = entryId(stream[stream.length - 1]);
    if (compareStreamIds(last, ids[i]) <= 0) return;
    const start = incrementId(ids[i]);
    if (start === undefined) return;
    out.push([key, range(stream, start, MAX_ID, count, false)]);
  });
  return out.length === 0 ? null : out;
}

/**
 * XREAD's arguments without a valid `BLOCK ms` (an invalid one stays, for the rule to refuse): how it runs where Redis
 * denies blocking (a transaction), answering at once.
 */
export function withoutBlock(args: readonly Arg[]): Arg[] {
  const out = args.slice();
  for (let i = 0; i < out.length - 1; i++) {
    const option = optionName(out[i]);
    if (option === 'STREAMS') break;
    if (option === 'BLOCK') {
      const ms = parseInteger(out[i + 1]);
      if (ms !== undefined && ms >= 0n) out.splice(i, 2);
      break;
    }
    if (option === 'COUNT') i++;
  }
  return out;
}

/** XREAD [COUNT n] [BLOCK ms] STREAMS key [key …] id [id …], as Redis's `xreadCommand` (without groups). */
const xread: CommandRule = {
  arity: -4,
  check: (args, reader) => {
    let count = 0;
    let timeout = -1;
    let streamsAt = -1;
    for (let i = 0; i < args.length; i++) {
      const more = args.length - i - 1;
      const option = optionName(args[i]);
      if (option === 'BLOCK' && more > 0) {
        i++;
        const ms = parseInteger(args[i]);
        if (ms === undefined) throw replyError('ERR timeout is not an integer or out of range');
        if (ms < 0n) throw replyError('ERR timeout is negative');
        timeout = Number(ms);
      } else if (option === 'COUNT' && more > 0) {
        i++;
        const n = integerArg(args[i]);
        count = n < 0n ? 0 : Number(n);
      } else if (option === 'STREAMS' && more > 0) {
        streamsAt = i + 1;
        if ((args.length - streamsAt) % 2 !== 0) throw replyError(UNBALANCED);
        break;
      } else if ((option === 'GROUP' && more >= 2) || option === 'NOACK') {
        throw replyError(
          `ERR The ${option} option is only supported by XREADGROUP. You called XREAD instead.`,
        );
      } else {
        throw replyError(SYNTAX_ERROR);
      }
    }
    if (streamsAt === -1) throw replyError(SYNTAX_ERROR);
    const n = (args.length - streamsAt) / 2;
    const keys = args.slice(streamsAt, streamsAt + n);
    const ids: StreamId[] = [];
    for (let i = 0; i < n; i++) {
      const stream = streamAt(reader, keys[i]);
      const text = argText(args[streamsAt + n + i]);
      if (text === '$') {
        ids.push(stream === undefined ? MIN_ID : (parseStreamId(stream.lastId) ?? MIN_ID));
      } else if (text === '>') {
        throw replyError(
          'ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option.',
        );
      } else {
        ids.push(idArg(text, 0n, true));
      }
    }
    const found = readAfter(reader, keys, ids, count);
    if (found !== null || timeout === -1) return reply(found);
    // BLOCK: look again until entries come or the time is up (0: no limit), as a client blocked in Redis would wait.
    const until = timeout === 0 ? Infinity : Date.now() + timeout;
    return reply(
      new Promise((resolve, reject) => {
        // Unreferenced: a blocked read never keeps the process alive; it ends when its client disconnects, refused
        // as ioredis refuses the commands pending on a connection that closes.
        const poll = (): void => {
          if (reader.closed === true) {
            reject(new Error(CONNECTION_CLOSED));
            return;
          }
          const now = readAfter(reader, keys, ids, count);
          if (now !== null || Date.now() >= until) resolve(now);
          else setTimeout(poll, BLOCK_POLL_MS).unref();
        };
        setTimeout(poll, BLOCK_POLL_MS).unref();
      }),
    );
  },
};

export const streamRules: Readonly<Record<string, CommandRule>> = {
  xadd,
  xtrim,
  xdel,
  xlen,
  xrange: rangeRule(false),
  xrevrange: rangeRule(true),
  xread,
};
