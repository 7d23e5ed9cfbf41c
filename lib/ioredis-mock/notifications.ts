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

/** Redis's flag letters in the order `keyspaceEventsFlagsToString` writes them (after `A`, before `K`, `E`, `m`). */
const CLASS_ORDER = 'g$lshzxetdn';
/** `A`: every class but key misses and new keys (Redis's `NOTIFY_ALL`). */
const ALL_CLASSES = 'g$lshzxetd';

/** The notification setting shared by an embedded client and its duplicates. */
export class KeyspaceEvents {
  private parsed: ParsedEvents = { K: none(), E: none() };
  /** The setting as CONFIG GET gives it: Redis's normalised form (`KEA` is `AKE`). */
  flags = '';

  /**
   * Applies a `notify-keyspace-events` value as Redis 7.0 reads it (`keyspaceEventsStringToFlags`); throws if a
   * letter is not one Redis knows. Streams (`t`), key misses (`m`), modules (`d`) and new keys (`n`) are kept in the
   * setting but never published here.
   */
  configure(value: string): void {
    const given = new Set<string>();
    for (const flag of value) {
      if (flag === 'A') for (const c of ALL_CLASSES) given.add(c);
      else if ((CLASS_ORDER + 'KEm').includes(flag)) given.add(flag);
      else throw new Error("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    }
    const classes = none();
    for (const flag of given) if (Object.hasOwn(CLASSES, flag)) classes[CLASSES[flag]] = true;
    this.parsed = {
      K: given.has('K') ? classes : none(),
      E: given.has('E') ? { ...classes } : none(),
    };
    const all = [...ALL_CLASSES].every((c) => given.has(c));
    this.flags =
      (all ? 'A' : [...CLASS_ORDER].filter((c) => given.has(c)).join('')) +
      ['K', 'E', 'm'].filter((c) => given.has(c)).join('');
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

  /**
   * Publishes that `key` was removed, `why` being `expired` or `evicted`, on the channels the setting asks for, with
   * `send` (ioredis-mock's PUBLISH itself: the client may be in subscriber mode, where its method refuses to publish,
   * while other connections listen).
   */
  publish(
    send: (channel: string, message: string) => void,
    key: string,
    why: 'expired' | 'evicted',
  ): void {
    const cls: EventClass = why === 'expired' ? 'x' : 'e';
    if (this.parsed.K[cls]) send(`__keyspace@0__:${key}`, why);
    if (this.parsed.E[cls]) send(`__keyevent@0__:${why}`, key);
  }
}
