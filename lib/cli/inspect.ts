import { kindOf, type MockValueKind } from '../ioredis-mock/mock-values';
import type { Manifest } from '../format/manifest';
import { RestoredStates } from '../keyspace/restored-states';
import type { SnapshotStore } from '../store/snapshot-store';
import { CliError, EXIT_OK, throwIfInterrupted, writeOut, type CliIo } from './io';
import { Progress } from './progress';
import { openExistingStore } from './store-access';
import { messageOf } from '../util/errors';

export interface InspectOptions {
  readonly json?: boolean;
  /** The moment keys are judged expired at (ms since epoch); now by default. */
  readonly now?: number;
}

/** What `inspect` reports. */
export interface InspectReport {
  readonly dataDir: string;
  readonly fileBytes: number;
  readonly format: number;
  readonly createdAt: string;
  /** Keys the cache held when the snapshot began. */
  readonly keysAtSnapshot: number;
  /** Bytes of all chunks of the chain. */
  readonly bytes: number;
  /** Keys that have not expired at `now`, by type. */
  readonly types: Record<MockValueKind, number>;
  readonly live: number;
  /** Keys whose expiry time has passed at `now`. */
  readonly expired: number;
  /** The chain, oldest first; times as ISO strings, like `createdAt`. */
  readonly generations: (Omit<Manifest['generations'][number], 'createdAt'> & {
    createdAt: string;
  })[];
}

/** `inspect <dataDir>`: the snapshot's metadata, its chain of generations and its keys by type. */
export async function inspect(
  dataDir: string,
  options: InspectOptions,
  io: CliIo,
): Promise<number> {
  const store = await openExistingStore(dataDir);
  try {
    throwIfInterrupted(io, (signal) => `inspect: interrupted by ${signal}`);
    const report = readReport(store, options.now ?? Date.now(), io);
    await writeOut(io, options.json ? `${JSON.stringify(report, null, 2)}\n` : render(report));
    return EXIT_OK;
  } finally {
    await store.close();
  }
}

function readReport(store: SnapshotStore, now: number, io: CliIo): InspectReport {
  let data;
  try {
    data = store.read(new RestoredStates(), now);
  } catch (error) {
    throw new CliError(`${messageOf(error)} (run \`persistent-cache verify\` for details)`);
  }
  if (data === undefined)
    throw new CliError(`data directory ${store.dataDir} holds no committed snapshot`);
  const types: Record<MockValueKind, number> = {
    string: 0,
    hash: 0,
    list: 0,
    set: 0,
    zset: 0,
    stream: 0,
    'stream-helper': 0,
    unknown: 0,
  };
  const progress = new Progress(io, 'inspect', data.states.size);
  for (const [key, state] of data.states) {
    types[kindOf(key, state.value)]++;
    progress.tick();
  }
  progress.finish();
  const { manifest } = data;
  return {
    dataDir: store.dataDir,
    fileBytes: store.fileSize(),
    format: manifest.format,
    createdAt: new Date(manifest.createdAt).toISOString(),
    keysAtSnapshot: manifest.keys,
    bytes: manifest.bytes,
    types,
    live: data.states.size,
    expired: data.expired,
    generations: manifest.generations.map((g) => ({
      ...g,
      createdAt: new Date(g.createdAt).toISOString(),
    })),
  };
}

function render(r: InspectReport): string {
  const lines = [
    `data directory:   ${r.dataDir}`,
    `store file:       ${r.fileBytes} bytes on disk`,
    `format version:   ${r.format}`,
    `snapshot time:    ${r.createdAt}`,
    `keys at snapshot: ${r.keysAtSnapshot}`,
    `snapshot bytes:   ${r.bytes}`,
    `live keys:        ${r.live}`,
    ...(['string', 'hash', 'list', 'set', 'zset', 'stream'] as const).map(
      (t) => `  ${`${t}:`.padEnd(16)}${r.types[t]}`,
    ),
    `  ${'stream helpers:'.padEnd(16)}${r.types['stream-helper']} (ioredis-mock's internal keys beside streams)`,
    ...(r.types.unknown > 0 ? [`  ${'unknown:'.padEnd(16)}${r.types.unknown}`] : []),
    `expired at now:   ${r.expired}`,
    `generations:      ${r.generations.length}`,
    ...r.generations.map(
      (g) =>
        `  #${g.gen} ${g.kind.padEnd(11)} ${g.createdAt}  ` +
        `${g.chunks} chunks, ${g.records} records, ${g.bytes} bytes`,
    ),
  ];
  return `${lines.join('\n')}\n`;
}
