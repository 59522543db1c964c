// Builds dist/: esbuild bundles the CLI, the library and the inspector's page; tsc emits the library's .d.ts.
//
// Why this shape (the start-up target for `onepush verify`; figures: bench/startup.bench.ts, 2026-11-30,
// ratios to `node -e 0` measured in the same run):
// - The CLI is CommonJS: dist/cli.cjs holds the commander tree, and each command is its own bundle,
//   dist/commands/<name>.cjs, required only when that command runs. The same code as ESM bundles (esbuild's
//   splitting, loaded by import()) starts verify at 2.5x / 2.1x / 2.0x on Node 20 / 22 / 24, against 1.9x / 1.8x /
//   1.8x as CommonJS.
// - undici, zod and ora stay external (real node_modules packages) and are loaded only by the commands that need
//   them, so `sign`/`verify`/`events`/`--help` never pay for them, and a test can see that they are not loaded.
// - Tried and dropped: bundling chalk's browser build to skip its colour detection (node:tty, node:os)
//   bought nothing measurable on Node 20, 22 or 24 (±0.05x, either way from run to run).
// - The library (dist/index.js) is ESM, for `import { sign } from 'onepush-cli'`.
// - onepush-cli/web (dist/web.js) is ESM for any runtime (platform neutral): sign/verify on Web Crypto, no `node:`
//   module and no Buffer (checked on the bundle below: the build fails if either is mentioned).
// `--fast` skips the declarations (used before tests; `build`/`prepare` emit them).
import { build } from 'esbuild';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { rm } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fast = process.argv.includes('--fast');
const external = ['undici', 'zod', 'ora'];

// A command is a file of src/commands/ that exports `run`; each becomes its own bundle.
const commands = readdirSync(join(root, 'src/commands'))
  .filter((f) => f.endsWith('.ts') && /export async function run\b/.test(readFileSync(join(root, 'src/commands', f), 'utf8')))
  .map((f) => f.replace(/\.ts$/, ''));
// Worker threads a command starts (a file next to its bundle).
const threads = ['listen-thread'];

/**
 * cli.ts's `import('./commands/x.js')` becomes a plain require of the separate bundle ./commands/x.cjs: a dynamic
 * import() from CommonJS would start Node's ESM loader, which is what the CommonJS build avoids. The build fails if
 * cli.ts imports no command that way, or one that is not a command of src/commands/ (checked again on the output by
 * test/startup-tricks.test.ts).
 */
const commandsExternal = {
  name: 'commands-external',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]cli\.ts$/ }, (args) => {
      const rewritten = [];
      const contents = readFileSync(args.path, 'utf8').replace(/import\((['"])\.\/commands\/([\w-]+)\.js\1\)/g, (_, q, name) => {
        rewritten.push(name);
        return `Promise.resolve(require(${q}./commands/${name}.cjs${q}))`;
      });
      const unknown = rewritten.filter((name) => !commands.includes(name));
      if (rewritten.length === 0 || unknown.length > 0) {
        throw new Error(
          `commands-external: ${rewritten.length === 0 ? "no import('./commands/<name>.js') found in src/cli.ts" : `src/cli.ts imports ${unknown.join(', ')}, not a command of src/commands/ (a file exporting run)`}: update scripts/build.mjs with it`,
        );
      }
      return { loader: 'ts', contents };
    });
    b.onResolve({ filter: /^\.\/commands\/[\w-]+\.cjs$/ }, (args) => ({ path: args.path, external: true }));
  },
};

/**
 * commander requires node:child_process at load time, only to spawn stand-alone executable subcommands, which
 * onepush does not have. Deferred to first use, it is not loaded at all: on Node 20 that is ~0.07x of `node -e 0`
 * off every start (bench/startup.bench.ts, 2026-11-30; within the noise on Node 22 and 24). Same commander, same
 * parser: only when the module is loaded. The build fails if commander's line is not there any more, or if commander
 * uses child_process for anything but spawn (test/startup-tricks.test.ts checks the bundle and that the offline
 * commands do not load child_process).
 */
