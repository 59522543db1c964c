import { closeSync, constants, ftruncateSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

// Bodies waiting to be forwarded when nothing is saved (`listen --no-save --forward-to`): held in memory up to a
// budget, then written to a private temporary file (a 0700 folder of its own, removed at close), so memory does not
// grow with the number of events waiting while the app is down. With a capture log, the queue refers to the log
// instead and needs none of this.

/** Where a spooled body is: in memory, or at an offset of the spool file. */
export type SpoolRef = { memory: Buffer } | { offset: number; length: number };

export interface Spool {
  put(body: Buffer): SpoolRef;
  get(ref: SpoolRef): Buffer;
  /** The body was forwarded (or given up): its memory counts no more. */
  release(ref: SpoolRef): void;
  /** Bytes held in memory now. */
  readonly memoryBytes: number;
  close(): void;
}

/** Bodies kept in memory before the spool file is used (README: Limits). */
export const SPOOL_MEMORY_BUDGET = 16 * 1024 * 1024;

export function createSpool(budget = SPOOL_MEMORY_BUDGET): Spool {
  let memory = 0;
  let dir: string | undefined;
  let fd: number | undefined;
  let size = 0;
  /** Bodies in the file not yet released: at none, the file is emptied (it is reused from its start). */
  let inFile = 0;
  const file = (): number => {
    if (fd === undefined) {
      dir = mkdtempSync(join(tmpdir(), 'onepush-spool-'));
      fd = openSync(join(dir, 'bodies'), constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
    }
    return fd;
  };
  return {
    get memoryBytes() {
      return memory;
    },
    put(body) {
      if (memory + body.length <= budget) {
        memory += body.length;
        return { memory: body };
      }
      const f = file();
      for (let off = 0; off < body.length; ) off += writeSync(f, body, off, body.length - off, size + off);
      const ref = { offset: size, length: body.length };
      size += body.length;
      inFile++;
      return ref;
    },
    get(ref) {
      if ('memory' in ref) return ref.memory;
      const buf = Buffer.allocUnsafe(ref.length);
      for (let got = 0; got < ref.length; ) {
        const n = readSync(fd as number, buf, got, ref.length - got, ref.offset + got);
        if (n === 0) throw new Error('the spool file is shorter than expected');
        got += n;
      }
      return buf;
    },
    release(ref) {
      if ('memory' in ref) memory -= ref.memory.length;
      else if (--inFile === 0 && fd !== undefined) {
        ftruncateSync(fd, 0);
        size = 0;
      }
    },
    close() {
      if (fd !== undefined) closeSync(fd);
      if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
      fd = undefined;
      dir = undefined;
    },
  };
}
