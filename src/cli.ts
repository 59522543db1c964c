import { Command, CommanderError, InvalidArgumentError } from 'commander';
import pkg from '../package.json' with { type: 'json' };
import { createOutput, type OutStream, type Output } from './adapters/terminal.js';
import { isOnepushError } from './core/errors.js';
import { MAX_TIMER_MS } from './core/limits.js';
import type { Context } from './commands/context.js';

// The commander tree. Each action lazy-imports its command (STYLE.md: `sign`, `verify`, `events` and `--help`
// must not load undici, ora or zod), and this is the one place that maps errors to exit codes and exits.

// Repeatable options have no default, so --help does not print "(default: [])"; commands read `?? []`.
const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function intArg(name: string, min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^\s*-?\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`${name} must be a whole number${max === Number.MAX_SAFE_INTEGER ? ` of at least ${min}` : ` from ${min} to ${max}`}.`);
    }
    return n;
  };
}

const examples = (lines: string[]): string => `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;

type Run = (ctx: Context) => Promise<number | void>;

function buildProgram(setRun: (run: Run) => void): Command {
  const program = new Command('onepush')
    .description('Build and test the endpoint that receives OnePush email webhooks, locally and in CI.')
    .version(pkg.version, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--debug', 'print stack traces of unexpected errors')
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .addHelpText('after', examples([
      'onepush listen --forward-to 3000',
      'onepush trigger email.bounced --to localhost:3000',
      'onepush replay --last 10 --to http://localhost:3000/webhooks/onepush',
      'onepush verify body.json --signature "$SIG" --explain',
    ]) + '\nSecrets come from --secret, ONEPUSH_WEBHOOK_SECRET, or ONEPUSH_WEBHOOK_SECRET=… in .env (onepush secret makes one).\nExit codes: 0 ok, 1 the check said no (or nothing matched), 2 could not run.\n');

  program
    .command('listen')
    .description('run a local receiver: verify, print, save and forward every event')
    .option('-p, --port <port>', 'port to listen on (default: 4242, or env ONEPUSH_PORT; 0 = any free port)', intArg('--port', 0, 65535))
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--secret <secret>', 'webhook secret (else env ONEPUSH_WEBHOOK_SECRET, else .env)')
    .option('-f, --forward-to <url>', 'forward each accepted event to your app (URL or shorthand: 3000, :3000, localhost:3000)')
    .option('--forward-timeout <ms>', 'how long the app may take to answer a forwarded event (default: 5000; longer lets you step through a handler in a debugger)', intArg('--forward-timeout', 1, MAX_TIMER_MS))
    .option('--max-attempts <n>', 'attempts of one event before it is set aside and the queue moves on (default: no limit)', intArg('--max-attempts', 1, 1_000_000))
    .option('--insecure', 'trust any TLS certificate of the --forward-to app (a self-signed local https app)')
    .option('--save <file>', 'capture log', '.onepush/events.ndjson')
    .option('--no-save', 'do not save captures')
    .option('--max-body <size>', 'largest body accepted (bytes, or 512kb, 1mb)', '1mb')
    .option('--events <globs>', 'show only matching types, e.g. email.bounced,email.c*')
    .option('--json', 'print NDJSON: ready, event, forward and summary lines')
    .option('--verbose', 'also print headers and the whole payload')
    .addHelpText('after', examples([
      'onepush listen',
      'onepush listen --forward-to 3000 --secret whsec_test',
      'onepush listen --forward-to 3000 --forward-timeout 600000 --max-attempts 5',
      'onepush listen --forward-to https://localhost:3443/webhooks/onepush --insecure',
      'onepush listen --json --port 0 | jq -c \'select(.kind=="event")\'',
      'onepush listen --events "email.bounced,email.c*" --no-save',
    ]))
    .action((opts) => setRun(async (ctx) => (await import('./commands/listen.js')).run(opts, ctx)));

  program
    .command('trigger')
    .description('send correctly signed sample events of any type')
    .argument('[types...]', 'event types (email.bounced, bounced, …) or "all"')
    .option('--all', 'send every type')
    .option('-t, --to <url>', 'target URL or shorthand (localhost, :3000, 3000, host:port)', 'http://localhost:4242/webhooks/onepush')
    .option('--secret <secret>', 'webhook secret (else env ONEPUSH_WEBHOOK_SECRET, else .env)')
    .option('--set <path=value>', 'set a field (value parsed as JSON when valid), repeatable', collect)
    .option('--unset <path>', 'remove a field, repeatable', collect)
    .option('--data <file>', 'JSON to deep-merge into the event ("-" for stdin)')
    .option('--fixture <file>', 'use another template')
    .option('-n, --count <n>', 'events of each type', intArg('--count', 1), 1)
    .option('--duplicate', 'send each event twice, same id and bytes, as a retry would')
    .option('-c, --concurrency <n>', 'deliveries in flight', intArg('--concurrency', 1, 1024), 1)
    .option('--timeout <ms>', 'per-attempt timeout', intArg('--timeout', 1, MAX_TIMER_MS), 5000)
    .option('--retries <n>', 'retries on network errors, timeouts, 5xx and 429', intArg('--retries', 0, 100), 0)
    .option('--insecure', 'trust any TLS certificate of the target (a self-signed local https app)')
    .option('--print', 'print the signed request instead of sending it')
    .option('--json', 'print NDJSON results')
    .addHelpText('after', examples([
      'onepush trigger email.bounced',
      'onepush trigger all --to localhost:3000',
      'onepush trigger bounced --set data.bounce.type=soft --set data.bounce.smtp_code=452',
      'onepush trigger email.delivered --duplicate --count 5',
      'onepush trigger email.clicked --print',
      'onepush trigger email.sent --to https://localhost:3443/webhooks/onepush --insecure',
    ]))
    .action((types, opts) => setRun(async (ctx) => (await import('./commands/trigger.js')).run(types, opts, ctx)));

  program
    .command('replay')
    .description('re-send captured events to any URL, byte for byte or re-signed')
    .argument('[source...]', 'capture files, directories, listen --json output, event JSON, or - (default: .onepush/events.ndjson)')
    .option('-t, --to <url>', 'target URL or shorthand', 'http://localhost:4242/webhooks/onepush')
    .option('--secret <secret>', 're-sign with this secret (else env ONEPUSH_WEBHOOK_SECRET, else .env)')
    .option('--keep-signature', 'send the captured headers unchanged')
    .option('--fresh-id', 'give each event a new id (needs a secret)')
    .option('--id <id>', 'only this event id, repeatable', collect)
    .option('--type <glob>', 'only matching types, e.g. email.b*')
    .option('--last <n>', 'only the last N selected events', intArg('--last', 1))
    .option('--since <time>', 'only events received since an ISO time or a duration (10m, 2h, 1d)')
    .option('-c, --concurrency <n>', 'deliveries in flight (order kept only at 1)', intArg('--concurrency', 1, 1024), 1)
    .option('--rate <n>', 'at most N deliveries per second', intArg('--rate', 1))
    .option('--timeout <ms>', 'per-attempt timeout', intArg('--timeout', 1, MAX_TIMER_MS), 5000)
    .option('--retries <n>', 'retries on network errors, timeouts, 5xx and 429', intArg('--retries', 0, 100), 0)
    .option('--skip-bad', 'report malformed lines and go on')
    .option('--insecure', 'trust any TLS certificate of the target (a self-signed local https app)')
    .option('--json', 'print NDJSON results and summary')
    .addHelpText('after', examples([
      'onepush replay',
      'onepush replay --last 5 --to localhost:3000',
      'onepush replay .onepush/events.ndjson --type "email.b*" --since 2h',
      'onepush replay .onepush/events.ndjson --keep-signature --to http://localhost:3000/webhooks/onepush',
      'onepush listen --json | onepush replay - --to 3000',
      'onepush replay --last 1 --to https://localhost:3443/webhooks/onepush --insecure',
    ]))
    .action((sources, opts) => setRun(async (ctx) => (await import('./commands/replay.js')).run(sources, opts, ctx)));

  program
    .command('sign')
    .description('print the signature of a body (file or stdin), offline')
    .argument('[file]', 'body file (default: stdin)')
    .option('--secret <secret>', 'webhook secret (else env ONEPUSH_WEBHOOK_SECRET, else .env)')
    .option('--header', 'print the whole header line')
    .option('--json', 'print a JSON object')
    .addHelpText('after', examples([
      'onepush sign event.json --secret whsec_test',
      'curl -H "content-type: application/json" -H "$(onepush sign --header event.json)" --data-binary @event.json localhost:3000/webhooks/onepush',
      'printf %s \'{"id":"evt_1"}\' | onepush sign',
    ]))
    .action((file, opts) => setRun(async (ctx) => (await import('./commands/sign.js')).run(file, opts, ctx)));

  program
    .command('verify')
    .description('check a signature offline (exit 0 valid, 1 invalid, 2 could not run)')
    .argument('[file...]', 'body files or capture logs (default: stdin)')
    .option('--secret <secret>', 'webhook secret (else env ONEPUSH_WEBHOOK_SECRET, else .env)')
    .option('-s, --signature <hex>', 'the x-onepush-signature value (capture files carry their own)')
    .option('--explain', 'on a mismatch, find the likely cause')
    .option('--id <id>', 'capture logs: only the captures of this event id, repeatable', collect)
    .option('--last <n>', 'capture logs: only the last N captures', intArg('--last', 1))
    .option('--json', 'print one JSON object')
    .addHelpText('after', examples([
      'onepush verify body.json --signature "$(onepush sign body.json)"',
      'onepush verify .onepush/events.ndjson',
      'onepush verify .onepush/events.ndjson --id evt_01JD8Q4Z7X2K9V3M5N6P7R8S9T --explain',
      'onepush verify .onepush/events.ndjson --last 5',
      'onepush verify body.json --signature "$SIG" --explain',
      'cat body.json | onepush verify --signature "$SIG" --json',
    ]))
    .action((files, opts) => setRun(async (ctx) => (await import('./commands/verify.js')).run(files, opts, ctx)));

  program
    .command('check')
    .description('run a conformance suite of real signed deliveries against your endpoint')
    .argument('<url>', 'your endpoint (URL or shorthand)')
    .option('--secret <secret>', 'webhook secret (else env ONEPUSH_WEBHOOK_SECRET, else .env)')
    .option('--only <cases>', 'run only these cases (comma-separated names, numbers or ranges: 2-4,duplicate)')
    .option('--skip <cases>', 'skip these cases (same forms)')
    .option('--timeout <ms>', 'per-request timeout', intArg('--timeout', 1, MAX_TIMER_MS), 10000)
    .option('--strict', 'warnings fail too')
    .option('--insecure', 'trust any TLS certificate of the endpoint (a self-signed local https app)')
    .option('--json', 'print one JSON object')
    .option('--junit <file>', 'write a JUnit XML report')
    .addHelpText('after', examples([
      'onepush check http://localhost:3000/webhooks/onepush',
      'onepush check 3000 --junit onepush-check.xml --strict',
      'onepush check :3000 --only unsigned,wrong-signature,tampered',
      'onepush check localhost:3000 --skip latency --json | jq .summary',
      'onepush check https://localhost:3443/webhooks/onepush --insecure --only valid-events',
    ]) + '\nCases: 1 valid-events, 2 unsigned, 3 wrong-signature, 4 tampered, 5 duplicate, 6 unknown-type, 7 out-of-order,\n8 latency, 9 large-payload, 10 non-compact. Without a secret, 2–4 and 10 are skipped.\nExit codes: 0 nothing failed (warnings allowed; --strict: none), 1 a case failed, 2 could not run or reach the URL.\n')
    .action((url, opts) => setRun(async (ctx) => (await import('./commands/check.js')).run(url, opts, ctx)));

  program
    .command('secret')
    .description('print a new random webhook secret (whsec_…)')
    .option('--env', 'print it as a .env line: ONEPUSH_WEBHOOK_SECRET=whsec_…')
    .option('--json', 'print a JSON object')
    .addHelpText('after', examples(['onepush secret', 'onepush secret --env >> .env']) + '\nonepush reads ONEPUSH_WEBHOOK_SECRET from .env in the current folder when the environment has none.\n')
    .action((opts) => setRun(async (ctx) => (await import('./commands/secret.js')).run(opts, ctx)));

  program
    .command('events')
    .description('list the event types')
    .option('--json', 'print a JSON array')
    .addHelpText('after', examples(['onepush events', 'onepush events --json | jq -r ".[].type"']))
    .action((opts) => setRun(async (ctx) => (await import('./commands/events.js')).run(opts, ctx)));

  return program;
}

function printError(out: Output, error: unknown, debug: boolean): number {
  if (isOnepushError(error)) {
    out.err(`${out.ec.red('onepush:')} ${error.message}`);
    if (error.hint) out.err(`${out.ec.dim('hint:')} ${error.hint}`);
    if (debug && error.stack) for (const l of error.stack.split('\n')) out.err(l);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  out.err(`${out.ec.red('onepush:')} unexpected error: ${message}`);
  if (debug && error instanceof Error && error.stack) for (const l of error.stack.split('\n')) out.err(l);
  else out.err(`${out.ec.dim('hint:')} run again with --debug for details, and report it if it persists`);
  return 2;
}

/** What a run of the CLI is handed: the process's I/O as values, so it can run inside another program (the tests). */
export interface CliIO {
  stdout: OutStream;
  stderr: OutStream;
  /** stdin, or a function giving it (touching process.stdin builds a stream, and most commands never read it). */
  stdin: NodeJS.ReadableStream | (() => NodeJS.ReadableStream);
  env: NodeJS.ProcessEnv;
  cwd: string;
  /** The descriptor behind `stdout` when it is the process's own (1): `listen` then prints from a second thread. */
  stdoutFd?: number;
  /**
   * The signal long-running commands stop on (Ctrl-C, SIGTERM); asked for at most once, by the commands that run
   * until stopped. Without it they run to their own end.
   */
  shutdownSignal?: () => AbortSignal;
}

/**
 * Runs the CLI for `args` (what follows `onepush` on the command line) and resolves with its exit code. It never
 * exits nor touches the process (its output, environment, directory, signals or exit code): that is main's job.
 */
export async function run(args: readonly string[], io: CliIO): Promise<number> {
  const debug = args.includes('--debug') || io.env.ONEPUSH_DEBUG === '1';
  const out = createOutput({ stdout: io.stdout, stderr: io.stderr, env: io.env, ...(io.stdoutFd === undefined ? {} : { stdoutFd: io.stdoutFd }) });
  let shutdown: AbortSignal | undefined;
  const { stdin } = io;
  const ctx: Context = {
    out,
    env: io.env,
    // A getter: touching process.stdin builds a stream (and loads its modules); most commands never read it.
    get stdin() {
      return typeof stdin === 'function' ? stdin() : stdin;
    },
    cwd: io.cwd,
    version: pkg.version,
    shutdownSignal() {
      shutdown ??= io.shutdownSignal?.() ?? new AbortController().signal;
      return shutdown;
    },
  };
  let command: Run | undefined;
  const program = buildProgram((r) => {
    command = r;
  });
  // Commander's own output (--help, --version, the help of a usage error) goes to the same streams as ours.
  const output = {
    writeOut: (text: string) => void io.stdout.write(text),
    writeErr: (text: string) => void io.stderr.write(text),
    // As commander's own: the terminal's width, else undefined (its default of 80).
    getOutHelpWidth: () => (io.stdout.isTTY ? io.stdout.columns : undefined) as number,
    getErrHelpWidth: () => (io.stderr.isTTY ? io.stderr.columns : undefined) as number,
    outputError: () => {},
  };
  for (const c of [program, ...program.commands]) c.configureOutput(output);
  let code = 0;
  try {
    await program.parseAsync(args, { from: 'user' });
    if (command) code = (await command(ctx)) ?? 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') code = 0;
      // `onepush help <cmd>` asked for help (exit 0); `onepush` alone printed it as a usage error (exit 2).
      else if (error.code === 'commander.help') code = error.exitCode === 0 ? 0 : 2;
      else if (error.code === 'commander.executeSubCommandAsync') code = 2;
      else {
        // Commander's message may carry "\n(Did you mean x?)": one line for the error, the suggestion in the hint.
        const [first = '', ...rest] = error.message.replace(/^error: /, '').split('\n');
        const suggestion = /\(Did you mean (.+?)\?\)/.exec(rest.join(' '))?.[1];
        out.err(`${out.ec.red('onepush:')} ${first}`);
        const sub = args.find((a) => !a.startsWith('-'));
        const known = program.commands.some((c) => c.name() === sub);
        const help = `see onepush ${known ? `${sub} ` : ''}--help`;
        out.err(`${out.ec.dim('hint:')} ${suggestion ? `did you mean ${suggestion}? or ${help}` : help}`);
        code = 2;
      }
    } else {
      code = printError(out, error, debug);
    }
  }
  return code;
}

/**
 * Runs the CLI for `argv` (process.argv form) in this process and sets process.exitCode: the only place that exits
 * (a closed stdout, a second Ctrl-C).
 */
export async function main(argv: string[]): Promise<void> {
  // A closed pipe (`onepush events | head -1`) is not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  process.exitCode = await run(argv.slice(2), {
    stdout: process.stdout,
    stderr: process.stderr,
    stdin: () => process.stdin,
    env: process.env,
    cwd: process.cwd(),
    stdoutFd: 1,
    shutdownSignal() {
      const c = new AbortController();
      const onSignal = (signal: NodeJS.Signals): void => {
        if (c.signal.aborted) process.exit(130);
        c.abort(signal);
      };
      process.on('SIGINT', onSignal);
      process.on('SIGTERM', onSignal);
      return c.signal;
    },
  });
}
