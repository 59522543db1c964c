import { Argument, Command, CommanderError, InvalidArgumentError, Option, type CommandUnknownOpts } from '@commander-js/extra-typings';
import pkg from '../package.json' with { type: 'json' };
import { createOutput, type OutStream, type Output } from './adapters/terminal.js';
import { isOnepushError } from './core/errors.js';
import type { CompletionTree, ValueKind } from './core/completion.js';
import { closest } from './core/event-types.js';
import { MAX_TIMER_MS } from './core/limits.js';
import type { Context } from './commands/context.js';

// The commander tree. Each action lazy-imports its command (so `sign`, `verify`, `events` and `--help`
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

/** `onepush listen`: its arguments, options and help. */
function listenCommand() {
  return new Command('listen')
    .description('run a local receiver: verify, print, save and forward every event')
    .option('-p, --port <port>', 'port to listen on (else env ONEPUSH_PORT, else onepush.config.json, else 4242; 0 = any free port)', intArg('--port', 0, 65535))
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--secret <secret>', 'webhook secret (else env ONEPUSH_WEBHOOK_SECRET, else .env)')
    .option('-f, --forward-to <route>', 'forward each accepted event to your app (URL or shorthand: 3000, :3000, localhost:3000), or TYPES=URL (globs, comma-separated) for those types only; repeatable: each endpoint has its own queue (default: onepush.config.json\'s endpoints)', collect)
    .option('--forward-timeout <ms>', 'how long the app may take to answer a forwarded event (default: 5000; longer lets you step through a handler in a debugger)', intArg('--forward-timeout', 1, MAX_TIMER_MS))
    .option('--max-attempts <n>', 'attempts of one event before it is set aside and the queue moves on (default: no limit)', intArg('--max-attempts', 1, 1_000_000))
    .option('--insecure', 'trust any TLS certificate of the --forward-to app (a self-signed local https app)')
    .option('--save <file>', 'capture log (else onepush.config.json\'s save, else .onepush/events.ndjson)')
    .option('--no-save', 'do not save captures')
    .option('--redact', 'save redacted copies (personal data replaced by stable fakes, re-signed: see onepush redact); needs a secret')
    .option('--max-body <size>', 'largest body accepted (bytes, or 512kb, 1mb)', '1mb')
    .option('--events <globs>', 'show only matching types, e.g. email.bounced,email.c*')
    .option('--json', 'print NDJSON: ready, event, forward and summary lines')
    .option('--verbose', 'also print headers and the whole payload')
    .option('--no-ui', 'do not serve the inspector page on the listener\'s port')
    .option('--open', 'open the inspector page in your browser')
    .addHelpText('after', examples([
      'onepush listen',
      'onepush listen --forward-to 3000 --secret whsec_test',
      'onepush listen --forward-to 3000 --forward-timeout 600000 --max-attempts 5',
      'onepush listen --forward-to https://localhost:3443/webhooks/onepush --insecure',
      'onepush listen --forward-to "email.bounced,email.complained=:3000/webhooks/bounces" --forward-to :3000',
      'onepush listen --json --port 0 | jq -c \'select(.kind=="event")\'',
      'onepush listen --events "email.bounced,email.c*" --no-save',
      'onepush listen --port 0 --no-ui',
      'onepush listen --host 127.0.0.1 --save captures.ndjson --max-body 512kb --verbose',
      'onepush listen --port 0 --open',
      'onepush listen --redact --forward-to 3000',
    ]) + '\nThe inspector: open the printed address (http://localhost:4242/) to see every event live, its signature\nexplained, and to replay, edit and resend it.\n');
}

/** The options of `onepush listen`, as commander parses them. */
export type ListenFlags = ReturnType<ReturnType<typeof listenCommand>['opts']>;

