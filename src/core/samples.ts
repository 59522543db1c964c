import { deepMerge, setPath, unsetPath } from './paths.js';

/** A parsed fixture: an event envelope whose ids and times `buildSample` replaces. */
export type Fixture = Record<string, unknown> & { type: string; data: Record<string, unknown> };

/** Changes to apply after the fresh ids, in this order: `data` (deep merge), `set`, `unset`. */
export interface SampleOverrides {
  data?: Record<string, unknown>;
  set?: ReadonlyArray<readonly [path: string, value: unknown]>;
  unset?: readonly string[];
}

export interface SampleOptions {
  /** The event's `created_at`. */
  now: Date;
  /** The event id (`evt_…`). */
  id: string;
  /** The email id (`em_…`). */
  emailId: string;
  overrides?: SampleOverrides;
}

/** Checks that a parsed JSON value can serve as a template (`--fixture`); returns it typed or throws TypeError. */
export function asFixture(value: unknown): Fixture {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new TypeError('a fixture must be a JSON object');
  const v = value as Record<string, unknown>;
  if (typeof v.type !== 'string') throw new TypeError('a fixture needs a string "type"');
  if (v.data === null || typeof v.data !== 'object' || Array.isArray(v.data)) throw new TypeError('a fixture needs an object "data"');
  return v as Fixture;
}

/**
 * Builds a sample event from a fixture: fresh `id`, `data.email_id` and `created_at` (and `data.created_at` when
 * the fixture has one), then the overrides. Deterministic given the options; the fixture is not modified.
 */
export function buildSample(fixture: Fixture, options: SampleOptions): Record<string, unknown> {
  const event = structuredClone(fixture) as Record<string, unknown> & { data: Record<string, unknown> };
  const createdAt = options.now.toISOString();
  // Key order as OnePush sends it: id, type, created_at, data.
  const ordered: Record<string, unknown> = { id: options.id, type: event.type, created_at: createdAt };
  for (const [k, v] of Object.entries(event)) if (!(k in ordered)) ordered[k] = v;
  const data = ordered.data as Record<string, unknown>;
  ordered.data = { email_id: options.emailId, ...data, ...(data.email_id === undefined ? {} : { email_id: options.emailId }) };
  if ('created_at' in data) (ordered.data as Record<string, unknown>).created_at = createdAt;
  const o = options.overrides;
  if (o?.data) deepMerge(ordered, o.data);
  for (const [path, value] of o?.set ?? []) setPath(ordered, path, value);
  for (const path of o?.unset ?? []) unsetPath(ordered, path);
  return ordered;
}
