/** Exit codes of every command: 0 ok, 1 the check said no (grep's 1), 2 could not run. */
const EXIT_NO = 1;
const EXIT_USAGE = 2;

/** A registry symbol: the same in every bundle, unlike the class itself. */
const ONEPUSH_ERROR = Symbol.for('onepush.error');

export interface OnepushErrorOptions {
  exitCode?: number;
  hint?: string;
  cause?: unknown;
}

/** An error a command throws on purpose: cli.ts prints its message (and hint) as one line and exits with its code. */
export class OnepushError extends Error {
  readonly exitCode: number;
  readonly hint: string | undefined;

  constructor(message: string, options: OnepushErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'OnepushError';
    this.exitCode = options.exitCode ?? EXIT_USAGE;
    this.hint = options.hint;
    Object.defineProperty(this, ONEPUSH_ERROR, { value: true });
  }
}

/**
 * The input cannot be used: a malformed URL, template, selection or file. Thrown by the use cases and the core,
 * which know nothing of flags; the CLI shows it as it shows a UsageError (exit 2).
 */
export class InvalidInput extends OnepushError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super(message, { exitCode: EXIT_USAGE, ...(hint === undefined ? {} : { hint }), cause });
    this.name = 'InvalidInput';
  }
}

/** The command could not run: bad flag, unreadable or malformed input, port in use (exit 2). */
export class UsageError extends InvalidInput {
  constructor(message: string, hint?: string, cause?: unknown) {
    super(message, hint, cause);
    this.name = 'UsageError';
  }
}

/** The check said no: an invalid signature, a failed delivery (exit 1). */
export class CheckFailed extends OnepushError {
  constructor(message: string, hint?: string) {
    super(message, { exitCode: EXIT_NO, ...(hint === undefined ? {} : { hint }) });
    this.name = 'CheckFailed';
  }
}

/**
 * Whether a value is an OnepushError. By brand, not `instanceof`: each command is its own bundle (see
 * scripts/build.mjs), so an error thrown by a command is an instance of that bundle's copy of the class.
 */
export function isOnepushError(value: unknown): value is OnepushError {
  return value instanceof Error && (value as { [ONEPUSH_ERROR]?: unknown })[ONEPUSH_ERROR] === true;
}
