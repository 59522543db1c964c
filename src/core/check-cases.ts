import { InvalidInput } from './errors.js';
import { LATENCY_BUDGET_MS } from './defaults.js';
import { LARGE_PAYLOAD_BYTES, largeEvent, needSecret, sample, signed, typeOf, typesOf, UNKNOWN_TYPE, unsigned, type PlannedRequest, type PlanInput } from './check-plan.js';
import { refusalCause } from './response.js';
import { sign } from './signature.js';

// The conformance check's cases: a registry of one object per case (what it proves, the requests it sends, how
// its answers are judged). Pure: the check use case sends the requests and hands the answers in.

export { LARGE_PAYLOAD_BYTES, UNKNOWN_TYPE };

export type CaseName =
  | 'valid-events'
  | 'unsigned'
  | 'wrong-signature'
  | 'tampered'
  | 'duplicate'
  | 'unknown-type'
  | 'out-of-order'
  | 'latency'
  | 'large-payload'
  | 'non-compact';

export interface CheckCase {
  number: number;
  name: CaseName;
  /** What must hold, in a few words. */
  title: string;
  /** Skipped without a secret: it signs on purpose (or its point is a signature). */
  needsSecret: boolean;
  /** A failure means forged events get in. */
  security: boolean;
  /** Proves nothing while valid events are refused: blocked when case 1 fails. */
  needsValidEvents: boolean;
  /** Judged over every answer of the run (not only its own requests). */
  judgesRun: boolean;
  /** The requests it sends, in order. */
  plan(input: PlanInput): PlannedRequest[];
  /** Its verdict on the answers (its own, or the run's when `judgesRun`). */
  judge(answers: Answer[], ctx: JudgeContext): Verdict;
  /** Case 1 only: why its failure blocks the cases that need valid events; undefined when it passed. */
  blocks?(answers: Answer[], ctx: JudgeContext): string | undefined;
  /** Why it cannot apply to the endpoint (the types its routes take); undefined when it applies. See `whyNotFor`. */
  notFor?(input: Pick<PlanInput, 'types' | 'takesUnknown'>): string | undefined;
}

/**
 * Why a case cannot apply to an endpoint, from the types its routes take (undefined: it applies). Every case but 6
 * needs one of the seven types to send; case 6 needs an endpoint that takes types OnePush has not added yet; case 7
 * needs email.opened and email.delivered.
 */
export function whyNotFor(k: CheckCase, input: Pick<PlanInput, 'types' | 'takesUnknown'>): string | undefined {
  const own = k.notFor?.(input);
  if (own !== undefined) return own;
  if (k.name !== 'unknown-type' && typesOf(input).length === 0) return 'this endpoint receives none of the seven event types';
  return undefined;
}

/** A case that sends requests which must be answered 2xx; `refused` words a refusal the case knows better. */
function accepting(
  number: number,
  name: CaseName,
  title: string,
  plan: (input: PlanInput) => PlannedRequest[],
  passed: (statuses: string) => Verdict,
  refused: (bad: Answer & { status: number }, got: string, ctx: JudgeContext) => Verdict | undefined = () => undefined,
  needsSecret = false,
  notFor?: CheckCase['notFor'],
): CheckCase {
  return {
    number,
    name,
    title,
    needsSecret,
    security: false,
    needsValidEvents: true,
    judgesRun: false,
    ...(notFor ? { notFor } : {}),
    plan,
    judge(answers, ctx) {
      if (answers.length === 0) throw new TypeError(`no answers to judge for ${name}`);
      const bad = answers.find((a) => !is2xx(a));
      if (!bad) return passed(answers.map((a) => a.status).join(', then '));
      if (bad.status === undefined) return notPassed('warn', `${the(bad.label)} got ${describe(bad, ctx)}`, fixForRejection(bad, ctx), bad);
      return refused(bad as Answer & { status: number }, describe(bad, ctx), ctx) ?? notPassed('warn', `${the(bad.label)} got ${describe(bad, ctx)}`, fixForRejection(bad, ctx), bad);
    },
  };
}

/** A case whose requests must all be refused with a 4xx that shows the signature was checked. */
function rejecting(number: number, name: CaseName, title: string, plan: (input: PlanInput) => PlannedRequest[], accepted: (a: Answer) => string): CheckCase {
  return {
    number,
    name,
    title,
    needsSecret: true,
    security: true,
    needsValidEvents: true,
    judgesRun: false,
    plan,
    judge: (answers, ctx) => judgeRejected(answers, ctx, accepted),
  };
}

