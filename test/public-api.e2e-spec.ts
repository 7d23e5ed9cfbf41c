import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '..');

/** Runs `script` in a fresh Node process at the repository root (the built package resolves itself by name). */
function node(script: string): { status: number | null; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['-e', script], { cwd: ROOT, encoding: 'utf8' });
  return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** Makes `require('@nestjs/config')` fail in the child, as in an app that does not install it. */
const WITHOUT_NESTJS_CONFIG = `
const Module = require('node:module');
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === '@nestjs/config' || request.startsWith('@nestjs/config/')) {
    throw Object.assign(new Error("Cannot find module '@nestjs/config'"), { code: 'MODULE_NOT_FOUND' });
  }
  return resolveFilename.call(this, request, ...rest);
};
`;

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
