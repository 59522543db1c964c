import { asCapture, captureBody, CaptureError } from './capture.js';
import { globMatcher } from './event-types.js';
import { JsonDepthError, jsonProblem, parseJson } from './json.js';

// What `replay` reads from a line, and which lines it keeps: pure, so the selection is tested alone.

/** One event to replay, from a capture, a `listen --json` event line, or a plain event JSON. */
export interface ReplayItem {
  /** The source as named by the user (file path, or `-`). */
  source: string;
  /** 1-based line number in the source. */
  line: number;
  id: string | null;
  type: string | null;
  /** When it was received (captures, listen lines) or created (plain events), ms since the epoch; null if unknown. */
  timeMs: number | null;
  /** The exact body bytes to send. */
  body: Buffer;
  /** The captured request headers (captures only), lowercase names. */
  headers: Record<string, string> | null;
}

/** A line that was read but gives nothing to send, and why (`skip`: by design; `ignore`: silently, e.g. `ready`). */
export type LineOutcome = { kind: 'item'; item: ReplayItem } | { kind: 'skip'; message: string } | { kind: 'ignore' };

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function timeOf(value: unknown): number | null {
  if (typeof value !== 'string') return null;
  const t = Date.parse(value);
  return Number.isNaN(t) ? null : t;
}

/**
 * Reads one parsed line (or whole plain-event file). Throws CaptureError for a value that is none of: a capture
 * (`"v":1`), a `listen --json` line (`"kind"`), or an event (`"type"` string).
 */
export function readReplayValue(value: unknown, source: string, line: number, rawText?: string): LineOutcome {
  if (!isRecord(value)) throw new CaptureError('not a JSON object');
  if (value.v !== undefined) {
    const capture = asCapture(value);
    if (capture.body === null) {
      return { kind: 'skip', message: `capture refused before its body was read (status ${capture.status}${capture.reason ? `: ${capture.reason}` : ''})` };
    }
    const body = captureBody(capture);
    let event: unknown;
    try {
      event = parseJson(body.toString('utf8'));
    } catch (e) {
      const what = e instanceof JsonDepthError ? e.message : 'not JSON';
      return { kind: 'skip', message: `captured body is ${what} (status ${capture.status})` };
    }
    if (!isRecord(event)) return { kind: 'skip', message: `captured body is not a JSON object (status ${capture.status})` };
    return {
      kind: 'item',
      item: {
        source,
        line,
        id: typeof event.id === 'string' ? event.id : null,
        type: typeof event.type === 'string' ? event.type : null,
        timeMs: timeOf(capture.received_at),
        body,
        headers: capture.headers,
      },
    };
  }
  if (typeof value.kind === 'string') {
    if (value.kind !== 'event') return { kind: 'ignore' };
    const payload = value.payload ?? value.event ?? value.body;
    if (!isRecord(payload)) return { kind: 'skip', message: 'listen --json event line without a JSON payload' };
    return {
      kind: 'item',
      item: {
        source,
        line,
        id: typeof payload.id === 'string' ? payload.id : typeof value.id === 'string' ? value.id : null,
        type: typeof payload.type === 'string' ? payload.type : typeof value.type === 'string' ? value.type : null,
        timeMs: timeOf(value.received_at) ?? timeOf(value.time) ?? timeOf(payload.created_at),
        body: Buffer.from(JSON.stringify(payload)),
        headers: null,
      },
    };
  }
  if (typeof value.type === 'string') {
    return {
      kind: 'item',
      item: {
        source,
        line,
        id: typeof value.id === 'string' ? value.id : null,
        type: value.type,
        timeMs: timeOf(value.created_at),
        body: Buffer.from(rawText ?? JSON.stringify(value)),
        headers: null,
      },
    };
  }
  throw new CaptureError('not a capture, a listen --json line or an event (no "v", "kind" or "type" field)');
}

/** Parses one line of text; throws CaptureError for a bad line. */
export function readReplayLine(text: string, source: string, line: number): LineOutcome {
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (e) {
    throw new CaptureError(jsonProblem(e));
  }
  return readReplayValue(value, source, line, text);
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** A start time: an ISO time, or a duration back from `nowMs` (`30s`, `10m`, `2h`, `1d`, `1w`). Throws TypeError. */
export function parseSince(text: string, nowMs: number): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([smhdw])\s*$/i.exec(text);
  if (m) return nowMs - Number(m[1]) * (UNITS[(m[2] as string).toLowerCase()] as number);
  if (/^\d{4}-\d{2}-\d{2}/.test(text.trim())) {
    const t = Date.parse(text.trim());
    if (!Number.isNaN(t)) return t;
  }
  throw new TypeError(`${JSON.stringify(text)} is neither an ISO time nor a duration`);
}

export interface Selection {
  ids?: readonly string[];
  type?: string;
  /** Only events at or after this time (ms); events with no time are left out. */
  sinceMs?: number;
  last?: number;
}

/** The filter of a selection (all but `last`). */
export function selector(sel: Selection): (item: ReplayItem) => boolean {
  const ids = sel.ids && sel.ids.length > 0 ? new Set(sel.ids) : undefined;
  const type = sel.type ? globMatcher(sel.type) : undefined;
  const since = sel.sinceMs;
  return (item) =>
    (ids === undefined || (item.id !== null && ids.has(item.id))) &&
    (type === undefined || (item.type !== null && type(item.type))) &&
    (since === undefined || (item.timeMs !== null && item.timeMs >= since));
}

/** Keeps only the last `n` items of a stream (memory: n items), in order. */
export async function* takeLast<T>(items: AsyncIterable<T>, n: number): AsyncGenerator<T> {
  const ring: T[] = [];
  let start = 0;
  for await (const item of items) {
    if (ring.length < n) ring.push(item);
    else {
      ring[start] = item;
      start = (start + 1) % n;
    }
  }
  for (let i = 0; i < ring.length; i++) yield ring[(start + i) % ring.length] as T;
}

/** Headers a proxy or client sets per connection: never replayed (undici refuses some of them anyway). */
const HOP_BY_HOP = new Set([
  'host',
  'content-length',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'upgrade',
  'expect',
  'te',
  'trailer',
  'proxy-connection',
  'http2-settings',
]);

export interface SigningOptions {
  /** Re-sign with this secret (unless keepSignature). */
  secret?: string;
  /** Send the captured headers unchanged (hop-by-hop ones dropped) with the byte-identical body. */
  keepSignature?: boolean;
  /** A fresh event id for each event (the body is re-serialised, so it needs a secret). */
  freshId?: () => string;
  /** Signs bytes (core/signature's `sign`, passed in to keep this module free of crypto). */
  sign: (body: Uint8Array, secret: string) => string;
}

/** The headers and body to send for an item. */
export function replayRequest(item: ReplayItem, o: SigningOptions): { id: string | null; headers: Record<string, string>; body: Buffer } {
  const headers: Record<string, string> = {};
  if (item.headers) {
    for (const [name, value] of Object.entries(item.headers)) if (!HOP_BY_HOP.has(name)) headers[name] = value;
  }
  headers['content-type'] ??= 'application/json';
  let body = item.body;
  let id = item.id;
  if (o.freshId) {
    const event = parseJson(body.toString('utf8')) as Record<string, unknown>;
    id = o.freshId();
    event.id = id;
    body = Buffer.from(JSON.stringify(event));
  }
  if (o.secret !== undefined && !o.keepSignature) headers['x-onepush-signature'] = o.sign(body, o.secret);
  return { id, headers, body };
}