/** `onepush trigger`: its arguments, options and help. */
function triggerCommand() {
  return new Command('trigger')
    .description('send correctly signed sample events of any type')
    .argument('[types...]', 'event types (email.bounced, bounced, …) or "all"')
    .option('--all', 'send every type')
    .option('-t, --to <route>', 'target URL or shorthand (localhost, :3000, 3000, host:port), or TYPES=URL (globs, comma-separated) for those types only; repeatable (default: onepush.config.json\'s endpoints, else http://localhost:4242/webhooks/onepush)', collect)
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
      'onepush trigger all --to "email.bounced,email.complained=:3000/webhooks/bounces" --to :3000',
      'onepush trigger --all --to :3000 --concurrency 4 --timeout 2000 --retries 3 --json',
      'onepush trigger bounced --fixture event.json --secret whsec_test',
      'echo \'{"data":{"tags":{"campaign":"spring"}}}\' | onepush trigger bounced --data - --unset data.bounce.mx_host',
      'HTTPS_PROXY=http://proxy.corp.test:3128 onepush trigger email.sent --to 3000',
    ]) + '\nHTTPS_PROXY, HTTP_PROXY and NO_PROXY apply to every target but loopback ones (localhost, 127.0.0.0/8, ::1).\n');
}

/** The options of `onepush trigger`, as commander parses them. */
export type TriggerFlags = ReturnType<ReturnType<typeof triggerCommand>['opts']>;

/** `onepush replay`: its arguments, options and help. */
function replayCommand() {
  return new Command('replay')
    .description('re-send captured events to any URL, byte for byte or re-signed')
    .argument('[source...]', 'capture files, directories, listen --json output, event JSON, or - (default: onepush.config.json\'s save, else .onepush/events.ndjson)')
    .option('-t, --to <route>', 'target URL or shorthand, or TYPES=URL (globs, comma-separated) for those types only; repeatable (default: onepush.config.json\'s endpoints, else http://localhost:4242/webhooks/onepush)', collect)
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
      'onepush replay --last 10 --to "email.bounced=:3000/webhooks/bounces" --to "email.delivered,email.opened=:3000"',
      'onepush replay --id evt_01JD8Q4Z7X2K9V3M5N6P7R8S9T --fresh-id --secret whsec_test --to :3000',
      'onepush replay .onepush/events.ndjson --skip-bad --concurrency 4 --rate 50 --timeout 2000 --retries 2',
    ]));
}

/** The options of `onepush replay`, as commander parses them. */
export type ReplayFlags = ReturnType<ReturnType<typeof replayCommand>['opts']>;

/** `onepush simulate`: its arguments, options and help. */
function simulateCommand() {
  return new Command('simulate')
    .description('deliver a seeded campaign of realistic traffic (every email\'s lifecycle) to your endpoint, as a provider would')
    .option('-t, --to <route>', 'target URL or shorthand, or TYPES=URL (globs, comma-separated); repeatable (default: onepush.config.json\'s endpoints, else the listener\'s URL)', collect)
    .option('-n, --recipients <n>', 'one email per recipient (default: 1000)', intArg('--recipients', 1, 100_000_000))
    .option('--seed <n>', 'same seed, same events, ids, times and order (default: random, printed)', intArg('--seed', 0, 4294967295))
    .option('--speed <n>', 'campaign seconds per second, or "max" (default: 3600, an hour a second)')
    .option('--rate <n>', 'at most N requests started per second', intArg('--rate', 1))
    .option('-c, --concurrency <n>', 'requests in flight per endpoint', intArg('--concurrency', 1, 1024), 16)
    .option('--mix <shares>', 'change the mix, e.g. bounced=5%,opened=40% (keys: bounced hard recovered opened reopened machine clicked complained unsubscribed)')
    .option('--scenario <file>', 'a scenario JSON file (recipients, seed, mix, duplicates, reorder, send_rate); flags win')
    .option('--duplicates <share>', 'events delivered twice, same id and bytes (default: 0.5%)')
    .option('--reorder <share>', 'events delivered late, after later ones (default: 2%)')
    .option('--retry-schedule <list>', 'waits before each retry, in campaign time (default: 10s,1m,5m,30m,2h; "" for none)')
    .option('--budget <ms>', 'how long an answer may take before it counts as failed', intArg('--budget', 1, MAX_TIMER_MS), 5000)
    .option('--secret <secret>', 'webhook secret (else env ONEPUSH_WEBHOOK_SECRET, else .env)')
    .option('--expect <file>', 'write each recipient\'s correct final state, one JSON line each')
    .option('--save <file>', 'write every request sent as a capture log (for onepush replay)')
    .option('--insecure', 'trust any TLS certificate of the target (a self-signed local https app)')
    .option('--json', 'print the report as one JSON object')
    .addHelpText('after', examples([
      'onepush simulate --to :3000 --recipients 200 --speed max',
      'onepush simulate --to localhost:3000 --recipients 1000 --seed 42 --speed 100000 --expect expected.ndjson --save run.ndjson',
      'onepush simulate --to "email.bounced,email.c*=:3000/webhooks/bounces" --to :3000 --recipients 300 --speed max',
      'onepush simulate --to 3000 --recipients 500 --mix bounced=5%,opened=40% --duplicates 1% --reorder 5% --speed max --json | jq .latency',
      'onepush simulate --to :3000 --recipients 100 --speed 600000 --retry-schedule 10s,1m,5m --budget 2000',
      'onepush simulate --scenario scenario.json --to :3000 --speed max --rate 500 --concurrency 4 --secret whsec_test',
      'onepush simulate --to https://localhost:3443/webhooks/onepush --insecure --recipients 20 --speed max',
    ]) + '\nExit codes: 0 nothing lost and every answer within the budget, 1 otherwise, 2 bad flags or files.\n');
}

