import { completionScript, type CompletionTree, type Shell } from '../core/completion.js';
import type { Context } from './context.js';

/** `onepush completion <shell>`: the completion script of the command tree src/cli.ts hands over. */
export async function run(shell: Shell, tree: CompletionTree, ctx: Context): Promise<number> {
  ctx.out.lines(completionScript(shell, tree).trimEnd().split('\n'));
  return 0;
}
