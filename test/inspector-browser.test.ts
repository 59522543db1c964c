import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserSkip, launchChromium, watchedPage, type WatchedPage } from './helpers/browser.js';
import { BIG_LOG_TYPES, bigLogId, writeBigCaptureLog } from './helpers/captures.js';
import { jsonLines, ROOT, runBin, startBin, type LiveCli } from './helpers/cli.js';
import { startRawServer } from './helpers/servers.js';

// The inspector's page in a real browser (Debian's Chromium through playwright-core): the built CLI serves it
// (listen, inspect), the page runs its built bundle under the server's CSP, and what it does is checked where it
// lands: in the DOM, and on the app's side for what it sends. Without Chromium these are skipped (one line on
// stderr says how to get it), except in CI, where they fail.

// What runs in the page (page.evaluate, waitForFunction) uses the page's globals. The node program has no DOM lib
// (only the page's own tsconfig does), so they are declared here, loosely, for this file only.
declare const window: any;
declare const document: any;
type HTMLElement = any;
type HTMLTextAreaElement = any;

const skip = browserSkip();
const SECRET = 'whsec_inspector_browser';
const hmac = (body: string | Buffer, secret = SECRET): string => createHmac('sha256', secret).update(body).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'onepush-inspector-browser-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let launched: Promise<Browser> | undefined;
/** One Chromium for the file (each test has its own context); launched by the first test that needs it. */
function browser(): Promise<Browser> {
  launched ??= launchChromium();
  return launched;
}
after(async () => {
  if (launched !== undefined) await (await launched.catch(() => undefined))?.close();
});

const fixture = (type: string): Record<string, unknown> => JSON.parse(readFileSync(join(ROOT, 'fixtures', `${type}.json`), 'utf8')) as Record<string, unknown>;

interface Listener {
  cli: LiveCli;
  /** The webhook URL. */
  url: string;
  /** The inspector page's address. */
  inspector: string;
  port: number;
}

/** `onepush listen --port 0 --json --secret … --no-save`, once ready. */
async function listen(extra: string[] = []): Promise<Listener> {
  const cli = startBin(['listen', '--port', '0', '--json', '--secret', SECRET, '--no-save', ...extra]);
  const ready = JSON.parse(await cli.waitForLine((l) => l.includes('"kind":"ready"'))) as { url: string; inspector: string; port: number };
  return { cli, url: ready.url, inspector: ready.inspector, port: ready.port };
}

/** `onepush trigger <args> --to <url> --secret … --json`; resolves with the ids sent, in order. */
async function trigger(url: string, ...args: string[]): Promise<string[]> {
  const r = await runBin(['trigger', ...args, '--to', url, '--secret', SECRET, '--json']);
  assert.equal(r.code, 0, r.stderr);
  return jsonLines(r).map((l) => String(l.id));
}

/** POSTs a body as is to the listener. */
async function post(url: string, body: string, headers: Record<string, string>): Promise<number> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  await res.arrayBuffer();
  return res.status;
}

/** Opens the page and waits until its live stream is connected. */
async function open(url: string): Promise<WatchedPage> {
  const w = await watchedPage(await browser());
  await w.page.goto(url);
  await w.page.waitForSelector('#status.conn-live');
  return w;
}

/** The list's rows as the page shows them, top first. */
function rows(page: Page): Promise<Array<Record<'n' | 'type' | 'id' | 'recipient' | 'verified' | 'status', string>>> {
  // (No named function inside: tsx would wrap it in a __name() the page does not have.)
  return page.$$eval('#list .row[data-n]', (trs) =>
    trs.map((tr) => ({
      n: (tr as HTMLElement).dataset.n ?? '',
      ...Object.fromEntries(['type', 'id', 'recipient', 'verified', 'status'].map((c) => [c, tr.querySelector(`.${c}`)?.textContent ?? ''])),
    })) as Array<Record<'n' | 'type' | 'id' | 'recipient' | 'verified' | 'status', string>>,
  );
}

/** Waits until the list shows exactly these ids, top first. */
async function waitForIds(page: Page, ids: string[]): Promise<void> {
  await page.waitForFunction(
    (want) => {
      const got = [...document.querySelectorAll('#list .row[data-n] .id')].map((e) => e.textContent);
      return got.length === want.length && got.every((id, i) => id === want[i]);
    },
    ids,
  );
}

