// Start-up time of the offline commands against `node -e 0` (issue #2: `onepush verify` on a small file within
// 1.3x). Paired, interleaved runs in one bench run, so machine noise hits both sides alike; the figure is the
// median of the per-pair ratios, and the medians of each side are printed too.
//   npm run bench -- startup          (ONEPUSH_BENCH_PAIRS=80 for more pairs)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createHmac } from 'node:crypto';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const BIN = join(ROOT, 'bin/onepush.js');
const PAIRS = Number(process.env.ONEPUSH_BENCH_PAIRS ?? 40);
const GOAL = 1.3;
// stdout as in CI and in `$(onepush sign …)`: a pipe (ONEPUSH_BENCH_STDOUT=ignore for /dev/null).
const STDOUT = process.env.ONEPUSH_BENCH_STDOUT === 'ignore' ? 'ignore' : 'pipe';

const dir = mkdtempSync(join(tmpdir(), 'onepush-bench-'));
const body = join(dir, 'body.json');
const BODY = '{"id":"evt_1","type":"email.sent","created_at":"2026-11-27T00:00:00.000Z","data":{"to":["jane@example.com"]}}';
writeFileSync(body, BODY);
const SECRET = 'whsec_bench';
const SIG = createHmac('sha256', SECRET).update(BODY).digest('hex');
const env = { ...process.env, NO_COLOR: '1' };

function time(args: string[]): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { env, stdio: ['ignore', STDOUT, 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const cases: Array<[string, string[]]> = [
  ['verify <file>', [BIN, 'verify', body, '--secret', SECRET, '--signature', SIG]],
  ['sign <file>', [BIN, 'sign', body, '--secret', SECRET]],
  ['events', [BIN, 'events']],
  ['--help', [BIN, '--help']],
];

try {
  // Warm the disk cache and the code cache before measuring.
  for (let i = 0; i < 3; i++) for (const [, args] of cases) time(args);
  for (let i = 0; i < 3; i++) time(['-e', '0']);
  console.log(`${PAIRS} interleaved pairs per command against \`node -e 0\` (node ${process.version}, stdout: ${STDOUT})`);
  console.log('command          node -e 0   onepush    ratio (median of pairs)');
  let verifyRatio = NaN;
  for (const [name, args] of cases) {
    const base: number[] = [];
    const ours: number[] = [];
    const ratios: number[] = [];
    for (let i = 0; i < PAIRS; i++) {
      // Alternate which side goes first, so neither always runs on a warmer machine.
      let b: number;
      let o: number;
      if (i % 2 === 0) {
        b = time(['-e', '0']);
        o = time(args);
      } else {
        o = time(args);
        b = time(['-e', '0']);
      }
      base.push(b);
      ours.push(o);
      ratios.push(o / b);
    }
    const ratio = median(ratios);
    if (name.startsWith('verify')) verifyRatio = ratio;
    console.log(`${name.padEnd(16)} ${median(base).toFixed(1).padStart(7)} ms ${median(ours).toFixed(1).padStart(7)} ms   ${ratio.toFixed(2)}x`);
  }
  const ok = verifyRatio <= GOAL;
  console.log(`\nverify start-up: ${verifyRatio.toFixed(2)}x node -e 0 (goal ≤ ${GOAL}x): ${ok ? 'met' : 'NOT met'}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
