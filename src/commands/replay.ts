import { tuneForDelivery } from '../adapters/http-client.js';
import { resolveSecret, SECRET_ENV } from '../adapters/secret.js';
import { replay, ReplayStopped, type ReplayDelivery } from '../app/replay.js';
import { DELIVERY_TIMEOUT_MS } from '../core/defaults.js';
import { isOnepushError, UsageError } from '../core/errors.js';
import { parseSince } from '../core/replay-select.js';
import { parseRoutes, routeEndpoints } from '../core/routes.js';
import { summaryLine, type Summary } from '../core/report.js';
import type { Context } from './context.js';
import { loadProjectConfig } from '../adapters/config.js';
import { remoteConfigWarning, routesSetting } from './settings.js';
import { cell } from '../core/display.js';
import type { ReplayFlags } from '../cli.js';

/** The options as commander parses them: typed from the flags themselves (src/cli.ts), so they cannot drift. */
type ReplayCommandOptions = ReplayFlags;

/**
 * `onepush replay [source...]`: re-sends captured events. Results on stdout (one line per delivery, or
 * NDJSON), notes and the human summary on stderr. Exit 0 all 2xx, 1 any failed, 2 bad source/line, 130 on Ctrl-C.
 */
export async function run(sources: string[], opts: ReplayCommandOptions, ctx: Context): Promise<number> {
  tuneForDelivery();
  const { out } = ctx;
  const c = out.c;
  const secret = resolveSecret(opts.secret, ctx.env, ctx.cwd);
  // --to, else onepush.config.json's endpoints (else the use case's default); no source: the config's save, if set.
  const config = await loadProjectConfig(ctx.cwd);
  const toSetting = routesSetting(opts.to, '--to', config, null);
  const remote = remoteConfigWarning(toSetting, '--to');
  if (remote !== undefined) ctx.out.warn(remote);
  const to = toSetting.value;
  const given = sources.length === 0 && config?.save !== undefined ? [config.save] : sources;
  const signal = ctx.shutdownSignal();
  signal.addEventListener('abort', () => out.err('replay: stopping — deliveries in flight finish first (Ctrl-C again to quit now)'), { once: true });
  // Progress on stderr when it is a terminal and stdout is not (results go to a file or a pipe): on a terminal the
  // result lines themselves show progress, and a spinner would tangle with them.
  const spinner = out.isTTY ? undefined : await out.spinner('replaying…');
  let lastSpin = 0;
  // Results are written in batches (one write per tick or per 64 KB, not per line): at thousands of deliveries a
  // second, a write per line costs as much as the deliveries. Order is kept; the batch is flushed before the summary.
  let batch: string[] = [];
  let batchSize = 0;
  let scheduled = false;
  const flush = (): void => {
    scheduled = false;
    if (batch.length === 0) return;
    out.lines(batch);
    batch = [];
    batchSize = 0;
  };
  const emit = (text: string): void => {
    if (out.isTTY) {
      out.out(text);
      return;
    }
    batch.push(text);
    batchSize += text.length;
    if (batchSize >= 65536) flush();
    else if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  const printSummary = (s: Summary): void => {
    flush();
    if (opts.json) out.json(s);
    else out.err(`${s.failed > 0 ? out.ec.red('replay:') : out.ec.green('replay:')} ${summaryLine(s)}`);
  };
  // Each --to is a route (TYPES=URL, or a URL for every type): checked first, so a bad one is exit 2 at once.
  const routes = to === null ? null : parseRoutes(to);
  const several = routes !== null && routeEndpoints(routes).length > 1;
  const line = (d: ReplayDelivery): string => {
    const status = d.status === null ? c.red('failed') : d.ok ? c.green(String(d.status)) : c.red(String(d.status));
    const tries = d.attempts > 1 ? c.dim(` (${d.attempts} attempts)`) : '';
    const tail = cell(d.error ?? d.message, 200);
    const type = cell(d.type ?? '?', 60);
    const id = cell(d.id ?? '-', 100);
    // On a terminal, columns line up (the longest type is email.unsubscribed); a pipe gets single spaces.
    const statusText = d.status === null ? 'failed' : String(d.status);
    const cols = out.isTTY
      ? `${c.dim(`#${d.n}`)} ${type.padEnd(18)}  ${id}  ${status}${' '.repeat(Math.max(0, 6 - statusText.length))}  ${`${Math.round(d.latency_ms)}`.padStart(4)} ms`
      : `${c.dim(`#${d.n}`)} ${type}  ${id}  ${status}  ${Math.round(d.latency_ms)} ms`;
    // Several endpoints: each line names its own.
    const where = several ? `  ${c.dim('→')} ${cell(d.url, 100)}` : '';
    return `${cols}${where}${tries}${tail ? `  ${d.ok ? c.dim(tail) : tail}` : ''}`;
  };
  // The words of bad options are the command's: the use case knows no flags.
  if (opts.freshId && secret === undefined) {
    throw new UsageError('--fresh-id needs a secret: the new ids change the body, so it must be re-signed', `pass --secret <secret> or set ${SECRET_ENV}`);
  }
  let since: Date | undefined;
  if (opts.since !== undefined) {
    try {
      since = new Date(parseSince(opts.since, Date.now()));
    } catch (e) {
      throw new UsageError(`--since ${(e as Error).message}`, 'use an ISO time (2026-11-27T10:00:00Z) or a duration: 30s, 10m, 2h, 1d');
    }
  }
  try {
    const { summary, interrupted, notRouted } = await replay(given, {
      ...(to !== null ? { to } : {}),
      ...(secret !== undefined ? { secret } : {}),
      keepSignature: opts.keepSignature === true,
      freshId: opts.freshId === true,
      ids: opts.id ?? [],
      ...(opts.type !== undefined ? { type: opts.type } : {}),
      ...(since !== undefined ? { since } : {}),
      ...(opts.last !== undefined ? { last: opts.last } : {}),
      concurrency: opts.concurrency ?? 1,
      ...(opts.rate !== undefined ? { rate: opts.rate } : {}),
      timeoutMs: opts.timeout ?? DELIVERY_TIMEOUT_MS,
      retries: opts.retries ?? 0,
      skipBad: opts.skipBad === true,
      ...(opts.insecure ? { insecure: true } : {}),
      signal,
      cwd: ctx.cwd,
      stdin: ctx.stdin,
      userAgent: `onepush-cli/${ctx.version}`,
      env: ctx.env,
      onStart: () => {
        if (secret === undefined && !opts.keepSignature) {
          out.warn(`no secret: not re-signing (captured headers go unchanged, plain events unsigned); pass --secret or set ${SECRET_ENV}`);
        }
      },
      onDelivery: (d) => emit(opts.json ? JSON.stringify(d) : line(d)),
      onNote: (n) => out.warn(`${n.source}${n.line > 0 ? `:${n.line}` : ''}: ${n.message}${n.kind === 'bad' ? ' (skipped: --skip-bad)' : ''}`.replace('no route takes', 'no --to route takes')),
      onProgress: spinner
        ? ({ sent, failed }) => {
            const now = performance.now();
            if (now - lastSpin < 100) return;
            lastSpin = now;
            spinner.text(`replaying… ${sent} sent, ${failed} failed`);
          }
        : undefined,
    });
    spinner?.stop();
    printSummary(summary);
    if (interrupted) {
      out.err('replay: interrupted (Ctrl-C): the events above were sent, the rest were not');
      return 130;
    }
    // Nothing to do (an empty source, a selection that matched nothing) is exit 1 in every command, as grep's.
    if (summary.sent === 0) {
      out.err(notRouted > 0 ? `replay: nothing sent: no --to route takes the ${notRouted} selected event${notRouted === 1 ? '' : 's'}` : 'replay: nothing to replay: no event matched the selection');
      return 1;
    }
    return summary.failed > 0 ? 1 : 0;
  } catch (e) {
    spinner?.stop();
    flush();
    const partial = (e as { summary?: Summary }).summary;
    if (isOnepushError(e) && partial && partial.sent > 0) printSummary(partial);
    if (e instanceof ReplayStopped) throw new UsageError(e.message, 'fix or remove the line, or pass --skip-bad to report bad lines and go on');
    throw e;
  }
}
