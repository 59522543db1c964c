import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { STATUS_CODES } from 'node:http';
import { createRequire } from 'node:module';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import type { Dispatcher, EnvHttpProxyAgent as UndiciEnvHttpProxyAgent, Agent as UndiciAgent } from 'undici';
import { timerMs } from '../core/limits.js';
import { proxyFor, proxySettings, shownProxy } from '../core/proxy.js';
import { usefulLine } from '../core/response.js';

/**
 * undici's Agent alone: `require('undici')` loads fetch, WebSocket, caches and more. A cold `trigger` or `replay` of
 * one event takes ~100 ms longer with it on Node 22 and 24, ~200 ms on Node 20 (bench/startup.bench.ts, 2026-11-30).
 * undici 7 has no exports map, so the path resolves; test/startup-tricks.test.ts fails if the installed undici moves
 * it or it stops being undici's Agent. If it moved under a user's install anyway, the whole package is the fallback.
 */
function loadAgent(): typeof UndiciAgent {
  const require = createRequire(import.meta.url);
  try {
    return require('undici/lib/dispatcher/agent.js') as typeof UndiciAgent;
  } catch {
    return (require('undici') as typeof import('undici')).Agent;
  }
}

/**
 * undici's EnvHttpProxyAgent, loaded only when the command's environment names a proxy. The whole package: its
 * ProxyAgent opens tunnels with `Dispatcher.prototype.connect`, which undici's index attaches (the ~100 ms the Agent
 * alone saves is spent only behind a proxy).
 */
function loadEnvProxyAgent(): typeof UndiciEnvHttpProxyAgent {
  return (createRequire(import.meta.url)('undici') as typeof import('undici')).EnvHttpProxyAgent;
}

// The one HTTP client (undici, kept-alive connections). One call = one attempt; retries, concurrency and rate
// are the delivery engine's business. Redirects are never followed (a 3xx is a failure).

/** One request to send: exact body bytes and headers. */
export interface OutgoingRequest {
  url: URL;
  headers: Record<string, string>;
  body: Uint8Array | string;
}

/** What one attempt got: an HTTP status, or a network error in words. */
export interface SendResult {
  /** The HTTP status, undefined when no response came. */
  status: number | undefined;
  latencyMs: number;
  /**
   * The useful line of the response body (at most 200 characters: the first line, or the error of an HTML error
   * page), or the network error in words.
   */
  firstLine: string;
  /** The response body as received (its first 64 KiB), '' when no response came. */
  body: string;
  /** Set for a network error or a timeout: a stable code (ECONNREFUSED, TIMEOUT, ECONNRESET, …). */
  errorCode?: string;
  /** From a Retry-After header, in ms. */
  retryAfterMs?: number;
}

export interface ClientOptions {
  /** Sent as user-agent: `onepush-cli/<version>`. */
  userAgent: string;
  /** Connections per origin. */
  connections?: number;
  /** Trust any TLS certificate (a self-signed one of a local https app): `--insecure`. */
  insecure?: boolean;
  /**
   * The environment whose proxy variables apply (HTTPS_PROXY, HTTP_PROXY, NO_PROXY and their lowercase forms): the
   * command's, handed down; never process.env. Without it, or with none set, every request goes direct. Loopback
   * targets always go direct (src/core/proxy.ts).
   */
  env?: Readonly<Record<string, string | undefined>>;
}

export interface SendOptions {
  timeoutMs: number;
  signal?: AbortSignal;
}

/** A kept-alive HTTP client. */
export interface HttpClient {
  send(req: OutgoingRequest, options: SendOptions): Promise<SendResult>;
  close(): Promise<void>;
}

const MAX_BODY_READ = 64 * 1024;

/** Parses Retry-After (seconds or an HTTP date) into ms from `now`. */
export function parseRetryAfter(value: string | string[] | undefined, now: number): number | undefined {
  const v = Array.isArray(value) ? value[0] : value;
  if (v === undefined || v.trim() === '') return undefined;
  if (/^\s*\d+\s*$/.test(v)) return Number(v) * 1000;
  const t = Date.parse(v);
  return Number.isNaN(t) ? undefined : Math.max(0, t - now);
}