const KB = `${Math.round(LARGE_PAYLOAD_BYTES / 1024)} KB`;

/** The ten cases, by number. */
export const CHECK_CASES: readonly CheckCase[] = [
  {
    number: 1,
    name: 'valid-events',
    title: 'a valid event of every type is answered 2xx',
    needsSecret: false,
    security: false,
    needsValidEvents: false,
    judgesRun: false,
    plan: (input) => typesOf(input).map((type) => signed(type, JSON.stringify(sample(input, type)), input.secret)),
    judge: judgeValidEvents,
    blocks: (answers, ctx) => (answers.some(is2xx) || answers.length === 0 ? undefined : blockedBy(answers[0] as Answer, ctx)),
  },
  rejecting(
    2,
    'unsigned',
    'a request without a signature is rejected',
    (input) => {
      needSecret(input, 'unsigned');
      return [unsigned('unsigned request', JSON.stringify(sample(input, typeOf(input, 'email.delivered'))))];
    },
    (a) => `accepted a request without a signature (${a.status})`,
  ),
  rejecting(
    3,
    'wrong-signature',
    'a wrong signature is rejected',
    (input) => {
      const key = needSecret(input, 'wrong-signature');
      const type = typeOf(input, 'email.delivered');
      const body = JSON.stringify(sample(input, type));
      const other = JSON.stringify(sample(input, type));
      return [
        // Well-formed hex, but made with another key.
        unsigned('wrong signature', body, sign(body, `not-${key}`)),
        // Half of the right signature: a length check is needed before timingSafeEqual, and a prefix compare accepts it.
        unsigned('truncated signature', other, sign(other, key).slice(0, 32)),
      ];
    },
    (a) => `accepted a ${a.label} (${a.status})`,
  ),
  rejecting(
    4,
    'tampered',
    'a body signed for another body is rejected',
    (input) => {
      const key = needSecret(input, 'tampered');
      const original = sample(input, typeOf(input, 'email.delivered'));
      const tampered = structuredClone(original);
      tampered.data.to = ['attacker@evil.test'];
      tampered.data.subject = 'Reset your password';
      return [unsigned('tampered body', JSON.stringify(tampered), sign(JSON.stringify(original), key))];
    },
    (a) => `accepted a body whose signature belongs to another body (${a.status})`,
  ),
  accepting(
    5,
    'duplicate',
    'the same event delivered twice is answered 2xx both times',
    (input) => {
      const body = JSON.stringify(sample(input, typeOf(input, 'email.delivered')));
      return [signed('first delivery', body, input.secret), signed('second delivery', body, input.secret)];
    },
    (statuses) => ({
      result: 'pass',
      message: `the same event twice: answered 2xx both times (${statuses})`,
      note: "this shows a redelivery is answered; that it was processed only once is for your app's own test to prove (count the records of the event id)",
    }),
    (bad, got, ctx) =>
      bad.label === 'second delivery'
        ? notPassed('warn', `the second delivery of the same event got ${got}: not idempotent`, 'OnePush retries with the same id: when an id was already processed, answer 2xx and do nothing', bad)
        : notPassed('warn', `the first delivery got ${got}`, fixForRejection(bad, ctx), bad),
  ),
  accepting(
    6,
    'unknown-type',
    'an unknown (future) event type is answered 2xx',
    (input) => {
      const event = sample(input, 'email.sent');
      event.type = UNKNOWN_TYPE;
      event.data.delay = { smtp_response: '450 4.7.1 Greylisted, try again later', next_attempt_at: new Date(input.now.getTime() + 300_000).toISOString() };
      return [signed(UNKNOWN_TYPE, JSON.stringify(event), input.secret)];
    },
    (statuses) => ({ result: 'pass', message: `${UNKNOWN_TYPE} answered ${statuses}` }),
    (bad, got) => notPassed('warn', `${UNKNOWN_TYPE} got ${got}: will break when OnePush adds a type`, 'answer 2xx to types you do not handle, and ignore them', bad),
    false,
    // A type OnePush adds goes only where a route takes it: a bare URL (every type) or a glob that matches it.
    (input) => (input.takesUnknown === false ? `skipped: this endpoint's routes do not take a new type such as ${UNKNOWN_TYPE} (only a bare URL or a matching glob does)` : undefined),
  ),
  accepting(
    7,
    'out-of-order',
    'email.opened before email.delivered is answered 2xx',
    (input) => {
      const emailId = input.newId('em');
      // Delivered happened first (an earlier created_at) but arrives second, as retries and parallel queues do.
      const opened = sample(input, 'email.opened', { emailId });
      const delivered = sample(input, 'email.delivered', { emailId, now: new Date(input.now.getTime() - 1000) });
      return [signed('email.opened', JSON.stringify(opened), input.secret), signed('email.delivered', JSON.stringify(delivered), input.secret)];
    },
    (statuses) => ({ result: 'pass', message: `email.opened, then email.delivered of one email: answered ${statuses}` }),
    (bad, got) =>
      notPassed('warn', `${bad.label} got ${got}: events arriving out of order are refused`, 'do not assume an order: handle email.opened before email.delivered (create the record on either, compare created_at)', bad),
    false,
    (input) => {
      const types = typesOf(input);
      return types.includes('email.opened') && types.includes('email.delivered') ? undefined : 'skipped: needs an endpoint that receives both email.opened and email.delivered';
    },
  ),
  {
    number: 8,
    name: 'latency',
    title: 'every answer comes within 5 s',
    needsSecret: false,
    security: false,
    needsValidEvents: false,
    judgesRun: true,
    // A probe only when the run sent nothing else: otherwise the other cases' answers are measured.
    plan: (input) => {
      if (input.sent > 0) return [];
      const type = typeOf(input, 'email.delivered');
      return [signed(type, JSON.stringify(sample(input, type)), input.secret)];
    },
    judge: (answers, ctx) => judgeLatency(answers, ctx).verdict,
  },
  accepting(
    9,
    'large-payload',
    'a large but legal event (~256 KB) is answered 2xx',
    (input) => [signed('large event', JSON.stringify(largeEvent(sample(input, typeOf(input, 'email.delivered')), LARGE_PAYLOAD_BYTES)), input.secret)],
    (statuses) => ({ result: 'pass', message: `a ${KB} event answered ${statuses}` }),
    (bad, got, ctx) =>
      bad.status === 413
        ? notPassed('warn', `a ${KB} event got 413: the body limit is too small`, "raise your body size limit to at least 1 MB (express.json's default is 100 KB)", bad)
        : notPassed('warn', `a ${KB} event got ${got}`, fixForRejection(bad, ctx), bad),
  ),
  accepting(
    10,
    'non-compact',
    'a validly signed body that is not compact JSON is accepted',
    (input) => [signed('indented body', JSON.stringify(sample(input, typeOf(input, 'email.delivered')), null, 2), needSecret(input, 'non-compact'))],
    (statuses) => ({ result: 'pass', message: `an indented, validly signed body answered ${statuses}` }),
    (bad, got, ctx) =>
      bad.status >= 400 && bad.status < 500
        ? notPassed(
            'warn',
            `an indented, validly signed body got ${got}: verifies a re-serialisation, not the raw body — fragile`,
            'compute the HMAC over the raw request bytes (express.raw(), or the verify hook of express.json), not over JSON.stringify(req.body)',
            bad,
          )
        : notPassed('warn', `an indented, validly signed body got ${got}`, fixForRejection(bad, ctx), bad),
    true,
  ),
];

