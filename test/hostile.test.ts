import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BIN, cliEnv, HAS_SCRIPT, printedJson, readCaptures, ROOT, runBin, runCli, spawnOnTerminal, startBin, startCli, type InProcessCli, type LiveCli } from './helpers/cli.js';
import { freePort, startRawServer } from './helpers/servers.js';
import { mountTmpfs } from './helpers/tmpfs.js';
import { createOutput } from '../src/adapters/terminal.js';
import { splitLines } from '../src/adapters/lines.js';
import { startListener } from '../src/app/listen.js';
import { withinDepth } from '../src/core/json.js';

// Hostile input and unlucky users (issue #12): each numbered item of the issue has a test here that failed before
// the fix. What a sender, a file or a terminal can throw at onepush must end in an answer or a clear error, never a
// crash, a hang, a lie in the capture log, code run, or memory without bound. Commands run in-process through
// src/cli.ts's `run`, and as the built CLI where a process matters (signals, kill -9, a stdout pipe, a terminal, a
// folder it runs in).

const SECRET = 'whsec_hostile_suite';
const hmac = (body: string | Buffer, secret = SECRET): string => createHmac('sha256', secret).update(body).digest('hex');
const NO_STACK = /\n\s+at /;
/** Every control character a terminal could act on (the line breaks between lines are split off first). */
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const dir = mkdtempSync(join(tmpdir(), 'onepush-hostile-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const tmp = (name: string): string => join(dir, `${++n}-${name}`);
const folder = (): string => {
  const d = tmp('dir');
  mkdirSync(d);
  return d;
};

function fixture(type: string, id = `evt_${type.slice(6)}_${++n}`): Record<string, unknown> {
  const event = JSON.parse(readFileSync(new URL(`../fixtures/${type}.json`, import.meta.url), 'utf8')) as Record<string, unknown>;
  event.id = id;
  return event;
}

interface Reply {
  status: number;
  body: Record<string, unknown>;
}

async function post(url: string, body: string | Buffer, headers: Record<string, string> = {}): Promise<Reply> {
  const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'application/json', ...headers } });
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as Record<string, unknown> };
}
const signed = (url: string, body: string, headers: Record<string, string> = {}): Promise<Reply> => post(url, body, { 'x-onepush-signature': hmac(body), ...headers });

interface Running<Cli = InProcessCli> {
  cli: Cli;
  ready: Record<string, unknown>;
  url: string;
  port: number;
  save: string;
}

/** `onepush listen --json --port 0 --save <file> …` in-process, once ready. */
async function listen(args: string[], options: { save?: string; env?: Record<string, string> } = {}): Promise<Running> {
  const save = options.save ?? tmp('events.ndjson');
  const cli = startCli(['listen', '--port', '0', '--json', '--save', save, ...args], { ...(options.env ? { env: options.env } : {}) });
  const ready = JSON.parse(await cli.waitForLine((l) => l.includes('"kind":"ready"'))) as Record<string, unknown>;
  return { cli, ready, url: String(ready.url), port: Number(ready.port), save };
}

/** The same with the built CLI, as a child process (in `cwd`: a relative --save is the CLI's own folder's). */
async function listenBin(args: string[], options: { save?: string; cwd?: string } = {}): Promise<Running<LiveCli>> {
  const save = options.save ?? tmp('events.ndjson');
  const cli = startBin(['listen', '--port', '0', '--json', '--save', save, ...args], { ...(options.cwd ? { cwd: options.cwd } : {}) });
  const ready = JSON.parse(await cli.waitForLine((l) => l.includes('"kind":"ready"'))) as Record<string, unknown>;
  return { cli, ready, url: String(ready.url), port: Number(ready.port), save };
}

const lines = printedJson;
const captures = readCaptures;

/** JSON nested `depth` levels deep, about 2 bytes a level, with a line break inside (so no fast path skips it). */
const deepJson = (depth: number, lineBreak = true): string => `{"id":"evt_deep","type":"email.sent","x":${'['.repeat(depth)}${lineBreak ? '\n' : ''}${']'.repeat(depth)}}`;

