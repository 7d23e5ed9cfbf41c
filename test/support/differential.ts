import type { Redis } from 'ioredis';
import { isDeepStrictEqual } from 'node:util';
import {
  CommandGenerator,
  FAMILIES,
  runStep,
  showStep,
  TimeIds,
  type Family,
  type Step,
} from './command-sequences';
import { prng } from './prng';

/** One reply the candidate gave otherwise than redis-server. */
export interface Divergence {
  readonly seed: number;
  readonly family: Family;
  readonly step: string;
  readonly redis: unknown;
  readonly candidate: unknown;
  /** The first divergence of its sequence: the later ones may follow from it. */
  readonly first: boolean;
}

export interface FamilyCount {
  replies: number;
  divergent: number;
}

export interface DifferentialReport {
  readonly counts: Record<Family, FamilyCount>;
  readonly divergences: Divergence[];
}

export interface DifferentialPlan {
  readonly seeds: readonly number[];
  readonly steps: number;
  /** Families to draw from (all by default). */
  readonly families?: readonly Family[];
  /** Commands never sent. */
  readonly exclude?: ReadonlySet<string>;
  /** Called before each step with its index; may restart the candidate (and return the new client). */
  readonly between?: (index: number, candidate: Redis) => Promise<Redis>;
}

/**
 * Sends the same seeded sequences to `redis` (a real redis-server) and to `candidate`, flushing both before each
 * sequence, and compares every reply. A divergence leaves the two keyspaces apart for the rest of its sequence, so
 * sequences are short and each starts from empty ones.
 */
export async function runDifferential(
  redis: Redis,
  candidate: Redis,
  plan: DifferentialPlan,
): Promise<DifferentialReport & { candidate: Redis }> {
  const counts = Object.fromEntries(
    FAMILIES.map((f) => [f, { replies: 0, divergent: 0 }]),
  ) as Record<Family, FamilyCount>;
  const divergences: Divergence[] = [];
  const families = plan.families ?? FAMILIES;
  let client = candidate;
  let index = 0;
  for (const seed of plan.seeds) {
    const random = prng(seed);
    const generator = new CommandGenerator(random, plan.exclude);
    await redis.flushall();
    await client.flushall();
    let first = true;
    const redisIds = new TimeIds();
    const candidateIds = new TimeIds();
    for (let i = 0; i < plan.steps; i++) {
      if (plan.between !== undefined) client = await plan.between(index++, client);
      const step: Step = generator.next(families[Math.floor(random() * families.length)]);
      const clocked = addsStreamEntries(step);
      if (clocked) await nextMillisecond();
      const expected = await runStep(redis, step, redisIds);
      if (clocked) await nextMillisecond();
      const got = await runStep(client, step, candidateIds);
      const count = counts[step.family];
      count.replies += step.commands.length;
      if (!isDeepStrictEqual(got, expected)) {
        count.divergent += 1;
        divergences.push({
          seed,
          family: step.family,
          step: showStep(step),
          redis: expected,
          candidate: got,
          first,
        });
        first = false;
      }
    }
  }
  return { counts, divergences, candidate: client };
}

/**
 * Whether a step may add stream entries (XADD, in a script too). `XADD *` takes its id from the clock: two of them on
 * two new streams within one millisecond give the same id, a millisecond apart two ids, on Redis and here alike.
 * Such a step starts in a millisecond of its own on each side (see {@link nextMillisecond}), so that whether two
 * steps' ids are equal never depends on how fast a side answered.
 */
function addsStreamEntries(step: Step): boolean {
  return step.commands.some((command) =>
    command.some((arg) => typeof arg === 'string' && arg.toLowerCase().includes('xadd')),
  );
}

/** Resolves once the clock has passed the millisecond it is in: every reply received so far came before. */
async function nextMillisecond(): Promise<void> {
  const now = Date.now();
  while (Date.now() <= now) await new Promise((resolve) => setImmediate(resolve));
}

/** `divergent of N replies (P%)` per family, and in all. */
export function formatCounts(counts: Record<Family, FamilyCount>): string[] {
  const line = (name: string, c: FamilyCount): string =>
    `${name.padEnd(13)} ${String(c.divergent).padStart(6)} divergent of ${String(c.replies).padStart(7)} replies ` +
    `(${c.replies === 0 ? '0.0' : ((100 * c.divergent) / c.replies).toFixed(1)}%)`;
  const total = Object.values(counts).reduce(
    (sum, c) => ({ replies: sum.replies + c.replies, divergent: sum.divergent + c.divergent }),
    { replies: 0, divergent: 0 },
  );
  return [
    ...FAMILIES.filter((f) => counts[f].replies > 0).map((f) => line(f, counts[f])),
    line('all', total),
  ];
}

/**
 * The first divergence of each sequence (the later ones may follow from it), grouped by command (the first word of
 * the step, and a script's text), with an example of each.
 */
export function divergenceKinds(divergences: readonly Divergence[]): string[] {
  const kinds = new Map<string, { n: number; example: Divergence }>();
  for (const d of divergences) {
    if (!d.first) continue;
    const words = d.step.split(' ');
    const kind = `${d.family}: ${words[0].startsWith('"eval') ? d.step.slice(0, 60) : words[0].replace(/"/g, '')}`;
    const seen = kinds.get(kind);
    if (seen === undefined) kinds.set(kind, { n: 1, example: d });
    else seen.n++;
  }
  return [...kinds.entries()]
    .sort((a, b) => b[1].n - a[1].n)
    .map(
      ([kind, { n, example }]) =>
        `${String(n).padStart(5)}  ${kind}\n       ${example.step}\n       redis: ${JSON.stringify(example.redis)}\n` +
        `       got:   ${JSON.stringify(example.candidate)}`,
    );
}
