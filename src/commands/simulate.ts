import { setFlagsFromString } from 'node:v8';
import { tuneForDelivery } from '../adapters/http-client.js';
import { readJsonFile } from '../adapters/files.js';
import { resolveSecret, SECRET_ENV } from '../adapters/secret.js';
import { DEFAULT_SPEED, simulate, type SimulateProgress, type SimulateReport } from '../app/simulate.js';
import type { Mix } from '../core/campaign.js';
import { DEFAULT_TARGET, LATENCY_BUDGET_MS } from '../core/defaults.js';
import { cell } from '../core/display.js';
import { UsageError } from '../core/errors.js';
import { parseMix, parseSchedule, parseShare, type Scenario } from '../core/scenario.js';
import type { SimulateFlags } from '../cli.js';
import type { Context } from './context.js';
import { loadProjectConfig } from '../adapters/config.js';
import { remoteConfigWarning, routesSetting } from './settings.js';

function share(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = parseShare(value);
  if (n === null) throw new UsageError(`${flag} must be a share such as 1% or 0.01 (0 to 100%)`, `e.g. ${flag} 1%`);
  return n;
}

function parseSpeed(value: string | undefined): number {
  if (value === undefined) return DEFAULT_SPEED;
  if (value.trim().toLowerCase() === 'max') return Infinity;
  const n = Number(value);
  if (!/^\s*\d+(\.\d+)?\s*$/.test(value) || !(n > 0)) throw new UsageError('--speed must be a positive number (campaign seconds per second) or "max"', 'e.g. --speed 600 (10 minutes of campaign a second), --speed max');
  return n;
}

async function readScenario(file: string): Promise<Scenario> {
  const value = await readJsonFile(file);
  const { parseScenario } = await import('../core/scenario-file.js');
  return parseScenario(value, file);
}

