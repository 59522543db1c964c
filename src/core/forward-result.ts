// What one forwarding attempt of `listen` reports: the `forward` line of `listen --json`, and the inspector's attempts.

/** The result of one forwarding attempt (the `forward` line of `listen --json`). */
export interface ForwardResult {
  kind: 'forward';
  seq: number;
  id: string | null;
  type: string | null;
  url: string;
  attempt: number;
  /**
   * delivered (2xx); retrying (a network error, a timeout, 5xx or 429: tried again after `retry_in_ms`); rejected (a
   * 3xx/4xx, or an error that another try cannot mend, such as a TLS certificate not trusted); given_up (still
   * failing after --max-attempts: set aside, the queue moves on).
   */
  outcome: 'delivered' | 'retrying' | 'rejected' | 'given_up';
  /** The app's HTTP status; null on a network error or a timeout. */
  status: number | null;
  latency_ms: number;
  /** A stable network error code (ECONNREFUSED, TIMEOUT, …), or null. */
  error: string | null;
  /** The useful line of the app's answer on a non-2xx (an HTML error page's error), or the network error in words; null on a 2xx. */
  message: string | null;
  /** The app's answer as received (its first 64 KiB); '' when none came. */
  response: string;
  retry_in_ms: number | null;
  /** Events waiting after this attempt (including this one when it is retried). */
  queued: number;
}
