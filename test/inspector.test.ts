import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request, type IncomingHttpHeaders, type ClientRequest } from 'node:http';
import { hostname, tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CSP } from '../src/adapters/inspector-http.js';
import { acceptedIdOf } from '../src/app/inspect.js';
import { encodeCapture } from '../src/core/capture.js';
import type { ActionResult, InspectDetail, InspectInfo, InspectRow, LiveBatch, ForwardUpdate, RecordPage } from '../src/core/inspect-model.js';
import { ROOT, runBin, runCli, startBin, startCli, type InProcessCli } from './helpers/cli.js';
import { writeBigCaptureLog } from './helpers/captures.js';
import { startRawServer, until, type Received } from './helpers/servers.js';
import { onPath } from './helpers/tools.js';

// The inspector (README: The inspector), end to end without a browser: its API on a real listener (in-process
// through src/cli.ts's `run`) and on `onepush inspect` (the built CLI), with real loopback apps on port 0. Every
// answer the inspector gives is searched for the secret, which must never leave the process.

const SECRET = 'whsec_inspector_e2e_S3CRET_value';
const OTHER = 'whsec_some_other_secret';
const hmac = (body: string | Buffer, secret = SECRET): string => createHmac('sha256', secret).update(body).digest('hex');
const NO_STACK = /\n\s+at /;

/** Runs a shell command without blocking this process (the app that answers it runs here). */
function bash(command: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', command], { encoding: 'utf8' }, (e, stdout, stderr) => resolve({ code: e === null ? 0 : typeof e.code === 'number' ? e.code : 1, stdout, stderr }));
  });
}

