import { UsageError } from '../core/errors.js';

/** The environment variable that holds the webhook secret (SPEC.md §2). */
export const SECRET_ENV = 'ONEPUSH_WEBHOOK_SECRET';

/** The secret from `--secret` or the environment (the flag wins); undefined when neither is set. */
export function resolveSecret(flag: string | undefined, env: NodeJS.ProcessEnv): string | undefined {
  if (flag !== undefined) {
    if (flag === '') throw new UsageError('--secret is empty', `pass the webhook secret, or set ${SECRET_ENV}`);
    return flag;
  }
  const fromEnv = env[SECRET_ENV];
  return fromEnv === undefined || fromEnv === '' ? undefined : fromEnv;
}

/** The secret, or a UsageError when none is given. */
export function requireSecret(flag: string | undefined, env: NodeJS.ProcessEnv): string {
  const secret = resolveSecret(flag, env);
  if (secret === undefined) throw new UsageError('no secret given', `pass --secret <secret> or set ${SECRET_ENV}`);
  return secret;
}

/** A secret for display: its first 4 characters at most, never the whole (SPEC.md §2). */
export function maskSecret(secret: string): string {
  return `${secret.slice(0, Math.min(4, Math.floor(secret.length / 2)))}…`;
}
