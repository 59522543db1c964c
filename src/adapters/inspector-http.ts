import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { networkInterfaces, hostname } from 'node:os';
import { InvalidInput, isOnepushError } from '../core/errors.js';
import {
  parseFilter,
  type ActionResult,
  type CurlRequest,
  type InspectDetail,
  type InspectFilter,
  type InspectInfo,
  type RecordPage,
  type ReplayRequest,
  type SendRequest,
} from '../core/inspect-model.js';
import { isLoopback } from '../core/target.js';
import { readShipped } from './shipped.js';

// The inspector's HTTP side (README: The inspector, Security): the page, its bundle and its API, on the listener's
// port (or `onepush inspect`'s own). It is a page on the developer's machine that can send requests, so:
// - a request whose Host is not one of this server's own names is refused (DNS rebinding: a web page that points
//   its own name at 127.0.0.1 still sends its own name as Host);
// - every API call needs the run's token, which only the page has (it is in the page, and a page of another
//   origin cannot read this one); a POST also needs the page's own Origin and a JSON body (CSRF), and a request a
//   browser marks as cross-site is refused;
// - the page runs under a strict Content-Security-Policy with no inline script, may not be framed, and shows every
//   value as text; the secret never leaves the process.

export const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const SECURITY_HEADERS: Record<string, string> = {
  'content-security-policy': CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
  'cache-control': 'no-store',
};

/** The largest action body: an edited event up to the listener's 10 MiB limit, as JSON. */
const MAX_ACTION_BODY = 12 * 1024 * 1024;
/** A page that does not read its stream this far behind is skipped until it catches up (then told to reload). */
const STREAM_BEHIND = 1024 * 1024;
const HEARTBEAT_MS = 15_000;

/**
 * A page subscribed to live rows: `json` is the event's data, serialised once for every page; returns false when
 * the page is not keeping up (batches are then skipped).
 */
export type Subscriber = (event: 'rows' | 'forwards' | 'reset', json: string) => boolean;

/** What the page's API calls (src/app/inspect.ts makes it). */
export interface InspectorService {
  info(): InspectInfo;
  page(before: number | null, limit: number, filter: InspectFilter): Promise<RecordPage>;
  detail(n: number): Promise<InspectDetail | undefined>;
  /** The body's exact bytes and a file name for a download. */
  body(n: number): { bytes: Buffer; name: string } | undefined;
  /** `signal`: the page went away (or the server is closing): stop sending. */
  replay(req: ReplayRequest, signal?: AbortSignal): Promise<ActionResult>;
  send(req: SendRequest, signal?: AbortSignal): Promise<ActionResult>;
  curl(req: CurlRequest): string;
  subscribe(s: Subscriber): () => void;
}

export interface InspectorHttpOptions {
  inspector: InspectorService;
  /** The run's token (only the page gets it). */
  token: string;
  /** The names (host:port, lowercase) this server may be reached by; called per request (the port may be 0 until bound). */
  hosts: () => ReadonlySet<string>;
  /** Errors of the API that are not the caller's (reported, answered 500). */
  onError?: (e: Error) => void;
}

export interface InspectorHttp {
  /** Answers the inspector's requests (returns false for anything else: a webhook). */
  handle(req: IncomingMessage, res: ServerResponse): boolean;
  /** Ends the pages' streams (so the server can close at once). */
  close(): void;
}

/** The names a server bound to `host`:`port` answers to: loopback names for a loopback or any-address bind, the bind address, and for an any-address bind the machine's own addresses and name. */
export function ownHosts(host: string, port: number): Set<string> {
  const names = new Set<string>();
  const add = (h: string): void => {
    const bare = h.replace(/^\[|\]$/g, '').toLowerCase();
    names.add(`${bare.includes(':') ? `[${bare}]` : bare}:${port}`);
  };
  const any = host === '0.0.0.0' || host === '::' || host === '';
  if (any || isLoopback(host)) for (const h of ['localhost', '127.0.0.1', '::1']) add(h);
  if (!any) add(host);
  if (any) {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) add(a.address);
    add(hostname());
  }
  return names;
}

/** The page's bundle (built into dist/inspector/ by the build; inside the single executable, its assets), read once. */
let assets: { js: Buffer; css: Buffer } | null | undefined;
function loadAssets(): { js: Buffer; css: Buffer } | null {
  if (assets !== undefined) return assets;
  try {
    assets = { js: readShipped('dist/inspector/app.js'), css: readShipped('dist/inspector/app.css') };
  } catch {
    assets = null;
  }
  return assets;
}

