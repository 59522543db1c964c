import { readFile as readFileCallback } from 'node:fs';
import { UsageError } from '../core/errors.js';

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

/** A UsageError that says in words why a file could not be read. */
export function fileError(file: string, e: unknown): UsageError {
  const code = (e as NodeJS.ErrnoException).code;
  const why =
    code === 'ENOENT'
      ? 'no such file'
      : code === 'EISDIR'
        ? 'it is a directory'
        : code === 'EACCES' || code === 'EPERM'
          ? 'permission denied'
          : code === 'ELOOP'
            ? 'a symbolic link loop'
            : code === 'ENOTDIR'
              ? 'a parent is not a folder'
              : (e as Error).message;
  return new UsageError(`cannot read ${file}: ${why}`, code === 'ENOENT' ? 'check the path' : undefined, e);
}
