import { randomBytes } from 'node:crypto';
import { dirname, resolve } from 'node:path';
import { errnoWords, writeOwnFile } from '../adapters/files.js';
import { loadFixtures } from '../adapters/fixtures.js';
import { createHttpClient, type HttpClient } from '../adapters/http-client.js';
import { maskSecret, resolveSecret, SECRET_ENV } from '../adapters/secret.js';
import {
  blockedBy,
  dependsOnValidEvents,
  exitCodeOf,
  formatMs,
  judgeCase,
  judgeLatency,
  LATENCY_BUDGET_MS,
  selectCases,
  type Answer,
  type CheckCase,
  type JudgeContext,
  type Result,
  type Verdict,
} from '../core/check-cases.js';
import { planCase, type PlanInput } from '../core/check-plan.js';
import { OnepushError } from '../core/errors.js';
import { makeId } from '../core/ids.js';
import { junitXml, type JUnitCase } from '../core/junit.js';
import { resolveTarget } from '../core/target.js';
import type { Context } from './context.js';
import { cell, redactUrl } from '../core/display.js';

export interface CheckOptions {
  insecure?: boolean;
  secret?: string;
  only?: string;
  skip?: string;
  timeout?: number;
  strict?: boolean;
  json?: boolean;
  junit?: string;
}

/** One request of a case as reported in `--json` details. */
interface RequestReport {
  label: string;
  status: number | null;
  latencyMs: number;
  firstLine: string;
  errorCode?: string;
}

/** One case as `--json` prints it. */
export interface CaseReport {
  number: number;
  name: string;
  title: string;
  result: Result;
  security: boolean;
  message: string;
  fix: string | null;
  /** What a pass does not prove, and how to prove it (the duplicate case); null otherwise. */
  note: string | null;
  details: Record<string, unknown>;
}

const NAME_WIDTH = 15;
/** Where a case's message starts: mark, number, name. */
const MESSAGE_COLUMN = 1 + 1 + 2 + 2 + NAME_WIDTH + 2;
const SKIP_MESSAGE = `skipped: needs the webhook secret (--secret, ${SECRET_ENV} or .env)`;

// Network errors that mean nothing answered at all, as opposed to an app that took the connection and then was
// slow (TIMEOUT, counted against case 8) or crashed mid-request (ECONNRESET, judged by the case).
const REACHED = new Set(['TIMEOUT', 'ECONNRESET', 'UND_ERR_CLOSED', 'UND_ERR_DESTROYED', 'ABORTED']);

