import type { Redis } from 'ioredis';
import { createEmbeddedClient } from './adapter';
import { Keyspace } from '../keyspace/keyspace';

/** CLIENT, INFO server/clients and `status` of the embedded client and its duplicates: connections of one keyspace. */

let clients: Redis[] = [];
const track = (client: Redis): Redis => {
  clients.push(client);
  return client;
};
afterEach(() => {
  for (const client of clients) client.disconnect();
  clients = [];
});

const field = (line: string, name: string): string | undefined =>
  new RegExp(`(?:^| )${name}=(\\S*)`).exec(line)?.[1];

describe('CLIENT on the embedded client', () => {
  it('names connections and lists those of the keyspace that are open, as Redis 7.0 writes them', async () => {
    const keyspace = new Keyspace();
    const first = track(createEmbeddedClient(keyspace));
    const second = track(first.duplicate());
    const other = track(createEmbeddedClient(new Keyspace())); // another keyspace: not listed
    const [id1, id2] = [Number(await first.client('ID')), Number(await second.client('ID'))];
    expect(id2).toBeGreaterThan(id1);
    expect(await other.client('ID')).not.toBe(id1);
    expect(await first.client('GETNAME')).toBeNull();
    expect(await first.client('SETNAME', 'bull:worker')).toBe('OK');
    expect(await first.client('GETNAME')).toBe('bull:worker');
    expect(await second.client('GETNAME')).toBeNull();

    const listed = String(await second.client('LIST')).split('\n');
    expect(listed.pop()).toBe(''); // every line ends with a newline
    expect(listed.map((line) => Number(field(line, 'id')))).toEqual([id1, id2]);
    expect(listed.map((line) => field(line, 'name'))).toEqual(['bull:worker', '']);
    expect(field(listed[1], 'cmd')).toBe('client|list');
    expect(field(listed[0], 'flags')).toBe('N');
    expect(listed[0]).toMatch(
      /^id=\d+ addr=embedded:0 laddr=embedded:0 fd=-1 name=bull:worker age=\d+ idle=\d+ flags=N db=0 sub=0 psub=0 /,
    );
    expect(String(await first.client('INFO'))).toMatch(
      /^id=\d+ .* cmd=client\|info user=default redir=-1 resp=2\n$/,
    );
    expect(String(await first.client('LIST', 'ID', String(id2))).split('\n')).toHaveLength(2);
    expect(await first.call('client', 'LIST', 'TYPE', 'replica')).toBe('');
    expect(await first.call('client', 'NO-EVICT', 'on')).toBe('OK');
    expect(field(String(await first.client('INFO')), 'flags')).toBe('e');

    // A name of visible ASCII only; an empty one removes it.
    await expect(first.client('SETNAME', 'a b')).rejects.toThrow(
      'ERR Client names cannot contain spaces, newlines or special characters.',
    );
    expect(await first.client('SETNAME', '')).toBe('OK');
    expect(await first.client('GETNAME')).toBeNull();

    // ioredis's `connectionName` names a connection from the start.
    const named = track(first.duplicate({ connectionName: 'named' }));
    expect(await named.client('GETNAME')).toBe('named');
    named.disconnect();
    // A connection that disconnects leaves the list; the keyspace's INFO counts the open ones.
    expect(await first.info('clients')).toMatch(/\r\nconnected_clients:2\r\n/);
    second.disconnect();
    expect(String(await first.client('LIST')).split('\n')).toHaveLength(2);
    expect(await first.info('clients')).toMatch(/\r\nconnected_clients:1\r\n/);
  });

  it("answers Redis's errors, and refuses what acts on other connections", async () => {
    const client = track(createEmbeddedClient(new Keyspace()));
    await expect(client.call('client', 'SETNAME')).rejects.toThrow(
      "ERR wrong number of arguments for 'client|setname' command",
    );
    await expect(client.call('client', 'nope')).rejects.toThrow(
      "ERR unknown subcommand 'nope'. Try CLIENT HELP.",
    );
    await expect(client.call('client', 'LIST', 'TYPE', 'nope')).rejects.toThrow(
      "ERR Unknown client type 'nope'",
    );
    await expect(client.client('LIST', 'ID', 'x')).rejects.toThrow('ERR Invalid client ID');
    await expect(client.client('KILL', 'ID', '1')).rejects.toThrow(
      'ERR CLIENT KILL is not supported by the embedded cache.',
    );
    const help = (await client.client('HELP')) as string[];
    expect(help[0]).toBe('CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(help.at(-1)).toBe('    Prints this help.');
    // In a pipeline and a transaction too.
    expect(await client.multi().client('SETNAME', 'm').client('GETNAME').exec()).toEqual([
      [null, 'OK'],
      [null, 'm'],
    ]);
  });
});

describe('SELECT on the embedded client', () => {
  it('selects database 0, the one it has, and refuses another as Redis refuses a database it lacks', async () => {
    const client = track(createEmbeddedClient(new Keyspace()));
    expect(await client.select(0)).toBe('OK');
    await expect(client.select(1)).rejects.toThrow('ERR DB index is out of range');
    await expect(client.call('select', 'x')).rejects.toThrow(
      'ERR value is not an integer or out of range',
    );
    expect(await client.multi().select(0).set('k', 'v').get('k').exec()).toEqual([
      [null, 'OK'],
      [null, 'OK'],
      [null, 'v'],
    ]);
    expect(await client.eval("return redis.call('select', 0)", 0)).toBe('OK');
  });
});

describe('the connection state of the embedded client', () => {
  it("is ioredis's status: 'ready' while connected, 'end' once disconnected, for duplicates too", async () => {
    const client = track(createEmbeddedClient(new Keyspace()));
    const copy = track(client.duplicate());
    // Libraries (BullMQ) wait for a 'ready' event unless the status says so; ioredis-mock emits it only once.
    await new Promise((resolve) => setTimeout(resolve, 5));
    expect([client.status, copy.status]).toEqual(['ready', 'ready']);
    copy.disconnect();
    expect([client.status, copy.status]).toEqual(['ready', 'end']);
    // A plain field in ioredis: BullMQ sets it after `quit()`; a value set stays until the connection opens or closes.
    (client as { status: string }).status = 'closing';
    expect(client.status).toBe('closing');
    await client.quit();
    expect(client.status).toBe('end');
  });

  it('names the Redis it answers like in INFO server, and the process that holds it', async () => {
    const client = track(createEmbeddedClient(new Keyspace()));
    const server = await client.info('server');
    expect(server).toMatch(/^# Server\r\nredis_version:7\.0\.15\r\n/);
    expect(server).toContain(`\r\nprocess_id:${process.pid}\r\n`);
    expect(server).toMatch(/\r\nrun_id:[0-9a-f]{40}\r\n/);
    // Redis 8's sections are not among the default ones of the 7.0 it answers like.
    expect(await client.info()).not.toMatch(/# Keysizes|# Threads/);
  });
});
