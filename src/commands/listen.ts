import { resolve } from 'node:path';
import { CaptureLogError } from '../adapters/capture-store.js';
import { findSecret, maskSecret, SECRET_ENV } from '../adapters/secret.js';
import { redactUrl, toJsonLine } from '../core/display.js';
import { isOnepushError, UsageError } from '../core/errors.js';
import { closestType, EVENT_TYPES, globList, globMatch, globMatcher } from '../core/event-types.js';
import { parseSize } from '../core/receiver.js';
import { parseRoutes, routeEndpoints } from '../core/routes.js';
import { isLoopback, startListener, type ForwardResult, type ListenEvent, type Listener, type NotRouted } from '../app/listen.js';
import type { Context } from './context.js';
import { startEventOutput, type EventOutput } from './listen-output.js';
import { bannerLines, forwardLine, notRoutedLine, responseLines, summaryLines, type ForwardView } from './listen-render.js';
import { DEFAULT_CAPTURE_LOG } from '../core/defaults.js';
import { loadProjectConfig } from '../adapters/config.js';
import { portSetting, remoteConfigWarning, routesSetting, saveSetting } from './settings.js';
import type { ListenFlags } from '../cli.js';
import type { Inspector } from '../app/inspect.js';
import type { InspectorHttp } from '../adapters/inspector-http.js';

/** The inspector of a listener: its use case, its HTTP side and its address. */
interface InspectorSite {
  inspector: Inspector;
  http: InspectorHttp;
  url: string;
}

/** The options as commander parses them: typed from the flags themselves (src/cli.ts), so they cannot drift. */
type ListenOptions = ListenFlags;

/** A warning for each --events glob that matches no known type (it may be a future type: shown, not refused). */
function eventsWarnings(events: string): string[] {
  return globList(events)
    .filter((glob) => !EVENT_TYPES.some((t) => globMatch(glob, t)))
    .map((glob) => {
      const guess = closestType(glob);
      return `--events ${JSON.stringify(glob)} matches no event type${guess ? ` — did you mean ${guess}?` : ''} (onepush events lists them)`;
    });
}


/** The largest --max-body: every capture line of such a body stays within replay's and verify's line limit. */
const MAX_BODY_LIMIT = 10 * 1024 * 1024;

function listenError(e: unknown, host: string, port: number): Error {
  if (isOnepushError(e)) return e;
  if (e instanceof CaptureLogError) return new UsageError(e.message, e.hint ?? 'pass another file with --save <file>, or --no-save');
  const { code } = e as NodeJS.ErrnoException;
  if (code === 'EADDRINUSE') return new UsageError(`port ${port} is already in use on ${host}`, 'stop the other listener, or pick another port: --port 4243 (or --port 0 for any free port)');
  if (code === 'EACCES') return new UsageError(`not allowed to listen on port ${port}`, 'ports below 1024 need privileges: use a port from 1024 up');
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new UsageError(`cannot listen on host ${host}: no such local address`, 'use 127.0.0.1 (default), ::1 or 0.0.0.0');
  return new UsageError(`cannot start listening: ${(e as Error).message}`, undefined, e);
}

/**
 * How long, on a terminal, the events after a forwarded one wait for its result, so it prints right under it
 * (ONEPUSH_PAIRING_MS sets it: tests make it long, so a slow machine cannot miss it).
 */
const PAIRING_MS = 150;

/**
 * On a terminal, a forward result that comes back at once is printed right under its event: the events that
 * arrive meanwhile wait for it (PAIRING_MS at most, 100 events at most). Elsewhere lines go out as they come (the
 * `seq` of --json pairs them).
 */
function pairForwards(output: EventOutput, renderForward: (r: ForwardResult) => string[], hold: boolean, windowMs = PAIRING_MS) {
  let awaiting: number | null = null;
  let held: ListenEvent[] = [];
  let timer: NodeJS.Timeout | undefined;
  const release = (): void => {
    clearTimeout(timer);
    timer = undefined;
    awaiting = null;
    const list = held;
    held = [];
    for (const ev of list) output.event(ev);
  };
  return {
    event(ev: ListenEvent, forwarded: boolean): void {
      if (!hold) return output.event(ev);
      if (awaiting !== null) {
        held.push(ev);
        if (held.length >= 100) release();
        return;
      }
      output.event(ev);
      if (forwarded) {
        awaiting = ev.seq;
        timer = setTimeout(release, windowMs);
      }
    },
    forward(r: ForwardResult): void {
      for (const line of renderForward(r)) output.line(line);
      if (r.seq === awaiting) release();
    },
    /** An event no route took: its line goes right under it (it comes before any later event's). */
    notRouted(n: NotRouted, line: string): void {
      output.line(line);
      if (n.seq === awaiting) release();
    },
    flush: release,
  };
}