/** A network error in words a developer can act on. */
export function describeNetworkError(error: unknown, url: URL, timeoutMs: number, proxy?: string): { code: string; message: string } {
  const e = error as { code?: string; name?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.code ?? e.cause?.code ?? e.name ?? 'ERROR';
  const port = url.port || (url.protocol === 'https:' ? '443' : '80');
  if (proxy !== undefined) {
    const refused = /Proxy response \((\d{3})\)|Proxy Authentication Required \((407)\)/.exec(e.message ?? '');
    const status = refused ? Number(refused[1] ?? refused[2]) : undefined;
    if (status !== undefined) return proxyRefused(status, url, proxy);
    const shown = shownProxy(proxy);
    if (code === 'ECONNREFUSED') return { code: 'PROXY_UNREACHABLE', message: `connection refused by the proxy ${shown} — is it running? (set by HTTPS_PROXY/HTTP_PROXY; NO_PROXY=${url.hostname} goes direct)` };
    if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return { code: 'PROXY_UNREACHABLE', message: `proxy host not found: ${shown} (set by HTTPS_PROXY/HTTP_PROXY)` };
  }
  if (e.name === 'TimeoutError' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'TIMEOUT') {
    return { code: 'TIMEOUT', message: `no answer within ${timeoutMs} ms (OnePush gives a handler 5 s)` };
  }
  switch (code) {
    case 'ECONNREFUSED':
      return {
        code,
        message: port === '4242' ? 'connection refused — is onepush listen running? (4242 is its port)' : `connection refused — is your app running on port ${port}?`,
      };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { code, message: `host not found: ${url.hostname}` };
    case 'ECONNRESET':
    case 'UND_ERR_SOCKET':
    case 'EPIPE':
      return { code: 'ECONNRESET', message: 'the connection was reset before an answer came' };
    case 'UND_ERR_CLOSED':
    case 'UND_ERR_DESTROYED':
      return { code, message: 'the connection was closed before an answer came' };
    case 'AbortError':
      return { code: 'ABORTED', message: 'cancelled' };
    case 'UND_ERR_CONNECT_TIMEOUT':
      return { code: 'TIMEOUT', message: `could not connect to ${url.host} (connect timeout)` };
    case 'ERR_TLS_CERT_ALTNAME_INVALID':
    case 'DEPTH_ZERO_SELF_SIGNED_CERT':
    case 'SELF_SIGNED_CERT_IN_CHAIN':
    case 'UNABLE_TO_VERIFY_LEAF_SIGNATURE':
    case 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY':
    case 'CERT_HAS_EXPIRED':
      return { code, message: `TLS certificate not trusted (${code}): pass --insecure, or trust its CA with NODE_EXTRA_CA_CERTS=ca.pem` };
    default:
      return { code, message: e.cause?.message ?? e.message ?? String(error) };
  }
}

/** A proxy that answered instead of the target (407, or a CONNECT it refused), in words. */
export function proxyRefused(status: number, url: URL, proxy: string): { code: string; message: string } {
  const hint = status === 407 ? 'put its credentials in the proxy URL (http://user:password@proxy:port)' : `add ${url.hostname} to NO_PROXY to go direct`;
  return { code: `PROXY_${status}`, message: `the proxy ${shownProxy(proxy)} refused the request to ${url.host}: ${status} ${STATUS_CODES[status] ?? ''}`.trimEnd() + ` — ${hint}` };
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/**
 * `localhost` is both loopbacks, whatever /etc/hosts says (it must reach a server on 127.0.0.1 or on
 * ::1 alike); with autoSelectFamily the connection tries one, then the other.
 */
export function localhostLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  if (hostname.toLowerCase() !== 'localhost') {
    dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
      if (err || options.all) callback(err, addresses);
      else callback(null, addresses[0]?.address ?? '', addresses[0]?.family);
    });
    return;
  }
  const both: LookupAddress[] = [
    { address: '127.0.0.1', family: 4 },
    { address: '::1', family: 6 },
  ];
  const wanted = both.filter((a) => !options.family || options.family === a.family);
  if (options.all) callback(null, wanted);
  else callback(null, wanted[0]?.address ?? '127.0.0.1', wanted[0]?.family ?? 4);
}