/** The options of `onepush simulate`, as commander parses them. */
export type SimulateFlags = ReturnType<ReturnType<typeof simulateCommand>['opts']>;

/** `onepush sign`: its arguments, options and help. */
function signCommand() {
  return new Command('sign')
    .description('print the signature of a body (file or stdin), offline')
    .argument('[file]', 'body file (default: stdin)')
    .option('--secret <secret>', 'webhook secret (else env ONEPUSH_WEBHOOK_SECRET, else .env)')
    .option('--header', 'print the whole header line')
    .option('--json', 'print a JSON object')
    .addHelpText('after', examples([
      'onepush sign event.json --secret whsec_test',
      'curl -H "content-type: application/json" -H "$(onepush sign --header event.json)" --data-binary @event.json localhost:3000/webhooks/onepush',
      'printf %s \'{"id":"evt_1"}\' | onepush sign',
      'onepush sign event.json --json',
    ]));
}

/** The options of `onepush sign`, as commander parses them. */
export type SignFlags = ReturnType<ReturnType<typeof signCommand>['opts']>;

/** `onepush verify`: its arguments, options and help. */
function verifyCommand() {
  return new Command('verify')
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
      'onepush verify body.json --secret whsec_test --signature "$SIG"',
    ]));
}

/** The options of `onepush verify`, as commander parses them. */
export type VerifyFlags = ReturnType<ReturnType<typeof verifyCommand>['opts']>;

/** `onepush redact`: its arguments, options and help. */
function redactCommand() {
  return new Command('redact')
    .description('copy capture logs with personal data (addresses, names, subjects, IPs) replaced by stable fakes, re-signed: safe to commit')
    .argument('<file...>', 'capture logs ("-" for stdin)')
    .option('--secret <secret>', 'secret the redacted bodies are signed with (else env ONEPUSH_WEBHOOK_SECRET, else .env)')
    .option('-o, --out <file>', 'write every input into this one file ("-" for stdout; default: <name>.redacted.ndjson beside each input)')
    .option('--seed <seed>', `fakes are derived from it: the same seed gives the same fakes (default: a fixed one, so fixtures are reproducible)`)
    .option('--force', 'replace an output file that exists (never a symbolic link)')
    .option('--json', 'print one JSON object: the files written and their counts')
    .addHelpText('after', examples([
      'onepush redact .onepush/events.ndjson',
      'onepush redact .onepush/events.ndjson -o webhooks.fixture.ndjson --seed my-project',
      'onepush redact .onepush/events.ndjson -o - | head -1',
      'onepush redact .onepush/events.ndjson --out redacted.ndjson --secret whsec_test --force --json',
    ]) + '\nReplaced: email addresses, display names, subjects, IPv4/IPv6 addresses (payload, headers, path), user agents.\nThe same original gets the same fake in every event, so an email\'s lifecycle keeps one recipient.\n');
}

