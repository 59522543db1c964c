import { randomBytes } from 'node:crypto';
import { loadFixtures } from '../adapters/fixtures.js';
import { createHttpClient } from '../adapters/http-client.js';
import { budgetWords, CHECK_CASES, formatMs, judgeLatency, selectCases, UNKNOWN_TYPE, whyNotFor, type Answer, type CaseName, type CheckCase, type JudgeContext, type Result, type Verdict } from '../core/check-cases.js';
import type { PlanInput } from '../core/check-plan.js';
import { EVENT_TYPES, type EventType } from '../core/event-types.js';
import { parseRoutes, routeEndpoints, routeEvent } from '../core/routes.js';
import { CHECK_TIMEOUT_MS, LATENCY_BUDGET_MS } from '../core/defaults.js';
import { redactUrl } from '../core/display.js';
import { OnepushError } from '../core/errors.js';
import { makeId } from '../core/ids.js';
import { resolveTarget } from '../core/target.js';

// The conformance check use case: the cases of the registry (core/check-cases.ts), run one at a time in number
// order against the user's endpoint, each reported as it finishes. Never prints, never exits.

/** One request of a case, as sent and answered. */
export interface RequestReport {
  label: string;
  status: number | null;
  latencyMs: number;
  firstLine: string;
  errorCode?: string;
}

/** One case's outcome. */
export interface CaseReport {
  number: number;
  name: CaseName;
  title: string;
  result: Result;
  security: boolean;
  message: string;
  fix: string | null;
  /** What a pass does not prove, and how to prove it (the duplicate case); null otherwise. */
  note: string | null;
  /** `requests` (each request's answer), `reason` for a case not run, latency figures for case 8. */
  details: Record<string, unknown>;
  /** Time spent waiting for its answers, in ms. */
  timeMs: number;
}

export interface CheckOptions {
  /** The endpoint: a URL or a shorthand (`3000`, `localhost:3000`). */
  url: string;
  /** Signs the requests; without it the cases that need a signature are skipped. */
  secret?: string;
  /** Cases to run / leave out: comma-separated numbers, names or ranges (`1,2-4,latency`). Default: all ten. */
  only?: string;
  skip?: string;
  /** Per-request timeout (default 10,000 ms). */
  timeoutMs?: number;
  /** How long an answer may take before case 8 fails it (default 5,000 ms, OnePush's). */
  budgetMs?: number;
  insecure?: boolean;
  /**
   * The environment whose proxy variables apply to outgoing requests (HTTPS_PROXY, HTTP_PROXY, NO_PROXY, lowercase
   * forms too): the CLI hands in its own. Without it every request goes direct.
   */
  env?: Readonly<Record<string, string | undefined>>;
  userAgent?: string;
  /** Stops the run after the request in flight; the cases not run are reported as skipped (`reason: interrupted`). */
  signal?: AbortSignal;
  /** Called before a case sends its first request (for a spinner). */
  onCaseStart?: (c: CheckCase) => void | Promise<void>;
  /** Called as each case finishes (interrupted ones are not reported here). */
  onCase?: (report: CaseReport) => void;
  /** Called when a request got no answer within the timeout. */
  onTimeout?: (c: CheckCase, label: string, timeoutMs: number) => void;
}

export interface CheckOutcome {
  /** The URL checked, without credentials. */
  url: string;
  /** Every selected case, in number order. */
  cases: CaseReport[];
  summary: { passed: number; failed: number; warned: number; skipped: number; blocked: number };
  interrupted: boolean;
  startedAt: Date;
  durationMs: number;
}

export type CheckSummary = CheckOutcome['summary'];

/** `checkRoutes`: the options of `check`, with routes in place of one URL. */
export interface CheckRoutesOptions extends Omit<CheckOptions, 'url' | 'onCaseStart' | 'onCase' | 'onTimeout'> {
  /** `TYPES=URL` (names or globs) or a bare URL/shorthand (every type), as for `trigger --to`. */
  routes: readonly string[];
  /** Called before an endpoint's suite starts. */
  onEndpoint?: (endpoint: { url: string; types: readonly EventType[]; takesUnknown: boolean }) => void | Promise<void>;
  onCaseStart?: (c: CheckCase, url: string) => void | Promise<void>;
  onCase?: (report: CaseReport, url: string) => void;
  onTimeout?: (c: CheckCase, label: string, timeoutMs: number, url: string) => void;
}

/** One endpoint's suite in `checkRoutes`. */
export interface EndpointOutcome {
  /** The URL checked, without credentials. */
  url: string;
  /** The known types its routes take (what case 1 sends it). */
  types: EventType[];
  /** Its routes also take a type OnePush has not added yet (case 6 runs only then). */
  takesUnknown: boolean;
  cases: CaseReport[];
  summary: CheckSummary;
}

