import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  CaseSelectionError,
  CHECK_CASES,
  exitCodeOf,
  judgeCase,
  judgeLatency,
  LARGE_PAYLOAD_BYTES,
  planCase,
  selectCases,
  UNKNOWN_TYPE,
  type Answer,
  type CaseName,
} from '../src/core/check-cases.js';
import { largeEvent, type PlanInput } from '../src/core/check-plan.js';
import { OnepushError } from '../src/core/errors.js';
import { EVENT_TYPES, type EventType } from '../src/core/event-types.js';
import { junitXml, xmlEscape } from '../src/core/junit.js';
import { asFixture, type Fixture } from '../src/core/samples.js';
import { validateEvent } from '../src/core/schemas.js';
import { findAll, parseXml } from './helpers/xml.js';

const SECRET = 'whsec_unit';
const ctx = { signed: true, timeoutMs: 10_000 };
const hmac = (body: string, key = SECRET): string => createHmac('sha256', key).update(body).digest('hex');

function fixtures(): Map<EventType, Fixture> {
  return new Map(EVENT_TYPES.map((t) => [t, asFixture(JSON.parse(readFileSync(new URL(`../fixtures/${t}.json`, import.meta.url), 'utf8')))]));
}

function planInput(signed = true): PlanInput {
  const secret = signed ? SECRET : undefined;
  let n = 0;
  return {
    fixtures: fixtures(),
    secret,
    now: new Date('2026-11-26T15:55:55.123Z'),
    newId: (prefix) => `${prefix}_01JD8Q4Z7X2K9V3M5N6P7R8S${String(n++).padStart(2, '0')}`,
    sent: 0,
  };
}

const answer = (status: number | undefined, label = 'x', extra: Partial<Answer> = {}): Answer => ({
  label,
  status,
  latencyMs: 3,
  firstLine: status === undefined ? 'connection refused' : '{"ok":true}',
  ...extra,
});

// --- selection -------------------------------------------------------------------------------------------

test('the catalogue has the ten cases of issue #6, numbered 1–10, 2–4 and 10 needing a secret', () => {
  assert.deepEqual(
    CHECK_CASES.map((c) => `${c.number} ${c.name}`),
    ['1 valid-events', '2 unsigned', '3 wrong-signature', '4 tampered', '5 duplicate', '6 unknown-type', '7 out-of-order', '8 latency', '9 large-payload', '10 non-compact'],
  );
  assert.deepEqual(CHECK_CASES.filter((c) => c.needsSecret).map((c) => c.number), [2, 3, 4, 10]);
  assert.deepEqual(CHECK_CASES.filter((c) => c.security).map((c) => c.number), [2, 3, 4]);
});

test('selectCases takes names, numbers and ranges, in any order, and returns them in number order', () => {
  assert.deepEqual(selectCases(undefined, undefined).length, 10);
  assert.deepEqual(selectCases('tampered,2, 8', undefined).map((c) => c.number), [2, 4, 8]);
  assert.deepEqual(selectCases('2-4', undefined).map((c) => c.name), ['unsigned', 'wrong-signature', 'tampered']);
  assert.deepEqual(selectCases(undefined, 'latency,1').map((c) => c.number), [2, 3, 4, 5, 6, 7, 9, 10]);
  assert.deepEqual(selectCases('1-5', '3').map((c) => c.number), [1, 2, 4, 5]);
  assert.deepEqual(selectCases('Unsigned', undefined).map((c) => c.number), [2]);
});

test('selectCases refuses unknown cases and an empty selection with the list of names', () => {
  for (const [only, skip] of [['nope', undefined], ['11', undefined], ['0', undefined], [undefined, 'unsinged'], ['3-12', undefined], ['', undefined], ['2', '2']] as const) {
    assert.throws(
      () => selectCases(only, skip),
      (e: unknown) => e instanceof OnepushError && e.exitCode === 2 && /1 valid-events, 2 unsigned, .*10 non-compact/.test(e.hint ?? ''),
      `--only ${only} --skip ${skip}`,
    );
  }
  // The core names the list, not a flag: the command words it (`unknown case "nope" in --only`, tested end to end).
  assert.throws(() => selectCases('nope', undefined), (e: unknown) => e instanceof CaseSelectionError && e.list === 'only' && e.ref === 'nope' && !e.message.includes('--'));
  assert.throws(() => selectCases(undefined, '42'), (e: unknown) => e instanceof CaseSelectionError && e.list === 'skip' && e.ref === '42');
  assert.throws(() => selectCases('2', '2'), (e: unknown) => e instanceof CaseSelectionError && e.list === null);
});

// --- judging ---------------------------------------------------------------------------------------------

