import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, test } from 'node:test';
import { CaptureError, captureBody, decodeCapture, encodeCapture, type CaptureInput } from '../src/core/capture.js';
import { isOnepushError, OnepushError, UsageError, CheckFailed } from '../src/core/errors.js';
import { EVENT_CATALOGUE, EVENT_TYPES, closestType, globMatcher, isEventType } from '../src/core/event-types.js';
import { makeId } from '../src/core/ids.js';
import { asFixture, buildSample } from '../src/core/samples.js';
import { eventSchemas, onepushEventSchema, validateEvent } from '../src/core/schemas.js';
import { resolveTarget } from '../src/core/target.js';
import { fileError } from '../src/adapters/files.js';

// The pure core of issue #2 besides signatures: the catalogue and its schemas, the fixtures, samples and ids,
// and the capture codec (SPEC.md §3).

const SEVEN = ['email.sent', 'email.delivered', 'email.opened', 'email.clicked', 'email.bounced', 'email.complained', 'email.unsubscribed'];
const FIXTURES = new URL('../fixtures/', import.meta.url);
const readFixture = (type: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`${type}.json`, FIXTURES), 'utf8')) as Record<string, unknown>;

describe('event catalogue and schemas', () => {
  test('exactly the seven types, each with a schema', () => {
    assert.deepEqual([...EVENT_TYPES], SEVEN);
    assert.deepEqual(EVENT_CATALOGUE.map((e) => e.type), SEVEN);
    assert.deepEqual(Object.keys(eventSchemas).sort(), [...SEVEN].sort());
    assert.equal(isEventType('email.sent'), true);
    assert.equal(isEventType('email.sen'), false);
  });
  test('fixtures/ holds exactly one file per type', () => {
    const files = readdirSync(FIXTURES).filter((f) => f.endsWith('.json')).sort();
    assert.deepEqual(files, SEVEN.map((t) => `${t}.json`).sort());
  });
  for (const type of SEVEN) {
    test(`fixtures/${type}.json validates against its schema`, () => {
      const fixture = readFixture(type);
      assert.equal(fixture.type, type);
      assert.deepEqual(validateEvent(fixture), { unknownType: false, issues: [] });
      assert.equal(onepushEventSchema.safeParse(fixture).success, true);
      const field = EVENT_CATALOGUE.find((e) => e.type === type)?.field;
      if (field) assert.equal(typeof (fixture.data as Record<string, unknown>)[field], 'object', `data.${field}`);
    });
  }
  test('realistic fields are required where SPEC.md §1 asks for them', () => {
    const bounce = readFixture('email.bounced');
    const issues = (mutate: (e: any) => void): string[] => {
      const e = structuredClone(bounce) as any;
      mutate(e);
      return validateEvent(e).issues.map((i) => i.path);
    };
    assert.deepEqual(issues((e) => (e.data.bounce.type = 'medium')), ['data.bounce.type']);
    assert.deepEqual(issues((e) => (e.data.bounce.smtp_code = '550')), ['data.bounce.smtp_code']);
    assert.deepEqual(issues((e) => (e.data.bounce.enhanced_status = '5.1')), ['data.bounce.enhanced_status']);
    assert.deepEqual(issues((e) => delete e.data.bounce.diagnostic), ['data.bounce.diagnostic']);
    assert.deepEqual(issues((e) => (e.id = 'nope')), ['id']);
    assert.deepEqual(issues((e) => (e.data.to = ['not an email'])), ['data.to.0']);
    // Unknown extra fields are accepted: OnePush may add fields.
    assert.deepEqual(issues((e) => (e.data.bounce.new_field = 1)), []);
    const click = structuredClone(readFixture('email.clicked')) as any;
    click.data.click.url = 'not a url';
    assert.deepEqual(validateEvent(click).issues.map((i) => i.path), ['data.click.url']);
  });
  test('an unknown type is flagged, not validated', () => {
    assert.deepEqual(validateEvent({ type: 'email.exploded' }), { unknownType: true, issues: [] });
    assert.deepEqual(validateEvent(null), { unknownType: true, issues: [] });
  });
  test('closestType and globMatcher', () => {
    assert.equal(closestType('bounce'), 'email.bounced');
    assert.equal(closestType('email.clikced'), 'email.clicked');
    assert.equal(closestType('zzzzzzzzzzzz'), undefined);
    const m = globMatcher('email.bounced, email.c*');
    assert.deepEqual(SEVEN.filter(m), ['email.clicked', 'email.bounced', 'email.complained']);
  });
});

