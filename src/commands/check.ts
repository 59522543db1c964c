import { dirname, resolve } from 'node:path';
import { errnoWords, writeOwnFile } from '../adapters/files.js';
import { maskSecret, resolveSecret, SECRET_ENV } from '../adapters/secret.js';
import type { Spinner } from '../adapters/terminal.js';
import { check, type CaseReport, type CheckOutcome, type RequestReport } from '../app/check.js';
import { CaseSelectionError, exitCodeOf, selectCases, type CheckCase } from '../core/check-cases.js';
import { CHECK_TIMEOUT_MS } from '../core/defaults.js';
import { cell, redactUrl } from '../core/display.js';
import { OnepushError, UsageError } from '../core/errors.js';
import { junitXml, type JUnitCase } from '../core/junit.js';
import { resolveTarget } from '../core/target.js';
import type { Context } from './context.js';
import type { CheckFlags } from '../cli.js';

const SKIP_WORDS = `skipped: needs the webhook secret (--secret, ${SECRET_ENV} or .env)`;

/** The options as commander parses them: typed from the flags themselves (src/cli.ts), so they cannot drift. */
type CheckOptions = CheckFlags;

const NAME_WIDTH = 15;
/** Where a case's message starts: mark, number, name. */
const MESSAGE_COLUMN = 1 + 1 + 2 + 2 + NAME_WIDTH + 2;

/** `onepush check <url>`: the conformance suite of real signed deliveries against the user's endpoint. */
export async function run(target: string, opts: CheckOptions, ctx: Context): Promise<number> {
  const url = resolveTarget(target);
  const secret = resolveSecret(opts.secret, ctx.env, ctx.cwd);
  let selected: CheckCase[];
  try {
    selected = selectCases(opts.only, opts.skip);
  } catch (e) {
    if (!(e instanceof CaseSelectionError)) throw e;
    const flag = e.list === null ? '--only and --skip' : `--${e.list}`;
    throw new UsageError(e.ref === undefined ? (e.list === null ? `${flag} leave no case to run` : `${flag} needs at least one case`) : `unknown case "${e.ref}" in ${flag}`, e.hint);
  }
  const timeoutMs = opts.timeout ?? CHECK_TIMEOUT_MS;
  const strict = opts.strict === true;
  const junitPath = opts.junit === undefined ? undefined : resolve(ctx.cwd, opts.junit);
  const { out } = ctx;
  const c = out.c;
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
      ...(secret !== undefined ? { secret } : {}),
      ...(opts.only !== undefined ? { only: opts.only } : {}),
      ...(opts.skip !== undefined ? { skip: opts.skip } : {}),
      timeoutMs,
      ...(opts.insecure ? { insecure: true } : {}),
      userAgent: `onepush-cli/${ctx.version}`,
      signal,
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
    const parts = [`${summary.passed} passed`, `${summary.failed} failed`, `${summary.warned} ${summary.warned === 1 ? 'warning' : 'warnings'}`, `${summary.skipped} skipped`];
    if (summary.blocked > 0) parts.push(`${summary.blocked} blocked by case 1`);
    const note = interrupted ? ' (interrupted: Ctrl-C)' : strict && summary.warned > 0 && summary.failed === 0 ? ' (--strict: warnings fail)' : '';
    out.out((exit === 0 ? c.green : c.red)(`${parts.join(' · ')}${note}`));
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


async function writeJUnit(file: string, outcome: CheckOutcome, strict: boolean): Promise<void> {
  const junitCases = outcome.cases.map((r): JUnitCase => {
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
  const xml = junitXml({ name: 'onepush check', timestamp: outcome.startedAt, time: outcome.durationMs / 1000, properties: { url: outcome.url, strict: String(strict) }, cases: junitCases });
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
