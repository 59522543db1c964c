import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BIN, cliEnv, ROOT } from './helpers/cli.js';

// STYLE.md / issue #2: `sign`, `verify`, `events`, `redact` and `--help` never load undici, ora or zod (start-up time).
// The built CLI runs with a preload that records every node_modules package loaded, by require or by import.

const RECORDER = fileURLToPath(new URL('./helpers/record-loads.cjs', import.meta.url));
const HEAVY = ['undici', 'ora', 'zod'];
const dir = mkdtempSync(join(tmpdir(), 'onepush-lazy-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const VECTOR = fileURLToPath(new URL('./vectors/unicode.json', import.meta.url));
const SIG = 'b43182c600105e2f3c390270836e124c7365bc4066c7afe516da6831a7a1856e';
const SECRET = 'whsec_vectors_0123456789';

// A capture log for redact (offline too).
const LOG = join(dir, 'events.ndjson');
writeFileSync(LOG, `${JSON.stringify({ v: 1, received_at: '2026-11-30T10:00:00.000Z', method: 'POST', path: '/webhooks/onepush', headers: { 'content-type': 'application/json', 'x-onepush-signature': SIG }, body: '{"id":"evt_1","data":{"to":["jane@corp.test"]}}', body_encoding: 'utf8', verified: true, status: 200 })}\n`);

let n = 0;
async function loadedPackages(args: string[], input = '', script: string[] = [BIN]): Promise<{ code: number | null; packages: string[]; stderr: string }> {
  const file = join(dir, `loads-${n++}.txt`);
  const child = spawn(process.execPath, ['--require', RECORDER, ...script, ...args], {
    cwd: ROOT,
    env: cliEnv({ ONEPUSH_RECORD_LOADS: file }),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdout.resume();
  child.stdin.end(input);
  const [code] = (await once(child, 'close')) as [number | null];
  const packages = readFileSync(file, 'utf8').split('\n').filter(Boolean);
  return { code, packages, stderr };
}

describe('lazy imports', () => {
  const offline: Array<[string, string[], string?]> = [
    ['sign', ['sign', VECTOR, '--secret', SECRET]],
    ['sign from stdin --json', ['sign', '--json', '--secret', SECRET], '{"a":1}'],
    ['verify (valid)', ['verify', VECTOR, '--secret', SECRET, '--signature', SIG]],
    ['verify --explain (invalid)', ['verify', VECTOR, '--secret', 'wrong', '--signature', SIG, '--explain']],
    ['redact to stdout', ['redact', LOG, '-o', '-', '--secret', SECRET]],
    ['events', ['events']],
    ['events --json', ['events', '--json']],
    ['--help', ['--help']],
    ['verify --help', ['verify', '--help']],
    ['--version', ['--version']],
  ];
  for (const [name, args, input] of offline) {
    test(`${name} loads none of undici, ora, zod (the built CLI)`, async () => {
      const r = await loadedPackages(args, input);
      assert.ok(r.code === 0 || r.code === 1, `exit ${r.code}: ${r.stderr}`);
      assert.deepEqual(r.packages.filter((p) => HEAVY.includes(p)), []);
    });
  }
  test('the recorder sees them when a command does load them (check loads undici) (the built CLI)', async () => {
    const r = await loadedPackages(['check', 'http://127.0.0.1:9/webhooks/onepush', '--secret', SECRET, '--timeout', '2000']);
    assert.ok(r.packages.includes('undici'), `loaded: ${r.packages.join(', ')}`);
  });
  test('the recorder sees an ESM dynamic import (as ora is loaded) and a require (the built CLI\'s recorder)', async () => {
    const r = await loadedPackages([], '', ['-e', "require('zod'); import('ora').then(() => {})"]);
    assert.ok(r.packages.includes('ora'), `loaded: ${r.packages.join(', ')}`);
    assert.ok(r.packages.includes('zod'), `loaded: ${r.packages.join(', ')}`);
  });
});

describe('build assumptions', () => {
  // Colour is decided in one place: only Chalk instances built with an
  // explicit level (src/adapters/terminal.ts) colour anything, so chalk's default instance must not be used. Checked
  // on what a bundler keeps, not on how the source is spelled: every source file is bundled by esbuild with a chalk
  // whose default export (and chalkStderr) is a marker string; tree shaking drops it unless some code uses it, by any
  // import form (default, named `default`, namespace, dynamic import).
  const MARKER = 'ONEPUSH_CHALK_DEFAULT_INSTANCE_USED';
  const markedChalk = {
    name: 'marked-chalk',
    setup(b: import('esbuild').PluginBuild) {
      b.onResolve({ filter: /^chalk$/ }, () => ({ path: 'chalk', namespace: 'marked-chalk' }));
      b.onLoad({ filter: /.*/, namespace: 'marked-chalk' }, () => ({
        loader: 'js',
        contents: `export class Chalk { constructor(o) { this.level = o?.level ?? 0; this.kind = "ONEPUSH_CHALK_CLASS"; } }\nexport default "${MARKER}";\nexport const chalkStderr = "${MARKER}";\n`,
      }));
    },
  };
  const bundle = async (options: import('esbuild').BuildOptions): Promise<string[]> => {
    const { build } = await import('esbuild');
    const r = await build({ bundle: true, write: false, format: 'esm', platform: 'node', packages: 'external', treeShaking: true, logLevel: 'silent', outdir: join(dir, 'bundle'), plugins: [markedChalk], ...options });
    return (r.outputFiles ?? []).map((f) => f.text);
  };

  test("no source file uses chalk's default instance (the bundler keeps none of it)", async () => {
    const src = fileURLToPath(new URL('../src/', import.meta.url));
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts')).map((f) => join(src, f));
    assert.ok(files.length > 10, 'the check saw the sources');
    const texts = await bundle({ entryPoints: files, outbase: src });
    assert.equal(texts.length, files.length);
    assert.deepEqual(files.filter((_, i) => texts[i]?.includes(MARKER)), []);
    assert.ok(texts.some((t) => t.includes('ONEPUSH_CHALK_CLASS')), 'the marked chalk was bundled');
  });

  test('the check sees each way of using the default instance', async () => {
    const uses = [
      "import chalk from 'chalk'; export const f = () => chalk.red('x');",
      "import { default as c } from 'chalk'; export const f = () => c.red('x');",
      "import * as all from 'chalk'; export const f = () => all.default.red('x');",
      "import { chalkStderr } from 'chalk'; export const f = () => chalkStderr.red('x');",
      "export const f = async () => (await import('chalk')).default.red('x');",
      "import { Chalk } from 'chalk'; export const f = () => new Chalk({ level: 1 }).red('x');",
    ];
    const found = await Promise.all(uses.map(async (contents) => (await bundle({ stdin: { contents, loader: 'ts', resolveDir: ROOT } })).some((t) => t.includes(MARKER))));
    assert.deepEqual(found, [true, true, true, true, true, false]);
  });
});
