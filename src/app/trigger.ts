import { randomBytes } from 'node:crypto';
import { deliverAll, type DeliveryResult } from '../adapters/delivery.js';
import { loadFixture } from '../adapters/fixtures.js';
import { createHttpClient } from '../adapters/http-client.js';
import { DELIVERY_TIMEOUT_MS } from '../core/defaults.js';
import { InvalidInput } from '../core/errors.js';
import { EVENT_TYPES, type EventType } from '../core/event-types.js';
import { makeId } from '../core/ids.js';
import { buildSample, type Fixture, type SampleOverrides } from '../core/samples.js';
import { sign } from '../core/signature.js';
import { redactUrl } from '../core/display.js';
import { createRouter, routesOf } from '../core/routes.js';

// The trigger use case: sample events built from templates (fresh ids and times), signed, and sent with retries.
// Events are built as they are sent, never all at once, so a count of millions stays flat in memory.

/** What to build: which templates, how many of each, with which changes. */
export interface TriggerEvents {
  /** The types to send; each uses its shipped template, or `fixture` with its type replaced. */
  types?: readonly EventType[];
  /** A template of your own: sent as its own type when `types` is empty. */
  fixture?: Fixture;
  /** Changes applied to every event (set, unset, deep-merged data). */
  overrides?: SampleOverrides;
  /** Events per type (default 1). */
  count?: number;
  /** Send every event twice, same id and bytes (default false). */
  duplicate?: boolean;
  /** Signs each body (x-onepush-signature); unsigned without one. */
  secret?: string;
}

/** One event to send: its type, id, exact body and headers (signed when a secret was given). */
export interface TriggerRequest {
  type: string;
  id: string;
  body: string;
  headers: Record<string, string>;
}

export interface TriggerOptions extends TriggerEvents {
  /**
   * Where to send (a URL or a shorthand such as `3000`; default the listener's URL), or routes: each `TYPES=URL`
   * (globs, comma-separated) or a bare URL (every type). An event goes to every endpoint whose route takes its type
   * (each once); one that none takes is reported through `onNotRouted` and not sent.
   */
  to?: string | readonly string[];
  /** Parallel deliveries (default 1: in order). */
  concurrency?: number;
  /** Per-attempt timeout (default 5,000 ms). */
  timeoutMs?: number;
  /** Retries after a network error, a timeout, 5xx or 429 (default 0). */
  retries?: number;
  /** Accept a self-signed certificate (https). */
  insecure?: boolean;
  /**
   * The environment whose proxy variables apply to outgoing requests (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, lowercase
   * forms too): the CLI hands in its own. Without it every request goes direct.
   */
  env?: Readonly<Record<string, string | undefined>>;
  userAgent?: string;
  /** Stops starting deliveries; those in flight finish. */
  signal?: AbortSignal;
  /** Called once the first event is built, before anything is sent. */
  onStart?: () => void;
  /** Called as each delivery ends (after its retries); `url` is the endpoint, as printed (a password as `***`). */
  onDelivery?: (request: TriggerRequest, result: DeliveryResult, url: string) => void;
  /** Called for an event that no route takes (it is not sent). */
  onNotRouted?: (request: TriggerRequest) => void;
}

export interface TriggerOutcome {
  /** Deliveries planned (types × count × copies). */
  total: number;
  /** Deliveries that ended (2xx or not). */
  sent: number;
  /** Deliveries that did not end in 2xx. */
  failed: number;
  /** The signal stopped it before every delivery was made. */
  interrupted: boolean;
  /** Events no route took (not sent; not counted in `total`). */
  notRouted: number;
}

/**
 * The requests `trigger` would send, built lazily. The first is built before this returns, so a template that
 * cannot be built fails here (InvalidInput), before anything is sent. `total` is how many it yields.
 */
