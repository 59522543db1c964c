import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { backoffDelay, deliver, deliverAll, type DeliveryClock, type DeliveryResult } from '../src/adapters/delivery.js';
import { createHttpClient } from '../src/adapters/http-client.js';
import { DEFAULT_RETRY, isRetryable, retryDelay, retryPolicy } from '../src/core/retry.js';
import { replay, type ReplayDelivery } from '../src/app/replay.js';
import { encodeCapture } from '../src/core/capture.js';
import { percentile, SummaryBuilder, summaryLine } from '../src/core/report.js';
import { parseSince, readReplayLine, replayRequest, selector, takeLast, type ReplayItem } from '../src/core/replay-select.js';
import { sign } from '../src/core/signature.js';
import { startRawServer, startStrictReceiver } from './helpers/servers.js';

// The delivery engine and the pure parts of replay (issue #4), as the library exposes them.

describe('delivery engine (library deliver)', () => {
  test('one request: status, attempts, first line; retries 5xx then succeeds', async () => {
    let n = 0;
    const app = await startRawServer((_r, res) => {
      n++;
      res.writeHead(n < 3 ? 500 : 201);
      res.end(n < 3 ? 'boom\nstack…' : '\n  created  \nmore');
    });
    try {
      const r = await deliver({ url: app.url, body: '{"id":"evt_1"}' }, { retries: 2, backoffMs: 5 });
      assert.deepEqual({ ...r, latencyMs: 0 }, { status: 201, ok: true, attempts: 3, latencyMs: 0, response: 'created', body: '\n  created  \nmore', error: null, reason: null });
      assert.equal(app.received[0]!.headers['content-type'], 'application/json');
      n = 0;
      const f = await deliver({ url: app.url, body: '{}' }, { retries: 1, backoffMs: 5 });
      assert.equal(f.ok, false);
      assert.equal(f.status, 500);
      assert.equal(f.attempts, 2);
      assert.equal(f.response, 'boom');
      assert.equal(f.reason, '500');
    } finally {
      await app.close();
    }
  });

  test('several requests: results in request order, signed headers passed through', async () => {
    const secret = 'lib-secret';
    const app = await startStrictReceiver(secret);
    try {
      const bodies = Array.from({ length: 10 }, (_, i) => JSON.stringify({ id: `evt_${i}`, type: 'email.sent' }));
      const results = await deliver(
        bodies.map((body) => ({ url: app.url, body, headers: { 'x-onepush-signature': sign(body, secret) } })),
        { concurrency: 4 },
      );
      assert.equal(results.length, 10);
      assert.ok(results.every((r) => r.ok && r.status === 200));
      assert.deepEqual(app.received.map((r) => r.body.toString()).sort(), [...bodies].sort());
    } finally {
      await app.close();
    }
  });

  test('a 4xx other than 429 is never retried; a network error is, and says so in words', async () => {
    const app = await startRawServer((_r, res) => {
      res.writeHead(409);
      res.end('conflict');
    });
    try {
      const r = await deliver({ url: app.url, body: '{}' }, { retries: 5, backoffMs: 1 });
      assert.equal(r.attempts, 1);
      assert.equal(r.reason, '409');
    } finally {
      await app.close();
    }
    const port = app.port; // closed now
    const down = await deliver({ url: `http://127.0.0.1:${port}/x`, body: '{}' }, { retries: 2, backoffMs: 1 });
    assert.equal(down.status, null);
    assert.equal(down.attempts, 3);
    assert.equal(down.reason, 'ECONNREFUSED');
    assert.equal(down.error, `connection refused — is your app running on port ${port}?`);
  });

  test('backoff: exponential, capped, jittered within [50%, 100%]', () => {
    assert.equal(backoffDelay(1, 250, 5000, 1), 250);
    assert.equal(backoffDelay(1, 250, 5000, 0), 125);
    assert.equal(backoffDelay(3, 250, 5000, 1), 1000);
    assert.equal(backoffDelay(10, 250, 5000, 1), 5000);
    assert.equal(backoffDelay(10, 250, 5000, 0), 2500);
  });
});

/** A clock on which waits take no time: it records them (the delivery engine's waits are asserted, not lived). */
function recordingClock(): DeliveryClock & { waits: number[] } {
  let now = 0;
  const waits: number[] = [];
  return {
    waits,
    now: () => now,
    sleep: async (ms, signal) => {
      if (signal?.aborted) return;
      waits.push(ms);
      now += Math.max(0, ms);
    },
  };
}

