import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { InvalidInput } from '../src/core/errors.js';
import { parseMix, parseSchedule, parseShare } from '../src/core/scenario.js';
import { parseScenario } from '../src/core/scenario-file.js';
import { createRouter, parseRoute, parseRoutes, routeEndpoints, routeEvent } from '../src/core/routes.js';

// Routes (README "Routes"): TYPES=URL or a bare URL/shorthand; an event goes to every matching endpoint once.

describe('parseRoute', () => {
  test('a bare shorthand or URL takes every type', () => {
    assert.deepEqual(parseRoute(':3000').types, null);
    assert.equal(parseRoute(':3000').url.href, 'http://localhost:3000/webhooks/onepush');
    assert.equal(parseRoute('3000').url.href, 'http://localhost:3000/webhooks/onepush');
    assert.equal(parseRoute('https://app.test/hooks').url.href, 'https://app.test/hooks');
  });
  test('TYPES=URL: names and globs, comma-separated, spaces allowed', () => {
    const r = parseRoute('email.bounced, email.c*=:3000/webhooks/bounces');
    assert.deepEqual(r.types, ['email.bounced', 'email.c*']);
    assert.equal(r.url.href, 'http://localhost:3000/webhooks/bounces');
  });
  test('an "=" in a URL\'s query does not make it a route with types', () => {
    assert.equal(parseRoute('http://localhost:3000/hook?a=b').types, null);
    assert.equal(parseRoute('http://localhost:3000/hook?a=b').url.search, '?a=b');
    assert.equal(parseRoute(':3000/hook?x=1').types, null);
    const r = parseRoute('email.*=http://localhost:3000/hook?a=b');
    assert.deepEqual(r.types, ['email.*']);
    assert.equal(r.url.search, '?a=b');
  });
  test('bad routes are InvalidInput with a hint', () => {
    for (const bad of ['email.bounced=', '=:3000', 'ftp://x', '', 'email.sent=ftp://x']) {
      assert.throws(() => parseRoute(bad), (e: unknown) => e instanceof InvalidInput && typeof e.hint === 'string', bad);
    }
    assert.throws(() => parseRoutes([]), InvalidInput);
  });
});

describe('routeEvent', () => {
  const routes = parseRoutes(['email.bounced,email.c*=:3000/bounces', ':3000', 'email.opened=:4000', 'email.opened=:4000']);
  test('fans out to every match, each endpoint once, in the order given', () => {
    assert.deepEqual(routeEvent(routes, 'email.bounced').map(String), ['http://localhost:3000/bounces', 'http://localhost:3000/webhooks/onepush']);
    assert.deepEqual(routeEvent(routes, 'email.clicked').map(String), ['http://localhost:3000/bounces', 'http://localhost:3000/webhooks/onepush']);
    assert.deepEqual(routeEvent(routes, 'email.opened').map(String), ['http://localhost:3000/webhooks/onepush', 'http://localhost:4000/webhooks/onepush']);
    assert.deepEqual(routeEvent(routes, 'email.sent').map(String), ['http://localhost:3000/webhooks/onepush']);
  });
  test('no match: not routed', () => {
    const only = parseRoutes(['email.b*=:3000']);
    assert.deepEqual(routeEvent(only, 'email.sent'), []);
    assert.deepEqual(routeEvent(only, 'unknown.type'), []);
  });
  test('routeEndpoints: the distinct endpoints', () => {
    assert.deepEqual(routeEndpoints(routes).map(String), ['http://localhost:3000/bounces', 'http://localhost:3000/webhooks/onepush', 'http://localhost:4000/webhooks/onepush']);
  });
  test('createRouter gives what routeEvent gives, for known and unknown types', () => {
    const route = createRouter(routes, 2);
    for (const t of ['email.bounced', 'email.opened', 'email.sent', 'x.y', 'email.bounced', 'z']) {
      assert.deepEqual(route(t).map(String), routeEvent(routes, t).map(String), t);
    }
  });
  test('a hostile type never makes a glob backtrack without end', () => {
    const r = parseRoutes(['*a*a*a*a*a*b=:3000']);
    assert.deepEqual(routeEvent(r, 'a'.repeat(20_000)), []);
  });
});

describe('route and scenario parsers on hostile input', () => {
  test('any string: a Route or an InvalidInput, never another throw', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 200 }), (text) => {
        for (const parse of [parseRoute, parseMix, parseSchedule] as Array<(s: string) => unknown>) {
          try {
            parse(text);
          } catch (e) {
            assert.ok(e instanceof InvalidInput, `${parse.name}(${JSON.stringify(text)}): ${String(e)}`);
          }
        }
        const share = parseShare(text);
        assert.ok(share === null || (share >= 0 && share <= 1));
      }),
      { numRuns: 2000 },
    );
  });
  test('any JSON value as a scenario: parsed or an InvalidInput naming a path', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        try {
          parseScenario(value, 's.json');
        } catch (e) {
          assert.ok(e instanceof InvalidInput);
          assert.match((e as Error).message, /^s\.json: /);
        }
      }),
      { numRuns: 500 },
    );
    assert.throws(() => parseScenario({ mix: { opened: '120%' } }, 's.json'), /s\.json: mix\.opened: must be a share/);
    assert.throws(() => parseScenario({ mix: { opend: 0.3 } }, 's.json'), /s\.json: mix: .*\(opend\)/);
    assert.throws(() => parseScenario({ recipients: -1 }, 's.json'), /s\.json: recipients: /);
    assert.deepEqual(parseScenario({ recipients: 5, mix: { opened: '40%' }, duplicates: 0.01, send_rate: 10 }), { recipients: 5, mix: { opened: 0.4 }, duplicates: 0.01, sendRate: 10 });
  });
});
