import { once } from 'node:events';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/** What the test proxy was asked: an absolute-form request (`http`) or a CONNECT tunnel (`connect`). */
export interface ProxySeen {
  kind: 'http' | 'connect';
  /** The absolute URL of an `http` request, the `host:port` of a CONNECT. */
  target: string;
  headers: IncomingMessage['headers'];
}

export interface TestProxy {
  /** `http://127.0.0.1:<port>` */
  url: string;
  seen: ProxySeen[];
  close(): Promise<void>;
}

/**
 * An HTTP proxy on 127.0.0.1, port 0, for tests: absolute-form requests and CONNECT tunnels, with host names that only
 * it resolves (`hosts`: there is no DNS on the test machine, so a request to `app.internal` that arrives proves it
 * went through the proxy). `refuse` answers every request and tunnel with that status (407 asks for credentials; a 5xx
 * carries an RFC 9209 Proxy-Status error, as a proxy that could not reach the target says).
 */
export async function startProxy(hosts: Record<string, string> = {}, refuse?: number): Promise<TestProxy> {
  const seen: ProxySeen[] = [];
  const resolve = (host: string): string => hosts[host.toLowerCase()] ?? host;
  const refusal = (status: number): Record<string, string> =>
    status === 407 ? { 'proxy-authenticate': 'Basic realm="test"' } : { 'proxy-status': 'test-proxy; error=destination_unavailable' };
  const sockets = new Set<Socket>();
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    seen.push({ kind: 'http', target: req.url ?? '', headers: req.headers });
    if (refuse !== undefined) {
      req.resume();
      res.writeHead(refuse, refusal(refuse)).end(`refused by the test proxy (${refuse})`);
      return;
    }
    let url: URL;
    try {
      url = new URL(req.url ?? '');
    } catch {
      res.writeHead(400).end('absolute-form only');
      return;
    }
    // As a proxy does: its own headers are not passed on.
    const { 'proxy-authorization': _auth, 'proxy-connection': _conn, ...headers } = req.headers;
    const upstream = request(
      { host: resolve(url.hostname), port: url.port || 80, method: req.method, path: `${url.pathname}${url.search}`, headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on('error', () => res.writeHead(502, refusal(502)).end('bad gateway'));
    req.pipe(upstream);
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    seen.push({ kind: 'connect', target: req.url ?? '', headers: req.headers });
    client.on('error', () => {});
    if (refuse !== undefined) {
      client.end(`HTTP/1.1 ${refuse} Refused\r\n${Object.entries(refusal(refuse)).map(([k, v]) => `${k}: ${v}\r\n`).join('')}content-length: 0\r\n\r\n`);
      return;
    }
    const [host = '', port = '443'] = (req.url ?? '').split(/:(?=\d+$)/);
    const upstream = connect(Number(port), resolve(host), () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.end('HTTP/1.1 502 Bad Gateway\r\ncontent-length: 0\r\n\r\n'));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    seen,
    close: async () => {
      for (const s of sockets) s.destroy();
      server.close();
      await once(server, 'close');
    },
  };
}
