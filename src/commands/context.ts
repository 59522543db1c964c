import type { Output } from '../adapters/terminal.js';

/** What a command is handed: its I/O as values, so tests can drive it and cli.ts stays the one place that exits. */
export interface Context {
  out: Output;
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream;
  cwd: string;
  version: string;
  /**
   * Aborted on the first Ctrl-C/SIGTERM. Only long-running commands ask for it: asking installs the signal
   * handlers (a second Ctrl-C then exits at once, code 130).
   */
  shutdownSignal(): AbortSignal;
}
