import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { readAllText } from './files.js';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';

/** The environment variable that holds the webhook secret. */
export const SECRET_ENV = 'ONEPUSH_WEBHOOK_SECRET';

/** Where the secret came from, for the banner ("secret from .env"). */
export type SecretOrigin = '--secret' | typeof SECRET_ENV | '.env';

export interface FoundSecret {
  secret: string;
  from: SecretOrigin;
}

/** A .env larger than this is not read (it is not the small file of settings it should be). */
const MAX_DOTENV = 1024 * 1024;

/**
 * ONEPUSH_WEBHOOK_SECRET from `.env` in `cwd`, as the apps that receive the webhooks keep it (dotenv's syntax:
 * `KEY=value`, `export KEY=value`, quoted values, `#` comments); undefined when there is none.
 */
export function secretFromDotenv(cwd: string): string | undefined {
  let fd: number;
  try {
    fd = openSync(join(cwd, '.env'), constants.O_RDONLY | (constants.O_NONBLOCK ?? 0));
  } catch {
    return undefined;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile() || st.size > MAX_DOTENV) return undefined;
    return dotenvValue(readAllText(fd, st.size), SECRET_ENV);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}

/** The value of `name` in the text of a .env file (the last assignment wins, as in dotenv); undefined if absent. */
export function dotenvValue(text: string, name: string): string | undefined {
  let value: string | undefined;
  for (const raw of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(raw);
    if (!m || m[1] !== name) continue;
    let v = (m[2] ?? '').trim();
    const quote = v[0];
    if ((quote === '"' || quote === "'" || quote === '`') && v.length >= 2 && v.endsWith(quote)) {
      v = v.slice(1, -1);
      if (quote === '"') v = v.replace(/\\n/g, '\n').replace(/\\r/g, '\r').replace(/\\t/g, '\t').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    } else {
      v = v.replace(/\s+#.*$/, '').trim();
    }
    value = v;
  }
  return value === '' ? undefined : value;
}

/**
 * The secret from `--secret`, else the environment, else `.env` in `cwd` (when given); undefined when none has one.
 * The flag wins; an empty --secret is a UsageError.
 */
export function findSecret(flag: string | undefined, env: NodeJS.ProcessEnv, cwd?: string): FoundSecret | undefined {
  if (flag !== undefined) {
    if (flag === '') throw new UsageError('--secret is empty', `pass the webhook secret, or set ${SECRET_ENV}`);
    return { secret: flag, from: '--secret' };
  }
  const fromEnv = env[SECRET_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return { secret: fromEnv, from: SECRET_ENV };
  if (cwd === undefined) return undefined;
  const fromFile = secretFromDotenv(cwd);
  return fromFile === undefined ? undefined : { secret: fromFile, from: '.env' };
}

/** The secret from `--secret`, the environment or `.env` (in that order); undefined when none has one. */
export function resolveSecret(flag: string | undefined, env: NodeJS.ProcessEnv, cwd?: string): string | undefined {
  return findSecret(flag, env, cwd)?.secret;
}

/** The secret, or a UsageError when none is given. */
export function requireSecret(flag: string | undefined, env: NodeJS.ProcessEnv, cwd?: string): string {
  const secret = resolveSecret(flag, env, cwd);
  if (secret === undefined) throw new UsageError('no secret given', `pass --secret <secret>, set ${SECRET_ENV}, or put ${SECRET_ENV}=… in .env (onepush secret makes one)`);
  return secret;
}

/** A secret for display: its first 4 characters at most, never the whole. */
export function maskSecret(secret: string): string {
  return `${secret.slice(0, Math.min(4, Math.floor(secret.length / 2)))}…`;
}