/** The options of `onepush redact`, as commander parses them. */
export type RedactFlags = ReturnType<ReturnType<typeof redactCommand>['opts']>;

/** `onepush check`: its arguments, options and help. */
function checkCommand() {
  return new Command('check')
    .description('run a conformance suite of real signed deliveries against your endpoint')
    .argument('<routes...>', 'your endpoint (URL or shorthand), or routes TYPES=URL: one suite per endpoint, with its types')
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
      "onepush check 'email.bounced,email.complained=:3000/webhooks/bounces' :3000",
      'onepush check :3000 --secret whsec_test --timeout 2000 --only valid-events,unsigned',
    ]) + '\nCases: 1 valid-events, 2 unsigned, 3 wrong-signature, 4 tampered, 5 duplicate, 6 unknown-type, 7 out-of-order,\n8 latency, 9 large-payload, 10 non-compact. Without a secret, 2–4 and 10 are skipped.\nWith routes (TYPES=URL, several URLs), each endpoint is checked with the types it receives (one suite each).\nExit codes: 0 nothing failed (warnings allowed; --strict: none), 1 a case failed, 2 could not run or reach the URL.\n');
}

/** The options of `onepush check`, as commander parses them. */
export type CheckFlags = ReturnType<ReturnType<typeof checkCommand>['opts']>;

/** `onepush secret`: its arguments, options and help. */
function secretCommand() {
  return new Command('secret')
    .description('print a new random webhook secret (whsec_…)')
    .option('--env', 'print it as a .env line: ONEPUSH_WEBHOOK_SECRET=whsec_…')
    .option('--json', 'print a JSON object')
    .addHelpText('after', examples(['onepush secret', 'onepush secret --env >> .env', 'onepush secret --json | jq -r .secret']) + '\nonepush reads ONEPUSH_WEBHOOK_SECRET from .env in the current folder when the environment has none.\n');
}

/** The options of `onepush secret`, as commander parses them. */
export type SecretFlags = ReturnType<ReturnType<typeof secretCommand>['opts']>;

/** `onepush events`: its arguments, options and help. */
function eventsCommand() {
  return new Command('events')
    .description('list the event types')
    .option('--json', 'print a JSON array')
    .addHelpText('after', examples(['onepush events', 'onepush events --json | jq -r ".[].type"']));
}

/** The options of `onepush events`, as commander parses them. */
export type EventsFlags = ReturnType<ReturnType<typeof eventsCommand>['opts']>;

/** `onepush inspect`: its arguments, options and help. */
function inspectCommand() {
  return new Command('inspect')
    .description('open the inspector page over capture files: browse, filter, explain signatures, replay, edit and resend')
    .argument('[file...]', 'capture logs, oldest first (default: onepush.config.json\'s save, else .onepush/events.ndjson)')
    .option('-p, --port <port>', 'port of the page (default 4243; 0 = any free port)', intArg('--port', 0, 65535))
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--secret <secret>', 'webhook secret, to explain signatures and sign resends (else env ONEPUSH_WEBHOOK_SECRET, else .env)')
    .option('-t, --to <route>', 'where "replay to the forward target" sends: URL or shorthand, or TYPES=URL; repeatable (default: onepush.config.json\'s endpoints)', collect)
    .option('--open', 'open the page in your browser')
    .option('--json', 'print one JSON line once serving: {"kind":"ready","url":…,"port":…,"files":[…],"total":…} (no banner)')
    .addHelpText('after', examples([
      'onepush inspect',
      'onepush inspect .onepush/events.ndjson --port 0',
      'onepush inspect --port 0 --json',
      'onepush inspect old.ndjson new.ndjson --to 3000 --secret whsec_test --port 0',
      'onepush inspect --host 127.0.0.1 --port 0 --open',
    ]));
}

