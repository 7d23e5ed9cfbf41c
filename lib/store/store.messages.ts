/** Messages of the snapshot store: its files, data directory and owner lock. Tests assert against the same functions. */
import { describeValue } from '../util/describe-value';
import { LONGEST_PATH_IN_DATA_DIR, MAX_DATA_DIR_BYTES, NAME_MAX } from './path-limits';

const NOT_DAMAGE = 'This is not damage to the snapshot: nothing was moved.';

export const UNSUPPORTED_FORMAT = (
  dataDir: string,
  found: unknown,
  readable: readonly number[],
): string =>
  `Snapshot in ${dataDir} has format version ${describeValue(found)}, but this version of nestjs-persistent-cache ` +
  `reads format ${listed(readable)} only. Upgrade the library, or move the data directory aside to start empty.`;

/** `2`, `2 and 3`, `2, 3 and 4`. */
function listed(items: readonly number[]): string {
  return items.length < 2 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

export const CORRUPT_SNAPSHOT = (dataDir: string, what: string): string =>
  `Snapshot in ${dataDir} cannot be restored: ${what}. The data directory was left untouched; ` +
  'see docs/RECOVERY.md.';

export const DATA_DIR_IS_SYMLINK = (dataDir: string): string =>
  `Data directory ${dataDir} is a symbolic link; point persistence.dataDir at the real directory.`;

/** What to do about a data directory whose path cannot be created or reached, and why, by error code. */
/** How advice names the data directory's setting: the app's option, or a command's argument. */
const APP_SETTING = {
  point: 'point persistence.dataDir at',
  shorter: 'a shorter persistence.dataDir',
};
const CLI_ARGUMENT = { point: 'run the command on', shorter: 'a shorter path' };

interface PathAdvice {
  readonly because: string;
  readonly fix: string;
}

/**
 * Why a data directory cannot be created or reached, and the fix that fits that cause, by error code; `uid`: the
 * user this process runs as. `undefined` for a code with no advice of its own.
 */
function dataDirAdvice(
  code: string | undefined,
  uid: number | undefined,
  where: { readonly point: string; readonly shorter: string } = APP_SETTING,
): PathAdvice | undefined {
  const ELSEWHERE = `or ${where.point}`;
  const createIt =
    `Create it yourself, owned by the user the app runs as (uid ${uid ?? '?'}, mode 0700), ${ELSEWHERE} a ` +
    'writable directory.';
  switch (code) {
    case 'ENOTDIR':
    case 'EEXIST':
      return {
        because: `a part of its path is a file, not a directory (${code})`,
        fix: `Move that file out of the way, ${ELSEWHERE} a path made of directories.`,
      };
    case 'ELOOP':
      return {
        because: 'its path goes through a loop of symbolic links (ELOOP)',
        fix:
          'Fix or remove the link that points back into the path (`ls -l` on each part of it shows the links), ' +
          `${ELSEWHERE} a path without it.`,
      };
    case 'ENAMETOOLONG':
      return {
        because: 'its path, or a name in it, is too long (ENAMETOOLONG)',
        fix:
          `Choose ${where.shorter}: names of at most ${NAME_MAX} bytes, and a path of at most ` +
          `${MAX_DATA_DIR_BYTES} bytes.`,
      };
    case 'EACCES':
    case 'EPERM':
      return {
        because: `this process (uid ${uid ?? '?'}) may not create it in its parent directory (${code})`,
        fix: createIt,
      };
    case 'EROFS':
      return {
        because: 'its parent is on a read-only file system (EROFS)',
        fix:
          `${where.point.charAt(0).toUpperCase()}${where.point.slice(1)} a directory on a writable file system, or ` +
          'mount that one read-write.',
      };
    case 'ENOSPC':
    case 'EDQUOT':
      return {
        because:
          code === 'ENOSPC'
            ? 'the file system is full (ENOSPC)'
            : `the disk quota of this process's user (uid ${uid ?? '?'}) is used up (EDQUOT)`,
        fix: `Free some space on that file system, ${ELSEWHERE} one with room.`,
      };
    default:
      return undefined;
  }
}

export const DATA_DIR_NOT_CREATED = (
  dataDir: string,
  code: string | undefined,
  reason: string,
  uid = process.getuid?.(),
): string => {
  const advice = dataDirAdvice(code, uid);
  return (
    `Data directory ${dataDir} (persistence.dataDir) does not exist and cannot be created: ` +
    (advice === undefined
      ? `${reason}. Create it yourself, owned by the user the app runs as (uid ${uid ?? '?'}, mode 0700), or ` +
        'point persistence.dataDir at a writable directory.'
      : `${advice.because}. ${advice.fix}`)
  );
};

/** A data directory a tool that only reads (the CLI) cannot reach: its path cannot be followed (a loop of links…). */
export const DATA_DIR_UNREACHABLE = (
  dataDir: string,
  code: string | undefined,
  reason: string,
  uid = process.getuid?.(),
): string => {
  const advice = dataDirAdvice(code, uid, CLI_ARGUMENT);
  return (
    `Data directory ${dataDir} cannot be reached: ` +
    (advice === undefined ? `${reason}.` : `${advice.because}. ${advice.fix}`)
  );
};

/**
 * A data directory path so long that the files the store makes in it would have paths longer than the system
 * takes (`bytes`: its length). The middle of the path is left out of the message.
 */
export const DATA_DIR_PATH_TOO_LONG = (dataDir: string, bytes: number): string =>
  `Data directory ${elided(dataDir)} (persistence.dataDir) has a path of ${bytes} bytes: too long for the files ` +
  `the store makes in it (paths of up to ${LONGEST_PATH_IN_DATA_DIR} bytes more, where the system takes at most ` +
  `${MAX_DATA_DIR_BYTES + 1 + LONGEST_PATH_IN_DATA_DIR}: ENAMETOOLONG). Choose a persistence.dataDir of at most ` +
  `${MAX_DATA_DIR_BYTES} bytes.`;

/** A long path as a message shows it: its beginning and its end. */
function elided(path: string): string {
  return path.length <= 160 ? path : `${path.slice(0, 80)}…${path.slice(-60)}`;
}

export const DATA_DIR_NOT_A_DIRECTORY = (dataDir: string): string =>
  `Data directory ${dataDir} exists but is not a directory.`;

export const STORE_CLOSED = (dataDir: string): string =>
  `The snapshot store in ${dataDir} is closed (the application is shutting down).`;

export const STORE_NOT_OPEN = (dataDir: string): string =>
  `The snapshot store in ${dataDir} is not open.`;

/** An existing data directory this process cannot use; `code`: what `access()` said (`EACCES`, `EROFS`…). */
export const DATA_DIR_NOT_WRITABLE = (
  dataDir: string,
  code: string | undefined,
  uid = process.getuid?.(),
): string =>
  code === 'EROFS'
    ? `Data directory ${dataDir} (persistence.dataDir) is on a read-only file system (EROFS): the app writes its ` +
      'snapshots there. Mount it read-write, or point persistence.dataDir at a directory on a writable file system.'
    : `Data directory ${dataDir} (persistence.dataDir) is not readable and writable by this process ` +
      `(uid ${uid ?? '?'}${code === undefined ? '' : `, ${code}`}); fix its owner or mode (0700 is expected), or ` +
      'point persistence.dataDir elsewhere.';

/** A data directory a tool that only reads (the CLI's inspect, verify, export) cannot read. */
export const DATA_DIR_NOT_READABLE = (
  dataDir: string,
  code: string | undefined,
  uid = process.getuid?.(),
): string =>
  `Data directory ${dataDir} cannot be read by this process (uid ${uid ?? '?'}` +
  `${code === undefined ? '' : `, ${code}`}): run the command as a user who may list it and read its files.`;

export const DATA_DIR_MISSING = (dataDir: string): string =>
  `Data directory ${dataDir} does not exist.`;

/**
 * A tool that only reads cannot join the reader table of the application writing the store (`reason`: why not), and
 * reading beside that writer without it could see pages the writer reuses.
 */
export const READER_NOT_SHARED = (
  dataDir: string,
  owner: string,
  lockFile: string,
  reason: string,
  uid = process.getuid?.(),
): string =>
  `Data directory ${dataDir} is in use by ${owner}, and this process (uid ${uid ?? '?'}) cannot share its lock ` +
  `file ${lockFile} (${reason}): the application could overwrite pages while they are read. Run the command as ` +
  `the user the application runs as, on a mount that can write the lock file, or stop the application first. ` +
  NOT_DAMAGE;

/** A store opened to read only (`open({ claim: false })`) is asked to write or to move its files. */
export const STORE_OPENED_TO_READ = (dataDir: string): string =>
  `The snapshot store in ${dataDir} was opened to read only (without claiming the directory): it cannot be ` +
  'written or moved.';

/** The owner of a data directory claimed by this very process. */
export const OWNED_IN_THIS_PROCESS = (pid: number): string =>
  `another PersistentCacheModule in this process (pid ${pid}); if both are in the same application, import ` +
  'PersistentCacheModule once (isGlobal: true, or re-export it from one module)';

export const DATA_DIR_IN_USE = (dataDir: string, owner: string): string =>
  `Data directory ${dataDir} is in use by ${owner}; two writers would overwrite each other's snapshots. ` +
  'Give each application its own persistence.dataDir, or stop the other one. ' +
  '(A claim left by a process that no longer runs is taken over automatically.)';

export const CLAIM_FILE_NOT_A_FILE = (path: string, found: string): string =>
  `${path} is ${found}, where nestjs-persistent-cache keeps a small file naming the process that owns the data ` +
  'directory. Remove it if no application uses the directory (it is created again), or point ' +
  'persistence.dataDir elsewhere.';

export const DATA_DIR_CLAIM_CONTENDED = (dataDir: string): string =>
  `Could not claim data directory ${dataDir}: its owner file kept changing while this process tried to claim ` +
  'it, as other processes claimed and gave it up at the same time. Start the application again, and give each ' +
  'application its own persistence.dataDir.';

export const DATA_DIR_CLAIM_STUCK = (dataDir: string, path: string): string =>
  `Could not claim data directory ${dataDir}: ${path} is left by processes that were killed, one after ` +
  'another, while each took over the claim of a process that no longer runs. If no application uses the ' +
  'directory, remove that file.';

/** `from`: the owner whose claim was taken over, as users read it. */
export const CLAIM_TAKEN_OVER = (dataDir: string, from: string): string =>
  `Took over ${dataDir} from ${from}, which no longer runs and did not release it: it stopped without running ` +
  'its shutdown hooks (killed, or stopped by a signal with no enableShutdownHooks()), so it took no final ' +
  'snapshot, and its writes since its last snapshot are lost.';

export const CLAIM_FILES_REMOVED = (dataDir: string, files: readonly string[]): string =>
  `Removed claim files left by stopped processes in ${dataDir}: ${files.join(', ')}.`;

/** `failures`: each file with why it could not be removed. */
export const CLAIM_FILES_NOT_REMOVED = (dataDir: string, failures: readonly string[]): string =>
  `Could not remove claim files left in ${dataDir}: ${failures.join('; ')}`;

export const WRITE_IN_PROGRESS = (dataDir: string): string =>
  `A snapshot is already being written to ${dataDir}: commit or abort it before beginning another.`;

export const STORE_READ_ONLY = (dataDir: string): string =>
  `The snapshot store in ${dataDir} is open for reading only (openForWriting() was not called).`;

export const STORE_FILE_MISSING = (path: string): string =>
  `The snapshot store ${path} was deleted while the application ran (or its directory was removed or replaced): ` +
  'the snapshots it held are gone. A new, empty store is made in its place, and the whole cache written to it.';

export const STORE_FILE_REPLACED = (path: string): string =>
  `The snapshot store ${path} was replaced by another file while the application ran; this application does not ` +
  'overwrite a store it did not write, so its snapshots fail until it is restarted (it then restores the file now ' +
  'at that path) or the file is moved away (a new store is then created).';

/**
 * A new store could not be made in place of one deleted under the app (`SnapshotStore.recreate`); `code`: the error
 * code behind `reason`, when there is one.
 */
export const STORE_NOT_MADE_AGAIN = (
  path: string,
  code: string | undefined,
  reason: string,
): string =>
  `${path} could not be made (${code ?? 'no error code'}): ${reason}${/[.!?]$/.test(reason) ? '' : '.'} ` +
  'Nothing was given up: the data directory stays claimed by this application, which still holds the whole cache in ' +
  'memory, and the next snapshot tries again to make the store (then writes the whole cache to it).';

/**
 * A commit lmdb-js rejected without ever settling the promise that holds its reason, as it does for a write refused
 * with EPERM: what is known.
 */
export const COMMIT_FAILED_NO_REASON = (waitedMs: number): string =>
  `LMDB could not commit the write, and lmdb-js gave no reason within ${waitedMs} ms (LMDB may have written one to ` +
  'stderr): check that the store file and its file system can be written (permissions, `chattr` flags such as +i ' +
  'or +a, a read-only mount) and that the disk has room.';

/** The claim on a data directory could not be given up at shutdown: the next start takes it over. */
export const CLAIM_NOT_GIVEN_UP = (dataDir: string, reason: string): string =>
  `Could not give up the claim on data directory ${dataDir}: ${reason}. The next application to use it takes the ` +
  'claim over, since this process will no longer run.';

export const LOCK_FILE_LOST = (lockFile: string): string =>
  `The lock file ${lockFile} was deleted or replaced while the application ran; reopening the store.`;

/** A lock file lost while the app ran, that cannot be made again (see `SnapshotStore.ensureInPlace`). */
export const LOCK_FILE_NOT_MADE_AGAIN = (
  lockFile: string,
  code: string | undefined,
  reason: string,
): string =>
  `The lock file ${lockFile} was deleted or replaced while the application ran, and cannot be made again ` +
  `(${code ?? 'no error code'}): ${reason}${/[.!?]$/.test(reason) ? '' : '.'} Snapshots go on into the store ` +
  'file, which is still the one this application opened, and each tries again to make the lock file; until it ' +
  'does, a tool reading the store beside the application may not see it writing. Remove what is in the way of the ' +
  'lock file, or fix the cause: this application need not be stopped for it (it does not use that path until then).';

/** A missing lock file this process cannot create: the directory refuses a new file. */
export const LOCK_FILE_NOT_CREATED = (
  lockFile: string,
  code: string | undefined,
  reason: string,
  uid = process.getuid?.(),
): string => {
  const because = lockFileNotCreatedBecause(code, uid) ?? reason;
  return (
    `Cannot create the lock file ${lockFile} (${code ?? 'no error code'}): ${because}` +
    `${/[.!?]$/.test(because) ? '' : '.'} ${NOT_DAMAGE}`
  );
};

function lockFileNotCreatedBecause(
  code: string | undefined,
  uid: number | undefined,
): string | undefined {
  switch (code) {
    case 'EACCES':
      return `its directory is not writable by this process (uid ${uid ?? '?'}): fix its owner or mode.`;
    case 'EPERM':
      return (
        'its directory is probably immutable or append-only (`lsattr -d` shows the flags, `chattr -i -a` ' +
        'clears them).'
      );
    case 'EROFS':
      return 'its directory is on a file system mounted read-only.';
    case 'ENAMETOOLONG':
      return 'the path of a file made beside it is too long: choose a shorter persistence.dataDir.';
    default:
      return undefined;
  }
}

/** A store or lock file this process cannot read or write. */
export const STORE_FILE_NO_ACCESS = (
  path: string,
  access: 'read' | 'read and write',
  code: string,
  owner: { uid: number; gid: number; mode: number } | undefined,
  lockFile: boolean,
  uid = process.getuid?.(),
): string =>
  `Cannot ${access} ${path} (${code}) as uid ${uid ?? '?'}` +
  (owner === undefined
    ? ''
    : ` (it belongs to uid ${owner.uid}, gid ${owner.gid}, mode 0${(owner.mode & 0o7777).toString(8)})`) +
  `. ${fixFor(code, lockFile, uid)} ${NOT_DAMAGE}`;

/** A store or lock file path that holds something other than a regular file. */
export const STORE_FILE_WRONG_KIND = (path: string, kind: string, lockFile: boolean): string =>
  `${path} is ${kind}, not a regular file. ` +
  (lockFile
    ? 'Remove it while no process has the store open: LMDB creates its lock file anew.'
    : kind === 'a symbolic link'
      ? 'Replace it with the file it points to (LMDB would follow it out of the data directory), or move it ' +
        'aside to start with a new store.'
      : 'Move it aside (a new, empty store is then created), or put the store file in its place.') +
  ` ${NOT_DAMAGE}`;

/** LMDB failed to open a file for a reason that is not its content. */
export const STORE_FILE_OPEN_FAILED = (
  path: string,
  code: string,
  reason: string,
  uid = process.getuid?.(),
): string =>
  `LMDB cannot open ${path}: ${reason} (${code}). ${fixFor(code, false, uid)} ${NOT_DAMAGE}`;

/** The data directory holds no store file, and this tool only reads. */
export const NO_STORE_FILE = (dataDir: string, file: string): string =>
  `Data directory ${dataDir} holds no snapshot (no ${file} file).`;

/** There is not enough room on the data directory's file system to do `what`. */
export const NO_SPACE = (dataDir: string, what: string, free: number | undefined): string =>
  `Not enough space in ${dataDir} to ${what}` +
  (free === undefined ? '' : ` (${formatBytes(free)} free)`) +
  '. Free some space on that file system, or point persistence.dataDir elsewhere. ' +
  NOT_DAMAGE;

/**
 * The startup check could not rehearse writes for lack of space. The restore goes on: this says that snapshots may
 * fail.
 */
export const LOW_SPACE_NO_REHEARSAL = (
  path: string,
  free: number | undefined,
  needed: number | undefined,
  reason?: string,
): string =>
  `Not enough space beside ${path} to rehearse writes on a copy of it (` +
  (reason === undefined ? '' : `${reason}; `) +
  (free === undefined ? 'free space unknown' : `${formatBytes(free)} free`) +
  (free === undefined || needed === undefined ? '' : `, ${formatBytes(needed)} needed`) +
  ')' +
  ': its reads were checked, its writes were not. A full snapshot needs about as much room: snapshots may ' +
  'fail until space is freed (the cache serves meanwhile).';

/** The write rehearsal failed for a reason that is not the file's content. */
export const REHEARSAL_FAILED = (path: string, reason: string): string =>
  `Could not rehearse writes on a copy of ${path} (${reason}); its reads were checked, its writes were not.`;

/** The startup check could not reach a verdict: not proof of damage. */
export const STORE_CHECK_FAILED = (path: string, reason: string): string =>
  `Could not check ${path}: ${reason}. Start again; if this persists, run \`npx persistent-cache verify\` on ` +
  `the data directory. ${NOT_DAMAGE}`;

/** Something in the way of a file the store writes, e.g. a directory where a new store is created. */
export const PATH_IN_THE_WAY = (path: string, kind: string, purpose: string): string =>
  `${path} is ${kind}, in the way of ${purpose}. Move it out of the data directory. ${NOT_DAMAGE}`;

/** Quarantine could not complete; the files were put back where they were (`stuck` lists any that were not). */
export const QUARANTINE_FAILED = (
  dataDir: string,
  target: string,
  what: string,
  code: string | undefined,
  stuck: readonly string[],
): string =>
  `Could not move the unreadable snapshot in ${dataDir} aside into ${target}: ${what}` +
  (code === undefined || what.includes(code) ? '' : ` (${code})`) +
  '. ' +
  (stuck.length === 0
    ? 'The data directory was left as it was. '
    : `Could not move back ${stuck.join(', ')}: put it back into ${dataDir} by hand. `) +
  'Fix the cause (owner, mode, `chattr` flags, space), or move the data directory aside to start empty.';

/** What to do about an error code on a file this process cannot use. */
function fixFor(code: string, lockFile: boolean, uid: number | undefined): string {
  switch (code) {
    case 'EACCES':
      return (
        `Give it to the user the application runs as (uid ${uid ?? '?'}) or fix its mode (0600 is expected)` +
        (lockFile
          ? '; a lock file left by a tool run as another user (e.g. root) can instead be deleted while no ' +
            'process has the store open (LMDB creates a new one).'
          : '.')
      );
    case 'EPERM':
      return 'It is probably immutable or append-only: `lsattr` shows the flags, `chattr -i -a` clears them.';
    case 'EROFS':
      return 'Its file system is mounted read-only.';
    case 'ENOENT':
      return 'It disappeared while the store was being opened: is another process moving files in the data directory?';
    case 'ELOOP':
      return 'Its path goes through a loop of symbolic links: fix or remove the link that points back into it.';
    case 'ENAMETOOLONG':
      return `Its path is too long: choose a persistence.dataDir of at most ${MAX_DATA_DIR_BYTES} bytes.`;
    case 'ENOSPC':
    case 'EDQUOT':
      return 'Its file system has no room left: free some space, or point persistence.dataDir elsewhere.';
    default:
      return 'Fix its owner, mode or attributes.';
  }
}

function formatBytes(bytes: number): string {
  return bytes < 1024 * 1024
    ? `${Math.floor(bytes / 1024)} KiB`
    : `${(bytes / 1048576).toFixed(1)} MiB`;
}
