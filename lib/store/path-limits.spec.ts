import { join } from 'node:path';
import { lockFileOf, QUARANTINE_DIR, STORE_FILE } from './data-dir';
import { OWNER_FILE } from './owner-lock';
import { takeoverMarker } from './owner-take';
import { LONGEST_PATH_IN_DATA_DIR, MAX_DATA_DIR_BYTES, PATH_MAX } from './path-limits';

describe('LONGEST_PATH_IN_DATA_DIR', () => {
  const pid = 4_194_304; // Linux's largest pid_max
  const ino = 2n ** 64n - 1n;
  const hex = 'ffffffff';
  // The longest of each kind of path the store makes under a data directory, as its modules name them.
  const paths = {
    claimTemp: `${takeoverMarker(takeoverMarker(takeoverMarker(OWNER_FILE, ino), ino), ino)}.${pid}.${hex}.tmp`,
    lockDraft: `${lockFileOf(`${STORE_FILE}.new`)}.${pid}-${hex}`,
    compacted: `${STORE_FILE}.compact`,
    scratch: join(
      `${STORE_FILE}.check-${hex}-${pid}-XXXXXX`,
      `${lockFileOf('copy.mdb')}.${pid}-${hex}`,
    ),
    quarantine: join(QUARANTINE_DIR, '2026-01-01T00-00-00-000Z-999', lockFileOf(STORE_FILE)),
  };

  it('is the longest path the store makes in a data directory', () => {
    const longest = Math.max(...Object.values(paths).map((path) => Buffer.byteLength(path)));
    expect(longest).toBe(Buffer.byteLength(paths.claimTemp));
    expect(LONGEST_PATH_IN_DATA_DIR).toBe(longest);
  });

  it('leaves, with the longest data directory, a path the system takes', () => {
    expect(MAX_DATA_DIR_BYTES + 1 + LONGEST_PATH_IN_DATA_DIR).toBe(PATH_MAX - 1);
  });
});
