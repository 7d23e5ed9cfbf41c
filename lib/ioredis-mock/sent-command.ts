/**
 * Error replies as ioredis gives them. ioredis rejects a command Redis refused with a `ReplyError` (its class of error
 * replies) whose `command` field names the command as it sent it: `{ name, args }`, the name as its caller wrote it
 * (`INCRBY` for `call('INCRBY', …)`, `incrby` for `incrby(…)` and `incrbyBuffer(…)`), the arguments as it sent them
 * (text, or Buffers). The errors an EXEC reply holds name no command; EXECABORT names `exec`, and each of the errors
 * before it (`previousErrors`) the command refused when it was queued. ioredis-mock rejects with plain `Error`s.
 */
import { asError } from '../util/errors';
import { ReplyError } from './redis-replies';

/** A command as ioredis sent it: its name as the caller gave it, and its arguments, text or Buffers. */
export interface SentCommand {
  readonly name: string;
  readonly args: readonly unknown[];
}

type ReplyErrorWithCommand = Error & { command?: { name: string; args: unknown[] } };

/** The text of an error reply: an error code (`ERR`, `WRONGTYPE`, `NOSCRIPT`, …), then the message. */
const ERROR_CODE = /^[A-Z][A-Z0-9_]*(?: |$)/;

/** `error` as a `ReplyError`, if it is an error reply (see the file's comment); `undefined` if it is not. */
function replyErrorOf(error: unknown): ReplyErrorWithCommand | undefined {
  if (error instanceof ReplyError) return error;
  if (
    error instanceof Error &&
    Object.getPrototypeOf(error) === Error.prototype &&
    ERROR_CODE.test(error.message)
  ) {
    return Object.assign(new ReplyError(error.message), error);
  }
  return undefined;
}

/**
 * `error` as ioredis gives the error reply of the command it `sent`: a `ReplyError`, naming that command unless it
 * names one already (a reply of a command run for another). Any other error (one ioredis raises itself, such as
 * `Connection is closed.`) comes back as it is.
 */
export function asReplyError(error: unknown, sent?: SentCommand): Error {
  const reply = replyErrorOf(error);
  if (reply === undefined) return asError(error);
  if (sent !== undefined && reply.command === undefined) {
    reply.command = { name: sent.name, args: [...sent.args] };
  }
  return reply;
}

/**
 * `error` as the error reply of the command `sent`, whatever command it named (the form a blocking pop runs, say,
 * names itself); with `sent` undefined, naming none (an entry of EXEC's reply).
 */
export function asReplyErrorOf(error: unknown, sent: SentCommand | undefined): Error {
  const reply = replyErrorOf(error);
  if (reply === undefined) return asError(error);
  if (sent === undefined) delete reply.command;
  else reply.command = { name: sent.name, args: [...sent.args] };
  return reply;
}

/**
 * The name `call(command, …)` was given, for the method it runs to read as it starts (see {@link runCalled}).
 */
let calledAs: string | undefined;

/** Runs `run`, the method `call(command, …)` runs, for it to name the command as `command` (see {@link sentName}). */
export function runCalled(command: unknown, run: () => unknown): unknown {
  calledAs = String(command);
  try {
    return run();
  } finally {
    calledAs = undefined;
  }
}

/**
 * The name ioredis sends the command of the method starting now under: as `call` was given it, if the method was
 * called by `call` (read once, as the method starts), else `command`.
 */
export function sentName(command: string): string {
  const name = calledAs ?? command;
  calledAs = undefined;
  return name;
}
