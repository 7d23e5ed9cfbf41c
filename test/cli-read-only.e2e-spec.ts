import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import type { InspectReport } from '../lib/cli/inspect';
import { STORE_FILE } from '../lib/store/data-dir';
import { OWNER_FILE } from '../lib/store/owner-lock';
import { VIEW_DIR_PREFIX } from '../lib/store/read-only-view';
import { SnapshotStore } from '../lib/store/snapshot-store';
import { READER_NOT_SHARED, STORE_OPENED_TO_READ } from '../lib/store/store.messages';
import { CLI, datasetSnapshot, runCli, runMain, type CliRun } from './support/cli';
import { bootWith, durable, removeTempDirs, tempDir } from './support/harness';
import { IS_ROOT, testUser } from './support/root';
import { entries } from './support/stores';
import { bindReadOnly, canMount, mountTmpfs, unmountAll } from './support/tmpfs';

/**
 * `inspect`, `verify` and `export` only read: they open the store read-only and create, change or move nothing in
 * the data directory (no lock file, no scratch copy, no claim), so they work on a directory their user may only
 * read and on a read-only mount, and answer there as they do on a writable copy.
 */

afterAll(() => {
  try {
    unmountAll();
  } finally {
    removeTempDirs();
  }
});

const LOCK = `${STORE_FILE}-lock`;

type User = { uid: number; gid: number } | undefined;

/** Every entry of `dir` (and `dir` itself, as `.`): name, size, mode, change and modification times, content hash. */
function listing(dir: string): string[] {
  return ['.', ...entries(dir)].map((name) => {
    const path = join(dir, name);
    const stat = lstatSync(path);
    const hash = stat.isFile()
      ? createHash('sha256').update(readFileSync(path)).digest('hex')
      : '-';
    return [
      name,
      stat.size,
      (stat.mode & 0o7777).toString(8),
      stat.mtimeMs,
      stat.ctimeMs,
      hash,
    ].join(' ');
  });
}

/** What the three commands answer on `dataDir` (run as `user`), with the directory written as `<dir>`. */
async function answers(dataDir: string, user?: User) {
  const out = join(tempDir(), 'export.resp');
  const inspected = await runCli(['inspect', dataDir, '--json'], { user });
  const verified = await runCli(['verify', dataDir], { user });
  const exported = await runCli(['export', dataDir, '--resp'], { user, stdoutFile: out });
  const plain = (run: CliRun) => ({
    code: run.code,
    signal: run.signal,
    stdout: run.stdout.split(dataDir).join('<dir>'),
    stderr: run.stderr.split(dataDir).join('<dir>'),
  });
  return {
    inspect: { ...plain(inspected), stdout: '', report: reportOf(inspected.stdout, dataDir) },
    verify: plain(verified),
    export: {
      ...plain(exported),
      resp: createHash('sha256').update(readFileSync(out)).digest('hex'),
    },
  };
}

function reportOf(json: string, dataDir: string): InspectReport | string {
  try {
    const report = JSON.parse(json) as InspectReport;
    expect(report.dataDir).toBe(dataDir);
    return { ...report, dataDir: '<dir>' };
  } catch {
    return json;
  }
}

/** A new directory under a parent others may enter, holding a copy of `files` of `from`. */
function copyInto(parent: string, from: string, files: readonly string[]): string {
  chmodSync(parent, 0o755);
  const dir = join(parent, 'backup');
  mkdirSync(dir, { mode: 0o700 });
  for (const name of files) copyFileSync(join(from, name), join(dir, name));
  return dir;
}

