import { Chalk } from 'chalk';
import { writeSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { Worker } from 'node:worker_threads';
import { inBinary, readShipped } from '../adapters/shipped.js';
import type { ColorLevel } from '../adapters/terminal.js';
import { escapeControls, jsonSafe, terminalSafe } from '../core/display.js';
import { acceptedChecks } from '../core/receiver.js';
import type { ListenEvent } from '../app/listen.js';
import { eventJsonParts, eventLines, localClock, type RenderOptions } from './listen-render.js';

// The event output of `onepush listen`, off the answer's path. The listener runs without schema checks
// (`checkSchemas: false`); each event goes, as a compact record, to an output thread that runs the zod check,
// renders the event (NDJSON or pretty lines) and writes it to stdout. The receiving thread then only verifies,
// saves and answers: under load that is ~10% more requests per second (bench/listen.bench.ts), and a slow
// terminal no longer delays answers. Order is kept: events and other lines (forwarding) go down one queue.

/** What the output thread needs to know; plain data (it crosses to the thread). */
export interface OutputSettings {
  json: boolean;
  verbose: boolean;
  /** Colour level of stdout. */
  level: ColorLevel;
  /** Local HH:MM:SS times (a terminal) or ISO times (a pipe). */
  localTime: boolean;
  /** The capture log, for the `--explain` hint of a 401. */
  save: string | null;
  /** The widest a shown field may make a line (the terminal's width, or a fixed one in a pipe). */
  width?: number;
  /** The secret was given with --secret (the 401 hint then says to pass it; from the environment or .env it need not). */
  secretFlag?: boolean;
}

/** A ListenEvent without its parsed payload and schema checks (made again on the other side from `payloadText`). */
type EventRecord = [
  seq: number,
  receivedAt: string,
  method: string,
  path: string,
  status: number,
  verified: boolean | null,
  reason: string | null,
  id: string | null,
  type: string | null,
  knownType: boolean,
  firstSeenAt: string | null,
  size: number,
  headers: IncomingHttpHeaders | null,
  payloadText: string | null,
];

/** An event, or a line already rendered (forwarding results, the summary). */
export type OutputItem = EventRecord | string;

function toRecord(ev: ListenEvent, verbose: boolean): EventRecord {
  return [ev.seq, ev.received_at, ev.method, ev.path, ev.status, ev.verified, ev.reason, ev.id, ev.type, ev.known_type, ev.first_seen_at, ev.size, verbose ? ev.headers : null, ev.payloadText];
}

/** The ListenEvent of a record, with the schema check the listener left out. */
function fromRecord(r: EventRecord): ListenEvent {
  const [seq, receivedAt, method, path, status, verified, reason, id, type, knownType, firstSeenAt, size, headers, payloadText] = r;
  // The listener checked its depth already (parseJson): walking it here is bounded.
  const payload = payloadText === null ? null : (JSON.parse(payloadText) as Record<string, unknown>);
  const checks = status === 200 ? acceptedChecks(payload, id, type, knownType) : { issues: [], reason };
  return {
    kind: 'event',
    seq,
    received_at: receivedAt,
    method,
    path,
    status,
    verified,
    reason: checks.reason,
    id,
    type,
    known_type: knownType,
    duplicate: firstSeenAt !== null,
    first_seen_at: firstSeenAt,
    schema_issues: checks.issues,
    size,
    payload,
    headers: headers ?? {},
    payloadText,
  };
}

/** Renders a batch of items as text (each line ending with a newline). Never throws: an item that cannot be shown is said so. */
export function outputRenderer(s: OutputSettings): (items: OutputItem[]) => string {
  const pieces = itemRenderer(s);
  return (items) => {
    let text = '';
    for (const item of items) for (const piece of pieces(item)) text += piece;
    return text;
  };
}

/**
 * Renders one item as text pieces whose concatenation is its lines: one piece, except for an --json event with a
 * large payload (the payload text is a piece of its own, so it is written as it is, never copied into one line).
 * Never throws: an item that cannot be shown is said so.
 */
export function itemRenderer(s: OutputSettings): (item: OutputItem) => string[] {
  const render: RenderOptions = {
    c: new Chalk({ level: s.level }),
    clock: s.localTime ? localClock : (d) => d.toISOString(),
    verbose: s.verbose,
    save: s.save,
    ...(s.width === undefined ? {} : { width: s.width }),
    secretFlag: s.secretFlag === true,
  };
  const colour = s.level > 0 && !s.json;
  return (item) => {
    try {
      if (typeof item === 'string') return [`${s.json ? jsonSafe(item) : terminalSafe(item, colour)}\n`];
      if (s.json) {
        const [head, payload] = eventJsonParts(fromRecord(item), s.verbose);
        return payload.length >= 64 * 1024 ? [jsonSafe(head), jsonSafe(payload), '}\n'] : [`${jsonSafe(head)}${jsonSafe(payload)}}\n`];
      }
      let text = '';
      for (const l of eventLines(fromRecord(item), render)) text += `${terminalSafe(l, colour)}\n`;
      return [text];
    } catch (e) {
      const what = typeof item === 'string' ? 'a line' : `event #${item[0]}`;
      const why = escapeControls(e instanceof Error ? e.message : String(e));
      return [s.json ? `${JSON.stringify({ kind: 'error', message: `${what} could not be shown: ${why}` })}\n` : `${what} could not be shown: ${why}\n`];
    }
  };
}

/** Thrown in the thread when the main thread gave up on a stalled reader. */
export class Abandoned extends Error {}

/**
 * Writes all of `text` to `fd`, from a thread that may block: a pipe that is full (EAGAIN: stdout is non-blocking
 * once Node has set it up) is waited for, until `stop[0]` is set (the main thread gave up: throws Abandoned). Throws
 * the write error otherwise (EPIPE: the reader is gone).
 */
export function writeFully(fd: number, text: string, stop: Int32Array = new Int32Array(new SharedArrayBuffer(4))): void {
  const buf = Buffer.from(text, 'utf8');
  for (let off = 0; off < buf.length; ) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      if (Atomics.load(stop, 0) === 1) throw new Abandoned('stdout was not read');
      Atomics.wait(stop, 0, 0, 20);
    }
  }
}

