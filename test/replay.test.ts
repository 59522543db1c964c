import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { appendFileSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { encodeCapture } from '../src/core/capture.js';
import { runCli, startBin, jsonLines } from './helpers/cli.js';
import { startRawServer, startStrictReceiver, type TestServer } from './helpers/servers.js';

// `onepush replay` (issue #4): capture logs written with the same codec `listen` uses, replayed into real loopback
// receivers, in-process through src/cli.ts's `run`; Ctrl-C (a signal, exit 130) through the built CLI.

const SECRET = 'whsec_capture_secret';
const OTHER = 'whsec_staging_secret';
const NO_STACK = /\n\s+at |Unhandled/;
type Json = Record<string, unknown>;

const hmac = (body: Buffer | string, secret: string): string => createHmac('sha256', secret).update(body).digest('hex');
const tmp = (): string => mkdtempSync(join(tmpdir(), 'onepush-replay-'));
const lines = jsonLines;

interface Ev {
  id: string;
  type: string;
  at: Date;
  /** Body text as "received" (not always compact). */
  body?: string;
}

function event(e: Ev): string {
  return e.body ?? JSON.stringify({ id: e.id, type: e.type, created_at: e.at.toISOString(), data: { email_id: `em_${e.id}`, to: ['jane@example.com'] } });
}

/** One capture line as `listen` writes it: the raw bytes, the headers it received, verified with SECRET. */
function capture(e: Ev, extra: Partial<{ status: number; headers: Record<string, string>; body: Buffer | null }> = {}): string {
  const body = extra.body === undefined ? Buffer.from(event(e)) : extra.body;
  return encodeCapture({
    receivedAt: e.at,
    method: 'POST',
    path: '/webhooks/onepush',
    headers: {
      host: '127.0.0.1:4242',
      'content-type': 'application/json',
      'content-length': String(body?.length ?? 0),
      connection: 'keep-alive',
      'user-agent': 'OnePush-Webhooks/1.0',
      'x-onepush-signature': body ? hmac(body, SECRET) : 'x',
      'x-custom': 'kept',
      ...extra.headers,
    },
    body,
    verified: true,
    status: extra.status ?? 200,
  });
}

const minutesAgo = (m: number): Date => new Date(Date.now() - m * 60_000);
const TYPES = ['email.sent', 'email.delivered', 'email.bounced', 'email.clicked', 'email.bounced', 'email.complained'];
/** Six captures, oldest first: 6 hours to 1 minute ago; ids evt_1…evt_6. */
const SIX: Ev[] = TYPES.map((type, i) => ({ id: `evt_${i + 1}`, type, at: minutesAgo([360, 180, 90, 30, 5, 1][i]!) }));

function writeLog(dir: string, content: string, name = 'events.ndjson'): string {
  const file = join(dir, name);
  writeFileSync(file, content);
  return file;
}

async function withServer<T>(server: TestServer, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } finally {
    await server.close();
  }
}

const ids = (s: TestServer): unknown[] => s.received.map((r) => (JSON.parse(r.body.toString()) as Json).id);

