/** Things to close when the run ends, whether it succeeds or not (last opened, first closed). */
export const cleanups: (() => Promise<void> | void)[] = [];

export async function runCleanups(): Promise<void> {
  while (cleanups.length > 0) {
    const cleanup = cleanups.pop();
    try {
      await cleanup?.();
    } catch (error) {
      console.error('cleanup failed:', error);
    }
  }
}

/**
 * Runs a benchmark's `main`, then the cleanups. On SIGINT or SIGTERM, runs the cleanups and exits with 130; the run
 * then fails on the connections they closed: nothing to report.
 */
export function runBench(main: () => Promise<void>): void {
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      console.error(`\n${signal}: cleaning up`);
      void runCleanups().finally(() => process.exit(130));
    });
  }
  main()
    .catch((error: unknown) => {
      if (interrupted) return;
      console.error(error instanceof Error ? (error.stack ?? error.message) : error);
      process.exitCode = 1;
    })
    .finally(async () => {
      if (!interrupted) await runCleanups();
    });
}
