import { spawn, type ChildProcess, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { after } from 'node:test';
import { once } from 'node:events';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';
import { run } from '../../src/cli.js';
import { onPath } from './tools.js';

// Two ways to run the CLI. In-process (runCli, startCli): src/cli.ts's `run` with its I/O as values, as gh's tests
// drive a command through its options struct; most tests use it. As a child process (runBin, startBin): the BUILT
// bin/onepush.js (dist/, built by `pretest`), for what only a process has: signals, exit codes, pipes that close or
// stall, a terminal, kill -9, memory of its own; every command has at least one such end-to-end test.

/** The built CLI entry. */
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
  // A proxy of the machine running the tests must not route the tests' loopback peers (test/proxy.test.ts sets them).
  for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'ALL_PROXY']) {
    delete env[name];
    delete env[name.toLowerCase()];
  }
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return env;
}

// ---------------------------------------------------------------------------------------------------------------
// In-process

/** What a stream of the in-process CLI received, as text, with waiters on what it will receive. */
class Sink {
  text = '';
  isTTY = false;
  private readonly waiters = new Set<() => void>();
  write(chunk: string | Uint8Array): boolean {
    this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    for (const w of [...this.waiters]) w();
    return true;
  }
  /** The complete lines so far. */
  lines(): string[] {
    const all = this.text.split('\n');
    all.pop();
    return all;
  }
  /**
   * Resolves with the first value `find` gives on the text so far or to come; rejects as soon as `ended` settles
   * without it (a run that has ended prints nothing more: no test waits on a dead run).
   */
  until<T>(find: (text: string) => T | undefined, ended: Promise<unknown>, what: string, stderr: () => string): Promise<T> {
    const now = find(this.text);
    if (now !== undefined) return Promise.resolve(now);
    return new Promise((resolve, reject) => {
      const check = (): void => {
        const v = find(this.text);
        if (v === undefined) return;
        this.waiters.delete(check);
        resolve(v);
      };
      this.waiters.add(check);
      void ended.then(() => {
        if (!this.waiters.has(check)) return;
        this.waiters.delete(check);
        const v = find(this.text);
        if (v !== undefined) resolve(v);
        else reject(new Error(`the CLI ended before ${what}; stderr: ${stderr()}`));
      });
    });
  }
}

/** A run of the CLI in this process. */
export interface InProcessCli {
  /** The complete lines of stdout so far. */
  readonly stdoutLines: string[];
  stdout(): string;
  stderr(): string;
  /** Resolves with the first stdout line that matches; rejects if the run ends first. */
  waitForLine(match: (line: string) => boolean): Promise<string>;
  /** Resolves once stderr matches; rejects if the run ends first. */
  waitForStderr(re: RegExp): Promise<RegExpExecArray>;
  /** Whether the run has ended. */
  ended(): boolean;
  /** Resolves with the result once the run ends by itself. */
  readonly exited: Promise<RunResult>;
  /** Ctrl-C (SIGINT) or SIGTERM, as the real CLI gets it: the shutdown signal aborts. Does not wait. */
  interrupt(signal?: 'SIGINT' | 'SIGTERM'): void;
  /** Interrupts (unless it already ended) and waits for the end. */
  stop(signal?: 'SIGINT' | 'SIGTERM'): Promise<RunResult>;
}

/** Runs still going: a test that fails before it stops its listener must not keep the test file from ending. */
const inProcess = new Set<InProcessCli>();

