/**
 * The messages of the module layer: options and environment, the Redis client of `redis` mode, the health
 * indicator. Each layer keeps its own: see `store/store.messages.ts`, `snapshots/snapshots.messages.ts` and the
 * error replies in `ioredis-mock/redis-replies.ts`. Tests assert against the same functions.
 */
import { describeValue } from './util/describe-value';
import { REDIS_URL_FORM } from './util/redis-url';

/** `owner`: whose option it is (the module's, or an integration's class). */
export const INVALID_OPTION = (
  option: string,
  accepted: string,
  got: unknown,
  owner = 'PersistentCacheModule',
): string =>
  `Invalid ${owner} option "${option}": expected ${accepted}, got ${describeValue(got)}.`;

/** As {@link INVALID_OPTION}, with what is wrong with the value (e.g. `its port 99999 is not from 1 to 65535`). */
export const INVALID_OPTION_BECAUSE = (
  option: string,
  accepted: string,
  got: unknown,
  problem: string,
): string => `${INVALID_OPTION(option, accepted, got).replace(/\.$/, '')}: ${problem}.`;

export const UNKNOWN_OPTION = (
  option: string,
  known: readonly string[],
  owner = 'PersistentCacheModule',
): string => `Unknown ${owner} option "${option}"; known options are: ${known.join(', ')}.`;

/** An integration (`owner`) was given something else than the cache's client: a factory that forgot `inject`. */
export const INTEGRATION_NEEDS_CLIENT = (owner: string, got: unknown): string =>
  `${owner} needs the cache's ioredis client, got ${describeValue(got)}: create it in a factory that injects it ` +
  '(inject: [CACHE], useFactory: (redis: Redis) => …), or give it app.get(CACHE).';

export const INVALID_ENV = (variable: string, accepted: string, got: string): string =>
  `Invalid environment variable ${variable}: expected ${accepted}, got ${describeValue(got)}.`;

/** As {@link INVALID_ENV}, with what is wrong with the value. */
export const INVALID_ENV_BECAUSE = (
  variable: string,
  accepted: string,
  got: string,
  problem: string,
): string => `${INVALID_ENV(variable, accepted, got).replace(/\.$/, '')}: ${problem}.`;

export const UNKNOWN_ENV = (variables: readonly string[], known: readonly string[]): string =>
  `Unknown environment variable${variables.length > 1 ? 's' : ''} ${variables.join(', ')}: ignored. ` +
  `nestjs-persistent-cache reads ${known.join(', ')}.`;

/** `where`: the variables that can each say where the Redis is, the URL's first. */
export const REDIS_URL_NEEDED = (modeVariable: string, where: readonly string[]): string =>
  `Invalid environment: ${modeVariable}=redis needs ${where[0]} (${REDIS_URL_FORM})` +
  `${where.length > 1 ? `, or ${where.slice(1).join(' or ')}` : ''}; none is set.`;

/** `entry`: the bad one of a comma-separated list, `position` its 1-based place in it. */
export const INVALID_ENV_ENTRY = (
  variable: string,
  accepted: string,
  entry: string,
  position: number,
  count: number,
): string =>
  `Invalid environment variable ${variable}: expected ${accepted}; entry ${position} of ${count} is ` +
  `${describeValue(entry)}.`;

export const ENV_ENTRIES_DISAGREE = (variable: string, what: string): string =>
  `Invalid environment variable ${variable}: its redis:// entries must all have the same ${what} (the client ` +
  'connects to every node of a cluster, found or listed, with one set of options).';

/** `both`: two variables that name different kinds of Redis. */
export const ENV_CONFLICT = (both: readonly [string, string], why: string): string =>
  `Invalid environment: ${both[0]} and ${both[1]} are both set, but ${why}: set only one of them.`;

export const ENV_NEEDS_REDIS_MODE = (
  variable: string,
  modeVariable: string,
  mode: string,
): string =>
  `Invalid environment: ${variable} is set, but ${modeVariable} is ${mode === '' ? 'not set (embedded mode)' : `"${mode}"`}: ` +
  `the cache uses that Redis only in redis mode. Set ${modeVariable}=redis, or unset ${variable}.`;

export const ENV_NEEDS_PARTNER = (variable: string, partner: string, why: string): string =>
  `Invalid environment: ${variable} is set without ${partner}: ${why}.`;

export const REDIS_MODE = (target: string): string =>
  `Redis mode: the cache is the Redis at ${target}; no snapshot store is opened and no snapshot job runs.`;

export const REDIS_CONNECTED = (target: string, again: boolean): string =>
  `${again ? 'Reconnected' : 'Connected'} to Redis at ${target}.`;

export const REDIS_UNREACHABLE = (target: string, reason: string): string =>
  `Cannot reach Redis at ${target}: ${reason}. ioredis keeps retrying; commands wait in its ` +
  'offline queue until it connects (or fail after redis.options.maxRetriesPerRequest retries).';

/** `answer`: the server's reply to `SELECT db`; `advice`: what to do, after it (see `selectAdvice`). */
export const REDIS_DB_REFUSED = (
  target: string,
  db: number,
  answer: string,
  advice: string,
): string =>
  `Redis at ${target} refused database ${db} (SELECT ${db} answered "${answer}"): the client is closed instead of ` +
  `going on in database 0, which nobody named; ${advice}.`;

export const TERMINUS_MISSING = (reason: string): string =>
  'PersistentCacheHealthIndicator needs the optional peer dependency @nestjs/terminus (^11): ' +
  `npm install @nestjs/terminus. (${reason})`;

