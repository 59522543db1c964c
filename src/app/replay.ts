import { randomBytes } from 'node:crypto';
import { InvalidInput } from '../core/errors.js';
import { makeId } from '../core/ids.js';
import { SummaryBuilder, type Summary } from '../core/report.js';
import { parseSince, replayRequest, selector, takeLast, type ReplayItem } from '../core/replay-select.js';
import { sign } from '../core/signature.js';
import { redactUrl } from '../core/display.js';
import { createRouter, routesOf } from '../core/routes.js';
import { deliverAll, type DeliveryResult } from '../adapters/delivery.js';
import { createHttpClient } from '../adapters/http-client.js';
import { expandSources, readSources, type SourceEvent } from '../adapters/sources.js';
import { jsonOf } from '../core/response.js';

// `replay` as a function (the command and the library's `replay` both call it): sources → selection → signing →
// the delivery engine, streamed so memory stays flat.

/** One delivery as `replay --json` prints it. */
export interface ReplayDelivery {
  kind: 'delivery';
  /** 1-based position among the selected events. */
  n: number;
  source: string;
  line: number;
  id: string | null;
  type: string | null;
  /** The endpoint it went to, as printed (a password as `***`). */
  url: string;
  status: number | null;
  ok: boolean;
  attempts: number;
  latency_ms: number;
  /** The response body as received (its first 64 KiB). */
  response: string;
  /** The body parsed, when it is JSON; else null. */
  response_json: unknown;
  /** The useful line of the response (an HTML error page's error), '' when none came. */
  message: string;
  error: string | null;
}

/**
 * A line not sent: skipped by design (a capture with no JSON event), bad (with skipBad, or a torn last line), or
 * not routed (selected, but no route of `to` takes its type).
 */
export interface ReplayNote {
  source: string;
  line: number;
  message: string;
  kind: 'skip' | 'bad' | 'torn' | 'not_routed';
}

export interface ReplayOptions {
  /**
   * URL or shorthand (default: the listener's URL), or routes: each `TYPES=URL` (globs, comma-separated) or a bare
   * URL (every type). An event goes to every endpoint whose route takes its type (each once); one that none takes is
   * reported as a `not_routed` note and not sent.
   */
  to?: string | readonly string[];
  /** Re-sign with this secret; without it, captured headers are sent unchanged. */
  secret?: string;
  keepSignature?: boolean;
  freshId?: boolean;
  ids?: readonly string[];
  type?: string;
  /** ISO time or duration (10m, 2h, 1d), or a Date. */
  since?: string | Date;
  last?: number;
  concurrency?: number;
  rate?: number;
  timeoutMs?: number;
  retries?: number;
  /** Report bad lines and go on (otherwise the first bad line stops the replay with a ReplayStopped error). */
  skipBad?: boolean;
  signal?: AbortSignal;
  cwd?: string;
  stdin?: NodeJS.ReadableStream;
  userAgent?: string;
  /** Trust any TLS certificate of the target. */
  insecure?: boolean;
  /**
   * The environment whose proxy variables apply to outgoing requests (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, lowercase
   * forms too): the CLI hands in its own. Without it every request goes direct.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Called once the options and sources are checked, before anything is read or sent. */
  onStart?: () => void;
  onDelivery?: (d: ReplayDelivery) => void;
  onNote?: (note: ReplayNote) => void;
  /** Called after each delivery with counts so far (for a spinner). */
  onProgress?: ((counts: { sent: number; failed: number }) => void) | undefined;
}

export interface ReplayOutcome {
  summary: Summary;
  /** True when the signal stopped it before every event was sent. */
  interrupted: boolean;
  /** Selected events no route took (not sent, not in the summary). */
  notRouted: number;
}

/** The error that stops a replay at a bad line; carries the summary of what was sent before. */
export class ReplayStopped extends InvalidInput {
  summary: Summary | undefined;
  constructor(message: string, hint: string) {
    super(message, hint);
    this.name = 'ReplayStopped';
  }
}

