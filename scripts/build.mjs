// Builds dist/: esbuild bundles the CLI and the library; tsc emits the library's .d.ts.
// Why a bundle: commander + chalk unbundled cost ~1.38x `node -e 0` at start-up, bundled ~1.19x
// (issue #2's start-up target is 1.3x). undici, zod and ora stay external: they are loaded lazily
// by the commands that need them, so they never weigh on `sign`/`verify`/`events`/`--help`.
// `--fast` skips the declarations (used before tests; `build`/`prepare` emit them).
import { build } from 'esbuild';
import { rm } from 'node:fs/promises';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const fast = process.argv.includes('--fast');

await rm(join(root, 'dist'), { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: ['src/cli.ts', 'src/index.ts'],
  outdir: 'dist',
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  chunkNames: 'chunks/[name]-[hash]',
  external: ['undici', 'zod', 'ora'],
  // commander is CommonJS: give its require() calls a real require in the ESM bundle.
  banner: { js: "import { createRequire as __onepushCreateRequire } from 'node:module'; const require = __onepushCreateRequire(import.meta.url);" },
  logLevel: 'warning',
});

if (!fast) {
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
