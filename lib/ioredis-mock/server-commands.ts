/**
 * Commands the embedded client answers itself, from its keyspace, where ioredis-mock answers with fixed text (INFO),
 * refuses every setting (CONFIG), or has nothing (MEMORY): what a Redis user reads to see and bound memory.
 *
 * - `INFO [section ...]`: `server` (Redis 7.0.15, this process), `clients` (the open connections), `memory`, `stats`
 *   and `keyspace` from the keyspace's real figures, `persistence` from its snapshots (see `save-commands.ts`),
 *   `cpu` the process's, `replication`, `modules` and `errorstats` those of a Redis that has no replicas, modules or
 *   error counts; `cluster` as ioredis-mock gives it.
 * - `CONFIG GET pattern ...` / `CONFIG SET name value ...` of `maxmemory`, `maxmemory-policy`, `maxmemory-samples` and
 *   `notify-keyspace-events` (the last for expired and evicted keys, see `notifications.ts`); other parameters are
 *   unknown, with Redis's error. `CONFIG RESETSTAT` zeroes INFO's counters.
 * - `DBSIZE`: the keys that have not expired, counted without listing them; `RANDOMKEY`, drawn without listing
 *   them; `SCAN` (see `scan-command.ts`).
 * - `MEMORY USAGE key [SAMPLES n]`: the key's estimated bytes (see `keyspace/memory.ts`); `MEMORY STATS` from the
 *   keyspace's and the process's figures, `MEMORY DOCTOR`, `PURGE`, `MALLOC-STATS` and `HELP` as Redis 7.0 answers.
 * - `OBJECT ENCODING|REFCOUNT|IDLETIME|FREQ key` and `OBJECT HELP` (see `object-command.ts`).
 */
import { MAXMEMORY_POLICIES, type Keyspace, type MaxMemoryPolicy } from '../keyspace/keyspace';
import { messageOf } from '../util/errors';
import { UNITS } from '../util/sizes';
import { KEY_OVERHEAD, VOLATILE_OVERHEAD } from '../keyspace/memory';
import { type CommandRule, keyName, reply } from './command-rule';
import type { KeyspaceEvents } from './notifications';
import { objectRule } from './object-command';
import { persistenceFields, saveCommands } from './save-commands';
import { keysRule, scanRule } from './scan-command';
import { connectionCount } from './client-command';
import { checkSubcommand } from './subcommands';
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

/** Fields of ioredis-mock's Clients section that Redis 8 added. */
const REDIS_8_CLIENT_FIELDS = new Set([
  'pubsub_clients',
  'watching_clients',
  'total_watched_keys',
  'total_blocking_keys',
  'total_blocking_keys_on_nokey',
]);

/**
 * The Clients section: ioredis-mock's, with the keyspace's open connections (see `client-command.ts`), without the
 * fields Redis 8 added.
 */
function clientsSection(keyspace: Keyspace): string | undefined {
  return MOCK_SECTIONS.get('clients')
    ?.replace(/^connected_clients:\d+$/m, `connected_clients:${connectionCount(keyspace)}`)
    .split('\r\n')
    .filter((line) => !REDIS_8_CLIENT_FIELDS.has(line.slice(0, line.indexOf(':'))))
    .join('\r\n');
}

/** A replication id for the process (Redis draws one at start): INFO's `master_replid`. */
const REPLICATION_ID = randomBytes(20).toString('hex');

/** The Replication section of a primary without replicas, with the process's own replication id. */
function replicationSection(): string {
  return lines('Replication', {
    role: 'master',
    connected_slaves: 0,
    master_failover_state: 'no-failover',
    master_replid: REPLICATION_ID,
    master_replid2: '0'.repeat(40),
    master_repl_offset: 0,
    second_repl_offset: -1,
    repl_backlog_active: 0,
    repl_backlog_size: 1048576,
    repl_backlog_first_byte_offset: 0,
    repl_backlog_histlen: 0,
  });
}

/** The CPU section: the process's own CPU time, in seconds (ioredis-mock's are another server's figures). */
function cpuSection(): string {
  const { user, system } = process.cpuUsage();
  const seconds = (micros: number): string => (micros / 1e6).toFixed(6);
  return lines('CPU', {
    used_cpu_sys: seconds(system),
    used_cpu_user: seconds(user),
    used_cpu_sys_children: seconds(0),
    used_cpu_user_children: seconds(0),
    used_cpu_sys_main_thread: seconds(system),
    used_cpu_user_main_thread: seconds(user),
  });
}

