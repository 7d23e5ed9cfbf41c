import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MANIFEST_KEY, type Tables } from '../lib/format/lmdb-layout';
import { FORMAT_VERSION } from '../lib/format/manifest';
import { STORE_FILE } from '../lib/store/data-dir';
import { QUARANTINE_DIR } from '../lib/store/data-dir';
import { digest } from './support/digest';
import { changeOnePercent, fill } from './support/datasets';
import { bootWith, durable, removeTempDirs, tempDir } from './support/harness';
import { restoreFailures } from './support/metrics';
import { prng } from './support/prng';
import { rewriteManifest, withTables } from './support/stores';

/**
 * Corruption fuzz, after Redis's corrupt-dump fuzzer: damage a real store in many ways and check that each damaged
 * store is either detected (the app starts empty, the store is moved to quarantine, the failure is counted) or
 * restores exactly one of the states that were committed — and that the process survives and serves afterwards.
 * FUZZ_TRIALS sets the number of stores (300 by default), FUZZ_SEED replays a run.
 */
const TRIALS = Number(process.env.FUZZ_TRIALS ?? 300);
const SEED = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));

/** Keys of the undamaged store. */
const BASE_KEYS = 4000;

afterAll(removeTempDirs);

type Corruption = (
  dir: string,
  file: string,
  base: Buffer,
  random: () => number,
) => void | Promise<void>;

const int = (random: () => number, n: number) => Math.floor(random() * n);

/** Writes the (undamaged) store file and opens its tables to damage what lies inside them. */
async function withLmdb(file: string, base: Buffer, edit: (tables: Tables) => Promise<void>) {
  writeFileSync(file, base);
  await withTables(file, false, edit);
}

const corruptions: Record<string, Corruption> = {
  'flip bytes': (_dir, file, base, random) => {
    const bytes = Buffer.from(base);
    for (let n = 1 + int(random, 16); n > 0; n--)
      bytes[int(random, bytes.length)] ^= 1 + int(random, 255);
    writeFileSync(file, bytes);
  },
  'flip bytes in the first pages': (_dir, file, base, random) => {
    const bytes = Buffer.from(base);
    for (let n = 1 + int(random, 4); n > 0; n--)
      bytes[int(random, 3 * 4096)] ^= 1 + int(random, 255);
    writeFileSync(file, bytes);
  },
  truncate: (_dir, file, base, random) => {
    writeFileSync(file, base.subarray(0, int(random, base.length)));
  },
  'zero length': (_dir, file) => {
    writeFileSync(file, Buffer.alloc(0));
  },
  garbage: (_dir, file, base, random) => {
    const bytes = Buffer.alloc(random() < 0.5 ? base.length : 1 + int(random, 20_000));
    for (let i = 0; i < bytes.length; i++) bytes[i] = int(random, 256);
    writeFileSync(file, bytes);
  },
  'zeroed range': (_dir, file, base, random) => {
    const bytes = Buffer.from(base);
    const start = int(random, bytes.length);
    bytes.fill(0, start, Math.min(bytes.length, start + 1 + int(random, 8192)));
    writeFileSync(file, bytes);
  },
  'newer format version': async (_dir, file, base, random) => {
    writeFileSync(file, base);
    await rewriteManifest(file, (manifest) => {
      manifest.format = FORMAT_VERSION + 1 + int(random, 5);
    });
  },
  'damaged manifest': async (_dir, file, base, random) => {
    await withLmdb(file, base, async ({ meta }) => {
      const raw = Buffer.from(meta.get(MANIFEST_KEY)!);
      raw[int(random, raw.length)] ^= 1 + int(random, 255);
      await meta.put(MANIFEST_KEY, raw);
    });
  },
  'damaged, missing or extra chunk': async (_dir, file, base, random) => {
    await withLmdb(file, base, async ({ chunks }) => {
      const all = [...chunks.getRange()];
      const victim = all[int(random, all.length)];
      const what = int(random, 3);
      if (what === 0) {
        const damaged = Buffer.from(victim.value);
        damaged[int(random, damaged.length)] ^= 1 + int(random, 255);
        await chunks.put(victim.key, damaged);
      } else if (what === 1) {
        await chunks.remove(victim.key);
      } else {
        await chunks.put([victim.key[0], victim.key[1] + 1000], victim.value);
      }
    });
  },
  'a valid LMDB file with foreign content': async (_dir, file, _base, random) => {
    // Our tables exist (empty), beside and inside them what another program wrote: its own table, or its records
    // in our chunk table, and a manifest key in the root table.
    await withTables(file, false, async ({ root }) => {
      const db = root.openDB<string, string>({ name: random() < 0.5 ? 'chunks' : 'sessions' });
      for (let i = 0; i < 50; i++) await db.put(`k${i}`, `v${int(random, 1e9)}`);
      await root.put(MANIFEST_KEY, 'not ours');
    });
  },
};

