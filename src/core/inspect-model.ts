import { eventInfo, globMatcher, type EventKind } from './event-types.js';
import type { ForwardResult } from './forward-result.js';

// What the inspector's page and its server exchange (README: The inspector): the row of the list, the detail of
// one request, the filter, and the JSON of each API call. Pure and free of node: imports, so the page's bundle
// uses the very same types and the very same filter as the server.
//
// API (all JSON; every /_onepush/api/ call needs the run's token in the `x-onepush-token` header, or `token` in
// the query for EventSource and downloads; a POST also needs an `Origin` of the page itself):
//   GET  /                                   the page (the token is in <meta name="onepush-token">)
//   GET  /_onepush/app.js, /_onepush/app.css the page's bundle
//   GET  /_onepush/api/info                  InspectInfo
//   GET  /_onepush/api/records?before=&limit=&type=&status=&verified=&endpoint=&q=   RecordPage (newest first)
//   GET  /_onepush/api/records/<n>           InspectDetail
//   GET  /_onepush/api/records/<n>/body      the body's exact bytes, as a download (<id>.json)
//   GET  /_onepush/api/stream                Server-Sent Events: `rows` (LiveBatch), `forwards` (ForwardUpdate[])
//   POST /_onepush/api/replay                ReplayRequest → ActionResult
//   POST /_onepush/api/send                  SendRequest → ActionResult (edit and resend)
//   POST /_onepush/api/curl                  CurlRequest → { command: string }

/** The forwarding of one request to one endpoint, as the list shows it. */
export interface RowForward {
  /** The endpoint, as printed (a password shown as ***). */
  url: string;
  outcome: 'delivered' | 'retrying' | 'rejected' | 'given_up' | 'not_routed';
  /** The app's last status; null on a network error or a timeout. */
  status: number | null;
  attempts: number;
}

/** One request, as one row of the list (as the terminal shows it). */
export interface InspectRow {
  /** The record's number in this inspector (0 = the oldest line read): stable, the key of every other call. */
  n: number;
  /** listen's sequence number (live events of this run), else null. */
  seq: number | null;
  received_at: string;
  method: string;
  path: string;
  status: number;
  /** true/false when a secret was set, null when signatures were not checked. */
  verified: boolean | null;
  reason: string | null;
  id: string | null;
  type: string | null;
  /** How the type is coloured: delivery, engagement, problem, unsubscribe; null for an unknown type. */
  kind: EventKind | null;
  email_id: string | null;
  /** The first recipient (data.to). */
  recipient: string | null;
  /** A redelivery of an id seen before. */
  duplicate: boolean;
  /** How many schema issues an accepted event of a known type has. */
  schema_issues: number;
  /** Body size in bytes. */
  size: number;
  /** One entry per endpoint (live events of a forwarding listener); empty otherwise. */
  forwards: RowForward[];
  /** The capture file it was read from (inspect over several files); null for a live event not saved. */
  source: string | null;
}

/** One forwarding attempt: the `forward` line of `listen --json` (what the page needs of it), and when. */
export type InspectAttempt = Pick<ForwardResult, 'url' | 'attempt' | 'outcome' | 'status' | 'latency_ms' | 'error' | 'message' | 'response' | 'retry_in_ms'> & { at: string };

/** One request in full. */
export interface InspectDetail {
  row: InspectRow;
  /** The request's headers, as received (names lowercase). */
  headers: Array<[name: string, value: string]>;
  body: {
    /** The exact body as text (UTF-8), or base64 when it is not UTF-8; null when it was not read (413). */
    text: string | null;
    encoding: 'utf8' | 'base64';
    /** The JSON pretty-printed (2 spaces), or null when it is not JSON. */
    pretty: string | null;
    size: number;
  };
  /** The signature in words: the same `explain` as `onepush verify --explain`. */
  verification: {
    /** false: no secret, signatures not checked. */
    checked: boolean;
    valid: boolean | null;
    /** explain's stable code (valid, re-serialised, trailing-newline, …), or 'unchecked'. */
    code: string;
    message: string;
  };
  schema_issues: Array<{ path: string; message: string }>;
  /** Every forwarding attempt, oldest first (live events of a forwarding listener). */
  attempts: InspectAttempt[];
  /** The other requests of the same email (same email_id), oldest first, this one included. */
  lifecycle: Array<Pick<InspectRow, 'n' | 'type' | 'kind' | 'received_at' | 'id' | 'status'>>;
}

