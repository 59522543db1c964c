import type { IncomingHttpHeaders } from 'node:http';
import { isIP } from 'node:net';
import { noCaptureStore, openCaptureStore, type CaptureStore } from './adapters/capture-store.js';
import { Forwarder, type ForwardResult } from './adapters/forwarder.js';
import type { HttpClient } from './adapters/http-client.js';
import { startHttpServer, type RequestHead, type Respond, type RunningServer } from './adapters/http-server.js';
import { encodeCapture } from './core/capture.js';
import { classify, DuplicateTracker, refused, tooLarge, type Classification } from './core/receiver.js';
import type { SchemaIssue } from './core/schemas.js';
import { DEFAULT_PATH, resolveTarget } from './core/target.js';

// `onepush listen` as a library function (issue #3): the receiver, the capture log and the forwarding queue,
// wired together. The CLI command only prints what this reports.

export type { ForwardResult } from './adapters/forwarder.js';

/** One answered request (the `event` line of `listen --json`). */
export interface ListenEvent {
  kind: 'event';
  seq: number;
  received_at: string;
  method: string;
  path: string;
  status: number;
  /** true/false with a secret; null without one. */
  verified: boolean | null;
  /** Why it was refused or flagged; null when all is fine. */
  reason: string | null;
  id: string | null;
  type: string | null;
  known_type: boolean;
  duplicate: boolean;
  /** When the id was first seen (for a duplicate), else null. */
  first_seen_at: string | null;
  schema_issues: SchemaIssue[];
  /** Body size in bytes (the declared size for a body that was not read). */
  size: number;
  payload: Record<string, unknown> | null;
  headers: IncomingHttpHeaders;
  /** The payload as one line of JSON (the raw text when it has no line break): for cheap NDJSON output. */
  payloadText: string | null;
}

/** Totals at the end (the `summary` line of `listen --json`). */
export interface ListenSummary {
  kind: 'summary';
  /** Every answered request. */
  received: number;
  /** Answered 200. */
  accepted: number;
  /** Accepted with a valid signature. */
  valid: number;
  /** Answered 401: missing or wrong signature. */
  invalid: number;
  /** Accepted without a secret to check. */
  unverified: number;
  /** Answered 400, 405, 413 (or 503: the capture could not be written). */
  rejected: number;
  duplicates: number;
  forwarded: number;
  forward_failed: number;
  /** Events still waiting to be forwarded. */
  queued: number;
  queued_ids: string[];
  save: string | null;
  duration_ms: number;
}

export interface ListenerOptions {
  /** Address to bind (default 127.0.0.1). */
  host?: string;
  /** Port (default 4242; 0 = any free port). */
  port?: number;
  /** Verify signatures with this secret; without one every event is accepted, unverified. */
  secret?: string | undefined;
  /** Capture log path; null to save nothing (default null for the library; the CLI defaults to .onepush/events.ndjson). */
  save?: string | null;
  /** Forward accepted events to this URL (or `--to` shorthand). */
  forwardTo?: string | URL | null;
  /** Largest body accepted, bytes (default 1 MiB). */
  maxBody?: number;
  /** Called for each answered request, after its capture is written and before its answer is sent. */
  onEvent?: (event: ListenEvent) => void;
  /**
   * Check accepted events against their type's zod schema (default true). The answer never depends on it; false
   * leaves it out of the request's path (`schema_issues` empty, `reason` without the schema part), for a caller that
   * checks later, elsewhere (`validateEvent`), as the CLI does in its output thread.
   */
  checkSchemas?: boolean;
  /** Called when a capture could not be written (those requests are answered 503). */
  onError?: (error: Error) => void;
  /** Called for each forwarding attempt. */
  onForward?: (result: ForwardResult) => void;
  /** Per-attempt forwarding timeout (default 5000 ms) and retry delays (1 s doubling to 10 s). */
  forwardTimeoutMs?: number;
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** user-agent of forwarded requests (default `onepush-cli`). */
  userAgent?: string;
  /** The clock (default `() => new Date()`). */
  now?: () => Date;
}

/** A running listener. */
export interface Listener {
  /** The webhook URL to configure, e.g. http://localhost:4242/webhooks/onepush. */
  url: string;
  host: string;
  port: number;
  save: string | null;
  forwardTo: string | null;
  verifying: boolean;
  /** Totals so far. */
  summary(): ListenSummary;
  /** Resolves when every queued event has been forwarded (or rejected). */
  drained(): Promise<void>;
  /** Stops accepting, lets in-flight requests finish, flushes captures, stops forwarding; the final totals. */
  close(): Promise<ListenSummary>;
}

