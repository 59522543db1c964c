import { spawn, spawnSync, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after } from 'node:test';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

/** The built CLI entry (tests run against dist/, built by `pretest`). */
export const BIN = fileURLToPath(new URL('../../bin/onepush.js', import.meta.url));
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  input?: string | Buffer;
  env?: Record<string, string | undefined>;
  cwd?: string;
}

/** A clean environment for the CLI: no colour, no secret, unless a test sets them. */
export function cliEnv(extra: Record<string, string | undefined> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR;
  delete env.ONEPUSH_WEBHOOK_SECRET;
  delete env.ONEPUSH_PORT;
  delete env.ONEPUSH_DEBUG;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

/** Whether script(1) is here to give the CLI a pseudo-terminal. */
export const HAS_SCRIPT = spawnSync('script', ['--version'], { stdio: 'ignore' }).status === 0;

/**
 * Starts `onepush <args>` on a pseudo-terminal (script(1)); its stdin is the terminal's keyboard. The CLI is
 * `exec`ed by a pinned /bin/sh, so it is the only process in the terminal's foreground group: a shell left
 * between them (dash does not exec its last command) would also take a Ctrl-C and turn a clean exit into 130.
 */
export function spawnOnTerminal(args: string, env: NodeJS.ProcessEnv = cliEnv()): ChildProcessWithoutNullStreams {
  return spawn('script', ['-qec', `exec "${process.execPath}" "${BIN}" ${args}`, '/dev/null'], {
    cwd: ROOT,
    env: { ...env, SHELL: '/bin/sh' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs `onepush <args>` to completion and collects its exit code and output. */
export async function runCli(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: cliEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  child.stdin.on('error', () => {});
  child.stdin.end(options.input ?? '');
  const [code, signal] = (await once(child, 'close')) as [number | null, NodeJS.Signals | null];
  return { code, signal, stdout, stderr };
}

/** A long-running CLI process (listen): its lines are read as they come. */
export interface LiveCli {
  child: ChildProcess;
  /** Resolves with the first stdout line that matches. */
  waitForLine(match: (line: string) => boolean): Promise<string>;
  stdoutLines: string[];
  stderr(): string;
  /** Sends a signal and waits for exit. */
  stop(signal?: NodeJS.Signals): Promise<RunResult>;
}

/** CLIs still running: a test that fails before it stops its listener must not keep the test file from ending. */
const running = new Set<ChildProcess>();
after(() => {
  for (const child of running) child.kill('SIGKILL');
});

/** Starts `onepush <args>` and keeps it running. */
export function startCli(args: string[], options: RunOptions = {}): LiveCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: cliEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('close', () => running.delete(child));
  const stdoutLines: string[] = [];
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const waiters: Array<{ match: (l: string) => boolean; resolve: (l: string) => void }> = [];
  const closed = once(child, 'close') as Promise<[number | null, NodeJS.Signals | null]>;
  createInterface({ input: child.stdout }).on('line', (line) => {
    stdoutLines.push(line);
    for (const w of [...waiters]) {
      if (w.match(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  return {
    child,
    stdoutLines,
    stderr: () => stderr,
    waitForLine(match) {
      const seen = stdoutLines.find(match);
      if (seen !== undefined) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        void closed.then(() => reject(new Error(`CLI exited before the line came; stderr: ${stderr}`)));
      });
    },
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code, sig] = await closed;
      return { code, signal: sig, stdout: stdoutLines.join('\n'), stderr };
    },
  };
}

/** The NDJSON lines a run printed on stdout, parsed. */
export function jsonLines(r: RunResult): Array<Record<string, unknown>> {
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The NDJSON lines a running CLI printed on stdout so far, parsed. */
export function printedJson(cli: LiveCli): Array<Record<string, unknown>> {
  return cli.stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The captures of a capture log, parsed. */
export function readCaptures(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
