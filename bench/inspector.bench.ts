// `npm run bench -- inspector`: what the inspector's page costs the listener, and how the page holds up in a burst.
//
// (a) `onepush listen --save … --json > /dev/null` under the load of bench/listen.bench.ts (autocannon, the same
//     signed email.bounced), once with nobody watching and once with the inspector page open in Chromium on the
//     listener (subscribed to its live stream, rendering), alternating (ABBA) in the same run: the ratio of the
//     two (goal ≥ 0.90x: the page costs the listener at most 10%). Without Chromium, a bare subscriber reading
//     /_onepush/api/stream stands in for the page (said in the output).
// (b) A burst of 10,000 signed events (7 types, distinct ids) sent to a fresh listener as fast as 50 connections
//     go, with the page open: every frame's time is recorded in the page (a requestAnimationFrame loop; and long
//     animation frames from PerformanceObserver), until the page's total shows all 10,000. Prints the worst frame
//     and the p99 (goal: no frame over 100 ms).
//
// BENCH_SECONDS (default 10), BENCH_CONNECTIONS (default 50) and BENCH_ROUNDS (default 3) tune (a); BENCH_WATCHER=sse
// has a bare SSE subscriber watch in (a) even with Chromium (what the server side alone costs). On a machine with
// few cores Chromium rendering competes with the listener for CPU: listen's own CPU per request (printed too) says
// how much of the difference is the listener's work.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Browser, Page } from 'playwright-core';
import { CHROMIUM, HAS_CHROMIUM, launchChromium } from '../test/helpers/browser.js';

// The functions run in the page use its globals (the node program has no DOM lib).
declare const window: any;
declare const document: any;

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number };
  non2xx: number;
  errors: number;
}
const require = createRequire(import.meta.url);
const autocannon = require('autocannon') as (opts: Record<string, unknown>) => Promise<AutocannonResult>;

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin/onepush.js');
const SECRET = 'whsec_bench';
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** BENCH_WATCHER=sse: a bare SSE subscriber stands in for the page even with Chromium here (the server's share alone). */
const SSE_ONLY = process.env.BENCH_WATCHER === 'sse';
const BURST = 10_000;
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const hmac = (body: string): string => createHmac('sha256', SECRET).update(body).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'onepush-bench-inspector-'));
const children: ChildProcess[] = [];

interface Listener {
  child: ChildProcess;
  port: number;
  inspector: string;
}

/** `onepush listen --port 0 --secret … --json --save <log>`: stdout is read for the ready line, then drained. */
async function startListener(name: string): Promise<Listener> {
  const child = spawn(process.execPath, [BIN, 'listen', '--port', '0', '--secret', SECRET, '--json', '--save', join(dir, `${name}.ndjson`)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, NO_COLOR: '1' },
  });
  children.push(child);
  const lines = createInterface({ input: child.stdout! });
  const ready = await new Promise<{ port: number; inspector: string }>((resolve, reject) => {
    lines.on('line', (l) => {
      if (l.includes('"kind":"ready"')) resolve(JSON.parse(l) as { port: number; inspector: string });
    });
    child.once('exit', (code) => reject(new Error(`listen exited (${code}) before it was ready`)));
  });
  // From here on its event lines are read and dropped, as > /dev/null would.
  lines.close();
  child.stdout!.resume();
  return { child, port: ready.port, inspector: ready.inspector };
}

