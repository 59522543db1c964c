import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server, type ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import express from 'express';
import { BIN, cliEnv, HAS_SCRIPT, runCli, spawnOnTerminal, startBin, startCli, type InProcessCli, type LiveCli, type RunResult } from './helpers/cli.js';
import { freePort, HAS_OPENSSL, startHttpsApp, startRawServer, startStrictReceiver, type Received, type TestServer } from './helpers/servers.js';

// What a new user trips on (issue #13): each numbered item of the issue has tests here, with real loopback peers:
// in-process through src/cli.ts's `run`, and the built CLI (dist/) where a process matters (a pipe, a terminal,
// Ctrl-C, a command run as printed from a folder). Files a test writes (.env, capture logs) go in a temp folder used
// as the CLI's cwd: the CLI reads .env from its cwd, and the repository must stay clean (an in-process run resolves
// files against this process's folder, so it is given absolute paths).

const SECRET = 'whsec_newuser_suite';
const hmac = (body: string | Buffer, secret = SECRET): string => createHmac('sha256', secret).update(body).digest('hex');
const NO_STACK = /\n\s+at /;

const folders: string[] = [];
after(() => {
  for (const d of folders) rmSync(d, { recursive: true, force: true });
});
/** A fresh temp folder, removed after the file's tests. */
function project(): string {
  const d = mkdtempSync(join(tmpdir(), 'onepush-newuser-'));
  folders.push(d);
  return d;
}

let n = 0;
/** A shipped fixture as compact JSON, with its own id. */
function fixture(type: string, id = `evt_${type.slice(6)}_${++n}`, change?: (event: Record<string, unknown> & { data: Record<string, unknown> }) => void): string {
  const event = JSON.parse(readFileSync(new URL(`../fixtures/${type}.json`, import.meta.url), 'utf8')) as Record<string, unknown> & { data: Record<string, unknown> };
  event.id = id;
  change?.(event);
  return JSON.stringify(event);
}

async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<{ status: number; text: string }> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, text: await res.text() };
}
const signed = (url: string, body: string, secret = SECRET): Promise<{ status: number; text: string }> => post(url, body, { 'x-onepush-signature': hmac(body, secret) });

/** The id of a request a test peer received. */
const idOf = (r: Received): string => String((JSON.parse(r.body.toString('utf8')) as { id?: unknown }).id);
const validSignature = (r: Received, secret: string): boolean => r.headers['x-onepush-signature'] === hmac(r.body, secret);

type Options = { cwd?: string; env?: Record<string, string | undefined> };
type Start = typeof startCli | typeof startBin;

/** `listen --json --port 0 …`, once its ready line came: in-process, or the built CLI with `start` startBin. */
async function listenJson(args: string[], options: Options = {}, start: Start = startCli): Promise<{ cli: InProcessCli | LiveCli; url: string; port: number }> {
  const cli = start(['listen', '--port', '0', '--json', ...args], options);
  const ready = JSON.parse(await cli.waitForLine((l) => l.includes('"kind":"ready"'))) as { port: number };
  return { cli, port: ready.port, url: `http://127.0.0.1:${ready.port}/webhooks/onepush` };
}

/** `listen --port 0 …` with its human output (the banner on stderr), once Ready; the port from the banner. */
async function listenPretty(args: string[], options: Options = {}, start: Start = startCli): Promise<{ cli: InProcessCli | LiveCli; url: string; port: number; banner: string }> {
  const cli = start(['listen', '--port', '0', ...args], options);
  const m = await cli.waitForStderr(/Webhook URL +http:\/\/localhost:(\d+)\/[^\n]*\n[\s\S]*Ready/);
  const port = Number(m[1]);
  return { cli, port, url: `http://127.0.0.1:${port}/webhooks/onepush`, banner: cli.stderr() };
}

const jsonOf = (cli: { stdoutLines: string[] }): Array<Record<string, unknown>> => cli.stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>);

/** A node:http server on 127.0.0.1:0 (for a handler that needs the raw request, or an https one). */
async function serve(server: Server): Promise<{ port: number; close: () => Promise<void> }> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      server.closeAllConnections();
      server.close();
      await once(server, 'close');
    },
  };
}

/** Answers like startStrictReceiver: 200 when the HMAC of the raw body with `secret` matches, else 401. */
function answerStrictly(r: Received, res: ServerResponse, secret: string): void {
  const ok = validSignature(r, secret);
  res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
  res.end(ok ? '{"ok":true}' : '{"error":"bad signature"}');
}

/** A case line of `check`'s human output: mark, number, name. */
const CASE_LINE = /^(✔|✘|⚠|■|-) +(\d+) {2}(\S+)/;
const caseLines = (stdout: string): Array<{ mark: string; number: number; name: string; line: string }> =>
  stdout
    .split('\n')
    .map((line) => ({ line, m: CASE_LINE.exec(line) }))
    .filter((x): x is { line: string; m: RegExpExecArray } => x.m !== null)
    .map(({ line, m }) => ({ mark: m[1] ?? '', number: Number(m[2]), name: m[3] ?? '', line }));

interface CaseReport {
  number: number;
  name: string;
  result: string;
  security: boolean;
  message: string;
  note: string | null;
  details: Record<string, unknown>;
}
interface CheckReport {
  cases: CaseReport[];
  summary: Record<string, number>;
  exit: number;
}
const report = (r: RunResult): CheckReport => JSON.parse(r.stdout) as CheckReport;
const byNumber = (rep: CheckReport, k: number): CaseReport => {
  const c = rep.cases.find((x) => x.number === k);
  assert.ok(c, `case ${k} in the report`);
  return c;
};

const EXPRESS_404 = '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n<title>Error</title>\n</head>\n<body>\n<pre>Cannot POST /webhooks/onepush</pre>\n</body>\n</html>\n';
const answer404 = (_r: Received, res: ServerResponse): void => {
  res.writeHead(404, { 'content-type': 'text/html; charset=utf-8' });
  res.end(EXPRESS_404);
};

