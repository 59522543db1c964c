import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { EVENT_TYPES, validateEvent } from '../src/index.js';
import { ROOT, jsonLines, runBin, runCli } from './helpers/cli.js';

// The event catalogue as data (issue 17): `onepush schema` and the package's dist/schema/ files, checked with a
// validator of their own (ajv, JSON Schema draft 2020-12, strict mode), not with the zod schemas they come from.

// ajv-formats is CommonJS whose default export is the plugin (module.exports), typed as ESM's `default`.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

const SCHEMA_DIR = join(ROOT, 'dist/schema');
const shipped = (file: string): Record<string, unknown> => JSON.parse(readFileSync(join(SCHEMA_DIR, file), 'utf8')) as Record<string, unknown>;

function validator() {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  return ajv;
}

const fixtures = readdirSync(join(ROOT, 'fixtures'))
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, event: JSON.parse(readFileSync(join(ROOT, 'fixtures', f), 'utf8')) as Record<string, unknown> & { type: string } }));

const tmp = mkdtempSync(join(tmpdir(), 'onepush-schema-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

describe('the shipped JSON Schema (dist/schema/), with an independent validator (ajv, draft 2020-12)', () => {
  test('there is a file per type, one for every type, and the TypeScript declarations', () => {
    assert.deepEqual(readdirSync(SCHEMA_DIR).sort(), [...EVENT_TYPES.map((t) => `${t}.json`), 'events.d.ts', 'events.json'].sort());
    assert.equal(fixtures.length, EVENT_TYPES.length);
  });

  test('every fixture is valid against its type\'s schema and against events.json', () => {
    const ajv = validator();
    const all = ajv.compile(shipped('events.json'));
    for (const { file, event } of fixtures) {
      const own = ajv.compile(shipped(`${event.type}.json`));
      assert.ok(own(event), `${file}: ${JSON.stringify(own.errors)}`);
      assert.ok(all(event), `${file} against events.json: ${JSON.stringify(all.errors)}`);
    }
  });

  test('every sample trigger builds (all seven types, trigger --print --json) is valid', async () => {
    const r = await runCli(['trigger', 'all', '--print', '--json', '--secret', 'whsec_test']);
    assert.equal(r.code, 0, r.stderr);
    const requests = jsonLines(r) as Array<{ body: string }>;
    assert.equal(requests.length, EVENT_TYPES.length);
    const ajv = validator();
    const all = ajv.compile(shipped('events.json'));
    const seen = new Set<string>();
    for (const request of requests) {
      const event = JSON.parse(request.body) as { type: string; id: string };
      seen.add(event.type);
      const own = ajv.compile(shipped(`${event.type}.json`));
      assert.ok(own(event), `${event.type}: ${JSON.stringify(own.errors)}`);
      assert.ok(all(event), `${event.type} against events.json: ${JSON.stringify(all.errors)}`);
      // A fresh id, not the fixture's.
      assert.notEqual(event.id, fixtures.find((f) => f.event.type === event.type)?.event.id);
    }
    assert.deepEqual([...seen].sort(), [...EVENT_TYPES].sort());
  });

  test('an invalid payload fails it: a bounce without bounce.type (and what zod rejects, ajv rejects)', () => {
    const ajv = validator();
    const bounced = ajv.compile(shipped('email.bounced.json'));
    const all = ajv.compile(shipped('events.json'));
    const fixture = fixtures.find((f) => f.event.type === 'email.bounced')?.event as unknown as { data: { bounce: Record<string, unknown> } };
    const noType = structuredClone(fixture);
    delete noType.data.bounce.type;
    assert.equal(bounced(noType), false);
    assert.ok(bounced.errors?.some((e) => e.instancePath === '/data/bounce' && e.keyword === 'required' && (e.params as { missingProperty?: string }).missingProperty === 'type'), JSON.stringify(bounced.errors));
    assert.equal(all(noType), false);

    // Mutations of every kind of constraint: ajv and zod (validateEvent) say no alike.
    const mutations: Array<[string, (e: Record<string, any>) => void]> = [
      ['bounce type not hard or soft', (e) => (e.data.bounce.type = 'medium')],
      ['smtp code out of range', (e) => (e.data.bounce.smtp_code = 700)],
      ['smtp code not an integer', (e) => (e.data.bounce.smtp_code = 550.5)],
      ['enhanced status malformed', (e) => (e.data.bounce.enhanced_status = '5.1')],
      ['id without evt_', (e) => (e.id = 'x_1')],
      ['created_at not a date-time', (e) => (e.created_at = 'yesterday')],
      ['to empty', (e) => (e.data.to = [])],
      ['to not an address', (e) => (e.data.to = ['bob'])],
      ['from empty', (e) => (e.data.from = '')],
      ['tags not strings', (e) => (e.data.tags = { n: 1 })],
      ['no data', (e) => delete e.data],
    ];
    for (const [what, mutate] of mutations) {
      const event = structuredClone(fixture) as Record<string, any>;
      mutate(event);
      assert.equal(bounced(event), false, `${what}: ajv accepted it`);
      assert.notEqual(validateEvent(event).issues.length, 0, `${what}: zod accepted it`);
    }
    // Loose objects, as the zod schemas: OnePush may add fields.
    const extra = structuredClone(fixture) as Record<string, any>;
    extra.data.bounce.new_field = 1;
    extra.new_top = true;
    assert.ok(bounced(extra), JSON.stringify(bounced.errors));
    // events.json tells the types apart by `type`: a bounce labelled as a click is not a click.
    assert.equal(all({ ...fixture, type: 'email.clicked' }), false);
  });
});

describe('onepush schema', () => {
  test('one type: that type\'s schema, as shipped (email.bounced or bounced)', async () => {
    for (const name of ['email.bounced', 'bounced', 'BOUNCED']) {
      const r = await runCli(['schema', name]);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), shipped('email.bounced.json'));
    }
  });

  test('no type (or "all"): one document with every type, as shipped in events.json; several: a oneOf of those', async () => {
    for (const args of [['schema'], ['schema', 'all']]) {
      const r = await runCli(args);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(JSON.parse(r.stdout), shipped('events.json'));
    }
    const two = await runCli(['schema', 'bounced', 'complained', 'bounced']);
    assert.equal(two.code, 0, two.stderr);
    const doc = JSON.parse(two.stdout) as { oneOf: unknown[]; $defs: Record<string, unknown> };
    assert.deepEqual(doc.oneOf, [{ $ref: '#/$defs/email.bounced' }, { $ref: '#/$defs/email.complained' }]);
    assert.deepEqual(Object.keys(doc.$defs), ['email.bounced', 'email.complained']);
    const ajv = validator();
    const validate = ajv.compile(doc);
    for (const { event } of fixtures) assert.equal(validate(event), ['email.bounced', 'email.complained'].includes(event.type), event.type);
  });

  test('an unknown type: exit 2, one line with a did-you-mean, and a hint', async () => {
    const r = await runCli(['schema', 'email.bouncd']);
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^onepush: unknown event type "email\.bouncd" — did you mean email\.bounced\?\nhint: the types are: email\.sent, /);
    const f = await runCli(['schema', '--format', 'yaml']);
    assert.equal(f.code, 2);
    assert.match(f.stderr, /Allowed choices are json-schema, typescript/);
  });

  test('--format typescript (the built CLI): what dist/schema/events.d.ts holds', async () => {
    const r = await runBin(['schema', '--format', 'typescript']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, readFileSync(join(SCHEMA_DIR, 'events.d.ts'), 'utf8'));
    assert.match(r.stdout, /export interface EmailBouncedEvent \{/);
    assert.match(r.stdout, /export type OnepushEvent = EmailSentEvent \| EmailDeliveredEvent \|/);
  });

  test('the TypeScript compiles with tsc --strict, the fixtures fit it, and a wrong bounce type does not', async () => {
    const dir = join(tmp, 'ts');
    mkdirSync(dir);
    writeFileSync(join(dir, 'events.d.ts'), readFileSync(join(SCHEMA_DIR, 'events.d.ts')));
    // The printed text of a subset, as a .ts file.
    const subset = await runCli(['schema', 'bounced', 'clicked', '--format', 'typescript']);
    assert.equal(subset.code, 0, subset.stderr);
    writeFileSync(join(dir, 'subset.ts'), subset.stdout);
    const literal = (type: string): string => JSON.stringify(fixtures.find((f) => f.event.type === type)?.event);
    writeFileSync(
      join(dir, 'use.ts'),
      [
        `import type { EmailBouncedEvent, OnepushEvent, OnepushEventType } from './events.js';`,
        `import type { OnepushEvent as Subset } from './subset.js';`,
        ...fixtures.map((f, i) => `export const e${i}: OnepushEvent = ${JSON.stringify(f.event)};`),
        `export const b: EmailBouncedEvent = ${literal('email.bounced')};`,
        `export const s: Subset = ${literal('email.clicked')};`,
        `export function kind(e: OnepushEvent): string {`,
        `  switch (e.type) {`,
        `    case 'email.bounced': return e.data.bounce.type;`,
        `    case 'email.clicked': return e.data.click.url;`,
        `    default: return e.type;`,
        `  }`,
        `}`,
        `const hard: 'hard' | 'soft' = b.data.bounce.type;`,
        `const t: OnepushEventType = 'email.sent';`,
        `export { hard, t };`,
        `// @ts-expect-error: not a bounce type`,
        `export const wrong: EmailBouncedEvent = { ...b, data: { ...b.data, bounce: { ...b.data.bounce, type: 'medium' } } };`,
        `// @ts-expect-error: not in the subset`,
        `export const notInSubset: Subset = ${literal('email.sent')};`,
        '',
      ].join('\n'),
    );
    writeFileSync(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', skipLibCheck: false, types: [] }, include: ['*.ts'] }));
    const tsc = spawnSync(process.execPath, [join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', dir], { encoding: 'utf8' });
    assert.equal(tsc.status, 0, tsc.stdout + tsc.stderr);
  });
});

describe('the package exports onepush-cli/schema/*', () => {
  test('a project that depends on it (file: link) resolves onepush-cli/schema/email.bounced.json with Node\'s resolver', () => {
    const project = join(tmp, 'project');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'app', type: 'module', dependencies: { 'onepush-cli': `file:${ROOT}` } }));
    // What npm does for a file: dependency: a link to the package's folder.
    symlinkSync(ROOT, join(project, 'node_modules', 'onepush-cli'), 'dir');
    const script = [
      `import { createRequire } from 'node:module';`,
      `import schema from 'onepush-cli/schema/email.bounced.json' with { type: 'json' };`,
      `const require = createRequire(import.meta.url);`,
      `console.log(JSON.stringify({`,
      `  esm: import.meta.resolve('onepush-cli/schema/email.bounced.json'),`,
      `  cjs: require.resolve('onepush-cli/schema/email.bounced.json'),`,
      `  dts: require.resolve('onepush-cli/schema/events.d.ts'),`,
      `  title: schema.title,`,
      `}));`,
    ].join('\n');
    writeFileSync(join(project, 'main.js'), script);
    const r = spawnSync(process.execPath, ['--no-warnings', 'main.js'], { cwd: project, encoding: 'utf8' });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as { esm: string; cjs: string; dts: string; title: string };
    const expected = realpathSync(join(SCHEMA_DIR, 'email.bounced.json'));
    assert.equal(new URL(got.esm).pathname, expected);
    assert.equal(got.cjs, expected);
    assert.equal(got.dts, realpathSync(join(SCHEMA_DIR, 'events.d.ts')));
    assert.equal(got.title, 'email.bounced');
    // And only what the exports map names: dist/ itself stays private.
    const hidden = spawnSync(process.execPath, ['-e', `require.resolve('onepush-cli/dist/schema/email.bounced.json')`], { cwd: project, encoding: 'utf8' });
    assert.notEqual(hidden.status, 0);
    assert.match(hidden.stderr, /ERR_PACKAGE_PATH_NOT_EXPORTED/);
  });
});