function page(token: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="onepush-token" content="${token}">
<meta name="color-scheme" content="light dark">
<title>onepush inspector</title>
<link rel="stylesheet" href="/_onepush/app.css">
<script src="/_onepush/app.js" defer></script>
</head>
<body></body>
</html>
`;
}

const NOT_BUILT = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>onepush inspector</title></head><body><p>The inspector's page is not built. Run <code>npm run build</code> in onepush's folder.</p></body></html>\n`;

function send(res: ServerResponse, status: number, type: string, body: string | Buffer, extra: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, 'content-length': String(Buffer.byteLength(body)), ...extra });
  res.end(body);
}

function json(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, 'application/json; charset=utf-8', JSON.stringify(value));
}

function refuse(res: ServerResponse, status: number, reason: string): void {
  json(res, status, { error: reason });
}

function sameToken(given: string | undefined, token: string): boolean {
  if (typeof given !== 'string') return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

class TooLarge extends Error {}

/** Reads a JSON body of at most MAX_ACTION_BODY bytes. */
function readJson(req: IncomingMessage): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_ACTION_BODY) {
        // Answered 413 (the rest is not read: the connection closes after the answer).
        req.pause();
        reject(new TooLarge());
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      try {
        resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')));
      } catch {
        reject(new InvalidInput('the request is not JSON'));
      }
    });
    req.on('error', reject);
  });
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