describe('1. check never passes what it did not prove', () => {
  test('an app answering 404 to everything: exit 1, case 1 fails, 2–7, 9 and 10 are blocked by case 1 (not passed), case 8 still judged', async () => {
    const app = await startRawServer(answer404);
    try {
      const r = await runCli(['check', app.url, '--secret', 's', '--json']);
      assert.equal(r.code, 1, r.stderr);
      const rep = report(r);
      assert.equal(rep.exit, 1);
      assert.equal(byNumber(rep, 1).result, 'fail');
      for (const k of [2, 3, 4, 5, 6, 7, 9, 10]) {
        const c = byNumber(rep, k);
        assert.equal(c.result, 'blocked', `case ${k} ${c.name}: ${c.message}`);
        assert.ok(c.message.startsWith('blocked by case 1: valid events got 404: check the path of the URL'), c.message);
      }
      for (const k of [2, 3, 4]) assert.equal(byNumber(rep, k).security, true);
      const latency = byNumber(rep, 8);
      assert.equal(latency.result, 'pass', 'case 8 judges the answers case 1 got');
      assert.match(latency.message, /^every answer within 5 s: .* over 7 requests$/);
      assert.deepEqual(rep.summary, { passed: 1, failed: 1, warned: 0, skipped: 0, blocked: 8 });
      // Only case 1's seven events were sent: the blocked cases sent nothing.
      assert.equal(app.received.length, 7);
    } finally {
      await app.close();
    }
  });

  test('the same, pretty: ■ marks saying "blocked by case 1", and the summary counts them', async () => {
    const app = await startRawServer(answer404);
    try {
      const r = await runCli(['check', app.url, '--secret', 's']);
      assert.equal(r.code, 1, r.stderr);
      const lines = caseLines(r.stdout);
      assert.deepEqual(lines.map((l) => l.number), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.equal(lines[0]?.mark, '✘');
      for (const l of lines.filter((x) => ![1, 8].includes(x.number))) {
        assert.equal(l.mark, '■', l.line);
        assert.match(l.line, /blocked by case 1: valid events got 404: check the path of the URL$/);
      }
      assert.equal(lines[7]?.mark, '✔', lines[7]?.line);
      assert.doesNotMatch(r.stdout, /^✔ +[2-4] /m, 'no security case shows as passed');
      assert.match(r.stdout, /^1 passed · 1 failed · 0 warnings · 0 skipped · 8 blocked by case 1$/m);
    } finally {
      await app.close();
    }
  });

  test('an app that accepts valid signed events but answers 404 (not 401) to bad signatures: cases 2–4 warn, never pass', async () => {
    const app = await startRawServer((r, res) => {
      const ok = validSignature(r, 's');
      res.writeHead(ok ? 200 : 404, { 'content-type': 'text/plain' });
      res.end(ok ? 'ok' : 'Not Found');
    });
    try {
      const r = await runCli(['check', app.url, '--secret', 's', '--json']);
      const rep = report(r);
      assert.equal(byNumber(rep, 1).result, 'pass');
      for (const k of [2, 3, 4]) {
        const c = byNumber(rep, k);
        assert.equal(c.result, 'warn', `case ${k}: ${c.message}`);
        assert.match(c.message, /got 404, which does not show the signature was checked/);
      }
      assert.equal(rep.summary.warned, 3);
      assert.equal(rep.summary.blocked, 0);
      assert.equal(r.code, 0, 'warnings alone do not fail without --strict');
    } finally {
      await app.close();
    }
  });

  test('an app answering 401 to everything (check has the wrong secret): blocked by case 1 with "check the secret"', async () => {
    const app = await startStrictReceiver('whsec_the_apps_own');
    try {
      const r = await runCli(['check', app.url, '--secret', 'whsec_another_one', '--json']);
      assert.equal(r.code, 1, r.stderr);
      const rep = report(r);
      assert.equal(byNumber(rep, 1).result, 'fail');
      for (const k of [2, 3, 4, 5, 6, 7, 9, 10]) {
        const c = byNumber(rep, k);
        assert.equal(c.result, 'blocked');
        assert.ok(c.message.startsWith('blocked by case 1: valid events got 401: check the secret'), c.message);
      }
    } finally {
      await app.close();
    }
  });
});

describe('2. check prints each case as it finishes, even with no terminal', () => {
  test('in a pipe, case 1 is on stdout while case 2\'s request is still waiting for its answer (the built CLI)', async () => {
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => (release = resolve));
    let held: () => void = () => {};
    const case2Held = new Promise<void>((resolve) => (held = resolve));
    let heldOne = false;
    const app = await startRawServer(async (r, res) => {
      if (r.headers['x-onepush-signature'] === undefined && !heldOne) {
        // Case 2's unsigned request: answered only once case 1's line is on stdout.
        heldOne = true;
        held();
        await released;
      }
      answerStrictly(r, res, SECRET);
    });
    const cli = startBin(['check', app.url, '--secret', SECRET]);
    const closed = once(cli.child, 'close') as Promise<[number | null]>;
    try {
      await cli.waitForLine((l) => l.startsWith('✔  1  valid-events'));
      await case2Held;
      assert.equal(cli.stdoutLines.some((l) => /^\S +2 {2}unsigned/.test(l)), false, 'case 2 is not printed before it finished');
      release();
      const [code] = await closed;
      assert.equal(code, 0, cli.stderr());
      // Case 2 got its answer once released (not a timeout), and the run went on to the end.
      assert.ok(cli.stdoutLines.some((l) => /^✔  2  unsigned +rejected with 401$/.test(l)), cli.stdoutLines.join('\n'));
      assert.deepEqual(caseLines(cli.stdoutLines.join('\n')).map((l) => l.number), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    } finally {
      release();
      await cli.stop('SIGKILL');
      await app.close();
    }
  });

  test('Ctrl-C while case 3 waits: exit 130, cases 1 and 2 with their results, the rest "not run: interrupted (Ctrl-C)" (the built CLI)', async () => {
    let waiting: () => void = () => {};
    const case3Waits = new Promise<void>((resolve) => (waiting = resolve));
    const app = await startRawServer((r, res) => {
      const sig = r.headers['x-onepush-signature'];
      if (sig !== undefined && !validSignature(r, SECRET)) {
        // Case 3's wrong signature: never answered.
        waiting();
        return;
      }
      answerStrictly(r, res, SECRET);
    });
    const cli = startBin(['check', app.url, '--secret', SECRET]);
    try {
      await cli.waitForLine((l) => /^✔ +2 {2}unsigned/.test(l));
      await case3Waits;
      const r = await cli.stop('SIGINT');
      assert.equal(r.code, 130, r.stderr);
      const lines = caseLines(r.stdout);
      assert.deepEqual(lines.map((l) => l.number), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.match(lines[0]?.line ?? '', /^✔  1  valid-events +7 types, each answered 2xx$/);
      assert.match(lines[1]?.line ?? '', /^✔  2  unsigned +rejected with 401$/);
      for (const l of lines.slice(2)) assert.match(l.line, /^- +\d+ {2}\S+ +not run: interrupted \(Ctrl-C\)$/);
      assert.match(r.stdout, /^2 passed · 0 failed · 0 warnings · 8 skipped \(interrupted: Ctrl-C\)$/m);
      assert.doesNotMatch(r.stderr, NO_STACK);
    } finally {
      await cli.stop('SIGKILL');
      await app.close();
    }
  });

  test('against a correct app the cases print in number order 1 to 10, latency (8) in its place', async () => {
    const app = await startStrictReceiver(SECRET);
    try {
      const r = await runCli(['check', app.url, '--secret', SECRET]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const lines = caseLines(r.stdout);
      assert.deepEqual(lines.map((l) => l.number), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      assert.equal(lines[7]?.name, 'latency');
      assert.deepEqual(lines.map((l) => l.mark), Array(10).fill('✔'));
      assert.match(r.stdout, /^10 passed · 0 failed · 0 warnings · 0 skipped$/m);
    } finally {
      await app.close();
    }
  });
});

describe('3. the duplicate case says what it proves', () => {
  test('passing, it says "answered 2xx both times" and a note: processing once is for the app\'s own test; --json has the note', async () => {
    const app = await startStrictReceiver(SECRET);
    try {
      const pretty = await runCli(['check', app.url, '--secret', SECRET, '--only', 'duplicate']);
      assert.equal(pretty.code, 0, pretty.stderr);
      const lines = pretty.stdout.split('\n');
      const at = lines.findIndex((l) => /^✔  5  duplicate /.test(l));
      assert.ok(at >= 0, pretty.stdout);
      assert.match(lines[at] ?? '', /answered 2xx both times \(200, then 200\)$/);
      assert.match(lines[at + 1] ?? '', /^ +note: .*processed only once is for your app's own test to prove/);
      const json = await runCli(['check', app.url, '--secret', SECRET, '--only', '5', '--json']);
      const dup = byNumber(report(json), 5);
      assert.equal(dup.result, 'pass');
      assert.match(dup.message, /answered 2xx both times/);
      assert.match(String(dup.note), /processed only once is for your app's own test to prove/);
    } finally {
      await app.close();
    }
  });
});

describe('4. forwarding a developer can steer', () => {
  /** An app that answers 500 to the events whose id is in `failing`, 200 to the rest. */
  async function choosyApp(failing: Set<string>): Promise<TestServer> {
    return startRawServer((r, res) => {
      const bad = failing.has(idOf(r));
      res.writeHead(bad ? 500 : 200, { 'content-type': 'application/json' });
      res.end(bad ? '{"error":"boom"}' : '{"ok":true}');
    });
  }

  test('--max-attempts 2: event A (500) is set aside with a replay command, B after it is delivered, and the printed command delivers A (the built CLI)', async () => {
    const failing = new Set(['evt_steer_A']);
    const app = await choosyApp(failing);
    const cwd = project();
    const { cli, url } = await listenPretty(['--save', 'events.ndjson', '--forward-to', app.url, '--max-attempts', '2'], { cwd }, startBin);
    try {
      assert.equal((await post(url, fixture('email.sent', 'evt_steer_A'))).status, 200);
      assert.equal((await post(url, fixture('email.sent', 'evt_steer_B'))).status, 200);
      await cli.waitForLine((l) => l.includes('↳ email.sent evt_steer_B → app 200'));
      const r = await cli.stop();
      assert.equal(r.code, 0, r.stderr);
      const forwards = cli.stdoutLines.filter((l) => l.includes('↳'));
      assert.equal(forwards.length, 3, forwards.join('\n'));
      assert.match(forwards[0] ?? '', /↳ email\.sent evt_steer_A → app 500 .*"\{"error":"boom"\}" · retry in 250 ms \(attempt 1 of 2, [12] queued\)$/);
      assert.match(forwards[1] ?? '', /↳ email\.sent evt_steer_A → app 500 .* · given up after 2 attempts, set aside · replay it: onepush replay events\.ndjson --id evt_steer_A --to http:\/\/127\.0\.0\.1:\d+\/webhooks\/onepush$/);
      assert.match(forwards[2] ?? '', /↳ email\.sent evt_steer_B → app 200 /);
      assert.deepEqual(app.received.map(idOf), ['evt_steer_A', 'evt_steer_A', 'evt_steer_B']);

      // The printed command, run as printed in the same folder, once the app is fixed.
      failing.clear();
      const command = /replay it: (onepush replay .*)$/.exec(forwards[1] ?? '')?.[1] ?? '';
      const args = command.split(' ');
      assert.equal(args.shift(), 'onepush');
      const replay = await runCli(args, { cwd });
      assert.equal(replay.code, 0, replay.stdout + replay.stderr);
      assert.equal(app.received.length, 4);
      assert.equal(app.received[3] && idOf(app.received[3]), 'evt_steer_A');
    } finally {
      await cli.stop();
      await app.close();
    }
  });

  test('--max-attempts 2 --json: given_up forward lines, and the summary lists A in given_up_ids', async () => {
    const app = await choosyApp(new Set(['evt_json_A']));
    const cwd = project();
    const { cli, url } = await listenJson(['--save', join(cwd, 'events.ndjson'), '--forward-to', app.url, '--max-attempts', '2'], { cwd });
    try {
      assert.equal((await post(url, fixture('email.sent', 'evt_json_A'))).status, 200);
      assert.equal((await post(url, fixture('email.sent', 'evt_json_B'))).status, 200);
      await cli.waitForLine((l) => l.includes('"kind":"forward"') && l.includes('evt_json_B'));
      await cli.stop();
      const lines = jsonOf(cli);
      const forwards = lines.filter((l) => l.kind === 'forward');
      assert.deepEqual(forwards.map((f) => [f.id, f.attempt, f.outcome]), [
        ['evt_json_A', 1, 'retrying'],
        ['evt_json_A', 2, 'given_up'],
        ['evt_json_B', 1, 'delivered'],
      ]);
      const summary = lines.at(-1);
      assert.equal(summary?.kind, 'summary');
      assert.deepEqual(summary?.given_up_ids, ['evt_json_A']);
      assert.equal(summary?.forwarded, 1);
    } finally {
      await cli.stop();
      await app.close();
    }
  });

  test('--forward-timeout 300 against an app that never answers: the forward line says no answer within 300 ms', async () => {
    let arrived: () => void = () => {};
    const first = new Promise<void>((resolve) => (arrived = resolve));
    const app = await startRawServer(() => arrived());
    const { cli, url } = await listenPretty(['--no-save', '--forward-to', app.url, '--forward-timeout', '300']);
    try {
      assert.equal((await post(url, fixture('email.sent', 'evt_slow_app'))).status, 200);
      await first;
      const line = await cli.waitForLine((l) => l.includes('↳'));
      assert.match(line, /↳ email\.sent evt_slow_app → app TIMEOUT \d+ ms "no answer within 300 ms/);
      assert.match(line, /retry in 250 ms/);
    } finally {
      await cli.stop();
      await app.close();
    }
  });

  const hasOpenssl = HAS_OPENSSL;
  const httpsApp = startHttpsApp;

  test('an https app with a self-signed certificate: rejected once (not retried), "TLS certificate not trusted" and --insecure; with --insecure it is delivered', { skip: hasOpenssl ? false : 'openssl is not installed' }, async () => {
    const app = await httpsApp();
    try {
      const plain = await listenJson(['--no-save', '--forward-to', app.url]);
      try {
        assert.equal((await post(plain.url, fixture('email.sent', 'evt_tls_1'))).status, 200);
        const line = JSON.parse(await plain.cli.waitForLine((l) => l.includes('"kind":"forward"'))) as Record<string, unknown>;
        assert.equal(line.outcome, 'rejected', JSON.stringify(line));
        assert.equal(line.attempt, 1);
        assert.equal(line.status, null);
        assert.match(String(line.message), /TLS certificate not trusted/);
        assert.match(String(line.message), /--insecure/);
      } finally {
        await plain.cli.stop();
      }
      const plainLines = jsonOf(plain.cli);
      assert.equal(plainLines.filter((l) => l.kind === 'forward').length, 1, 'tried once');
      assert.equal(plainLines.at(-1)?.queued, 0, 'not kept for a retry');
      assert.equal(app.received(), 0);

      const insecure = await listenJson(['--no-save', '--forward-to', app.url, '--insecure']);
      try {
        assert.equal((await post(insecure.url, fixture('email.sent', 'evt_tls_2'))).status, 200);
        const line = JSON.parse(await insecure.cli.waitForLine((l) => l.includes('"kind":"forward"'))) as Record<string, unknown>;
        assert.equal(line.outcome, 'delivered', JSON.stringify(line));
        assert.equal(line.status, 200);
      } finally {
        await insecure.cli.stop();
      }
      assert.equal(app.received(), 1);
    } finally {
      await app.close();
    }
  });

  test(
    'an https app with a self-signed certificate, pretty: the forward line shows the --insecure advice',
    {
      skip: hasOpenssl ? false : 'openssl is not installed',
    },
    async () => {
      const app = await httpsApp();
      const { cli, url } = await listenPretty(['--no-save', '--forward-to', app.url]);
      try {
        assert.equal((await post(url, fixture('email.sent', 'evt_tls_pretty'))).status, 200);
        const line = await cli.waitForLine((l) => l.includes('↳'));
        assert.match(line, /TLS certificate not trusted/);
        assert.match(line, /not retried/);
        assert.match(line, /--insecure/);
      } finally {
        await cli.stop();
        await app.close();
      }
    },
  );
});

describe('5. forward lines say which event, and sit under it on a terminal', () => {
  test('in a pipe: the forward line carries the type and the id', async () => {
    const app = await startRawServer();
    const { cli, url } = await listenPretty(['--no-save', '--forward-to', app.url]);
    try {
      assert.equal((await post(url, fixture('email.bounced', 'evt_typed'))).status, 200);
      const line = await cli.waitForLine((l) => l.includes('↳'));
      assert.match(line, /^ +↳ email\.bounced evt_typed → app 200 \d+ ms$/);
    } finally {
      await cli.stop();
      await app.close();
    }
  });

  test('on a terminal, a forward result that comes back at once is printed under its event, even when a second event came first (the built CLI)', { skip: HAS_SCRIPT ? false : 'no script(1) here' }, async () => {
    let answerFirst: () => void = () => {};
    const firstMayAnswer = new Promise<void>((resolve) => (answerFirst = resolve));
    const app = await startRawServer(async (r, res) => {
      if (idOf(r) === 'evt_pair_1') await firstMayAnswer;
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true}');
    });
    // The window in which later events wait for a forward result: long here, so a slow machine cannot miss it.
    const child = spawnOnTerminal(`listen --port 0 --no-save --forward-to ${app.url}`, cliEnv({ ONEPUSH_PAIRING_MS: '30000' }));
    let output = '';
    const waiters: Array<{ re: RegExp; resolve: (m: RegExpExecArray) => void }> = [];
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      output += d.replace(/\r/g, '');
      for (const w of [...waiters]) {
        const m = w.re.exec(output);
        if (m) {
          waiters.splice(waiters.indexOf(w), 1);
          w.resolve(m);
        }
      }
    });
    const closed = once(child, 'close') as Promise<[number | null]>;
    const seen = (re: RegExp): Promise<RegExpExecArray> => {
      const m = re.exec(output);
      if (m) return Promise.resolve(m);
      return new Promise((resolve, reject) => {
        waiters.push({ re, resolve });
        void closed.then(() => reject(new Error(`the terminal closed before ${re}: ${output}`)));
      });
    };
    try {
      const port = Number((await seen(/Webhook URL +http:\/\/localhost:(\d+)\/[^\n]*\n[\s\S]*Ready/))[1]);
      const url = `http://127.0.0.1:${port}/webhooks/onepush`;
      assert.equal((await post(url, fixture('email.sent', 'evt_pair_1'))).status, 200);
      await app.waitFor(1);
      // Event 2 arrives (and is answered) while event 1's forward is still waiting for the app.
      assert.equal((await post(url, fixture('email.sent', 'evt_pair_2'))).status, 200);
      answerFirst();
      await seen(/↳ email\.sent evt_pair_2 → app 200/);
      child.stdin.write('\x03');
      const [code] = await closed;
      assert.equal(code, 0, output);
      const lines = output.split('\n');
      const at = (re: RegExp): number => lines.findIndex((l) => re.test(l));
      const event1 = at(/^\d\d:\d\d:\d\d email\.sent +evt_pair_1 /);
      const forward1 = at(/↳ email\.sent evt_pair_1 → app 200/);
      const event2 = at(/^\d\d:\d\d:\d\d email\.sent +evt_pair_2 /);
      assert.ok(event1 >= 0 && forward1 >= 0 && event2 >= 0, output);
      assert.ok(event1 < forward1 && forward1 < event2, `event 1 (line ${event1}), its ↳ (line ${forward1}), then event 2 (line ${event2}):\n${output}`);
      assert.deepEqual(lines.slice(event1 + 1, forward1).filter((l) => !/^ {9}\S/.test(l) || /↳/.test(l)), [], 'only event 1\'s own detail lines between it and its ↳');
    } finally {
      answerFirst();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await closed;
      await app.close();
    }
  });
});

describe('6. HTML error pages are shown by their error', () => {
  /** An Express app: its route throws (Express's HTML 500 page); /json answers JSON; any other path is its HTML 404. */
  async function expressApp(): Promise<{ url: string; base: string; close: () => Promise<void> }> {
    const app = express();
    // 'test': the error page still carries the stack (as in development), and Express does not log it to stderr.
    app.set('env', 'test');
    app.post('/webhooks/onepush', () => {
      throw new TypeError('x is undefined');
    });
    app.post('/json', (_req, res) => {
      res.status(200).json({ received: true, note: 'from express' });
    });
    const { port, close } = await serve(createHttpServer(app));
    const base = `http://127.0.0.1:${port}`;
    return { url: `${base}/webhooks/onepush`, base, close };
  }
  /** An Express app with no routes: every POST is its HTML 404 page. */
  async function emptyExpressApp(): Promise<{ url: string; close: () => Promise<void> }> {
    const app = express();
    app.set('env', 'test');
    const { port, close } = await serve(createHttpServer(app));
    return { url: `http://127.0.0.1:${port}/webhooks/onepush`, close };
  }

  test('listen --forward-to: the forward line quotes "TypeError: x is undefined", not <!DOCTYPE html>', async () => {
    const app = await expressApp();
    const { cli, url } = await listenPretty(['--no-save', '--forward-to', app.url, '--max-attempts', '1']);
    try {
      assert.equal((await post(url, fixture('email.sent', 'evt_throws'))).status, 200);
      const line = await cli.waitForLine((l) => l.includes('↳'));
      assert.match(line, /↳ email\.sent evt_throws → app 500 \d+ ms "TypeError: x is undefined"/);
      await cli.stop();
      assert.doesNotMatch(cli.stdoutLines.join('\n'), /DOCTYPE/);
    } finally {
      await cli.stop();
      await app.close();
    }
  });

  test('listen --verbose: the whole response under the forward line (response:, then │ lines)', async () => {
    const app = await expressApp();
    const { cli, url } = await listenPretty(['--no-save', '--forward-to', app.url, '--max-attempts', '1', '--verbose']);
    try {
      assert.equal((await post(url, fixture('email.sent', 'evt_throws_v'))).status, 200);
      await cli.waitForLine((l) => l.includes('↳'));
      await cli.waitForLine((l) => /│ <\/html>$/.test(l));
      await cli.stop();
      const lines = cli.stdoutLines;
      const at = lines.findIndex((l) => l.includes('↳ email.sent evt_throws_v'));
      assert.match(lines[at + 1] ?? '', /^ +response:$/);
      const body = lines.slice(at + 2).filter((l) => /^ +│ /.test(l));
      assert.match(body[0] ?? '', /│ <!DOCTYPE html>$/);
      assert.ok(body.some((l) => l.includes('<pre>TypeError: x is undefined')), body.join('\n'));
      assert.match(body.at(-1) ?? '', /│ <\/html>$/);
    } finally {
      await cli.stop();
      await app.close();
    }
  });

  test('listen --json: forward lines carry the whole HTML as received (response) and its useful line (message)', async () => {
    const app = await expressApp();
    const { cli, url } = await listenJson(['--no-save', '--forward-to', app.url, '--max-attempts', '1']);
    try {
      const asReceived = await (await fetch(app.url, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).text();
      assert.ok(asReceived.startsWith('<!DOCTYPE html>'));
      assert.equal((await post(url, fixture('email.sent', 'evt_throws_json'))).status, 200);
      const line = JSON.parse(await cli.waitForLine((l) => l.includes('"kind":"forward"'))) as Record<string, unknown>;
      assert.equal(line.status, 500);
      assert.equal(line.message, 'TypeError: x is undefined');
      assert.equal(line.response, asReceived);
    } finally {
      await cli.stop();
      await app.close();
    }
  });

  test('trigger --json: an HTML 404 gives message "Cannot POST /webhooks/onepush", the HTML as response, response_json null; a JSON answer is parsed', async () => {
    const missing = await emptyExpressApp();
    const app = await expressApp();
    try {
      const r404 = await runCli(['trigger', 'sent', '--to', missing.url, '--json']);
      assert.equal(r404.code, 1, r404.stderr);
      const d404 = JSON.parse(r404.stdout) as Record<string, unknown>;
      assert.equal(d404.status, 404);
      assert.equal(d404.message, 'Cannot POST /webhooks/onepush');
      assert.equal(d404.response, EXPRESS_404);
      assert.equal(d404.response_json, null);

      const json = await runCli(['trigger', 'sent', '--to', `${app.base}/json`, '--json']);
      assert.equal(json.code, 0, json.stderr);
      const dJson = JSON.parse(json.stdout) as Record<string, unknown>;
      assert.equal(dJson.status, 200);
      assert.deepEqual(dJson.response_json, { received: true, note: 'from express' });
    } finally {
      await missing.close();
      await app.close();
    }
  });

  test('check shows "response: Cannot POST /webhooks/onepush" for an Express app without the route', async () => {
    const missing = await emptyExpressApp();
    try {
      const r = await runCli(['check', missing.url, '--secret', 's', '--only', '1']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /^✘  1  valid-events .*\n +response: Cannot POST \/webhooks\/onepush\n/m);
      assert.doesNotMatch(r.stdout, /DOCTYPE/);
    } finally {
      await missing.close();
    }
  });
});

describe('7. the 401 hint works as printed', () => {
  /** A folder with an `onepush` on PATH that runs the built CLI (as a user's shell would). */
  function shimPath(): string {
    const bin = join(project(), 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'onepush'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(bin, 'onepush'), 0o755);
    return `${bin}:${process.env.PATH ?? ''}`;
  }
  function bash(command: string, cwd: string, path: string): Promise<RunResult> {
    return new Promise((resolve) => {
      const child = spawn('bash', ['-c', command], { cwd, env: cliEnv({ PATH: path }), stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.once('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
  }

  test('secret from .env: the printed `onepush verify … --id … --explain` runs as is, exit 1, one capture explained (the built CLI)', async () => {
    const cwd = project();
    writeFileSync(join(cwd, '.env'), 'ONEPUSH_WEBHOOK_SECRET=whsec_x\n');
    const { cli, url } = await listenPretty([], { cwd }, startBin);
    let hint = '';
    try {
      assert.equal((await signed(url, fixture('email.sent', 'evt_good_before'), 'whsec_x')).status, 200);
      assert.equal((await signed(url, fixture('email.sent', 'evt_bad_sig'), 'whsec_not_x')).status, 401);
      assert.equal((await signed(url, fixture('email.sent', 'evt_good_after'), 'whsec_x')).status, 200);
      hint = await cli.waitForLine((l) => l.includes('find the cause:'));
    } finally {
      await cli.stop();
    }
    const command = /find the cause: (.*)$/.exec(hint)?.[1] ?? '';
    assert.equal(command, 'onepush verify .onepush/events.ndjson --id evt_bad_sig --explain');
    const r = await bash(command, cwd, shimPath());
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.doesNotMatch(r.stderr, /no secret given/);
    const out = r.stdout.split('\n').filter((l) => l !== '');
    assert.equal(out.length, 1, `only that one capture is checked:\n${r.stdout}`);
    assert.match(out[0] ?? '', /^✘ invalid \.onepush\/events\.ndjson:2 evt_bad_sig — \S/);
    assert.doesNotMatch(out[0] ?? '', /add --explain/, 'the explanation itself, not the advice to ask for it');
  });

  test('secret given with --secret: the hint ends with --secret <the secret given to listen> (the built CLI)', async () => {
    const cwd = project();
    const { cli, url } = await listenPretty(['--secret', 'whsec_x'], { cwd }, startBin);
    try {
      assert.equal((await signed(url, fixture('email.sent', 'evt_bad_flag'), 'whsec_other')).status, 401);
      const hint = await cli.waitForLine((l) => l.includes('find the cause:'));
      assert.match(hint, /find the cause: onepush verify \.onepush\/events\.ndjson --id evt_bad_flag --explain --secret <the secret given to listen>$/);
    } finally {
      await cli.stop();
    }
  });
});

describe('8. listen says what to do when the app wants a signature', () => {
  test('without a secret: "not retried" and "the app wants a signature: give listen its secret"', async () => {
    const app = await startStrictReceiver(SECRET);
    const { cli, url } = await listenPretty(['--no-save', '--forward-to', app.url]);
    try {
      assert.equal((await post(url, fixture('email.sent', 'evt_unsigned_fwd'))).status, 200);
      const line = await cli.waitForLine((l) => l.includes('↳'));
      assert.match(line, /↳ email\.sent evt_unsigned_fwd → app 401 .* · not retried \(the app wants a signature: give listen its secret \(--secret, ONEPUSH_WEBHOOK_SECRET, or \.env\)\)$/);
      await cli.stop();
      assert.equal(app.received.length, 1, 'not retried');
    } finally {
      await cli.stop();
      await app.close();
    }
  });

  test('with another secret than the app\'s: "the app refused the signature"', async () => {
    const app = await startStrictReceiver(SECRET);
    const { cli, url } = await listenPretty(['--no-save', '--forward-to', app.url, '--secret', 'whsec_listen_other']);
    try {
      assert.equal((await signed(url, fixture('email.sent', 'evt_other_secret'), 'whsec_listen_other')).status, 200);
      const line = await cli.waitForLine((l) => l.includes('↳'));
      assert.match(line, /↳ email\.sent evt_other_secret → app 401 .* · not retried \(the app refused the signature/);
    } finally {
      await cli.stop();
      await app.close();
    }
  });
});

describe('9. the secret from .env, and onepush secret', () => {
  for (const [form, line] of [
    ['KEY=value', 'ONEPUSH_WEBHOOK_SECRET=whsec_q\n'],
    ['export KEY="value"', '# the app\'s settings\nexport ONEPUSH_WEBHOOK_SECRET="whsec_q"\n'],
  ] as const) {
    test(`.env (${form}): listen says "from .env" and accepts an event signed with it`, async () => {
      const cwd = project();
      writeFileSync(join(cwd, '.env'), line);
      const { cli, url, banner } = await listenPretty(['--no-save'], { cwd });
      try {
        assert.match(banner, /Signatures +checked \(secret whs…, from \.env\)/);
        assert.equal((await signed(url, fixture('email.sent', 'evt_env_ok'), 'whsec_q')).status, 200);
        const ev = await cli.waitForLine((l) => l.includes('evt_env_ok'));
        assert.match(ev, /✔ 200$/);
        assert.equal((await signed(url, fixture('email.sent', 'evt_env_bad'), 'whsec_z')).status, 401);
      } finally {
        await cli.stop();
      }
    });
  }

  test('a longer secret is shown by its first 4 characters', async () => {
    const cwd = project();
    writeFileSync(join(cwd, '.env'), 'ONEPUSH_WEBHOOK_SECRET=whsec_longer_secret\n');
    const { cli, banner } = await listenPretty(['--no-save'], { cwd });
    await cli.stop();
    assert.match(banner, /checked \(secret whse…, from \.env\)/);
    assert.doesNotMatch(banner, /longer_secret/);
  });

  test('sign and verify use .env; the environment variable wins over .env, and --secret over both', async () => {
    const cwd = project();
    writeFileSync(join(cwd, '.env'), 'export ONEPUSH_WEBHOOK_SECRET="whsec_q"\n');
    const body = fixture('email.delivered', 'evt_sign_me');
    writeFileSync(join(cwd, 'event.json'), body);

    const event = join(cwd, 'event.json');
    const fromFile = await runCli(['sign', event], { cwd });
    assert.equal(fromFile.code, 0, fromFile.stderr);
    assert.equal(fromFile.stdout.trim(), hmac(body, 'whsec_q'));
    const ok = await runCli(['verify', event, '--signature', hmac(body, 'whsec_q')], { cwd });
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    const bad = await runCli(['verify', event, '--signature', hmac(body, 'whsec_other')], { cwd });
    assert.equal(bad.code, 1, bad.stdout + bad.stderr);

    const env = { ONEPUSH_WEBHOOK_SECRET: 'whsec_from_env' };
    const fromEnv = await runCli(['sign', event], { cwd, env });
    assert.equal(fromEnv.stdout.trim(), hmac(body, 'whsec_from_env'));
    const fromFlag = await runCli(['sign', event, '--secret', 'whsec_flag'], { cwd, env });
    assert.equal(fromFlag.stdout.trim(), hmac(body, 'whsec_flag'));

    const listenEnv = await listenPretty(['--no-save'], { cwd, env });
    await listenEnv.cli.stop();
    assert.match(listenEnv.banner, /checked \(secret whse…, from ONEPUSH_WEBHOOK_SECRET\)/);
    const listenFlag = await listenPretty(['--no-save', '--secret', 'whsec_flag'], { cwd, env });
    await listenFlag.cli.stop();
    assert.match(listenFlag.banner, /checked \(secret whse…, from --secret\)/);
  });

  test('onepush secret prints whsec_ and 43 base64url characters, a new one each run; --env and --json', async () => {
    const SECRET_RE = /^whsec_[A-Za-z0-9_-]{43}$/;
    const a = await runCli(['secret']);
    const b = await runCli(['secret']);
    assert.equal(a.code, 0);
    assert.match(a.stdout.trim(), SECRET_RE);
    assert.match(b.stdout.trim(), SECRET_RE);
    assert.notEqual(a.stdout, b.stdout);
    const env = await runCli(['secret', '--env']);
    assert.match(env.stdout, /^ONEPUSH_WEBHOOK_SECRET=whsec_[A-Za-z0-9_-]{43}\n$/);
    const json = JSON.parse((await runCli(['secret', '--json'])).stdout) as Record<string, unknown>;
    assert.deepEqual(Object.keys(json), ['secret', 'env']);
    assert.match(String(json.secret), SECRET_RE);
    assert.equal(json.env, 'ONEPUSH_WEBHOOK_SECRET');
  });
});

describe('10. connection refused says what is not running', () => {
  // "trigger --to localhost:4242 with nothing there" is in help-examples.test.ts, the one file that may use port
  // 4242 (files run in parallel).

  test('to another closed port: "is your app running on port N?"', async () => {
    const port = await freePort();
    const r = await runCli(['trigger', 'sent', '--to', `localhost:${port}`]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, new RegExp(`connection refused — is your app running on port ${port}\\?`));
    assert.doesNotMatch(r.stdout, /onepush listen/);
  });
});

describe('11. a huge field is cut to the width', () => {
  const subject = 'S'.repeat(900 * 1024);
  const big = (id: string): string => fixture('email.sent', id, (e) => (e.data.subject = subject));

  test('a 900 KB subject: the detail line is under 400 characters and says …(+N chars); no line is long', async () => {
    const { cli, url } = await listenPretty(['--no-save']);
    try {
      assert.equal((await post(url, big('evt_big_subject'))).status, 200);
      await cli.waitForLine((l) => l.includes('evt_big_subject'));
      const detail = await cli.waitForLine((l) => l.includes('“S'));
      assert.ok(detail.length < 400, `${detail.length} characters`);
      assert.match(detail, /“S+…\(\+[\d,]+ chars\)/);
    } finally {
      await cli.stop();
    }
    const r = await cli.stop();
    for (const l of [...r.stdout.split('\n'), ...r.stderr.split('\n')]) assert.ok(l.length < 400, `a line of ${l.length} characters`);
    assert.equal(r.stdout.includes(subject), false);
  });

  test('--verbose shows the whole subject', async () => {
    const { cli, url } = await listenPretty(['--no-save', '--verbose']);
    try {
      assert.equal((await post(url, big('evt_big_verbose'))).status, 200);
      await cli.waitForLine((l) => l.includes('"subject"'));
    } finally {
      await cli.stop();
    }
    const line = cli.stdoutLines.find((l) => l.includes('"subject"')) ?? '';
    assert.ok(line.includes(`"subject": "${subject}"`), 'the whole subject');
  });
});

describe('12. --events says when a glob matches no type', () => {
  test('--events "email.bounce" warns "did you mean email.bounced?" on stderr, and listen still starts', async () => {
    const { cli, url } = await listenJson(['--no-save', '--events', 'email.bounce']);
    try {
      assert.match(cli.stderr(), /^warning: --events "email\.bounce" matches no event type — did you mean email\.bounced\?/m);
      assert.equal((await post(url, fixture('email.bounced', 'evt_still_up'))).status, 200);
    } finally {
      await cli.stop();
    }
  });
});

describe('13. the capture log folder', () => {
  test('--save into a folder that does not exist: exit 2, one line and a hint, no folder created', async () => {
    const cwd = project();
    assert.equal(existsSync('/nonexistent-dir'), false, 'the folder must not exist for this test');
    const r = await runCli(['listen', '--port', '0', '--save', '/nonexistent-dir/x/y.ndjson'], { cwd });
    assert.equal(r.code, 2);
    const lines = r.stderr.trimEnd().split('\n');
    assert.equal(lines.length, 2, r.stderr);
    assert.match(lines[0] ?? '', /^onepush: cannot open the capture log \/nonexistent-dir\/x\/y\.ndjson: the folder \/nonexistent-dir\/x does not exist$/);
    assert.match(lines[1] ?? '', /^hint: \S/);
    assert.equal(existsSync('/nonexistent-dir'), false);
    assert.equal(r.stdout, '');
  });

  test('the default .onepush/ is created, 0700, in a fresh folder (the built CLI)', async () => {
    const cwd = project();
    const { cli, url } = await listenPretty([], { cwd }, startBin);
    try {
      assert.equal((await post(url, fixture('email.sent', 'evt_first_save'))).status, 200);
    } finally {
      await cli.stop();
    }
    const folder = join(cwd, '.onepush');
    assert.equal(statSync(folder).isDirectory(), true);
    assert.equal(statSync(folder).mode & 0o777, 0o700);
    assert.match(readFileSync(join(folder, 'events.ndjson'), 'utf8'), /evt_first_save/);
  });
});

describe('14. nothing to do is exit 1 everywhere', () => {
  function captureLog(cwd: string): string {
    const body = fixture('email.sent', 'evt_logged');
    const file = join(cwd, 'events.ndjson');
    const capture = { v: 1, received_at: new Date().toISOString(), method: 'POST', path: '/webhooks/onepush', headers: { 'content-type': 'application/json', 'x-onepush-signature': hmac(body, 's') }, body, body_encoding: 'utf8', verified: true, status: 200 };
    writeFileSync(file, `${JSON.stringify(capture)}\n`);
    return file;
  }

  test('replay --id evt_nope <log> and replay <empty log>: exit 1, "nothing to replay", nothing sent', async () => {
    const cwd = project();
    const log = captureLog(cwd);
    const empty = join(cwd, 'empty.ndjson');
    writeFileSync(empty, '');
    const app = await startRawServer();
    try {
      for (const args of [['--id', 'evt_nope', log], [empty]]) {
        const r = await runCli(['replay', ...args, '--to', app.url], { cwd });
        assert.equal(r.code, 1, `${args.join(' ')}: ${r.stderr}`);
        assert.match(r.stderr, /nothing to replay: no event matched/);
      }
      assert.equal(app.received.length, 0);
    } finally {
      await app.close();
    }
  });

  test('verify <empty log> and verify <log> --id evt_nope: exit 1, "nothing to verify"', async () => {
    const cwd = project();
    const log = captureLog(cwd);
    const empty = join(cwd, 'empty.ndjson');
    writeFileSync(empty, '');
    const e = await runCli(['verify', empty, '--secret', 's'], { cwd });
    assert.equal(e.code, 1, e.stderr);
    assert.match(e.stderr, /nothing to verify: .*empty\.ndjson is empty/);
    const id = await runCli(['verify', log, '--id', 'evt_nope', '--secret', 's'], { cwd });
    assert.equal(id.code, 1, id.stderr);
    assert.match(id.stderr, /nothing to verify: no capture matched --id evt_nope/);
    // The same log with an id it has: exit 0 (the 1 above is "nothing matched", not a failure to read).
    const found = await runCli(['verify', log, '--id', 'evt_logged', '--secret', 's'], { cwd });
    assert.equal(found.code, 0, found.stdout + found.stderr);
  });
});

describe('15. small things a new user reads', () => {
  test('listen --help mentions 4242; trigger, replay and verify --help show no "(default: [])"', async () => {
    const listen = await runCli(['listen', '--help']);
    assert.match(listen.stdout, /4242/);
    for (const cmd of ['trigger', 'replay', 'verify']) {
      const r = await runCli([cmd, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, /Usage: onepush/);
      assert.doesNotMatch(r.stdout, /\(default: \[\]\)/, cmd);
    }
  });

  test('Ctrl-C with one event still queued and --no-save: "1 event still queued" and "it is lost"', async () => {
    const port = await freePort();
    const { cli, url } = await listenPretty(['--no-save', '--forward-to', String(port)]);
    await post(url, fixture('email.sent', 'evt_stuck'));
    await cli.waitForLine((l) => l.includes('↳ email.sent evt_stuck') && l.includes('ECONNREFUSED'));
    const r = await cli.stop('SIGINT');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ {2}1 event still queued, not saved \(--no-save\): it is lost$/m);
  });

  test('a recipient with non-ASCII letters (zoë@exämple.com) has no schema warning', async () => {
    const { cli, url } = await listenJson(['--no-save']);
    try {
      assert.equal((await post(url, fixture('email.sent', 'evt_idn', (e) => (e.data.to = ['zoë@exämple.com'])))).status, 200);
      const ev = JSON.parse(await cli.waitForLine((l) => l.includes('evt_idn'))) as Record<string, unknown>;
      assert.deepEqual(ev.schema_issues, []);
      assert.equal(ev.reason, null);
    } finally {
      await cli.stop();
    }
  });

  test('the banner\'s Webhook URL line says (any path works)', async () => {
    const { cli, banner } = await listenPretty(['--no-save']);
    await cli.stop();
    assert.match(banner, /^ {2}Webhook URL +http:\/\/localhost:\d+\/webhooks\/onepush \(any path works\)$/m);
  });
});
