import { dirname, resolve } from 'node:path';
import { errnoWords, writeOwnFile } from '../adapters/files.js';
import { maskSecret, resolveSecret, SECRET_ENV } from '../adapters/secret.js';
import type { Spinner } from '../adapters/terminal.js';
import { check, checkRoutes, type CaseReport, type CheckOutcome, type CheckRoutesOutcome, type CheckSummary, type RequestReport } from '../app/check.js';
import { CaseSelectionError, exitCodeOf, selectCases, type CheckCase } from '../core/check-cases.js';
import { CHECK_TIMEOUT_MS } from '../core/defaults.js';
import { cell, redactUrl } from '../core/display.js';
import { OnepushError, UsageError } from '../core/errors.js';
import { EVENT_TYPES } from '../core/event-types.js';
import { junitXml, junitXmlSuites, type JUnitCase } from '../core/junit.js';
import { parseRoutes, routeEndpoints, type Route } from '../core/routes.js';
import type { Context } from './context.js';
import type { CheckFlags } from '../cli.js';

const SKIP_WORDS = `skipped: needs the webhook secret (--secret, ${SECRET_ENV} or .env)`;

/** The options as commander parses them: typed from the flags themselves (src/cli.ts), so they cannot drift. */
type CheckOptions = CheckFlags;

const NAME_WIDTH = 15;
/** Where a case's message starts: mark, number, name. */
const MESSAGE_COLUMN = 1 + 1 + 2 + 2 + NAME_WIDTH + 2;

/**
 * `onepush check <routes...>`: the conformance suite of real signed deliveries against the user's endpoint, or, with
 * routes (`TYPES=URL`, several URLs), once per endpoint with the types it receives.
 */
export async function run(targets: readonly string[], opts: CheckOptions, ctx: Context): Promise<number> {
  const routes = parseRoutes(targets);
  // Routes that amount to one URL taking every type are today's `check <url>`, output and all.
  if (routeEndpoints(routes).length === 1 && routes.some((r) => r.types === null)) return runOne((routes[0] as Route).url, opts, ctx);
  return runRoutes(routes, opts, ctx);
}

/** The selected cases, a bad selection in the flags' words. */
function selectedCases(opts: CheckOptions): CheckCase[] {
  try {
    return selectCases(opts.only, opts.skip);
  } catch (e) {
    if (!(e instanceof CaseSelectionError)) throw e;
    const flag = e.list === null ? '--only and --skip' : `--${e.list}`;
    throw new UsageError(e.ref === undefined ? (e.list === null ? `${flag} leave no case to run` : `${flag} needs at least one case`) : `unknown case "${e.ref}" in ${flag}`, e.hint);
  }
}

/** `signed with secret wh…` or why not, the count of cases and the timeout: the line under the header. */
function howLine(secret: string | undefined, selected: readonly CheckCase[], timeoutMs: number, perEndpoint: boolean): string {
  const skipped = selected.filter((k) => k.needsSecret).map((k) => k.number);
  const how =
    secret !== undefined
      ? `signed with secret ${maskSecret(secret)}`
      : `unsigned: no secret (--secret, ${SECRET_ENV} or .env)${skipped.length > 0 ? `, so ${skipped.length === 1 ? 'case' : 'cases'} ${listOf(skipped)} ${skipped.length === 1 ? 'is' : 'are'} skipped` : ''}`;
  return `${how} · ${selected.length} ${selected.length === 1 ? 'case' : 'cases'}${perEndpoint ? ' per endpoint' : ''} · timeout ${timeoutMs} ms per request`;
}

/** `3 passed · 1 failed · 0 warnings · 2 skipped`. */
function summaryWords(summary: CheckSummary): string {
  const parts = [`${summary.passed} passed`, `${summary.failed} failed`, `${summary.warned} ${summary.warned === 1 ? 'warning' : 'warnings'}`, `${summary.skipped} skipped`];
  if (summary.blocked > 0) parts.push(`${summary.blocked} blocked by case 1`);
  return parts.join(' · ');
}

/** What both forms of a run start from: the secret, the cases, the timeouts, the report path and the output. */
function runSettings(opts: CheckOptions, ctx: Context) {
  const secret = resolveSecret(opts.secret, ctx.env, ctx.cwd);
  const timeoutMs = opts.timeout ?? CHECK_TIMEOUT_MS;
  const signal = ctx.shutdownSignal();
  return {
    secret,
    selected: selectedCases(opts),
    timeoutMs,
    strict: opts.strict === true,
    junitPath: opts.junit === undefined ? undefined : resolve(ctx.cwd, opts.junit),
    out: ctx.out,
    c: ctx.out.c,
    signal,
    /** The options both use cases take from the flags. */
    caseOptions: {
      ...(secret !== undefined ? { secret } : {}),
      ...(opts.only !== undefined ? { only: opts.only } : {}),
      ...(opts.skip !== undefined ? { skip: opts.skip } : {}),
      timeoutMs,
      ...(opts.insecure ? { insecure: true } : {}),
      userAgent: `onepush-cli/${ctx.version}`,
      env: ctx.env,
      signal,
    },
  };
}

