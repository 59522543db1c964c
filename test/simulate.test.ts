import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { campaign, campaignOutcomes, simulate } from '../src/app/simulate.js';
import { decodeCapture } from '../src/core/capture.js';
import type { RecipientOutcome } from '../src/core/campaign.js';
import { validateEvent } from '../src/core/schemas.js';
import { verify } from '../src/core/signature.js';
import { runCli } from './helpers/cli.js';
import { startRawServer, type Received, type TestServer } from './helpers/servers.js';

// `onepush simulate` (README "Testing a handler under realistic traffic"): a seeded campaign delivered as a provider
// would. Real loopback apps on port 0; the built CLI for exit codes and files; the use case in-process where a
// small budget is needed. Every run uses --speed max (or Infinity) and zero-length retry waits, so nothing waits
// out real campaign time.

const SECRET = 'whsec_test';
const dir = mkdtempSync(join(tmpdir(), 'onepush-simulate-'));
const servers: TestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  rmSync(dir, { recursive: true, force: true });
});

type Event = { id: string; type: string; created_at: string; data: Record<string, unknown> & { email_id: string; to: string[] } };

/** An app that applies every event idempotently (by event id), in any order: what --expect describes. */
function idempotentState() {
  const seen = new Set<string>();
  const emails = new Map<string, RecipientOutcome>();
  return {
    seen,
    apply(e: Event): void {
      if (seen.has(e.id)) return;
      seen.add(e.id);
      let s = emails.get(e.data.email_id);
      if (!s) {
        s = { recipient: e.data.to[0] as string, email_id: e.data.email_id, status: 'bounced', bounce: null, opens: 0, clicks: 0, complained: false, unsubscribed: false };
        emails.set(e.data.email_id, s);
      }
      if (e.type === 'email.delivered') s.status = 'delivered';
      if (e.type === 'email.bounced') s.bounce = (e.data.bounce as { type: 'hard' | 'soft' }).type;
      if (e.type === 'email.opened') s.opens++;
      if (e.type === 'email.clicked') s.clicks++;
      if (e.type === 'email.complained') s.complained = true;
      if (e.type === 'email.unsubscribed') s.unsubscribed = true;
    },
    /** Every email's state, keyed by email id (an email with only `sent` counts as not delivered). */
    emails,
  };
}

/** A test app: `answer` decides each request's status (default 200); it verifies signatures and records states. */
async function app(answer?: (e: Event, attempt: number, req: Received, res: ServerResponse) => number | 'hold'): Promise<TestServer & { state: ReturnType<typeof idempotentState>; attempts: Map<string, number>; bad: number }> {
  const state = idempotentState();
  const attempts = new Map<string, number>();
  const held = new Map<string, ServerResponse>();
  let bad = 0;
  const server = await startRawServer((req, res) => {
    const sig = String(req.headers['x-onepush-signature'] ?? '');
    if (!verify(req.body, SECRET, sig)) bad++;
    const e = JSON.parse(req.body.toString('utf8')) as Event;
    const n = (attempts.get(`${req.path} ${e.id}`) ?? 0) + 1;
    attempts.set(`${req.path} ${e.id}`, n);
    // A held answer is let go (too late: the sender gave up) when the event comes again.
    const prior = held.get(e.id);
    if (prior) {
      held.delete(e.id);
      prior.writeHead(200).end('{"late":true}');
    }
    const status = answer ? answer(e, n, req, res) : 200;
    if (status === 'hold') {
      held.set(e.id, res);
      return;
    }
    if (status >= 200 && status < 300) state.apply(e);
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(status < 300 ? '{"ok":true}' : `{"error":"handler failed with ${status}"}\nat line 2`);
  });
  servers.push(server);
  return Object.assign(server, { state, attempts, get bad() {
    return bad;
  } });
}

/** Deterministic "one event in five": from the event id's hash. */
const oneInFive = (id: string): boolean => (createHash('sha256').update(id).digest()[0] as number) % 5 === 0;

const readLines = (file: string): string[] => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');

