import { z } from 'zod';
import { EVENT_CATALOGUE, EVENT_TYPES, type EventType } from './event-types.js';
import { eventSchemas } from './schemas.js';

// The event catalogue as data: the zod schemas of schemas.ts as JSON Schema (draft 2020-12, zod's own
// z.toJSONSchema), and TypeScript declarations generated from that JSON Schema. `onepush schema` prints them and
// the build writes them to dist/schema/ (the package's `onepush-cli/schema/<type>.json` and `…/events.d.ts`).

/** A JSON Schema document (or subschema), as plain JSON. */
export type JsonSchema = { [key: string]: unknown };

const DRAFT = 'https://json-schema.org/draft/2020-12/schema';

/** `email.bounced` → `EmailBouncedEvent`: the name of the type's TypeScript interface (as the library's zod types). */
export function typeName(type: EventType): string {
  return `${type
    .split(/[._]/)
    .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
    .join('')}Event`;
}

/** The JSON Schema of one event type: a standalone document, titled with its type and described as `onepush events` does. */
export function eventJsonSchema(type: EventType): JsonSchema {
  const schema = z.toJSONSchema(eventSchemas[type], {
    target: 'draft-2020-12',
    // zod writes `startsWith` as the made-up format "starts_with" beside its pattern: the pattern says it all, and a
    // validator in strict mode rejects a format it does not know.
    override: (ctx) => {
      if (ctx.jsonSchema.format === 'starts_with') delete ctx.jsonSchema.format;
    },
  }) as JsonSchema;
  const { $schema: _, ...rest } = schema;
  const description = EVENT_CATALOGUE.find((e) => e.type === type)?.description ?? '';
  return { $schema: DRAFT, title: type, description: `OnePush ${type}: ${description}`, ...rest };
}

/**
 * One document for several types (all seven by default): each type's schema under `$defs` (by type name) and a
 * `oneOf` of them, so it validates any one of those events (their `type` tells them apart).
 */
