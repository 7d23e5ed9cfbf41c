/**
 * Keyspace notifications of the embedded client (Redis's `notify-keyspace-events`).
 *
 * ioredis-mock publishes some events itself (`del`, `expire`, `rename_*`) when its client was made with the
 * `notifyKeyspaceEvents` option, reading the client's parsed `keyspaceEvents`. The embedded client has no such
 * option: `CONFIG SET notify-keyspace-events` sets it at run time, for the client and its duplicates alike (as it is
 * one setting of one server in Redis), and the keyspace's own removals are published here: `expired` (class `x`)
 * and `evicted` (class `e`), whether a command or active expiry found the key expired.
 */
import type { Redis } from 'ioredis';

type EventClass = 'g' | 'string' | 'l' | 's' | 'h' | 'z' | 'x' | 'e';

/** ioredis-mock's parsed form: which classes go to `__keyspace@0__` (K) and `__keyevent@0__` (E). */
interface ParsedEvents {
  K: Record<EventClass, boolean>;
  E: Record<EventClass, boolean>;
}

const CLASSES: Record<string, EventClass> = {
  g: 'g',
  $: 'string',
  l: 'l',
  s: 's',
  h: 'h',
  z: 'z',
  x: 'x',
  e: 'e',
};

function none(): Record<EventClass, boolean> {
  return { g: false, string: false, l: false, s: false, h: false, z: false, x: false, e: false };
}

/** The notification setting shared by an embedded client and its duplicates. */
export class KeyspaceEvents {
  private parsed: ParsedEvents = { K: none(), E: none() };
  /** The setting as CONFIG GET gives it. */
  flags = '';

  /** Applies a `notify-keyspace-events` value; throws if a flag is not one Redis knows. */
  configure(value: string): void {
    const classes = none();
    for (const flag of value.replace(/A/g, 'g$lshzxe')) {
      if ('KEtmdn'.includes(flag)) continue; // streams, key misses, modules and new keys: never published here
      if (!Object.hasOwn(CLASSES, flag))
        throw new Error("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
      classes[CLASSES[flag]] = true;
    }
    const keyspace = value.includes('K');
    const keyevent = value.includes('E');
    this.parsed = { K: keyspace ? classes : none(), E: keyevent ? { ...classes } : none() };
    this.flags = keyspace || keyevent ? value : '';
  }

  /** Makes `client` read the shared setting where ioredis-mock reads its own. */
  share(client: Redis): void {
    Object.defineProperty(client, 'keyspaceEvents', {
      get: () => this.parsed,
      set: () => undefined, // ioredis-mock's constructor sets its own; the shared one wins
      configurable: true,
    });
  }

  /** Whether generic events (class `g`: `expire`, `del`, …) go to either kind of channel. */
  publishesGeneric(): boolean {
    return this.parsed.K.g || this.parsed.E.g;
  }

  /** Publishes that `key` was removed, `why` being `expired` or `evicted`, on the channels the setting asks for. */
  publish(client: Redis, key: string, why: 'expired' | 'evicted'): void {
    const cls: EventClass = why === 'expired' ? 'x' : 'e';
    const ignore = (): undefined => undefined; // a client in subscriber mode cannot publish: nothing to tell then
    if (this.parsed.K[cls]) client.publish(`__keyspace@0__:${key}`, why).catch(ignore);
    if (this.parsed.E[cls]) client.publish(`__keyevent@0__:${why}`, key).catch(ignore);
  }
}
