import { keyOf } from '../format/key-bytes';
import { canonicalBuffer } from '../keyspace/buffer-members';
import { ListDeque } from '../format/list-deque';
import { StreamValue } from '../keyspace/streams';
import { type Arg, replyError, WRONGTYPE, wrongArity } from './redis-replies';

import type { KeyReader, StringEncoding } from '../keyspace/keyspace';

export type { KeyReader } from '../keyspace/keyspace';

/** The Redis types, as far as the rules need to tell ioredis-mock's values apart. */
export type KeyType = 'string' | 'hash' | 'list' | 'set' | 'zset' | 'stream';

/**
 * What a rule decides: run the command (with these arguments, its reply passed through `answer` if given), answer
 * without running it, or write the key itself (`write`, with the {@link KeyReader.writer}: admitted as the command
 * would be, then called, its result the reply).
 */
export type Outcome =
  | {
      readonly args: readonly Arg[];
      readonly answer?: (reply: unknown) => unknown;
      /** Run this ioredis-mock command instead (e.g. ZREM for the members a range removal chose). */
      readonly command?: string;
      /** Call right before the command runs (see {@link CommandRule.overwrites}). */
      readonly before?: () => void;
    }
  | { readonly reply: unknown }
  | { readonly write: () => unknown };

/**
 * How the embedded client corrects one ioredis-mock command, in the order Redis checks things: arity, then what
 * Redis checks before it looks at any key (`parse`), then the type of each key that exists (`type`), then what
 * depends on the keys' contents (`check`). A failed check throws Redis's error reply, and the command does not run:
 * nothing is stored. `parse` and `check` may also normalise the arguments into a form ioredis-mock handles (it
 * compares option names case-sensitively, for one), or answer for the command.
 */
export interface CommandRule {
  /** Redis's arity, the command name included: n > 0 exactly n words, n < 0 at least -n. */
  readonly arity: number;
  /**
   * The words must come in pairs after the first `pairsFrom` arguments (HSET's fields and values): checked when the
   * command runs, as Redis's command does (not its command table).
   */
  readonly pairsFrom?: number;
  readonly parse?: (args: readonly Arg[], command: string) => readonly Arg[] | void;
  /** The types each key may hold (`keys` says which arguments are keys; the first one by default). */
  readonly type?: readonly KeyType[];
  readonly keys?: (args: readonly Arg[]) => readonly Arg[];
  readonly check?: (args: readonly Arg[], reader: KeyReader, command: string) => Outcome | void;
  /**
   * Arguments from this index on are members or elements (or may be): Buffers among them are replaced with the
   * canonical Buffer of their bytes (see `buffer-members.ts`), as the stored ones are.
   */
  readonly membersFrom?: number;
  /**
   * Hash field names: the arguments at `from`, `from + step`, … (`count` of them at most). Each is replaced with the
   * name it gives (see `key-bytes.ts`) before anything reads it, as the stored hash holds its field names: bytes
   * outside UTF-8 kept apart (ioredis-mock would read each as U+FFFD, and `<ff>` and `<fe>` would be one field).
   */
  readonly fields?: { readonly from: number; readonly step: number; readonly count?: number };
  /**
   * The keys the command may leave holding an empty collection, which ioredis-mock keeps (an emptied sorted set, a
   * set emptied by SPOP) and Redis deletes: deleted right after the command ran.
   */
  readonly empties?: (args: readonly Arg[]) => readonly Arg[];
  /** Turns ioredis-mock's reply into Redis's (as ioredis presents it), when the command ran. */
  readonly answer?: (reply: unknown, args: readonly Arg[]) => unknown;
  /**
   * The keys the command replaces with a new value when it runs (RENAME's destination, SUNIONSTORE's): Redis's
   * `setKey` drops their TTL, ioredis-mock stores the new value beside the old TTL. Their TTL goes right before the
   * command runs.
   */
  readonly overwrites?: (args: readonly Arg[]) => readonly Arg[];
  /** The keys read do not count as used (LRU, LFU): Redis looks them up with `LOOKUP_NOTOUCH` (TYPE). */
  readonly noTouch?: boolean;
}

/**
 * `rules` rebuilt with every field present (`undefined` where a rule has none), in one order: every command reads
 * its rule's fields, and objects of one shape keep those reads fast.
 */
export function ofOneShape(
  rules: Readonly<Record<string, CommandRule>>,
): Readonly<Record<string, CommandRule>> {
  const out: Record<string, CommandRule> = {};
  for (const [command, rule] of Object.entries(rules)) {
    out[command] = {
      arity: rule.arity,
      pairsFrom: rule.pairsFrom,
      parse: rule.parse,
      type: rule.type,
      keys: rule.keys,
      check: rule.check,
      membersFrom: rule.membersFrom,
      fields: rule.fields,
      empties: rule.empties,
      answer: rule.answer,
      overwrites: rule.overwrites,
      noTouch: rule.noTouch,
    };
  }
  return out;
}

/** The key (or hash field) an argument names: bytes outside UTF-8 kept apart (see `key-bytes.ts`). */
export function keyName(arg: Arg): string {
  return keyOf(arg);
}