/** Node 20 (V8 11.3) only: see tuneForDelivery. */
export const LIFTOFF_ONLY = Number(process.versions.node.split('.')[0]) < 22;

/** Young-generation size past which the CLI stops V8 growing it (see tuneForDelivery). */
const NEW_SPACE_CAP = 8 * 1024 * 1024;

/**
 * For the CLI's `trigger` and `replay` only (never the library: it changes V8 flags for the whole process), measured
 * with bench/startup.bench.ts (trigger, replay rows) and a 200,000-capture replay (bench/replay.bench.ts), 2026-11-30:
 * - Node 20 only: undici's WASM HTTP parser is compiled with Liftoff alone. Node 20's V8 otherwise spends ~170 ms of
 *   a cold `trigger` on it (8.8x `node -e 0` without, 4.0x with) and ~15 MiB of replay's peak RSS. On Node 22 and 24
 *   the flag makes a cold `trigger` slower (~+25 ms) and saves no memory, so it is not set there.
 * - the young generation stops growing once it reaches 8 MiB (V8 otherwise doubles it up to 32 MiB on a long,
 *   allocation-heavy run): replay's peak RSS on 200,000 captures, with / without: Node 20 85 / 99 MiB, Node 22
 *   101 / 120 MiB, Node 24 105 / 148 MiB; same throughput, no start-up cost. `--max-semi-space-size` cannot be set
 *   once the process runs; the growth factor can, so it is set to 1 when the cap is reached (checked every 50 ms by an
 *   unref'd timer that ends then).
 * test/startup-tricks.test.ts checks that V8 still has both flags (for an unknown one it only prints "Error:
 * unrecognized flag" on stderr).
 * Call before the first request.
 */
export function tuneForDelivery(): void {
  if (LIFTOFF_ONLY) setFlagsFromString('--liftoff-only');
  const timer = setInterval(() => {
    const young = getHeapSpaceStatistics().find((space) => space.space_name === 'new_space');
    if (young && young.space_size >= NEW_SPACE_CAP) {
      setFlagsFromString('--semi-space-growth-factor=1');
      clearInterval(timer);
    }
  }, 50);
  timer.unref();
}

/**
 * A URL's credentials (`http://alice:S3cret@host/…`) sent as Basic auth, as curl does: the origin that undici
 * connects to carries none, so without this they would silently not be sent. An authorization header already given
 * wins.
 */
