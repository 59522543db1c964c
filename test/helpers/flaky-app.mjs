// A developer's app for the flapping-app fault test: answers 200 to every POST after appending the event id
// to its log (so a kill -9 loses nothing it answered), and prints `got <id>` on stdout for each request.
// Usage: node flaky-app.mjs <port> <log file>
import { createServer } from 'node:http';
import { appendFileSync } from 'node:fs';

const [port, log] = process.argv.slice(2);
const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    let id = '?';
    try {
      id = JSON.parse(Buffer.concat(chunks).toString('utf8')).id;
    } catch {}
    appendFileSync(log, `${id}\n`);
    process.stdout.write(`got ${id}\n`);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"ok":true}');
  });
});
server.listen(Number(port), '127.0.0.1', () => process.stdout.write('ready\n'));
