import { randomBytes } from 'node:crypto';
import { closeSync, linkSync, lstatSync, openSync, realpathSync, renameSync, unlinkSync, writeSync, constants } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { errnoWords } from '../adapters/files.js';
import { NotACaptureLog, readCaptureLog } from '../adapters/capture-log.js';
import { InvalidInput } from '../core/errors.js';
import { DEFAULT_REDACT_SEED, Redactor } from '../core/redact.js';

// `onepush redact`: copies of capture logs that are safe to commit (src/core/redact.ts says what is replaced).

export interface RedactOptions {
  /** Capture logs (relative to `cwd`), or `-` for stdin. */
  files: readonly string[];
  cwd: string;
  /** The secret the redacted bodies are signed with. */
  secret: string;
  /** Fakes are derived from it (default DEFAULT_REDACT_SEED: the same log gives the same fixture). */
  seed?: string;
  /**
   * One output for every input (their captures one after the other), or `-` for `write`. Default: beside each input,
   * `<name>.redacted.ndjson` (`-` as input: `write`).
   */
  out?: string;
  /** Replace an output file that exists (never a symbolic link, nor anything but a regular file). */
  force?: boolean;
  /** Where `-` output goes. */
  write?: (text: string) => void;
  stdin?: () => NodeJS.ReadableStream;
  /** A torn last line of an input (a crash mid-write) is skipped and passed here. */
  onTorn?: (file: string, line: number) => void;
}

export interface RedactedFile {
  /** The input as named, and the output (`-` for stdout). */
  input: string;
  output: string;
  captures: number;
  /** Bodies that were not JSON and held personal data: replaced, flagged `redacted` in their capture. */
  bodiesReplaced: number;
}

export interface RedactOutcome {
  files: RedactedFile[];
  captures: number;
  bodiesReplaced: number;
}

/** The default output beside an input: `events.ndjson` → `events.redacted.ndjson`. */
export function redactedName(file: string): string {
  const ext = extname(file);
  const stem = ext === '.ndjson' || ext === '.jsonl' || ext === '.json' ? file.slice(0, -ext.length) : file;
  return `${stem}.redacted.ndjson`;
}

/** An output that may be written: not a link, not a folder, not an input, and not there unless `force`. */
function checkOutput(path: string, shown: string, force: boolean, inputs: ReadonlySet<string>): void {
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new InvalidInput(`cannot write ${shown}: ${errnoWords(e)}`);
    try {
      if (!lstatSync(dirname(path)).isDirectory()) throw new Error('not a folder');
    } catch {
      throw new InvalidInput(`cannot write ${shown}: its folder does not exist`, 'create it first, or pass another --out');
    }
    return;
  }
  if (st.isSymbolicLink()) throw new InvalidInput(`${shown} is a symbolic link: onepush never writes through one`, 'remove the link, or pass another --out');
  if (!st.isFile()) throw new InvalidInput(`${shown} exists and is not a regular file`, 'pass another --out');
  let real = path;
  try {
    real = realpathSync(path);
  } catch {
    // checked above; a race leaves it as given
  }
  if (inputs.has(real)) throw new InvalidInput(`${shown} is also an input: onepush does not redact a log in place`, 'pass another --out');
  if (!force) throw new InvalidInput(`${shown} exists: not overwritten`, 'pass --force to replace it, or another --out');
}

/** A private temporary file beside `path` (created, never opened through anything there), written then moved. */
class OutputFile {
  private readonly tmp: string;
  private readonly fd: number;
  private pending: string[] = [];
  private size = 0;
  constructor(
    private readonly path: string,
    private readonly force: boolean,
  ) {
    this.tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
    this.fd = openSync(this.tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0), 0o600);
  }
  write(text: string): void {
    this.pending.push(text);
    this.size += text.length;
    if (this.size >= 1 << 16) this.flush();
  }
  private flush(): void {
    if (this.pending.length === 0) return;
    const buf = Buffer.from(this.pending.join(''), 'utf8');
    this.pending = [];
    this.size = 0;
    for (let off = 0; off < buf.length; ) off += writeSync(this.fd, buf, off, buf.length - off);
  }
  /** Moves it into place: without `force` by a link, which fails if a file appeared there meanwhile. */
  commit(): void {
    this.flush();
    closeSync(this.fd);
    if (this.force) renameSync(this.tmp, this.path);
    else {
      linkSync(this.tmp, this.path);
      unlinkSync(this.tmp);
    }
  }
  discard(): void {
    try {
      closeSync(this.fd);
    } catch {
      // closed already
    }
    try {
      unlinkSync(this.tmp);
    } catch {
      // gone already
    }
  }
}

