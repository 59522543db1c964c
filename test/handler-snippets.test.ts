import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { ROOT, runBin } from './helpers/cli.js';

// README's "Verifying webhooks in your handler" (issue #17): each framework's block, extracted verbatim, runs as a
// real server on port 0 in a project that has onepush-cli (this checkout, built) and the framework in its
// node_modules, and `onepush check <url> --secret … --strict --json` (the built CLI) must pass every case against it.
// Next.js is not installed: its route module's POST is served by test/helpers/route-server.ts, a minimal node:http →
// Web Request/Response adapter (README says so).

const SECTION = '## Verifying webhooks in your handler';
const SECRET = 'whsec_snippets_test';
const TSX = pathToFileURL(join(ROOT, 'node_modules/tsx/dist/loader.mjs')).href;
const dir = mkdtempSync(join(tmpdir(), 'onepush-snippets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface Snippet {
  lang: 'js' | 'ts';
  /** The file its first line names (`// server.js — npm install …`). */
  file: string;
  code: string;
}

/** The one code block under `### heading` of README's section. */
function snippet(heading: string): Snippet {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n${SECTION}\n`);
  assert.ok(start >= 0, `README has ${SECTION}`);
  const end = readme.indexOf('\n## ', start + SECTION.length + 2);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const from = section.indexOf(`\n### ${heading}\n`);
  assert.ok(from >= 0, `${SECTION} has ### ${heading}`);
  const next = section.indexOf('\n### ', from + 1);
  const blocks = [...section.slice(from, next < 0 ? undefined : next).matchAll(/```(js|ts)\n([\s\S]*?)```/g)];
  assert.equal(blocks.length, 1, `one code block under ### ${heading}`);
  const [, lang, code] = blocks[0]!;
  const file = /^\/\/ (\S+)/.exec(code!)?.[1];
  assert.ok(file, `the block under ### ${heading} names its file on its first line`);
  return { lang: lang as 'js' | 'ts', file, code: code! };
}

/** A user's project: package.json, onepush-cli (this checkout) and the given packages (ours) in node_modules. */
function project(name: string, packages: string[]): string {
  const proj = join(dir, name);
  for (const scope of ['@hono', '@types']) mkdirSync(join(proj, 'node_modules', scope), { recursive: true });
  writeFileSync(join(proj, 'package.json'), '{"type":"module"}');
  symlinkSync(ROOT, join(proj, 'node_modules', 'onepush-cli'), 'dir');
  for (const p of packages) symlinkSync(join(ROOT, 'node_modules', p), join(proj, 'node_modules', p), 'dir');
  return proj;
}

interface Running {
  url: string;
  child: ChildProcessWithoutNullStreams;
  stdout: string[];
  stderr: () => string;
}

/** Starts a server process and resolves with the URL of its `listening on <url>` line (rejects if it exits first). */
async function start(args: string[], cwd: string): Promise<Running> {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', ONEPUSH_WEBHOOK_SECRET: SECRET };
  delete env.NODE_TEST_CONTEXT;
  delete env.NODE_OPTIONS;
  const child = spawn(process.execPath, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill();
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const stdout: string[] = [];
  const lines = createInterface({ input: child.stdout });
  const exited = once(child, 'exit');
  const url = await new Promise<string>((resolve, reject) => {
    lines.on('line', (line) => {
      stdout.push(line);
      const m = /^listening on (http:\/\/\S+)$/.exec(line);
      if (m) resolve(m[1]!);
    });
    void exited.then(([code, signal]) => reject(new Error(`the server exited (${code ?? signal}) before listening:\n${stderr}`)));
  });
  return { url, child, stdout, stderr: () => stderr };
}

/** Stops the server and waits for the rest of its output. */
async function stop(server: Running): Promise<void> {
  const closed = once(server.child, 'close');
  server.child.kill('SIGTERM');
  await closed;
}

/** `onepush check` against a running snippet: every case passes, and each event id was handled at most once. */
async function checkPasses(server: Running): Promise<void> {
  const r = await runBin(['check', server.url, '--secret', SECRET, '--strict', '--json']);
  const report = JSON.parse(r.stdout) as { cases: Array<{ number: number; name: string; result: string; message: string }>; summary: Record<string, number>; exit: number };
  const notPassed = report.cases.filter((c) => c.result !== 'pass').map((c) => `${c.number} ${c.name}: ${c.result}: ${c.message}`);
  assert.deepEqual(notPassed, [], `every case passes against ${server.url}`);
  assert.equal(report.cases.length, 10);
  assert.deepEqual(report.summary, { passed: 10, failed: 0, warned: 0, skipped: 0, blocked: 0 });
  assert.equal(r.code, 0, r.stderr);
  await stop(server);
  // The work after the answer: every type, the unknown one too, and no event twice (case 5 delivered one twice).
  const handled = server.stdout.filter((l) => l.startsWith('handled ')).map((l) => l.split(' '));
  const ids = handled.map(([, , id]) => id);
  assert.equal(new Set(ids).size, ids.length, `no event id handled twice: ${ids.join(', ')}`);
  const types = new Set(handled.map(([, type]) => type));
  for (const type of ['email.sent', 'email.delivered', 'email.opened', 'email.clicked', 'email.bounced', 'email.complained', 'email.unsubscribed', 'email.delivery_delayed']) {
    assert.ok(types.has(type), `handled a ${type}`);
  }
  assert.doesNotMatch(server.stderr(), /failed|Error/);
}

describe("README's handler snippets, run verbatim, pass onepush check", () => {
  test('Express: express.raw, the Node verify (the built CLI)', async () => {
    const s = snippet('Express');
    assert.equal(s.lang, 'js');
    assert.match(s.code, /express\.raw\(\{ type: 'application\/json'/);
    const proj = project('express', ['express']);
    writeFileSync(join(proj, s.file), s.code);
    await checkPasses(await start([s.file], proj));
  });

  test('Fastify: a buffer content-type parser, the Node verify (the built CLI)', async () => {
    const s = snippet('Fastify');
    assert.equal(s.lang, 'js');
    assert.match(s.code, /addContentTypeParser\('application\/json', \{ parseAs: 'buffer' \}/);
    const proj = project('fastify', ['fastify']);
    writeFileSync(join(proj, s.file), s.code);
    await checkPasses(await start([s.file], proj));
  });

  test('Next.js: the route module POST(request: Request) through a node:http → Request/Response adapter, onepush-cli/web (the built CLI)', async () => {
    const s = snippet('Next.js (route handler)');
    assert.equal(s.lang, 'ts');
    assert.match(s.code, /export async function POST\(request: Request\)/);
    assert.match(s.code, /await request\.arrayBuffer\(\)/);
    assert.match(s.code, /from 'onepush-cli\/web'/);
    assert.equal(s.file, 'app/webhooks/onepush/route.ts');
    const proj = project('next', []);
    mkdirSync(join(proj, dirname(s.file)), { recursive: true });
    writeFileSync(join(proj, s.file), s.code);
    await checkPasses(await start(['--import', TSX, join(ROOT, 'test/helpers/route-server.ts'), join(proj, s.file), '/webhooks/onepush'], proj));
  });

  test('Hono: c.req.arrayBuffer(), onepush-cli/web, @hono/node-server (the built CLI)', async () => {
    const s = snippet('Hono');
    assert.equal(s.lang, 'ts');
    assert.match(s.code, /await c\.req\.arrayBuffer\(\)/);
    assert.match(s.code, /from 'onepush-cli\/web'/);
    const proj = project('hono', ['hono', '@hono/node-server']);
    writeFileSync(join(proj, s.file), s.code);
    await checkPasses(await start(['--import', TSX, s.file], proj));
  });

  test('the TypeScript snippets (Next.js, Hono) typecheck under strict, as a user project with @types/node and the DOM lib would', async () => {
    const proj = project('typecheck', ['hono', '@hono/node-server', '@types/node', 'undici-types']);
    const files = ['Next.js (route handler)', 'Hono'].map((heading, i) => {
      const file = `snippet${i}.ts`;
      writeFileSync(join(proj, file), snippet(heading).code);
      return file;
    });
    // onepush-cli/web's types from its source: dist/types is emitted by the full build only (tests run after --fast).
    const compilerOptions = {
      strict: true,
      module: 'nodenext',
      moduleResolution: 'nodenext',
      target: 'es2022',
      lib: ['es2023', 'dom'],
      types: ['node'],
      noEmit: true,
      skipLibCheck: true,
      paths: { 'onepush-cli/web': [join(ROOT, 'src/web.ts')] },
    };
    writeFileSync(join(proj, 'tsconfig.json'), JSON.stringify({ compilerOptions, files }));
    const tsc = join(ROOT, 'node_modules/typescript/bin/tsc');
    const r = await promisify(execFile)(process.execPath, [tsc, '-p', proj]).catch((e: { stdout: string; stderr: string }) => e);
    assert.equal(`${r.stdout}${r.stderr}`, '');
  });
});