describe('the campaign (library, pure)', () => {
  test('same seed, same events; each email\'s events share its email_id; every event fits its schema; times never go back', async () => {
    const a: string[] = [];
    const b: string[] = [];
    let last = -1;
    const byEmail = new Map<string, string[]>();
    for await (const e of campaign({ recipients: 300, seed: 7, duplicates: 0.05, reorder: 0.2 })) {
      a.push(JSON.stringify(e));
      assert.ok(e.due >= last, 'due times never go back');
      last = e.due;
      assert.equal((e.event.data as { email_id: string }).email_id, e.emailId);
      assert.deepEqual(validateEvent(e.event).issues ?? [], [], JSON.stringify(e.event));
      byEmail.set(e.emailId, [...(byEmail.get(e.emailId) ?? []), e.type]);
    }
    for await (const e of campaign({ recipients: 300, seed: 7, duplicates: 0.05, reorder: 0.2 })) b.push(JSON.stringify(e));
    assert.deepEqual(a, b);
    assert.equal(byEmail.size, 300, 'one email per recipient');
    for (const types of byEmail.values()) {
      assert.ok(types.includes('email.sent'));
      assert.ok(types.includes('email.delivered') || types.includes('email.bounced'));
    }
    const other: string[] = [];
    for await (const e of campaign({ recipients: 300, seed: 8 })) other.push(e.id);
    assert.notDeepEqual(other, a.map((l) => (JSON.parse(l) as { id: string }).id));
  });

  test('the default mix gives the documented shares (10,000 recipients)', () => {
    const outcomes = [...campaignOutcomes({ recipients: 10_000, seed: 1 })];
    const share = (f: (o: RecipientOutcome) => boolean): number => outcomes.filter(f).length / outcomes.length;
    const bounced = share((o) => o.bounce !== null);
    assert.ok(bounced > 0.01 && bounced < 0.03, `bounced ${bounced}`);
    const opened = share((o) => o.opens > 0) / share((o) => o.status === 'delivered');
    assert.ok(opened > 0.25 && opened < 0.35, `opened ${opened}`);
    assert.ok(share((o) => o.opens > 1) > 0, 'some open several times');
    assert.ok(share((o) => o.status === 'delivered' && o.bounce === 'soft') > 0, 'some soft bounces are delivered later');
    assert.ok(share((o) => o.clicks > 0) < share((o) => o.opens > 0));
  });
});

