import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  unlinkSync,
  writeSync,
  type Stats,
} from 'node:fs';
import { basename, dirname } from 'node:path';
import { endOfLastLine, errnoWords, readAt } from './files.js';

// The append-only capture log of `listen` (README: Captures). Every answered request is written BEFORE its answer is
// sent, so an event that got its 200 survives `kill -9`. For speed the lines of one event-loop turn are written
// together, with one synchronous write, and only then are the answers of that batch sent.
//
// The log never lies and is always readable:
// - it is opened without following a symlink (O_NOFOLLOW), must be a regular file, and, when not empty, must start
//   like a capture log: a planted `.onepush/events.ndjson -> ~/.bashrc` is refused, never appended to;
// - one listener writes a log at a time (a lock file beside it), so the repairs below never race another writer;
// - a torn tail (half a line left by `kill -9` mid-write or a full disk: never answered) is moved aside to
//   `<log>.torn` before anything is appended, and a write that fails is cut off again, so the next line always
//   starts on a line of its own and every answered event stays readable;
// - after each write the path is checked to still be this file: a log deleted (or replaced) while listening is
//   noticed, a new one is started, and the batch is written again there before anything is answered.

/** Where one captured line sits: the file (the log, or one it replaced), its offset and its length in bytes. */
export interface CaptureRef {
  readonly file: LogFile;
  readonly offset: number;
  readonly length: number;
}

/** An open log file; kept open for reading refs after it was replaced, until the store closes. */
export interface LogFile {
  readonly fd: number;
  readonly ino: number;
  readonly dev: number;
}

/**
 * Where captures go; `append` calls `then` once the line is written (with the error when it could not be: the
 * caller then must not answer 200), at the end of the current event-loop turn. With `refs`, `then` also gets where
 * the line sits, so a queue can hold that instead of the body.
 */
export interface CaptureStore {
  readonly path: string | null;
  /** `line` may come in parts (encodeCaptureParts): a large one is written as it is, never copied into one string. */
  append(line: string | readonly string[], then: (error: Error | undefined, ref: CaptureRef | undefined) => void): void;
  /** Writes a line now, best effort, without a callback (a 503's record after a failed batch); false if it failed. */
  tryAppend(line: string): boolean;
  /** The bytes of a captured line (without its newline). */
  read(ref: CaptureRef): Buffer;
  /** Writes what is pending and closes the file. */
  close(): void;
  /** Closes the file and removes it if this store created it and nothing was written (a start that failed). */
  discard(): void;
}

/** A capture log that onepush refuses to open, and why (the CLI shows the message, exit 2). */
export class CaptureLogError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'CaptureLogError';
  }
}

export interface CaptureStoreOptions {
  /** Create the log's folder (one level, mode 0700) when it does not exist; otherwise it must exist. */
  createFolder?: boolean;
  /** The store computes where each line sits (for a forwarding queue of references). */
  refs?: boolean;
  /** Said once each: a torn tail moved aside, modes tightened, a log started again. */
  onWarning?: (message: string) => void;
}

/**
 * A store that saves nothing (--no-save). Answers still go out once per event-loop turn: sending a batch of answers
 * together is measurably faster under load than one at a time (bench/listen.bench.ts).
 */
export function noCaptureStore(): CaptureStore {
  let waiting: Array<(error: Error | undefined, ref: CaptureRef | undefined) => void> = [];
  const flush = (): void => {
    const callbacks = waiting;
    waiting = [];
    for (const cb of callbacks) callAll(cb, undefined, undefined);
  };
  return {
    path: null,
    append(_line, then) {
      if (waiting.push(then) === 1) setImmediate(flush);
    },
    tryAppend: () => false,
    read() {
      throw new Error('nothing is saved (--no-save)');
    },
    close: flush,
    discard: flush,
  };
}

/** Every callback of a batch runs, even when one throws (the caller contains its own errors; this is the backstop). */
function callAll(cb: (error: Error | undefined, ref: CaptureRef | undefined) => void, error: Error | undefined, ref: CaptureRef | undefined): void {
  try {
    cb(error, ref);
  } catch (e) {
    queueMicrotask(() => {
      throw e;
    });
  }
}

/** How every capture line starts (encodeCapture): a non-empty file that does not is not a capture log. */
const CAPTURE_START = '{"v":1,"received_at":"';

