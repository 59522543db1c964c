import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { ROOT } from './helpers/cli.js';
import { loadVectors, VECTORS_DIR } from './helpers/vectors.js';
import { junkHeaders } from './helpers/junk-headers.js';

// onepush-cli/web (issue #17): sign/verify on Web Crypto, for handlers that run where node:crypto is not. The BUILT
// dist/web.js against the openssl vectors and the Node build, and loaded where there is no Node at all.

type Web = typeof import('../src/web.js');
type Lib = typeof import('../src/index.js');
const web = (await import(join(ROOT, 'dist/web.js'))) as Web;
const lib = (await import(join(ROOT, 'dist/index.js'))) as Lib;
const run = promisify(execFile);

const SECRET = 'whsec_test_secret';
const BODY = '{"id":"evt_1","type":"email.sent","data":{"to":["jane@example.com"]}}';

/** A copy of the bytes in an ArrayBuffer of their own (a Buffer's .buffer is a shared pool). */
const arrayBufferOf = (bytes: Uint8Array): ArrayBuffer => bytes.slice().buffer;

describe('onepush-cli/web: the openssl vectors (the built library)', () => {
  const { secret, vectors } = loadVectors();
  for (const v of vectors) {
    test(`${v.file} (${v.bytes} bytes)`, async () => {
      const bytes = new Uint8Array(readFileSync(v.path));
      assert.equal(await web.sign(bytes, secret), v.signature);
      assert.equal(await web.sign(arrayBufferOf(bytes), secret), v.signature);
      assert.equal(await web.sign(readFileSync(v.path), secret), v.signature, 'a Buffer is a Uint8Array');
      assert.equal(await web.verify(bytes, secret, v.signature), true);
      assert.equal(await web.verify(arrayBufferOf(bytes), secret, v.signature.toUpperCase()), true);
      assert.equal(await web.verify(bytes, 'wrong', v.signature), false);
    });
  }
  test('a string body is signed as its UTF-8 bytes (the built library)', async () => {
    const v = vectors.find((x) => x.file === 'unicode.json');
    assert.ok(v);
    assert.equal(await web.sign(readFileSync(v.path, 'utf8'), secret), v.signature);
  });
  test('a view into a larger buffer signs only its own bytes (the built library)', async () => {
    const padded = new TextEncoder().encode(`xx${BODY}yy`);
    const expected = lib.sign(BODY, SECRET);
    assert.equal(await web.sign(padded.subarray(2, padded.length - 2), SECRET), expected);
    assert.equal(await web.sign(new DataView(padded.buffer, 2, padded.length - 4), SECRET), expected);
    const shared = new Uint8Array(new SharedArrayBuffer(padded.length));
    shared.set(padded);
    assert.equal(await web.sign(shared.subarray(2, padded.length - 2), SECRET), expected, 'a view of a SharedArrayBuffer');
  });
});

describe('onepush-cli/web: verify is false, never a rejection, on a bad header (the built library)', () => {
  const good = lib.sign(BODY, SECRET);
  const junk = junkHeaders(good);
  for (const [name, header] of junk) {
    test(name, async () => {
      assert.equal(await web.verify(BODY, SECRET, header as string), false);
    });
  }
  test('a digit changed anywhere in the signature is false: every byte counts', async () => {
    for (let i = 0; i < 64; i++) {
      const flipped = `${good.slice(0, i)}${good[i] === '0' ? '1' : '0'}${good.slice(i + 1)}`;
      assert.equal(await web.verify(BODY, SECRET, flipped), false, `position ${i}`);
    }
    assert.equal(await web.verify(BODY, SECRET, good), true);
    assert.equal(await web.verify(BODY, SECRET, good.toUpperCase()), true);
  });
  test('a tampered body or another secret is false', async () => {
    assert.equal(await web.verify(BODY.replace('evt_1', 'evt_2'), SECRET, good), false);
    assert.equal(await web.verify(`${BODY}\n`, SECRET, good), false);
    assert.equal(await web.verify(BODY, `${SECRET} `, good), false);
  });
  test('a body or secret of the wrong type is a TypeError (a programming error, as in the Node build)', async () => {
    await assert.rejects(web.sign(42 as unknown as string, SECRET), TypeError);
    await assert.rejects(web.verify({} as unknown as string, SECRET, good), TypeError);
    await assert.rejects(web.sign(BODY, undefined as unknown as string), TypeError);
    assert.throws(() => lib.sign(42 as unknown as string, SECRET), TypeError);
  });
});

