import { randomBytes } from 'node:crypto';
import { CapturePages, type PageLine } from '../adapters/capture-pages.js';
import { inspectorHttp, ownHosts, startInspectorServer, type InspectorHttp, type InspectorService, type Subscriber } from '../adapters/inspector-http.js';
import { deliverAll, type DeliveryResult } from '../adapters/delivery.js';
import { redactUrl, shellArg } from '../core/display.js';
import { InvalidInput } from '../core/errors.js';
import {
  isEmptyFilter,
  MAX_REPLAY,
  rowMatcher,
  type ActionResult,
  type CurlRequest,
  type ForwardUpdate,
  type InspectAttempt,
  type InspectDetail,
  type InspectFilter,
  type InspectInfo,
  type InspectRow,
  type LiveBatch,
  type RecordPage,
  type ReplayRequest,
  type RowForward,
  type SendRequest,
  type SentRequest,
} from '../core/inspect-model.js';
import { detailOf, readCaptureLine, rowOf, type ReadCapture } from '../core/inspect-view.js';
import { parseJson } from '../core/json.js';
import { DEFAULT_INSPECT_PORT } from '../core/defaults.js';
import { DuplicateTracker } from '../core/receiver.js';
import { replayRequest } from '../core/replay-select.js';
import { createRouter, type Route } from '../core/routes.js';
import { setBounded } from '../core/bounded.js';
import { sign } from '../core/signature.js';
import { isLoopback, resolveTarget } from '../core/target.js';
import type { ForwardResult, ListenEvent, NotRouted } from './listen.js';

// The inspector (README: The inspector): what its page shows and does, over capture files (`onepush inspect`) or a
// running listener's log (`onepush listen`). No HTTP here: src/adapters/inspector-http.ts serves this.
//
// Bounded everywhere: a page reads only its own lines (CapturePages), a filtered page scans at most SCAN_LINES
// lines per call, live rows reach the page in batches of at most LIVE_ROWS every batchMs, and what is kept about
// this run's events (their forwarding, their listen sequence number) is capped.

export interface InspectorOptions {
  mode: 'listen' | 'inspect';
  /** Capture files, oldest first (listen: its --save log, or none). */
  files: readonly string[];
  /** The last file is the log a listener in this process is writing (re-read for new lines as events come). */
  growing?: boolean;
  /** Explain signatures and sign resends; never sent to the page. */
  secret?: string | undefined;
  /** Where "replay to the forward target" sends (by route). */
  routes?: readonly Route[];
  /** The webhook URL (listen). */
  webhookUrl?: string | null;
  version: string;
  /** Without files: how many of this run's requests are kept in memory (default 1000). */
  memoryLimit?: number;
  /** How often live rows go out to the page, ms (default 200: at most 500 rows a second, whatever the rate). */
  batchMs?: number;
  userAgent?: string;
  /**
   * The environment whose proxy variables apply to outgoing requests (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, lowercase
   * forms too): the CLI hands in its own. Without it every request goes direct.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Timeout of each request an action sends (default 10 s). */
  timeoutMs?: number;
  /** Look for new lines of a growing file every this many ms while a page is open (a log another process writes). */
  poll?: number;
}


export type { Subscriber } from '../adapters/inspector-http.js';

/** The inspector: what its page asks (InspectorService), and what a listener tells it. */
export interface Inspector extends InspectorService {
  /** listen's callbacks (only in listen mode). */
  onEvent(ev: ListenEvent): void;
  /** The encoded capture line of each answered request (listen without a capture log). */
  onCapture(seq: number, line: string): void;
  onForward(r: ForwardResult): void;
  onNotRouted(n: NotRouted): void;
  close(): void;
}

/** Lines a filtered page reads at most per call, and for how long (`next` goes on from there). */
export const SCAN_LINES = 100_000;
const SCAN_MS = 300;

/** One request an action sends. */
interface Outgoing {
  n: number | null;
  id: string | null;
  url: URL;
  headers: Record<string, string>;
  body: Buffer;
}
/**
 * Live rows sent to a page per batch at most (the newest; the rest are a page away): a page shows 100 rows, and
 * each live row costs the listener a parse and a schema check, so a burst costs at most this many per batch.
 */