describe('simulate against test apps', () => {
  test('an app that fails 20% of first attempts: every event is eventually accepted, the retries counted', async () => {
    const a = await app((e, attempt) => (attempt === 1 && oneInFive(e.id) ? 500 : 200));
    const r = await simulate({ to: a.url, recipients: 150, seed: 3, secret: SECRET, speed: Infinity, retrySchedule: [1, 1, 1], duplicates: 0, reorder: 0 });
    const ids = new Set<string>();
    for await (const e of campaign({ recipients: 150, seed: 3, duplicates: 0, reorder: 0 })) ids.add(e.id);
    assert.deepEqual([...a.state.seen].sort(), [...ids].sort(), 'every event accepted');
    const retried = Object.values(r.types).reduce((n, t) => n + t.retried, 0);
    const failedFirst = [...ids].filter(oneInFive).length;
    assert.equal(retried, failedFirst);
    assert.equal(r.lost, 0);
    assert.equal(r.ok, true);
    assert.equal(r.requests, ids.size + failedFirst);
    assert.equal(r.errors[0]?.status, 500);
    assert.equal(r.errors[0]?.message, '{"error":"handler failed with 500"}');
    assert.equal(a.bad, 0, 'every request correctly signed');
  });

  test('a slow app: answers over the budget are reported, retried, and the run is not ok', async () => {
    // The first attempt of one event in five gets no answer until the event comes again: the sender gives up at
    // the budget (a small one here) and retries.
    const a = await app((e, attempt) => (attempt === 1 && oneInFive(e.id) ? 'hold' : 200));
    // Several quick retries: on a loaded machine an ordinary answer may also miss the small budget, and is then
    // retried rather than lost.
    const r = await simulate({ to: a.url, recipients: 40, seed: 5, secret: SECRET, speed: Infinity, retrySchedule: [1, 1, 1, 1, 1, 1, 1, 1], budgetMs: 250, duplicates: 0, reorder: 0 });
    assert.ok(r.latency.over_budget > 0);
    assert.ok((r.latency.max_ms ?? 0) >= 250);
    assert.equal(r.lost, 0);
    assert.equal(r.ok, false);
    assert.equal(r.errors[0]?.reason, 'TIMEOUT');
  });

  test('CLI: a correct app → exit 0; --expect matches what the app ends up with, under --duplicates and --reorder', async () => {
    const a = await app();
    const expect = join(dir, 'expected.ndjson');
    const r = await runCli(['simulate', '--to', a.url, '--recipients', '400', '--seed', '11', '--speed', 'max', '--duplicates', '5%', '--reorder', '20%', '--secret', SECRET, '--expect', expect, '--json']);
    assert.equal(r.code, 0, r.stderr);
    const report = JSON.parse(r.stdout) as { ok: boolean; duplicates: number; lost: number; events: number; requests: number };
    assert.equal(report.ok, true);
    assert.ok(report.duplicates > 0);
    assert.equal(report.requests, report.events);
    const expected = readLines(expect).map((l) => JSON.parse(l) as RecipientOutcome);
    assert.equal(expected.length, 400);
    assert.deepEqual(expected, expected.map((o) => a.state.emails.get(o.email_id)));
    assert.ok(a.received.length > a.state.seen.size, 'duplicates did arrive');
  });

  test('CLI: an app whose answers break the budget → exit 1, with the breaches in the report', async () => {
    const a = await app((e, attempt) => (attempt === 1 && oneInFive(e.id) ? 'hold' : 200));
    const r = await runCli(['simulate', '--to', a.url, '--recipients', '20', '--seed', '5', '--speed', 'max', '--budget', '100', '--retry-schedule', '1ms', '--secret', SECRET]);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /over the 100 ms budget/);
    assert.match(r.stderr, /--seed 5/);
  });

  test('CLI: an app that always fails → events lost when the schedule runs out, exit 1', async () => {
    const a = await app(() => 503);
    const r = await runCli(['simulate', '--to', a.url, '--recipients', '5', '--seed', '2', '--speed', 'max', '--retry-schedule', '1ms,1ms', '--secret', SECRET, '--json']);
    assert.equal(r.code, 1);
    const report = JSON.parse(r.stdout) as { lost: number; events: number; requests: number; errors: Array<{ status: number; count: number }> };
    assert.equal(report.lost, report.events);
    assert.equal(report.requests, report.events * 3);
    assert.deepEqual(report.errors.map((e) => [e.status, e.count]), [[503, report.requests]]);
  });

  test('the same seed twice gives byte-identical --save logs, which decode as captures', async () => {
    const a = await app();
    const logs = [join(dir, 'run1.ndjson'), join(dir, 'run2.ndjson')];
    for (const save of logs) {
      const r = await runCli(['simulate', '--to', a.url, '--recipients', '200', '--seed', '99', '--speed', 'max', '--secret', SECRET, '--save', save]);
      assert.equal(r.code, 0, r.stderr);
    }
    const [one, two] = logs.map((f) => readFileSync(f));
    assert.ok(one && two && one.length > 0);
    assert.ok(one.equals(two), 'byte-identical');
    const lines = readLines(logs[0] as string);
    const first = decodeCapture(lines[0] as string);
    assert.equal(first.status, 200);
    assert.equal(verify(first.body ?? '', SECRET, first.headers['x-onepush-signature'] ?? ''), true);
    // And it replays: the same requests again.
    const before = a.received.length;
    const replayed = await runCli(['replay', logs[0] as string, '--to', a.url, '--keep-signature', '--json']);
    assert.equal(replayed.code, 0, replayed.stderr);
    assert.equal(a.received.length - before, lines.length);
  });

  test('routes: fan-out by type, and a failing endpoint does not hold back the other', async () => {
    const bounces = await app(() => 503);
    const all = await app();
    const r = await simulate({
      to: [`email.bounced,email.c*=${bounces.url}`, all.url],
      recipients: 300,
      seed: 21,
      secret: SECRET,
      speed: Infinity,
      retrySchedule: [1, 1],
      mix: { bounced: 0.1, complained: 0.05 },
    });
    const events = new Map<string, string>();
    for await (const e of campaign({ recipients: 300, seed: 21, mix: { bounced: 0.1, complained: 0.05 } })) events.set(e.id, e.type);
    assert.deepEqual([...all.state.seen].sort(), [...events.keys()].sort(), 'the healthy endpoint got every event');
    const routed = [...events.values()].filter((t) => t === 'email.bounced' || t.startsWith('email.c')).length;
    const [failing, healthy] = r.endpoints;
    assert.equal(failing?.lost, failing?.sent);
    assert.ok((failing?.sent ?? 0) >= routed && routed > 0);
    assert.equal(healthy?.lost, 0);
    assert.equal(new Set(bounces.received.map((q) => (JSON.parse(q.body.toString()) as Event).type)).has('email.sent'), false, 'only bounces and c* went there');
    assert.equal(r.ok, false);
  });
});

describe('simulate: bad flags exit 2 with one line and a hint', () => {
  const scenario = join(dir, 'scenario.json');
  writeFileSync(scenario, JSON.stringify({ recipients: 10, mix: { opened: '120%' } }));
  const cases: Array<[string[], RegExp]> = [
    [['--mix', 'bounce=5%'], /unknown share "bounce" — did you mean bounced\?/],
    [['--mix', 'opened=lots'], /opened must be a share/],
    [['--speed', 'fast'], /--speed must be/],
    [['--recipients', '0'], /--recipients must be a whole number/],
    [['--duplicates', '150%'], /--duplicates must be a share/],
    [['--retry-schedule', '10s,soon'], /"soon" is not a duration/],
    [['--to', 'email.bounced='], /has no URL/],
    [['--scenario', scenario], /mix\.opened: must be a share/],
    [['--scenario', join(dir, 'missing.json')], /cannot read/],
  ];
  for (const [args, message] of cases) {
    test(args.join(' '), async () => {
      const r = await runCli(['simulate', '--to', ':1', '--speed', 'max', ...args]);
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trimEnd().split('\n');
      assert.match(lines[0] ?? '', /^onepush: /);
      assert.match(lines[0] ?? '', message);
      assert.match(lines[1] ?? '', /^hint: /);
      assert.equal(lines.length, 2, r.stderr);
      assert.equal(r.stdout, '');
    });
  }
});