const dir = mkdtempSync(join(tmpdir(), 'onepush-inspector-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let seq = 0;
const tmp = (name: string): string => join(dir, `${++seq}-${name}`);

// The page's bundle may not be built in this checkout yet: GET / then answers "not built" without the token. Two
// placeholder files make it serve the page (removed afterwards; never committed: dist/ is ignored).
const assetsDir = join(ROOT, 'dist', 'inspector');
const placeholders: string[] = [];
for (const name of ['app.js', 'app.css']) {
  const file = join(assetsDir, name);
  if (!existsSync(file)) {
    mkdirSync(assetsDir, { recursive: true });
    writeFileSync(file, name.endsWith('.js') ? '/* placeholder: the page bundle is not built */\n' : '/* placeholder */\n');
    placeholders.push(file);
  }
}
after(() => {
  for (const f of placeholders) rmSync(f, { force: true });
});

// ---------------------------------------------------------------------------------------------------------------
// HTTP

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
}

/** Every body any server of this file answered with (searched for the secret). */
let answered = 0;

/** A request to 127.0.0.1:`port` with any headers (Host included: `localhost:PORT` unless given). */
function call(port: number, path: string, o: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: o.method ?? 'GET', headers: { host: `localhost:${port}`, ...o.headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        answered++;
        assert.ok(!text.includes(SECRET), `the secret leaked in the answer to ${o.method ?? 'GET'} ${path}: ${text.slice(0, 300)}`);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
      });
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** The inspector of one server, seen as its page sees it: the token from GET /, its own Origin. */
class Site {
  constructor(
    readonly port: number,
    readonly token: string,
  ) {}
  get origin(): string {
    return `http://localhost:${this.port}`;
  }
  async get<T>(path: string): Promise<T> {
    const a = await call(this.port, path, { headers: { 'x-onepush-token': this.token } });
    assert.equal(a.status, 200, `GET ${path}: ${a.text}`);
    return JSON.parse(a.text) as T;
  }
  records(query = ''): Promise<RecordPage> {
    return this.get<RecordPage>(`/_onepush/api/records${query === '' ? '' : `?${query}`}`);
  }
  detail(n: number): Promise<InspectDetail> {
    return this.get<InspectDetail>(`/_onepush/api/records/${n}`);
  }
  info(): Promise<InspectInfo> {
    return this.get<InspectInfo>('/_onepush/api/info');
  }
  post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    return call(this.port, path, {
      method: 'POST',
      headers: { 'x-onepush-token': this.token, origin: this.origin, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  }
  async action<T = ActionResult>(path: string, body: unknown): Promise<T> {
    const a = await this.post(path, body);
    assert.equal(a.status, 200, `POST ${path}: ${a.text}`);
    return JSON.parse(a.text) as T;
  }
}

const TOKEN = /<meta name="onepush-token" content="([0-9a-f]{48})">/;

async function siteAt(port: number): Promise<Site> {
  const page = await call(port, '/');
  assert.equal(page.status, 200, page.text);
  const m = TOKEN.exec(page.text);
  assert.ok(m, `no token in the page: ${page.text}`);
  return new Site(port, m[1] as string);
}

/** The page's live stream (Server-Sent Events), read as text. */
function openStream(site: Site) {
  const events: Array<{ event: string; data: unknown }> = [];
  const waiters = new Set<() => void>();
  let text = '';
  let req: ClientRequest | undefined;
  const opened = new Promise<Answer>((resolve, reject) => {
    req = request({ host: '127.0.0.1', port: site.port, path: `/_onepush/api/stream?token=${site.token}`, headers: { host: `localhost:${site.port}` }, agent: false }, (res) => {
      res.setEncoding('utf8');
      let buf = '';
      res.on('data', (d: string) => {
        text += d;
        buf += d;
        let i: number;
        while ((i = buf.indexOf('\n\n')) !== -1) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          let event = '';
          let data = '';
          for (const line of block.split('\n')) {
            if (line.startsWith('event: ')) event = line.slice(7);
            else if (line.startsWith('data: ')) data += line.slice(6);
          }
          if (event !== '') events.push({ event, data: JSON.parse(data) as unknown });
        }
        // The first comment is written once the page is subscribed.
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text });
        for (const w of [...waiters]) w();
      });
      res.on('error', () => {});
    });
    req.on('error', reject);
    req.end();
  });
  return {
    opened,
    events,
    text: () => text,
    /** Resolves with the first event (so far or to come) that `match` picks. */
    next<T>(match: (event: string, data: unknown) => T | undefined): Promise<T> {
      return new Promise((resolve) => {
        const check = (): boolean => {
          for (const e of events) {
            const v = match(e.event, e.data);
            if (v !== undefined) {
              waiters.delete(check);
              resolve(v);
              return true;
            }
          }
          return false;
        };
        if (!check()) waiters.add(check);
      });
    },
    close(): void {
      req?.destroy();
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// The CLI

interface Running {
  cli: InProcessCli;
  ready: Record<string, unknown>;
  port: number;
  url: string;
  save: string;
  site: Site;
}

/** `onepush listen --port 0 --json --save <new file> …` in-process, once ready, with its inspector's token. */
async function listen(args: string[] = [], env: Record<string, string> = {}): Promise<Running> {
  const save = tmp('events.ndjson');
  const cli = startCli(['listen', '--port', '0', '--json', ...(args.includes('--no-save') ? [] : ['--save', save]), ...args], { env });
  const ready = JSON.parse(await cli.waitForLine((l) => l.includes('"kind":"ready"'))) as Record<string, unknown>;
  const port = Number(ready.port);
  assert.equal(ready.inspector, `http://localhost:${port}/`);
  return { cli, ready, port, url: String(ready.url), save, site: await siteAt(port) };
}

/** `onepush trigger TYPE --to URL --secret … --set …` in-process; resolves once the listener answered. */
async function trigger(url: string, type: string, sets: string[], secret = SECRET): Promise<void> {
  const r = await runCli(['trigger', type, '--to', url, '--secret', secret, ...sets.flatMap((s) => ['--set', s])]);
  if (secret === SECRET) assert.equal(r.code, 0, r.stderr);
}

async function postWebhook(url: string, body: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  await res.arrayBuffer();
  return res.status;
}

const idOf = (r: Received): string => String((JSON.parse(r.body.toString('utf8')) as Record<string, unknown>).id);
const byId = (rows: InspectRow[], id: string): InspectRow => {
  const row = rows.find((r) => r.id === id);
  assert.ok(row, `no row ${id} in ${rows.map((r) => r.id).join(', ')}`);
  return row;
};

// ---------------------------------------------------------------------------------------------------------------

describe('the inspector on a listener: security', () => {
  test('the page has its headers; foreign Host, no or a wrong token, a foreign or missing Origin, cross-site and non-JSON actions are refused; the secret never leaves', async () => {
    const { cli, port, url, site } = await listen(['--secret', SECRET]);
    try {
      const page = await call(port, '/');
      assert.equal(page.status, 200);
      assert.match(String(page.headers['content-type']), /^text\/html/);
      assert.equal(page.headers['content-security-policy'], CSP);
      assert.equal(page.headers['x-frame-options'], 'DENY');
      assert.equal(page.headers['x-content-type-options'], 'nosniff');
      assert.doesNotMatch(page.text, /<script>|<script [^>]*>[^<]/, 'no inline script');
      // 127.0.0.1 is one of its own names too.
      assert.equal((await call(port, '/', { headers: { host: `127.0.0.1:${port}` } })).status, 200);

      // DNS rebinding: the right address, a foreign name.
      const evil = { host: `evil.example:${port}` };
      assert.equal((await call(port, '/', { headers: evil })).status, 403);
      assert.equal((await call(port, '/_onepush/api/info', { headers: { ...evil, 'x-onepush-token': site.token } })).status, 403);
      assert.equal((await call(port, '/_onepush/api/records', { headers: { ...evil, 'x-onepush-token': site.token } })).status, 403);
      assert.equal((await call(port, '/', { headers: { host: `localhost:${port + 1}` } })).status, 403, 'another port is another origin');

      // The token.
      const none = await call(port, '/_onepush/api/info');
      assert.equal(none.status, 403);
      assert.match(none.text, /token/);
      assert.equal((await call(port, '/_onepush/api/info', { headers: { 'x-onepush-token': 'f'.repeat(48) } })).status, 403);
      assert.equal((await call(port, '/_onepush/api/info', { headers: { 'x-onepush-token': site.token.slice(0, 47) } })).status, 403);
      assert.equal((await call(port, `/_onepush/api/info?token=${'0'.repeat(48)}`)).status, 403);
      assert.equal((await call(port, `/_onepush/api/info?token=${site.token}`)).status, 200, 'the token in the query (EventSource, downloads)');
      assert.equal((await call(port, '/_onepush/api/records', { headers: { 'x-onepush-token': 'nope' } })).status, 403);
      assert.equal((await call(port, '/_onepush/api/stream')).status, 403, 'the stream needs the token too');
      assert.equal((await call(port, `/_onepush/api/records/0/body?token=${'a'.repeat(48)}`)).status, 403);

      // Actions: the page's own Origin, JSON, nothing cross-site.
      const replay = { records: [0], url: 'http://127.0.0.1:9/' };
      const bare = await call(port, '/_onepush/api/replay', { method: 'POST', headers: { 'x-onepush-token': site.token, 'content-type': 'application/json' }, body: JSON.stringify(replay) });
      assert.equal(bare.status, 403, 'a POST without an Origin');
      assert.equal((await site.post('/_onepush/api/replay', replay, { origin: 'http://evil.example' })).status, 403);
      assert.equal((await site.post('/_onepush/api/replay', replay, { origin: `http://evil.example:${port}` })).status, 403);
      assert.equal((await site.post('/_onepush/api/replay', replay, { origin: `https://localhost:${port}` })).status, 403, 'another scheme is another origin');
      assert.equal((await site.post('/_onepush/api/replay', replay, { origin: 'null' })).status, 403);
      assert.equal((await site.post('/_onepush/api/send', { body: '{}' }, { 'sec-fetch-site': 'cross-site' })).status, 403);
      assert.equal((await call(port, '/_onepush/api/info', { headers: { 'x-onepush-token': site.token, 'sec-fetch-site': 'cross-site' } })).status, 403);
      assert.equal((await call(port, '/_onepush/api/info', { headers: { 'x-onepush-token': site.token, 'sec-fetch-site': 'same-site' } })).status, 403);
      assert.equal((await call(port, '/_onepush/api/info', { headers: { 'x-onepush-token': site.token, 'sec-fetch-site': 'same-origin' } })).status, 200);
      const form = await call(port, '/_onepush/api/send', {
        method: 'POST',
        headers: { 'x-onepush-token': site.token, origin: site.origin, 'content-type': 'text/plain' },
        body: JSON.stringify({ body: '{}', url: 'http://127.0.0.1:9/' }),
      });
      assert.equal(form.status, 415);
      const noType = await call(port, '/_onepush/api/curl', { method: 'POST', headers: { 'x-onepush-token': site.token, origin: site.origin }, body: '{"body":"{}","url":"3000"}' });
      assert.equal(noType.status, 415);

      // The webhook is as before: a browser cannot post to it; a signed event is accepted.
      assert.equal(await postWebhook(url, '{"id":"evt_browser","type":"email.sent","data":{}}', { origin: 'http://evil.example', 'x-onepush-signature': hmac('{"id":"evt_browser","type":"email.sent","data":{}}') }), 403);
      await trigger(url, 'email.bounced', ['id=evt_sec_1']);
      await trigger(url, 'email.sent', ['id=evt_sec_2'], OTHER);

      // The secret, in none of the answers (call() checks every one): info, records, details, curl both ways.
      const info = await site.info();
      assert.equal(info.mode, 'listen');
      assert.equal(info.verifying, true);
      assert.equal(info.url, url);
      const { rows } = await site.records();
      // The inspector's own requests (allowed or refused) are not webhooks: only the three posts are rows.
      assert.deepEqual(rows.map((r) => [r.id, r.status, r.path]), [
        ['evt_sec_2', 401, '/webhooks/onepush'],
        ['evt_sec_1', 200, '/webhooks/onepush'],
        ['evt_browser', 403, '/webhooks/onepush'],
      ]);
      for (const r of rows) {
        const d = await site.detail(r.n);
        assert.ok(!JSON.stringify(d).includes(SECRET));
        await call(port, `/_onepush/api/records/${r.n}/body`, { headers: { 'x-onepush-token': site.token } });
      }
      const bounced = byId(rows, 'evt_sec_1');
      for (const signing of ['original', 'sign', 'wrong', 'unsigned'] as const) {
        const { command } = await site.action<{ command: string }>('/_onepush/api/curl', { record: bounced.n, url: 'http://127.0.0.1:9/hook', signing });
        assert.match(command, /^curl /);
        assert.ok(!command.includes(SECRET));
      }
      const edited = await site.action<{ command: string }>('/_onepush/api/curl', { body: '{"id":"evt_x","type":"email.sent"}', url: '3000', signing: 'sign' });
      assert.ok(edited.command.includes(hmac('{"id":"evt_x","type":"email.sent"}')));
      assert.ok(answered > 20);
    } finally {
      await cli.stop();
    }
  });

  test('with --no-ui, GET / is the webhook\'s 405 as before and the API is not served', async () => {
    const save = tmp('noui.ndjson');
    const cli = startCli(['listen', '--port', '0', '--json', '--save', save, '--no-ui', '--secret', SECRET]);
    try {
      const ready = JSON.parse(await cli.waitForLine((l) => l.includes('"kind":"ready"'))) as Record<string, unknown>;
      assert.equal(ready.inspector, null);
      const port = Number(ready.port);
      const root = await call(port, '/');
      assert.equal(root.status, 405, root.text);
      assert.doesNotMatch(root.text, /onepush-token/);
      const api = await call(port, '/_onepush/api/info');
      assert.notEqual(api.status, 200);
      assert.doesNotMatch(api.text, /"mode"/);
      await trigger(String(ready.url), 'email.sent', ['id=evt_noui']);
    } finally {
      await cli.stop();
    }
  });
});

describe('the inspector\'s address', () => {
  test('the banner of listen names the inspector, and that address serves the page', async () => {
    const cli = startCli(['listen', '--port', '0', '--save', tmp('banner.ndjson'), '--secret', SECRET]);
    try {
      const [, address] = await cli.waitForStderr(/Inspector\s+(http:\/\/localhost:\d+\/)/);
      const port = Number(new URL(address as string).port);
      const site = await siteAt(port);
      assert.equal((await site.info()).mode, 'listen');
    } finally {
      await cli.stop();
    }
  });

  test('inspect --host 0.0.0.0: loopback names and the machine\'s own name are its hosts, a foreign one is not', async () => {
    const log = tmp('any.ndjson');
    writeFileSync(log, '');
    const cli = startCli(['inspect', log, '--port', '0', '--host', '0.0.0.0']);
    try {
      const url = await cli.waitForLine((l) => l.startsWith('http://'));
      const port = Number(new URL(url).port);
      await cli.waitForStderr(/anyone who can reach this address/);
      for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `${hostname().toLowerCase()}:${port}`]) {
        assert.equal((await call(port, '/', { headers: { host } })).status, 200, host);
      }
      assert.equal((await call(port, '/', { headers: { host: `evil.example:${port}` } })).status, 403);
      // No Host at all (HTTP/1.0): not one of its names.
      const socket = connect(port, '127.0.0.1');
      socket.end('GET / HTTP/1.0\r\n\r\n');
      let raw = '';
      socket.setEncoding('utf8').on('data', (d: string) => (raw += d));
      await once(socket, 'close');
      assert.match(raw, /^HTTP\/1\.[01] 403 /, raw.slice(0, 200));
    } finally {
      await cli.stop();
    }
  });
});

describe('the inspector on a listener: rows and detail', () => {
  test('rows newest first, the 401 explained, a re-serialised body named, filters, an email\'s lifecycle', async () => {
    const { cli, url, site } = await listen(['--secret', SECRET]);
    try {
      const life = 'em_life_0001';
      await trigger(url, 'email.sent', ['id=evt_r1', `data.email_id=${life}`, 'data.to=["one@example.com"]']);
      await trigger(url, 'email.delivered', ['id=evt_r2', `data.email_id=${life}`, 'data.to=["one@example.com"]']);
      await trigger(url, 'email.bounced', ['id=evt_r3', `data.email_id=${life}`, 'data.to=["one@example.com"]']);
      await trigger(url, 'email.complained', ['id=evt_r4', 'data.email_id=em_other_0002', 'data.to="two@example.com"'], OTHER);
      // Re-serialised with spaces, signed over the compact form (a sender that signs JSON.stringify of its object).
      const event = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'email.opened.json'), 'utf8')) as Record<string, unknown>;
      event.id = 'evt_r5';
      (event.data as Record<string, unknown>).email_id = 'em_pretty_0003';
      assert.equal(await postWebhook(url, JSON.stringify(event, null, 2), { 'x-onepush-signature': hmac(JSON.stringify(event)) }), 401);

      const page = await site.records();
      assert.equal(page.total, 5);
      assert.equal(page.next, null);
      assert.deepEqual(page.rows.map((r) => r.id), ['evt_r5', 'evt_r4', 'evt_r3', 'evt_r2', 'evt_r1']);
      assert.deepEqual(
        page.rows.map((r) => [r.type, r.kind, r.recipient, r.email_id, r.status, r.verified]),
        [
          ['email.opened', 'engagement', 'jane@example.com', 'em_pretty_0003', 401, false],
          ['email.complained', 'problem', 'two@example.com', 'em_other_0002', 401, false],
          ['email.bounced', 'problem', 'one@example.com', life, 200, true],
          ['email.delivered', 'delivery', 'one@example.com', life, 200, true],
          ['email.sent', 'delivery', 'one@example.com', life, 200, true],
        ],
      );
      // Numbers are stable keys, newest highest; listen's own sequence numbers are there for this run's events.
      assert.ok(page.rows.every((r, i) => i === 0 || r.n < (page.rows[i - 1] as InspectRow).n));
      assert.ok(page.rows.every((r) => r.method === 'POST' && r.path === '/webhooks/onepush' && r.size > 0 && r.duplicate === false));

      const wrong = await site.detail(byId(page.rows, 'evt_r4').n);
      assert.equal(wrong.verification.checked, true);
      assert.equal(wrong.verification.valid, false);
      assert.notEqual(wrong.verification.code, 'valid');
      assert.match(wrong.verification.message, /\w+ \w+ \w+/, 'a message in words');
      assert.ok(wrong.headers.some(([k, v]) => k === 'x-onepush-signature' && /^[0-9a-f]{64}$/.test(v)));
      assert.equal(wrong.body.encoding, 'utf8');
      assert.equal(JSON.parse(wrong.body.text ?? '').id, 'evt_r4');
      assert.equal(wrong.body.pretty, JSON.stringify(JSON.parse(wrong.body.text ?? ''), null, 2));

      const pretty = await site.detail(byId(page.rows, 'evt_r5').n);
      assert.equal(pretty.verification.valid, false);
      assert.equal(pretty.verification.code, 're-serialised');
      assert.match(pretty.verification.message, /re-serialised/);

      const good = await site.detail(byId(page.rows, 'evt_r2').n);
      assert.equal(good.verification.valid, true);
      assert.equal(good.verification.code, 'valid');
      assert.deepEqual(good.schema_issues, []);
      // The lifecycle: the other events of the same email, oldest first, this one included.
      assert.deepEqual(good.lifecycle.map((l) => [l.id, l.type, l.kind, l.status]), [
        ['evt_r1', 'email.sent', 'delivery', 200],
        ['evt_r2', 'email.delivered', 'delivery', 200],
        ['evt_r3', 'email.bounced', 'problem', 200],
      ]);
      assert.deepEqual(good.lifecycle.map((l) => l.n), [byId(page.rows, 'evt_r1').n, byId(page.rows, 'evt_r2').n, byId(page.rows, 'evt_r3').n]);
      assert.deepEqual((await site.detail(byId(page.rows, 'evt_r4').n)).lifecycle.map((l) => l.id), ['evt_r4']);

      const ids = async (q: string): Promise<Array<string | null>> => (await site.records(q)).rows.map((r) => r.id);
      assert.deepEqual(await ids('type=email.b*'), ['evt_r3']);
      assert.deepEqual(await ids('type=email.sent,email.opened'), ['evt_r5', 'evt_r1']);
      assert.deepEqual(await ids('status=4xx'), ['evt_r5', 'evt_r4']);
      assert.deepEqual(await ids('status=200'), ['evt_r3', 'evt_r2', 'evt_r1']);
      assert.deepEqual(await ids('verified=invalid'), ['evt_r5', 'evt_r4']);
      assert.deepEqual(await ids('verified=valid'), ['evt_r3', 'evt_r2', 'evt_r1']);
      assert.deepEqual(await ids('verified=unverified'), []);
      assert.deepEqual(await ids(`q=${life}`), ['evt_r3', 'evt_r2', 'evt_r1']);
      assert.deepEqual(await ids('q=EM_LIFE'), ['evt_r3', 'evt_r2', 'evt_r1'], 'case-insensitive');
      assert.deepEqual(await ids('q=two@example'), ['evt_r4']);
      assert.deepEqual(await ids('q=evt_r2'), ['evt_r2']);
      assert.deepEqual(await ids(`type=email.*&status=2xx&q=${life}`), ['evt_r3', 'evt_r2', 'evt_r1']);
      assert.deepEqual(await ids('status=5xx'), []);
      // A page that ends on the oldest record says there is nothing older.
      const exact = await site.records('limit=5');
      assert.equal(exact.rows.length, 5);
      assert.equal(exact.next, null);
      const exactFiltered = await site.records('limit=2&status=4xx');
      assert.deepEqual(exactFiltered.rows.map((r) => r.id), ['evt_r5', 'evt_r4']);
      assert.notEqual(exactFiltered.next, null, 'older records not yet looked at: the filter goes on');
      // Paging: two at a time, newest first, `next` goes on to the older ones.
      const first = await site.records('limit=2');
      assert.deepEqual(first.rows.map((r) => r.id), ['evt_r5', 'evt_r4']);
      assert.notEqual(first.next, null);
      const second = await site.records(`limit=2&before=${first.next}`);
      assert.deepEqual(second.rows.map((r) => r.id), ['evt_r3', 'evt_r2']);
      const third = await site.records(`limit=2&before=${second.next}`);
      assert.deepEqual(third.rows.map((r) => r.id), ['evt_r1']);
      assert.equal(third.next, null);

      // The body's exact bytes, as a download.
      const body = await call(site.port, `/_onepush/api/records/${byId(page.rows, 'evt_r5').n}/body`, { headers: { 'x-onepush-token': site.token } });
      assert.equal(body.status, 200);
      assert.equal(body.text, JSON.stringify(event, null, 2));
      assert.match(String(body.headers['content-disposition']), /attachment; filename="evt_r5\.json"/);
      // Unknown records are 404s.
      assert.equal((await call(site.port, '/_onepush/api/records/123456789', { headers: { 'x-onepush-token': site.token } })).status, 404);
    } finally {
      await cli.stop();
    }
  });
});