export async function triggerRequests(events: TriggerEvents): Promise<{ total: number; requests: Iterable<TriggerRequest>; types: string[] }> {
  const types = events.types ?? [];
  let templates: Array<[string, Fixture]>;
  if (events.fixture !== undefined) {
    const fixture = events.fixture;
    templates = types.length === 0 ? [[fixture.type, fixture]] : types.map((t) => [t, { ...fixture, type: t }]);
  } else {
    if (types.length === 0) throw new InvalidInput('which event type?', `name one or more: ${EVENT_TYPES.join(', ')}`);
    templates = await Promise.all([...new Set(types)].map(async (t) => [t, await loadFixture(t)] as [string, Fixture]));
  }
  const count = events.count ?? 1;
  const copies = events.duplicate ? 2 : 1;
  const { secret, overrides } = events;
  const build = (type: string, fixture: Fixture): TriggerRequest => {
    const now = Date.now();
    let event: Record<string, unknown>;
    try {
      event = buildSample(fixture, { now: new Date(now), id: makeId('evt', now, randomBytes(10)), emailId: makeId('em', now, randomBytes(10)), ...(overrides ? { overrides } : {}) });
    } catch (e) {
      throw new InvalidInput((e as Error).message);
    }
    const body = JSON.stringify(event);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (secret !== undefined) headers['x-onepush-signature'] = sign(body, secret);
    return { type: typeof event.type === 'string' ? event.type : type, id: typeof event.id === 'string' ? event.id : '', body, headers };
  };
  function* all(): Generator<TriggerRequest> {
    for (const [type, fixture] of templates) {
      for (let i = 0; i < count; i++) {
        const r = build(type, fixture);
        yield r;
        if (copies === 2) yield r;
      }
    }
  }
  const pending = all();
  const first = pending.next();
  function* requests(): Generator<TriggerRequest> {
    if (!first.done) yield first.value;
    yield* pending;
  }
  return { total: templates.length * count * copies, requests: { [Symbol.iterator]: requests }, types: templates.map(([t]) => t) };
}

/** Builds, signs and sends sample events; reports each delivery through `onDelivery`. Never prints, never throws for a failed delivery. */
export async function trigger(options: TriggerOptions): Promise<TriggerOutcome> {
  const routes = routesOf(options.to);
  const route = createRouter(routes);
  const { total: events, requests, types } = await triggerRequests(options);
  // Deliveries planned: each template's events times the endpoints its type goes to.
  const total = types.reduce((n, t) => n + route(t).length * (events / types.length), 0);
  options.onStart?.();
  const concurrency = options.concurrency ?? 1;
  const client = createHttpClient({ userAgent: options.userAgent ?? 'onepush-cli', connections: concurrency, ...(options.insecure ? { insecure: true } : {}), ...(options.env ? { env: options.env } : {}) });
  let sent = 0;
  let failed = 0;
  let notRouted = 0;
  const shown = new Map<string, string>();
  const shownUrl = (u: URL): string => {
    let s = shown.get(u.href);
    if (s === undefined) shown.set(u.href, (s = redactUrl(u)));
    return s;
  };
  // Each event once per endpoint it goes to, in order; an event no route takes is reported, not sent.
  function* deliveries(): Generator<[TriggerRequest, URL]> {
    for (const r of requests) {
      const urls = route(r.type);
      if (urls.length === 0) {
        notRouted++;
        options.onNotRouted?.(r);
      }
      for (const u of urls) yield [r, u];
    }
  }
  try {
    await deliverAll(
      client,
      deliveries(),
      ([r, url]) => ({ url, headers: r.headers, body: r.body }),
      ([r, url], result) => {
        sent++;
        if (!result.ok) failed++;
        options.onDelivery?.(r, result, shownUrl(url));
      },
      {
        concurrency,
        timeoutMs: options.timeoutMs ?? DELIVERY_TIMEOUT_MS,
        retries: options.retries ?? 0,
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
  } finally {
    await client.close();
  }
  const interrupted = options.signal?.aborted === true && sent < total;
  // Without an interruption every delivery was made (a --set type=… can route an event elsewhere than its template).
  return { total: interrupted ? total : sent, sent, failed, interrupted, notRouted };
}
