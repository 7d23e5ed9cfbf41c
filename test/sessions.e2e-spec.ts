import { Controller, Get, type INestApplication, Module, Req } from '@nestjs/common';
import { ScheduleModule } from '@nestjs/schedule';
import { Test } from '@nestjs/testing';
import RedisStore from 'connect-redis';
import type { Request } from 'express';
import session from 'express-session';
import type { Redis } from 'ioredis';
import { CACHE, PersistentCacheModule, type PersistentCacheModuleOptions } from '../lib';
import { trackApps } from './support/apps';
import { embeddedMode, redisMode, type CacheModeUnderTest } from './support/cache-modes';
import { removeTempDirs } from './support/harness';
import { getJson, listen } from './support/http';
import { describeWithRedisServer } from './support/redis-suite';

declare module 'express-session' {
  interface SessionData {
    visits: number;
  }
}

@Controller()
class VisitsController {
  @Get('visits')
  visit(@Req() req: Request) {
    req.session.visits = (req.session.visits ?? 0) + 1;
    return { visits: req.session.visits };
  }

  @Get('logout')
  async logout(@Req() req: Request) {
    await new Promise<void>((resolve, reject) =>
      req.session.destroy((error?: Error) => (error ? reject(error) : resolve())),
    );
    return { loggedOut: true };
  }
}

interface SessionApp {
  app: INestApplication;
  url: string;
  redis: Redis;
}

const apps = trackApps<SessionApp>();
afterAll(removeTempDirs);

/** An app whose express-session sessions live in the cache, through connect-redis. */
async function start(cache: PersistentCacheModuleOptions): Promise<SessionApp> {
  @Module({
    imports: [PersistentCacheModule.forRoot(cache)],
    controllers: [VisitsController],
  })
  class AppModule {}
  const moduleRef = await Test.createTestingModule({
    imports: [ScheduleModule.forRoot(), AppModule],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  const redis = app.get<Redis>(CACHE);
  app.use(
    session({
      store: new RedisStore({ client: redis, prefix: 'sess:' }),
      secret: 'test secret',
      resave: false,
      saveUninitialized: false,
      cookie: { maxAge: 3_600_000 },
    }),
  );
  await app.init();
  return apps.track({ app, url: await listen(app), redis });
}

/** The `name=value` part of a Set-Cookie header. */
function cookieOf(headers: Headers): string {
  const setCookie = headers.get('set-cookie') ?? '';
  return setCookie.split(';')[0];
}

/** The same test on the embedded cache and on a real Redis. */
function sessionTests(target: CacheModeUnderTest): void {
  it('keeps a session in the cache, with the cookie`s lifetime as TTL, across a restart', async () => {
    const options = target.fresh();
    const first = await start(options);
    const one = await getJson(`${first.url}/visits`);
    expect(one.body).toEqual({ visits: 1 });
    const cookie = cookieOf(one.headers);
    expect(cookie).toMatch(/^connect\.sid=s%3A/);
    expect((await getJson(`${first.url}/visits`, { cookie })).body).toEqual({ visits: 2 });

    const keys = await first.redis.keys('sess:*');
    expect(keys).toHaveLength(1);
    const stored = JSON.parse((await first.redis.get(keys[0])) ?? 'null') as { visits: number };
    expect(stored.visits).toBe(2);
    const ttl = await first.redis.ttl(keys[0]);
    expect(ttl).toBeGreaterThan(3_590);
    expect(ttl).toBeLessThanOrEqual(3_600);
    await apps.close(first); // embedded: the final snapshot

    // In redis mode the session is in the server, with its TTL, while no app runs.
    const outside = target.outside(options);
    if (outside !== undefined) {
      expect(await outside.keys('*')).toEqual(keys);
      const held = JSON.parse((await outside.get(keys[0])) ?? 'null') as { visits: number };
      expect(held.visits).toBe(2);
      expect(await outside.ttl(keys[0])).toBeGreaterThan(3_590);
    }

    const second = await start(options);
    expect((await getJson(`${second.url}/visits`, { cookie })).body).toEqual({ visits: 3 });
    expect(await second.redis.keys('sess:*')).toEqual(keys);
    // A request without the cookie starts a session of its own.
    expect((await getJson(`${second.url}/visits`)).body).toEqual({ visits: 1 });
    expect(await second.redis.keys('sess:*')).toHaveLength(2);
  });

  it('destroys a session: its key leaves the cache and the cookie no longer finds it', async () => {
    const h = await start(target.fresh());
    const one = await getJson(`${h.url}/visits`);
    const cookie = cookieOf(one.headers);
    expect((await getJson(`${h.url}/visits`, { cookie })).body).toEqual({ visits: 2 });
    await h.redis.set('other:key', 'kept');
    expect(await getJson(`${h.url}/logout`, { cookie })).toMatchObject({
      status: 200,
      body: { loggedOut: true },
    });
    expect(await h.redis.keys('sess:*')).toEqual([]);
    expect(await h.redis.get('other:key')).toBe('kept');
    expect((await getJson(`${h.url}/visits`, { cookie })).body).toEqual({ visits: 1 });
  });
}

describe('express-session with connect-redis on the embedded cache', () => {
  sessionTests(embeddedMode);
});

describeWithRedisServer(
  'express-session in redis mode (test/sessions.e2e-spec.ts)',
  'express-session with connect-redis in redis mode (real redis-server)',
  (server) => {
    sessionTests(redisMode(server));
  },
);
