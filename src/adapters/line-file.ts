import { closeSync, constants, fstatSync, ftruncateSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { UsageError } from '../core/errors.js';
import { errnoWords } from './files.js';

// An output file written line by line (simulate's --save and --expect): buffered into 64 KiB writes, so a million
// lines cost a few hundred system calls and memory stays flat. Never through a symbolic link, only into a regular
// file (a cloned repository may plant `expected.ndjson -> ~/.bashrc`).

export interface LineFile {
  readonly path: string;
  /** Appends `text` (one or more whole lines, with their newlines). */
  write(text: string): void;
  /** Writes what is buffered and closes the file. */
  close(): void;
}

const FLUSH_AT = 64 * 1024;

/** Opens (creates or truncates) `path` for writing lines; a UsageError naming the file when it cannot. */
export function openLineFile(path: string, what: string): LineFile {
  let fd: number;
  try {
    try {
      mkdirSync(dirname(path));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    fd = openSync(path, constants.O_WRONLY | constants.O_CREAT | (constants.O_NOFOLLOW ?? 0) | (constants.O_NONBLOCK ?? 0), 0o644);
    try {
      if (!fstatSync(fd).isFile()) throw Object.assign(new Error('not a regular file'), { code: 'ENXIO' });
      ftruncateSync(fd, 0);
    } catch (e) {
      closeSync(fd);
      throw e;
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot write ${what} ${path}: ${code === 'ELOOP' ? 'it is a symbolic link' : code === 'ENXIO' ? 'not a regular file' : errnoWords(e)}`, 'name a new file or a regular file you own', e);
  }
  let buffer = '';
  let closed = false;
  const flush = (): void => {
    if (buffer === '') return;
    const bytes = Buffer.from(buffer, 'utf8');
    buffer = '';
    try {
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off, bytes.length - off);
    } catch (e) {
      throw new UsageError(`cannot write ${what} ${path}: ${errnoWords(e)}`, undefined, e);
    }
  };
  return {
    path,
    write(text) {
      buffer += text;
      if (buffer.length >= FLUSH_AT) flush();
    },
    close() {
      if (closed) return;
      closed = true;
      try {
        flush();
      } finally {
        closeSync(fd);
      }
    },
  };
}
