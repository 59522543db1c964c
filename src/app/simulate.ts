import { randomInt } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { loadFixtures } from '../adapters/fixtures.js';
import { createHttpClient, type SendResult } from '../adapters/http-client.js';
import { openLineFile, type LineFile } from '../adapters/line-file.js';
import { encodeCapture } from '../core/capture.js';
import {
  campaignEvents,
  campaignOutcomes,
  type CampaignEvent,
  type CampaignOptions,
  type Mix,
  DEFAULT_DUPLICATES,
  DEFAULT_MIX,
  DEFAULT_REORDER,
  DEFAULT_SEND_RATE,
  DEFAULT_START,
} from '../core/campaign.js';
import { LATENCY_BUDGET_MS } from '../core/defaults.js';
import { redactUrl } from '../core/display.js';
import { EVENT_TYPES, type EventType } from '../core/event-types.js';
import { timerMs } from '../core/limits.js';
import { createRouter, routeEndpoints, routesOf } from '../core/routes.js';
import type { Scenario } from '../core/scenario.js';
import { sign } from '../core/signature.js';

// The simulate use case: a seeded campaign (core/campaign.ts) delivered as a provider delivers it — each event when
// it is due (campaign time compressed by `speed`), at least once, sometimes late, each endpoint with its own queue;
// a failed delivery (non-2xx, or no answer within the budget) retried on a schedule while later events go on, and
// reported as lost when the schedule runs out. Never prints, never exits, never reads process.

/** The provider-style retry schedule, in campaign time (scaled by `speed`). */
export const DEFAULT_RETRY_SCHEDULE: readonly number[] = [10_000, 60_000, 300_000, 1_800_000, 7_200_000];
/** Campaign time per second of wall time: 3600 = one hour of campaign a second. */
export const DEFAULT_SPEED = 3600;
export const DEFAULT_SIMULATE_CONCURRENCY = 16;
/** Deliveries of one endpoint waiting (queued or between retries) past which generation waits for it. */
export const MAX_WAITING_PER_ENDPOINT = 10_000;

/** The campaign (the fields a scenario file may hold, see core/scenario.ts), where to send it and how. */
export interface SimulateOptions extends Scenario {
  /** Routes: URLs or shorthands (every type), or `TYPES=URL` (globs, comma-separated). */
  to: string | readonly string[];
  recipients: number;
  /** Campaign ms per wall ms (default 3600); Infinity: every event as soon as the one before is sent. */
  speed?: number;
  /** At most this many requests started per second, all endpoints together. */
  rate?: number;
  /** Requests in flight per endpoint (default 16). */
  concurrency?: number;
  /** Waits before each retry, campaign ms (scaled by speed; default 10s, 1m, 5m, 30m, 2h). */
  retrySchedule?: readonly number[];
  /** How long an answer may take (default 5,000 ms, OnePush's budget); a slower one is a failed delivery. */
  budgetMs?: number;
  /** Signs each body (x-onepush-signature); unsigned without one. */
  secret?: string;
  userAgent?: string;
  insecure?: boolean;
  /**
   * The environment whose proxy variables apply to outgoing requests (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, lowercase
   * forms too): the CLI hands in its own. Without it every request goes direct.
   */
  env?: Readonly<Record<string, string | undefined>>;
  /** Writes every request sent as a capture log (replayable). */
  save?: string;
  /** Writes each recipient's correct final state, one JSON line each. */
  expect?: string;
  /** Stops generating; deliveries in flight finish, waiting retries are dropped (reported). */
  signal?: AbortSignal;
  /** How often onProgress is called, wall ms (default 1000). */
  progressMs?: number;
  onStart?: (info: { seed: number; endpoints: string[] }) => void;
  onProgress?: (progress: SimulateProgress) => void;
}

export interface SimulateProgress {
  elapsed_ms: number;
  /** Campaign time reached, ms since its start. */
  campaign_ms: number;
  /** Events generated (including duplicate copies). */
  events: number;
  /** Requests answered (every attempt). */
  requests: number;
  ok: number;
  failed: number;
  /** Deliveries waiting for a retry. */
  retrying: number;
  lost: number;
  in_flight: number;
  /** Requests answered per second since the last progress. */
  rate: number;
}

