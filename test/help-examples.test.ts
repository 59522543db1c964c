import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, runCli, startCli, type InProcessCli } from './helpers/cli.js';
import { startHttpsApp, startStrictReceiver, until, waitForPort, type TestServer } from './helpers/servers.js';
import { onPath } from './helpers/tools.js';

// Every example of every --help works as printed (issue #13): each is run by a shell, in a project folder with a
// .env holding the secret, against a test app on port 3000 (an app that verifies over the raw body with that
// secret) and, where an example sends to the listener's default URL, `onepush listen` on 4242. Each must end as
// documented: exit 0, and for `listen`, the events it was sent reach it (and the app, when it forwards).

const SECRET = 'whsec_test';
const hmac = (body: string): string => createHmac('sha256', SECRET).update(body).digest('hex');
const ID = 'evt_01JD8Q4Z7X2K9V3M5N6P7R8S9T';

/** The `$ …` lines of a --help text. */
function examplesOf(help: string): string[] {
  return help
    .split('\n')
    .filter((l) => l.startsWith('  $ '))
    .map((l) => l.slice(4));
}

async function portFree(port: number, host = '127.0.0.1'): Promise<boolean> {
  const server = createServer();
  return new Promise((resolve) => {
    server.once('error', () => resolve(false));
    server.listen(port, host, () => server.close(() => resolve(true)));
  });
}

/**
 * The TCP ports the processes of group `pgid` listen on now (Linux: each one's socket inodes from /proc/<pid>/fd,
 * looked up in /proc/net/tcp and tcp6, state 0A). Only that group's: other test files open ports meanwhile.
 */
