import { kindOf, MockValueError, toPortable } from '../ioredis-mock/mock-values';
import { CodecError } from '../format/codec';
import { RestoredStates } from '../keyspace/restored-states';
import { UnreadableSnapshotError, type SnapshotStore } from '../store/snapshot-store';
import { EXIT_FAILURE, EXIT_OK, throwIfInterrupted, write, writeOut, type CliIo } from './io';
import { Progress } from './progress';
import { openExistingStore } from './store-access';
import { KEYS_LISTED } from './unsupported-keys';
import { messageOf } from '../util/errors';
import { firstOf } from '../util/first-of';
import { showKey } from '../util/show-key';

/**
 * `verify <dataDir>`: reads every chunk of the committed chain, checking every checksum and count (the same checks a
 * restore makes). Exit code 0 when the snapshot restores, 1 with the reason otherwise. Values that the embedded
 * cache restores but real Redis could not hold (see `export`) are reported as warnings.
 */
export async function verify(dataDir: string, io: CliIo): Promise<number> {
  let store: SnapshotStore;
  try {
    store = await openExistingStore(dataDir);
  } catch (error) {
    if (!(error instanceof UnreadableSnapshotError)) throw error;
    await write(io.stderr, `verify: FAILED: ${error.message}\n`);
    return EXIT_FAILURE;
  }
  try {
    throwIfInterrupted(
      io,
      (signal) => `verify: interrupted by ${signal}; the store was not checked`,
    );
    let data;
    try {
      data = store.read(new RestoredStates());
    } catch (error) {
      await write(io.stderr, `verify: FAILED: ${messageOf(error)}\n`);
      return EXIT_FAILURE;
    }
    if (data === undefined) {
      await write(io.stderr, `verify: FAILED: ${store.dataDir} holds no committed snapshot\n`);
      return EXIT_FAILURE;
    }
    const { manifest } = data;
    const progress = new Progress(io, 'verify', data.states.size);
    const warnings: string[] = [];
    let unknown = 0;
    for (const [key, state] of data.states) {
      progress.tick();
      let value: unknown;
      try {
        value = state.value; // restored values are decoded on first read: verify decodes every one
      } catch (error) {
        if (!(error instanceof CodecError)) throw error;
        await write(io.stderr, `verify: FAILED: key ${showKey(key)}: ${error.message}\n`);
        return EXIT_FAILURE;
      }
      if (kindOf(key, value) === 'unknown') unknown++;
      try {
        toPortable(key, value);
      } catch (error) {
        if (!(error instanceof MockValueError)) throw error;
        warnings.push(error.message);
      }
    }
    progress.finish();
    const records = manifest.generations.reduce((sum, g) => sum + g.records, 0);
    const chunks = manifest.generations.reduce((sum, g) => sum + g.chunks, 0);
    for (const warning of firstOf(warnings, KEYS_LISTED)) {
      await write(io.stderr, `verify: warning: ${warning}\n`);
    }
    await writeOut(
      io,
      `OK ${store.dataDir}: format ${manifest.format}, ${manifest.generations.length} generation(s), ` +
        `${chunks} chunks and ${records} records checked, ${data.states.size} live keys, ` +
        `${data.expired} expired, ${manifest.bytes} bytes` +
        (unknown > 0 ? `, ${unknown} of unknown shape` : '') +
        (warnings.length > 0 ? `, ${warnings.length} that real Redis cannot hold` : '') +
        '\n',
    );
    return EXIT_OK;
  } finally {
    await store.close();
  }
}
