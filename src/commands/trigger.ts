import { tuneForDelivery } from '../adapters/http-client.js';
import type { DeliveryResult } from '../adapters/delivery.js';
import { readInput } from '../adapters/files.js';
import { readFixtureFile } from '../adapters/fixtures.js';
import { trigger, triggerRequests, type TriggerEvents, type TriggerRequest } from '../app/trigger.js';
import { DEFAULT_TARGET, DELIVERY_TIMEOUT_MS } from '../core/defaults.js';
import { resolveSecret, SECRET_ENV } from '../adapters/secret.js';
import { cell, redactUrl } from '../core/display.js';
import { UsageError } from '../core/errors.js';
import { jsonProblem, parseJson } from '../core/json.js';
import { closestType, EVENT_TYPES, isEventType, type EventType } from '../core/event-types.js';
import { parseSetValue } from '../core/paths.js';
import type { SampleOverrides } from '../core/samples.js';
import { createRouter, parseRoutes, routeEndpoints } from '../core/routes.js';
import type { Context } from './context.js';
import { loadProjectConfig } from '../adapters/config.js';
import { remoteConfigWarning, routesSetting } from './settings.js';
import { jsonOf } from '../core/response.js';
import type { TriggerFlags } from '../cli.js';

/** The options as commander parses them: typed from the flags themselves (src/cli.ts), so they cannot drift. */
type TriggerOptions = TriggerFlags;

/** `email.bounced`, `bounced` → the type; an unknown name is a UsageError with "did you mean". */
function resolveType(name: string): EventType {
  const lower = name.trim().toLowerCase();
  const full = lower.startsWith('email.') ? lower : `email.${lower}`;
  if (isEventType(full)) return full;
  const guess = closestType(lower);
  throw new UsageError(
    `unknown event type "${name}"${guess ? ` — did you mean ${guess}?` : ''}`,
    `the types are: ${EVENT_TYPES.join(', ')} (or "all")`,
  );
}

function parseSets(sets: readonly string[]): Array<[string, unknown]> {
  return sets.map((s) => {
    const eq = s.indexOf('=');
    if (eq <= 0) throw new UsageError(`--set ${JSON.stringify(s)} is not path=value`, 'e.g. --set data.bounce.type=soft');
    try {
      return [s.slice(0, eq), parseSetValue(s.slice(eq + 1))];
    } catch (e) {
      throw new UsageError(`--set ${s.slice(0, eq)}: the value is ${(e as Error).message}`);
    }
  });
}