export const LIVE_ROWS = 100;
/** Without a page open, a listener's new lines are taken in (matched to their events) every this many events. */
const TAKE_IN = 500;
/** Events of this run whose forwarding is kept. */
const KEEP_FORWARDS = 10_000;
/** Attempts kept per event and endpoint. */
const KEEP_ATTEMPTS = 20;
/** Lines looked at for the other events of an email. */
const LIFECYCLE_LINES = 50_000;
const PAGE_MAX = 500;

/** The captures of a listener without a log: the newest `limit`, by sequence number. */
class MemoryPages {
  private readonly lines: PageLine[] = [];
  constructor(private readonly limit: number) {}
  readonly files: string[] = [];
  get end(): number {
    return (this.lines[this.lines.length - 1]?.n ?? 0) + 1;
  }
  get total(): { lines: number; complete: boolean } {
    return { lines: this.lines.length - this.floor, complete: true };
  }
  /** The first line kept (up to a quarter more than `limit` are held, so trimming is not per request). */
  private get floor(): number {
    return Math.max(0, this.lines.length - this.limit);
  }
  push(n: number, text: string): void {
    this.lines.push({ n, text, file: '' });
    if (this.lines.length > this.limit + (this.limit >> 2)) this.lines.splice(0, this.floor);
  }
  before(before: number | null, limit: number): { lines: PageLine[]; next: number | null } {
    const out: PageLine[] = [];
    const floor = this.floor;
    let i = this.lines.length - 1;
    while (i >= floor && before !== null && (this.lines[i] as PageLine).n >= before) i--;
    for (; i >= floor && out.length < limit; i--) out.push(this.lines[i] as PageLine);
    return { lines: out, next: i >= floor ? (out[out.length - 1]?.n ?? null) : null };
  }
  line(n: number): PageLine | undefined {
    for (let i = this.lines.length - 1; i >= this.floor; i--) if ((this.lines[i] as PageLine).n === n) return this.lines[i];
    return undefined;
  }
}

/** What an action's result says of one delivery. */
function sentOf(n: number | null, id: string | null, url: URL, r: DeliveryResult): SentRequest {
  return { n, id, url: redactUrl(url), status: r.status, ok: r.ok, latency_ms: Math.round(r.latencyMs), error: r.error, response: r.body };
}

const STAMP_START = Buffer.from('{"v":1,"received_at":"');
const STATUS_KEY = Buffer.from('"status":');

/**
 * A capture line's received_at and status, read from its bytes without decoding it (a listener's own line, matched
 * to its event): the time is at a fixed place, the status is the last `"status":` (any in the body is escaped).
 */
function stampOf(bytes: Buffer, start: number, end: number): { at: string; status: number } | null {
  if (end - start < STAMP_START.length + 26 || bytes.compare(STAMP_START, 0, STAMP_START.length, start, start + STAMP_START.length) !== 0) return null;
  const atStart = start + STAMP_START.length;
  const quote = bytes.indexOf(34, atStart);
  if (quote === -1 || quote >= end) return null;
  const i = bytes.lastIndexOf(STATUS_KEY, end - STATUS_KEY.length);
  if (i < start) return null;
  return { at: bytes.toString('latin1', atStart, quote), status: Number.parseInt(bytes.toString('latin1', i + STATUS_KEY.length, Math.min(end, i + STATUS_KEY.length + 3)), 10) };
}

const STATUS_200 = Buffer.from('"status":200');
const BODY_START = Buffer.from('"body":"');
const ID_KEY = Buffer.from('\\"id\\":\\"');
const QUOTE = Buffer.from('\\"');

/**
 * The event id of an accepted capture line, found without parsing it (counting a million lines): the body is a JSON
 * string in the line, so its quotes are escaped, and the first `\"id\":\"` in it is the event's id (OnePush and
 * onepush put it first). Marks duplicates only: a wrong guess costs a wrong "dup" badge, never a wrong answer.
 */
