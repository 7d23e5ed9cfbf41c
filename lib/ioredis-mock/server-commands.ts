/**
 * Commands the embedded client answers itself, from its keyspace, where ioredis-mock answers with fixed text (INFO),
 * refuses every setting (CONFIG), or has nothing (MEMORY): what a Redis user reads to see and bound memory.
 *
 * - `INFO [section ...]`: `server` (Redis 7.0.15, this process), `clients` (the open connections), `memory`, `stats`
 *   and `keyspace` from the keyspace's real figures; the other sections as ioredis-mock gives them.
 * - `CONFIG GET pattern ...` / `CONFIG SET name value ...` of `maxmemory`, `maxmemory-policy`, `maxmemory-samples` and
 *   `notify-keyspace-events` (the last for expired and evicted keys, see `notifications.ts`); other parameters are
 *   unknown, with Redis's error.
 * - `DBSIZE`: the keys that have not expired, counted without listing them; `RANDOMKEY`, drawn without listing
 *   them; `SCAN` (see `scan-command.ts`).
 * - `MEMORY USAGE key [SAMPLES n]`: the key's estimated bytes (see `keyspace/memory.ts`); `MEMORY HELP`.
 * - `OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key` and `OBJECT HELP` (see `object-command.ts`).
 */
import { MAXMEMORY_POLICIES, type Keyspace, type MaxMemoryPolicy } from '../keyspace/keyspace';
import { parseSize } from '../util/sizes';
import { type CommandRule, keyName, reply } from './command-rule';
import type { KeyspaceEvents } from './notifications';
import { objectRule } from './object-command';
import { keysRule, scanRule } from './scan-command';
import { connectionCount } from './client-command';
import {
  argText,
  NOT_AN_INTEGER,
  REDIS_VERSION,
  replyError,
  SYNTAX_ERROR,
  type Arg,
} from './redis-replies';
import { randomBytes } from 'node:crypto';
import { machine, release, type } from 'node:os';

// ioredis-mock's INFO text (a JSON string in its package).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const MOCK_INFO = require('ioredis-mock/data/info.json') as string;

/** The sections INFO answers with no argument (Redis's `default`), in Redis's order. */
const MOCK_SECTIONS = new Map<string, string>();
/** Sections Redis 8 added, which the Redis 7.0 the embedded client answers like has not. */
const REDIS_8_SECTIONS = new Set(['threads', 'keysizes']);
for (const section of MOCK_INFO.split('\r\n\r\n')) {
  const title = /^# (\w+)/.exec(section)?.[1]?.toLowerCase();
  if (title !== undefined && !REDIS_8_SECTIONS.has(title)) MOCK_SECTIONS.set(title, section.trim());
}

const EVICTION_BUDGET_MS = 1;

const lines = (title: string, fields: Record<string, string | number>): string =>
  [`# ${title}`, ...Object.entries(fields).map(([name, value]) => `${name}:${value}`)].join('\r\n');

/** A run id for the process: INFO's `run_id`, 40 hex digits that change when the process does. */
const RUN_ID = randomBytes(20).toString('hex');

/**
 * The Server section, for the Redis the embedded client answers like (ioredis-mock's names the server its text was
 * taken from: version 8.2.1, a port, a path), in the process that holds the cache.
 */
function serverSection(): string {
  const now = Date.now();
  const uptime = Math.floor(process.uptime());
  return lines('Server', {
    redis_version: REDIS_VERSION,
    redis_git_sha1: '00000000',
    redis_git_dirty: 0,
    redis_build_id: '0',
    redis_mode: 'standalone',
    os: `${type()} ${release()} ${machine()}`,
    arch_bits: 64,
    monotonic_clock: 'POSIX clock_gettime',
    multiplexing_api: 'epoll',
    atomicvar_api: 'c11-builtin',
    gcc_version: '0.0.0',
    process_id: process.pid,
    process_supervised: 'no',
    run_id: RUN_ID,
    tcp_port: 0,
    server_time_usec: now * 1000,
    uptime_in_seconds: uptime,
    uptime_in_days: Math.floor(uptime / 86400),
    hz: 10,
    configured_hz: 10,
    lru_clock: Math.floor(now / 1000) & 0xffffff,
    executable: process.execPath,
    config_file: '',
    io_threads_active: 0,
  });
}

