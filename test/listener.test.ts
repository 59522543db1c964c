import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startListener, type ForwardResult, type ListenEvent } from '../src/index.js';

// startListener, the library form of `listen` (issue #3), in-process: what users' integration tests do. The
// retry delays are shortened through its options so the queue tests are quick.

const SECRET = 'whsec_listener';
const hmac = (body: string): string => createHmac('sha256', SECRET).update(body).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'onepush-listener-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const body = (id: string): string => JSON.stringify({ ...JSON.parse(readFileSync(new URL('../fixtures/email.delivered.json', import.meta.url), 'utf8')), id });
const send = (url: string, id: string): Promise<Response> => fetch(url, { method: 'POST', body: body(id), headers: { 'x-onepush-signature': hmac(body(id)) } });

/** An app on a fixed port that can be started, stopped and restarted; records ids in arrival order. */
function app(answer: (id: string, n: number) => number = () => 200) {
  const ids: string[] = [];
  const waiters: Array<{ n: number; resolve: () => void }> = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const id = String(JSON.parse(Buffer.concat(chunks).toString()).id);
      const status = answer(id, ids.length);
      if (status === 200) ids.push(id);
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(status === 200 ? '{"ok":true}' : '{"error":"boom"}');
      for (const w of [...waiters]) if (ids.length >= w.n) w.resolve();
    });
  });
  return {
    ids,
    async start(port = 0): Promise<number> {
      server.listen(port, '127.0.0.1');
      await once(server, 'listening');
      return (server.address() as AddressInfo).port;
    },
    async stop(): Promise<void> {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
    waitFor: (n: number) => new Promise<void>((resolve) => (ids.length >= n ? resolve() : waiters.push({ n, resolve }))),
  };
}

test('startListener answers, reports events and saves them; close() returns the totals', async () => {
  const events: ListenEvent[] = [];
  const save = join(dir, 'lib.ndjson');
  const listener = await startListener({ port: 0, secret: SECRET, save, onEvent: (e) => events.push(e), now: () => new Date('2026-11-26T15:55:00Z') });
  assert.equal(listener.url, `http://localhost:${listener.port}/webhooks/onepush`);
  assert.equal(listener.verifying, true);
  const res = await send(listener.url, 'evt_lib_1');
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { received: true, id: 'evt_lib_1' });
  assert.equal(events[0]?.received_at, '2026-11-26T15:55:00.000Z');
  assert.equal(events[0]?.verified, true);
  const summary = await listener.close();
  assert.equal(summary.received, 1);
  assert.equal(summary.valid, 1);
  assert.equal(readFileSync(save, 'utf8').split('\n').filter(Boolean).length, 1);
  await assert.rejects(fetch(listener.url, { method: 'POST', body: '{}' }), 'closed: no longer accepting');
});

test('app down → events queued → app back → all delivered, in order, none dropped', async () => {
  const theApp = app();
  const port = await theApp.start();
  await theApp.stop();
  const results: ForwardResult[] = [];
  let onRetry: () => void = () => {};
  const retried = new Promise<void>((resolve) => (onRetry = resolve));
  const listener = await startListener({
    port: 0,
    secret: SECRET,
    forwardTo: `${port}`,
    retryBaseMs: 20,
    retryMaxMs: 100,
    onForward: (r) => {
      results.push(r);
      if (r.outcome === 'retrying') onRetry();
    },
  });
  try {
    for (const id of ['evt_a', 'evt_b', 'evt_c']) assert.equal((await send(listener.url, id)).status, 200);
    await retried;
    assert.equal(results[0]?.error, 'ECONNREFUSED');
    assert.equal(results[0]?.status, null);
    assert.equal(results[0]?.id, 'evt_a', 'the head of the queue is retried first');
    assert.ok(listener.summary().queued >= 1);
    await theApp.start(port);
    await theApp.waitFor(3);
    await listener.drained();
    assert.deepEqual(theApp.ids, ['evt_a', 'evt_b', 'evt_c']);
    const delivered = results.filter((r) => r.outcome === 'delivered');
    assert.deepEqual(delivered.map((r) => r.id), ['evt_a', 'evt_b', 'evt_c']);
    assert.equal(delivered.at(-1)?.queued, 0);
    const summary = await listener.close();
    assert.equal(summary.forwarded, 3);
    assert.equal(summary.queued, 0);
  } finally {
    await listener.close();
    await theApp.stop().catch(() => {});
  }
});

test('5xx and 429 are retried with growing delays; the next event waits its turn', async () => {
  let failures = 3;
  const theApp = app((id) => (id === 'evt_x' && failures-- > 0 ? (failures === 1 ? 429 : 503) : 200));
  const port = await theApp.start();
  const results: ForwardResult[] = [];
  const listener = await startListener({ port: 0, forwardTo: `http://127.0.0.1:${port}/hook`, retryBaseMs: 10, retryMaxMs: 30, onForward: (r) => results.push(r) });
  try {
    assert.equal((await send(listener.url, 'evt_x')).status, 200);
    assert.equal((await send(listener.url, 'evt_y')).status, 200);
    await theApp.waitFor(2);
    await listener.drained();
    assert.deepEqual(theApp.ids, ['evt_x', 'evt_y']);
    assert.deepEqual(results.map((r) => [r.id, r.outcome, r.status, r.retry_in_ms]), [
      ['evt_x', 'retrying', 503, 10],
      ['evt_x', 'retrying', 429, 20],
      ['evt_x', 'retrying', 503, 30],
      ['evt_x', 'delivered', 200, null],
      ['evt_y', 'delivered', 200, null],
    ]);
    assert.equal(results[0]?.message, '{"error":"boom"}');
  } finally {
    await listener.close();
    await theApp.stop();
  }
});

test('a port in use rejects with EADDRINUSE', async () => {
  const first = await startListener({ port: 0 });
  try {
    await assert.rejects(startListener({ port: first.port }), { code: 'EADDRINUSE' });
  } finally {
    await first.close();
  }
});
