/**
 * Redis's blocking pops, which ioredis-mock lacks (or, for BRPOPLPUSH, answers at once without waiting): BLPOP,
 * BRPOP, BLMPOP, BLMOVE, BRPOPLPUSH, BZPOPMIN, BZPOPMAX and BZMPOP.
 *
 * Each is its non-blocking form (LMPOP, LMOVE, ZMPOP) run through the client's own method, so that its rules, type
 * checks and writes are those of that command: at once, and while nothing is there, again every
 * {@link BLOCK_POLL_MS} until something is, the timeout passes (0: never) or the client disconnects (it then answers
 * nil). A pop waiting keeps the process alive, as a client blocked on a Redis server does. The arguments are checked
 * first, in Redis's order (the timeout first for BLPOP, BRPOP, BZPOPMIN and BZPOPMAX; after the rest for BLMPOP,
 * BZMPOP and BLMOVE), with Redis's errors. In a pipeline or a transaction a blocking pop runs once without waiting:
 * Redis does not block inside MULTI, and a pipeline's other commands would wait behind it.
 */
import { parseLongDouble } from './long-double';
import {
  type Arg,
  argText,
  CONNECTION_CLOSED,
  mpopOptions,
  optionName,
  replyError,
  SYNTAX_ERROR,
  wrongArity,
} from './redis-replies';
import { asReplyErrorOf, sentName, type SentCommand } from './sent-command';

/** How often a blocked pop looks at its keys again (as a blocked XREAD does). */
const BLOCK_POLL_MS = 5;

type Method = (...args: unknown[]) => unknown;

/** A blocking pop as its non-blocking form: the command and its arguments, how long to wait, the reply's form. */
export interface NonBlocking {
  readonly command: string;
  readonly args: readonly Arg[];
  /** Milliseconds; 0 waits for ever. */
  readonly timeoutMs: number;
  /** The blocking command's reply from the non-blocking one's (not nil). */
  readonly answer: (reply: unknown) => unknown;
  /** The keys popped from, in order, and the non-blocking form's arguments for one of them alone. */
  readonly sources: readonly Arg[];
  readonly argsFor: (source: Arg) => readonly Arg[];
}

/**
 * A timeout in seconds, as Redis 7.0 reads it (`getTimeoutFromObjectOrReply`: a long double, hexadecimal and `inf`
 * included, made milliseconds rounded up); infinite or past a long long of milliseconds, it wraps to a negative one.
 */
function timeoutMs(arg: Arg): number {
  const x = parseLongDouble(argText(arg));
  if (x === undefined) throw replyError('ERR timeout is not a float or out of range');
  const seconds = typeof x === 'number' ? x : (x.negative ? -1 : 1) * Number(x.m) * 2 ** x.e;
  // A positive timeout too small for a double still waits a millisecond (Redis rounds it up), not for ever.
  const tiny = typeof x !== 'number' && !x.negative && x.m !== 0n;
  const ms = tiny ? Math.max(Math.ceil(seconds * 1000), 1) : Math.ceil(seconds * 1000);
  if (!(ms >= 0) || ms >= 2 ** 63) throw replyError('ERR timeout is negative');
  return ms;
}

function listPosition(arg: Arg): 'LEFT' | 'RIGHT' {
  const where = optionName(arg);
  if (where !== 'LEFT' && where !== 'RIGHT') throw replyError(SYNTAX_ERROR);
  return where;
}

const same = (reply: unknown): unknown => reply;

/**
 * BLPOP/BRPOP and BZPOPMIN/BZPOPMAX key [key …] timeout as LMPOP/ZMPOP numkeys key [key …] <end>: the key and the one
 * element (`[key, element]`) or member and score (`[key, member, score]`) popped.
 */
