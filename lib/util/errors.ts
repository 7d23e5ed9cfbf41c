/** An error's message, for messages that quote it (errors from another realm, and thrown non-errors, included). */
export function messageOf(error: unknown): string {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
}

/** `error` if it is an `Error`, else an `Error` with its message (see {@link messageOf}). */
export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(messageOf(error));
}