test('valid-events passes on 2xx only and names the first failing type with its status and response', () => {
  const ok = EVENT_TYPES.map((t) => answer(200, t));
  assert.equal(judgeCase('valid-events', ok, ctx).result, 'pass');
  const oneBad = EVENT_TYPES.map((t) => (t === 'email.bounced' ? answer(500, t, { firstLine: 'TypeError: x is undefined' }) : answer(204, t)));
  const v = judgeCase('valid-events', oneBad, ctx);
  assert.equal(v.result, 'fail');
  assert.match(v.message, /^email\.bounced got 500: valid events are refused$/);
  assert.equal(v.response, 'TypeError: x is undefined');
  assert.match(v.fix ?? '', /log/);
  const allUnauthorised = EVENT_TYPES.map((t) => answer(401, t));
  assert.match(judgeCase('valid-events', allUnauthorised, ctx).message, /^every type got 401/);
  assert.match(judgeCase('valid-events', allUnauthorised, ctx).fix ?? '', /same secret/);
  assert.match(judgeCase('valid-events', allUnauthorised, { ...ctx, signed: false }).fix ?? '', /^your app wants a signature: sign with its secret$/);
  assert.match(judgeCase('valid-events', [answer(301, 'email.sent')], ctx).fix ?? '', /redirects/);
  assert.match(judgeCase('valid-events', [answer(404, 'email.sent')], ctx).fix ?? '', /URL/);
});

test('the security cases fail when anything is accepted, pass on 4xx, and warn on a crash', () => {
  for (const name of ['unsigned', 'wrong-signature', 'tampered'] as const) {
    const v = judgeCase(name, [answer(200, 'a'), answer(401, 'b')], ctx);
    assert.equal(v.result, 'fail', name);
    assert.match(v.message, /anyone can post fake events/);
    assert.match(v.fix ?? '', /raw body/);
    assert.equal(judgeCase(name, [answer(401), answer(403)], ctx).result, 'pass');
    assert.equal(judgeCase(name, [answer(400)], ctx).result, 'pass');
  }
  assert.match(judgeCase('unsigned', [answer(202)], ctx).message, /^accepted a request without a signature \(202\)/);
  assert.match(judgeCase('wrong-signature', [answer(401, 'wrong signature'), answer(200, 'truncated signature')], ctx).message, /^accepted a truncated signature/);
  const crash = judgeCase('wrong-signature', [answer(401, 'wrong signature'), answer(500, 'truncated signature')], ctx);
  assert.equal(crash.result, 'warn');
  assert.match(crash.message, /truncated signature got 500 instead of a 4xx: the signature check throws/);
  assert.match(crash.fix ?? '', /timingSafeEqual/);
  assert.equal(judgeCase('tampered', [answer(undefined, 'tampered body', { errorCode: 'ECONNRESET' })], ctx).result, 'warn');
  assert.equal(judgeCase('unsigned', [answer(302)], ctx).result, 'warn');
});

test('the robustness cases warn with the words of issue #6', () => {
  const cases: Array<[CaseName, Answer[], RegExp]> = [
    ['duplicate', [answer(200, 'first delivery'), answer(500, 'second delivery')], /second delivery .* got 500: not idempotent/],
    ['duplicate', [answer(409, 'first delivery'), answer(200, 'second delivery')], /first delivery got 409/],
    ['unknown-type', [answer(400, UNKNOWN_TYPE)], /will break when OnePush adds a type/],
    ['out-of-order', [answer(200, 'email.opened'), answer(422, 'email.delivered')], /email\.delivered got 422: events arriving out of order/],
    ['large-payload', [answer(413, 'large event')], /256 KB event got 413: the body limit is too small/],
    ['large-payload', [answer(500, 'large event')], /256 KB event got 500$/],
    ['non-compact', [answer(401, 'indented body')], /verifies a re-serialisation, not the raw body — fragile/],
    ['non-compact', [answer(undefined, 'indented body', { errorCode: 'TIMEOUT', firstLine: 'no answer within 10000 ms' })], /no answer/],
  ];
  for (const [name, answers, message] of cases) {
    const v = judgeCase(name, answers, ctx);
    assert.equal(v.result, 'warn', name);
    assert.match(v.message, message);
    assert.ok(v.fix, `${name} has a fix`);
  }
  for (const name of ['duplicate', 'unknown-type', 'out-of-order', 'large-payload', 'non-compact'] as const) {
    assert.equal(judgeCase(name, [answer(200), answer(204)], ctx).result, 'pass', name);
  }
});