/** The counters INFO shows: Redis's `stat_expiredkeys`, `stat_evictedkeys`, and the commands refused for memory. */
interface Stats {
  readonly expired: number;
  readonly evicted: number;
  readonly rejected: number;
}

const counted = (keyspace: Keyspace): Stats => ({
  expired: keyspace.expiredKeys,
  evicted: keyspace.evictedKeys,
  rejected: keyspace.oomRejections,
});

/**
 * The counters of a keyspace when CONFIG RESETSTAT last ran: INFO counts from there, as Redis's `resetServerStats`
 * zeroes its own. The keyspace's counters go on, for the metrics (a Prometheus counter never goes back).
 */
const statsReset = new WeakMap<Keyspace, Stats>();

function stats(keyspace: Keyspace): Stats {
  const now = counted(keyspace);
  const reset = statsReset.get(keyspace);
  return reset === undefined
    ? now
    : {
        expired: now.expired - reset.expired,
        evicted: now.evicted - reset.evicted,
        rejected: now.rejected - reset.rejected,
      };
}

function memorySection(keyspace: Keyspace): string {
  const used = keyspace.usedBytes;
  const { policy } = keyspace.memory;
  const { expired, evicted } = stats(keyspace);
  return lines('Memory', {
    used_memory: used,
    used_memory_human: human(used),
    used_memory_dataset: used,
    // Redis writes it as a signed `long long`: past 2^63 - 1 it reads negative.
    maxmemory: BigInt.asIntN(64, maxmemoryOf(keyspace)).toString(),
    maxmemory_human: human(maxmemoryOf(keyspace)),
    maxmemory_policy: policy,
    evicted_keys: evicted,
    expired_keys: expired,
  });
}

function statsSection(keyspace: Keyspace): string {
  const { expired, evicted, rejected } = stats(keyspace);
  return lines('Stats', {
    expired_keys: expired,
    evicted_keys: evicted,
    rejected_oom_commands: rejected,
  });
}

function keyspaceSection(keyspace: Keyspace): string {
  const keys = keyspace.size;
  return keys === 0
    ? '# Keyspace'
    : lines('Keyspace', {
        db0: `keys=${keys},expires=${keyspace.volatileCount},avg_ttl=${keyspace.averageTtl}`,
      });
}

/** Bytes as Redis 7.0's `bytesToHuman` writes them: `1.50M`, up to petabytes; from 1024P on, bytes again. */
function human(bytes: number | bigint): string {
  const units = ['B', 'K', 'M', 'G', 'T', 'P'];
  const exact = typeof bytes === 'bigint' ? bytes : BigInt(Math.trunc(bytes));
  let i = 0;
  while (i < units.length && exact >= 1024n ** BigInt(i + 1)) i++;
  if (i === 0 || i === units.length) return `${exact}B`;
  return `${(Number(exact) / 1024 ** i).toFixed(2)}${units[i]}`;
}

