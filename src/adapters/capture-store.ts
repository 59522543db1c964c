import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, rmSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';

// The append-only capture log of `listen` (SPEC.md §3). Every answered request is written BEFORE its answer is
// sent, so an event that got its 200 survives `kill -9` of the listener. For speed the lines of one event-loop
// turn are written together, with one synchronous write, and only then are the answers of that batch sent.

/**
 * Where captures go; `append` calls `then` once the line is written (with the error when it could not be: the
 * caller then must not answer 200), at the end of the current event-loop turn.
 */
export interface CaptureStore {
  readonly path: string | null;
  append(line: string, then: (error?: Error) => void): void;
  /** Writes what is pending and closes the file. */
  close(): void;
  /** Closes the file and removes it if this store created it and nothing was written (a start that failed). */
  discard(): void;
}

/**
 * A store that saves nothing (--no-save). Answers still go out once per event-loop turn: sending a batch of answers
 * together is measurably faster under load than one at a time (bench/listen.bench.ts).
 */
export function noCaptureStore(): CaptureStore {
  let waiting: Array<(error?: Error) => void> = [];
  const flush = (): void => {
    const callbacks = waiting;
    waiting = [];
    for (const cb of callbacks) cb();
  };
  return {
    path: null,
    append(_line, then) {
      if (waiting.push(then) === 1) setImmediate(flush);
    },
    close: flush,
    discard: flush,
  };
}

/**
 * Opens (creating) the capture log for appending: the file 0600 and a created folder 0700, since captures hold
 * signed bodies and headers. Throws the fs error when it cannot be opened.
 */
export function openCaptureStore(path: string): CaptureStore {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const created = !existsSync(path);
  const fd = openSync(path, 'a', 0o600);
  let written = false;
  let lines: string[] = [];
  let waiting: Array<(error?: Error) => void> = [];
  let scheduled = false;
  let closed = false;

  const flush = (): void => {
    scheduled = false;
    if (lines.length === 0) return;
    const text = lines.length === 1 ? (lines[0] as string) : lines.join('');
    const callbacks = waiting;
    lines = [];
    waiting = [];
    let error: Error | undefined;
    try {
      written = true;
      writeAll(fd, text);
    } catch (e) {
      error = e as Error; // disk full, file removed from under us…: those requests get a 503, so the sender retries
    }
    for (const cb of callbacks) cb(error);
  };

  return {
    path,
    append(line, then) {
      if (closed) throw new Error('capture store is closed');
      lines.push(line);
      waiting.push(then);
      if (!scheduled) {
        scheduled = true;
        setImmediate(flush);
      }
    },
    close() {
      if (closed) return;
      flush();
      closed = true;
      try {
        fsyncSync(fd);
      } catch {
        // Not every file supports fsync (e.g. /dev/null); the data is written either way.
      }
      closeSync(fd);
    },
    discard() {
      this.close();
      if (created && !written) rmSync(path, { force: true });
    },
  };
}

/** Writes all of `text`: the string straight to the file (no Buffer made here), the rest if the write was short. */
function writeAll(fd: number, text: string): void {
  const written = writeSync(fd, text);
  const size = Buffer.byteLength(text);
  if (written >= size) return;
  const buf = Buffer.from(text, 'utf8');
  for (let off = written; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off);
}
