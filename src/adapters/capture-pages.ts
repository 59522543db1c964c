import { closeSync, constants, fstatSync, openSync, statSync } from 'node:fs';
import { endOfLastLine, errnoWords, readAt } from './files.js';

// Capture logs of any size, read as pages (the inspector): a record is named by where its line starts (its byte
// offset in the files, one after the other), so the newest page of a million-line log is one read from the end,
// and an older page is one read before the previous one, with nothing held but the page. Counting the lines (the
// total the page shows) runs in the background, a slice at a time, so a listener answering on the same thread is
// never held up. Only whole lines (ended by a newline) are records: a line being written is not one yet.

/** One capture line: `n` is where it starts (the record's name), `text` the line without its newline. */
export interface PageLine {
  n: number;
  text: string;
  /** The file it is in. */
  file: string;
}

interface Part {
  path: string;
  fd: number;
  /** Where this file's bytes start among all files'. */
  base: number;
  /** The bytes known to end in whole lines. */
  size: number;
  /** The last file may grow (a listener appending). */
  grows: boolean;
  ino: number;
  dev: number;
  /** Truncated under us: its record numbers name nothing any more (they are never given to other lines). */
  dead?: boolean;
}

/** Sees one whole line: `bytes[start..end)`, `n` where it starts; `counted` when it is counted by this call. */
export type LineVisitor = (bytes: Buffer, start: number, end: number, n: number, counted: boolean) => void;

/** A line longer than this is skipped whole (a capture line is at most ~14 MiB: a 10 MiB body as base64). */
const MAX_LINE = 32 * 1024 * 1024;
const CHUNK = 256 * 1024;

/** Capture files opened for paging; a file that cannot be read is an Error naming it. */
export class CapturePages {
  private readonly parts: Part[] = [];
  private counted = 0;
  private countedTo = 0;
  private counting: Promise<void> | undefined;
  private closed = false;