describe('the inspector on a listener: redeliveries', () => {
  for (const save of [true, false]) {
    test(`a redelivery (same id and bytes) is marked duplicate, the first one not${save ? '' : ' (--no-save)'}`, async () => {
      const { cli, url, site } = await listen(['--secret', SECRET, ...(save ? [] : ['--no-save'])]);
      try {
        const r = await runCli(['trigger', 'email.opened', '--duplicate', '--to', url, '--secret', SECRET, '--set', 'id=evt_dup_1']);
        assert.equal(r.code, 0, r.stderr);
        const { rows } = await site.records();
        assert.deepEqual(rows.map((x) => [x.id, x.duplicate]), [
          ['evt_dup_1', true],
          ['evt_dup_1', false],
        ]);
      } finally {
        await cli.stop();
      }
    });
  }
});

describe('the inspector on a listener: live', () => {
  test('a new event reaches an open stream; a forwarded one\'s retries reach it as `forwards`, and the detail has every attempt', async () => {
    let calls = 0;
    const app = await startRawServer((_r, res) => {
      calls++;
      if (calls === 1) res.writeHead(500, { 'content-type': 'text/plain' }).end('first time: boom');
      else res.writeHead(200, { 'content-type': 'application/json' }).end('{"handled":"second time"}');
    });
    const { cli, url, site } = await listen(['--secret', SECRET, '--forward-to', app.url]);
    const stream = openStream(site);
    try {
      const opened = await stream.opened;
      assert.equal(opened.status, 200);
      assert.match(String(opened.headers['content-type']), /^text\/event-stream/);
      assert.equal(opened.headers['content-security-policy'], CSP);

      await trigger(url, 'email.delivered', ['id=evt_live_1']);
      const row = await stream.next((event, data) => (event === 'rows' ? (data as LiveBatch).rows.find((r) => r.id === 'evt_live_1') : undefined));
      assert.equal(row.type, 'email.delivered');
      assert.equal(row.status, 200);
      assert.equal(row.verified, true);
      assert.equal(typeof row.seq, 'number');

      // The app fails once, then takes it: the stream is told, and the detail has both attempts.
      const delivered = await stream.next((event, data) => {
        if (event !== 'forwards') return undefined;
        return (data as ForwardUpdate[]).find((u) => u.n === row.n && u.forwards.some((f) => f.outcome === 'delivered'));
      });
      assert.equal(delivered.forwards.length, 1);
      assert.deepEqual({ ...delivered.forwards[0] }, { url: app.url, outcome: 'delivered', status: 200, attempts: 2 });
      assert.ok(stream.events.some((e) => e.event === 'forwards' && (e.data as ForwardUpdate[]).some((u) => u.n === row.n && u.forwards[0]?.outcome === 'retrying')));
      const detail = await site.detail(row.n);
      assert.deepEqual(
        detail.attempts.map((a) => [a.attempt, a.outcome, a.status, a.response]),
        [
          [1, 'retrying', 500, 'first time: boom'],
          [2, 'delivered', 200, '{"handled":"second time"}'],
        ],
      );
      for (const a of detail.attempts) {
        assert.equal(a.url, app.url);
        assert.ok(Number.isFinite(a.latency_ms) && a.latency_ms >= 0);
        assert.ok(!Number.isNaN(Date.parse(a.at)));
      }
      assert.equal(detail.row.forwards[0]?.outcome, 'delivered');
      const page = await site.records();
      assert.equal(byId(page.rows, 'evt_live_1').forwards[0]?.status, 200);
      // The list filters by endpoint too.
      assert.deepEqual((await site.records(`endpoint=${encodeURIComponent(app.url)}`)).rows.map((r) => r.id), ['evt_live_1']);
      const info = await site.info();
      assert.deepEqual(info.endpoints, [app.url]);
      assert.ok(!stream.text().includes(SECRET));
    } finally {
      stream.close();
      await cli.stop();
      await app.close();
    }
  });

  test('--no-save: events still show in the inspector, kept in memory', async () => {
    const { cli, url, site, save } = await listen(['--no-save', '--secret', SECRET]);
    const stream = openStream(site);
    try {
      await stream.opened;
      await trigger(url, 'email.clicked', ['id=evt_mem_1']);
      await stream.next((event, data) => (event === 'rows' ? (data as LiveBatch).rows.find((r) => r.id === 'evt_mem_1') : undefined));
      await trigger(url, 'email.opened', ['id=evt_mem_2'], OTHER);
      const info = await site.info();
      assert.deepEqual(info.sources, []);
      assert.equal(typeof info.memory_limit, 'number');
      assert.equal(existsSync(save), false);
      const page = await site.records();
      assert.deepEqual(page.rows.map((r) => [r.id, r.status, r.source]), [
        ['evt_mem_2', 401, null],
        ['evt_mem_1', 200, null],
      ]);
      const d = await site.detail(byId(page.rows, 'evt_mem_2').n);
      assert.equal(d.verification.valid, false);
      assert.equal(JSON.parse(d.body.text ?? '').id, 'evt_mem_2');
    } finally {
      stream.close();
      await cli.stop();
    }
  });
});

