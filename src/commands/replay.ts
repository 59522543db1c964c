import { resolveSecret, SECRET_ENV } from '../adapters/secret.js';
import { replay, type ReplayDelivery } from '../adapters/replayer.js';
import { isOnepushError } from '../core/errors.js';
import { summaryLine, type Summary } from '../core/report.js';
import type { Context } from './context.js';

export interface ReplayCommandOptions {
  to?: string;
  secret?: string;
  keepSignature?: boolean;
  freshId?: boolean;
  id?: string[];
  type?: string;
  last?: number;
  since?: string;
  concurrency?: number;
  rate?: number;
  timeout?: number;
  retries?: number;
  skipBad?: boolean;
  json?: boolean;
}

/**
 * `onepush replay [source...]`: re-sends captured events (issue #4). Results on stdout (one line per delivery, or
 * NDJSON), notes and the human summary on stderr. Exit 0 all 2xx, 1 any failed, 2 bad source/line, 130 on Ctrl-C.
 */
export async function run(sources: string[], opts: ReplayCommandOptions, ctx: Context): Promise<number> {
  const { out } = ctx;
  const c = out.c;
  const secret = resolveSecret(opts.secret, ctx.env);
  const signal = ctx.shutdownSignal();
  const spinner = opts.json ? undefined : await out.spinner('replaying…');
  let lastSpin = 0;
  const printSummary = (s: Summary): void => {
    if (opts.json) out.json(s);
    else out.err(`${s.failed > 0 ? out.ec.red('replay:') : out.ec.green('replay:')} ${summaryLine(s)}`);
  };
  const line = (d: ReplayDelivery): string => {
    const status = d.status === null ? c.red('failed') : d.ok ? c.green(String(d.status)) : c.red(String(d.status));
    const tries = d.attempts > 1 ? c.dim(` (${d.attempts} attempts)`) : '';
    const tail = d.error ?? d.response;
    return `${c.dim(`#${d.n}`)} ${d.type ?? '?'}  ${d.id ?? '-'}  ${status}  ${Math.round(d.latency_ms)} ms${tries}${tail ? `  ${d.ok ? c.dim(tail) : tail}` : ''}`;
  };
  try {
    const { summary, interrupted } = await replay(sources, {
      ...(opts.to !== undefined ? { to: opts.to } : {}),
      ...(secret !== undefined ? { secret } : {}),
      keepSignature: opts.keepSignature === true,
      freshId: opts.freshId === true,
      ids: opts.id ?? [],
      ...(opts.type !== undefined ? { type: opts.type } : {}),
      ...(opts.since !== undefined ? { since: opts.since } : {}),
      ...(opts.last !== undefined ? { last: opts.last } : {}),
      concurrency: opts.concurrency ?? 1,
      ...(opts.rate !== undefined ? { rate: opts.rate } : {}),
      timeoutMs: opts.timeout ?? 5000,
      retries: opts.retries ?? 0,
      skipBad: opts.skipBad === true,
      signal,
      cwd: ctx.cwd,
      stdin: ctx.stdin,
      userAgent: `onepush-cli/${ctx.version}`,
      onStart: () => {
        if (secret === undefined && !opts.keepSignature) {
          out.warn(`no secret: not re-signing (captured headers go unchanged, plain events unsigned); pass --secret or set ${SECRET_ENV}`);
        }
      },
      onDelivery: (d) => (opts.json ? out.json(d) : out.out(line(d))),
      onNote: (n) => out.warn(`${n.source}:${n.line}: ${n.message}${n.kind === 'bad' ? ' (skipped: --skip-bad)' : ''}`),
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
    if (summary.sent === 0 && !opts.json) out.err('replay: nothing matched the selection');
    return summary.failed > 0 ? 1 : 0;
  } catch (e) {
    spinner?.stop();
    const partial = (e as { summary?: Summary }).summary;
    if (isOnepushError(e) && partial && partial.sent > 0) printSummary(partial);
    throw e;
  }
}
