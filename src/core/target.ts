import { redactUrlText } from './display.js';
import { UsageError } from './errors.js';

// `--to` / `--forward-to` shorthands (SPEC.md §2 trigger).

/** The path OnePush webhooks are posted to when a shorthand gives none. */
export const DEFAULT_PATH = '/webhooks/onepush';
export const DEFAULT_PORT = 4242;
/** The listener's URL: the default target of `trigger` and `replay`. */
export const DEFAULT_TARGET = `http://localhost:${DEFAULT_PORT}${DEFAULT_PATH}`;

/**
 * Resolves a target: a full http(s) URL as given; `localhost`, `localhost:3000`, `:3000`, `3000` and `host:port`
 * → `http://<host>:<port>/webhooks/onepush` (host localhost, port 4242 by default). Throws UsageError otherwise.
 */
export function resolveTarget(given: string): URL {
  const text = given.trim();
  // Said back in errors without a password the URL may carry.
  const input = redactUrlText(given);
  const hint = 'use a URL (http://localhost:3000/webhooks/onepush) or a shorthand: localhost, localhost:3000, :3000, 3000';
  if (text === '') throw new UsageError('empty target URL', hint);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new UsageError(`not a valid URL: ${input}`, hint);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new UsageError(`unsupported protocol ${url.protocol.replace(/:$/, '')} in ${input}`, 'onepush sends webhooks over http or https');
    }
    return url;
  }
  const m = /^(?:(\[[0-9a-f:.]+\]|[a-z0-9.-]*))?(?::?(\d+))?(\/.*)?$/i.exec(text);
  if (!m) throw new UsageError(`not a valid target: ${input}`, hint);
  let host = m[1] ?? '';
  let port = m[2];
  const path = m[3] ?? DEFAULT_PATH;
  // "3000" alone is a port, not a host.
  if (/^\d+$/.test(host) && port === undefined) {
    port = host;
    host = '';
  }
  if (port !== undefined) {
    const n = Number(port);
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new UsageError(`port out of range in ${input}`, 'a port is a number from 1 to 65535');
  }
  try {
    return new URL(`http://${host || 'localhost'}:${port ?? DEFAULT_PORT}${path}`);
  } catch {
    throw new UsageError(`not a valid target: ${input}`, hint);
  }
}
