#!/usr/bin/env node
// Runs the compiled CLI (tsx at run time would cost ~6x node's start-up). CommonJS on purpose: Node 20 loads it
// faster than ESM (see scripts/build.mjs).
'use strict';
require('../dist/cli.cjs').main(process.argv);
