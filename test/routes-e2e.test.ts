import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { startListener, type ForwardResult, type NotRouted } from '../src/app/listen.js';
import { encodeCapture } from '../src/core/capture.js';
import { jsonLines, printedJson, runCli, startCli } from './helpers/cli.js';
import { freePort, startRawServer, type TestServer } from './helpers/servers.js';

// Routes (TYPES=URL, repeatable) for listen --forward-to, trigger --to and replay --to, end to end: real loopback
// apps on port 0, the listener and the CLI in-process. Each endpoint has its own in-order queue: a failing one
// retries without holding back the others.

type Json = Record<string, unknown>;
const dir = mkdtempSync(join(tmpdir(), 'onepush-routes-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let n = 0;
function fixture(type: string, id = `evt_${type.slice(6)}_${++n}`): string {
  const event = JSON.parse(readFileSync(new URL(`../fixtures/${type}.json`, import.meta.url), 'utf8'));
  event.id = id;
  return JSON.stringify(event);
}

async function post(url: string, body: string): Promise<number> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
  await res.arrayBuffer();
  return res.status;
}

const base = (s: TestServer): string => `http://127.0.0.1:${s.port}`;
const idOf = (r: { body: Buffer }): string => String((JSON.parse(r.body.toString('utf8')) as Json).id);
const failing = (): Promise<TestServer> =>
  startRawServer((_req, res) => {
    res.writeHead(500, { 'content-type': 'text/plain' }).end('boom');
  });

describe('routes: listen --forward-to TYPES=URL', () => {
  test('a failing endpoint retries on its own queue: every event still reaches the fine one, in order', async () => {
    const bad = await failing();
    const good = await startRawServer();
    const results: ForwardResult[] = [];
    let allDelivered: () => void = () => {};
    const fiveDelivered = new Promise<void>((resolve) => (allDelivered = resolve));
    const listener = await startListener({
      port: 0,
      forwardTo: [`email.bounced,email.complained=${base(bad)}/webhooks/bounces`, `${base(good)}/webhooks/onepush`],
      retry: { firstDelayMs: 1, maxDelayMs: 5 },
      onForward: (r) => {
        results.push(r);
        if (r.url.startsWith(base(good)) && results.filter((x) => x.url === r.url && x.outcome === 'delivered').length === 5) allDelivered();
      },
    });
    try {
      const types = ['email.bounced', 'email.sent', 'email.complained', 'email.delivered', 'email.opened'];
      const bodies = types.map((t) => fixture(t));
      for (const b of bodies) assert.equal(await post(listener.url, b), 200);
      const ids = bodies.map((b) => String((JSON.parse(b) as Json).id));
      // The fine endpoint gets all five, in order, while the bad one is still failing its first event.
      const got = await good.waitFor(5);
      await fiveDelivered;
      assert.deepEqual(got.map(idOf), ids);
      assert.ok(got.every((r) => r.path === '/webhooks/onepush'));
      // The bad endpoint keeps retrying the head of its own queue (the bounce), never the complaint behind it.
      const tries = await bad.waitFor(3);
      assert.ok(tries.every((r) => r.path === '/webhooks/bounces' && idOf(r) === ids[0]));
      const s = listener.summary();
      assert.equal(s.not_routed, 0);
      const [b, g] = s.endpoints ?? [];
      assert.equal(b?.url, `${base(bad)}/webhooks/bounces`);
      assert.equal(b?.forwarded, 0);
      assert.equal(b?.queued, 2);
      assert.deepEqual(b?.queued_ids, [ids[0], ids[2]]);
      assert.equal(g?.url, `${base(good)}/webhooks/onepush`);
      assert.equal(g?.forwarded, 5);
      assert.equal(g?.queued, 0);
      // Every forward result names its endpoint.
      assert.ok(results.some((r) => r.url === b?.url && r.outcome === 'retrying'));
      assert.equal(results.filter((r) => r.url === g?.url && r.outcome === 'delivered').length, 5);
    } finally {
      const final = await listener.close();
      assert.equal(final.endpoints?.[0]?.queued, 2);
      await bad.close();
      await good.close();
    }
  });

  test('fan-out and not routed, in the library: an event matching two routes reaches both; one matching none is reported', async () => {
    const a = await startRawServer();
    const b = await startRawServer();
    const notRouted: NotRouted[] = [];
    const listener = await startListener({
      port: 0,
      forwardTo: [`email.bounced=${base(a)}/webhooks/bounces`, `email.b*,email.sent=${base(b)}/webhooks/onepush`],
      onNotRouted: (x) => notRouted.push(x),
    });
    try {
      const bounced = fixture('email.bounced');
      const opened = fixture('email.opened');
      assert.equal(await post(listener.url, bounced), 200);
      assert.equal(await post(listener.url, opened), 200);
      await listener.drained();
      assert.deepEqual((await a.waitFor(1)).map(idOf), [String((JSON.parse(bounced) as Json).id)]);
      assert.deepEqual((await b.waitFor(1)).map(idOf), [String((JSON.parse(bounced) as Json).id)]);
      assert.equal(notRouted.length, 1);
      assert.equal(notRouted[0]?.type, 'email.opened');
      assert.equal(notRouted[0]?.outcome, 'not_routed');
    } finally {
      const s = await listener.close();
      assert.equal(s.not_routed, 1);
      assert.equal(s.forwarded, 2);
      await a.close();
      await b.close();
    }
  });

  test('the CLI: --json forward lines name their endpoint, not routed is a forward line, the summary counts per endpoint', async () => {
    const a = await startRawServer();
    const b = await startRawServer();
    const cli = startCli([
      'listen', '--port', '0', '--json', '--no-save',
      '--forward-to', `email.bounced=${base(a)}/webhooks/bounces`,
      '--forward-to', `email.bounced,email.sent=${base(b)}/webhooks/onepush`,
    ]);
    try {
      const ready = JSON.parse(await cli.waitForLine((l) => l.includes('"kind":"ready"'))) as Json;
      const url = String(ready.url);
      assert.equal(ready.forward_to, `email.bounced=${base(a)}/webhooks/bounces, email.bounced,email.sent=${base(b)}/webhooks/onepush`);
      assert.equal(await post(url, fixture('email.bounced', 'evt_fan')), 200);
      assert.equal(await post(url, fixture('email.opened', 'evt_lost')), 200);
      assert.equal(await post(url, fixture('email.sent', 'evt_sent')), 200);
      await cli.waitForLine((l) => l.includes('"outcome":"not_routed"'));
      await cli.waitForLine((l) => l.includes('"kind":"forward"') && l.includes('evt_sent') && l.includes('"delivered"'));
      assert.deepEqual((await a.waitFor(1)).map(idOf), ['evt_fan']);
      const atB = await b.waitFor(2);
      assert.deepEqual(atB.map(idOf), ['evt_fan', 'evt_sent']);
    } finally {
      const r = await cli.stop();
      assert.equal(r.code, 0, r.stderr);
      await a.close();
      await b.close();
    }
    const lines = printedJson(cli);
    const forwards = lines.filter((l) => l.kind === 'forward');
    const fan = forwards.filter((l) => l.id === 'evt_fan').map((l) => l.url).sort();
    assert.deepEqual(fan, [`${base(a)}/webhooks/bounces`, `${base(b)}/webhooks/onepush`].sort());
    const lost = forwards.find((l) => l.id === 'evt_lost');
    assert.deepEqual(lost, { kind: 'forward', seq: 2, id: 'evt_lost', type: 'email.opened', url: null, outcome: 'not_routed' });
    const summary = lines.at(-1) as Json;
    assert.equal(summary.kind, 'summary');
    assert.equal(summary.forwarded, 3);
    assert.equal(summary.not_routed, 1);
    assert.deepEqual(
      (summary.endpoints as Json[]).map((e) => [e.url, e.forwarded, e.queued]),
      [[`${base(a)}/webhooks/bounces`, 1, 0], [`${base(b)}/webhooks/onepush`, 2, 0]],
    );
  });

  test('the CLI, pretty: each forward line names its endpoint, a not routed line, and a summary line per endpoint', async () => {
    const a = await startRawServer();
    const b = await startRawServer();
    const cli = startCli(['listen', '--port', '0', '--no-save', '--forward-to', `email.bounced=${base(a)}/webhooks/bounces`, '--forward-to', `email.sent=${base(b)}/webhooks/onepush`]);
    try {
      const m = await cli.waitForStderr(/(http:\/\/localhost:\d+\/webhooks\/onepush)/);
      const url = String(m[1]);
      assert.equal(await post(url, fixture('email.bounced', 'evt_pretty')), 200);
      assert.equal(await post(url, fixture('email.opened', 'evt_nowhere')), 200);
      await cli.waitForLine((l) => l.includes('evt_pretty') && l.includes(`→ ${base(a)}/webhooks/bounces`) && l.includes('200'));
      await cli.waitForLine((l) => l.includes('evt_nowhere') && l.includes('not routed'));
    } finally {
      const r = await cli.stop();
      assert.equal(r.code, 0, r.stderr);
      // The summary, after the events on stdout.
      assert.match(r.stdout, new RegExp(`→ ${base(a)}/webhooks/bounces · forwarded 1 · failed 0 · queued 0`));
      assert.match(r.stdout, new RegExp(`→ ${base(b)}/webhooks/onepush · forwarded 0 · failed 0 · queued 0`));
      assert.match(r.stdout, /1 not routed/);
      await a.close();
      await b.close();
    }
  });

  test('the forward-loop check applies to each endpoint', async () => {
    const a = await startRawServer();
    try {
      // A fixed port (one no listen(0) is handed), so a route can name the listener's own address.
      const port = await freePort();
      await assert.rejects(
        startListener({ port, forwardTo: [`email.sent=${base(a)}/x`, `email.bounced=http://127.0.0.1:${port}/webhooks/onepush`] }),
        (e: Error) => e.name === 'ForwardLoopError' && e.message.includes(`127.0.0.1:${port}`),
      );
    } finally {
      await a.close();
    }
  });

  test('a bad route is exit 2 with one clear line, for listen, trigger and replay', async () => {
    for (const args of [
      ['listen', '--port', '0', '--no-save', '--forward-to', ':3000', '--forward-to', '=:3000'],
      ['trigger', 'sent', '--to', 'email.bounced='],
      ['replay', '--to', 'email.bounced=', join(dir, 'none.ndjson')],
    ]) {
      const r = await runCli(args);
      assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
      const errs = r.stderr.trim().split('\n').filter((l) => l.startsWith('error') || l.includes('route'));
      assert.ok(errs.length >= 1 && /route ".*"/.test(r.stderr), r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    }
  });
});

describe('routes: trigger --to and replay --to', () => {
  test('trigger: each event goes to every matching endpoint; lines name it; not routed is a warning, exit 0', async () => {
    const a = await startRawServer();
    const b = await startRawServer();
    try {
      const r = await runCli(['trigger', 'bounced', 'sent', 'opened', '--json', '--to', `email.bounced=${base(a)}/webhooks/bounces`, '--to', `email.bounced,email.sent=${base(b)}/webhooks/onepush`]);
      assert.equal(r.code, 0, r.stderr);
      const d = jsonLines(r);
      assert.deepEqual(d.map((l) => [l.type, l.url, l.ok]), [
        ['email.bounced', `${base(a)}/webhooks/bounces`, true],
        ['email.bounced', `${base(b)}/webhooks/onepush`, true],
        ['email.sent', `${base(b)}/webhooks/onepush`, true],
      ]);
      assert.equal(d[0]?.id, d[1]?.id);
      assert.deepEqual(a.received.map((x) => x.path), ['/webhooks/bounces']);
      assert.deepEqual(b.received.map((x) => (JSON.parse(x.body.toString('utf8')) as Json).type), ['email.bounced', 'email.sent']);
      assert.match(r.stderr, /email\.opened evt_\S+: not routed \(no --to route takes email\.opened\)/);
      // Pretty: each line names its endpoint when there are several.
      const p = await runCli(['trigger', 'bounced', '--to', `email.bounced=${base(a)}/webhooks/bounces`, '--to', `${base(b)}/webhooks/onepush`]);
      assert.equal(p.code, 0, p.stderr);
      const out = p.stdout.trim().split('\n');
      assert.equal(out.length, 2);
      assert.match(out[0] ?? '', new RegExp(`→ ${base(a)}/webhooks/bounces`));
      assert.match(out[1] ?? '', new RegExp(`→ ${base(b)}/webhooks/onepush`));
    } finally {
      await a.close();
      await b.close();
    }
  });

  test('trigger: a failing endpoint is exit 1, the other still gets its events', async () => {
    const bad = await failing();
    const good = await startRawServer();
    try {
      const r = await runCli(['trigger', 'bounced', 'sent', '--json', '--to', `email.bounced=${base(bad)}/b`, '--to', `${base(good)}/o`]);
      assert.equal(r.code, 1, r.stderr);
      assert.deepEqual(jsonLines(r).map((l) => [l.type, l.status]), [['email.bounced', 500], ['email.bounced', 200], ['email.sent', 200]]);
      assert.equal(good.received.length, 2);
    } finally {
      await bad.close();
      await good.close();
    }
  });

  test('replay: each captured event goes to every matching endpoint, in order; not routed is a warning', async () => {
    const a = await startRawServer();
    const b = await startRawServer();
    const file = join(dir, 'captures.ndjson');
    const types = ['email.sent', 'email.bounced', 'email.opened', 'email.complained'];
    writeFileSync(
      file,
      types
        .map((type, i) => {
          const body = Buffer.from(JSON.stringify({ id: `evt_r${i}`, type, created_at: new Date().toISOString(), data: { email_id: `em_${i}` } }));
          return encodeCapture({ receivedAt: new Date(), method: 'POST', path: '/webhooks/onepush', headers: { 'content-type': 'application/json' }, body, verified: null, status: 200 });
        })
        .join(''),
    );
    try {
      const r = await runCli(['replay', file, '--json', '--to', `email.bounced,email.complained=${base(a)}/webhooks/bounces`, '--to', `email.sent,email.b*=${base(b)}/webhooks/onepush`]);
      assert.equal(r.code, 0, r.stderr);
      const d = jsonLines(r).filter((l) => l.kind === 'delivery');
      assert.deepEqual(d.map((l) => [l.n, l.id, l.url]), [
        [1, 'evt_r0', `${base(b)}/webhooks/onepush`],
        [2, 'evt_r1', `${base(a)}/webhooks/bounces`],
        [2, 'evt_r1', `${base(b)}/webhooks/onepush`],
        [4, 'evt_r3', `${base(a)}/webhooks/bounces`],
      ]);
      assert.deepEqual(a.received.map(idOf), ['evt_r1', 'evt_r3']);
      assert.deepEqual(b.received.map(idOf), ['evt_r0', 'evt_r1']);
      assert.match(r.stderr, /:3: email\.opened evt_r2: not routed \(no --to route takes its type\): not sent/);
      const summary = jsonLines(r).at(-1) as Json;
      assert.equal(summary.sent, 4);
    } finally {
      await a.close();
      await b.close();
    }
  });
});
