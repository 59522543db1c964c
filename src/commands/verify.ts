import { readInput } from '../adapters/files.js';
import { requireSecret } from '../adapters/secret.js';
import { NotACaptureLog, verifyBody, verifyCaptureLog, type VerifyResult } from '../app/verify.js';
import { CheckFailed, UsageError } from '../core/errors.js';
import type { Context } from './context.js';
import { cell } from '../core/display.js';
import type { VerifyFlags } from '../cli.js';

/** The options as commander parses them: typed from the flags themselves (src/cli.ts), so they cannot drift. */
type VerifyOptions = VerifyFlags;

/** Nothing was there to check: an empty input, or a selection that matched nothing (exit 1, as grep's). */
class NothingToDo extends CheckFailed {}

type Result = VerifyResult;

/** The use case's verdict in the CLI's words: a mismatch points at --explain. */
function worded(r: Result, explained: boolean): Result {
  if (explained || (r.code !== 'no-match' && r.code !== 'not-hex')) return r;
  return { ...r, message: r.code === 'no-match' ? `${r.message} (add --explain to find out why)` : r.message.replace(/\)$/, '; add --explain to find out why)') };
}

/** Checks every capture line of a capture log, taking the signature from its headers. */
async function* checkCaptureLog(file: string, ctx: Context, secret: string, wantExplain: boolean): AsyncGenerator<Result> {
  let any = false;
  try {
    for await (const r of verifyCaptureLog(file, {
      secret,
      explain: wantExplain,
      stdin: () => ctx.stdin,
      onTorn: (line) => ctx.out.warn(`${file}:${line}: torn last line skipped (the listener was killed mid-write?)`),
    })) {
      any = true;
      yield worded(r, wantExplain);
    }
  } catch (e) {
    if (!(e instanceof NotACaptureLog)) throw e;
    throw new UsageError(e.message, e.firstLine ? 'for a raw body, pass the signature with --signature <hex>' : 'a capture log has one JSON object per line, as onepush listen writes it');
  }
  if (!any) throw new NothingToDo(`nothing to verify: ${file === '-' ? 'stdin' : file} is empty`, 'pass a body with --signature <hex>, or a capture log');
}

/** `onepush verify [file...]`: offline signature check with grep-style exit codes. */
export async function run(files: string[], opts: VerifyOptions, ctx: Context): Promise<number> {
  const secret = requireSecret(opts.secret, ctx.env, ctx.cwd);
  if (files.length === 0 && (ctx.stdin as { isTTY?: boolean }).isTTY === true) {
    throw new UsageError('nothing to verify: give a body file or capture log, or pipe one on stdin', 'onepush verify body.json --signature <hex>, or: onepush verify .onepush/events.ndjson');
  }
  const sources = files.length > 0 ? files : ['-'];
  if (sources.filter((f) => f === '-').length > 1) throw new UsageError('stdin (-) can be read only once');
  const ids = opts.id !== undefined && opts.id.length > 0 ? new Set(opts.id) : undefined;
  if ((ids !== undefined || opts.last !== undefined) && opts.signature !== undefined) {
    throw new UsageError('--id and --last select captures of a capture log: they do not go with --signature', 'onepush verify .onepush/events.ndjson --id evt_… --explain');
  }
  // Only --json keeps every result (it prints them all); otherwise counts do, so a log of any size stays flat.
  const results: Result[] = [];
  let checked = 0;
  let invalid = 0;
  let selected = 0;
  const { out } = ctx;
  const show = (r: Result): void => {
    selected++;
    if (!r.skipped) {
      checked++;
      if (!r.valid) invalid++;
    }
    if (opts.json) {
      results.push(r);
      return;
    }
    const where = `${r.source === '-' ? 'stdin' : cell(r.source)}${r.line === undefined ? '' : `:${r.line}`}${r.id ? ` ${cell(r.id, 100)}` : ''}`;
    const mark = r.skipped ? out.c.dim('-') : r.valid ? out.c.green('✔') : out.c.red('✘');
    const label = r.skipped ? out.c.dim('skipped') : r.valid ? out.c.green('valid') : out.c.red('invalid');
    const multi = sources.length > 1 || r.line !== undefined;
    const text = r.skipped ? r.message.replace(/^skipped: /, '') : r.message;
    out.out(`${mark} ${label}${multi ? ` ${where}` : ''}${r.valid && r.code === 'valid' ? '' : ` — ${text}`}`);
  };
  // --last keeps only the last N selected captures, shown at the end (memory: N results).
  const ring: Result[] = [];
  const take = (r: Result): void => {
    if (ids !== undefined && (r.id === undefined || !ids.has(r.id))) return;
    if (opts.last === undefined) return show(r);
    ring.push(r);
    if (ring.length > opts.last) ring.shift();
  };
  for (const source of sources) {
    if (opts.signature !== undefined) {
      const body = await readInput(source, () => ctx.stdin);
      show(worded({ source, ...verifyBody(body, opts.signature, { secret, explain: opts.explain === true }) }, opts.explain === true));
    } else {
      for await (const r of checkCaptureLog(source, ctx, secret, opts.explain === true)) take(r);
    }
  }
  for (const r of ring) show(r);
  const valid = checked > 0 && invalid === 0;
  if (opts.json) out.json({ valid, checked, invalid, results });
  if (selected === 0) throw new NothingToDo(`nothing to verify: no capture matched ${ids === undefined ? 'the selection' : `--id ${[...ids].join(', ')}`}`, 'onepush verify <log> lists every capture with its id');
  if (checked === 0) {
    // Only captures of requests refused before their body was read (413): nothing could be checked.
    throw new NothingToDo('nothing to verify: no capture in the input has a body (each request was refused before its body was read)');
  }
  if (!opts.json && checked > 1) out.err(`${checked} checked: ${checked - invalid} valid, ${invalid} invalid`);
  return valid ? 0 : 1;
}
