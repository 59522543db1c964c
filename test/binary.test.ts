import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { sign, verify } from '../src/core/signature.js';

// The single executable (`npm run build:binary`: dist/bin/onepush, README: One binary) run where there is no Node:
// a temp folder as its cwd and a PATH of /usr/bin and /bin without node, npm or npx (checked: `command -v node`
// fails there), and an environment of only PATH, HOME and NO_COLOR. A smoke set of what the npm install's tests
// check end to end: help, version, the offline commands and their exit codes, trigger to a loopback app, listen
// with its inspector page (the page's files and the fixtures are SEA assets inside the binary), `trigger --print`.
// Without the binary the file is skipped with one line, but in CI (CI set), where .ci/run builds it first.

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const EXE = join(ROOT, 'dist', 'bin', process.platform === 'win32' ? 'onepush.exe' : 'onepush');
const BUILT = existsSync(EXE);
const SECRET = 'whsec_binary_suite';
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
const bounced = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'email.bounced.json'), 'utf8')) as {
  data: { from: string; bounce: { diagnostic: string } };
};

if (!BUILT && !process.env.CI) {
  test('the single executable (the built CLI)', { skip: 'dist/bin/onepush is not built: npm run build:binary' }, () => {});
} else if (!BUILT) {
  test('the single executable is built in CI (the built CLI)', () => {
    assert.fail('dist/bin/onepush is missing: run `npm run build:binary` before the tests (.ci/run does)');
  });
} else {
  const temp = mkdtempSync(join(tmpdir(), 'onepush-binary-'));
  after(() => rmSync(temp, { recursive: true, force: true }));

  // A PATH of /usr/bin and /bin without Node: a folder of links to everything there but node and its tools.
  const pathDir = join(temp, 'path');
  mkdirSync(pathDir);
  const NODE_TOOLS = new Set(['node', 'nodejs', 'npm', 'npx', 'corepack']);
  for (const dir of ['/usr/bin', '/bin']) {
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir)) {
      if (NODE_TOOLS.has(name) || existsSync(join(pathDir, name))) continue;
      symlinkSync(join(dir, name), join(pathDir, name));
    }
  }
  const cwd = join(temp, 'project');
  mkdirSync(cwd);
  const env = { PATH: pathDir, HOME: cwd, NO_COLOR: '1' };

  interface Result {
    code: number | null;
    stdout: string;
    stderr: string;
  }
  const runExe = async (args: string[]): Promise<Result> => {
    const child = spawn(EXE, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, stdout, stderr };
  };

  /** A loopback app: every request it receives, with a waiter for the first. */
  const startApp = async () => {
    let got!: (r: { headers: IncomingHttpHeaders; body: Buffer }) => void;
    const first = new Promise<{ headers: IncomingHttpHeaders; body: Buffer }>((resolve) => (got = resolve));
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        got({ headers: req.headers, body: Buffer.concat(chunks) });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    return { port: (server.address() as AddressInfo).port, first, close: () => new Promise((r) => server.close(r)) };
  };

  describe('the single executable, without Node on the PATH', () => {
    test('node is not on its PATH (the built CLI)', () => {
      const r = spawnSync('/bin/sh', ['-c', 'command -v node || command -v npm'], { env, encoding: 'utf8' });
      assert.notEqual(r.status, 0, `found ${r.stdout}`);
    });

    test('--version, --help and events (the built CLI)', async () => {
      const version = await runExe(['--version']);
      assert.equal(version.code, 0, version.stderr);
      assert.equal(version.stdout.trim(), pkg.version);
      const help = await runExe(['--help']);
      assert.equal(help.code, 0, help.stderr);
      for (const command of ['listen', 'trigger', 'replay', 'check', 'sign', 'verify', 'events', 'inspect']) {
        assert.match(help.stdout, new RegExp(`^  ${command}\\b`, 'm'), `--help lists ${command}`);
      }
      const events = await runExe(['events']);
      assert.equal(events.code, 0, events.stderr);
      assert.equal(events.stdout.trim().split('\n').length, 7, events.stdout);
      assert.match(events.stdout, /^email\.bounced\s/m);
    });

    test('sign and verify a file, exit 0 for a valid signature and 1 for a wrong one (the built CLI)', async () => {
      const body = '{"id":"evt_binary_1","type":"email.sent","data":{"to":["jane@example.com"]}}';
      writeFileSync(join(cwd, 'body.json'), body);
      const signed = await runExe(['sign', 'body.json', '--secret', SECRET]);
      assert.equal(signed.code, 0, signed.stderr);
      assert.equal(signed.stdout.trim(), sign(body, SECRET));
      const valid = await runExe(['verify', 'body.json', '--secret', SECRET, '--signature', sign(body, SECRET)]);
      assert.equal(valid.code, 0, valid.stdout + valid.stderr);
      const wrong = await runExe(['verify', 'body.json', '--secret', SECRET, '--signature', sign(body, 'whsec_other')]);
      assert.equal(wrong.code, 1, wrong.stdout + wrong.stderr);
      assert.match(wrong.stdout + wrong.stderr, /invalid/);
    });

    test('trigger email.bounced reaches a loopback app, signed, from the built-in fixture (the built CLI)', async () => {
      const app = await startApp();
      try {
        const r = await runExe(['trigger', 'email.bounced', '--to', `http://127.0.0.1:${app.port}/webhooks/onepush`, '--secret', SECRET]);
        assert.equal(r.code, 0, r.stdout + r.stderr);
        const { headers, body } = await app.first;
        assert.ok(verify(body, SECRET, headers['x-onepush-signature'] as string), 'a valid signature');
        const event = JSON.parse(body.toString('utf8')) as { type: string; data: { from: string } };
        assert.equal(event.type, 'email.bounced');
        assert.equal(event.data.from, bounced.data.from);
      } finally {
        await app.close();
      }
    });

    test('trigger --print prints the signed request made from the built-in fixture (the built CLI)', async () => {
      const r = await runExe(['trigger', 'email.bounced', '--print', '--secret', SECRET]);
      assert.equal(r.code, 0, r.stderr);
      const [head, body] = r.stdout.split(/\r?\n\r?\n/, 2) as [string, string];
      assert.match(head, /^POST \/webhooks\/onepush HTTP\/1\.1$/m);
      const signature = /^x-onepush-signature: ([0-9a-f]{64})$/m.exec(head)?.[1];
      assert.ok(signature !== undefined, head);
      assert.ok(verify(body.trim(), SECRET, signature), 'the printed signature is of the printed body');
      const event = JSON.parse(body) as { data: { bounce: { diagnostic: string } } };
      assert.equal(event.data.bounce.diagnostic, bounced.data.bounce.diagnostic);
    });

    test('listen --port 0 --json receives a trigger and serves its inspector page (the built CLI)', async () => {
      const child: ChildProcessWithoutNullStreams = spawn(EXE, ['listen', '--port', '0', '--json', '--no-save', '--secret', SECRET], { cwd, env });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      const closed = once(child, 'close') as Promise<[number | null]>;
      const lines: Array<Record<string, unknown>> = [];
      const waiters: Array<[kind: string, (line: Record<string, unknown>) => void]> = [];
      createInterface({ input: child.stdout }).on('line', (text) => {
        const line = JSON.parse(text) as Record<string, unknown>;
        lines.push(line);
        for (const w of [...waiters]) if (w[0] === line.kind) {
          waiters.splice(waiters.indexOf(w), 1);
          w[1](line);
        }
      });
      const next = (kind: string): Promise<Record<string, unknown>> =>
        Promise.race([
          new Promise<Record<string, unknown>>((resolve) => waiters.push([kind, resolve])),
          closed.then(([code]) => Promise.reject(new Error(`listen exited (${code}) before a ${kind} line; stderr: ${stderr}`))),
        ]);
      try {
        const ready = await next('ready');
        const port = ready.port as number;
        assert.equal(ready.inspector, `http://localhost:${port}/`);

        const event = next('event');
        const sent = await runExe(['trigger', 'email.bounced', '--to', `http://127.0.0.1:${port}/webhooks/onepush`, '--secret', SECRET]);
        assert.equal(sent.code, 0, sent.stdout + sent.stderr);
        const received = await event;
        assert.equal(received.type, 'email.bounced');
        assert.equal(received.status, 200);
        assert.equal(received.verified, true);

        const page = await fetch(`http://127.0.0.1:${port}/`);
        assert.equal(page.status, 200);
        assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
        assert.match(await page.text(), /<script src="\/_onepush\/app\.js" defer><\/script>/);
        const script = await fetch(`http://127.0.0.1:${port}/_onepush/app.js`);
        assert.equal(script.status, 200);
        assert.match(script.headers.get('content-type') ?? '', /javascript/);
        const js = await script.text();
        assert.ok(js.length > 1000, `the page's script is there (${js.length} characters)`);
        if (existsSync(join(ROOT, 'dist', 'inspector', 'app.js'))) {
          assert.equal(js, readFileSync(join(ROOT, 'dist', 'inspector', 'app.js'), 'utf8'), 'the bundle built into the binary is this build\'s');
        }
        const style = await fetch(`http://127.0.0.1:${port}/_onepush/app.css`);
        assert.equal(style.status, 200);
        assert.match(style.headers.get('content-type') ?? '', /^text\/css/);

        child.kill('SIGINT');
        const [code] = await closed;
        assert.equal(code, 0, stderr);
        const summary = lines.find((l) => l.kind === 'summary');
        assert.equal(summary?.received, 1);
        assert.doesNotMatch(stderr, /output thread/, 'listen printed through its output thread (built in)');
      } finally {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      }
    });
  });
}
