import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

// The node:http side of `listen`: reads bodies with a size cap (413 without buffering what is over), answers
// JSON, and bounds slow or idle clients (header and request timeouts, keep-alive timeout, a connection cap), so
// junk never piles up. What to answer is decided by the caller (src/core/receiver.ts via src/app/listen.ts).
//
// Memory is in proportion to the bytes received, whatever the chunking: small chunks are copied together (a client
// that sends a body one byte per packet costs its bytes, not a Buffer object per byte), and the bytes held
// across all connections beyond each one's first 64 KiB are bounded: past the budget, reading pauses until bodies
// finish (the request timeout still bounds each one), while small requests go on being read and answered.

/** The request line and headers of one request. */
export interface RequestHead {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  receivedAt: Date;
  /** The declared content-length, when there is one. */
  declaredSize: number | undefined;
}

/** Sends the answer: status and a JSON body. */
export type Respond = (status: number, json: string) => void;

/** Why a request was refused before its body was read. */
export type EarlyRefusal = 'too-large' | 'too-many-headers';

export interface HttpServerOptions {
  host: string;
  port: number;
  maxBody: number;
  now: () => Date;
  /**
   * Called once per request: `body` is null when it was refused before it was read (`refusal` says why: over
   * `maxBody`, or more headers than MAX_HEADERS).
   */
  onRequest: (head: RequestHead, body: Buffer | null, respond: Respond, refusal?: EarlyRefusal) => void;
  /** Requests this returns true for are answered by it (checked before the body is read); the rest go to onRequest. */
  intercept?: (req: IncomingMessage, res: ServerResponse) => boolean;
  /** Most connections open at once (default 1000). */
  maxConnections?: number;
  /** Body bytes held across all connections beyond each one's first 64 KiB (default 64 MiB). */
  bodyBudget?: number;
  /** How long slow or idle clients are given (default DEFAULT_TIMEOUTS); an undefined field keeps its default. */
  timeouts?: Partial<ServerTimeouts>;
}

/** How long the server waits on a client, in ms; 0 turns a timeout off (closeGraceMs 0: cut at once). */
export interface ServerTimeouts {
  /** For a request's headers, from its first byte (node's headersTimeout; answered 408). Default 10 s. */
  headersMs: number;
  /** For a whole request, headers and body (node's requestTimeout; answered 408). Default 30 s; at least headersMs. */
  requestMs: number;
  /** For the next request on a kept-alive connection, after an answer (node's keepAliveTimeout). Default 5 s. */
  keepAliveMs: number;
  /** For a new connection to send its first byte; a connection silent this long is closed. Default 10 s. */
  idleMs: number;
  /** For requests in flight to finish once the server is closing, before their connections are cut. Default 2 s. */
  closeGraceMs: number;
}

export const DEFAULT_TIMEOUTS: Readonly<ServerTimeouts> = Object.freeze({
  headersMs: 10_000,
  requestMs: 30_000,
  keepAliveMs: 5_000,
  idleMs: 10_000,
  closeGraceMs: 2_000,
});

/** How often node:http looks for requests past the header and request timeouts: 2 s, or sooner for short ones. */
function checkingInterval(t: ServerTimeouts): number {
  const shortest = Math.min(...[t.headersMs, t.requestMs].filter((ms) => ms > 0), 8_000);
  return Math.max(1, Math.min(2_000, Math.floor(shortest / 4)));
}

export interface RunningServer {
  host: string;
  port: number;
  /** Stops accepting; in-flight requests finish (up to `graceMs`, default timeouts.closeGraceMs), then the rest are cut. */
  close(graceMs?: number): Promise<void>;
}

/** Headers a request may carry (README: Limits); more is a 431, not a signature silently dropped by node:http. */
export const MAX_HEADERS = 100;
/** What every body may hold without counting against the shared budget. */
const FREE_BYTES = 64 * 1024;
export const DEFAULT_BODY_BUDGET = 64 * 1024 * 1024;

/** The shared budget of body bytes: requests past it wait (paused) in order until bytes are given back. */
class BodyBudget {
  private used = 0;
  private readonly waiting: Array<() => void> = [];
  constructor(private readonly limit: number) {}

  /** Takes `n` bytes now if they fit. */
  take(n: number): boolean {
    if (this.used + n > this.limit && this.used > 0) return false;
    this.used += n;
    return true;
  }

  give(n: number): void {
    this.used -= n;
    // Each waiting request tries again once, in order; one that still does not fit waits again.
    for (const resume of this.waiting.splice(0)) resume();
  }

