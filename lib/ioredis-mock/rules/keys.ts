/**
 * Keys (https://redis.io/docs/latest/commands/?group=generic).
 *
 * ioredis-mock's RENAME of a missing key succeeds and stores `undefined` under the new name (RENAMENX too), its TYPE
 * calls a stream a list and a Buffer string nothing, and its SCAN refuses the TYPE option. Here RENAME and RENAMENX
 * answer `ERR no such key`, TYPE answers from the stored value, and SCAN's TYPE filters the keys of the page it
 * returns (as Redis does: a page may come back emptier than COUNT).
 */
import { type CommandRule, keyName, type KeyReader, reply } from '../command-rule';
import { kindOf } from '../mock-values';
import { type Arg, NO_SUCH_KEY, optionName, replyError } from '../redis-replies';

/** A key's Redis type name, `none` when missing (ioredis-mock's stream helper keys read as hashes, as they do now). */
function typeName(reader: KeyReader, key: string): string {
  const value = reader.valueOf(key);
  if (value === undefined) return 'none';
  const kind = kindOf(key, value);
  return kind === 'stream-helper' || kind === 'unknown' ? 'hash' : kind;
}

/** RENAME and RENAMENX source destination: the source must exist. */
function renameRule(nx: boolean): CommandRule {
  return {
    arity: 3,
    check: (args, reader) => {
      if (reader.valueOf(keyName(args[0])) === undefined) throw replyError(NO_SUCH_KEY);
      if (keyName(args[0]) === keyName(args[1])) return reply(nx ? 0 : 'OK');
    },
  };
}

/** SCAN cursor [MATCH pattern] [COUNT count] [TYPE type]: ioredis-mock has no TYPE; it filters the page here. */
const scan: CommandRule = {
  arity: -2,
  check: (args, reader) => {
    const at = args.findIndex((arg, i) => i > 0 && i % 2 === 1 && optionName(arg) === 'TYPE');
    if (at === -1 || at + 1 >= args.length) return;
    const wanted = keyName(args[at + 1]).toLowerCase();
    const rest: Arg[] = [...args.slice(0, at), ...args.slice(at + 2)];
    return {
      args: rest,
      answer: (page: unknown): unknown => {
        if (!Array.isArray(page)) return page;
        const [cursor, keys] = page as [unknown, unknown];
        if (!Array.isArray(keys)) return page;
        return [cursor, (keys as Arg[]).filter((key) => typeName(reader, keyName(key)) === wanted)];
      },
    };
  },
};

export const keyRules: Readonly<Record<string, CommandRule>> = {
  // Nothing to correct; a rule makes DEL's own method available to the rules that delete a key instead.
  del: { arity: -2 },
  rename: renameRule(false),
  renamenx: renameRule(true),
  type: { arity: 2, check: (args, reader) => reply(typeName(reader, keyName(args[0]))) },
  scan,
};
