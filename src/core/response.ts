import { parseJson } from './json.js';

// What to show of an answer an app gave: one useful line. An HTML error page (Express's 404, 413 and 500 pages,
// a framework's debug page) starts with `<!DOCTYPE html>`, which says nothing; its <pre> (where Express puts the
// error and its stack), an `Error:` line, its <h1> or its <title> says what went wrong.

const MAX = 200;

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', '#39': "'" };

/** Text of an HTML fragment: tags dropped, the common entities decoded, spaces folded. */
function htmlText(html: string): string {
  return html
    .replace(/<br\s*\/?>/gi, '\n')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+\d*);/gi, (m, name: string) => {
      if (name[0] === '#') {
        const code = name[1] === 'x' || name[1] === 'X' ? Number.parseInt(name.slice(2), 16) : Number.parseInt(name.slice(1), 10);
        return Number.isFinite(code) && code > 0 && code < 0x110000 ? String.fromCodePoint(code) : m;
      }
      return ENTITIES[name.toLowerCase()] ?? m;
    });
}

const clip = (s: string): string => (s.length > MAX ? `${s.slice(0, MAX - 1)}…` : s);
const firstLine = (text: string): string => clip((text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '').replace(/\s+/g, ' ').trim());

/** True when a body looks like an HTML page. */
export function isHtml(text: string): boolean {
  return /^\s*</.test(text) && /<(?:!doctype\s+html|html|head|body|pre|title|h1)\b/i.test(text.slice(0, 4096));
}

/** The line of an answer worth showing: for an HTML page its error, <pre>, <h1> or <title>; else the first line. */
export function usefulLine(text: string): string {
  if (text.trim() === '') return '';
  if (!isHtml(text)) {
    // A plain-text stack trace: its `TypeError: …` line rather than a blank or a banner.
    const error = /^\s*([A-Z]\w*(?:Error|Exception)\b[^\n]*)/m.exec(text.slice(0, 65_536))?.[1];
    const first = firstLine(text);
    return error !== undefined && !first.startsWith('{') ? clip(error.trim()) : first;
  }
  const body = text.slice(0, 65_536);
  const pre = /<pre[^>]*>([\s\S]*?)<\/pre>/i.exec(body)?.[1];
  if (pre !== undefined) {
    const line = firstLine(htmlText(pre));
    if (line !== '') return line;
  }
  const all = htmlText(body.replace(/<(script|style|head)\b[\s\S]*?<\/\1>/gi, ''));
  const error = /^\s*([A-Z]\w*(?:Error|Exception)\b[^\n]*)/m.exec(all)?.[1];
  if (error !== undefined) return clip(error.replace(/\s+/g, ' ').trim());
  for (const tag of ['h1', 'title']) {
    const m = new RegExp(`<${tag}[^>]*>([\\s\\S]*?)</${tag}>`, 'i').exec(body)?.[1];
    if (m !== undefined) {
      const line = firstLine(htmlText(m));
      if (line !== '') return line;
    }
  }
  return firstLine(all);
}

/** The body parsed when it is JSON (for --json output), else null. */
export function jsonOf(text: string): unknown {
  const t = text.trim();
  if (t === '' || (t[0] !== '{' && t[0] !== '[')) return null;
  try {
    // Within the nesting limit: printed as JSON again, it is walked.
    return parseJson(t);
  } catch {
    return null;
  }
}

/** What an answer that is not 2xx most likely means, whatever command shows it (each words it for its context). */
export type RefusalCause = 'signature' | 'path' | 'size' | 'redirect' | 'loop' | 'handler' | 'refused';

/**
 * The likely cause of a refusal, from its status: 401/403 the signature (or the secret), 404/405/410 the path, 413 the
 * body size, 3xx a redirect (never followed), 508 a forwarding loop, other 5xx the handler, else a plain refusal.
 */
export function refusalCause(status: number): RefusalCause {
  if (status === 401 || status === 403) return 'signature';
  if (status === 404 || status === 405 || status === 410) return 'path';
  if (status === 413) return 'size';
  if (status >= 300 && status < 400) return 'redirect';
  if (status === 508) return 'loop';
  if (status >= 500) return 'handler';
  return 'refused';
}