describe('1. deep nesting: no input recurses the stack', () => {
  test('withinDepth counts brackets outside strings only', () => {
    assert.equal(withinDepth('[[[]]]', 3), true);
    assert.equal(withinDepth('[[[[]]]]', 3), false);
    assert.equal(withinDepth(`{"s":"${'['.repeat(500)}"}`, 3), true, 'brackets inside a string do not nest');
    assert.equal(withinDepth(`{"s":"\\"${'['.repeat(500)}"}`, 3), true, 'an escaped quote does not end the string');
  });

  for (const verbose of [false, true]) {
    test(`listen${verbose ? ' --verbose' : ''}: an unsigned body nested 5,000 deep gets a 400 saying so, and the listener goes on`, async () => {
      const { cli, url, save } = await listen(['--secret', SECRET, ...(verbose ? ['--verbose'] : [])]);
      for (const lineBreak of [true, false]) {
        const r = await post(url, deepJson(5000, lineBreak));
        assert.equal(r.status, 400);
        assert.match(String(r.body.reason), /nested deeper than 100 levels/);
      }
      assert.equal((await signed(url, JSON.stringify(fixture('email.sent')))).status, 200, 'still answering');
      const result = await cli.stop();
      assert.equal(result.code, 0, result.stderr);
      assert.doesNotMatch(result.stderr, NO_STACK);
      const summary = lines(cli).at(-1);
      assert.equal(summary?.kind, 'summary');
      assert.equal(summary?.received, 3);
      assert.deepEqual(captures(save).map((c) => c.status), [400, 400, 200]);
    });
  }

  test('replay, verify, trigger --data/--fixture/--set and replay --fresh-id: a clear line, never "unexpected error"', async () => {
    const deepEvent = tmp('deep.json');
    writeFileSync(deepEvent, deepJson(5000));
    const fresh = await runCli(['replay', deepEvent, '--fresh-id', '--secret', SECRET, '--to', 'http://127.0.0.1:9/x']);
    assert.equal(fresh.code, 2, fresh.stderr);
    assert.match(fresh.stderr, /nested deeper than 100 levels/);
    assert.doesNotMatch(fresh.stderr, /unexpected error/);

    const data = await runCli(['trigger', 'sent', '--print', '--data', deepEvent]);
    assert.equal(data.code, 2);
    assert.match(data.stderr, /^onepush: --data .* is JSON nested deeper than 100 levels/);
    const fixtureFile = await runCli(['trigger', '--print', '--fixture', deepEvent]);
    assert.equal(fixtureFile.code, 2);
    assert.match(fixtureFile.stderr, /is JSON nested deeper than 100 levels/);
    const set = await runCli(['trigger', 'sent', '--print', '--set', `data.x=${'['.repeat(5000)}${']'.repeat(5000)}`]);
    assert.equal(set.code, 2);
    assert.match(set.stderr, /--set data\.x: the value is JSON nested deeper than 100 levels/);
    const path = await runCli(['trigger', 'sent', '--print', '--set', `${'a.'.repeat(5000)}b=1`]);
    assert.equal(path.code, 2);
    assert.match(path.stderr, /deeper than 100 levels/);

    // A capture log holding such a body (what the listener answered 400) is read without a crash.
    const body = deepJson(5000);
    const log = tmp('deep.ndjson');
    writeFileSync(
      log,
      `${JSON.stringify({ v: 1, received_at: '2026-11-27T10:00:00.000Z', method: 'POST', path: '/', headers: { 'x-onepush-signature': hmac(body) }, body, body_encoding: 'utf8', verified: true, status: 400 })}\n`,
    );
    const verify = await runCli(['verify', log, '--secret', SECRET, '--explain']);
    assert.equal(verify.code, 0, verify.stderr);
    const replay = await runCli(['replay', log, '--secret', SECRET, '--to', 'http://127.0.0.1:9/x']);
    assert.equal(replay.code, 1, replay.stderr);
    assert.match(replay.stderr, /captured body is JSON nested deeper than 100 levels/);
    assert.match(replay.stderr, /nothing to replay/);
    for (const r of [fresh, data, fixtureFile, set, path, verify, replay]) assert.doesNotMatch(r.stderr, NO_STACK);
  });
});

describe('2. forwarding to itself', () => {
  test('--forward-to the listener\'s own address is refused at start: exit 2, one line', async () => {
    const port = await freePort();
    for (const target of [String(port), `localhost:${port}`, `http://127.0.0.1:${port}/webhooks/onepush`, `http://[::1]:${port}/x`]) {
      const r = await runCli(['listen', '--port', String(port), '--no-save', '--forward-to', target]);
      assert.equal(r.code, 2, `${target}: ${r.stderr}`);
      assert.match(r.stderr, /^onepush: --forward-to .* is this listener itself: every event would be forwarded back to it, forever\nhint: /);
    }
  });

  test('a loop through another listener is caught by the x-onepush-forwarded mark: one event stays one event', async () => {
    // A forwards to B, B forwards back to A.
    const portA = await freePort();
    const b = await listen(['--secret', SECRET, '--forward-to', String(portA)]);
    const a = await listen(['--secret', SECRET, '--port', String(portA), '--forward-to', String(b.port)]);
    try {
      assert.equal((await signed(a.url, JSON.stringify(fixture('email.sent', 'evt_loop')))).status, 200);
      // A gets it back from B and refuses it as a loop: 508, not forwarded again.
      await a.cli.waitForLine((l) => l.includes('"status":508'));
      await b.cli.waitForLine((l) => l.includes('"kind":"forward"') && l.includes('"status":508'));
    } finally {
      await a.cli.stop();
      await b.cli.stop();
    }
    assert.deepEqual(captures(a.save).map((c) => c.status), [200, 508]);
    assert.deepEqual(captures(b.save).map((c) => c.status), [200]);
    const looped = captures(a.save)[1] as { reason: string; headers: Record<string, string> };
    assert.match(looped.reason, /forwarding loop/);
  });
});

describe('3. a terminal with no width', () => {
  test('no spinner: progress is a plain line now and then, never cursor codes', () => {
    let written = '';
    const out = createOutput({ stdout: { write: () => true }, stderr: { isTTY: true, columns: 0, write: (t: string) => (written += t) }, env: {} });
    return out.spinner('working…').then((s) => {
      for (let i = 0; i < 1000; i++) s.text(`step ${i}`);
      s.stop('done');
      assert.equal(written, 'done\n');
    });
  });

  test('check under a pseudo-terminal of size 0×0 finishes, with bounded output (the built CLI)', { skip: HAS_SCRIPT ? false : 'no script(1) here' }, async () => {
    const app = await startRawServer();
    try {
      const child = spawnOnTerminal(`check ${app.url} --only 1,5,6`);
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
      const [code] = (await once(child, 'close')) as [number | null];
      assert.equal(code, 0, output);
      assert.ok(output.length < 10_000, `${output.length} characters of output`);
      assert.match(output, /valid-events/);
      assert.match(output, /3 passed/);
    } finally {
      await app.close();
    }
  });
});