/** Re-sends captured events. Throws InvalidInput for a missing source or bad options, ReplayStopped (without skipBad) at a bad line. */
export async function replay(sources: readonly string[], options: ReplayOptions = {}): Promise<ReplayOutcome> {
  const routes = routesOf(options.to);
  const route = createRouter(routes);
  const shown = new Map(routes.map((r) => [r.url.href, redactUrl(r.url)]));
  if (options.freshId && options.secret === undefined) {
    throw new InvalidInput('fresh ids need a secret: the new ids change the body, so it must be re-signed');
  }
  let sinceMs: number | undefined;
  if (options.since !== undefined) {
    if (options.since instanceof Date) sinceMs = options.since.getTime();
    else {
      try {
        sinceMs = parseSince(options.since, Date.now());
      } catch (e) {
        throw new InvalidInput(`since: ${(e as Error).message}`, 'use an ISO time (2026-11-27T10:00:00Z) or a duration: 30s, 10m, 2h, 1d');
      }
    }
  }
  const note = options.onNote ?? (() => {});
  const files = await expandSources(sources, options.cwd ?? process.cwd(), (name, why) => note({ source: name, line: 0, message: `skipped: ${why}`, kind: 'skip' }));
  const keep = selector({ ...(options.ids ? { ids: options.ids } : {}), ...(options.type ? { type: options.type } : {}), ...(sinceMs !== undefined ? { sinceMs } : {}) });
  options.onStart?.();
  const builder = new SummaryBuilder();
  const started = performance.now();

  async function* selected(): AsyncGenerator<ReplayItem> {
    for await (const ev of readSources(files, options.stdin ?? process.stdin, options.signal) as AsyncGenerator<SourceEvent>) {
      if (ev.kind === 'item') {
        if (keep(ev.item)) yield ev.item;
      } else if (ev.kind === 'skip') {
        builder.skipped++;
        note({ source: ev.source, line: ev.line, message: ev.message, kind: 'skip' });
      } else if (ev.torn) {
        builder.skipped++;
        note({ source: ev.source, line: ev.line, message: `torn last line (no newline, not valid JSON — a crash can leave one): skipped`, kind: 'torn' });
      } else if (options.skipBad) {
        builder.skipped++;
        note({ source: ev.source, line: ev.line, message: ev.message, kind: 'bad' });
      } else {
        throw new ReplayStopped(`${ev.source}:${ev.line}: ${ev.message}`, 'fix or remove the line, or set skipBad to report bad lines and go on');
      }
    }
  }

  let n = 0;
  let notRouted = 0;
  // Each selected event once per endpoint its type goes to (same n); one that no route takes is a note.
  async function* numbered(): AsyncGenerator<[number, ReplayItem, URL, number]> {
    const items = options.last !== undefined ? takeLast(selected(), options.last) : selected();
    for await (const item of items) {
      const i = ++n;
      const urls = route(item.type ?? '');
      if (urls.length === 0) {
        notRouted++;
        note({ source: item.source, line: item.line, message: `${item.type ?? 'an event without a type'} ${item.id ?? ''}: not routed (no route takes its type): not sent`.replace(' :', ':'), kind: 'not_routed' });
      }
      for (const u of urls) yield [i, item, u, urls.length];
    }
  }
  // A fanned-out event is built and signed once (one fresh id for all its endpoints): kept until its last result.
  const built = new Map<number, { r: ReturnType<typeof replayRequest>; left: number }>();

  const concurrency = options.concurrency ?? 1;
  const client = createHttpClient({ userAgent: options.userAgent ?? 'onepush-cli', connections: concurrency, ...(options.insecure ? { insecure: true } : {}), ...(options.env ? { env: options.env } : {}) });
  const freshId = options.freshId ? () => makeId('evt', Date.now(), randomBytes(10)) : undefined;
  const signing = {
    ...(options.secret !== undefined ? { secret: options.secret } : {}),
    keepSignature: options.keepSignature === true,
    ...(freshId ? { freshId } : {}),
    sign,
  };
  try {
    await deliverAll(
      client,
      numbered(),
      ([i, item, url, copies]) => {
        let b = built.get(i);
        if (b === undefined) built.set(i, (b = { r: replayRequest(item, signing), left: copies }));
        return { url, headers: b.r.headers, body: b.r.body };
      },
      ([i, item, url], result: DeliveryResult) => {
        builder.add(result);
        const b = built.get(i);
        if (b !== undefined && --b.left === 0) built.delete(i);
        const id = freshId ? (b?.r.id ?? null) : item.id;
        options.onDelivery?.({
          kind: 'delivery',
          n: i,
          source: item.source,
          line: item.line,
          id,
          type: item.type,
          url: shown.get(url.href) ?? redactUrl(url),
          status: result.status,
          ok: result.ok,
          attempts: result.attempts,
          latency_ms: Math.round(result.latencyMs * 10) / 10,
          response: result.body,
          response_json: jsonOf(result.body),
          message: result.response,
          error: result.error,
        });
        options.onProgress?.(builder.counts());
      },
      {
        concurrency,
        ...(options.rate !== undefined ? { rate: options.rate } : {}),
        ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
        ...(options.retries !== undefined ? { retries: options.retries } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      },
    );
  } catch (e) {
    if (e instanceof ReplayStopped) e.summary = builder.summary(performance.now() - started);
    throw e;
  } finally {
    await client.close();
  }
  return { summary: builder.summary(performance.now() - started), interrupted: options.signal?.aborted === true, notRouted };
}
