import { redactUrlText } from './display.js';
import { DEFAULT_PATH, DEFAULT_PORT } from './defaults.js';
import { isIP } from 'node:net';
import { InvalidInput } from './errors.js';

// Where to send: a URL, or a shorthand for a local port.

/**
 * Resolves a target: a full http(s) URL as given; `localhost`, `localhost:3000`, `:3000`, `3000` and `host:port`
 * → `http://<host>:<port>/webhooks/onepush` (host localhost, port 4242 by default). Throws InvalidInput otherwise.
 */
export function resolveTarget(given: string): URL {
  const text = given.trim();
  // Said back in errors without a password the URL may carry.
  const input = redactUrlText(given);
  const hint = 'use a URL (http://localhost:3000/webhooks/onepush) or a shorthand: localhost, localhost:3000, :3000, 3000';
  if (text === '') throw new InvalidInput('empty target URL', hint);
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new InvalidInput(`not a valid URL: ${input}`, hint);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new InvalidInput(`unsupported protocol ${url.protocol.replace(/:$/, '')} in ${input}`, 'onepush sends webhooks over http or https');
    }
    return url;
  }
  const m = /^(?:(\[[0-9a-f:.]+\]|[a-z0-9.-]*))?(?::?(\d+))?(\/.*)?$/i.exec(text);
  if (!m) throw new InvalidInput(`not a valid target: ${input}`, hint);
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
    if (!Number.isInteger(n) || n < 1 || n > 65535) throw new InvalidInput(`port out of range in ${input}`, 'a port is a number from 1 to 65535');
  }
  try {
    return new URL(`http://${host || 'localhost'}:${port ?? DEFAULT_PORT}${path}`);
  } catch {
    throw new InvalidInput(`not a valid target: ${input}`, hint);
  }
}

/** True for 127.0.0.0/8, ::1 and localhost. */
export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || (isIP(h) === 4 && h.startsWith('127.'));
}