function listeningPortsOf(pgid: number): number[] {
  const inodes = new Set<string>();
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[2]) !== pgid) continue;
      for (const fd of readdirSync(`/proc/${pid}/fd`)) {
        const inode = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`))?.[1];
        if (inode !== undefined) inodes.add(inode);
      }
    } catch {
      // the process ended meanwhile
    }
  }
  const ports: number[] = [];
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A' && inodes.has(cols[9] ?? '')) ports.push(Number.parseInt((cols[1] ?? '').split(':')[1] ?? '0', 16));
    }
  }
  return ports;
}

const need = ['bash', 'jq', 'curl', 'openssl'].filter((tool) => !onPath(tool));
const ports = await Promise.all([3000, 4242, 3443].flatMap((port) => [portFree(port), portFree(port, '::1')]));
const skip = need.length > 0 ? `needs ${need.join(', ')}` : ports.includes(false) ? 'ports 3000, 3443 and 4242 must be free on 127.0.0.1 and ::1 (the examples use them)' : false;

// The --help texts, in-process (src/cli.ts's `run`); the examples themselves run as the built CLI.
// The program's and every command's that `onepush --help` lists (so a new command's examples run too).
const programHelp = (await runCli(['--help'])).stdout;
const helps = ['', ...[...programHelp.slice(programHelp.indexOf('\nCommands:')).matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1] as string).filter((c) => c !== 'help')];
const texts = await Promise.all(helps.map(async (cmd) => (await runCli([...(cmd ? [cmd] : []), '--help'])).stdout));

describe('every --help example works as printed', { skip }, () => {
  const project = mkdtempSync(join(tmpdir(), 'onepush-examples-'));
  const shims = join(project, '.bin');
  let app: TestServer;
  /** The https app of the --insecure examples (a self-signed certificate). */
  let tls: Awaited<ReturnType<typeof startHttpsApp>> | undefined;
  // --open starts ONEPUSH_BROWSER (else the system's opener): here `true`, which opens nothing.
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1', PATH: `${shims}:${process.env.PATH ?? ''}`, ONEPUSH_BROWSER: 'true' };
  delete env.FORCE_COLOR;
  delete env.ONEPUSH_WEBHOOK_SECRET;
  delete env.ONEPUSH_PORT;

  before(async () => {
    mkdirSync(shims);
    writeFileSync(join(shims, 'onepush'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(shims, 'onepush'), 0o755);
    // The project: the secret in .env (as the app keeps it), the files the examples name, a capture log.
    writeFileSync(join(project, '.env'), `ONEPUSH_WEBHOOK_SECRET=${SECRET}\n`);
    const event = JSON.stringify({ ...JSON.parse(readFileSync(new URL('../fixtures/email.bounced.json', import.meta.url), 'utf8')), id: ID });
    writeFileSync(join(project, 'event.json'), event);
    writeFileSync(join(project, 'body.json'), event);
    writeFileSync(join(project, 'scenario.json'), JSON.stringify({ recipients: 50, seed: 42, duplicates: '1%', reorder: '5%' }));
    env.SIG = hmac(event);
    mkdirSync(join(project, '.onepush'), { mode: 0o700 });
    const now = Date.now();
    const lines = ['email.sent', 'email.bounced', 'email.delivered', 'email.bounced'].map((type, i) => {
      const body = JSON.stringify({ id: i === 1 ? ID : `evt_example_${i}`, type, created_at: new Date(now).toISOString(), data: {} });
      return JSON.stringify({ v: 1, received_at: new Date(now - (4 - i) * 60_000).toISOString(), method: 'POST', path: '/webhooks/onepush', headers: { 'content-type': 'application/json', 'x-onepush-signature': hmac(body) }, body, body_encoding: 'utf8', verified: true, status: 200 });
    });
    writeFileSync(join(project, '.onepush', 'events.ndjson'), `${lines.join('\n')}\n`, { mode: 0o600 });
    // The logs `onepush inspect old.ndjson new.ndjson` names.
    for (const name of ['old.ndjson', 'new.ndjson']) writeFileSync(join(project, name), `${lines.join('\n')}\n`);
    // On both loopbacks: the examples reach them as localhost (see ListenOn in helpers/servers.ts).
    app = await startStrictReceiver(SECRET, 3000, { bothLoopbacks: true });
    tls = await startHttpsApp(3443, { bothLoopbacks: true });
  });
  after(async () => {
    await app?.close();
    await tls?.close();
    rmSync(project, { recursive: true, force: true });
  });

  /** Runs an example to its end with bash in the project folder. */
  const run = (example: string): Promise<{ code: number | null; out: string }> =>
    new Promise((resolve) => {
      const child = spawn('bash', ['-c', example], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
      child.once('close', (code) => resolve({ code, out }));
    });

  /** Starts a long-running example (a listener), sends it an event, stops it with Ctrl-C. */
  async function runListener(example: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; received: number }> {
    const child = spawn('bash', ['-c', example], { cwd: project, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    let out = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (out += d));
    const closed = once(child, 'close');
    const before = app.received.length;
    const tlsBefore = tls?.received() ?? 0;
    const inspector = example.startsWith('onepush inspect');
    const port = /--port 0/.test(example) ? undefined : inspector ? 4243 : 4242;
    if (inspector) {
      // The inspector serves a page: once it listens (and printed its address), it is stopped.
      if (port !== undefined) await waitForPort(port, child);
      else await until(() => listeningPortsOf(child.pid as number).length > 0, child, 'it listened');
      await until(() => /Ready|"kind":"ready"|^http:\/\/localhost:\d+\/$/m.test(out), child, 'it printed its banner (or its ready line)');
    } else if (port !== undefined) {
      await waitForPort(port, child);
      const sent = await runCli(['trigger', 'email.bounced', '--to', `http://127.0.0.1:${port}/webhooks/onepush`], { cwd: project, env: { ONEPUSH_WEBHOOK_SECRET: undefined } });
      assert.equal(sent.code, 0, `${example}: the listener should answer 200: ${sent.stdout}${sent.stderr}`);
      if (/--forward-to :?3000|--to :?3000/.test(example)) await app.waitFor(before + 1);
      // Forwarded to the https app (--insecure): once it has the event.
      if (example.includes(':3443')) await until(() => (tls?.received() ?? 0) > tlsBefore, child, 'the https app got the event');
    } else {
      // `--port 0` piped into jq prints nothing until an event comes: wait until it listens, then stop it.
      await until(() => listeningPortsOf(child.pid as number).length > 0, child, 'it listened');
    }
    process.kill(-(child.pid as number), 'SIGINT');
    const [code, signal] = (await closed) as [number | null, NodeJS.Signals | null];
    return { code, signal, out, received: app.received.length - before + (tls?.received() ?? 0) - tlsBefore };
  }

  const examples = [...new Set(texts.flatMap(examplesOf))];
  // Long-running: they serve until Ctrl-C.
  const listeners = examples.filter((e) => /^onepush (listen|inspect)/.test(e));
  const others = examples.filter((e) => !/^onepush (listen|inspect)/.test(e));

  // From new-user.test.ts (issue #13, item 10): this file is the one that may use port 4242, and it is free here.
  test('trigger --to localhost:4242 with nothing there: "is onepush listen running? (4242 is its port)"', async () => {
    const r = await runCli(['trigger', 'sent', '--to', 'localhost:4242']);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(r.stdout, /connection refused — is onepush listen running\? \(4242 is its port\)/);
  });

  test('there are examples to run (every command has some)', () => {
    assert.ok(examples.length >= 30, `${examples.length} examples`);
  });

  for (const example of listeners) {
    test(`$ ${example} (the built CLI)`, async () => {
      const r = await runListener(example);
      // Ctrl-C reaches every command of a pipeline, which ends with its last: `listen | replay -` and `listen | jq`
      // are interrupted too (130); listen itself exits 0.
      // The shell of a pipeline whose last command died of the Ctrl-C may re-raise it on itself (no exit code).
      const expected = example.includes('|') ? [0, 130] : [0];
      const interruptedShell = example.includes('|') && r.code === null && r.signal === 'SIGINT';
      assert.ok(expected.includes(r.code ?? -1) || interruptedShell, `exit ${r.code} (signal ${r.signal}): ${r.out}`);
      assert.doesNotMatch(r.out, /onepush: |\n\s+at /, r.out);
      // (inspect's --to only names where its page replays to: nothing is sent until asked)
      if (/--forward-to :?3000|--to :?3000|:3443/.test(example) && !example.startsWith('onepush inspect')) assert.ok(r.received >= 1, 'the app got the event');
    });
  }

  // Three at a time: each is its own process, most of their time is start-up and waiting (they write different files).
  describe('with a listener on 4242 for the examples that send to it', { concurrency: 3 }, () => {
    // In-process (src/cli.ts's `run`): the examples are what run as the built CLI.
    let listener: InProcessCli | undefined;
    before(async () => {
      // On ::1: the examples reach it as localhost, whose first try (127.0.0.1) is refused, so the second always finds
      // it (see ListenOn in helpers/servers.ts).
      listener = startCli(['listen', '--no-save', '--json', '--host', '::1'], { cwd: project });
      await listener.waitForLine((l) => l.includes('"kind":"ready"'));
    });
    after(async () => {
      await listener?.stop();
    });
    for (const example of others) {
      test(`$ ${example} (the built CLI)`, async () => {
        const tlsBefore = tls?.received() ?? 0;
        const r = await run(example);
        assert.equal(r.code, 0, r.out);
        assert.doesNotMatch(r.out, /onepush: |\n\s+at |✘/, r.out);
        // Never a false failure: other examples only add to the count (an https one among them could, rarely, make
        // this one pass without its own delivery, which its exit code and output above still check).
        if (example.includes(':3443')) assert.ok((tls?.received() ?? 0) > tlsBefore, 'the https app got it (--insecure)');
      });
    }
  });
});
