import type { Redis } from 'ioredis';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CACHE, SnapshotService } from '../lib';
import { MAX_DATA_DIR_BYTES } from '../lib/store/path-limits';
import { DATA_DIR_IS_SYMLINK, DATA_DIR_PATH_TOO_LONG } from '../lib/store/store.messages';
import { bootWith, durable, removeTempDirs, restoredKeys, tempDir } from './support/harness';
import { canMount, mountTmpfs, unmountAll } from './support/tmpfs';

// A data directory whose path cannot be made or followed is refused at startup with the library's message: it names
// persistence.dataDir, the cause, and advice that fits that cause (not "create it yourself" for a loop of links).

const ROOT = resolve(__dirname, '..');
const CLI = join(ROOT, 'dist', 'lib', 'cli', 'index.js');

afterAll(() => {
  try {
    unmountAll();
  } finally {
    removeTempDirs();
  }
});

/** A path of exactly `bytes` bytes under a new temp dir, of names of at most 200 bytes. */
function pathOf(bytes: number): string {
  let path = tempDir();
  while (path.length < bytes) {
    const rest = bytes - path.length - 1;
    path = join(path, 'd'.repeat(Math.min(200, rest <= 200 ? rest : Math.min(200, rest - 2))));
  }
  expect(Buffer.byteLength(path)).toBe(bytes);
  return path;
}

/** The error booting a cache on `dataDir` fails with. */
async function bootError(dataDir: string): Promise<string> {
  try {
    const h = await bootWith(durable(dataDir));
    await h.app.close();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error(`booted on ${dataDir}`);
}

describe('a data directory path too long for the files the store makes in it', () => {
  it.each([
    ['4075 bytes, missing', 4075, false],
    ['4075 bytes, there already', 4075, true],
    ['one byte over the limit', MAX_DATA_DIR_BYTES + 1, true],
  ])(
    '%s: refused naming persistence.dataDir and the limit, nothing made',
    async (_, bytes, made) => {
      const dataDir = pathOf(bytes);
      if (made) mkdirSync(dataDir, { recursive: true, mode: 0o700 });
      const message = await bootError(dataDir);
      expect(message).toBe(DATA_DIR_PATH_TOO_LONG(dataDir, bytes));
      expect(message).toContain(`(persistence.dataDir) has a path of ${bytes} bytes`);
      expect(message).toContain(
        `Choose a persistence.dataDir of at most ${MAX_DATA_DIR_BYTES} bytes.`,
      );
      expect(message).not.toContain('name too long,');
      expect(existsSync(dataDir) ? readdirSync(dataDir) : 'missing').toEqual(made ? [] : 'missing');
    },
  );

  it('a path of the longest length allowed works: claimed, snapshotted, restored', async () => {
    const dataDir = pathOf(MAX_DATA_DIR_BYTES);
    const h = await bootWith(durable(dataDir));
    try {
      await h.app.get<Redis>(CACHE).set('k', 'v');
      await h.app.get(SnapshotService).snapshot();
    } finally {
      await h.app.close();
    }
    expect(await restoredKeys(dataDir)).toEqual(['k']);
  });
});

describe('a data directory that cannot be created: advice fitting the cause', () => {
  it('a loop of symbolic links in its path (ELOOP): says so, and not to create it', async () => {
    const dir = tempDir();
    symlinkSync(join(dir, 'b'), join(dir, 'a'));
    symlinkSync(join(dir, 'a'), join(dir, 'b'));
    const dataDir = join(dir, 'a', 'data');
    const message = await bootError(dataDir);
    expect(message).toBe(
      `Data directory ${dataDir} (persistence.dataDir) does not exist and cannot be created: its path goes ` +
        'through a loop of symbolic links (ELOOP). Fix or remove the link that points back into the path (`ls -l` ' +
        'on each part of it shows the links), or point persistence.dataDir at a path without it.',
    );
  });

  it('itself a link to itself: refused as a symbolic link, not as "a part of its path is a file"', async () => {
    const dataDir = join(tempDir(), 'data');
    symlinkSync(dataDir, dataDir);
    expect(await bootError(dataDir)).toBe(DATA_DIR_IS_SYMLINK(dataDir));
  });

  it('a name in its path longer than 255 bytes (ENAMETOOLONG): says to choose a shorter one', async () => {
    const dataDir = join(tempDir(), 'n'.repeat(300), 'data');
    expect(await bootError(dataDir)).toBe(
      `Data directory ${dataDir} (persistence.dataDir) does not exist and cannot be created: its path, or a name ` +
        'in it, is too long (ENAMETOOLONG). Choose a shorter persistence.dataDir: names of at most 255 bytes, and ' +
        `a path of at most ${MAX_DATA_DIR_BYTES} bytes.`,
    );
  });

  if (canMount()) {
    it('on a full file system (ENOSPC): says to free space, not to create it', async () => {
      const dataDir = join(mountTmpfs('size=64k,nr_inodes=1'), 'data');
      expect(await bootError(dataDir)).toBe(
        `Data directory ${dataDir} (persistence.dataDir) does not exist and cannot be created: the file system ` +
          'is full (ENOSPC). Free some space on that file system, or point persistence.dataDir at one with room.',
      );
    });
  } else {
    console.warn(
      'NOTICE: the full-disk data-directory test needs to mount a tmpfs (root): not run here.',
    );
  }
});

describe('the CLI on a data directory it cannot reach', () => {
  it.each([['inspect'], ['verify'], ['export', '--resp']])(
    '%s through a loop of symbolic links: one line naming ELOOP and the fix, exit 1',
    (command, ...options) => {
      const dir = tempDir();
      symlinkSync(join(dir, 'b'), join(dir, 'a'));
      symlinkSync(join(dir, 'a'), join(dir, 'b'));
      const dataDir = join(dir, 'a', 'data');
      const run = spawnSync(process.execPath, [CLI, command, dataDir, ...options], {
        encoding: 'utf8',
        timeout: 20_000,
      });
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(
        `Data directory ${dataDir} cannot be reached: its path goes through a loop of symbolic links (ELOOP). ` +
          'Fix or remove the link that points back into the path',
      );
      expect(run.stderr).not.toMatch(/^\s+at /m);
    },
  );
});
