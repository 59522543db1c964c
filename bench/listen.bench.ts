// `npm run bench -- listen` (issue #3): `onepush listen` (verify + capture log + --json to /dev/null) against a
// bare node:http server doing only HMAC + JSON.parse, the same autocannon load on each, in the same run; and, for
// reference, that bare server plus a capture log. The servers are child processes; autocannon runs here. Prints requests/s of each, the ratio (goal ≥ 0.8x) and p99
// latency. BENCH_SECONDS (default 10) and BENCH_CONNECTIONS (default 50) tune the load.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, statSync, truncateSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, waitForPort } from '../test/helpers/servers.js';

interface Histogram {
  average: number;
  p50: number;
  p99: number;
}
interface AutocannonResult {
  requests: Histogram & { total: number };
  latency: Histogram;
  non2xx: number;
  errors: number;
  timeouts: number;
}
type Autocannon = (opts: Record<string, unknown>) => Promise<AutocannonResult>;

const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as Autocannon;
const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SECRET = 'whsec_bench';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);

const body = JSON.stringify(JSON.parse(readFileSync(join(ROOT, 'fixtures/email.bounced.json'), 'utf8')));
const signature = createHmac('sha256', SECRET).update(body).digest('hex');

/** Answers the request: in scope of `bareServer`'s handler. */
const SEND = `res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(answer) });
    res.end(answer);`;

/**
 * The script of a bare node:http server: reads the body, checks its HMAC, parses it, then runs `then` (source, with
 * req, res, raw, text, ok, event and answer in scope); `setup` runs once before.
 */
function bareServer(setup: string, then: string): string {
  return `
const { createServer } = require('node:http');
const { createHmac, timingSafeEqual } = require('node:crypto');
const secret = ${JSON.stringify(SECRET)};
${setup}
createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    const sig = String(req.headers['x-onepush-signature'] || '');
    const ok = sig.length === 64 && timingSafeEqual(createHmac('sha256', secret).update(raw).digest(), Buffer.from(sig, 'hex'));
    const text = raw.toString('utf8');
    let event;
    try { event = JSON.parse(text); } catch { res.writeHead(400); res.end('{}'); return; }
    const answer = ok ? JSON.stringify({ received: true, id: event.id }) : '{"error":"invalid signature"}';
    ${then}
  });
}).listen(Number(process.argv[1]), '127.0.0.1');
`;
}

/** The baseline of the goal: HMAC + JSON.parse, then the answer. */
const BASELINE = bareServer('', SEND);

// A reference, not a goal: the baseline plus the least that saving every request before answering costs (a
// capture line per request, written per event-loop turn with one writeSync before that turn's answers). How far
// listen is from this shows what its other work (checks, output, bookkeeping) costs.
const FLOOR = bareServer(
  `const { openSync, writeSync } = require('node:fs');
const fd = openSync(process.argv[2], 'a');
let lines = [];
let answers = [];
const flush = () => {
  writeSync(fd, lines.join(''));
  const send = answers;
  lines = [];
  answers = [];
  for (const f of send) f();
};`,
  `const line = '{"v":1,"received_at":"' + new Date().toISOString() + '","method":' + JSON.stringify(req.method) + ',"path":' + JSON.stringify(req.url) +
      ',"headers":' + JSON.stringify(req.headers) + ',"body":' + JSON.stringify(text) + ',"body_encoding":"utf8","verified":' + ok + ',"status":' + (ok ? 200 : 401) + '}\\n';
    if (lines.push(line) === 1) setImmediate(flush);
    answers.push(() => {
      ${SEND}
    });`,
);