  wait(resume: () => void): void {
    this.waiting.push(resume);
  }

  forget(resume: () => void): void {
    const i = this.waiting.indexOf(resume);
    if (i !== -1) this.waiting.splice(i, 1);
  }
}

/** Chunks smaller than this are copied together (a client sending one byte per packet costs its bytes, not objects). */
const SMALL_CHUNK = 4096;
const TAIL_SIZE = 16 * 1024;

/**
 * Reads one request's body, within `maxBody` and the shared budget; `done(null)` when it is over `maxBody`. A class
 * with its methods on the prototype: this runs once per request, and a body that comes in one chunk (the usual
 * webhook) costs two listeners and no more.
 */
class BodyReader {
  /** The body so far: big chunks as node:http read them, small ones copied into shared tail buffers. */
  private chunks: Buffer[] = [];
  private tail: Buffer | undefined;
  private tailUsed = 0;
  private size = 0;
  /** Bytes counted against the budget (what is held beyond the first FREE_BYTES). */
  private held = 0;
  private finished = false;
  private watching = false;
  private pending: Buffer | undefined;
  private waitingFor: (() => void) | undefined;

  constructor(
    private readonly req: IncomingMessage,
    private readonly maxBody: number,
    private readonly budget: BodyBudget,
    private readonly done: (body: Buffer | null) => void,
  ) {
    req.on('data', (chunk: Buffer) => this.onData(chunk));
    req.on('end', () => this.onEnd());
  }

  private onData(chunk: Buffer): void {
    if (this.finished) return;
    if (this.size + chunk.length > this.maxBody) {
      this.req.pause();
      this.chunks.length = 0;
      this.tail = undefined;
      this.finish(null);
      return;
    }
    if (!this.accept(chunk)) {
      this.pending = chunk;
      this.req.pause();
      this.wait();
    }
  }

  private onEnd(): void {
    if (this.finished || this.pending) return;
    this.sealTail();
    const { chunks } = this;
    this.finish(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, this.size));
  }

  /** Keeps `chunk` if the budget allows it; false to wait. */
  private accept(chunk: Buffer): boolean {
    const small = chunk.length < SMALL_CHUNK && (this.size > 0 || this.tail !== undefined);
    const counted = Math.max(0, this.size + chunk.length + (small ? TAIL_SIZE : 0) - FREE_BYTES);
    if (counted > this.held) {
      this.watchClose();
      if (!this.budget.take(counted - this.held)) return false;
      this.held = counted;
    }
    if (!small) {
      this.sealTail();
      this.chunks.push(chunk);
    } else {
      // A body arriving in small pieces (one byte per packet, say) is copied together: its bytes, not a Buffer each.
      if (!this.tail || this.tailUsed + chunk.length > this.tail.length) {
        this.sealTail();
        this.tail = Buffer.allocUnsafe(TAIL_SIZE);
      }
      chunk.copy(this.tail, this.tailUsed);
      this.tailUsed += chunk.length;
    }
    this.size += chunk.length;
    return true;
  }

  private sealTail(): void {
    if (this.tail && this.tailUsed > 0) this.chunks.push(this.tail.subarray(0, this.tailUsed));
    this.tail = undefined;
    this.tailUsed = 0;
  }

  private wait(): void {
    const resume = (): void => this.resume();
    this.waitingFor = resume;
    this.budget.wait(resume);
  }

  private resume(): void {
    this.waitingFor = undefined;
    if (this.req.destroyed) {
      this.giveBack();
      return;
    }
    const chunk = this.pending;
    this.pending = undefined;
    if (chunk && !this.accept(chunk)) {
      this.pending = chunk;
      this.wait();
      return;
    }
    this.req.resume();
    if (this.req.complete && !this.finished) this.onEnd();
  }

  /** A client gone mid-body gives its bytes (and its place in the queue) back. */
  private watchClose(): void {
    if (this.watching) return;
    this.watching = true;
    this.req.once('close', () => this.giveBack());
  }

  private giveBack(): void {
    if (this.waitingFor) this.budget.forget(this.waitingFor);
    this.waitingFor = undefined;
    if (this.held > 0) this.budget.give(this.held);
    this.held = 0;
  }

  private finish(body: Buffer | null): void {
    if (this.finished) return;
    this.finished = true;
    this.giveBack();
    this.done(body);
  }
}