/** Several endpoints (or one that takes only some types): a suite per endpoint, with the types it receives. */
async function runRoutes(routes: readonly Route[], opts: CheckOptions, ctx: Context): Promise<number> {
  const { secret, selected, timeoutMs, strict, junitPath, out, c, signal, caseOptions } = runSettings(opts, ctx);
  const count = routeEndpoints(routes).length;

  if (!opts.json) {
    out.out(c.bold(`onepush check ${count === 1 ? '1 endpoint' : `${count} endpoints`}`));
    out.out(c.dim(howLine(secret, selected, timeoutMs, true)));
  }

  let spinner: Spinner | undefined;
  const stopSpinner = (): void => {
    spinner?.stop();
    spinner = undefined;
  };
  let current: { url: string; reports: CaseReport[] } | undefined;
  const endpointDone = (): void => {
    if (current === undefined || opts.json) return;
    const counts = { passed: 0, failed: 0, warned: 0, skipped: 0, blocked: 0 };
    for (const r of current.reports) counts[r.result === 'pass' ? 'passed' : r.result === 'fail' ? 'failed' : r.result === 'warn' ? 'warned' : r.result === 'skip' ? 'skipped' : 'blocked']++;
    out.out(c.dim(`   ${summaryWords(counts)}`));
  };
  let outcome: CheckRoutesOutcome;
  try {
    outcome = await checkRoutes({
      routes: routes.map((r) => r.spec),
      ...caseOptions,
      onEndpoint: ({ url, types, takesUnknown }) => {
        endpointDone();
        current = { url, reports: [] };
        if (opts.json) return;
        out.out('');
        const every = types.length === EVENT_TYPES.length && takesUnknown;
        out.out(`${c.bold(url)}  ${c.dim(every ? 'every type' : types.length === 0 ? 'none of the seven types' : types.join(', '))}`);
      },
      onCaseStart: async (k) => {
        spinner = await out.spinner(`${k.number} ${k.name}: ${k.title}…`);
      },
      onTimeout: (k, label, ms, url) => {
        if (!out.errIsTTY) out.err(`check: ${url}: ${k.number} ${k.name}: ${label} got no answer within ${ms} ms`);
      },
      onCase: (report, url) => {
        stopSpinner();
        wordForCli(report);
        current?.reports.push(report);
        if (opts.json) out.err(`check: ${url}: ${report.number} ${report.name}: ${report.result}`);
        else printCase(ctx, report);
      },
    });
  } finally {
    stopSpinner();
  }

  const { endpoints, summary, interrupted } = outcome;
  for (const e of endpoints) for (const r of e.cases) wordForCli(r);
  if (interrupted && !opts.json) {
    const last = endpoints[endpoints.length - 1];
    for (const r of last?.cases.filter((x) => x.details.reason === 'interrupted') ?? []) printCase(ctx, r);
  }
  if (!interrupted) endpointDone();
  const exit = interrupted ? 130 : exitCodeOf(endpoints.flatMap((e) => e.cases.map((x) => x.result)), strict);

  if (junitPath !== undefined) {
    const suites = endpoints.map((e) => ({
      name: `onepush check ${e.url}`,
      time: e.cases.reduce((sum, r) => sum + r.timeMs, 0) / 1000,
      properties: { url: e.url, types: e.types.join(','), strict: String(strict) },
      cases: junitCases(e.cases, strict),
    }));
    const stamped = suites.map((s, i) => (i === 0 ? { ...s, timestamp: outcome.startedAt } : s));
    await writeReport(junitPath, junitXmlSuites('onepush check', stamped, outcome.durationMs / 1000));
  }
  if (opts.json) {
    out.json({
      endpoints: endpoints.map((e) => ({ url: e.url, types: e.types, cases: e.cases.map(({ timeMs: _, ...r }) => r), summary: e.summary })),
      summary,
      exit,
      ...(interrupted ? { interrupted: true } : {}),
    });
  } else {
    out.out('');
    const note = interrupted ? ' (interrupted: Ctrl-C)' : strict && summary.warned > 0 && summary.failed === 0 ? ' (--strict: warnings fail)' : '';
    const failing = endpoints.filter((e) => e.cases.some((r) => r.result === 'fail' || (strict && r.result === 'warn'))).map((e) => e.url);
    out.out((exit === 0 ? c.green : c.red)(`${endpoints.length === 1 ? '' : `${endpoints.length} endpoints: `}${summaryWords(summary)}${note}`));
    if (failing.length > 0 && !interrupted) out.out(c.red(`failed: ${failing.join(', ')}`));
  }
  if (junitPath !== undefined) out.err(out.ec.dim(`JUnit report written to ${opts.junit}`));
  return exit;
}

