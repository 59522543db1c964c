import { z } from 'zod';
import { InvalidInput } from './errors.js';
import { parseRoute } from './routes.js';
import { resolveTarget } from './target.js';

// The schema of onepush.config.json: what a team shares in the repository (endpoints, port, capture path), never
// the secret. Loaded only when the file exists (zod's start-up is not paid otherwise). Pure: text in, settings out.

/** The settings a config file gives; each is absent when the file does not set it. */
export interface ProjectSettings {
  /** The routes, as --to/--forward-to would write them (`TYPES=URL` or a bare URL). */
  endpoints?: string[];
  port?: number;
  save?: string;
}

const TYPE_GLOB = /^[A-Za-z0-9._*?-]+$/;

const endpoint = z
  .object({
    url: z.string().superRefine((url, ctx) => {
      try {
        resolveTarget(url);
      } catch {
        ctx.addIssue({ code: 'custom', message: 'not a valid URL' });
      }
    }),
    types: z.array(z.string().regex(TYPE_GLOB, 'not an event type or glob (letters, digits, . _ - * ?)')).min(1, 'list at least one type, or leave "types" out for every type').optional(),
  })
  .strict();

const schema = z
  .object({
    $schema: z.string().optional(),
    endpoints: z.array(endpoint).min(1, 'list at least one endpoint, or leave "endpoints" out').optional(),
    port: z.number().int('must be a whole number').min(0, 'must be a port from 0 to 65535').max(65535, 'must be a port from 0 to 65535').optional(),
    save: z.string().min(1, 'must be a file path').optional(),
  })
  .strict();

/** `endpoints[1].url` from a zod issue path. */
function pathText(path: readonly PropertyKey[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

/** The keys of an object, at any depth, that hold "secret" (the secret never lives in a shared file). */
function secretKeys(value: unknown, at: PropertyKey[] = []): string[] {
  if (value === null || typeof value !== 'object') return [];
  const found: string[] = [];
  for (const [k, v] of Object.entries(value)) {
    const here = [...at, Array.isArray(value) ? Number(k) : k];
    if (!Array.isArray(value) && /secret/i.test(k)) found.push(pathText(here));
    found.push(...secretKeys(v, here));
  }
  return found;
}

/**
 * Parses the text of a config file (`name` is how messages call it); throws InvalidInput naming the path of the
 * first bad field.
 */
export function parseProjectConfig(text: string, name: string): ProjectSettings {
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (e) {
    throw new InvalidInput(`${name}: not valid JSON (${(e as Error).message})`, 'fix the file, or remove it');
  }
  const secrets = secretKeys(value);
  if (secrets.length > 0) {
    throw new InvalidInput(`${name}: ${secrets.join(', ')}: the secret does not belong in this shared file`, 'remove it, and set ONEPUSH_WEBHOOK_SECRET in the environment or in .env (keep .env out of git)');
  }
  const r = schema.safeParse(value);
  if (!r.success) {
    const issue = r.error.issues[0] as z.core.$ZodIssue;
    if (issue.code === 'unrecognized_keys') {
      const where = pathText(issue.path);
      throw new InvalidInput(`${name}: ${where === '' ? '' : `${where}: `}unknown key${issue.keys.length === 1 ? '' : 's'} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`, 'the keys are: endpoints (url, types), port, save');
    }
    const where = pathText(issue.path);
    const message = issue.code === 'invalid_type' && where === '' ? 'must be a JSON object' : issue.message;
    const hint = /url$/.test(where) ? 'a URL or shorthand, as --to takes: http://localhost:3000/webhooks/onepush, :3000, 3000' : 'the keys are: endpoints (url, types), port, save';
    throw new InvalidInput(`${name}: ${where === '' ? '' : `${where}: `}${message}`, hint);
  }
  const { endpoints, port, save } = r.data;
  const out: ProjectSettings = {};
  if (endpoints !== undefined) {
    out.endpoints = endpoints.map((e, i) => {
      const spec = e.types === undefined ? e.url : `${e.types.join(',')}=${e.url}`;
      try {
        parseRoute(spec);
      } catch (err) {
        throw new InvalidInput(`${name}: endpoints[${i}]: ${(err as Error).message}`);
      }
      return spec;
    });
  }
  if (port !== undefined) out.port = port;
  if (save !== undefined) out.save = save;
  return out;
}
