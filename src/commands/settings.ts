import { UsageError } from '../core/errors.js';
import { DEFAULT_CAPTURE_LOG, DEFAULT_PORT } from '../core/defaults.js';
import { CONFIG_FILE, type ProjectConfig } from '../adapters/config.js';
import { cell } from '../core/display.js';
import { parseRoutes } from '../core/routes.js';
import { isLoopback } from '../core/target.js';

// Where each setting comes from, in one place: a flag, else the environment (ONEPUSH_PORT), else the project's
// onepush.config.json, else the default. Used by listen, trigger, replay, simulate and `onepush config`.

export type SettingOrigin = 'flag' | 'env' | 'config file' | 'default';

export interface Setting<T> {
  value: T;
  from: SettingOrigin;
  /** What set it, for display: `--port`, `ONEPUSH_PORT`, `onepush.config.json`. */
  source: string;
}

/** --port, else ONEPUSH_PORT, else the config file's port, else 4242. */
export function portSetting(flag: number | undefined, env: NodeJS.ProcessEnv, config: ProjectConfig | undefined): Setting<number> {
  if (flag !== undefined) return { value: flag, from: 'flag', source: '--port' };
  const fromEnv = env.ONEPUSH_PORT;
  if (fromEnv !== undefined && fromEnv.trim() !== '') {
    const n = Number(fromEnv);
    if (!/^\s*\d+\s*$/.test(fromEnv) || n > 65535) throw new UsageError(`ONEPUSH_PORT must be a port number from 0 to 65535 (got ${JSON.stringify(fromEnv)})`);
    return { value: n, from: 'env', source: 'ONEPUSH_PORT' };
  }
  if (config?.port !== undefined) return { value: config.port, from: 'config file', source: CONFIG_FILE };
  return { value: DEFAULT_PORT, from: 'default', source: 'default' };
}

/** --save <file> / --no-save (false), else the config file's save, else .onepush/events.ndjson; null: not saved. */
export function saveSetting(flag: string | boolean | undefined, config: ProjectConfig | undefined): Setting<string | null> {
  if (flag === false) return { value: null, from: 'flag', source: '--no-save' };
  if (typeof flag === 'string') return { value: flag, from: 'flag', source: '--save' };
  if (config?.save !== undefined) return { value: config.save, from: 'config file', source: CONFIG_FILE };
  return { value: DEFAULT_CAPTURE_LOG, from: 'default', source: 'default' };
}

/** The routes of --to/--forward-to, else the config file's endpoints, else `fallback` (none: null). */
export function routesSetting<T extends string[] | null>(flag: string[] | undefined, flagName: string, config: ProjectConfig | undefined, fallback: T): Setting<string[] | T> {
  if (flag !== undefined && flag.length > 0) return { value: flag, from: 'flag', source: flagName };
  if (config?.endpoints !== undefined) return { value: config.endpoints, from: 'config file', source: CONFIG_FILE };
  return { value: fallback, from: 'default', source: 'default' };
}

/**
 * The warning for routes that came from the project's config file and leave this machine: a cloned repository's
 * onepush.config.json could send every event elsewhere. Flags are the user's own choice and are not warned about.
 */
export function remoteConfigWarning(setting: Setting<string[] | null>, flagName: string): string | undefined {
  if (setting.from !== 'config file' || setting.value === null) return undefined;
  let hosts: string[];
  try {
    hosts = [...new Set(parseRoutes(setting.value).map((r) => r.url.hostname).filter((h) => !isLoopback(h)))];
  } catch {
    return undefined; // a bad route is reported by the command itself
  }
  if (hosts.length === 0) return undefined;
  return `${CONFIG_FILE} sends events to ${hosts.map((h) => cell(h, 100)).join(', ')}, which ${hosts.length === 1 ? 'is' : 'are'} not this machine (pass ${flagName} to choose the target yourself)`;
}