/** CPU time (user + system, all threads) of a process so far, in ms, from /proc (Linux; undefined elsewhere). */
function cpuMs(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

/** A watcher of the listener's inspector: the page in Chromium, or (without Chromium) a bare SSE reader. */
interface Watcher {
  close(): Promise<void>;
}

async function openPage(browser: Browser, url: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  await page.goto(url);
  await page.waitForSelector('#status.conn-live');
  return page;
}

async function watch(browser: Browser | undefined, l: Listener): Promise<Watcher> {
  if (browser !== undefined) {
    const page = await openPage(browser, l.inspector);
    return { close: () => page.close() };
  }
  const html = await (await fetch(l.inspector)).text();
  const token = /name="onepush-token" content="([^"]+)"/.exec(html)?.[1] ?? '';
  const abort = new AbortController();
  const res = await fetch(`http://localhost:${l.port}/_onepush/api/stream?token=${encodeURIComponent(token)}`, { signal: abort.signal });
  if (!res.ok || res.body === null) throw new Error(`the stream answered ${res.status}`);
  const reader = res.body.getReader();
  const reading = (async () => {
    try {
      for (;;) if ((await reader.read()).done) return;
    } catch {
      // aborted
    }
  })();
  return {
    async close() {
      abort.abort();
      await reading;
    },
  };
}

const body = JSON.stringify(JSON.parse(readFileSync(join(ROOT, 'fixtures/email.bounced.json'), 'utf8')));
function load(port: number, duration: number): Promise<AutocannonResult> {
  return autocannon({
    url: `http://127.0.0.1:${port}/webhooks/onepush`,
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-onepush-signature': hmac(body) },
    body,
    connections: CONNECTIONS,
    duration,
  });
}

/** (a) listen with and without the page watching. */
async function withAndWithout(browser: Browser | undefined): Promise<void> {
  const l = await startListener('load');
  await load(l.port, 2);
  const who = browser !== undefined ? 'the inspector page open in Chromium' : `an SSE subscriber on /_onepush/api/stream (${SSE_ONLY ? 'BENCH_WATCHER=sse' : 'no Chromium'})`;
  console.log(`(a) listen under autocannon (${CONNECTIONS} connections, ${SECONDS} s per run, ${ROUNDS} rounds, ABBA): nobody watching vs ${who}`);
  let plain = 0;
  let watched = 0;
  const ratios: number[] = [];
  const cpu = { plain: [] as number[], watched: [] as number[] };
  const run = async (withPage: boolean): Promise<AutocannonResult> => {
    const w = withPage ? await watch(browser, l) : undefined;
    try {
      const before = cpuMs(l.child.pid);
      const r = await load(l.port, SECONDS);
      const after = cpuMs(l.child.pid);
      if (before !== undefined && after !== undefined) cpu[withPage ? 'watched' : 'plain'].push(((after - before) * 1000) / r.requests.total);
      if (r.non2xx > 0 || r.errors > 0) console.log(`  ${withPage ? 'watched' : 'plain'}: ${r.non2xx} non-2xx, ${r.errors} errors`);
      return r;
    } finally {
      await w?.close();
    }
  };
  for (let round = 1; round <= ROUNDS; round++) {
    const order = round % 2 === 1 ? [false, true] : [true, false];
    const got: Record<string, AutocannonResult> = {};
    for (const withPage of order) got[String(withPage)] = await run(withPage);
    const p = got.false as AutocannonResult;
    const w = got.true as AutocannonResult;
    plain += p.requests.average;
    watched += w.requests.average;
    ratios.push(w.requests.average / p.requests.average);
    const us = (xs: number[]): string => (xs.length === round ? `, listen CPU/request ${(xs[round - 1] as number).toFixed(0)} µs` : '');
    console.log(
      `  round ${round}: plain ${p.requests.average.toFixed(0)} req/s (p99 ${p.latency.p99} ms${us(cpu.plain)}), watched ${w.requests.average.toFixed(0)} req/s (p99 ${w.latency.p99} ms${us(cpu.watched)}): ${(w.requests.average / p.requests.average).toFixed(2)}x`,
    );
  }
  if (cpu.plain.length === ROUNDS && cpu.watched.length === ROUNDS) {
    console.log(`listen's CPU per request (median, steadier than req/s on a busy machine): plain ${median(cpu.plain).toFixed(0)} µs, watched ${median(cpu.watched).toFixed(0)} µs → ratio ${(median(cpu.plain) / median(cpu.watched)).toFixed(2)}x`);
  }
  console.log(
    `ratio ${(watched / plain).toFixed(2)}x of the totals, median of the rounds ${median(ratios).toFixed(2)}x (goal ≥ 0.90x): watched ${(watched / ROUNDS).toFixed(0)} req/s vs plain ${(plain / ROUNDS).toFixed(0)} req/s`,
  );
  await stop(l.child);
}

