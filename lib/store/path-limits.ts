/**
 * How long the paths of a data directory may be. The kernel refuses a path longer than PATH_MAX (less its
 * terminating NUL) or a name in it longer than NAME_MAX with ENAMETOOLONG; the store makes files and directories
 * in the data directory (claim files, lock files, a new store's draft, the startup check's scratch directory, the
 * quarantine), so the directory's own path must leave room for the longest of them.
 */

/** The longest path the system takes, in bytes, its terminating NUL included (Linux's; macOS's is 1024). */
export const PATH_MAX = process.platform === 'darwin' ? 1024 : 4096;

/** The longest name of a file or directory, in bytes. */
export const NAME_MAX = 255;

/**
 * The longest path, in bytes, the store makes under a data directory (after its `/`): a claim's temporary file
 * beside a take-over marker three levels deep (`owner.json.takeover.<inode>` ×3, `.<pid>.<hex>.tmp`), with inodes
 * of 20 digits and pids of 7. `data-dir.spec.ts` checks it against the names the store makes.
 */
export const LONGEST_PATH_IN_DATA_DIR = 121;

/** The longest data directory path, in bytes, that leaves room for every path the store makes in it. */
export const MAX_DATA_DIR_BYTES = PATH_MAX - 1 - 1 - LONGEST_PATH_IN_DATA_DIR;
