import type Redis from 'ioredis';
import {
  kindOf,
  MockValueError,
  toPortable,
  type PortableValue,
} from '../ioredis-mock/mock-values';
import { RestoredStates } from '../keyspace/restored-states';
import {
  CliError,
  EXIT_OK,
  EXIT_USAGE,
  throwIfInterrupted,
  write,
  writeOut,
  type CliIo,
} from './io';
import { Progress } from './progress';
import { commandBytes, commandsFor, encodeResp, nameBytes, type Command } from './redis-commands';
import { parseRedisUrl } from './redis-url';
import { openRedisTarget, type RedisTarget } from './redis-target';
import { openExistingStore } from './store-access';
import { refuseOrLeaveOut } from './unsupported-keys';
import { messageOf } from '../util/errors';
import { showKey } from '../util/show-key';

export interface ExportOptions {
  /** A Redis URL to write into. */
  readonly to?: string;
  /** Write RESP commands to stdout instead. */
  readonly resp?: boolean;
  /** Delete each key before writing it (and allow a non-empty target). */
  readonly replace?: boolean;
  /** Leave out keys whose values Redis cannot hold instead of failing. */
  readonly skipUnsupported?: boolean;
  /** Require `to` to name a node of a Redis Cluster (one is detected without it). */
  readonly cluster?: boolean;
  readonly now?: number;
}

/** Commands, or bytes of them, sent in one pipeline before waiting for the replies. */
const PIPELINE_COMMANDS = 1000;
const PIPELINE_BYTES = 4 * 1024 * 1024;

interface ExportItem {
  readonly key: string;
  readonly value: PortableValue;
  readonly expiresAt: number | undefined;
}

/**
 * `export <dataDir> --to redis://… | --resp`: every live key of the snapshot with its type, value and absolute
 * expiry time (`PEXPIREAT`). Keys already expired are left out, and so are ioredis-mock's stream helper keys and
 * empty sorted sets (real Redis holds neither).
 *
 * `--to` refuses a target database that holds any key unless `--replace` is given; `--replace` deletes each
 * exported key before writing it and leaves other keys alone. `--resp` writes the commands for
 * `redis-cli --pipe`; with `--replace` each key's commands begin with a `DEL`. A `--to` URL naming a node of a Redis
 * Cluster writes into the whole cluster, each key to the primary of its slot (see `redis-target.ts`).
 */
export async function exportSnapshot(
  dataDir: string,
  options: ExportOptions,
  io: CliIo,
): Promise<number> {
  if ((options.to === undefined) === (options.resp !== true)) {
    throw new CliError('export: pass exactly one of --to <redis-url> and --resp', EXIT_USAGE);
  }
  const url =
    options.to === undefined
      ? undefined
      : parseRedisUrl('--to', options.to, options.cluster === true);
  const { items, skipped } = await readItems(dataDir, options, io);
  if (url === undefined) {
    await writeResp(items, options.replace === true, io);
    // stdout carries the commands: the summary goes to stderr, as with --to.
    await write(
      io.stderr,
      `export: wrote the commands of ${items.length} keys to stdout${describeSkipped(skipped)}\n`,
    );
  } else {
    const target = await openRedisTarget(url, options.cluster === true);
    try {
      const written = await writeRedis(target, items, options.replace === true, io);
      await write(
        io.stderr,
        `export: wrote ${written} keys into ${target.description}${describeSkipped(skipped)}\n`,
      );
    } finally {
      await target.close();
    }
  }
  return EXIT_OK;
}

interface Skipped {
  helpers: number;
  empty: number;
  expired: number;
  unsupported: number;
}

function describeSkipped(s: Skipped): string {
  const parts = [
    s.expired > 0 ? `${s.expired} already expired` : '',
    s.helpers > 0 ? `${s.helpers} ioredis-mock stream helper keys` : '',
    s.empty > 0 ? `${s.empty} empty sorted sets` : '',
    s.unsupported > 0 ? `${s.unsupported} that Redis cannot hold` : '',
  ].filter((p) => p !== '');
  return parts.length > 0 ? ` (left out: ${parts.join(', ')})` : '';
}

async function readItems(
  dataDir: string,
  options: ExportOptions,
  io: CliIo,
): Promise<{ items: ExportItem[]; skipped: Skipped }> {
  const store = await openExistingStore(dataDir);
  try {
    throwIfInterrupted(io, (signal) => `export: interrupted by ${signal}; nothing was written`);
    let data;
    try {
      data = store.read(new RestoredStates(), options.now ?? Date.now());
    } catch (error) {
      throw new CliError(`${messageOf(error)} (run \`persistent-cache verify\` for details)`);
    }
    if (data === undefined) throw new CliError(`${store.dataDir} holds no committed snapshot`);
    const skipped: Skipped = { helpers: 0, empty: 0, expired: data.expired, unsupported: 0 };
    const items: ExportItem[] = [];
    const errors: string[] = [];
    for (const [key, state] of data.states) {
      let value: PortableValue | undefined;
      try {
        value = toPortable(key, state.value);
      } catch (error) {
        if (!(error instanceof MockValueError)) throw error;
        errors.push(error.message);
        continue;
      }
      if (value === undefined) {
        if (kindOf(key, state.value) === 'stream-helper') skipped.helpers++;
        else skipped.empty++;
        continue;
      }
      items.push({ key, value, expiresAt: state.expiresAt });
    }
    await refuseOrLeaveOut(
      'export',
      errors,
      options.skipUnsupported === true,
      `${errors.length} key(s) hold values real Redis cannot hold; nothing was written`,
      io,
    );
    skipped.unsupported = errors.length;
    return { items, skipped };
  } finally {
    await store.close();
  }
}

