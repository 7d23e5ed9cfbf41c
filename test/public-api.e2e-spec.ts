import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

/** Runs `script` in a fresh Node process at the repository root (the built package resolves itself by name). */
function node(script: string): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Makes `require(name)` fail in the child for each of `names`, as in an app that does not install them. */
function without(...names: string[]): string {
  return `
const Module = require('node:module');
const resolveFilename = Module._resolveFilename;
const missing = ${JSON.stringify(names)};
Module._resolveFilename = function (request, ...rest) {
  const name = missing.find((m) => request === m || request.startsWith(m + '/'));
  if (name !== undefined) {
    throw Object.assign(new Error("Cannot find module '" + name + "'"), { code: 'MODULE_NOT_FOUND' });
  }
  return resolveFilename.call(this, request, ...rest);
};
`;
}
const WITHOUT_NESTJS_CONFIG = without('@nestjs/config');
/** The optional peers of the integrations: the main entry point needs none of them. */
const WITHOUT_INTEGRATIONS = without(
  '@nestjs/config',
  '@nestjs/terminus',
  'keyv',
  'cache-manager',
  '@nestjs/cache-manager',
  '@nestjs/throttler',
  'express-session',
  'connect-redis',
);

describe('the built package', () => {
  it('exports what users use and meet, and no internals', () => {
    const run = node(
      `console.log(JSON.stringify(Object.keys(require('nestjs-persistent-cache')).sort()))`,
    );
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual([
      'CACHE',
      'DEFAULTS',
      'InjectCache',
      'InjectSnapshotService',
      'METRICS',
      'PersistentCacheHealthIndicator',
      'PersistentCacheModule',
      'SNAPSHOT_INTERVAL_NAME',
      'SnapshotService',
      'StoreEnvironmentError',
      'UnreadableSnapshotError',
      'getCacheToken',
      'getSnapshotIntervalName',
      'getSnapshotServiceToken',
    ]);
  });

  it('loads its main entry point without @nestjs/config, which only the /config subpath needs', () => {
    const main = node(
      `${WITHOUT_NESTJS_CONFIG} const m = require('nestjs-persistent-cache'); console.log(typeof m.PersistentCacheModule);`,
    );
    expect(main).toMatchObject({ status: 0, stdout: 'function\n' });
    const config = node(`${WITHOUT_NESTJS_CONFIG} require('nestjs-persistent-cache/config');`);
    expect(config.status).not.toBe(0);
    expect(config.stderr).toContain("Cannot find module '@nestjs/config'");
  });

  it('loads its main entry point and creates a cache without any integration installed', () => {
    const main = node(`${WITHOUT_INTEGRATIONS}
      const { PersistentCacheModule } = require('nestjs-persistent-cache');
      const m = PersistentCacheModule.forRoot({ name: 'sessions', persistence: { enabled: false } });
      console.log(typeof m.module);`);
    expect(main).toMatchObject({ status: 0, stdout: 'function\n' });
  });

  it('offers the Keyv store at nestjs-persistent-cache/keyv, which needs nothing of keyv at runtime', () => {
    const run = node(`${without('keyv')}
      const { PersistentCacheKeyvStore } = require('nestjs-persistent-cache/keyv');
      const client = { get() {}, multi() {} };
      const store = new PersistentCacheKeyvStore(client, { defaultTtl: '10m' });
      console.log(JSON.stringify(store.opts));`);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ defaultTtlMs: 600_000, dialect: 'redis' });
  });

  it('offers the throttler storage at nestjs-persistent-cache/throttler, which needs @nestjs/throttler for types only', () => {
    const run = node(`${without('@nestjs/throttler')}
      const { PersistentCacheThrottlerStorage } = require('nestjs-persistent-cache/throttler');
      console.log(typeof new PersistentCacheThrottlerStorage({ get() {}, multi() {} }).increment);`);
    expect(run).toMatchObject({ status: 0, stdout: 'function\n' });
  });

  it('offers the configuration helpers at nestjs-persistent-cache/config', () => {
    const run = node(`
      const { persistentCacheConfig, optionsFromEnv, PERSISTENT_CACHE_ENV } = require('nestjs-persistent-cache/config');
      const options = optionsFromEnv({ [PERSISTENT_CACHE_ENV.snapshotInterval]: '5s' });
      console.log(JSON.stringify([persistentCacheConfig.KEY, options.persistence.snapshotInterval]));
    `);
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual(['CONFIGURATION(persistentCache)', 5000]);
  });
});