/** Starts the server; rejects with the listen error (EADDRINUSE, EACCES, EADDRNOTAVAIL, …). */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningServer> {
  const { maxBody, now, onRequest, intercept } = options;
  const budget = new BodyBudget(options.bodyBudget ?? DEFAULT_BODY_BUDGET);
  const t: ServerTimeouts = { ...DEFAULT_TIMEOUTS };
  for (const [k, v] of Object.entries(options.timeouts ?? {}) as Array<[keyof ServerTimeouts, number | undefined]>) if (v !== undefined) t[k] = v;
  const server: Server = createServer(
    {
      headersTimeout: t.headersMs,
      // node:http refuses a request timeout shorter than the header timeout (0 turns either off).
      requestTimeout: t.requestMs > 0 && t.requestMs < t.headersMs ? t.headersMs : t.requestMs,
      keepAliveTimeout: t.keepAliveMs,
      connectionsCheckingInterval: checkingInterval(t),
      // One more than allowed, so "more than allowed" can be told from "exactly as many" (node:http drops the rest).
      maxHeadersCount: MAX_HEADERS + 1,
    } as Parameters<typeof createServer>[0],
    (req, res) => {
      if (intercept !== undefined && intercept(req, res)) return;
      const len = req.headers['content-length'];
      const declared = len === undefined ? undefined : Number(len);
      const head: RequestHead = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        headers: req.headers,
        receivedAt: now(),
        declaredSize: declared !== undefined && Number.isFinite(declared) ? declared : undefined,
      };
      let answered = false;
      const respond = (close: boolean): Respond => (status, json) => {
        if (answered) return;
        answered = true;
        // A flat [name, value, …] list: cheaper for node:http than an object, on every answer.
        const headers = ['content-type', 'application/json', 'content-length', String(Buffer.byteLength(json))];
        if (close) headers.push('connection', 'close');
        res.writeHead(status, headers);
        res.end(json);
      };
      // No 'error' listener on req: node:http emits a request's error (a client gone mid-body) only to listeners.
      if (req.rawHeaders.length > MAX_HEADERS * 2) {
        onRequest(head, null, respond(true), 'too-many-headers');
        return;
      }
      if (head.declaredSize !== undefined && head.declaredSize > maxBody) {
        // Refused before reading: the connection closes after the answer, so the rest of the body is never read.
        onRequest(head, null, respond(true), 'too-large');
        return;
      }
      new BodyReader(req, maxBody, budget, (body) => {
        if (body === null) onRequest(head, null, respond(true), 'too-large');
        else onRequest(head, body, respond(false));
      });
    },
  );
  server.maxConnections = options.maxConnections ?? 1000;
  // A connection that sends nothing at all never starts a request, so the header and request timeouts never see
  // it: close a new socket silent for idleMs (with no 'timeout' listener on the server, node:http destroys it). Set
  // per connection rather than with server.setTimeout, which node:http re-arms at every request of a keep-alive
  // connection and refreshes at every read and write (~2% of the answer path under load, bench/listen.bench.ts);
  // from its first answer on, the keep-alive, header and request timeouts bound the connection.
  server.on('connection', (socket: Socket) => socket.setTimeout(t.idleMs));
  // Malformed requests, huge headers and timeouts: a JSON answer when the socket can still take one.
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (!socket.writable || err.code === 'ECONNRESET') {
      socket.destroy();
      return;
    }
    const [status, reason] =
      err.code === 'HPE_HEADER_OVERFLOW'
        ? [431, 'request headers too large']
        : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
          ? [408, 'request not completed in time']
          : [400, 'malformed HTTP request'];
    const body = JSON.stringify({ error: status === 431 ? 'headers too large' : status === 408 ? 'timeout' : 'bad request', reason });
    socket.write(`HTTP/1.1 ${status} ${status === 431 ? 'Request Header Fields Too Large' : status === 408 ? 'Request Timeout' : 'Bad Request'}\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`);
    // Close our side for good once written: a client that never closes its own would hold a half-open socket.
    socket.destroySoon();
  });
  await new Promise<void>((resolve, reject) => {
    const onError = (e: Error): void => reject(e);
    server.once('error', onError);
    server.listen(options.port, options.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', () => {});
  const address = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    host: options.host,
    port: address.port,
    close(graceMs = t.closeGraceMs) {
      closing ??= (async () => {
        const closed = once(server, 'close');
        server.close();
        server.closeIdleConnections();
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        await closed;
        clearTimeout(timer);
      })();
      return closing;
    },
  };
}