function stoppedResp(signal: string, written: number, total: number): string {
  return (
    `export: interrupted by ${signal} after writing the commands of ${written} of ${total} keys to stdout: ` +
    'the output is incomplete'
  );
}

async function writeResp(items: ExportItem[], replace: boolean, io: CliIo): Promise<void> {
  const progress = new Progress(io, 'export', items.length);
  let buffered: Buffer[] = [];
  let bytes = 0;
  let pending = 0; // keys whose commands are encoded
  let written = 0; // keys whose commands are on stdout
  for (const item of items) {
    for (const command of commandsFor(item.key, item.value, item.expiresAt, replace)) {
      const encoded = encodeResp(command);
      buffered.push(encoded);
      bytes += encoded.length;
    }
    pending++;
    if (bytes >= 64 * 1024) {
      throwIfInterrupted(io, (signal) => stoppedResp(signal, written, items.length));
      await writeOut(io, Buffer.concat(buffered));
      written = pending;
      buffered = [];
      bytes = 0;
    }
    progress.tick();
  }
  throwIfInterrupted(io, (signal) => stoppedResp(signal, written, items.length));
  if (buffered.length > 0) await writeOut(io, Buffer.concat(buffered));
  progress.finish();
}

/**
 * Writes the items in pipelines, each key's commands to the server that holds it (on a cluster, the primary of its
 * slot); the pipelines of the servers are sent together and all answered before the next ones.
 */
async function writeRedis(
  target: RedisTarget,
  items: ExportItem[],
  replace: boolean,
  io: CliIo,
): Promise<number> {
  if (!replace) {
    const sizes = await Promise.all(target.primaries.map((server) => server.dbsize()));
    const size = sizes.reduce((a, b) => a + b, 0);
    if (size > 0) {
      throw new CliError(
        `export: the target ${target.description} already holds ${size} keys; nothing was written. ` +
          'Pass --replace to overwrite the exported keys (other keys are kept), or export into an empty database',
      );
    }
  }
  const progress = new Progress(io, 'export', items.length);
  let batches = new Map<Redis, { command: Command; key: string }[]>();
  let commands = 0;
  let bytes = 0;
  let pendingKeys = 0;
  let written = 0;
  const flush = async () => {
    throwIfInterrupted(io, (signal) =>
      written === 0
        ? `export: interrupted by ${signal} before writing any key into ${target.description}`
        : `export: interrupted by ${signal} after writing ${written} of ${items.length} keys into ` +
          `${target.description}; the others were not written. Run the export again with --replace to write ` +
          'them all (it rewrites the keys already written)',
    );
    await Promise.all([...batches].map(([server, batch]) => send(server, batch)));
    written += pendingKeys;
    progress.tick(pendingKeys);
    batches = new Map();
    commands = 0;
    bytes = 0;
    pendingKeys = 0;
  };
  for (const item of items) {
    const server = target.serverFor(nameBytes(item.key));
    let batch = batches.get(server);
    if (batch === undefined) batches.set(server, (batch = []));
    for (const command of commandsFor(item.key, item.value, item.expiresAt, replace)) {
      batch.push({ command, key: item.key });
      bytes += commandBytes(command);
      commands++;
    }
    pendingKeys++;
    if (commands >= PIPELINE_COMMANDS || bytes >= PIPELINE_BYTES) await flush();
  }
  await flush();
  progress.finish();
  return items.length;
}

/** Sends one server its commands in a pipeline; the first that failed fails the export, naming its key. */
async function send(server: Redis, batch: { command: Command; key: string }[]): Promise<void> {
  const pipeline = server.pipeline();
  for (const { command } of batch) {
    const [name, ...args] = command;
    pipeline.callBuffer(name, args);
  }
  const replies = (await pipeline.exec()) ?? [];
  replies.forEach(([error], i) => {
    if (!error) return;
    const { command, key } = batch[i];
    // The cluster's slots moved after the export asked who serves them: a new run reads the new layout.
    const moved = /^(MOVED|ASK) /.test(error.message)
      ? '; the cluster moved slots during the export: run it again with --replace'
      : '';
    throw new CliError(
      `export: ${command[0]} for key ${showKey(key)} failed: ${error.message}${moved}`,
    );
  });
}
