import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import pkg from '../package.json' with { type: 'json' };
import { encodeCapture } from '../src/core/capture.js';
import { BIN, cliEnv, HAS_SCRIPT, ROOT, runBin, runCli, spawnOnTerminal, type RunResult } from './helpers/cli.js';
import { loadVectors } from './helpers/vectors.js';

// `sign`, `verify`, `events` and the CLI's global behaviour (issue #2): in-process through src/cli.ts's `run`, and
// the built bin/onepush.js as a child process where it is the process that matters (exit codes, pipes, a terminal,
// colour through the bundled chalk) or as one end-to-end run per command.

const NO_STACK = /\n\s+at /;
const SECRET = 'whsec_cli_test';
const BODY = '{"id":"evt_01","type":"email.sent","data":{"to":["jane@example.com"]}}';
const { secret: VSECRET, vectors } = loadVectors();
const dir = mkdtempSync(join(tmpdir(), 'onepush-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, content: string | Buffer): string => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const bodyFile = file('body.json', BODY);
const { createHmac } = await import('node:crypto');
const hmac = (body: string, key: string): string => createHmac('sha256', key).update(body).digest('hex');
const GOOD = hmac(BODY, SECRET);

/** A usage-type failure: exit 2, `onepush: …` then optional `hint: …` on stderr, nothing on stdout, no stack. */
function assertUsage(r: RunResult, message: RegExp, stdout = ''): void {
  assert.equal(r.code, 2, r.stderr);
  assert.equal(r.stdout, stdout);
  const lines = r.stderr.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^onepush: /);
  assert.match(lines[0] ?? '', message);
  assert.ok(lines.length <= 2, `at most an error line and a hint: ${r.stderr}`);
  if (lines[1] !== undefined) assert.match(lines[1], /^hint: /);
  assert.doesNotMatch(r.stderr, NO_STACK);
}

describe('sign', () => {
  for (const v of vectors) {
    // The first vector through the built CLI (end to end), the others in-process.
    const runCli_ = v === vectors[0] ? runBin : runCli;
    test(`${v.file}: from a file and from stdin${v === vectors[0] ? ' (the built CLI)' : ''}`, async () => {
      const fromFile = await runCli_(['sign', v.path, '--secret', VSECRET]);
      assert.equal(fromFile.code, 0, fromFile.stderr);
      assert.equal(fromFile.stdout, `${v.signature}\n`);
      assert.equal(fromFile.stderr, '');
      const fromStdin = await runCli_(['sign'], { input: readFileSync(v.path), env: { ONEPUSH_WEBHOOK_SECRET: VSECRET } });
      assert.equal(fromStdin.code, 0, fromStdin.stderr);
      assert.equal(fromStdin.stdout, `${v.signature}\n`);
      const dash = await runCli_(['sign', '-', '--secret', VSECRET], { input: readFileSync(v.path) });
      assert.equal(dash.stdout, `${v.signature}\n`);
    });
  }
  test('--header and --json', async () => {
    const h = await runCli(['sign', bodyFile, '--header', '--secret', SECRET]);
    assert.equal(h.stdout, `x-onepush-signature: ${GOOD}\n`);
    const j = await runCli(['sign', '--json', '--secret', SECRET], { input: BODY });
    assert.deepEqual(JSON.parse(j.stdout), { signature: GOOD, header: 'x-onepush-signature', bytes: Buffer.byteLength(BODY) });
  });
  test('--secret wins over the environment', async () => {
    const r = await runCli(['sign', bodyFile, '--secret', SECRET], { env: { ONEPUSH_WEBHOOK_SECRET: 'other' } });
    assert.equal(r.stdout, `${GOOD}\n`);
  });
  test('no secret → 2', async () => assertUsage(await runCli(['sign', bodyFile]), /no secret given/));
  test('empty --secret → 2', async () => assertUsage(await runCli(['sign', bodyFile, '--secret', '']), /--secret is empty/));
  test('missing file → 2', async () => assertUsage(await runCli(['sign', join(dir, 'nope.json'), '--secret', SECRET]), /cannot read .*nope\.json: no such file/));
  test('a directory → 2', async () => assertUsage(await runCli(['sign', dir, '--secret', SECRET]), /it is a directory/));
});

describe('verify', () => {
  const v = (args: string[], options: Parameters<typeof runCli>[1] = {}) => runCli(['verify', ...args], options);
  test('valid → 0 (the built CLI)', async () => {
    const r = await runBin(['verify', bodyFile, '--secret', SECRET, '--signature', GOOD]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, '✔ valid\n');
  });
  test('valid in upper-case hex → 0', async () => {
    const r = await v([bodyFile, '--secret', SECRET, '--signature', GOOD.toUpperCase()]);
    assert.equal(r.code, 0, r.stderr);
  });
  test('secret from ONEPUSH_WEBHOOK_SECRET → 0', async () => {
    const r = await v([bodyFile, '--signature', GOOD], { env: { ONEPUSH_WEBHOOK_SECRET: SECRET } });
    assert.equal(r.code, 0, r.stderr);
  });
  test('body from stdin → 0', async () => {
    const r = await v(['--signature', GOOD, '--secret', SECRET], { input: BODY });
    assert.equal(r.code, 0, r.stderr);
  });
  test('every vector verifies', async () => {
    for (const x of vectors) {
      const r = await v([x.path, '--secret', VSECRET, '--signature', x.signature]);
      assert.equal(r.code, 0, `${x.file}: ${r.stderr}`);
    }
  });
  test('wrong secret → 1 (the built CLI)', async () => {
    const r = await runBin(['verify', bodyFile, '--secret', 'wrong', '--signature', GOOD]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /^✘ invalid — signature does not match the body \(add --explain to find out why\)\n$/);
    assert.equal(r.stderr, '');
  });
  test('tampered body → 1', async () => {
    const r = await v([file('tampered.json', BODY.replace('evt_01', 'evt_02')), '--secret', SECRET, '--signature', GOOD]);
    assert.equal(r.code, 1);
  });
  const junk: Array<[string, string]> = [
    ['empty', ''],
    ['odd length', GOOD.slice(0, 63)],
    ['non-hex', `${GOOD.slice(0, 63)}g`],
    ['double length', GOOD + GOOD],
    ['emoji', '🎉'],
    ['emoji of the right length', `${GOOD.slice(0, 62)}🎉`],
    ['spaces', ' '.repeat(64)],
  ];
  for (const [name, sig] of junk) {
    test(`junk signature (${name}) → 1, no stack`, async () => {
      const r = await v([bodyFile, '--secret', SECRET, '--signature', sig]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stdout, /^✘ invalid — /);
      assert.doesNotMatch(r.stdout + r.stderr, NO_STACK);
      const e = await v([bodyFile, '--secret', SECRET, '--signature', sig, '--explain', '--json']);
      assert.equal(e.code, 1);
      assert.equal(JSON.parse(e.stdout).valid, false);
    });
  }
  test('--json shape', async () => {
    const r = await v([bodyFile, '--secret', SECRET, '--signature', GOOD, '--json']);
    assert.deepEqual(JSON.parse(r.stdout), {
      valid: true,
      checked: 1,
      invalid: 0,
      results: [{ source: bodyFile, valid: true, code: 'valid', message: 'valid signature' }],
    });
  });
  test('--explain names the cause (trailing newline) and exits 1', async () => {
    const r = await v([file('nl.json', `${BODY}\n`), '--secret', SECRET, '--signature', GOOD, '--explain']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /trailing newline that was not signed/);
  });
  test('--explain on a valid upper-case signature says so and exits 0', async () => {
    const r = await v([bodyFile, '--secret', SECRET, '--signature', GOOD.toUpperCase(), '--explain', '--json']);
    assert.equal(r.code, 0);
    assert.equal(JSON.parse(r.stdout).results[0].code, 'hex-case');
  });
  test('--explain with the wrong secret: no known variant matched', async () => {
    const r = await v([bodyFile, '--secret', 'nope', '--signature', GOOD, '--explain']);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /no known variant matched/);
  });
  test('missing file → 2', async () => assertUsage(await v([join(dir, 'missing.json'), '--secret', SECRET, '--signature', GOOD]), /no such file/));
  test('a directory → 2', async () => assertUsage(await v([dir, '--secret', SECRET, '--signature', GOOD]), /cannot read .*: it is a directory/));
  test('a capture log that is a directory → 2', async () => assertUsage(await v([dir, '--secret', SECRET]), /it is a directory/));
  test('a file without read permission → 2', { skip: process.getuid?.() === 0 ? 'root reads any file' : false }, async () => {
    const p = file('secret.json', BODY);
    chmodSync(p, 0o000);
    assertUsage(await v([p, '--secret', SECRET, '--signature', GOOD]), /permission denied/);
  });
  test('no secret → 2', async () => assertUsage(await v([bodyFile, '--signature', GOOD]), /no secret given/));
  test('stdin read twice → 2', async () => assertUsage(await v(['-', '-', '--secret', SECRET, '--signature', GOOD]), /stdin/));

  describe('capture logs', () => {
    const capture = (body: string, signature: string | undefined): string =>
      encodeCapture({
        receivedAt: new Date('2026-11-27T00:00:00Z'),
        method: 'POST',
        path: '/webhooks/onepush',
        headers: { 'content-type': 'application/json', ...(signature === undefined ? {} : { 'x-onepush-signature': signature }) },
        body: Buffer.from(body),
        verified: null,
        status: 200,
      });
    const other = '{"id":"evt_02","type":"email.opened"}';
    test('every line valid → 0, signatures from the headers', async () => {
      const log = file('ok.ndjson', capture(BODY, GOOD) + capture(other, hmac(other, SECRET)));
      const r = await v([log, '--secret', SECRET, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.checked, 2);
      assert.deepEqual(j.results.map((x: { id: string; line: number }) => [x.id, x.line]), [['evt_01', 1], ['evt_02', 2]]);
    });
    test('one bad line → 1, each line reported', async () => {
      const log = file('bad.ndjson', capture(BODY, GOOD) + capture(other, 'f'.repeat(64)) + capture(other, undefined));
      const r = await v([log, '--secret', SECRET]);
      assert.equal(r.code, 1);
      const lines = r.stdout.trimEnd().split('\n');
      assert.equal(lines.length, 3);
      assert.match(lines[0]!, /^✔ valid .*bad\.ndjson:1 evt_01$/);
      assert.match(lines[1]!, /^✘ invalid .*:2 evt_02 — signature does not match/);
      assert.match(lines[2]!, /^✘ invalid .*:3 evt_02 — no signature/);
      assert.equal(r.stderr, '3 checked: 1 valid, 2 invalid\n');
    });
    test('a malformed line after good ones → 2', async () => {
      const log = file('malformed.ndjson', `${capture(BODY, GOOD)}{"v":1,"oops"\n`);
      const r = await v([log, '--secret', SECRET]);
      assertUsage(r, /malformed\.ndjson:2: malformed capture line: not valid JSON/, r.stdout);
      assert.match(r.stdout, /^✔ valid .*:1 evt_01\n$/);
    });
    test('a line of the wrong shape → 2', async () => {
      const bad = JSON.stringify({ ...JSON.parse(capture(BODY, GOOD)), body_encoding: 'hex' });
      const log = file('shape.ndjson', `${capture(BODY, GOOD)}${bad}\n`);
      const r = await v([log, '--secret', SECRET]);
      assertUsage(r, /shape\.ndjson:2: malformed capture line: capture field "body_encoding"/, r.stdout);
    });
    test('a raw body without --signature → 2 with a hint', async () => {
      const r = await v([bodyFile, '--secret', SECRET]);
      assertUsage(r, /is not a capture log/);
      assert.match(r.stderr, /hint: for a raw body, pass the signature with --signature/);
    });
    test('a torn last line is skipped with a warning', async () => {
      const log = file('torn.ndjson', `${capture(BODY, GOOD)}{"v":1,"rec`);
      const r = await v([log, '--secret', SECRET]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /warning: .*torn\.ndjson:2: torn last line skipped/);
    });
    const refused = encodeCapture({
      receivedAt: new Date('2026-11-27T00:00:00Z'),
      method: 'POST',
      path: '/webhooks/onepush',
      headers: {},
      body: null,
      verified: null,
      status: 413,
      reason: 'body too large',
      declaredSize: 5_000_000,
    });
    test('a capture refused before its body was read is skipped, not counted', async () => {
      const log = file('with413.ndjson', capture(BODY, GOOD) + refused);
      const r = await v([log, '--secret', SECRET, '--json']);
      assert.equal(r.code, 0, r.stderr);
      const j = JSON.parse(r.stdout);
      assert.equal(j.checked, 1);
      assert.deepEqual(j.results[1], { source: log, line: 2, valid: false, skipped: true, code: 'no-body', message: 'skipped: the body was not captured (answered 413)' });
      const human = await v([log, '--secret', SECRET]);
      assert.match(human.stdout, /\n- skipped .*:2 — the body was not captured \(answered 413\)\n$/);
    });
    // Nothing to do is exit 1 in every command, as grep's (the README's exit-code table).
    const assertNothing = (r: { code: number | null; stderr: string }, message: RegExp): void => {
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`^onepush: ${message.source}`));
      assert.doesNotMatch(r.stderr, /\n\s+at /);
    };
    test('only refused captures → 1, nothing to verify', async () => {
      const r = await v([file('only413.ndjson', refused), '--secret', SECRET]);
      assertNothing(r, /nothing to verify: no capture in the input has a body/);
      assert.match(r.stdout, /^- skipped /);
    });
    test('an empty log → 1', async () => assertNothing(await v([file('empty.ndjson', ''), '--secret', SECRET]), /nothing to verify: .* is empty/));
    test('empty stdin → 1', async () => assertNothing(await v(['--secret', SECRET]), /nothing to verify: stdin is empty/));
    test('--id that matches no capture → 1; --id and --last pick captures', async () => {
      const log = file('two.ndjson', capture(BODY, GOOD) + capture(BODY, 'f'.repeat(64)));
      assertNothing(await v([log, '--secret', SECRET, '--id', 'evt_nope']), /nothing to verify: no capture matched --id evt_nope/);
      const last = await v([log, '--secret', SECRET, '--last', '1', '--json']);
      assert.equal(last.code, 1);
      assert.deepEqual(JSON.parse(last.stdout).results.map((x: { line: number }) => x.line), [2]);
    });
  });
});