export interface TypeReport {
  /** Deliveries (event × endpoint, duplicate copies included). */
  sent: number;
  accepted_first_time: number;
  /** Deliveries that needed at least one retry. */
  retried: number;
  /** Deliveries whose schedule ran out. */
  lost: number;
}

export interface EndpointReport extends TypeReport {
  url: string;
  /** Requests made (first attempts and retries). */
  requests: number;
}

export interface ErrorGroup {
  /** The HTTP status, or null when no answer came. */
  status: number | null;
  /** The status or the network code (TIMEOUT, ECONNREFUSED). */
  reason: string;
  /** The first line of the response body, or the network error in words. */
  message: string;
  count: number;
}

export interface SimulateReport {
  kind: 'report';
  seed: number;
  recipients: number;
  speed: number | 'max';
  /** Events generated, duplicate copies included. */
  events: number;
  duplicates: number;
  /** Events no route took. */
  unrouted: number;
  /** Requests made (every attempt to every endpoint). */
  requests: number;
  types: Record<string, TypeReport>;
  endpoints: EndpointReport[];
  latency: { p50_ms: number | null; p95_ms: number | null; p99_ms: number | null; max_ms: number | null; budget_ms: number; over_budget: number };
  throughput: { requests_per_s: number; events_per_s: number; duration_ms: number };
  /** Failed attempts grouped by status and first line of the answer (most frequent first, at most 50 groups). */
  errors: ErrorGroup[];
  /** Attempts past the error groups' limit, not grouped. */
  errors_ungrouped: number;
  lost: number;
  /** Deliveries dropped because the run was stopped (Ctrl-C) while they waited. */
  dropped: number;
  interrupted: boolean;
  /** Nothing lost, no answer over the budget, not interrupted. */
  ok: boolean;
  save: string | null;
  expect: string | null;
}

/** The campaign's events with their due times, for users' own tests: the same stream `simulate` delivers. */
export async function* campaign(options: CampaignOptions): AsyncGenerator<CampaignEvent> {
  const fixtures = await loadFixtures();
  yield* campaignEvents(options, fixtures);
}

/** Each recipient's correct final state (what `--expect` writes), in send order. */
export { campaignOutcomes };

interface Delivery {
  type: EventType;
  body: string;
  headers: Record<string, string>;
  attempt: number;
  /** Campaign time of this attempt (capture time in --save). */
  at: number;
}

interface Endpoint {
  url: URL;
  shown: string;
  queue: Delivery[];
  head: number;
  inFlight: number;
  /** Deliveries waiting for a retry timer. */
  retrying: number;
  stats: EndpointReport;
  pumpTimer: NodeJS.Timeout | undefined;
}

const emptyType = (): TypeReport => ({ sent: 0, accepted_first_time: 0, retried: 0, lost: 0 });
const MAX_ERROR_GROUPS = 50;

