/**
 * Pipelines and transactions of a guarded client, made cheaply.
 *
 * ioredis-mock's `Pipeline` constructor makes a closure for every one of its ~340 commands (`copyCommands`), the
 * client's custom commands too: that was most of what a 10-command pipeline cost. A guarded client's `pipeline()`
 * and `multi()` make pipelines of a class of the client's own instead, whose built-in commands are methods of its
 * prototype, made once. Each hands its arguments to one pipeline made the ordinary way (the template: ioredis-mock's
 * own argument processing runs as always), whose queueing is redirected to the pipeline the method was called on.
 * The commands `added-commands.ts` adds (custom commands to ioredis-mock) are prototype methods too; only those
 * defined later with `defineCommand` are copied into each pipeline, as ioredis-mock copies every custom command.
 * Everything else (`exec`, `_addTransaction`, the guard's own versions of them, `length`) is ioredis-mock's
 * `Pipeline.prototype`.
 */
import IORedis from 'ioredis';
import RedisMock from 'ioredis-mock';
import { isBlocking } from './blocking-commands';
import { UNSUPPORTED_IOREDIS_MOCK } from './redis-replies';

type Method = (...args: unknown[]) => unknown;

let commandNames: ReadonlySet<string> | undefined;

/** Redis's commands, as ioredis lists them (what its `call` sends, and what its pipelines have methods for). */
export function redisCommandNames(): ReadonlySet<string> {
  commandNames ??= new Set(IORedis.prototype.getBuiltinCommands());
  return commandNames;
}

/** Each Redis command's arity (Redis's command table, as `@ioredis/commands` ships it), once read. */
let arities: ReadonlyMap<string, number> | undefined;

/**
 * Redis's arity of `command` (lower case): n > 0 exactly n words, n < 0 at least -n, the name counted; `undefined`
 * for a name the table does not have.
 */
export function redisArity(command: string): number | undefined {
  if (arities === undefined) {
    // The table's data file: the package exports no function that reads it.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const table = require('@ioredis/commands/built/commands.json') as Record<
      string,
      { arity: number }
    >;
    arities = new Map(Object.entries(table).map(([name, spec]) => [name, spec.arity]));
  }
  return arities.get(command);
}

/** Marks the methods of the Redis commands ioredis-mock lacks, which fail whatever their arguments. */
export const UNSUPPORTED = Symbol('unsupported command');

/** What is used of an ioredis-mock pipeline. */
interface MockPipeline {
  _transactions: number;
  _addTransaction(emulator: unknown, name: string, args: unknown, callback: unknown): unknown;
  _createCommand(name: string, command: unknown): Method;
}

type PipelineClass = new (redis: object) => MockPipeline;

/** What is used of an ioredis-mock client: its commands added with `defineCommand`, and its current batch. */
interface PipelineHost {
  customCommands?: Record<string, unknown>;
  batch?: unknown;
}

function basePipeline(): PipelineClass {
  const Pipeline = (RedisMock as unknown as { Pipeline?: unknown }).Pipeline;
  const prototype = (Pipeline as { prototype?: Partial<MockPipeline> } | undefined)?.prototype;
  if (typeof Pipeline !== 'function' || typeof prototype?._createCommand !== 'function') {
    throw new Error(UNSUPPORTED_IOREDIS_MOCK('has no Pipeline.prototype._createCommand'));
  }
  return Pipeline as PipelineClass;
}

/** What a pipeline's `call(command, ...args)` and `callBuffer` (`buffer`) do: queue the command, or fail it. */
export type PipelineCall = (
  pipeline: object,
  buffer: boolean,
  command: unknown,
  args: unknown[],
) => unknown;