/** The Clients section: ioredis-mock's, with the keyspace's open connections (see `client-command.ts`). */
function clientsSection(keyspace: Keyspace): string | undefined {
  return MOCK_SECTIONS.get('clients')?.replace(
    /^connected_clients:\d+$/m,
    `connected_clients:${connectionCount(keyspace)}`,
  );
}

function memorySection(keyspace: Keyspace): string {
  const used = keyspace.usedBytes;
  const { maxBytes, policy } = keyspace.memory;
  return lines('Memory', {
    used_memory: used,
    used_memory_human: human(used),
    used_memory_dataset: used,
    maxmemory: maxBytes,
    maxmemory_human: human(maxBytes),
    maxmemory_policy: policy,
    evicted_keys: keyspace.evictedKeys,
    expired_keys: keyspace.expiredKeys,
  });
}

function statsSection(keyspace: Keyspace): string {
  return lines('Stats', {
    expired_keys: keyspace.expiredKeys,
    evicted_keys: keyspace.evictedKeys,
    rejected_oom_commands: keyspace.oomRejections,
  });
}

function keyspaceSection(keyspace: Keyspace): string {
  const keys = keyspace.size;
  return keys === 0
    ? '# Keyspace'
    : lines('Keyspace', { db0: `keys=${keys},expires=${keyspace.volatileCount},avg_ttl=0` });
}

/** Bytes as Redis's `bytesToHuman` writes them: `1.50M`. */
function human(bytes: number): string {
  const units = ['B', 'K', 'M', 'G', 'T'];
  let value = bytes;
  let i = 0;
  while (value >= 1024 && i < units.length - 1) {
    value /= 1024;
    i++;
  }
  return i === 0 ? `${bytes}B` : `${value.toFixed(2)}${units[i]}`;
}

function info(keyspace: Keyspace, args: readonly Arg[]): string {
  const ours: Record<string, () => string | undefined> = {
    server: serverSection,
    clients: () => clientsSection(keyspace),
    memory: () => memorySection(keyspace),
    stats: () => statsSection(keyspace),
    keyspace: () => keyspaceSection(keyspace),
  };
  const asked = [...new Set(args.map((arg) => argText(arg).toLowerCase()))];
  const all =
    asked.length === 0 || asked.some((s) => s === 'all' || s === 'default' || s === 'everything');
  const names = all ? [...new Set([...MOCK_SECTIONS.keys(), ...Object.keys(ours)])] : asked;
  const sections: string[] = [];
  for (const name of names) {
    const section = Object.hasOwn(ours, name) ? ours[name]() : MOCK_SECTIONS.get(name);
    if (section !== undefined) sections.push(section);
  }
  return sections.length === 0 ? '' : `${sections.join('\r\n\r\n')}\r\n`;
}