const NOFOLLOW = constants.O_NOFOLLOW ?? 0;
const NONBLOCK = constants.O_NONBLOCK ?? 0;

/** Why opening the log failed, in words: a link is refused on purpose, the rest as for any file. */
function words(e: unknown): string {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') return 'it is a symbolic link: onepush never writes captures through a link';
  if (code === 'ENOENT') return 'no such folder';
  return errnoWords(e);
}

/** The folder of the log: exists (or is created one level deep when allowed), a real folder, not others'. */
function prepareFolder(path: string, create: boolean, warn: (m: string) => void): void {
  const folder = dirname(path);
  let st: Stats | undefined;
  try {
    st = lstatSync(folder);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new CaptureLogError(`cannot open the capture log ${path}: ${folder}: ${words(e)}`);
  }
  if (st === undefined) {
    if (!create) {
      throw new CaptureLogError(`cannot open the capture log ${path}: the folder ${folder} does not exist`, `create it first, or pass another file with --save (only the default ${'.onepush/'} folder is created)`);
    }
    try {
      mkdirSync(folder, { mode: 0o700 });
    } catch (e) {
      throw new CaptureLogError(`cannot create the capture folder ${folder}: ${words(e)}`, 'pass another file with --save <file>, or --no-save');
    }
    return;
  }
  if (!create) return; // a folder the user named: theirs to set up (it may be a link, e.g. /tmp on macOS)
  // The default folder is ours: it must be a real folder of this user, closed to others.
  if (st.isSymbolicLink()) {
    throw new CaptureLogError(`the capture folder ${folder} is a symbolic link: onepush never writes captures through a link`, 'remove the link (a cloned repository may have planted it), or pass --save <file>');
  }
  if (!st.isDirectory()) throw new CaptureLogError(`cannot open the capture log ${path}: ${folder} is not a folder`, 'pass another file with --save <file>, or --no-save');
  if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
    throw new CaptureLogError(`the capture folder ${folder} belongs to another user`, 'remove it, or pass --save <file> in a folder of yours');
  }
  if ((st.mode & 0o077) !== 0) {
    try {
      // chmod through the path would follow a link swapped in since the lstat; the folder is opened without
      // following and changed through its descriptor.
      const fd = openSync(folder, constants.O_RDONLY | NOFOLLOW | (constants.O_DIRECTORY ?? 0));
      try {
        fchmodSync(fd, 0o700);
      } finally {
        closeSync(fd);
      }
      warn(`the capture folder ${folder} was open to other users (mode ${(st.mode & 0o777).toString(8)}): now 0700`);
    } catch (e) {
      throw new CaptureLogError(`the capture folder ${folder} is open to other users and cannot be closed: ${words(e)}`, 'chmod 700 it, or pass --save <file>');
    }
  }
}

/** Copies bytes [from, to) of `fd` to the end of `aside` (a new or existing `.torn` file, never through a link). */
function moveAside(fd: number, from: number, to: number, aside: string): void {
  const out = openSync(aside, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | NOFOLLOW | NONBLOCK, 0o600);
  try {
    if (!fstatSync(out).isFile()) throw Object.assign(new Error(`${aside} is not a file`), { code: 'ENXIO' });
    const CHUNK = 64 * 1024;
    for (let at = from; at < to; at += CHUNK) writeAllBytes(out, readAt(fd, at, Math.min(CHUNK, to - at)));
    writeAllBytes(out, Buffer.from('\n'));
  } finally {
    closeSync(out);
  }
}

/** The lock beside the log: one writer at a time. A lock whose process is gone (`kill -9`) is taken over. */
function takeLock(path: string): string {
  const lock = `${path}.lock`;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const fd = openSync(lock, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      return lock;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new CaptureLogError(`cannot lock the capture log ${path} (${basename(lock)}): ${words(e)}`, 'pass another file with --save <file>, or --no-save');
    }
    let pid = Number.NaN;
    try {
      const st = lstatSync(lock);
      if (st.isFile()) pid = Number.parseInt(readFileSync(lock, 'utf8'), 10);
    } catch {
      continue; // gone in between: try again
    }
    if (Number.isInteger(pid) && pid > 0 && pid !== process.pid && alive(pid)) {
      throw new CaptureLogError(`another onepush listen (pid ${pid}) is writing ${path}`, 'stop it, or give this one its own log: --save <file> (or --no-save)');
    }
    try {
      unlinkSync(lock); // stale: its process is gone
    } catch {
      // taken by another start in between; the next attempt says so
    }
  }
  throw new CaptureLogError(`cannot lock the capture log ${path}`, 'pass another file with --save <file>, or --no-save');
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