describe('the inspector on a listener: memory and replays to itself', () => {
  test('--no-save keeps the newest 1000 requests; a replay to the listener itself is a new row, marked duplicate', async () => {
    const { cli, url, site } = await listen(['--no-save', '--secret', SECRET]);
    try {
      const r = await runCli(['trigger', 'email.sent', '-n', '1001', '-c', '8', '--to', url, '--secret', SECRET]);
      assert.equal(r.code, 0, r.stderr);
      const info = await site.info();
      assert.equal(info.memory_limit, 1000);
      const first = await site.records('limit=500');
      assert.equal(first.total, 1000);
      assert.equal(first.rows.length, 500);
      const second = await site.records(`limit=500&before=${first.next}`);
      assert.equal(second.rows.length, 500);
      assert.equal(second.next, null);
      const kept = [...first.rows, ...second.rows];
      assert.equal(new Set(kept.map((x) => x.n)).size, 1000);
      assert.ok(kept.every((x, i) => i === 0 || x.n < (kept[i - 1] as InspectRow).n));
      // Replayed (re-signed) to its own webhook: accepted, verified, a redelivery of an id it has seen.
      const newest = first.rows[0] as InspectRow;
      const sent = await site.action('/_onepush/api/replay', { records: [newest.n], url });
      assert.equal(sent.sent[0]?.status, 200, sent.sent[0]?.response);
      const after = await site.records('limit=1');
      assert.equal(after.total, 1000);
      assert.deepEqual(after.rows.map((x) => [x.id, x.verified, x.duplicate]), [[newest.id, true, true]]);
    } finally {
      await cli.stop();
    }
  });
});