function info(keyspace: Keyspace, args: readonly Arg[]): string {
  const ours: Record<string, () => string | undefined> = {
    server: serverSection,
    clients: () => clientsSection(keyspace),
    memory: () => memorySection(keyspace),
    persistence: () => lines('Persistence', persistenceFields(keyspace)),
    stats: () => statsSection(keyspace),
    replication: replicationSection,
    cpu: cpuSection,
    // No modules are loaded (ioredis-mock's lists RediSearch, RedisJSON, … of the server its text was taken from,
    // which the embedded cache has none of), and no error counts are kept (ioredis-mock's are that server's).
    modules: () => '# Modules',
    errorstats: () => '# Errorstats',
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
  /** Refused by CONFIG SET whatever the value, as Redis's `IMMUTABLE_CONFIG` parameters are. */
  readonly immutable?: true;
  /** Sets the value; throws the reason it is refused (Redis's text). Nothing else happens until {@link apply}. */
  set(value: string): void;
  /** What follows a new value once every parameter of the command was set (Redis's `apply` functions). */
  apply?: () => void;
}

const ULLONG_MAX = 2n ** 64n - 1n;
const INT_MAX = 2 ** 31 - 1;

/** Redis's `memtoull`: digits and an optional unit, or `undefined`; a C `unsigned long long`, wrapping as C does. */
function memoryValue(text: string): bigint | undefined {
  const parsed = /^(\d*)(.*)$/s.exec(text);
  if (parsed === null || text.startsWith('-')) return undefined;
  const unit = UNITS[parsed[2].toLowerCase()];
  if (unit === undefined || parsed[1].length >= 128) return undefined;
  let value = BigInt(parsed[1] === '' ? '0' : parsed[1]);
  if (value > ULLONG_MAX) value = ULLONG_MAX; // strtoull's overflow, which memtoull does not check
  return (value * BigInt(unit)) & ULLONG_MAX;
}

/** Whether `text` is a C `long long` as Redis's `string2ll` reads one: no sign but `-`, no leading zero, no space. */
function isLongLong(text: string): boolean {
  if (!/^(?:0|-?[1-9]\d{0,18})$/.test(text)) return false;
  const value = BigInt(text);
  return value >= -(2n ** 63n) && value < 2n ** 63n;
}

/** A whole number as {@link isLongLong} reads it, or `undefined`. */
function integerValue(text: string): number | undefined {
  return isLongLong(text) ? Number(text) : undefined;
}

/**
 * `maxmemory` as CONFIG SET last gave it to a keyspace, for CONFIG GET: past 2^53 bytes a JS number does not hold it
 * exactly (Redis keeps any `unsigned long long`).
 */
const maxmemoryTexts = new WeakMap<Keyspace, { bytes: number; text: string }>();

/** A keyspace's `maxmemory`, exactly as CONFIG SET gave it when it did. */
function maxmemoryOf(keyspace: Keyspace): bigint {
  const { maxBytes } = keyspace.memory;
  const given = maxmemoryTexts.get(keyspace);
  return given?.bytes === maxBytes ? BigInt(given.text) : BigInt(maxBytes);
}

function parameters(keyspace: Keyspace, events: KeyspaceEvents): Record<string, Parameter> {
  const { memory } = keyspace;
  return {
    maxmemory: {
      get: () => maxmemoryOf(keyspace).toString(),
      set: (text) => {
        const value = memoryValue(text);
        if (value === undefined) throw new Error('argument must be a memory value');
        memory.maxBytes = Number(value);
        maxmemoryTexts.set(keyspace, { bytes: memory.maxBytes, text: value.toString() });
      },
      // Redis starts evicting at once when the limit is lowered.
      apply: () => keyspace.makeRoom(EVICTION_BUDGET_MS),
    },
    'maxmemory-policy': {
      get: () => memory.policy,
      set: (value) => {
        const policy = value.toLowerCase() as MaxMemoryPolicy;
        if (!MAXMEMORY_POLICIES.includes(policy))
          throw new Error(
            'argument(s) must be one of the following: ' + REDIS_POLICY_ORDER.join(', '),
          );
        keyspace.setPolicy(policy);
      },
    },
    'maxmemory-samples': {
      get: () => String(memory.samples),
      set: (text) => {
        const samples = integerValue(text);
        if (samples === undefined) throw new Error("argument couldn't be parsed into an integer");
        if (samples < 1 || samples > INT_MAX)
          throw new Error(`argument must be between 1 and ${INT_MAX} inclusive`);
        memory.samples = samples;
      },
    },
    'notify-keyspace-events': {
      get: () => events.flags,
      set: (value) => events.configure(value),
    },
    // One database (SELECT n, MOVE, SWAPDB and COPY … DB n of another are out of range), fixed as Redis's is.
    databases: {
      get: () => '1',
      immutable: true,
      set: () => {
        throw new Error("can't set immutable config");
      },
    },
  };
}

/** The policies in the order Redis lists them in its error (`maxmemory_policy_enum`). */
const REDIS_POLICY_ORDER: readonly MaxMemoryPolicy[] = [
  'volatile-lru',
  'volatile-lfu',
  'volatile-random',
  'volatile-ttl',
  'allkeys-lru',
  'allkeys-lfu',
  'allkeys-random',
  'noeviction',
];

function config(keyspace: Keyspace, events: KeyspaceEvents, args: readonly Arg[]): unknown {
  const sub = argText(args[0]).toLowerCase();
  const params = parameters(keyspace, events);
  if (sub === 'get' && args.length >= 2) return configGet(params, args.slice(1).map(argText));
  if (sub === 'set') return configSet(params, args.slice(1).map(argText));
  if (sub === 'resetstat' && args.length === 1) {
    statsReset.set(keyspace, counted(keyspace));
    return 'OK';
  }
  return undefined; // the rest as ioredis-mock answers it
}

/**
 * CONFIG GET as Redis 7.0's `configGetCommand`: a name without a glob character is looked up as it is (case aside)
 * and answered under the name as given; a pattern is matched against every parameter.
 */
function configGet(params: Record<string, Parameter>, patterns: readonly string[]): string[] {
  const found = new Map<string, Parameter>();
  const names = new Set<string>();
  for (const pattern of patterns) {
    if (!/[[*?]/.test(pattern)) {
      const name = pattern.toLowerCase();
      if (Object.hasOwn(params, name) && !names.has(name)) {
        names.add(name);
        found.set(pattern, params[name]);
      }
      continue;
    }
    for (const [name, param] of Object.entries(params)) {
      if (!names.has(name) && globMatches(pattern, name)) {
        names.add(name);
        found.set(name, param);
      }
    }
  }
  return [...found].flatMap(([name, param]) => [name, param.get()]);
}

/**
 * CONFIG SET as Redis 7.0's `configSetCommand`: every name known and given once, then every value set (the first
 * refused puts back those set before it), then what the new values start (eviction under a lower `maxmemory`), so
 * that a refused command changes nothing.
 */
function configSet(params: Record<string, Parameter>, args: readonly string[]): string {
  if (args.length < 2) throw replyError("ERR wrong number of arguments for 'config|set' command");
  if (args.length % 2 === 1) throw replyError(SYNTAX_ERROR);
  const pairs: [Parameter, string, string][] = [];
  // The first name refused (as given) and why: later names are then only checked to be known, as Redis does.
  let invalid: { readonly name: string; readonly reason: string } | undefined;
  for (let i = 0; i < args.length; i += 2) {
    const name = args[i].toLowerCase();
    const param = Object.hasOwn(params, name) ? params[name] : undefined;
    if (param === undefined) {
      if (invalid === undefined) {
        throw replyError(`ERR Unknown option or number of arguments for CONFIG SET - '${args[i]}'`);
      }
      continue;
    }
    if (invalid === undefined && param.immutable === true) {
      invalid = { name: args[i], reason: "can't set immutable config" };
    } else if (invalid === undefined && pairs.some(([p]) => p === param)) {
      invalid = { name: args[i], reason: 'duplicate parameter' };
    }
    pairs.push([param, name, args[i + 1]]);
  }
  if (invalid !== undefined) {
    throw replyError(
      `ERR CONFIG SET failed (possibly related to argument '${invalid.name}') - ${invalid.reason}`,
    );
  }
  const previous = pairs.map(([param]) => param.get());
  pairs.forEach(([param, name, value], i) => {
    try {
      param.set(value);
    } catch (error) {
      pairs.slice(0, i + 1).forEach(([p], j) => p.set(previous[j]));
      throw replyError(
        `ERR CONFIG SET failed (possibly related to argument '${name}') - ${messageOf(error)}`,
      );
    }
  });
  for (const apply of new Set(pairs.map(([param]) => param.apply))) apply?.();
  return 'OK';
}

/** MEMORY USAGE and MEMORY HELP, with Redis 7.0's arguments and errors (`memoryCommand`, `processCommand`). */
function memoryCommand(keyspace: Keyspace, args: readonly Arg[]): unknown {
  const sub = argText(args[0]).toLowerCase();
  if (sub === 'usage') {
    if (args.length < 2)
      throw replyError("ERR wrong number of arguments for 'memory|usage' command");
    for (let j = 2; j < args.length; j++) {
      if (argText(args[j]).toLowerCase() !== 'samples' || j + 1 >= args.length)
        throw replyError(SYNTAX_ERROR);
      const samples = argText(args[++j]);
      if (!isLongLong(samples)) throw replyError(NOT_AN_INTEGER);
      if (samples.startsWith('-')) throw replyError(SYNTAX_ERROR);
    }
    return keyspace.memoryUsage(keyName(args[1])) ?? null;
  }
  const answer = MEMORY_SUBCOMMANDS[sub];
  if (answer === undefined) {
    throw replyError(
      `ERR unknown subcommand '${argText(args[0]).slice(0, 128)}'. Try MEMORY HELP.`,
    );
  }
  if (args.length !== 1)
    throw replyError(`ERR wrong number of arguments for 'memory|${sub}' command`);
  return answer(keyspace);
}

/** MEMORY's subcommands without arguments, with Redis 7.0's replies (`memoryCommand`), from the keyspace's figures. */
const MEMORY_SUBCOMMANDS: Readonly<Record<string, (keyspace: Keyspace) => unknown>> = {
  help: () => [
    'MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:',
    'DOCTOR',
    '    Return memory problems reports.',
    'MALLOC-STATS',
    '    Return internal statistics report from the memory allocator.',
    'PURGE',
    '    Attempt to purge dirty pages for reclamation by the allocator.',
    'STATS',
    '    Return information about the memory usage of the server.',
    'USAGE <key> [SAMPLES <count>]',
    '    Return memory in bytes used by <key> and its value. Nested values are',
    '    sampled up to <count> times (default: 5, 0 means sample all).',
    'HELP',
    '    Prints this help.',
  ],
  stats: memoryStats,
  // Redis's report for an instance using under 5 MB, and for one where it finds nothing; the other findings read
  // allocator figures (fragmentation, peaks) a JS heap does not have.
  doctor: (keyspace) =>
    keyspace.usedBytes < DOCTOR_EMPTY_BYTES
      ? "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in " +
        'these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I ' +
        'will be back to our programming as soon as I finished rebooting.\n'
      : "Hi Sam, I can't find any memory issue in your instance. I can only account for what occurs on this base.\n",
  // Nothing to give back: V8 returns freed pages itself. What Redis answers built without jemalloc.
  purge: () => 'OK',
  'malloc-stats': () => 'Stats not supported for the current allocator',
};

/** Below this `used_memory`, MEMORY DOCTOR calls an instance empty (`getMemoryDoctorReport`). */
const DOCTOR_EMPTY_BYTES = 5 * 1024 * 1024;

/** A double as Redis's `addReplyDouble` writes it (`%.17g`). */
function replyDouble(x: number): string {
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'nan' : x > 0 ? 'inf' : '-inf';
  if (x === 0) return '0';
  const exponent = Math.floor(Math.log10(Math.abs(x)));
  if (exponent < -4 || exponent >= 17) {
    const [mantissa, power] = x.toExponential(16).split('e');
    const digits = power.replace(/^([+-])(\d)$/, '$10$2');
    return `${mantissa.replace(/\.?0+$/, '')}e${digits}`;
  }
  const text = x.toPrecision(17);
  return text.includes('.') ? text.replace(/\.?0+$/, '') : text;
}

/**
 * MEMORY STATS in Redis 7.0's order (`getMemoryOverheadData`): the keys' estimated bytes stand for what Redis
 * allocated (`used_memory`), their per-key overhead for its tables', the process's V8 heap and resident set for the
 * allocator's figures. Redis computes the percentages and ratios in single precision: so are they here.
 */
function memoryStats(keyspace: Keyspace): unknown[] {
  const total = keyspace.usedBytes;
  const keys = keyspace.size;
  const main = keys * KEY_OVERHEAD;
  const expires = keyspace.volatileCount * VOLATILE_OVERHEAD;
  const overhead = main + expires;
  const net = Math.max(total, 1);
  const dataset = Math.max(total - overhead, 0);
  const { heapUsed, heapTotal, rss } = process.memoryUsage();
  const ratio = (a: number, b: number): string => replyDouble(Math.fround(a / Math.max(b, 1)));
  return [
    'peak.allocated',
    total,
    'total.allocated',
    total,
    'startup.allocated',
    0,
    'replication.backlog',
    0,
    'clients.slaves',
    0,
    'clients.normal',
    0,
    'cluster.links',
    0,
    'aof.buffer',
    0,
    'lua.caches',
    0,
    'functions.caches',
    0,
    ...(keys === 0
      ? []
      : [
          'db.0',
          [
            'overhead.hashtable.main',
            main,
            'overhead.hashtable.expires',
            expires,
            'overhead.hashtable.slot-to-keys',
            0,
          ],
        ]),
    'overhead.total',
    overhead,
    'keys.count',
    keys,
    'keys.bytes-per-key',
    keys === 0 ? 0 : Math.floor(net / keys),
    'dataset.bytes',
    dataset,
    'dataset.percentage',
    replyDouble(Math.fround((Math.fround(dataset) * 100) / net)),
    'peak.percentage',
    replyDouble(total === 0 ? 100 : Math.fround((Math.fround(total) * 100) / total)),
    'allocator.allocated',
    heapUsed,
    'allocator.active',
    heapTotal,
    'allocator.resident',
    rss,
    'allocator-fragmentation.ratio',
    ratio(heapTotal, heapUsed),
    'allocator-fragmentation.bytes',
    heapTotal - heapUsed,
    'allocator-rss.ratio',
    ratio(rss, heapTotal),
    'allocator-rss.bytes',
    rss - heapTotal,
    'rss-overhead.ratio',
    '1',
    'rss-overhead.bytes',
    0,
    'fragmentation',
    ratio(rss, total),
    'fragmentation.bytes',
    rss - total,
  ];
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
      // An unknown subcommand is named as given (ioredis-mock's answer had it in lower case).
      parse: (args) => checkSubcommand('config', args),
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
    ...saveCommands(keyspace),
  };
}