describe('ids', () => {
  const rnd = (n: number): Uint8Array => Uint8Array.from({ length: 10 }, (_, i) => (n * 31 + i * 7) & 255);
  test('prefix + 26 Crockford characters, deterministic', () => {
    const id = makeId('evt', 1764172555123, rnd(1));
    assert.match(id, /^evt_[0-9A-HJKMNP-TV-Z]{26}$/);
    assert.equal(makeId('evt', 1764172555123, rnd(1)), id);
    // The ULID spec's own example time prefix: 1469918176385 → 01ARYZ6S41.
    assert.equal(makeId('x', 1469918176385, new Uint8Array(10)).slice(2, 12), '01ARYZ6S41');
    assert.equal(makeId('x', 0, new Uint8Array(10).fill(255)), `x_0000000000${'Z'.repeat(16)}`);
  });
  test('unique and sorted by time', () => {
    const ids: string[] = [];
    for (let i = 0; i < 500; i++) ids.push(makeId('evt', 1764172555000 + Math.floor(i / 3), rnd(i)));
    assert.equal(new Set(ids).size, ids.length);
    const byTime = ids.map((id, i) => [id, Math.floor(i / 3)] as const);
    for (let i = 1; i < byTime.length; i++) {
      const [a, ta] = byTime[i - 1]!;
      const [b, tb] = byTime[i]!;
      if (tb > ta) assert.ok(a < b, `${a} < ${b}`);
    }
  });
  test('needs 10 random bytes', () => {
    assert.throws(() => makeId('evt', 0, new Uint8Array(9)), TypeError);
  });
});

describe('samples', () => {
  const now = new Date('2026-11-27T01:02:03.456Z');
  const fixture = asFixture(readFixture('email.bounced'));
  test('fresh ids and time, deterministic, fixture untouched', () => {
    const before = JSON.stringify(fixture);
    const opts = { now, id: 'evt_A', emailId: 'em_B' };
    const a = buildSample(fixture, opts);
    const b = buildSample(fixture, opts);
    assert.equal(JSON.stringify(a), JSON.stringify(b));
    assert.equal(JSON.stringify(fixture), before);
    assert.equal(a.id, 'evt_A');
    assert.equal(a.created_at, '2026-11-27T01:02:03.456Z');
    assert.equal((a.data as any).email_id, 'em_B');
    assert.deepEqual(Object.keys(a).slice(0, 4), ['id', 'type', 'created_at', 'data']);
    assert.deepEqual(validateEvent(a).issues, []);
  });
  test('every type builds a valid sample with makeId ids', () => {
    for (const type of SEVEN) {
      const t = now.getTime();
      const e = buildSample(asFixture(readFixture(type)), { now, id: makeId('evt', t, new Uint8Array(10).fill(7)), emailId: makeId('em', t, new Uint8Array(10).fill(9)) });
      assert.deepEqual(validateEvent(e).issues, [], type);
    }
  });
  test('overrides: data merge, then set, then unset', () => {
    const e = buildSample(fixture, {
      now,
      id: 'evt_A',
      emailId: 'em_B',
      overrides: { data: { data: { bounce: { type: 'soft' } } }, set: [['data.bounce.smtp_code', 452]], unset: ['data.tags'] },
    }) as any;
    assert.equal(e.data.bounce.type, 'soft');
    assert.equal(e.data.bounce.smtp_code, 452);
    assert.equal(e.data.bounce.diagnostic, (fixture.data as any).bounce.diagnostic);
    assert.equal('tags' in e.data, false);
  });
  test('asFixture rejects what cannot be a template', () => {
    assert.throws(() => asFixture([]), /JSON object/);
    assert.throws(() => asFixture({ data: {} }), /string "type"/);
    assert.throws(() => asFixture({ type: 'x', data: [] }), /object "data"/);
  });
});