async function readData(file: string, ctx: Context): Promise<Record<string, unknown>> {
  const text = (await readInput(file, ctx.stdin)).toString('utf8');
  let value: unknown;
  try {
    value = parseJson(text);
  } catch (e) {
    throw new UsageError(`--data ${file === '-' ? '(stdin)' : file} is ${jsonProblem(e)}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`--data ${file === '-' ? '(stdin)' : file} must be a JSON object`, 'it is deep-merged into the event, e.g. {"data":{"bounce":{"type":"soft"}}}');
  }
  return value as Record<string, unknown>;
}

/** `onepush trigger <type...>`: builds, signs and sends sample events; prints each delivery as it ends. */
export async function run(typeArgs: string[], opts: TriggerOptions, ctx: Context): Promise<number> {
  tuneForDelivery();
  const { out } = ctx;
  const c = out.c;
  // Each --to is a route (TYPES=URL, or a URL for every type): checked first, so a bad one is exit 2 at once.
  // --to, else onepush.config.json's endpoints, else the listener's URL.
  const toSetting = routesSetting(opts.to, '--to', await loadProjectConfig(ctx.cwd), [DEFAULT_TARGET]);
  const remote = remoteConfigWarning(toSetting, '--to');
  if (remote !== undefined) ctx.out.warn(remote);
  const toSpecs = toSetting.value;
  const routes = parseRoutes(toSpecs);
  const route = createRouter(routes);
  const several = routeEndpoints(routes).length > 1;
  const secret = resolveSecret(opts.secret, ctx.env, ctx.cwd);

  // Which templates: --fixture (its own type, or each named type), else the shipped ones.
  const all = opts.all === true || typeArgs.some((t) => t.trim().toLowerCase() === 'all');
  const named = typeArgs.filter((t) => t.trim().toLowerCase() !== 'all');
  const types = all ? [...EVENT_TYPES] : named.map(resolveType);
  const fixture = opts.fixture === undefined ? undefined : await readFixtureFile(opts.fixture);
  if (fixture === undefined && types.length === 0) throw new UsageError('which event type?', `name one or more: ${EVENT_TYPES.join(', ')} (or "all")`);
  const overrides: SampleOverrides = { set: parseSets(opts.set ?? []), unset: opts.unset ?? [] };
  if (opts.data !== undefined) overrides.data = await readData(opts.data, ctx);
  const events: TriggerEvents = {
    types,
    ...(fixture ? { fixture } : {}),
    overrides,
    count: opts.count ?? 1,
    duplicate: opts.duplicate === true,
    ...(secret !== undefined ? { secret } : {}),
  };
  const userAgent = `onepush-cli/${ctx.version}`;
  const notRouted = (e: TriggerRequest): void => out.warn(`${e.type} ${e.id}: not routed (no --to route takes ${e.type}): not sent`);

  if (opts.print) {
    // Built here, before anything is printed: a template that cannot be built fails first.
    const { requests } = await triggerRequests(events);
    let i = 0;
    for (const e of requests) {
      const urls = route(e.type);
      if (urls.length === 0) notRouted(e);
      for (const url of urls) {
      const shownUrl = redactUrl(url);
      const headers: Record<string, string> = { host: url.host, ...e.headers, 'user-agent': userAgent, 'content-length': String(Buffer.byteLength(e.body)) };
      // The URL's credentials go as Basic auth; the request shows that they do, never what they are.
      if (url.username !== '' || url.password !== '') headers.authorization = 'Basic *** (from the URL)';
      if (opts.json) {
        out.json({ method: 'POST', url: shownUrl, headers, body: e.body });
        i++;
        continue;
      }
      if (i++ > 0) out.out('');
      out.out(`POST ${url.pathname}${url.search} HTTP/1.1`);
      for (const [k, v] of Object.entries(headers)) out.out(`${k}: ${v}`);
      out.out('');
      out.out(e.body);
      }
    }
    if (secret === undefined) out.warn(`no secret: the request is unsigned (pass --secret or set ${SECRET_ENV})`);
    return 0;
  }

  const signal = ctx.shutdownSignal();
  const print = (e: TriggerRequest, r: DeliveryResult, shownUrl: string): void => {
    if (opts.json) {
      out.json({
        kind: 'delivery',
        type: e.type,
        id: e.id,
        url: shownUrl,
        status: r.status,
        ok: r.ok,
        attempts: r.attempts,
        latency_ms: Math.round(r.latencyMs * 10) / 10,
        response: r.body,
        response_json: jsonOf(r.body),
        message: r.response,
        error: r.error,
      });
      return;
    }
    const status = r.status === null ? c.red('failed') : r.ok ? c.green(String(r.status)) : r.status >= 300 && r.status < 400 ? c.yellow(String(r.status)) : c.red(String(r.status));
    const tries = r.attempts > 1 ? c.dim(` (${r.attempts} attempts)`) : '';
    let tail = cell(r.error ?? r.response, 200);
    if (r.status !== null && r.status >= 300 && r.status < 400) tail = `redirect not followed${tail ? `: ${tail}` : ''}`;
    // On a terminal, columns line up (the longest type is email.unsubscribed); a pipe gets single spaces.
    const pad = out.isTTY;
    const statusText = r.status === null ? 'failed' : String(r.status);
    const cols = pad
      ? `${cell(e.type, 60).padEnd(18)}  ${cell(e.id, 100)}  ${status}${' '.repeat(Math.max(0, 6 - statusText.length))}  ${`${Math.round(r.latencyMs)}`.padStart(4)} ms`
      : `${cell(e.type, 60)}  ${cell(e.id, 100)}  ${status}  ${Math.round(r.latencyMs)} ms`;
    // Several endpoints: each line names its own.
    const where = several ? `  ${c.dim('→')} ${cell(shownUrl, 100)}` : '';
    out.out(`${cols}${where}${tries}${tail ? `  ${r.ok ? c.dim(tail) : tail}` : ''}`);
  };
  const outcome = await trigger({
    ...events,
    to: toSpecs,
    concurrency: opts.concurrency ?? 1,
    timeoutMs: opts.timeout ?? DELIVERY_TIMEOUT_MS,
    retries: opts.retries ?? 0,
    ...(opts.insecure ? { insecure: true } : {}),
    userAgent,
    env: ctx.env,
    signal,
    onStart: () => {
      if (secret === undefined) out.warn(`no secret: sending unsigned events (pass --secret or set ${SECRET_ENV})`);
    },
    onDelivery: print,
    onNotRouted: notRouted,
  });
  if (outcome.interrupted) {
    out.err(`trigger: interrupted (Ctrl-C) after ${outcome.sent} of ${outcome.total} deliveries`);
    return 130;
  }
  return outcome.failed > 0 || outcome.sent < outcome.total ? 1 : 0;
}
