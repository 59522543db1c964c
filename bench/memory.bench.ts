// `npm run bench -- memory`: memory budgets of `onepush listen` under three loads, as figures (not timed tests).
// Each scenario starts a fresh `onepush listen --json --port 0` child in a fresh temp dir (its TMPDIR too, so a
// spool file lands there), reads its idle RSS right after its ready line (the baseline of the same run), loads it
// over loopback, then reads its peak RSS (VmHWM) and current RSS (VmRSS) from /proc/<pid>/status, stops it with
// SIGTERM and checks the exit and its summary line. Goal of each: peak RSS < 250 MiB.
//
// 1. Forward queue while the app is down: --forward-to a free port with nothing listening, 1,500 signed events of
//    700,000 bytes, 4 in flight on 4 kept-alive connections (undici Pool); all must be answered 200 and the summary
//    must say "queued":1500. Once with --save (the queue refers to the capture log), once with --no-save (bodies go
//    to a 16 MiB memory budget, then a temporary spool file). stdout is read here (scanned, not kept: event lines
//    carry the payload); listen still drops most event lines, its output thread being slower than 700 KB events
//    arrive. RSS is also sampled after every tenth of the answers: growing with the queue, or level?
// 2. Stalled stdout reader: --save; stdout is a pipe this bench stops reading after the ready line; 3,000 signed
//    events of 200 KB, 4 in flight; then the time SIGTERM takes to end it (if it is still running after 10 s this
//    bench closes its end of the pipe, and says so), and the warning it wrote on stderr about lines not shown.
// 3. Trickle: --max-body 10mb --no-save; 48 raw TCP connections (a child process of their own, so its CPU-bound
//    writing does not delay this process's clock) each send a POST head with content-length 6 MiB, then the body
//    one byte per write() (setNoDelay), as fast as the sockets allow, for BENCH_TRICKLE_SECONDS (default 20; they
//    do not finish: one process makes ~150,000 1-byte writes/s, ~3 MB in 20 s over all 48, which the figures show,
//    with the bytes listen left unread in its sockets, from /proc/net/tcp). Meanwhile, every 250 ms, one small signed event on a fresh connection: its latency, p50 and
//    max, and how many got 200; the same probe alone for BENCH_PROBE_SECONDS (default 4) before, as the baseline.
//
// Knobs: BENCH_FORWARD_EVENTS (1500), BENCH_STALL_EVENTS (3000), BENCH_TRICKLE_CONNECTIONS (48),
// BENCH_TRICKLE_SECONDS (20), BENCH_PROBE_SECONDS (4). A scenario that fails prints what went wrong and the next
// one runs; the exit code is 1 only when a scenario could not run at all.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { freePort } from '../test/helpers/servers.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin/onepush.js');
const SECRET = 'whsec_bench_memory';
const PATH = '/webhooks/onepush';
const GOAL_MIB = 250;
const num = (name: string, dflt: number): number => {
  const v = Number(process.env[name] ?? dflt);
  return Number.isFinite(v) && v > 0 ? v : dflt;
};
const FORWARD_EVENTS = num('BENCH_FORWARD_EVENTS', 1500);
const STALL_EVENTS = num('BENCH_STALL_EVENTS', 3000);
const TRICKLE_CONNECTIONS = num('BENCH_TRICKLE_CONNECTIONS', 48);
const TRICKLE_SECONDS = num('BENCH_TRICKLE_SECONDS', 20);
const PROBE_SECONDS = num('BENCH_PROBE_SECONDS', 4);
const TRICKLE_LENGTH = 6 * 1024 * 1024;

const hmac = (body: Buffer | string): string => createHmac('sha256', SECRET).update(body).digest('hex');
const fmt = (n: number): string => n.toLocaleString('en-US');
const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const verdict = (peak: number): string => `goal < ${GOAL_MIB} MiB: ${peak < GOAL_MIB * 1024 * 1024 ? 'yes' : 'NO'}`;