describe('capture codec (SPEC.md §3)', () => {
  const base: CaptureInput = {
    receivedAt: new Date('2026-11-27T01:02:03.456Z'),
    method: 'POST',
    path: '/webhooks/onepush',
    headers: { 'Content-Type': 'application/json', 'X-Onepush-Signature': 'ab', 'x-multi': ['a', 'b'], gone: undefined },
    body: Buffer.from('{"id":"evt_ü"}'),
    verified: true,
    status: 200,
  };
  test('utf8 body round-trips, one line with a newline', () => {
    const line = encodeCapture(base);
    assert.ok(line.endsWith('\n'));
    assert.equal(line.trimEnd().includes('\n'), false);
    const c = decodeCapture(line.trimEnd());
    assert.equal(c.v, 1);
    assert.equal(c.body_encoding, 'utf8');
    assert.equal(c.body, '{"id":"evt_ü"}');
    assert.deepEqual(c.headers, { 'content-type': 'application/json', 'x-onepush-signature': 'ab', 'x-multi': 'a, b' });
    assert.equal(c.received_at, '2026-11-27T01:02:03.456Z');
    assert.deepEqual(captureBody(c), Buffer.from('{"id":"evt_ü"}'));
  });
  test('a body already decoded by the caller gives the same line', () => {
    assert.equal(encodeCapture({ ...base, bodyText: '{"id":"evt_ü"}' }), encodeCapture(base));
    assert.equal(encodeCapture({ ...base, bodyText: null }), encodeCapture(base));
  });
  test('binary body round-trips as base64', () => {
    const bytes = Buffer.from([0, 255, 10, 13, 0xc3, 0x28, 1]);
    const c = decodeCapture(encodeCapture({ ...base, body: bytes }));
    assert.equal(c.body_encoding, 'base64');
    assert.deepEqual(captureBody(c), bytes);
  });
  test('a body sliced from a larger buffer is encoded exactly', () => {
    const big = Buffer.from('xxxx{"a":1}yyyy');
    const c = decodeCapture(encodeCapture({ ...base, body: big.subarray(4, 11) }));
    assert.equal(c.body, '{"a":1}');
  });
  test('a 413 without body keeps status, reason and size', () => {
    const c = decodeCapture(encodeCapture({ ...base, body: null, verified: null, status: 413, reason: 'too large', declaredSize: 5_000_000 }));
    assert.equal(c.body, null);
    assert.equal(c.status, 413);
    assert.equal(c.reason, 'too large');
    assert.equal(c.declared_size, 5_000_000);
    assert.equal(captureBody(c).length, 0);
  });
  const good = JSON.parse(encodeCapture(base)) as Record<string, unknown>;
  const bad: Array<[string, string, RegExp]> = [
    ['not JSON', '{"v":1,', /not valid JSON/],
    ['an array', '[1]', /not a JSON object/],
    ['no v', JSON.stringify({ ...good, v: undefined }), /no "v" field/],
    ['v2', JSON.stringify({ ...good, v: 2 }), /unsupported capture version 2/],
    ['bad time', JSON.stringify({ ...good, received_at: 'yesterday' }), /"received_at" must be an ISO time/],
    ['no method', JSON.stringify({ ...good, method: undefined }), /"method" is missing/],
    ['header not a string', JSON.stringify({ ...good, headers: { a: 1 } }), /"headers" must be an object of strings/],
    ['body a number', JSON.stringify({ ...good, body: 1 }), /"body" must be a string or null/],
    ['bad encoding', JSON.stringify({ ...good, body_encoding: 'hex' }), /"body_encoding" must be "utf8" or "base64"/],
    ['verified a string', JSON.stringify({ ...good, verified: 'yes' }), /"verified" must be true, false or null/],
    ['status not an integer', JSON.stringify({ ...good, status: 200.5 }), /"status" must be an integer/],
  ];
  for (const [name, line, message] of bad) {
    test(`bad line: ${name}`, () => {
      assert.throws(() => decodeCapture(line), (e: unknown) => e instanceof CaptureError && message.test(e.message));
    });
  }
});

describe('errors and targets', () => {
  test('errors carry exit codes and hints, recognised by brand', () => {
    const u = new UsageError('bad', 'do this');
    assert.equal(u.exitCode, 2);
    assert.equal(u.hint, 'do this');
    assert.equal(new CheckFailed('no').exitCode, 1);
    assert.equal(new OnepushError('x', { exitCode: 1 }).exitCode, 1);
    assert.equal(isOnepushError(u), true);
    assert.equal(isOnepushError(new Error('x')), false);
    assert.equal(isOnepushError({ exitCode: 2, message: 'x' }), false);
  });
  test('unreadable files are usage errors in words (EACCES cannot be made as root, so checked here too)', () => {
    const err = (code: string) => Object.assign(new Error(`${code}: raw`), { code });
    assert.equal(fileError('a.json', err('EACCES')).message, 'cannot read a.json: permission denied');
    assert.equal(fileError('a.json', err('EISDIR')).message, 'cannot read a.json: it is a directory');
    assert.equal(fileError('a.json', err('ENOENT')).hint, 'check the path');
    assert.equal(fileError('a.json', err('EIO')).exitCode, 2);
  });
  test('resolveTarget shorthands', () => {
    assert.equal(resolveTarget('3000').href, 'http://localhost:3000/webhooks/onepush');
    assert.equal(resolveTarget(':3000').href, 'http://localhost:3000/webhooks/onepush');
    assert.equal(resolveTarget('localhost').href, 'http://localhost:4242/webhooks/onepush');
    assert.equal(resolveTarget('example.test:8080/hook').href, 'http://example.test:8080/hook');
    assert.equal(resolveTarget('https://a.test/x').href, 'https://a.test/x');
    assert.throws(() => resolveTarget('ftp://a.test'), /unsupported protocol/);
    assert.throws(() => resolveTarget('99999'), /port out of range/);
    assert.throws(() => resolveTarget(''), /empty target/);
  });
});