/** What the list is narrowed to; every field optional, all must match. */
export interface InspectFilter {
  /** Type globs, comma-separated (email.*, email.bounced,email.complained). */
  type?: string;
  /** An exact status (401), or a class: 2xx, 4xx, 5xx. */
  status?: string;
  verified?: 'valid' | 'invalid' | 'unverified';
  /** An endpoint (as printed) the request was forwarded to; with `outcome`, the outcome there. */
  endpoint?: string;
  /** Search: a substring of the id, the email id or the recipient (case-insensitive). */
  q?: string;
}

/** The filter fields, in the order of the query string. */
export const FILTER_FIELDS = ['type', 'status', 'verified', 'endpoint', 'q'] as const;

/** GET /_onepush/api/info */
export interface InspectInfo {
  mode: 'listen' | 'inspect';
  version: string;
  /** The capture files shown (listen: its --save log, or none). */
  sources: string[];
  /** Whether a secret is set (signatures explained, resends signed); the secret itself never leaves the process. */
  verifying: boolean;
  /** The webhook URL (listen). */
  url: string | null;
  /** The forward endpoints, as printed: "Replay to the forward target" sends to those (by route). */
  endpoints: string[];
  /** Records so far. */
  total: number;
  /** The capture files are still being indexed (total grows). */
  indexing: boolean;
  /** Without a capture log, only the newest this many are kept (listen --no-save). */
  memory_limit: number | null;
}

/** GET /_onepush/api/records */
export interface RecordPage {
  /** Newest first. */
  rows: InspectRow[];
  /** Records in all (not only those matching). */
  total: number;
  /** Pass as `before` for the next (older) page; null when there is nothing older. */
  next: number | null;
  /** Records looked at for this page (a filter scans at most a bounded number per call; `next` goes on). */
  scanned: number;
  /**
   * The newest record's n when the page was read, whatever the filter (null: none): a live row with a larger n is
   * newer than the page. Record numbers are where lines start in the files: they grow, with gaps.
   */
  newest: number | null;
}

/** SSE `rows`: new records since the last batch, oldest first. */
export interface LiveBatch {
  rows: InspectRow[];
  total: number;
}

/** SSE `forwards`: a row's forwarding changed. */
export interface ForwardUpdate {
  n: number;
  forwards: RowForward[];
}

/** How a resend is signed. */
export type Signing = 'sign' | 'unsigned' | 'wrong' | 'original';

/** POST /_onepush/api/replay: records by number, or every record matching a filter. */
export interface ReplayRequest {
  records?: number[];
  filter?: InspectFilter;
  /** Any URL; omitted: the forward endpoints (by route). */
  url?: string;
  /** original: the captured bytes and signature header unchanged; sign: re-signed with the secret (default). */
  signing?: 'original' | 'sign';
}

/** POST /_onepush/api/send: an edited body. */
export interface SendRequest {
  body: string;
  url?: string;
  /** sign (default; needs a secret), unsigned, wrong (a deliberately wrong signature). */
  signing?: 'sign' | 'unsigned' | 'wrong';
}

/** POST /_onepush/api/curl: the curl command of a record, or of an edited body. */
export interface CurlRequest {
  record?: number;
  body?: string;
  url?: string;
  signing?: Signing;
}

