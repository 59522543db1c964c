import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, type AddressInfo, type Server as NetServer } from 'node:net';
import express from 'express';
import { onPath } from './tools.js';

/** A request as a test peer received it. */
export interface Received {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: Buffer;
}

export interface TestServer {
  url: string;
  port: number;
  received: Received[];
  /** Resolves once `n` requests have been received. */
  waitFor(n: number): Promise<Received[]>;
  close(): Promise<void>;
}

type Handler = (req: Received, res: ServerResponse) => void | Promise<void>;

/** A port that was free a moment ago: for a peer that must be absent (connection refused) or come back on it. */
/** The lowest port the kernel hands out for port 0 (Linux's ip_local_port_range; 32768 elsewhere). */
function ephemeralLow(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 11000 ? low : 32768;
  } catch {
    return 32768;
  }
}

/**
 * A port that is free now and that no `listen(0)` will be given: picked below the kernel's ephemeral range. Test
 * files run in parallel, and a port freed by one (a closed port a test expects refused, an app it kills and
 * restarts) must not be handed to another file's server meanwhile, which would answer in its place.
 */
export async function freePort(): Promise<number> {
  const low = ephemeralLow();
  for (let tries = 0; tries < 100; tries++) {
    const port = 10000 + Math.floor(Math.random() * (low - 10000));
    const server = createServer();
    const bound = await new Promise<boolean>((resolve) => {
      server.once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => resolve(true));
    });
    if (!bound) continue;
    server.close();
    await once(server, 'close');
    return port;
  }
  throw new Error('no free port below the ephemeral range');
}

/**
 * Resolves once something accepts connections on 127.0.0.1:`port` (a server another process starts: there is no
 * event to wait for, so it tries every 10 ms); rejects as soon as `child` has exited.
 */
export async function waitForPort(port: number, child: { exitCode: number | null; signalCode?: NodeJS.Signals | null }): Promise<void> {
  await until(
    () =>
      new Promise<boolean>((resolve) => {
        const socket = connect(port, '127.0.0.1');
        socket.once('connect', () => {
          socket.destroy();
          resolve(true);
        });
        socket.once('error', () => resolve(false));
      }),
    child,
    `port ${port} opened`,
  );
}

/**
 * Resolves once `ready()` is true, asking every 10 ms (for what another process does, which sends no event here);
 * rejects as soon as `child` has exited, so a test never waits on a dead process.
 */
