import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidInput } from '../src/core/errors.js';
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