const dir = mkdtempSync(join(tmpdir(), 'onepush-bench-memory-'));
const children = new Set<ChildProcess>();
const killAll = (): void => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
};
process.on('exit', () => {
  killAll();
  rmSync(dir, { recursive: true, force: true });
});
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => process.exit(130));

/** Peak (VmHWM) and current (VmRSS) resident set of a process, in bytes (Linux). */
function memOf(pid: number): { peak: number; rss: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string): number => {
    const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(status);
    if (!m) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(m[1]) * 1024;
  };
  return { peak: kb('VmHWM'), rss: kb('VmRSS') };
}

/** CPU time (user + system) of a process so far, in ms, from /proc/<pid>/stat (USER_HZ 100). */
function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** Bytes received and not yet read by the process listening on `port`, over all its connections (/proc/net/tcp). */
function unreadAt(port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let total = 0;
  for (const row of readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
    const f = row.trim().split(/\s+/);
    if (f[1]?.endsWith(`:${hexPort}`)) total += parseInt(f[4]?.split(':')[1] ?? '0', 16);
  }
  return total;
}

/** An event of about `size` bytes (a long `data.html`), valid JSON, with the given id. */
function bigEvent(id: string, size: number): Buffer {
  const head = `{"id":"${id}","type":"email.sent","created_at":"2026-11-27T10:00:00.000Z","data":{"email_id":"em_${id.slice(4)}","message_id":"<${id}@mail.acme.test>","from":"Acme <hello@acme.test>","to":["jane@example.com"],"subject":"Your receipt","html":"`;
  const tail = '"}}';
  return Buffer.concat([Buffer.from(head), padding(size - head.length - tail.length), Buffer.from(tail)]);
}
const pads = new Map<number, Buffer>();
function padding(n: number): Buffer {
  let p = pads.get(n);
  if (!p) {
    const unit = '<p>Thanks for your order. Lorem ipsum dolor sit amet, consectetur adipiscing elit.</p>';
    p = Buffer.from(unit.repeat(Math.ceil(n / unit.length)).slice(0, n));
    pads.set(n, p);
  }
  return p;
}

interface Started {
  child: ChildProcess;
  pid: number;
  port: number;
  /** VmRSS right after the ready line. */
  idle: number;
  stderr(): string;
  summary(): Record<string, unknown> | undefined;
  /** Event lines read from stdout so far (while it is read). */
  eventLines(): number;
  /** Stop reading stdout (the pipe stays open). */
  stall(): void;
}

/**
 * Starts `onepush listen --json --port 0 --secret … <args>` in `cwd` (also its TMPDIR) and resolves after its ready
 * line. Its stdout is scanned without keeping it: only the ready, summary and not_shown lines are parsed (event lines
 * may be ~700 KB each).
 */
async function startListen(cwd: string, args: string[]): Promise<Started> {
  const child = spawn(process.execPath, [BIN, 'listen', '--json', '--port', '0', '--secret', SECRET, ...args], {
    cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', TMPDIR: cwd },
  });
  children.add(child);
  child.once('exit', () => children.delete(child));
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    if (err.length < 64 * 1024) err += d.toString();
  });
  let ready: Record<string, unknown> | undefined;
  let summary: Record<string, unknown> | undefined;
  let events = 0;
  let pending: Buffer[] = [];
  let onReady: (() => void) | undefined;
  const line = (parts: Buffer[]): void => {
    let head = parts[0] ?? Buffer.alloc(0);
    if (head.length < 24 && parts.length > 1) head = Buffer.concat(parts);
    const kind = /^\{"kind":"([a-z_]+)"/.exec(head.subarray(0, 24).toString('latin1'))?.[1];
    if (kind === 'event') events++;
    if (kind !== 'ready' && kind !== 'summary') return;
    const parsed = JSON.parse(Buffer.concat(parts).toString('utf8')) as Record<string, unknown>;
    if (kind === 'ready') {
      ready = parsed;
      onReady?.();
    } else summary = parsed;
  };
  const onData = (chunk: Buffer): void => {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      pending.push(chunk.subarray(start, nl));
      line(pending);
      pending = [];
      start = nl + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  };
  child.stdout!.on('data', onData);
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no ready line within 15 s')), 15_000);
    onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`listen exited (${code ?? signal}) before its ready line: ${err.trim().slice(0, 500)}`));
    });
  });
  const pid = child.pid!;
  const idle = memOf(pid).rss;
  return {
    child,
    pid,
    port: Number(ready!.port),
    idle,
    stderr: () => err,
    summary: () => summary,
    eventLines: () => events,
    stall: () => {
      child.stdout!.off('data', onData);
      child.stdout!.pause();
    },
  };
}