describe('inspect, verify and export open the store read-only and create nothing', () => {
  let source: string;
  let expected: Awaited<ReturnType<typeof answers>>;

  beforeAll(async () => {
    ({ dataDir: source } = await datasetSnapshot());
    expect(entries(source)).toEqual([STORE_FILE, LOCK]);
    // What they answer on a writable copy holding the app's lock file (opened in place, sharing it).
    const writable = copyInto(tempDir(), source, [STORE_FILE, LOCK]);
    const before = listing(writable).map((line) => line.split(' ').slice(0, 2).join(' '));
    expected = await answers(writable);
    expect(listing(writable).map((line) => line.split(' ').slice(0, 2).join(' '))).toEqual(before);
  });

  it('answer on a writable copy as expected', () => {
    expect(expected.inspect).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(expected.inspect.report).toMatchObject({ dataDir: '<dir>', live: 15, expired: 0 });
    expect(expected.verify).toMatchObject({ code: 0, signal: null, stderr: '' });
    expect(expected.verify.stdout).toMatch(
      /^OK <dir>: format \d+, 2 generation\(s\), .*15 live keys/,
    );
    expect(expected.export).toMatchObject({
      code: 0,
      signal: null,
      stderr: 'export: wrote the commands of 15 keys to stdout\n',
    });
  });

  it('leave no lock file in a writable directory that has none (a backup of the store file alone)', async () => {
    const dir = copyInto(tempDir(), source, [STORE_FILE]);
    const before = listing(dir);
    expect(await answers(dir)).toEqual(expected);
    // In this process too: the same report, and still nothing made.
    const inProcess = await runMain(['inspect', dir, '--json']);
    expect([inProcess.code, reportOf(inProcess.stdout, dir)]).toEqual([0, expected.inspect.report]);
    expect(listing(dir)).toEqual(before);
    expect(entries(dir)).toEqual([STORE_FILE]);
  });

  it("keep LMDB's lock file in a private temp directory while open, removed on close", async () => {
    const dir = copyInto(tempDir(), source, [STORE_FILE]);
    const views = () => entries(tmpdir()).filter((name) => name.startsWith(VIEW_DIR_PREFIX));
    expect(views()).toEqual([]);
    const store = new SnapshotStore(dir);
    try {
      await store.open({ claim: false });
      const [view, ...more] = views();
      expect(more).toEqual([]);
      expect(entries(join(tmpdir(), view))).toEqual([STORE_FILE, LOCK]);
      expect(readlinkSync(join(tmpdir(), view, STORE_FILE))).toBe(join(dir, STORE_FILE));
      expect(store.manifest()?.generations).toHaveLength(2);
      await expect(store.openForWriting()).rejects.toThrow(STORE_OPENED_TO_READ(dir));
      await expect(store.quarantine()).rejects.toThrow(STORE_OPENED_TO_READ(dir));
    } finally {
      await store.close();
    }
    expect(views()).toEqual([]);
    expect(entries(dir)).toEqual([STORE_FILE]);
  });

  /** Directories (with and without a lock file) `user` may read but not write: 0555, files 0444. */
  async function expectSameAnswersReadOnly(user: User): Promise<void> {
    const parent = tempDir();
    for (const files of [[STORE_FILE], [STORE_FILE, LOCK]]) {
      const dir = copyInto(parent, source, files);
      for (const name of files) chmodSync(join(dir, name), 0o444);
      chmodSync(dir, 0o555);
      try {
        const before = listing(dir);
        expect([files, await answers(dir, user)]).toEqual([files, expected]);
        expect(listing(dir)).toEqual(before);
      } finally {
        chmodSync(dir, 0o700); // removable again by a user who is not root
      }
      execFileSync('rm', ['-r', dir]);
    }
  }

  const user = IS_ROOT ? testUser() : undefined;
  if (IS_ROOT && user !== undefined) {
    it(`answer the same as ${user.name} in a directory it may only read (EACCES), which stays byte for byte as it was`, () =>
      expectSameAnswersReadOnly({ uid: user.uid, gid: user.gid }));
  } else if (!IS_ROOT) {
    it('answer the same in a directory this user may only read (EACCES), which stays byte for byte as it was', () =>
      expectSameAnswersReadOnly(undefined));
  } else {
    console.warn(
      'NOTICE: the read-only-directory (EACCES) case of inspect/verify/export needs a test user: not run here.',
    );
  }

  if (canMount()) {
    it('answer the same on a read-only mount (EROFS), even beside a stale claim, which stays as it was', async () => {
      const mount = mountTmpfs('size=16m');
      const dir = copyInto(mount, source, [STORE_FILE, LOCK]);
      // The claim a killed app left: its process no longer runs.
      const dead = spawnSync(process.execPath, ['-e', '0']).pid;
      writeFileSync(
        join(dir, OWNER_FILE),
        JSON.stringify({ pid: dead, host: hostname(), started: null }),
        { mode: 0o600 },
      );
      execFileSync('mount', ['-o', 'remount,ro', mount]);
      const before = listing(dir);
      expect(await answers(dir)).toEqual(expected);
      const inProcess = await runMain(['verify', dir]);
      expect([inProcess.code, inProcess.stdout.split(dir).join('<dir>')]).toEqual([
        0,
        expected.verify.stdout,
      ]);
      expect(listing(dir)).toEqual(before);
    });

    it('refuse a read-only view of the directory of an app that is writing it (its lock file cannot be shared)', async () => {
      const dataDir = tempDir();
      const app = await bootWith(durable(dataDir));
      try {
        await app.redis.set('k', 'v');
        await app.snapshots.snapshot();
        const view = bindReadOnly(dataDir);
        const run = await runCli(['verify', view]);
        expect(run.stderr).toBe(
          `persistent-cache: cannot open the snapshot store in ${view}: ` +
            `${READER_NOT_SHARED(view, `process ${process.pid} on ${hostname()}`, join(view, LOCK), 'EROFS')}\n`,
        );
        expect(run.code).toBe(1);
      } finally {
        await app.app.close();
      }
    });
  } else {
    console.warn(
      'NOTICE: the read-only-mount (EROFS) cases of inspect/verify/export need to mount a tmpfs (root): not run ' +
        'here; the read-only-directory case covers the same private lock file.',
    );
  }
});

