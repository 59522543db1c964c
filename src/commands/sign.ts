import { readInput } from '../adapters/files.js';
import { requireSecret } from '../adapters/secret.js';
import { UsageError } from '../core/errors.js';
import { sign } from '../core/signature.js';
import type { Context } from './context.js';
import type { SignFlags } from '../cli.js';

/** The options as commander parses them: typed from the flags themselves (src/cli.ts), so they cannot drift. */
type SignOptions = SignFlags;

/** `onepush sign [file]`: the hex signature of the exact bytes of a file or stdin. */
export async function run(file: string | undefined, opts: SignOptions, ctx: Context): Promise<number> {
  const secret = requireSecret(opts.secret, ctx.env, ctx.cwd);
  if (file === undefined && (ctx.stdin as { isTTY?: boolean }).isTTY === true) {
    throw new UsageError('no body to sign: give a file, or pipe the body on stdin', 'onepush sign event.json, or: cat event.json | onepush sign');
  }
  const body = await readInput(file, () => ctx.stdin);
  const signature = sign(body, secret);
  if (opts.json) ctx.out.json({ signature, header: 'x-onepush-signature', bytes: body.length });
  else ctx.out.out(opts.header ? `x-onepush-signature: ${signature}` : signature);
  return 0;
}
