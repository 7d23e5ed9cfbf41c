import type { Writable } from 'node:stream';
import { messageOf } from '../util/errors';

/** Where the CLI writes: the process's streams, or buffers in tests. */
export interface CliIo {
  readonly stdout: Writable;
  readonly stderr: Writable & { readonly isTTY?: boolean };
  /**
   * Aborted, with the signal's name as its reason, when the process is asked to stop (Ctrl-C, `SIGTERM`,
   * `SIGHUP`): the command stops at its next step and undoes what it made (see {@link throwIfInterrupted}).
   */
  readonly interrupt?: AbortSignal;
}

/** An error the CLI reports as one line, with the exit code it ends with. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = EXIT_FAILURE,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Exit codes: success; a problem with the data, the store or a server; a usage error. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** The signals that interrupt a command, with the exit code each ends it with (128 + the signal's number). */
export const INTERRUPT_EXIT_CODES = { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const;
export type InterruptSignal = keyof typeof INTERRUPT_EXIT_CODES;

/** A command stopped by a signal; its message says what was done and what was left. */
export class CliInterrupted extends CliError {
  constructor(
    readonly signal: InterruptSignal,
    message: string,
  ) {
    super(message, INTERRUPT_EXIT_CODES[signal]);
    this.name = 'CliInterrupted';
  }
}

/** The signal that interrupted the command, if one did. */
export function interruptedBy(io: CliIo): InterruptSignal | undefined {
  const reason: unknown = io.interrupt?.aborted === true ? io.interrupt.reason : undefined;
  return typeof reason === 'string' && reason in INTERRUPT_EXIT_CODES
    ? (reason as InterruptSignal)
    : undefined;
}

/**
 * Throws a {@link CliInterrupted} when a signal has interrupted the command. Commands call it between steps;
 * `state(signal)` is the message, saying what the command did before it stopped and what it left.
 */
export function throwIfInterrupted(io: CliIo, state: (signal: InterruptSignal) => string): void {
  const signal = interruptedBy(io);
  if (signal !== undefined) throw new CliInterrupted(signal, state(signal));
}

/**
 * Writes to stdout (see {@link write}); a failure (a closed pipe, a full disk) is a {@link CliError} saying that the
 * output is incomplete, rather than the bare system error.
 */
export async function writeOut(io: CliIo, chunk: string | Buffer): Promise<void> {
  try {
    await write(io.stdout, chunk);
  } catch (error) {
    throw new CliError(
      `cannot write to standard output: ${messageOf(error)}; what was written is incomplete`,
    );
  }
}

/** Writes to a stream, waiting for it to drain when its buffer is full (large `--resp` outputs). */
export async function write(stream: Writable, chunk: string | Buffer): Promise<void> {
  if (stream.write(chunk)) return;
  await new Promise<void>((resolve, reject) => {
    const done = (error?: Error) => {
      stream.off('drain', done);
      stream.off('error', done);
      if (error) reject(error);
      else resolve();
    };
    stream.once('drain', done);
    stream.once('error', done);
  });
}
