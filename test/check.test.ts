import assert from 'node:assert/strict';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import express from 'express';
import pkg from '../package.json' with { type: 'json' };
import { check as checkEndpoint } from '../src/app/check.js';
import { runBin, runCli, type RunResult } from './helpers/cli.js';
import { assertGolden } from './helpers/golden.js';
import { freePort, startDocsReceiver, startRawServer, startStrictReceiver, type Received, type TestServer } from './helpers/servers.js';
import { findAll, parseXml } from './helpers/xml.js';

// `onepush check` (issue #6) against real loopback apps written here, each with one habit of real webhook handlers,
// good or bad: in-process through src/cli.ts's `run`, and the first through the built CLI, end to end.

const SECRET = 'whsec_check_suite';
const KNOWN_TYPES = ['email.sent', 'email.delivered', 'email.opened', 'email.clicked', 'email.bounced', 'email.complained', 'email.unsubscribed'];
const NO_STACK = /\n\s+at /;

interface CaseJson {
  number: number;
  name: string;
  title: string;
  result: 'pass' | 'fail' | 'warn' | 'skip';
  security: boolean;
  message: string;
  fix: string | null;
  details: Record<string, unknown>;
}
interface CheckJson {
  url: string;
  cases: CaseJson[];
  summary: { passed: number; failed: number; warned: number; skipped: number };
  exit: number;
}

function check(args: string[], env?: Record<string, string | undefined>, run = runCli): Promise<RunResult> {
  return run(['check', ...args], env === undefined ? {} : { env });
}

function parseReport(r: RunResult): CheckJson {
  assert.doesNotMatch(r.stderr, NO_STACK);
  const report = JSON.parse(r.stdout) as CheckJson;
  assert.equal(report.exit, r.code, 'the JSON exit matches the process exit code');
  return report;
}

/** `{1: 'pass', 2: 'fail', …}` for compact assertions. */
function results(report: CheckJson): Record<number, string> {
  return Object.fromEntries(report.cases.map((c) => [c.number, c.result]));
}

const allPass = (except: Record<number, string> = {}): Record<number, string> =>
  Object.fromEntries(Array.from({ length: 10 }, (_, i) => [i + 1, except[i + 1] ?? 'pass']));

function rawSignatureOk(body: Buffer, header: string | string[] | undefined): boolean {
  const given = typeof header === 'string' && /^[0-9a-f]{64}$/i.test(header) ? Buffer.from(header, 'hex') : undefined;
  return given !== undefined && timingSafeEqual(createHmac('sha256', SECRET).update(body).digest(), given);
}

