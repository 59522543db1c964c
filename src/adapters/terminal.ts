import { Chalk, type ChalkInstance } from 'chalk';
import { terminalSafe, toJsonLine } from '../core/display.js';

// The one place that knows about colour, TTYs and spinners. Commands print through an Output, so
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
  /** How wide a line of stdout may be: the terminal's width, or 160 when it has none (a pipe, a file). */
  readonly width: number;
  /** The file descriptor of stdout when it is the process's own (another thread may write to it), else undefined. */
  readonly fd: number | undefined;
  /** One line of results on stdout (control characters from outside are escaped: see terminalSafe). */
  out(line: string): void;
  /** Several lines of results on stdout, with one write. */
  lines(lines: readonly string[]): void;
  /** One line of progress or warning on stderr. */
  err(line: string): void;
  /** A warning on stderr, marked. */
  warn(line: string): void;
  /** One JSON document (or one NDJSON line) on stdout. */
  json(value: unknown): void;
  /**
   * Progress on stderr: a spinner on a terminal whose width is known (ora is loaded only then); on a terminal with
   * no width (a pseudo-terminal of some CI log collectors) a plain line at most every 5 s; nothing off a terminal.
   */
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

/** The width lines are cut to when stdout is not a terminal (a fixed one, so output does not depend on who runs it). */
const PIPE_WIDTH = 160;

/** How often a terminal without a width gets a progress line. */
const PLAIN_PROGRESS_MS = 5000;

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
    width: stdout.isTTY === true && typeof stdout.columns === 'number' && stdout.columns > 0 ? stdout.columns : PIPE_WIDTH,
    fd: stdoutFd,
    // The last guard before the terminal: whatever a renderer missed, no control character from outside gets out.
    out: (line) => void stdout.write(`${terminalSafe(line, level > 0)}\n`),
    lines: (lines) => {
      let text = '';
      for (const line of lines) text += `${terminalSafe(line, level > 0)}\n`;
      if (text !== '') stdout.write(text);
    },
    err: (line) => void stderr.write(`${terminalSafe(line, ec.level > 0)}\n`),
    warn: (line) => void stderr.write(`${terminalSafe(`${ec.yellow('warning:')} ${line}`, ec.level > 0)}\n`),
    json: (value) => void stdout.write(`${toJsonLine(value)}\n`),
    async spinner(text) {
      if (!errIsTTY || env.CI) return NO_SPINNER;
      if (!(typeof stderr.columns === 'number' && stderr.columns > 0)) {
        // ora computes how many lines to clear from the width: with none it would write cursor codes without end.
        let last = performance.now();
        return {
          text: (t) => {
            const now = performance.now();
            if (now - last < PLAIN_PROGRESS_MS) return;
            last = now;
            stderr.write(`${terminalSafe(t, false)}\n`);
          },
          stop: (finalText) => {
            if (finalText !== undefined) stderr.write(`${terminalSafe(finalText, false)}\n`);
          },
        };
      }
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
