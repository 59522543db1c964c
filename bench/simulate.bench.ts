// `npm run bench -- simulate`: simulate's throughput against `replay` of the same events to the same receiver, and
// simulate's peak RSS for about a million events. Every figure is measured in this run on this machine.
//
// - Throughput: a campaign of RECIPIENTS recipients (--speed max, --concurrency 16) into a bare local sink (its own
//   process), against `onepush replay --keep-signature --concurrency 16` of the capture log that the same campaign
//   saved (--save): the same requests, bodies and headers. Whole processes, alternating, median of 5. Goal ≥ 0.9x.
// - Memory: a campaign of ~1,000,000 events (400,000 recipients, --speed max); peak RSS from /proc/<pid>/status
//   VmHWM. Goal < 120 MiB. BENCH_SIMULATE_BIG=<recipients> changes its size.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { peakRss, timed } from './processes.js';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin/onepush.js');
const dir = mkdtempSync(join(tmpdir(), 'onepush-bench-simulate-'));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const RECIPIENTS = 8000;
// Five rounds: on these shared machines one run of either can take 30% longer than the next.
const REPS = 5;
const BIG = Number(process.env.BENCH_SIMULATE_BIG ?? 400_000);

const SINK = `
const http = require('node:http');
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}'); }); });
s.keepAliveTimeout = 30000;
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
`;



const sink = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'pipe', 'inherit'] });
try {
  const [portLine] = (await once(sink.stdout, 'data')) as [Buffer];
  const url = `http://127.0.0.1:${portLine.toString().trim()}/webhooks/onepush`;
  const campaignArgs = (n: number): string[] => [BIN, 'simulate', '--to', url, '--recipients', String(n), '--seed', '42', '--speed', 'max', '--concurrency', '16', '--secret', 'whsec_bench', '--json'];

  // 1. Throughput: the log replay sends is the one this campaign saves.
  const log = join(dir, 'campaign.ndjson');
  const saved = JSON.parse(timed([...campaignArgs(RECIPIENTS), '--save', log]).stdout) as { requests: number; events: number };
  const sim: number[] = [];
  const rep: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const t = timed(campaignArgs(RECIPIENTS));
    const s = JSON.parse(t.stdout) as { requests: number; ok: boolean };
    if (!s.ok || s.requests !== saved.requests) throw new Error(`simulate: ${JSON.stringify(s).slice(0, 300)}`);
    sim.push(t.ms);
    const r = timed([BIN, 'replay', log, '--to', url, '--concurrency', '16', '--keep-signature', '--json']);
    const summary = JSON.parse(r.stdout.trimEnd().split('\n').at(-1)!) as { ok: number };
    if (summary.ok !== saved.requests) throw new Error(`replay: ${summary.ok} of ${saved.requests} ok`);
    rep.push(r.ms);
  }
  const simRate = saved.requests / (median(sim) / 1000);
  const repRate = saved.requests / (median(rep) / 1000);
  console.log(`simulate ${RECIPIENTS} recipients = ${saved.requests} requests, --speed max --concurrency 16, into a bare sink (whole processes, alternating, median of ${REPS}):`);
  console.log(`  onepush simulate  ${Math.round(simRate)} events/s  (${median(sim).toFixed(0)} ms)`);
  console.log(`  onepush replay    ${Math.round(repRate)} events/s  (${median(rep).toFixed(0)} ms) of the same events (--keep-signature)`);
  console.log(`  ratio ${(simRate / repRate).toFixed(2)}x (goal ≥ 0.9x)`);

  // 2. Memory for ~a million events.
  const big = await peakRss(campaignArgs(BIG));
  const report = JSON.parse(big.stdout) as { events: number; requests: number };
  console.log(`simulate ${BIG} recipients = ${report.events} events: peak RSS ${big.mib.toFixed(1)} MiB (goal < 120 MiB), ${Math.round(report.requests / (big.ms / 1000))} events/s`);
} finally {
  sink.kill();
  rmSync(dir, { recursive: true, force: true });
}
