/** Exit codes of every command (SPEC.md §2): 0 ok, 1 the check said no, 2 could not run. */
export const EXIT_OK = 0;
export const EXIT_NO = 1;
export const EXIT_USAGE = 2;

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
  }
}

/** The command could not run: bad flag, unreadable or malformed input, port in use (exit 2). */
export class UsageError extends OnepushError {
  constructor(message: string, hint?: string, cause?: unknown) {
    super(message, { exitCode: EXIT_USAGE, ...(hint === undefined ? {} : { hint }), cause });
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