/** SIGTERM, then how it ended and how long it took; SIGKILL after `killAfterMs`. `onSlow` runs once after `slowMs`. */
async function stop(
  child: ChildProcess,
  killAfterMs = 20_000,
  slow?: { ms: number; then: () => void },
): Promise<{ code: number | null; signal: NodeJS.Signals | null; ms: number; killed: boolean }> {
  const t0 = performance.now();
  if (child.exitCode !== null || child.signalCode !== null) return { code: child.exitCode, signal: child.signalCode, ms: 0, killed: false };
  const exited = once(child, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
  child.kill('SIGTERM');
  const slowTimer = slow ? setTimeout(slow.then, slow.ms) : undefined;
  let killed = false;
  const killTimer = setTimeout(() => {
    killed = true;
    child.kill('SIGKILL');
  }, killAfterMs);
  const [code, signal] = await exited;
  clearTimeout(killTimer);
  if (slowTimer) clearTimeout(slowTimer);
  return { code, signal, ms: performance.now() - t0, killed };
}

/**
 * Sends `n` signed events, `inFlight` at a time on as many kept-alive connections; counts the answers, and samples
 * the listener's RSS after every tenth of them (does it grow with the events, or level off?).
 */
async function sendAll(pid: number, port: number, n: number, size: number, prefix: string, inFlight = 4) {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: inFlight, pipelining: 1 });
  const statuses = new Map<string, number>();
  let next = 0;
  let bytes = 0;
  let firstError: string | undefined;
  let answered = 0;
  const step = Math.max(1, Math.round(n / 10));
  const rssAlong: number[] = [];
  const t0 = performance.now();
  const worker = async (): Promise<void> => {
    while (next < n) {
      const i = next++;
      const body = bigEvent(`evt_${prefix}_${String(i).padStart(6, '0')}`, size);
      bytes += body.length;
      let key: string;
      try {
        const res = await pool.request({
          path: PATH,
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-onepush-signature': hmac(body) },
          body,
        });
        await res.body.text();
        key = String(res.statusCode);
      } catch (e) {
        key = (e as { code?: string }).code ?? 'error';
        firstError ??= (e as Error).message;
      }
      statuses.set(key, (statuses.get(key) ?? 0) + 1);
      if (++answered % step === 0) {
        try {
          rssAlong.push(memOf(pid).rss);
        } catch {
          /* exited */
        }
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: inFlight }, worker));
  } finally {
    await pool.close().catch(() => undefined);
  }
  const ms = performance.now() - t0;
  const ok = statuses.get('200') ?? 0;
  const other = [...statuses].filter(([k]) => k !== '200').map(([k, v]) => `${v}× ${k}`);
  return { ok, ms, bytes, other, firstError, step, rssAlong };
}

function describeSend(r: Awaited<ReturnType<typeof sendAll>>, n: number): string {
  return (
    `${fmt(r.ok)}/${fmt(n)} answered 200${r.other.length ? ` (others: ${r.other.join(', ')}${r.firstError ? `; first error: ${r.firstError}` : ''})` : ''}, ` +
    `sent ${(r.bytes / 1e6).toFixed(0)} MB in ${(r.ms / 1000).toFixed(1)} s (${(r.bytes / 1e6 / (r.ms / 1000)).toFixed(0)} MB/s), 4 in flight\n` +
    `  RSS after every ${fmt(r.step)} answers (MiB): ${r.rssAlong.map((b) => (b / 1024 / 1024).toFixed(0)).join(', ')}`
  );
}