interface Opened {
  file: LogFile;
  size: number;
  created: boolean;
}

/**
 * Opens the log for appending, or refuses it: never through a symlink, only a regular file of this user, only a
 * capture log (or an empty file); a torn tail is moved aside; modes open to others are tightened to 0600.
 */
function openLog(path: string, warn: (m: string) => void): Opened {
  let fd: number;
  let created = false;
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_APPEND | NOFOLLOW | NONBLOCK);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new CaptureLogError(`cannot open the capture log ${path}: ${words(e)}`, 'pass another file with --save <file>, or --no-save');
    try {
      fd = openSync(path, constants.O_RDWR | constants.O_APPEND | constants.O_CREAT | constants.O_EXCL | NOFOLLOW, 0o600);
      created = true;
    } catch (e2) {
      throw new CaptureLogError(`cannot create the capture log ${path}: ${words(e2)}`, 'pass another file with --save <file>, or --no-save');
    }
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) throw new CaptureLogError(`cannot open the capture log ${path}: it is not a regular file`, 'pass another file with --save <file>, or --no-save');
    if (typeof process.getuid === 'function' && st.uid !== process.getuid()) {
      throw new CaptureLogError(`the capture log ${path} belongs to another user`, 'pass another file with --save <file>');
    }
    let size = st.size;
    if (size > 0) {
      const head = readAt(fd, 0, Math.min(size, CAPTURE_START.length)).toString('latin1');
      if (!CAPTURE_START.startsWith(head) && !head.startsWith(CAPTURE_START)) {
        throw new CaptureLogError(`${path} is not a capture log (it does not start like one): onepush appends only to its own logs`, 'pass another file with --save <file>, or --no-save');
      }
      const last = readAt(fd, size - 1, 1);
      if (last[0] !== 10) {
        const end = endOfLastLine(fd, size);
        try {
          moveAside(fd, end, size, `${path}.torn`);
        } catch (e) {
          throw new CaptureLogError(`the capture log ${path} ends in a torn line, which cannot be moved aside to ${path}.torn: ${words(e)}`, 'move or remove the log, or pass --save <file>');
        }
        ftruncateSync(fd, end);
        warn(`${path} ended in a torn line (${(size - end).toLocaleString('en-US')} bytes never answered: the listener was killed mid-write, or the disk was full); moved it to ${path}.torn`);
        size = end;
      }
    }
    if ((st.mode & 0o077) !== 0) {
      fchmodSync(fd, 0o600);
      warn(`the capture log ${path} was readable by other users (mode ${(st.mode & 0o777).toString(8)}): now 0600`);
    }
    return { file: { fd, ino: st.ino, dev: st.dev }, size, created };
  } catch (e) {
    closeSync(fd);
    if (created) rmSync(path, { force: true });
    throw e;
  }
}

/**
 * Opens (creating) the capture log for appending, file 0600 (a created folder 0700), since captures hold signed
 * bodies and headers. Throws CaptureLogError with the reason when it refuses or cannot open it.
 */
