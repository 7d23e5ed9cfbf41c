import { register } from 'prom-client';
import { METRICS } from '../../lib';

/**
 * The value of metric `name` in the default registry: of its series with `labels`, or its first series when none
 * are given. `undefined` when it has no such series (a labelled counter never incremented).
 */
export async function metricValue(
  name: string,
  labels: Record<string, string> = {},
): Promise<number | undefined> {
  const metric = await register.getSingleMetric(name)?.get();
  const match = metric?.values.find((v) =>
    Object.entries(labels).every(([k, l]) => v.labels[k] === l),
  );
  return match?.value;
}

/** The count of counter `name` (with `labels`): 0 before its first increment. */
export async function counterValue(
  name: string,
  labels: Record<string, string> = {},
): Promise<number> {
  return (await metricValue(name, labels)) ?? 0;
}

/** Restores that failed so far in this process (the cache counts one per snapshot it could not restore). */
export function restoreFailures(): Promise<number> {
  return counterValue(METRICS.restoreFailures);
}