/** `args` with the hash field names `fields` says where to find as the names they give (see `key-bytes.ts`). */
function fieldNames(
  args: readonly Arg[],
  fields: NonNullable<CommandRule['fields']>,
): readonly Arg[] {
  let out: Arg[] | undefined;
  const last = fields.count === undefined ? args.length : fields.from + fields.count * fields.step;
  for (let i = fields.from; i < args.length && i < last; i += fields.step) {
    const arg = args[i];
    const name = keyOf(arg);
    if (name === arg) continue;
    out ??= args.slice();
    out[i] = name;
  }
  return out ?? args;
}

function isPlainObject(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Whether a stored value is of `type`. A stream is a `StreamValue` (or an array of `[id, fields]` entries, as
 * ioredis-mock stores one), a list an array of strings and Buffers; an empty plain array is a list.
 */
export function holds(value: unknown, type: KeyType): boolean {
  return HOLDS[type](value);
}

const HOLDS: Readonly<Record<KeyType, (value: unknown) => boolean>> = {
  string: (value) => typeof value === 'string' || Buffer.isBuffer(value),
  hash: isPlainObject,
  list: (value) =>
    value instanceof ListDeque ||
    (Array.isArray(value) &&
      (value.length === 0 || !Array.isArray(value[0])) &&
      !(value instanceof StreamValue)),
  stream: (value) =>
    value instanceof StreamValue ||
    (Array.isArray(value) && value.length > 0 && Array.isArray(value[0])),
  set: (value) => value instanceof Set,
  zset: (value) => value instanceof Map,
};

/** Throws WRONGTYPE unless `key` is missing or holds one of `types`. Returns the stored value. */
export function expectType(reader: KeyReader, key: Arg, types: readonly KeyType[]): unknown {
  const value = reader.valueOf(keyName(key));
  if (value === undefined) return value;
  for (let i = 0; i < types.length; i++) if (holds(value, types[i])) return value;
  throw replyError(WRONGTYPE);
}

/**
 * Whether a stored value is a collection with nothing in it (Redis deletes a key whose collection empties; not a
 * stream's).
 */
export function isEmptyCollection(value: unknown): boolean {
  if (value instanceof StreamValue) return false;
  if (value instanceof Set || value instanceof Map) return value.size === 0;
  if (Array.isArray(value) || value instanceof ListDeque) return value.length === 0;
  return isPlainObject(value) && Object.keys(value as object).length === 0;
}

/** The first argument: the key of most commands. */
export const firstKey = (args: readonly Arg[]): readonly Arg[] => [args[0]];

/**
 * Throws Redis's error for a number of arguments its command table refuses (which Redis finds when MULTI queues the
 * command, and a script reports as `Wrong number of args calling Redis command from script`).
 */
export function checkArity(command: string, rule: CommandRule, given: readonly Arg[]): void {
  const words = given.length + 1;
  if (rule.arity > 0 ? words !== rule.arity : words < -rule.arity) {
    throw replyError(wrongArity(command));
  }
}

/** Applies `rule` to the arguments of `command`: what to run, or what to answer. Throws Redis's error reply. */
export function applyRule(
  command: string,
  rule: CommandRule,
  given: readonly Arg[],
  reader: KeyReader,
): Outcome {
  checkArity(command, rule, given);
  // Words not in pairs are the command's own error, when it runs (HSET k f v g in MULTI fails alone at EXEC).
  if (rule.pairsFrom !== undefined && (given.length - rule.pairsFrom) % 2 !== 0) {
    throw replyError(wrongArity(command));
  }
  const named = rule.fields === undefined ? given : fieldNames(given, rule.fields);
  let args = rule.parse?.(named, command) ?? named;
  if (rule.type !== undefined) {
    if (rule.keys === undefined) expectType(reader, args[0], rule.type);
    else for (const key of rule.keys(args)) expectType(reader, key, rule.type);
  }
  const checked = rule.check?.(args, reader, command);
  let answer: ((reply: unknown) => unknown) | undefined;
  let instead: string | undefined;
  if (checked !== undefined) {
    if (!('args' in checked)) return checked;
    args = checked.args;
    answer = checked.answer;
    instead = checked.command;
  }
  if (rule.membersFrom !== undefined) args = canonicalMembers(args, rule.membersFrom);
  const ruleAnswer = rule.answer;
  if (ruleAnswer !== undefined) {
    const ran = args;
    const first = answer;
    answer =
      first === undefined
        ? (value) => ruleAnswer(value, ran)
        : (value) => ruleAnswer(first(value), ran);
  }
  const before =
    rule.overwrites === undefined ? undefined : persisting(rule.overwrites(args), reader);
  if (instead !== undefined || before !== undefined)
    return { args, answer, command: instead, before };
  return answer === undefined ? { args } : { args, answer };
}

/** Drops the TTL of `keys` (see {@link CommandRule.overwrites}), with `reader`'s writer when it has one. */
function persisting(keys: readonly Arg[], reader: KeyReader): (() => void) | undefined {
  const writer = reader.writer;
  if (writer === undefined) return undefined;
  return () => {
    for (const key of keys) writer.persist(keyName(key));
  };
}

/**
 * A member as the stored collections hold it: UTF-8 text as a string (Redis compares members by their bytes, so a
 * Buffer `c` and the text `c` are one member), other bytes as their canonical Buffer (see `buffer-members.ts`).
 */
export function memberOf(arg: Arg): string | Buffer {
  if (typeof arg === 'string') return arg;
  const text = arg.toString('utf8');
  return Buffer.byteLength(text) === arg.length && Buffer.from(text, 'utf8').equals(arg)
    ? text
    : canonicalBuffer(arg);
}

function canonicalMembers(args: readonly Arg[], from: number): readonly Arg[] {
  let out: Arg[] | undefined;
  for (let i = from; i < args.length; i++) {
    const arg = args[i];
    if (typeof arg === 'string') continue;
    out ??= args.slice();
    out[i] = memberOf(arg);
  }
  return out ?? args;
}

export const reply = (value: unknown): Outcome => ({ reply: value });

/** Whether every argument from `from` on is text (a rule's own write then stores them as they are). */
export function allText(args: readonly Arg[], from = 0): args is readonly string[] {
  for (let i = from; i < args.length; i++) if (typeof args[i] !== 'string') return false;
  return true;
}

/** A write the rule does itself (see {@link Outcome}). */
export const write = (does: () => unknown): Outcome => ({ write: does });

/**
 * `outcome`, a command that stores a string under `key`, after which the string has `encoding` (see
 * `KeyWriter.markEncoding`): recorded once the command ran, if it did. An outcome that answers alone stores nothing;
 * one that writes itself stores a string long enough to be `raw` by its length (see `inPlace` in `strings.ts`).
 */
export function encodedAs(
  outcome: Outcome,
  reader: KeyReader,
  key: Arg,
  encoding: StringEncoding,
): Outcome {
  const writer = reader.writer;
  if (writer === undefined || !('args' in outcome)) return outcome;
  const { answer } = outcome;
  const name = keyName(key);
  return {
    ...outcome,
    answer: (reply) => {
      writer.markEncoding(name, encoding);
      return answer === undefined ? reply : answer(reply);
    },
  };
}

/**
 * The reader a command's rule reads through. Each key is looked up once per command, though a rule reads it twice
 * or more (its type, then its contents). The keys read count as used (LRU, LFU) when the command does not run in
 * ioredis-mock, whose own lookups count them otherwise: one use per command, as in Redis. {@link begin} starts a
 * command, {@link forget} ends it (what it read may change once it runs).
 */
export class CommandReader implements KeyReader {
  private key: string | undefined;
  private value: unknown;
  /** The keys read by the command, the first `count` of them. */
  private readonly read: string[] = [];
  private count = 0;

  constructor(private readonly reader: KeyReader) {
    this.streams = reader.streams;
    this.writer = reader.writer;
  }

  readonly streams: KeyReader['streams'];
  readonly writer: KeyReader['writer'];
  /** Set when the client disconnects (see {@link KeyReader.closed}). */
  closed = false;

  /** Between {@link begin} and {@link forget}: reads outside a command (a blocked read's polls) go straight through. */
  private active = false;

  begin(): void {
    this.active = true;
    this.reader.beginCommand?.();
  }

  valueOf(key: string): unknown {
    if (!this.active) return this.reader.valueOf(key);
    if (key === this.key) return this.value;
    const value = this.reader.valueOf(key);
    this.key = key;
    this.value = value;
    this.read[this.count++] = key;
    return value;
  }

  expiryOf(key: string): number | undefined {
    return this.reader.expiryOf(key);
  }

  touch(key: string): void {
    this.reader.touch(key);
  }

  /** Ends a command: the keys it read count as used unless it ran in ioredis-mock (`ran`). */
  forget(ran: boolean): void {
    if (!ran) for (let i = 0; i < this.count; i++) this.reader.touch(this.read[i]);
    this.count = 0;
    this.key = undefined;
    this.value = undefined;
    this.active = false;
  }
}

/** A rule for a command on one key of `type` (see {@link CommandRule}). */
export const typed = (
  type: KeyType,
  arity: number,
  more: Partial<CommandRule> = {},
): CommandRule => ({
  arity,
  type: [type],
  ...more,
});

/**
 * A stored value as a reply: Buffers copied (a caller may change the Buffer it is given; ioredis-mock copies what it
 * hands out too), arrays of them copied.
 */
export function copyOut(value: unknown): unknown {
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  if (Array.isArray(value)) return value.map(copyOut);
  return value;
}

/** A stored string's bytes (ioredis-mock keeps UTF-8 text as a JS string). */
export function bytesOf(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  return Buffer.from(typeof value === 'string' ? value : '', 'utf8');
}

/** A stored string's length in bytes, as Redis counts it (ioredis-mock counts UTF-16 code units). */
export function byteLength(value: unknown): number {
  if (Buffer.isBuffer(value)) return value.length;
  return typeof value === 'string' ? Buffer.byteLength(value, 'utf8') : 0;
}
export const run = (args: readonly Arg[]): Outcome => ({ args });
