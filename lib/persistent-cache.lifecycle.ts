/**
 * The owner of what a cache keeps running when its application is never closed. Nest runs the shutdown hooks only
 * from `app.close()` (or a signal, with `enableShutdownHooks()`), and a bootstrap that fails after the cache started
 * gives the caller no way to close it: `NestFactory.createApplicationContext` rejects without returning the context,
 * and a later `close()` of a context whose `init()` failed rejects at once. Without an owner, such a cache kept its
 * data directory claimed (the next start warned of a stale claim and lost writes) and its LMDB environment open.
 *
 * A cache is watched from the end of its startup to its shutdown:
 * - When the process has nothing left to do (`beforeExit`: a failed bootstrap whose error was caught, an app that
 *   never listened, a script that did not call `app.close()`), it is closed as `app.close()` closes it: the final
 *   snapshot (only of a cache whose startup restore succeeded), then its store, giving up the data directory. None of
 *   the cache's timers keep the process alive, so this always comes.
 * - When the process exits without that (`process.exit()`, an uncaught error), nothing asynchronous can run: its data
 *   directory is given up if nothing would be lost (no write since its last snapshot or restore); otherwise the claim
 *   is left, so that the next start says that writes were lost, which is then true.
 * - When another application of the process is about to claim its data directory while its own application never
 *   finished its bootstrap (an app that retries `NestFactory.create` after a failed start, say), it is closed first,
 *   as above: the new application takes over its data, final snapshot included, instead of finding the directory
 *   claimed by its own process for good.
 */

/** Why a cache whose application was never closed is closed (see {@link WatchedCache.close}). */
export type UnclosedReason = 'idle' | 'taken-over';

/** A running cache, as its owner sees it. */
export interface WatchedCache {
  /** Closes it as `app.close()` would, for `reason`. Never rejects. */
  close(reason: UnclosedReason): Promise<void>;
  /**
   * The data directory it claimed (persistence on), the Nest container of its application, and whether that
   * application finished its bootstrap.
   */
  readonly claim?: { readonly dataDir: string; readonly app: object; bootstrapped(): boolean };
  /** Run as the process exits, synchronously: gives up what can be given up without losing writes. */
  exit(): void;
}

const watched = new Set<WatchedCache>();
let listening = false;

function closeAll(): void {
  for (const cache of [...watched]) {
    watched.delete(cache);
    void cache.close('idle');
  }
}

function exitAll(): void {
  for (const cache of [...watched]) {
    watched.delete(cache);
    cache.exit();
  }
}

/** Watches `cache` until {@link unwatch}: from the end of its startup to its shutdown. */
export function watch(cache: WatchedCache): void {
  watched.add(cache);
  if (listening) return;
  listening = true;
  // One listener of each for every cache of the process: no MaxListenersExceededWarning with many apps.
  process.on('beforeExit', closeAll);
  process.on('exit', exitAll);
}

/**
 * Closes the cache of this process that holds `dataDir` for an application (other than `app`, the Nest container of
 * the one about to claim it) that never finished its bootstrap, as `app.close()` would, and resolves once it has
 * given the directory up; resolves at once if there is none. Such an application can no longer be closed by anyone:
 * its bootstrap failed, and `NestFactory` gave its caller no context to close.
 */
export async function closeAbandoned(dataDir: string, app: object): Promise<void> {
  for (const cache of [...watched]) {
    const claim = cache.claim;
    if (
      claim === undefined ||
      claim.dataDir !== dataDir ||
      claim.app === app ||
      claim.bootstrapped()
    ) {
      continue;
    }
    watched.delete(cache);
    await cache.close('taken-over');
  }
}

/** Stops watching `cache` (its app is shutting it down). */
export function unwatch(cache: WatchedCache): void {
  watched.delete(cache);
}