export function acceptedIdOf(bytes: Buffer, start: number, end: number): string | null {
  // Searched within the line only: a search of the whole slice from `start` ran on to the end of the slice for each
  // line without a match (a log of 401s: quadratic in the slice, minutes for 200,000 lines).
  const line = bytes.subarray(start, end);
  if (line.indexOf(STATUS_200) === -1) return null;
  const b = line.indexOf(BODY_START);
  if (b === -1) return null;
  const i = line.indexOf(ID_KEY, b);
  if (i === -1) return null;
  const j = line.indexOf(QUOTE, i + ID_KEY.length);
  if (j === -1 || j - i > 300) return null;
  return line.toString('utf8', i + ID_KEY.length, j);
}

/** A curl command that sends exactly these bytes (a body with control characters goes through base64). */
export function curlCommand(url: string, headers: Record<string, string>, body: Buffer): string {
  // Quoted as they are (shellArg would write a tab in a header value as \t: not the captured header any more).
  const hs = Object.entries(headers).map(([k, v]) => ` \\\n  -H '${`${k}: ${v}`.replace(/'/g, `'\\''`)}'`).join('');
  const text = body.toString('utf8');
  const plain = Buffer.from(text, 'utf8').equals(body) && !/[\u0000-\u0008\u000b-\u001f\u007f\u0080-\u009f]/.test(text);
  if (plain) return `curl -sS -X POST ${shellArg(url)}${hs} \\\n  --data-binary ${`'${text.replace(/'/g, `'\\''`)}'`}`;
  return `printf %s ${body.toString('base64')} | base64 -d | curl -sS -X POST ${shellArg(url)}${hs} \\\n  --data-binary @-`;
}

export function createInspector(options: InspectorOptions): Inspector {
  const secret = options.secret === '' ? undefined : options.secret;
  const routes = options.routes ?? [];
  const router = createRouter(routes);
  const endpoints = [...new Set(routes.map((r) => redactUrl(r.url)))];
  const batchMs = options.batchMs ?? 200;
  const memory = options.files.length === 0 ? new MemoryPages(options.memoryLimit ?? 1000) : null;
  /** A listener that forwards: its events' forward attempts are shown by their records. */
  const forwarding = options.mode === 'listen' && routes.length > 0;
  const pages: CapturePages | MemoryPages = memory ?? new CapturePages(options.files, options.growing === true);
  /** Records that redeliver an id seen before (from listen, and from counting the files). */
  const dups = new Set<number>();
  const ids = new DuplicateTracker<number>();
  /**
   * This run's events: listen's seq ↔ the record (saved in a log; without one, a record's n is its seq). Only what
   * is needed is kept per event: a redelivery, and a forwarded event (its attempts are shown by its record).
   */
  const seqMap = new Map<number, number>();
  const nMap = new Map<number, number>();
  const seqOf = (n: number): number | undefined => (memory !== null ? n : seqMap.get(n));
  const nOf = (seq: number): number | undefined => (memory !== null ? seq : nMap.get(seq));
  /** Forwarding of this run's events, by seq. */
  const forwards = new Map<number, { attempts: InspectAttempt[]; byUrl: Map<string, RowForward> }>();
  /**
   * listen's events not yet matched to their line in the log: plain values only (holding the events themselves, with
   * their parsed payloads, past a young-generation collection cost the listener ~10% of its throughput).
   */
  let pendingSeq: number[] = [];
  let pendingAt: string[] = [];
  let pendingStatus: number[] = [];
  let pendingDup: boolean[] = [];
  let fresh: PageLine[] = [];
  const subscribers = new Set<Subscriber>();
  let timer: NodeJS.Timeout | undefined;
  let forwardTimer: NodeJS.Timeout | undefined;
  const changedForwards = new Set<number>();
  let closed = false;
  const poller = options.poll !== undefined && options.poll > 0 && pages instanceof CapturePages ? setInterval(() => {
    if (subscribers.size > 0 && timer === undefined) flush();
  }, options.poll) : undefined;
  poller?.unref();

  // Counting the files (and the lines a listener adds) also marks redeliveries: an accepted line whose event id was
  // seen before.
  const markDuplicate = (bytes: Buffer, start: number, end: number, n: number): void => {
    const id = acceptedIdOf(bytes, start, end);
    if (id !== null && ids.see(id, n) !== undefined && dups.size < 1_000_000) dups.add(n);
  };
  if (pages instanceof CapturePages) void pages.count(markDuplicate);

  const forwardsOf = (seq: number | undefined): RowForward[] => (seq === undefined ? [] : [...(forwards.get(seq)?.byUrl.values() ?? [])]);

  const read = (line: PageLine): InspectRow | null => {
    const r = readCaptureLine(line.text);
    if (r === null) return null;
    const seq = seqOf(line.n);
    return rowOf(r, line.n, line.file === '' ? null : line.file, { seq: seq ?? null, duplicate: dups.has(line.n), forwards: forwardsOf(seq) });
  };

  const broadcast = (event: 'rows' | 'forwards' | 'reset', data: unknown): void => {
    const json = JSON.stringify(data);
    for (const s of subscribers) {
      try {
        s(event, json);
      } catch {
        subscribers.delete(s);
      }
    }
  };

  /** New lines (this run's), matched to their events; the newest go to the pages. */
  const flush = (): void => {
    timer = undefined;
    if (closed) return;
    let lines: PageLine[];
    if (pages instanceof CapturePages) {
      // Each answered request wrote one line, in order: match them up by time and status (both in time order, so
      // a line whose event is no longer pending is passed over at once), read from the bytes, nothing decoded.
      let p = 0;
      const count = pendingSeq.length;
      lines = pages.refresh((bytes, start, end, n, counted) => {
        // A listener's own lines are marked by its own tracker (below); a log another process writes, here.
        if (count === 0) {
          if (counted) markDuplicate(bytes, start, end, n);
          return;
        }
        if (p >= count) return;
        const stamp = stampOf(bytes, start, end);
        if (stamp === null) return;
        let k = p;
        while (k < count && (pendingAt[k] as string) <= stamp.at && !(pendingAt[k] === stamp.at && pendingStatus[k] === stamp.status)) k++;
        if (k === count || pendingAt[k] !== stamp.at || pendingStatus[k] !== stamp.status) return;
        p = k + 1;
        const seq = pendingSeq[k] as number;
        if (pendingDup[k] === true && dups.size < 1_000_000) dups.add(n);
        if (forwarding) {
          setBounded(seqMap, n, seq, 100_000);
          setBounded(nMap, seq, n, 100_000);
        }
      }, LIVE_ROWS);
      // What was not matched by now never will be (its line could not be written).
      pendingSeq = [];
      pendingAt = [];
      pendingStatus = [];
      pendingDup = [];
    } else {
      lines = fresh;
      fresh = [];
    }
    if (subscribers.size === 0 || lines.length === 0) return;
    const rows: InspectRow[] = [];
    for (const line of lines.slice(-LIVE_ROWS)) {
      const row = read(line);
      if (row !== null) rows.push(row);
    }
    const batch: LiveBatch = { rows, total: pages.total.lines };
    broadcast('rows', batch);
  };
  const schedule = (): void => {
    if (timer === undefined && !closed) timer = setTimeout(flush, batchMs);
  };

  const flushForwards = (): void => {
    forwardTimer = undefined;
    const updates: ForwardUpdate[] = [];
    for (const seq of changedForwards) {
      const n = nOf(seq);
      if (n !== undefined) updates.push({ n, forwards: forwardsOf(seq) });
    }
    changedForwards.clear();
    if (updates.length > 0) broadcast('forwards', updates.slice(-LIVE_ROWS));
  };
  const forwardEntry = (seq: number) => {
    let f = forwards.get(seq);
    if (f === undefined) {
      f = { attempts: [], byUrl: new Map() };
      setBounded(forwards, seq, f, KEEP_FORWARDS);
    }
    return f;
  };
  const forwardChanged = (seq: number): void => {
    changedForwards.add(seq);
    if (forwardTimer === undefined && !closed) forwardTimer = setTimeout(() => {
      // After the rows of the same batch, so the page has the row to patch.
      if (timer !== undefined) flush();
      flushForwards();
    }, batchMs);
  };

  /**
   * Walks records newest first from `before`, calling `visit` until it returns false, `maxLines` are read, or
   * `maxMs` have passed; yields to the event loop every few hundred lines, so a listener on the same thread goes on
   * answering while a search reads a large log. Resolves with where to go on (null: the start of the files).
   */
  const walk = async (before: number | null, maxLines: number, visit: (line: PageLine) => boolean, maxMs = Number.POSITIVE_INFINITY, signal?: AbortSignal): Promise<number | null> => {
    let cursor = before;
    let seen = 0;
    const until = performance.now() + maxMs;
    while (seen < maxLines && !closed && signal?.aborted !== true) {
      const { lines, next } = pages.before(cursor, Math.min(500, maxLines - seen));
      for (let k = 0; k < lines.length; k++) {
        const line = lines[k] as PageLine;
        seen++;
        cursor = line.n;
        // Stopped on the oldest record: nothing older, so no `next` (a full last page must not offer an empty one).
        if (!visit(line)) return k < lines.length - 1 || next !== null ? line.n : null;
      }
      if (next === null) return null;
      cursor = next;
      if (performance.now() >= until) break;
      await new Promise<void>((r) => setImmediate(r));
    }
    return cursor;
  };

  const readAt = (n: number): { line: PageLine; read: ReadCapture } | undefined => {
    const line = pages.line(n);
    if (line === undefined) return undefined;
    const r = readCaptureLine(line.text);
    return r === null ? undefined : { line, read: r };
  };

  const targetsFor = (url: string | undefined, type: string | null): URL[] => {
    if (url !== undefined && url.trim() !== '') return [resolveTarget(url)];
    if (routes.length === 0) throw new InvalidInput('no URL given, and no forward target to replay to', 'type a URL (or a port, such as 3000)');
    return [...router(type ?? '')];
  };

  /** Sends `items` (made one at a time as they are sent: a large replay holds only what is in flight). */
  const deliverAllOf = async (count: number, item: (k: number) => Outgoing[], truncated: number, signal?: AbortSignal): Promise<ActionResult> => {
    const sent: SentRequest[] = [];
    if (count > 0) {
      const { createHttpClient } = await import('../adapters/http-client.js');
      const client = createHttpClient({ userAgent: options.userAgent ?? 'onepush-cli', connections: 8, ...(options.env ? { env: options.env } : {}) });
      function* all(): Generator<Outgoing> {
        for (let k = 0; k < count; k++) yield* item(k);
      }
      try {
        await deliverAll(client, all(), (o) => ({ url: o.url, headers: o.headers, body: o.body }), (o, r) => {
          // The whole answer for the first few; a line of it for the rest (a replay of thousands stays small).
          const s = sentOf(o.n, o.id, o.url, r);
          sent.push(sent.length < 20 ? s : { ...s, response: s.response.slice(0, 200) });
        }, { concurrency: 8, timeoutMs: options.timeoutMs ?? 10_000, ...(signal ? { signal } : {}) });
      } finally {
        await client.close();
      }
    }
    return { sent, ok: sent.filter((x) => x.ok).length, failed: sent.filter((x) => !x.ok).length, truncated };
  };

  const requireSecret = (what: string): string => {
    if (secret === undefined) throw new InvalidInput(`no secret: cannot ${what}`, `start onepush with --secret (or ONEPUSH_WEBHOOK_SECRET), or send the original bytes and signature`);
    return secret;
  };

  const signedHeaders = (body: Buffer, signing: 'sign' | 'unsigned' | 'wrong' | 'original', captured: Record<string, string> | null): Record<string, string> => {
    if (signing === 'original') {
      return replayRequest({ source: '', line: 0, id: null, type: null, timeMs: null, body, headers: captured ?? {} }, { keepSignature: true, sign }).headers;
    }
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (signing === 'sign') headers['x-onepush-signature'] = sign(body, requireSecret('sign it'));
    // A signature of the right shape that is not this body's: for testing that the app refuses it.
    if (signing === 'wrong') headers['x-onepush-signature'] = sign(body, `${secret ?? ''}-not-the-secret`);
    return headers;
  };

  return {
    info() {
      const total = pages.total;
      return {
        mode: options.mode,
        version: options.version,
        sources: [...pages.files],
        verifying: secret !== undefined,
        url: options.webhookUrl ?? null,
        endpoints,
        total: total.lines,
        indexing: !total.complete,
        memory_limit: memory === null ? null : (options.memoryLimit ?? 1000),
      };
    },

    async page(before, limit, filter) {
      // What was written since the last batch is part of the page (and goes to the live pages now).
      if (!closed) {
        clearTimeout(timer);
        flush();
      }
      const want = Math.max(1, Math.min(PAGE_MAX, Math.floor(limit) || 100));
      const match = isEmptyFilter(filter) ? null : rowMatcher(filter);
      const rows: InspectRow[] = [];
      let scanned = 0;
      const next = await walk(before, match === null ? want * 4 : SCAN_LINES, (line) => {
        scanned++;
        const row = read(line);
        if (row !== null && (match === null || match(row))) rows.push(row);
        return rows.length < want;
      }, SCAN_MS);
      return { rows, total: pages.total.lines, next, scanned, newest: pages.before(null, 1).lines[0]?.n ?? null };
    },

    async detail(n) {
      const at = readAt(n);
      if (at === undefined) return undefined;
      const seq = seqOf(n);
      const row = rowOf(at.read, n, at.line.file === '' ? null : at.line.file, { seq: seq ?? null, duplicate: dups.has(n), forwards: forwardsOf(seq) });
      const lifecycle: InspectDetail['lifecycle'] = [];
      if (row.email_id !== null) {
        const emailId = row.email_id;
        const found = new Map<number, InspectDetail['lifecycle'][number]>();
        const visit = (line: PageLine): boolean => {
          if (!line.text.includes(emailId) || found.has(line.n)) return true;
          const r = read(line);
          if (r !== null && r.email_id === emailId) found.set(r.n, { n: r.n, type: r.type, kind: r.kind, received_at: r.received_at, id: r.id, status: r.status });
          return found.size < 50;
        };
        // Around the record (this one and what came before it), then the newest (what came after): an email's
        // events are near each other in the log, wherever the record is in it.
        await walk(n + Buffer.byteLength(at.line.text) + 1, LIFECYCLE_LINES / 2, visit, SCAN_MS);
        await walk(null, LIFECYCLE_LINES / 2, visit, SCAN_MS);
        lifecycle.push(...[...found.values()].sort((x, y) => x.n - y.n));
      }
      return detailOf(at.read, row, secret, seq === undefined ? [] : [...(forwards.get(seq)?.attempts ?? [])], lifecycle);
    },

    body(n) {
      const at = readAt(n);
      if (at === undefined || at.read.capture.body === null) return undefined;
      const id = at.read.payload !== null && typeof at.read.payload.id === 'string' ? at.read.payload.id : `record-${n}`;
      return { bytes: at.read.body, name: `${id.replace(/[^\w.-]/g, '_').slice(0, 100)}.json` };
    },

    async replay(req, signal) {
      if (req.signing !== undefined && req.signing !== 'original' && req.signing !== 'sign') throw new InvalidInput('signing must be sign or original');
      const signing = req.signing === 'original' ? 'original' : 'sign';
      if (signing === 'sign') requireSecret('re-sign');
      // The records by number only: each is read again when its turn to be sent comes.
      let chosen: number[] = [];
      let truncated = 0;
      if (req.records !== undefined) {
        if (!Array.isArray(req.records) || !req.records.every((n) => Number.isSafeInteger(n))) throw new InvalidInput('records must be a list of record numbers');
        chosen = req.records.slice(0, MAX_REPLAY);
        for (const n of chosen) if (pages.line(n) === undefined) throw new InvalidInput(`no record ${n}`);
        truncated = Math.max(0, req.records.length - MAX_REPLAY);
      } else {
        const match = rowMatcher(req.filter ?? {});
        await walk(null, Number.MAX_SAFE_INTEGER, (line) => {
          const row = read(line);
          if (row === null || !match(row)) return true;
          if (chosen.length < MAX_REPLAY) chosen.push(line.n);
          else truncated++;
          return true;
        }, Number.POSITIVE_INFINITY, signal);
        // Oldest first, as they came.
        chosen.reverse();
      }
      if (req.url !== undefined && req.url.trim() !== '') resolveTarget(req.url);
      else targetsFor(undefined, null);
      return deliverAllOf(chosen.length, (k) => {
        const n = chosen[k] as number;
        const r = readAt(n)?.read;
        if (r === undefined || r.capture.body === null) return [];
        const type = r.payload !== null && typeof r.payload.type === 'string' ? r.payload.type : null;
        const id = r.payload !== null && typeof r.payload.id === 'string' ? r.payload.id : null;
        const headers = signedHeaders(r.body, signing, r.capture.headers);
        return targetsFor(req.url, type).map((url) => ({ n, id, url, headers, body: r.body }));
      }, truncated, signal);
    },

    async send(req, signal) {
      if (typeof req.body !== 'string') throw new InvalidInput('body must be a string');
      const body = Buffer.from(req.body, 'utf8');
      if (req.signing !== undefined && !['sign', 'unsigned', 'wrong'].includes(req.signing)) throw new InvalidInput('signing must be sign, unsigned or wrong');
      const signing = req.signing === 'unsigned' || req.signing === 'wrong' ? req.signing : 'sign';
      let type: string | null = null;
      let id: string | null = null;
      try {
        const v = parseJson(req.body) as Record<string, unknown> | null;
        if (v !== null && typeof v === 'object') {
          type = typeof v.type === 'string' ? v.type : null;
          id = typeof v.id === 'string' ? v.id : null;
        }
      } catch {
        // not JSON: sent as it is (testing the app's refusal)
      }
      const headers = signedHeaders(body, signing, null);
      const targets = targetsFor(req.url, type);
      return deliverAllOf(1, () => targets.map((url) => ({ n: null, id, url, headers, body })), 0, signal);
    },

    curl(req) {
      let body: Buffer;
      let captured: Record<string, string> | null = null;
      let type: string | null = null;
      if (typeof req.body === 'string') body = Buffer.from(req.body, 'utf8');
      else if (typeof req.record === 'number') {
        const at = readAt(req.record);
        if (at === undefined) throw new InvalidInput(`no record ${req.record}`);
        body = at.read.body;
        captured = at.read.capture.headers;
        type = at.read.payload !== null && typeof at.read.payload.type === 'string' ? at.read.payload.type : null;
      } else throw new InvalidInput('give a record or a body');
      if (typeof req.body === 'string') {
        try {
          const v = parseJson(req.body) as Record<string, unknown> | null;
          type = v !== null && typeof v === 'object' && typeof v.type === 'string' ? v.type : null;
        } catch {
          // not JSON
        }
      }
      if (req.signing !== undefined && !['sign', 'unsigned', 'wrong', 'original'].includes(req.signing)) {
        throw new InvalidInput(`signing must be sign, unsigned, wrong or original (got ${JSON.stringify(String(req.signing)).slice(0, 40)})`);
      }
      if (req.signing === 'original' && captured === null) throw new InvalidInput('an edited body has no original signature: sign it, or send it unsigned or wrong');
      const signing = req.signing ?? (secret === undefined ? (captured === null ? 'unsigned' : 'original') : 'sign');
      const headers = signedHeaders(body, signing, captured);
      const url = req.url !== undefined && req.url.trim() !== '' ? resolveTarget(req.url) : routes.length > 0 ? router(type ?? '')[0] : undefined;
      if (url === undefined) throw new InvalidInput('no URL given, and no forward target for this event', 'type a URL (or a port, such as 3000)');
      // The URL as given (a password in it is the user's own, and curl needs it).
      return curlCommand(url.href, headers, body);
    },

    subscribe(s) {
      subscribers.add(s);
      return () => subscribers.delete(s);
    },

    onEvent(ev) {
      if (closed) return;
      if (pages instanceof CapturePages) {
        pendingSeq.push(ev.seq);
        pendingAt.push(ev.received_at);
        pendingStatus.push(ev.status);
        pendingDup.push(ev.duplicate);
        // With no page open, the log is taken in every TAKE_IN events (cheap: no line is parsed), not on a timer.
        if (subscribers.size > 0) schedule();
        else if (pendingSeq.length >= TAKE_IN) flush();
      } else {
        if (ev.duplicate) dups.add(ev.seq);
        schedule();
      }
    },

    onCapture(seq, line) {
      if (memory === null || closed) return;
      const text = line.endsWith('\n') ? line.slice(0, -1) : line;
      memory.push(seq, text);
      if (subscribers.size === 0) return;
      fresh.push({ n: seq, text, file: '' });
      if (fresh.length > 2 * LIVE_ROWS) fresh.splice(0, fresh.length - LIVE_ROWS);
    },

    onForward(r) {
      const f = forwardEntry(r.seq);
      f.attempts.push({ url: r.url, attempt: r.attempt, outcome: r.outcome, status: r.status, latency_ms: r.latency_ms, error: r.error, message: r.message, response: r.response, retry_in_ms: r.retry_in_ms, at: new Date().toISOString() });
      if (f.attempts.length > KEEP_ATTEMPTS * Math.max(1, endpoints.length)) f.attempts.splice(0, 1);
      f.byUrl.set(r.url, { url: r.url, outcome: r.outcome, status: r.status, attempts: r.attempt });
      forwardChanged(r.seq);
    },

    onNotRouted(n) {
      forwardEntry(n.seq).byUrl.set('', { url: '', outcome: 'not_routed', status: null, attempts: 0 });
      forwardChanged(n.seq);
    },

    close() {
      closed = true;
      clearTimeout(timer);
      clearTimeout(forwardTimer);
      clearInterval(poller);
      subscribers.clear();
      if (pages instanceof CapturePages) pages.close();
    },
  };
}

/** The inspector's page and API, with the run's token: hand `http.handle` to a server. */
export function inspectorSite(options: InspectorOptions & { hosts: () => ReadonlySet<string>; onError?: (e: Error) => void }): { inspector: Inspector; http: InspectorHttp } {
  const inspector = createInspector(options);
  const token = randomBytes(24).toString('hex');
  const http = inspectorHttp({ inspector, token, hosts: options.hosts, ...(options.onError ? { onError: options.onError } : {}) });
  return { inspector, http };
}

export interface InspectServerOptions extends Omit<InspectorOptions, 'mode' | 'files' | 'growing' | 'webhookUrl'> {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 4243; 0 = any free port). */
  port?: number;
  onError?: (e: Error) => void;
}

/** A running `onepush inspect`. */
export interface InspectServer {
  /** The page's address, e.g. http://localhost:4243/. */
  url: string;
  port: number;
  inspector: Inspector;
  close(): Promise<void>;
}

/** The inspector's address for a server bound to `host`:`port`. */
export function inspectorUrl(host: string, port: number): string {
  const h = host === '0.0.0.0' || host === '::' || isLoopback(host) ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${h}:${port}/`;
}

/** `onepush inspect`: the page over capture files (the last one re-read as it grows), on its own port. */
export async function inspect(files: readonly string[], options: InspectServerOptions): Promise<InspectServer> {
  const host = options.host ?? '127.0.0.1';
  let port = options.port ?? DEFAULT_INSPECT_PORT;
  const { inspector, http } = inspectorSite({ ...options, mode: 'inspect', files, growing: true, poll: options.poll ?? 1000, hosts: () => hosts });
  let hosts: ReadonlySet<string> = ownHosts(host, port);
  let server;
  try {
    server = await startInspectorServer(host, port, http);
  } catch (e) {
    inspector.close();
    throw e;
  }
  port = server.port;
  hosts = ownHosts(host, port);
  return {
    url: inspectorUrl(host, port),
    port,
    inspector,
    async close() {
      await server.close();
      inspector.close();
    },
  };
}
