import type { ChalkInstance } from 'chalk';
import type { ForwardResult } from '../adapters/forwarder.js';
import { cell, escapeControls, jsonSafe, shellArg } from '../core/display.js';
import { eventInfo } from '../core/event-types.js';
import { refusalCause } from '../core/response.js';
import type { ListenEvent, ListenSummary, NotRouted } from '../app/listen.js';
import { DEFAULT_CAPTURE_LOG } from '../core/defaults.js';
import { kindColor } from './render.js';

// What `onepush listen` prints: the banner, one line per event plus the fields that matter for its
// type, forwarding results, the summary; and the NDJSON lines of --json, built cheaply (the payload text is the
// body itself when it is one line). Pure: the clock format and colours are passed in, so a golden test pins it.

export interface RenderOptions {
  c: ChalkInstance;
  /** Formats a time for the start of an event line. */
  clock: (d: Date) => string;
  verbose: boolean;
  /** The capture log, for the `onepush verify … --explain` hint of a 401 (null: not saved). */
  save?: string | null;
  /** The widest a shown field may make a line (default 160); --verbose still shows the whole payload. */
  width?: number;
  /** The secret was given with --secret: the 401 hint then says to pass it to verify too. */
  secretFlag?: boolean;
}

/** Local wall-clock time, HH:MM:SS. */
export function localClock(d: Date): string {
  return `${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}

/** UTC wall-clock time, HH:MM:SS. */
export function utcClock(d: Date): string {
  return `${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}`;
}

const p2 = (n: number): string => (n < 10 ? `0${n}` : String(n));

const TYPE_WIDTH = 18;
const ID_WIDTH = 30;
const TO_WIDTH = 18;
const INDENT = ' '.repeat(9);

export interface BannerInfo {
  version: string;
  url: string;
  host: string;
  secretMask: string | null;
  /** Where the secret came from: --secret, the environment, or .env. */
  secretFrom?: string | null;
  save: string | null;
  forwardTo: string | null;
  events: string | null;
  maxBody: number;
  /** The inspector's address; null when it is off (--no-ui); undefined leaves the line out. */
  inspector?: string | null;
}

/** The banner printed once the port is open. */
export function bannerLines(b: BannerInfo, c: ChalkInstance): string[] {
  const row = (label: string, value: string): string => `  ${c.dim(label.padEnd(12))} ${value}`;
  const lines = [
    `${c.bold('onepush listen')} ${c.dim(cell(b.version))}`,
    row('Webhook URL', `${c.cyan(cell(b.url))} ${c.dim('(any path works)')}`),
    row('Signatures', b.secretMask === null ? c.yellow('not checked — no secret (--secret, ONEPUSH_WEBHOOK_SECRET, or .env)') : `checked ${c.dim(`(secret ${cell(b.secretMask)}${b.secretFrom ? `, from ${b.secretFrom}` : ''})`)}`),
    row('Captures', b.save === null ? c.dim('off (--no-save)') : cell(b.save)),
    row('Forwarding', b.forwardTo === null ? c.dim('off (--forward-to 3000 sends events to your app)') : cell(b.forwardTo)),
  ];
  if (b.inspector !== undefined) lines.push(row('Inspector', b.inspector === null ? c.dim('off (--no-ui)') : `${c.cyan(cell(b.inspector))} ${c.dim('(every event live; replay, edit and resend)')}`));
  if (b.events !== null) lines.push(row('Showing', `${cell(b.events)} ${c.dim('(others are still answered, saved and forwarded)')}`));
  lines.push(`${c.green('Ready')} — waiting for events ${c.dim('(Ctrl-C to stop)')}`);
  return lines;
}

function colourType(type: string | null, c: ChalkInstance): string {
  if (type === null) return c.dim('(no event)'.padEnd(TYPE_WIDTH));
  return kindColor(c, eventInfo(type)?.kind)(cell(type, 60).padEnd(TYPE_WIDTH));
}

function get(obj: unknown, ...path: string[]): unknown {
  let v = obj;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<string, unknown>)[k];
  }
  return v;
}

/** A payload field as shown: scalars only, control characters escaped. */
const str = (v: unknown): string | undefined => (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? escapeControls(String(v)) : undefined);

function recipient(payload: Record<string, unknown> | null): string {
  const to = get(payload, 'data', 'to');
  if (Array.isArray(to)) {
    const first = str(to[0]);
    return first === undefined ? '' : to.length > 1 ? `${first} +${to.length - 1}` : first;
  }
  return str(to) ?? '';
}

/** The fields that matter for a type, joined with ` · `; empty when there is nothing to show. */
export function detail(payload: Record<string, unknown> | null): string {
  const type = str(get(payload, 'type'));
  const d = get(payload, 'data');
  const parts = (...xs: unknown[]): string => xs.map(str).filter((x): x is string => x !== undefined && x !== '').join(' · ');
  switch (type) {
    case 'email.sent': {
      const subject = str(get(d, 'subject'));
      return parts(subject === undefined ? undefined : `“${subject}”`, get(d, 'from'));
    }
    case 'email.delivered':
      return parts(get(d, 'delivery', 'smtp_response'), get(d, 'delivery', 'mx_host'));
    case 'email.opened':
      return parts(get(d, 'open', 'ip'), clip(str(get(d, 'open', 'user_agent')), 60));
    case 'email.clicked':
      return parts(get(d, 'click', 'url'), get(d, 'click', 'ip'));
    case 'email.bounced': {
      const code = [str(get(d, 'bounce', 'smtp_code')), str(get(d, 'bounce', 'enhanced_status'))].filter(Boolean).join(' ');
      return parts(get(d, 'bounce', 'type'), code, get(d, 'bounce', 'diagnostic'));
    }
    case 'email.complained':
      return parts(get(d, 'complaint', 'feedback_type'), get(d, 'complaint', 'provider'));
    case 'email.unsubscribed': {
      const list = str(get(d, 'unsubscribe', 'list'));
      return parts(get(d, 'unsubscribe', 'method'), list === undefined ? undefined : `list ${list}`);
    }
    default:
      return '';
  }
}

const clip = (s: string | undefined, n: number): string | undefined => (s !== undefined && s.length > n ? `${s.slice(0, n - 1)}…` : s);

/** "6 s", "2 min", "3 h", "2 d". */
export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 120) return `${s} s`;
  if (s < 7200) return `${Math.round(s / 60)} min`;
  if (s < 172_800) return `${Math.round(s / 3600)} h`;
  return `${Math.round(s / 86_400)} d`;
}

/** The lines of one event: the main line, then details, warnings and (--verbose) headers and payload. */
export function eventLines(ev: ListenEvent, o: RenderOptions): string[] {
  const { c } = o;
  const time = c.dim(o.clock(new Date(ev.received_at)));
  const mark = ev.verified === true ? c.green('✔') : ev.verified === false ? c.red('✘') : c.dim('-');
  const status = ev.status === 200 ? c.green(String(ev.status)) : c.red(String(ev.status));
  const main = [time, colourType(ev.type, c)];
  const width = o.width ?? 160;
  if (ev.type === null && ev.id === null) main.push(c.dim(cell(`${ev.method} ${ev.path}`, 60).padEnd(ID_WIDTH + TO_WIDTH + 2)));
  else {
    main.push(ev.id === null ? c.dim('(no id)'.padEnd(ID_WIDTH)) : cell(ev.id, 60).padEnd(ID_WIDTH));
    main.push(cell(recipient(ev.payload), 40).padEnd(TO_WIDTH));
  }
  main.push(`${mark} ${status}`);
  if (ev.status !== 200 && ev.reason !== null) main.push(c.red(cell(ev.reason, Math.max(40, width - 90))));
  if (ev.duplicate && ev.first_seen_at !== null) {
    main.push(c.yellow(`duplicate of an event seen ${ago(Date.parse(ev.received_at) - Date.parse(ev.first_seen_at))} ago`));
  }
  const lines = [`${main[0]} ${main.slice(1).join('  ')}`];
  const info = ev.status === 200 ? detail(ev.payload) : '';
  // Cut to the width, saying what was cut; --verbose shows the whole payload below.
  if (info !== '') lines.push(`${INDENT}${cell(info, Math.max(40, width - INDENT.length))}`);
  if (ev.status === 200 && !ev.known_type) lines.push(`${INDENT}${c.yellow('⚠')} ${c.yellow(ev.type === null ? 'no "type" field' : `unknown event type ${cell(ev.type, 100)}`)} ${c.dim('(accepted; see onepush events)')}`);
  for (const issue of ev.schema_issues) lines.push(`${INDENT}${c.yellow('⚠')} ${c.yellow(`schema: ${cell(issue.path, 200)}`)} ${cell(issue.message, 300)}`);
  if (ev.status === 200 && ev.known_type && ev.id === null) lines.push(`${INDENT}${c.yellow('⚠')} ${c.yellow('no "id" field')}`);
  if (ev.status === 413) lines.push(`${INDENT}${c.dim('a larger limit: onepush listen --max-body <size> (e.g. 2mb; at most 10mb)')}`);
  if (ev.status === 401 && o.save) {
    // A command that works as printed, for this one capture: the secret comes from the same place as listen's
    // (the environment or .env), or has to be passed again when it was given with --secret.
    const which = ev.id === null ? '--last 1' : `--id ${shellArg(ev.id)}`;
    const file = ` ${shellArg(o.save)}`;
    const secret = o.secretFlag ? ' --secret <the secret given to listen>' : '';
    lines.push(`${INDENT}${c.dim(`find the cause: onepush verify${file} ${which} --explain${secret}`)}`);
  }
  if (o.verbose) {
    for (const [name, value] of Object.entries(ev.headers)) {
      lines.push(`${INDENT}${c.dim(`${cell(name)}:`)} ${cell(Array.isArray(value) ? value.join(', ') : (value ?? ''))}`);
    }
    if (ev.payload !== null) {
      // JSON.stringify escapes C0 controls; jsonSafe the rest (DEL, C1, bidi), before any colour is added.
      for (const l of colourJson(jsonSafe(JSON.stringify(ev.payload, null, 2)), c).split('\n')) lines.push(`${INDENT}${l}`);
    }
  }
  return lines;
}

/** Pretty JSON with keys cyan, strings green, numbers yellow, literals magenta. */
export function colourJson(json: string, c: ChalkInstance): string {
  if (c.level === 0) return json;
  return json.replace(/("(?:[^"\\]|\\.)*")(\s*:)?|\b(-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)\b|\b(true|false|null)\b/g, (m, s: string | undefined, colon: string | undefined, n: string | undefined, lit: string | undefined) => {
    if (s !== undefined) return colon !== undefined ? `${c.cyan(s)}${colon}` : c.green(s);
    if (n !== undefined) return c.yellow(n);
    if (lit !== undefined) return c.magenta(lit);
    return m;
  });
}

/** The app's whole answer, for --verbose: each line escaped and indented under its forward line. */
export function responseLines(response: string, c: ChalkInstance): string[] {
  if (response === '') return [];
  const lines = response.replace(/\r\n/g, '\n').split('\n');
  if (lines.at(-1) === '') lines.pop();
  return [`${INDENT}  ${c.dim('response:')}`, ...lines.map((l) => `${INDENT}  ${c.dim('│')} ${escapeControls(l)}`)];
}

/** What a forward line needs to know besides the result, to say what to do about it. */
export interface ForwardView {
  /** The listener re-signs with a secret (false: it passes the incoming signature through). */
  signed: boolean;
  /** The capture log, for the replay command of an event given up (null: --no-save). */
  save: string | null;
  /** Where the events go, as printed. */
  forwardTo: string;
  /** The widest a line may be (the terminal's width, or a fixed one in a pipe). */
  width?: number;
  /** The --max-attempts given, for "attempt 2 of 5". */
  maxAttempts?: number;
  /** Several endpoints (routes): each line names its endpoint instead of "app". */
  endpoints?: boolean;
}

/** Why the app said no, and what to do, for a status that is not retried. */
function refusalHint(status: number | null, view: ForwardView): string {
  if (status === null) return '';
  switch (refusalCause(status)) {
    case 'signature':
      return view.signed
        ? 'the app refused the signature: does it verify with the same secret as listen, over the raw body?'
        : 'the app wants a signature: give listen its secret (--secret, ONEPUSH_WEBHOOK_SECRET, or .env)';
    case 'path':
      return 'no such route in the app: is the path of --forward-to right?';
    case 'size':
      return "the app's body size limit is too small for this event";
    case 'loop':
      return 'a forwarding loop: the target forwards back to this listener';
    case 'redirect':
      return 'redirects are not followed: give the final URL';
    default:
      return 'a 4xx is the app saying no';
  }
}

/** The line of a forwarding attempt: the event's type and id, the app's answer, and what comes next. */
export function forwardLine(r: ForwardResult, c: ChalkInstance, view: ForwardView = { signed: true, save: null, forwardTo: r.url }): string {
  const width = view.width ?? 160;
  const event = `${r.type === null ? '' : `${cell(r.type, 40)} `}${r.id === null ? `#${r.seq}` : cell(r.id, 100)}`;
  const who = `${INDENT}${c.dim('↳')} ${event} ${c.dim('→')} ${view.endpoints === true ? cell(r.url, 100) : 'app'}`;
  const latency = c.dim(`${r.latency_ms} ms`);
  if (r.outcome === 'delivered') return `${who} ${c.green(String(r.status))} ${latency}`;
  const what = r.status === null ? c.red(cell(r.error ?? 'error', 60)) : c.red(String(r.status));
  const attempts = view.maxAttempts === undefined ? `attempt ${r.attempt}` : `attempt ${r.attempt} of ${view.maxAttempts}`;
  let tail: string;
  if (r.outcome === 'retrying') {
    // The first retries come within a second (src/core/retry.ts): those are said in ms.
    const wait = r.retry_in_ms ?? 0;
    tail = c.yellow(`retry in ${wait < 1000 ? `${wait} ms` : ago(wait)} (${attempts}, ${r.queued} queued)`);
  }
  else if (r.outcome === 'given_up') {
    const replay =
      view.save === null
        ? c.red('not saved (--no-save): it is lost')
        : `replay it: onepush replay${view.save === DEFAULT_CAPTURE_LOG ? '' : ` ${shellArg(view.save)}`} ${r.id === null ? '--last 1' : `--id ${shellArg(r.id)}`} --to ${shellArg(view.endpoints === true ? r.url : view.forwardTo)}`;
    tail = `${c.red(`given up after ${r.attempt} attempt${r.attempt === 1 ? '' : 's'}`)}, set aside · ${replay}`;
  } else {
    const hint = refusalHint(r.status, view);
    tail = `${c.red('not retried')}${hint === '' ? '' : ` ${c.dim(`(${hint})`)}`}`;
  }
  // The app's answer gets the room the rest of the line leaves (at least 30 characters); a network error's message
  // is onepush's own words (with the fix, e.g. --insecure), never cut.
  const rest = visible(`${who} ${what} ${latency} ·  ${tail}`);
  const room = r.status === null ? undefined : Math.max(30, width - rest - 3);
  const message = r.message ? ` ${c.dim(`"${cell(r.message, room)}"`)}` : '';
  return `${who} ${what} ${latency}${message} · ${tail}`;
}

/** The length of a line as a terminal shows it: without our colour codes. */
function visible(line: string): number {
  return line.replace(/\u001b\[[0-9;]*m/g, '').length;
}

function duration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m} min ${s % 60} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

/** The line under an accepted event that no --forward-to route takes. */
export function notRoutedLine(n: NotRouted, c: ChalkInstance): string {
  const event = `${n.type === null ? '' : `${cell(n.type, 40)} `}${n.id === null ? `#${n.seq}` : cell(n.id, 100)}`;
  return `${INDENT}${c.dim('↳')} ${event} ${c.yellow('not routed')} ${c.dim('(no --forward-to route takes this type)')}`;
}

/** The summary printed at exit; `forwardTo` null when not forwarding. */
export function summaryLines(s: ListenSummary, forwardTo: string | null, c: ChalkInstance): string[] {
  const counts = [
    `${s.received} received`,
    `${s.accepted} accepted (${s.valid} valid, ${s.unverified} unverified)`,
    s.invalid > 0 ? c.red(`${s.invalid} invalid`) : `${s.invalid} invalid`,
    `${s.rejected} rejected`,
    `${s.duplicates} duplicate${s.duplicates === 1 ? '' : 's'}`,
  ];
  const lines = [`${c.bold('Stopped')} after ${duration(s.duration_ms)}: ${counts.join(' · ')}`];
  if (forwardTo !== null && s.endpoints !== undefined) {
    // Routes: the counts of each endpoint, and what no route took.
    const file = s.save === null || s.save === DEFAULT_CAPTURE_LOG ? '' : ` ${shellArg(s.save)}`;
    for (const e of s.endpoints) {
      lines.push(`  → ${cell(e.url)} · forwarded ${e.forwarded} · failed ${e.forward_failed}${e.given_up_ids.length > 0 ? ` (${e.given_up_ids.length} given up)` : ''} · queued ${e.queued}`);
      const ids = e.queued_ids.filter((id) => !id.startsWith('#'));
      if (e.queued > 0 && s.save !== null && ids.length > 0) {
        lines.push(`    replay them: onepush replay${file} ${ids.slice(0, 5).map((id) => `--id ${shellArg(id)}`).join(' ')}${ids.length > 5 ? ' …' : ''} --to ${shellArg(e.url)}`);
      }
    }
    if ((s.not_routed ?? 0) > 0) lines.push(`  ${c.yellow(`${s.not_routed} not routed`)} (no --forward-to route took their type)`);
    if (s.queued > 0) {
      const where = s.save === null ? c.red(`not saved (--no-save): ${s.queued === 1 ? 'it is' : 'they are'} lost`) : `saved in ${cell(s.save)}`;
      lines.push(`  ${c.yellow(`${s.queued} forward${s.queued === 1 ? '' : 's'} still queued`)}, ${where}`);
    }
  } else if (forwardTo !== null) {
    lines.push(`  Forwarded ${s.forwarded} · failed ${s.forward_failed}${s.given_up_ids.length > 0 ? ` (${s.given_up_ids.length} given up)` : ''} · queued ${s.queued}`);
    if (s.queued > 0) {
      const where = s.save === null ? c.red(`not saved (--no-save): ${s.queued === 1 ? 'it is' : 'they are'} lost`) : `saved in ${cell(s.save)}`;
      lines.push(`  ${c.yellow(`${s.queued} event${s.queued === 1 ? '' : 's'} still queued`)}, ${where}`);
      if (s.save !== null) {
        const ids = s.queued_ids.filter((id) => !id.startsWith('#'));
        const file = s.save === DEFAULT_CAPTURE_LOG ? '' : ` ${shellArg(s.save)}`;
        lines.push(`  replay them: onepush replay${file} ${ids.slice(0, 5).map((id) => `--id ${shellArg(id)}`).join(' ')}${ids.length > 5 ? ' …' : ''} --to ${shellArg(forwardTo)}`);
      }
    }
  } else if (s.save !== null) lines.push(`  Captures in ${cell(s.save)}`);
  return lines;
}

const jsonOrNull = (v: string | null): string => (v === null ? 'null' : JSON.stringify(v));

/** The `event` NDJSON line, built by hand so the payload is not serialised again (headers only with --verbose). */
export function eventJson(ev: ListenEvent, verbose: boolean): string {
  const [head, payload] = eventJsonParts(ev, verbose);
  return `${head}${payload}}`;
}

/** The `event` line as [everything up to the payload, the payload text]; the line is their concatenation and `}`. */
export function eventJsonParts(ev: ListenEvent, verbose: boolean): [head: string, payload: string] {
  const issues = ev.schema_issues.length === 0 ? '[]' : JSON.stringify(ev.schema_issues);
  const head =
    `{"kind":"event","seq":${ev.seq},"received_at":"${ev.received_at}","method":${JSON.stringify(ev.method)},"path":${JSON.stringify(ev.path)}` +
    `,"status":${ev.status},"verified":${ev.verified},"reason":${jsonOrNull(ev.reason)},"id":${jsonOrNull(ev.id)},"type":${jsonOrNull(ev.type)}` +
    `,"known_type":${ev.known_type},"duplicate":${ev.duplicate},"first_seen_at":${jsonOrNull(ev.first_seen_at)},"schema_issues":${issues}` +
    `,"size":${ev.size}${verbose ? `,"headers":${JSON.stringify(ev.headers)}` : ''},"payload":`;
  return [head, ev.payloadText ?? 'null'];
}
