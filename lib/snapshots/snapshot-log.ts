import { Logger } from '@nestjs/common';
import { errnoCode, StoreMovedError } from '../store/store-errors';
import { messageOf } from '../util/errors';
import { firstOf } from '../util/first-of';
import { LOG_CONTEXT } from '../util/log-context';
import { RepeatedLog } from '../util/repeated-log';
import type { UnstorableKey } from './snapshot-copy';
import type { SnapshotReport } from './snapshot-reports';
import {
  REPEATED,
  SNAPSHOT_COMMITTED,
  SNAPSHOT_FAILED,
  SNAPSHOT_SKIPPED,
  SNAPSHOTS_SUCCEED_AGAIN,
  STORE_MOVED_SNAPSHOT_FAILED,
  UNSTORABLE_KEYS_LEFT_OUT,
} from './snapshots.messages';

/** Periodic snapshots' commit lines are written at most this often. */
const COMMIT_LOG_WINDOW_MS = 10_000;
/** Unstorable keys a log line names. */
const UNSTORABLE_KEYS_LOGGED = 10;

/**
 * The log of snapshots and restores (texts in `snapshots.messages.ts`). Lines that may come at every tick of a short
 * interval are aggregated (see {@link RepeatedLog}): periodic snapshots committed, at most one line every
 * {@link COMMIT_LOG_WINDOW_MS}; snapshots skipped, the same failure again and again (a full disk), and keys that
 * cannot be stored, at most once a minute, each with its count. Other lines are written as they come.
 */
export class SnapshotLog {
  private readonly logger = new Logger(LOG_CONTEXT);
  /** Snapshots that failed since the last one that succeeded. */
  private failedInARow = 0;
  private readonly commits = new RepeatedLog(
    (message, count) => this.logger.log(REPEATED(message, count, 'snapshots')),
    COMMIT_LOG_WINDOW_MS,
  );
  private readonly skips = new RepeatedLog((message, count) =>
    this.logger.warn(REPEATED(message, count, 'times')),
  );
  private readonly failures = new RepeatedLog((message, count) =>
    this.logger.error(REPEATED(message, count, 'times')),
  );
  /** A store deleted under the app that cannot be made again: the first error, then once a minute with a count. */
  private readonly notMadeAgain = new RepeatedLog((message, count) =>
    this.logger.error(REPEATED(message, count, 'times')),
  );
  /** Logged when the keys change, and once a minute while they stay. */
  private readonly unstorable = new RepeatedLog((message, count) =>
    this.logger.error(REPEATED(message, count, 'snapshots')),
  );

  log(message: string): void {
    this.logger.log(message);
  }

  debug(message: string): void {
    this.logger.debug(message);
  }

  warn(message: string): void {
    this.logger.warn(message);
  }

  error(message: string): void {
    this.logger.error(message);
  }

  /**
   * A snapshot to `dataDir` committed; `periodic`: taken by the interval. It ends a run of failures, and says how
   * many there were.
   */
  committed(dataDir: string, report: SnapshotReport, periodic: boolean): void {
    this.failures.flush();
    if (this.failedInARow > 0) {
      this.logger.log(SNAPSHOTS_SUCCEED_AGAIN(dataDir, this.failedInARow));
      this.failedInARow = 0;
    }
    const line = SNAPSHOT_COMMITTED(dataDir, report);
    if (periodic) {
      this.commits.report(line, 'committed');
    } else {
      this.commits.flush();
      this.logger.log(line);
    }
  }

  /** The keys the last snapshot left out because their values cannot be stored (none: the problem is over). */
  unstorableKeys(unstorable: readonly UnstorableKey[]): void {
    if (unstorable.length === 0) {
      this.unstorable.flush();
      return;
    }
    const named = firstOf(
      unstorable.map((u) => u.message),
      UNSTORABLE_KEYS_LOGGED,
      (rest) => `and ${rest} more`,
    );
    this.unstorable.report(UNSTORABLE_KEYS_LEFT_OUT(unstorable.length, named.join('; ')));
  }

  /** A snapshot to `dataDir` failed with `error`. */
  failed(dataDir: string, error: unknown): void {
    this.failedInARow++;
    if (error instanceof StoreMovedError) {
      this.failures.report(STORE_MOVED_SNAPSHOT_FAILED(dataDir, error.message));
    } else {
      this.failures.report(SNAPSHOT_FAILED(dataDir, messageOf(error)), failureKind(error));
    }
  }

  /**
   * A store deleted under the app could not be made again (`line` says why, `error` is the cause): the same cause
   * (its error code) again is counted, not written, until a minute has passed.
   */
  notRecreated(line: string, error: unknown): void {
    this.notMadeAgain.report(line, errnoCode(error) ?? messageOf(error));
  }

  /** A store deleted under the app (`missing` says so) was made again (`line`). */
  recreated(missing: string, line: string): void {
    this.notMadeAgain.flush();
    this.logger.warn(missing);
    this.logger.warn(line);
  }

  /** A periodic snapshot was skipped: the previous one still runs. */
  skipped(intervalMs: number): void {
    this.skips.report(SNAPSHOT_SKIPPED(intervalMs));
  }

  /** Writes the counts of the lines held back (at shutdown). */
  flush(): void {
    this.commits.flush();
    this.skips.flush();
    this.failures.flush();
    this.notMadeAgain.flush();
    this.unstorable.flush();
  }
}

/**
 * What makes two failures the same for the log: the errno of the cause when there is one (a full disk's message
 * names a different file offset at each attempt), else the message.
 */
function failureKind(error: unknown): string {
  const code =
    error instanceof Error ? (error.cause as { code?: unknown } | undefined)?.code : undefined;
  return typeof code === 'number' || typeof code === 'string' ? `code ${code}` : messageOf(error);
}
