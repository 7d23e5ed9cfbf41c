/**
 * Keyspace notifications of the embedded client (Redis's `notify-keyspace-events`).
 *
 * `CONFIG SET notify-keyspace-events` sets them at run time, for the client and its duplicates alike (as it is one
 * setting of one server in Redis). Every command the embedded client runs (a method, a pipeline's or transaction's
 * command, a script's `redis.call`) goes through {@link KeyspaceEvents.begin} while any class is on: the state of
 * the keys its events depend on is read before it runs, and once it ran, its entry of `COMMAND_EVENTS`
 * (`notification-events.ts`, one table of command -> events) publishes what Redis 7.0 publishes for it, in Redis's
 * order. The keyspace's own removals are published here too: `expired` (class `x`) and `evicted` (class `e`),
 * whether a command or active expiry found the key expired. ioredis-mock's own notifications (of DEL, EXPIRE, RENAME)
 * are turned off: it reads an empty setting.
 *
 * With every class off, a command pays one test of a boolean.
 */

import type { Redis } from 'ioredis';
import type { KeyReader } from '../keyspace/keyspace';
import { COMMAND_EVENTS, Happened } from './notification-events';
import type { Arg } from './redis-replies';

/** Redis's classes: generic, string, list, set, hash, sorted set, expired, evicted, stream, new key, key miss. */
export type EventClass = 'g' | '$' | 'l' | 's' | 'h' | 'z' | 'x' | 'e' | 't' | 'n' | 'm';

/** Redis's flag letters in the order `keyspaceEventsFlagsToString` writes them (after `A`, before `K`, `E`, `m`). */
const CLASS_ORDER = 'g$lshzxetdn';
/** `A`: every class but key misses and new keys (Redis's `NOTIFY_ALL`). */
const ALL_CLASSES = 'g$lshzxetd';

/** ioredis-mock's parsed form of its own setting: every class off (see the file's comment). */
const MOCK_OFF = {
  K: { g: false, string: false, l: false, s: false, h: false, z: false, x: false, e: false },
  E: { g: false, string: false, l: false, s: false, h: false, z: false, x: false, e: false },
};

/** Publishes a message on a channel (ioredis-mock's PUBLISH itself, see {@link KeyspaceEvents.sendWith}). */
export type Send = (channel: string, message: string) => void;

/** The notification setting shared by an embedded client and its duplicates, and what publishes its events. */
export class KeyspaceEvents {
  /** The classes published on `__keyspace@0__:<key>` (K) and on `__keyevent@0__:<event>` (E). */
  private keyspace = new Set<string>();
  private keyevent = new Set<string>();
  private send: Send | undefined;
  /** Whether any class is published: commands take their notes only then. */
  active = false;
  /** The setting as CONFIG GET gives it: Redis's normalised form (`KEA` is `AKE`). */
  flags = '';

  /**
   * Applies a `notify-keyspace-events` value as Redis 7.0 reads it (`keyspaceEventsStringToFlags`); throws if a
   * letter is not one Redis knows. Modules' events (`d`) are kept in the setting; the embedded client has none.
   */
  configure(value: string): void {
    const given = new Set<string>();
    for (const flag of value) {
      if (flag === 'A') for (const c of ALL_CLASSES) given.add(c);
      else if ((CLASS_ORDER + 'KEm').includes(flag)) given.add(flag);
      else throw new Error("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.");
    }
    const classes = [...CLASS_ORDER, 'm'].filter((c) => given.has(c));
    this.keyspace = new Set(given.has('K') ? classes : []);
    this.keyevent = new Set(given.has('E') ? classes : []);
    this.active = this.keyspace.size > 0 || this.keyevent.size > 0;
    const all = [...ALL_CLASSES].every((c) => given.has(c));
    this.flags =
      (all ? 'A' : [...CLASS_ORDER].filter((c) => given.has(c)).join('')) +
      ['K', 'E', 'm'].filter((c) => given.has(c)).join('');
  }

  /** What publishes the events: ioredis-mock's PUBLISH (the client may be a subscriber, whose own method refuses). */
  sendWith(send: Send): void {
    this.send = send;
  }

  /** Makes ioredis-mock read an empty setting where it reads its own: the events are published here alone. */
  share(client: Redis): void {
    Object.defineProperty(client, 'keyspaceEvents', {
      get: () => MOCK_OFF,
      set: () => undefined, // ioredis-mock's constructor sets its own
      configurable: true,
    });
  }

  /** Publishes `event` of class `cls` about `key`, on the channels the setting asks for (the key's first, as Redis). */
  emit(cls: EventClass, event: string, key: string): void {
    const send = this.send;
    if (send === undefined) return;
    if (this.keyspace.has(cls)) send(`__keyspace@0__:${key}`, event);
    if (this.keyevent.has(cls)) send(`__keyevent@0__:${event}`, key);
  }

  /** Whether the events of class `cls` are published on either kind of channel. */
  publishes(cls: EventClass): boolean {
    return this.keyspace.has(cls) || this.keyevent.has(cls);
  }

  /** Publishes that `key` was removed, `why` being `expired` (class `x`) or `evicted` (class `e`). */
  removed(key: string, why: 'expired' | 'evicted'): void {
    this.emit(why === 'expired' ? 'x' : 'e', why, key);
  }

  /**
   * Takes the notes `command` needs before it runs (call only while {@link active}): the returned function, called
   * once it ran (not when it failed), publishes its events. `undefined` when the command publishes none.
   */
  begin(command: string, args: readonly Arg[], reader: KeyReader): (() => void) | undefined {
    const entry = Object.hasOwn(COMMAND_EVENTS, command) ? COMMAND_EVENTS[command] : undefined;
    if (entry === undefined) return undefined;
    const happened = new Happened(this, args, reader, entry);
    return () => entry.publish(happened);
  }
}