/** (b) the page through a burst of 10,000 events. */
async function burst(browser: Browser): Promise<void> {
  const l = await startListener('burst');
  const page = await openPage(browser, l.inspector);
  // A string, not a function: tsx would wrap the named functions in a __name() the page does not have.
  await page.evaluate(`(() => {
    window.__frames = [];
    window.__loaf = [];
    window.__recording = true;
    let last = performance.now();
    const tick = (t) => {
      window.__frames.push(t - last);
      last = t;
      if (window.__recording) requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    for (const type of ['long-animation-frame', 'longtask']) {
      try {
        new PerformanceObserver((list) => {
          for (const e of list.getEntries()) if (e.entryType === 'long-animation-frame') window.__loaf.push(e.duration);
        }).observe({ type, buffered: false });
      } catch {}
    }
  })()`);
  const types = readdirSync(join(ROOT, 'fixtures'))
    .filter((f) => /^email\.[a-z]+\.json$/.test(f))
    .map((f) => JSON.parse(readFileSync(join(ROOT, 'fixtures', f), 'utf8')) as Record<string, unknown>);
  const url = `http://127.0.0.1:${l.port}/webhooks/onepush`;
  let next = 0;
  let failed = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: 50 }, async () => {
      for (let i = next++; i < BURST; i = next++) {
        const event = { ...types[i % types.length], id: `evt_burst_${String(i).padStart(16, '0')}` };
        const text = JSON.stringify(event);
        const res = await fetch(url, { method: 'POST', body: text, headers: { 'content-type': 'application/json', 'x-onepush-signature': hmac(text) } });
        await res.arrayBuffer();
        if (res.status !== 200) failed++;
      }
    }),
  );
  const sent = performance.now() - t0;
  await page.waitForFunction((n) => document.getElementById('total')?.textContent === `${n.toLocaleString('en-US')} records`, BURST, { timeout: 120_000 });
  const shown = performance.now() - t0;
  const rowsShown = await page.locator('#list .row').count();
  const { frames, loaf } = await page.evaluate(() => {
    const w = window as { __frames: number[]; __loaf: number[]; __recording: boolean };
    w.__recording = false;
    return { frames: w.__frames.slice(1), loaf: w.__loaf };
  });
  const sorted = [...frames].sort((a, b) => a - b);
  const worst = sorted[sorted.length - 1] ?? 0;
  const p99 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] ?? 0;
  const over = frames.filter((f) => f > 100).length;
  console.log(`(b) a burst of ${BURST.toLocaleString('en-US')} signed events (${types.length} types) with the page open in Chromium`);
  console.log(`  sent in ${sent.toFixed(0)} ms (${failed} not answered 200); the page's total showed all ${BURST.toLocaleString('en-US')} after ${shown.toFixed(0)} ms, ${rowsShown} rows in the list`);
  console.log(
    `  frames: ${frames.length}, worst ${worst.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms, over 100 ms: ${over} (goal: none); ` +
      `long animation frames reported: ${loaf.length}${loaf.length > 0 ? ` (longest ${Math.max(...loaf).toFixed(0)} ms)` : ''}`,
  );
  await page.close();
  await stop(l.child);
}

let browser: Browser | undefined;
try {
  if (HAS_CHROMIUM) browser = await launchChromium();
  else console.log(`no Chromium at ${CHROMIUM} (apt-get install -y chromium, or set ONEPUSH_CHROMIUM): (a) uses a bare SSE subscriber, (b) is skipped`);
  await withAndWithout(SSE_ONLY ? undefined : browser);
  if (browser !== undefined) await burst(browser);
} finally {
  await browser?.close();
  for (const c of children) await stop(c);
  rmSync(dir, { recursive: true, force: true });
}