export function openCaptureStore(path: string, options: CaptureStoreOptions = {}): CaptureStore {
  const warn = options.onWarning ?? (() => {});
  const refs = options.refs === true;
  prepareFolder(path, options.createFolder === true, warn);
  const lock = takeLock(path);
  let opened: Opened;
  try {
    opened = openLog(path, warn);
  } catch (e) {
    rmSync(lock, { force: true });
    throw e;
  }
  let { file, size } = opened;
  const created = opened.created;
  /** Files this store wrote and that were replaced (deleted, moved): kept open so their refs stay readable. */
  const retired: LogFile[] = [];
  let written = false;
  let lines: Array<string | readonly string[]> = [];
  let withParts = false;
  let waiting: Array<(error: Error | undefined, ref: CaptureRef | undefined) => void> = [];
  let scheduled = false;
  let closed = false;

  /** Cuts the file back to `before` (or, if it was cut shorter meanwhile, to its last whole line). */
  const cutBack = (before: number): void => {
    try {
      const now = fstatSync(file.fd).size;
      size = endOfLastLine(file.fd, Math.min(before, now));
      ftruncateSync(file.fd, size);
    } catch {
      // If even the cut fails, the next open moves the torn tail aside.
    }
  };

  /**
   * Writes lines at the end of the file: one write when they are all small (the usual batch), else small lines
   * together and each part of a large one as it is. On failure the file is cut back to where they started, so
   * nothing half-written (nor any line of a batch that is answered 503) stays in the log.
   */
  const writeLines = (batch: ReadonlyArray<string | readonly string[]>, joined: boolean): void => {
    const before = size;
    const put = (text: string): void => {
      size += writeAll(file.fd, text);
    };
    try {
      if (joined) put(batch.length === 1 ? (batch[0] as string) : (batch as string[]).join(''));
      else {
        let text = '';
        for (const line of batch) {
          if (typeof line === 'string') text += line;
          else {
            if (text !== '') put(text);
            text = '';
            for (const part of line) put(part);
          }
        }
        if (text !== '') put(text);
      }
    } catch (e) {
      cutBack(before);
      throw e;
    }
  };

  /** True when the path still names the file we write (cheap: one stat). */
  const stillOurs = (): boolean => {
    const st = statSync(path, { throwIfNoEntry: false });
    return st !== undefined && st.ino === file.ino && st.dev === file.dev;
  };

  /** The log was deleted or replaced: start a new one at the path (same checks as at start). */
  const reopen = (): void => {
    const next = openLog(path, warn);
    retired.push(file);
    file = next.file;
    size = next.size;
    warn(`the capture log ${path} was deleted or replaced while listening: started a new one there (events saved before are not in it)`);
  };

  const flush = (): void => {
    scheduled = false;
    if (lines.length === 0) return;
    const batch = lines;
    const callbacks = waiting;
    const joined = !withParts;
    lines = [];
    waiting = [];
    withParts = false;
    let error: Error | undefined;
    let start = size;
    try {
      written = true;
      writeLines(batch, joined);
      if (!stillOurs()) {
        reopen();
        start = size;
        writeLines(batch, joined);
      }
    } catch (e) {
      // disk full, a log that cannot be started again…: those requests get a 503, so the sender retries
      error = e instanceof CaptureLogError ? Object.assign(new Error(e.message), { code: 'ELOG' }) : (e as Error);
    }
    if (!refs || error) {
      for (const cb of callbacks) callAll(cb, error, undefined);
      return;
    }
    let offset = start;
    for (let i = 0; i < callbacks.length; i++) {
      const line = batch[i] as string | readonly string[];
      const length = batch.length === 1 ? size - start : typeof line === 'string' ? Buffer.byteLength(line) : line.reduce((sum, part) => sum + Buffer.byteLength(part), 0);
      callAll(callbacks[i] as (typeof callbacks)[number], undefined, { file, offset, length: length - 1 });
      offset += length;
    }
  };

  return {
    path,
    append(line, then) {
      if (closed) throw new Error('capture store is closed');
      if (typeof line !== 'string') withParts = true;
      lines.push(line);
      waiting.push(then);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    tryAppend(line) {
      if (closed) return false;
      try {
        writeLines([line], true);
        return true;
      } catch {
        return false;
      }
    },
    read(ref) {
      return readAt(ref.file.fd, ref.offset, ref.length);
    },
    close() {
      if (closed) return;
      flush();
      closed = true;
      for (const f of [file, ...retired]) {
        try {
          fsyncSync(f.fd);
        } catch {
          // the data is written either way
        }
        closeSync(f.fd);
      }
      rmSync(lock, { force: true });
    },
    discard() {
      this.close();
      if (created && !written) rmSync(path, { force: true });
    },
  };
}

/** Writes all of `text`: the string straight to the file (no Buffer made here), the rest if the write was short. */
function writeAll(fd: number, text: string): number {
  const written = writeSync(fd, text);
  const size = Buffer.byteLength(text);
  if (written >= size) return size;
  const buf = Buffer.from(text, 'utf8');
  writeAllBytes(fd, buf.subarray(written));
  return size;
}

function writeAllBytes(fd: number, buf: Buffer): void {
  for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
}