/** The options of `onepush inspect`, as commander parses them. */
export type InspectFlags = ReturnType<ReturnType<typeof inspectCommand>['opts']>;

/** `onepush config`: its arguments, options and help. */
function configCommand() {
  return new Command('config')
    .description('print the effective settings (port, host, save, forward routes, targets, secret) and where each comes from')
    .option('-p, --port <port>', 'as listen --port', intArg('--port', 0, 65535))
    .option('--host <host>', 'as listen --host')
    .option('--save <file>', 'as listen --save')
    .option('--no-save', 'as listen --no-save')
    .option('-t, --to <route>', 'as trigger --to and listen --forward-to; repeatable', collect)
    .option('--secret <secret>', 'webhook secret (else env ONEPUSH_WEBHOOK_SECRET, else .env); shown masked')
    .option('--json', 'print one JSON object')
    .addHelpText('after', examples([
      'onepush config',
      'onepush config --json | jq .port',
      'onepush config --port 5000 --to :3000',
      'onepush config --host 0.0.0.0 --save captures.ndjson --secret whsec_test',
      'onepush config --no-save --json | jq .save',
    ]) + '\nPrecedence: a flag, then the environment (ONEPUSH_PORT, ONEPUSH_WEBHOOK_SECRET), then onepush.config.json in\nthe current folder (.env for the secret), then the default. The secret never goes in onepush.config.json.\n');
}

/** The options of `onepush config`, as commander parses them. */
export type ConfigFlags = ReturnType<ReturnType<typeof configCommand>['opts']>;

/** `onepush schema`: its arguments, options and help. */
function schemaCommand() {
  return new Command('schema')
    .description('print the JSON Schema (or TypeScript types) of the events: one type, several, or all')
    .argument('[types...]', 'event types (email.bounced, bounced, …); none or "all": every type in one document')
    .addOption(new Option('--format <format>', 'json-schema (draft 2020-12) or typescript').choices(['json-schema', 'typescript'] as const).default('json-schema' as const))
    .addHelpText('after', examples([
      'onepush schema email.bounced',
      'onepush schema > onepush-events.schema.json',
      'onepush schema bounced complained | jq \'.oneOf\'',
      'onepush schema --format typescript > onepush-events.d.ts',
    ]) + '\nThe package ships the same files: onepush-cli/schema/<type>.json, onepush-cli/schema/events.json (every type)\nand onepush-cli/schema/events.d.ts.\n');
}

/** The options of `onepush schema`, as commander parses them. */
export type SchemaFlags = ReturnType<ReturnType<typeof schemaCommand>['opts']>;

/** `onepush completion`: its arguments, options and help. */
function completionCommand() {
  return new Command('completion')
    .description('print a shell completion script: commands, flags, event types, capture files')
    .addArgument(new Argument('<shell>', 'bash, zsh or fish').choices(['bash', 'zsh', 'fish'] as const))
    .addHelpText('after', examples([
      'source <(onepush completion bash)',
      'onepush completion bash > onepush.bash',
      'onepush completion zsh > _onepush',
      'onepush completion fish > onepush.fish',
    ]) + '\nInstall: bash: onepush completion bash > ~/.local/share/bash-completion/completions/onepush\n         zsh:  onepush completion zsh > "${fpath[1]}/_onepush" (then restart zsh)\n         fish: onepush completion fish > ~/.config/fish/completions/onepush.fish\n');
}

/** The options of `onepush completion`, as commander parses them. */
export type CompletionFlags = ReturnType<ReturnType<typeof completionCommand>['opts']>;

/**
 * What an argument or option value completes to, from its name in the commander tree (`[types...]`, `<glob>`,
 * `[source...]`, `<file>`) or its choices.
 */