describe('4. paths, timers and directories that used to break things', () => {
  test('--save into a folder that does not exist (/proc/x/y): exit 2 at once, nothing created', async () => {
    const r = await runCli(['listen', '--port', '0', '--save', '/proc/x/y']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^onepush: cannot open the capture log \/proc\/x\/y: the folder \/proc\/x does not exist\nhint: /);
    const deep = join(folder(), 'a', 'b', 'events.ndjson');
    const r2 = await runCli(['listen', '--port', '0', '--save', deep]);
    assert.equal(r2.code, 2);
    assert.equal(existsSync(join(deep, '..', '..')), false, 'no folder tree created');
  });

  test('--timeout past what a timer holds is refused with its range; the largest is accepted', async () => {
    for (const cmd of [['trigger', 'sent', '--print'], ['replay', '--to', '3000'], ['check', '3000']]) {
      const r = await runCli([...cmd, '--timeout', '2147483648']);
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /--timeout must be a whole number from 1 to 2147483647/);
    }
    assert.equal((await runCli(['trigger', 'sent', '--print', '--timeout', '2147483647'])).code, 0);
  });

  test('a dangling symlink and a symlink loop in a replay directory are passed over with a note; the rest is replayed', async () => {
    const sink = await startRawServer();
    try {
      const d = folder();
      writeFileSync(join(d, 'a.json'), JSON.stringify(fixture('email.sent', 'evt_dir_ok')));
      symlinkSync(join(d, 'nowhere.json'), join(d, 'b.json'));
      symlinkSync(join(d, 'loop2.json'), join(d, 'loop1.json'));
      symlinkSync(join(d, 'loop1.json'), join(d, 'loop2.json'));
      mkdirSync(join(d, 'c.ndjson'));
      const r = await runCli(['replay', d, '--to', sink.url]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(sink.received.length, 1);
      assert.match(r.stderr, /b\.json: skipped: a symbolic link to nothing/);
      assert.match(r.stderr, /loop1\.json: skipped: a symbolic link loop/);
      assert.match(r.stderr, /c\.ndjson: skipped: a folder/);
      assert.doesNotMatch(r.stderr, /unexpected error/);
    } finally {
      await sink.close();
    }
  });
});

describe('5. reading lines is linear and stops on Ctrl-C', () => {
  test('a 32 MB line read in 64 KB chunks is copied once, not once per chunk', async () => {
    const size = 32 * 1024 * 1024;
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    async function* stream(): AsyncGenerator<Buffer> {
      for (let i = 0; i < size / chunk.length; i++) yield chunk;
      yield Buffer.from('\n{"next":1}\n');
    }
    // Buffer.concat is what joins a line's pieces: count the bytes it copies (before: ~8 GB, quadratic).
    const concat = Buffer.concat;
    let copied = 0;
    Buffer.concat = ((list: readonly Uint8Array[], total?: number) => {
      const joined = concat(list, total);
      copied += joined.length;
      return joined;
    }) as typeof Buffer.concat;
    const got: Array<{ length: number; number: number }> = [];
    try {
      for await (const l of splitLines(stream())) got.push({ length: l.text.length, number: l.number });
    } finally {
      Buffer.concat = concat;
    }
    assert.deepEqual(got, [
      { length: size, number: 1 },
      { length: 10, number: 2 },
    ]);
    assert.ok(copied <= size + 1024, `${copied} bytes copied for a ${size}-byte line`);
  });

  test('a line over the 64 MiB limit is a bad line: reported, --skip-bad goes on, nothing else is held', async () => {
    const sink = await startRawServer();
    try {
      const file = tmp('long.ndjson');
      writeFileSync(file, `${JSON.stringify(fixture('email.sent', 'evt_before'))}\n`);
      appendFileSync(file, Buffer.alloc(65 * 1024 * 1024, 0x20));
      appendFileSync(file, `\n${JSON.stringify(fixture('email.sent', 'evt_after'))}\n`);
      const stop = await runCli(['replay', file, '--to', sink.url]);
      assert.equal(stop.code, 2);
      assert.match(stop.stderr, /long\.ndjson:2: line of 68,157,440 bytes is over the 64 MiB line limit/);
      const skip = await runCli(['replay', file, '--to', sink.url, '--skip-bad', '--json']);
      assert.equal(skip.code, 0, skip.stderr);
      assert.deepEqual(
        sink.received.map((r) => JSON.parse(r.body.toString()).id),
        ['evt_before', 'evt_before', 'evt_after'],
      );
      // The same line in a capture log: verify stops there, exit 2, with the line's number and size.
      const log = tmp('long-log.ndjson');
      const body = JSON.stringify(fixture('email.sent'));
      writeFileSync(log, `${JSON.stringify({ v: 1, received_at: '2026-11-27T10:00:00.000Z', method: 'POST', path: '/', headers: { 'x-onepush-signature': hmac(body) }, body, body_encoding: 'utf8', verified: true, status: 200 })}\n`);
      appendFileSync(log, Buffer.alloc(65 * 1024 * 1024, 0x20));
      appendFileSync(log, '\n');
      const verify = await runCli(['verify', log, '--secret', SECRET]);
      assert.equal(verify.code, 2);
      assert.match(verify.stderr, /long-log\.ndjson:2: malformed capture line: line of 68,157,440 bytes is over the 64 MiB line limit/);
    } finally {
      await sink.close();
    }
  });

  test('Ctrl-C stops replay while it reads a 2 GB file with no newline: exit 130, the summary prints (the built CLI)', { skip: process.platform !== 'linux' ? 'sparse file' : false }, async () => {
    const file = tmp('sparse.ndjson');
    writeFileSync(file, '');
    spawnSync('truncate', ['-s', '2G', file]);
    assert.equal(statSync(file).size, 2 * 1024 ** 3);
    const child = spawn(process.execPath, [BIN, 'replay', file, '--to', 'http://127.0.0.1:9/x', '--json'], { cwd: ROOT, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    // Once it reads (the file is open), Ctrl-C.
    const pid = child.pid as number;
    const opened = (): boolean => {
      try {
        return readdirSync(`/proc/${pid}/fd`).some((fd) => {
          try {
            return readlinkSync(`/proc/${pid}/fd/${fd}`).endsWith('sparse.ndjson');
          } catch {
            return false;
          }
        });
      } catch {
        return false;
      }
    };
    while (!opened()) {
      assert.equal(child.exitCode, null, `replay exited before it opened the file: ${stderr}`);
      await new Promise((resolve) => setImmediate(resolve));
    }
    child.kill('SIGINT');
    const [code] = (await once(child, 'close')) as [number | null];
    assert.equal(code, 130, stderr);
    assert.match(stderr, /stopping/);
    assert.equal(JSON.parse(stdout.trim().split('\n').at(-1) as string).kind, 'summary');
  });
});

describe('6. library callbacks that throw', () => {
  test('a throwing onEvent: every request is answered, the error is reported, the summary counts it', async () => {
    const errors: Error[] = [];
    const listener = await startListener({
      port: 0,
      onEvent: () => {
        throw new Error('user bug');
      },
      onError: (e) => errors.push(e),
    });
    try {
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => post(listener.url, JSON.stringify(fixture('email.sent', `evt_cb_${i}`)))));
      assert.deepEqual(replies.map((r) => r.status), replies.map(() => 200));
    } finally {
      const summary = await listener.close();
      assert.equal(summary.callback_errors, 20);
    }
    assert.equal(errors.length, 20);
    assert.equal(errors[0]?.message, 'user bug');
  });

  test('a throwing onForward: no unhandled rejection, close() resolves and closes the connections', async () => {
    const app = await startRawServer();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown): void => void unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    const errors: Error[] = [];
    try {
      const listener = await startListener({
        port: 0,
        forwardTo: app.url,
        onForward: () => {
          throw new Error('forward callback bug');
        },
        onError: (e) => errors.push(e),
      });
      for (let i = 0; i < 3; i++) assert.equal((await post(listener.url, JSON.stringify(fixture('email.sent', `evt_fcb_${i}`)))).status, 200);
      await listener.drained();
      const summary = await listener.close();
      assert.equal(summary.forwarded, 3, 'the queue went on');
      assert.equal(summary.callback_errors, 3);
      assert.equal(app.received.length, 3);
    } finally {
      process.off('unhandledRejection', onUnhandled);
      await app.close();
    }
    assert.deepEqual(unhandled, []);
    assert.deepEqual(errors.map((e) => e.message), ['forward callback bug', 'forward callback bug', 'forward callback bug']);
  });
});

