/**
 * SCAN cursor [MATCH pattern] [COUNT count] [TYPE type], answered from the keyspace (see `Entries.scan`).
 *
 * ioredis-mock's SCAN lists every key on each call (0.4 s a call at a million restored keys, so a walk over them
 * costs quadratic time), and its cursor is a position in that list: deleting keys during the walk, Redis's usual
 * SCAN-and-DEL loop, shifts the rest and skips keys. Here a call costs about COUNT keys, and a key present for
 * the whole walk is returned, as Redis guarantees.
 */
import type { Keyspace } from '../keyspace/keyspace';
import { GlobPattern } from '../util/glob';
import { type CommandRule, keyName, reply } from './command-rule';
import { typeName } from './rules/keys';
import {
  type Arg,
  argText,
  integerArg,
  optionName,
  replyError,
  SYNTAX_ERROR,
} from './redis-replies';

/** What Redis's `parseScanCursorOrReply` takes (`strtoul`): decimal digits, with a sign, within 64 bits. */
const CURSOR = /^[+-]?[0-9]*$/;
const CURSOR_MAX = 2n ** 64n - 1n;
/** Redis's SCAN without COUNT. */
const DEFAULT_COUNT = 10;

function scanCursor(arg: Arg): number {
  const text = argText(arg);
  if (!CURSOR.test(text)) throw replyError('ERR invalid cursor');
  const digits = text.replace(/^[+-]/, '');
  const value = digits === '' ? 0n : BigInt(digits);
  if (value > CURSOR_MAX) throw replyError('ERR invalid cursor');
  // A negative cursor wraps around as `strtoul`'s does: past every key, so the walk is over.
  return text.startsWith('-') && value !== 0n ? Number.MAX_SAFE_INTEGER : Number(value);
}

/** The rule of SCAN over `keyspace`. */
export function scanRule(keyspace: Keyspace): CommandRule {
  return {
    arity: -2,
    check: (args, reader) => {
      const cursor = scanCursor(args[0]);
      let count = DEFAULT_COUNT;
      let pattern: GlobPattern | undefined;
      let type: string | undefined;
      for (let i = 1; i < args.length; i += 2) {
        const option = optionName(args[i]);
        if (i + 1 >= args.length) throw replyError(SYNTAX_ERROR);
        const value = args[i + 1];
        if (option === 'COUNT') {
          const n = integerArg(value);
          if (n < 1n) throw replyError(SYNTAX_ERROR);
          count = Number(n);
        } else if (option === 'MATCH') pattern = new GlobPattern(value);
        else if (option === 'TYPE') type = keyName(value).toLowerCase();
        else throw replyError(SYNTAX_ERROR);
      }
      const page = keyspace.scan(cursor, count);
      let keys = page.keys;
      if (pattern !== undefined) keys = keys.filter((key) => pattern.matches(key));
      // As Redis does, the filters apply to the page: a page may come back emptier than COUNT, or empty.
      if (type !== undefined) keys = keys.filter((key) => typeName(reader, key) === type);
      return reply([String(page.cursor), keys]);
    },
  };
}