/** The case of a name. */
export function caseNamed(name: CaseName): CheckCase {
  return CHECK_CASES.find((c) => c.name === name) as CheckCase;
}

/** The requests one case sends, in order. */
export function planCase(name: CaseName, input: PlanInput): PlannedRequest[] {
  return caseNamed(name).plan(input);
}

/** Judges the answers of one case. */
export function judgeCase(name: CaseName, answers: Answer[], ctx: JudgeContext): Verdict {
  if (answers.length === 0) throw new TypeError(`no answers to judge for ${name}`);
  return caseNamed(name).judge(answers, ctx);
}

/** How to refer to the cases in selection errors. */
export function caseList(): string {
  return CHECK_CASES.map((c) => `${c.number} ${c.name}`).join(', ');
}

/** A selection names a case that does not exist, or leaves none; `list` says which list (null: both together). */
export class CaseSelectionError extends InvalidInput {
  constructor(
    readonly list: 'only' | 'skip' | null,
    readonly ref: string | undefined,
  ) {
    super(ref === undefined ? (list === null ? 'the selection leaves no case to run' : `no case named in ${list}`) : `unknown case "${ref}"`, `cases: ${caseList()}`);
    this.name = 'CaseSelectionError';
  }
}

function parseCaseRefs(list: 'only' | 'skip', value: string): Set<number> {
  const picked = new Set<number>();
  const parts = value.split(',').map((p) => p.trim());
  if (parts.every((p) => p === '')) throw new CaseSelectionError(list, undefined);
  for (const part of parts) {
    if (part === '') continue;
    const range = /^(\d+)\s*-\s*(\d+)$/.exec(part);
    const numbers = range ? rangeOf(Number(range[1]), Number(range[2])) : /^\d+$/.test(part) ? [Number(part)] : undefined;
    if (numbers) {
      const bad = numbers.find((n) => !CHECK_CASES.some((c) => c.number === n));
      if (bad !== undefined || numbers.length === 0) throw new CaseSelectionError(list, part);
      for (const n of numbers) picked.add(n);
      continue;
    }
    const found = CHECK_CASES.find((c) => c.name === part.toLowerCase());
    if (!found) throw new CaseSelectionError(list, part);
    picked.add(found.number);
  }
  return picked;
}

