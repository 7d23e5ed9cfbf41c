import { findRedisServer, startRedisServer, type RedisServer } from './redis-server';

/**
 * `describe(title, body)` around a real redis-server, started before the block's tests and stopped after them;
 * `body` reaches it through `server()`. When redis-server is not installed (and not required) a notice names
 * `suite` and the block is not registered (see {@link findRedisServer}).
 */
export function describeWithRedisServer(
  suite: string,
  title: string,
  body: (server: () => RedisServer) => void,
): void {
  const binary = findRedisServer(suite);
  if (binary === null) return;
  describe(title, () => {
    let started: RedisServer | undefined;
    beforeAll(async () => {
      started = await startRedisServer(binary);
    });
    afterAll(() => started?.stop());
    body(() => {
      if (started === undefined) throw new Error('redis-server is not running');
      return started;
    });
  });
}
