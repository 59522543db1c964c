import { Chalk, type ChalkInstance } from 'chalk';

// The one place that knows about colour, TTYs and spinners (STYLE.md). Commands print through an Output, so
// tests can hand in buffers, and stdout stays clean data while stderr carries progress, warnings and errors.

/** A stream the output writes to: process.stdout/stderr or a test buffer. */
export interface OutStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  getColorDepth?: (env?: NodeJS.ProcessEnv) => number;
  columns?: number;
}

export type ColorLevel = 0 | 1 | 2 | 3;

/**
 * The colour level for a stream: FORCE_COLOR wins (0 turns colour off, 1–3 or empty forces it, as in Node),
 * then NO_COLOR (any non-empty value) turns it off, then a TTY's own depth. Chalk alone ignores NO_COLOR.
 */
export function colorLevel(stream: OutStream, env: NodeJS.ProcessEnv): ColorLevel {
  const force = env.FORCE_COLOR;
  if (force !== undefined) {
    if (force === '' || force === 'true') return 1;
    if (force === 'false' || force === '0') return 0;
    const n = Number(force);
    if (n === 1 || n === 2 || n === 3) return n;
    return 1;
  }
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return 0;
  if (!stream.isTTY) return 0;
  if (env.TERM === 'dumb') return 0;
  const depth = stream.getColorDepth?.(env) ?? 4;
  return depth >= 24 ? 3 : depth >= 8 ? 2 : depth >= 4 ? 1 : 0;
}

/** A progress spinner on stderr; a no-op off a TTY. */
export interface Spinner {
  text(text: string): void;
  stop(finalText?: string): void;
}

/** Where a command prints. `c` colours stdout text, `ec` stderr text (each off when its stream has no colour). */
export interface Output {
  readonly c: ChalkInstance;
  readonly ec: ChalkInstance;
  /** stdout is a terminal: aligned, coloured, relative output; otherwise plain and full. */
  readonly isTTY: boolean;
  readonly errIsTTY: boolean;
  /** The colour level of stdout (what `c` uses). */
  readonly level: ColorLevel;
  /** The file descriptor of stdout when it is the process's own (another thread may write to it), else undefined. */
  readonly fd: number | undefined;
  /** One line of results on stdout. */
  out(line: string): void;
  /** One line of progress or warning on stderr. */
  err(line: string): void;
  /** A warning on stderr, marked. */
  warn(line: string): void;
  /** One JSON document (or one NDJSON line) on stdout. */
  json(value: unknown): void;
  /** A spinner on stderr when it is a TTY (ora is loaded only then). */
  spinner(text: string): Promise<Spinner>;
}

export interface OutputOptions {
  stdout: OutStream;
  stderr: OutStream;
  env: NodeJS.ProcessEnv;
  /** The descriptor behind `stdout` when it is the process's stdout (1). */
  stdoutFd?: number;
}

const NO_SPINNER: Spinner = { text() {}, stop() {} };

/** Builds the Output for a pair of streams and an environment. */
export function createOutput({ stdout, stderr, env, stdoutFd }: OutputOptions): Output {
  const level = colorLevel(stdout, env);
  const c = new Chalk({ level });
  const ec = new Chalk({ level: colorLevel(stderr, env) });
  const errIsTTY = stderr.isTTY === true;
  return {
    c,
    ec,
    isTTY: stdout.isTTY === true,
    errIsTTY,
    level,
    fd: stdoutFd,
    out: (line) => void stdout.write(`${line}\n`),
    err: (line) => void stderr.write(`${line}\n`),
    warn: (line) => void stderr.write(`${ec.yellow('warning:')} ${line}\n`),
    json: (value) => void stdout.write(`${JSON.stringify(value)}\n`),
    async spinner(text) {
      if (!errIsTTY || env.CI) return NO_SPINNER;
      const { default: ora } = await import('ora');
      const s = ora({ text, stream: stderr as NodeJS.WritableStream, color: 'cyan' }).start();
      return {
        text: (t) => {
          s.text = t;
        },
        stop: (finalText) => {
          if (finalText === undefined) s.stop();
          else s.stopAndPersist({ text: finalText, symbol: '' });
        },
      };
    },
  };
}