let commanderPatched = false;
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      commanderPatched = true;
      const source = readFileSync(args.path, 'utf8');
      const eager = "const childProcess = require('node:child_process');";
      const uses = [...source.matchAll(/\bchildProcess\.(\w+)/g)].map((m) => m[1]);
      if (!source.includes(eager) || uses.length === 0 || uses.some((u) => u !== 'spawn')) {
        throw new Error(
          `lazy-child-process: ${args.path} no longer has \`${eager}\` used for spawn only (uses: ${uses.join(', ') || 'none'}); ` +
            'a new commander: adapt or drop the lazyChildProcess plugin of scripts/build.mjs',
        );
      }
      return {
        loader: 'js',
        contents: source.replace(eager, "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };"),
      };
    });
  },
};

// Everything in dist/ is rebuilt, but dist/bin/: the single executable (`npm run build:binary`, minutes to make and
// ~120 MB) is kept, so that building for the tests does not throw away the binary test/binary.test.ts runs.
await Promise.all(
  (existsSync(join(root, 'dist')) ? readdirSync(join(root, 'dist')) : [])
    .filter((entry) => entry !== 'bin')
    .map((entry) => rm(join(root, 'dist', entry), { recursive: true, force: true })),
);
const common = { absWorkingDir: root, bundle: true, platform: 'node', target: 'node20', external, logLevel: 'warning' };
await Promise.all([
  build({
    ...common,
    entryPoints: ['src/cli.ts', ...[...commands, ...threads].map((c) => `src/commands/${c}.ts`)],
    outbase: 'src',
    outdir: 'dist',
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
    plugins: [commandsExternal, lazyChildProcess],
    // CommonJS has no import.meta: give modules that find files next to themselves (fixtures) their own URL.
    // (import.meta.resolve only serves code run from source, through tsx.)
    define: { 'import.meta.url': '__onepush_import_meta_url', 'import.meta.resolve': 'undefined' },
    banner: { js: "const __onepush_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
  }),
  build({
    ...common,
    entryPoints: ['src/index.ts'],
    outdir: 'dist',
    format: 'esm',
  }),
  build({
    absWorkingDir: root,
    entryPoints: ['src/web.ts'],
    outdir: 'dist',
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    logLevel: 'warning',
  }),
  // The inspector's page (served by the inspector as /_onepush/app.js and /_onepush/app.css): plain DOM, no
  // runtime dependency, one script and one stylesheet (its Content-Security-Policy allows nothing else).
  build({
    absWorkingDir: root,
    entryPoints: [
      { in: 'src/inspector-page/main.ts', out: 'app' },
      { in: 'src/inspector-page/style.css', out: 'app' },
    ],
    outdir: 'dist/inspector',
    bundle: true,
    minify: true,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    logLevel: 'warning',
  }),
]);

if (!commanderPatched) {
  throw new Error('lazy-child-process: commander/lib/command.js was not bundled: a new commander layout? adapt or drop the plugin');
}

// onepush-cli/web runs where there is no Node: nothing in it may name a node: module or Buffer (as a word:
// ArrayBuffer is a Web API).
const web = readFileSync(join(root, 'dist/web.js'), 'utf8');
for (const [word, re] of [['node:', /\bnode:/], ['Buffer', /\bBuffer\b/]]) {
  if (re.test(web)) {
    throw new Error(`dist/web.js mentions "${word}": onepush-cli/web must run without Node (src/web.ts and what it imports may use only Web APIs)`);
  }
}

// The event catalogue as files (the package's `onepush-cli/schema/*`), from the library just built: the JSON Schema
// of each type, of all of them in one document, and their TypeScript declarations (what `onepush schema` prints).
{
  const lib = await import(pathToFileURL(join(root, 'dist/index.js')).href);
  const dir = join(root, 'dist/schema');
  await mkdir(dir, { recursive: true });
  const json = (value) => `${JSON.stringify(value, null, 2)}\n`;
  await Promise.all([
    ...lib.EVENT_TYPES.map((type) => writeFile(join(dir, `${type}.json`), json(lib.eventJsonSchema(type)))),
    writeFile(join(dir, 'events.json'), json(lib.eventsJsonSchema())),
    writeFile(join(dir, 'events.d.ts'), lib.eventsTypeScript()),
  ]);
}

if (!fast) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
