// Builds dist/: esbuild bundles the CLI and the library; tsc emits the library's .d.ts.
//
// Why this shape (issue #2's start-up target: `onepush verify` within 1.3x of `node -e 0`):
// - commander + chalk unbundled cost ~1.38x; an ESM bundle still ~1.37x (Node 20's ESM loader), while the same
//   code as CommonJS loads in ~1.25x. So the CLI is CommonJS: dist/cli.cjs holds the commander tree, and each
//   command is its own bundle, dist/commands/<name>.cjs, required only when that command runs.
// - undici, zod and ora stay external (real node_modules packages) and are loaded only by the commands that need
//   them, so `sign`/`verify`/`events`/`--help` never pay for them, and a test can see that they are not loaded.
// - The library (dist/index.js) is ESM, for `import { sign } from 'onepush-cli'`.
// `--fast` skips the declarations (used before tests; `build`/`prepare` emit them).
import { build } from 'esbuild';
import { readdirSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
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
 * import() from CommonJS would start Node's ESM loader, which is what the CommonJS build avoids.
 */
const commandsExternal = {
  name: 'commands-external',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]cli\.ts$/ }, (args) => ({
      loader: 'ts',
      contents: readFileSync(args.path, 'utf8').replace(
        /import\((['"])\.\/commands\/([\w-]+)\.js\1\)/g,
        (_, q, name) => `Promise.resolve(require(${q}./commands/${name}.cjs${q}))`,
      ),
    }));
    b.onResolve({ filter: /^\.\/commands\/[\w-]+\.cjs$/ }, (args) => ({ path: args.path, external: true }));
  },
};

/**
 * commander requires node:child_process at load time, only to spawn stand-alone executable subcommands, which
 * onepush does not have; that require alone pulls in ~37 internal modules (child_process, net, dgram, …) on every
 * start. Deferred to first use, it costs nothing. (Same commander, same parser: only when the module is loaded.)
 */
const lazyChildProcess = {
  name: 'lazy-child-process',
  setup(b) {
    b.onLoad({ filter: /[\\/]commander[\\/]lib[\\/]command\.js$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const eager = "const childProcess = require('node:child_process');";
      if (!source.includes(eager)) return undefined; // another commander: leave it as it is
      return {
        loader: 'js',
        contents: source.replace(eager, "const childProcess = { spawn: (...a) => require('node:child_process').spawn(...a) };"),
      };
    });
  },
};

/**
 * Every Chalk of the CLI is built with an explicit level (src/adapters/terminal.ts: colorLevel honours NO_COLOR,
 * FORCE_COLOR and the TTY), so chalk's own detection is never used; its Node variant still requires node:os and
 * node:tty (which loads net) at start. Its browser variant, a constant here, is what gets bundled. Consequence:
 * chalk's default `chalk` instance is colourless in the CLI; use `ctx.out.c` / `ctx.out.ec`.
 */
const chalkWithoutDetection = {
  name: 'chalk-without-detection',
  setup(b) {
    b.onResolve({ filter: /^#supports-color$/ }, (args) => ({
      path: join(dirname(args.importer), 'vendor', 'supports-color', 'browser.js'),
    }));
  },
};

await rm(join(root, 'dist'), { recursive: true, force: true });
const common = { absWorkingDir: root, bundle: true, platform: 'node', target: 'node20', external, logLevel: 'warning' };
await Promise.all([
  build({
    ...common,
    entryPoints: ['src/cli.ts', ...[...commands, ...threads].map((c) => `src/commands/${c}.ts`)],
    outbase: 'src',
    outdir: 'dist',
    outExtension: { '.js': '.cjs' },
    format: 'cjs',
    plugins: [commandsExternal, lazyChildProcess, chalkWithoutDetection],
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
]);

if (!fast) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
