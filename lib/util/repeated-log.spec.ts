import { RepeatedLog } from './repeated-log';

describe('RepeatedLog', () => {
  let now = 0;
  let lines: [string, number][] = [];
  const log = () =>
    new RepeatedLog(
      (message, count) => lines.push([message, count]),
      60_000,
      () => now,
    );
  beforeEach(() => {
    now = 1_000_000;
    lines = [];
  });

  it('writes the first occurrence, counts the next ones, and writes their count once the window has passed', () => {
    const repeated = log();
    for (let i = 0; i < 575; i++) {
      repeated.report('skipped');
      now += 1;
    }
    expect(lines).toEqual([['skipped', 1]]);
    now += 60_000;
    repeated.report('skipped');
    // One line for the 574 held back and this one.
    expect(lines).toEqual([
      ['skipped', 1],
      ['skipped', 575],
    ]);
    repeated.report('skipped');
    expect(lines).toHaveLength(2);
  });

  it('a different message writes the held-back count of the previous one first', () => {
    const repeated = log();
    repeated.report('disk full');
    repeated.report('disk full');
    repeated.report('disk full');
    repeated.report('permission denied');
    expect(lines).toEqual([
      ['disk full', 1],
      ['disk full', 2],
      ['permission denied', 1],
    ]);
  });

  it('flush writes what is held back, returns its count, and starts afresh', () => {
    const repeated = log();
    expect(repeated.flush()).toBe(0);
    repeated.report('a');
    repeated.report('a');
    expect(repeated.flush()).toBe(1);
    expect(lines).toEqual([
      ['a', 1],
      ['a', 1],
    ]);
    repeated.report('a');
    expect(lines).toEqual([
      ['a', 1],
      ['a', 1],
      ['a', 1],
    ]);
    expect(repeated.flush()).toBe(0);
  });
});

describe('RepeatedLog with kinds', () => {
  it('counts occurrences of one kind whatever their messages, and shows the last message', () => {
    let now = 0;
    const lines: [string, number][] = [];
    const repeated = new RepeatedLog(
      (m, c) => lines.push([m, c]),
      60_000,
      () => now,
    );
    repeated.report('no space at offset 4096', 'ENOSPC');
    repeated.report('no space at offset 8192', 'ENOSPC');
    now += 60_000;
    repeated.report('no space at offset 12288', 'ENOSPC');
    expect(lines).toEqual([
      ['no space at offset 4096', 1],
      ['no space at offset 12288', 2],
    ]);
  });
});
