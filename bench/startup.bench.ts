// Start-up time of the CLI's commands against `node -e 0` (issue #2: `onepush verify` on a small file within 1.3x
// on Node 20; issue #14: within 1.5x on Node 24). Paired, interleaved runs in one bench run, so machine noise hits
// both sides alike; the figure is the median of the per-pair ratios, and the medians of each side are printed too.
//   npm run bench -- startup                         (this build, every command)
//   npx -y -p node@24 npm run bench -- startup       (under Node 24: the children run on the bench's own node)
// Knobs:
//   ONEPUSH_BENCH_PAIRS=80        rounds per command (default 40)
//   ONEPUSH_BENCH_CASES=verify,trigger   only the commands whose name contains one of these
//   ONEPUSH_BENCH_BUILDS=a=/x/bin/onepush.js,b=/y/bin/onepush.js   compare builds (variants of the build, in other
//                                 folders) in the same run: each round runs `node -e 0` and then every build, in
//                                 rotating order, and each build's ratio is to the `node -e 0` of its own round
//                                 A build that is not a .js file is an executable, run as it is (not by node)
//   ONEPUSH_BENCH_BINARY=0        leave out the single executable: by default, when dist/bin/onepush exists (`npm run
//                                 build:binary`), it is a build of its own, "binary", beside the npm install's
//                                 bin/onepush.js, and the verify row also gives its ratio to the npm install's
//   ONEPUSH_BENCH_STDOUT=ignore   stdout to /dev/null (default: a pipe, as in CI and in `$(onepush sign …)`)
//   ONEPUSH_BENCH_KEEP_CA=1       keep NODE_EXTRA_CA_CERTS in the children's environment. By default it is removed:
//                                 Node 20 reads that file at every start (~60 ms for a system bundle, Node 22+ reads it
//                                 only when TLS needs it), which inflates `node -e 0` and flatters every ratio on 20.
// The `trigger` and `replay` rows send one event to a local sink (a process of its own): they load undici. The
// `node alone:` rows are no build of onepush: node itself doing the least the command must do (read the file, HMAC
// it, print a line to the pipe), the floor under which no build of the CLI can go.
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const PAIRS = Number(process.env.ONEPUSH_BENCH_PAIRS ?? 40);
const MAJOR = Number(process.versions.node.split('.')[0]);
const GOAL = MAJOR <= 20 ? 1.3 : 1.5;
const STDOUT = process.env.ONEPUSH_BENCH_STDOUT === 'ignore' ? 'ignore' : 'pipe';
const BUILDS: Array<[string, string]> = process.env.ONEPUSH_BENCH_BUILDS
  ? process.env.ONEPUSH_BENCH_BUILDS.split(',').map((b) => {
      const i = b.indexOf('=');
      return [b.slice(0, i), b.slice(i + 1)] as [string, string];
    })
  : [['onepush', join(ROOT, 'bin/onepush.js')]];
const EXE = join(ROOT, 'dist', 'bin', process.platform === 'win32' ? 'onepush.exe' : 'onepush');
if (!process.env.ONEPUSH_BENCH_BUILDS && process.env.ONEPUSH_BENCH_BINARY !== '0' && existsSync(EXE)) BUILDS.push(['binary', EXE]);
const ONLY = process.env.ONEPUSH_BENCH_CASES?.split(',').filter(Boolean);

const dir = mkdtempSync(join(tmpdir(), 'onepush-bench-'));
const body = join(dir, 'body.json');
const BODY = '{"id":"evt_1","type":"email.sent","created_at":"2026-11-27T00:00:00.000Z","data":{"to":["jane@example.com"]}}';
writeFileSync(body, BODY);
const SECRET = 'whsec_bench';
const SIG = createHmac('sha256', SECRET).update(BODY).digest('hex');
const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
delete env.FORCE_COLOR;
delete env.ONEPUSH_WEBHOOK_SECRET;
const caNote = env.NODE_EXTRA_CA_CERTS !== undefined && process.env.ONEPUSH_BENCH_KEEP_CA !== '1';
if (caNote) delete env.NODE_EXTRA_CA_CERTS;

/** Runs `node <args>`, or an executable build (`<exe> <args>`): milliseconds to its exit. */
function time(args: string[], exe?: string): number {
  const t = process.hrtime.bigint();
  const r = spawnSync(exe ?? process.execPath, args, { env, cwd: dir, stdio: ['ignore', STDOUT, 'pipe'] });
  const ms = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${exe ?? 'node'} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return ms;
}

