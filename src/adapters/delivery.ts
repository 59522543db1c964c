import { setMaxListeners } from 'node:events';
import { timerMs } from '../core/limits.js';
import { isRetryable, retryDelay, retryPolicy, type RetryPolicy } from '../core/retry.js';
import { createHttpClient, type HttpClient, type OutgoingRequest, type SendResult } from './http-client.js';

// The delivery engine shared by `trigger`, `replay` and the library's `deliver`: one request = body bytes
// + headers + target; retries on network errors, timeouts, 5xx and 429 with the one retry policy (src/core/retry.ts:
// capped exponential backoff, Retry-After honoured, jitter when several run at once), never on other 4xx; 3xx is a
// failure and is not followed; a concurrency limit and a rate.

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
  /** How long to wait before each retry (default DEFAULT_RETRY: 250 ms doubling to 5 s, Retry-After up to 60 s). */
  retry?: Partial<RetryPolicy>;
  /** Spread each backoff over 50–100% of it (default: when more than one delivery runs at once). */
  jitter?: boolean;
  /** Shorthand for `retry.firstDelayMs`. */
  backoffMs?: number;
  /** Shorthand for `retry.maxDelayMs`. */
  maxBackoffMs?: number;
  /** Shorthand for `retry.maxRetryAfterMs`. */
  maxRetryAfterMs?: number;
  /** Stops retries (and, for a pool, new deliveries); the attempt in flight finishes. */
  signal?: AbortSignal;
  /** The clock waits are measured on (default: performance.now and timers): a test hands in one that records them. */
  clock?: DeliveryClock;
}

/** Where the delivery engine waits: for a retry's backoff, and to space starts at a rate. */
export interface DeliveryClock {
  /** Milliseconds from any fixed point. */
  now(): number;
  /** Resolves after `ms`, or sooner when `signal` aborts. */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export { isRetryable, backoffDelay } from '../core/retry.js';

/** The policy of a set of options: `retry`, then the shorthands, then DEFAULT_RETRY. */
function policyOf(options: RetryOptions): RetryPolicy {
  return retryPolicy({
    ...options.retry,
    ...(options.backoffMs === undefined ? {} : { firstDelayMs: options.backoffMs }),
    ...(options.maxBackoffMs === undefined ? {} : { maxDelayMs: options.maxBackoffMs }),
    ...(options.maxRetryAfterMs === undefined ? {} : { maxRetryAfterMs: options.maxRetryAfterMs }),
  });
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

const REAL_CLOCK: DeliveryClock = { now: () => performance.now(), sleep };

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
  const policy = policyOf(options);
  const signal = options.signal;
  const clock = options.clock ?? REAL_CLOCK;
  let attempts = 0;
  for (;;) {
    attempts++;
    // The signal stops retries and new deliveries, not the attempt in flight: it finishes (within its timeout), so
    // what was sent is reported. A second Ctrl-C exits at once (cli.ts).
    const r = await client.send(req, { timeoutMs });
    if (attempts > retries || !isRetryable(r) || signal?.aborted) return toResult(r, attempts);
    await clock.sleep(retryDelay(attempts, r, policy, options.jitter ? Math.random() : undefined), signal);
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
  // Jitter only spreads out deliveries that run at once: one at a time, each waits its full backoff.
  const retryOptions: RetryOptions = { ...options, jitter: options.jitter ?? concurrency > 1 };
  const interval = options.rate ? 1000 / options.rate : 0;
  const signal = options.signal;
  const clock = options.clock ?? REAL_CLOCK;
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
        const now = clock.now();
        const start = Math.max(now, nextStart);
        nextStart = start + interval;
        await clock.sleep(start - now, signal);
        if (signal?.aborted) return;
      }
      const result = await deliverWith(client, toRequest(next.value), retryOptions);
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
  /** The environment whose HTTPS_PROXY/HTTP_PROXY/NO_PROXY apply (e.g. `process.env`); without it, direct. */
  env?: Readonly<Record<string, string | undefined>>;
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
  const client = createHttpClient({ userAgent: options.userAgent ?? 'onepush-cli', connections: options.concurrency ?? 1, ...(options.env ? { env: options.env } : {}) });
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
