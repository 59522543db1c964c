#!/usr/bin/env node
// Runs the compiled CLI (tsx at run time would cost ~6x node's start-up).
import { main } from '../dist/cli.js';

main(process.argv);