  /** `growing`: the last file is a log still being written (it is re-read for new lines by `refresh`). */
  constructor(paths: readonly string[], growing = false) {
    let base = 0;
    try {
      paths.forEach((path, i) => {
        let fd: number;
        try {
          fd = openSync(path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
        } catch (e) {
          throw new Error(`cannot read ${path}: ${errnoWords(e)}`);
        }
        const st = fstatSync(fd);
        if (!st.isFile()) {
          closeSync(fd);
          throw new Error(`cannot read ${path}: not a regular file`);
        }
        const size = endOfLastLine(fd, st.size);
        this.parts.push({ path, fd, base, size, grows: growing && i === paths.length - 1, ino: st.ino, dev: st.dev });
        base += size;
      });
    } catch (e) {
      this.close();
      throw e;
    }
  }

  /** The files, as named. */
  get files(): string[] {
    return this.parts.map((p) => p.path);
  }

  /** Where the next record will start: the end of all whole lines. */
  get end(): number {
    const last = this.parts[this.parts.length - 1];
    return last === undefined ? 0 : last.base + last.size;
  }

  /** Lines counted so far, and whether counting has reached the end. */
  get total(): { lines: number; complete: boolean } {
    return { lines: this.counted, complete: this.countedTo >= this.end };
  }

  /**
   * Takes in the new whole lines of a growing log since the last call, a slice of at most 4 MiB at a time: each is
   * seen by `visit` (its bytes, and `n`; `counted`: counting it here, not in the background), and the newest `keep`
   * are returned as text, oldest first (no other line is decoded).
   */
  refresh(visit: LineVisitor, keep: number): PageLine[] {
    const kept: PageLine[] = [];
    const last = this.parts[this.parts.length - 1];
    if (last === undefined || !last.grows || this.closed) return kept;
    this.takeIn(last, visit, keep, kept);
    // Replaced (deleted, and a new log started): what was left in the old file was taken in above; on to the new.
    const next = this.followReplaced();
    if (next !== undefined) this.takeIn(next, visit, keep, kept);
    return kept.length > keep ? kept.slice(-keep) : kept;
  }

  private takeIn(part: Part, visit: LineVisitor, keep: number, kept: PageLine[]): void {
    let size: number;
    try {
      size = fstatSync(part.fd).size;
    } catch {
      return;
    }
    while (size > part.size) {
      const bytes = readAt(part.fd, part.size, Math.min(size - part.size, 16 * CHUNK));
      const cut = bytes.lastIndexOf(10);
      if (cut === -1) break;
      const from = part.base + part.size;
      // Counted here when counting had caught up (the usual case: a listener's new lines); else counting will.
      const counting = this.countedTo === from;
      // The lines' ends first, so only the newest `keep` are decoded.
      const ends: number[] = [];
      for (let nl = bytes.indexOf(10); nl !== -1 && nl <= cut; nl = bytes.indexOf(10, nl + 1)) ends.push(nl);
      const firstKept = Math.max(0, ends.length - keep);
      let start = 0;
      for (let i = 0; i < ends.length; i++) {
        const nl = ends[i] as number;
        if (counting) this.counted++;
        visit(bytes, start, nl, from + start, counting);
        if (i >= firstKept && nl > start) {
          kept.push({ n: from + start, text: bytes.toString('utf8', start, nl), file: part.path });
          if (kept.length > keep * 2) kept.splice(0, kept.length - keep);
        }
        start = nl + 1;
      }
      part.size += cut + 1;
      if (counting) this.countedTo = part.base + part.size;
    }
  }

  /**
   * Counts the lines in the background, a slice at a time (each slice yields to the event loop); `visit` sees each
   * whole line's bytes (`bytes[start..end)`, `n` where it starts), oldest first.
   */
  count(visit?: (bytes: Buffer, start: number, end: number, n: number) => void): Promise<void> {
    this.counting ??= (async () => {
      let want = 4 * CHUNK;
      while (!this.closed && this.countedTo < this.end) {
        const part = this.partAt(this.countedTo);
        if (part === undefined) break;
        const from = this.countedTo - part.base;
        const bytes = readAt(part.fd, from, Math.min(want, part.size - from));
        const last = bytes.lastIndexOf(10);
        if (last === -1) {
          // One line longer than the slice: read more of it (a line too long to be a capture is passed over whole).
          if (want < MAX_LINE) {
            want *= 4;
            continue;
          }
          this.countedTo += bytes.length;
          continue;
        }
        want = 4 * CHUNK;
        let start = 0;
        let nl: number;
        while ((nl = bytes.indexOf(10, start)) !== -1 && nl <= last) {
          this.counted++;
          visit?.(bytes, start, nl, this.countedTo + start);
          start = nl + 1;
        }
        this.countedTo += last + 1;
        await new Promise<void>((r) => setImmediate(r));
      }
    })();
    return this.counting;
  }

  /**
   * Up to `limit` lines before `before` (a record's n, or the end), newest first, reading at most `maxBytes`;
   * `next` is where to go on (null at the start of the first file).
   */
  before(before: number | null, limit: number, maxBytes = 64 * 1024 * 1024): { lines: PageLine[]; next: number | null } {
    let pos = before === null ? this.end : Math.min(before, this.end);
    const lines: PageLine[] = [];
    let read = 0;
    while (pos > 0 && lines.length < limit && read < maxBytes) {
      const part = this.partAt(pos - 1);
      if (part === undefined) break;
      if (part.dead === true) {
        pos = part.base;
        continue;
      }
      // Whole lines ending at pos: read back a chunk (larger for a long line) and take what starts in it.
      const partEnd = pos - part.base;
      let want = CHUNK;
      for (;;) {
        const start = Math.max(0, partEnd - want);
        const bytes = readAt(part.fd, start, partEnd - start);
        read += bytes.length;
        // The first line starts at the beginning of the file, or after a newline in what was read (not the last
        // byte: that ends the line before pos).
        const nl = start === 0 ? -1 : bytes.indexOf(10);
        const firstNl = nl === bytes.length - 1 ? -1 : nl;
        if (firstNl === -1 && start > 0) {
          if (want >= MAX_LINE) {
            // A line too long to be a capture: skipped, whole.
            pos = part.base + start;
            break;
          }
          want *= 4;
          continue;
        }
        const from = firstNl + 1;
        const chunkLines = splitLines(bytes.subarray(from), part.base + start + from, part.path);
        for (let i = chunkLines.length - 1; i >= 0 && lines.length < limit; i--) {
          const line = chunkLines[i] as PageLine;
          lines.push(line);
          pos = line.n;
        }
        if (lines.length < limit) pos = part.base + start + from;
        break;
      }
    }
    return { lines, next: pos > 0 ? pos : null };
  }

  /** The line that starts at `n`, or undefined when no line starts there. */
  line(n: number): PageLine | undefined {
    if (!Number.isSafeInteger(n) || n < 0 || n >= this.end) return undefined;
    const part = this.partAt(n);
    if (part === undefined || part.dead === true) return undefined;
    const at = n - part.base;
    // It must start a line: the first byte of a file, or right after a newline.
    if (at > 0 && readAt(part.fd, at - 1, 1)[0] !== 10) return undefined;
    let want = CHUNK;
    for (;;) {
      const bytes = readAt(part.fd, at, Math.min(want, part.size - at));
      const nl = bytes.indexOf(10);
      if (nl !== -1) return { n, text: bytes.toString('utf8', 0, nl), file: part.path };
      if (want >= MAX_LINE || at + bytes.length >= part.size) return undefined;
      want *= 4;
    }
  }

  close(): void {
    this.closed = true;
    for (const p of this.parts.splice(0)) {
      try {
        closeSync(p.fd);
      } catch {
        // already closed
      }
    }
  }

  /**
   * A growing log deleted or replaced (a listener starts a new one when its log is deleted): its new file is read on
   * from here, as a file of its own after the old one (whose lines stay readable through its open descriptor).
   */
  private followReplaced(): Part | undefined {
    const last = this.parts[this.parts.length - 1];
    if (last === undefined || !last.grows || this.closed) return undefined;
    let fd: number;
    let truncated = false;
    try {
      const st = statSync(last.path);
      truncated = st.isFile() && st.ino === last.ino && st.dev === last.dev && fstatSync(last.fd).size < last.size;
      if (!st.isFile() || (st.ino === last.ino && st.dev === last.dev && !truncated)) return undefined;
      fd = openSync(last.path, constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
    } catch {
      return undefined;
    }
    const st = fstatSync(fd);
    if (!st.isFile()) {
      closeSync(fd);
      return undefined;
    }
    last.grows = false;
    // Cut short (truncated, then written again): what it held is gone, and its numbers stay unused.
    if (truncated) last.dead = true;
    const part: Part = { path: last.path, fd, base: last.base + last.size, size: 0, grows: true, ino: st.ino, dev: st.dev };
    this.parts.push(part);
    return part;
  }

  private partAt(pos: number): Part | undefined {
    for (let i = this.parts.length - 1; i >= 0; i--) {
      const p = this.parts[i] as Part;
      if (pos >= p.base && pos < p.base + p.size) return p;
    }
    return undefined;
  }
}

/** The lines of whole-line bytes starting at byte `n0`, oldest first. */
function splitLines(bytes: Buffer, n0: number, file: string): PageLine[] {
  const lines: PageLine[] = [];
  let start = 0;
  let nl: number;
  while ((nl = bytes.indexOf(10, start)) !== -1) {
    if (nl > start) lines.push({ n: n0 + start, text: bytes.toString('utf8', start, nl), file });
    start = nl + 1;
  }
  return lines;
}