describe('onepush-cli/web agrees with the Node build', () => {
  test('on random bodies and secrets, bytes and text (the built library)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.uint8Array({ maxLength: 2048 }), fc.string({ unit: 'grapheme', maxLength: 300 })), fc.string({ unit: 'grapheme', maxLength: 80 }), async (body, secret) => {
        const expected = lib.sign(body, secret);
        assert.equal(await web.sign(body, secret), expected);
        assert.equal(await web.verify(body, secret, expected), true);
        assert.equal(await web.verify(body, secret, expected.toUpperCase()), true);
        assert.equal(lib.verify(body, secret, await web.sign(body, secret)), true);
      }),
      { numRuns: 300 },
    );
  });
  test('the empty secret (Web Crypto refuses an empty key: the same HMAC key as 64 zero bytes) (the built library)', async () => {
    assert.equal(await web.sign(BODY, ''), lib.sign(BODY, ''));
    assert.equal(await web.verify(BODY, '', lib.sign(BODY, '')), true);
  });
});

describe('onepush-cli/web needs no Node', () => {
  test('dist/web.js names no node: module and no Buffer (the built library)', () => {
    const source = readFileSync(join(ROOT, 'dist/web.js'), 'utf8');
    assert.doesNotMatch(source, /\bnode:/);
    assert.doesNotMatch(source, /\bBuffer\b/);
    assert.doesNotMatch(source, /\b(require|process)\b/);
  });
  test('loads and signs the vectors in a vm context with only crypto and TextEncoder, importing nothing (the built library)', async () => {
    const { stdout } = await run(process.execPath, ['--no-warnings', '--experimental-vm-modules', join(ROOT, 'test/helpers/web-in-vm.mjs'), join(ROOT, 'dist/web.js'), VECTORS_DIR]);
    const out = JSON.parse(stdout) as {
      imports: string[];
      globals: Record<string, string>;
      results: Array<{ file: string; signature: string; fromArrayBuffer: string; valid: boolean; upper: boolean; junk: boolean }>;
      text: string;
    };
    assert.deepEqual(out.imports, []);
    assert.deepEqual(out.globals, { require: 'undefined', process: 'undefined', Buffer: 'undefined', module: 'undefined', crypto: 'object' });
    const { secret, vectors } = loadVectors();
    assert.deepEqual(
      out.results,
      vectors.map((v) => ({ file: v.file, signature: v.signature, fromArrayBuffer: v.signature, valid: true, upper: true, junk: false })),
    );
    assert.equal(out.text, lib.sign('Grüße 🎉', secret));
  });
  test('typed: dist/types/web.d.ts type-checks in a project without @types/node (strict, nodenext, the DOM lib) (the built library)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onepush-web-typed-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'onepush-cli'), 'dir');
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    const compilerOptions = { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', lib: ['es2022', 'dom'], types: [], noEmit: true, skipLibCheck: false };
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions, files: ['use.ts'] }));
    writeFileSync(
      join(dir, 'use.ts'),
      [
        "import { sign, verify } from 'onepush-cli/web';",
        'export async function handler(request: Request): Promise<boolean> {',
        '  const body = await request.arrayBuffer();',
        "  const s: string = await sign(body, 'k');",
        "  const text: boolean = await verify('{}', 'k', s);",
        "  return text && verify(new Uint8Array(body), 'k', request.headers.get('x-onepush-signature'));",
        '}',
        '// @ts-expect-error: the secret must be a string',
        "void sign('{}', 42);",
      ].join('\n'),
    );
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const r = await run(process.execPath, [tsc, '-p', dir]).catch((e: { stdout: string; stderr: string }) => e);
    assert.equal(`${r.stdout}${r.stderr}`, '');
  });
  test("is the package's onepush-cli/web export, for a user's project (the built library)", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'onepush-web-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'onepush-cli'), 'dir');
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(
      join(dir, 'example.js'),
      "import { sign, verify } from 'onepush-cli/web';\nconst s = await sign('{}', 'k');\nconsole.log(s, await verify('{}', 'k', s), import.meta.resolve('onepush-cli/web'));\n",
    );
    const { stdout } = await run(process.execPath, ['example.js'], { cwd: dir });
    const [signature, valid, url] = stdout.trim().split(' ');
    assert.equal(signature, lib.sign('{}', 'k'));
    assert.equal(valid, 'true');
    assert.match(url ?? '', /\/dist\/web\.js$/);
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    assert.deepEqual(pkg.exports['./web'], { types: './dist/types/web.d.ts', default: './dist/web.js' });
  });
});