/** Runs a build of onepush with `args`: a .js entry through node, an executable (the single executable) as it is. */
const runBuild = (bin: string, args: string[]): number => (/\.[cm]?js$/.test(bin) ? time([bin, ...args]) : time(args, bin));

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const SINK = `
const http = require('node:http');
const s = http.createServer((req, res) => { req.resume(); req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json' }); res.end('{"ok":true}'); }); });
s.listen(0, '127.0.0.1', () => process.stdout.write(String(s.address().port) + '\\n'));
`;
// What `verify <file>` must do at the least, by node alone.
const FLOOR = `const { createHmac, timingSafeEqual } = require('node:crypto');
const [file, secret, sig] = process.argv.slice(1);
const mac = createHmac('sha256', secret).update(require('node:fs').readFileSync(file)).digest();
process.stdout.write(timingSafeEqual(mac, Buffer.from(sig, 'hex')) ? 'valid\\n' : 'invalid\\n');`;
const sink = spawn(process.execPath, ['-e', SINK], { stdio: ['ignore', 'pipe', 'inherit'] });

try {
  const [portLine] = (await once(sink.stdout!, 'data')) as [Buffer];
  const url = `http://127.0.0.1:${portLine.toString().trim()}/webhooks/onepush`;
  // [name, arguments, run by node alone (not by each build)]
  const allCases: Array<[string, string[], boolean?]> = [
    ['verify <file>', ['verify', body, '--secret', SECRET, '--signature', SIG]],
    ['node alone: verify', ['-e', FLOOR, body, SECRET, SIG], true],
    ['node alone: print', ['-e', 'process.stdout.write("x\\n")'], true],
    ['sign <file>', ['sign', body, '--secret', SECRET]],
    ['events', ['events']],
    ['--help', ['--help']],
    ['trigger (1 event)', ['trigger', 'email.sent', '--to', url, '--secret', SECRET]],
    ['replay (1 event)', ['replay', body, '--to', url, '--secret', SECRET]],
  ];
  const cases = allCases.filter(([name]) => !ONLY || ONLY.some((o) => name.includes(o)));

  // Warm the disk cache and the code cache before measuring.
  for (let i = 0; i < 3; i++) {
    for (const [, args, alone] of cases) {
      if (alone) time(args);
      else for (const [, bin] of BUILDS) runBuild(bin, args);
    }
    time(['-e', '0']);
  }
  console.log(`${PAIRS} interleaved rounds per command against \`node -e 0\` (node ${process.version}, stdout: ${STDOUT})`);
  if (caNote) console.log('(NODE_EXTRA_CA_CERTS removed from the children\'s environment: ONEPUSH_BENCH_KEEP_CA=1 keeps it)');
  const w = Math.max(8, ...BUILDS.map(([n]) => n.length));
  console.log(`${'command'.padEnd(20)} ${'build'.padEnd(w)}  node -e 0    onepush   ratio (median of rounds)`);
  const verifyRatios: Array<[string, number, number | undefined]> = [];
  for (const [name, args, alone] of cases) {
    const builds: Array<[string, string]> = alone ? [['(node)', '']] : BUILDS;
    const base: number[] = [];
    const ours = builds.map(() => [] as number[]);
    const ratios = builds.map(() => [] as number[]);
    /** Each build's time over the first build's, in the same round. */
    const toFirst = builds.map(() => [] as number[]);
    for (let i = 0; i < PAIRS; i++) {
      // Rotate the order (node -e 0 and each build), so no side always runs on a warmer or colder machine.
      const slots = [-1, ...builds.map((_, j) => j)];
      const k = i % slots.length;
      const order = [...slots.slice(k), ...slots.slice(0, k)];
      const got = new Map<number, number>();
      for (const j of order) got.set(j, j === -1 ? time(['-e', '0']) : alone ? time(args) : runBuild(builds[j]![1], args));
      const b = got.get(-1)!;
      base.push(b);
      builds.forEach((_, j) => {
        ours[j]!.push(got.get(j)!);
        ratios[j]!.push(got.get(j)! / b);
        toFirst[j]!.push(got.get(j)! / got.get(0)!);
      });
    }
    builds.forEach(([build], j) => {
      const ratio = median(ratios[j]!);
      if (name.startsWith('verify')) verifyRatios.push([build, ratio, j === 0 ? undefined : median(toFirst[j]!)]);
      console.log(
        `${(j === 0 ? name : '').padEnd(20)} ${build.padEnd(w)} ${median(base).toFixed(1).padStart(7)} ms ${median(ours[j]!).toFixed(1).padStart(7)} ms   ${ratio.toFixed(2)}x`,
      );
    });
  }
  for (const [build, ratio, toFirst] of verifyRatios) {
    const label = BUILDS.length > 1 ? ` (${build})` : '';
    const vsFirst = toFirst === undefined ? '' : `; ${toFirst.toFixed(2)}x ${BUILDS[0]![0]}'s verify in the same rounds`;
    console.log(`\nverify start-up${label}: ${ratio.toFixed(2)}x node -e 0 (goal on Node ${MAJOR} ≤ ${GOAL}x): ${ratio <= GOAL ? 'met' : 'NOT met'}${vsFirst}`);
  }
  if (BUILDS.some(([name]) => name === 'binary')) {
    console.log(`(binary: ${EXE}, with the Node it was built with inside (Node 24 by default), whatever node runs this bench: compare under \`npx -y -p node@24 npm run bench -- startup\`)`);
  }
} finally {
  sink.kill();
  rmSync(dir, { recursive: true, force: true });
}