export interface CheckRoutesOutcome {
  /** One per distinct endpoint, in the order first named. */
  endpoints: EndpointOutcome[];
  /** Totals over every endpoint. */
  summary: CheckSummary;
  interrupted: boolean;
  startedAt: Date;
  durationMs: number;
}

export const SKIP_MESSAGE = 'skipped: needs the webhook secret';

// Network errors that mean nothing answered at all, as opposed to an app that took the connection and then was
// slow (TIMEOUT, counted against case 8) or crashed mid-request (ECONNRESET, judged by the case).
const REACHED = new Set(['TIMEOUT', 'ECONNRESET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED', 'ABORTED']);

/**
 * Runs the conformance cases against an endpoint. Throws OnepushError when the endpoint cannot be reached at all,
 * CaseSelectionError for a bad `only`/`skip`; otherwise every outcome is in the returned reports.
 */
export async function check(options: CheckOptions): Promise<CheckOutcome> {
  const url = resolveTarget(options.url);
  const selected = selectCases(options.only, options.skip);
  const fixtures = await loadFixtures();
  return runSuite(url, {}, selected, fixtures, options);
}

/**
 * Runs the conformance cases once per endpoint of `routes`, each with the event types its routes take: case 1 sends
 * only those, a case that sends a fixed type sends one of them instead when the endpoint does not take it, and a
 * case that cannot apply is skipped (`reason: not-routed`): case 6 unless a route to it takes a new type (a bare URL
 * or a matching glob), case 7 without both email.opened and email.delivered. Throws as `check` does.
 */
export async function checkRoutes(options: CheckRoutesOptions): Promise<CheckRoutesOutcome> {
  const routes = parseRoutes(options.routes);
  const selected = selectCases(options.only, options.skip);
  const fixtures = await loadFixtures();
  const startedAt = new Date();
  const endpoints: EndpointOutcome[] = [];
  let interrupted = false;
  for (const url of routeEndpoints(routes)) {
    if (options.signal?.aborted) {
      interrupted = true;
      break;
    }
    const types = EVENT_TYPES.filter((t) => routeEvent(routes, t).some((u) => u.href === url.href));
    const takesUnknown = routeEvent(routes, UNKNOWN_TYPE).some((u) => u.href === url.href);
    const shown = redactUrl(url);
    await options.onEndpoint?.({ url: shown, types, takesUnknown });
    const { onCaseStart, onCase, onTimeout, onEndpoint: _, routes: __, ...common } = options;
    const outcome = await runSuite(url, { types, takesUnknown }, selected, fixtures, {
      ...common,
      url: url.href,
      ...(onCaseStart ? { onCaseStart: (k: CheckCase) => onCaseStart(k, shown) } : {}),
      ...(onCase ? { onCase: (r: CaseReport) => onCase(r, shown) } : {}),
      ...(onTimeout ? { onTimeout: (k: CheckCase, label: string, ms: number) => onTimeout(k, label, ms, shown) } : {}),
    });
    endpoints.push({ url: outcome.url, types, takesUnknown, cases: outcome.cases, summary: outcome.summary });
    if (outcome.interrupted) interrupted = true;
  }
  const summary = summarise(endpoints.flatMap((e) => e.cases));
  return { endpoints, summary, interrupted, startedAt, durationMs: Date.now() - startedAt.getTime() };
}

function summarise(cases: readonly CaseReport[]): CheckSummary {
  const count = (r: Result): number => cases.filter((x) => x.result === r).length;
  return { passed: count('pass'), failed: count('fail'), warned: count('warn'), skipped: count('skip'), blocked: count('blocked') };
}