/** An express app on 127.0.0.1:0 that records what it received. */
async function startExpress(build: (app: express.Express, received: Received[]) => void): Promise<TestServer> {
  const app = express();
  const received: Received[] = [];
  build(app, received);
  const server: Server = createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/webhooks/onepush`,
    port,
    received,
    waitFor: () => Promise.resolve(received),
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** A correct app that stores events in a table with a unique id, and lets the insert of a repeat throw (500). */
function startNonIdempotentApp(): Promise<TestServer> {
  return startExpress((app, received) => {
    const seen = new Set<string>();
    app.post('/webhooks/onepush', express.raw({ type: 'application/json', limit: '1mb' }), (req, res) => {
      const body = req.body as Buffer;
      received.push({ method: req.method, path: req.originalUrl, headers: req.headers, body });
      if (!rawSignatureOk(body, req.headers['x-onepush-signature'])) {
        res.status(401).json({ error: 'invalid signature' });
        return;
      }
      const event = JSON.parse(body.toString('utf8')) as { id: string };
      if (seen.has(event.id)) throw new Error('duplicate key value violates unique constraint "events_pkey"');
      seen.add(event.id);
      res.json({ received: true });
    });
    app.use((err: Error, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
      res.status(500).type('text/plain').send(`Error: ${err.message}`);
    });
  });
}

/** A strict app that checks the type against the seven it knows and refuses the rest with 400. */
function startClosedTypesApp(): Promise<TestServer> {
  return startRawServer((r, res) => {
    if (!rawSignatureOk(r.body, r.headers['x-onepush-signature'])) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid signature"}');
      return;
    }
    const { type } = JSON.parse(r.body.toString('utf8')) as { type: string };
    if (!KNOWN_TYPES.includes(type)) {
      res.writeHead(400, { 'content-type': 'application/json' }).end(`{"error":"unknown event type ${type}"}`);
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
}

/** The classic hole: the signature is checked only when the header is there. */
function startOptionalSignatureApp(): Promise<TestServer> {
  return startRawServer((r, res) => {
    const header = r.headers['x-onepush-signature'];
    if (header !== undefined && !rawSignatureOk(r.body, header)) {
      res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid signature"}');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
}

/** An app that does its slow work before answering: `delayMs` per request. Its pending timers go on close. */
async function startSlowApp(delayMs: number): Promise<TestServer> {
  const timers = new Set<NodeJS.Timeout>();
  const server = await startRawServer((_r, res) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    }, delayMs);
    timers.add(timer);
  });
  return {
    ...server,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      await server.close();
    },
  };
}

async function using<T extends { close(): Promise<void> }>(t: TestContext, start: Promise<T>): Promise<T> {
  const server = await start;
  t.after(() => server.close());
  return server;
}

/** A port nothing listens on (just closed). */
function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'onepush-check-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Parses a JUnit file and checks its counts against its own test cases and against the JSON report. */
function assertJUnitMatches(file: string, report: CheckJson, strict: boolean): void {
  const root = parseXml(readFileSync(file, 'utf8'));
  assert.equal(root.name, 'testsuites');
  const suites = findAll(root, 'testsuite');
  assert.equal(suites.length, 1);
  const suite = suites[0]!;
  const cases = findAll(suite, 'testcase');
  const failures = cases.filter((c) => findAll(c, 'failure').length > 0);
  const skipped = cases.filter((c) => findAll(c, 'skipped').length > 0);
  for (const el of [root, suite]) {
    assert.equal(el.attrs.tests, String(cases.length));
    assert.equal(el.attrs.failures, String(failures.length));
    assert.equal(el.attrs.skipped, String(skipped.length));
    assert.equal(el.attrs.errors, '0');
  }
  assert.equal(cases.length, report.cases.length);
  assert.equal(failures.length, report.summary.failed + (strict ? report.summary.warned : 0));
  assert.equal(skipped.length, report.summary.skipped);
  report.cases.forEach((c, i) => {
    const tc = cases[i]!;
    assert.ok(tc.attrs.name?.startsWith(`${c.number} ${c.name}: `), tc.attrs.name);
    const failure = findAll(tc, 'failure')[0];
    assert.equal(failure !== undefined, c.result === 'fail' || (strict && c.result === 'warn'), `case ${c.number} failure element`);
    if (failure) assert.ok(failure.attrs.message?.includes(c.message), 'the failure carries the message');
    if (c.result === 'fail' && c.security) assert.equal(failure?.attrs.type, 'security');
    if (c.result === 'warn' && !strict) assert.match(findAll(tc, 'system-out')[0]?.text ?? '', /^warning: /);
  });
  const props = Object.fromEntries(findAll(suite, 'property').map((p) => [p.attrs.name, p.attrs.value]));
  assert.equal(props.url, report.url);
}

/** Pretty output with what varies between runs (the port, latency figures) replaced. */
function normalise(stdout: string, url: string): string {
  return stdout.split(url).join('<url>').replace(/p50 \d+(?:\.\d)? m?s, max \d+(?:\.\d)? m?s/g, 'p50 <ms>, max <ms>');
}

describe('onepush check', { concurrency: 3 }, () => {
  test('a correct raw-body app passes every case (exit 0), and what it received is what OnePush sends (the built CLI)', async (t) => {
    const app = await using(t, startStrictReceiver(SECRET));
    const junit = join(tempDir(t), 'reports', 'check.xml');
    const r = await check([app.url, '--secret', SECRET, '--json', '--junit', junit], undefined, runBin);
    const report = parseReport(r);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(results(report), allPass());
    assert.deepEqual(report.summary, { passed: 10, failed: 0, warned: 0, skipped: 0, blocked: 0 });
    assert.equal(report.url, app.url);
    assert.match(r.stderr, /JUnit report written to .*check\.xml/);
    assertJUnitMatches(junit, report, false);

    // 7 types + unsigned + wrong and truncated + tampered + 2 duplicates + unknown + 2 out of order + large + indented.
    assert.equal(app.received.length, 18);
    const signed = app.received.filter((q) => q.headers['x-onepush-signature'] !== undefined);
    assert.equal(signed.length, 17, 'only the unsigned case leaves the header out');
    const valid = app.received.filter((q) => rawSignatureOk(q.body, q.headers['x-onepush-signature']));
    assert.equal(valid.length, 14, 'every request but the four bad-signature ones is validly signed over its raw bytes');
    for (const q of app.received) {
      assert.equal(q.method, 'POST');
      assert.equal(q.path, '/webhooks/onepush');
      assert.equal(q.headers['content-type'], 'application/json');
      assert.equal(q.headers['user-agent'], `onepush-cli/${pkg.version}`);
    }
    const texts = app.received.map((q) => q.body.toString('utf8'));
    const nonCompact = texts.filter((b) => b !== JSON.stringify(JSON.parse(b)));
    assert.equal(nonCompact.length, 1, 'only case 10 sends a body that is not compact JSON');
    assert.ok(app.received.some((q) => q.body.length === 256 * 1024), 'a 256 KB body');
    const ids = texts.map((b) => (JSON.parse(b) as { id: string }).id);
    assert.equal(ids.length - new Set(ids).size, 1, 'exactly one id repeats: the duplicate');
    const dup = ids.find((id, i) => ids.indexOf(id) !== i);
    const dupBodies = app.received.filter((_q, i) => ids[i] === dup).map((q) => q.body.toString('hex'));
    assert.equal(dupBodies[0], dupBodies[1], 'the duplicate is byte-identical');
    assert.deepEqual(
      [...new Set(texts.map((b) => (JSON.parse(b) as { type: string }).type))].sort(),
      [...KNOWN_TYPES, 'email.delivery_delayed'].sort(),
    );
  });

  test('an app that accepts unsigned requests fails case 2 as a security hole (exit 1)', async (t) => {
    const app = await using(t, startOptionalSignatureApp());
    const junit = join(tempDir(t), 'check.xml');
    const r = await check([app.url, '--secret', SECRET, '--json', '--junit', junit]);
    const report = parseReport(r);
    assert.equal(r.code, 1);
    assert.deepEqual(results(report), allPass({ 2: 'fail' }));
    const unsigned = report.cases[1]!;
    assert.equal(unsigned.security, true);
    assert.match(unsigned.message, /accepted a request without a signature \(200\): anyone can post fake events/);
    assert.match(unsigned.fix ?? '', /answer 401/);
    assertJUnitMatches(junit, report, false);
  });

  test('pretty output of the unsigned hole, golden (NO_COLOR)', async (t) => {
    const app = await using(t, startOptionalSignatureApp());
    const r = await check([app.url, '--secret', SECRET]);
    assert.equal(r.code, 1);
    assert.equal(r.stderr, '');
    assert.match(r.stdout, /✘ {2}2 {2}unsigned {9}SECURITY: accepted a request without a signature/);
    assertGolden('check-optional-signature.txt', normalise(r.stdout, app.url));
    const coloured = await check([app.url, '--secret', SECRET, '--only', '2'], { FORCE_COLOR: '1' });
    assert.equal(coloured.code, 1);
    assert.ok(coloured.stdout.includes('\u001b[31m✘\u001b[39m  2  unsigned         \u001b[31m\u001b[1mSECURITY:\u001b[22m\u001b[39m accepted'), coloured.stdout);
  });

  test("the docs-style app (HMAC over JSON.stringify(req.body)) only warns on case 10; golden output", async (t) => {
    const app = await using(t, startDocsReceiver(SECRET));
    const r = await check([app.url, '--secret', SECRET]);
    assert.equal(r.code, 0, r.stderr);
    assert.doesNotMatch(r.stderr, NO_STACK);
    assert.match(r.stdout, /⚠ 10 {2}non-compact {6}an indented, validly signed body got 401: verifies a re-serialisation, not the raw body — fragile/);
    assert.match(r.stdout, /9 passed · 0 failed · 1 warning · 0 skipped/);
    assert.doesNotMatch(r.stdout, /\u001b\[/, 'no colour under NO_COLOR');
    assertGolden('check-docs-receiver.txt', normalise(r.stdout, app.url));
    assert.equal(app.events.length, 13, 'everything validly signed in compact JSON got through the docs receiver');
  });

  test('--strict turns the docs-style warning into exit 1, and into a JUnit failure', async (t) => {
    const app = await using(t, startDocsReceiver(SECRET));
    const junit = join(tempDir(t), 'check.xml');
    const r = await check([app.url, '--secret', SECRET, '--strict', '--json', '--junit', junit]);
    const report = parseReport(r);
    assert.equal(r.code, 1);
    assert.deepEqual(results(report), allPass({ 10: 'warn' }));
    assert.deepEqual(report.summary, { passed: 9, failed: 0, warned: 1, skipped: 0, blocked: 0 });
    assertJUnitMatches(junit, report, true);
    const pretty = await check([app.url, '--secret', SECRET, '--strict', '--only', '10']);
    assert.equal(pretty.code, 1);
    assert.match(pretty.stdout, /0 passed · 0 failed · 1 warning · 0 skipped \(--strict: warnings fail\)/);
  });

  test('an app that 500s on a repeated id warns on case 5: not idempotent', async (t) => {
    const app = await using(t, startNonIdempotentApp());
    const r = await check([app.url, '--secret', SECRET, '--json']);
    const report = parseReport(r);
    assert.equal(r.code, 0);
    assert.deepEqual(results(report), allPass({ 5: 'warn' }));
    const dup = report.cases[4]!;
    assert.match(dup.message, /^the second delivery of the same event got 500: not idempotent$/);
    assert.equal(dup.details.response, 'Error: duplicate key value violates unique constraint "events_pkey"');
    assert.match(dup.fix ?? '', /same id/);
  });

  test('an app that 400s on unknown types warns on case 6', async (t) => {
    const app = await using(t, startClosedTypesApp());
    const r = await check([app.url, '--secret', SECRET, '--json']);
    const report = parseReport(r);
    assert.equal(r.code, 0);
    assert.deepEqual(results(report), allPass({ 6: 'warn' }));
    assert.match(report.cases[5]!.message, /^email\.delivery_delayed got 400: will break when OnePush adds a type$/);
    assert.equal(report.cases[5]!.details.response, '{"error":"unknown event type email.delivery_delayed"}');
  });

  test('an app slower than the budget fails case 8 (p50/max shown); the budget is an option of the use case', async (t) => {
    // In-process, through the library's check(): a 300 ms budget and an app that answers after 400 ms stand for
    // OnePush's 5 s and an app that takes 6 s, without waiting 6 s.
    const app = await using(t, startSlowApp(400));
    const reports: string[] = [];
    const outcome = await checkEndpoint({ url: app.url, secret: SECRET, only: 'latency', budgetMs: 300, onCase: (r) => reports.push(r.name) });
    assert.deepEqual(reports, ['latency']);
    assert.deepEqual(outcome.cases.map((c) => [c.number, c.result]), [[8, 'fail']]);
    assert.deepEqual(outcome.summary, { passed: 0, failed: 1, warned: 0, skipped: 0, blocked: 0 });
    const latency = outcome.cases[0]!;
    assert.match(latency.message, /^1 answer took longer than 300 ms \(slowest: latency email\.delivered, \d+ ms\); p50 \d+ ms, max \d+ ms over 1 request$/);
    assert.ok((latency.details.maxMs as number) > 300);
    assert.equal(latency.details.budgetMs, 300);
    assert.equal(app.received.length, 1, 'alone, case 8 sends one probe');
  });

  test('a request that times out counts against case 8 (--timeout)', async (t) => {
    const app = await using(t, startSlowApp(6000));
    const r = await check([app.url, '--secret', SECRET, '--only', 'unknown-type,8', '--timeout', '300', '--json']);
    const report = parseReport(r);
    assert.equal(r.code, 1);
    assert.deepEqual(results(report), { 6: 'warn', 8: 'fail' });
    assert.match(report.cases[0]!.message, /got no answer within 300 ms$/);
    assert.match(report.cases[1]!.message, /^1 request got no answer within 300 ms \(unknown-type email\.delivery_delayed\)/);
    assert.equal(report.cases[1]!.details.timeouts, 1);
    assert.equal(app.received.length, 1, 'case 8 measured case 6 instead of sending a probe');
  });

  test('without a secret, cases 2–4 and 10 are skipped with the reason, and the rest go unsigned', async (t) => {
    const app = await using(t, startRawServer());
    const r = await check([app.url, '--json']);
    const report = parseReport(r);
    assert.equal(r.code, 0);
    assert.deepEqual(results(report), allPass({ 2: 'skip', 3: 'skip', 4: 'skip', 10: 'skip' }));
    assert.deepEqual(report.summary, { passed: 6, failed: 0, warned: 0, skipped: 4, blocked: 0 });
    for (const n of [2, 3, 4, 10]) assert.match(report.cases[n - 1]!.message, /needs the webhook secret \(--secret, ONEPUSH_WEBHOOK_SECRET or \.env\)/);
    assert.equal(app.received.length, 13);
    assert.ok(app.received.every((q) => q.headers['x-onepush-signature'] === undefined));

    const pretty = await check([app.url]);
    assert.equal(pretty.code, 0);
    assert.match(pretty.stdout, /unsigned: no secret \(--secret, ONEPUSH_WEBHOOK_SECRET or \.env\), so cases 2, 3, 4 and 10 are skipped/);
    assert.match(pretty.stdout, /^- {2}3 {2}wrong-signature {2}skipped: needs the webhook secret/m);
    assert.match(pretty.stdout, /6 passed · 0 failed · 0 warnings · 4 skipped/);
  });

  test('without a secret, an app that wants one fails case 1 with a hint to pass it', async (t) => {
    const app = await using(t, startStrictReceiver(SECRET));
    const r = await check([app.url, '--only', '1']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /✘ {2}1 {2}valid-events {5}every type got 401: valid events are refused/);
    assert.match(r.stdout, /response: \{"error":"bad signature"\}/);
    assert.match(r.stdout, /fix: your app wants a signature: pass its secret with --secret or ONEPUSH_WEBHOOK_SECRET/);
  });

  test('the secret comes from ONEPUSH_WEBHOOK_SECRET too, and shorthands reach localhost', async (t) => {
    const app = await using(t, startStrictReceiver(SECRET, 0, { bothLoopbacks: true }));
    const r = await check([String(app.port), '--only', '1-4'], { ONEPUSH_WEBHOOK_SECRET: SECRET });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^onepush check http:\/\/localhost:\d+\/webhooks\/onepush$/m);
    assert.match(r.stdout, /signed with secret whse… · 4 cases/);
    assert.doesNotMatch(r.stdout, new RegExp(SECRET), 'the secret is never printed');
    assert.equal(app.received.length, 11);
  });

  test('an unreachable URL exits 2 with one clear line, and writes no report', async (t) => {
    const port = await freePort();
    const junit = join(tempDir(t), 'check.xml');
    for (const target of [`http://127.0.0.1:${port}/webhooks/onepush`, String(port)]) {
      const r = await check([target, '--secret', SECRET, '--junit', junit]);
      assert.equal(r.code, 2, target);
      const url = target.startsWith('http') ? target : `http://localhost:${port}/webhooks/onepush`;
      assert.match(r.stderr, new RegExp(`^onepush: cannot reach ${url.replace(/[.?]/g, '\\$&')}: connection refused — is your app running on port ${port}\\?\nhint: start your app first`));
      assert.doesNotMatch(r.stderr, NO_STACK);
      assert.equal(existsSync(junit), false);
    }
    const json = await check([`http://127.0.0.1:${port}/`, '--json']);
    assert.equal(json.code, 2);
    assert.equal(json.stdout, '', 'nothing on stdout for --json when the suite could not run');
  });

  test('bad flags exit 2 with one line and a hint, and send nothing', async (t) => {
    const app = await using(t, startStrictReceiver(SECRET));
    const cases: Array<[string[], RegExp, RegExp?]> = [
      [['--only', 'nope'], /^onepush: unknown case "nope" in --only$/m, /^hint: cases: 1 valid-events, 2 unsigned, 3 wrong-signature, 4 tampered, 5 duplicate, 6 unknown-type, 7 out-of-order, 8 latency, 9 large-payload, 10 non-compact$/m],
      [['--only', '11'], /unknown case "11" in --only/],
      [['--skip', 'signature'], /unknown case "signature" in --skip/],
      [['--only', '2', '--skip', 'unsigned'], /--only and --skip leave no case to run/],
      [['--only', ''], /--only needs at least one case/],
      [['--timeout', '0'], /--timeout must be a whole number/],
      [['--timeout', 'soon'], /--timeout must be a whole number/],
      [['--secret', ''], /--secret is empty/],
    ];
    for (const [flags, message, hint] of cases) {
      const r = await check([app.url, ...flags]);
      assert.equal(r.code, 2, flags.join(' '));
      assert.match(r.stderr, message, flags.join(' '));
      if (hint) assert.match(r.stderr, hint);
      assert.doesNotMatch(r.stderr, NO_STACK);
      assert.equal(r.stdout, '');
    }
    for (const target of ['ftp://example.com/hook', 'http://', ':99999']) {
      const r = await check([target]);
      assert.equal(r.code, 2, target);
      assert.match(r.stderr, /^onepush: /);
      assert.doesNotMatch(r.stderr, NO_STACK);
    }
    const none = await runCli(['check']);
    assert.equal(none.code, 2);
    assert.match(none.stderr, /missing required argument 'routes'/);
    assert.equal(app.received.length, 0);
  });

  test('an unwritable --junit path exits 2 after the run with one line', async (t) => {
    const app = await using(t, startStrictReceiver(SECRET));
    const dir = tempDir(t);
    const r = await check([app.url, '--secret', SECRET, '--only', 'unsigned', '--junit', dir]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^onepush: cannot write the JUnit report .*: it is a directory\nhint: pass another path to --junit\n$/);
    assert.doesNotMatch(r.stderr, NO_STACK);
  });
});
