import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { checkRoutes } from '../src/app/check.js';
import { runCli, type RunResult } from './helpers/cli.js';
import { startRawServer, startStrictReceiver, type Received, type TestServer } from './helpers/servers.js';
import { findAll, parseXml } from './helpers/xml.js';

// `onepush check` with routes (issue #15): one suite per endpoint, each with the event types its routes take,
// against two real loopback apps: one that does everything right, one that takes any request, signed or not.

const SECRET = 'whsec_check_routes';
const NO_STACK = /\n\s+at /;
const GOOD_TYPES = ['email.bounced', 'email.complained'];
const BAD_TYPES = ['email.sent', 'email.delivered', 'email.opened', 'email.clicked'];

interface CaseJson {
  number: number;
  name: string;
  result: 'pass' | 'fail' | 'warn' | 'skip' | 'blocked';
  message: string;
  details: Record<string, unknown>;
}
interface Summary {
  passed: number;
  failed: number;
  warned: number;
  skipped: number;
  blocked: number;
}
interface RoutesJson {
  endpoints: Array<{ url: string; types: string[]; cases: CaseJson[]; summary: Summary }>;
  summary: Summary;
  exit: number;
}

const typeOf = (r: Received): string => (JSON.parse(r.body.toString('utf8')) as { type: string }).type;

function parse<T>(r: RunResult): T {
  assert.doesNotMatch(r.stderr, NO_STACK);
  const report = JSON.parse(r.stdout) as T & { exit: number };
  assert.equal(report.exit, r.code, 'the JSON exit matches the process exit code');
  return report;
}