describe('7–9. the capture log never lies and is always readable', () => {
  test('a torn tail (kill -9 mid-write) is moved aside before the next line: every answered event stays readable', async () => {
    const save = tmp('torn.ndjson');
    const first = JSON.stringify(fixture('email.sent', 'evt_before_crash'));
    // What a listener killed mid-write leaves: whole lines, then half of one (never answered).
    writeFileSync(save, `${JSON.stringify({ v: 1, received_at: '2026-11-27T10:00:00.000Z', method: 'POST', path: '/', headers: { 'x-onepush-signature': hmac(first) }, body: first, body_encoding: 'utf8', verified: true, status: 200 })}\n`, { mode: 0o600 });
    const fragment = '{"v":1,"received_at":"2026-11-27T10:00:01.000Z","method":"POST","path":"/","headers":{"x-onepush-sig';
    appendFileSync(save, fragment);
    const { cli, url } = await listen(['--secret', SECRET], { save });
    assert.equal((await signed(url, JSON.stringify(fixture('email.sent', 'evt_after_restart')))).status, 200);
    const result = await cli.stop();
    assert.match(result.stderr, /ended in a torn line \(\d+ bytes never answered: .*\); moved it to .*torn\.ndjson\.torn/);
    assert.equal(readFileSync(`${save}.torn`, 'utf8'), `${fragment}\n`);
    const verify = await runCli(['verify', save, '--secret', SECRET]);
    assert.equal(verify.code, 0, verify.stderr);
    assert.match(verify.stderr, /2 checked: 2 valid, 0 invalid/);
    const sink = await startRawServer();
    try {
      const replay = await runCli(['replay', save, '--to', sink.url, '--json']);
      assert.equal(replay.code, 0, replay.stderr);
      assert.deepEqual(sink.received.map((r) => JSON.parse(r.body.toString()).id), ['evt_before_crash', 'evt_after_restart']);
    } finally {
      await sink.close();
    }
  });

  const disk = mountTmpfs('128k');
  // Unmounted when the file ends, whether the test ran or was left out (a name filter, test:unit).
  after(() => {
    if (!('skip' in disk)) disk.unmount();
  });
  test('8. a full disk: 503, the log never says 200 for it, and the sender\'s retry is not a duplicate', { skip: 'skip' in disk ? disk.skip : false }, async (t) => {
    if ('skip' in disk) return;
    const save = join(disk.dir, 'events.ndjson');
    const { cli, url } = await listen(['--secret', SECRET], { save });
    // Fill the disk but for a few bytes.
    const filler = join(disk.dir, 'filler');
    const free = (): number => {
      const st = spawnSync('df', ['-B1', '--output=avail', disk.dir], { encoding: 'utf8' }).stdout.trim().split('\n').at(-1);
      return Number(st);
    };
    writeFileSync(filler, Buffer.alloc(Math.max(0, free() - 512)));
    const body = JSON.stringify({ ...fixture('email.bounced', 'evt_full_disk'), padding: 'x'.repeat(4000) });
    const refusedReply = await signed(url, body);
    assert.equal(refusedReply.status, 503);
    assert.match(String(refusedReply.body.reason), /could not save the capture/);
    rmSync(filler);
    const retry = await signed(url, body);
    assert.equal(retry.status, 200, 'the retry after space came back is accepted');
    const result = await cli.stop();
    assert.equal(result.code, 0);
    assert.match(result.stderr, /warning: could not write the capture log .*answered 503/);
    const events = lines(cli).filter((l) => l.kind === 'event');
    assert.deepEqual(events.map((e) => [e.status, e.duplicate]), [[503, false], [200, false]]);
    const saved = captures(save);
    assert.ok(!saved.some((c) => c.status === 200 && c.body === null), 'no 200 without its body');
    assert.deepEqual(saved.filter((c) => c.status === 200).length, 1);
    assert.equal(saved.at(-1)?.status, 200);
    assert.equal((await runCli(['verify', save, '--secret', SECRET])).code, 0);
  });

  test('9. the log deleted while listening: noticed, a new one is started with a warning, no 200 goes nowhere', async () => {
    const { cli, url, save } = await listen(['--secret', SECRET]);
    assert.equal((await signed(url, JSON.stringify(fixture('email.sent', 'evt_old_log')))).status, 200);
    await cli.waitForLine((l) => l.includes('evt_old_log'));
    rmSync(save);
    assert.equal((await signed(url, JSON.stringify(fixture('email.sent', 'evt_new_log')))).status, 200);
    const result = await cli.stop();
    assert.match(result.stderr, /warning: the capture log .* was deleted or replaced while listening: started a new one there/);
    assert.deepEqual(captures(save).map((c) => JSON.parse(String(c.body)).id), ['evt_new_log']);
    assert.equal(lines(cli).at(-1)?.save, save);
  });
});