/** Starts `onepush <args>` in this process (src/cli.ts's `run`), with in-memory stdout and stderr. */
export function startCli(args: string[], options: RunOptions & { stdinIsTTY?: boolean } = {}): InProcessCli {
  const stdout = new Sink();
  const stderr = new Sink();
  const shutdown = new AbortController();
  const stdin = (): NodeJS.ReadableStream => {
    const s = Readable.from(options.input === undefined ? [] : [Buffer.from(options.input)]);
    if (options.stdinIsTTY) Object.assign(s, { isTTY: true });
    return s;
  };
  let stdinStream: NodeJS.ReadableStream | undefined;
  let done = false;
  const exited = run(args, {
    stdout,
    stderr,
    stdin: () => (stdinStream ??= stdin()),
    env: cliEnv(options.env),
    cwd: options.cwd ?? ROOT,
    shutdownSignal: () => shutdown.signal,
  }).then(
    (code): RunResult => {
      done = true;
      inProcess.delete(cli);
      return { code, signal: null, stdout: stdout.text, stderr: stderr.text };
    },
    (e: unknown) => {
      done = true;
      inProcess.delete(cli);
      throw e;
    },
  );
  const cli: InProcessCli = {
    get stdoutLines() {
      return stdout.lines();
    },
    stdout: () => stdout.text,
    stderr: () => stderr.text,
    waitForLine: (match) => stdout.until((t) => t.split('\n').slice(0, -1).find(match), exited, 'the line came', () => stderr.text),
    waitForStderr: (re) => stderr.until((t) => re.exec(t) ?? undefined, exited, `stderr matched ${re}`, () => stderr.text),
    ended: () => done,
    exited,
    interrupt(signal = 'SIGINT') {
      shutdown.abort(signal);
    },
    async stop(signal = 'SIGINT') {
      if (!done) shutdown.abort(signal);
      return exited;
    },
  };
  inProcess.add(cli);
  return cli;
}

/** Runs `onepush <args>` in this process to its end and collects its exit code and output. */
export function runCli(args: string[], options: RunOptions & { stdinIsTTY?: boolean } = {}): Promise<RunResult> {
  return startCli(args, options).exited;
}

after(async () => {
  await Promise.allSettled([...inProcess].map((c) => c.stop()));
});

// ---------------------------------------------------------------------------------------------------------------
// The built CLI, as a child process

/** Whether script(1) is here to give the CLI a pseudo-terminal. */
export const HAS_SCRIPT = onPath('script');

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

/** Runs the built `onepush <args>` as a child process to completion and collects its exit code and output. */
export async function runBin(args: string[], options: RunOptions = {}): Promise<RunResult> {
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
  /** Resolves with the first stdout line that matches; rejects if the process exits first. */
  waitForLine(match: (line: string) => boolean): Promise<string>;
  /** Resolves once stderr matches; rejects if the process exits first. */
  waitForStderr(re: RegExp): Promise<RegExpExecArray>;
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

/** Starts the built `onepush <args>` as a child process and keeps it running. */
export function startBin(args: string[], options: RunOptions = {}): LiveCli {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    env: cliEnv(options.env),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('close', () => running.delete(child));
  const stdoutLines: string[] = [];
  let stderr = '';
  const stderrWaiters = new Set<() => void>();
  child.stderr.setEncoding('utf8').on('data', (d: string) => {
    stderr += d;
    for (const w of [...stderrWaiters]) w();
  });
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
    waitForStderr(re) {
      return new Promise((resolve, reject) => {
        const check = (): boolean => {
          const m = re.exec(stderr);
          if (m === null) return false;
          stderrWaiters.delete(check);
          resolve(m);
          return true;
        };
        if (check()) return;
        stderrWaiters.add(check);
        void closed.then(() => {
          if (stderrWaiters.delete(check) && !check()) reject(new Error(`the CLI exited before stderr matched ${re}; stderr: ${stderr}`));
        });
      });
    },
    async stop(signal = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      const [code, sig] = await closed;
      return { code, signal: sig, stdout: stdoutLines.join('\n'), stderr };
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Output

/** The NDJSON lines a run printed on stdout, parsed. */
export function jsonLines(r: RunResult): Array<Record<string, unknown>> {
  return r.stdout
    .trim()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The NDJSON lines a running CLI printed on stdout so far, parsed. */
export function printedJson(cli: { stdoutLines: string[] }): Array<Record<string, unknown>> {
  return cli.stdoutLines.map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** The captures of a capture log, parsed. */
export function readCaptures(file: string): Array<Record<string, unknown>> {
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
