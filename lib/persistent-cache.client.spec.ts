import { Logger } from '@nestjs/common';
import { Cluster, Redis } from 'ioredis';
import {
  closeClient,
  createRedisClient,
  describeRedisTarget,
  lastConnectionError,
  openRedisClient,
} from './persistent-cache.client';
import type { ResolvedRedisOptions } from './persistent-cache.interfaces';

// createRedisClient logs what it connects to; not wanted in this output.
beforeAll(() => {
  Logger.overrideLogger(false);
});

function target(redis: Partial<ResolvedRedisOptions>): ResolvedRedisOptions {
  return { url: undefined, options: {}, cluster: undefined, ...redis };
}

describe('describeRedisTarget', () => {
  test.each<[string, Partial<ResolvedRedisOptions>, string]>([
    ['a URL', { url: 'redis://cache.internal:6380/3' }, 'redis://cache.internal:6380/3'],
    [
      'a URL with a password',
      { url: 'redis://app:pa55@cache.internal:6379' },
      'redis://app:***@cache.internal:6379',
    ],
    [
      'a TLS URL with only a password',
      { url: 'rediss://:pa55@h:6379/1' },
      'rediss://:***@h:6379/1',
    ],
    ['ioredis options', { options: { host: 'h', port: 7000, password: 'pa55' } }, 'redis://h:7000'],
    ['no host or port', { options: {} }, 'redis://127.0.0.1:6379'],
    [
      'a URL overridden by options',
      { url: 'redis://:pa55@h:6379/1', options: { port: 7001, db: 4 } },
      'redis://h:7001/4',
    ],
    ['TLS options', { options: { host: 'h', tls: {} } }, 'rediss://h:6379'],
    ['a unix socket', { options: { path: '/run/redis.sock' } }, 'unix:/run/redis.sock'],
    [
      'sentinels',
      { options: { sentinels: [{ host: 's1', port: 26379 }, { host: 's2' }], name: 'main' } },
      'sentinel master "main" via s1:26379, s2:26379',
    ],
    [
      'a cluster',
      {
        cluster: {
          nodes: [{ host: 'n1', port: 7000 }, 7001, 'redis://:pa55@n3:7002'],
          options: {},
        },
      },
      'cluster n1:7000, 127.0.0.1:7001, redis://:***@n3:7002',
    ],
  ])('%s', (_case, redis, expected) => {
    expect(describeRedisTarget(target(redis))).toBe(expected);
  });
});

describe('createRedisClient and closeClient (no server needed: the clients do not connect)', () => {
  test('a URL or options give a Redis; closing one that never connected ends it', async () => {
    const fromUrl = createRedisClient(
      target({ url: 'redis://127.0.0.1:1/2', options: { lazyConnect: true } }),
    );
    expect(fromUrl).toBeInstanceOf(Redis);
    expect((fromUrl as Redis).options).toMatchObject({ port: 1, db: 2, lazyConnect: true });
    expect(fromUrl.status).toBe('wait');
    await closeClient(fromUrl);
    expect(fromUrl.status).toBe('end');
    await closeClient(fromUrl); // idempotent

    const fromOptions = createRedisClient(
      target({ options: { host: '127.0.0.1', port: 1, lazyConnect: true } }),
    );
    expect(fromOptions).toBeInstanceOf(Redis);
    expect(lastConnectionError(fromOptions)).toBeUndefined();
    await closeClient(fromOptions);
    expect(fromOptions.status).toBe('end');
  });

  test('redis.options win over what the URL gives, as documented (ioredis lets the URL win)', async () => {
    const client = createRedisClient(
      target({
        url: 'rediss://app:p%40ss@cache.internal:6379/1',
        options: { port: 7001, db: 4, lazyConnect: true },
      }),
    ) as Redis;
    expect(client.options).toMatchObject({
      host: 'cache.internal',
      port: 7001,
      db: 4,
      username: 'app',
      password: 'p@ss',
      tls: {},
    });
    await closeClient(client);
    const fromUrl = createRedisClient(
      target({ url: 'redis://[::1]:6390/2', options: { lazyConnect: true } }),
    ) as Redis;
    expect(fromUrl.options).toMatchObject({ host: '::1', port: 6390, db: 2 });
    expect(fromUrl.options.tls).toBeUndefined();
    expect(fromUrl.options.password).toBeNull(); // ioredis's default
    await closeClient(fromUrl);
  });

  test('openRedisClient does not wait for a lazy client, and starts when the server cannot be reached', async () => {
    const lazy = await openRedisClient(
      target({ url: 'redis://127.0.0.1:1/2', options: { lazyConnect: true } }),
    );
    expect(lazy.status).toBe('wait');
    await closeClient(lazy);
    // Nothing listens on port 1: the first attempt fails at once, and ioredis goes on trying.
    const unreachable = await openRedisClient(
      // A short disconnectTimeout: ioredis arms that timer when a client whose socket has closed is disconnected.
      target({
        url: 'redis://127.0.0.1:1/2',
        options: { retryStrategy: () => 60_000, disconnectTimeout: 10 },
      }),
    );
    expect(['reconnecting', 'connecting']).toContain(unreachable.status);
    expect(lastConnectionError(unreachable)?.message).toContain('ECONNREFUSED');
    await closeClient(unreachable); // its retry is cancelled (see closeClient)
  });

  test('cluster options give a Cluster', async () => {
    const cluster = createRedisClient(
      target({
        cluster: { nodes: [{ host: '127.0.0.1', port: 1 }], options: { lazyConnect: true } },
      }),
    );
    expect(cluster).toBeInstanceOf(Cluster);
    await closeClient(cluster);
    expect(cluster.status).toBe('end');
  });

  test('lastConnectionError knows only clients it made', () => {
    expect(lastConnectionError({})).toBeUndefined();
  });
});