/** `what`: the provider it looked for, and how to make it available. */
export const HEALTH_PROVIDER_MISSING = (what: string): string =>
  `PersistentCacheHealthIndicator cannot find ${what}.`;

export const HEALTH_LAST_SNAPSHOT_FAILED = (reason: string): string =>
  `The last snapshot failed: ${reason}`;

/** `which`: the first few keys, each with why. */
export const HEALTH_UNSTORABLE_KEYS = (count: number, which: string): string =>
  `The last snapshot left out ${count} key(s) whose values cannot be stored: ${which}`;

/** `hadSnapshot`: whether a snapshot succeeded since startup (the age is counted from startup otherwise). */
export const HEALTH_SNAPSHOT_TOO_OLD = (
  ageMs: number,
  hadSnapshot: boolean,
  maxIntervals: number,
  intervalMs: number,
): string =>
  `${hadSnapshot ? 'The last snapshot is' : 'No snapshot since startup'} ${ageMs} ms ` +
  `${hadSnapshot ? 'old' : 'ago'}: more than health.maxSnapshotAgeIntervals ` +
  `(${maxIntervals}) × persistence.snapshotInterval (${intervalMs} ms).`;

export const MEMORY_LIMIT = (
  limit: string,
  given: number | string,
  policy: string,
  heap: string,
): string =>
  `Memory limit of the embedded cache: ${limit}` +
  `${typeof given === 'string' ? ` (memory.maxBytes "${given}")` : ''}, policy ${policy}; V8 heap limit ${heap}`;

export const MEMORY_UNLIMITED =
  'The embedded cache has no memory limit (memory.maxBytes 0): it can grow until the V8 heap is exhausted';

export const HEALTH_CLOSED =
  'The cache has shut down (the app is closing): its clients take no more commands.';

export const HEALTH_OUT_OF_MEMORY = (used: number, max: number, policy: string): string =>
  `Writes are refused with OOM errors: the cache holds an estimated ${used} bytes, over its memory limit of ${max} ` +
  `bytes, and ${policy === 'noeviction' ? 'memory.policy is "noeviction"' : `the "${policy}" policy finds no key to evict`}`;

export const HEALTH_CLUSTER_SLOTS_UNREACHABLE = (ranges: string, nodes: string): string =>
  `Slots ${ranges} have no reachable primary (${nodes}): commands on their keys fail until it is back or a ` +
  'replica takes over.';

export const HEALTH_CLUSTER_STATE = (state: string): string =>
  `The cluster reports cluster_state:${state}: some slots are not served (run \`redis-cli --cluster check\`).`;

export const CACHE_NAME_ACCEPTED =
  'a string of 1 to 64 letters, digits, "-", "_" or "." (leave it out for the default cache)';

/** `name`: `null` for the default cache. */
export const describeCache = (name: string | null): string =>
  name === null ? 'the default cache' : `cache "${name}"`;

export const DUPLICATE_CACHE_NAME = (name: string): string =>
  `Two PersistentCacheModule caches are named "${name}" in this application: give each forRoot/forRootAsync a ` +
  'name of its own, or import the module once (isGlobal: true, or re-export it from one module).';

export const DUPLICATE_DEFAULT_CACHE =
  'PersistentCacheModule is set up twice in this application without a name: import PersistentCacheModule once ' +
  '(isGlobal: true, or re-export it from one module), or give each forRoot/forRootAsync a name of its own ' +
  '(`name`, injected with @InjectCache(name)).';

export const SHARED_DATA_DIR = (dataDir: string, a: string | null, b: string | null): string =>
  `${describeCache(a)} and ${describeCache(b)} both use the data directory ${dataDir}: a data directory holds ` +
  'one cache; give each cache its own persistence.dataDir.';

export const UNKNOWN_CACHE = (name: string, known: readonly (string | null)[]): string =>
  `No PersistentCacheModule cache is named "${name}"; the application has ${known.map(describeCache).join(', ')}.`;

export const KEYV_CLEAR_WITHOUT_NAMESPACE =
  'PersistentCacheKeyvStore.clear() needs a Keyv namespace (new Keyv({ store, namespace: "…" })): without one it ' +
  'would have to delete every key of the cache, which the application shares with other users.';

/** The process has nothing left to do, and the app holding a cache was never closed. */
export const APP_NOT_CLOSED = (dataDir: string): string =>
  `The application was not closed (its bootstrap failed, or app.close() was not called) and the process has ` +
  `nothing left to do: closing the cache in ${dataDir} as app.close() would (with its final snapshot, if it ` +
  'started), so that its data directory is given up.';

/** Another application of the process claims the data directory of a cache whose application never started. */
export const APP_ABANDONED = (dataDir: string): string =>
  `An application of this process whose bootstrap did not finish (it failed, so nobody can close it) still holds ` +
  `the cache in ${dataDir}: closing that cache as app.close() would (with its final snapshot, if its restore ` +
  'finished), so that the application starting now can claim the directory.';

/** The application's cache was closed during its bootstrap for another application of the process (see above). */
export const TAKEN_OVER_WHILE_STARTING = (dataDir: string): string =>
  `The cache in ${dataDir} was closed while this application was starting: another application of this process ` +
  'claimed the same persistence.dataDir before this one finished its bootstrap. Give each application its own ' +
  'persistence.dataDir, or close one before starting the other.';

/** Closing a cache whose app was never closed failed. */
export const CLOSE_FAILED = (reason: string): string =>
  `Could not close the cache whose application was not closed: ${reason}`;
