import { randomBytes } from 'node:crypto';
import { SECRET_ENV } from '../adapters/secret.js';
import type { Context } from './context.js';
import type { SecretFlags } from '../cli.js';

/** The options as commander parses them: typed from the flags themselves (src/cli.ts), so they cannot drift. */
type SecretOptions = SecretFlags;

/** A new random webhook secret: `whsec_` and 32 random bytes, base64url (43 characters). */
export function newSecret(): string {
  return `whsec_${randomBytes(32).toString('base64url')}`;
}

/**
 * `onepush secret`: prints a new random secret, for your app and onepush to share (in `.env` as
 * ONEPUSH_WEBHOOK_SECRET: `onepush secret --env >> .env`).
 */
export async function run(opts: SecretOptions, ctx: Context): Promise<number> {
  const secret = newSecret();
  if (opts.json) ctx.out.json({ secret, env: SECRET_ENV });
  else ctx.out.out(opts.env ? `${SECRET_ENV}=${secret}` : secret);
  return 0;
}
