import { Logger } from '@nestjs/common';
import { spawn, spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import {
  CLAIM_FILE_NOT_A_FILE,
  DATA_DIR_CLAIM_STUCK,
  DATA_DIR_IN_USE,
  OWNED_IN_THIS_PROCESS,
} from './store.messages';
import { claimDataDir, OWNER_FILE, renewClaim } from './owner-lock';
import { takeoverMarker } from './owner-take';

const dirs: string[] = [];
const releases: (() => void)[] = [];
/** A pid whose process has exited; claims naming it record a start time no process has, should it be reused. */
const deadPid = Number(
  spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']).stdout,
);

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'owner-lock-'));
  dirs.push(dir);
  return dir;
}

function claim(dir: string): void {
  releases.push(claimDataDir(dir));
}

function ownerOf(dir: string): unknown {
  return JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8'));
}

function writeOwner(dir: string, content: unknown, name = OWNER_FILE): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

const dead = (): object => ({ pid: deadPid, host: hostname(), started: '1' });
const inodeOf = (path: string): bigint => lstatSync(path, { bigint: true }).ino;

beforeAll(() => {
  expect(deadPid).toBeGreaterThan(0);
  Logger.overrideLogger(false);
});

afterEach(() => {
  for (const release of releases.splice(0)) release();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('claimDataDir', () => {
  it('writes a claim naming this process, and removes it when given up', () => {
    const dir = dataDir();
    const release = claimDataDir(dir);
    expect(ownerOf(dir)).toMatchObject({ pid: process.pid, host: hostname() });
    expect(readdirSync(dir)).toEqual([OWNER_FILE]);
    release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('leaves a claim that is no longer its own when given up', () => {
    const dir = dataDir();
    const release = claimDataDir(dir);
    rmSync(join(dir, OWNER_FILE));
    writeOwner(dir, dead());
    release();
    expect(ownerOf(dir)).toEqual(dead());
  });

  it('refuses a directory claimed by a live process, naming it, and leaves its claim alone', () => {
    const dir = dataDir();
    const live = { pid: process.ppid, host: hostname(), started: null };
    writeOwner(dir, live);
    expect(() => claim(dir)).toThrow(
      DATA_DIR_IN_USE(dir, `process ${process.ppid} on ${hostname()}`),
    );
    expect(ownerOf(dir)).toEqual(live);
    expect(readdirSync(dir)).toEqual([OWNER_FILE]);
  });

  it('refuses a claim from another host, which it cannot check', () => {
    const dir = dataDir();
    writeOwner(dir, { pid: deadPid, host: `not-${hostname()}`, started: null });
    expect(() => claim(dir)).toThrow(
      DATA_DIR_IN_USE(dir, `process ${deadPid} on not-${hostname()}`),
    );
  });

  it('refuses a second claim from this process', () => {
    const dir = dataDir();
    claim(dir);
    expect(() => claim(dir)).toThrow(DATA_DIR_IN_USE(dir, OWNED_IN_THIS_PROCESS(process.pid)));
  });

  it('takes over the claim of a process that no longer runs, and says so', () => {
    const dir = dataDir();
    writeOwner(dir, dead());
    const log = jest.spyOn(Logger.prototype, 'warn');
    try {
      claim(dir);
      expect(log).toHaveBeenCalledWith(
        expect.stringMatching(
          new RegExp(
            `^Took over ${dir} from process ${deadPid} on ${hostname()}, which no longer runs and did not release ` +
              'it: it stopped without running its shutdown hooks .* its writes since its last snapshot are lost\\.$',
          ),
        ),
      );
    } finally {
      log.mockRestore();
    }
    expect(ownerOf(dir)).toMatchObject({ pid: process.pid });
    expect(readdirSync(dir)).toEqual([OWNER_FILE]);
  });

  it.each([
    ['pid 0 (the process group)', { pid: 0, host: hostname() }],
    ['pid -1 (every process)', { pid: -1, host: hostname() }],
    ['a pid that is not an integer', { pid: 1.5, host: hostname() }],
    ['a pid as a string', { pid: String(process.ppid), host: hostname() }],
    ['no host', { pid: process.ppid }],
    ['an empty host', { pid: process.ppid, host: '' }],
    ['a start time that is not a string', { pid: process.ppid, host: hostname(), started: 7 }],
    ['no object', [process.ppid, hostname()]],
    ['an empty file', ''],
    ['a half-written file', '{"pid":'],
  ])('takes over a claim naming no process: %s', (_, content) => {
    const dir = dataDir();
    writeOwner(dir, content);
    claim(dir);
    expect(ownerOf(dir)).toMatchObject({ pid: process.pid, host: hostname() });
  });

  it.each([
    ['a directory', (path: string) => mkdirSync(path)],
    ['a symbolic link', (path: string) => symlinkSync(join(tmpdir(), 'nowhere'), path)],
  ])('refuses an owner file that is %s, saying what to do, and leaves it', (found, make) => {
    const dir = dataDir();
    const path = join(dir, OWNER_FILE);
    make(path);
    expect(() => claim(dir)).toThrow(CLAIM_FILE_NOT_A_FILE(path, found));
    expect(readdirSync(dir)).toEqual([OWNER_FILE]);
  });

  it('takes over the claim of a process that has ended but is not reaped yet (a zombie)', async () => {
    // `sh` starts `sleep 0` and becomes `sleep 60`, which never waits for children: the ended `sleep 0` stays a
    // zombie, as a process killed with SIGKILL does until a slow supervisor or init reaps it.
    const parent = spawn('sh', ['-c', 'sleep 0 & echo $!; exec sleep 60'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      const pid = await new Promise<number>((resolve, reject) => {
        parent.stdout.once('data', (chunk: Buffer) => resolve(Number(String(chunk).trim())));
        parent.once('error', reject);
      });
      const stat = (): string => readFileSync(`/proc/${pid}/stat`, 'utf8');
      for (let i = 0; i < 100 && stat().split(') ')[1]?.[0] !== 'Z'; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      const fields = stat().split(') ')[1].split(' ');
      expect(fields[0]).toBe('Z');
      const dir = dataDir();
      writeOwner(dir, { pid, host: hostname(), started: fields[19] });
      claim(dir);
      expect(ownerOf(dir)).toMatchObject({ pid: process.pid });
      expect(readdirSync(dir)).toEqual([OWNER_FILE]);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('takes over a dead claim whose taker died too, and removes the taker marker', () => {
    const dir = dataDir();
    const file = writeOwner(dir, dead());
    writeFileSync(takeoverMarker(file, inodeOf(file)), JSON.stringify(dead()));
    claim(dir);
    expect(ownerOf(dir)).toMatchObject({ pid: process.pid });
    expect(readdirSync(dir)).toEqual([OWNER_FILE]);
  });

  it('stops at a chain of dead takers too deep, naming the file to remove, and changes nothing', () => {
    const dir = dataDir();
    let path = writeOwner(dir, dead());
    for (let depth = 1; depth <= 3; depth++) {
      path = takeoverMarker(path, inodeOf(path));
      writeFileSync(path, JSON.stringify(dead()));
    }
    const before = readdirSync(dir).sort();
    expect(() => claim(dir)).toThrow(DATA_DIR_CLAIM_STUCK(dir, path));
    expect(readdirSync(dir).sort()).toEqual(before);
    rmSync(path);
    claim(dir);
    expect(readdirSync(dir)).toEqual([OWNER_FILE]);
  });

  it('removes the leftovers of stopped processes, and keeps those of live ones', () => {
    const dir = dataDir();
    const live = { pid: process.ppid, host: hostname(), started: null };
    writeOwner(dir, dead(), `${OWNER_FILE}.${deadPid}.0a0a0a0a.tmp`);
    const liveTemp = writeOwner(dir, live, `${OWNER_FILE}.${process.ppid}.0b0b0b0b.tmp`);
    const oldPartial = writeOwner(dir, '{"pi', `${OWNER_FILE}.${deadPid}.0c0c0c0c.tmp`);
    const oneHourAgo = new Date(Date.now() - 3_600_000);
    utimesSync(oldPartial, oneHourAgo, oneHourAgo);
    const newPartial = writeOwner(dir, '{"pi', `${OWNER_FILE}.${process.ppid}.0d0d0d0d.tmp`);
    writeOwner(dir, dead(), `${OWNER_FILE}.takeover.12345`);
    writeOwner(dir, dead(), `${OWNER_FILE}.takeover.12345.takeover.678`);
    const liveMarker = writeOwner(dir, live, `${OWNER_FILE}.takeover.999`);
    const unrelated = writeOwner(dir, dead(), `${OWNER_FILE}.bak`);

    claim(dir);
    expect(readdirSync(dir).sort()).toEqual(
      [
        OWNER_FILE,
        ...[liveTemp, newPartial, liveMarker, unrelated].map((path) => basename(path)),
      ].sort(),
    );
    expect(existsSync(oldPartial)).toBe(false);
  });
});

describe('renewClaim', () => {
  it('keeps a claim still in place: the same file, never given up meanwhile', () => {
    const dir = dataDir();
    claim(dir);
    const before = inodeOf(join(dir, OWNER_FILE));
    renewClaim(dir);
    expect(inodeOf(join(dir, OWNER_FILE))).toBe(before);
    expect(readdirSync(dir)).toEqual([OWNER_FILE]);
  });

  it('claims a directory made again after it went with its claim; the release then gives up the new claim', () => {
    const dir = dataDir();
    const release = claimDataDir(dir);
    rmSync(dir, { recursive: true });
    // A failed attempt leaves the directory owned by this process: another claim here is still refused.
    expect(() => renewClaim(dir)).toThrow(/ENOENT/);
    expect(() => claim(dir)).toThrow(DATA_DIR_IN_USE(dir, OWNED_IN_THIS_PROCESS(process.pid)));
    mkdirSync(dir);
    renewClaim(dir);
    expect(ownerOf(dir)).toMatchObject({ pid: process.pid, host: hostname() });
    release();
    expect(readdirSync(dir)).toEqual([]);
    claim(dir); // given up: this process may claim it again
  });

  it('refuses a directory a live process claimed meanwhile, and leaves that claim alone', () => {
    const dir = dataDir();
    const release = claimDataDir(dir);
    rmSync(join(dir, OWNER_FILE));
    const live = { pid: process.ppid, host: hostname(), started: null };
    writeOwner(dir, live);
    expect(() => renewClaim(dir)).toThrow(
      DATA_DIR_IN_USE(dir, `process ${process.ppid} on ${hostname()}`),
    );
    release();
    expect(ownerOf(dir)).toEqual(live);
  });
});