function singlePop(command: 'lmpop' | 'zmpop', end: string): (args: readonly Arg[]) => NonBlocking {
  return (args) => {
    const keys = args.slice(0, -1);
    return {
      timeoutMs: timeoutMs(args[args.length - 1]),
      command,
      args: [String(keys.length), ...keys, end],
      sources: keys,
      argsFor: (source) => ['1', source, end],
      answer: (reply) => {
        const [key, [first]] = reply as [unknown, unknown[]];
        return [key, ...(Array.isArray(first) ? (first as unknown[]) : [first])];
      },
    };
  };
}

/**
 * BLMPOP/BZMPOP timeout numkeys key [key …] … as LMPOP/ZMPOP numkeys key [key …] …: the same reply. Redis reads the
 * timeout after the rest.
 */
function multiPop(command: 'lmpop' | 'zmpop'): (args: readonly Arg[]) => NonBlocking {
  return (args) => {
    const popped = args.slice(1);
    const { keys } = mpopOptions(popped, command === 'lmpop' ? ['LEFT', 'RIGHT'] : ['MIN', 'MAX']);
    const options = popped.slice(1 + keys.length);
    return {
      timeoutMs: timeoutMs(args[0]),
      command,
      args: popped,
      answer: same,
      sources: keys,
      argsFor: (source) => ['1', source, ...options],
    };
  };
}

/** BLMOVE source destination from to, as LMOVE with the same arguments. */
function move(moved: readonly Arg[], timeout: Arg): NonBlocking {
  return {
    timeoutMs: timeoutMs(timeout),
    command: 'lmove',
    args: moved,
    answer: same,
    sources: [moved[0]],
    argsFor: () => moved,
  };
}

/** The blocking pops: their least number of arguments (after the name), and their non-blocking form. */
const BLOCKING: Readonly<
  Record<string, { min: number; form: (args: readonly Arg[]) => NonBlocking }>
> = {
  blpop: { min: 2, form: singlePop('lmpop', 'LEFT') },
  brpop: { min: 2, form: singlePop('lmpop', 'RIGHT') },
  bzpopmin: { min: 2, form: singlePop('zmpop', 'MIN') },
  bzpopmax: { min: 2, form: singlePop('zmpop', 'MAX') },
  blmpop: { min: 4, form: multiPop('lmpop') },
  bzmpop: { min: 4, form: multiPop('zmpop') },
  // BRPOPLPUSH source destination timeout: BLMOVE source destination RIGHT LEFT timeout.
  brpoplpush: { min: 3, form: (args) => move([args[0], args[1], 'RIGHT', 'LEFT'], args[2]) },
  blmove: {
    min: 5,
    form: (args) => {
      listPosition(args[2]);
      listPosition(args[3]);
      return move(args.slice(0, 4), args[4]);
    },
  },
};

/** Whether `command` (lower case) is a blocking pop. */
export function isBlocking(command: string): boolean {
  return Object.hasOwn(BLOCKING, command);
}

/** Redis's arity error for the blocking pop `command` given `args`, if they are too few (or too many for BLMOVE). */
export function blockingArityError(command: string, args: readonly unknown[]): Error | undefined {
  const { min } = BLOCKING[command];
  const wrong =
    command === 'blmove' || command === 'brpoplpush' ? args.length !== min : args.length < min;
  return wrong ? replyError(wrongArity(command)) : undefined;
}

/** The non-blocking form of the blocking pop `command` given `args`; throws Redis's error for bad arguments. */
export function nonBlocking(command: string, args: readonly Arg[]): NonBlocking {
  const arity = blockingArityError(command, args);
  if (arity !== undefined) throw arity;
  return BLOCKING[command].form(args);
}

/** The arguments as a command is given them: flattened, each a string or a Buffer. */
function commandArgs(raw: readonly unknown[]): Arg[] {
  return raw
    .flatMap((arg) => (Array.isArray(arg) ? (arg as unknown[]) : [arg]))
    .map((arg) => (Buffer.isBuffer(arg) ? arg : String(arg as string)));
}

