import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Chalk } from 'chalk';
import { startEventOutput, type OutputSettings } from '../src/commands/listen-output.js';
import { eventJson, eventLines, type RenderOptions } from '../src/commands/listen-render.js';
import { startListener, type ListenEvent } from '../src/app/listen.js';

// The output thread of `listen` (src/commands/listen-output.ts): the CLI's listener skips the schema check
// (checkSchemas: false) and the thread runs it when rendering. Whatever path an event takes (the worker thread
// writing a file descriptor, or this thread when there is none), the text must be exactly what rendering the
// fully checked event gives.

const SECRET = 'whsec_output';
const hmac = (body: string): string => createHmac('sha256', SECRET).update(body).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'onepush-output-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TYPES = ['email.sent', 'email.delivered', 'email.opened', 'email.clicked', 'email.bounced', 'email.complained', 'email.unsubscribed'];
const fixture = (type: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`../fixtures/${type}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;

/** Requests that cover every branch of an event line: each type, schema issues, unknown type, no id, 401, 400, a duplicate, a multi-line body. */
function requests(): Array<{ body: string; signature?: string }> {
  const list: Array<{ body: string; signature?: string }> = TYPES.map((t) => ({ body: JSON.stringify(fixture(t)) }));
  const bounced = fixture('email.bounced');
  list.push({ body: JSON.stringify({ ...bounced, id: 'evt_bad', data: { ...(bounced.data as object), bounce: { type: 'maybe', smtp_code: 'x' } } }) });
  list.push({ body: JSON.stringify({ id: 'evt_unknown', type: 'email.teleported', data: {} }) });
  list.push({ body: JSON.stringify({ ...fixture('email.sent'), id: undefined }) });
  list.push({ body: JSON.stringify(fixture('email.opened')), signature: 'f'.repeat(64) });
  list.push({ body: '{"truncated": ' });
  list.push({ body: JSON.stringify(fixture('email.sent')) });
  list.push({ body: JSON.stringify(fixture('email.clicked'), null, 2) });
  return list;
}

/** The events a listener reports for `requests()`, with or without the schema check. */
async function collect(checkSchemas: boolean): Promise<ListenEvent[]> {
  const events: ListenEvent[] = [];
  let t = Date.parse('2026-11-27T10:00:00.000Z');
  const listener = await startListener({ port: 0, secret: SECRET, checkSchemas, onEvent: (e) => events.push(e), now: () => new Date((t += 1500)) });
  for (const r of requests()) {
    const res = await fetch(listener.url, { method: 'POST', body: r.body, headers: { 'x-onepush-signature': r.signature ?? hmac(r.body) } });
    await res.text();
  }
  await listener.close();
  return events;
}

const checked = await collect(true);
const unchecked = await collect(false);
// The two listeners ran on different ports: the only header that differs.
for (const e of [...checked, ...unchecked]) e.headers = { ...e.headers, host: 'localhost' };

test('checkSchemas: false leaves only the schema check out of the events, nothing else', () => {
  assert.equal(unchecked.length, checked.length);
  const bad = checked.find((e) => e.id === 'evt_bad');
  assert.ok(bad && bad.schema_issues.length >= 2 && bad.reason?.startsWith('schema: '), 'the checked listener reports the schema issues');
  const badUnchecked = unchecked.find((e) => e.id === 'evt_bad');
  assert.deepEqual(badUnchecked?.schema_issues, []);
  assert.equal(badUnchecked?.reason, null);
  for (const [i, e] of unchecked.entries()) {
    const ref = checked[i] as ListenEvent;
    assert.deepEqual({ ...e, schema_issues: ref.schema_issues, reason: ref.reason }, ref, `event ${i}`);
  }
});

for (const json of [true, false]) {
  for (const verbose of [false, true]) {
    test(`the output thread prints what rendering the checked events gives (${json ? '--json' : 'pretty'}${verbose ? ', --verbose' : ''})`, async () => {
      const settings: OutputSettings = { json, verbose, level: 0, localTime: false, save: '.onepush/events.ndjson' };
      const render: RenderOptions = { c: new Chalk({ level: 0 }), clock: (d) => d.toISOString(), verbose, save: settings.save };
      const expected = checked.map((e) => (json ? `${eventJson(e, verbose)}\n` : eventLines(e, render).map((l) => `${l}\n`).join(''))).join('') + 'forwarding line\n';
      assert.match(expected, /schema: data\.bounce\.type/, 'the expected text shows the schema issues');

      // Through a worker thread writing a file.
      const file = join(dir, `out-${json}-${verbose}.txt`);
      const fd = openSync(file, 'w');
      const warnings: string[] = [];
      const threaded = startEventOutput({ settings, fd, write: () => assert.fail('the thread writes, not this one'), warn: (m) => warnings.push(m), onClosed: () => assert.fail('not closed') });
      for (const e of unchecked) threaded.event(e);
      threaded.line('forwarding line');
      // A file is always writable: no reason to give up on it (the default 2 s is for a stdout nobody reads, and a
      // loaded machine can take longer than that to start a thread).
      await threaded.close([], 120_000);
      closeSync(fd);
      assert.deepEqual(warnings, []);
      assert.equal(readFileSync(file, 'utf8'), expected);

      // Without a descriptor, on this thread.
      let here = '';
      const local = startEventOutput({ settings, fd: undefined, write: (t) => (here += t), warn: (m) => assert.fail(m), onClosed: () => assert.fail('not closed') });
      for (const e of unchecked) local.event(e);
      local.line('forwarding line');
      await local.close();
      assert.equal(here, expected);
    });
  }
}

test('if the output thread fails (here: stdout is not an open descriptor), it is started again, then printing moves to this thread, and nothing it held is lost', async () => {
  // Far above any descriptor the process could have open: every thread's first write fails with EBADF.
  const fd = 2_000_000_000;
  const warnings: string[] = [];
  let warned: () => void = () => {};
  const movedHere = new Promise<void>((resolve) => (warned = resolve));
  let here = '';
  const settings: OutputSettings = { json: true, verbose: false, level: 0, localTime: false, save: null };
  const warn = (m: string): void => {
    warnings.push(m);
    if (m.includes('printing from the main thread')) warned();
  };
  const out = startEventOutput({ settings, fd, write: (t) => (here += t), warn, onClosed: () => assert.fail('not a closed reader') });
  out.event(unchecked[0] as ListenEvent);
  // Each thread takes the batch it was given and fails on it; after two restarts the batch is printed here.
  await movedHere;
  assert.equal(warnings.length, 3, warnings.join('\n'));
  assert.match(warnings[0] ?? '', /^the output thread failed \(.*EBADF.*\): starting it again$/);
  assert.match(warnings[2] ?? '', /^the output thread failed \(.*EBADF.*\): printing from the main thread from now on$/);
  for (const e of unchecked.slice(1)) out.event(e);
  await out.close();
  assert.equal(warnings.length, 3);
  assert.equal(here, checked.map((e) => `${eventJson(e, false)}\n`).join(''), 'the batch the threads held is printed, once, in order');
});