describe('the one retry policy (src/core/retry.ts): trigger, replay, deliver and listen --forward-to', () => {
  test('what is retried: network errors but an untrusted certificate or a cancel, timeouts, 5xx but 508, 429; never 3xx or another 4xx', () => {
    for (const status of [500, 502, 503, 504, 599, 429]) assert.equal(isRetryable({ status }), true, String(status));
    for (const status of [200, 301, 307, 400, 401, 404, 409, 422, 508]) assert.equal(isRetryable({ status }), false, String(status));
    for (const errorCode of ['ECONNREFUSED', 'ECONNRESET', 'TIMEOUT', 'ENOTFOUND', undefined]) assert.equal(isRetryable({ status: undefined, errorCode }), true, String(errorCode));
    for (const errorCode of ['DEPTH_ZERO_SELF_SIGNED_CERT', 'CERT_HAS_EXPIRED', 'ABORTED']) assert.equal(isRetryable({ status: undefined, errorCode }), false, errorCode);
  });

  test('DEFAULT_RETRY: 250 ms doubling to 5 s; a Retry-After of a 429 or a 503 lengthens the wait (up to 60 s), never shortens it', () => {
    assert.deepEqual({ ...DEFAULT_RETRY }, { firstDelayMs: 250, maxDelayMs: 5000, maxRetryAfterMs: 60_000 });
    const p = retryPolicy(undefined);
    assert.deepEqual([1, 2, 3, 4, 5, 6, 7].map((n) => retryDelay(n, { status: 500 }, p)), [250, 500, 1000, 2000, 4000, 5000, 5000]);
    assert.equal(retryDelay(1, { status: 429, retryAfterMs: 1000 }, p), 1000);
    assert.equal(retryDelay(1, { status: 503, retryAfterMs: 3000 }, p), 3000);
    assert.equal(retryDelay(4, { status: 503, retryAfterMs: 1000 }, p), 2000, 'shorter than the backoff: the backoff');
    assert.equal(retryDelay(1, { status: 429, retryAfterMs: 0 }, p), 250, 'Retry-After: 0 does not make a busy loop');
    assert.equal(retryDelay(1, { status: 429, retryAfterMs: 3_600_000 }, p), 60_000, 'cut to maxRetryAfterMs');
    assert.equal(retryDelay(1, { status: 500, retryAfterMs: 9000 }, p), 250, 'only 429 and 503 carry a Retry-After that counts');
    assert.deepEqual(retryPolicy({ firstDelayMs: 10 }), { firstDelayMs: 10, maxDelayMs: 5000, maxRetryAfterMs: 60_000 });
    // Jitter (several deliveries at once) spreads a wait over [50%, 100%] of the backoff.
    assert.equal(retryDelay(3, { status: 500 }, p, 0), 500);
    assert.equal(retryDelay(3, { status: 500 }, p, 1), 1000);
  });

  test('one delivery at a time waits the full backoff, 250, 500, 1000 ms; several at once are jittered within [50%, 100%]', async () => {
    const app = await startRawServer((_r, res) => {
      res.writeHead(500);
      res.end('boom');
    });
    try {
      const one = recordingClock();
      const r = await deliver({ url: app.url, body: '{}' }, { retries: 3, clock: one });
      assert.equal(r.attempts, 4);
      assert.deepEqual(one.waits, [250, 500, 1000]);
      const many = recordingClock();
      const rs = await deliver(Array.from({ length: 4 }, () => ({ url: app.url, body: '{}' })), { retries: 3, concurrency: 4, clock: many });
      assert.deepEqual(rs.map((x) => x.attempts), [4, 4, 4, 4]);
      assert.equal(many.waits.length, 12);
      const firsts = many.waits.filter((w) => w <= 250);
      assert.ok(many.waits.every((w) => w >= 125 && w <= 1000), many.waits.join(', '));
      assert.ok(firsts.length >= 4, 'each delivery\'s first wait is within [125, 250]');
    } finally {
      await app.close();
    }
  });

  test('429 with Retry-After: 1 waits 1000 ms, as told, then succeeds; a 503\'s Retry-After past maxRetryAfterMs is cut', async () => {
    let n = 0;
    const app = await startRawServer((_r, res) => {
      n++;
      if (n === 1) res.writeHead(429, { 'retry-after': '1' }).end('slow down');
      else if (n === 2) res.writeHead(503, { 'retry-after': '120' }).end('down for maintenance');
      else res.writeHead(200).end('ok');
    });
    try {
      const clock = recordingClock();
      const r = await deliver({ url: app.url, body: '{}' }, { retries: 2, retry: { maxRetryAfterMs: 30_000 }, clock });
      assert.deepEqual({ ok: r.ok, attempts: r.attempts }, { ok: true, attempts: 3 });
      assert.deepEqual(clock.waits, [1000, 30_000]);
    } finally {
      await app.close();
    }
  });

  test('--rate spaces the starts on the clock: 20 a second is one every 50 ms', async () => {
    const app = await startRawServer();
    const client = createHttpClient({ userAgent: 'test', connections: 1 });
    try {
      const clock = recordingClock();
      const results: DeliveryResult[] = [];
      await deliverAll(client, [1, 2, 3, 4, 5, 6], () => ({ url: new URL(app.url), headers: {}, body: '{}' }), (_i, res) => results.push(res), { rate: 20, clock });
      assert.equal(results.length, 6);
      assert.equal(app.received.length, 6);
      assert.deepEqual(clock.waits.filter((w) => w > 0), [50, 50, 50, 50, 50]);
    } finally {
      await client.close();
      await app.close();
    }
  });

  test('a signal stops the retries: the attempt that failed is the result', async () => {
    const app = await startRawServer((_r, res) => {
      res.writeHead(503).end('down');
    });
    try {
      const stop = new AbortController();
      const clock = recordingClock();
      const waits: number[] = [];
      const r = await deliver({ url: app.url, body: '{}' }, {
        retries: 5,
        signal: stop.signal,
        clock: {
          now: clock.now,
          sleep: async (ms, signal) => {
            waits.push(ms);
            stop.abort();
            await clock.sleep(ms, signal);
          },
        },
      });
      assert.deepEqual({ status: r.status, attempts: r.attempts }, { status: 503, attempts: 1 });
      assert.deepEqual(waits, [250]);
      assert.equal(app.received.length, 1);
    } finally {
      await app.close();
    }
  });
});