/** One message to the thread: a numbered batch (acknowledged once written). */
export interface OutputBatch {
  id: number;
  items: OutputItem[];
}

/** What the thread says back. */
export type ThreadMessage = { ack: number } | { closed: true } | { done: true };

/** The data the thread starts with. */
export interface ThreadData {
  settings: OutputSettings;
  fd: number;
  /** A SharedArrayBuffer of one Int32: set to 1 when the main thread gives up on a stalled stdout. */
  stop: SharedArrayBuffer;
}

/**
 * The worker running listen-thread: the .cjs bundle next to this file when built, its code built into the single
 * executable (an asset: there is no file next to it), else the source through tsx.
 */
function outputThread(workerData: ThreadData): Worker {
  // Its young generation capped at 8 MiB: under load V8 would grow it to tens of MiB for text that lives a moment
  // (RSS growth over 11,000 events: 18-20 MiB uncapped, 7 MiB capped).
  const options = { workerData, resourceLimits: { maxYoungGenerationSizeMb: 8 } };
  if (inBinary()) return new Worker(readShipped('dist/commands/listen-thread.cjs').toString('utf8'), { ...options, eval: true });
  if (import.meta.url.endsWith('.cjs')) return new Worker(new URL('./listen-thread.cjs', import.meta.url), options);
  // From source (tests of src/, `npm run dev`): the thread loads TypeScript too, through tsx's hooks.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./listen-thread.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`, { ...options, eval: true });
}

/** What closing the output found: lines that never reached stdout (dropped while it was not read, or cut at the end). */
export interface OutputClosed {
  /** Events and forwarding lines dropped while stdout was not being read. */
  dropped: number;
  /** Lines still unwritten when the close gave up waiting on stdout (the summary among them, if it was). */
  unwritten: number;
}

/** Where events are printed, in order; `close` writes the final lines and resolves once written, or given up on. */
export interface EventOutput {
  event(ev: ListenEvent): void;
  line(text: string): void;
  /** Events and lines dropped so far (stdout not read). */
  dropped(): number;
  close(final?: string[], deadlineMs?: number): Promise<OutputClosed>;
}

export interface EventOutputOptions {
  settings: OutputSettings;
  /** The process's stdout descriptor, when stdout is the real one: then a thread writes it. */
  fd: number | undefined;
  /** Writes text on this thread (no thread, or it failed). */
  write: (text: string) => void;
  warn: (message: string) => void;
  /** stdout was closed by its reader (EPIPE). */
  onClosed: () => void;
  /** How much may wait for a stdout that does not keep up (default 5,000 items or 4 MiB), before lines are dropped. */
  maxBacklogItems?: number;
  maxBacklogBytes?: number;
}

/** Times a failed output thread is started again before printing moves to the main thread. */
const RESTARTS = 2;

/**
 * Starts the output thread (a worker running dist/commands/listen-thread.cjs). What it holds is bounded: a stdout
 * that is not read makes the backlog reach its budget, then lines are dropped and counted (events are saved either
 * way), and a line says so once the reader catches up. A thread that fails is started again with what it had not
 * written; without a stdout descriptor, or after repeated failures, the same rendering runs on this thread.
 */