describe('onepush replay', () => {
  test('--keep-signature: byte-identical bodies and captured headers, in order (hop-by-hop headers dropped)', async () => {
    const dir = tmp();
    const odd: Ev = { id: 'evt_odd', type: 'email.opened', at: minutesAgo(2), body: '{ "type": "email.opened",\n  "id": "evt_odd", "data": {"note": "é ✓"} }' };
    const evs = [...SIX, odd];
    const log = writeLog(dir, evs.map((e) => capture(e)).join(''));
    const app = await startStrictReceiver(SECRET);
    await withServer(app, async () => {
      const r = await runCli(['replay', log, '--keep-signature', '--to', app.url]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(app.received.length, 7);
      for (const [i, e] of evs.entries()) {
        const got = app.received[i]!;
        assert.equal(got.body.toString(), event(e), `event ${i + 1} byte-identical`);
        assert.equal(got.headers['x-onepush-signature'], hmac(event(e), SECRET));
        assert.equal(got.headers['user-agent'], 'OnePush-Webhooks/1.0');
        assert.equal(got.headers['x-custom'], 'kept');
        assert.notEqual(got.headers.host, '127.0.0.1:4242', 'host is the target, not the captured one');
      }
      const out = r.stdout.trim().split('\n');
      assert.equal(out.length, 7);
      assert.match(out[0]!, /^#1 email\.sent  evt_1  200  \d+ ms  \{"ok":true\}$/);
      assert.match(r.stderr, /replay: 7 sent, 7 2xx, 0 failed · p50 [\d.]+ ms · p95 [\d.]+ ms/);
    });
  });

  test('without a secret the captured headers go unchanged too (and it says so)', async () => {
    const dir = tmp();
    const log = writeLog(dir, SIX.map((e) => capture(e)).join(''));
    const app = await startStrictReceiver(SECRET);
    await withServer(app, async () => {
      const r = await runCli(['replay', log, '--to', app.url]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(ids(app), SIX.map((e) => e.id));
      assert.match(r.stderr, /warning: no secret: not re-signing/);
    });
  });

  test('re-signed with another secret: every event verifies with that secret; same bytes', async () => {
    const dir = tmp();
    const log = writeLog(dir, SIX.map((e) => capture(e)).join(''));
    const staging = await startStrictReceiver(OTHER);
    await withServer(staging, async () => {
      const r = await runCli(['replay', log, '--to', staging.url, '--json'], { env: { ONEPUSH_WEBHOOK_SECRET: OTHER } });
      assert.equal(r.code, 0, r.stderr);
      const out = lines(r);
      assert.equal(out.length, 7);
      const deliveries = out.slice(0, 6);
      deliveries.forEach((d, i) => {
        assert.deepEqual(Object.keys(d), ['kind', 'n', 'source', 'line', 'id', 'type', 'url', 'status', 'ok', 'attempts', 'latency_ms', 'response', 'response_json', 'message', 'error']);
        assert.equal(d.n, i + 1);
        assert.equal(d.line, i + 1);
        assert.equal(d.source, log);
        assert.equal(d.id, SIX[i]!.id);
        assert.equal(d.status, 200);
      });
      const summary = out[6]!;
      assert.deepEqual(Object.keys(summary), ['kind', 'sent', 'ok', 'failed', 'failures', 'skipped', 'p50_ms', 'p95_ms', 'duration_ms']);
      assert.equal(summary.kind, 'summary');
      assert.equal(summary.sent, 6);
      assert.equal(summary.ok, 6);
      assert.deepEqual(summary.failures, {});
      for (const [i, e] of SIX.entries()) assert.equal(staging.received[i]!.body.toString(), event(e));
    });
  });

  test('--fresh-id: new ids, re-signed; without a secret it is a usage error', async () => {
    const dir = tmp();
    const log = writeLog(dir, SIX.slice(0, 2).map((e) => capture(e)).join(''));
    const app = await startStrictReceiver(OTHER);
    await withServer(app, async () => {
      const r = await runCli(['replay', log, '--fresh-id', '--secret', OTHER, '--to', app.url, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const got = ids(app);
      assert.equal(got.length, 2);
      for (const id of got) assert.match(String(id), /^evt_\w{26}$/);
      assert.deepEqual(lines(r).slice(0, 2).map((d) => d.id), got);
      const bad = await runCli(['replay', log, '--fresh-id', '--to', app.url]);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--fresh-id needs a secret/);
      assert.equal(app.received.length, 2);
    });
  });

  test('--type, --last, --since and --id select exactly', async () => {
    const dir = tmp();
    const log = writeLog(dir, SIX.map((e) => capture(e)).join(''));
    const app = await startRawServer();
    await withServer(app, async () => {
      const sel = async (...args: string[]): Promise<unknown[]> => {
        app.received.length = 0;
        const r = await runCli(['replay', log, '--to', app.url, '--secret', OTHER, ...args]);
        assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`);
        return ids(app);
      };
      assert.deepEqual(await sel('--type', 'email.bounced'), ['evt_3', 'evt_5']);
      assert.deepEqual(await sel('--type', 'email.c*'), ['evt_4', 'evt_6']);
      assert.deepEqual(await sel('--type', 'email.sent,email.delivered'), ['evt_1', 'evt_2']);
      assert.deepEqual(await sel('--last', '2'), ['evt_5', 'evt_6']);
      assert.deepEqual(await sel('--last', '10'), ['evt_1', 'evt_2', 'evt_3', 'evt_4', 'evt_5', 'evt_6']);
      assert.deepEqual(await sel('--type', 'email.bounced', '--last', '1'), ['evt_5']);
      assert.deepEqual(await sel('--since', '1h'), ['evt_4', 'evt_5', 'evt_6']);
      assert.deepEqual(await sel('--since', '10m'), ['evt_5', 'evt_6']);
      assert.deepEqual(await sel('--since', '1d'), ['evt_1', 'evt_2', 'evt_3', 'evt_4', 'evt_5', 'evt_6']);
      assert.deepEqual(await sel('--since', SIX[3]!.at.toISOString()), ['evt_4', 'evt_5', 'evt_6']);
      assert.deepEqual(await sel('--id', 'evt_2', '--id', 'evt_6'), ['evt_2', 'evt_6']);
      // Nothing to do is exit 1 in every command (as grep's), with a line saying so.
      const none = await runCli(['replay', log, '--to', app.url, '--secret', OTHER, '--id', 'evt_nope']);
      assert.equal(none.code, 1, none.stderr);
      assert.match(none.stderr, /replay: nothing to replay: no event matched the selection/);
      const empty = join(dir, 'empty.ndjson');
      writeFileSync(empty, '');
      assert.equal((await runCli(['replay', empty, '--to', app.url])).code, 1, 'an empty log: nothing to do');
      const bad = await runCli(['replay', log, '--to', app.url, '--since', 'yesterday']);
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /--since "yesterday" is neither an ISO time nor a duration/);
    });
  });

  test('a malformed line: exit 2 naming file and line; --skip-bad reports it and goes on', async () => {
    const dir = tmp();
    const good = SIX.map((e) => capture(e));
    const log = writeLog(dir, [good[0], good[1], '{"v":1,"oops"\n', good[2], '{"v":2}\n', good[3]].join(''));
    const app = await startRawServer();
    await withServer(app, async () => {
      const r = await runCli(['replay', log, '--to', app.url, '--secret', OTHER]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^onepush: .*events\.ndjson:3: not valid JSON/m);
      assert.match(r.stderr, /hint: .*--skip-bad/);
      assert.doesNotMatch(r.stderr, NO_STACK);
      assert.deepEqual(ids(app), ['evt_1', 'evt_2'], 'stops at the bad line');

      app.received.length = 0;
      const s = await runCli(['replay', log, '--to', app.url, '--secret', OTHER, '--skip-bad', '--json']);
      assert.equal(s.code, 0, s.stderr);
      assert.deepEqual(ids(app), ['evt_1', 'evt_2', 'evt_3', 'evt_4']);
      assert.match(s.stderr, /events\.ndjson:3: not valid JSON.*--skip-bad/);
      assert.match(s.stderr, /events\.ndjson:5: unsupported capture version 2/);
      const summary = lines(s).at(-1)!;
      assert.equal(summary.sent, 4);
      assert.equal(summary.skipped, 2);
    });
  });

  test('a torn last line (what a crash leaves) is a warning, not fatal', async () => {
    const dir = tmp();
    const log = writeLog(dir, SIX.slice(0, 3).map((e) => capture(e)).join('') + '{"v":1,"received_at":"2026-11-27T10:0');
    const app = await startRawServer();
    await withServer(app, async () => {
      const r = await runCli(['replay', log, '--to', app.url, '--secret', OTHER]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(ids(app), ['evt_1', 'evt_2', 'evt_3']);
      assert.match(r.stderr, /warning: .*events\.ndjson:4: torn last line/);
    });
  });

  test('captures without a JSON event (413, 400) are skipped with a note; 401-refused events are replayed', async () => {
    const dir = tmp();
    const log = writeLog(
      dir,
      [
        capture(SIX[0]!, { status: 413, body: null }),
        capture(SIX[1]!, { status: 400, body: Buffer.from('not json') }),
        capture(SIX[2]!, { status: 401, headers: { 'x-onepush-signature': 'bad' } }),
      ].join(''),
    );
    const app = await startRawServer();
    await withServer(app, async () => {
      const r = await runCli(['replay', log, '--to', app.url, '--secret', OTHER]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(ids(app), ['evt_3']);
      assert.equal(app.received[0]!.headers['x-onepush-signature'], hmac(app.received[0]!.body, OTHER));
      assert.match(r.stderr, /events\.ndjson:1: capture refused before its body was read \(status 413\)/);
      assert.match(r.stderr, /events\.ndjson:2: captured body is not JSON \(status 400\)/);
      assert.match(r.stderr, /2 skipped/);
    });
  });

  test('sources: directories, listen --json NDJSON, a plain event JSON file, stdin', async () => {
    const dir = tmp();
    const caps = join(dir, 'caps');
    mkdirSync(caps);
    writeLog(caps, capture(SIX[1]!), 'b.ndjson');
    writeLog(caps, capture(SIX[0]!), 'a.ndjson');
    writeLog(caps, 'ignored', 'notes.txt');
    const listenJson = writeLog(
      dir,
      [
        JSON.stringify({ kind: 'ready', url: 'http://localhost:4242/webhooks/onepush' }),
        JSON.stringify({ kind: 'event', id: 'evt_3', type: 'email.bounced', payload: JSON.parse(event(SIX[2]!)) }),
        JSON.stringify({ kind: 'summary', received: 1 }),
      ].join('\n') + '\n',
      'listen.ndjson',
    );
    const plain = writeLog(dir, JSON.stringify(JSON.parse(event(SIX[3]!)), null, 2), 'event.json');
    const app = await startStrictReceiver(OTHER);
    await withServer(app, async () => {
      const r = await runCli(['replay', caps, listenJson, plain, '-', '--to', app.url, '--secret', OTHER], { input: event(SIX[4]!) + '\n' });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(ids(app), ['evt_1', 'evt_2', 'evt_3', 'evt_4', 'evt_5']);
      assert.equal(app.received[3]!.body.toString(), event(SIX[3]!), 'a pretty event file is sent compact');
    });
  });

  test('the default source is the listener capture log; missing sources exit 2', async () => {
    const dir = tmp();
    const app = await startRawServer();
    await withServer(app, async () => {
      const none = await runCli(['replay', '--to', app.url], { cwd: dir });
      assert.equal(none.code, 2);
      assert.match(none.stderr, /^onepush: no capture log at \.onepush\/events\.ndjson\nhint: run onepush listen first/);
      const missing = await runCli(['replay', join(dir, 'nope.ndjson'), '--to', app.url]);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /cannot read .*nope\.ndjson: no such file/);
      mkdirSync(join(dir, '.onepush'));
      writeLog(join(dir, '.onepush'), SIX.map((e) => capture(e)).join(''));
      const r = await runCli(['replay', '--last', '1', '--to', app.url, '--secret', OTHER], { cwd: dir });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(ids(app), ['evt_6']);
    });
  });

  test('failures: exit 1, the summary counts them by reason', async () => {
    const dir = tmp();
    const log = writeLog(dir, SIX.map((e) => capture(e)).join(''));
    let n = 0;
    const app = await startRawServer((r, res) => {
      n++;
      const id = (JSON.parse(r.body.toString()) as Json).id;
      const status = id === 'evt_2' ? 422 : id === 'evt_4' && n < 100 ? 503 : 200;
      res.writeHead(status);
      res.end(status === 200 ? 'ok' : `nope ${status}`);
    });
    await withServer(app, async () => {
      const r = await runCli(['replay', log, '--to', app.url, '--secret', OTHER, '--json']);
      assert.equal(r.code, 1);
      const summary = lines(r).at(-1)!;
      assert.equal(summary.sent, 6);
      assert.equal(summary.ok, 4);
      assert.equal(summary.failed, 2);
      assert.deepEqual(summary.failures, { '422': 1, '503': 1 });
      n = 100;
      app.received.length = 0;
      const h = await runCli(['replay', log, '--to', app.url, '--secret', OTHER, '--id', 'evt_2']);
      assert.equal(h.code, 1);
      assert.match(h.stdout, /^#1 email\.delivered  evt_2  422  \d+ ms  nope 422\n$/);
      assert.match(h.stderr, /1 sent, 0 2xx, 1 failed \(422 ×1\)/);
    });
  });

  test('--concurrency and --rate: every event sent once', async () => {
    const dir = tmp();
    const many: Ev[] = Array.from({ length: 40 }, (_, i) => ({ id: `evt_c${i}`, type: 'email.sent', at: minutesAgo(1) }));
    const log = writeLog(dir, many.map((e) => capture(e)).join(''));
    const app = await startRawServer();
    await withServer(app, async () => {
      const r = await runCli(['replay', log, '--to', app.url, '--concurrency', '8', '--keep-signature', '--json']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual([...ids(app)].sort(), many.map((e) => e.id).sort());
      assert.deepEqual(
        lines(r).slice(0, -1).map((d) => d.n).sort((a, b) => Number(a) - Number(b)),
        many.map((_, i) => i + 1),
      );
      // How --rate spaces the starts (50 ms apart at 20/s) is delivery.test.ts's, on a recorded clock.
      app.received.length = 0;
      const slow = await runCli(['replay', log, '--to', app.url, '--rate', '20', '--last', '6', '--keep-signature']);
      assert.equal(slow.code, 0, slow.stderr);
      assert.equal(app.received.length, 6);
    });
  });

  test('Ctrl-C: deliveries in flight finish, no new ones start, the summary prints, exit 130 (the built CLI)', async () => {
    const dir = tmp();
    const many: Ev[] = Array.from({ length: 50 }, (_, i) => ({ id: `evt_i${i}`, type: 'email.sent', at: minutesAgo(1) }));
    const log = writeLog(dir, many.map((e) => capture(e)).join(''));
    let release: (() => void) | undefined;
    const app = await startRawServer((_r, res) => {
      // Hold the second request until the test has sent SIGINT.
      if (app.received.length === 2) {
        release = () => {
          res.writeHead(200);
          res.end('late');
        };
        return;
      }
      res.writeHead(200);
      res.end('ok');
    });
    await withServer(app, async () => {
      const cli = startBin(['replay', log, '--to', app.url, '--keep-signature', '--json']);
      await cli.waitForLine((l) => l.includes('"n":1'));
      await app.waitFor(2);
      const exited = once(cli.child, 'exit');
      cli.child.kill('SIGINT');
      await cli.waitForStderr(/stopping/);
      release?.();
      const [code] = (await exited) as [number | null];
      await cli.stop(); // already exited: collects the rest of the output
      assert.equal(code, 130, cli.stderr());
      assert.equal(app.received.length, 2, 'no delivery started after Ctrl-C');
      const out = cli.stdoutLines.map((l) => JSON.parse(l) as Json);
      assert.deepEqual(out.map((o) => o.kind), ['delivery', 'delivery', 'summary']);
      assert.equal(out[1]!.response, 'late', 'the delivery in flight finished');
      assert.equal(out[2]!.sent, 2);
      assert.match(cli.stderr(), /interrupted/);
    });
  });
});
