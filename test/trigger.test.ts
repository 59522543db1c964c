import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ROOT, runBin, runCli, jsonLines } from './helpers/cli.js';
import { freePort, startDocsReceiver, startRawServer, startStrictReceiver, type TestServer } from './helpers/servers.js';

// `onepush trigger` (issue #4) against real loopback receivers: in-process through src/cli.ts's `run`, and the
// built CLI end to end for `trigger all`. The retry delays themselves are checked in delivery.test.ts.

const SECRET = 'whsec_trigger_suite';
const TYPES = ['email.sent', 'email.delivered', 'email.opened', 'email.clicked', 'email.bounced', 'email.complained', 'email.unsubscribed'];
const NO_STACK = /\n\s+at |Unhandled/;

type Json = Record<string, unknown>;
const hmac = (body: Buffer | string, secret = SECRET): string => createHmac('sha256', secret).update(body).digest('hex');
const fixture = (type: string): Json => JSON.parse(readFileSync(join(ROOT, 'fixtures', `${type}.json`), 'utf8')) as Json;
const lines = jsonLines;

/** The event minus what every trigger refreshes (id, email_id, created_at): what the flags may change. */
function stable(event: Json): Json {
  const copy = structuredClone(event) as Json & { data: Json };
  delete copy.id;
  delete copy.created_at;
  delete copy.data.email_id;
  delete copy.data.created_at;
  return copy;
}

async function withServer<T>(server: TestServer, fn: (s: TestServer) => Promise<T>): Promise<T> {
  try {
    return await fn(server);
  } finally {
    await server.close();
  }
}

