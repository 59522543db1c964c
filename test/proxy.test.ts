import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { bypassesProxy, isLoopbackHost, proxyFor, proxySettings } from '../src/core/proxy.js';
import { runBin, runCli, startCli } from './helpers/cli.js';
import { startProxy } from './helpers/proxy.js';
import { freePort, HAS_OPENSSL, startHttpsApp, startRawServer, startStrictReceiver } from './helpers/servers.js';

// Issue 17: outgoing requests honour HTTPS_PROXY / HTTP_PROXY / NO_PROXY (and lowercase forms) from the command's
// environment; loopback targets always go direct. `app.internal` is a name only the test proxy resolves (there is no
// DNS here): a request that reaches the app under that name went through the proxy.

const SECRET = 'whsec_proxy_test';
const dir = mkdtempSync(join(tmpdir(), 'onepush-proxy-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const internal = (url: string): string => url.replace('127.0.0.1', 'app.internal');

/** One request to the inspector on 127.0.0.1:`port`, straight (no proxy: the test's own client). */
function httpText(port: number, method: string, path: string, headers: Record<string, string>, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (d: string) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('proxy settings (core)', () => {
  test('lowercase wins, empty is unset, NO_PROXY=* is no proxy at all', () => {
    assert.equal(proxySettings({}), undefined);
    assert.equal(proxySettings(undefined), undefined);
    assert.deepEqual(proxySettings({ HTTPS_PROXY: 'http://a:1', https_proxy: 'http://b:2' }), { https: 'http://b:2', noProxy: '' });
    assert.deepEqual(proxySettings({ HTTP_PROXY: 'http://a:1', https_proxy: ' ', NO_PROXY: 'x.test' }), { http: 'http://a:1', noProxy: 'x.test' });
    assert.equal(proxySettings({ HTTP_PROXY: 'http://a:1', no_proxy: '*' }), undefined);
  });
  test('loopback always goes direct; NO_PROXY names, suffixes and ports as undici matches them', () => {
    for (const h of ['localhost', 'LOCALHOST', 'app.localhost', '127.0.0.1', '127.3.2.1', '[::1]', '::1']) assert.ok(isLoopbackHost(h), h);
    for (const h of ['example.com', '10.0.0.1', '128.0.0.1', '[::2]', 'localhost.example.com']) assert.ok(!isLoopbackHost(h), h);
    assert.ok(bypassesProxy('foo.test, .corp.test', 'a.corp.test', 80));
    assert.ok(bypassesProxy('*.corp.test', 'corp.test', 80));
    assert.ok(bypassesProxy('app.internal:8080', 'app.internal', 8080));
    assert.ok(!bypassesProxy('app.internal:8080', 'app.internal', 80));
    assert.ok(!bypassesProxy('corp.test', 'notcorp.test', 80));
    const s = proxySettings({ HTTP_PROXY: 'http://p:1', HTTPS_PROXY: 'http://q:2', NO_PROXY: 'direct.test' });
    assert.equal(proxyFor(s, new URL('http://app.internal/x')), 'http://p:1');
    assert.equal(proxyFor(s, new URL('https://app.internal/x')), 'http://q:2');
    assert.equal(proxyFor(s, new URL('https://direct.test/x')), undefined);
    assert.equal(proxyFor(s, new URL('http://localhost:3000/x')), undefined);
    assert.equal(proxyFor(s, new URL('http://[::1]:3000/x')), undefined);
    assert.equal(proxyFor(proxySettings({ HTTP_PROXY: 'http://p:1' }), new URL('https://a.test/')), 'http://p:1', 'undici: https falls back to the http proxy');
  });
});

describe('outgoing requests through a proxy', { concurrency: 2 }, () => {
  test('trigger: an http target goes to HTTP_PROXY in absolute form, signed as usual (the built CLI)', async () => {
    const app = await startStrictReceiver(SECRET);
    const proxy = await startProxy({ 'app.internal': '127.0.0.1' });
    try {
      const r = await runBin(['trigger', 'email.bounced', '--to', internal(app.url), '--secret', SECRET], { env: { HTTP_PROXY: proxy.url } });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(proxy.seen.map((s) => [s.kind, s.target]), [['http', internal(app.url)]]);
      assert.equal(app.received.length, 1);
      assert.equal(app.received[0]?.headers.host, new URL(internal(app.url)).host);
    } finally {
      await Promise.all([app.close(), proxy.close()]);
    }
  });

  test('trigger: an https target goes through a CONNECT tunnel of https_proxy, and --insecure applies to the target inside it', { skip: HAS_OPENSSL ? false : 'no openssl' }, async () => {
    const app = await startHttpsApp();
    const proxy = await startProxy({ 'app.internal': '127.0.0.1' });
    try {
      const to = internal(app.url);
      const strict = await runCli(['trigger', 'email.sent', '--to', to, '--secret', SECRET], { env: { https_proxy: proxy.url } });
      assert.equal(strict.code, 1, 'the self-signed certificate (for 127.0.0.1, not app.internal) is refused without --insecure');
      assert.match(strict.stdout + strict.stderr, /TLS certificate not trusted|certificate|altname/i);
      assert.equal(app.received(), 0);
      const r = await runCli(['trigger', 'email.sent', '--to', to, '--secret', SECRET, '--insecure'], { env: { https_proxy: proxy.url } });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(app.received(), 1);
      assert.ok(proxy.seen.every((s) => s.kind === 'connect' && s.target === new URL(to).host), JSON.stringify(proxy.seen.map((s) => s.target)));
      assert.equal(proxy.seen.length, 2);
    } finally {
      await Promise.all([app.close(), proxy.close()]);
    }
  });

  test('replay and check go through the proxy too; check passes every case through it', async () => {
    const app = await startStrictReceiver(SECRET);
    const proxy = await startProxy({ 'app.internal': '127.0.0.1' });
    try {
      const event = join(dir, 'event.json');
      writeFileSync(event, JSON.stringify({ id: 'evt_proxy_1', type: 'email.sent', created_at: '2026-11-26T15:55:55.123Z', data: { email_id: 'em_1', to: ['jane@example.com'] } }));
      const withAuth = proxy.url.replace('http://', 'http://corp%20user:s3cret@');
      const replay = await runCli(['replay', event, '--to', internal(app.url), '--secret', SECRET], { env: { HTTP_PROXY: withAuth } });
      assert.equal(replay.code, 0, replay.stdout + replay.stderr);
      assert.equal(app.received.length, 1);
      assert.equal(proxy.seen.length, 1);
      assert.equal(proxy.seen[0]?.headers['proxy-authorization'], `Basic ${Buffer.from('corp user:s3cret').toString('base64')}`, "the proxy URL's credentials");
      const check = await runCli(['check', internal(app.url), '--secret', SECRET, '--json'], { env: { http_proxy: proxy.url } });
      assert.equal(check.code, 0, check.stdout + check.stderr);
      assert.ok(proxy.seen.length > 10, `the proxy saw ${proxy.seen.length} requests`);
      assert.equal(proxy.seen.length, app.received.length, 'every request reached the app through the proxy');
      assert.ok(proxy.seen.every((s) => s.kind === 'http' && s.target === internal(app.url)));
    } finally {
      await Promise.all([app.close(), proxy.close()]);
    }
  });

  test('NO_PROXY goes direct (app.internal is then not found: no DNS), loopback always goes direct', async () => {
    const app = await startRawServer();
    const proxy = await startProxy({ 'app.internal': '127.0.0.1' });
    try {
      const env = { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url, NO_PROXY: 'other.test,.internal' };
      const r = await runCli(['trigger', 'email.sent', '--to', internal(app.url), '--secret', SECRET], { env });
      assert.equal(r.code, 1);
      assert.match(r.stdout + r.stderr, /host not found: app\.internal/);
      for (const to of [app.url, app.url.replace('127.0.0.1', 'localhost'), `${app.port}`]) {
        const direct = await runCli(['trigger', 'email.sent', '--to', to, '--secret', SECRET], { env: { HTTP_PROXY: proxy.url, HTTPS_PROXY: proxy.url } });
        assert.equal(direct.code, 0, `${to}: ${direct.stdout}${direct.stderr}`);
      }
      assert.equal(app.received.length, 3);
      assert.deepEqual(proxy.seen, [], 'the proxy saw nothing');
    } finally {
      await Promise.all([app.close(), proxy.close()]);
    }
  });

  test("listen: forwarding to an app behind the proxy goes through it; the listener's own loopback URL is reached directly", async () => {
    const app = await startStrictReceiver(SECRET);
    const proxy = await startProxy({ 'app.internal': '127.0.0.1' });
    const env = { HTTP_PROXY: proxy.url };
    const cli = startCli(['listen', '--json', '--port', '0', '--no-save', '--no-ui', '--forward-to', internal(app.url), '--secret', SECRET], { cwd: dir, env });
    try {
      const ready = JSON.parse(await cli.waitForLine((l) => l.includes('"ready"'))) as { url: string };
      const r = await runCli(['trigger', 'email.delivered', '--to', ready.url, '--secret', SECRET], { env });
      assert.equal(r.code, 0, r.stderr);
      await cli.waitForLine((l) => l.includes('"forward"') && l.includes('"status":200'));
      assert.deepEqual(proxy.seen.map((s) => s.target), [internal(app.url)], 'only the forward went through the proxy');
      assert.equal(app.received.length, 1);
    } finally {
      await cli.stop();
      await Promise.all([app.close(), proxy.close()]);
    }
  });

  test('a proxy that refuses (407 to a CONNECT, 502 with a Proxy-Status error) is one clear line: trigger exits 1, check 2', async () => {
    for (const status of [407, 502]) {
      const proxy = await startProxy({}, status);
      try {
        const env = { HTTPS_PROXY: proxy.url, HTTP_PROXY: proxy.url };
        const https = await runCli(['trigger', 'email.sent', '--to', 'https://app.internal:8443/webhooks/onepush', '--secret', SECRET], { env });
        assert.equal(https.code, 1, https.stderr);
        assert.match(https.stdout, new RegExp(`the proxy ${proxy.url} refused the request to app\\.internal:8443: ${status}`));
        const http = await runCli(['trigger', 'email.sent', '--to', 'http://app.internal:8080/webhooks/onepush', '--secret', SECRET], { env });
        assert.equal(http.code, 1, http.stderr);
        assert.match(http.stdout, new RegExp(`the proxy ${proxy.url} refused the request to app\\.internal:8080: ${status}`));
        assert.equal(http.stdout.trim().split('\n').length, 1, http.stdout);
        const check = await runCli(['check', 'https://app.internal:8443/webhooks/onepush', '--secret', SECRET], { env });
        assert.equal(check.code, 2, check.stdout + check.stderr);
        assert.match(check.stdout + check.stderr, new RegExp(`refused the request to app\\.internal:8443: ${status}`));
        assert.deepEqual(
          proxy.seen.map((s) => s.kind),
          ['connect', 'http', 'connect'].slice(0, proxy.seen.length),
        );
        if (status === 407) assert.match(https.stdout, /user:password@proxy:port/);
      } finally {
        await proxy.close();
      }
    }
  });

  test("the inspector's resend goes through the proxy (inspect's environment)", async () => {
    const app = await startRawServer();
    const proxy = await startProxy({ 'app.internal': '127.0.0.1' });
    const log = join(dir, 'inspected.ndjson');
    writeFileSync(log, '');
    const cli = startCli(['inspect', log, '--port', '0'], { env: { HTTP_PROXY: proxy.url } });
    try {
      const port = Number(new URL(await cli.waitForLine((l) => l.startsWith('http://'))).port);
      const host = `localhost:${port}`;
      const html = await httpText(port, 'GET', '/', { host });
      const token = /<meta name="onepush-token" content="([0-9a-f]{48})">/.exec(html.text)?.[1];
      assert.ok(token, html.text.slice(0, 200));
      const body = JSON.stringify({ body: '{"id":"evt_resent","type":"email.sent"}', url: internal(app.url), signing: 'unsigned' });
      const sent = await httpText(port, 'POST', '/_onepush/api/send', { host, 'x-onepush-token': token, origin: `http://${host}`, 'content-type': 'application/json' }, body);
      assert.equal(sent.status, 200, sent.text);
      assert.deepEqual(proxy.seen.map((s) => s.target), [internal(app.url)]);
      assert.equal(app.received.length, 1);
    } finally {
      await cli.stop();
      await Promise.all([app.close(), proxy.close()]);
    }
  });

  test('a proxy that is not there: the message names the proxy, not the app', async () => {
    const port = await freePort();
    const r = await runCli(['trigger', 'email.sent', '--to', 'http://app.internal:8080/webhooks/onepush', '--secret', SECRET], { env: { HTTP_PROXY: `http://u:hunter2@127.0.0.1:${port}` } });
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`connection refused by the proxy http://u:\\*\\*\\*@127\\.0\\.0\\.1:${port}`));
    assert.doesNotMatch(r.stdout + r.stderr, /hunter2/);
  });
});
