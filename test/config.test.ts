import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BIN, cliEnv, jsonLines, runCli, startCli } from './helpers/cli.js';
import { startRawServer, type TestServer } from './helpers/servers.js';

// Issue #15: onepush.config.json (endpoints, port, save) and `onepush config`. Real temp project folders, the
// in-process CLI, loopback apps on port 0.

const SECRET = 'whsec_config_test';
const roots: string[] = [];
const servers: TestServer[] = [];
after(async () => {
  await Promise.all(servers.map((s) => s.close()));
  for (const r of roots) rmSync(r, { recursive: true, force: true });
});

/** A temp project folder, with `config` (an object, or raw text) as its onepush.config.json. */
function project(config?: unknown): string {
  const dir = mkdtempSync(join(tmpdir(), 'onepush-config-'));
  roots.push(dir);
  if (config !== undefined) writeFileSync(join(dir, 'onepush.config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return dir;
}

async function app(): Promise<TestServer> {
  const s = await startRawServer();
  servers.push(s);
  return s;
}

const types = (s: TestServer): string[] => s.received.map((r) => (JSON.parse(r.body.toString('utf8')) as { type: string }).type);

/** Asserts a failed run: exit 2, one error line naming `re`, and a hint. */
function assertConfigError(r: { code: number | null; stdout: string; stderr: string }, re: RegExp): void {
  assert.equal(r.code, 2, r.stdout + r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 2, r.stderr);
  assert.match(lines[0] ?? '', re);
  assert.match(lines[1] ?? '', /^hint: /);
}

describe('onepush.config.json: trigger, replay and listen use its endpoints', () => {
  test('trigger sends each type to the endpoints whose types take it', async () => {
    const [bounces, all] = [await app(), await app()];
    const dir = project({ endpoints: [{ url: bounces.url, types: ['email.bounced', 'email.c*'] }, { url: all.url }] });
    const r = await runCli(['trigger', 'email.bounced', 'email.delivered', '--secret', SECRET], { cwd: dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(types(bounces), ['email.bounced']);
    assert.deepEqual(types(all).sort(), ['email.bounced', 'email.delivered']);
  });

  test('endpoints from the file that leave this machine are warned about (a cloned repository\'s file); loopback ones and flags are not', async () => {
    const dir = project({ endpoints: [{ url: 'http://203.0.113.7/hook', types: ['email.b*'] }, { url: 'https://hooks.example.test/x' }, { url: 'http://127.0.0.1:3000/y' }] });
    const printed = await runCli(['trigger', 'email.sent', '--print', '--secret', SECRET], { cwd: dir });
    assert.equal(printed.code, 0, printed.stderr);
    assert.match(printed.stderr, /^warning: onepush\.config\.json sends events to 203\.0\.113\.7, hooks\.example\.test, which are not this machine \(pass --to to choose the target yourself\)$/m);
    const flagged = await runCli(['trigger', 'email.sent', '--print', '--to', 'http://203.0.113.7/hook', '--secret', SECRET], { cwd: dir });
    assert.doesNotMatch(flagged.stderr, /not this machine/);
    const local = project({ endpoints: [{ url: 'http://localhost:3000/y' }, { url: 'http://[::1]:3000/z' }] });
    const quiet = await runCli(['trigger', 'email.sent', '--print', '--secret', SECRET], { cwd: local });
    assert.doesNotMatch(quiet.stderr, /not this machine/);
  });

  test('a --to flag wins over the file', async () => {
    const [inFile, flagged] = [await app(), await app()];
    const dir = project({ endpoints: [{ url: inFile.url }] });
    const r = await runCli(['trigger', 'email.sent', '--to', flagged.url, '--secret', SECRET], { cwd: dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(flagged.received.length, 1);
    assert.equal(inFile.received.length, 0);
  });

  test('listen forwards to the file\'s endpoints and saves where the file says; the port comes from the file', async () => {
    const [bounces, all] = [await app(), await app()];
    const dir = project({ endpoints: [{ url: bounces.url, types: ['email.bounced'] }, { url: all.url }], port: 0, save: 'captures/log.ndjson' });
    mkdirSync(join(dir, 'captures'));
    const cli = startCli(['listen', '--json', '--secret', SECRET], { cwd: dir });
    const ready = JSON.parse(await cli.waitForLine((l) => l.includes('"kind":"ready"'))) as { url: string; port: number; save: string };
    assert.notEqual(ready.port, 4242);
    assert.equal(ready.save, join(dir, 'captures/log.ndjson'));
    const sent = await runCli(['trigger', 'email.bounced', 'email.opened', '--to', ready.url, '--secret', SECRET], { cwd: project() });
    assert.equal(sent.code, 0, sent.stdout + sent.stderr);
    await all.waitFor(2);
    await bounces.waitFor(1);
    await cli.stop();
    assert.deepEqual(types(bounces), ['email.bounced']);
    assert.deepEqual(types(all).sort(), ['email.bounced', 'email.opened']);
    assert.equal(readFileSync(join(dir, 'captures/log.ndjson'), 'utf8').trim().split('\n').length, 2);
  });

  test('listen: --port, --no-save and --forward-to win over the file; ONEPUSH_PORT over the file\'s port', async () => {
    const [inFile, flagged] = [await app(), await app()];
    const dir = project({ endpoints: [{ url: inFile.url }], port: 1, save: 'never.ndjson' });
    const cli = startCli(['listen', '--json', '--port', '0', '--no-save', '--forward-to', flagged.url, '--secret', SECRET], { cwd: dir });
    const ready = JSON.parse(await cli.waitForLine((l) => l.includes('"kind":"ready"'))) as { url: string; save: string | null };
    assert.equal(ready.save, null);
    const sent = await runCli(['trigger', 'email.sent', '--to', ready.url, '--secret', SECRET], { cwd: project() });
    assert.equal(sent.code, 0, sent.stdout + sent.stderr);
    await flagged.waitFor(1);
    await cli.stop();
    assert.equal(inFile.received.length, 0);
    assert.equal(existsSync(join(dir, 'never.ndjson')), false);
    const shown = await runCli(['config', '--json'], { cwd: dir, env: { ONEPUSH_PORT: '0' } });
    assert.deepEqual((jsonLines(shown)[0] as { port: unknown }).port, { value: 0, from: 'env', source: 'ONEPUSH_PORT' });
  });

  test('listen creates the default .onepush/ folder when the file names the default save path', async () => {
    const dir = project({ port: 0, save: '.onepush/events.ndjson' });
    const cli = startCli(['listen', '--json'], { cwd: dir });
    const ready = JSON.parse(await cli.waitForLine((l) => l.includes('"kind":"ready"'))) as { save: string };
    await cli.stop();
    assert.equal(ready.save, join(dir, '.onepush/events.ndjson'));
    assert.ok(existsSync(join(dir, '.onepush')));
  });

  test('replay takes the file\'s save as its source and its endpoints as targets', async () => {
    const target = await app();
    const dir = project({ endpoints: [{ url: target.url }], save: 'log.ndjson' });
    const body = JSON.stringify({ id: 'evt_cfg_1', type: 'email.sent', created_at: new Date().toISOString(), data: {} });
    writeFileSync(join(dir, 'log.ndjson'), `${JSON.stringify({ v: 1, received_at: new Date().toISOString(), method: 'POST', path: '/webhooks/onepush', headers: { 'content-type': 'application/json' }, body, body_encoding: 'utf8', verified: false, status: 200 })}\n`);
    const r = await runCli(['replay', '--secret', SECRET], { cwd: dir });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.deepEqual(types(target), ['email.sent']);
  });
});

describe('onepush.config.json: a bad file is exit 2, one line naming what is wrong', () => {
  const cases: Array<[string, string | object, RegExp]> = [
    ['a bad field names its path', { endpoints: [{ url: ':3000' }, { url: 'ht!tp://x y' }] }, /onepush\.config\.json: endpoints\[1\]\.url: not a valid URL/],
    ['a bad port', { port: 70000 }, /onepush\.config\.json: port: must be a port/],
    ['a secret in the file', { secret: 'whsec_x' }, /onepush\.config\.json: secret: the secret does not belong/],
    ['a key holding "secret", nested', { endpoints: [{ url: ':3000', webhook_secret: 'x' }] }, /endpoints\[0\]\.webhook_secret: the secret does not belong/],
    ['an unknown key (a typo)', { prot: 3000 }, /onepush\.config\.json: unknown key "prot"/],
    ['not JSON', '{ "port": ', /onepush\.config\.json: not valid JSON/],
    ['not an object', '[1]', /onepush\.config\.json: must be a JSON object/],
  ];
  for (const [name, config, re] of cases) {
    test(`${name} (trigger, listen, config)`, async () => {
      const dir = project(config);
      for (const args of [['trigger', 'email.sent', '--print'], ['listen', '--port', '0'], ['config']]) {
        const r = await runCli(args, { cwd: dir });
        assertConfigError(r, re);
      }
    });
  }

  test('the secret error says to use the environment or .env', async () => {
    const r = await runCli(['config'], { cwd: project({ secret: 'whsec_x' }) });
    assert.match(r.stderr, /ONEPUSH_WEBHOOK_SECRET in the environment or in \.env/);
  });

  test('a directory named onepush.config.json: exit 2, one line', async () => {
    const dir = project();
    mkdirSync(join(dir, 'onepush.config.json'));
    assertConfigError(await runCli(['config'], { cwd: dir }), /onepush\.config\.json: a folder, not a file/);
  });

  test('a symlink out of the project is refused; one inside it is read', async () => {
    const outside = project({ port: 5555 });
    const dir = project();
    symlinkSync(join(outside, 'onepush.config.json'), join(dir, 'onepush.config.json'));
    assertConfigError(await runCli(['config'], { cwd: dir }), /symlink that leads out of the project/);
    const inside = project();
    writeFileSync(join(inside, 'shared.json'), JSON.stringify({ port: 5555 }));
    symlinkSync('shared.json', join(inside, 'onepush.config.json'));
    const r = await runCli(['config', '--json'], { cwd: inside });
    assert.equal(r.code, 0, r.stderr);
    assert.equal((jsonLines(r)[0] as { port: { value: number } }).port.value, 5555);
  });

  test('a file over 1 MiB is refused', async () => {
    const dir = project(`{"save":"${'x'.repeat(1024 * 1024)}"}`);
    assertConfigError(await runCli(['config'], { cwd: dir }), /larger than 1 MiB/);
  });

  test('a FIFO named onepush.config.json: exit 2 at once, never hangs (the built CLI)', { skip: process.platform === 'win32' }, async () => {
    const dir = project();
    const fifo = join(dir, 'onepush.config.json');
    assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
    for (const args of [['config'], ['trigger', 'email.sent', '--print']]) {
      const child = spawn(process.execPath, [BIN, ...args], { cwd: dir, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdout.resume();
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const [code] = (await once(child, 'close')) as [number | null];
      clearTimeout(timer);
      assertConfigError({ code, stdout: '', stderr }, /onepush\.config\.json: not a regular file/);
    }
  });
});

describe('onepush config', () => {
  test('no file: the defaults, "none", and the secret from .env masked', async () => {
    const dir = project();
    writeFileSync(join(dir, '.env'), `ONEPUSH_WEBHOOK_SECRET=${SECRET}\n`);
    const r = await runCli(['config', '--json'], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(jsonLines(r)[0], {
      config_file: null,
      port: { value: 4242, from: 'default', source: 'default' },
      host: { value: '127.0.0.1', from: 'default', source: 'default' },
      save: { value: '.onepush/events.ndjson', from: 'default', source: 'default' },
      forward_to: { value: null, from: 'default', source: 'default' },
      targets: { value: ['http://localhost:4242/webhooks/onepush'], from: 'default', source: 'default' },
      secret: { value: 'whse…', from: '.env', source: '.env' },
    });
    assert.doesNotMatch(r.stdout, new RegExp(SECRET));
    const human = await runCli(['config'], { cwd: dir });
    assert.match(human.stdout, /config file +none/);
    assert.match(human.stdout, /port +4242 +\(default\)/);
    assert.match(human.stdout, /secret +whse… +\(\.env\)/);
  });

  test('each setting names its origin: flag, env, config file', async () => {
    const dir = project({ endpoints: [{ url: ':3000', types: ['email.bounced'] }], port: 5000, save: 'log.ndjson' });
    const r = await runCli(['config', '--json', '--to', '4000', '--host', '::1'], { cwd: dir, env: { ONEPUSH_WEBHOOK_SECRET: SECRET } });
    assert.equal(r.code, 0, r.stderr);
    const o = jsonLines(r)[0] as Record<string, { value: unknown; from: string }> & { config_file: string };
    assert.equal(o.config_file, join(dir, 'onepush.config.json'));
    assert.deepEqual([o.port?.value, o.port?.from], [5000, 'config file']);
    assert.deepEqual([o.save?.value, o.save?.from], ['log.ndjson', 'config file']);
    assert.deepEqual([o.host?.value, o.host?.from], ['::1', 'flag']);
    assert.deepEqual([o.targets?.value, o.targets?.from], [['http://localhost:4000/webhooks/onepush'], 'flag']);
    assert.deepEqual([o.secret?.value, o.secret?.from], ['whsec…'.slice(0, 4) + '…', 'env']);
    const human = await runCli(['config'], { cwd: dir });
    assert.match(human.stdout, /port +5000 +\(config file: onepush\.config\.json\)/);
    assert.match(human.stdout, /forward to +email\.bounced=http:\/\/localhost:3000\/webhooks\/onepush +\(config file/);
    const flagged = await runCli(['config', '--port', '6000', '--no-save'], { cwd: dir, env: { ONEPUSH_PORT: '7000' } });
    assert.match(flagged.stdout, /port +6000 +\(flag: --port\)/);
    assert.match(flagged.stdout, /save +off +\(flag: --no-save\)/);
    const env = await runCli(['config'], { cwd: dir, env: { ONEPUSH_PORT: '7000' } });
    assert.match(env.stdout, /port +7000 +\(env: ONEPUSH_PORT\)/);
  });
});

describe('no config file: sign and verify do not read it nor load zod (the built CLI)', () => {
  const RECORDER = fileURLToPath(new URL('./helpers/record-loads.cjs', import.meta.url));
  for (const args of [['sign', '--secret', SECRET], ['verify', '--secret', SECRET, '--signature', '0'.repeat(64)]]) {
    test(`${args[0]} with a config file present or not loads no zod`, async () => {
      for (const dir of [project(), project({ port: 5000 })]) {
        const file = join(dir, 'loads.txt');
        const child = spawn(process.execPath, ['--require', RECORDER, BIN, ...args], { cwd: dir, env: cliEnv({ ONEPUSH_RECORD_LOADS: file }), stdio: ['pipe', 'pipe', 'pipe'] });
        child.stdout.resume();
        child.stderr.resume();
        child.stdin.end('{"a":1}');
        const [code] = (await once(child, 'close')) as [number | null];
        assert.ok(code === 0 || code === 1, `exit ${code}`);
        assert.ok(!readFileSync(file, 'utf8').split('\n').includes('zod'), 'zod was loaded');
      }
    });
  }
  test('config with no file loads no zod; with one, it does', async () => {
    for (const [dir, expected] of [[project(), false], [project({ port: 5000 }), true]] as const) {
      const file = join(dir, 'loads.txt');
      const child = spawn(process.execPath, ['--require', RECORDER, BIN, 'config'], { cwd: dir, env: cliEnv({ ONEPUSH_RECORD_LOADS: file }), stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.resume();
      child.stderr.resume();
      const [code] = (await once(child, 'close')) as [number | null];
      assert.equal(code, 0);
      assert.equal(readFileSync(file, 'utf8').split('\n').includes('zod'), expected);
    }
  });
});
