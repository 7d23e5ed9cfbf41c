import { inspect } from 'node:util';

/** An error's message, for messages that quote it (errors from another realm, and thrown non-errors, included). */
export function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** `error` if it is an `Error`, else an `Error` with its message (see {@link messageOf}). */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(messageOf(error));
}

/**
 * A mistake in the module's options or environment variables: its message names the option or variable, the value
 * and what is accepted. Printed (by Nest's logger, `console.error`, `util.inspect`) as that one line: a stack trace
 * into the library's option checks would only hide it. The stack is still there for whoever asks for it.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';

  /** The same error, as a {@link ConfigError}; one already is is returned as it is. */
  static from(error: unknown): ConfigError {
    return error instanceof ConfigError
      ? error
      : new ConfigError(messageOf(error), { cause: error });
  }

  [inspect.custom](): string {
    return this.message;
  }
}