function pairingMs(env: NodeJS.ProcessEnv): number {
  const n = Number(env.ONEPUSH_PAIRING_MS);
  return Number.isInteger(n) && n >= 0 && n <= 60_000 ? n : PAIRING_MS;
}

/** `onepush listen`: receive, verify, print, save and forward events until Ctrl-C. */
export async function run(opts: ListenOptions, ctx: Context): Promise<number> {
  const { out } = ctx;
  const found = findSecret(opts.secret, ctx.env, ctx.cwd);
  const secret = found?.secret;
  // Flags, else the environment (ONEPUSH_PORT), else onepush.config.json, else the defaults.
  const config = await loadProjectConfig(ctx.cwd);
  const port = portSetting(opts.port, ctx.env, config).value;
  const maxBody = parseSize(opts.maxBody);
  if (maxBody === undefined) throw new UsageError(`--max-body must be a size in bytes, or with kb/mb (got ${JSON.stringify(opts.maxBody)})`, 'e.g. --max-body 512kb');
  if (maxBody > MAX_BODY_LIMIT) throw new UsageError(`--max-body is at most 10mb (got ${opts.maxBody})`, 'OnePush events are a few KB; 10 MB keeps every capture readable by replay and verify');
  // Each --forward-to is a route (TYPES=URL, or a URL for every type): checked here, so a bad one is exit 2 at once.
  const forwardSetting = routesSetting(opts.forwardTo, '--forward-to', config, null);
  const remote = remoteConfigWarning(forwardSetting, '--forward-to');
  if (remote !== undefined) ctx.out.warn(remote);
  const forwardSpecs = forwardSetting.value;
  const routes = forwardSpecs === null ? null : parseRoutes(forwardSpecs);
  const forwardTo = routes === null ? null : (routes[0] as (typeof routes)[number]).url;
  const severalEndpoints = routes !== null && routeEndpoints(routes).length > 1;
  const show = opts.events === undefined ? () => true : globMatcher(opts.events);
  // A save path from the config file is relative to the project folder (the file's own).
  const saveFrom = saveSetting(opts.save, config);
  const save = saveFrom.from === 'config file' && saveFrom.value !== null ? resolve(ctx.cwd, saveFrom.value) : saveFrom.value;
  const json = opts.json === true;
  const verbose = opts.verbose === true;
  if (opts.events !== undefined) for (const w of eventsWarnings(opts.events)) out.warn(w);
  const shutdown = ctx.shutdownSignal();
  // Stops listening like Ctrl-C does when stdout's reader is gone (`listen --json | head -1`); the summary's write
  // then meets the closed pipe, which ends the CLI with exit 0 as for any command.
  const stdoutGone = new AbortController();
  // Events are checked against their schema, rendered and printed by an output thread (listen-output.ts), so this
  // thread only verifies, saves and answers.
  const output = startEventOutput({
    settings: { json, verbose, level: out.level, localTime: out.isTTY, save, width: out.width, secretFlag: found?.from === '--secret' },
    fd: out.fd,
    // A batch of lines: each is guarded on its own (out.out would escape the line breaks between them).
    write: (text) => out.lines(text.slice(0, -1).split('\n')),
    warn: (m) => out.warn(m),
    onClosed: () => stdoutGone.abort(),
  });

  const shownForward = forwardTo === null ? '' : redactUrl(forwardTo);
  const view: ForwardView = {
    signed: secret !== undefined,
    save,
    forwardTo: shownForward,
    width: out.width,
    ...(opts.maxAttempts === undefined ? {} : { maxAttempts: opts.maxAttempts }),
    ...(severalEndpoints ? { endpoints: true } : {}),
  };
  const paired = pairForwards(
    output,
    (r) => (json ? [toJsonLine(r)] : [forwardLine(r, out.c, view), ...(verbose && r.outcome !== 'delivered' ? responseLines(r.response, out.c) : [])]),
    out.isTTY && !json && forwardTo !== null,
    pairingMs(ctx.env),
  );

  // The inspector (the page on the listener's port), made once the listener is up: it reads the same capture log.
  let ui: InspectorSite | undefined;
  const uiOn = opts.ui !== false;
  let listener: Listener;
  try {
    listener = await startListener({
      host: opts.host,
      port,
      secret,
      save,
      ...(opts.redact ? { redact: true } : {}),
      forwardTo: routes === null ? null : routes.length === 1 && routes[0]?.types === null ? forwardTo : forwardSpecs,
      maxBody,
      userAgent: `onepush-cli/${ctx.version}`,
      env: ctx.env,
      ...(opts.forwardTimeout === undefined ? {} : { forwardTimeoutMs: opts.forwardTimeout }),
      ...(opts.maxAttempts === undefined ? {} : { maxAttempts: opts.maxAttempts }),
      ...(opts.insecure ? { insecure: true } : {}),
      createSaveFolder: saveFrom.value === DEFAULT_CAPTURE_LOG,
      onWarning: (m) => out.warn(m),
      onError: (e) => out.warn(e.message),
      checkSchemas: false,
      onEvent: (ev) => {
        ui?.inspector.onEvent(ev);
        if (ev.type === null || show(ev.type)) paired.event(ev, forwardTo !== null && ev.status === 200);
      },
      onForward: (r) => {
        ui?.inspector.onForward(r);
        if (r.type === null || show(r.type)) paired.forward(r);
      },
      onNotRouted: (n) => {
        ui?.inspector.onNotRouted(n);
        if (n.type === null || show(n.type)) paired.notRouted(n, json ? toJsonLine(n) : notRoutedLine(n, out.c));
      },
      ...(uiOn ? { intercept: (req, res) => ui !== undefined && ui.http.handle(req, res) } : {}),
      ...(uiOn && save === null ? { onCapture: (seq, line) => ui?.inspector.onCapture(seq, line) } : {}),
    });
  } catch (e) {
    await output.close();
    throw listenError(e, opts.host, port);
  }

  if (uiOn) {
    const { inspectorSite, inspectorUrl } = await import('../app/inspect.js');
    const { ownHosts } = await import('../adapters/inspector-http.js');
    const hosts = ownHosts(listener.host, listener.port);
    try {
      const site = inspectorSite({
        mode: 'listen',
        files: listener.save === null ? [] : [listener.save],
        growing: true,
        secret,
        routes: routes ?? [],
        webhookUrl: listener.url,
        version: ctx.version,
        userAgent: `onepush-cli/${ctx.version}`,
        env: ctx.env,
        hosts: () => hosts,
        onError: (e) => out.warn(`inspector: ${e.message}`),
      });
      ui = { ...site, url: inspectorUrl(listener.host, listener.port) };
    } catch (e) {
      out.warn(`the inspector is off: ${(e as Error).message}`);
    }
  }

  // Once the port is open, so a failure to start is one line.
  if (!isLoopback(opts.host)) out.warn(`listening on ${opts.host}: anyone who can reach this address can post events to it (the default is 127.0.0.1)`);
  // SPEC: said once. The banner says it in human mode; --json has no banner, so there it is a warning.
  if (secret === undefined && json) out.warn(`no secret: signatures are not checked, every event is accepted (set --secret, ${SECRET_ENV}, or ${SECRET_ENV}=… in .env)`);
  if (json) {
    out.json({
      kind: 'ready',
      url: listener.url,
      host: listener.host,
      port: listener.port,
      verifying: listener.verifying,
      save: listener.save,
      forward_to: listener.forwardTo,
      events: opts.events ?? null,
      max_body: maxBody,
      inspector: ui?.url ?? null,
      version: ctx.version,
    });
  } else {
    const banner = bannerLines(
      {
        version: ctx.version,
        url: listener.url,
        host: listener.host,
        secretMask: secret === undefined ? null : maskSecret(secret),
        secretFrom: found?.from ?? null,
        save: listener.save,
        forwardTo: listener.forwardTo,
        events: opts.events ?? null,
        maxBody,
        inspector: ui?.url ?? null,
      },
      out.ec,
    );
    for (const l of banner) out.err(l);
  }
  if (opts.open && ui !== undefined) {
    const { openBrowser } = await import('../adapters/open-browser.js');
    const why = await openBrowser(ui.url, ctx.env);
    if (why !== undefined) out.warn(`could not open a browser (${why}): open ${ui.url} yourself`);
  } else if (opts.open) out.warn('--open: the inspector is off (--no-ui)');

  const stop = AbortSignal.any([shutdown, stdoutGone.signal]);
  if (!stop.aborted) await new Promise((resolve) => stop.addEventListener('abort', resolve, { once: true }));
  // The pages' streams end first, so closing does not wait on them.
  ui?.http.close();
  const summary = await listener.close();
  ui?.inspector.close();
  paired.flush();
  // The summary goes down the same queue as the events (after them), and stopping waits on a stdout that is not
  // read for 2 s at most: events are saved either way.
  if (!json) out.err('');
  const final = json ? [toJsonLine({ ...summary, not_shown: output.dropped() })] : summaryLines(summary, listener.forwardTo, out.c);
  const { dropped, unwritten } = await output.close(final);
  if (dropped + unwritten > 0) {
    const where = save === null ? '' : `; every event is saved in ${save}`;
    out.warn(`stdout did not keep up (not read, or read slower than events came): ${dropped + unwritten} line${dropped + unwritten === 1 ? '' : 's'} not shown${unwritten > 0 ? ' (the summary among them)' : ''}${where}`);
  }
  return 0;
}