describe('the inspector on a listener: actions', () => {
  test('replay (re-signed, original, by filter), edit and send (sign, unsigned, wrong), curl; no URL and no target is a 400', async () => {
    const app = await startRawServer();
    const { cli, url, site } = await listen(['--secret', SECRET]);
    try {
      await trigger(url, 'email.bounced', ['id=evt_a1']);
      await trigger(url, 'email.sent', ['id=evt_a2']);
      await trigger(url, 'email.bounced', ['id=evt_a3', 'data.to=["b3@example.com"]']);
      await trigger(url, 'email.opened', ['id=evt_a4'], OTHER);
      const { rows } = await site.records();
      const a1 = byId(rows, 'evt_a1');
      const a4 = byId(rows, 'evt_a4');
      const bytesOf = async (n: number): Promise<Buffer> => {
        const a = await call(site.port, `/_onepush/api/records/${n}/body`, { headers: { 'x-onepush-token': site.token } });
        assert.equal(a.status, 200);
        return Buffer.from(a.text, 'utf8');
      };
      let seen = 0;
      const next = async (count = 1): Promise<Received[]> => {
        const got = (await app.waitFor(seen + count)).slice(seen, seen + count);
        seen += count;
        return got;
      };

      // Re-signed: the captured bytes exactly, and their HMAC with the secret.
      const resigned = await site.action('/_onepush/api/replay', { records: [a4.n], url: app.url, signing: 'sign' });
      assert.equal(resigned.ok, 1);
      assert.equal(resigned.failed, 0);
      assert.deepEqual(resigned.sent.map((s) => [s.n, s.id, s.url, s.status, s.ok, s.response]), [[a4.n, 'evt_a4', app.url, 200, true, '{"ok":true}']]);
      const [r1] = await next();
      assert.ok(r1);
      assert.equal(r1.method, 'POST');
      assert.ok(r1.body.equals(await bytesOf(a4.n)), 'the exact captured bytes');
      assert.equal(r1.headers['x-onepush-signature'], hmac(r1.body));
      assert.match(String(r1.headers['content-type']), /^application\/json/);

      // Original: the captured signature header as it was (here: made with another secret).
      const captured = new Map((await site.detail(a4.n)).headers).get('x-onepush-signature');
      assert.equal(captured, hmac(await bytesOf(a4.n), OTHER));
      await site.action('/_onepush/api/replay', { records: [a4.n], url: app.url, signing: 'original' });
      const [r2] = await next();
      assert.ok(r2);
      assert.ok(r2.body.equals(await bytesOf(a4.n)));
      assert.equal(r2.headers['x-onepush-signature'], captured);

      // Edit and send.
      const edited = JSON.stringify({ id: 'evt_edit', type: 'email.bounced', data: { email_id: 'em_e', to: ['x@example.com'] } }, null, 1);
      const sent = await site.action('/_onepush/api/send', { body: edited, url: app.url, signing: 'sign' });
      assert.deepEqual(sent.sent.map((s) => [s.n, s.id, s.ok]), [[null, 'evt_edit', true]]);
      const [s1] = await next();
      assert.equal(s1?.body.toString('utf8'), edited);
      assert.equal(s1?.headers['x-onepush-signature'], hmac(edited));
      await site.action('/_onepush/api/send', { body: edited, url: app.url, signing: 'unsigned' });
      const [s2] = await next();
      assert.equal(s2?.body.toString('utf8'), edited);
      assert.equal(s2?.headers['x-onepush-signature'], undefined);
      await site.action('/_onepush/api/send', { body: edited, url: app.url, signing: 'wrong' });
      const [s3] = await next();
      assert.equal(s3?.body.toString('utf8'), edited);
      assert.match(String(s3?.headers['x-onepush-signature']), /^[0-9a-f]{64}$/);
      assert.notEqual(s3?.headers['x-onepush-signature'], hmac(edited));
      // A body that is not JSON goes as it is (testing the app's refusal).
      await site.action('/_onepush/api/send', { body: 'not json', url: app.url, signing: 'sign' });
      const [s4] = await next();
      assert.equal(s4?.body.toString('utf8'), 'not json');
      assert.equal(s4?.headers['x-onepush-signature'], hmac('not json'));

      // By filter: every matching record, oldest first.
      const byFilter = await site.action('/_onepush/api/replay', { filter: { type: 'email.b*' }, url: app.url });
      assert.equal(byFilter.ok, 2);
      assert.equal(byFilter.truncated, 0);
      const got = await next(2);
      assert.deepEqual(got.map(idOf).sort(), ['evt_a1', 'evt_a3']);
      for (const r of got) assert.equal(r.headers['x-onepush-signature'], hmac(r.body));
      const byQ = await site.action('/_onepush/api/replay', { filter: { q: 'b3@example' }, url: app.url });
      assert.deepEqual(byQ.sent.map((s) => s.id), ['evt_a3']);
      await next();

      // curl: run it, the app gets the bytes and a signature that verifies.
      const { command } = await site.action<{ command: string }>('/_onepush/api/curl', { record: a1.n, url: app.url, signing: 'sign' });
      assert.ok(command.includes(app.url));
      if (!onPath('curl')) {
        console.log('# curl is not installed: the curl command was not run');
      } else {
        const ran = await bash(command);
        assert.equal(ran.code, 0, ran.stderr);
        assert.equal(ran.stdout, '{"ok":true}');
        const [c] = await next();
        assert.ok(c);
        assert.ok(c.body.equals(await bytesOf(a1.n)));
        assert.equal(c.headers['x-onepush-signature'], hmac(c.body));
        // An edited body with quotes and a control character goes through base64: still the exact bytes.
        const odd = '{"id":"evt_odd","note":"it\'s \\u0001 \u0007 done"}';
        const curl2 = await site.action<{ command: string }>('/_onepush/api/curl', { body: odd, url: app.url, signing: 'sign' });
        const ran2 = await bash(curl2.command);
        assert.equal(ran2.code, 0, ran2.stderr);
        const [c2] = await next();
        assert.equal(c2?.body.toString('utf8'), odd);
        assert.equal(c2?.headers['x-onepush-signature'], hmac(odd));
      }

      // Without a URL and without forward targets: a 400 that says what to do.
      const nowhere = await site.post('/_onepush/api/replay', { records: [a1.n] });
      assert.equal(nowhere.status, 400);
      const err = JSON.parse(nowhere.text) as { error: string; hint?: string };
      assert.match(err.error, /no URL/);
      assert.equal((await site.post('/_onepush/api/replay', { records: [987654321], url: app.url })).status, 400);
      assert.equal((await site.post('/_onepush/api/replay', '[1]')).status, 400);
      assert.equal(app.received.length, seen, 'nothing else reached the app');
    } finally {
      await cli.stop();
      await app.close();
    }
  });

  test('a curl command is safe to run whatever the request held: quotes and $(…) in headers, body and URL stay data', async () => {
    if (!onPath('curl')) {
      console.log('# curl is not installed: not run');
      return;
    }
    const app = await startRawServer();
    const { cli, url, site } = await listen(['--secret', SECRET]);
    const pwned = tmp('pwned');
    try {
      const evil = `'; touch ${pwned}; echo '$(touch ${pwned})\`touch ${pwned}\``;
      const body = JSON.stringify({ id: 'evt_hostile', type: 'email.sent', data: { subject: evil } });
      assert.equal(await postWebhook(url, body, { 'x-onepush-signature': evil, 'x-note': evil, 'x-tab': 'a\tb' }), 401);
      const row = byId((await site.records()).rows, 'evt_hostile');
      const hostileUrl = `${app.url}?q=${encodeURIComponent(evil)}&r=$(touch%20${pwned})`;
      for (const signing of ['original', 'sign', 'unsigned'] as const) {
        const { command } = await site.action<{ command: string }>('/_onepush/api/curl', { record: row.n, url: hostileUrl, signing });
        const ran = await bash(command);
        assert.equal(ran.code, 0, ran.stderr);
        assert.equal(existsSync(pwned), false, `the command ran a part of the request: ${command}`);
      }
      const got = await app.waitFor(3);
      for (const r of got) assert.equal(r.body.toString('utf8'), body);
      assert.equal(got[0]?.headers['x-onepush-signature'], evil, 'original: the captured header, byte for byte');
      assert.equal(got[0]?.headers['x-note'], evil);
      assert.equal(got[0]?.headers['x-tab'], 'a\tb', 'a tab in a header is a tab, not \\t');
      assert.equal(got[1]?.headers['x-onepush-signature'], hmac(body));
      assert.equal(got[2]?.headers['x-onepush-signature'], undefined);
    } finally {
      await cli.stop();
      await app.close();
    }
  });

  test('bad actions are a 400 or a 413 with a reason, and send nothing: an unknown signing, an edited body "original", an action body over 12 MiB', async () => {
    const app = await startRawServer();
    const { cli, url, site } = await listen(['--secret', SECRET]);
    try {
      await trigger(url, 'email.sent', ['id=evt_bad1']);
      const { rows } = await site.records();
      const n = byId(rows, 'evt_bad1').n;
      const cases: Array<[string, unknown, RegExp]> = [
        ['/_onepush/api/replay', { records: [n], url: app.url, signing: 'bogus' }, /signing must be sign or original/],
        ['/_onepush/api/send', { body: '{}', url: app.url, signing: 'original' }, /signing must be sign, unsigned or wrong/],
        ['/_onepush/api/curl', { record: n, url: app.url, signing: 'bogus' }, /signing must be sign, unsigned, wrong or original/],
        ['/_onepush/api/curl', { body: '{}', url: app.url, signing: 'original' }, /no original signature/],
        ['/_onepush/api/replay', { records: [n + 1], url: app.url }, /no record/],
        ['/_onepush/api/replay', { records: ['0'], url: app.url }, /record numbers/],
      ];
      for (const [path, body, reason] of cases) {
        const a = await site.post(path, body);
        assert.equal(a.status, 400, `${path} ${JSON.stringify(body)}: ${a.text}`);
        assert.match((JSON.parse(a.text) as { error: string }).error, reason);
      }
      const big = await call(site.port, '/_onepush/api/send', {
        method: 'POST',
        headers: { 'x-onepush-token': site.token, origin: site.origin, 'content-type': 'application/json' },
        body: Buffer.alloc(13 * 1024 * 1024, 0x20),
      });
      assert.equal(big.status, 413, big.text);
      assert.match(big.text, /at most 12 MiB/);
      // The listener goes on: the page and a webhook are still answered.
      assert.equal((await site.info()).mode, 'listen');
      assert.equal(app.received.length, 0, 'nothing was sent');
    } finally {
      await cli.stop();
      await app.close();
    }
  });

  test('replay without a URL goes to the forward targets (by route)', async () => {
    const bounces = await startRawServer();
    const rest = await startRawServer();
    const { cli, url, site } = await listen(['--secret', SECRET, '--forward-to', `email.bounced=${bounces.url}`, '--forward-to', rest.url]);
    try {
      await trigger(url, 'email.bounced', ['id=evt_t1']);
      await trigger(url, 'email.sent', ['id=evt_t2']);
      await bounces.waitFor(1);
      await rest.waitFor(2);
      const { rows } = await site.records();
      const r = await site.action('/_onepush/api/replay', { records: [byId(rows, 'evt_t2').n, byId(rows, 'evt_t1').n] });
      assert.equal(r.ok, 3);
      assert.deepEqual((await bounces.waitFor(2)).map(idOf), ['evt_t1', 'evt_t1']);
      assert.deepEqual((await rest.waitFor(4)).map(idOf).slice(2).sort(), ['evt_t1', 'evt_t2']);
    } finally {
      await cli.stop();
      await bounces.close();
      await rest.close();
    }
  });
});