/** `onepush check <url>`: a conformance suite of real signed deliveries against the user's endpoint. */
export async function run(target: string, opts: CheckOptions, ctx: Context): Promise<number> {
  const url = resolveTarget(target);
  const secret = resolveSecret(opts.secret, ctx.env, ctx.cwd);
  const selected = selectCases(opts.only, opts.skip);
  const timeoutMs = opts.timeout ?? 10_000;
  const strict = opts.strict === true;
  const junitPath = opts.junit === undefined ? undefined : resolve(ctx.cwd, opts.junit);
  const fixtures = await loadFixtures();
  const { out } = ctx;
  const c = out.c;
  const judgeCtx: JudgeContext = { signed: secret !== undefined, timeoutMs };
  const startedAt = new Date();
  const signal = ctx.shutdownSignal();

  if (!opts.json) {
    out.out(c.bold(`onepush check ${redactUrl(url)}`));
    const skipped = selected.filter((k) => k.needsSecret).map((k) => k.number);
    const how =
      secret !== undefined
        ? `signed with secret ${maskSecret(secret)}`
        : `unsigned: no secret (--secret, ${SECRET_ENV} or .env)${skipped.length > 0 ? `, so ${skipped.length === 1 ? 'case' : 'cases'} ${listOf(skipped)} ${skipped.length === 1 ? 'is' : 'are'} skipped` : ''}`;
    out.out(c.dim(`${how} · ${selected.length} ${selected.length === 1 ? 'case' : 'cases'} · timeout ${timeoutMs} ms per request`));
    out.out('');
  }

  // The cases run one at a time, in number order, so the user's own logs read in the same order and each is
  // printed as it finishes. Case 8 judges the answers of the cases before it; a later case whose answer came after
  // the 5 s budget says so itself.
  const reports = new Map<number, CaseReport>();
  const times = new Map<number, number>();
  const everyAnswer: Answer[] = [];
  let sent = 0;
  /** Why case 1's failure leaves the cases after it proving nothing; undefined while it has not failed. */
  let blocked: string | undefined;
  const client: HttpClient = createHttpClient({ userAgent: `onepush-cli/${ctx.version}`, ...(opts.insecure ? { insecure: true } : {}) });
  const planInput = (): PlanInput => ({
    fixtures,
    secret,
    now: new Date(),
    newId: (prefix) => makeId(prefix, Date.now(), randomBytes(10)),
  });
  const finish = (k: CheckCase, report: CaseReport): void => {
    reports.set(k.number, report);
    if (opts.json) out.err(`check: ${k.number} ${k.name}: ${report.result}`);
    else printCase(ctx, report);
  };

  try {
    for (const k of selected) {
      if (signal.aborted) break;
      if (k.needsSecret && secret === undefined) {
        finish(k, toReport(k, { result: 'skip', message: SKIP_MESSAGE }, { reason: 'no-secret' }));
        continue;
      }
      if (blocked !== undefined && dependsOnValidEvents(k.name)) {
        finish(k, toReport(k, { result: 'blocked', message: `blocked by case 1: ${blocked}` }, { reason: 'blocked-by-valid-events' }));
        continue;
      }
      const spinner = await out.spinner(`${k.number} ${k.name}: ${k.title}…`);
      const answers: Answer[] = [];
      try {
        if (k.name !== 'latency' || sent === 0) {
          for (const req of planCase(k.name, planInput())) {
            const res = await client.send({ url, headers: req.headers, body: req.body }, { timeoutMs, signal });
            if (signal.aborted) break;
            if (sent === 0 && res.errorCode !== undefined && !REACHED.has(res.errorCode)) {
              throw new OnepushError(`cannot reach ${redactUrl(url)}: ${res.firstLine}`, {
                hint: 'start your app first (the suite needs it running), or check the URL',
              });
            }
            sent++;
            // Off a terminal there is no spinner: a request that hangs is said at once, not after the whole case.
            if (res.errorCode === 'TIMEOUT' && !out.errIsTTY) out.err(`check: ${k.number} ${k.name}: ${req.label} got no answer within ${timeoutMs} ms`);
            const answer: Answer = { label: req.label, status: res.status, latencyMs: res.latencyMs, firstLine: res.firstLine, errorCode: res.errorCode };
            answers.push(answer);
            everyAnswer.push({ ...answer, label: `${k.name} ${req.label}` });
          }
        }
      } finally {
        spinner.stop();
      }
      if (signal.aborted) break;
      let report: CaseReport;
      if (k.name === 'latency') {
        const { verdict, stats } = judgeLatency(everyAnswer, judgeCtx);
        report = toReport(k, verdict, { budgetMs: LATENCY_BUDGET_MS, timeoutMs, ...stats });
      } else {
        times.set(k.number, answers.reduce((sum, a) => sum + a.latencyMs, 0));
        let verdict = judgeCase(k.name, answers, judgeCtx);
        const slow = answers.filter((a) => a.status !== undefined && a.latencyMs > LATENCY_BUDGET_MS);
        if (verdict.result === 'pass' && slow.length > 0 && k.number > 8) {
          const slowest = slow.reduce((a, b) => (b.latencyMs > a.latencyMs ? b : a));
          verdict = { result: 'warn', message: `${verdict.message}, but in ${formatMs(slowest.latencyMs)}: over the 5 s OnePush allows`, fix: 'answer 2xx first, then do the slow work in the background (a queue)' };
        }
        report = toReport(k, verdict, { requests: answers.map(requestReport) });
        if (k.name === 'valid-events' && !answers.some((a) => a.status !== undefined && a.status >= 200 && a.status < 300)) {
          blocked = blockedBy(answers[0] as Answer, judgeCtx);
        }
      }
      finish(k, report);
    }
  } finally {
    await client.close();
  }

  const interrupted = signal.aborted;
  const cases = selected.map(
    (k) => reports.get(k.number) ?? toReport(k, { result: 'skip', message: 'not run: interrupted (Ctrl-C)' }, { reason: 'interrupted' }),
  );
  if (interrupted && !opts.json) for (const r of cases.filter((x) => x.details.reason === 'interrupted')) printCase(ctx, r);
  const count = (r: Result): number => cases.filter((x) => x.result === r).length;
  const summary = { passed: count('pass'), failed: count('fail'), warned: count('warn'), skipped: count('skip'), blocked: count('blocked') };
  const exit = interrupted ? 130 : exitCodeOf(cases.map((x) => x.result), strict);

  if (junitPath !== undefined) {
    await writeJUnit(junitPath, url, cases, times, startedAt, strict, (Date.now() - startedAt.getTime()) / 1000);
  }
  if (opts.json) {
    out.json({ url: redactUrl(url), cases, summary, exit, ...(interrupted ? { interrupted: true } : {}) });
  } else {
    out.out('');
    const parts = [`${summary.passed} passed`, `${summary.failed} failed`, `${summary.warned} ${summary.warned === 1 ? 'warning' : 'warnings'}`, `${summary.skipped} skipped`];
    if (summary.blocked > 0) parts.push(`${summary.blocked} blocked by case 1`);
    const note = interrupted ? ' (interrupted: Ctrl-C)' : strict && summary.warned > 0 && summary.failed === 0 ? ' (--strict: warnings fail)' : '';
    out.out((exit === 0 ? c.green : c.red)(`${parts.join(' · ')}${note}`));
  }
  if (junitPath !== undefined) out.err(out.ec.dim(`JUnit report written to ${opts.junit}`));
  return exit;
}

