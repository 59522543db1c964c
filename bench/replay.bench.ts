// `npm run bench -- replay` (issue #4): replay throughput against a bare undici loop, replay memory on a big log,
// and `trigger` cold start against `node -e 0`. Every figure is a ratio to a baseline measured in the same run.
//
// - Throughput: 20,000 captures at --concurrency 32 into a bare local sink (its own process), `onepush replay
//   --keep-signature --json > /dev/null` vs a bare undici loop over the same log (read lines, JSON.parse, body
//   bytes, POST with 32 in flight), both timed as whole processes, alternating, median of 3 each. Goal ≥ 0.9x.
// - Memory: replaying 200,000 captures; peak RSS from /proc/<pid>/status VmHWM. Goal < 100 MiB.
// - Start-up: `onepush trigger email.sent` (build, sign, send one event to the sink), cold, vs `node -e 0`,
//   median of 11 paired runs.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeCapture } from '../src/core/capture.js';
import { sign } from '../src/core/signature.js';
import { peakRss, timed } from './processes.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin/onepush.js');
const dir = mkdtempSync(join(tmpdir(), 'onepush-bench-replay-'));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function writeLog(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  const t0 = Date.parse('2026-11-27T08:00:00Z');
  for (let i = 0; i < n; i++) {
    const body = JSON.stringify({
      id: `evt_${String(i).padStart(26, '0')}`,
      type: 'email.delivered',
      created_at: new Date(t0 + i).toISOString(),
      data: {
        email_id: `em_${String(i).padStart(26, '0')}`,
        message_id: '<01JD8Q4YZ0ABCDEFGHJKMNPQRS@mail.acme.test>',
        from: 'Acme <hello@acme.test>',
        to: ['jane@example.com'],
        subject: 'Your receipt',
        delivery: { smtp_response: '250 2.0.0 OK 1732700000 x1si123', mx_host: 'mx.example.com' },
      },
    });
    const line = encodeCapture({
      receivedAt: new Date(t0 + i),
      method: 'POST',
      path: '/webhooks/onepush',
      headers: { host: 'localhost:4242', 'content-type': 'application/json', 'content-length': String(body.length), 'user-agent': 'OnePush-Webhooks/1.0', 'x-onepush-signature': sign(body, 'whsec_bench') },
      body: Buffer.from(body),
      verified: true,
      status: 200,
    });
    if (!out.write(line)) await once(out, 'drain');
  }
  out.end();
  await once(out, 'close');
}

const SINK = `
const http = require('node:http');
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}'); }); });
s.keepAliveTimeout = 30000;
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
`;

// The baseline: the least a replayer must do, with undici, nothing else.
const BARE = `
const { createReadStream } = require('node:fs');
const { createInterface } = require('node:readline');
const { Agent, request } = require(${JSON.stringify(join(ROOT, 'node_modules/undici'))});
const [file, url, conc] = process.argv.slice(2);
const agent = new Agent({ connections: Number(conc), keepAliveTimeout: 10000 });
const lines = createInterface({ input: createReadStream(file), crlfDelay: Infinity })[Symbol.asyncIterator]();
let ok = 0;
async function worker() {
  for (;;) {
    const next = await lines.next();
    if (next.done) return;
    const c = JSON.parse(next.value);
    const headers = { ...c.headers }; delete headers.host; delete headers['content-length'];
    const res = await request(url, { method: 'POST', headers, body: Buffer.from(c.body, 'utf8'), dispatcher: agent });
    await res.body.text();
    if (res.statusCode === 200) ok++;
  }
}
Promise.all(Array.from({ length: Number(conc) }, worker)).then(() => { process.stdout.write(String(ok)); return agent.close(); });
`;



const sink = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'pipe', 'inherit'] });
try {
  const [portLine] = (await once(sink.stdout, 'data')) as [Buffer];
  const url = `http://127.0.0.1:${portLine.toString().trim()}/webhooks/onepush`;

  // 1. Throughput.
  const N = 20_000;
  const log = join(dir, 'events.ndjson');
  await writeLog(log, N);
  const bareFile = join(dir, 'bare.cjs');
  writeFileSync(bareFile, BARE);
  const ours: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < 3; i++) {
    const b = timed([bareFile, log, url, '32']);
    if (Number(b.stdout) !== N) throw new Error(`bare loop: ${b.stdout} of ${N} ok`);
    bare.push(b.ms);
    const o = timed([BIN, 'replay', log, '--to', url, '--concurrency', '32', '--keep-signature', '--json']);
    const summary = JSON.parse(o.stdout.trimEnd().split('\n').at(-1)!) as { ok: number };
    if (summary.ok !== N) throw new Error(`onepush replay: ${summary.ok} of ${N} ok`);
    ours.push(o.ms);
  }
  const oursRate = N / (median(ours) / 1000);
  const bareRate = N / (median(bare) / 1000);
  console.log(`replay ${N} captures, --concurrency 32, into a bare sink (whole processes, median of 3):`);
  console.log(`  onepush replay   ${Math.round(oursRate)} events/s  (${median(ours).toFixed(0)} ms)`);
  console.log(`  bare undici loop ${Math.round(bareRate)} events/s  (${median(bare).toFixed(0)} ms)`);
  console.log(`  ratio ${(oursRate / bareRate).toFixed(2)}x (goal ≥ 0.9x)`);

  // 2. Memory on a big log.
  const BIG = 200_000;
  const big = join(dir, 'big.ndjson');
  await writeLog(big, BIG);
  const mem = await peakRss([BIN, 'replay', big, '--to', url, '--concurrency', '32', '--keep-signature', '--json']);
  const bareMem = await peakRss([bareFile, big, url, '32']);
  console.log(`replay ${BIG} captures: peak RSS ${mem.mib.toFixed(1)} MiB (goal < 100 MiB), ${(BIG / (mem.ms / 1000)).toFixed(0)} events/s`);
  console.log(`  (the bare undici loop on the same log: ${bareMem.mib.toFixed(1)} MiB, ${(BIG / (bareMem.ms / 1000)).toFixed(0)} events/s)`);

  // 3. trigger cold start.
  const runs = 11;
  const node0: number[] = [];
  const trig: number[] = [];
  for (let i = 0; i < runs; i++) {
    node0.push(timed(['-e', '0']).ms);
    trig.push(timed([BIN, 'trigger', 'email.sent', '--to', url, '--secret', 'whsec_bench']).ms);
  }
  console.log(`trigger email.sent, cold (median of ${runs} paired runs): ${median(trig).toFixed(0)} ms vs node -e 0 ${median(node0).toFixed(0)} ms → ${(median(trig) / median(node0)).toFixed(2)}x`);
} finally {
  sink.kill();
  rmSync(dir, { recursive: true, force: true });
}
