/**
 * Keys (https://redis.io/docs/latest/commands/?group=generic).
 *
 * ioredis-mock's RENAME of a missing key succeeds and stores `undefined` under the new name (RENAMENX too), and its
 * TYPE calls a stream a list and a Buffer string nothing. Here RENAME and RENAMENX answer `ERR no such key`, and TYPE
 * answers from the stored value. SCAN is answered from the keyspace (see `scan-command.ts`).
 */
import {
  allText,
  type CommandRule,
  encodedAs,
  keyName,
  type KeyReader,
  reply,
  run,
} from '../command-rule';
import { kindOf } from '../mock-values';
import {
  type Arg,
  int32Arg,
  NO_SUCH_KEY,
  optionName,
  replyError,
  SYNTAX_ERROR,
} from '../redis-replies';

/** A key's Redis type name, `none` when missing (ioredis-mock's stream helper keys read as hashes, as they do now). */
export function typeName(reader: KeyReader, key: string): string {
  const value = reader.valueOf(key);
  if (value === undefined) return 'none';
  const kind = kindOf(key, value);
  return kind === 'stream-helper' || kind === 'unknown' ? 'hash' : kind;
}

/**
 * RENAME and RENAMENX source destination: the source must exist. The destination takes the source's TTL or none (a
 * RENAMENX of an existing destination changes nothing).
 */
function renameRule(nx: boolean): CommandRule {
  return {
    arity: 3,
    check: (args, reader) => {
      const source = keyName(args[0]);
      if (reader.valueOf(source) === undefined) throw replyError(NO_SUCH_KEY);
      if (source === keyName(args[1])) return reply(nx ? 0 : 'OK');
      // Redis moves the key's object, and its use (LRU time, LFU counter) with it; ioredis-mock stores the value
      // anew. The source counts one use, as Redis's lookup of it does.
      const writer = reader.writer;
      if (writer === undefined) return;
      reader.touch(source);
      const use = writer.useOf(source);
      const encoding = writer.markedEncoding(source);
      if (use === undefined && encoding === undefined) return;
      const destination = keyName(args[1]);
      return {
        args,
        answer: (renamed) => {
          if (renamed === 'OK' || renamed === 1) {
            if (use !== undefined) writer.keepUse(destination, use);
            if (encoding !== undefined) writer.markEncoding(destination, encoding);
          }
          return renamed;
        },
      };
    },
    ...(nx ? {} : { overwrites: (args: readonly Arg[]) => [args[1]] }),
  };
}

/** COPY's options: `REPLACE`, and `DB n`, whose database must exist (the embedded client has database 0 only). */
function copyOptions(args: readonly Arg[]): { replace: boolean } {
  let replace = false;
  let db = 0n;
  for (let j = 2; j < args.length; j++) {
    const option = optionName(args[j]);
    if (option === 'REPLACE') replace = true;
    else if (option === 'DB' && j + 1 < args.length) db = int32Arg(args[++j]);
    else throw replyError(SYNTAX_ERROR);
  }
  if (db !== 0n) throw replyError(NO_SUCH_DB);
  return { replace };
}

/** Redis's answer for a database it does not have (`selectDb` failing), as a server with one database gives it. */
const NO_SUCH_DB = 'ERR DB index is out of range';

/**
 * COPY source destination [DB n] [REPLACE] (Redis's `copyCommand`): options, then the same key twice, then the
 * source, then an existing destination. ioredis-mock has no COPY; the copy is made by the command added in
 * `added-commands.ts`.
 */
const copy: CommandRule = {
  arity: -3,
  check: (args, reader) => {
    const { replace } = copyOptions(args);
    if (keyName(args[0]) === keyName(args[1])) {
      throw replyError('ERR source and destination objects are the same');
    }
    if (reader.valueOf(keyName(args[0])) === undefined) return reply(0);
    if (!replace && reader.valueOf(keyName(args[1])) !== undefined) return reply(0);
    // The copy of a string keeps its encoding, as Redis's `dupStringObject` does.
    const encoding = reader.writer?.markedEncoding(keyName(args[0]));
    const copied = run([args[0], args[1]]);
    return encoding === undefined ? copied : encodedAs(copied, reader, args[1], encoding);
  },
};

export const keyRules: Readonly<Record<string, CommandRule>> = {
  // Nothing to correct; a rule makes DEL's own method available to rules that delete instead (GETDEL, ZINTERSTORE).
  del: { arity: -2 },
  // The arity alone: ioredis-mock's answer to none (0 for EXISTS, a DEL error for UNLINK) is not Redis's.
  unlink: { arity: -2 },
  exists: { arity: -2 },
  // SELECT of database 0, the one the embedded client has (ioredis-mock answered `Unsupported command`).
  select: {
    arity: 2,
    check: (args) => {
      if (int32Arg(args[0]) !== 0n) throw replyError(NO_SUCH_DB);
      return reply('OK');
    },
  },
  // MOVE key db (Redis's `moveCommand`): with one database, any other is out of range, and database 0 is the key's
  // own (ioredis-mock answered `Unsupported command`). Nothing is read or written.
  move: {
    arity: 3,
    check: (args) => {
      if (int32Arg(args[1]) !== 0n) throw replyError(NO_SUCH_DB);
      throw replyError('ERR source and destination objects are the same');
    },
  },
  rename: renameRule(false),
  renamenx: renameRule(true),
  // Redis's TYPE looks the key up without counting a use.
  type: {
    arity: 2,
    noTouch: true,
    check: (args, reader) => reply(typeName(reader, keyName(args[0]))),
  },
  copy,
  /** TOUCH key [key …]: how many of the keys exist (one named twice counts twice); each counts as used (LRU, LFU). */
  touch: {
    arity: -2,
    check: (args, reader) =>
      reply(args.filter((key) => reader.valueOf(keyName(key)) !== undefined).length),
  },
  /**
   * WATCH key [key …]: a key whose time has run out is expired first, so that its later removal is no change to the
   * watch. Redis 7.0 notes such a key as expired when watched: neither active expiry removing it nor EXEC finding it
   * expired aborts the transaction (`touchWatchedKey`, `isWatchedKeyExpired`); a write of it after does.
   */
  watch: {
    arity: -2,
    check: (args, reader) => {
      for (const key of args) reader.expiryOf(keyName(key));
      // ioredis-mock finds a watched key in a Set, by the name its writes announce: a Buffer key as that name.
      return allText(args) ? undefined : { args: args.map(keyName) };
    },
  },
};