test('latency: p50 and max over every answer, ✘ past 5 s or on a timeout, connection errors not measured', () => {
  const ms = (latencyMs: number, label = 'x'): Answer => answer(200, label, { latencyMs });
  const fast = judgeLatency([ms(4), ms(1), ms(30), ms(2)], ctx);
  assert.equal(fast.verdict.result, 'pass');
  assert.deepEqual(fast.stats, { requests: 4, p50Ms: 2, maxMs: 30, slow: 0, timeouts: 0 });
  assert.match(fast.verdict.message, /p50 2 ms, max 30 ms over 4 requests/);
  const slow = judgeLatency([ms(4), ms(6012, 'valid-events email.bounced'), ms(5200, 'duplicate first delivery')], ctx);
  assert.equal(slow.verdict.result, 'fail');
  assert.match(slow.verdict.message, /^2 answers took longer than 5 s \(slowest: valid-events email\.bounced, 6\.0 s\)/);
  assert.match(slow.verdict.fix ?? '', /queue/);
  assert.equal(judgeLatency([ms(5000)], ctx).verdict.result, 'pass', 'exactly 5 s is within the budget');
  const timedOut = judgeLatency([ms(3), answer(undefined, 'unknown-type email.delivery_delayed', { errorCode: 'TIMEOUT', latencyMs: 1000 })], { ...ctx, timeoutMs: 1000 });
  assert.equal(timedOut.verdict.result, 'fail');
  assert.match(timedOut.verdict.message, /^1 request got no answer within 1\.0 s \(unknown-type email\.delivery_delayed\)/);
  const refused = judgeLatency([ms(3), answer(undefined, 'x', { errorCode: 'ECONNREFUSED', latencyMs: 9000 })], ctx);
  assert.equal(refused.verdict.result, 'pass');
  assert.equal(refused.stats.requests, 1);
});

test('exit codes: 1 on a failure, warnings only with --strict, 0 otherwise', () => {
  assert.equal(exitCodeOf(['pass', 'skip', 'warn'], false), 0);
  assert.equal(exitCodeOf(['pass', 'skip', 'warn'], true), 1);
  assert.equal(exitCodeOf(['pass', 'fail'], false), 1);
  assert.equal(exitCodeOf(['pass', 'skip'], true), 0);
});

// --- plans -----------------------------------------------------------------------------------------------

test('valid-events sends every type, schema-valid, compact and signed over the exact bytes', () => {
  const plan = planCase('valid-events', planInput());
  assert.deepEqual(plan.map((r) => r.label), [...EVENT_TYPES]);
  for (const r of plan) {
    const event = JSON.parse(r.body) as { type: string };
    assert.equal(r.body, JSON.stringify(event));
    assert.deepEqual(validateEvent(event), { unknownType: false, issues: [] }, r.label);
    assert.equal(r.headers['x-onepush-signature'], hmac(r.body));
    assert.equal(r.headers['content-type'], 'application/json');
  }
  const ids = plan.map((r) => (JSON.parse(r.body) as { id: string }).id);
  assert.equal(new Set(ids).size, ids.length, 'fresh ids');
  const unsigned = planCase('valid-events', planInput(false));
  assert.ok(unsigned.every((r) => !('x-onepush-signature' in r.headers)));
});

test('the security plans: no header, a wrong and a truncated signature, a signature of another body', () => {
  const [noSig] = planCase('unsigned', planInput());
  assert.ok(noSig && !('x-onepush-signature' in noSig.headers));
  const [wrong, truncated] = planCase('wrong-signature', planInput());
  assert.ok(wrong && truncated);
  assert.match(wrong.headers['x-onepush-signature'] ?? '', /^[0-9a-f]{64}$/);
  assert.notEqual(wrong.headers['x-onepush-signature'], hmac(wrong.body));
  assert.equal(truncated.headers['x-onepush-signature'], hmac(truncated.body).slice(0, 32));
  const [tampered] = planCase('tampered', planInput());
  assert.ok(tampered);
  assert.notEqual(tampered.headers['x-onepush-signature'], hmac(tampered.body));
  const event = JSON.parse(tampered.body) as { data: { to: string[] } };
  assert.deepEqual(event.data.to, ['attacker@evil.test']);
  assert.throws(() => planCase('tampered', planInput(false)), /needs a secret/);
});

