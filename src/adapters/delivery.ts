import { setMaxListeners } from 'node:events';
import { timerMs } from '../core/limits.js';
import { createHttpClient, type HttpClient, type OutgoingRequest, type SendResult } from './http-client.js';

// The delivery engine shared by `trigger`, `replay` and the library's `deliver` (issue #4): one request = body bytes
// + headers + target; retries with capped exponential backoff and jitter on network errors, timeouts, 5xx and 429
// (Retry-After honoured), never on other 4xx; 3xx is a failure and is not followed; a concurrency limit and a rate.

/** The outcome of one delivery, after its retries. */
export interface DeliveryResult {
  /** The last HTTP status, null when no answer came (network error or timeout). */
  status: number | null;
  /** True for a 2xx. */
  ok: boolean;
  attempts: number;
  /** Latency of the last attempt, in ms. */
  latencyMs: number;
  /** The useful line of the last response body ('' on a network error): see usefulLine. */
  response: string;
  /** The last response body as received (its first 64 KiB; '' on a network error). */
  body: string;
  /** The network error in words, or null. */
  error: string | null;
  /** Why it failed, for summaries: the status (`503`) or the network code (`ECONNREFUSED`, `TIMEOUT`); null when ok. */
  reason: string | null;
}

export interface RetryOptions {
  /** Per-attempt timeout in ms (default 5000: the time OnePush allows a handler). */
  timeoutMs?: number;
  /** Retries after the first attempt (default 0). */
  retries?: number;
  /** First backoff in ms (default 250); doubles each retry, capped at `maxBackoffMs` (default 5000). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** Longest Retry-After honoured, in ms (default 60000). */
  maxRetryAfterMs?: number;
  signal?: AbortSignal;
}

/** Network errors that another try cannot mend: a certificate that is not trusted, a cancelled request. */
const FINAL_ERRORS = new Set([
  'ABORTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
]);

/**
 * Whether an attempt's result is worth another try: network errors (not a TLS certificate that is not trusted),
 * timeouts, 5xx, 429; not 508 (a listener that saw the event come round to it: a forwarding loop, which another try
 * cannot mend). The one retry policy of `trigger`, `replay` and `listen --forward-to`.
 */
export function isRetryable(r: Pick<SendResult, 'status' | 'errorCode'>): boolean {
  if (r.status === undefined) return !FINAL_ERRORS.has(r.errorCode ?? '');
  return (r.status >= 500 && r.status !== 508) || r.status === 429;
}

/** The wait before retry number `retry` (1-based): exponential, capped, with jitter in [50%, 100%]. */
export function backoffDelay(retry: number, baseMs: number, capMs: number, random: number): number {
  const full = Math.min(capMs, baseMs * 2 ** (retry - 1));
  return Math.round(full / 2 + (full / 2) * random);
}

/** Sleeps `ms`, or less if `signal` aborts. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (ms <= 0 || signal?.aborted) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, timerMs(ms));
    signal?.addEventListener('abort', done, { once: true });
  });
}

function toResult(r: SendResult, attempts: number): DeliveryResult {
  const ok = r.status !== undefined && r.status >= 200 && r.status < 300;
  const network = r.status === undefined;
  return {
    status: r.status ?? null,
    ok,
    attempts,
    latencyMs: r.latencyMs,
    response: network ? '' : r.firstLine,
    body: r.body,
    error: network ? r.firstLine : null,
    reason: ok ? null : network ? (r.errorCode ?? 'ERROR') : String(r.status),
  };
}

/** Sends one request with retries. Never throws: failures are results. */
export async function deliverWith(client: HttpClient, req: OutgoingRequest, options: RetryOptions = {}): Promise<DeliveryResult> {
  const timeoutMs = options.timeoutMs ?? 5000;
  const retries = options.retries ?? 0;
  const base = options.backoffMs ?? 250;
  const cap = options.maxBackoffMs ?? 5000;
  const signal = options.signal;
  let attempts = 0;
  for (;;) {
    attempts++;
    // The signal stops retries and new deliveries, not the attempt in flight: it finishes (within its timeout), so
    // what was sent is reported. A second Ctrl-C exits at once (cli.ts).
    const r = await client.send(req, { timeoutMs });
    if (attempts > retries || !isRetryable(r) || signal?.aborted) return toResult(r, attempts);
    let wait = backoffDelay(attempts, base, cap, Math.random());
    if (r.status === 429 && r.retryAfterMs !== undefined) wait = Math.min(r.retryAfterMs, options.maxRetryAfterMs ?? 60_000);
    else if (r.status === 503 && r.retryAfterMs !== undefined) wait = Math.max(wait, Math.min(r.retryAfterMs, options.maxRetryAfterMs ?? 60_000));
    await sleep(wait, signal);
    if (signal?.aborted) return toResult(r, attempts);
  }
}