describe('a terminal on stdin', () => {
  // `script` gives the CLI a pseudo-terminal: without a file, sign/verify would wait for typed input.
  const inTerminal = async (args: string): Promise<{ code: number | null; output: string }> => {
    const child = spawnOnTerminal(args);
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    const [code] = (await once(child, 'close')) as [number | null];
    return { code, output: output.replace(/\r\n/g, '\n') };
  };
  test('sign without a file says what to do, exit 2 (the built CLI)', { skip: HAS_SCRIPT ? false : 'no script(1) here' }, async () => {
    const r = await inTerminal('sign --secret x');
    assert.equal(r.code, 2);
    assert.match(r.output, /^onepush: no body to sign: give a file, or pipe the body on stdin\nhint: /);
  });
  test('verify without a file says what to do, exit 2 (the built CLI)', { skip: HAS_SCRIPT ? false : 'no script(1) here' }, async () => {
    const r = await inTerminal('verify --secret x --signature ab');
    assert.equal(r.code, 2);
    assert.match(r.output, /^onepush: nothing to verify: /);
  });
});

describe('events', () => {
  const SEVEN = ['email.sent', 'email.delivered', 'email.opened', 'email.clicked', 'email.bounced', 'email.complained', 'email.unsubscribed'];
  test('--json lists exactly the seven types', async () => {
    const r = await runCli(['events', '--json']);
    assert.equal(r.code, 0);
    const list = JSON.parse(r.stdout) as Array<{ type: string; kind: string; field: string | null; description: string }>;
    assert.deepEqual(list.map((e) => e.type), SEVEN);
    for (const e of list) {
      assert.deepEqual(Object.keys(e), ['type', 'kind', 'field', 'description']);
      assert.ok(e.description.length > 10);
    }
  });
  test('a line per type', async () => {
    const r = await runCli(['events']);
    assert.equal(r.code, 0);
    const lines = r.stdout.trimEnd().split('\n');
    assert.deepEqual(lines.map((l) => l.split(/\s+/)[0]), SEVEN);
  });
  test('`onepush events | head -1`: no EPIPE error (the built CLI)', async () => {
    const child = spawn('sh', ['-c', `"${process.execPath}" "${BIN}" events | head -1; echo "exit=$?"`], { cwd: ROOT, env: cliEnv() });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    await once(child, 'close');
    assert.equal(stderr, '');
    assert.match(stdout, /^email\.sent\s+.*\nexit=0\n$/);
  });
  test('a stdout closed before the output: no EPIPE error, exit 0 (the built CLI)', async () => {
    const child = spawn(process.execPath, [BIN, 'events', '--json'], { cwd: ROOT, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const [code] = (await once(child, 'close')) as [number | null];
    assert.equal(stderr, '');
    assert.equal(code, 0);
  });
});

describe('global behaviour', () => {
  const COMMANDS = ['listen', 'trigger', 'replay', 'sign', 'verify', 'check', 'events'];
  test('--help: exit 0, every command listed, examples', async () => {
    const r = await runCli(['--help']);
    assert.equal(r.code, 0);
    assert.equal(r.stderr, '');
    for (const c of COMMANDS) assert.match(r.stdout, new RegExp(`^  ${c} `, 'm'));
    assert.match(r.stdout, /Examples:\n  \$ onepush /);
  });
  for (const c of COMMANDS) {
    test(`${c} --help has examples`, async () => {
      const r = await runCli([c, '--help']);
      assert.equal(r.code, 0);
      assert.match(r.stdout, new RegExp(`^Usage: onepush ${c} `, 'm'));
      assert.match(r.stdout, new RegExp(`Examples:\\n  \\$ onepush ${c}|\\$ .*onepush ${c}`));
    });
  }
  test('help <command> works like <command> --help', async () => {
    const r = await runCli(['help', 'verify']);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /^Usage: onepush verify /m);
  });
  test('--version and -v print the package version (the built CLI)', async () => {
    for (const flag of ['--version', '-v']) {
      const r = await runBin([flag]);
      assert.equal(r.code, 0);
      assert.equal(r.stdout, `${pkg.version}\n`);
    }
  });
  test('no command: help on stderr, exit 2', async () => {
    const r = await runCli([]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^Usage: onepush /);
  });
  test('unknown command → 2, one line + did-you-mean hint (the built CLI)', async () => {
    const r = await runBin(['sing', 'x']);
    assertUsage(r, /^onepush: unknown command 'sing'$/);
    assert.match(r.stderr, /\nhint: did you mean sign\? or see onepush --help\n$/);
  });
  test('unknown command without a close match → 2, hint to --help', async () => {
    const r = await runCli(['frobnicate']);
    assertUsage(r, /unknown command 'frobnicate'/);
    assert.match(r.stderr, /\nhint: see onepush --help\n$/);
  });
  test('unknown flag → 2, did-you-mean, hint names the command', async () => {
    const r = await runCli(['verify', '--sigature', 'ab']);
    assertUsage(r, /^onepush: unknown option '--sigature'$/);
    assert.match(r.stderr, /\nhint: did you mean --signature\? or see onepush verify --help\n$/);
  });
  test('missing option argument → 2', async () => assertUsage(await runCli(['sign', '--secret']), /option '--secret <secret>' argument missing/));
  test('too many arguments → 2', async () => assertUsage(await runCli(['sign', 'a', 'b', '--secret', 'x']), /too many arguments/));
  test('errors are one line; the stack only with --debug', async () => {
    const plain = await runCli(['verify', join(dir, 'nope'), '--secret', SECRET, '--signature', GOOD]);
    assertUsage(plain, /no such file/);
    const debug = await runCli(['verify', join(dir, 'nope'), '--secret', SECRET, '--signature', GOOD, '--debug']);
    assert.equal(debug.code, 2);
    assert.match(debug.stderr, /^onepush: cannot read /);
    assert.match(debug.stderr, NO_STACK);
    const env = await runCli(['verify', join(dir, 'nope'), '--secret', SECRET, '--signature', GOOD], { env: { ONEPUSH_DEBUG: '1' } });
    assert.match(env.stderr, NO_STACK);
  });
  test('NO_COLOR: no ANSI even when forced by a TTY-less pipe', async () => {
    const r = await runCli(['events'], { env: { NO_COLOR: '1' } });
    assert.doesNotMatch(r.stdout, /\x1b\[/);
    const e = await runCli(['sing'], { env: { NO_COLOR: '1' } });
    assert.doesNotMatch(e.stderr, /\x1b\[/);
  });
  // The built CLI: its chalk is bundled without colour detection (scripts/build.mjs), so colour must come from ours.
  test('FORCE_COLOR=1 gives ANSI in a pipe (and wins over NO_COLOR) (the built CLI)', async () => {
    const r = await runBin(['events'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
    assert.match(r.stdout, /\x1b\[\d+m/);
    const both = await runBin(['verify', bodyFile, '--secret', 'x', '--signature', GOOD], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } });
    assert.match(both.stdout, /\x1b\[\d+m/);
    const e = await runBin(['sing'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
    assert.match(e.stderr, /^\x1b\[\d+monepush:/);
  });
  test('FORCE_COLOR=0 turns colour off', async () => {
    const r = await runCli(['events'], { env: { NO_COLOR: undefined, FORCE_COLOR: '0' } });
    assert.doesNotMatch(r.stdout, /\x1b\[/);
  });
  test('--json output is never coloured', async () => {
    const r = await runCli(['verify', bodyFile, '--secret', SECRET, '--signature', GOOD, '--json'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
    assert.doesNotMatch(r.stdout, /\x1b\[/);
    JSON.parse(r.stdout);
  });
});
