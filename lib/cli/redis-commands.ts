import { hasEscapes, keyToBytes } from '../format/key-bytes';
import { formatScore, type Bytes, type PortableValue } from '../ioredis-mock/mock-values';

/** A Redis command as its name and arguments. */
export type Command = [name: string, ...args: Bytes[]];

/**
 * A key or hash field name as Redis is sent it: its own bytes when they are not UTF-8 (see `key-bytes.ts`), where the
 * string's UTF-8 would be U+FFFD for each of them; a UTF-8 name as its text.
 */
export function nameBytes(name: string): Bytes {
  return hasEscapes(name) ? keyToBytes(name) : name;
}

/** Elements per command for large collections, so that no single command is huge. */
const BATCH = 1000;

/**
 * The commands that recreate one key in Redis: its value (large collections split over several commands), then
 * `PEXPIREAT` with the absolute expiry time. With `replace`, a `DEL` first, so that the key ends up exactly as in
 * the snapshot whatever the target held.
 */
export function commandsFor(
  key: string,
  value: PortableValue,
  expiresAt: number | undefined,
  replace: boolean,
): Command[] {
  const out: Command[] = [];
  const name = nameBytes(key);
  if (replace) out.push(['DEL', name]);
  const batched = (command: string, args: Bytes[], per: number) => {
    for (let i = 0; i < args.length; i += per) out.push([command, name, ...args.slice(i, i + per)]);
  };
  switch (value.type) {
    case 'string':
      out.push(['SET', name, value.value]);
      break;
    case 'hash':
      batched(
        'HSET',
        value.fields.flatMap(([f, v]) => [nameBytes(f), v]),
        2 * BATCH,
      );
      break;
    case 'list':
      batched('RPUSH', [...value.items], BATCH);
      break;
    case 'set':
      batched('SADD', [...value.members], BATCH);
      break;
    case 'zset':
      batched(
        'ZADD',
        value.members.flatMap(([m, score]) => [formatScore(score), m]),
        2 * BATCH,
      );
      break;
    case 'stream':
      for (const entry of value.entries) out.push(['XADD', name, entry.id, ...entry.fields]);
      // The last id the stream generated: an emptied stream is made by an entry trimmed at once.
      if (value.lastId !== undefined) {
        if (value.entries.length === 0)
          out.push(['XADD', name, 'MAXLEN', '0', value.lastId, 'f', '']);
        else out.push(['XSETID', name, value.lastId]);
      }
      break;
  }
  if (expiresAt !== undefined) out.push(['PEXPIREAT', name, String(Math.ceil(expiresAt))]);
  return out;
}

/** Encodes a command in RESP, the form `redis-cli --pipe` reads. */
export function encodeResp(command: Command): Buffer {
  const parts: Buffer[] = [Buffer.from(`*${command.length}\r\n`)];
  for (const arg of command) {
    const bytes = typeof arg === 'string' ? Buffer.from(arg, 'utf8') : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

const CRLF = Buffer.from('\r\n');

/** Rough size of a command on the wire, to size pipelines. */
export function commandBytes(command: Command): number {
  let n = 0;
  for (const arg of command) n += (typeof arg === 'string' ? arg.length : arg.length) + 16;
  return n;
}