/** The `event` of one classified request (what `onEvent` gets): `firstSeenAt` is set for a duplicate. */
export function listenEvent(
  c: Classification,
  seq: number,
  head: Pick<RequestHead, 'method' | 'path' | 'headers'>,
  receivedAt: string,
  size: number,
  firstSeenAt: string | null,
): ListenEvent {
  return {
    kind: 'event',
    seq,
    received_at: receivedAt,
    method: head.method,
    path: head.path,
    status: c.status,
    verified: c.verified,
    reason: c.reason,
    id: c.id,
    type: c.type,
    known_type: c.knownType,
    duplicate: firstSeenAt !== null,
    first_seen_at: firstSeenAt,
    schema_issues: c.schemaIssues,
    size,
    payload: c.payload,
    headers: head.headers,
    payloadText: c.payloadText,
  };
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || isLoopback(host)) return 'localhost';
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** Starts a listener (SPEC.md §2 `listen`); rejects with the listen error (EADDRINUSE, …) or a capture file error. */
export async function startListener(options: ListenerOptions = {}): Promise<Listener> {
  const host = options.host ?? '127.0.0.1';
  const maxBody = options.maxBody ?? 1024 * 1024;
  const now = options.now ?? (() => new Date());
  const secret = options.secret === '' ? undefined : options.secret;
  const forwardUrl = options.forwardTo == null ? null : options.forwardTo instanceof URL ? options.forwardTo : resolveTarget(options.forwardTo);
  const store: CaptureStore = options.save ? openCaptureStore(options.save) : noCaptureStore();
  const onEvent = options.onEvent;
  const checkSchemas = options.checkSchemas ?? true;
  const started = performance.now();
  // Ids seen, with when (as the ISO time already made for the event line and the capture).
  const duplicates = new DuplicateTracker<string>();
  // Many requests arrive within the same millisecond under load: format each millisecond once.
  let lastMs = Number.NaN;
  let lastIso = '';
  const isoTime = (d: Date): string => {
    const ms = d.getTime();
    if (ms !== lastMs) {
      lastMs = ms;
      lastIso = d.toISOString();
    }
    return lastIso;
  };
  const summary: ListenSummary = {
    kind: 'summary',
    received: 0,
    accepted: 0,
    valid: 0,
    invalid: 0,
    unverified: 0,
    rejected: 0,
    duplicates: 0,
    forwarded: 0,
    forward_failed: 0,
    queued: 0,
    queued_ids: [],
    save: store.path,
    duration_ms: 0,
  };
  let client: HttpClient | undefined;
  let forwarder: Forwarder | undefined;
  if (forwardUrl) {
    // undici only when forwarding: `import { sign } from 'onepush-cli'` should not pay for it.
    const { createHttpClient } = await import('./adapters/http-client.js');
    client = createHttpClient({ userAgent: options.userAgent ?? 'onepush-cli', connections: 1 });
    forwarder = new Forwarder({
      url: forwardUrl,
      client,
      secret,
      onResult: (r) => options.onForward?.(r),
      ...(options.forwardTimeoutMs === undefined ? {} : { timeoutMs: options.forwardTimeoutMs }),
      ...(options.retryBaseMs === undefined ? {} : { baseDelayMs: options.retryBaseMs }),
      ...(options.retryMaxMs === undefined ? {} : { maxDelayMs: options.retryMaxMs }),
    });
  }
  let seq = 0;

  const handle = (head: RequestHead, body: Buffer | null, respond: Respond): void => {
    const sig = head.headers['x-onepush-signature'];
    const signature = Array.isArray(sig) ? sig[0] : sig;
    let c: Classification = body === null ? tooLarge(maxBody, head.declaredSize) : classify({ method: head.method, body, signature }, secret, checkSchemas);
    const receivedAt = isoTime(head.receivedAt);
    let firstSeen: string | undefined;
    if (c.status === 200 && c.id !== null) firstSeen = duplicates.see(c.id, receivedAt);
    // Plain fields, no spreads: this runs once per request.
    const line = store.path === null ? '' : encodeCapture({
      receivedAt,
      method: head.method,
      path: head.path,
      headers: head.headers,
      body,
      bodyText: c.bodyText,
      verified: body === null ? null : c.verified,
      status: c.status,
      reason: c.status === 200 ? undefined : (c.reason ?? ''),
      declaredSize: body === null ? head.declaredSize : undefined,
    });
    store.append(line, (error) => {
      if (error) {
        // Not saved, so not accepted: OnePush (or whoever sent it) will retry.
        c = refused(503, `could not save the capture: ${error.message}`);
        firstSeen = undefined;
      }
      const n = ++seq;
      summary.received++;
      if (c.status === 200) {
        summary.accepted++;
        if (c.verified === true) summary.valid++;
        else summary.unverified++;
      } else if (c.status === 401) summary.invalid++;
      else summary.rejected++;
      if (firstSeen !== undefined) summary.duplicates++;
      if (onEvent) {
        onEvent(listenEvent(c, n, head, receivedAt, body === null ? (head.declaredSize ?? 0) : body.length, firstSeen ?? null));
      }
      respond(c.status, c.answer);
      if (error) options.onError?.(error);
      if (forwarder && c.status === 200 && body !== null) forwarder.push({ seq: n, id: c.id, type: c.type, body, signature });
    });
  };

  let server: RunningServer;
  try {
    server = await startHttpServer({ host, port: options.port ?? 4242, maxBody, now, onRequest: handle });
  } catch (e) {
    store.discard();
    await client?.close();
    throw e;
  }

  const totals = (): ListenSummary => {
    summary.forwarded = forwarder?.delivered ?? 0;
    summary.forward_failed = forwarder?.failed ?? 0;
    summary.queued = forwarder?.queued ?? 0;
    summary.queued_ids = forwarder?.queuedIds() ?? [];
    summary.duration_ms = Math.round(performance.now() - started);
    return { ...summary, queued_ids: [...summary.queued_ids] };
  };
  let closing: Promise<ListenSummary> | undefined;
  return {
    url: `http://${urlHost(host)}:${server.port}${DEFAULT_PATH}`,
    host,
    port: server.port,
    save: store.path,
    forwardTo: forwardUrl?.href ?? null,
    verifying: secret !== undefined,
    summary: totals,
    drained: async () => {
      await forwarder?.drained();
    },
    close() {
      closing ??= (async () => {
        await server.close();
        store.close();
        await forwarder?.stop();
        await client?.close();
        return totals();
      })();
      return closing;
    },
  };
}