export function inspectorHttp(options: InspectorHttpOptions): InspectorHttp {
  const { inspector, token } = options;
  const streams = new Set<ServerResponse>();
  const actions = new Set<AbortController>();

  const stream = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream; charset=utf-8', connection: 'keep-alive' });
    // A stream is quiet between events: no idle timeout (heartbeats keep proxies and the page's view of it alive).
    req.socket.setTimeout(0);
    res.write(': onepush inspector\n\n');
    let behind = false;
    const unsubscribe = inspector.subscribe((event, data) => {
      if (res.writableLength > STREAM_BEHIND) {
        behind = true;
        return false;
      }
      res.write(`event: ${event}\ndata: ${data}\n\n`);
      return true;
    });
    res.on('drain', () => {
      if (behind && res.writableLength === 0) {
        behind = false;
        res.write('event: reset\ndata: {}\n\n');
      }
    });
    const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
    heartbeat.unref();
    streams.add(res);
    const end = (): void => {
      clearInterval(heartbeat);
      unsubscribe();
      streams.delete(res);
    };
    res.on('close', end);
    req.on('close', end);
  };

  const api = async (req: IncomingMessage, res: ServerResponse, path: string, query: URLSearchParams): Promise<void> => {
    const method = req.method ?? 'GET';
    if (method === 'GET' && path === '/_onepush/api/info') return json(res, 200, inspector.info());
    if (method === 'GET' && path === '/_onepush/api/stream') return stream(req, res);
    if (method === 'GET' && path === '/_onepush/api/records') {
      const beforeText = query.get('before');
      const before = beforeText !== null && /^\d{1,16}$/.test(beforeText) ? Number(beforeText) : null;
      const limit = Number(query.get('limit') ?? 100);
      return json(res, 200, await inspector.page(before, Number.isFinite(limit) ? limit : 100, parseFilter(query)));
    }
    const record = /^\/_onepush\/api\/records\/(\d{1,16})(\/body)?$/.exec(path);
    if (method === 'GET' && record) {
      const n = Number(record[1]);
      if (record[2] === undefined) {
        const detail = await inspector.detail(n);
        return detail === undefined ? refuse(res, 404, `no record ${n}`) : json(res, 200, detail);
      }
      const body = inspector.body(n);
      if (body === undefined) return refuse(res, 404, `no body for record ${n}`);
      return send(res, 200, 'application/octet-stream', body.bytes, { 'content-disposition': `attachment; filename="${body.name}"` });
    }
    if (method === 'POST' && (path === '/_onepush/api/replay' || path === '/_onepush/api/send' || path === '/_onepush/api/curl')) {
      const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      if (type !== 'application/json') return refuse(res, 415, 'actions take a JSON body (content-type: application/json)');
      const body = await readJson(req);
      if (!isRecord(body)) throw new InvalidInput('the request must be a JSON object');
      // Stopped when the page goes away before the answer, or when the server closes.
      const gone = new AbortController();
      const abort = (): void => gone.abort();
      res.once('close', abort);
      actions.add(gone);
      try {
        if (path.endsWith('/replay')) return json(res, 200, await inspector.replay(body as ReplayRequest, gone.signal));
        if (path.endsWith('/send')) return json(res, 200, await inspector.send(body as unknown as SendRequest, gone.signal));
      } finally {
        actions.delete(gone);
        res.off('close', abort);
      }
      return json(res, 200, { command: inspector.curl(body as CurlRequest) });
    }
    return refuse(res, 404, 'no such inspector call');
  };

  return {
    handle(req, res) {
      const url = req.url ?? '/';
      const q = url.indexOf('?');
      const path = q === -1 ? url : url.slice(0, q);
      const ours = path === '/' || path === '/favicon.ico' || path.startsWith('/_onepush/');
      if (!ours) return false;
      // A webhook POSTed to / is a webhook, as before the inspector: only GET / is the page.
      if (path === '/' && req.method !== 'GET' && req.method !== 'HEAD') return false;
      const host = (req.headers.host ?? '').toLowerCase();
      if (!options.hosts().has(host)) {
        refuse(res, 403, `refused: this inspector answers to ${[...options.hosts()].slice(0, 3).join(', ')}, not to Host ${JSON.stringify(host.slice(0, 100))}`);
        return true;
      }
      const site = req.headers['sec-fetch-site'];
      const origin = req.headers.origin;
      const ownOrigin = origin !== undefined && options.hosts().has(origin.replace(/^http:\/\//, '').toLowerCase()) && origin.startsWith('http://');
      if (path === '/') {
        send(res, 200, 'text/html; charset=utf-8', loadAssets() === null ? NOT_BUILT : page(token));
        return true;
      }
      if (path === '/favicon.ico') {
        res.writeHead(204, SECURITY_HEADERS);
        res.end();
        return true;
      }
      if (path === '/_onepush/app.js' || path === '/_onepush/app.css') {
        const a = loadAssets();
        if (a === null) refuse(res, 404, 'the inspector page is not built (npm run build)');
        else send(res, 200, path.endsWith('.js') ? 'text/javascript; charset=utf-8' : 'text/css; charset=utf-8', path.endsWith('.js') ? a.js : a.css);
        return true;
      }
      // The API: the token, and nothing from another site.
      if (site !== undefined && site !== 'same-origin' && site !== 'none') {
        refuse(res, 403, 'refused: a request from another site');
        return true;
      }
      if (origin !== undefined && !ownOrigin) {
        refuse(res, 403, `refused: Origin ${JSON.stringify(origin.slice(0, 100))} is not this inspector`);
        return true;
      }
      if (req.method === 'POST' && !ownOrigin) {
        refuse(res, 403, "refused: an action needs the inspector page's own Origin");
        return true;
      }
      const query = new URLSearchParams(q === -1 ? '' : url.slice(q + 1));
      const given = req.headers['x-onepush-token'];
      if (!sameToken(typeof given === 'string' ? given : (query.get('token') ?? undefined), token)) {
        refuse(res, 403, "refused: missing or wrong token (open the inspector's page from the address onepush printed)");
        return true;
      }
      // An action may run longer than the listener's idle timeout for a silent socket (10 s: a replay of thousands,
      // an app slow to answer); the socket stays quiet meanwhile, and must not be cut before the answer. Once it is
      // answered, the keep-alive timeout bounds the connection.
      if (req.method === 'POST') req.socket.setTimeout(0);
      api(req, res, path, query).catch((e: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (e instanceof TooLarge) {
          send(res, 413, 'application/json; charset=utf-8', JSON.stringify({ error: `an action's body is at most ${MAX_ACTION_BODY / 1024 / 1024} MiB` }), { connection: 'close' });
          return;
        }
        if (e instanceof InvalidInput || isOnepushError(e)) {
          const err = e as InvalidInput;
          json(res, 400, { error: err.message, ...(err.hint ? { hint: err.hint } : {}) });
          return;
        }
        options.onError?.(e instanceof Error ? e : new Error(String(e)));
        json(res, 500, { error: 'internal error' });
      });
      return true;
    },
    close() {
      for (const res of streams) res.end();
      streams.clear();
      for (const a of actions) a.abort();
    },
  };
}

/** A server for `onepush inspect`: only the inspector's requests (anything else is a 404). */
export async function startInspectorServer(host: string, port: number, http: InspectorHttp): Promise<{ port: number; close(): Promise<void> }> {
  const { createServer } = await import('node:http');
  const server = createServer({ headersTimeout: 10_000, requestTimeout: 60_000, keepAliveTimeout: 5_000 }, (req, res) => {
    if (!http.handle(req, res)) refuse(res, 404, 'not found: this is onepush inspect (the inspector page is at /)');
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => {});
  const bound = (server.address() as { port: number }).port;
  return {
    port: bound,
    async close() {
      http.close();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 1000).unref();
      });
    },
  };
}