/** One request sent by an action. */
export interface SentRequest {
  n: number | null;
  id: string | null;
  url: string;
  status: number | null;
  ok: boolean;
  latency_ms: number;
  error: string | null;
  /** The app's answer (its first 64 KiB). */
  response: string;
}

/** What an action did. */
export interface ActionResult {
  sent: SentRequest[];
  ok: number;
  failed: number;
  /** Records matched but not sent (past the per-action limit). */
  truncated: number;
}

/** The most one "replay everything that matches" sends. */
export const MAX_REPLAY = 10_000;

/** The query string of a filter (empty fields left out). */
export function filterQuery(filter: InspectFilter): string {
  const parts: string[] = [];
  for (const k of FILTER_FIELDS) {
    const v = filter[k];
    if (v !== undefined && v !== '') parts.push(`${k}=${encodeURIComponent(v)}`);
  }
  return parts.join('&');
}

/** The filter of a query string (unknown and empty fields ignored; a bad `verified` dropped). */
export function parseFilter(query: URLSearchParams): InspectFilter {
  const f: InspectFilter = {};
  const get = (k: string): string | undefined => {
    const v = query.get(k)?.trim();
    return v === undefined || v === '' ? undefined : v.slice(0, 500);
  };
  const type = get('type');
  if (type !== undefined) f.type = type;
  const status = get('status');
  if (status !== undefined) f.status = status;
  const verified = get('verified');
  if (verified === 'valid' || verified === 'invalid' || verified === 'unverified') f.verified = verified;
  const endpoint = get('endpoint');
  if (endpoint !== undefined) f.endpoint = endpoint;
  const q = get('q');
  if (q !== undefined) f.q = q;
  return f;
}

/** Whether a filter narrows anything. */
export function isEmptyFilter(filter: InspectFilter): boolean {
  return FILTER_FIELDS.every((k) => filter[k] === undefined || filter[k] === '');
}

/** A matcher for rows (built once per filter: the type globs are compiled once). */
export function rowMatcher(filter: InspectFilter): (row: InspectRow) => boolean {
  const type = filter.type ? globMatcher(filter.type) : null;
  const status = filter.status?.trim().toLowerCase() ?? '';
  const statusClass = /^[1-5]xx$/.test(status) ? Number(status[0]) : null;
  const statusExact = /^\d{3}$/.test(status) ? Number(status) : null;
  const q = filter.q?.trim().toLowerCase() ?? '';
  const endpoint = filter.endpoint ?? '';
  return (row) => {
    if (type !== null && (row.type === null || !type(row.type))) return false;
    if (statusClass !== null && Math.floor(row.status / 100) !== statusClass) return false;
    if (statusExact !== null && row.status !== statusExact) return false;
    if (status !== '' && statusClass === null && statusExact === null) return false;
    if (filter.verified === 'valid' && row.verified !== true) return false;
    if (filter.verified === 'invalid' && row.verified !== false) return false;
    if (filter.verified === 'unverified' && row.verified !== null) return false;
    if (endpoint !== '' && !row.forwards.some((f) => f.url === endpoint)) return false;
    if (q !== '') {
      const hit = [row.id, row.email_id, row.recipient].some((v) => v !== null && v.toLowerCase().includes(q));
      if (!hit) return false;
    }
    return true;
  };
}

/** The kind of a type (its colour), null for an unknown type. */
export function kindOf(type: string | null): EventKind | null {
  return type === null ? null : (eventInfo(type)?.kind ?? null);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The email id and first recipient of a payload (data.email_id, data.to: a string or a list). */
export function emailOf(payload: Record<string, unknown> | null): { email_id: string | null; recipient: string | null } {
  const data = payload !== null && isRecord(payload.data) ? payload.data : null;
  if (data === null) return { email_id: null, recipient: null };
  const to = Array.isArray(data.to) ? data.to[0] : data.to;
  return { email_id: typeof data.email_id === 'string' ? data.email_id : null, recipient: typeof to === 'string' ? to : null };
}