/** Nothing went wrong in the page: no console error, no uncaught error, no CSP violation. */
async function assertClean(w: WatchedPage): Promise<void> {
  assert.deepEqual(w.problems, [], 'console errors or uncaught errors in the page');
  assert.deepEqual(await w.cspViolations(), [], 'CSP violations in the page');
}

describe('the inspector page in Chromium', { skip }, () => {
  test('events appear in the list live as onepush trigger sends them, newest first, without a reload (the built CLI)', async () => {
    const l = await listen();
    const w = await open(l.inspector);
    try {
      await w.page.evaluate(() => ((window as unknown as { __sameDocument: boolean }).__sameDocument = true));
      assert.equal(await w.page.locator('#list .row').count(), 0);
      const first = await trigger(l.url, 'email.sent', 'email.delivered');
      await waitForIds(w.page, [...first].reverse());
      const second = await trigger(l.url, 'email.opened');
      await waitForIds(w.page, [...second, ...[...first].reverse()]);
      const shown = await rows(w.page);
      assert.deepEqual(
        shown.map((r) => [r.type, r.verified, r.status]),
        [
          ['email.opened', '✔', '200'],
          ['email.delivered', '✔', '200'],
          ['email.sent', '✔', '200'],
        ],
      );
      assert.equal(await w.page.evaluate(() => (window as unknown as { __sameDocument?: boolean }).__sameDocument), true, 'the page was not reloaded');
      await w.page.waitForFunction(() => document.getElementById('total')?.textContent === '3 records');
      await assertClean(w);
    } finally {
      await w.close();
      await l.cli.stop();
    }
  });

  test('the type, status and signature filters and the search narrow the list (the built CLI)', async () => {
    const l = await listen();
    try {
      const sent = await trigger(l.url, 'email.sent', 'email.delivered', 'email.bounced', 'email.opened', 'email.clicked');
      const forged = { ...fixture('email.complained'), id: 'evt_forged_complaint' };
      assert.equal(await post(l.url, JSON.stringify(forged), { 'x-onepush-signature': hmac(JSON.stringify(forged), 'not-the-secret') }), 401);
      const all = ['evt_forged_complaint', ...[...sent].reverse()];
      const w = await open(l.inspector);
      try {
        await waitForIds(w.page, all);
        const byType = (type: string): string => all[['email.complained', 'email.clicked', 'email.opened', 'email.bounced', 'email.delivered', 'email.sent'].indexOf(type)] as string;

        await w.page.fill('#filter-type', 'email.b*,email.opened');
        await waitForIds(w.page, [byType('email.opened'), byType('email.bounced')]);
        await w.page.fill('#filter-type', '');
        await waitForIds(w.page, all);

        await w.page.selectOption('#filter-status', '4xx');
        await waitForIds(w.page, ['evt_forged_complaint']);
        assert.deepEqual((await rows(w.page)).map((r) => [r.status, r.verified]), [['401', '✘']]);
        await w.page.selectOption('#filter-status', '2xx');
        await waitForIds(w.page, all.slice(1));
        await w.page.selectOption('#filter-status', '');

        await w.page.selectOption('#filter-verified', 'invalid');
        await waitForIds(w.page, ['evt_forged_complaint']);
        await w.page.selectOption('#filter-verified', 'valid');
        await waitForIds(w.page, all.slice(1));
        await w.page.selectOption('#filter-verified', '');
        await waitForIds(w.page, all);

        // Search: an id (any part of it, any case), then a recipient.
        const clicked = byType('email.clicked');
        await w.page.fill('#search', clicked.slice(-10).toLowerCase());
        await waitForIds(w.page, [clicked]);
        const recipient = (fixture('email.bounced').data as { to: string[] }).to[0] as string;
        const types = ['email.complained', 'email.clicked', 'email.opened', 'email.bounced', 'email.delivered', 'email.sent'];
        const withRecipient = all.filter((_, i) => (fixture(types[i] as string).data as { to: string[] }).to[0] === recipient);
        await w.page.fill('#search', recipient.toUpperCase());
        await waitForIds(w.page, withRecipient);
        // Filters combine: the recipient and a type it does not have leave nothing.
        await w.page.fill('#filter-type', 'email.opened');
        await w.page.waitForSelector('#empty:not([hidden])');
        assert.equal(await w.page.locator('#list .row').count(), 0);
        await assertClean(w);
      } finally {
        await w.close();
      }
    } finally {
      await l.cli.stop();
    }
  });

  test('the detail of a wrongly signed event says in words what is wrong: a body re-serialised after signing (the built CLI)', async () => {
    const l = await listen();
    try {
      const event = { ...fixture('email.bounced'), id: 'evt_reserialised' };
      const compact = JSON.stringify(event);
      const spaced = JSON.stringify(event, null, 2);
      assert.equal(await post(l.url, spaced, { 'x-onepush-signature': hmac(compact) }), 401);
      const w = await open(l.inspector);
      try {
        await waitForIds(w.page, ['evt_reserialised']);
        await w.page.click('#list .row[data-n]');
        const verification = w.page.locator('#detail-verification');
        await verification.waitFor();
        const text = await verification.innerText();
        assert.match(text, /invalid/);
        assert.match(text, /re-serialised body \(compact JSON\.stringify\)/);
        assert.match(text, /not these exact bytes/);
        assert.match(await w.page.locator('#detail-title').innerText(), /email\.bounced\s+evt_reserialised/);
        // The raw body is the bytes received, not the pretty form.
        assert.equal(await w.page.locator('#detail-body-raw').textContent(), spaced);
        await assertClean(w);
      } finally {
        await w.close();
      }
    } finally {
      await l.cli.stop();
    }
  });

  test('replay from the detail and edit-and-resend reach the app: the exact bytes, signed with the secret, or with a wrong signature when chosen (the built CLI)', async () => {
    const l = await listen();
    const app = await startRawServer();
    try {
      // Non-ASCII and the key order of a hand-written body: bytes that any re-serialisation would change.
      const body = `{"id":"evt_replay_me","type":"email.delivered","created_at":"2026-11-30T10:00:00.000Z","data":{"email_id":"em_1","to":["zoë@example.com"],"subject":"Grüße ✓"}}`;
      assert.equal(await post(l.url, body, { 'x-onepush-signature': hmac(body) }), 200);
      const w = await open(l.inspector);
      try {
        await waitForIds(w.page, ['evt_replay_me']);
        await w.page.fill('#replay-url', app.url);
        await w.page.click('#list .row[data-n]');
        await w.page.locator('#replay').click();
        const [replayed] = await app.waitFor(1);
        assert.ok(replayed);
        assert.equal(replayed.body.toString('utf8'), body);
        assert.ok(replayed.body.equals(Buffer.from(body, 'utf8')), 'the exact bytes');
        assert.equal(replayed.headers['x-onepush-signature'], hmac(replayed.body));
        await w.page.waitForFunction(() => /^sent 1: 200/.test(document.querySelector('#action-result .result-summary')?.textContent ?? ''));

        // Edit and send: the edited text as typed, signed.
        await w.page.click('#edit');
        const edited = `{ "id": "evt_edited", "type": "email.delivered", "data": { "to": ["zoë@example.com"], "subject": "edited ✓" } }`;
        await w.page.fill('#editor', edited);
        await w.page.selectOption('#send-signing', 'sign');
        await w.page.click('#send');
        const [, sent] = await app.waitFor(2);
        assert.ok(sent);
        assert.ok(sent.body.equals(Buffer.from(edited, 'utf8')), `the edited bytes as typed, got ${sent.body.toString()}`);
        assert.match(String(sent.headers['x-onepush-signature']), /^[0-9a-f]{64}$/);
        assert.equal(sent.headers['x-onepush-signature'], hmac(sent.body));
        await w.page.waitForFunction(() => document.querySelector('#action-result strong')?.textContent === 'send');

        // An editor holding what is not JSON says so and sends nothing.
        await w.page.fill('#editor', '{"id": ');
        await w.page.waitForSelector('#editor-error:not([hidden])');
        assert.equal(await w.page.locator('#send').isDisabled(), true);

        // A wrong signature, chosen: a well-formed hex HMAC that does not verify with the secret.
        await w.page.fill('#editor', edited);
        await w.page.selectOption('#send-signing', 'wrong');
        await w.page.click('#send');
        const [, , wrong] = await app.waitFor(3);
        assert.ok(wrong);
        assert.ok(wrong.body.equals(Buffer.from(edited, 'utf8')));
        assert.match(String(wrong.headers['x-onepush-signature']), /^[0-9a-f]{64}$/);
        assert.notEqual(wrong.headers['x-onepush-signature'], hmac(wrong.body), 'the wrong signature does not verify');
        await assertClean(w);
      } finally {
        await w.close();
      }
    } finally {
      await app.close();
      await l.cli.stop();
    }
  });

  test('hostile values (script tags, onerror images, javascript: URLs) show as literal text in the list and the detail, and nothing runs (the built CLI)', async () => {
    const SCRIPT = '<script>window.__xss=1</script>';
    const IMG = '<img src=x onerror="window.__xss=1">';
    const JS = 'javascript:window.__xss=1';
    const base = fixture('email.bounced') as { data: Record<string, unknown> };
    const events = [
      { ...base, id: SCRIPT, data: { ...base.data, email_id: 'em_hostile', to: [IMG], subject: SCRIPT, tags: { campaign: JS, [SCRIPT]: IMG } } },
      { ...base, id: IMG, data: { ...base.data, email_id: 'em_hostile', to: [JS], subject: IMG, tags: { link: JS } } },
      { ...base, id: JS, data: { ...base.data, email_id: 'em_hostile', to: [SCRIPT], subject: JS } },
    ];
    const l = await listen();
    try {
      for (const e of events) {
        const body = JSON.stringify(e);
        assert.equal(await post(l.url, body, { 'x-onepush-signature': hmac(body), 'x-hostile': IMG }), 200);
      }
      const w = await open(l.inspector);
      try {
        await waitForIds(w.page, [JS, IMG, SCRIPT]);
        assert.deepEqual(
          (await rows(w.page)).map((r) => [r.id, r.recipient]),
          [
            [JS, SCRIPT],
            [IMG, JS],
            [SCRIPT, IMG],
          ],
        );
        await w.page.fill('#replay-url', 'http://127.0.0.1:9/webhooks/onepush');
        for (const [i, id] of [JS, IMG, SCRIPT].entries()) {
          await w.page.locator('#list .row[data-n]').nth(i).click();
          await w.page.waitForFunction((want) => document.querySelector('#detail-title .id')?.textContent === want, id);
          const raw = (await w.page.locator('#detail-body-raw').textContent()) ?? '';
          const pretty = (await w.page.locator('#detail-body-pretty').textContent()) ?? '';
          for (const s of [SCRIPT, IMG, JS].filter((x) => JSON.stringify(events.find((e) => e.id === id)).includes(JSON.stringify(x).slice(1, -1)))) {
            assert.ok(raw.includes(JSON.stringify(s).slice(1, -1)), `raw body shows ${s}`);
            assert.ok(pretty.includes(JSON.stringify(s).slice(1, -1)), `pretty body shows ${s}`);
          }
          assert.ok((await w.page.locator('#detail-headers').innerText()).includes(IMG), 'the header value as text');
          assert.equal(await w.page.locator('#detail-lifecycle [data-n]').count(), 3);
          // The curl command of a hostile record: text in a textarea.
          await w.page.click('#curl');
          await w.page.waitForFunction(() => (document.getElementById('curl-text') as HTMLTextAreaElement | null)?.value.startsWith('curl ') === true);
          assert.ok((await w.page.locator('#curl-text').inputValue()).includes(JSON.stringify(id).slice(1, -1)));
        }
        const dom = await w.page.evaluate(() => ({
          xss: (window as unknown as { __xss?: unknown }).__xss,
          imgs: document.querySelectorAll('img').length,
          jsLinks: document.querySelectorAll('a[href^="javascript:" i]').length,
          scripts: [...document.querySelectorAll('script')].map((s) => s.getAttribute('src')),
          handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
        }));
        assert.deepEqual(dom, { xss: undefined, imgs: 0, jsLinks: 0, scripts: ['/_onepush/app.js'], handlers: 0 });
        await assertClean(w);
      } finally {
        await w.close();
      }
    } finally {
      await l.cli.stop();
    }
  });

  test('a foreign Host header is refused, and so is an API call from the page without the token (the built CLI)', async () => {
    const l = await listen();
    try {
      const w = await open(l.inspector);
      try {
        const token = await w.page.locator('meta[name="onepush-token"]').getAttribute('content');
        assert.match(token ?? '', /.{16,}/);
        const get = (path: string, headers: Record<string, string>): Promise<{ status: number; body: string }> =>
          new Promise((resolve, reject) => {
            const req = request({ host: '127.0.0.1', port: l.port, path, headers }, (res) => {
              let body = '';
              res.setEncoding('utf8').on('data', (d: string) => (body += d));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
            });
            req.on('error', reject);
            req.end();
          });
        // DNS rebinding: another name for 127.0.0.1 sends its own name as Host.
        const page = await get('/', { Host: `evil.example:${l.port}` });
        assert.equal(page.status, 403);
        assert.doesNotMatch(page.body, /onepush-token/);
        assert.equal((await get('/_onepush/api/info', { Host: `evil.example:${l.port}`, 'x-onepush-token': token ?? '' })).status, 403);
        assert.equal((await get('/_onepush/api/info', { Host: `localhost:${l.port}`, 'x-onepush-token': token ?? '' })).status, 200);

        const statuses = await w.page.evaluate(async (t) => {
          const bare = await fetch('/_onepush/api/records');
          const wrong = await fetch('/_onepush/api/records', { headers: { 'x-onepush-token': 'not-the-token' } });
          const withToken = await fetch('/_onepush/api/records', { headers: { 'x-onepush-token': t } });
          const post = await fetch('/_onepush/api/send', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"body":"{}","url":"http://127.0.0.1:9/"}' });
          return [bare.status, wrong.status, withToken.status, post.status];
        }, token ?? '');
        assert.deepEqual(statuses, [403, 403, 200, 403]);
        // The refused calls are the test's own: the page itself logged nothing.
        assert.deepEqual(
          w.problems.filter((p) => !/status of 403/.test(p)),
          [],
        );
        assert.deepEqual(await w.cspViolations(), []);
      } finally {
        await w.close();
      }
    } finally {
      await l.cli.stop();
    }
  });

  test('a million-line capture log opened with onepush inspect shows its newest rows at once, and "older" pages back (the built CLI)', async () => {
    const LINES = 1_000_000;
    const file = join(dir, 'million.ndjson');
    await writeBigCaptureLog(file, LINES);
    const cli = startBin(['inspect', file, '--port', '0']);
    try {
      const url = await cli.waitForLine((line) => line.startsWith('http://'));
      const w = await open(url);
      try {
        const newest = Array.from({ length: 100 }, (_, i) => bigLogId(LINES - 1 - i));
        await waitForIds(w.page, newest);
        assert.equal((await rows(w.page))[0]?.type, BIG_LOG_TYPES[(LINES - 1) % BIG_LOG_TYPES.length]);
        await w.page.click('#older');
        await waitForIds(w.page, Array.from({ length: 100 }, (_, i) => bigLogId(LINES - 101 - i)));
        await w.page.waitForFunction(() => /^showing 101–200 of /.test(document.getElementById('count')?.textContent ?? ''));
        await w.page.click('#older');
        await waitForIds(w.page, Array.from({ length: 100 }, (_, i) => bigLogId(LINES - 201 - i)));
        await w.page.click('#newer');
        await waitForIds(w.page, Array.from({ length: 100 }, (_, i) => bigLogId(LINES - 101 - i)));
        // Counting the whole log ends, and the page says how many.
        await w.page.waitForFunction((n) => document.getElementById('total')?.textContent === `${n.toLocaleString('en-US')} records`, LINES, { timeout: 120_000 });
        await assertClean(w);
      } finally {
        await w.close();
      }
    } finally {
      await cli.stop();
      rmSync(file, { force: true });
    }
  });

  test('the keyboard: j and k move the selection, Enter opens the detail, Escape closes it (the built CLI)', async () => {
    const l = await listen();
    try {
      const ids = (await trigger(l.url, 'email.sent', 'email.delivered', 'email.opened')).reverse();
      const w = await open(l.inspector);
      try {
        await waitForIds(w.page, ids);
        const selected = (): Promise<string | null> => w.page.evaluate(() => document.querySelector('#list .row.selected .id')?.textContent ?? null);
        const press = async (key: string, want: string): Promise<void> => {
          await w.page.keyboard.press(key);
          await w.page.waitForFunction((id) => document.querySelector('#list .row.selected .id')?.textContent === id, want);
        };
        assert.equal(await selected(), null);
        await press('j', ids[0] as string);
        await press('j', ids[1] as string);
        await press('j', ids[2] as string);
        await press('k', ids[1] as string);
        await w.page.keyboard.press('Enter');
        await w.page.waitForFunction((id) => document.querySelector('#detail:not([hidden]) #detail-title .id')?.textContent === id, ids[1] as string);
        await w.page.keyboard.press('Escape');
        await w.page.waitForSelector('#detail', { state: 'hidden' });
        // The selection stays; j goes on from it.
        await press('j', ids[2] as string);
        await assertClean(w);
      } finally {
        await w.close();
      }
    } finally {
      await l.cli.stop();
    }
  });
});
