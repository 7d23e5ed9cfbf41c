import type { Redis } from 'ioredis';
import RedisMock from 'ioredis-mock';
import { EventEmitter } from 'node:events';
import { guardCommands } from './command-guard';
import type { Keyspace } from '../keyspace/keyspace';
import { KeyspaceEvents } from './notifications';
import { rawCommands } from './script-commands';
import { UNSUPPORTED_IOREDIS_MOCK } from './redis-replies';
import { dataView, expiresView, type MockData, type MockExpires } from './views';

/**
 * What this library knows about ioredis-mock's insides is in this folder, each part in one file:
 * - here, the instance fields the keyspace is plugged into, the `host` that keeps instances apart, and the event
 *   WATCH listens to;
 * - `views.ts`: what its commands call on `data` and `expires`, and how it copies values in and out;
 * - `command-guard.ts`: its command methods, argument transformers and `Pipeline.prototype._addTransaction`;
 * - `pipelines.ts`: its `Pipeline` class (`copyCommands`, `_createCommand`) and what `pipeline()` and `multi()` do;
 * - `command-rules.ts` and `expiry-rules.ts`: where its commands answer otherwise than Redis;
 * - `mock-values.ts`: how it represents each Redis type (and its stream helper keys).
 *
 * ioredis-mock's commands read and write the keyspace through two instance fields, `data` and `expires`
 * (`duplicate()` copies both to the new client). Pointing them at a {@link Keyspace} gives the embedded client
 * the same command semantics on a keyspace that snapshots can walk in slices and watch for changes.
 *
 * Its commands are also corrected where ioredis-mock would answer otherwise than Redis and store a value Redis
 * cannot hold (see `command-rules.ts`, applied by `command-guard.ts`).
 *
 * Tested with the ioredis-mock version pinned in package.json (8.13.1); {@link createEmbeddedClient} refuses to
 * start on a version whose instances do not have these fields.
 */
interface MockInternals {
  data: MockData;
  expires: MockExpires;
}

function hasMockInternals(client: object): client is MockInternals {
  const candidate = client as Partial<Record<keyof MockInternals, unknown>>;
  const isView = (v: unknown): boolean =>
    typeof v === 'object' && v !== null && typeof (v as { get?: unknown }).get === 'function';
  return isView(candidate.data) && isView(candidate.expires);
}

let instances = 0;

/**
 * Creates an in-process ioredis-compatible client whose keyspace is `keyspace`.
 *
 * ioredis-mock shares one keyspace (and pub/sub channels) between instances created with the same
 * host:port/db, so each embedded client gets an address of its own.
 */
export function createEmbeddedClient(
  keyspace: Keyspace,
  { commandRules = true }: { readonly commandRules?: boolean } = {},
): Redis {
  const client = new RedisMock({
    host: `persistent-cache-${process.pid}-${++instances}`,
    port: 6379,
    lazyConnect: false,
  });
  if (!hasMockInternals(client)) {
    throw new Error(
      UNSUPPORTED_IOREDIS_MOCK('does not expose `data` and `expires` on its instances'),
    );
  }
  client.data = dataView(keyspace);
  client.expires = expiresView(keyspace);
  const events = new KeyspaceEvents();
  // Without the command rules: only to measure what they cost (`npm run fidelity`).
  if (commandRules) guardCommands(client, keyspace.reader, { keyspace, events });
  const raw = rawCommands(client);
  const send = (channel: string, message: string): void => void raw('publish', [channel, message]);
  events.sendWith(send);
  keyspace.onKeyRemoved((key, why) => events.removed(key, why));
  // WATCH: ioredis-mock's own data announces each write on its context's `modifiedKeyEvents`.
  const modified = (client as { context?: { modifiedKeyEvents?: unknown } }).context
    ?.modifiedKeyEvents;
  if (modified instanceof EventEmitter) {
    keyspace.onKeyWritten((key) => modified.emit('modified', key));
  }
  return client;
}
