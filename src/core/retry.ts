// The one retry policy of `trigger`, `replay`, the library's `deliver` and `listen --forward-to`: what
// is worth another try, and how long to wait before it. Pure: the caller sleeps (and may be handed a policy of a few
// milliseconds, as the tests do).

/** How long to wait before each retry: `firstDelayMs`, doubling each retry, capped at `maxDelayMs`. */
export interface RetryPolicy {
  /** The wait before the first retry, in ms (default 250). */
  firstDelayMs: number;
  /** The longest backoff, in ms (default 5000). */
  maxDelayMs: number;
  /** The longest Retry-After honoured, in ms (default 60000): a longer one is cut to it. */
  maxRetryAfterMs: number;
}

/** 250 ms, doubling, capped at 5 s; a Retry-After of up to 60 s honoured. */
export const DEFAULT_RETRY: Readonly<RetryPolicy> = Object.freeze({ firstDelayMs: 250, maxDelayMs: 5000, maxRetryAfterMs: 60_000 });

/** The default policy with some of its fields replaced (an undefined field keeps its default). */
export function retryPolicy(partial: Partial<RetryPolicy> | undefined): RetryPolicy {
  return {
    firstDelayMs: partial?.firstDelayMs ?? DEFAULT_RETRY.firstDelayMs,
    maxDelayMs: partial?.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs,
    maxRetryAfterMs: partial?.maxRetryAfterMs ?? DEFAULT_RETRY.maxRetryAfterMs,
  };
}

/** What one attempt got, as far as retrying is concerned. */
export interface AttemptOutcome {
  /** The HTTP status; undefined when no answer came (a network error or a timeout). */
  status: number | undefined;
  /** The network error's stable code (ECONNREFUSED, TIMEOUT, …). */
  errorCode?: string | undefined;
  /** The answer's Retry-After, in ms (parsed by the HTTP client). */
  retryAfterMs?: number | undefined;
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
 * cannot mend). Never 3xx (not followed) nor another 4xx.
 */
export function isRetryable(r: Pick<AttemptOutcome, 'status' | 'errorCode'>): boolean {
  if (r.status === undefined) return !FINAL_ERRORS.has(r.errorCode ?? '');
  return (r.status >= 500 && r.status !== 508) || r.status === 429;
}

/**
 * The backoff before retry number `retry` (1-based): `baseMs` doubling, capped at `capMs`; `random` in [0, 1]
 * spreads it over [50%, 100%] of that (1: the full backoff, no jitter).
 */
export function backoffDelay(retry: number, baseMs: number, capMs: number, random: number): number {
  const full = Math.min(capMs, baseMs * 2 ** (retry - 1));
  return Math.round(full / 2 + (full / 2) * random);
}

/**
 * The wait before retry number `retry` (1-based) after the attempt `r`: the policy's backoff, jittered when `random`
 * is given (several deliveries at once: they should not all come back together), in full otherwise. The Retry-After
 * of a 429 or a 503 lengthens it to what the server asked for (within maxRetryAfterMs), never shortens it.
 */
export function retryDelay(retry: number, r: AttemptOutcome, policy: RetryPolicy, random?: number): number {
  const backoff = backoffDelay(retry, policy.firstDelayMs, policy.maxDelayMs, random ?? 1);
  if (r.retryAfterMs === undefined || (r.status !== 429 && r.status !== 503)) return backoff;
  return Math.max(backoff, Math.min(r.retryAfterMs, policy.maxRetryAfterMs));
}
