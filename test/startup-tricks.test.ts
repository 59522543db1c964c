import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { BIN, cliEnv, ROOT } from './helpers/cli.js';
import { startRawServer } from './helpers/servers.js';

// Issue #14: the start-up tricks kept (scripts/build.mjs, bin/onepush.js, src/adapters/http-client.ts) lean on the
// insides of commander, undici, V8 and Node. Each test here fails when such an inside changes under its trick, so a
// dependency update cannot turn one into a silent no-op (or a break). No timings: bench/startup.bench.ts measures.

const DIST = join(ROOT, 'dist');
const dir = mkdtempSync(join(tmpdir(), 'onepush-tricks-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const SECRET = 'whsec_tricks_0123456789';
const BODY = '{"id":"evt_1","type":"email.sent","created_at":"2026-11-27T00:00:00.000Z","data":{}}';
writeFileSync(join(dir, 'body.json'), BODY);

// A preload that writes, at exit, the Node built-ins and the files the process loaded.
const PRELOAD = join(dir, 'loaded.cjs');
writeFileSync(
  PRELOAD,
  `process.on('exit', () => require('node:fs').writeFileSync(process.env.ONEPUSH_LOADED_OUT, JSON.stringify({
  builtins: process.moduleLoadList.filter((m) => m.startsWith('NativeModule ')).map((m) => m.slice(13)),
  files: Object.keys(require.cache),
})));\n`,
);

let n = 0;
async function loaded(args: string[], options: { env?: Record<string, string | undefined>; cwd?: string } = {}) {
  const out = join(dir, `loaded-${n++}.json`);
  const child = spawn(process.execPath, ['--require', PRELOAD, BIN, ...args], {
    cwd: options.cwd ?? dir,
    env: cliEnv({ ONEPUSH_LOADED_OUT: out, ...options.env }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.resume();
  const [code] = (await once(child, 'close')) as [number | null];
  const { builtins, files } = JSON.parse(readFileSync(out, 'utf8')) as { builtins: string[]; files: string[] };
  return { code, stderr, builtins, files: files.map((f) => f.replaceAll('\\', '/')) };
}

describe('CommonJS bundles, one per command (scripts/build.mjs: commandsExternal)', () => {
  test("dist/cli.cjs requires every command's own bundle, and imports none of them", () => {
    const cli = readFileSync(join(DIST, 'cli.cjs'), 'utf8');
    // (ora, ESM only, is import()ed when a spinner shows; a command must not be: that would start the ESM loader.)
    assert.doesNotMatch(cli, /\bimport\(\s*["']\./, 'a command import() left in the CommonJS bundle');
    const required = [...cli.matchAll(/require\("\.\/commands\/([\w-]+)\.cjs"\)/g)].map((m) => m[1]!).sort();
    const built = readdirSync(join(DIST, 'commands'))
      .filter((f) => f.endsWith('.cjs') && f !== 'listen-thread.cjs')
      .map((f) => f.replace(/\.cjs$/, ''))
      .sort();
    assert.ok(required.length >= 8, `required: ${required.join(', ')}`);
    assert.deepEqual(required, built);
  });
});

describe("commander's node:child_process, required on first use (scripts/build.mjs: lazyChildProcess)", () => {
  test('the bundle holds the patched form, not the eager require', () => {
    const cli = readFileSync(join(DIST, 'cli.cjs'), 'utf8');
    assert.match(cli, /childProcess = \{ spawn: \(\.\.\.a\) => require\("node:child_process"\)\.spawn\(\.\.\.a\) \}/);
    assert.doesNotMatch(cli, /= require\("(node:)?child_process"\);/);
  });
  for (const [name, args] of [
    ['verify', ['verify', 'body.json', '--secret', SECRET, '--signature', '00']],
    ['events', ['events']],
    ['--help', ['--help']],
  ] as const) {
    test(`${name} does not load node:child_process`, async () => {
      const r = await loaded([...args]);
      assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
      assert.ok(r.builtins.includes('fs'), 'the preload saw the built-ins');
      assert.deepEqual(r.builtins.filter((m) => m.includes('child_process')), []);
    });
  }
});

describe("undici's Agent from its own module (src/adapters/http-client.ts: loadAgent)", () => {
  const trigger = readFileSync(join(DIST, 'commands/trigger.cjs'), 'utf8');
  const path = /require\d*\("(undici\/[\w/.-]+)"\)/.exec(trigger)?.[1];

  test("the path the bundle requires is undici's Agent", () => {
    assert.equal(path, 'undici/lib/dispatcher/agent.js');
    const require = createRequire(join(ROOT, 'package.json'));
    const { Agent } = require('undici') as typeof import('undici');
    assert.equal(require(path!), Agent);
  });

  test('trigger loads that module, not the whole of undici (the fallback), and V8 takes its flags', async () => {
    const app = await startRawServer();
    try {
      const r = await loaded(['trigger', 'email.sent', '--to', app.url, '--secret', SECRET]);
      assert.equal(r.code, 0, r.stderr);
      const undici = r.files.filter((f) => f.includes('/node_modules/undici/'));
      assert.ok(undici.some((f) => f.endsWith('/undici/lib/dispatcher/agent.js')), `loaded: ${undici.join(', ')}`);
      assert.ok(!undici.some((f) => f.endsWith('/undici/index.js')), 'the whole of undici was loaded');
      // V8 says "unrecognized flag" on stderr (and nothing else) when tuneForDelivery sets a flag it does not know.
      assert.doesNotMatch(r.stderr, /flag/i);
      assert.equal(app.received.length, 1);
    } finally {
      await app.close();
    }
  });
});

describe('V8 flags set by trigger and replay (src/adapters/http-client.ts: tuneForDelivery)', () => {
  test("this node's V8 still has --semi-space-growth-factor and --liftoff-only", async () => {
    const child = spawn(process.execPath, ['--v8-options'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let text = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (text += d));
    await once(child, 'close');
    assert.match(text, /^\s*--semi-space-growth-factor\b/m);
    assert.match(text, /^\s*--liftoff-only\b/m);
  });
});

describe('compile cache (bin/onepush.js)', () => {
  const hasIt = typeof (createRequire(import.meta.url)('node:module') as { enableCompileCache?: unknown }).enableCompileCache === 'function';

  test(`goes under os.tmpdir(), never into the current folder (this node ${hasIt ? 'has' : 'has no'} enableCompileCache)`, async () => {
    const cwd = join(dir, 'project');
    const tmp = join(dir, 'tmp');
    mkdirSync(cwd);
    mkdirSync(tmp);
    const env = { TMPDIR: tmp, TMP: tmp, TEMP: tmp, NODE_COMPILE_CACHE: undefined, NODE_DISABLE_COMPILE_CACHE: undefined };
    const r = await loaded(['events'], { cwd, env });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(readdirSync(cwd), []);
    assert.equal(existsSync(join(tmp, 'node-compile-cache')), hasIt);
    // A TMPDIR that is the current folder, or inside it: no cache at all.
    for (const inside of [cwd, join(cwd, 'tmp')]) {
      mkdirSync(inside, { recursive: true });
      const again = await loaded(['events'], { cwd, env: { ...env, TMPDIR: inside, TMP: inside, TEMP: inside } });
      assert.equal(again.code, 0, again.stderr);
      assert.deepEqual(readdirSync(inside).filter((f) => f !== 'tmp'), [], inside);
    }
  });
});
