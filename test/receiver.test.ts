import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { classify, DuplicateTracker, parseSize, tooLarge } from '../src/core/receiver.js';

// The pure side of `listen` (issue #3): what each request is answered.

const SECRET = 'whsec_receiver';
const hmac = (body: string | Buffer): string => createHmac('sha256', SECRET).update(body).digest('hex');
const bounced = readFileSync(new URL('../fixtures/email.bounced.json', import.meta.url), 'utf8');
const compact = JSON.stringify(JSON.parse(bounced));

describe('classify', () => {
  test('a signed event is 200 with its id, verified over the raw bytes', () => {
    const body = Buffer.from(compact);
    const c = classify({ method: 'POST', body, signature: hmac(body) }, SECRET);
    assert.equal(c.status, 200);
    assert.equal(c.verified, true);
    assert.equal(c.reason, null);
    assert.equal(c.type, 'email.bounced');
    assert.deepEqual(JSON.parse(c.answer), { received: true, id: 'evt_01JD8Q4Z7X2K9V3M5N6P7R8S9T' });
    assert.equal(c.payloadText, compact);
  });

  test('a pretty-printed body signed as sent verifies (raw bytes, not a re-serialisation); its payload text is one line', () => {
    const body = Buffer.from(bounced);
    assert.ok(bounced.includes('\n'));
    const c = classify({ method: 'POST', body, signature: hmac(body) }, SECRET);
    assert.equal(c.status, 200);
    assert.equal(c.verified, true);
    assert.equal(c.payloadText, compact);
    // …and the signature of the compact form does not verify the pretty bytes.
    assert.equal(classify({ method: 'POST', body, signature: hmac(compact) }, SECRET).status, 401);
  });

  test('upper-case hex is accepted', () => {
    const body = Buffer.from(compact);
    assert.equal(classify({ method: 'POST', body, signature: hmac(body).toUpperCase() }, SECRET).status, 200);
  });

  test('missing and wrong signatures are 401 with distinct reasons, the event still parsed', () => {
    const body = Buffer.from(compact);
    const missing = classify({ method: 'POST', body, signature: undefined }, SECRET);
    assert.equal(missing.status, 401);
    assert.equal(missing.reason, 'missing x-onepush-signature header');
    assert.equal(missing.id, 'evt_01JD8Q4Z7X2K9V3M5N6P7R8S9T');
    const wrong = classify({ method: 'POST', body, signature: 'zz' }, SECRET);
    assert.equal(wrong.status, 401);
    assert.equal(wrong.reason, 'signature does not match the body');
    assert.deepEqual(JSON.parse(wrong.answer), { error: 'invalid signature', reason: 'signature does not match the body' });
  });

  test('without a secret every event is accepted, unverified', () => {
    const c = classify({ method: 'POST', body: Buffer.from(compact), signature: undefined }, undefined);
    assert.equal(c.status, 200);
    assert.equal(c.verified, null);
  });

  for (const [name, body, reason] of [
    ['empty', '', /empty body/],
    ['not JSON', 'hello', /not valid JSON/],
    ['truncated JSON', compact.slice(0, 40), /not valid JSON/],
    ['an array', '[1,2]', /not an object \(an array\)/],
    ['null', 'null', /not an object \(null\)/],
    ['a string', '"x"', /not an object \(string\)/],
  ] as const) {
    test(`a body that is ${name} is 400 with a JSON reason`, () => {
      const c = classify({ method: 'POST', body: Buffer.from(body), signature: undefined }, undefined);
      assert.equal(c.status, 400);
      assert.match(c.reason ?? '', reason);
      assert.match(JSON.parse(c.answer).reason, reason);
    });
  }

  test('another method is 405', () => {
    const c = classify({ method: 'PUT', body: Buffer.from(compact), signature: undefined }, undefined);
    assert.equal(c.status, 405);
    assert.match(c.reason ?? '', /PUT/);
  });

  test('unknown types and schema issues are flagged, answered 200', () => {
    const unknown = classify({ method: 'POST', body: Buffer.from('{"id":"evt_1","type":"email.teleported","data":{}}'), signature: undefined }, undefined);
    assert.equal(unknown.status, 200);
    assert.equal(unknown.knownType, false);
    assert.equal(unknown.reason, 'unknown event type email.teleported');
    const event = JSON.parse(compact);
    event.data.bounce.type = 'medium';
    const bad = classify({ method: 'POST', body: Buffer.from(JSON.stringify(event)), signature: undefined }, undefined);
    assert.equal(bad.status, 200);
    assert.ok(bad.schemaIssues.some((i) => i.path === 'data.bounce.type'), JSON.stringify(bad.schemaIssues));
    assert.match(bad.reason ?? '', /^schema: data\.bounce\.type/);
  });

  test('413 names the declared size and the limit', () => {
    const c = tooLarge(1024, 5000);
    assert.equal(c.status, 413);
    assert.match(JSON.parse(c.answer).reason, /5000 bytes.*\(1024 bytes\)/);
  });
});