/** The pipeline class of `client` (see the file's comment), with ioredis's `call` and `callBuffer`. */
function pipelineClass(client: PipelineHost & object, call: PipelineCall): PipelineClass {
  const Base = basePipeline();
  const custom = (): Record<string, unknown> => client.customCommands ?? {};
  const template = new Base(client) as MockPipeline & Record<string, unknown>;
  let queueOn: MockPipeline | undefined;
  template._addTransaction = (emulator, name, args, callback) =>
    queueOn?._addTransaction(emulator, name, args, callback);
  /** Runs the template's command `queue`, queueing on `pipeline`. */
  const queueThrough = (pipeline: MockPipeline, queue: Method, args: unknown[]): MockPipeline => {
    queueOn = pipeline;
    try {
      queue(...args);
    } finally {
      queueOn = undefined;
    }
    return pipeline;
  };

  // The client's custom commands so far: those `added-commands.ts` and the blocking pops add. They are methods of the
  // prototype below; only commands defined later (`defineCommand`) are copied into each pipeline.
  const customNames = custom();
  const added = new Set(Object.keys(customNames));

  class ClientPipeline extends Base {
    call(command: unknown, ...args: unknown[]): unknown {
      return call(this, false, command, args);
    }

    callBuffer(command: unknown, ...args: unknown[]): unknown {
      return call(this, true, command, args);
    }

    copyCommands(): void {
      const target = this as unknown as Record<string, unknown>;
      const commands = custom();
      for (const name in commands) {
        if (!added.has(name)) target[name] = this._createCommand(name, commands[name]);
      }
    }
  }
  const methods = ClientPipeline.prototype as unknown as Record<string, Method>;
  for (const name of added) {
    // The command as the client has it when the method is called (as a copy made at the pipeline's start would be,
    // unless it was defined again since).
    methods[name] = function (this: MockPipeline, ...args: unknown[]): unknown {
      return this._createCommand(name, custom()[name])(...args);
    };
  }
  for (const name of Object.keys(template)) {
    const queue = template[name];
    if (typeof queue !== 'function' || name.startsWith('_') || Object.hasOwn(customNames, name))
      continue;
    // A blocking pop ioredis-mock has (BRPOPLPUSH) goes through `call` too: its arguments checked, run once.
    const command = name.endsWith('Buffer') ? name.slice(0, -'Buffer'.length) : name;
    if (isBlocking(command)) {
      methods[name] = function (this: MockPipeline, ...args: unknown[]): unknown {
        return call(this, command !== name, command, args);
      };
      continue;
    }
    methods[name] = function (this: MockPipeline, ...args: unknown[]): MockPipeline {
      return queueThrough(this, queue as Method, args);
    };
  }
  // The Redis commands ioredis-mock lacks have no method on its pipelines (a TypeError where ioredis queues them):
  // here each goes through `call`, which runs a blocking pop once and fails any other in its own entry.
  for (const name of redisCommandNames()) {
    for (const [method, buffer] of [
      [name, false],
      [`${name}Buffer`, true],
    ] as const) {
      if (method in methods || Object.hasOwn(customNames, method)) continue;
      methods[method] = Object.assign(
        function (this: MockPipeline, ...args: unknown[]): unknown {
          return call(this, buffer, name, args);
        },
        { [UNSUPPORTED]: true },
      );
    }
  }
  return ClientPipeline;
}

/**
 * Replaces `client`'s `pipeline()` and `multi()` (ioredis-mock's, which take an optional batch of `[command, ...args]`
 * and make the new pipeline the client's current `batch`) with ones making pipelines of its own class. `made` is told
 * of every transaction.
 */
export function cheapPipelines(
  client: PipelineHost & object,
  made: (transaction: object) => void,
  call: PipelineCall,
): void {
  const Pipeline = pipelineClass(client, call);
  const start = (batch: unknown, transaction: boolean): MockPipeline => {
    const pipeline = new Pipeline(client);
    if (transaction) {
      pipeline._transactions += 1;
      made(pipeline);
    }
    client.batch = pipeline;
    if (Array.isArray(batch)) {
      const commands = pipeline as unknown as Record<string, Method>;
      for (const [name, ...args] of batch as [string, ...unknown[]][]) commands[name](...args);
    }
    return pipeline;
  };
  const target = client as unknown as Record<string, unknown>;
  target.pipeline = (batch: unknown = []): MockPipeline => start(batch, false);
  target.multi = (batch: unknown = []): MockPipeline => start(batch, true);
}
