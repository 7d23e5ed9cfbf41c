/**
 * SAVE, BGSAVE, LASTSAVE and INFO's Persistence section, answered from the snapshots that make the keyspace durable
 * (its {@link Keyspace.saver}). ioredis-mock answered SAVE `OK` and BGSAVE `Background saving started` and saved
 * nothing: an application that saves before it stops, or before a deploy, believed its data safe when it was not.
 *
 * - `SAVE` takes a snapshot and answers `OK` once it is committed, or the error that stopped it; while a snapshot
 *   runs it answers Redis's `ERR Background save already in progress`, and inside MULTI it is refused when queued, as
 *   Redis refuses it (see `command-guard.ts`).
 * - `BGSAVE [SCHEDULE]` starts one and answers `Background saving started` (a failure is logged, and shows in `INFO
 *   persistence` and the health indicator, as a periodic snapshot's does); while one runs, Redis's error, with or
 *   without `SCHEDULE`.
 * - `LASTSAVE`: when the last snapshot was committed, or when the cache started if none was since (Redis counts its
 *   start as a save).
 * - Without persistence (`persistence.enabled: false`) there is nothing to save to: SAVE and BGSAVE answer an error
 *   that says so, where Redis would write a dump file.
 */
import type { Keyspace, KeyspaceSaver } from '../keyspace/keyspace';
import { messageOf } from '../util/errors';
import { type CommandRule, reply } from './command-rule';
import { optionName, replyError, SYNTAX_ERROR } from './redis-replies';

const IN_PROGRESS = 'ERR Background save already in progress';
const NOTHING_TO_SAVE_TO =
  'ERR this cache keeps no snapshots (persistence.enabled is false): there is nothing to save to';

function saverOf(keyspace: Keyspace): KeyspaceSaver {
  const saver = keyspace.saver;
  if (saver === undefined) throw replyError(NOTHING_TO_SAVE_TO);
  if (saver.savingSince !== undefined) throw replyError(IN_PROGRESS);
  return saver;
}

/** Unix time, in seconds, of `ms`. */
const seconds = (ms: number): number => Math.floor(ms / 1000);

/** The rules of SAVE, BGSAVE and LASTSAVE over `keyspace`. */
export function saveCommands(keyspace: Keyspace): Record<string, CommandRule> {
  return {
    save: {
      arity: 1,
      check: () => {
        const saving = saverOf(keyspace).save();
        return reply(
          saving.then(
            () => 'OK',
            (error: unknown) => {
              throw replyError(`ERR the snapshot failed: ${messageOf(error)}`);
            },
          ),
        );
      },
    },
    bgsave: {
      arity: -1,
      parse: (args) => {
        if (args.length > 1 || (args.length === 1 && optionName(args[0]) !== 'SCHEDULE')) {
          throw replyError(SYNTAX_ERROR);
        }
      },
      check: () => {
        // The snapshot's own failure is logged and reported by the snapshots, as a periodic one's.
        saverOf(keyspace)
          .save()
          .catch(() => undefined);
        return reply('Background saving started');
      },
    },
    lastsave: {
      arity: 1,
      check: () => reply(seconds(keyspace.saver?.lastSaveAt ?? keyspace.createdAt)),
    },
  };
}

/**
 * INFO's Persistence section: Redis's fields, those of the RDB from the snapshots (a cache without persistence reads
 * as a Redis that has not saved since it started), those of the AOF and of forks as a Redis without either.
 */
export function persistenceFields(keyspace: Keyspace): Record<string, string | number> {
  const saver = keyspace.saver;
  const now = Date.now();
  return {
    loading: 0,
    async_loading: 0,
    current_cow_peak: 0,
    current_cow_size: 0,
    current_cow_size_age: 0,
    current_fork_perc: '0.00',
    current_save_keys_processed: 0,
    current_save_keys_total: 0,
    // Keys changed since the last snapshot (Redis counts changes, not keys); every key when a full one is due.
    rdb_changes_since_last_save: saver === undefined ? 0 : (keyspace.changedCount ?? keyspace.size),
    rdb_bgsave_in_progress: saver?.savingSince === undefined ? 0 : 1,
    rdb_last_save_time: seconds(saver?.lastSaveAt ?? keyspace.createdAt),
    rdb_last_bgsave_status: saver?.lastSaveFailed === true ? 'err' : 'ok',
    rdb_last_bgsave_time_sec:
      saver?.lastSaveMs === undefined ? -1 : Math.round(saver.lastSaveMs / 1000),
    rdb_current_bgsave_time_sec:
      saver?.savingSince === undefined ? -1 : seconds(now - saver.savingSince),
    rdb_saves: saver?.saves ?? 0,
    rdb_last_cow_size: 0,
    rdb_last_load_keys_expired: saver?.loaded.expired ?? 0,
    rdb_last_load_keys_loaded: saver?.loaded.keys ?? 0,
    aof_enabled: 0,
    aof_rewrite_in_progress: 0,
    aof_rewrite_scheduled: 0,
    aof_last_rewrite_time_sec: -1,
    aof_current_rewrite_time_sec: -1,
    aof_last_bgrewrite_status: 'ok',
    aof_rewrites: 0,
    aof_rewrites_consecutive_failures: 0,
    aof_last_write_status: 'ok',
    aof_last_cow_size: 0,
    module_fork_in_progress: 0,
    module_fork_last_cow_size: 0,
  };
}
