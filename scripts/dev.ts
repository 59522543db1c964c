// `npm run dev -- <command> …`: the CLI from source through tsx (no build), for working on onepush itself.
import { main } from '../src/cli.js';

void main(process.argv);