describe('11. the capture log is never written through a link, nor into a file that is not a log', () => {
  test('a planted .onepush/events.ndjson -> victim is refused; the victim is untouched (the built CLI)', async () => {
    const project = folder();
    mkdirSync(join(project, '.onepush'), { mode: 0o700 });
    const victim = join(project, 'bashrc');
    writeFileSync(victim, 'export PATH=$PATH\n');
    symlinkSync(victim, join(project, '.onepush', 'events.ndjson'));
    const r = await runBin(['listen', '--port', '0'], { cwd: project });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^onepush: cannot open the capture log \.onepush\/events\.ndjson: it is a symbolic link: onepush never writes captures through a link\nhint: /);
    assert.equal(readFileSync(victim, 'utf8'), 'export PATH=$PATH\n');
  });

  test('a planted onepush-check.xml -> victim: check --junit refuses to write through it', async () => {
    const project = folder();
    const victim = join(project, 'bashrc');
    writeFileSync(victim, 'export PATH=$PATH\n');
    symlinkSync(victim, join(project, 'onepush-check.xml'));
    const app = await startRawServer();
    try {
      const r = await runCli(['check', app.url, '--only', '1', '--junit', 'onepush-check.xml'], { cwd: project });
      assert.equal(r.code, 2);
      assert.match(r.stderr, /^onepush: cannot write the JUnit report .*onepush-check\.xml: it is a symbolic link: onepush never writes a report through a link\nhint: /m);
      assert.equal(readFileSync(victim, 'utf8'), 'export PATH=$PATH\n');
    } finally {
      await app.close();
    }
  });

  test('a planted .onepush -> elsewhere folder link is refused (the built CLI)', async () => {
    const project = folder();
    const elsewhere = folder();
    symlinkSync(elsewhere, join(project, '.onepush'));
    const r = await runBin(['listen', '--port', '0'], { cwd: project });
    assert.equal(r.code, 2);
    assert.match(r.stderr, /^onepush: the capture folder \.onepush is a symbolic link/);
    assert.equal(existsSync(join(elsewhere, 'events.ndjson')), false);
  });

  test('an existing file that is not a capture log is never appended to', async () => {
    const notALog = tmp('notes.ndjson');
    writeFileSync(notALog, 'my own notes\n');
    const r = await runCli(['listen', '--port', '0', '--save', notALog]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /notes\.ndjson is not a capture log \(it does not start like one\): onepush appends only to its own logs/);
    assert.equal(readFileSync(notALog, 'utf8'), 'my own notes\n');
    const fifo = tmp('fifo');
    spawnSync('mkfifo', [fifo]);
    const r2 = await runCli(['listen', '--port', '0', '--save', fifo]);
    assert.equal(r2.code, 2);
    assert.match(r2.stderr, /it is not a regular file/);
  });

  test('a log and its folder that others can read are closed (0600, 0700), with a warning (the built CLI)', async () => {
    const project = folder();
    mkdirSync(join(project, '.onepush'));
    chmodSync(join(project, '.onepush'), 0o755);
    const { cli, url } = await listenBin([], { save: '.onepush/events.ndjson', cwd: project });
    const result0 = await post(url, JSON.stringify(fixture('email.sent')));
    assert.equal(result0.status, 200);
    await cli.stop();
    assert.match(cli.stderr(), /the capture folder \.onepush was open to other users \(mode 755\): now 0700/);
    assert.equal(statSync(join(project, '.onepush')).mode & 0o777, 0o700);
    const log = join(project, '.onepush', 'events.ndjson');
    chmodSync(log, 0o644);
    const again = await listenBin([], { save: '.onepush/events.ndjson', cwd: project });
    await again.cli.stop();
    assert.match(again.cli.stderr(), /the capture log \.onepush\/events\.ndjson was readable by other users \(mode 644\): now 0600/);
    assert.equal(statSync(log).mode & 0o777, 0o600);
  });

  test('a second listener on the same log is refused (one writer at a time); a stale lock of a killed one is taken over (the first: the built CLI)', async () => {
    const save = tmp('shared.ndjson');
    const first = await listenBin([], { save });
    const second = await runCli(['listen', '--port', '0', '--save', save]);
    assert.equal(second.code, 2);
    assert.match(second.stderr, new RegExp(`another onepush listen \\(pid ${first.cli.child.pid}\\) is writing`));
    first.cli.child.kill('SIGKILL');
    await once(first.cli.child, 'close');
    assert.equal(existsSync(`${save}.lock`), true, 'kill -9 leaves the lock');
    const third = await listen([], { save });
    await third.cli.stop();
    assert.equal(existsSync(`${save}.lock`), false, 'removed at a clean stop');
  });
});