/** Redis's glob for CONFIG GET patterns, for the few parameters known here. */
function globMatches(pattern: string, name: string): boolean {
  const regex = pattern
    .replace(/[.+^${}()|\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${regex}$`, 'i').test(name);
}

interface Parameter {
  get(): string;
  /** Sets the value; throws the reason it is refused. */
  set(value: string): void;
}

function parameters(keyspace: Keyspace, events: KeyspaceEvents): Record<string, Parameter> {
  const { memory } = keyspace;
  return {
    maxmemory: {
      get: () => String(memory.maxBytes),
      set: (value) => {
        const bytes = parseSize(value);
        if (bytes === undefined) throw new Error('argument must be a memory value');
        memory.maxBytes = bytes;
        keyspace.makeRoom(EVICTION_BUDGET_MS); // Redis starts evicting at once when the limit is lowered
      },
    },
    'maxmemory-policy': {
      get: () => memory.policy,
      set: (value) => {
        const policy = value.toLowerCase() as MaxMemoryPolicy;
        if (!MAXMEMORY_POLICIES.includes(policy))
          throw new Error(
            'argument(s) must be one of the following: ' + MAXMEMORY_POLICIES.join(', '),
          );
        keyspace.setPolicy(policy);
      },
    },
    'maxmemory-samples': {
      get: () => String(memory.samples),
      set: (value) => {
        const samples = /^\d+$/.test(value) ? Number(value) : NaN;
        if (!(samples >= 1 && samples <= 64))
          throw new Error('argument must be between 1 and 64 inclusive');
        memory.samples = samples;
      },
    },
    'notify-keyspace-events': {
      get: () => events.flags,
      set: (value) => events.configure(value),
    },
  };
}

function config(keyspace: Keyspace, events: KeyspaceEvents, args: readonly Arg[]): unknown {
  const sub = argText(args[0]).toLowerCase();
  const params = parameters(keyspace, events);
  if (sub === 'get' && args.length >= 2) {
    const out: string[] = [];
    for (const [name, param] of Object.entries(params)) {
      if (args.slice(1).some((p) => globMatches(argText(p), name))) out.push(name, param.get());
    }
    return out;
  }
  if (sub === 'set' && args.length >= 3 && args.length % 2 === 1) {
    // Redis checks every pair before it sets any.
    const pairs: [Parameter, string, string][] = [];
    for (let i = 1; i < args.length; i += 2) {
      const name = argText(args[i]).toLowerCase();
      const param = Object.hasOwn(params, name) ? params[name] : undefined;
      if (param === undefined) {
        throw replyError(
          `ERR Unknown option or number of arguments for CONFIG SET - '${argText(args[i])}'`,
        );
      }
      pairs.push([param, name, argText(args[i + 1])]);
    }
    const previous = pairs.map(([param]) => param.get());
    pairs.forEach(([param, name, value], i) => {
      try {
        param.set(value);
      } catch (error) {
        pairs.slice(0, i).forEach(([p], j) => p.set(previous[j]));
        const reason = error instanceof Error ? error.message : String(error);
        throw replyError(
          `ERR CONFIG SET failed (possibly related to argument '${name}') - ${reason}`,
        );
      }
    });
    return 'OK';
  }
  if (sub === 'resetstat' && args.length === 1) return 'OK';
  return undefined; // the rest as ioredis-mock answers it
}

function memoryCommand(keyspace: Keyspace, args: readonly Arg[]): unknown {
  const sub = argText(args[0]).toLowerCase();
  if (sub === 'usage' && (args.length === 2 || args.length === 4)) {
    if (args.length === 4) {
      if (argText(args[2]).toLowerCase() !== 'samples') throw replyError(SYNTAX_ERROR);
      if (!/^-?\d+$/.test(argText(args[3]))) throw replyError(NOT_AN_INTEGER);
    }
    return keyspace.memoryUsage(keyName(args[1])) ?? null;
  }
  if (sub === 'help' && args.length === 1) {
    return [
      'MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
      'USAGE <key> [SAMPLES <count>]',
      '    Return memory in bytes used by <key> and its value (an estimate, see the README).',
      'HELP',
      '    Print this help.',
    ];
  }
  throw replyError(
    `ERR unknown subcommand or wrong number of arguments for '${argText(args[0])}'. Try MEMORY HELP.`,
  );
}

/** The rules of the commands answered here, over `keyspace`. */
export function serverCommands(
  keyspace: Keyspace,
  events: KeyspaceEvents,
): Record<string, CommandRule> {
  return {
    info: { arity: -1, check: (args) => reply(info(keyspace, args)) },
    config: {
      arity: -2,
      check: (args) => {
        const answer = config(keyspace, events, args);
        return answer === undefined ? undefined : reply(answer);
      },
    },
    memory: { arity: -2, check: (args) => reply(memoryCommand(keyspace, args)) },
    // ioredis-mock counts the list of every key (building each restored key's entry): 0.8 s at 1M restored keys.
    dbsize: { arity: 1, check: () => reply(keyspace.liveCount) },
    scan: scanRule(keyspace),
    keys: keysRule(keyspace),
    // ioredis-mock picks from the list of every key, made for each call.
    randomkey: { arity: 1, check: () => reply(keyspace.randomKey() ?? null) },
    object: objectRule(keyspace),
  };
}
