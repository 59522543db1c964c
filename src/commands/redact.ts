import { requireSecret } from '../adapters/secret.js';
import { redact } from '../app/redact.js';
import { CheckFailed, UsageError } from '../core/errors.js';
import { cell } from '../core/display.js';
import type { RedactFlags } from '../cli.js';
import type { Context } from './context.js';

/** Nothing was there to redact (empty logs): exit 1, as every command's "nothing to do". */
class NothingToDo extends CheckFailed {}

/** `onepush redact <file...>`: redacted copies of capture logs, re-signed, safe to commit. */
export async function run(files: string[], opts: RedactFlags, ctx: Context): Promise<number> {
  const secret = requireSecret(opts.secret, ctx.env, ctx.cwd);
  const { out } = ctx;
  const toStdout = opts.out === '-' || (opts.out === undefined && files.includes('-'));
  if (toStdout && opts.json) throw new UsageError('--json prints a report on stdout: it does not go with -o - (the captures on stdout)', 'write the captures to a file: -o <file>');
  const outcome = await redact({
    files,
    cwd: ctx.cwd,
    secret,
    ...(opts.seed !== undefined ? { seed: opts.seed } : {}),
    ...(opts.out !== undefined ? { out: opts.out } : {}),
    ...(opts.force ? { force: true } : {}),
    // As every --json line: the same JSON, with DEL, C1 and bidi characters escaped as \uXXXX.
    write: (text) => out.json(JSON.parse(text)),
    stdin: () => ctx.stdin,
    onTorn: (file, line) => out.warn(`${file}:${line}: torn last line skipped (the listener was killed mid-write?)`),
  });
  if (outcome.captures === 0) throw new NothingToDo(`nothing to redact: ${files.join(', ')} ${files.length === 1 ? 'is' : 'are'} empty`, 'nothing was written');
  if (opts.json) {
    out.json({ captures: outcome.captures, bodies_replaced: outcome.bodiesReplaced, files: outcome.files.map((f) => ({ input: f.input, output: f.output, captures: f.captures, bodies_replaced: f.bodiesReplaced })) });
    return 0;
  }
  const report = toStdout ? (l: string) => out.err(l) : (l: string) => out.out(l);
  for (const f of outcome.files) {
    if (f.captures === 0) continue;
    const replaced = f.bodiesReplaced > 0 ? ` (${f.bodiesReplaced} non-JSON ${f.bodiesReplaced === 1 ? 'body' : 'bodies'} with personal data replaced, flagged "redacted")` : '';
    report(`${cell(f.input === '-' ? 'stdin' : f.input, 200)} → ${cell(f.output === '-' ? 'stdout' : f.output, 200)}  ${f.captures} ${f.captures === 1 ? 'capture' : 'captures'} redacted and re-signed${replaced}`);
  }
  return 0;
}