function valueKind(name: string, variadic: boolean, choices: readonly string[] | undefined): ValueKind {
  if (choices) return { kind: 'words', words: choices };
  if (['types', 'glob', 'globs'].includes(name)) return { kind: 'types' };
  if (name === 'source' || (name === 'file' && variadic)) return { kind: 'captures' };
  if (name === 'file') return { kind: 'files' };
  return { kind: 'none' };
}

/** The whole command tree (every command, and `help`), as the completion scripts need it. */
function completionTree(): CompletionTree {
  const program = buildProgram(() => {}, []) as unknown as CommandUnknownOpts;
  const options = (cmd: CommandUnknownOpts) =>
    cmd.options.map((o) => {
      const value = /[<[]([\w-]+)(\.\.\.)?[>\]]/.exec(o.flags);
      return { long: o.long, short: o.short, description: o.description, value: value ? valueKind(value[1] as string, o.variadic, o.argChoices) : null };
    });
  // Every command also takes the program's --help (commander's own option, not in `options`) and --debug.
  const help = { long: '--help', short: '-h', description: 'show help', value: null };
  const common = [help, ...options(program).filter((o) => o.long === '--debug')];
  return {
    name: 'onepush',
    options: [...options(program), help],
    commands: [
      ...program.commands.map((c) => {
        const arg = c.registeredArguments[0];
        return {
          name: c.name(),
          description: c.description(),
          options: [...options(c), ...common],
          positional: arg ? valueKind(arg.name(), arg.variadic, arg.argChoices) : ({ kind: 'none' } as const),
        };
      }),
      { name: 'help', description: 'show the help of a command', options: [], positional: { kind: 'words', words: program.commands.map((c) => c.name()) } },
    ],
  };
}

type Run = (ctx: Context) => Promise<number | void>;

const COMMANDS = ['listen', 'inspect', 'trigger', 'replay', 'simulate', 'sign', 'verify', 'redact', 'check', 'secret', 'events', 'schema', 'completion', 'config'] as const;

/**
 * The program, with only the command being run when the arguments name one (its parse, help and errors are the
 * same; building the others costs start-up that `sign` and `verify` pay on every call), else with every
 * command (`onepush --help`, an unknown or misspelt command, `onepush help <cmd>`).
 */