test('DuplicateTracker remembers when an id was first seen, and forgets the oldest past its limit', () => {
  const t = new DuplicateTracker(2);
  assert.equal(t.see('a', 1000), undefined);
  assert.equal(t.see('a', 7000), 1000);
  assert.equal(t.see('b', 8000), undefined);
  assert.equal(t.see('c', 9000), undefined);
  assert.equal(t.see('a', 9500), undefined, 'a was forgotten');
  assert.equal(t.see('c', 9900), 9000);
});

test('DuplicateTracker keeps forgetting the oldest, in order, through many evictions (a limit of 1 included)', () => {
  const t = new DuplicateTracker(3);
  for (let i = 0; i < 10_000; i++) assert.equal(t.see(`id${i}`, i), undefined);
  // The newest three are remembered; everything before them is forgotten, oldest first.
  assert.equal(t.see('id9999', 0), 9999);
  assert.equal(t.see('id9997', 0), 9997);
  assert.equal(t.see('id9996', 5), undefined, 'forgotten');
  assert.equal(t.see('id9997', 0), undefined, 'the oldest (9997) went to make room for 9996');
  assert.equal(t.see('id9999', 0), 9999);
  assert.equal(t.see('id9996', 0), 5);
  const one = new DuplicateTracker(1);
  for (const id of ['a', 'b', 'c', 'b']) one.see(id, 1);
  assert.equal(one.see('b', 2), 1);
  assert.equal(one.see('c', 2), undefined);
});

test('parseSize', () => {
  assert.equal(parseSize('1mb'), 1048576);
  assert.equal(parseSize('512kb'), 524288);
  assert.equal(parseSize('2048'), 2048);
  assert.equal(parseSize('1.5k'), 1536);
  for (const bad of ['', 'big', '-1', '0', '1gb']) assert.equal(parseSize(bad), undefined, bad);
});

test('encodeCapture (hand-built for speed) gives the same line as JSON.stringify of the capture, and round-trips', async () => {
  const { encodeCapture, decodeCapture, captureBody } = await import('../src/core/capture.js');
  const receivedAt = new Date('2026-11-26T15:55:55.123Z');
  const cases = [
    { receivedAt, method: 'POST', path: '/webhooks/onepush?a="b"', headers: { 'content-type': 'application/json', 'x-onepush-signature': 'ab' }, body: Buffer.from('{"id":"evt_1","t":"é\\n"}'), verified: true, status: 200 },
    { receivedAt, method: 'POST', path: '/', headers: { 'X-Upper': 'v', 'set-cookie': ['a=1', 'b=2'], gone: undefined }, body: Buffer.from([0xff, 0xfe, 0x00]), verified: false, status: 401, reason: 'signature does not match the body' },
    { receivedAt, method: 'POST', path: '/', headers: {}, body: null, verified: null, status: 413, reason: 'too big "really"', declaredSize: 5000 },
  ];
  for (const input of cases) {
    const line = encodeCapture(input);
    const expected: Record<string, unknown> = {
      v: 1,
      received_at: receivedAt.toISOString(),
      method: input.method,
      path: input.path,
      headers: Object.fromEntries(Object.entries(input.headers).filter(([, v]) => v !== undefined).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : v])),
      body: input.body === null ? null : Buffer.from(input.body).toString(input.body[0] === 0xff ? 'base64' : 'utf8'),
      body_encoding: input.body !== null && input.body[0] === 0xff ? 'base64' : 'utf8',
      verified: input.verified,
      status: input.status,
    };
    if ('reason' in input) expected.reason = input.reason;
    if ('declaredSize' in input) expected.declared_size = input.declaredSize;
    assert.equal(line, `${JSON.stringify(expected)}\n`);
    assert.equal(encodeCapture({ ...input, receivedAt: receivedAt.toISOString() }), line, 'the time as its ISO string gives the same line');
    const decoded = decodeCapture(line);
    assert.deepEqual(captureBody(decoded), input.body ?? Buffer.alloc(0));
  }
});
