import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

// The node:http side of `listen`: reads bodies with a size cap (413 without buffering what is over), answers
// JSON, and bounds slow or idle clients (header and request timeouts, keep-alive timeout, a connection cap), so
// junk never piles up. What to answer is decided by the caller (src/core/receiver.ts via src/listener.ts).

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

export interface HttpServerOptions {
  host: string;
  port: number;
  maxBody: number;
  now: () => Date;
  /** Called once per request: `body` is null when it was over `maxBody` (not read, or not all of it). */
  onRequest: (head: RequestHead, body: Buffer | null, respond: Respond) => void;
  /** Most connections open at once (default 1000). */
  maxConnections?: number;
}

export interface RunningServer {
  host: string;
  port: number;
  /** Stops accepting; in-flight requests finish (up to `graceMs`), then the rest are cut. */
  close(graceMs?: number): Promise<void>;
}

/** Starts the server; rejects with the listen error (EADDRINUSE, EACCES, EADDRNOTAVAIL, …). */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningServer> {
  const { maxBody, now, onRequest } = options;
  const server: Server = createServer(
    { headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000, connectionsCheckingInterval: 2_000 },
    (req, res) => {
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
      if (head.declaredSize !== undefined && head.declaredSize > maxBody) {
        // Refused before reading: the connection closes after the answer, so the rest of the body is never read.
        onRequest(head, null, respond(true));
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      let over = false;
      req.on('data', (chunk: Buffer) => {
        if (over) return;
        size += chunk.length;
        if (size > maxBody) {
          over = true;
          chunks.length = 0;
          req.pause();
          onRequest(head, null, respond(true));
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (over) return;
        onRequest(head, chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, size), respond(false));
      });
    },
  );
  server.maxConnections = options.maxConnections ?? 1000;
  // A connection that sends nothing at all never starts a request, so the header and request timeouts never see
  // it: close a new socket silent for 10 s (with no 'timeout' listener on the server, node:http destroys it). Set
  // per connection rather than with server.setTimeout, which node:http re-arms at every request of a keep-alive
  // connection and refreshes at every read and write (~2% of the answer path under load, bench/listen.bench.ts);
  // from its first answer on, the keep-alive, header and request timeouts bound the connection.
  server.on('connection', (socket: Socket) => socket.setTimeout(10_000));
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
    close(graceMs = 2000) {
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