/** `1h 2m`-style campaign time. */
function campaignTime(ms: number): string {
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

const n = (x: number): string => x.toLocaleString('en-US');

/**
 * `onepush simulate`: a seeded campaign delivered as a provider would. Progress on stderr, the report on stdout
 * (`--json`: one object). Exit 0 nothing lost and every answer within the budget, 1 otherwise, 2 bad flags.
 */
export async function run(opts: SimulateFlags, ctx: Context): Promise<number> {
  const { out } = ctx;
  const c = out.c;
  const scenario = opts.scenario === undefined ? {} : await readScenario(opts.scenario);
  const mix: Partial<Mix> = { ...scenario.mix, ...(opts.mix === undefined ? {} : parseMix(opts.mix)) };
  const speed = parseSpeed(opts.speed);
  const schedule = opts.retrySchedule === undefined ? undefined : parseSchedule(opts.retrySchedule);
  const duplicates = share('--duplicates', opts.duplicates) ?? scenario.duplicates;
  const reorder = share('--reorder', opts.reorder) ?? scenario.reorder;
  const secret = resolveSecret(opts.secret, ctx.env, ctx.cwd);
  const targetSetting = routesSetting(opts.to, '--to', await loadProjectConfig(ctx.cwd), [DEFAULT_TARGET]);
  const remote = remoteConfigWarning(targetSetting, '--to');
  if (remote !== undefined) ctx.out.warn(remote);
  const targets = targetSetting.value;
  const seed = opts.seed ?? scenario.seed;
  const recipients = opts.recipients ?? scenario.recipients ?? 1000;
  tuneForDelivery();
  // The CLI only (a process-wide V8 setting, never the library's): the old generation may grow to 2x what survived
  // the last full collection instead of up to 4x. A campaign at full speed promotes a steady trickle of short-lived
  // objects, and V8's default let a million-event run peak at ~160 MiB; with this, ~100 MiB at the same throughput
  // (bench/simulate.bench.ts).
  setFlagsFromString('--heap-growing-percent=100');
  const signal = ctx.shutdownSignal();
  signal.addEventListener('abort', () => out.err('simulate: stopping — requests in flight finish first (Ctrl-C again to quit now)'), { once: true });
  const spinner = out.errIsTTY ? await out.spinner('simulating…') : undefined;
  let startedSeed = 0;
  const progressText = (p: SimulateProgress): string =>
    `${(p.elapsed_ms / 1000).toFixed(1)} s · campaign +${campaignTime(p.campaign_ms)} · ${n(p.events)} events · ${n(p.ok)} ok · ${n(p.failed)} failed · ${n(p.retrying)} retrying · ${n(p.lost)} lost · ${n(p.rate)} req/s`;
  const report: SimulateReport = await simulate({
    // --to, else onepush.config.json's endpoints, else the listener's URL.
    to: targets,
    recipients,
    ...(seed === undefined ? {} : { seed }),
    mix,
    ...(duplicates === undefined ? {} : { duplicates }),
    ...(reorder === undefined ? {} : { reorder }),
    ...(scenario.sendRate === undefined ? {} : { sendRate: scenario.sendRate }),
    ...(scenario.start === undefined ? {} : { start: scenario.start }),
    speed,
    ...(opts.rate === undefined ? {} : { rate: opts.rate }),
    concurrency: opts.concurrency ?? 16,
    ...(schedule === undefined ? {} : { retrySchedule: schedule }),
    budgetMs: opts.budget ?? LATENCY_BUDGET_MS,
    ...(secret === undefined ? {} : { secret }),
    userAgent: `onepush-cli/${ctx.version}`,
      env: ctx.env,
    ...(opts.insecure ? { insecure: true } : {}),
    ...(opts.save === undefined ? {} : { save: opts.save }),
    ...(opts.expect === undefined ? {} : { expect: opts.expect }),
    signal,
    onStart: (info) => {
      startedSeed = info.seed;
      if (secret === undefined) out.warn(`no secret: sending unsigned events (pass --secret or set ${SECRET_ENV})`);
      const line = `simulate: seed ${info.seed} · ${n(recipients)} recipients → ${info.endpoints.map((e) => cell(e, 120)).join(', ')}`;
      if (spinner) spinner.text(line);
      else out.err(line);
    },
    onProgress: (p) => {
      if (spinner) spinner.text(`simulate: ${progressText(p)}`);
      else out.err(`simulate: ${progressText(p)}`);
    },
  });
  spinner?.stop();
  if (opts.json) {
    out.json(report);
  } else {
    render(report, ctx);
  }
  if (!report.ok && !opts.json) out.err(out.ec.dim(`hint: the same run again: --seed ${startedSeed || report.seed}`));
  return report.interrupted ? 130 : report.ok ? 0 : 1;
}

function render(r: SimulateReport, ctx: Context): void {
  const { out } = ctx;
  const c = out.c;
  const lines: string[] = [];
  lines.push(
    `simulate: seed ${r.seed} · ${n(r.recipients)} recipients · ${n(r.events)} events (${n(r.duplicates)} duplicates${r.unrouted ? `, ${n(r.unrouted)} not routed` : ''}) · ${n(r.requests)} requests · ${(r.throughput.duration_ms / 1000).toFixed(1)} s`,
  );
  lines.push('');
  lines.push(c.dim(`${'type'.padEnd(20)}${'sent'.padStart(9)}${'first try'.padStart(11)}${'retried'.padStart(9)}${'lost'.padStart(7)}`));
  for (const [type, t] of Object.entries(r.types)) {
    if (t.sent === 0) continue;
    lines.push(`${type.padEnd(20)}${n(t.sent).padStart(9)}${n(t.accepted_first_time).padStart(11)}${n(t.retried).padStart(9)}${t.lost ? c.red(n(t.lost).padStart(7)) : n(t.lost).padStart(7)}`);
  }
  if (r.endpoints.length > 1) {
    lines.push('');
    for (const e of r.endpoints) lines.push(`${cell(e.url, 80)}  ${n(e.sent)} sent · ${n(e.accepted_first_time)} first try · ${n(e.retried)} retried · ${n(e.lost)} lost · ${n(e.requests)} requests`);
  }
  const l = r.latency;
  lines.push('');
  lines.push(
    `latency     p50 ${l.p50_ms ?? '–'} ms · p95 ${l.p95_ms ?? '–'} ms · p99 ${l.p99_ms ?? '–'} ms · max ${l.max_ms ?? '–'} ms · budget ${l.budget_ms} ms: ${l.over_budget === 0 ? c.green('none over') : c.red(`${n(l.over_budget)} over`)}`,
  );
  lines.push(`throughput  ${n(r.throughput.requests_per_s)} requests/s · ${n(r.throughput.events_per_s)} events/s`);
  if (r.errors.length > 0) {
    lines.push('');
    lines.push('errors from the app:');
    for (const e of r.errors.slice(0, 10)) lines.push(`  ${c.red(e.reason)} ×${n(e.count)}  ${cell(e.message, 140)}`);
    if (r.errors.length > 10 || r.errors_ungrouped > 0) lines.push(c.dim(`  … ${r.errors.length - Math.min(10, r.errors.length)} more groups${r.errors_ungrouped ? `, ${n(r.errors_ungrouped)} more failures` : ''} (--json has them all)`));
  }
  if (r.expect) lines.push(c.dim(`expected final state per recipient: ${cell(r.expect, 120)}`));
  if (r.save) lines.push(c.dim(`every request sent: ${cell(r.save, 120)} (onepush replay ${cell(r.save, 120)} --keep-signature repeats them)`));
  lines.push('');
  if (r.ok) lines.push(c.green('✔ nothing lost, every answer within the budget'));
  else {
    const why = [
      r.lost ? `${n(r.lost)} lost (retry schedule ran out)` : '',
      l.over_budget ? `${n(l.over_budget)} answers over the ${l.budget_ms} ms budget` : '',
      r.dropped ? `${n(r.dropped)} dropped when stopped` : '',
      r.interrupted ? 'interrupted' : '',
    ].filter(Boolean);
    lines.push(c.red(`✘ ${why.join(' · ')}`));
  }
  out.lines(lines);
}