export function withCredentials(url: URL, headers: Record<string, string>): Record<string, string> {
  if (url.username === '' && url.password === '') return headers;
  if (Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')) return headers;
  const decode = (text: string): string => {
    try {
      return decodeURIComponent(text);
    } catch {
      return text;
    }
  };
  const user = decode(url.username);
  const password = decode(url.password);
  return { ...headers, authorization: `Basic ${Buffer.from(`${user}:${password}`, 'utf8').toString('base64')}` };
}

/** Creates a kept-alive client. `localhost` reaches a server on 127.0.0.1 or ::1 alike (happy eyeballs). */
export function createHttpClient(options: ClientOptions): HttpClient {
  const Agent = loadAgent();
  const agent = new Agent({
    keepAliveTimeout: 10_000,
    connections: options.connections ?? null,
    // A refused address moves on to the next at once; the attempt timeout only cuts one that does not answer. At
    // 100 ms a loaded machine could cut a slow but working 127.0.0.1 and then be refused by ::1: Node's 250 ms.
    connect: { autoSelectFamily: true, autoSelectFamilyAttemptTimeout: 250, lookup: localhostLookup, ...(options.insecure ? { rejectUnauthorized: false } : {}) },
  });
  // Behind a proxy: the requests that go through it (proxyFor: not loopback, not NO_PROXY) use undici's
  // EnvHttpProxyAgent, given the variables explicitly (it would otherwise read process.env). http:// targets are sent
  // to an http proxy in absolute form, as curl does (many proxies allow CONNECT to port 443 only); https:// targets
  // through a CONNECT tunnel, with --insecure applying to the target's certificate inside it (requestTls).
  const proxy = proxySettings(options.env);
  let proxied: Dispatcher | undefined;
  if (proxy !== undefined) {
    const EnvHttpProxyAgent = loadEnvProxyAgent();
    proxied = new EnvHttpProxyAgent({
      keepAliveTimeout: 10_000,
      connections: options.connections ?? null,
      httpProxy: proxy.http ?? '',
      httpsProxy: proxy.https ?? '',
      noProxy: proxy.noProxy,
      proxyTunnel: false,
      ...(options.insecure ? { requestTls: { rejectUnauthorized: false } } : {}),
    });
  }
  return {
    send(req, { timeoutMs, signal }) {
      const via = proxyFor(proxy, req.url);
      const dispatcher = via !== undefined && proxied !== undefined ? proxied : agent;
      // undici's dispatch API directly: no response stream, no promise per body chunk, no AbortSignal per attempt
      // (the timeouts are undici's own, headers then body). At thousands of deliveries a second this is what keeps
      // replay level with a bare undici loop (bench/replay.bench.ts).
      const started = performance.now();
      return new Promise<SendResult>((resolve) => {
        let settled = false;
        let status = 0;
        let retryAfter: string | string[] | undefined;
        const chunks: Buffer[] = [];
        let size = 0;
        let controller: { abort(reason?: unknown): void } | undefined;
        const finish = (result: SendResult): void => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          resolve(result);
        };
        const fail = (error: unknown): void => {
          const { code, message } = describeNetworkError(error, req.url, timeoutMs, via);
          finish({ status: undefined, latencyMs: performance.now() - started, firstLine: message, body: '', errorCode: code });
        };
        const aborted = (): Error => Object.assign(new Error('cancelled'), { code: 'AbortError' });
        function onAbort(): void {
          fail(aborted());
          controller?.abort(aborted());
        }
        // Our own timer for the whole attempt: undici's headers/body timeouts tick at a 1 s resolution above 1 s and
        // are not a total; they stay set as a backstop.
        const timer = setTimeout(() => {
          fail({ name: 'TimeoutError' });
          controller?.abort(Object.assign(new Error('timeout'), { code: 'TIMEOUT' }));
        }, timerMs(timeoutMs));
        if (signal?.aborted) {
          fail(aborted());
          return;
        }
        signal?.addEventListener('abort', onAbort, { once: true });
        try {
          dispatcher.dispatch(
            {
              origin: req.url.origin,
              path: `${req.url.pathname}${req.url.search}`,
              method: 'POST',
              headers: withCredentials(req.url, { 'user-agent': options.userAgent, ...req.headers }),
              body: req.body,
              headersTimeout: timerMs(timeoutMs),
              bodyTimeout: timerMs(timeoutMs),
            },
            {
              onRequestStart(c) {
                controller = c;
                if (settled) c.abort(aborted());
              },
              onResponseStart(_c, statusCode, headers) {
                status = statusCode;
                retryAfter = headers['retry-after'];
                // The proxy answered, not the target: 407, or an error it declares (RFC 9209 Proxy-Status).
                const proxyStatus = headers['proxy-status'];
                if (via !== undefined && (statusCode === 407 || (statusCode >= 500 && /\berror=/i.test(String(proxyStatus ?? ''))))) {
                  finish({ status: undefined, latencyMs: performance.now() - started, firstLine: proxyRefused(statusCode, req.url, via).message, body: '', errorCode: `PROXY_${statusCode}` });
                }
              },
              onResponseData(_c, chunk) {
                // Past the first 64 KiB the body is drained, not kept (the connection stays reusable).
                if (size < MAX_BODY_READ) {
                  chunks.push(chunk);
                  size += chunk.length;
                }
              },
              onResponseEnd() {
                const text = chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8');
                const result: SendResult = { status, latencyMs: performance.now() - started, firstLine: usefulLine(text), body: text };
                if (retryAfter !== undefined) {
                  const ms = parseRetryAfter(retryAfter, Date.now());
                  if (ms !== undefined) result.retryAfterMs = ms;
                }
                finish(result);
              },
              onResponseError(_c, error) {
                fail(error);
              },
            },
          );
        } catch (error) {
          fail(error);
        }
      });
    },
    close: async () => {
      await Promise.all([agent.close(), proxied?.close()]);
    },
  };
}