async function runSuite(
  url: URL,
  routed: Pick<PlanInput, 'types' | 'takesUnknown'>,
  selected: readonly CheckCase[],
  fixtures: PlanInput['fixtures'],
  options: CheckOptions,
): Promise<CheckOutcome> {
  const { secret, signal } = options;
  const timeoutMs = options.timeoutMs ?? CHECK_TIMEOUT_MS;
  const budgetMs = options.budgetMs ?? LATENCY_BUDGET_MS;
  const judgeCtx: JudgeContext = { signed: secret !== undefined, timeoutMs, budgetMs };
  const startedAt = new Date();
  const reports = new Map<number, CaseReport>();
  const everyAnswer: Answer[] = [];
  let sent = 0;
  /** Why case 1's failure leaves the cases after it proving nothing; undefined while it has not failed. */
  let blocked: string | undefined;
  const client = createHttpClient({ userAgent: options.userAgent ?? 'onepush-cli', ...(options.insecure ? { insecure: true } : {}), ...(options.env ? { env: options.env } : {}) });
  const planInput = (): PlanInput => ({ fixtures, secret, now: new Date(), newId: (prefix) => makeId(prefix, Date.now(), randomBytes(10)), sent, ...routed });
  const finish = (report: CaseReport): void => {
    reports.set(report.number, report);
    options.onCase?.(report);
  };

  try {
    for (const k of selected) {
      if (signal?.aborted) break;
      const notFor = whyNotFor(k, routed);
      if (notFor !== undefined) {
        finish(toReport(k, { result: 'skip', message: notFor }, { reason: 'not-routed' }, 0));
        continue;
      }
      if (k.needsSecret && secret === undefined) {
        finish(toReport(k, { result: 'skip', message: SKIP_MESSAGE }, { reason: 'no-secret' }, 0));
        continue;
      }
      if (blocked !== undefined && k.needsValidEvents) {
        finish(toReport(k, { result: 'blocked', message: `blocked by case 1: ${blocked}` }, { reason: 'blocked-by-valid-events' }, 0));
        continue;
      }
      await options.onCaseStart?.(k);
      const answers: Answer[] = [];
      for (const req of k.plan(planInput())) {
        const res = await client.send({ url, headers: req.headers, body: req.body }, { timeoutMs, ...(signal ? { signal } : {}) });
        if (signal?.aborted) break;
        if (sent === 0 && res.errorCode !== undefined && !REACHED.has(res.errorCode)) {
          throw new OnepushError(`cannot reach ${redactUrl(url)}: ${res.firstLine}`, { hint: 'start your app first (the suite needs it running), or check the URL' });
        }
        sent++;
        if (res.errorCode === 'TIMEOUT') options.onTimeout?.(k, req.label, timeoutMs);
        const answer: Answer = { label: req.label, status: res.status, latencyMs: res.latencyMs, firstLine: res.firstLine, errorCode: res.errorCode };
        answers.push(answer);
        everyAnswer.push({ ...answer, label: `${k.name} ${req.label}` });
      }
      if (signal?.aborted) break;
      const timeMs = answers.reduce((sum, a) => sum + a.latencyMs, 0);
      if (k.judgesRun) {
        const { verdict, stats } = judgeLatency(everyAnswer, judgeCtx);
        finish(toReport(k, verdict, { budgetMs, timeoutMs, ...stats }, timeMs));
        continue;
      }
      let verdict = k.judge(answers, judgeCtx);
      // A case after case 8 that passed, but slower than the budget, says so itself.
      const slow = answers.filter((a) => a.status !== undefined && a.latencyMs > budgetMs);
      if (verdict.result === 'pass' && slow.length > 0 && k.number > 8) {
        const slowest = slow.reduce((a, b) => (b.latencyMs > a.latencyMs ? b : a));
        verdict = {
          result: 'warn',
          message: `${verdict.message}, but in ${formatMs(slowest.latencyMs)}: over the ${budgetWords(budgetMs)} OnePush allows`,
          fix: 'answer 2xx first, then do the slow work in the background (a queue)',
        };
      }
      finish(toReport(k, verdict, { requests: answers.map(requestReport) }, timeMs));
      blocked ??= k.blocks?.(answers, judgeCtx);
    }
  } finally {
    await client.close();
  }

  const interrupted = signal?.aborted === true;
  const cases = selected.map((k) => reports.get(k.number) ?? toReport(k, { result: 'skip', message: 'not run: interrupted' }, { reason: 'interrupted' }, 0));
  return {
    url: redactUrl(url),
    cases,
    summary: summarise(cases),
    interrupted,
    startedAt,
    durationMs: Date.now() - startedAt.getTime(),
  };
}

/** The cases in number order, for listing. */
export const checkCases: readonly Pick<CheckCase, 'number' | 'name' | 'title' | 'needsSecret' | 'security'>[] = CHECK_CASES;

function toReport(k: CheckCase, verdict: Verdict, details: Record<string, unknown>, timeMs: number): CaseReport {
  if (verdict.response !== undefined) details.response = verdict.response;
  return {
    number: k.number,
    name: k.name,
    title: k.title,
    result: verdict.result,
    security: k.security,
    message: verdict.message,
    fix: verdict.fix ?? null,
    note: verdict.note ?? null,
    details,
    timeMs,
  };
}

function requestReport(a: Answer): RequestReport {
  const r: RequestReport = { label: a.label, status: a.status ?? null, latencyMs: Math.round(a.latencyMs * 10) / 10, firstLine: a.firstLine };
  if (a.errorCode !== undefined) r.errorCode = a.errorCode;
  return r;
}
