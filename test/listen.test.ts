import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { printedJson, readCaptures, runCli, startBin, startCli, type InProcessCli, type LiveCli } from './helpers/cli.js';
import { startDocsReceiver, startRawServer, startStrictReceiver } from './helpers/servers.js';

// `onepush listen` (issue #3): real requests, the capture log on disk. In-process through src/cli.ts's `run` (Ctrl-C
// is its shutdown signal); the built CLI as a child process for what only a process has: SIGINT, kill -9, a stdout
// pipe that stalls or closes.

const SECRET = 'whsec_listen_e2e';
const hmac = (body: string | Buffer, secret = SECRET): string => createHmac('sha256', secret).update(body).digest('hex');
const NO_STACK = /\n\s+at /;
const dir = mkdtempSync(join(tmpdir(), 'onepush-listen-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const tmp = (name: string): string => join(dir, `${++n}-${name}`);

function fixture(type: string, id = `evt_${type.slice(6)}_${++n}`): string {
  const event = JSON.parse(readFileSync(new URL(`../fixtures/${type}.json`, import.meta.url), 'utf8'));
  event.id = id;
  return JSON.stringify(event);
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}, method = 'POST'): Promise<Reply> {
  const res = await fetch(url, { method, body: method === 'GET' ? null : body, headers: { 'content-type': 'application/json', ...headers } });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
}

const signed = (url: string, body: string | Buffer): Promise<Reply> => post(url, body, { 'x-onepush-signature': hmac(body) });

interface Running<Cli> {
  cli: Cli;
  ready: Record<string, unknown>;
  url: string;
  save: string;
}

/** `onepush listen --port 0 --json --save <new file> …` in-process, once ready. */
async function listen(args: string[] = [], env: Record<string, string> = {}): Promise<Running<InProcessCli>> {
  const save = tmp('events.ndjson');
  const cli = startCli(['listen', '--port', '0', '--json', '--save', save, ...args], { env });
  const line = await cli.waitForLine((l) => l.includes('"kind":"ready"'));
  const ready = JSON.parse(line) as Record<string, unknown>;
  return { cli, ready, url: String(ready.url), save };
}

/** The same with the built CLI, as a child process. */
async function listenBin(args: string[] = []): Promise<Running<LiveCli>> {
  const save = tmp('events.ndjson');
  const cli = startBin(['listen', '--port', '0', '--json', '--save', save, ...args]);
  const line = await cli.waitForLine((l) => l.includes('"kind":"ready"'));
  const ready = JSON.parse(line) as Record<string, unknown>;
  return { cli, ready, url: String(ready.url), save };
}

const jsonLines = printedJson;
const captures = readCaptures;

describe('onepush listen --json', () => {
  test('answers each status code with a JSON reason, saves each request before answering, and prints the summary on SIGINT (the built CLI)', async () => {
    const { cli, ready, url, save } = await listenBin(['--secret', SECRET, '--max-body', '2kb']);
    assert.equal(cli.stdoutLines[0], JSON.stringify(ready), 'ready comes first');
    assert.match(url, /^http:\/\/localhost:\d+\/webhooks\/onepush$/);
    assert.equal(ready.verifying, true);
    assert.equal(ready.save, save);
    assert.equal(ready.forward_to, null);
    assert.equal(ready.max_body, 2048);
    const body = fixture('email.delivered', 'evt_ok_1');
    const ok = await signed(url, body);
    assert.deepEqual(ok, { status: 200, body: { received: true, id: 'evt_ok_1' } });
    const unsigned = await post(url, body);
    assert.equal(unsigned.status, 401);
    assert.equal(unsigned.body.reason, 'missing x-onepush-signature header');
    const wrong = await post(url, body, { 'x-onepush-signature': hmac(body, 'another secret') });
    assert.equal(wrong.status, 401);
    assert.equal(wrong.body.reason, 'signature does not match the body');
    const junk = await signed(url, 'not json');
    assert.equal(junk.status, 400);
    assert.match(String(junk.body.reason), /not valid JSON/);
    const array = await signed(url, '[]');
    assert.equal(array.status, 400);
    const get = await post(url, '', {}, 'GET');
    assert.equal(get.status, 405);
    assert.match(String(get.body.reason), /GET/);
    const big = await signed(url, JSON.stringify({ id: 'evt_big', pad: 'x'.repeat(5000) }));
    assert.equal(big.status, 413);
    assert.match(String(big.body.reason), /larger than the listener's limit \(2048 bytes\)/);
    const dup = await signed(url, body);
    assert.equal(dup.status, 200);

    const result = await cli.stop('SIGINT');
    assert.equal(result.code, 0, result.stderr);
    assert.equal(result.stderr, '');
    const lines = jsonLines(cli);
    assert.equal(lines[0]?.kind, 'ready');
    const events = lines.filter((l) => l.kind === 'event');
    assert.deepEqual(events.map((e) => e.status), [200, 401, 401, 400, 400, 405, 413, 200]);
    assert.deepEqual(events.map((e) => e.seq), [1, 2, 3, 4, 5, 6, 7, 8]);
    assert.deepEqual(events.map((e) => e.verified), [true, false, false, true, true, null, null, true]);
    assert.equal(events[0]?.type, 'email.delivered');
    assert.deepEqual(events[0]?.payload, JSON.parse(body));
    assert.equal(events[0]?.headers, undefined, 'headers only with --verbose');
    assert.equal(events[7]?.duplicate, true);
    assert.equal(events[7]?.first_seen_at, events[0]?.received_at);
    const summary = lines.at(-1);
    assert.equal(summary?.kind, 'summary');
    assert.deepEqual(
      { ...summary, duration_ms: 0 },
      { kind: 'summary', received: 8, accepted: 2, valid: 2, invalid: 2, unverified: 0, rejected: 4, duplicates: 1, forwarded: 0, forward_failed: 0, queued: 0, queued_ids: [], given_up_ids: [], save, callback_errors: 0, duration_ms: 0, not_shown: 0 },
    );

    const saved = captures(save);
    assert.deepEqual(saved.map((c) => c.status), [200, 401, 401, 400, 400, 405, 413, 200]);
    assert.equal(saved[0]?.body, body, 'the exact bytes received');
    assert.equal(saved[0]?.v, 1);
    assert.equal((saved[0]?.headers as Record<string, string>)['x-onepush-signature'], hmac(body));
    assert.equal(saved[1]?.reason, 'missing x-onepush-signature header');
    assert.equal(saved[6]?.body, null, 'a 413 is saved without its body');
    assert.equal(typeof saved[6]?.declared_size, 'number');
    assert.equal(statSync(save).mode & 0o777, 0o600);
  });

  test('junk never hurts it: random bytes, truncated JSON, huge headers, wrong content types, a slow body over the limit; then a valid event is still 200', async () => {
    const { cli, url, save } = await listen(['--secret', SECRET, '--max-body', '1kb']);
    const random = randomBytes(512);
    assert.equal((await post(url, random, { 'content-type': 'application/octet-stream' })).status, 400);
    const good = fixture('email.bounced');
    assert.equal((await signed(url, good.slice(0, 60))).status, 400);
    assert.equal((await post(url, good, { 'content-type': 'text/plain', 'x-onepush-signature': hmac(good) })).status, 200, 'content type is not the point: the signature is');
    assert.equal((await post(url, 'a=1&b=2', { 'content-type': 'application/x-www-form-urlencoded' })).status, 400);
    const huge = await fetch(url, { method: 'POST', body: good, headers: { 'x-padding': 'y'.repeat(64 * 1024) } });
    assert.equal(huge.status, 431);
    assert.match(String(((await huge.json()) as { reason: string }).reason), /headers too large/);
    // A chunked body with no content-length, over the limit: refused while streaming.
    const chunked = await new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' } }, (res) => {
        let text = '';
        res.setEncoding('utf8').on('data', (d: string) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.write('{"pad":"');
      req.write('z'.repeat(4096));
    });
    assert.equal(chunked.status, 413);
    assert.match(JSON.parse(chunked.body).reason, /larger than the listener's limit/);

    // Clients that vanish halfway through a body, by reset and by close: nothing to answer, nothing must break.
    const { port } = new URL(url);
    for (const how of ['reset', 'close'] as const) {
      const sock = connect(Number(port), '127.0.0.1');
      await once(sock, 'connect');
      sock.write(`POST /webhooks/onepush HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\ncontent-length: 900\r\n\r\n${good.slice(0, 100)}`);
      if (how === 'reset') sock.resetAndDestroy();
      else sock.end();
      await once(sock.resume(), 'close');
    }

    const last = fixture('email.opened', 'evt_after_junk');
    assert.deepEqual(await signed(url, last), { status: 200, body: { received: true, id: 'evt_after_junk' } });
    assert.equal(cli.ended(), false, 'still running');
    const result = await cli.stop('SIGTERM');
    assert.equal(result.code, 0);
    const saved = captures(save);
    assert.equal(saved[0]?.body_encoding, 'base64');
    assert.deepEqual(Buffer.from(String(saved[0]?.body), 'base64'), random, 'random bytes saved exactly, as base64');
    assert.equal(saved.at(-1)?.body, last);
    assert.equal(jsonLines(cli).at(-1)?.kind, 'summary');
  });

  test('a valid JSON body that is not compact verifies over its raw bytes, and is saved byte for byte', async () => {
    const { cli, url, save } = await listen(['--secret', SECRET]);
    const pretty = `${JSON.stringify(JSON.parse(fixture('email.clicked', 'evt_pretty')), null, 2)}\n`;
    assert.deepEqual(await signed(url, pretty), { status: 200, body: { received: true, id: 'evt_pretty' } });
    // Signed over a re-serialisation instead: refused.
    assert.equal((await post(url, pretty, { 'x-onepush-signature': hmac(JSON.stringify(JSON.parse(pretty))) })).status, 401);
    await cli.stop();
    assert.equal(captures(save)[0]?.body, pretty);
    const event = jsonLines(cli).find((l) => l.kind === 'event');
    assert.equal(event?.verified, true);
    assert.deepEqual(event?.payload, JSON.parse(pretty));
  });

  test('an event that got its 200 is in the capture log even after kill -9 (the built CLI)', async () => {
    const { cli, url, save } = await listenBin(['--secret', SECRET]);
    const body = fixture('email.sent', 'evt_survives');
    assert.equal((await signed(url, body)).status, 200);
    const result = await cli.stop('SIGKILL');
    assert.equal(result.signal, 'SIGKILL');
    assert.equal(captures(save).at(-1)?.body, body);
  });

  test('--events filters what is shown, not what is answered or saved; --verbose adds headers', async () => {
    const { cli, url, save } = await listen(['--events', 'email.b*,email.c*', '--verbose']);
    assert.equal((await post(url, fixture('email.delivered'))).status, 200);
    assert.equal((await post(url, fixture('email.bounced', 'evt_shown'))).status, 200);
    await cli.stop();
    const events = jsonLines(cli).filter((l) => l.kind === 'event');
    assert.deepEqual(events.map((e) => e.id), ['evt_shown']);
    assert.equal(events[0]?.verified, null);
    assert.equal((events[0]?.headers as Record<string, string>)['content-type'], 'application/json');
    assert.equal(captures(save).length, 2);
    assert.match(cli.stderr(), /warning: no secret: signatures are not checked/);
  });
});

describe('onepush listen: the output thread', () => {
  test('a reader that stops reading does not hold up answers; once it reads again every event line comes, in order (the built CLI)', async () => {
    const { cli, url, save } = await listenBin(['--secret', SECRET]);
    // Stop reading stdout: the pipe fills after ~100 lines (each ~1 KB) and the output thread waits on it.
    cli.child.stdout?.pause();
    const N = 600;
    const ids: string[] = [];
    for (let i = 0; i < N; i += 20) {
      const batch = Array.from({ length: 20 }, (_, j) => fixture('email.opened', `evt_slow_${i + j}`));
      ids.push(...batch.map((b) => JSON.parse(b).id as string));
      const replies = await Promise.all(batch.map((b) => signed(url, b)));
      assert.deepEqual(replies.map((r) => r.status), batch.map(() => 200));
    }
    assert.equal(captures(save).length, N, 'all saved while stdout was not read');
    assert.ok(cli.stdoutLines.length < N, `stdout was really held up (${cli.stdoutLines.length} lines read)`);
    cli.child.stdout?.resume();
    const result = await cli.stop();
    assert.equal(result.code, 0, result.stderr);
    const lines = jsonLines(cli);
    const events = lines.filter((l) => l.kind === 'event');
    assert.deepEqual(events.map((e) => e.seq), ids.map((_, i) => i + 1));
    // In arrival order: the order of the capture log (requests sent together may arrive in any order).
    assert.deepEqual(events.map((e) => e.id), captures(save).map((c) => JSON.parse(String(c.body)).id));
    assert.deepEqual(new Set(events.map((e) => e.id)), new Set(ids));
    assert.equal(lines.at(-1)?.kind, 'summary', 'the summary comes last, after every event');
    assert.equal(lines.at(-1)?.received, N);
  });

  test('schema issues are still found and shown when the check runs in the output thread', async () => {
    const { cli, url } = await listen(['--secret', SECRET]);
    const bad = JSON.parse(fixture('email.bounced', 'evt_schema'));
    bad.data.bounce.type = 'sideways';
    assert.equal((await signed(url, JSON.stringify(bad))).status, 200, 'a schema issue is answered 200');
    const line = JSON.parse(await cli.waitForLine((l) => l.includes('evt_schema')));
    assert.deepEqual(line.schema_issues.map((i: { path: string }) => i.path), ['data.bounce.type']);
    assert.match(line.reason, /^schema: data\.bounce\.type /);
    await cli.stop();
  });

  test('a reader that goes away (EPIPE): events are still answered and saved, and listen exits 0 (the built CLI)', { timeout: 30_000 }, async () => {
    const { cli, url, save } = await listenBin(['--secret', SECRET]);
    cli.child.stdout?.destroy();
    const exited = once(cli.child, 'exit');
    const replies = [];
    // Keep sending until the listener notices its stdout is gone (the first write after the reader left fails).
    for (let i = 0; cli.child.exitCode === null && i < 200; i++) {
      replies.push(await signed(url, fixture('email.sent', `evt_epipe_${i}`)).catch(() => null));
    }
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, cli.stderr());
    assert.doesNotMatch(cli.stderr(), NO_STACK);
    const answered = replies.filter((r) => r?.status === 200).length;
    assert.ok(answered >= 1);
    assert.ok(captures(save).length >= answered, 'every event that got its 200 is saved');
  });
});

describe('onepush listen --forward-to', () => {
  test('forwards the raw body, re-signed, to an express.json() app that verifies over JSON.stringify, and to a strict raw-body app', async () => {
    const docs = await startDocsReceiver(SECRET);
    const strict = await startStrictReceiver(SECRET);
    try {
      const bodies: string[] = [];
      for (const app of [docs, strict]) {
        const { cli, url } = await listen(['--secret', SECRET, '--forward-to', app.url]);
        const body = fixture('email.complained', `evt_fwd_${app.port}`);
        bodies.push(body);
        assert.equal((await signed(url, body)).status, 200);
        const [got] = await app.waitFor(1);
        assert.equal(got?.headers['x-onepush-signature'], hmac(body));
        const forward = JSON.parse(await cli.waitForLine((l) => l.includes('"kind":"forward"')));
        assert.equal(forward.outcome, 'delivered', JSON.stringify(forward));
        assert.equal(forward.status, 200);
        assert.equal(forward.id, `evt_fwd_${app.port}`);
        const result = await cli.stop();
        assert.equal(result.code, 0);
        const summary = jsonLines(cli).at(-1);
        assert.equal(summary?.forwarded, 1);
      }
      assert.equal(strict.received[0]?.body.toString(), bodies[1], 'the raw body unchanged');
      assert.deepEqual(docs.events, [JSON.parse(bodies[0] ?? '')]);
    } finally {
      await docs.close();
      await strict.close();
    }
  });

  test('without a secret the signature is passed through unchanged; a 4xx is reported and not retried', async () => {
    const app = await startRawServer((_r, res) => {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('Cannot POST /webhooks/onepush\nmore');
    });
    try {
      const { cli, url } = await listen(['--forward-to', app.url]);
      const body = fixture('email.sent');
      assert.equal((await post(url, body, { 'x-onepush-signature': 'abc123' })).status, 200);
      const forward = JSON.parse(await cli.waitForLine((l) => l.includes('"kind":"forward"')));
      assert.equal(app.received[0]?.headers['x-onepush-signature'], 'abc123');
      assert.equal(app.received[0]?.body.toString(), body);
      assert.equal(forward.outcome, 'rejected');
      assert.equal(forward.status, 404);
      assert.equal(forward.message, 'Cannot POST /webhooks/onepush');
      await cli.stop();
      assert.equal(app.received.length, 1);
      assert.equal(jsonLines(cli).at(-1)?.forward_failed, 1);
    } finally {
      await app.close();
    }
  });

  test('Ctrl-C with events still queued for a down app says how many and how to replay them, exit 0', async () => {
    const down = await startRawServer();
    const downUrl = down.url;
    await down.close();
    const save = tmp('queued.ndjson');
    const cli = startCli(['listen', '--port', '0', '--save', save, '--forward-to', downUrl]);
    await cli.waitForStderr(/Ready/);
    const banner = cli.stderr();
    const url = /Webhook URL\s+(\S+)/.exec(banner)?.[1] ?? '';
    assert.match(banner, /Forwarding\s+http:\/\/127\.0\.0\.1:\d+\/webhooks\/onepush/);
    assert.match(banner, /Signatures\s+not checked/);
    assert.doesNotMatch(banner, /warning: no secret/, 'said once: the banner says it');
    assert.equal((await post(url, fixture('email.sent', 'evt_q1'))).status, 200);
    assert.equal((await post(url, fixture('email.sent', 'evt_q2'))).status, 200);
    await cli.waitForLine((l) => l.includes('evt_q1') && l.includes('ECONNREFUSED'));
    const result = await cli.stop('SIGINT');
    assert.equal(result.code, 0);
    assert.match(result.stdout, /2 events still queued, saved in /);
    assert.match(result.stdout, /onepush replay \S+ --id evt_q1 --id evt_q2 --to http/);
    assert.match(result.stdout, /evt_q1 +jane@example.com +- 200/);
    assert.doesNotMatch(result.stderr + result.stdout, NO_STACK);
  });
});

describe('onepush listen: could not run', () => {
  test('port in use: one line, exit 2', async () => {
    const taken = await startRawServer();
    try {
      const save = tmp('never.ndjson');
      const r = await runCli(['listen', '--port', String(taken.port), '--save', save]);
      assert.equal(r.code, 2);
      assert.match(r.stderr, new RegExp(`^onepush: port ${taken.port} is already in use on 127\\.0\\.0\\.1\\nhint: .*--port 0`, 'm'));
      assert.doesNotMatch(r.stderr, NO_STACK);
      assert.equal(r.stdout, '');
      assert.equal(existsSync(save), false, 'no empty capture log left behind');
    } finally {
      await taken.close();
    }
  });

  test('bad flags and environment: exit 2 with a clear line', async () => {
    const size = await runCli(['listen', '--max-body', 'huge', '--no-save']);
    assert.equal(size.code, 2);
    assert.match(size.stderr, /^onepush: --max-body must be a size/);
    const env = await runCli(['listen', '--no-save'], { env: { ONEPUSH_PORT: 'abc' } });
    assert.equal(env.code, 2);
    assert.match(env.stderr, /^onepush: ONEPUSH_PORT must be a port number from 0 to 65535 \(got "abc"\)$/m);
    const folder = await runCli(['listen', '--port', '0', '--save', dir]);
    assert.equal(folder.code, 2);
    assert.match(folder.stderr, /^onepush: cannot open the capture log .*: it is a directory\nhint: .*--no-save/);
    const target = await runCli(['listen', '--no-save', '--forward-to', 'ftp://x']);
    assert.equal(target.code, 2);
    assert.match(target.stderr, /unsupported protocol ftp/);
  });

  test('ONEPUSH_PORT is used, and a host that is not loopback is warned about', async () => {
    const free = await startRawServer();
    const port = free.port;
    await free.close();
    const cli = startCli(['listen', '--json', '--no-save', '--host', '0.0.0.0', '--secret', SECRET], { env: { ONEPUSH_PORT: String(port) } });
    const ready = JSON.parse(await cli.waitForLine((l) => l.includes('"kind":"ready"')));
    assert.equal(ready.port, port);
    assert.equal(ready.save, null);
    const r = await cli.stop();
    assert.equal(r.code, 0);
    assert.match(r.stderr, /warning: listening on 0\.0\.0\.0/);
    assert.doesNotMatch(r.stderr, /whsec_listen/, 'the secret is never printed');
  });
});
