import { createReadStream } from 'node:fs';
import { fileError } from './files.js';

/** One line of an NDJSON file; `terminated` is false for a last line with no newline (a crash can tear one). */
export interface Line {
  text: string;
  number: number;
  terminated: boolean;
}

/** Splits a byte stream into lines without holding more than one line in memory (CRLF tolerated). */
export async function* splitLines(stream: AsyncIterable<Buffer | string>): AsyncGenerator<Line> {
  let rest: Buffer | undefined;
  let number = 0;
  for await (const chunk of stream) {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (rest) {
      buf = Buffer.concat([rest, buf]);
      rest = undefined;
    }
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      const end = nl > start && buf[nl - 1] === 13 ? nl - 1 : nl;
      number++;
      yield { text: buf.toString('utf8', start, end), number, terminated: true };
      start = nl + 1;
    }
    if (start < buf.length) rest = buf.subarray(start);
  }
  if (rest && rest.length > 0) {
    number++;
    yield { text: rest.toString('utf8'), number, terminated: false };
  }
}

/** Opens a file (or stdin for `-`) for reading line by line; a missing file is a UsageError (exit 2). */
export async function openLines(file: string, stdin: NodeJS.ReadableStream): Promise<AsyncGenerator<Line>> {
  if (file === '-') return splitLines(stdin as AsyncIterable<Buffer>);
  const stream = createReadStream(file, { highWaterMark: 1 << 16 });
  await new Promise<void>((resolve, reject) => {
    stream.once('open', () => resolve());
    stream.once('error', (e) => reject(fileError(file, e)));
  });
  return splitLines(readErrorsAsUsage(stream, file));
}

/** A read that fails after the open (EISDIR for a directory) becomes the same clear UsageError as a failed open. */
async function* readErrorsAsUsage(stream: AsyncIterable<Buffer>, file: string): AsyncGenerator<Buffer> {
  try {
    for await (const chunk of stream) yield chunk;
  } catch (e) {
    throw (e as NodeJS.ErrnoException).code === undefined ? e : fileError(file, e);
  }
}
