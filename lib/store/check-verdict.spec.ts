import { errorLine, judgeCheckRun, type CheckRun } from './check-verdict';
import { errnoCode } from './store-errors';

const line = (message: unknown) => `${JSON.stringify(message)}\n`;
const stages = (...names: string[]) => names.map((stage) => line({ stage })).join('');

function run(overrides: Partial<CheckRun>): CheckRun {
  return {
    exitCode: 0,
    signal: null,
    timedOut: false,
    timeoutMs: 30_000,
    stdout: '',
    stderr: '',
    lowSpace: false,
    ...overrides,
  };
}

const failedIn = (stage: string, code: string | number | null, message: string) =>
  stages('open', 'read', 'copy', 'rehearse').split(`{"stage":"${stage}"}`)[0] +
  line({ stage }) +
  line({ failed: { stage, code, message } });

describe('judgeCheckRun: only proof of damage is damage', () => {
  it('a clean run is sound, rehearsed or not', () => {
    const done = (rehearsed: boolean) =>
      stages('open', 'read', 'copy', 'rehearse') + line({ done: { problem: null, rehearsed } });
    expect(judgeCheckRun(run({ stdout: done(true) }))).toEqual({
      verdict: 'sound',
      rehearsed: true,
    });
    expect(judgeCheckRun(run({ stdout: done(false) }))).toEqual({
      verdict: 'sound',
      rehearsed: false,
    });
  });

  it('a problem the child found, a crash with room to spare, or an LMDB content error is damage', () => {
    const problem = 'generation 1: chunk 3 fails its checksum';
    expect(
      judgeCheckRun(run({ stdout: stages('open', 'read') + line({ done: { problem } }) })),
    ).toEqual({ verdict: 'damaged', problem });
    for (const signal of ['SIGSEGV', 'SIGBUS', 'SIGABRT']) {
      expect(
        judgeCheckRun(run({ exitCode: null, signal, stdout: stages('open', 'read') })),
      ).toEqual({
        verdict: 'damaged',
        problem: `LMDB cannot read the file (the check process was killed by ${signal} while reading it)`,
      });
    }
    expect(
      judgeCheckRun(
        run({
          exitCode: null,
          signal: 'SIGSEGV',
          stdout: stages('open', 'read', 'copy', 'rehearse'),
        }),
      ),
    ).toMatchObject({
      verdict: 'damaged',
      problem: expect.stringContaining('rehearsing writes') as string,
    });
    expect(
      judgeCheckRun(
        run({ stdout: failedIn('read', -30796, 'MDB_CORRUPTED: Located page was wrong type') }),
      ),
    ).toEqual({
      verdict: 'damaged',
      problem: 'LMDB cannot read the file (MDB_CORRUPTED: Located page was wrong type)',
    });
    expect(
      judgeCheckRun(
        run({ stdout: failedIn('rehearse', null, 'Invalid value to put in database undefined') }),
      ),
    ).toMatchObject({ verdict: 'damaged' });
    // LMDB's copy of a file shorter than its pages fails with EINVAL (and the app would die of SIGBUS on it).
    expect(judgeCheckRun(run({ stdout: failedIn('copy', null, 'Invalid argument') }))).toEqual({
      verdict: 'damaged',
      problem: 'LMDB cannot copy the file (Invalid argument (EINVAL))',
    });
    // A transaction LMDB gave up on: damage with room on the disk, a short write without.
    const badTxn = failedIn('rehearse', -30782, 'MDB_BAD_TXN: Transaction must abort');
    expect(judgeCheckRun(run({ stdout: badTxn }))).toEqual({
      verdict: 'damaged',
      problem: 'writes rehearsed on a copy of it failed: MDB_BAD_TXN: Transaction must abort',
    });
    expect(judgeCheckRun(run({ stdout: badTxn, lowSpace: true }))).toMatchObject({
      verdict: 'not-rehearsed',
      noSpace: true,
    });
  });

  it('no room, in any stage and however LMDB words it, is never damage', () => {
    expect(judgeCheckRun(run({ stdout: failedIn('copy', 'EACCES', 'permission denied') }))).toEqual(
      {
        verdict: 'not-rehearsed',
        reason: 'permission denied (EACCES)',
        noSpace: false,
      },
    );
    expect(
      judgeCheckRun(run({ stdout: failedIn('copy', null, 'No space left on device') })),
    ).toEqual({
      verdict: 'not-rehearsed',
      reason: 'No space left on device (ENOSPC)',
      noSpace: true,
    });
    for (const [code, message] of [
      [28, 'No space left on device'],
      [122, 'Disk quota exceeded'],
      [-30792, 'MDB_MAP_FULL: Environment mapsize limit reached'],
    ] as const) {
      expect(judgeCheckRun(run({ stdout: failedIn('rehearse', code, message) }))).toMatchObject({
        verdict: 'not-rehearsed',
        noSpace: true,
      });
    }
    // A short write is EIO: no room when the disk is nearly full, an I/O error otherwise; damage either way not.
    const eio = failedIn('rehearse', 5, 'Input/output error');
    expect(judgeCheckRun(run({ stdout: eio, lowSpace: true }))).toMatchObject({ noSpace: true });
    expect(judgeCheckRun(run({ stdout: eio }))).toEqual({
      verdict: 'not-rehearsed',
      reason: 'Input/output error (EIO)',
      noSpace: false,
    });
    // A crash on a nearly full disk: a page LMDB touched that the file system could not back.
    const bus = { exitCode: null, signal: 'SIGBUS', lowSpace: true };
    expect(
      judgeCheckRun(run({ ...bus, stdout: stages('open', 'read', 'copy', 'rehearse') })),
    ).toMatchObject({
      verdict: 'not-rehearsed',
      noSpace: true,
    });
    expect(judgeCheckRun(run({ ...bus, stdout: stages('open', 'read') }))).toMatchObject({
      verdict: 'unusable',
      code: 'ENOSPC',
      noSpace: true,
    });
  });

  it('permissions, outside signals, time limits and processes that cannot run are not damage', () => {
    expect(
      judgeCheckRun(
        run({
          stdout: failedIn('open', 13, 'Permission denied: Attempting to open main database file'),
        }),
      ),
    ).toEqual({
      verdict: 'unusable',
      reason:
        'LMDB failed opening it: Permission denied: Attempting to open main database file (EACCES)',
      code: 'EACCES',
      noSpace: false,
    });
    expect(
      judgeCheckRun(
        run({
          stdout: failedIn(
            'open',
            -30794,
            'MDB_VERSION_MISMATCH: Database environment version mismatch',
          ),
        }),
      ),
    ).toMatchObject({ verdict: 'unusable', code: 'MDB_VERSION_MISMATCH' });
    for (const signal of ['SIGKILL', 'SIGTERM', 'SIGINT']) {
      expect(
        judgeCheckRun(run({ exitCode: null, signal, stdout: stages('open', 'read') })),
      ).toMatchObject({
        verdict: 'unusable',
        reason: expect.stringContaining(
          `killed by ${signal} while reading it (sent from outside`,
        ) as string,
      });
    }
    expect(
      judgeCheckRun(
        run({ exitCode: null, signal: 'SIGTERM', timedOut: true, stdout: stages('open', 'read') }),
      ),
    ).toMatchObject({
      verdict: 'unusable',
      reason: expect.stringContaining('did not finish within 30 s (it was reading it;') as string,
    });
    const stderr =
      "/x.js:3\n  throw e;\n  ^\n\nError: EACCES: permission denied, open '/d/snapshot.mdb'\n    at f (x.js:1)\n\nNode.js v20.20.2\n";
    expect(judgeCheckRun(run({ exitCode: 1, stderr }))).toEqual({
      verdict: 'unusable',
      reason:
        "the check process failed (exit code 1): Error: EACCES: permission denied, open '/d/snapshot.mdb'",
      code: undefined,
      noSpace: false,
    });
    expect(judgeCheckRun(run({ stdout: 'garbage\n' }))).toMatchObject({
      verdict: 'unusable',
      reason: 'the check process gave no result',
    });
  });

  it('errorLine skips stacks, carets and the version banner', () => {
    expect(errorLine('\nNode.js v20.20.2\n')).toBe('(no output)');
    expect(errorLine('something odd\n    at x\nNode.js v20.20.2')).toBe('something odd');
  });
});

describe('errnoCode', () => {
  it("reads Node's codes, lmdb-js's numbers and strerror messages", () => {
    expect(errnoCode({ code: 'ENOSPC' })).toBe('ENOSPC');
    expect(errnoCode({ code: 13 })).toBe('EACCES');
    expect(errnoCode({ code: -30796, message: 'MDB_CORRUPTED' })).toBeUndefined();
    expect(errnoCode(new Error('Read-only file system: Attempting to open'))).toBe('EROFS');
    expect(errnoCode(new Error('Commit failed'))).toBeUndefined();
    expect(errnoCode(null)).toBeUndefined();
  });
});
