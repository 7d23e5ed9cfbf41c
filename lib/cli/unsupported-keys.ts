import { firstOf } from '../util/first-of';
import { CliError, write, type CliIo } from './io';

/** How many of the keys a command cannot carry over it lists; the rest are counted. */
export const KEYS_LISTED = 10;

/**
 * The keys `command` (import, export) cannot carry over, each error naming one. Without `skip` (the command's
 * `--skip-unsupported`), the command fails: `refused` says what the keys are and that nothing was written. With it,
 * they are listed as left out and the command goes on.
 */
export async function refuseOrLeaveOut(
  command: string,
  errors: readonly string[],
  skip: boolean,
  refused: string,
  io: CliIo,
): Promise<void> {
  if (errors.length === 0) return;
  const shown = firstOf(errors, KEYS_LISTED).map((e) => `  ${e}`);
  if (!skip) {
    throw new CliError(
      `${command}: ${refused}. Pass --skip-unsupported to leave them out.\n${shown.join('\n')}`,
    );
  }
  await write(io.stderr, `${command}: leaving out ${errors.length} key(s):\n${shown.join('\n')}\n`);
}
