import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { BIN, cliEnv, ROOT } from './helpers/cli.js';

// STYLE.md / issue #2: `sign`, `verify`, `events` and `--help` never load undici, ora or zod (start-up time).
// The built CLI runs with a preload that records every node_modules package loaded, by require or by import.

const RECORDER = fileURLToPath(new URL('./helpers/record-loads.cjs', import.meta.url));
const HEAVY = ['undici', 'ora', 'zod'];
const dir = mkdtempSync(join(tmpdir(), 'onepush-lazy-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const VECTOR = fileURLToPath(new URL('./vectors/unicode.json', import.meta.url));
const SIG = 'b43182c600105e2f3c390270836e124c7365bc4066c7afe516da6831a7a1856e';
const SECRET = 'whsec_vectors_0123456789';

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
  // scripts/build.mjs bundles chalk without its colour detection (start-up): only Chalk instances built with an
  // explicit level (src/adapters/terminal.ts) colour anything, so chalk's default instance must not be used.
  test("no source file uses chalk's default instance", () => {
    const src = fileURLToPath(new URL('../src/', import.meta.url));
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const offenders = files.filter((f) => {
      const text = readFileSync(join(src, f), 'utf8');
      return /import\s+(?!type\b)[\w$]+\s*(,\s*\{[^}]*\})?\s*from\s*['"]chalk['"]/.test(text) || /import\s*\{[^}]*\bdefault\b[^}]*\}\s*from\s*['"]chalk['"]/.test(text) || /\bimport\(\s*['"]chalk['"]\s*\)/.test(text);
    });
    assert.deepEqual(offenders, []);
    assert.ok(files.length > 10, 'the scan saw the sources');
  });
});
