import { closestType, EVENT_TYPES, isEventType, type EventType } from '../core/event-types.js';
import { UsageError } from '../core/errors.js';
import { eventJsonSchema, eventsJsonSchema, eventsTypeScript } from '../core/json-schema.js';
import type { Context } from './context.js';
import type { SchemaFlags } from '../cli.js';

/** `email.bounced`, `bounced` → the type; an unknown name is a UsageError with "did you mean". */
function resolveType(name: string): EventType {
  const lower = name.trim().toLowerCase();
  const full = lower.startsWith('email.') ? lower : `email.${lower}`;
  if (isEventType(full)) return full;
  const guess = closestType(lower);
  throw new UsageError(`unknown event type "${name}"${guess ? ` — did you mean ${guess}?` : ''}`, `the types are: ${EVENT_TYPES.join(', ')} (see onepush events)`);
}

/**
 * `onepush schema [type...]`: the JSON Schema of one type (what dist/schema/<type>.json holds), or one document for
 * several (every type when none is named: dist/schema/events.json); or, with --format typescript, their declarations.
 */
export async function run(names: string[], opts: SchemaFlags, ctx: Context): Promise<number> {
  const types = names.some((n) => n.trim().toLowerCase() === 'all') ? [...EVENT_TYPES] : [...new Set(names.map(resolveType))];
  const chosen = types.length === 0 ? EVENT_TYPES : types;
  if (opts.format === 'typescript') {
    ctx.out.lines(eventsTypeScript(chosen).trimEnd().split('\n'));
    return 0;
  }
  const [only] = chosen;
  const schema = chosen.length === 1 && only !== undefined ? eventJsonSchema(only) : eventsJsonSchema(chosen);
  ctx.out.lines(JSON.stringify(schema, null, 2).split('\n'));
  return 0;
}