function toReport(k: CheckCase, verdict: Verdict, details: Record<string, unknown>): CaseReport {
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
  };
}

/** `2, 3, 4 and 10`. */
function listOf(items: readonly (string | number)[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function requestReport(a: Answer): RequestReport {
  const r: RequestReport = { label: a.label, status: a.status ?? null, latencyMs: Math.round(a.latencyMs * 10) / 10, firstLine: a.firstLine };
  if (a.errorCode !== undefined) r.errorCode = a.errorCode;
  return r;
}

/** `✘  2  unsigned         SECURITY: accepted …` and, when it did not pass, an aligned `fix:` line. */
function printCase(ctx: Context, r: CaseReport): void {
  const c = ctx.out.c;
  const mark = r.result === 'pass' ? c.green('✔') : r.result === 'fail' ? c.red('✘') : r.result === 'warn' ? c.yellow('⚠') : r.result === 'blocked' ? c.yellow('■') : c.dim('-');
  const name = r.name.padEnd(NAME_WIDTH);
  const security = r.security && r.result === 'fail' ? `${c.red.bold('SECURITY:')} ` : '';
  const message = r.result === 'skip' || r.result === 'blocked' ? c.dim(r.message) : r.message;
  ctx.out.out(`${mark} ${String(r.number).padStart(2)}  ${r.result === 'skip' || r.result === 'blocked' ? c.dim(name) : name}  ${security}${message}`);
  const indent = ' '.repeat(MESSAGE_COLUMN);
  if (typeof r.details.response === 'string') ctx.out.out(`${indent}${c.dim('response:')} ${cell(r.details.response, 100)}`);
  if (r.fix !== null) ctx.out.out(`${indent}${c.dim('fix:')} ${r.fix}`);
  if (r.note !== null) ctx.out.out(`${indent}${c.dim('note:')} ${r.note}`);
}


async function writeJUnit(
  file: string,
  url: URL,
  cases: CaseReport[],
  times: Map<number, number>,
  startedAt: Date,
  strict: boolean,
  totalSeconds: number,
): Promise<void> {
  const junitCases = cases.map((r): JUnitCase => {
    const jc: JUnitCase = { name: `${r.number} ${r.name}: ${r.title}`, classname: 'onepush.check', time: (times.get(r.number) ?? 0) / 1000 };
    const text = [r.message, ...(r.fix === null ? [] : [`fix: ${r.fix}`]), ...requestLines(r)].join('\n');
    if (r.result === 'fail' || (r.result === 'warn' && strict)) {
      const security = r.security && r.result === 'fail';
      jc.failure = { message: `${security ? 'SECURITY: ' : r.result === 'warn' ? 'warning: ' : ''}${r.message}`, type: security ? 'security' : r.result === 'warn' ? 'warning' : 'failure', text };
    } else if (r.result === 'skip' || r.result === 'blocked') {
      jc.skipped = { message: r.message.replace(/^skipped: /, '') };
    } else {
      jc.systemOut = r.result === 'warn' ? `warning: ${text}` : text;
    }
    return jc;
  });
  const xml = junitXml({ name: 'onepush check', timestamp: startedAt, time: totalSeconds, properties: { url: redactUrl(url), strict: String(strict) }, cases: junitCases });
  try {
    writeOwnFile(file, xml);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? `the folder ${dirname(file)} does not exist` : code === 'ELOOP' ? 'it is a symbolic link: onepush never writes a report through a link' : errnoWords(e);
    throw new OnepushError(`cannot write the JUnit report ${file}: ${why}`, { hint: 'pass another path to --junit' });
  }
}

function requestLines(r: CaseReport): string[] {
  const requests = r.details.requests;
  if (!Array.isArray(requests)) return [];
  return (requests as RequestReport[]).map((q) => `  ${q.label}: ${q.status ?? q.errorCode ?? 'no answer'} in ${Math.round(q.latencyMs)} ms${q.firstLine ? ` — ${q.firstLine}` : ''}`);
}