export interface PoolOptions extends RetryOptions {
  /** Deliveries in flight (default 1: order preserved). */
  concurrency?: number;
  /** At most this many delivery starts per second. */
  rate?: number;
}

/**
 * Delivers every item of `items` (pulled lazily, so a huge source stays flat in memory) through `client`, calling
 * `onResult` as each finishes (in order at concurrency 1). Stops pulling new items when `signal` aborts.
 */
export async function deliverAll<T>(
  client: HttpClient,
  items: AsyncIterable<T> | Iterable<T>,
  toRequest: (item: T) => OutgoingRequest,
  onResult: (item: T, result: DeliveryResult) => void,
  options: PoolOptions = {},
): Promise<void> {
  const concurrency = Math.max(1, options.concurrency ?? 1);
  const interval = options.rate ? 1000 / options.rate : 0;
  const signal = options.signal;
  // Every worker's backoff sleep may listen on the signal.
  if (signal) setMaxListeners(0, signal);
  let nextStart = 0;
  const iterator = (Symbol.asyncIterator in items ? (items as AsyncIterable<T>)[Symbol.asyncIterator]() : (items as Iterable<T>)[Symbol.iterator]()) as
    | AsyncIterator<T>
    | Iterator<T>;
  let done = false;
  let failure: unknown;
  // Pulling is serialised: one worker at a time asks the source for its next item.
  let pulling: Promise<unknown> = Promise.resolve();
  const pull = (): Promise<IteratorResult<T> | undefined> => {
    const p = pulling.then(async () => {
      if (done || signal?.aborted || failure !== undefined) return undefined;
      try {
        const next = await iterator.next();
        if (next.done) done = true;
        return next.done ? undefined : next;
      } catch (e) {
        failure ??= e;
        done = true;
        return undefined;
      }
    });
    pulling = p;
    return p;
  };
  const worker = async (): Promise<void> => {
    for (;;) {
      const next = await pull();
      if (!next) return;
      if (interval > 0) {
        const now = performance.now();
        const start = Math.max(now, nextStart);
        nextStart = start + interval;
        await sleep(start - now, signal);
        if (signal?.aborted) return;
      }
      const result = await deliverWith(client, toRequest(next.value), options);
      onResult(next.value, result);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  if (!done) await (iterator as AsyncIterator<T>).return?.();
  if (failure !== undefined) throw failure;
}

export interface DeliverOptions extends PoolOptions {
  /** user-agent sent (default `onepush-cli`). */
  userAgent?: string;
}

export interface DeliverRequest {
  /** A URL (full, or a shorthand already resolved by the caller). */
  url: string | URL;
  headers?: Record<string, string>;
  body: Uint8Array | string;
}

/**
 * The library's one-shot sender: delivers one request (or several, concurrently) with retries, and closes its
 * connections afterwards. Results come back in the order of the requests.
 */
export async function deliver(requests: DeliverRequest, options?: DeliverOptions): Promise<DeliveryResult>;
export async function deliver(requests: readonly DeliverRequest[], options?: DeliverOptions): Promise<DeliveryResult[]>;
export async function deliver(
  requests: DeliverRequest | readonly DeliverRequest[],
  options: DeliverOptions = {},
): Promise<DeliveryResult | DeliveryResult[]> {
  const list = Array.isArray(requests) ? (requests as readonly DeliverRequest[]) : [requests as DeliverRequest];
  const client = createHttpClient({ userAgent: options.userAgent ?? 'onepush-cli', connections: options.concurrency ?? 1 });
  const results: DeliveryResult[] = new Array(list.length);
  try {
    await deliverAll(
      client,
      list.map((r, i) => [r, i] as const),
      ([r]) => ({
        url: typeof r.url === 'string' ? new URL(r.url) : r.url,
        headers: { 'content-type': 'application/json', ...r.headers },
        body: r.body,
      }),
      ([, i], result) => {
        results[i] = result;
      },
      options,
    );
  } finally {
    await client.close();
  }
  return Array.isArray(requests) ? results : (results[0] as DeliveryResult);
}
