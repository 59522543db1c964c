import type { ForwardResult } from '../core/forward-result.js';
import { timerMs } from '../core/limits.js';
import { isRetryable, retryDelay, retryPolicy, type RetryPolicy } from '../core/retry.js';
import { sign } from '../core/signature.js';
import type { HttpClient } from './http-client.js';

// `listen --forward-to`: each accepted event goes to the developer's app, the raw body unchanged,
// one at a time and in order. Network errors, timeouts, 5xx and 429 keep the event at the head of the queue and
// retry it with the one retry policy (src/core/retry.ts: 250 ms doubling to 5 s by default, Retry-After honoured; no
// jitter: one event at a time has nobody to spread out from), until the app answers or --max-attempts; 3xx and 4xx
// are reported and not retried (redirects are never followed: the client does not follow them).

/**
 * One event waiting to be forwarded: a reference to its body (where the capture log holds it, or a spool), not the
 * body itself, so memory does not grow with the events that wait while the app is down.
 */
export interface ForwardItem<Ref = unknown> {
  seq: number;
  id: string | null;
  type: string | null;
  ref: Ref;
  /** The signature the event came with, passed through unchanged when the listener has no secret. */
  signature: string | undefined;
  /** The listeners it went through already (x-onepush-forwarded), to catch a forwarding loop. */
  hops: string | undefined;
}

/** Where the bodies of queued events are read from. */
export interface BodySource<Ref = unknown> {
  load(ref: Ref): Buffer;
  /** The event left the queue (delivered, rejected or given up). */
  release(ref: Ref): void;
}

/** The header that marks a forwarded request with the listeners it went through. */
export const FORWARDED_HEADER = 'x-onepush-forwarded';

export type { ForwardResult } from '../core/forward-result.js';

export interface ForwarderOptions {
  url: URL;
  /** The URL as printed (its password, if any, replaced). */
  displayUrl: string;
  client: HttpClient;
  secret: string | undefined;
  bodies: BodySource;
  /** This listener's mark in x-onepush-forwarded. */
  listenerId: string;
  onResult: (result: ForwardResult) => void;
  /** A body that could not be read back, or an onResult that threw: reported, never raised. */
  onError?: (error: Error) => void;
  timeoutMs?: number;
  /** How long to wait before each retry (default DEFAULT_RETRY: 250 ms doubling to 5 s, Retry-After up to 60 s). */
  retry?: Partial<RetryPolicy>;
  /** Attempts of one event before it is given up and set aside (default: no limit). */
  maxAttempts?: number;
}

/** The in-order forwarding queue. */
export class Forwarder {
  private readonly queue: ForwardItem[] = [];
  private running = false;
  private stopped = false;
  private readonly abort = new AbortController();
  private wake: (() => void) | undefined;
  private idle: Promise<void> = Promise.resolve();
  delivered = 0;
  failed = 0;
  /** Ids (or `#seq`) of the events given up after maxAttempts. */
  readonly givenUp: string[] = [];

  constructor(private readonly options: ForwarderOptions) {}

  /** Events not yet delivered or rejected. */
  get queued(): number {
    return this.queue.length;
  }

  /** The ids (or `#seq` without an id) of the events still queued. */
  queuedIds(): string[] {
    return this.queue.map((i) => i.id ?? `#${i.seq}`);
  }

  /** Adds an event at the end of the queue. */
  push(item: ForwardItem): void {
    if (this.stopped) return;
    this.queue.push(item);
    if (!this.running) {
      this.running = true;
      this.idle = this.drain();
    }
  }

  /** Stops forwarding (an attempt in flight is cancelled); what is still queued stays in `queuedIds()`. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    this.wake?.();
    await this.idle;
  }

  /** Resolves when the queue is empty (for tests and in-process use). */
  async drained(): Promise<void> {
    while (this.running) await this.idle;
  }

  /** Calls the user's onResult; an error it throws is reported, never raised into the queue. */
  private report(result: ForwardResult): void {
    try {
      this.options.onResult(result);
    } catch (e) {
      this.fail(e);
    }
  }

  private fail(e: unknown): void {
    try {
      this.options.onError?.(e instanceof Error ? e : new Error(String(e)));
    } catch {
      // an error handler that throws has nowhere left to report to
    }
  }

  private async drain(): Promise<void> {
    const { url, client, secret, bodies, listenerId } = this.options;
    const policy = retryPolicy(this.options.retry);
    const timeoutMs = this.options.timeoutMs ?? 5000;
    const maxAttempts = this.options.maxAttempts ?? Number.POSITIVE_INFINITY;
    try {
      while (!this.stopped) {
        const item = this.queue[0];
        if (!item) break;
        let body: Buffer;
        try {
          body = bodies.load(item.ref);
        } catch (e) {
          // Only if the capture log was changed under the listener: the event is in no readable place any more.
          this.queue.shift();
          bodies.release(item.ref);
          this.failed++;
          this.fail(new Error(`could not read event ${item.id ?? `#${item.seq}`} back to forward it: ${(e as Error).message}`));
          continue;
        }
        const headers: Record<string, string> = {
          'content-type': 'application/json',
          [FORWARDED_HEADER]: item.hops === undefined ? listenerId : `${item.hops}, ${listenerId}`,
        };
        const signature = secret === undefined ? item.signature : sign(body, secret);
        if (signature !== undefined) headers['x-onepush-signature'] = signature;
        for (let attempt = 1; !this.stopped; attempt++) {
          const r = await client.send({ url, headers, body }, { timeoutMs, signal: this.abort.signal });
          if (this.stopped) return;
          const status = r.status ?? null;
          const retryable = isRetryable(r);
          const transient = retryable && attempt < maxAttempts;
          const ok = status !== null && status >= 200 && status < 300;
          let delay: number | null = null;
          if (transient) {
            // No jitter: one event at a time has nobody to spread out from.
            delay = retryDelay(attempt, r, policy);
          } else {
            this.queue.shift();
            bodies.release(item.ref);
            if (ok) this.delivered++;
            else this.failed++;
            if (retryable && !ok) this.givenUp.push(item.id ?? `#${item.seq}`);
          }
          this.report({
            kind: 'forward',
            seq: item.seq,
            id: item.id,
            type: item.type,
            url: this.options.displayUrl,
            attempt,
            outcome: ok ? 'delivered' : transient ? 'retrying' : retryable ? 'given_up' : 'rejected',
            status,
            latency_ms: Math.round(r.latencyMs),
            error: r.errorCode ?? null,
            message: ok ? null : r.firstLine,
            response: r.body,
            retry_in_ms: delay,
            queued: this.queue.length,
          });
          if (delay === null) break;
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, timerMs(delay));
            this.wake = () => {
              clearTimeout(timer);
              resolve();
            };
          });
          this.wake = undefined;
        }
      }
    } finally {
      this.running = false;
    }
  }
}