export async function until(ready: () => boolean | Promise<boolean>, child: { exitCode: number | null; signalCode?: NodeJS.Signals | null }, what: string): Promise<void> {
  for (;;) {
    if (await ready()) return;
    if (child.exitCode !== null || (child.signalCode ?? null) !== null) throw new Error(`the process exited (${child.exitCode ?? child.signalCode}) before ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function listen(server: NetServer, host = '127.0.0.1', port = 0): Promise<number> {
  server.listen(port, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

function tracker() {
  const received: Received[] = [];
  const waiters: Array<{ n: number; resolve: (r: Received[]) => void }> = [];
  return {
    received,
    push(r: Received) {
      received.push(r);
      for (const w of [...waiters]) if (received.length >= w.n) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(received);
      }
    },
    waitFor(n: number): Promise<Received[]> {
      if (received.length >= n) return Promise.resolve(received);
      return new Promise((resolve) => waiters.push({ n, resolve }));
    },
  };
}

/**
 * Where a test server listens: its host, and whether it also listens on ::1 (same port). onepush's client tries
 * both loopbacks for `localhost`, the second only once the first has taken 100 ms to connect: a server on
 * 127.0.0.1 alone can then be missed by a client process that a loaded machine starves for that long. A server a
 * test reaches as `localhost` (or a bare port) listens on both, so the second try always finds it.
 */
export interface ListenOn {
  host?: string;
  port?: number;
  bothLoopbacks?: boolean;
}

/** Listens with `server` (and its twin on ::1 when asked); resolves with the port and a close for both. */
async function listenOn(make: () => NetServer, on: ListenOn): Promise<{ port: number; close: () => Promise<void> }> {
  const servers = [make()];
  const port = await listen(servers[0] as NetServer, on.host ?? '127.0.0.1', on.port ?? 0);
  if (on.bothLoopbacks) {
    const twin = make();
    await listen(twin, '::1', port);
    servers.push(twin);
  }
  return {
    port,
    close: async () => {
      await Promise.all(
        servers.map(async (server) => {
          (server as Server).closeAllConnections?.();
          server.close();
          await once(server, 'close');
        }),
      );
    },
  };
}

/** A raw node:http peer on 127.0.0.1:0 (see ListenOn); `handler` answers (default 200 `{"ok":true}`). */
export async function startRawServer(handler?: Handler, host = '127.0.0.1', port = 0, on: Omit<ListenOn, 'host' | 'port'> = {}): Promise<TestServer> {
  const t = tracker();
  const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r: Received = { method: req.method ?? '', path: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks) };
      t.push(r);
      if (handler) void handler(r, res);
      else {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      }
    });
  };
  const { port: bound, close } = await listenOn(() => createServer(onRequest), { host, port, ...on });
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}/webhooks/onepush`,
    port: bound,
    received: t.received,
    waitFor: t.waitFor,
    close,
  };
}

/** A strict receiver: HMAC over the raw bytes, 401 on mismatch. */
export function startStrictReceiver(secret: string, port = 0, on: Omit<ListenOn, 'host' | 'port'> = {}): Promise<TestServer> {
  return startRawServer(
    (r, res) => {
      const expected = createHmac('sha256', secret).update(r.body).digest();
      const header = String(r.headers['x-onepush-signature'] ?? '');
      const given = /^[0-9a-f]{64}$/i.test(header) ? Buffer.from(header, 'hex') : Buffer.alloc(0);
      const ok = given.length === 32 && timingSafeEqual(expected, given);
      res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
      res.end(ok ? '{"ok":true}' : '{"error":"bad signature"}');
    },
    '127.0.0.1',
    port,
    on,
  );
}

/**
 * A receiver the way OnePush's own docs show it: `express.json()`, then HMAC over `JSON.stringify(req.body)`.
 * Everything onepush sends must pass it.
 */
export async function startDocsReceiver(secret: string): Promise<TestServer & { events: unknown[] }> {
  const t = tracker();
  const events: unknown[] = [];
  const app = express();
  app.post('/{*path}', express.json({ limit: '2mb' }), (req, res) => {
    const expected = createHmac('sha256', secret).update(JSON.stringify(req.body)).digest('hex');
    const header = String(req.headers['x-onepush-signature'] ?? '');
    t.push({ method: req.method, path: req.originalUrl, headers: req.headers, body: Buffer.from(JSON.stringify(req.body)) });
    if (header !== expected) {
      res.status(401).json({ error: 'invalid signature' });
      return;
    }
    events.push(req.body);
    res.json({ received: true });
  });
  const server = createServer(app);
  const port = await listen(server);
  return {
    url: `http://127.0.0.1:${port}/webhooks/onepush`,
    port,
    received: t.received,
    events,
    waitFor: t.waitFor,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Whether openssl is here to make a self-signed certificate. */
export const HAS_OPENSSL = onPath('openssl');

/**
 * An https app on 127.0.0.1 (`port`, 0 for any) with a self-signed certificate for localhost and 127.0.0.1 made now
 * by openssl (see HAS_OPENSSL), answering 200 to everything; `received` counts the requests.
 */
export async function startHttpsApp(port = 0, on: Omit<ListenOn, 'host' | 'port'> = {}): Promise<{ url: string; port: number; received: () => number; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'onepush-tls-'));
  try {
    // An EC key: made in a few ms, where an RSA one costs a good part of a second.
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'key.pem', '-out', 'cert.pem', '-days', '1', '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:::1'], { cwd: dir, encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`openssl could not make a certificate: ${made.stderr}`);
    let count = 0;
    const tls = { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
    const onRequest = (req: IncomingMessage, res: ServerResponse): void => {
      req.resume();
      req.on('end', () => {
        count++;
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"ok":true}');
      });
    };
    const { port: bound, close } = await listenOn(() => createHttpsServer(tls, onRequest), { port, ...on });
    return { url: `https://127.0.0.1:${bound}/webhooks/onepush`, port: bound, received: () => count, close };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