describe('corruption fuzz', () => {
  it(`detects or correctly restores ${TRIALS} damaged stores, and keeps serving (seed ${SEED})`, async () => {
    // A store with a chain of three snapshots of the mixed dataset: a full one and two increments, each of which
    // changes and deletes keys (hashes, then lists).
    const baseDir = tempDir();
    const committed = new Set<string>();
    const h = await bootWith(durable(baseDir, { snapshotOnShutdown: false }));
    await fill(h.redis, 'mixed', BASE_KEYS);
    for (let round = 0; round < 3; round++) {
      if (round > 0) await changeOnePercent(h.redis, 'mixed', BASE_KEYS, round);
      await h.snapshots.snapshot();
      committed.add((await digest(h.redis)).hash);
    }
    await h.app.close();
    const base = readFileSync(join(baseDir, STORE_FILE));

    const random = prng(SEED);
    const names = Object.keys(corruptions);
    const tally = new Map<string, { detected: number; restored: number }>();
    for (let trial = 0; trial < TRIALS; trial++) {
      const name = names[trial % names.length];
      const dataDir = tempDir('persistent-cache-fuzz-');
      await corruptions[name](dataDir, join(dataDir, STORE_FILE), base, random);
      const failuresBefore = await restoreFailures();

      const app = await bootWith(durable(dataDir, { onRestoreError: 'start-empty' }));
      try {
        const restored = await digest(app.redis);
        const detected = (await restoreFailures()) === failuresBefore + 1;
        const context = `trial ${trial} (${name}), seed ${SEED}`;
        if (process.env.FUZZ_KEEP !== undefined && !detected && !committed.has(restored.hash)) {
          const keep = join(process.env.FUZZ_KEEP, `trial-${trial}`);
          mkdirSync(keep, { recursive: true });
          writeFileSync(join(keep, 'restored.txt'), restored.dump.join('\n'));
          await corruptions[name](keep, join(keep, STORE_FILE), base, prng(0));
        }
        if (detected) {
          expect([context, restored.keys]).toEqual([context, 0]);
          expect([context, readdirSync(join(dataDir, QUARANTINE_DIR)).length]).toEqual([
            context,
            1,
          ]);
        } else {
          expect([context, committed.has(restored.hash)]).toEqual([context, true]);
          expect([context, existsSync(join(dataDir, QUARANTINE_DIR))]).toEqual([context, false]);
        }
        const counts = tally.get(name) ?? { detected: 0, restored: 0 };
        counts[detected ? 'detected' : 'restored']++;
        tally.set(name, counts);

        // The app serves, and its next snapshot commits.
        await app.redis.set('after', String(trial));
        expect(await app.redis.get('after')).toBe(String(trial));
        expect((await app.snapshots.snapshot()).keys).toBe(restored.keys + 1);
      } finally {
        await app.app.close();
      }
    }
    const rows = [...tally].map(([n, c]) => `${n}: ${c.detected} detected, ${c.restored} restored`);
    console.log(`Corruption fuzz, seed ${SEED}, ${TRIALS} stores:\n  ${rows.join('\n  ')}`);
    const detections = [...tally.values()].reduce((sum, c) => sum + c.detected, 0);
    expect(detections).toBeGreaterThan(TRIALS / 3);
    // These leave no committed state to restore: every one of them must be detected. (A directory where the file
    // should be is not damage to a file's content: test/store-files.e2e-spec.ts.)
    for (const name of [
      'zero length',
      'newer format version',
      'damaged manifest',
      'damaged, missing or extra chunk',
      'a valid LMDB file with foreign content',
    ]) {
      expect([name, tally.get(name)?.restored]).toEqual([name, 0]);
    }
  }, 900_000);
});
