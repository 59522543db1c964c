import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { ROOT } from './helpers/cli.js';
import { loadVectors } from './helpers/vectors.js';

// The library API (issue #2, SPEC.md §4) as a user gets it: the BUILT dist/index.js (ESM), and README's example
// run verbatim from a project that has onepush-cli in its node_modules.

type Lib = typeof import('../src/index.js');
const lib = (await import(join(ROOT, 'dist/index.js'))) as Lib;
const dir = mkdtempSync(join(tmpdir(), 'onepush-lib-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The ```js blocks of README's section `heading` (up to the next `## `). */
function readmeBlocks(heading: string): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`${heading}\n`);
  assert.ok(start >= 0, `README has ${heading}`);
  const end = readme.indexOf('\n## ', start + heading.length);
  return [...readme.slice(start, end < 0 ? undefined : end).matchAll(/```js\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

/** Runs a README example as a user's ES module (onepush-cli in its node_modules, as npm link would make). */
async function runExample(code: string, name: string): Promise<{ stdout: string; stderr: string }> {
  const proj = join(dir, name);
  mkdirSync(join(proj, 'node_modules'), { recursive: true });
  symlinkSync(ROOT, join(proj, 'node_modules', 'onepush-cli'), 'dir');
  writeFileSync(join(proj, 'package.json'), '{"type":"module"}');
  writeFileSync(join(proj, 'example.js'), code);
  return promisify(execFile)(process.execPath, ['example.js'], { cwd: proj });
}

/** The README example `index` of ## Library, run; it must use each of `mustHave`. */
async function runReadmeExample(index: number, name: string, mustHave: string[]): Promise<{ code: string; stdout: string; stderr: string }> {
  const code = readmeBlocks('## Library')[index];
  assert.ok(code !== undefined && mustHave.every((m) => code.includes(m)), `block ${index + 1} under ## Library uses ${mustHave.join(', ')}`);
  return { code, ...(await runExample(code, name)) };
}

/** What an example's console.log comments say it prints (`a, b` for a loop's lines). */
const commentedOutput = (code: string): string[] =>
  [...code.matchAll(/^(.*console\.log\(.*)\/\/ (.*)$/gm)].flatMap((m) => (m[1]!.includes('for await') ? m[2]!.split(', ') : [m[2]!]));

describe('library (dist/index.js)', () => {
  test('exports what README documents (the built library)', () => {
    for (const name of ['listen', 'trigger', 'triggerRequests', 'replay', 'check', 'verifyCaptureLog', 'verifyBody', 'InvalidInput', 'CaseSelectionError', 'sign', 'verify', 'explain', 'buildSample', 'makeId', 'encodeCapture', 'decodeCapture', 'captureBody', 'CaptureError', 'validateEvent', 'asFixture', 'resolveTarget', 'CaptureLogError', 'ForwardLoopError', 'simulate', 'campaign', 'campaignOutcomes', 'recipientOutcome', 'parseRoutes', 'routeEvent', 'redact', 'Redactor']) {
      assert.equal(typeof (lib as Record<string, unknown>)[name], 'function', name);
    }
    assert.equal(lib.EVENT_TYPES.length, 7);
    assert.deepEqual(Object.keys(lib.eventSchemas), [...lib.EVENT_TYPES]);
  });
  test('sign/verify/explain match the openssl vectors (the built library)', () => {
    const { secret, vectors } = loadVectors();
    for (const v of vectors) {
      const bytes = readFileSync(v.path);
      assert.equal(lib.sign(bytes, secret), v.signature, v.file);
      assert.equal(lib.verify(bytes, secret, v.signature), true);
      assert.equal(lib.verify(bytes, secret, ''), false);
      assert.equal(lib.explain(bytes, 'wrong', v.signature).code, 'no-match');
    }
  });
  test('buildSample + schemas: every type, from the shipped fixtures (the built library)', () => {
    const now = new Date('2026-11-27T00:00:00.000Z');
    const ids = new Set<string>();
    for (const type of lib.EVENT_TYPES) {
      const fixture = lib.asFixture(JSON.parse(readFileSync(join(ROOT, 'fixtures', `${type}.json`), 'utf8')));
      const id = lib.makeId('evt', now.getTime(), new Uint8Array(10).fill(ids.size));
      ids.add(id);
      const event = lib.buildSample(fixture, { now, id, emailId: lib.makeId('em', now.getTime(), new Uint8Array(10)) });
      assert.equal(lib.eventSchemas[type].safeParse(event).success, true, type);
      assert.equal(lib.onepushEventSchema.safeParse(event).success, true, type);
      assert.deepEqual(lib.validateEvent(event).issues, []);
    }
    assert.equal(ids.size, 7);
  });
  test('capture codec round-trips and rejects bad lines with CaptureError (the built library)', () => {
    const line = lib.encodeCapture({
      receivedAt: new Date(0),
      method: 'POST',
      path: '/',
      headers: { 'x-onepush-signature': 'ab' },
      body: Uint8Array.from([0xff, 0x00]),
      verified: false,
      status: 401,
    });
    const c = lib.decodeCapture(line);
    assert.equal(c.body_encoding, 'base64');
    assert.deepEqual([...lib.captureBody(c)], [0xff, 0x00]);
    assert.throws(() => lib.decodeCapture('{"v":9}'), (e: unknown) => e instanceof lib.CaptureError && /unsupported capture version 9/.test(e.message));
  });
  test("README's example works verbatim (the built library)", async () => {
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Library'));
    const code = /```js\n([\s\S]*?)```/.exec(section)?.[1];
    assert.ok(code, 'a ```js block under ## Library');
    assert.equal(code.trimEnd().split('\n').length, 5, 'a 5-line example');
    // A user's project: onepush-cli in its node_modules (a link to this checkout, as npm link would make).
    mkdirSync(join(dir, 'node_modules'));
    symlinkSync(ROOT, join(dir, 'node_modules', 'onepush-cli'), 'dir');
    writeFileSync(join(dir, 'package.json'), '{"type":"module"}');
    writeFileSync(join(dir, 'example.js'), code);
    const { stdout, stderr } = await promisify(execFile)(process.execPath, ['example.js'], { cwd: dir });
    assert.equal(stderr, '');
    assert.equal(stdout, "true\ntrailing-newline\n");
  });
  test("README's sending example (listener, sample, deliver) works verbatim (the built library)", async () => {
    const { stdout, stderr } = await runReadmeExample(1, 'sending', ['startListener']);
    assert.equal(stderr, '');
    assert.equal(stdout, '200 true {"received":true,"id":"evt_test_1"}\n');
  });
  test("README's use-case example (listen, trigger, verifyCaptureLog, replay, check) works verbatim and prints what its comments say", async () => {
    const { code, stdout, stderr } = await runReadmeExample(2, 'use-cases', ['check(', 'trigger(']);
    assert.equal(stderr, '');
    assert.deepEqual(stdout.trimEnd().split('\n'), commentedOutput(code));
  });
  test("README's campaign example (campaign, campaignOutcomes, listen, simulate) works verbatim and prints what its comments say (the built library)", async () => {
    const code = readmeBlocks('## Testing a handler under realistic traffic').find((c) => c.includes('simulate('));
    assert.ok(code !== undefined, 'a ```js block with simulate() under ## Testing a handler under realistic traffic');
    const { stdout, stderr } = await runExample(code, 'campaign');
    assert.equal(stderr, '');
    assert.deepEqual(stdout.trimEnd().split('\n'), commentedOutput(code));
  });
  test('typed: typical uses type-check against dist/types (strict, nodenext, a Node project with @types/node) (the built library)', async () => {
    const proj = join(dir, 'typed');
    mkdirSync(join(proj, 'node_modules'), { recursive: true });
    symlinkSync(ROOT, join(proj, 'node_modules', 'onepush-cli'), 'dir');
    writeFileSync(join(proj, 'package.json'), '{"type":"module"}');
    writeFileSync(
      join(proj, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', noEmit: true, skipLibCheck: false, types: ['node'], typeRoots: [join(ROOT, 'node_modules', '@types')] }, files: ['use.ts'] }),
    );
    writeFileSync(
      join(proj, 'use.ts'),
      [
        "import { sign, verify, explain, eventSchemas, buildSample, decodeCapture, check, trigger, type CaseReport, type CheckOutcome, type EmailBouncedEvent, type Explanation } from 'onepush-cli';",
        "const s: string = sign('{}', 'k');",
        "const ok: boolean = verify(new Uint8Array(2), 'k', s);",
        "const why: Explanation['code'] = explain('{}', 'k', undefined).code;",
        "const bounce: EmailBouncedEvent = eventSchemas['email.bounced'].parse({});",
        "const kind: 'hard' | 'soft' = bounce.data.bounce.type;",
        "const e = buildSample({ type: 'email.sent', data: {} }, { now: new Date(), id: 'evt_1', emailId: 'em_1' });",
        "const body: string | null = decodeCapture('{}').body;",
        "const outcome: Promise<CheckOutcome> = check({ url: 'http://localhost:1', only: '1', budgetMs: 1 });",
        "const first: Promise<CaseReport['result'] | undefined> = outcome.then((o) => o.cases[0]?.result);",
        "const sent: Promise<number> = trigger({ to: '3000', types: ['email.sent'], onDelivery: (r, d) => void [r.id, d.status] }).then((o) => o.sent);",
        "// @ts-expect-error: an event type is one of the seven",
        "trigger({ types: ['email.nope'] });",
        '// @ts-expect-error: the secret must be a string',
        'sign("{}", 42);',
        'outcome.catch(() => {}); sent.catch(() => {});',
        'export { ok, why, kind, e, body, first };',
      ].join('\n'),
    );
    const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
    const r = await promisify(execFile)(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: proj }).catch((e: { stdout: string; stderr: string }) => e);
    assert.equal(r.stdout + r.stderr, '');
  });
});