function rangeOf(from: number, to: number): number[] {
  if (to < from || to - from > 100) return [];
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

/**
 * The cases to run from `only` and `skip` (comma-separated names, numbers or ranges like 2-4), in number order.
 * Unknown cases and an empty selection throw CaseSelectionError.
 */
export function selectCases(only: string | undefined, skip: string | undefined): CheckCase[] {
  const onlySet = only === undefined ? undefined : parseCaseRefs('only', only);
  const skipSet = skip === undefined ? new Set<number>() : parseCaseRefs('skip', skip);
  const selected = CHECK_CASES.filter((c) => (onlySet === undefined || onlySet.has(c.number)) && !skipSet.has(c.number));
  if (selected.length === 0) throw new CaseSelectionError(null, undefined);
  return selected;
}

/** One answer the endpoint gave (or did not give) to one request of a case. */
export interface Answer {
  /** What the request was, e.g. `email.bounced`, `second delivery`. */
  label: string;
  /** The HTTP status; undefined when no answer came. */
  status: number | undefined;
  latencyMs: number;
  /** The response body's first line, or the network error in words. */
  firstLine: string;
  /** TIMEOUT, ECONNRESET, … when no answer came. */
  errorCode?: string | undefined;
}

/** `blocked`: not run, because case 1 showed the endpoint does not accept valid events (what it proves is unknown). */
export type Result = 'pass' | 'fail' | 'warn' | 'skip' | 'blocked';

/** The judgement of one case: why, in one line, and what to fix when it did not pass. */
export interface Verdict {
  result: Result;
  message: string;
  fix?: string;
  /** The first line of the response that did not pass, when there was one. */
  response?: string;
  /** What a pass does not prove, and how to prove it. */
  note?: string;
}

export interface JudgeContext {
  /** The requests were signed (a secret was given). */
  signed: boolean;
  /** The per-request timeout, for messages. */
  timeoutMs: number;
  /** How long an answer may take (default 5,000 ms, OnePush's own budget). */
  budgetMs?: number;
}

const budgetOf = (ctx: JudgeContext): number => ctx.budgetMs ?? LATENCY_BUDGET_MS;

const is2xx = (a: Answer): boolean => a.status !== undefined && a.status >= 200 && a.status < 300;
/**
 * The refusals that show a signature was checked: 400, 401, 403, 422. A 404, a 405 or a redirect says the request
 * never reached a handler, which proves nothing about its signature check.
 */
const SIGNATURE_REFUSALS = new Set([400, 401, 403, 422]);
const refusedForSignature = (a: Answer): boolean => a.status !== undefined && SIGNATURE_REFUSALS.has(a.status);

/** `500`, or the missing answer in words (the response's first line goes in `Verdict.response`). */
function describe(a: Answer, ctx: JudgeContext): string {
  if (a.status !== undefined) return String(a.status);
  if (a.errorCode === 'TIMEOUT') return `no answer within ${formatMs(ctx.timeoutMs)}`;
  return `no answer (${a.firstLine})`;
}

/** `email.opened`, `the second delivery`. */
function the(label: string): string {
  return label.startsWith('email.') ? label : `the ${label}`;
}

/** A verdict that did not pass, carrying the offending answer's first response line. */
function notPassed(result: 'fail' | 'warn', message: string, fix: string, a: Answer): Verdict {
  const v: Verdict = { result, message, fix };
  if (a.status !== undefined && a.firstLine.trim() !== '') v.response = a.firstLine.trim();
  return v;
}

/** What to do about an answer that should have been 2xx. */
function fixForRejection(a: Answer, ctx: JudgeContext): string {
  const s = a.status;
  if (s === undefined) {
    if (a.errorCode === 'TIMEOUT') return `answer within ${budgetWords(budgetOf(ctx))} (see case 8): acknowledge first, then do the work in the background`;
    return 'your app closed the connection without answering: look at its log, did it crash?';
  }
  switch (refusalCause(s)) {
    case 'signature':
      return ctx.signed
        ? 'the signature is right: is your app using the same secret, and verifying over the raw body bytes? (onepush verify --explain)'
        : 'your app wants a signature: sign with its secret';
    case 'path':
      return 'is the URL right? onepush posts to exactly the URL you gave';
    case 'size':
      return "raise your body size limit to at least 1 MB (express.json's default is 100 KB)";
    case 'redirect':
      return 'OnePush does not follow redirects: give the final URL';
    case 'loop':
    case 'handler':
      return 'your handler failed: look at your app\'s log for the error';
    default:
      return 'answer 2xx to every valid event, even of a type you ignore';
  }
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

function judgeValidEvents(answers: Answer[], ctx: JudgeContext): Verdict {
  const bad = answers.filter((a) => !is2xx(a));
  if (bad.length === 0) return { result: 'pass', message: `${plural(answers.length, 'type')}, each answered 2xx` };
  const first = bad[0] as Answer;
  const allSame = bad.length > 1 && bad.length === answers.length && bad.every((a) => a.status === first.status && a.status !== undefined);
  const what = allSame
    ? `every type got ${describe(first, ctx)}`
    : `${first.label} got ${describe(first, ctx)}${bad.length > 1 ? ` (and ${plural(bad.length - 1, 'more type')})` : ''}`;
  return notPassed('fail', `${what}: valid events are refused`, fixForRejection(first, ctx), first);
}

const SIGNATURE_FIX = 'verify x-onepush-signature (HMAC-SHA256 of the raw body with your secret) and answer 401 when it is missing or does not match';

/** Cases 2–4: every request must be refused with a 4xx. */
function judgeRejected(answers: Answer[], ctx: JudgeContext, acceptedWords: (a: Answer) => string): Verdict {
  if (answers.length === 0) throw new TypeError('no answers to judge');
  const accepted = answers.find(is2xx);
  if (accepted) {
    return notPassed('fail', `${acceptedWords(accepted)}: anyone can post fake events`, SIGNATURE_FIX, accepted);
  }
  const odd = answers.find((a) => !refusedForSignature(a));
  if (odd) {
    const cause = odd.status === undefined ? undefined : refusalCause(odd.status);
    if (cause === 'path' || cause === 'redirect') {
      return notPassed('warn', `${the(odd.label)} got ${odd.status}, which does not show the signature was checked (the request never reached a handler)`, fixForRejection(odd, ctx), odd);
    }
    if (odd.status === undefined) {
      const fix = odd.errorCode === 'TIMEOUT' ? 'refuse a bad signature at once with 401' : 'your app closed the connection: did it crash? Answer 401 instead';
      return notPassed('warn', `${the(odd.label)} got ${describe(odd, ctx)} instead of a 4xx`, fix, odd);
    }
    const crashed = odd.status >= 500;
    return notPassed(
      'warn',
      `${the(odd.label)} got ${describe(odd, ctx)} instead of a 4xx${crashed ? ': the signature check throws' : ''}`,
      crashed
        ? 'answer 401 for a missing or malformed signature instead of throwing (check the length before timingSafeEqual)'
        : 'answer 401 for a missing or wrong signature: other answers do not say why the event was refused',
      odd,
    );
  }
  const statuses = answers.map((a) => (answers.length > 1 ? `${a.status} (${a.label})` : String(a.status)));
  return { result: 'pass', message: `rejected with ${statuses.join(' and ')}` };
}

/** A budget in words: `5 s`, `1.5 s`, `800 ms`. */
export function budgetWords(ms: number): string {
  return ms >= 1000 && ms % 1000 === 0 ? `${ms / 1000} s` : formatMs(ms);
}

/** `12 ms`, `6.0 s`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The latency figures of a run. */
export interface LatencyStats {
  /** Answers measured (timeouts included, connection errors not). */
  requests: number;
  p50Ms: number;
  maxMs: number;
  /** Answers slower than the budget, and requests that timed out. */
  slow: number;
  timeouts: number;
}

/** The median of a sorted array (the lower middle for an even count, as `p50` is usually read). */
function median(sorted: number[]): number {
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}

/**
* Case 8 over every answer of the run: ✘ when one came after the budget or not within the timeout (a timeout counts
 * against it), with p50/max shown. Connection errors are not answers and are not measured.
 */
export function judgeLatency(answers: Answer[], ctx: JudgeContext): { verdict: Verdict; stats: LatencyStats } {
  const measured = answers.filter((a) => a.status !== undefined || a.errorCode === 'TIMEOUT');
  const times = measured.map((a) => a.latencyMs).sort((x, y) => x - y);
  const timeouts = measured.filter((a) => a.status === undefined);
  const budget = budgetOf(ctx);
  const within = budgetWords(budget);
  const slowAnswers = measured.filter((a) => a.status !== undefined && a.latencyMs > budget);
  const stats: LatencyStats = {
    requests: measured.length,
    p50Ms: Math.round(median(times)),
    maxMs: Math.round(times[times.length - 1] ?? 0),
    slow: slowAnswers.length + timeouts.length,
    timeouts: timeouts.length,
  };
  if (measured.length === 0) {
    return { verdict: { result: 'warn', message: 'no answer came to measure', fix: 'see the cases above: no request got an answer' }, stats };
  }
  const figures = `p50 ${formatMs(stats.p50Ms)}, max ${formatMs(stats.maxMs)} over ${plural(stats.requests, 'request')}`;
  const fix = `OnePush gives up after ${within} and retries: answer 2xx first, then do the slow work in the background (a queue)`;
  if (timeouts.length > 0) {
    const first = timeouts[0] as Answer;
    const also = slowAnswers.length > 0 ? `, ${plural(slowAnswers.length, 'more')} after ${within}` : '';
    return {
      verdict: { result: 'fail', message: `${plural(timeouts.length, 'request')} got no answer within ${formatMs(ctx.timeoutMs)} (${first.label}${timeouts.length > 1 ? ', …' : ''})${also}; ${figures}`, fix },
      stats,
    };
  }
  if (slowAnswers.length > 0) {
    const slowest = slowAnswers.reduce((a, b) => (b.latencyMs > a.latencyMs ? b : a));
    return {
      verdict: {
        result: 'fail',
        message: `${plural(slowAnswers.length, 'answer')} took longer than ${within} (slowest: ${slowest.label}, ${formatMs(slowest.latencyMs)}); ${figures}`,
        fix,
      },
      stats,
    };
  }
  return { verdict: { result: 'pass', message: `every answer within ${within}: ${figures}` }, stats };
}

/**
 * Why case 1's failure blocks the cases after it, from the answer valid events got: the path (404/405), the secret
 * (401/403), the handler (5xx), a redirect, or no answer at all.
 */
function blockedBy(first: Answer, ctx: JudgeContext): string {
  const got = `valid events got ${describe(first, ctx)}`;
  if (first.status === undefined) return `${got}: is your app running, and answering?`;
  switch (refusalCause(first.status)) {
    case 'path':
      return `${got}: check the path of the URL`;
    case 'signature':
      return ctx.signed ? `${got}: check the secret (your app's and onepush's must be the same)` : `${got}: your app wants a signature: pass its secret`;
    case 'redirect':
      return `${got}: a redirect, which OnePush does not follow: give the final URL`;
    case 'loop':
    case 'handler':
      return `${got}: your handler fails: look at your app's log`;
    default:
      return `${got}: see case 1`;
  }
}

/** The exit code of a run: 1 when a case failed (or, when strict, warned), else 0. */
export function exitCodeOf(results: readonly Result[], strict: boolean): number {
  if (results.includes('fail')) return 1;
  if (strict && results.includes('warn')) return 1;
  return 0;
}