/** The type of value the keys a blocking pop waits on must hold: another type is waited past, as Redis does. */
const SOURCE_TYPE: Readonly<Record<string, string>> = {
  lmpop: 'list',
  lmove: 'list',
  zmpop: 'zset',
};

/**
 * Runs the non-blocking form through `client`'s method until it finds something, the timeout passes or `closed()`
 * says the client disconnected (nil then). The first attempt answers as the command would (WRONGTYPE for a key of
 * another type); later ones, as Redis serves a client blocked on keys, look at each key holding a value of the type
 * popped, in order, and wait past the others.
 */
async function block(
  client: Record<string, unknown>,
  command: string,
  raw: readonly unknown[],
  buffer: boolean,
  closed: () => boolean,
): Promise<unknown> {
  const form = nonBlocking(command, commandArgs(raw));
  const method = client[buffer ? `${form.command}Buffer` : form.command] as Method;
  const typeOf = client.type as (key: Arg) => Promise<string>;
  const until = form.timeoutMs === 0 ? Infinity : Date.now() + form.timeoutMs;
  const first = await (method(...form.args) as Promise<unknown>);
  if (first !== null && first !== undefined) return form.answer(first);
  for (;;) {
    const left = until - Date.now();
    // A client that disconnects refuses what it was waiting for, as ioredis refuses the commands pending on it.
    if (closed()) throw new Error(CONNECTION_CLOSED);
    if (left <= 0) return null;
    // Referenced, as the socket of a client blocked in Redis is: a process waits for the pop, until its client
    // disconnects (closing the app disconnects the cache's client).
    await new Promise((resolve) => setTimeout(resolve, Math.min(BLOCK_POLL_MS, left)));
    if (closed()) throw new Error(CONNECTION_CLOSED);
    for (const source of form.sources) {
      if ((await typeOf(source)) !== SOURCE_TYPE[form.command]) continue;
      const reply = await (method(...form.argsFor(source)) as Promise<unknown>);
      if (reply !== null && reply !== undefined) return form.answer(reply);
    }
  }
}

/** Adds the blocking pops to an ioredis-mock client; each looks up the non-blocking form's method when it runs. */
export function addBlockingCommands(client: object, closed: () => boolean): void {
  const target = client as Record<string, unknown>;
  for (const command of Object.keys(BLOCKING)) {
    for (const buffer of [false, true]) {
      target[buffer ? `${command}Buffer` : command] = (...raw: unknown[]): Promise<unknown> => {
        const name = sentName(command);
        const callback =
          typeof raw[raw.length - 1] === 'function' ? (raw.pop() as Method) : undefined;
        // An error reply names the blocking pop, not the form it runs.
        const reply = block(target, command, raw, buffer, closed).catch((error: unknown) =>
          Promise.reject(asReplyErrorOf(error, { name, args: commandArgs(raw) })),
        );
        if (callback !== undefined) {
          reply.then(
            (value) => process.nextTick(callback, null, value),
            (error: unknown) => process.nextTick(callback, error),
          );
        }
        return reply;
      };
    }
  }
}

/**
 * A blocking pop run once, without waiting (in a pipeline or a transaction), through `client`'s method; an error
 * reply names the command `sent` (none in a transaction: see `sent-command.ts`), not the form it runs.
 */
export function popOnce(
  client: object,
  command: string,
  raw: readonly unknown[],
  buffer: boolean,
  sent: SentCommand | undefined,
): Promise<unknown> {
  const form = nonBlocking(command, commandArgs(raw));
  const method = (client as Record<string, unknown>)[
    buffer ? `${form.command}Buffer` : form.command
  ] as Method;
  return (method(...form.args) as Promise<unknown>).then(
    (reply) => (reply === null || reply === undefined ? null : form.answer(reply)),
    (error: unknown) => Promise.reject(asReplyErrorOf(error, sent)),
  );
}