describe('onepush check with routes', () => {
  let good: TestServer;
  let bad: TestServer;
  let goodUrl: string;
  let badUrl: string;
  let routes: string[];
  let dir: string;
  before(async () => {
    good = await startStrictReceiver(SECRET);
    bad = await startRawServer();
    goodUrl = `http://127.0.0.1:${good.port}/webhooks/bounces`;
    badUrl = bad.url;
    routes = [`${GOOD_TYPES.join(',')}=${goodUrl}`, `${BAD_TYPES.join(',')}=${badUrl}`];
    dir = mkdtempSync(join(tmpdir(), 'onepush-check-routes-'));
  });
  after(async () => {
    await Promise.all([good.close(), bad.close()]);
    rmSync(dir, { recursive: true, force: true });
  });
  const reset = (): void => {
    good.received.length = 0;
    bad.received.length = 0;
  };

  test('--json: one suite per endpoint with its types; only the failing endpoint fails; each app gets only its types', async () => {
    reset();
    const junit = join(dir, 'report.xml');
    const r = await runCli(['check', ...routes, '--secret', SECRET, '--json', '--junit', junit]);
    const report = parse<RoutesJson>(r);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.deepEqual(Object.keys(report).sort(), ['endpoints', 'exit', 'summary']);
    assert.deepEqual(
      report.endpoints.map((e) => [e.url, e.types]),
      [
        [goodUrl, GOOD_TYPES],
        [badUrl, BAD_TYPES],
      ],
    );
    const [g, b] = report.endpoints as [RoutesJson['endpoints'][0], RoutesJson['endpoints'][0]];
    for (const e of report.endpoints) assert.deepEqual(Object.keys(e).sort(), ['cases', 'summary', 'types', 'url']);

    // The good app: nothing fails; case 6 (a new type) and case 7 (needs opened and delivered) do not apply to it.
    assert.equal(g.summary.failed, 0, JSON.stringify(g.cases, null, 2));
    assert.equal(g.summary.warned, 0, JSON.stringify(g.cases, null, 2));
    const gCase = (n: number): CaseJson => g.cases.find((c) => c.number === n) as CaseJson;
    assert.equal(gCase(6).result, 'skip');
    assert.equal(gCase(6).details.reason, 'not-routed');
    assert.match(gCase(6).message, /email\.delivery_delayed/);
    assert.equal(gCase(7).result, 'skip');
    assert.match(gCase(7).message, /email\.opened and email\.delivered/);
    for (const n of [1, 2, 3, 4, 5, 8, 9, 10]) assert.equal(gCase(n).result, 'pass', `case ${n}: ${gCase(n).message}`);
    assert.equal(gCase(1).message, '2 types, each answered 2xx');

    // The lax app fails the signature cases, and only it; case 7 applies to it (it takes both types).
    const bCase = (n: number): CaseJson => b.cases.find((c) => c.number === n) as CaseJson;
    for (const n of [2, 3, 4]) assert.equal(bCase(n).result, 'fail', `case ${n}`);
    assert.equal(bCase(7).result, 'pass');
    assert.equal(bCase(6).result, 'skip');
    assert.equal(bCase(1).message, '4 types, each answered 2xx');

    // Totals over both.
    for (const k of ['passed', 'failed', 'warned', 'skipped', 'blocked'] as const) assert.equal(report.summary[k], g.summary[k] + b.summary[k], k);

    // What each app received: case 1 first, only its types, in order; every later request too is one of its types.
    assert.deepEqual(good.received.slice(0, 2).map(typeOf), GOOD_TYPES);
    assert.deepEqual(bad.received.slice(0, 4).map(typeOf), BAD_TYPES);
    for (const q of good.received) assert.ok(GOOD_TYPES.includes(typeOf(q)), `good got ${typeOf(q)}`);
    for (const q of bad.received) assert.ok(BAD_TYPES.includes(typeOf(q)), `bad got ${typeOf(q)}`);
    assert.ok(good.received.every((q) => q.path === '/webhooks/bounces'));

    // JUnit: one testsuite per endpoint, the failures only in the lax one's.
    const root = parseXml(readFileSync(junit, 'utf8'));
    const suites = findAll(root, 'testsuite');
    assert.deepEqual(
      suites.map((s) => s.attrs.name),
      [`onepush check ${goodUrl}`, `onepush check ${badUrl}`],
    );
    assert.equal(suites[0]?.attrs.failures, '0');
    assert.equal(suites[1]?.attrs.failures, String(b.summary.failed));
    assert.equal(root.attrs.tests, String(g.cases.length + b.cases.length));
    assert.equal(root.attrs.failures, String(report.summary.failed));
  });

  test('pretty: a header per endpoint with its types and cases, totals, and the failing endpoint named', async () => {
    reset();
    const r = await runCli(['check', ...routes, '--secret', SECRET]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, NO_STACK);
    const out = r.stdout;
    assert.match(out, /^onepush check 2 endpoints\n/);
    const goodAt = out.indexOf(`${goodUrl}  email.bounced, email.complained\n`);
    const badAt = out.indexOf(`${badUrl}  email.sent, email.delivered, email.opened, email.clicked\n`);
    assert.ok(goodAt > 0 && badAt > goodAt, out);
    const goodPart = out.slice(goodAt, badAt);
    const badPart = out.slice(badAt);
    assert.doesNotMatch(goodPart, /✘/);
    assert.match(goodPart, /✔  1  valid-events/);
    assert.match(goodPart, /-  6  unknown-type/);
    assert.match(badPart, /✘  2  unsigned +SECURITY:/);
    assert.match(out, /\n2 endpoints: \d+ passed · \d+ failed · /);
    assert.ok(out.includes(`\nfailed: ${badUrl}\n`), out);
  });

  test('an endpoint that takes every type (a bare URL) gets case 6; a good app alone exits 0', async () => {
    reset();
    const r = await runCli(['check', `email.bounced=${goodUrl}`, `http://127.0.0.1:${good.port}/all`, '--secret', SECRET, '--json']);
    const report = parse<RoutesJson>(r);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    const all = report.endpoints[1];
    assert.equal(all?.types.length, 7);
    assert.equal(all?.cases.find((c) => c.number === 6)?.result, 'pass');
    assert.equal(all?.cases.find((c) => c.number === 7)?.result, 'pass');
    assert.equal(report.endpoints[0]?.cases.find((c) => c.number === 1)?.message, '1 type, each answered 2xx');
  });

  test('one bare URL: the output of today, unchanged', async () => {
    reset();
    const r = await runCli(['check', good.url, '--secret', SECRET, '--json']);
    const report = parse<{ url: string; cases: CaseJson[]; summary: Summary }>(r);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(Object.keys(report).sort(), ['cases', 'exit', 'summary', 'url']);
    assert.equal(report.url, good.url);
    assert.equal(report.cases.length, 10);
    assert.ok(report.cases.every((c) => c.result === 'pass'));
    assert.equal(good.received.slice(0, 7).length, 7);
    const pretty = await runCli(['check', good.url, '--secret', SECRET, '--only', '1']);
    assert.ok(pretty.stdout.startsWith(`onepush check ${good.url}\n`), pretty.stdout);
    assert.doesNotMatch(pretty.stdout, /endpoint/);
  });

  test('library: checkRoutes returns one outcome per endpoint', async () => {
    reset();
    const outcome = await checkRoutes({ routes, secret: SECRET, only: '1,2' });
    assert.deepEqual(
      outcome.endpoints.map((e) => [e.url, e.types, e.cases.map((c) => c.result)]),
      [
        [goodUrl, GOOD_TYPES, ['pass', 'pass']],
        [badUrl, BAD_TYPES, ['pass', 'fail']],
      ],
    );
    assert.equal(outcome.summary.failed, 1);
    assert.equal(outcome.interrupted, false);
  });
});
