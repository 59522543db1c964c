import { createReadStream } from 'node:fs';
import { fileError, stdinOf, type StdinSource } from './files.js';

/** The longest line read (README: Limits): a longer one is a bad line, skipped through without being held. */
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** One line of an NDJSON file; `terminated` is false for a last line with no newline (a crash can tear one). */
export interface Line {
  text: string;
  number: number;
  terminated: boolean;
  /** Set (to the line's size in bytes) for a line over the limit: `text` is then empty. */
  tooLong?: number;
}

export interface SplitOptions {
  /** The longest line kept, in bytes (default MAX_LINE_BYTES). */
  maxBytes?: number;
  /** Stops reading (the generator ends) when aborted. */
  signal?: AbortSignal | undefined;
}

/**
 * Splits a byte stream into lines, linear in the input: a line's pieces are joined once, when its newline comes
 * (CRLF tolerated). A line over `maxBytes` is yielded as `tooLong` and its bytes are dropped as they arrive, so memory
 * stays within one line of the limit whatever the input (a 2 GB file with no newline included).
 */
export async function* splitLines(stream: AsyncIterable<Buffer | string>, options: SplitOptions = {}): AsyncGenerator<Line> {
  const maxBytes = options.maxBytes ?? MAX_LINE_BYTES;
  const signal = options.signal;
  let parts: Buffer[] = [];
  let pending = 0;
  /** Bytes of a line over the limit seen so far; -1 when not in one. */
  let skipped = -1;
  let number = 0;
  const take = (piece: Buffer): Buffer => {
    if (parts.length === 0) return piece;
    parts.push(piece);
    const joined = Buffer.concat(parts, pending + piece.length);
    parts = [];
    pending = 0;
    return joined;
  };
  for await (const chunk of stream) {
    if (signal?.aborted) return;
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(10); nl !== -1; nl = buf.indexOf(10, start)) {
      number++;
      const length = nl - start;
      if (skipped >= 0 || pending + length > maxBytes) {
        const size = (skipped >= 0 ? skipped : pending) + length;
        parts = [];
        pending = 0;
        skipped = -1;
        yield { text: '', number, terminated: true, tooLong: size };
      } else {
        const line = take(buf.subarray(start, nl));
        const end = line.length > 0 && line[line.length - 1] === 13 ? line.length - 1 : line.length;
        yield { text: line.toString('utf8', 0, end), number, terminated: true };
      }
      start = nl + 1;
      if (signal?.aborted) return;
    }
    if (start < buf.length) {
      const rest = buf.length - start;
      if (skipped >= 0) skipped += rest;
      else if (pending + rest > maxBytes) {
        skipped = pending + rest;
        parts = [];
        pending = 0;
      } else {
        parts.push(buf.subarray(start));
        pending += rest;
      }
    }
  }
  if (skipped >= 0) yield { text: '', number: number + 1, terminated: false, tooLong: skipped };
  else if (pending > 0) yield { text: take(Buffer.alloc(0)).toString('utf8'), number: number + 1, terminated: false };
}

/** The message of a line over the limit. */
export function tooLongMessage(bytes: number, maxBytes = MAX_LINE_BYTES): string {
  return `line of ${bytes.toLocaleString('en-US')} bytes is over the ${Math.round(maxBytes / 1024 / 1024)} MiB line limit`;
}

/** Opens a file (or stdin for `-`) for reading line by line; a missing file is a UsageError (exit 2). */
export async function openLines(file: string, stdin: StdinSource, options: SplitOptions = {}): Promise<AsyncGenerator<Line>> {
  if (file === '-') return splitLines(stdinOf(stdin) as AsyncIterable<Buffer>, options);
  const stream = createReadStream(file, { highWaterMark: 1 << 16 });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (e) => reject(fileError(file, e)));
  });
  return splitLines(readErrorsAsUsage(stream, file), options);
}

/** A read that fails after the open (EISDIR for a directory) becomes the same clear UsageError as a failed open. */
async function* readErrorsAsUsage(stream: AsyncIterable<Buffer> & { destroy(): void }, file: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of stream) yield chunk;
  } catch (e) {
    throw (e as NodeJS.ErrnoException).code === undefined ? e : fileError(file, e);
  } finally {
    stream.destroy();
  }
}