describe('12. nothing from outside reaches the terminal raw', () => {
  const ATTACK = '\u001b]0;owned\u0007\u001b[2J\u009b31m\u202etxt.exe';
  const hostile = (): string =>
    JSON.stringify({ ...fixture('email.sent', `evt_${ATTACK}`), type: `email.sent${ATTACK}`, data: { ...(fixture('email.sent').data as object), to: [`jane${ATTACK}@example.com`], subject: `Hi ${ATTACK}` } });

  for (const colour of ['NO_COLOR', 'FORCE_COLOR'] as const) {
    test(`listen, pretty (${colour}): an unsigned 401's id, type, recipient and subject are escaped`, async () => {
      const save = tmp('esc.ndjson');
      const cli = startCli(['listen', '--port', '0', '--secret', SECRET, '--save', save, '--verbose'], { env: colour === 'FORCE_COLOR' ? { FORCE_COLOR: '1', NO_COLOR: undefined } : {} });
      // The banner (stderr) names the URL once the port is open.
      const url = (await cli.waitForStderr(/Webhook URL(?:\s|\u001b\[\d+m)*(http:\/\/[^\s\u001b]+)/))[1] ?? '';
      assert.equal((await post(url, hostile())).status, 401);
      assert.equal((await post(url, hostile(), { 'x-onepush-signature': 'a'.repeat(64) })).status, 401);
      const result = await cli.stop();
      const text = `${result.stdout}\n${result.stderr}`;
      for (const line of text.split('\n')) {
        const withoutOurColours = line.replace(/\u001b\[(?:0|1|2|22|31|32|33|34|35|36|39|90)m/g, '');
        assert.doesNotMatch(withoutOurColours, RAW_CONTROL, JSON.stringify(line));
      }
      assert.match(text, /\\x1b\]0;owned\\x07/, 'shown escaped');
    });
  }

  test('trigger, replay and forward lines escape the first line of a hostile response', async () => {
    const app = await startRawServer((_r, res) => {
      res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`boom ${ATTACK}`);
    });
    try {
      const trig = await runCli(['trigger', 'sent', '--to', app.url]);
      const file = tmp('one.json');
      writeFileSync(file, hostile());
      const rep = await runCli(['replay', file, '--to', app.url]);
      const { cli, url } = await listen(['--forward-to', app.url]);
      await post(url, JSON.stringify(fixture('email.sent')));
      await cli.waitForLine((l) => l.includes('"kind":"forward"'));
      const lis = await cli.stop();
      for (const r of [trig, rep, lis]) {
        for (const line of `${r.stdout}\n${r.stderr}`.split('\n')) assert.doesNotMatch(line, RAW_CONTROL, JSON.stringify(line));
      }
      assert.match(trig.stdout, /boom \\x1b\]0;owned\\x07/);
      assert.match(rep.stdout, /boom \\x1b\]0;owned/);
      // --json escapes by construction, and DEL, C1 and bidi characters too.
      assert.doesNotMatch(lis.stdout, /[\u007f-\u009f\u202a-\u202e]/);
    } finally {
      await app.close();
    }
  });
});

describe('13. the listener trusts no browser', () => {
  test('a cross-site POST (Origin, Sec-Fetch-*) is refused 403 and never forwarded; Node\'s own fetch is not a browser', async () => {
    const app = await startRawServer();
    try {
      const { cli, url, save } = await listen(['--forward-to', app.url]);
      const page = await post(url, JSON.stringify(fixture('email.sent', 'evt_from_page')), { 'content-type': 'text/plain', origin: 'https://evil.example' });
      assert.equal(page.status, 403);
      assert.match(String(page.body.reason), /a browser request/);
      const fetchMeta = await post(url, JSON.stringify(fixture('email.sent', 'evt_sec_fetch')), { 'sec-fetch-site': 'cross-site', 'sec-fetch-dest': 'empty' });
      assert.equal(fetchMeta.status, 403);
      assert.equal((await post(url, JSON.stringify(fixture('email.sent', 'evt_script')))).status, 200, 'a script using fetch is fine');
      await app.waitFor(1);
      await cli.stop();
      assert.deepEqual(app.received.map((r) => JSON.parse(r.body.toString()).id), ['evt_script']);
      assert.deepEqual(captures(save).map((c) => c.status), [403, 403, 200]);
    } finally {
      await app.close();
    }
  });
});

describe('14. credentials in URLs', () => {
  test('are sent as Basic auth and never printed: listen --forward-to, trigger, check', async () => {
    const app = await startRawServer();
    try {
      const withCreds = app.url.replace('http://', 'http://alice:S3cret@');
      const { cli, url } = await listen(['--forward-to', withCreds]);
      assert.equal(cli.stdoutLines.some((l) => l.includes('S3cret')), false);
      await post(url, JSON.stringify(fixture('email.sent')));
      await cli.waitForLine((l) => l.includes('"kind":"forward"'));
      const lis = await cli.stop();
      const trig = await runCli(['trigger', 'sent', '--to', withCreds, '--json']);
      const printed = await runCli(['trigger', 'sent', '--to', withCreds, '--print']);
      const check = await runCli(['check', withCreds, '--only', '1', '--json']);
      const bad = await runCli(['trigger', 'sent', '--to', 'ftp://alice:S3cret@host/x']);
      const expected = `Basic ${Buffer.from('alice:S3cret').toString('base64')}`;
      assert.ok(app.received.length >= 9);
      for (const r of app.received) assert.equal(r.headers.authorization, expected);
      for (const [what, r] of [['listen', lis], ['trigger', trig], ['trigger --print', printed], ['check', check], ['a bad URL', bad]] as const) {
        assert.doesNotMatch(`${r.stdout}${r.stderr}`, /S3cret/, what);
      }
      assert.match(lis.stdout, /alice:\*\*\*@127\.0\.0\.1/);
      assert.match(printed.stdout, /^authorization: Basic \*\*\* \(from the URL\)$/m);
      assert.equal(trig.code, 0);
      assert.equal(check.code, 0);
    } finally {
      await app.close();
    }
  });
});

