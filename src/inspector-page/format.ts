import type { RowForward } from '../core/inspect-model.js';

const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** HH:MM:SS.mmm, local time. */
export function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
}

const REASONS: Record<number, string> = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content',
  301: 'Moved Permanently', 302: 'Found', 307: 'Temporary Redirect', 308: 'Permanent Redirect',
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 413: 'Payload Too Large', 415: 'Unsupported Media Type',
  422: 'Unprocessable Entity', 429: 'Too Many Requests',
  500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/** "200 OK", "418". */
export function statusText(status: number): string {
  const r = REASONS[status];
  return r === undefined ? String(status) : `${status} ${r}`;
}

/** The colour class of a status. */
export function statusClass(status: number | null): string {
  if (status === null) return 'st-err';
  if (status >= 200 && status < 300) return 'st-ok';
  if (status >= 400) return 'st-bad';
  return 'st-other';
}

const OUTCOME_MARK: Record<RowForward['outcome'], string> = {
  delivered: '✔',
  retrying: '↻',
  rejected: '✘',
  given_up: '✘',
  not_routed: '–',
};

/** "✔ 200", "↻ 503", "✘ 404", "✘ error". */
export function forwardText(f: RowForward): string {
  const status = f.status !== null ? String(f.status) : f.outcome === 'not_routed' ? 'not routed' : 'error';
  return `${OUTCOME_MARK[f.outcome] ?? '?'} ${status}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;
}
