// Builds dist/bin/onepush (onepush.exe on Windows): the whole CLI as one executable, for machines without Node
// (README: One binary). Node's single executable applications (SEA): one CommonJS file holding every command and
// every dependency, a blob made from it by `node --experimental-sea-config`, injected with postject into a copy of
// the node binary that made the blob (the blob only runs on that exact Node).
//
// Which Node: Node 20 is end of life, so the binary is built on Node 24. This script uses the node it runs on when
// that is Node 24 or later; otherwise it takes Node 24 from the npm registry (`npx -y -p node@24`, cached by npm).
// ONEPUSH_SEA_NODE=/path/to/node builds with that node instead.
//
// Why a build of its own (scripts/build.mjs's CLI cannot be used as it is): there, undici, zod and ora stay
// external and each command is a separate bundle required when it runs; a SEA's main script can only require
// Node's built-in modules. Here esbuild inlines cli.ts's `import('./commands/x.js')` (still run only when the
// command runs) and every package; the build fails if the bundle still requires anything but a built-in.
// The files the CLI reads beside itself (fixtures/*.json, the inspector's page, listen's output thread) become SEA
// assets named by their path in the package (src/adapters/shipped.ts reads them).
//
// Needs dist/inspector/ (the page): `npm run build:binary` runs scripts/build.mjs --fast first.
import { build } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const work = join(root, 'dist', 'sea');
const win = process.platform === 'win32';
const mac = process.platform === 'darwin';
const out = join(root, 'dist', 'bin', win ? 'onepush.exe' : 'onepush');
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';

function fail(message) {
  console.error(`build-binary: ${message}`);
  process.exit(1);
}

function run(cmd, args, what) {
  // Windows runs a .cmd (npx.cmd) only through a shell.
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], shell: win && cmd.endsWith('.cmd') });
  if (r.status !== 0) fail(`${what} failed (${r.error?.message ?? `exit ${r.status}`}):\n${r.stdout}${r.stderr}`);
  return r.stdout.trim();
}

/** The node binary to build with (see the top of this file). */
function pickNode() {
  if (process.env.ONEPUSH_SEA_NODE) return process.env.ONEPUSH_SEA_NODE;
  if (Number(process.versions.node.split('.')[0]) >= 24) return process.execPath;
  console.log(`build-binary: Node ${process.versions.node} is end of life: building with Node 24 (npx -y -p node@24)`);
  return run(win ? 'npx.cmd' : 'npx', ['-y', '-p', 'node@24', 'node', '-p', 'process.execPath'], 'getting Node 24 with npx');
}

const node = pickNode();
const nodeVersion = run(node, ['-p', 'process.versions.node'], `${node} -p process.versions.node`);
const major = Number(nodeVersion.split('.')[0]);
if (!(major > 21 || (major === 20 && Number(nodeVersion.split('.')[1]) >= 12))) fail(`Node ${nodeVersion} has no sea.getAsset (20.12+, 22+)`);

// The assets: name (path in the package) → file.
const assets = {};
for (const f of readdirSync(join(root, 'fixtures')).filter((f) => f.endsWith('.json'))) assets[`fixtures/${f}`] = join(root, 'fixtures', f);
for (const f of ['app.js', 'app.css']) {
  const file = join(root, 'dist', 'inspector', f);
  if (!existsSync(file)) fail(`${relative(root, file)} is missing: run scripts/build.mjs first (npm run build:binary does)`);
  assets[`dist/inspector/${f}`] = file;
}
assets['dist/commands/listen-thread.cjs'] = join(work, 'listen-thread.cjs');

/**
 * http-client.ts loads undici's Agent through createRequire (so the normal build leaves it in node_modules); here it
 * must be a plain require that esbuild inlines.
 */
const inlineUndici = {
  name: 'inline-undici',
  setup(b) {
    b.onLoad({ filter: /[\\/]src[\\/]adapters[\\/]http-client\.ts$/ }, (args) => {
      const source = readFileSync(args.path, 'utf8');
      const fn = /function loadAgent\(\): typeof UndiciAgent \{\n[\s\S]*?\n\}\n/;
      if (!fn.test(source)) fail(`inline-undici: no \`function loadAgent(): typeof UndiciAgent { … }\` in ${args.path}: adapt scripts/build-binary.mjs`);
      return {
        loader: 'ts',
        contents: source.replace(fn, "function loadAgent(): typeof UndiciAgent {\n  return require('undici/lib/dispatcher/agent.js');\n}\n"),
      };
    });
  },
};

rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
const common = {
  absWorkingDir: root,
  bundle: true,
  platform: 'node',
  target: `node${major}`,
  format: 'cjs',
  logLevel: 'warning',
  plugins: [inlineUndici],
  // Whitespace, comments and syntax only (names stay, for stack traces): a smaller script to load at every start.
  // `verify` started at 2.09x `node -e 0` unminified, 1.90x so (bench/startup.bench.ts, Node 24, same run).
  minifyWhitespace: true,
  minifySyntax: true,
  define: { 'import.meta.url': '__onepush_import_meta_url', 'import.meta.resolve': 'undefined' },
  banner: { js: "const __onepush_import_meta_url = require('node:url').pathToFileURL(__filename).href;" },
};
await Promise.all([
  build({
    ...common,
    stdin: { contents: "import { main } from './src/cli.ts';\nvoid main(process.argv);\n", resolveDir: root, sourcefile: 'sea-main.ts', loader: 'ts' },
    outfile: join(work, 'onepush.cjs'),
  }),
  build({ ...common, entryPoints: ['src/commands/listen-thread.ts'], outfile: join(work, 'listen-thread.cjs') }),
]);

// A SEA's main script (and the thread, evaluated from a string) can require only built-in modules (of the Node
// built into it: node:sqlite, which undici names, is one on 24 and not on 20).
for (const f of ['onepush.cjs', 'listen-thread.cjs']) {
  const code = readFileSync(join(work, f), 'utf8');
  const required = [...new Set([...code.matchAll(/\brequire\((["'])([^"']+)\1\)/g)].map((m) => m[2]))];
  const builtin = JSON.parse(run(node, ['-p', "JSON.stringify(process.argv.slice(1).filter((m) => require('node:module').isBuiltin(m)))", ...required], 'isBuiltin'));
  const left = required.filter((m) => !builtin.includes(m));
  if (left.length > 0) fail(`dist/sea/${f} still requires ${left.join(', ')}: a SEA can only require built-in modules`);
}

const config = join(work, 'sea-config.json');
writeFileSync(
  config,
  JSON.stringify(
    {
      main: join(work, 'onepush.cjs'),
      output: join(work, 'onepush.blob'),
      disableExperimentalSEAWarning: true,
      // V8's compiled code of the bundle, made at build time: a faster start (this machine's platform only).
      useCodeCache: true,
      assets,
    },
    null,
    2,
  ) + '\n',
);
run(node, ['--experimental-sea-config', config], `${node} --experimental-sea-config`);

mkdirSync(dirname(out), { recursive: true });
rmSync(out, { force: true });
copyFileSync(node, out);
chmodSync(out, 0o755);
// macOS: the copied node is signed; its signature must go before injecting, and the result be signed again (ad hoc
// here: a release would use a Developer ID and notarisation).
if (mac) run('codesign', ['--remove-signature', out], 'codesign --remove-signature');
const { inject } = createRequire(import.meta.url)('postject');
await inject(out, 'NODE_SEA_BLOB', readFileSync(join(work, 'onepush.blob')), {
  sentinelFuse: SEA_FUSE,
  ...(mac ? { machoSegmentName: 'NODE_SEA' } : {}),
});
if (mac) run('codesign', ['--sign', '-', out], 'codesign --sign -');

const version = run(out, ['--version'], `${relative(root, out)} --version`);
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
if (!version.includes(pkg.version)) fail(`${relative(root, out)} --version printed ${JSON.stringify(version)}, not ${pkg.version}`);
const mib = (statSync(out).size / 1024 / 1024).toFixed(1);
console.log(`build-binary: ${relative(root, out)} (${mib} MiB, Node ${nodeVersion}, ${process.platform}-${process.arch}): onepush ${version}`);