describe('15. signature headers: repeated, and lost past a header limit', () => {
  test('the same signature twice is one signature; two different ones are refused 401', async () => {
    const { cli, url } = await listen(['--secret', SECRET]);
    const body = JSON.stringify(fixture('email.sent'));
    const sig = hmac(body);
    const twice = await rawRequest(Number(new URL(url).port), [['x-onepush-signature', sig], ['x-onepush-signature', sig]], body);
    assert.equal(twice.status, 200);
    const two = await rawRequest(Number(new URL(url).port), [['x-onepush-signature', sig], ['x-onepush-signature', hmac('other')]], body);
    assert.equal(two.status, 401);
    assert.match(two.text, /2 different x-onepush-signature headers: OnePush sends one/);
    await cli.stop();
  });

  test('more than 100 headers is a 431 (saved), not a signature silently dropped and reported missing', async () => {
    const { cli, url, save } = await listen(['--secret', SECRET]);
    const body = JSON.stringify(fixture('email.sent'));
    const port = Number(new URL(url).port);
    // 150 short headers (well within node's 16 KiB of headers): refused by the count, and saved.
    const many: Array<[string, string]> = Array.from({ length: 150 }, (_, i) => [`h${i}`, '1']);
    const r = await rawRequest(port, [...many, ['x-onepush-signature', hmac(body)]], body);
    assert.equal(r.status, 431);
    assert.match(r.text, /more than 100 headers/);
    // 2,000 of them (past node's size limit on some versions): a 431 all the same, never a "missing" signature.
    const more: Array<[string, string]> = Array.from({ length: 2000 }, (_, i) => [`x-h${i}`, '1']);
    const r2 = await rawRequest(port, [...more, ['x-onepush-signature', hmac(body)]], body);
    assert.equal(r2.status, 431);
    assert.doesNotMatch(r2.text, /missing/);
    await cli.stop();
    assert.equal(captures(save)[0]?.status, 431);
    assert.equal(captures(save)[0]?.body, null);
  });
});

/** One request written by hand (repeated headers, thousands of them), answered on a fresh connection. */
async function rawRequest(port: number, headers: Array<[string, string]>, body: string): Promise<{ status: number; text: string }> {
  const head = [`POST /webhooks/onepush HTTP/1.1`, 'host: 127.0.0.1', 'connection: close', 'content-type: application/json', `content-length: ${Buffer.byteLength(body)}`, ...headers.map(([k, v]) => `${k}: ${v}`)];
  const socket = connect(port, '127.0.0.1');
  socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  await once(socket, 'close');
  const text = Buffer.concat(chunks).toString('utf8');
  return { status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1]), text };
}

describe('16. the forward queue holds references, not bodies', () => {
  for (const save of [true, false]) {
    test(`events queued while the app is down arrive byte for byte, in order, once it is up (${save ? 'read back from the capture log' : '--no-save: a spool'})`, async () => {
      const port = await freePort();
      const args = ['--secret', SECRET, '--forward-to', String(port)];
      const running = save ? await listen(args) : await listenNoSave(args);
      const bodies = Array.from({ length: 12 }, (_, i) => JSON.stringify({ ...fixture('email.opened', `evt_q_${i}`), pad: 'é'.repeat(i * 1000) }));
      for (const b of bodies) assert.equal((await signed(running.url, b)).status, 200);
      await running.cli.waitForLine((l) => l.includes('"outcome":"retrying"'));
      const { createServer } = await import('node:http');
      const received: Buffer[] = [];
      const signatures: string[] = [];
      const app = createServer((req, res) => {
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c));
        req.on('end', () => {
          received.push(Buffer.concat(chunks));
          signatures.push(String(req.headers['x-onepush-signature']));
          res.end('{}');
        });
      });
      app.listen(port, '127.0.0.1');
      await once(app, 'listening');
      try {
        await running.cli.waitForLine((l) => l.includes('"kind":"forward"') && l.includes('evt_q_11') && l.includes('"delivered"'));
      } finally {
        app.close();
        await running.cli.stop();
      }
      assert.deepEqual(received.map((b) => b.toString()), bodies);
      assert.deepEqual(signatures, bodies.map((b) => hmac(b)));
    });
  }
});

async function listenNoSave(args: string[]): Promise<Running> {
  const cli = startCli(['listen', '--port', '0', '--json', '--no-save', ...args]);
  const ready = JSON.parse(await cli.waitForLine((l) => l.includes('"kind":"ready"'))) as Record<string, unknown>;
  return { cli, ready, url: String(ready.url), port: Number(ready.port), save: '' };
}

describe('17. a stdout that nobody reads', () => {
  test('events are answered and saved, the output stays bounded, and SIGTERM still stops listen (not shown: counted) (the built CLI)', async () => {
    const { cli, url, save } = await listenBin(['--secret', SECRET]);
    cli.child.stdout?.pause();
    // 40 events of 200 KB: 8 MB, twice the output's 4 MiB budget (listen-output.ts), once the pipe is full.
    const big = (i: number): string => JSON.stringify({ ...fixture('email.sent', `evt_stall_${i}`), pad: 'x'.repeat(200 * 1024) });
    for (let i = 0; i < 40; i += 10) {
      const replies = await Promise.all(Array.from({ length: 10 }, (_, j) => signed(url, big(i + j))));
      assert.deepEqual(replies.map((r) => r.status), replies.map(() => 200));
    }
    cli.child.kill('SIGTERM');
    const [code] = (await once(cli.child, 'exit')) as [number | null];
    assert.equal(code, 0, cli.stderr());
    assert.match(cli.stderr(), /warning: stdout did not keep up \(not read, or read slower than events came\): \d+ lines? not shown .*; every event is saved in /);
    assert.equal(captures(save).length, 40);
  });

  test('a reader that catches up is told how many lines it missed (the built CLI)', async () => {
    const { cli, url } = await listenBin(['--secret', SECRET]);
    cli.child.stdout?.pause();
    const big = (i: number): string => JSON.stringify({ ...fixture('email.sent', `evt_gap_${i}`), pad: 'x'.repeat(200 * 1024) });
    for (let i = 0; i < 40; i += 10) await Promise.all(Array.from({ length: 10 }, (_, j) => signed(url, big(i + j))));
    cli.child.stdout?.resume();
    const gap = JSON.parse(await cli.waitForLine((l) => l.includes('"kind":"not_shown"'))) as { events: number; save: string };
    assert.ok(gap.events > 0);
    await cli.stop();
    const all = lines(cli);
    const shown = all.filter((l) => l.kind === 'event').length;
    assert.equal(shown + gap.events, 40);
    assert.equal(all.at(-1)?.not_shown, gap.events);
  });
});

