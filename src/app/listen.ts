import { randomBytes } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import { noCaptureStore, openCaptureStore, type CaptureRef, type CaptureStore } from '../adapters/capture-store.js';
import { FORWARDED_HEADER, Forwarder, type BodySource, type ForwardResult } from '../adapters/forwarder.js';
import type { HttpClient } from '../adapters/http-client.js';
import { startHttpServer, MAX_HEADERS, type EarlyRefusal, type RequestHead, type Respond, type RunningServer, type ServerTimeouts } from '../adapters/http-server.js';
import { createSpool, type Spool, type SpoolRef } from '../adapters/spool.js';
import { captureBody, decodeCapture, encodeCapture, encodeCaptureParts } from '../core/capture.js';
import { redactUrl } from '../core/display.js';
import type { Redactor } from '../core/redact.js';
import { InvalidInput } from '../core/errors.js';
import { OnepushError } from '../core/errors.js';
import { classify, DuplicateTracker, refused, tooLarge, type Classification } from '../core/receiver.js';
import type { SchemaIssue } from '../core/schemas.js';
import { DEFAULT_PATH, DEFAULT_PORT } from '../core/defaults.js';
import type { RetryPolicy } from '../core/retry.js';
import { createRouter, parseRoute, parseRoutes, routeEndpoints, type Route } from '../core/routes.js';
import { isLoopback } from '../core/target.js';

export { isLoopback };

// `onepush listen` as a library function: the receiver, the capture log and the forwarding queue,
// wired together. The CLI command only prints what this reports.

export type { ForwardResult } from '../adapters/forwarder.js';
export type { RetryPolicy } from '../core/retry.js';
export type { ServerTimeouts } from '../adapters/http-server.js';

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
  /** Events given up after --max-attempts (set aside; counted in forward_failed too). */
  given_up_ids: string[];
  /**
   * With routes (several endpoints, or a route with types): accepted events no route took. Absent for a single
   * bare forward target (or none), as before routes.
   */
  not_routed?: number;
  /** With routes: the same forwarding counts for each endpoint, in the order first named. */
  endpoints?: EndpointSummary[];
  save: string | null;
  /** Errors thrown by the onEvent/onForward callbacks (contained; the requests were answered). */
  callback_errors: number;
  duration_ms: number;
}

/** The forwarding counts of one endpoint (the `endpoints` of the summary, with routes). */
export interface EndpointSummary {
  /** The endpoint, as printed (a password shown as `***`). */
  url: string;
  forwarded: number;
  forward_failed: number;
  queued: number;
  queued_ids: string[];
  given_up_ids: string[];
}

