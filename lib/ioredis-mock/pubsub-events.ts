/**
 * The message events of a subscribed client, as ioredis emits them (its `DataHandler`): every message as
 * `message` (channel and message as text, when something listens) and as `messageBuffer` (as bytes), and every
 * message matched by a pattern as `pmessage` and `pmessageBuffer` (the pattern as text in both). ioredis-mock emits
 * only one of each pair, by the type of what was published: a listener of `message` missed every Buffer published,
 * and one of `messageBuffer` every string.
 */
import type { EventEmitter } from 'node:events';

const text = (value: unknown): string =>
  Buffer.isBuffer(value) ? value.toString('utf8') : String(value);
const bytes = (value: unknown): Buffer =>
  Buffer.isBuffer(value) ? value : Buffer.from(String(value), 'utf8');

/** Makes `client` emit both forms of each message event, as ioredis does. */
export function emitBothMessageForms(client: EventEmitter): void {
  const emit = client.emit.bind(client);
  client.emit = (event: string | symbol, ...args: unknown[]): boolean => {
    if (event === 'message' || event === 'messageBuffer') {
      const [channel, message] = args;
      if (client.listenerCount('message') > 0) emit('message', text(channel), text(message));
      return emit('messageBuffer', bytes(channel), bytes(message));
    }
    if (event === 'pmessage' || event === 'pmessageBuffer') {
      const [pattern, channel, message] = args;
      if (client.listenerCount('pmessage') > 0) {
        emit('pmessage', text(pattern), text(channel), text(message));
      }
      return emit('pmessageBuffer', text(pattern), bytes(channel), bytes(message));
    }
    return emit(event, ...args);
  };
}