describe('18. bodies sent one byte at a time', () => {
  test('cost memory in proportion to their bytes, are read whole, and valid requests are answered meanwhile', async (t) => {
    const { heldBytes, MiB } = await import('./helpers/memory.js');
    const save = tmp('trickle.ndjson');
    const listener = await startListener({ port: 0, save, maxBody: 2 * MiB });
    try {
      const body = Buffer.from(JSON.stringify({ ...fixture('email.sent', 'evt_trickle'), pad: 'y'.repeat(16 * 1024) }));
      const sockets = await Promise.all(
        Array.from({ length: 4 }, async () => {
          const socket = connect(listener.port, '127.0.0.1');
          socket.setNoDelay(true);
          await once(socket, 'connect');
          socket.write(`POST /webhooks/onepush HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nconnection: close\r\n\r\n`);
          const chunks: Buffer[] = [];
          socket.on('data', (c: Buffer) => chunks.push(c));
          return { socket, answer: once(socket, 'close').then(() => Buffer.concat(chunks).toString()) };
        }),
      );
      // fetch (undici) builds what it needs on its first use: that is done before the measure starts.
      assert.equal((await post(listener.url, JSON.stringify(fixture('email.sent', 'evt_before_trickle')))).status, 200);
      const before = await heldBytes();
      // One byte per connection per turn of the loop: the listener, in this process, reads each byte on its own
      // (it reads between turns). All but the last byte: the four bodies stay incomplete, held by the listener.
      for (let i = 0; i < body.length - 1; i++) {
        for (const { socket } of sockets) socket.write(body.subarray(i, i + 1));
        await new Promise((resolve) => setImmediate(resolve));
      }
      // A valid request meanwhile is answered (it does not wait for the tricklers); sent after their bytes, it is
      // answered after the listener has read them.
      assert.equal((await post(listener.url, JSON.stringify(fixture('email.sent', 'evt_meanwhile')))).status, 200);
      const held = (await heldBytes()) - before;
      for (const { socket } of sockets) socket.write(body.subarray(body.length - 1));
      for (const { answer } of sockets) assert.match(await answer, /^HTTP\/1\.1 200 /);
      t.diagnostic(`one byte at a time: ${(held / MiB).toFixed(2)} MiB held after a full GC for 4 incomplete bodies of ${(body.length / 1024).toFixed(0)} KiB`);
      // Before: a Buffer per chunk, ~190 bytes held per byte received one at a time (~12 MiB here).
      assert.ok(held < 4 * MiB, `${(held / MiB).toFixed(1)} MiB held for ${((4 * body.length) / MiB).toFixed(2)} MiB received one byte at a time`);
    } finally {
      await listener.close();
    }
    const saved = captures(save).filter((c) => String(c.body).includes('evt_trickle'));
    assert.equal(saved.length, 4);
    assert.equal(saved[0]?.body, JSON.stringify({ ...fixture('email.sent', 'evt_trickle'), pad: 'y'.repeat(16 * 1024) }));
  });
});

describe('19. trigger --count generates as it sends', () => {
  test('--count 5000000 starts sending at once and stops on Ctrl-C (exit 130) (the built CLI)', async () => {
    let first: () => void = () => {};
    const started = new Promise<void>((resolve) => (first = resolve));
    const app = await startRawServer((_r, res) => {
      first();
      res.end('{}');
    });
    try {
      const child = spawn(process.execPath, [BIN, 'trigger', 'sent', '--count', '5000000', '--to', app.url, '--json'], { cwd: ROOT, env: cliEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
      child.stdout.resume();
      await started;
      child.kill('SIGINT');
      const [code] = (await once(child, 'close')) as [number | null];
      assert.equal(code, 130, stderr);
      assert.match(stderr, /trigger: interrupted \(Ctrl-C\) after \d+ of 5000000 deliveries/);
    } finally {
      await app.close();
    }
  });
});

describe('16. the spool of --no-save', () => {
  test('bodies past the memory budget go to a private file and come back byte for byte; the file is emptied, then removed', async () => {
    const { createSpool } = await import('../src/adapters/spool.js');
    const spool = createSpool(10);
    const bodies = ['0123456789', 'abc', 'é'.repeat(50), ''].map((t) => Buffer.from(t));
    const refs = bodies.map((b) => spool.put(b));
    assert.deepEqual(refs.map((r) => 'memory' in r), [true, false, false, true]);
    assert.deepEqual(refs.map((r) => spool.get(r).toString()), bodies.map((b) => b.toString()));
    assert.equal(spool.memoryBytes, 10);
    for (const r of refs) spool.release(r);
    assert.equal(spool.memoryBytes, 0);
    const again = spool.put(Buffer.from('fresh body past the budget'));
    assert.deepEqual(again, { offset: 0, length: 26 }, 'an emptied file is reused from its start');
    spool.close();
  });
});

describe('16. what the forward queue holds in memory', () => {
  test('40 events of 1 MB waiting for an app that is down: their bodies are not held (references to the capture log)', async () => {
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    // Backing stores of collected buffers are freed after the collection: a turn of the loop, then once more.
    const gc = async (): Promise<void> => {
      collect();
      await new Promise((resolve) => setImmediate(resolve));
      collect();
    };
    const port = await freePort();
    const listener = await startListener({ port: 0, save: tmp('queue.ndjson'), forwardTo: `http://127.0.0.1:${port}/x`, maxBody: 2 * 1024 * 1024, retry: { firstDelayMs: 60_000, maxDelayMs: 60_000 } });
    try {
      await gc();
      const before = process.memoryUsage().arrayBuffers;
      for (let i = 0; i < 40; i++) {
        const body = JSON.stringify({ ...fixture('email.sent', `evt_mem_${i}`), pad: 'm'.repeat(1024 * 1024) });
        assert.equal((await post(listener.url, body)).status, 200);
      }
      assert.equal(listener.summary().queued, 40);
      await gc();
      const held = process.memoryUsage().arrayBuffers - before;
      // Before: every body stayed in the queue (40 MB and more).
      assert.ok(held < 12 * 1024 * 1024, `${Math.round(held / 1024 / 1024)} MiB of buffers held for 40 queued 1-MB events`);
    } finally {
      const summary = await listener.close();
      assert.equal(summary.queued, 40);
    }
  });
});
