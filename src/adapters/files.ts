import { readFile as readFileText } from 'node:fs/promises';
import { closeSync, constants, fstatSync, ftruncateSync, mkdirSync, openSync, readFile as readFileCallback, readSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../core/errors.js';
import { jsonProblem, parseJson } from '../core/json.js';

// node:fs rather than node:fs/promises: the latter loads readline and the stream machinery at require time, a few
// ms of start-up that `sign`/`verify` would pay for one read (bench/startup.bench.ts).
function readFile(file: string): Promise<Buffer> {
  return new Promise((resolve, reject) => readFileCallback(file, (e, data) => (e ? reject(e) : resolve(data))));
}

/** Reads all of a readable stream (stdin) as bytes. */
export async function readStream(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : Buffer.from(chunk));
  return Buffer.concat(chunks);
}

/** stdin, or a function giving it: process.stdin builds a stream (and loads its modules) when first touched. */
export type StdinSource = NodeJS.ReadableStream | (() => NodeJS.ReadableStream);

export const stdinOf = (source: StdinSource): NodeJS.ReadableStream => (typeof source === 'function' ? source() : source);

/** A file's exact bytes, or stdin's for `-`/undefined; a missing or unreadable file is a UsageError (exit 2). */
export async function readInput(file: string | undefined, stdin: StdinSource): Promise<Buffer> {
  if (file === undefined || file === '-') return readStream(stdinOf(stdin));
  try {
    return await readFile(file);
  } catch (e) {
    throw fileError(file, e);
  }
}

/** Why a file operation failed, in words (the one place that names errno codes for files). */
export function errnoWords(e: unknown): string {
  switch ((e as NodeJS.ErrnoException).code) {
    case 'ENOENT':
      return 'no such file';
    case 'EISDIR':
      return 'it is a directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ELOOP':
      return 'a symbolic link loop';
    case 'ENOTDIR':
      return 'a parent is not a folder';
    case 'ENOSPC':
      return 'no space left on the disk';
    case 'EROFS':
      return 'read-only file system';
    case 'ENXIO':
      return 'it is a pipe or a device, not a file';
    default:
      return (e as Error).message;
  }
}

/** A UsageError that says in words why a file could not be read. */
export function fileError(file: string, e: unknown): UsageError {
  const code = (e as NodeJS.ErrnoException).code;
  return new UsageError(`cannot read ${file}: ${errnoWords(e)}`, code === 'ENOENT' ? 'check the path' : undefined, e);
}

/**
 * Writes a report file the user named (`check --junit`): never through a symbolic link (a cloned repository may plant
 * `onepush-check.xml -> ~/.bashrc`) and only into a regular file. Its folder is created when its parent exists (one
 * level, as `reports/check.xml` in CI wants), never a tree. Throws the fs error.
 */
export function writeOwnFile(path: string, data: string): void {
  try {
    mkdirSync(dirname(path));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0), 0o644);
  try {
    if (!fstatSync(fd).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENXIO' });
    ftruncateSync(fd, 0);
    const buf = Buffer.from(data, 'utf8');
    for (let off = 0; off < buf.length; ) off += writeSync(fd, buf, off, buf.length - off, off);
  } finally {
    closeSync(fd);
  }
}

/** The JSON value of a file: an unreadable file or one that is not JSON is a UsageError naming the file and why. */
export async function readJsonFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFileText(file, 'utf8');
  } catch (e) {
    throw fileError(file, e);
  }
  try {
    return parseJson(text);
  } catch (e) {
    throw new UsageError(`${file} is ${jsonProblem(e)}`);
  }
}

/** The text (UTF-8) of an open file's first `size` bytes, read whole (short reads continue; end of file stops). */
export function readAllText(fd: number, size: number): string {
  const buf = Buffer.alloc(size);
  let got = 0;
  while (got < size) {
    const n = readSync(fd, buf, got, size - got, got);
    if (n === 0) break;
    got += n;
  }
  return buf.toString('utf8', 0, got);
}

/** Reads `length` bytes of `fd` at `position` (short reads finished; fewer at the end of the file). */
export function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.allocUnsafe(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/** The offset just past the last newline of the first `size` bytes of `fd` (0 when there is none): its whole lines. */
export function endOfLastLine(fd: number, size: number): number {
  const CHUNK = 64 * 1024;
  for (let end = size; end > 0; ) {
    const start = Math.max(0, end - CHUNK);
    const nl = readAt(fd, start, end - start).lastIndexOf(10);
    if (nl !== -1) return start + nl + 1;
    end = start;
  }
  return 0;
}