describe('onepush trigger', () => {
  test('trigger all: 7 events, 7 types, unique ids, accepted by a docs-style express receiver (the built CLI)', async () => {
    const app = await startDocsReceiver(SECRET);
    await withServer(app, async () => {
      const r = await runBin(['trigger', 'all', '--to', app.url, '--secret', SECRET]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(app.received.length, 7);
      const events = app.events as Json[];
      assert.equal(events.length, 7, 'every signature verified');
      assert.deepEqual(events.map((e) => e.type).sort(), [...TYPES].sort());
      assert.equal(new Set(events.map((e) => e.id)).size, 7);
      const out = r.stdout.trim().split('\n');
      assert.equal(out.length, 7);
      for (const [i, line] of out.entries()) {
        assert.match(line, new RegExp(`^${TYPES[i]!.replace('.', '\\.')}  evt_\\w{26}  200  \\d+ ms  \\{"received":true\\}$`));
      }
      assert.equal(r.stderr, '');
    });
  });

  test('--all to a strict raw-body receiver, --json: one delivery object per event', async () => {
    const app = await startStrictReceiver(SECRET);
    await withServer(app, async () => {
      const r = await runCli(['trigger', '--all', '--to', app.url, '--json'], { env: { ONEPUSH_WEBHOOK_SECRET: SECRET } });
      assert.equal(r.code, 0, r.stderr);
      const out = lines(r);
      assert.equal(out.length, 7);
      for (const d of out) {
        assert.deepEqual(Object.keys(d), ['kind', 'type', 'id', 'url', 'status', 'ok', 'attempts', 'latency_ms', 'response', 'response_json', 'message', 'error']);
        assert.equal(d.kind, 'delivery');
        assert.equal(d.status, 200);
        assert.equal(d.ok, true);
        assert.equal(d.attempts, 1);
        assert.equal(d.url, app.url);
        assert.equal(d.error, null);
      }
      for (const req of app.received) {
        assert.equal(req.headers['content-type'], 'application/json');
        assert.match(String(req.headers['user-agent']), /^onepush-cli\/\d/);
        assert.equal(req.headers['x-onepush-signature'], hmac(req.body));
        assert.equal(req.body.toString(), JSON.stringify(JSON.parse(req.body.toString())), 'compact JSON');
      }
    });
  });

  test('--set, --unset, --data and --fixture change exactly what they name', async () => {
    const app = await startStrictReceiver(SECRET);
    const dir = mkdtempSync(join(tmpdir(), 'onepush-trigger-'));
    await withServer(app, async () => {
      const base = stable(fixture('email.bounced'));
      const send = async (...args: string[]): Promise<Json> => {
        const before = app.received.length;
        const r = await runCli(['trigger', 'bounced', '--to', app.url, '--secret', SECRET, ...args]);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(app.received.length, before + 1);
        return JSON.parse(app.received.at(-1)!.body.toString()) as Json;
      };
      // --set: a JSON value and a plain string; a new nested path.
      const set = await send('--set', 'data.bounce.smtp_code=452', '--set', 'data.bounce.type=soft', '--set', 'data.extra.flag=true');
      const want = structuredClone(base) as Json & { data: Json & { bounce: Json } };
      want.data.bounce.smtp_code = 452;
      want.data.bounce.type = 'soft';
      want.data.extra = { flag: true };
      assert.deepEqual(stable(set), want);
      // --unset
      const unset = await send('--unset', 'data.tags', '--unset', 'data.bounce.mx_host');
      const want2 = structuredClone(base) as Json & { data: Json & { bounce: Json } };
      delete want2.data.tags;
      delete want2.data.bounce.mx_host;
      assert.deepEqual(stable(unset), want2);
      // --data from a file: deep merge.
      const patch = join(dir, 'patch.json');
      writeFileSync(patch, JSON.stringify({ data: { bounce: { diagnostic: 'mailbox full' }, to: ['x@example.com'] } }));
      const merged = await send('--data', patch);
      const want3 = structuredClone(base) as Json & { data: Json & { bounce: Json } };
      want3.data.bounce.diagnostic = 'mailbox full';
      want3.data.to = ['x@example.com'];
      assert.deepEqual(stable(merged), want3);
      // --data from stdin
      const before = app.received.length;
      const r = await runCli(['trigger', 'bounced', '--to', app.url, '--secret', SECRET, '--data', '-'], { input: '{"data":{"subject":"Hi"}}' });
      assert.equal(r.code, 0, r.stderr);
      assert.equal((JSON.parse(app.received[before]!.body.toString()) as { data: Json }).data.subject, 'Hi');
      // --fixture: another template, its own type.
      const tpl = join(dir, 'tpl.json');
      writeFileSync(tpl, JSON.stringify({ id: 'evt_x', type: 'email.opened', created_at: '2020-01-01T00:00:00Z', data: { email_id: 'em_x', custom: [1, 2] } }));
      const r2 = await runCli(['trigger', '--fixture', tpl, '--to', app.url, '--secret', SECRET]);
      assert.equal(r2.code, 0, r2.stderr);
      const fromTpl = JSON.parse(app.received.at(-1)!.body.toString()) as Json;
      assert.deepEqual(stable(fromTpl), { type: 'email.opened', data: { custom: [1, 2] } });
      assert.notEqual(fromTpl.id, 'evt_x');
    });
  });

  test('--duplicate: each event arrives twice with the same id and bytes; --count multiplies', async () => {
    const app = await startStrictReceiver(SECRET);
    await withServer(app, async () => {
      const r = await runCli(['trigger', 'delivered', 'clicked', '--count', '2', '--duplicate', '--to', app.url, '--secret', SECRET]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(app.received.length, 8);
      for (let i = 0; i < 8; i += 2) {
        assert.ok(app.received[i]!.body.equals(app.received[i + 1]!.body), `pair ${i / 2} byte-identical`);
        assert.equal(app.received[i]!.headers['x-onepush-signature'], app.received[i + 1]!.headers['x-onepush-signature']);
      }
      const ids = app.received.map((q) => (JSON.parse(q.body.toString()) as Json).id);
      assert.equal(new Set(ids).size, 4);
      assert.deepEqual(
        app.received.map((q) => (JSON.parse(q.body.toString()) as Json).type),
        ['email.delivered', 'email.delivered', 'email.delivered', 'email.delivered', 'email.clicked', 'email.clicked', 'email.clicked', 'email.clicked'],
      );
    });
  });

  test('503 twice then 200: --retries 3 succeeds after 3 attempts; --retries 0 fails with exit 1', async () => {
    let n = 0;
    const app = await startRawServer((_r, res) => {
      n++;
      const fail = n % 3 !== 0; // 1, 2 fail; 3 succeeds; 4, 5 fail…
      res.writeHead(fail ? 503 : 200, { 'content-type': 'application/json' });
      res.end(fail ? '{"error":"warming up"}' : '{"ok":true}');
    });
    await withServer(app, async () => {
      const r = await runCli(['trigger', 'sent', '--to', app.url, '--secret', SECRET, '--retries', '3', '--json']);
      assert.equal(r.code, 0, r.stderr);
      const [d] = lines(r);
      assert.equal(d!.attempts, 3);
      assert.equal(d!.status, 200);
      assert.equal(app.received.length, 3);
      n = 0;
      const r0 = await runCli(['trigger', 'sent', '--to', app.url, '--secret', SECRET, '--retries', '0']);
      assert.equal(r0.code, 1);
      assert.equal(app.received.length, 4);
      assert.match(r0.stdout, /^email\.sent  evt_\w+  503  \d+ ms  \{"error":"warming up"\}\n$/);
    });
  });

  test('401 from the app → exit 1; other 4xx are not retried', async () => {
    const app = await startStrictReceiver('another-secret');
    await withServer(app, async () => {
      const r = await runCli(['trigger', 'sent', '--to', app.url, '--secret', SECRET, '--retries', '3', '--json']);
      assert.equal(r.code, 1);
      assert.equal(app.received.length, 1, 'a 4xx is not retried');
      const [d] = lines(r);
      assert.equal(d!.status, 401);
      assert.equal(d!.ok, false);
      assert.equal(d!.response, '{"error":"bad signature"}');
    });
  });

  // How long it waits (as told) is delivery.test.ts's: here, that a 429 is retried and then succeeds.
  test('429 with Retry-After: retried, then succeeds', async () => {
    let n = 0;
    const app = await startRawServer((_r, res) => {
      n++;
      res.writeHead(n === 1 ? 429 : 200, n === 1 ? { 'retry-after': '1' } : {});
      res.end(n === 1 ? 'slow down' : 'ok');
    });
    await withServer(app, async () => {
      const r = await runCli(['trigger', 'sent', '--to', app.url, '--secret', SECRET, '--retries', '1']);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(n, 2);
      assert.match(r.stdout, /200 .*\(2 attempts\)/);
    });
  });

  test('an app that never answers: a timeout in words, retried, exit 1', async () => {
    const app = await startRawServer(() => {});
    await withServer(app, async () => {
      const r = await runCli(['trigger', 'sent', '--to', app.url, '--secret', SECRET, '--timeout', '200', '--retries', '1', '--json']);
      assert.equal(r.code, 1);
      assert.equal(app.received.length, 2);
      const [d] = lines(r);
      assert.equal(d!.status, null);
      assert.equal(d!.attempts, 2);
      assert.equal(d!.error, 'no answer within 200 ms (OnePush gives a handler 5 s)');
    });
  });

  test('3xx is a failure and is not followed (exit 1)', async () => {
    const elsewhere = await startRawServer();
    const app = await startRawServer((_r, res) => {
      res.writeHead(302, { location: elsewhere.url });
      res.end();
    });
    try {
      const r = await runCli(['trigger', 'sent', '--to', app.url, '--secret', SECRET, '--retries', '2']);
      assert.equal(r.code, 1);
      assert.equal(app.received.length, 1);
      assert.equal(elsewhere.received.length, 0);
      assert.match(r.stdout, /302 .*redirect not followed/);
    } finally {
      await app.close();
      await elsewhere.close();
    }
  });

  test('a closed port: exit 1, one clear line, no stack trace', async () => {
    const port = await freePort();
    const r = await runCli(['trigger', 'sent', '--to', `localhost:${port}`, '--secret', SECRET]);
    assert.equal(r.code, 1);
    const out = r.stdout.trim().split('\n');
    assert.equal(out.length, 1);
    assert.match(out[0]!, new RegExp(`^email\\.sent  evt_\\w+  failed  \\d+ ms  connection refused — is your app running on port ${port}\\?$`));
    assert.equal(r.stderr, '');
    const j = await runCli(['trigger', 'sent', '--to', String(port), '--secret', SECRET, '--json']);
    const [d] = lines(j);
    assert.equal(d!.status, null);
    assert.equal(d!.error, `connection refused — is your app running on port ${port}?`);
    assert.doesNotMatch(r.stderr + j.stderr, NO_STACK);
  });

  test('`localhost` reaches a server on ::1 as well as on 127.0.0.1', async (t) => {
    let app: TestServer;
    try {
      app = await startRawServer(undefined, '::1');
    } catch {
      t.skip('no IPv6 loopback here');
      return;
    }
    await withServer(app, async () => {
      const r = await runCli(['trigger', 'sent', '--to', `localhost:${app.port}`, '--secret', SECRET]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(app.received.length, 1);
    });
  });

  test('--print: the signed request, HTTP-style; its signature matches its body; nothing is sent', async () => {
    const r = await runCli(['trigger', 'complained', '--print', '--secret', SECRET, '--to', '3999']);
    assert.equal(r.code, 0, r.stderr);
    const [head, body, ...rest] = r.stdout.split('\n\n');
    assert.deepEqual(rest, []);
    const headLines = head!.split('\n');
    assert.equal(headLines[0], 'POST /webhooks/onepush HTTP/1.1');
    const headers = Object.fromEntries(headLines.slice(1).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 2)]));
    const text = body!.replace(/\n$/, '');
    assert.equal(headers['host'], 'localhost:3999');
    assert.equal(headers['content-type'], 'application/json');
    assert.equal(headers['content-length'], String(Buffer.byteLength(text)));
    assert.equal(headers['x-onepush-signature'], hmac(text));
    assert.equal((JSON.parse(text) as Json).type, 'email.complained');

    const j = await runCli(['trigger', 'sent', 'opened', '--print', '--json', '--secret', SECRET]);
    assert.equal(j.code, 0, j.stderr);
    const objs = lines(j) as Array<{ method: string; url: string; headers: Record<string, string>; body: string }>;
    assert.equal(objs.length, 2);
    for (const o of objs) {
      assert.deepEqual(Object.keys(o), ['method', 'url', 'headers', 'body']);
      assert.equal(o.method, 'POST');
      assert.equal(o.url, 'http://localhost:4242/webhooks/onepush');
      assert.equal(o.headers['x-onepush-signature'], hmac(o.body));
    }
  });

  test('without a secret: sends unsigned and warns once on stderr', async () => {
    const app = await startRawServer();
    await withServer(app, async () => {
      const r = await runCli(['trigger', 'sent', 'opened', '--to', app.url]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(app.received.length, 2);
      assert.equal(app.received[0]!.headers['x-onepush-signature'], undefined);
      assert.equal(r.stderr.match(/no secret/g)?.length, 1);
    });
  });

  test('bad input: exit 2, one clear line and a hint, no stack trace, nothing sent', async () => {
    const app = await startRawServer();
    await withServer(app, async () => {
      const cases: Array<[string[], RegExp]> = [
        [['trigger', 'bouncd'], /unknown event type "bouncd" — did you mean email\.bounced\?[\s\S]*hint: the types are: email\.sent/],
        [['trigger', 'email.nope'], /unknown event type "email\.nope"/],
        [['trigger'], /which event type\?/],
        [['trigger', 'sent', '--to', 'ftp://x'], /unsupported protocol ftp/],
        [['trigger', 'sent', '--to', 'http://'], /not a valid URL/],
        [['trigger', 'sent', '--to', '99999'], /port out of range/],
        [['trigger', 'sent', '--set', 'nokey'], /--set "nokey" is not path=value/],
        [['trigger', 'sent', '--set', 'a..b=1'], /bad path "a\.\.b"/],
        [['trigger', 'sent', '--data', '/nonexistent/x.json'], /cannot read \/nonexistent\/x\.json: no such file/],
        [['trigger', 'sent', '--data', '-'], /--data \(stdin\) is not valid JSON/],
        [['trigger', 'sent', '--fixture', '/nonexistent/t.json'], /cannot read/],
        [['trigger', 'sent', '--count', '0'], /--count/],
        [['trigger', 'sent', '--retries', 'x'], /--retries/],
      ];
      for (const [args, re] of cases) {
        const r = await runCli([...args, '--secret', SECRET, ...(args.includes('--to') ? [] : ['--to', app.url])], { input: 'not json' });
        assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, re, args.join(' '));
        assert.match(r.stderr, /^onepush: /);
        assert.doesNotMatch(r.stderr, NO_STACK);
      }
      assert.equal(app.received.length, 0);
    });
  });
});
