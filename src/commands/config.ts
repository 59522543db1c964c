import { CONFIG_FILE, loadProjectConfig } from '../adapters/config.js';
import { findSecret, maskSecret, SECRET_ENV } from '../adapters/secret.js';
import { redactUrl } from '../core/display.js';
import { DEFAULT_TARGET } from '../core/defaults.js';
import { parseRoutes } from '../core/routes.js';
import type { Context } from './context.js';
import { portSetting, routesSetting, saveSetting, type Setting } from './settings.js';
import type { ConfigFlags } from '../cli.js';

/** The options as commander parses them: typed from the flags themselves (src/cli.ts), so they cannot drift. */
type ConfigOptions = ConfigFlags;

/** A route for display: `TYPES=URL` or the URL, its password redacted. */
function shownRoute(spec: string): string {
  const [route] = parseRoutes([spec]);
  if (route === undefined) return spec;
  return route.types === null ? redactUrl(route.url) : `${route.types.join(',')}=${redactUrl(route.url)}`;
}

/**
 * `onepush config`: the settings listen, trigger, replay and simulate would use here, and where each comes from
 * (flag, environment, onepush.config.json, default). The secret is masked.
 */
export async function run(opts: ConfigOptions, ctx: Context): Promise<number> {
  const { out } = ctx;
  const config = await loadProjectConfig(ctx.cwd);
  const port = portSetting(opts.port, ctx.env, config);
  const host: Setting<string> = opts.host === undefined ? { value: '127.0.0.1', from: 'default', source: 'default' } : { value: opts.host, from: 'flag', source: '--host' };
  const save = saveSetting(opts.save, config);
  const forward = routesSetting(opts.to, '--to', config, null);
  const targets = routesSetting(opts.to, '--to', config, [DEFAULT_TARGET]);
  const found = findSecret(opts.secret, ctx.env, ctx.cwd);
  // The secret's own order: --secret, then the environment, then .env (never onepush.config.json).
  const secretFrom = found === undefined ? 'none' : found.from === '--secret' ? 'flag' : found.from === SECRET_ENV ? 'env' : '.env';
  const secret = { value: found === undefined ? null : maskSecret(found.secret), from: secretFrom, source: found?.from ?? 'none' };
  const forwardShown = forward.value === null ? null : forward.value.map(shownRoute);
  const targetsShown = targets.value.map(shownRoute);
  if (opts.json) {
    out.json({
      config_file: config?.path ?? null,
      port,
      host,
      save,
      forward_to: { ...forward, value: forwardShown },
      targets: { ...targets, value: targetsShown },
      secret,
    });
    return 0;
  }
  const c = out.c;
  const origin = (s: { from: string; source: string }): string => c.dim(`(${s.from === 'default' || s.from === 'none' || s.from === '.env' ? s.from : `${s.from}: ${s.source}`})`);
  out.out(`config file  ${config === undefined ? `none (no ${CONFIG_FILE} in this folder)` : config.path}`);
  out.out(`port         ${port.value}  ${origin(port)}`);
  out.out(`host         ${host.value}  ${origin(host)}`);
  out.out(`save         ${save.value ?? 'off'}  ${origin(save)}`);
  out.out(`forward to   ${forwardShown === null ? 'nothing (listen forwards nowhere)' : forwardShown.join('  ')}  ${origin(forward)}`);
  out.out(`targets      ${targetsShown.join('  ')}  ${origin(targets)}  ${c.dim('trigger, replay, simulate')}`);
  out.out(`secret       ${secret.value ?? `none (set ${SECRET_ENV} or put it in .env)`}  ${origin(secret)}`);
  out.out(c.dim(`precedence: flag, then environment (${SECRET_ENV}, ONEPUSH_PORT), then ${CONFIG_FILE} (.env for the secret), then the default`));
  return 0;
}