describe('a read-only command killed while it reads (SIGKILL)', () => {
  const VIEW = /^persistent-cache-read-/;
  let dataDir: string;

  beforeAll(async () => {
    // Large enough that an export holds its view of the store open for a while.
    const written = tempDir();
    const h = await bootWith(durable(written));
    try {
      const value = 'v'.repeat(1024);
      await h.redis.mset(
        Object.fromEntries(Array.from({ length: 4000 }, (_, i) => [`k${i}`, value])),
      );
    } finally {
      await h.app.close();
    }
    // Without a lock file beside it, a command reads the store through a private view in the temp directory.
    dataDir = copyInto(tempDir(), written, [STORE_FILE]);
  });

  /** Runs an export with its views in `tmp`, and kills it with SIGKILL once its view is open; returns the view. */
  async function killedExport(tmp: string): Promise<string> {
    const child = spawn(process.execPath, [CLI, 'export', dataDir, '--resp'], {
      stdio: ['ignore', 'ignore', 'ignore'],
      env: { ...process.env, TMPDIR: tmp },
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      for (let waited = 0; waited < 15_000; waited += 5) {
        const view = entries(tmp).find((name) => VIEW.test(name));
        if (view !== undefined && entries(join(tmp, view)).includes(LOCK)) {
          child.kill('SIGKILL');
          return view;
        }
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      throw new Error('the export opened no view');
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  }

  it.each([['inspect'], ['verify'], ['export'], ['--version']])(
    "leaves its view behind; the next command (%s) removes it, and no live process's",
    async (command) => {
      const tmp = tempDir();
      const killed = await killedExport(tmp);
      expect(entries(tmp)).toEqual([killed]); // nothing ran to remove it
      expect(entries(join(tmp, killed))).toEqual([STORE_FILE, LOCK]);
      // Views of live processes: this one's, and one of another host's (a temp directory shared by containers),
      // which cannot be checked. A view named after this pid with another start time is a dead process's.
      const live = basename(mkdtempSync(join(tmp, VIEW_DIR_PREFIX)));
      const otherHost = basename(
        mkdtempSync(join(tmp, `persistent-cache-read-00000000-${process.pid}-1-`)),
      );
      const reused = VIEW_DIR_PREFIX.replace(
        /-(\d+)-$/,
        (_, started: string) => `-${Number(started) + 1}-`,
      );
      mkdtempSync(join(tmp, reused));

      const args =
        command === '--version'
          ? [command]
          : command === 'export'
            ? [command, dataDir, '--resp']
            : [command, dataDir];
      const next = spawnSync(process.execPath, [CLI, ...args], {
        encoding: 'utf8',
        env: { ...process.env, TMPDIR: tmp },
        stdio: ['ignore', 'ignore', 'pipe'],
        timeout: 30_000,
      });
      expect(next.status).toBe(0);
      expect(next.stderr).not.toMatch(/error|ENOENT|EACCES/i);
      // The dead processes' views are gone, the live ones' left; the command's own was removed on close.
      expect(entries(tmp).sort()).toEqual([live, otherHost].sort());
    },
  );
});
