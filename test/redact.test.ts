import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { existsSync, lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Redactor } from '../src/core/redact.js';
import { readCaptures, runBin, runCli, startCli } from './helpers/cli.js';
import { startStrictReceiver } from './helpers/servers.js';

// Issue 17: `onepush redact` and `listen --redact`. A realistic capture log is made the way a user makes one
// (`onepush trigger` against `onepush listen --save`, with the fields of ../shared/EMAIL-EVENTS.md, plus a proxy's
// headers), then every personal value in it is looked for in the redacted bytes.

const SECRET = 'whsec_listener_secret';
/** The redacted copies are signed with another secret: proof that they were re-signed. */
const FIXTURE_SECRET = 'whsec_fixture_secret';
const dir = mkdtempSync(join(tmpdir(), 'onepush-redact-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const JANE = 'jane.doe@bigcorp.io';
const BOB = 'bob.smith@mailbox.org';
const CAROL = 'Carol.Danvers@Provider.EXAMPLE';
const SENDER = 'billing@acme-corp.io';
const OPS = 'ops-team@acme-corp.io';
/** Every personal value the log holds: none may survive redaction. */
const ORIGINALS = {
  addresses: [JANE, BOB, CAROL, SENDER, OPS, 'jane.doe%40bigcorp.io'],
  names: ['Jane Doe', 'Acme Billing', 'Bob Smith', 'Carol Danvers'],
  subjects: ['Your invoice #4411 is ready', 'Password reset for your account', 'Quarterly newsletter: what changed'],
  ips: ['81.2.69.160', '81.2.69.161', '81.2.69.162', '2a02:1810:8c0a:4c00::5', '2001:67c:2e8:22::c100:68b', '2001:67c:2e8:22::c100:68c', '192.168.17.4'],
  agents: ['Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Jane-Phone'],
};
const everyOriginal = Object.values(ORIGINALS).flat();

const from = `Acme Billing <${SENDER}>`;
/** The lifecycle of one email to Jane (one email_id), a bounce to Bob, a complaint from Carol. */
const EVENTS: Array<[string, Record<string, unknown>]> = [
  ['email.sent', { data: { email_id: 'em_life_jane', from, to: [`Jane Doe <${JANE}>`], subject: ORIGINALS.subjects[0], tags: { owner: OPS } } }],
  ['email.delivered', { data: { email_id: 'em_life_jane', from, to: [`Jane Doe <${JANE}>`], subject: ORIGINALS.subjects[0] } }],
  ['email.opened', { data: { email_id: 'em_life_jane', from, to: [JANE], subject: ORIGINALS.subjects[0], open: { ip: '81.2.69.160', user_agent: ORIGINALS.agents[0] } } }],
  [
    'email.clicked',
    {
      data: {
        email_id: 'em_life_jane',
        from,
        to: [JANE],
        subject: ORIGINALS.subjects[0],
        click: { ip: '2a02:1810:8c0a:4c00::5', url: 'https://acme-corp.io/invoice/4411?u=jane.doe%40bigcorp.io', user_agent: ORIGINALS.agents[0] },
      },
    },
  ],
  [
    'email.bounced',
    {
      data: {
        email_id: 'em_bob',
        from,
        to: [`"Bob Smith" <${BOB}>`],
        subject: ORIGINALS.subjects[1],
        bounce: { type: 'hard', smtp_code: 550, enhanced_status: '5.1.1', diagnostic: `550 5.1.1 <${BOB}>: Recipient address rejected (client 192.168.17.4)` },
      },
    },
  ],
  ['email.complained', { data: { email_id: 'em_carol', from, to: [CAROL], subject: ORIGINALS.subjects[2], recipient_name: 'Carol Danvers', complaint: { feedback_type: 'abuse', provider: 'provider.example' } } }],
  ['email.unsubscribed', { data: { email_id: 'em_life_jane', from, to: [JANE], subject: ORIGINALS.subjects[0], unsubscribe: { method: 'link', list: 'invoices', email: JANE } } }],
];

/** POSTs `body` to `url` with `headers` (what a proxy in front of the listener adds), signed when `secret` is given. */
function post(url: string, body: string, headers: Record<string, string>, secret?: string): Promise<number> {
  const all: Record<string, string> = { 'content-type': 'application/json', ...headers };
  if (secret !== undefined) all['x-onepush-signature'] = createHmac('sha256', secret).update(body).digest('hex');
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers: all }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const log = join(dir, 'events.ndjson');
/** Captures of bodies that are not JSON (one with personal data, one without), answered 400. */
const oddLog = join(dir, 'odd.ndjson');

before(async () => {
  for (const [file, extra] of [
    [log, true],
    [oddLog, false],
  ] as const) {
    const cli = startCli(['listen', '--json', '--port', '0', '--save', file, '--no-ui', '--secret', SECRET], { cwd: dir });
    const ready = JSON.parse(await cli.waitForLine((l) => l.includes('"ready"'))) as { url: string };
    if (extra) {
      for (const [i, [type, data]] of EVENTS.entries()) {
        const dataFile = join(dir, `data-${i}.json`);
        writeFileSync(dataFile, JSON.stringify(data));
        const r = await runCli(['trigger', type, '--to', ready.url, '--secret', SECRET, '--data', dataFile], { cwd: dir });
        assert.equal(r.code, 0, r.stdout + r.stderr);
      }
      // Through a proxy: the client's addresses in x-forwarded-for, x-real-ip and Forwarded.
      const body = JSON.stringify({ id: 'evt_proxied', type: 'email.opened', created_at: '2026-11-30T10:00:00.000Z', data: { email_id: 'em_life_jane', from, to: [JANE], subject: ORIGINALS.subjects[0], open: { ip: '81.2.69.161' } } });
      const status = await post(ready.url, body, { 'x-forwarded-for': '81.2.69.161, 2001:67c:2e8:22::c100:68b', 'x-real-ip': '81.2.69.162', forwarded: 'for="[2001:67c:2e8:22::c100:68c]";proto=https' }, SECRET);
      assert.equal(status, 200);
    } else {
      assert.equal(await post(ready.url, `please remove ${JANE} from 81.2.69.160`, { 'content-type': 'text/plain' }), 400);
      assert.equal(await post(ready.url, 'hello, not json', { 'content-type': 'text/plain' }), 400);
    }
    const stopped = await cli.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
  }
});

describe('onepush redact', () => {
  test('no original address, name, subject, IP or user agent survives anywhere in the output; the input had every one', async () => {
    const input = readFileSync(log, 'utf8');
    for (const v of everyOriginal) assert.ok(input.includes(v) || input.includes(JSON.stringify(v).slice(1, -1)), `the realistic log holds ${v}`);
    const out = join(dir, 'fixture.ndjson');
    const r = await runCli(['redact', log, '-o', out, '--secret', FIXTURE_SECRET], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /events\.ndjson → .*fixture\.ndjson {2}8 captures redacted and re-signed/);
    const bytes = readFileSync(out, 'utf8');
    for (const v of everyOriginal) {
      assert.ok(!bytes.toLowerCase().includes(v.toLowerCase()), `${v} survived`);
      assert.ok(!bytes.toLowerCase().includes(JSON.stringify(v).slice(1, -1).toLowerCase()), `${v} survived (escaped)`);
    }
    // Fakes use reserved names only.
    for (const m of bytes.matchAll(/[\w.+-]+@([\w-]+(?:\.[\w-]+)+)/g)) assert.match(m[1] as string, /^(example\.(com|org|net)|[\w.-]+\.test)$/, m[0]);
    const captures = readCaptures(out);
    assert.equal(captures.length, 8);
    // Other capture fields kept.
    const original = readCaptures(log);
    for (const [i, c] of captures.entries()) {
      for (const f of ['v', 'received_at', 'method', 'status', 'body_encoding']) assert.deepEqual(c[f], original[i]?.[f], f);
      const o = JSON.parse(original[i]?.body as string) as { id: string; type: string; created_at: string };
      const b = JSON.parse(c.body as string) as { id: string; type: string; created_at: string };
      assert.deepEqual([b.id, b.type, b.created_at], [o.id, o.type, o.created_at]);
      assert.equal(c.verified, true);
    }
  });

  test("fakes are stable: one email's events keep one recipient and sender, across files and runs with the same seed", async () => {
    const a = await runCli(['redact', log, '-o', '-', '--secret', FIXTURE_SECRET], { cwd: dir });
    const b = await runCli(['redact', log, '-o', '-', '--secret', FIXTURE_SECRET], { cwd: dir });
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout, 'the default seed is fixed: the same log gives the same fixture');
    const bodies = a.stdout.trim().split('\n').map((l) => JSON.parse((JSON.parse(l) as { body: string }).body) as { data: Record<string, unknown> & { to: string[]; email_id: string; from: string } });
    const jane = bodies.filter((e) => e.data.email_id === 'em_life_jane');
    assert.equal(jane.length, 6);
    const address = (s: string): string => /<([^>]+)>/.exec(s)?.[1] ?? s;
    const recipients = new Set(jane.map((e) => address(e.data.to[0] as string)));
    assert.equal(recipients.size, 1, `one recipient: ${[...recipients].join(', ')}`);
    assert.match([...recipients][0] as string, /^user-[0-9a-f]+@example\.com$/);
    assert.equal(new Set(bodies.map((e) => e.data.from)).size, 1, 'one sender');
    assert.equal(new Set(jane.map((e) => e.data.subject)).size, 1, 'one subject');
    assert.equal((jane.find((e) => 'unsubscribe' in e.data)?.data.unsubscribe as { email: string }).email, [...recipients][0]);
    const others = bodies.filter((e) => e.data.email_id !== 'em_life_jane').map((e) => address(e.data.to[0] as string));
    assert.equal(new Set([...others, ...recipients]).size, 3, 'different people keep different fakes');
    const seeded = await runCli(['redact', log, '-o', '-', '--secret', FIXTURE_SECRET, '--seed', 'another'], { cwd: dir });
    assert.notEqual(seeded.stdout, a.stdout);
    // The same Redactor across two captures of one address (the core, directly): the same fake.
    const r = new Redactor(FIXTURE_SECRET);
    assert.equal(r.scrub(`to ${JANE}`), r.scrub(`to ${JANE.toUpperCase()}`));
    // A key that holds an address is replaced too, and a "__proto__" key stays a key.
    const keyed = JSON.stringify(r.redactJson(JSON.parse(`{"__proto__":{"a":1},"${JANE}":true}`)));
    assert.equal(keyed, `{"__proto__":{"a":1},"${r.scrub(JANE)}":true}`);
  });

  test('the output verifies with the new secret (and not the old one), and replays, re-signed or with its own signature (the built CLI)', async () => {
    const out = join(dir, 'replayable.ndjson');
    assert.equal((await runBin(['redact', log, '--out', out, '--secret', FIXTURE_SECRET], { cwd: dir })).code, 0);
    const verified = await runBin(['verify', out, '--secret', FIXTURE_SECRET], { cwd: dir });
    assert.equal(verified.code, 0, verified.stdout + verified.stderr);
    assert.equal((await runBin(['verify', out, '--secret', SECRET], { cwd: dir })).code, 1);
    const app = await startStrictReceiver(FIXTURE_SECRET);
    try {
      const replayed = await runBin(['replay', out, '--to', app.url, '--secret', FIXTURE_SECRET], { cwd: dir });
      assert.equal(replayed.code, 0, replayed.stdout + replayed.stderr);
      const kept = await runBin(['replay', out, '--to', app.url, '--keep-signature'], { cwd: dir });
      assert.equal(kept.code, 0, kept.stdout + kept.stderr);
      assert.equal(app.received.length, 16);
      const sent = Buffer.concat(app.received.map((q) => q.body)).toString('utf8');
      for (const v of everyOriginal) assert.ok(!sent.includes(v), `${v} was sent`);
    } finally {
      await app.close();
    }
  });

  test('a body that is not JSON is kept when it holds no personal data, else replaced and flagged', async () => {
    const r = await runCli(['redact', oddLog, '-o', '-', '--secret', FIXTURE_SECRET], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /1 non-JSON body with personal data replaced/);
    const [personal, plain] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(personal?.body, '');
    assert.equal(personal?.redacted, 'body replaced: not JSON, and it held personal data');
    assert.equal(plain?.body, 'hello, not json');
    assert.equal(plain?.redacted, undefined);
    assert.ok(!r.stdout.includes(JANE) && !r.stdout.includes('81.2.69.160'));
  });

  test('default output beside the input, never overwritten without --force, never through a symlink', async () => {
    const copy = join(dir, 'copy.ndjson');
    writeFileSync(copy, readFileSync(log));
    const first = await runCli(['redact', copy, '--secret', FIXTURE_SECRET], { cwd: dir });
    assert.equal(first.code, 0, first.stderr);
    const beside = join(dir, 'copy.redacted.ndjson');
    assert.ok(existsSync(beside));
    assert.equal((lstatSync(beside).mode & 0o777).toString(8), '600');
    const again = await runCli(['redact', 'copy.ndjson', '--secret', FIXTURE_SECRET], { cwd: dir });
    assert.equal(again.code, 2);
    assert.match(again.stderr, /^onepush: copy\.redacted\.ndjson exists: not overwritten\n/);
    assert.equal((await runCli(['redact', copy, '--secret', FIXTURE_SECRET, '--force'], { cwd: dir })).code, 0);
    // A planted link: refused, even with --force, and what it points to is untouched.
    const target = join(dir, 'precious.txt');
    writeFileSync(target, 'keep me');
    const link = join(dir, 'link.ndjson');
    symlinkSync(target, link);
    for (const force of [[], ['--force']]) {
      const r = await runCli(['redact', copy, '-o', link, '--secret', FIXTURE_SECRET, ...force], { cwd: dir });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /link\.ndjson is a symbolic link: onepush never writes through one/);
      assert.equal(r.stderr.split('\n').filter((l) => l.startsWith('onepush:')).length, 1);
    }
    assert.equal(readFileSync(target, 'utf8'), 'keep me');
    assert.ok(lstatSync(link).isSymbolicLink());
  });

  test('bad input is exit 2 with one line: a missing file, a file that is not a capture log, no secret; an empty log is nothing to do (1)', async () => {
    const missing = await runCli(['redact', 'nope.ndjson', '--secret', FIXTURE_SECRET], { cwd: dir });
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /^onepush: cannot read nope\.ndjson: no such file\n/);
    const event = join(dir, 'event.json');
    writeFileSync(event, '{"id":"evt_1","type":"email.sent"}\n');
    const notLog = await runCli(['redact', event, '--secret', FIXTURE_SECRET], { cwd: dir });
    assert.equal(notLog.code, 2);
    assert.match(notLog.stderr, /^onepush: .*event\.json is not a capture log \(line 1: not a capture \(no "v" field\)\)\n/);
    assert.ok(!existsSync(join(dir, 'event.redacted.ndjson')), 'nothing written');
    const noSecret = await runCli(['redact', log], { cwd: dir });
    assert.equal(noSecret.code, 2);
    const empty = join(dir, 'empty.ndjson');
    writeFileSync(empty, '');
    const nothing = await runCli(['redact', empty, '--secret', FIXTURE_SECRET], { cwd: dir });
    assert.equal(nothing.code, 1);
    assert.match(nothing.stderr, /nothing to redact/);
    assert.ok(!existsSync(join(dir, 'empty.redacted.ndjson')));
    for (const r of [missing, notLog, noSecret]) assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});

describe('onepush listen --redact', () => {
  test('saves redacted, re-signed captures; the app gets the real event; without a secret it cannot run', async () => {
    const app = await startStrictReceiver(SECRET);
    const saved = join(dir, 'listen-redacted.ndjson');
    const cli = startCli(['listen', '--json', '--port', '0', '--save', saved, '--no-ui', '--secret', SECRET, '--redact', '--forward-to', app.url], { cwd: dir });
    try {
      const ready = JSON.parse(await cli.waitForLine((l) => l.includes('"ready"'))) as { url: string };
      for (const i of [0, 4]) {
        const r = await runCli(['trigger', EVENTS[i]?.[0] as string, '--to', ready.url, '--secret', SECRET, '--data', join(dir, `data-${i}.json`)], { cwd: dir });
        assert.equal(r.code, 0, r.stderr);
      }
      await app.waitFor(2);
    } finally {
      await cli.stop();
      await app.close();
    }
    const bytes = readFileSync(saved, 'utf8');
    for (const v of [JANE, BOB, 'Jane Doe', 'Bob Smith', SENDER, ORIGINALS.subjects[0] as string, '192.168.17.4']) assert.ok(!bytes.includes(v), `${v} was saved`);
    const forwarded = Buffer.concat(app.received.map((q) => q.body)).toString('utf8');
    assert.ok(forwarded.includes(JANE) && forwarded.includes(BOB), 'the app got the real events');
    const v = await runCli(['verify', saved, '--secret', SECRET], { cwd: dir });
    assert.equal(v.code, 0, v.stdout + v.stderr);
    const none = await runCli(['listen', '--port', '0', '--no-save', '--redact'], { cwd: dir });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /listen --redact needs a secret/);
  });
});