/** An accepted event that no route takes (the `forward` line of `listen --json` with outcome `not_routed`). */
export interface NotRouted {
  kind: 'forward';
  seq: number;
  id: string | null;
  type: string | null;
  url: null;
  outcome: 'not_routed';
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
  /**
   * Save redacted copies (`onepush redact`'s, re-signed with `secret`, which it needs): personal data replaced by
   * stable fakes before the line is written (and in `onCapture`'s lines). What is answered, shown and forwarded is
   * the real event. `seed` as redact's `--seed` (default DEFAULT_REDACT_SEED).
   */
  redact?: boolean | { seed?: string };
  /**
   * Forward accepted events to this URL (or `--to` shorthand), or by routes: each `TYPES=URL` (globs,
   * comma-separated) or a bare URL (every type). Each endpoint has its own in-order queue and retries; an event
   * matching several routes goes to each endpoint once; one matching none is reported through `onNotRouted`.
   */
  forwardTo?: string | URL | readonly string[] | null;
  /**
   * Called with the capture line of each answered request (as saved, with its newline), right after `onEvent`: for
   * a caller that keeps recent requests itself (the inspector without a capture log). Lines are made even without
   * `save` when this is set.
   */
  onCapture?: (seq: number, line: string) => void;
  /**
   * Requests this returns true for are the caller's to answer (the inspector's page and API on the listener's
   * port); everything else is a webhook. Checked before the body is read.
   */
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Called for an accepted event that no route takes (only with routes). */
  onNotRouted?: (n: NotRouted) => void;
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
  /**
   * Called for what went wrong without stopping the listener: a capture that could not be written (those requests
   * are answered 503), and an error thrown by your own `onEvent` or `onForward` (the request was answered all the
   * same). Without it such errors are counted in the summary (`callback_errors`) and otherwise dropped.
   */
  onError?: (error: Error) => void;
  /** Things worth saying once (a torn tail moved aside, modes tightened, a deleted log started again). */
  onWarning?: (message: string) => void;
  /** Create the capture log's folder (one level, 0700) if it is missing; otherwise it must exist (default false). */
  createSaveFolder?: boolean;
  /** Called for each forwarding attempt. */
  onForward?: (result: ForwardResult) => void;
  /** Per-attempt forwarding timeout (default 5000 ms). */
  forwardTimeoutMs?: number;
  /**
   * How long to wait before each forwarding retry (default DEFAULT_RETRY: 250 ms doubling to 5 s, a Retry-After of
   * up to 60 s honoured); an undefined field keeps its default.
   */
  retry?: Partial<RetryPolicy>;
  /**
   * How long slow or idle senders are given (default: headers 10 s, whole request 30 s, kept-alive connection 5 s,
   * silent new connection 10 s, in-flight requests at close 2 s); an undefined field keeps its default.
   */
  timeouts?: Partial<ServerTimeouts>;
  /** Attempts of one event before it is given up and set aside, so the queue moves on (default: no limit). */
  maxAttempts?: number;
  /** Trust any TLS certificate of the forward target (a self-signed local https app). */
  insecure?: boolean;
  /**
   * The environment whose proxy variables apply to outgoing requests (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, lowercase
   * forms too): the CLI hands in its own. Without it every request goes direct.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Shorthand for `retry.firstDelayMs`. */
  retryBaseMs?: number;
  /** Shorthand for `retry.maxDelayMs`. */
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
  /** Where accepted events are forwarded, as printed: a password in the URL is shown as `***`; routes joined by ", ". */
  forwardTo: string | null;
  /** The forwarding routes, as printed (types null: every type); empty when not forwarding. */
  routes: Array<{ types: string[] | null; url: string }>;
  /** The distinct forward endpoints, as printed. */
  endpoints: string[];
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

function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || isLoopback(host)) return 'localhost';
  return isIP(host) === 6 ? `[${host}]` : host;
}

/** A forward target that is this listener itself (refused: every event would come back, forever). */
export class ForwardLoopError extends OnepushError {
  constructor(target: string) {
    super(`--forward-to ${target} is this listener itself: every event would be forwarded back to it, forever`, {
      hint: 'forward to your app\'s port (e.g. --forward-to 3000), not the listener\'s',
    });
    this.name = 'ForwardLoopError';
  }
}

/** The hops a request may have been forwarded through before it is refused as a loop. */
const MAX_HOPS = 8;

/** Whether a forward target is this listener's own address (host and port). */
function isOwnAddress(target: URL, bindHost: string, port: number): boolean {
  const targetPort = Number(target.port || (target.protocol === 'https:' ? 443 : 80));
  if (targetPort !== port) return false;
  const t = target.hostname.replace(/^\[|\]$/g, '').toLowerCase();
  const b = bindHost.replace(/^\[|\]$/g, '').toLowerCase();
  if (t === b) return true;
  const anyAddress = b === '0.0.0.0' || b === '::' || b === '';
  if (isLoopback(t) || t === '0.0.0.0' || t === '::') return anyAddress || isLoopback(b);
  return false;
}

/**
 * A browser's request: OnePush never sends Origin or Sec-Fetch-Site/Dest/User; a browser sends Origin on every
 * cross-site POST and the Sec-Fetch-* set to localhost. (Sec-Fetch-Mode alone is not enough: Node's own fetch sends
 * it, and scripts that post to the listener use that.)
 */
function fromBrowser(headers: IncomingHttpHeaders): boolean {
  return headers.origin !== undefined || headers['sec-fetch-site'] !== undefined || headers['sec-fetch-dest'] !== undefined || headers['sec-fetch-user'] !== undefined;
}

/** The signature of a request; several different values (node:http joins repeats with ", ") are a conflict. */
function signatureOf(value: string | string[] | undefined): { signature: string | undefined; conflicting?: number } {
  const raw = Array.isArray(value) ? value.join(', ') : value;
  if (raw === undefined || !raw.includes(',')) return { signature: raw };
  const distinct = [...new Set(raw.split(',').map((v) => v.trim()).filter((v) => v !== ''))];
  // The same value repeated (a proxy that copies the header) is one signature.
  if (distinct.length <= 1) return { signature: distinct[0] ?? '' };
  return { signature: raw, conflicting: distinct.length };
}