/** `onepush check <url>`: one endpoint taking every type. */
async function runOne(url: URL, opts: CheckOptions, ctx: Context): Promise<number> {
  const { secret, selected, timeoutMs, strict, junitPath, out, c, signal, caseOptions } = runSettings(opts, ctx);

  if (!opts.json) {
    out.out(c.bold(`onepush check ${redactUrl(url)}`));
    out.out(c.dim(howLine(secret, selected, timeoutMs, false)));
    out.out('');
  }

  // A case shows a spinner while its requests are out; the cases print as they finish, in number order.
  let spinner: Spinner | undefined;
  const stopSpinner = (): void => {
    spinner?.stop();
    spinner = undefined;
  };
  let outcome: CheckOutcome;
  try {
    outcome = await check({
      url: url.href,
      ...caseOptions,
      onCaseStart: async (k) => {
        spinner = await out.spinner(`${k.number} ${k.name}: ${k.title}…`);
      },
      // Off a terminal there is no spinner: a request that hangs is said at once, not after the whole case.
      onTimeout: (k, label, ms) => {
        if (!out.errIsTTY) out.err(`check: ${k.number} ${k.name}: ${label} got no answer within ${ms} ms`);
      },
      onCase: (report) => {
        stopSpinner();
        wordForCli(report);
        if (opts.json) out.err(`check: ${report.number} ${report.name}: ${report.result}`);
        else printCase(ctx, report);
      },
    });
  } finally {
    stopSpinner();
  }

  const { cases, summary, interrupted } = outcome;
  for (const r of cases) wordForCli(r);
  if (interrupted && !opts.json) for (const r of cases.filter((x) => x.details.reason === 'interrupted')) printCase(ctx, r);
  const exit = interrupted ? 130 : exitCodeOf(cases.map((x) => x.result), strict);

  if (junitPath !== undefined) await writeJUnit(junitPath, outcome, strict);
  if (opts.json) {
    out.json({ url: outcome.url, cases: cases.map(({ timeMs: _, ...r }) => r), summary, exit, ...(interrupted ? { interrupted: true } : {}) });
  } else {
    out.out('');
    const note = interrupted ? ' (interrupted: Ctrl-C)' : strict && summary.warned > 0 && summary.failed === 0 ? ' (--strict: warnings fail)' : '';
    out.out((exit === 0 ? c.green : c.red)(`${summaryWords(summary)}${note}`));
  }
  if (junitPath !== undefined) out.err(out.ec.dim(`JUnit report written to ${opts.junit}`));
  return exit;
}

/** The CLI's words for a case not run: where the secret comes from, and the key that interrupts. */
function wordForCli(r: CaseReport): void {
  if (r.fix !== null) r.fix = r.fix.replace('your app wants a signature: sign with its secret', `your app wants a signature: pass its secret with --secret or ${SECRET_ENV}`);
  if (r.details.reason === 'no-secret') r.message = SKIP_WORDS;
  else if (r.details.reason === 'interrupted') r.message = 'not run: interrupted (Ctrl-C)';
}

/** `2, 3, 4 and 10`. */
function listOf(items: readonly (string | number)[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
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


/** The JUnit test cases of one suite's reports. */
function junitCases(reports: readonly CaseReport[], strict: boolean): JUnitCase[] {
  return reports.map((r): JUnitCase => {
    const jc: JUnitCase = { name: `${r.number} ${r.name}: ${r.title}`, classname: 'onepush.check', time: r.timeMs / 1000 };
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
}

async function writeJUnit(file: string, outcome: CheckOutcome, strict: boolean): Promise<void> {
  const xml = junitXml({ name: 'onepush check', timestamp: outcome.startedAt, time: outcome.durationMs / 1000, properties: { url: outcome.url, strict: String(strict) }, cases: junitCases(outcome.cases, strict) });
  await writeReport(file, xml);
}

async function writeReport(file: string, xml: string): Promise<void> {
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
