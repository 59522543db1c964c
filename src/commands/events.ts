import { EVENT_CATALOGUE } from '../core/event-types.js';
import { kindColor } from './render.js';
import type { Context } from './context.js';
import type { EventsFlags } from '../cli.js';

/** `onepush events`: the seven types, a line each, or a JSON array. */
export async function run(opts: EventsFlags, ctx: Context): Promise<number> {
  if (opts.json) {
    ctx.out.json(EVENT_CATALOGUE.map(({ type, kind, field, description }) => ({ type, kind, field, description })));
    return 0;
  }
  const width = Math.max(...EVENT_CATALOGUE.map((e) => e.type.length));
  for (const e of EVENT_CATALOGUE) {
    ctx.out.out(`${kindColor(ctx.out.c, e.kind)(e.type.padEnd(width))}  ${e.description}`);
  }
  return 0;
}