describe('replay selection and signing (pure)', () => {
  const item = (id: string, type: string, timeMs: number | null): ReplayItem => ({
    source: 'x',
    line: 1,
    id,
    type,
    timeMs,
    body: Buffer.from(JSON.stringify({ id, type })),
    headers: null,
  });

  test('parseSince: durations back from now, ISO times, junk rejected', () => {
    const now = Date.parse('2026-11-27T12:00:00Z');
    assert.equal(parseSince('10m', now), now - 600_000);
    assert.equal(parseSince('2h', now), now - 7_200_000);
    assert.equal(parseSince('1d', now), now - 86_400_000);
    assert.equal(parseSince('30s', now), now - 30_000);
    assert.equal(parseSince('2026-11-27T10:00:00Z', now), Date.parse('2026-11-27T10:00:00Z'));
    for (const bad of ['', 'yesterday', '10', '5y', 'm10']) assert.throws(() => parseSince(bad, now), TypeError, bad);
  });

  test('selector: ids, type globs, since; items without a time are out when --since is given', () => {
    const items = [item('evt_1', 'email.sent', 1000), item('evt_2', 'email.bounced', 2000), item('evt_3', 'email.bounced', null)];
    const pick = (sel: Parameters<typeof selector>[0]): string[] => items.filter(selector(sel)).map((i) => i.id ?? '');
    assert.deepEqual(pick({}), ['evt_1', 'evt_2', 'evt_3']);
    assert.deepEqual(pick({ type: 'email.b*' }), ['evt_2', 'evt_3']);
    assert.deepEqual(pick({ ids: ['evt_3', 'evt_1'] }), ['evt_1', 'evt_3']);
    assert.deepEqual(pick({ sinceMs: 1500 }), ['evt_2']);
  });

  test('takeLast keeps the last n in order', async () => {
    async function* gen(n: number) {
      for (let i = 1; i <= n; i++) yield i;
    }
    const all = async (it: AsyncIterable<number>): Promise<number[]> => {
      const out: number[] = [];
      for await (const x of it) out.push(x);
      return out;
    };
    assert.deepEqual(await all(takeLast(gen(10), 3)), [8, 9, 10]);
    assert.deepEqual(await all(takeLast(gen(2), 3)), [1, 2]);
    assert.deepEqual(await all(takeLast(gen(0), 3)), []);
  });

  test('readReplayLine: captures, listen lines, plain events; bad lines throw with a reason', () => {
    const cap = encodeCapture({
      receivedAt: new Date('2026-11-27T10:00:00Z'),
      method: 'POST',
      path: '/',
      headers: { 'x-onepush-signature': 'abc' },
      body: Buffer.from('{"id":"evt_1","type":"email.sent"}'),
      verified: true,
      status: 200,
    }).trim();
    const c = readReplayLine(cap, 'f', 1);
    assert.equal(c.kind, 'item');
    if (c.kind === 'item') {
      assert.equal(c.item.id, 'evt_1');
      assert.equal(c.item.timeMs, Date.parse('2026-11-27T10:00:00Z'));
      assert.deepEqual(c.item.headers, { 'x-onepush-signature': 'abc' });
    }
    assert.deepEqual(readReplayLine('{"kind":"ready"}', 'f', 1), { kind: 'ignore' });
    assert.equal(readReplayLine('{"type":"email.sent","id":"e"}', 'f', 1).kind, 'item');
    assert.throws(() => readReplayLine('{"v":1', 'f', 1), /not valid JSON/);
    assert.throws(() => readReplayLine('[1]', 'f', 1), /not a JSON object/);
    assert.throws(() => readReplayLine('{"a":1}', 'f', 1), /not a capture, a listen --json line or an event/);
    assert.throws(() => readReplayLine('{"v":1,"received_at":"2026-11-27T10:00:00Z"}', 'f', 1), /capture field "method" is missing/);
  });

  test('replayRequest: keeps headers minus hop-by-hop; re-signs unless keepSignature', () => {
    const it: ReplayItem = {
      ...item('evt_1', 'email.sent', 0),
      headers: { host: 'h', 'content-length': '9', connection: 'close', 'transfer-encoding': 'chunked', 'x-onepush-signature': 'old', 'user-agent': 'ua' },
    };
    const kept = replayRequest(it, { secret: 's', keepSignature: true, sign });
    assert.deepEqual(kept.headers, { 'x-onepush-signature': 'old', 'user-agent': 'ua', 'content-type': 'application/json' });
    assert.equal(kept.body, it.body);
    const re = replayRequest(it, { secret: 's', sign });
    assert.equal(re.headers['x-onepush-signature'], createHmac('sha256', 's').update(it.body).digest('hex'));
    const fresh = replayRequest(it, { secret: 's', sign, freshId: () => 'evt_new' });
    assert.equal(fresh.id, 'evt_new');
    assert.equal(fresh.body.toString(), '{"id":"evt_new","type":"email.sent"}');
  });

  test('summary: counts, failures by reason, nearest-rank percentiles', () => {
    assert.equal(percentile([], 50), null);
    assert.equal(percentile([5, 1, 3, 2, 4], 50), 3);
    assert.equal(percentile(Array.from({ length: 100 }, (_, i) => 100 - i), 95), 95);
    const b = new SummaryBuilder();
    for (let i = 1; i <= 2000; i++) b.add({ ok: i % 10 !== 0, reason: i % 10 === 0 ? (i % 20 === 0 ? '503' : 'TIMEOUT') : null, latencyMs: i });
    b.skipped = 3;
    const s = b.summary(1234);
    assert.deepEqual(s, { kind: 'summary', sent: 2000, ok: 1800, failed: 200, failures: { TIMEOUT: 100, '503': 100 }, skipped: 3, p50_ms: 1000, p95_ms: 1900, duration_ms: 1234 });
    assert.equal(summaryLine(s), '2000 sent, 1800 2xx, 200 failed (503 ×100, TIMEOUT ×100), 3 skipped · p50 1000 ms · p95 1900 ms · 1.2 s');
  });
});

describe('library replay', () => {
  test('replays a capture file in-process and reports each delivery', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onepush-libreplay-'));
    const file = join(dir, 'events.ndjson');
    const bodies = ['{"id":"evt_a","type":"email.sent"}', '{"id":"evt_b","type":"email.opened"}'];
    writeFileSync(
      file,
      bodies
        .map((b) => encodeCapture({ receivedAt: new Date(), method: 'POST', path: '/', headers: {}, body: Buffer.from(b), verified: null, status: 200 }))
        .join(''),
    );
    const app = await startStrictReceiver('k');
    try {
      const seen: ReplayDelivery[] = [];
      const { summary, interrupted } = await replay([file], { to: app.url, secret: 'k', onDelivery: (d) => seen.push(d) });
      assert.equal(interrupted, false);
      assert.equal(summary.ok, 2);
      assert.deepEqual(seen.map((d) => [d.n, d.id, d.status]), [[1, 'evt_a', 200], [2, 'evt_b', 200]]);
      assert.deepEqual(app.received.map((r) => r.body.toString()), bodies);
    } finally {
      await app.close();
    }
  });
});
