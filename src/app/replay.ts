import { randomBytes } from 'node:crypto';
import { InvalidInput } from '../core/errors.js';
import { makeId } from '../core/ids.js';
import { SummaryBuilder, type Summary } from '../core/report.js';
import { parseSince, replayRequest, selector, takeLast, type ReplayItem } from '../core/replay-select.js';
import { sign } from '../core/signature.js';
import { DEFAULT_TARGET } from '../core/defaults.js';
import { resolveTarget } from '../core/target.js';
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

/** A line not sent: skipped by design (a capture with no JSON event), or bad (with skipBad, or a torn last line). */
export interface ReplayNote {
  source: string;
  line: number;
  message: string;
  kind: 'skip' | 'bad' | 'torn';
}

export interface ReplayOptions {
  /** URL or shorthand (default: the listener's URL). */
  to?: string;
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
  const url = resolveTarget(options.to ?? DEFAULT_TARGET);
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
  async function* numbered(): AsyncGenerator<[number, ReplayItem]> {
    const items = options.last !== undefined ? takeLast(selected(), options.last) : selected();
    for await (const item of items) yield [++n, item];
  }

  const concurrency = options.concurrency ?? 1;
  const client = createHttpClient({ userAgent: options.userAgent ?? 'onepush-cli', connections: concurrency, ...(options.insecure ? { insecure: true } : {}) });
  const freshId = options.freshId ? () => makeId('evt', Date.now(), randomBytes(10)) : undefined;
  const signing = {
    ...(options.secret !== undefined ? { secret: options.secret } : {}),
    keepSignature: options.keepSignature === true,
    ...(freshId ? { freshId } : {}),
    sign,
  };
  const ids = new Map<number, string | null>();
  try {
    await deliverAll(
      client,
      numbered(),
      ([i, item]) => {
        const r = replayRequest(item, signing);
        if (freshId) ids.set(i, r.id);
        return { url, headers: r.headers, body: r.body };
      },
      ([i, item], result: DeliveryResult) => {
        builder.add(result);
        let id = item.id;
        if (freshId) {
          id = ids.get(i) ?? null;
          ids.delete(i);
        }
        options.onDelivery?.({
          kind: 'delivery',
          n: i,
          source: item.source,
          line: item.line,
          id,
          type: item.type,
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
  return { summary: builder.summary(performance.now() - started), interrupted: options.signal?.aborted === true };
}
