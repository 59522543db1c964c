import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { Chalk } from 'chalk';
import { bannerLines, eventJson, eventLines, forwardLine, summaryLines, utcClock, type RenderOptions } from '../src/commands/listen-render.js';
import { classify } from '../src/core/receiver.js';
import { listenEvent, type ListenEvent } from '../src/app/listen.js';
import { assertGolden } from './helpers/golden.js';

// The pretty output of `listen` (issue #3), pinned by a golden file: rendered in-process with a fixed clock
// (UTC) and no colour, so it is reviewed like code.

const TYPES = ['email.sent', 'email.delivered', 'email.opened', 'email.clicked', 'email.bounced', 'email.complained', 'email.unsubscribed'];
const plain: RenderOptions = { c: new Chalk({ level: 0 }), clock: utcClock, verbose: false, save: '.onepush/events.ndjson' };
const T0 = Date.parse('2026-11-26T15:55:00.000Z');

function event(seq: number, body: string, secret: string | undefined, signature: string | undefined, extra: Partial<ListenEvent> = {}): ListenEvent {
  const c = classify({ method: 'POST', body: Buffer.from(body), signature }, secret);
  const head = { method: 'POST', path: '/webhooks/onepush', headers: { 'content-type': 'application/json', 'x-onepush-signature': signature ?? '' } };
  return { ...listenEvent(c, seq, head, new Date(T0 + seq * 1000).toISOString(), body.length, null), ...extra };
}

const fixture = (type: string): string => JSON.stringify(JSON.parse(readFileSync(new URL(`../fixtures/${type}.json`, import.meta.url), 'utf8')));

function renderAll(): string {
  const c = plain.c;
  const lines = bannerLines(
    { version: '0.1.0', url: 'http://localhost:4242/webhooks/onepush', host: '127.0.0.1', secretMask: 'whse…', save: '.onepush/events.ndjson', forwardTo: 'http://localhost:3000/webhooks/onepush', events: null, maxBody: 1048576 },
    c,
  );
  lines.push('');
  TYPES.forEach((type, i) => {
    const body = fixture(type);
    lines.push(...eventLines(event(i + 1, body, 'whsec_x', createHmac('sha256', 'whsec_x').update(body).digest('hex')), plain));
  });
  const bounced = fixture('email.bounced');
  lines.push(...eventLines(event(8, bounced, 'whsec_x', 'bad'), plain));
  lines.push(...eventLines(event(9, bounced, undefined, undefined, { duplicate: true, first_seen_at: new Date(T0 + 5000).toISOString() }), plain));
  lines.push(...eventLines(event(10, 'not json', undefined, undefined), plain));
  lines.push(...eventLines(event(11, '{"id":"evt_x","type":"email.teleported","data":{}}', undefined, undefined), plain));
  const broken = JSON.parse(bounced);
  broken.data.bounce.type = 'medium';
  lines.push(...eventLines(event(12, JSON.stringify(broken), undefined, undefined), plain));
  const f = { kind: 'forward', seq: 5, id: 'evt_01JD8Q4Z7X2K9V3M5N6P7R8S9T', type: 'email.bounced', url: 'http://localhost:3000/webhooks/onepush', attempt: 1, latency_ms: 8, error: null, response: '' } as const;
  lines.push(forwardLine({ ...f, outcome: 'delivered', status: 200, message: null, retry_in_ms: null, queued: 0 }, c));
  lines.push(forwardLine({ ...f, outcome: 'retrying', status: 500, message: 'TypeError: x is undefined', retry_in_ms: 1000, queued: 1 }, c));
  lines.push(forwardLine({ ...f, attempt: 2, outcome: 'retrying', status: null, error: 'ECONNREFUSED', message: 'connection refused — is your app running on port 3000?', retry_in_ms: 2000, queued: 2 }, c));
  lines.push(forwardLine({ ...f, outcome: 'rejected', status: 404, message: 'Cannot POST /webhooks/onepush', retry_in_ms: null, queued: 0 }, c));
  lines.push('');
  lines.push(
    ...summaryLines(
      { kind: 'summary', received: 12, accepted: 10, valid: 0, invalid: 1, unverified: 10, rejected: 1, duplicates: 1, forwarded: 8, forward_failed: 1, queued: 2, queued_ids: ['evt_a', 'evt_b'], given_up_ids: [], save: '.onepush/events.ndjson', callback_errors: 0, duration_ms: 72_000 },
      'http://localhost:3000/webhooks/onepush',
      c,
    ),
  );
  return `${lines.join('\n')}\n`;
}

test('pretty output of one event of each type, a 401, a duplicate, a 400, an unknown type, a schema issue, forwarding and the summary (golden)', () => {
  assertGolden('listen-pretty.txt', renderAll());
});

test('--verbose adds the headers and the whole payload', () => {
  const lines = eventLines(event(1, fixture('email.clicked'), undefined, undefined), { ...plain, verbose: true });
  assert.ok(lines.some((l) => l.includes('content-type: application/json')));
  assert.ok(lines.some((l) => l.includes('"url": "https://acme.test/onboarding')));
});

test('colour: the type is coloured by kind, and NO_COLOR output has no ANSI at all', () => {
  const colour: RenderOptions = { ...plain, c: new Chalk({ level: 1 }) };
  const red = eventLines(event(1, fixture('email.bounced'), undefined, undefined), colour)[0] ?? '';
  const green = eventLines(event(1, fixture('email.delivered'), undefined, undefined), colour)[0] ?? '';
  assert.ok(red.includes('\u001b[31memail.bounced'), red);
  assert.ok(green.includes('\u001b[32memail.delivered'), green);
  assert.doesNotMatch(renderAll(), /\u001b\[/);
});

test('the event JSON line is one parseable line, even for a pretty-printed body', () => {
  const pretty = readFileSync(new URL('../fixtures/email.bounced.json', import.meta.url), 'utf8');
  const ev = event(3, pretty, undefined, undefined);
  const line = eventJson(ev, false);
  assert.ok(!line.includes('\n'));
  const parsed = JSON.parse(line);
  assert.deepEqual(parsed.payload, JSON.parse(pretty));
  assert.equal(parsed.headers, undefined);
  const { headers, payloadText, ...rest } = ev;
  void payloadText;
  assert.deepEqual(parsed, { ...rest });
  assert.deepEqual(JSON.parse(eventJson(ev, true)).headers, headers);
  assert.equal(JSON.parse(eventJson(event(4, 'junk', undefined, undefined), false)).payload, null);
});

test('a 413 tells the sender the limit in plain words, and the developer which flag raises it', async () => {
  const { tooLarge } = await import('../src/core/receiver.js');
  const c = tooLarge(2048, 5000);
  assert.equal(c.status, 413);
  const body = JSON.parse(c.answer) as { reason: string };
  assert.equal(body.reason, "body of 5000 bytes is larger than the listener's limit (2048 bytes)");
  assert.doesNotMatch(c.answer, /--/, 'the sender is told no flag of a command it does not run');
  const head = { method: 'POST', path: '/webhooks/onepush', headers: {} };
  const lines = eventLines(listenEvent(c, 1, head, new Date(T0).toISOString(), 5000, null), plain);
  assert.match(lines.join('\n'), /413  body of 5000 bytes is larger than the listener's limit \(2048 bytes\)\n +a larger limit: onepush listen --max-body <size>/);
});