function describeStop(s: Awaited<ReturnType<typeof stop>>): string {
  return s.killed ? `did NOT exit within the grace period: SIGKILLed after ${(s.ms / 1000).toFixed(1)} s` : `exit ${s.code ?? s.signal} after SIGTERM in ${(s.ms / 1000).toFixed(2)} s`;
}

/** A fresh directory of its own for one scenario. */
function scenarioDir(name: string): string {
  const d = join(dir, name);
  mkdirSync(d);
  return d;
}

/** Size of the spool file(s) listen made under `cwd` (its TMPDIR), if any. */
function spoolBytes(cwd: string): number | undefined {
  let total: number | undefined;
  for (const e of readdirSync(cwd)) {
    if (!e.startsWith('onepush-spool-')) continue;
    for (const f of readdirSync(join(cwd, e))) total = (total ?? 0) + statSync(join(cwd, e, f)).size;
  }
  return total;
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Forward queue while the app is down.

async function forwardQueue(save: boolean): Promise<void> {
  const SIZE = 700_000;
  const label = `forward queue (${fmt(FORWARD_EVENTS)} × 700 KB, app down, ${save ? '--save' : '--no-save'})`;
  const cwd = scenarioDir(save ? 'forward-save' : 'forward-nosave');
  const appPort = await freePort(); // nothing listens there
  const log = join(cwd, 'events.ndjson');
  const l = await startListen(cwd, ['--forward-to', `http://127.0.0.1:${appPort}${PATH}`, ...(save ? ['--save', log] : ['--no-save'])]);
  try {
    const sent = await sendAll(l.pid, l.port, FORWARD_EVENTS, SIZE, save ? 'fwd_save' : 'fwd_nosave');
    const mem = memOf(l.pid);
    const spool = save ? undefined : spoolBytes(cwd);
    const logSize = save ? statSync(log).size : undefined;
    const s = await stop(l.child);
    const summary = l.summary();
    const queued = summary?.queued;
    console.log(`${label}: peak RSS ${mib(mem.peak)} (idle ${mib(l.idle)}) — ${verdict(mem.peak)}`);
    console.log(`  ${describeSend(sent, FORWARD_EVENTS)}; after the last: ${mib(mem.rss)}`);
    console.log(
      `  ${save ? `capture log ${(logSize! / 1e6).toFixed(0)} MB` : `spool file ${spool === undefined ? 'none found' : `${(spool / 1e6).toFixed(0)} MB`} (memory budget 16 MiB)`}; ` +
        `${fmt(l.eventLines())} event lines read from stdout`,
    );
    console.log(
      `  ${describeStop(s)}; summary: ${summary === undefined ? 'NONE printed' : `"queued":${String(queued)} (expected ${FORWARD_EVENTS}: ${queued === FORWARD_EVENTS ? 'yes' : 'NO'}), "forwarded":${String(summary.forwarded)}, "not_shown":${String(summary.not_shown)}`}`,
    );
    if (!save) console.log(`  spool removed at exit: ${spoolBytes(cwd) === undefined ? 'yes' : 'NO'}`);
    const warn = l.stderr().trim();
    if (warn) console.log(`  stderr: ${warn.split('\n').slice(0, 3).join(' | ')}`);
  } finally {
    if (l.child.exitCode === null && l.child.signalCode === null) l.child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 2. Stalled stdout reader.

async function stalledStdout(): Promise<void> {
  const SIZE = 200_000;
  const label = `stalled stdout reader (${fmt(STALL_EVENTS)} × 200 KB, --save)`;
  const cwd = scenarioDir('stalled');
  const l = await startListen(cwd, ['--save', join(cwd, 'events.ndjson')]);
  try {
    l.stall();
    const sent = await sendAll(l.pid, l.port, STALL_EVENTS, SIZE, 'stall');
    const mem = memOf(l.pid);
    let closedPipe = false;
    const s = await stop(l.child, 20_000, {
      ms: 10_000,
      then: () => {
        closedPipe = true;
        l.child.stdout!.destroy();
      },
    });
    console.log(`${label}: peak RSS ${mib(mem.peak)} (idle ${mib(l.idle)}) — ${verdict(mem.peak)}`);
    console.log(`  ${describeSend(sent, STALL_EVENTS)}; after the last: ${mib(mem.rss)}`);
    console.log(
      `  ${describeStop(s)} (goal: a few seconds)${closedPipe ? '; it was still running after 10 s, so this bench closed its end of the stdout pipe' : ', stdout pipe still stalled'}`,
    );
    const warn = l
      .stderr()
      .split('\n')
      .filter((x) => x.trim() !== '');
    const notShown = warn.filter((x) => x.includes('not shown'));
    console.log(`  stderr warning: ${notShown.length ? notShown.join(' | ') : `NONE about lines not shown${warn.length ? ` (stderr: ${warn.slice(0, 3).join(' | ')})` : ''}`}`);
  } finally {
    if (l.child.exitCode === null && l.child.signalCode === null) l.child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// 3. Trickle.

// The tricklers, in a process of their own: argv port, connections, seconds, content-length. Prints "started"
// once every connection has sent its head, then one JSON line of figures when done; exits by itself.
const TRICKLER = `
const { connect } = require('node:net');
const [port, conns, seconds, length] = process.argv.slice(1).map(Number);
const ONE = Buffer.from('a');
const PREFIX = Buffer.from('{"id":"evt_trickle","type":"email.sent","created_at":"2026-11-27T10:00:00.000Z","data":{"html":"');
let stop = false;
const stats = { connections: 0, bytes: 0, min: Infinity, max: 0, closedEarly: 0, errors: 0, answers: {} };
setTimeout(() => { process.stdout.write(JSON.stringify({ ...stats, hardStop: true }) + '\\n'); process.exit(2); }, (seconds + 15) * 1000).unref();
function open() {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    s.setNoDelay(true);
    s.once('error', reject);
    s.once('connect', () => {
      s.removeListener('error', reject);
      const st = { s, sent: 0, closed: false, answer: '' };
      s.on('error', () => { stats.errors++; });
      s.on('data', (d) => { if (st.answer.length < 64) st.answer += d.toString('latin1'); });
      s.on('close', () => { st.closed = true; if (!stop) stats.closedEarly++; });
      s.write('POST /webhooks/onepush HTTP/1.1\\r\\nhost: 127.0.0.1\\r\\ncontent-type: application/json\\r\\nx-onepush-signature: ' + '0'.repeat(64) + '\\r\\ncontent-length: ' + length + '\\r\\n\\r\\n');
      resolve(st);
    });
  });
}
const drained = (st) => new Promise((resolve) => {
  const done = () => { st.s.off('drain', done); st.s.off('close', done); resolve(); };
  st.s.on('drain', done); st.s.on('close', done);
});
async function pump(st) {
  let i = 0;
  while (!stop && !st.closed && st.sent < length) {
    const byte = st.sent < PREFIX.length ? PREFIX.subarray(st.sent, st.sent + 1) : ONE;
    st.sent++;
    if (!st.s.write(byte)) await drained(st);
    if (++i % 256 === 0) await new Promise((r) => setImmediate(r));
  }
}
(async () => {
  const all = [];
  for (let i = 0; i < conns; i++) all.push(await open());
  stats.connections = all.length;
  process.stdout.write('started\\n');
  const t0 = Date.now();
  setTimeout(() => { stop = true; }, seconds * 1000);
  await Promise.all(all.map(pump));
  const ms = Date.now() - t0;
  for (const st of all) {
    // Bytes the server took (written minus what is still queued on our side).
    const took = st.sent - st.s.writableLength;
    stats.bytes += took; stats.min = Math.min(stats.min, took); stats.max = Math.max(stats.max, took);
    const status = /^HTTP\\/1\\.1 (\\d{3})/.exec(st.answer);
    if (status) stats.answers[status[1]] = (stats.answers[status[1]] || 0) + 1;
    st.s.destroy();
  }
  process.stdout.write(JSON.stringify({ ...stats, ms }) + '\\n');
  process.exit(0);
})().catch((e) => { process.stdout.write(JSON.stringify({ error: String(e && e.message || e) }) + '\\n'); process.exit(1); });
`;

const PROBE_BODY = JSON.stringify({
  id: 'evt_probe',
  type: 'email.sent',
  created_at: '2026-11-27T10:00:00.000Z',
  data: { email_id: 'em_probe', from: 'Acme <hello@acme.test>', to: ['jane@example.com'], subject: 'Your receipt' },
});

/** One small signed event on a fresh connection: its status (0: no answer) and latency. */
function probe(port: number, i: number): Promise<{ status: number; ms: number; error?: string }> {
  const body = PROBE_BODY.replace('evt_probe', `evt_probe_${String(i).padStart(4, '0')}`);
  const t0 = performance.now();
  return new Promise((resolve) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        path: PATH,
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-onepush-signature': hmac(body), connection: 'close' },
        timeout: 15_000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - t0 }));
      },
    );
    req.on('timeout', () => req.destroy(new Error('no answer within 15 s')));
    req.on('error', (e) => resolve({ status: 0, ms: performance.now() - t0, error: e.message }));
    req.end(body);
  });
}

