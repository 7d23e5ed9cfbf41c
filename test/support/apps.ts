import type { INestApplication } from '@nestjs/common';

/** The apps a suite's tests open, closed after each test, whether it passed or not. */
export interface AppTracker<H extends { readonly app: INestApplication }> {
  /** Waits for `app` and keeps it to close after the test. */
  track(app: H | Promise<H>): Promise<H>;
  /** Closes `app` now (a test that checks what closing does), and forgets it. */
  close(app: H): Promise<void>;
}

/**
 * Registers an `afterEach` that closes every app {@link AppTracker.track} was given during the test: a failed
 * assertion does not leave an app running, holding its data directory, into the next test. Call it at the top of
 * a test file (or of a `describe`).
 */
export function trackApps<H extends { readonly app: INestApplication }>(): AppTracker<H> {
  const open: H[] = [];
  afterEach(async () => {
    for (const h of open.splice(0)) await h.app.close();
  });
  return {
    async track(app) {
      const h = await app;
      open.push(h);
      return h;
    },
    async close(h) {
      const at = open.indexOf(h);
      if (at >= 0) open.splice(at, 1);
      await h.app.close();
    },
  };
}