test('the robustness plans: one body twice, an unknown type, opened before delivered, 256 KB, indented', () => {
  const [first, second] = planCase('duplicate', planInput());
  assert.ok(first && second);
  assert.equal(first.body, second.body);
  assert.deepEqual(first.headers, second.headers);

  const [unknown] = planCase('unknown-type', planInput());
  assert.equal((JSON.parse(unknown?.body ?? '{}') as { type: string }).type, UNKNOWN_TYPE);

  const [opened, delivered] = planCase('out-of-order', planInput()).map((r) => JSON.parse(r.body) as { type: string; created_at: string; data: { email_id: string } });
  assert.ok(opened && delivered);
  assert.deepEqual([opened.type, delivered.type], ['email.opened', 'email.delivered']);
  assert.equal(opened.data.email_id, delivered.data.email_id);
  assert.ok(delivered.created_at < opened.created_at, 'delivered happened first, arrives second');

  const [large] = planCase('large-payload', planInput());
  assert.ok(large);
  assert.equal(Buffer.byteLength(large.body), LARGE_PAYLOAD_BYTES);
  assert.deepEqual(validateEvent(JSON.parse(large.body)), { unknownType: false, issues: [] });
  assert.equal(large.headers['x-onepush-signature'], hmac(large.body));

  const [indented] = planCase('non-compact', planInput());
  assert.ok(indented);
  assert.notEqual(indented.body, JSON.stringify(JSON.parse(indented.body)));
  assert.match(indented.body, /^\{\n {2}"id"/);
  assert.equal(indented.headers['x-onepush-signature'], hmac(indented.body));
});

test('largeEvent hits the size exactly, whatever the base event', () => {
  const base = { id: 'evt_1', type: 'email.sent', data: { tags: { a: 'b' } } };
  for (const size of [2000, 10_000, 100_001, LARGE_PAYLOAD_BYTES]) {
    assert.equal(JSON.stringify(largeEvent(base, size)).length, size, String(size));
  }
  assert.deepEqual(base.data.tags, { a: 'b' }, 'the input is not modified');
});

// --- JUnit -----------------------------------------------------------------------------------------------

test('xmlEscape escapes markup and replaces characters XML forbids', () => {
  assert.equal(xmlEscape(`<a href="x">&'</a>`), '&lt;a href=&quot;x&quot;&gt;&amp;&apos;&lt;/a&gt;');
  assert.equal(xmlEscape('bell\u0007 nul\u0000 tab\t'), 'bell\uFFFD nul\uFFFD tab\t');
  assert.equal(xmlEscape('lone \uD800 surrogate, pair \uD83D\uDE00'), 'lone \uFFFD surrogate, pair \uD83D\uDE00');
});

test('junitXml writes a well-formed report whose counts match its cases, text round-tripping', () => {
  const nasty = `"quotes" & <tags> ]]> 'apos'\u0001\nsecond line`;
  const xml = junitXml({
    name: 'onepush check',
    timestamp: new Date('2026-11-26T15:55:55.123Z'),
    properties: { url: 'http://127.0.0.1:3000/webhooks/onepush?a=1&b=2' },
    cases: [
      { name: '1 ok', classname: 'onepush.check', time: 0.0123, systemOut: nasty },
      { name: `2 <bad> & "worse"`, classname: 'onepush.check', failure: { message: nasty, type: 'security', text: nasty } },
      { name: '3 skipped', classname: 'onepush.check', skipped: { message: 'needs a secret' } },
    ],
  });
  const root = parseXml(xml);
  assert.equal(root.name, 'testsuites');
  const [suite] = findAll(root, 'testsuite');
  assert.ok(suite);
  assert.deepEqual(
    [suite.attrs.tests, suite.attrs.failures, suite.attrs.skipped, suite.attrs.errors, suite.attrs.timestamp],
    ['3', '1', '1', '0', '2026-11-26T15:55:55'],
  );
  assert.equal(findAll(suite, 'property')[0]?.attrs.value, 'http://127.0.0.1:3000/webhooks/onepush?a=1&b=2');
  const cases = findAll(suite, 'testcase');
  assert.equal(cases[0]?.attrs.time, '0.012');
  const expected = nasty.replace('\u0001', '\uFFFD');
  assert.equal(findAll(cases[0]!, 'system-out')[0]?.text, expected);
  assert.equal(cases[1]?.attrs.name, `2 <bad> & "worse"`);
  const failure = findAll(cases[1]!, 'failure')[0];
  assert.equal(failure?.attrs.message, expected, 'line breaks survive in attributes');
  assert.equal(failure?.text, expected);
  assert.equal(findAll(cases[2]!, 'skipped')[0]?.attrs.message, 'needs a secret');
});

test('the test XML reader rejects what is not well-formed (so the JUnit checks can fail)', () => {
  for (const bad of ['<a>', '<a></b>', '<a x=1/>', '<a x="1" x="2"/>', '<a>1 < 2</a>', '<a>&nbsp;</a>', '<a/><b/>', '<a>\u0001</a>', '<a x="<"/>']) {
    assert.throws(() => parseXml(bad), /malformed XML/, bad);
  }
  assert.deepEqual(parseXml('<?xml version="1.0"?>\n<a k=\'v\'><!-- c --><b/>x &amp; y &#65;&#x42;</a>\n'), {
    name: 'a',
    attrs: { k: 'v' },
    children: [{ name: 'b', attrs: {}, children: [], text: '' }],
    text: 'x & y AB',
  });
});
