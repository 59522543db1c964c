import { resolve } from 'node:path';
import { loadProjectConfig } from '../adapters/config.js';
import { openBrowser } from '../adapters/open-browser.js';
import { findSecret } from '../adapters/secret.js';
import { inspect } from '../app/inspect.js';
import { cell } from '../core/display.js';
import { DEFAULT_CAPTURE_LOG, DEFAULT_INSPECT_PORT } from '../core/defaults.js';
import { isOnepushError, UsageError } from '../core/errors.js';
import { parseRoutes } from '../core/routes.js';
import { isLoopback } from '../core/target.js';
import type { InspectFlags } from '../cli.js';
import type { Context } from './context.js';
import { remoteConfigWarning, routesSetting } from './settings.js';

function startError(e: unknown, host: string, port: number): Error {
  if (isOnepushError(e)) return e;
  const { code } = e as NodeJS.ErrnoException;
  if (code === 'EADDRINUSE') return new UsageError(`port ${port} is already in use on ${host}`, 'pick another port: --port 4244 (or --port 0 for any free port)');
  if (code === 'EACCES') return new UsageError(`not allowed to listen on port ${port}`, 'ports below 1024 need privileges: use a port from 1024 up');
  if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND' || code === 'EAI_AGAIN') return new UsageError(`cannot listen on host ${host}: no such local address`, 'use 127.0.0.1 (default), ::1 or 0.0.0.0');
  const message = (e as Error).message;
  const hint = /no such file/.test(message) ? 'onepush listen saves every request there: run it first, or name a capture log' : 'name capture logs that onepush listen wrote (--save <file>)';
  return new UsageError(message, hint, e);
}

/** `onepush inspect`: the inspector page over capture files, until Ctrl-C. */
export async function run(files: string[], opts: InspectFlags, ctx: Context): Promise<number> {
  const { out } = ctx;
  const config = await loadProjectConfig(ctx.cwd);
  const given = files.length > 0 ? files : [config?.save ?? DEFAULT_CAPTURE_LOG];
  const paths = given.map((f) => resolve(ctx.cwd, f));
  const toSetting = routesSetting(opts.to, '--to', config, null);
  const remote = remoteConfigWarning(toSetting, '--to');
  if (remote !== undefined) out.warn(remote);
  const routes = toSetting.value === null ? [] : parseRoutes(toSetting.value);
  const found = findSecret(opts.secret, ctx.env, ctx.cwd);
  const port = opts.port ?? DEFAULT_INSPECT_PORT;
  let server;
  try {
    server = await inspect(paths, {
      host: opts.host,
      port,
      secret: found?.secret,
      routes,
      version: ctx.version,
      userAgent: `onepush-cli/${ctx.version}`,
      env: ctx.env,
      onError: (e) => out.warn(e.message),
    });
  } catch (e) {
    // Files named as the user gave them.
    if (e instanceof Error && !isOnepushError(e)) paths.forEach((p, i) => (e.message = e.message.replace(p, given[i] as string)));
    throw startError(e, opts.host, port);
  }
  if (!isLoopback(opts.host)) out.warn(`serving on ${opts.host}: anyone who can reach this address can read these captures (the default is 127.0.0.1)`);
  const info = server.inspector.info();
  if (opts.json) {
    // One line for a script: what the page serves, and where.
    out.json({ kind: 'ready', url: server.url, host: opts.host, port: server.port, files: given, total: info.total, indexing: info.indexing, verifying: info.verifying, endpoints: info.endpoints, version: ctx.version });
  } else {
    const c = out.ec;
    out.err(`${c.bold('onepush inspect')} ${c.dim(cell(ctx.version))}`);
    out.err(`  ${c.dim('Captures'.padEnd(12))} ${given.map((f) => cell(f)).join(', ')} ${c.dim(info.indexing ? '(counting…)' : `(${info.total} lines)`)}`);
    out.err(`  ${c.dim('Signatures'.padEnd(12))} ${found === undefined ? c.dim('not explained — no secret (--secret, ONEPUSH_WEBHOOK_SECRET, or .env)') : 'explained'}`);
    out.err(`  ${c.dim('Inspector'.padEnd(12))} ${c.cyan(server.url)}`);
    out.err(`${c.green('Ready')} ${c.dim('(Ctrl-C to stop)')}`);
    // The address alone on stdout: `onepush inspect --port 0 | head -1` gives a script the page.
    out.out(server.url);
  }
  if (opts.open) {
    const why = await openBrowser(server.url, ctx.env);
    if (why !== undefined) out.warn(`could not open a browser (${why}): open ${server.url} yourself`);
  }
  const stop = ctx.shutdownSignal();
  if (!stop.aborted) await new Promise((r) => stop.addEventListener('abort', r, { once: true }));
  await server.close();
  return 0;
}