/** CPU time (user + system) so far, in ms, from /proc (Linux; undefined elsewhere): of a process, or of its main thread. */
function cpuMs(pid: number | undefined, mainThread = false): number | undefined {
  try {
    const fields = readFileSync(mainThread ? `/proc/${pid}/task/${pid}/stat` : `/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, in USER_HZ (100)
  } catch {
    return undefined;
  }
}

interface Measured extends AutocannonResult {
  /** CPU per answered request, µs: all threads of the server, and its main (receiving) thread alone. */
  cpuUs: number | undefined;
  mainCpuUs: number | undefined;
  /** Lines and bytes in the server's capture log after the run (0 for a server without one). */
  lines: number;
  bytes: number;
}

// Each run starts with an empty capture log: after a run its lines are counted (every answered request must be
// there), then the log is emptied (the server keeps appending to it: O_APPEND). Without this the log grows by
// ~450 MB per run, to 1.4 GB, and on this project's machines (Firecracker VMs) page cache beyond the memory the
// guest touched lately costs ~8x as much to allocate (10.7 µs vs 1.3 µs per 4 KiB page, measured): then round 3
// measured the VM's memory more than listen. BENCH_KEEP_LOGS=1 keeps them growing, as before.
const KEEP_LOGS = process.env.BENCH_KEEP_LOGS === '1';

/** Counts the lines of a capture log, then empties it (unless BENCH_KEEP_LOGS=1). */
function takeLog(file: string): { lines: number; bytes: number } {
  const lines = countLines(file);
  const bytes = statSync(file).size;
  if (!KEEP_LOGS) truncateSync(file, 0);
  return { lines, bytes };
}

/**
 * Runs the load and also measures the server's CPU time per answered request (steadier than req/s on a busy
 * machine): in all, and on the main thread alone (listen prints from a second thread).
 */
async function measure(port: number, child: ChildProcess, duration: number, log?: string): Promise<Measured> {
  const before = [cpuMs(child.pid), cpuMs(child.pid, true)];
  const r = await load(port, duration);
  const after = [cpuMs(child.pid), cpuMs(child.pid, true)];
  const { lines, bytes } = log === undefined ? { lines: 0, bytes: 0 } : takeLog(log);
  const per = (i: number): number | undefined => {
    const [b, a] = [before[i], after[i]];
    return b === undefined || a === undefined ? undefined : ((a - b) * 1000) / r.requests.total;
  };
  return { ...r, cpuUs: per(0), mainCpuUs: per(1), lines, bytes };
}

function countLines(file: string): number {
  const fd = openSync(file, 'r');
  const buf = Buffer.alloc(1 << 20);
  let lines = 0;
  for (let n = readSync(fd, buf); n > 0; n = readSync(fd, buf)) {
    for (let i = buf.indexOf(10); i !== -1 && i < n; i = buf.indexOf(10, i + 1)) lines++;
  }
  closeSync(fd);
  return lines;
}

async function load(port: number, duration: number): Promise<AutocannonResult> {
  return autocannon({
    url: `http://127.0.0.1:${port}/webhooks/onepush`,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-onepush-signature': signature },
    body,
    connections: CONNECTIONS,
    duration,
  });
}

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const dir = mkdtempSync(join(tmpdir(), 'onepush-bench-'));
const children: ChildProcess[] = [];
try {
  const basePort = await freePort();
  const base = spawn(process.execPath, ['-e', BASELINE, String(basePort)], { stdio: 'ignore' });
  children.push(base);
  const floorPort = await freePort();
  const floorLog = join(dir, 'floor.ndjson');
  const floor = spawn(process.execPath, ['-e', FLOOR, String(floorPort), floorLog], { stdio: 'ignore' });
  children.push(floor);
  const listenPort = await freePort();
  const save = join(dir, 'events.ndjson');
  const devnull = openSync('/dev/null', 'w');
  const listen = spawn(process.execPath, [join(ROOT, 'bin/onepush.js'), 'listen', '--port', String(listenPort), '--secret', SECRET, '--json', '--save', save], {
    stdio: ['ignore', devnull, 'inherit'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  children.push(listen);
  await waitForPort(basePort, base);
  await waitForPort(listenPort, listen);
  await waitForPort(floorPort, floor);
  // Warm-up (JIT, connections), then rounds that alternate the two servers under the same load, so a busy
  // machine skews both alike; the ratio is of the totals.
  await load(basePort, 2);
  await load(listenPort, 2);
  await load(floorPort, 2);
  takeLog(save);
  takeLog(floorLog);
  const row = (name: string, r: Measured): string =>
    `  ${name.padEnd(38)} ${r.requests.average.toFixed(0).padStart(7)} req/s   p50 ${String(r.latency.p50).padStart(3)} ms   p99 ${String(r.latency.p99).padStart(3)} ms` +
    (r.cpuUs === undefined || r.mainCpuUs === undefined ? '' : `   CPU/request ${r.cpuUs.toFixed(1)} µs (main thread ${r.mainCpuUs.toFixed(1)})`);
  console.log(`autocannon: ${CONNECTIONS} connections, ${SECONDS} s per run, ${ROUNDS} rounds, ${body.length}-byte signed email.bounced`);
  let baseTotal = 0;
  let oursTotal = 0;
  let floorTotal = 0;
  let answered = 0;
  let captured = 0;
  let capturedBytes = 0;
  let unsaved = 0;
  const p99 = { base: [] as number[], ours: [] as number[] };
  const cpu = { base: [] as number[], ours: [] as number[], oursMain: [] as number[] };
  for (let round = 1; round <= ROUNDS; round++) {
    // ABBA order: which server runs first alternates, so a drift in the machine's load skews neither.
    // The reference (floor) runs last, then first, so the two that the goal compares stay side by side.
    let b: Measured;
    let o: Measured;
    let f: Measured;
    if (round % 2 === 1) {
      b = await measure(basePort, base, SECONDS);
      o = await measure(listenPort, listen, SECONDS, save);
      f = await measure(floorPort, floor, SECONDS, floorLog);
    } else {
      f = await measure(floorPort, floor, SECONDS, floorLog);
      o = await measure(listenPort, listen, SECONDS, save);
      b = await measure(basePort, base, SECONDS);
    }
    floorTotal += f.requests.average;
    if (b.cpuUs !== undefined && o.cpuUs !== undefined && o.mainCpuUs !== undefined) {
      cpu.base.push(b.cpuUs);
      cpu.ours.push(o.cpuUs);
      cpu.oursMain.push(o.mainCpuUs);
    }
    for (const [name, r] of [['baseline', b], ['listen', o]] as const) {
      if (r.non2xx > 0 || r.errors > 0) console.log(`  ${name}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
    }
    baseTotal += b.requests.average;
    oursTotal += o.requests.average;
    answered += o.requests.total;
    // Kept logs hold every run so far; emptied ones, this run's lines.
    captured = KEEP_LOGS ? o.lines : captured + o.lines;
    capturedBytes = KEEP_LOGS ? o.bytes : capturedBytes + o.bytes;
    if (o.lines < o.requests.total) unsaved += o.requests.total - o.lines;
    p99.base.push(b.latency.p99);
    p99.ours.push(o.latency.p99);
    console.log(`round ${round}: ratio ${(o.requests.average / b.requests.average).toFixed(2)}x`);
    console.log(row('bare node:http (HMAC + JSON.parse)', b));
    console.log(row('onepush listen (verify+capture+--json)', o));
    console.log(row('reference: bare + capture log only', f));
  }
  listen.kill('SIGTERM');
  await once(listen, 'exit');
  const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] ?? 0;
  console.log(
    `ratio ${(oursTotal / baseTotal).toFixed(2)}x (goal ≥ 0.80x): listen ${(oursTotal / ROUNDS).toFixed(0)} req/s vs bare ${(baseTotal / ROUNDS).toFixed(0)} req/s; ` +
      `median p99 listen ${median(p99.ours)} ms vs bare ${median(p99.base)} ms`,
  );
  console.log(`reference: bare + capture log only ${(floorTotal / baseTotal).toFixed(2)}x (${(floorTotal / ROUNDS).toFixed(0)} req/s): what saving before answering costs at the least`);
  if (cpu.ours.length > 0) {
    console.log(
      `CPU per request (median): listen ${median(cpu.ours).toFixed(1)} µs in all, ${median(cpu.oursMain).toFixed(1)} µs on its main thread (the rest is the output thread), ` +
        `vs bare ${median(cpu.base).toFixed(1)} µs → all-CPU ratio ${(median(cpu.base) / median(cpu.ours)).toFixed(2)}x, main-thread ratio ${(median(cpu.base) / median(cpu.oursMain)).toFixed(2)}x`,
    );
  }
  console.log(
    `capture log: ${captured} lines (${(capturedBytes / 1e6).toFixed(1)} MB) for ${answered} answered in the ${ROUNDS} runs of listen, ${KEEP_LOGS ? 'kept growing (BENCH_KEEP_LOGS=1)' : 'emptied after each run'}; ` +
      `every answered request saved: ${unsaved === 0 ? 'yes' : `NO (${unsaved} missing)`}`,
  );
} finally {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null ? once(c, 'exit') : null)));
  rmSync(dir, { recursive: true, force: true });
}
