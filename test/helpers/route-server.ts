// A Next.js route handler module served without Next.js: a minimal node:http → Web Request/Response adapter, for
// test/handler-snippets.test.ts. What Next.js does for app/<path>/route.ts: the exported function named after the
// request's method gets a Web Request (the URL, the headers, the body bytes) and its Response is written back; a
// method the module does not export is 405, another path 404, a throw 500.
// Usage: node --import tsx route-server.ts <route.ts> <path>; prints `listening on <url>` once the port is open.
import { createServer } from 'node:http';
import { pathToFileURL } from 'node:url';

const [file, path] = process.argv.slice(2);
if (file === undefined || path === undefined) throw new Error('usage: route-server.ts <route module> <path>');
const route = (await import(pathToFileURL(file).href)) as Record<string, unknown>;

const server = createServer((req, res) => {
  void (async () => {
    const url = new URL(req.url ?? '/', `http://${req.headers.host ?? 'localhost'}`);
    if (url.pathname !== path) return res.writeHead(404).end();
    const handler = route[req.method ?? ''];
    if (typeof handler !== 'function') return res.writeHead(405).end();
    const headers = new Headers();
    for (let i = 0; i < req.rawHeaders.length; i += 2) headers.append(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
    const request = new Request(url, { method: req.method ?? 'GET', headers, ...(hasBody ? { body: Buffer.concat(chunks) } : {}) });
    const response = (await (handler as (r: Request) => Promise<Response>)(request)) as Response;
    const body = Buffer.from(await response.arrayBuffer());
    res.writeHead(response.status, Object.fromEntries(response.headers)).end(body);
  })().catch((err: unknown) => {
    console.error(err);
    if (!res.headersSent) res.writeHead(500);
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  console.log(`listening on http://127.0.0.1:${address.port}${path}`);
});