function buildProgram(setRun: (run: Run) => void, words: readonly string[]): Command {
  const named = words.find((w) => !w.startsWith('-'));
  const one = (COMMANDS as readonly string[]).includes(named ?? '') ? named : undefined;
  const want = (name: (typeof COMMANDS)[number]): boolean => one === undefined || one === name;
  const program = new Command('onepush')
    .description('Build and test the endpoint that receives OnePush email webhooks, locally and in CI.')
    .version(pkg.version, '-v, --version', 'print the version')
    .helpOption('-h, --help', 'show help')
    .option('--debug', 'print stack traces of unexpected errors')
    .showSuggestionAfterError(false)
    .exitOverride()
    .configureOutput({ outputError: () => {} })
    .addHelpText('after', examples([
      'onepush listen --forward-to 3000',
      'onepush trigger email.bounced --to localhost:3000',
      'onepush replay --last 10 --to http://localhost:3000/webhooks/onepush',
      'onepush verify body.json --signature "$SIG" --explain',
      'onepush trigger email.bounced --to :3000 --debug',
      'onepush --version',
    ]) + '\nSecrets come from --secret, ONEPUSH_WEBHOOK_SECRET, or ONEPUSH_WEBHOOK_SECRET=… in .env (onepush secret makes one).\nExit codes: 0 ok, 1 the check said no (or nothing matched), 2 could not run.\n');

  // Each subcommand takes the program's settings (exit override, quiet errors, suggestions).
  const add = <C extends Command<any, any, any>>(cmd: C): C => {
    cmd.copyInheritedSettings(program);
    program.addCommand(cmd);
    return cmd;
  };
  if (want('listen')) add(listenCommand()).action((opts) => setRun(async (ctx) => (await import('./commands/listen.js')).run(opts, ctx)));
  if (want('inspect')) add(inspectCommand()).action((files, opts) => setRun(async (ctx) => (await import('./commands/inspect.js')).run(files, opts, ctx)));
  if (want('trigger')) add(triggerCommand()).action((types, opts) => setRun(async (ctx) => (await import('./commands/trigger.js')).run(types, opts, ctx)));
  if (want('replay')) add(replayCommand()).action((sources, opts) => setRun(async (ctx) => (await import('./commands/replay.js')).run(sources, opts, ctx)));
  if (want('simulate')) add(simulateCommand()).action((opts) => setRun(async (ctx) => (await import('./commands/simulate.js')).run(opts, ctx)));
  if (want('sign')) add(signCommand()).action((file, opts) => setRun(async (ctx) => (await import('./commands/sign.js')).run(file, opts, ctx)));
  if (want('verify')) add(verifyCommand()).action((files, opts) => setRun(async (ctx) => (await import('./commands/verify.js')).run(files, opts, ctx)));
  if (want('redact')) add(redactCommand()).action((files, opts) => setRun(async (ctx) => (await import('./commands/redact.js')).run(files, opts, ctx)));
  if (want('check')) add(checkCommand()).action((routes, opts) => setRun(async (ctx) => (await import('./commands/check.js')).run(routes, opts, ctx)));
  if (want('secret')) add(secretCommand()).action((opts) => setRun(async (ctx) => (await import('./commands/secret.js')).run(opts, ctx)));
  if (want('events')) add(eventsCommand()).action((opts) => setRun(async (ctx) => (await import('./commands/events.js')).run(opts, ctx)));
  if (want('schema')) add(schemaCommand()).action((types, opts) => setRun(async (ctx) => (await import('./commands/schema.js')).run(types, opts, ctx)));
  if (want('completion')) add(completionCommand()).action((shell) => setRun(async (ctx) => (await import('./commands/completion.js')).run(shell, completionTree(), ctx)));
  if (want('config')) add(configCommand()).action((opts) => setRun(async (ctx) => (await import('./commands/config.js')).run(opts, ctx)));

  return program;
}

/**
 * What the user probably meant by an unknown command or option: the nearest name among the program's commands,
 * or among the long flags of the command (and the program's own).
 */
function suggest(code: string, words: readonly string[], program: CommandUnknownOpts, command: CommandUnknownOpts | undefined): string | undefined {
  if (code === 'commander.unknownCommand') {
    const name = words.find((w) => !w.startsWith('-'));
    return name === undefined ? undefined : closest(name, program.commands.map((c) => c.name()));
  }
  if (code !== 'commander.unknownOption') return undefined;
  const known = [...(command?.options ?? []), ...program.options];
  const flag = words.map((w) => w.split('=')[0] as string).find((w) => w.startsWith('--') && w !== '--' && !known.some((o) => o.long === w || o.short === w));
  return flag === undefined ? undefined : closest(flag, known.flatMap((o) => (o.long ? [o.long] : [])));
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
  // `onepush help <command>` is `onepush <command> --help`, to the byte (the same run: only that command is built).
  const words = args.filter((a) => !a.startsWith('-'));
  if (words[0] === 'help' && words[1] !== undefined) {
    const name = words[1];
    if ((COMMANDS as readonly string[]).includes(name)) return run([name, '--help'], io);
    if (name === 'help') return run(['--help'], io);
    const suggestion = closest(name, COMMANDS);
    out.err(`${out.ec.red('onepush:')} unknown command '${name}'`);
    out.err(`${out.ec.dim('hint:')} ${suggestion ? `did you mean ${suggestion}? or see onepush --help` : 'see onepush --help'}`);
    return 2;
  }
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
  }, args);
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
        // One line for the error; the suggestion (from the commands and options commander knows) in the hint.
        out.err(`${out.ec.red('onepush:')} ${error.message.replace(/^error: /, '').split('\n')[0]}`);
        const sub = args.find((a) => !a.startsWith('-'));
        const command = program.commands.find((c) => c.name() === sub);
        const suggestion = suggest(error.code, args, program, command);
        const help = `see onepush ${command ? `${sub} ` : ''}--help`;
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