/** One probe every 250 ms for `seconds` (started on time, whether or not the last has been answered). */
async function probes(port: number, seconds: number, first: number, onTick?: () => void) {
  const n = Math.max(1, Math.floor(seconds * 4));
  const all: Array<Promise<{ status: number; ms: number; error?: string }>> = [];
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const wait = t0 + i * 250 - performance.now();
    if (wait > 0) await sleep(wait);
    onTick?.();
    all.push(probe(port, first + i));
  }
  const results = await Promise.all(all);
  const ms = results.map((r) => r.ms).sort((a, b) => a - b);
  const errors = [...new Set(results.filter((r) => r.error).map((r) => r.error))];
  return {
    n,
    ok: results.filter((r) => r.status === 200).length,
    p50: ms[Math.floor(ms.length / 2)] ?? NaN,
    p90: ms[Math.floor(ms.length * 0.9)] ?? NaN,
    max: ms.at(-1) ?? NaN,
    errors,
  };
}

async function trickle(): Promise<void> {
  const label = `trickle (${TRICKLE_CONNECTIONS} connections × 1-byte writes of a 6 MiB body, ${TRICKLE_SECONDS} s, --max-body 10mb --no-save)`;
  const cwd = scenarioDir('trickle');
  const l = await startListen(cwd, ['--max-body', '10mb', '--no-save']);
  let trickler: ChildProcess | undefined;
  try {
    const base = await probes(l.port, PROBE_SECONDS, 0);
    const cpu0 = cpuMs(l.pid);
    const tTrickle = performance.now();
    trickler = spawn(process.execPath, ['-e', TRICKLER, String(l.port), String(TRICKLE_CONNECTIONS), String(TRICKLE_SECONDS), String(TRICKLE_LENGTH)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.add(trickler);
    let out = '';
    trickler.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    const exited = once(trickler, 'exit') as Promise<[number | null, NodeJS.Signals | null]>;
    for (let i = 0; !out.includes('started\n'); i++) {
      if (trickler.exitCode !== null || i > 200) throw new Error(`the tricklers did not start: ${out.trim() || `exit ${trickler.exitCode}`}`);
      await sleep(50);
    }
    let sampled = 0;
    let unread = 0;
    const during = await probes(l.port, Math.max(1, TRICKLE_SECONDS - 1), 1000, () => {
      try {
        sampled = Math.max(sampled, memOf(l.pid).rss);
        unread = Math.max(unread, unreadAt(l.port));
      } catch {
        /* exited */
      }
    });
    const [code] = await exited;
    children.delete(trickler);
    const cpuShare = (cpuMs(l.pid) - cpu0) / (performance.now() - tTrickle);
    const mem = memOf(l.pid);
    const after = await probes(l.port, 1, 2000);
    const s = await stop(l.child);
    const summary = l.summary();
    let t: Record<string, unknown> = {};
    try {
      t = JSON.parse(out.split('\n').filter((x) => x.startsWith('{')).at(-1) ?? '{}') as Record<string, unknown>;
    } catch {
      /* reported below */
    }
    const ms = (x: number): string => (x < 10 ? x.toFixed(1) : x.toFixed(0));
    console.log(`${label}: peak RSS ${mib(mem.peak)} (idle ${mib(l.idle)}) — ${verdict(mem.peak)}`);
    console.log(
      `  valid requests during the trickle: ${during.ok}/${during.n} answered 200, p50 ${ms(during.p50)} ms, p90 ${ms(during.p90)} ms, max ${ms(during.max)} ms` +
        `${during.errors.length ? ` (errors: ${during.errors.join('; ')})` : ''}`,
    );
    console.log(
      `  baseline (same listener, no trickle, ${PROBE_SECONDS} s before): ${base.ok}/${base.n} answered 200, p50 ${ms(base.p50)} ms, max ${ms(base.max)} ms; ` +
        `after the tricklers left: ${after.ok}/${after.n} answered 200, max ${ms(after.max)} ms`,
    );
    if (t.error !== undefined || code !== 0) console.log(`  tricklers: exit ${code}, ${t.error === undefined ? out.trim().slice(-300) : String(t.error)}`);
    else {
      const answers = Object.entries((t.answers as Record<string, number> | undefined) ?? {}).map(([k, v]) => `${v}× ${k}`);
      console.log(
        `  tricklers: ${String(t.connections)} connections wrote ${(Number(t.bytes) / 1e6).toFixed(2)} MB of body in ${(Number(t.ms) / 1000).toFixed(1)} s ` +
          `(per connection ${fmt(Number(t.min))}–${fmt(Number(t.max))} bytes, as fast as one process makes 1-byte writes), ` +
          `${String(t.closedEarly)} closed by the server before the end${answers.length ? ` (answers: ${answers.join(', ')})` : ''}, ${String(t.errors)} socket errors; ` +
          `listen used ${(cpuShare * 100).toFixed(0)}% of a core meanwhile, and left at most ${fmt(unread)} bytes unread in its sockets (sampled every 250 ms)`,
      );
    }
    console.log(`  RSS: largest sampled during the trickle ${mib(sampled)}, after it ${mib(mem.rss)}; ${describeStop(s)}; summary ${summary === undefined ? 'NONE printed' : `"received":${String(summary.received)}, "rejected":${String(summary.rejected)}`}`);
  } finally {
    if (trickler && trickler.exitCode === null && trickler.signalCode === null) trickler.kill('SIGKILL');
    if (l.child.exitCode === null && l.child.signalCode === null) l.child.kill('SIGKILL');
  }
}

// ---------------------------------------------------------------------------------------------------------------

const t0 = performance.now();
let couldNotRun = 0;
console.log(`onepush listen, peak RSS (VmHWM) per scenario, each in a fresh process; idle = its RSS right after its ready line`);
for (const [name, run] of [
  ['forward queue --save', () => forwardQueue(true)],
  ['forward queue --no-save', () => forwardQueue(false)],
  ['stalled stdout reader', stalledStdout],
  ['trickle', trickle],
] as const) {
  try {
    await run();
  } catch (e) {
    couldNotRun++;
    console.log(`${name}: could not run: ${(e as Error).stack ?? String(e)}`);
  }
}
console.log(`memory bench: ${((performance.now() - t0) / 1000).toFixed(0)} s${couldNotRun ? `, ${couldNotRun} scenario(s) could not run` : ''}`);
killAll();
process.exitCode = couldNotRun ? 1 : 0;
