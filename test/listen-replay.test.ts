import { strict as assert } from 'node:assert';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { request } from 'undici';
import { runCli, startCli } from './helpers/cli.js';
import { startRawServer, startStrictReceiver } from './helpers/servers.js';

// Issue #4's round trip: what `listen` captured, `replay` sends again — byte for byte with --keep-signature,
// re-signed with another secret otherwise — and `listen --json` output is a replay source too. In-process.

const A = 'whsec_listen_side';
const B = 'whsec_staging_side';
const hmac = (body: string, secret: string): string => createHmac('sha256', secret).update(body).digest('hex');
const dir = mkdtempSync(join(tmpdir(), 'onepush-roundtrip-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const bodies = [
  '{"id":"evt_rt1","type":"email.sent","created_at":"2026-11-27T10:00:00.000Z","data":{"email_id":"em_1","to":["jane@example.com"]}}',
  '{\n  "id": "evt_rt2",\n  "type": "email.delivered",\n  "created_at": "2026-11-27T10:00:01.000Z",\n  "data": {"email_id": "em_1"}\n}\n',
  '{"type":"email.opened","id":"evt_rt3","created_at":"2026-11-27T10:00:02.000Z","data":{"email_id":"em_1","subject":"Grüße — 你好 👋"}}',
  '{"id":"evt_rt4","type":"email.bounced","created_at":"2026-11-27T10:00:03.000Z","data":{"email_id":"em_2","bounce":{"type":"hard"}}}',
];

describe('listen → replay', () => {
  it('replays what listen captured: byte-identical with --keep-signature, in order; re-signed verifies with the new secret', async () => {
    const save = join(dir, 'events.ndjson');
    const listen = startCli(['listen', '--json', '--port', '0', '--secret', A, '--save', save]);
    const ready = JSON.parse(await listen.waitForLine((l) => l.includes('"kind":"ready"'))) as { port: number };
    for (const body of bodies) {
      const res = await request(`http://127.0.0.1:${ready.port}/webhooks/onepush`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-onepush-signature': hmac(body, A) },
        body,
      });
      await res.body.dump();
      assert.equal(res.statusCode, 200);
    }
    const stopped = await listen.stop();
    assert.equal(stopped.code, 0, stopped.stderr);
    writeFileSync(join(dir, 'listen.ndjson'), `${stopped.stdout}\n`);

    const sink = await startRawServer();
    try {
      const r = await runCli(['replay', save, '--to', sink.url, '--keep-signature']);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(sink.received.map((x) => x.body.toString('utf8')), bodies);
      assert.deepEqual(sink.received.map((x) => x.headers['x-onepush-signature']), bodies.map((b) => hmac(b, A)));
    } finally {
      await sink.close();
    }

    const staging = await startStrictReceiver(B);
    try {
      const r = await runCli(['replay', save, '--to', staging.url, '--secret', B]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(staging.received.length, bodies.length);
      const wrong = await runCli(['replay', save, '--to', staging.url, '--secret', A, '--last', '1']);
      assert.equal(wrong.code, 1, 'signed with the old secret, the strict receiver refuses');
    } finally {
      await staging.close();
    }

    const fromJson = await startStrictReceiver(B);
    try {
      const r = await runCli(['replay', join(dir, 'listen.ndjson'), '--to', fromJson.url, '--secret', B, '--type', 'email.b*']);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(fromJson.received.length, 1);
      assert.equal((JSON.parse(fromJson.received[0]!.body.toString('utf8')) as { id: string }).id, 'evt_rt4');
    } finally {
      await fromJson.close();
    }
  });
});