export function eventsJsonSchema(types: readonly EventType[] = EVENT_TYPES): JsonSchema {
  const defs: Record<string, JsonSchema> = {};
  for (const type of types) {
    const { $schema: _, ...schema } = eventJsonSchema(type);
    defs[type] = schema;
  }
  return {
    $schema: DRAFT,
    title: 'OnePush event',
    description: `Any OnePush event of these types: ${types.join(', ')}. Each type's own schema is under $defs.`,
    oneOf: types.map((t) => ({ $ref: `#/$defs/${t}` })),
    $defs: defs,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// TypeScript from the JSON Schema

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** A doc comment's text may not close the comment. */
const docSafe = (text: string): string => text.replace(/\*\//g, '*\\/');

/** What a schema requires beyond its TypeScript type (format, pattern, bounds), for a doc comment. */
function constraints(s: JsonSchema): string[] {
  const notes: string[] = [];
  if (typeof s.format === 'string') notes.push(`format: ${s.format}`);
  if (typeof s.pattern === 'string' && s.format === undefined) notes.push(`pattern: ${s.pattern}`);
  if (typeof s.minLength === 'number') notes.push(`at least ${s.minLength} character${s.minLength === 1 ? '' : 's'}`);
  if (typeof s.minItems === 'number') notes.push(`at least ${s.minItems} item${s.minItems === 1 ? '' : 's'}`);
  if (s.type === 'integer') notes.push('an integer');
  if (typeof s.minimum === 'number' && typeof s.maximum === 'number') notes.push(`from ${s.minimum} to ${s.maximum}`);
  else if (typeof s.minimum === 'number') notes.push(`at least ${s.minimum}`);
  else if (typeof s.exclusiveMinimum === 'number') notes.push(`more than ${s.exclusiveMinimum}`);
  else if (typeof s.maximum === 'number') notes.push(`at most ${s.maximum}`);
  if (s.type === 'array' && s.items && typeof s.items === 'object') notes.push(...constraints(s.items as JsonSchema).map((n) => `each ${n}`));
  return notes;
}

/** The TypeScript type of a (sub)schema; objects are written over several lines at `indent`. Throws on a shape it does not know. */
function tsType(s: JsonSchema, indent: string): string {
  if ('const' in s) return JSON.stringify(s.const);
  if (Array.isArray(s.enum)) return s.enum.map((v) => JSON.stringify(v)).join(' | ');
  const union = (s.anyOf ?? s.oneOf) as JsonSchema[] | undefined;
  if (Array.isArray(union)) return union.map((u) => tsType(u, indent)).join(' | ');
  if (typeof s.$ref === 'string') {
    const type = /^#\/\$defs\/(.+)$/.exec(s.$ref)?.[1];
    if (type === undefined || !(EVENT_TYPES as readonly string[]).includes(type)) throw new Error(`cannot write $ref ${s.$ref} as TypeScript`);
    return typeName(type as EventType);
  }
  switch (s.type) {
    case 'string':
      return 'string';
    case 'integer':
    case 'number':
      return 'number';
    case 'boolean':
      return 'boolean';
    case 'null':
      return 'null';
    case 'array': {
      const item = tsType((s.items ?? {}) as JsonSchema, indent);
      return /[|&]/.test(item) ? `Array<${item}>` : `${item}[]`;
    }
    case 'object':
      return tsObject(s, indent);
    case undefined:
      if (Object.keys(s).length === 0) return 'unknown';
  }
  throw new Error(`cannot write ${JSON.stringify(s)} as TypeScript`);
}

/** An object type: its properties (optional unless required, with their constraints as doc comments), then any others. */
function tsObject(s: JsonSchema, indent: string): string {
  const inner = `${indent}  `;
  const required = new Set((s.required ?? []) as string[]);
  const lines: string[] = [];
  const properties = (s.properties ?? {}) as Record<string, JsonSchema>;
  for (const [key, prop] of Object.entries(properties)) {
    const notes = [...(typeof prop.description === 'string' ? [prop.description] : []), ...constraints(prop)];
    if (notes.length > 0) lines.push(`${inner}/** ${docSafe(notes.join('; '))} */`);
    lines.push(`${inner}${IDENTIFIER.test(key) ? key : JSON.stringify(key)}${required.has(key) ? '' : '?'}: ${tsType(prop, inner)};`);
  }
  const extra = s.additionalProperties;
  if (extra !== false) {
    // Other keys are allowed (OnePush may add fields): typed as the schema says when there are no named properties
    // (a record such as `tags`), else `unknown` (a named property's type must fit the index signature).
    const typed = extra !== undefined && extra !== true && Object.keys(properties).length === 0 ? tsType(extra as JsonSchema, inner) : 'unknown';
    lines.push(`${inner}[key: string]: ${typed};`);
  }
  return `{\n${lines.join('\n')}\n${indent}}`;
}

/**
 * TypeScript declarations of the events of these types (all seven by default), generated from their JSON Schema: an
 * interface each (`EmailBouncedEvent`, …), `OnepushEvent` (their union) and `OnepushEventType`. Valid as a `.ts`
 * and as a `.d.ts` file (declarations only).
 */
export function eventsTypeScript(types: readonly EventType[] = EVENT_TYPES): string {
  const parts = [
    '// OnePush webhook events, generated by onepush-cli from the JSON Schema of each type (onepush schema --format typescript).',
    '',
  ];
  for (const type of types) {
    const schema = eventJsonSchema(type);
    parts.push(`/** ${docSafe(String(schema.description))} */`, `export interface ${typeName(type)} ${tsType(schema, '')}`, '');
  }
  parts.push(`/** The event types above. */`, `export type OnepushEventType = ${types.map((t) => JSON.stringify(t)).join(' | ')};`, '');
  parts.push(`/** Any of the events above, told apart by \`type\`. */`, `export type OnepushEvent = ${types.map(typeName).join(' | ')};`, '');
  return parts.join('\n');
}
