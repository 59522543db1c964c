import { Chalk } from 'chalk';
import { writeSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { Worker } from 'node:worker_threads';
import type { ColorLevel } from '../adapters/terminal.js';
import { acceptedChecks } from '../core/receiver.js';
import type { ListenEvent } from '../listener.js';
import { eventJson, eventLines, localClock, type RenderOptions } from './listen-render.js';

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

/** An event, or a line already rendered (forwarding results). */
type OutputItem = EventRecord | string;

function toRecord(ev: ListenEvent, verbose: boolean): EventRecord {
  return [ev.seq, ev.received_at, ev.method, ev.path, ev.status, ev.verified, ev.reason, ev.id, ev.type, ev.known_type, ev.first_seen_at, ev.size, verbose ? ev.headers : null, ev.payloadText];
}

/** The ListenEvent of a record, with the schema check the listener left out. */
function fromRecord(r: EventRecord): ListenEvent {
  const [seq, receivedAt, method, path, status, verified, reason, id, type, knownType, firstSeenAt, size, headers, payloadText] = r;
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

/** Renders a batch of items as text (each line ending with a newline). */
export function outputRenderer(s: OutputSettings): (items: OutputItem[]) => string {
  const render: RenderOptions = { c: new Chalk({ level: s.level }), clock: s.localTime ? localClock : (d) => d.toISOString(), verbose: s.verbose, save: s.save };
  return (items) => {
    let text = '';
    for (const item of items) {
      if (typeof item === 'string') text += `${item}\n`;
      else if (s.json) text += `${eventJson(fromRecord(item), s.verbose)}\n`;
      else for (const l of eventLines(fromRecord(item), render)) text += `${l}\n`;
    }
    return text;
  };
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/**
 * Writes all of `text` to `fd`, from a thread that may block: a pipe that is full (EAGAIN: the main thread made
 * it non-blocking) is waited for. Throws the write error otherwise (EPIPE: the reader is gone).
 */
export function writeFully(fd: number, text: string): void {
  const buf = Buffer.from(text, 'utf8');
  for (let off = 0; off < buf.length; ) {
    try {
      off += writeSync(fd, buf, off, buf.length - off);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') throw e;
      Atomics.wait(sleeper, 0, 0, 2);
    }
  }
}

/** The worker running listen-thread next to this file: the .cjs bundle when built, else the source through tsx. */
function outputThread(workerData: { settings: OutputSettings; fd: number }): Worker {
  // Its young generation capped at 8 MiB: under load V8 would grow it to tens of MiB for text that lives a moment
  // (RSS growth over 11,000 events: 18-20 MiB uncapped, 7 MiB capped).
  const options = { workerData, resourceLimits: { maxYoungGenerationSizeMb: 8 } };
  if (import.meta.url.endsWith('.cjs')) return new Worker(new URL('./listen-thread.cjs', import.meta.url), options);
  // From source (tests of src/, `npm run dev`): the thread loads TypeScript too, through tsx's hooks.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./listen-thread.ts', import.meta.url).href;
  return new Worker(`import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`, { ...options, eval: true });
}

/** Where events are printed, in order; `close` resolves once everything queued is written. */
export interface EventOutput {
  event(ev: ListenEvent): void;
  line(text: string): void;
  close(): Promise<void>;
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
}

/**
 * Starts the output thread (a worker running dist/commands/listen-thread.cjs). Without a stdout descriptor, or if
 * the thread fails, the same rendering runs on this thread.
 */
export function startEventOutput(o: EventOutputOptions): EventOutput {
  const { settings } = o;
  let worker: Worker | undefined;
  let local: ((items: OutputItem[]) => string) | undefined;
  const renderHere = (items: OutputItem[]): void => {
    local ??= outputRenderer(settings);
    const text = local(items);
    if (text !== '') o.write(text);
  };
  let exited: Promise<void> = Promise.resolve();
  try {
    if (o.fd !== undefined) worker = outputThread({ settings, fd: o.fd });
  } catch (e) {
    o.warn(`the output thread could not start (${(e as Error).message}): printing from the main thread`);
  }
  if (worker) {
    const w = worker;
    exited = new Promise((resolve) => {
      w.once('exit', () => resolve());
    });
    w.on('message', (m: { closed?: boolean }) => {
      if (m.closed) o.onClosed();
    });
    w.on('error', (e) => {
      // Events are saved and answered all the same; from now on they are printed from this thread.
      o.warn(`the output thread failed (${e.message}): printing from the main thread from now on`);
      worker = undefined;
    });
  }
  let batch: OutputItem[] = [];
  const flush = (): void => {
    const items = batch;
    batch = [];
    if (items.length === 0) return;
    if (worker) worker.postMessage(items);
    else renderHere(items);
  };
  const push = (item: OutputItem): void => {
    if (batch.push(item) === 1) setImmediate(flush);
  };
  return {
    event: (ev) => push(toRecord(ev, settings.verbose)),
    line: push,
    async close() {
      flush();
      if (worker) {
        worker.postMessage('close');
        await exited;
      }
    },
  };
}