/** A route as printed: `TYPES=URL` (the URL's password as `***`), or the URL alone. */
function routeText(r: Route): string {
  return r.types === null ? redactUrl(r.url) : `${r.types.join(',')}=${redactUrl(r.url)}`;
}

/** Starts a listener (README: `onepush listen`); rejects with the listen error (EADDRINUSE, …) or a capture log error. */
export async function startListener(options: ListenerOptions = {}): Promise<Listener> {
  const host = options.host ?? '127.0.0.1';
  const maxBody = options.maxBody ?? 1024 * 1024;
  const now = options.now ?? (() => new Date());
  const secret = options.secret === '' ? undefined : options.secret;
  const routes: Route[] =
    options.forwardTo == null
      ? []
      : options.forwardTo instanceof URL
        ? [{ types: null, url: options.forwardTo, spec: options.forwardTo.href }]
        : typeof options.forwardTo === 'string'
          ? [parseRoute(options.forwardTo)]
          : parseRoutes(options.forwardTo);
  const endpointUrls = routeEndpoints(routes);
  const forwardUrl = endpointUrls[0] ?? null;
  // One bare target: the listener as before routes (no not_routed, no per-endpoint summary).
  const routed = routes.length > 1 || routes.some((r) => r.types !== null);
  const router = createRouter(routes);
  const onEvent = options.onEvent;
  const onCapture = options.onCapture;
  const checkSchemas = options.checkSchemas ?? true;
  const warn = (m: string): void => {
    try {
      options.onWarning?.(m);
    } catch {
      // a warning handler that throws has nowhere to report to
    }
  };
  let redactor: Redactor | undefined;
  if (options.redact) {
    if (secret === undefined) throw new InvalidInput('listen --redact needs a secret: the redacted bodies are re-signed with it', 'pass --secret or set ONEPUSH_WEBHOOK_SECRET');
    const { Redactor: R } = await import('../core/redact.js');
    redactor = new R(secret, typeof options.redact === 'object' ? options.redact.seed : undefined);
  }
  // Forwarding reads a body back from the log, unless the log holds redacted copies: then from a spool.
  const store: CaptureStore = options.save
    ? openCaptureStore(options.save, { createFolder: options.createSaveFolder === true, refs: forwardUrl !== null && redactor === undefined, onWarning: warn })
    : noCaptureStore();
  const started = performance.now();
  /** This listener's mark on what it forwards, to catch a loop through other hops. */
  const listenerId = `l_${randomBytes(6).toString('hex')}`;
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
    given_up_ids: [],
    save: store.path,
    callback_errors: 0,
    duration_ms: 0,
  };
  /** An error of the user's callbacks or of saving: reported, never raised into the request's path. */
  const reportError = (e: unknown, callback: boolean): void => {
    if (callback) summary.callback_errors++;
    try {
      options.onError?.(e instanceof Error ? e : new Error(String(e)));
    } catch {
      // an error handler that throws has nowhere left to report to
    }
  };
  let client: HttpClient | undefined;
  /** How many endpoint queues still hold a spooled body fanned out to several (absent: one). */
  const spoolUsers = new Map<unknown, number>();
  /** One forwarder per endpoint (its own queue and retries), keyed by URL. */
  const forwarders = new Map<string, Forwarder>();
  let forwarder: Forwarder | undefined;
  let spool: Spool | undefined;
  if (forwardUrl) {
    // undici only when forwarding: `import { sign } from 'onepush-cli'` should not pay for it.
    const { createHttpClient } = await import('../adapters/http-client.js');
    client = createHttpClient({ userAgent: options.userAgent ?? 'onepush-cli', connections: endpointUrls.length, ...(options.insecure ? { insecure: true } : {}), ...(options.env ? { env: options.env } : {}) });
    // The queue holds where each body is, not the body: the capture log has it already; without one, a spool.
    let bodies: BodySource;
    if (store.path !== null && redactor === undefined) {
      bodies = {
        load: (ref) => captureBody(decodeCapture((store.read(ref as CaptureRef)).toString('utf8'))),
        release: () => {},
      };
    } else {
      const s = createSpool();
      spool = s;
      // An event fanned out to several endpoints is spooled once and released when the last queue is done with it.
      bodies = {
        load: (ref) => s.get(ref as SpoolRef),
        release: (ref) => {
          const left = (spoolUsers.get(ref) ?? 1) - 1;
          if (left > 0) spoolUsers.set(ref, left);
          else {
            spoolUsers.delete(ref);
            s.release(ref as SpoolRef);
          }
        },
      };
    }
    for (const url of endpointUrls) forwarders.set(url.href, new Forwarder({
      url,
      displayUrl: redactUrl(url),
      client,
      secret,
      bodies,
      listenerId,
      onResult: (r) => options.onForward?.(r),
      onError: (e) => reportError(e, true),
      ...(options.forwardTimeoutMs === undefined ? {} : { timeoutMs: options.forwardTimeoutMs }),
      retry: {
        ...options.retry,
        ...(options.retryBaseMs === undefined ? {} : { firstDelayMs: options.retryBaseMs }),
        ...(options.retryMaxMs === undefined ? {} : { maxDelayMs: options.retryMaxMs }),
      },
      ...(options.maxAttempts === undefined ? {} : { maxAttempts: options.maxAttempts }),
    }));
    forwarder = forwarders.get(forwardUrl.href);
  }
  let notRouted = 0;
  let seq = 0;

  const handle = (head: RequestHead, body: Buffer | null, respond: Respond, early?: EarlyRefusal): void => {
    const { signature, conflicting } = signatureOf(head.headers['x-onepush-signature']);
    const hopsHeader = head.headers[FORWARDED_HEADER];
    const hops = Array.isArray(hopsHeader) ? hopsHeader.join(', ') : hopsHeader;
    let c: Classification;
    if (early === 'too-many-headers') c = refused(431, `more than ${MAX_HEADERS} headers (OnePush sends a handful): the signature may be among those node would drop`);
    else if (body === null) c = tooLarge(maxBody, head.declaredSize);
    else if (fromBrowser(head.headers)) {
      c = refused(403, 'a browser request (Origin or Sec-Fetch-* header): OnePush never sends those, and a web page may not post events to your listener');
    } else if (hops !== undefined && (hops.includes(listenerId) || hops.split(',').length >= MAX_HOPS)) {
      c = refused(508, hops.includes(listenerId) ? 'forwarding loop: this listener forwarded this request itself (x-onepush-forwarded)' : `forwarded through ${MAX_HOPS} or more listeners (x-onepush-forwarded): a forwarding loop?`);
    } else {
      c = classify({ method: head.method, body, signature, ...(conflicting === undefined ? {} : { conflictingSignatures: conflicting }) }, secret, checkSchemas);
    }
    const receivedAt = isoTime(head.receivedAt);
    // Plain fields, no spreads: this runs once per request.
    let line = store.path === null && onCapture === undefined ? '' : encodeCaptureParts({
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
    if (redactor !== undefined && line !== '') line = `${JSON.stringify(redactor.redactCapture(decodeCapture(typeof line === 'string' ? line : line.join(''))).capture)}\n`;
    store.append(line, (error, ref) => {
      if (error) {
        // Not saved, so not accepted: OnePush (or whoever sent it) will retry. The log says what was answered.
        c = refused(503, `could not save the capture: ${error.message}`);
        if (store.path !== null) {
          store.tryAppend(encodeCapture({ receivedAt, method: head.method, path: head.path, headers: {}, body: null, verified: null, status: 503, reason: c.reason ?? '', declaredSize: body?.length }));
        }
      }
      // Seen only once saved and accepted: a 503's retry is not a duplicate.
      const firstSeen = c.status === 200 && c.id !== null ? duplicates.see(c.id, receivedAt) : undefined;
      const n = ++seq;
      summary.received++;
      if (c.status === 200) {
        summary.accepted++;
        if (c.verified === true) summary.valid++;
        else summary.unverified++;
      } else if (c.status === 401) summary.invalid++;
      else summary.rejected++;
      if (firstSeen !== undefined) summary.duplicates++;
      // The answer first: nothing a callback does can leave the sender waiting.
      respond(c.status, c.answer);
      if (error) reportError(new Error(`could not write the capture log (${error.message}): those requests were answered 503, so they will be retried`, { cause: error }), false);
      if (onEvent) {
        try {
          onEvent(listenEvent(c, n, head, receivedAt, body === null ? (head.declaredSize ?? 0) : body.length, firstSeen ?? null));
        } catch (e) {
          reportError(e, true);
        }
      }
      if (onCapture) {
        try {
          onCapture(n, typeof line === 'string' ? line : line.join(''));
        } catch (e) {
          reportError(e, true);
        }
      }
      if (forwarder && c.status === 200 && body !== null) {
        if (!routed) {
          const where = ref ?? (spool as Spool).put(body);
          forwarder.push({ seq: n, id: c.id, type: c.type, ref: where, signature, hops });
        } else {
          const urls = router(c.type ?? '');
          if (urls.length === 0) {
            notRouted++;
            try {
              options.onNotRouted?.({ kind: 'forward', seq: n, id: c.id, type: c.type, url: null, outcome: 'not_routed' });
            } catch (e) {
              reportError(e, true);
            }
          } else {
            const where = ref ?? (spool as Spool).put(body);
            if (ref === undefined && urls.length > 1) spoolUsers.set(where, urls.length);
            for (const u of urls) forwarders.get(u.href)?.push({ seq: n, id: c.id, type: c.type, ref: where, signature, hops });
          }
        }
      }
    });
  };

  let server: RunningServer;
  try {
    server = await startHttpServer({ host, port: options.port ?? DEFAULT_PORT, maxBody, now, onRequest: handle, ...(options.intercept ? { intercept: options.intercept } : {}), ...(options.timeouts ? { timeouts: options.timeouts } : {}) });
  } catch (e) {
    store.discard();
    spool?.close();
    await client?.close();
    throw e;
  }
  const loop = endpointUrls.find((u) => isOwnAddress(u, host, server.port));
  if (loop) {
    await server.close();
    store.discard();
    spool?.close();
    await client?.close();
    throw new ForwardLoopError(redactUrl(loop));
  }

  const all = [...forwarders.values()];
  const totals = (): ListenSummary => {
    summary.forwarded = all.reduce((n, f) => n + f.delivered, 0);
    summary.forward_failed = all.reduce((n, f) => n + f.failed, 0);
    summary.queued = all.reduce((n, f) => n + f.queued, 0);
    summary.queued_ids = [...new Set(all.flatMap((f) => f.queuedIds()))];
    summary.given_up_ids = [...new Set(all.flatMap((f) => f.givenUp))];
    summary.duration_ms = Math.round(performance.now() - started);
    if (!routed) return { ...summary, queued_ids: [...summary.queued_ids], given_up_ids: [...summary.given_up_ids] };
    return {
      ...summary,
      queued_ids: [...summary.queued_ids],
      given_up_ids: [...summary.given_up_ids],
      not_routed: notRouted,
      endpoints: endpointUrls.map((u) => {
        const f = forwarders.get(u.href) as Forwarder;
        return { url: redactUrl(u), forwarded: f.delivered, forward_failed: f.failed, queued: f.queued, queued_ids: f.queuedIds(), given_up_ids: [...f.givenUp] };
      }),
    };
  };
  let closing: Promise<ListenSummary> | undefined;
  return {
    url: `http://${urlHost(host)}:${server.port}${DEFAULT_PATH}`,
    host,
    port: server.port,
    save: store.path,
    forwardTo: forwardUrl === null ? null : routed ? routes.map(routeText).join(', ') : redactUrl(forwardUrl),
    routes: routes.map((r) => ({ types: r.types === null ? null : [...r.types], url: redactUrl(r.url) })),
    endpoints: endpointUrls.map((u) => redactUrl(u)),
    verifying: secret !== undefined,
    summary: totals,
    drained: async () => {
      await Promise.all(all.map((f) => f.drained()));
    },
    close() {
      closing ??= (async () => {
        try {
          await server.close();
          await Promise.all(all.map((f) => f.stop()));
        } finally {
          // Whatever happened above, the log is flushed and closed and the connections go.
          store.close();
          spool?.close();
          await client?.close();
        }
        return totals();
      })();
      return closing;
    },
  };
}