export function startEventOutput(o: EventOutputOptions): EventOutput {
  const { settings } = o;
  const maxItems = o.maxBacklogItems ?? 5000;
  const maxBytes = o.maxBacklogBytes ?? 4 * 1024 * 1024;
  const stopBuffer = new SharedArrayBuffer(4);
  const stop = new Int32Array(stopBuffer);
  let worker: Worker | undefined;
  let failures = 0;
  let local: ((items: OutputItem[]) => string) | undefined;
  const renderHere = (items: OutputItem[]): void => {
    local ??= outputRenderer(settings);
    const text = local(items);
    if (text !== '') o.write(text);
  };
  /** Batches posted and not yet written, in order. */
  const inflight = new Map<number, { items: OutputItem[]; weight: number }>();
  let backlogItems = 0;
  let backlogBytes = 0;
  let nextId = 1;
  let droppedEvents = 0;
  let droppedLines = 0;
  /** Dropped and not yet said in a `not shown` line. */
  let unsaidEvents = 0;
  let unsaidLines = 0;
  let exited: Promise<void> = Promise.resolve();
  let closing = false;

  const start = (): void => {
    if (o.fd === undefined) return;
    let w: Worker;
    try {
      w = outputThread({ settings, fd: o.fd, stop: stopBuffer });
    } catch (e) {
      o.warn(`the output thread could not start (${escapeControls((e as Error).message)}): printing from the main thread`);
      return;
    }
    worker = w;
    exited = new Promise((resolve) => {
      w.once('exit', () => resolve());
    });
    w.on('message', (m: ThreadMessage) => {
      if ('ack' in m) {
        const batch = inflight.get(m.ack);
        if (batch) {
          inflight.delete(m.ack);
          backlogItems -= batch.items.length;
          backlogBytes -= batch.weight;
        }
        sayDropped();
      } else if ('done' in m) {
        inflight.clear();
        backlogItems = 0;
        backlogBytes = 0;
      } else if ('closed' in m) o.onClosed();
    });
    w.on('error', (e) => {
      if (worker !== w) return;
      worker = undefined;
      failures++;
      const restart = failures <= RESTARTS && !closing;
      o.warn(`the output thread failed (${escapeControls(e.message)}): ${restart ? 'starting it again' : 'printing from the main thread from now on'}`);
      if (restart) start();
      // What it had not written is written again, in order (a batch it was writing may show twice).
      const pending = [...inflight.values()];
      inflight.clear();
      backlogItems = 0;
      backlogBytes = 0;
      for (const b of pending) post(b.items, b.weight);
    });
  };

  const post = (items: OutputItem[], weight: number): void => {
    if (worker) {
      const id = nextId++;
      inflight.set(id, { items, weight });
      backlogItems += items.length;
      backlogBytes += weight;
      worker.postMessage({ id, items } satisfies OutputBatch);
    } else renderHere(items);
  };

  /** Once the backlog has drained to half its budget, one line says what was dropped. */
  const sayDropped = (): void => {
    if (unsaidEvents + unsaidLines === 0 || backlogItems > maxItems / 2 || backlogBytes > maxBytes / 2) return;
    const text = settings.json
      ? JSON.stringify({ kind: 'not_shown', events: unsaidEvents, lines: unsaidLines, reason: 'stdout did not keep up', save: settings.save })
      : `… ${unsaidEvents} event${unsaidEvents === 1 ? '' : 's'}${unsaidLines > 0 ? ` and ${unsaidLines} other line${unsaidLines === 1 ? '' : 's'}` : ''} not shown: stdout did not keep up${settings.save === null ? '' : ` (all are saved in ${settings.save})`}`;
    unsaidEvents = 0;
    unsaidLines = 0;
    push(text, true);
  };

  let batch: OutputItem[] = [];
  let batchWeight = 0;
  const flush = (): void => {
    const items = batch;
    const weight = batchWeight;
    batch = [];
    batchWeight = 0;
    if (items.length > 0) post(items, weight);
  };
  const weightOf = (item: OutputItem): number => (typeof item === 'string' ? item.length : (item[13]?.length ?? 0) + 200);
  const push = (item: OutputItem, force = false): void => {
    const weight = weightOf(item);
    if (!force && worker && (backlogItems + batch.length >= maxItems || backlogBytes + batchWeight + weight > maxBytes)) {
      if (typeof item === 'string') {
        droppedLines++;
        unsaidLines++;
      } else {
        droppedEvents++;
        unsaidEvents++;
      }
      return;
    }
    batchWeight += weight;
    if (batch.push(item) === 1) setImmediate(flush);
  };

  start();
  return {
    event: (ev) => push(toRecord(ev, settings.verbose)),
    line: (text) => push(text),
    dropped: () => droppedEvents + droppedLines,
    async close(final = [], deadlineMs = 2000) {
      closing = true;
      sayDropped();
      for (const l of final) push(l, true);
      flush();
      const w = worker;
      if (!w) return { dropped: droppedEvents + droppedLines, unwritten: 0 };
      w.postMessage('close');
      /** Whether the thread ended within `ms`. */
      const endedWithin = (ms: number): Promise<boolean> =>
        Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), ms).unref())]);
      if (!(await endedWithin(deadlineMs))) {
        // stdout is not being read: give up on it rather than hold the exit (events are saved either way).
        Atomics.store(stop, 0, 1);
        Atomics.notify(stop, 0);
        if (!(await endedWithin(500))) {
          w.unref();
          void w.terminate();
        }
      }
      let unwritten = 0;
      for (const b of inflight.values()) unwritten += b.items.length;
      return { dropped: droppedEvents + droppedLines, unwritten };
    },
  };
}