/**
 * Writes redacted copies of capture logs. Every output is checked before anything is read; an output is written to a
 * temporary file and moved into place only once its inputs were read whole, so a bad input leaves nothing behind.
 * A missing or unreadable input, a file that is not a capture log, a malformed line, or an output that cannot be
 * written throws InvalidInput (exit 2).
 */
export async function redact(options: RedactOptions): Promise<RedactOutcome> {
  if (options.files.length === 0) throw new InvalidInput('nothing to redact: name one or more capture logs', 'onepush redact .onepush/events.ndjson');
  if (options.files.filter((f) => f === '-').length > 1) throw new InvalidInput('stdin (-) can be read only once');
  const redactor = new Redactor(options.secret, options.seed ?? DEFAULT_REDACT_SEED);
  const force = options.force === true;
  const abs = (f: string): string => resolve(options.cwd, f);
  const inputs = new Set<string>();
  for (const f of options.files) {
    if (f === '-') continue;
    try {
      inputs.add(realpathSync(abs(f)));
    } catch (e) {
      throw new InvalidInput(`cannot read ${f}: ${errnoWords(e)}`, (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'check the path' : undefined);
    }
  }
  // Where each input goes: one --out for all, or its own file beside it.
  const plan: Array<{ inputs: string[]; output: string }> =
    options.out !== undefined ? [{ inputs: [...options.files], output: options.out }] : options.files.map((f) => ({ inputs: [f], output: f === '-' ? '-' : redactedName(f) }));
  for (const p of plan) if (p.output !== '-') checkOutput(abs(p.output), p.output, force, inputs);
  const seen = new Set<string>();
  for (const p of plan) {
    if (p.output === '-') continue;
    if (seen.has(abs(p.output))) throw new InvalidInput(`two inputs would be redacted into ${p.output}`, 'pass --out <file> to write them into one');
    seen.add(abs(p.output));
  }

  const outcome: RedactOutcome = { files: [], captures: 0, bodiesReplaced: 0 };
  for (const p of plan) {
    const file = p.output === '-' ? undefined : new OutputFile(abs(p.output), force);
    const write = file ? (t: string) => file.write(t) : (options.write ?? (() => {}));
    let written = 0;
    try {
      for (const input of p.inputs) {
        const result: RedactedFile = { input, output: p.output, captures: 0, bodiesReplaced: 0 };
        const captures = readCaptureLog(input === '-' ? '-' : abs(input), options.stdin ?? (() => process.stdin), (line) => options.onTorn?.(input, line));
        for await (const { capture } of withHint(captures)) {
          const r = redactor.redactCapture(capture);
          write(`${JSON.stringify(r.capture)}\n`);
          result.captures++;
          if (r.bodyReplaced) result.bodiesReplaced++;
        }
        written += result.captures;
        outcome.files.push(result);
        outcome.captures += result.captures;
        outcome.bodiesReplaced += result.bodiesReplaced;
      }
      // Nothing to redact (empty inputs): no output, and the caller says so.
      if (written > 0) file?.commit();
      else file?.discard();
    } catch (e) {
      file?.discard();
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new InvalidInput(`${p.output} exists: not overwritten (it appeared while redacting)`, 'pass --force to replace it');
      throw e;
    }
  }
  return outcome;
}

/** The captures of a log, its errors with what redact says about them (nothing written either way). */
async function* withHint<T>(captures: AsyncGenerator<T>): AsyncGenerator<T> {
  try {
    yield* captures;
  } catch (e) {
    if (!(e instanceof NotACaptureLog)) throw e;
    throw new InvalidInput(e.message, e.firstLine ? 'redact reads capture logs, as onepush listen --save writes them' : 'nothing was written');
  }
}