/** Runs a seeded campaign against the routes; reports per type, per endpoint, latency and errors. Never throws for a failed delivery. */
export async function simulate(options: SimulateOptions): Promise<SimulateReport> {
  const routes = routesOf(options.to);
  const route = createRouter(routes);
  const seed = options.seed ?? randomInt(0, 2 ** 32 - 1);
  const speed = options.speed ?? DEFAULT_SPEED;
  const budget = options.budgetMs ?? LATENCY_BUDGET_MS;
  const schedule = options.retrySchedule ?? DEFAULT_RETRY_SCHEDULE;
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_SIMULATE_CONCURRENCY);
  const interval = options.rate ? 1000 / options.rate : 0;
  const signal = options.signal;
  if (signal) setMaxListeners(0, signal);
  const campaignOptions: CampaignOptions = {
    recipients: options.recipients,
    seed,
    mix: { ...DEFAULT_MIX, ...options.mix },
    duplicates: options.duplicates ?? DEFAULT_DUPLICATES,
    reorder: options.reorder ?? DEFAULT_REORDER,
    sendRate: options.sendRate ?? DEFAULT_SEND_RATE,
    start: options.start ?? DEFAULT_START,
  };
  const fixtures = await loadFixtures();
  // Files first: a path that cannot be written fails before anything is sent.
  let expectFile: LineFile | undefined;
  let saveFile: LineFile | undefined;
  try {
    if (options.expect !== undefined) {
      expectFile = openLineFile(options.expect, '--expect');
      for (const o of campaignOutcomes(campaignOptions)) expectFile.write(`${JSON.stringify(o)}\n`);
      expectFile.close();
    }
    if (options.save !== undefined) saveFile = openLineFile(options.save, '--save');
  } catch (e) {
    expectFile?.close();
    throw e;
  }

  const endpoints = new Map<string, Endpoint>();
  for (const url of routeEndpoints(routes)) {
    endpoints.set(url.href, {
      url,
      shown: redactUrl(url),
      queue: [],
      head: 0,
      inFlight: 0,
      retrying: 0,
      stats: { url: redactUrl(url), ...emptyType(), requests: 0 },
      pumpTimer: undefined,
    });
  }
  options.onStart?.({ seed, endpoints: [...endpoints.values()].map((e) => e.shown) });

  const client = createHttpClient({ userAgent: options.userAgent ?? 'onepush-cli', connections: concurrency, ...(options.insecure ? { insecure: true } : {}), ...(options.env ? { env: options.env } : {}) });
  const types: Record<string, TypeReport> = Object.fromEntries(EVENT_TYPES.map((t) => [t, emptyType()]));
  const errors = new Map<string, ErrorGroup>();
  let errorsUngrouped = 0;
  // 4 bytes an answer (µs-precise well past any budget): a million answers take 4 MiB.
  let latencies = new Float32Array(4096);
  let answered = 0;
  let ok = 0;
  let overBudget = 0;
  let lost = 0;
  let dropped = 0;
  let events = 0;
  let duplicates = 0;
  let unrouted = 0;
  let campaignMs = 0;
  let inFlight = 0;
  let retrying = 0;
  let nextStart = 0;
  const t0 = performance.now();
  const retryTimers = new Set<NodeJS.Timeout>();

  // --save: lines in the order requests were started, each written once its answer is known (so it carries the
  // status), through a reorder buffer as large as the requests in flight.
  const start = campaignOptions.start as number;
  let saveSeq = 0;
  let saveHead = 0;
  const saveSlots = new Map<number, string>();
  const saveLine = (seq: number, ep: Endpoint, d: Delivery, r: SendResult): void => {
    if (!saveFile) return;
    saveSlots.set(
      seq,
      encodeCapture({
        receivedAt: new Date(start + d.at),
        method: 'POST',
        path: `${ep.url.pathname}${ep.url.search}`,
        headers: { host: ep.url.host, ...d.headers, 'content-length': String(Buffer.byteLength(d.body)), 'user-agent': options.userAgent ?? 'onepush-cli' },
        body: Buffer.from(d.body),
        bodyText: d.body,
        verified: null,
        status: r.status ?? 0,
        ...(r.status === undefined ? { reason: r.errorCode ?? 'ERROR' } : {}),
      }),
    );
    for (let line = saveSlots.get(saveHead); line !== undefined; line = saveSlots.get(saveHead)) {
      saveFile.write(line);
      saveSlots.delete(saveHead++);
    }
  };

  // Wakes the generator loop when something it waits for happens (a slot frees, the last delivery ends).
  let wake: (() => void) | undefined;
  const poke = (): void => {
    const w = wake;
    wake = undefined;
    w?.();
  };
  const waitForPoke = (): Promise<void> => new Promise((resolve) => (wake = resolve));

  const recordError = (r: SendResult): void => {
    const reason = r.status === undefined ? (r.errorCode ?? 'ERROR') : String(r.status);
    const key = `${reason}\u0000${r.firstLine}`;
    const g = errors.get(key);
    if (g) g.count++;
    else if (errors.size < MAX_ERROR_GROUPS) errors.set(key, { status: r.status ?? null, reason, message: r.firstLine, count: 1 });
    else errorsUngrouped++;
  };

  const onAnswer = (ep: Endpoint, d: Delivery, r: SendResult, seq: number): void => {
    ep.inFlight--;
    inFlight--;
    saveLine(seq, ep, d, r);
    if (answered === latencies.length) {
      const bigger = new Float32Array(latencies.length * 2);
      bigger.set(latencies);
      latencies = bigger;
    }
    latencies[answered++] = r.latencyMs;
    const success = r.status !== undefined && r.status >= 200 && r.status < 300 && r.latencyMs <= budget;
    if (r.errorCode === 'TIMEOUT' || r.latencyMs > budget) overBudget++;
    const t = types[d.type] as TypeReport;
    if (success) {
      ok++;
      if (d.attempt === 1) {
        t.accepted_first_time++;
        ep.stats.accepted_first_time++;
      }
    } else {
      recordError(r.status !== undefined && r.status >= 200 && r.status < 300 ? { ...r, status: undefined, errorCode: 'TIMEOUT', firstLine: `answered ${r.status} after ${Math.round(r.latencyMs)} ms, over the ${budget} ms budget` } : r);
      if (d.attempt === 1 && schedule.length > 0 && !signal?.aborted) {
        t.retried++;
        ep.stats.retried++;
      }
      if (d.attempt > schedule.length) {
        t.lost++;
        ep.stats.lost++;
        lost++;
      } else if (signal?.aborted) {
        dropped++;
      } else {
        const wait = (schedule[d.attempt - 1] as number) / speed;
        const retry: Delivery = { ...d, attempt: d.attempt + 1, at: d.at + (schedule[d.attempt - 1] as number) };
        ep.retrying++;
        retrying++;
        const timer = setTimeout(() => {
          retryTimers.delete(timer);
          ep.retrying--;
          retrying--;
          ep.queue.push(retry);
          pump(ep);
        }, timerMs(Number.isFinite(wait) ? wait : 0));
        retryTimers.add(timer);
      }
    }
    pump(ep);
    poke();
  };

  const pump = (ep: Endpoint): void => {
    while (ep.inFlight < concurrency && ep.head < ep.queue.length) {
      if (interval > 0) {
        const now = performance.now();
        if (now < nextStart) {
          if (ep.pumpTimer === undefined) {
            ep.pumpTimer = setTimeout(() => {
              ep.pumpTimer = undefined;
              pump(ep);
            }, timerMs(nextStart - now));
          }
          return;
        }
        nextStart = Math.max(now, nextStart) + interval;
      }
      const d = ep.queue[ep.head] as Delivery;
      ep.queue[ep.head++] = undefined as unknown as Delivery;
      // Compact the queue now and then rather than shift() each time.
      if (ep.head > 1024 && ep.head * 2 > ep.queue.length) {
        ep.queue = ep.queue.slice(ep.head);
        ep.head = 0;
      }
      ep.inFlight++;
      inFlight++;
      ep.stats.requests++;
      if (d.attempt === 1) {
        ep.stats.sent++;
        (types[d.type] as TypeReport).sent++;
      }
      const seq = saveSeq++;
      void client.send({ url: ep.url, headers: d.headers, body: d.body }, { timeoutMs: budget }).then((r) => onAnswer(ep, d, r, seq));
    }
  };

  const waiting = (ep: Endpoint): number => ep.queue.length - ep.head + ep.retrying;

  let lastProgress = 0;
  let lastAnswered = 0;
  const progress = (): void => {
    const now = performance.now();
    const rate = lastProgress === 0 ? 0 : ((answered - lastAnswered) * 1000) / Math.max(1, now - lastProgress);
    lastProgress = now;
    lastAnswered = answered;
    options.onProgress?.({
      elapsed_ms: Math.round(now - t0),
      campaign_ms: campaignMs,
      events,
      requests: answered,
      ok,
      failed: answered - ok,
      retrying,
      lost,
      in_flight: inFlight,
      rate: Math.round(rate),
    });
  };
  const progressTimer = options.onProgress ? setInterval(progress, options.progressMs ?? 1000) : undefined;
  progressTimer?.unref();

  try {
    const due = (campaignTime: number): number => (Number.isFinite(speed) ? t0 + campaignTime / speed : 0);
    for (const ev of campaignEvents(campaignOptions, fixtures)) {
      if (signal?.aborted) break;
      const wait = due(ev.due) - performance.now();
      // Timers are ms-grained: events due within the next ms go now, together.
      if (wait >= 1) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, timerMs(wait));
          function done(): void {
            clearTimeout(timer);
            signal?.removeEventListener('abort', done);
            resolve();
          }
          signal?.addEventListener('abort', done, { once: true });
        });
        if (signal?.aborted) break;
      }
      campaignMs = ev.due;
      events++;
      if (ev.duplicate) duplicates++;
      const urls = route(ev.type);
      if (urls.length === 0) {
        unrouted++;
        continue;
      }
      const body = JSON.stringify(ev.event);
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (options.secret !== undefined) headers['x-onepush-signature'] = sign(body, options.secret);
      for (const url of urls) {
        const ep = endpoints.get(url.href) as Endpoint;
        ep.queue.push({ type: ev.type, body, headers, attempt: 1, at: ev.due });
        pump(ep);
      }
      // Flat memory: an endpoint that cannot keep up holds generation back once it has many deliveries waiting.
      // At full speed, also give answers a turn to come in every so often.
      for (;;) {
        if (signal?.aborted) break;
        let full = false;
        for (const ep of endpoints.values()) if (waiting(ep) >= MAX_WAITING_PER_ENDPOINT) full = true;
        if (!full) break;
        await waitForPoke();
      }
      if (!Number.isFinite(speed) || wait < 1) {
        let busy = false;
        for (const ep of endpoints.values()) if (ep.queue.length - ep.head >= concurrency * 2) busy = true;
        if (busy) await waitForPoke();
      }
    }
    // Every delivery ends: answered, or lost once its schedule runs out (or dropped on Ctrl-C).
    while (inFlight > 0 || retrying > 0 || [...endpoints.values()].some((ep) => ep.head < ep.queue.length)) {
      if (signal?.aborted && retrying > 0) {
        for (const timer of retryTimers) clearTimeout(timer);
        dropped += retrying;
        retryTimers.clear();
        retrying = 0;
        for (const ep of endpoints.values()) {
          dropped += ep.queue.length - ep.head;
          ep.retrying = 0;
          ep.queue = [];
          ep.head = 0;
        }
        if (inFlight === 0) break;
      }
      await waitForPoke();
    }
  } finally {
    if (progressTimer) clearInterval(progressTimer);
    for (const timer of retryTimers) clearTimeout(timer);
    for (const ep of endpoints.values()) if (ep.pumpTimer) clearTimeout(ep.pumpTimer);
    saveFile?.close();
    await client.close();
  }
  if (options.onProgress) progress();

  const durationMs = performance.now() - t0;
  const lat = latencies.subarray(0, answered).sort();
  const pct = (p: number): number | null => (answered === 0 ? null : Math.round((lat[Math.max(1, Math.ceil((p / 100) * answered)) - 1] as number) * 10) / 10);
  const interrupted = signal?.aborted === true;
  return {
    kind: 'report',
    seed,
    recipients: options.recipients,
    speed: Number.isFinite(speed) ? speed : 'max',
    events,
    duplicates,
    unrouted,
    requests: answered,
    types,
    endpoints: [...endpoints.values()].map((e) => e.stats),
    latency: { p50_ms: pct(50), p95_ms: pct(95), p99_ms: pct(99), max_ms: pct(100), budget_ms: budget, over_budget: overBudget },
    throughput: {
      requests_per_s: Math.round((answered * 1000) / Math.max(1, durationMs)),
      events_per_s: Math.round((events * 1000) / Math.max(1, durationMs)),
      duration_ms: Math.round(durationMs),
    },
    errors: [...errors.values()].sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1)),
    errors_ungrouped: errorsUngrouped,
    lost,
    dropped,
    interrupted,
    ok: lost === 0 && overBudget === 0 && !interrupted && dropped === 0,
    save: options.save ?? null,
    expect: options.expect ?? null,
  };
}
