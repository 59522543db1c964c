import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { JsonDepthError, parseJson } from '../core/json.js';
import { readReplayLine, readReplayValue, type ReplayItem } from '../core/replay-select.js';
import { errnoWords, fileError } from './files.js';
import { openLines, tooLongMessage } from './lines.js';
import { DEFAULT_CAPTURE_LOG } from '../core/defaults.js';

// The sources `replay` reads: capture logs, directories of them, `listen --json` NDJSON, a plain event
// JSON file, or `-` for stdin. Read line by line, so memory stays flat for any size.

/** What reading a source gives: an event to send, a line skipped by design, or a bad line. */
export type SourceEvent =
  | { kind: 'item'; item: ReplayItem }
  | { kind: 'skip'; source: string; line: number; message: string }
  | { kind: 'bad'; source: string; line: number; message: string; torn: boolean };

/** Files in a directory that replay reads, by name. */
const DATA_FILE = /\.(ndjson|jsonl|json)$/i;
/** A plain event file is read whole (pretty-printed JSON spans lines); larger than this, it is read as NDJSON. */
const WHOLE_FILE_LIMIT = 16 * 1024 * 1024;

/** One file (or `-`) to read, as the user named it and as an absolute path. */
export interface SourceFile {
  name: string;
  path: string;
  size: number;
}

/**
 * Expands the sources: directories into their data files (sorted by name), `-` kept; a missing or unreadable source
 * is a UsageError (exit 2) before anything is sent. In a directory, an entry that cannot be read as a file (a
 * dangling symlink, a link loop, a folder named like a data file) is passed over and said through `onSkip`.
 */
export async function expandSources(sources: readonly string[], cwd: string, onSkip: (name: string, why: string) => void = () => {}): Promise<SourceFile[]> {
  const out: SourceFile[] = [];
  const given = sources.length > 0 ? sources : [DEFAULT_CAPTURE_LOG];
  let stdinSeen = false;
  for (const name of given) {
    if (name === '-') {
      if (stdinSeen) throw new UsageError('"-" (stdin) given twice');
      stdinSeen = true;
      out.push({ name, path: '-', size: -1 });
      continue;
    }
    const path = resolve(cwd, name);
    let st;
    try {
      st = await stat(path);
    } catch (e) {
      if (sources.length === 0 && (e as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new UsageError(`no capture log at ${DEFAULT_CAPTURE_LOG}`, 'run onepush listen first (it saves there), or name capture files to replay');
      }
      throw fileError(name, e);
    }
    if (st.isDirectory()) {
      let entries: string[];
      try {
        entries = (await readdir(path)).filter((f) => DATA_FILE.test(f)).sort();
      } catch (e) {
        throw fileError(name, e);
      }
      for (const f of entries) {
        const entry = join(path, f);
        let st2;
        try {
          st2 = await stat(entry);
        } catch (e) {
          const code = (e as NodeJS.ErrnoException).code;
          const link = await lstat(entry).then((l) => l.isSymbolicLink(), () => false);
          onSkip(join(name, f), link && code === 'ENOENT' ? 'a symbolic link to nothing' : errnoWords(e));
          continue;
        }
        if (st2.isFile()) out.push({ name: join(name, f), path: entry, size: st2.size });
        else onSkip(join(name, f), st2.isDirectory() ? 'a folder' : 'not a regular file');
      }
    } else {
      out.push({ name, path, size: st.size });
    }
  }
  return out;
}

/**
 * Reads every source in turn, yielding items, skips and bad lines (a torn last line is flagged `torn`); stops as soon
 * as `signal` aborts (Ctrl-C), even in the middle of a huge file.
 */
export async function* readSources(files: readonly SourceFile[], stdin: NodeJS.ReadableStream, signal?: AbortSignal): AsyncGenerator<SourceEvent> {
  for (const file of files) {
    if (signal?.aborted) return;
    // A `.json` file may be one pretty-printed event: try it whole first.
    if (file.path !== '-' && /\.json$/i.test(file.path) && file.size <= WHOLE_FILE_LIMIT) {
      let text: string;
      try {
        text = await readFile(file.path, 'utf8');
      } catch (e) {
        throw fileError(file.name, e);
      }
      let value: unknown;
      let whole = true;
      try {
        value = parseJson(text);
      } catch (e) {
        if (e instanceof JsonDepthError) {
          yield { kind: 'bad', source: file.name, line: 1, message: e.message, torn: false };
          continue;
        }
        whole = false;
      }
      if (whole && text.trim().includes('\n')) {
        // Pretty-printed (or one object over several lines): one event.
        yield* outcome(() => readReplayValue(value, file.name, 1), file.name, 1, false);
        continue;
      }
      if (whole) {
        yield* outcome(() => readReplayValue(value, file.name, 1, text.trim()), file.name, 1, false);
        continue;
      }
    }
    const lines = await openLines(file.path, stdin, { signal });
    for await (const line of lines) {
      if (line.tooLong !== undefined) {
        yield { kind: 'bad', source: file.name, line: line.number, message: tooLongMessage(line.tooLong), torn: false };
        continue;
      }
      if (line.text.trim() === '') continue;
      yield* outcome(() => readReplayLine(line.text, file.name, line.number), file.name, line.number, !line.terminated);
    }
  }
}

function* outcome(read: () => ReturnType<typeof readReplayLine>, source: string, line: number, last: boolean): Generator<SourceEvent> {
  try {
    const r = read();
    if (r.kind === 'item') yield r;
    else if (r.kind === 'skip') yield { kind: 'skip', source, line, message: r.message };
  } catch (e) {
    const message = (e as Error).message;
    yield { kind: 'bad', source, line, message, torn: last && message.startsWith('not valid JSON') };
  }
}