// ---------------------------------------------------------------------------------------------------------------
// onepush inspect

/** `onepush inspect …` (the built CLI), once it printed its address. */
async function inspectBin(args: string[], env: Record<string, string> = {}) {
  const cli = startBin(['inspect', '--port', '0', ...args], { env });
  const url = await cli.waitForLine((l) => l.startsWith('http://'));
  assert.match(url, /^http:\/\/localhost:\d+\/$/);
  const port = Number(new URL(url).port);
  return { cli, url, port, site: await siteAt(port) };
}

/** A capture log of `count` lines, written fast (shared with the browser tests). */
const bigLog = writeBigCaptureLog;

describe('onepush inspect', () => {
  test('over a listener\'s capture log: the address alone on stdout, the rows and their signatures explained (the built CLI)', async () => {
    const { cli, url, save } = await listen(['--secret', SECRET]);
    await trigger(url, 'email.sent', ['id=evt_i1']);
    await trigger(url, 'email.bounced', ['id=evt_i2'], OTHER);
    await cli.stop();
    const { cli: ins, url: page, site } = await inspectBin([save, '--secret', SECRET]);
    try {
      assert.deepEqual(ins.stdoutLines, [page]);
      assert.match(ins.stderr(), /Inspector\s+http:\/\/localhost:\d+\//);
      const info = await site.info();
      assert.equal(info.mode, 'inspect');
      assert.deepEqual(info.sources, [save]);
      assert.equal(info.verifying, true);
      const { rows } = await site.records();
      assert.deepEqual(rows.map((r) => [r.id, r.status, r.verified, r.source]), [
        ['evt_i2', 401, false, save],
        ['evt_i1', 200, true, save],
      ]);
      assert.equal((await site.detail(byId(rows, 'evt_i2').n)).verification.valid, false);
      assert.equal((await site.detail(byId(rows, 'evt_i1').n)).verification.code, 'valid');
      // A foreign Host is refused here too; anything but the inspector is a 404.
      assert.equal((await call(site.port, '/', { headers: { host: `evil.example:${site.port}` } })).status, 403);
      assert.equal((await call(site.port, '/webhooks/onepush', { method: 'POST', body: '{}' })).status, 404);
    } finally {
      const r = await ins.stop();
      assert.equal(r.code, 0, r.stderr);
    }
  });

  test('a log of 1,000,000 lines: pages from the end while counting, `next` goes back, the total reaches 1,000,000 (the built CLI)', async () => {
    const COUNT = 1_000_000;
    const file = tmp('big.ndjson');
    const lengths = await bigLog(file, COUNT);
    const { cli, site } = await inspectBin([file]);
    try {
      // Answered at once, counting or not: the newest 100.
      const first = await site.records('limit=100');
      const info0 = await site.info();
      if (info0.indexing) assert.ok(first.total < COUNT);
      else console.log('# counting had finished before the first page was asked for');
      const expected = (from: number): string[] => Array.from({ length: 100 }, (_, k) => `evt_${String(from - k).padStart(7, '0')}`);
      assert.deepEqual(first.rows.map((r) => r.id), expected(COUNT - 1));
      assert.equal(first.rows[0]?.type, 'email.bounced');
      assert.equal(first.rows[0]?.email_id, `em_${String(COUNT - 1).padStart(7, '0')}`);
      assert.notEqual(first.next, null);
      const second = await site.records(`limit=100&before=${first.next}`);
      assert.deepEqual(second.rows.map((r) => r.id), expected(COUNT - 101));
      // A detail deep in the file, and a filter (bounded scan per call).
      const d = await site.detail(second.rows[99]?.n ?? -1);
      assert.equal(d.row.id, `evt_${String(COUNT - 200).padStart(7, '0')}`);
      const filtered = await site.records('limit=10&type=email.sent');
      assert.equal(filtered.rows.length, 10);
      assert.ok(filtered.rows.every((r) => r.type === 'email.sent'));
      // Counting finishes.
      let info = info0;
      await until(
        async () => {
          info = await site.info();
          return !info.indexing;
        },
        cli.child,
        'counting finished',
      );
      assert.equal(info.total, COUNT);
      const last = await site.records('limit=100');
      assert.equal(last.total, COUNT);
      assert.deepEqual(last.rows.map((r) => r.id), expected(COUNT - 1));
      // The oldest page: before the fourth line (where it starts: the three lines before it), then nothing older.
      const oldest = await site.records(`limit=100&before=${lengths.slice(0, 3).reduce((a, b) => a + b, 0)}`);
      assert.deepEqual(oldest.rows.map((r) => r.id), ['evt_0000002', 'evt_0000001', 'evt_0000000']);
      assert.deepEqual(oldest.rows.map((r) => r.n), [lengths[0]! + lengths[1]!, lengths[0], 0]);
      assert.equal(oldest.next, null);
    } finally {
      await cli.stop();
      rmSync(file, { force: true });
    }
  });

  test('junk lines in a log are skipped, the others listed (the built CLI)', async () => {
    const file = tmp('junk.ndjson');
    const line = (id: string): string =>
      encodeCapture({ receivedAt: '2026-11-30T12:00:00.000Z', method: 'POST', path: '/webhooks/onepush', headers: { 'content-type': 'application/json' }, body: Buffer.from(JSON.stringify({ id, type: 'email.sent', data: {} })), verified: null, status: 200 });
    const refused = (id: string): string => line(id).replace('"verified":null,"status":200', '"verified":false,"status":401,"reason":"signature mismatch"');
    const lines = [line('evt_j1'), 'not json at all', '{"v":2,"what":"future"}', '', '{"v":1}', refused('evt_j3'), line('evt_j2'), '\u0000\u0001binary', line('evt_j3'), line('evt_j1'), '{"truncated":'];
    writeFileSync(file, lines.join('\n'));
    const { cli, site } = await inspectBin([file]);
    try {
      // Redeliveries are marked as the log is counted: an accepted id seen accepted before (a refused one does not count).
      await until(async () => !(await site.info()).indexing, cli.child, 'counting finished');
      const { rows } = await site.records();
      assert.deepEqual(rows.map((r) => [r.id, r.status, r.duplicate]), [
        ['evt_j1', 200, true],
        ['evt_j3', 200, false],
        ['evt_j2', 200, false],
        ['evt_j3', 401, false],
        ['evt_j1', 200, false],
      ]);
    } finally {
      await cli.stop();
    }
  });

  test('bad input: a missing file, a directory, a FIFO, a port in use are exit 2 with one line (the built CLI)', async () => {
    const check = (r: Awaited<ReturnType<typeof runBin>>, what: RegExp): void => {
      assert.equal(r.code, 2, r.stderr);
      assert.equal(r.stdout, '');
      assert.doesNotMatch(r.stderr, NO_STACK);
      assert.match(r.stderr, what);
      // One error line (and the CLI's usual hint under it).
      const lines = r.stderr.trim().split('\n');
      assert.match(lines[0] ?? '', /^onepush: /, r.stderr);
      assert.ok(lines.length === 1 || (lines.length === 2 && /^hint: /.test(lines[1] ?? '')), r.stderr);
    };
    const missing = tmp('missing.ndjson');
    check(await runBin(['inspect', missing, '--port', '0']), /missing\.ndjson/);
    check(await runBin(['inspect', dir, '--port', '0']), /not a regular file|directory/);
    const fifo = tmp('fifo');
    const made = spawnSync('mkfifo', [fifo]);
    if (made.status === 0) check(await runBin(['inspect', fifo, '--port', '0']), /not a regular file/);
    else console.log('# mkfifo failed: the FIFO case was not run');
    const ok = tmp('ok.ndjson');
    writeFileSync(ok, '');
    const busy = await startRawServer();
    try {
      check(await runBin(['inspect', ok, '--port', String(busy.port)]), new RegExp(`port ${busy.port} is already in use`));
    } finally {
      await busy.close();
    }
  });
});

describe('the inspector on a listener with a large log', () => {
  test('a replay by filter over 200,000 records does not hold up the webhook (the built CLI)', async () => {
    const save = tmp('large.ndjson');
    await bigLog(save, 200_000);
    const app = await startRawServer();
    const cli = startBin(['listen', '--port', '0', '--json', '--save', save, '--secret', SECRET]);
    try {
      const ready = JSON.parse(await cli.waitForLine((l) => l.includes('"kind":"ready"'))) as Record<string, unknown>;
      const site = await siteAt(Number(ready.port));
      // Matches nothing: every record is looked at. Meanwhile a webhook comes, and is answered before the replay is.
      let replayed = false;
      const replay = site.post('/_onepush/api/replay', { filter: { type: 'email.none' }, url: app.url, signing: 'original' }).then((a) => {
        replayed = true;
        return a;
      });
      const body = '{"id":"evt_during_replay","type":"email.sent","data":{}}';
      assert.equal(await postWebhook(String(ready.url), body, { 'x-onepush-signature': hmac(body) }), 200);
      assert.equal(replayed, false, 'the webhook waited for the replay');
      const done = await replay;
      assert.equal(done.status, 200, done.text);
      assert.deepEqual(JSON.parse(done.text), { sent: [], ok: 0, failed: 0, truncated: 0 });
      assert.equal(app.received.length, 0);
    } finally {
      await cli.stop();
      await app.close();
      rmSync(save, { force: true });
    }
  });
});

describe('onepush inspect: several logs, a growing log', () => {
  test('two logs read as one list, newest first, paged across the boundary; each row names its file', async () => {
    const line = (id: string): string =>
      encodeCapture({ receivedAt: '2026-11-30T12:00:00.000Z', method: 'POST', path: '/webhooks/onepush', headers: {}, body: Buffer.from(JSON.stringify({ id, type: 'email.sent', data: {} })), verified: null, status: 200 });
    const older = tmp('older.ndjson');
    const newer = tmp('newer.ndjson');
    writeFileSync(older, ['evt_m1', 'evt_m2', 'evt_m3'].map(line).join(''));
    writeFileSync(newer, ['evt_m4', 'evt_m5'].map(line).join(''));
    const cli = startCli(['inspect', older, newer, '--port', '0']);
    try {
      const url = await cli.waitForLine((l) => l.startsWith('http://'));
      const site = await siteAt(Number(new URL(url).port));
      await until(async () => !(await site.info()).indexing, { exitCode: null }, 'counting finished');
      const info = await site.info();
      assert.deepEqual(info.sources, [older, newer]);
      assert.equal(info.total, 5);
      const all = await site.records();
      assert.deepEqual(all.rows.map((r) => [r.id, r.source]), [
        ['evt_m5', newer],
        ['evt_m4', newer],
        ['evt_m3', older],
        ['evt_m2', older],
        ['evt_m1', older],
      ]);
      const ids: Array<string | null> = [];
      let before: number | null = null;
      for (let pages = 0; pages < 10; pages++) {
        const page: RecordPage = await site.records(`limit=2${before === null ? '' : `&before=${before}`}`);
        ids.push(...page.rows.map((r) => r.id));
        if (page.next === null) break;
        before = page.next;
      }
      assert.deepEqual(ids, ['evt_m5', 'evt_m4', 'evt_m3', 'evt_m2', 'evt_m1']);
      for (const r of all.rows) assert.equal((await site.detail(r.n)).row.id, r.id);
    } finally {
      await cli.stop();
    }
  });

  test('over the log a running listener writes: its new events reach the page\'s stream and the list', async () => {
    const { cli, url, save } = await listen(['--secret', SECRET]);
    await trigger(url, 'email.sent', ['id=evt_g1']);
    const ins = startCli(['inspect', save, '--port', '0', '--secret', SECRET]);
    try {
      const page = await ins.waitForLine((l) => l.startsWith('http://'));
      const site = await siteAt(Number(new URL(page).port));
      const stream = openStream(site);
      try {
        await stream.opened;
        assert.deepEqual((await site.records()).rows.map((r) => r.id), ['evt_g1']);
        await trigger(url, 'email.delivered', ['id=evt_g2']);
        const row = await stream.next((event, data) => (event === 'rows' ? (data as LiveBatch).rows.find((r) => r.id === 'evt_g2') : undefined));
        assert.equal(row.verified, true);
        assert.equal(row.source, save);
        assert.deepEqual((await site.records()).rows.map((r) => r.id), ['evt_g2', 'evt_g1']);
        assert.equal((await site.info()).total, 2);
      } finally {
        stream.close();
      }
    } finally {
      await ins.stop();
      await cli.stop();
    }
  });
});

describe('acceptedIdOf (how counting marks redeliveries)', () => {
  test('reads the id of an accepted line, and looks nowhere past the line', () => {
    const line = (id: string, status: number): string =>
      encodeCapture({ receivedAt: '2026-11-30T12:00:00.000Z', method: 'POST', path: '/webhooks/onepush', headers: {}, body: Buffer.from(JSON.stringify({ id, type: 'email.sent' })), verified: status === 200 ? null : false, status });
    const noId = encodeCapture({ receivedAt: '2026-11-30T12:00:00.000Z', method: 'POST', path: '/webhooks/onepush', headers: {}, body: Buffer.from('{"type":"email.sent"}'), verified: null, status: 200 });
    const bytes = Buffer.from(line('evt_refused', 401) + noId + line('evt_ok', 200));
    const bounds: Array<[number, number]> = [];
    for (let start = 0; start < bytes.length; ) {
      const end = bytes.indexOf(10, start);
      bounds.push([start, end]);
      start = end + 1;
    }
    // The 401 line is not accepted, though a later line has "status":200; the line without an id does not borrow the next one's.
    assert.deepEqual(bounds.map(([a, b]) => acceptedIdOf(bytes, a, b)), [null, null, 'evt_ok']);
  });
});

describe('--open', () => {
  const opener = (): { script: string; out: string } => {
    const out = tmp('opened.txt');
    const script = tmp('browser.sh');
    writeFileSync(script, `#!/bin/sh\nprintf '%s\\n' "$@" > '${out}'\n`);
    chmodSync(script, 0o755);
    return { script, out };
  };
  const opened = async (out: string): Promise<string> => {
    await until(() => existsSync(out) && readFileSync(out, 'utf8').endsWith('\n'), { exitCode: null }, 'the browser was opened');
    return readFileSync(out, 'utf8');
  };

  test('listen --open runs ONEPUSH_BROWSER with the inspector\'s address', async () => {
    const { script, out } = opener();
    const { cli, port } = await listen(['--open'], { ONEPUSH_BROWSER: script });
    try {
      assert.equal(await opened(out), `http://localhost:${port}/\n`);
    } finally {
      await cli.stop();
    }
  });

  test('listen --no-ui --open says the inspector is off, and opens nothing', async () => {
    const { script, out } = opener();
    const save = tmp('noui-open.ndjson');
    const cli = startCli(['listen', '--port', '0', '--json', '--save', save, '--no-ui', '--open'], { env: { ONEPUSH_BROWSER: script } });
    try {
      await cli.waitForLine((l) => l.includes('"kind":"ready"'));
      await cli.waitForStderr(/--open: the inspector is off/);
    } finally {
      await cli.stop();
    }
    assert.equal(existsSync(out), false);
  });

  test('inspect --open runs ONEPUSH_BROWSER with the page\'s address (the built CLI)', async () => {
    const { script, out } = opener();
    const log = tmp('empty.ndjson');
    writeFileSync(log, '');
    const { cli, url } = await inspectBin([log, '--open'], { ONEPUSH_BROWSER: script });
    try {
      assert.equal(await opened(out), `${url}\n`);
    } finally {
      await cli.stop();
    }
  });
});

describe('the inspector on the listener\'s own server', () => {
  test('an action that outlasts the server\'s idle timeout for a silent socket is answered, not cut', async () => {
    const { startHttpServer } = await import('../src/adapters/http-server.js');
    const { ownHosts } = await import('../src/adapters/inspector-http.js');
    const { inspectorSite } = await import('../src/app/inspect.js');
    const log = tmp('one.ndjson');
    const body = '{"id":"evt_slow_app","type":"email.sent","data":{}}';
    writeFileSync(log, encodeCapture({ receivedAt: '2026-11-30T12:00:00.000Z', method: 'POST', path: '/webhooks/onepush', headers: {}, body: Buffer.from(body), verified: null, status: 200 }));
    // The app answers after 4 idle timeouts of the server.
    const app = await startRawServer((_, res) => {
      setTimeout(() => res.end('{"ok":true}'), 800);
    });
    let port = 0;
    const site = inspectorSite({ mode: 'inspect', files: [log], version: 'test', hosts: () => ownHosts('127.0.0.1', port) });
    const server = await startHttpServer({
      host: '127.0.0.1',
      port: 0,
      maxBody: 1 << 20,
      now: () => new Date(),
      onRequest: (_head, _body, respond) => respond(404, '{}'),
      intercept: (req, res) => site.http.handle(req, res),
      timeouts: { idleMs: 200 },
    });
    port = server.port;
    try {
      const s = await siteAt(port);
      const { rows } = await s.records();
      const answer = await s.post('/_onepush/api/replay', { records: [rows[0]?.n], url: app.url, signing: 'original' });
      assert.equal(answer.status, 200, answer.text);
      assert.deepEqual((JSON.parse(answer.text) as ActionResult).sent.map((x) => [x.id, x.status]), [['evt_slow_app', 200]]);
    } finally {
      site.inspector.close();
      site.http.close();
      await server.close();
      await app.close();
    }
  });
});
