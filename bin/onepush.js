#!/usr/bin/env node
// Runs the compiled CLI (tsx at run time would cost ~6x node's start-up). CommonJS on purpose: Node loads it
// faster than ESM (see scripts/build.mjs).
'use strict';
const { enableCompileCache } = require('node:module');

// Node 22.8+ keeps V8's compiled code of the bundles between runs: `verify` starts ~0.1x of `node -e 0` sooner on
// Node 22 (bench/startup.bench.ts, 2026-11-30). Node 20 has no enableCompileCache: nothing happens. The cache goes to
// <os.tmpdir()>/node-compile-cache (Node's own default; NODE_COMPILE_CACHE or NODE_DISABLE_COMPILE_CACHE set by the
// user win), and never into the current folder: with a TMPDIR that is it or inside it, there is no cache.
if (typeof enableCompileCache === 'function') {
  try {
    const { isAbsolute, join, relative, sep } = require('node:path');
    const dir = join(require('node:os').tmpdir(), 'node-compile-cache');
    const fromCwd = relative(process.cwd(), dir);
    if (isAbsolute(dir) && (fromCwd.startsWith(`..${sep}`) || isAbsolute(fromCwd))) enableCompileCache(dir);
  } catch {
    // no cache: the CLI runs as without it
  }
}

require('../dist/cli.cjs').main(process.argv);
