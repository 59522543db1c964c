import { EVENT_TYPES, type EventType } from './event-types.js';
import { buildSample, type Fixture } from './samples.js';
import { sign } from './signature.js';

// What the cases of the conformance check build their requests from. Pure: fixtures, secret, time and an id
// source are handed in, so a plan is deterministic given them.

/** The unknown type case 6 sends: plausible for OnePush to add one day. */
export const UNKNOWN_TYPE = 'email.delivery_delayed';

/** The size of case 9's body. */
export const LARGE_PAYLOAD_BYTES = 256 * 1024;

/** One request a case sends: the exact body bytes (as text) and headers. */
export interface PlannedRequest {
  /** What it is, for messages: `email.bounced`, `second delivery`, `wrong signature`, … */
  label: string;
  headers: Record<string, string>;
  body: string;
}

export interface PlanInput {
  /** The shipped templates, by type (all seven). */
  fixtures: ReadonlyMap<EventType, Fixture>;
  /** Without one, requests go unsigned (the cases that need one are skipped before planning). */
  secret: string | undefined;
  now: Date;
  /** A fresh id with the prefix (`evt`, `em`). */
  newId: (prefix: 'evt' | 'em') => string;
  /** Requests the run has sent so far (the latency case probes only when nothing else was sent). */
  sent: number;
  /**
   * The known types the endpoint receives (its routes): case 1 sends only these, and a case that sends a fixed type
   * sends one of these instead when the endpoint does not receive it. Default: all seven.
   */
  types?: readonly EventType[];
  /** The endpoint also receives types OnePush has not added yet (a bare URL, or a glob such as `email.*`). Default: true. */
  takesUnknown?: boolean;
}

/** The known types the endpoint of a plan receives. */
export function typesOf(input: Pick<PlanInput, 'types'>): readonly EventType[] {
  return input.types ?? EVENT_TYPES;
}

/** `preferred` when the endpoint receives it, else the first type it receives (undefined: it receives none). */
export function typeFor(input: Pick<PlanInput, 'types'>, preferred: EventType): EventType | undefined {
  const types = typesOf(input);
  return types.includes(preferred) ? preferred : types[0];
}

/** `typeFor`, for a plan: a case is not planned for an endpoint without a type it can send (see `CheckCase.notFor`). */
export function typeOf(input: PlanInput, preferred: EventType): EventType {
  const t = typeFor(input, preferred);
  if (t === undefined) throw new TypeError('the endpoint receives no known type');
  return t;
}

const SIGNATURE_HEADER = 'x-onepush-signature';

function fixtureOf(input: PlanInput, type: EventType): Fixture {
  const f = input.fixtures.get(type);
  if (!f) throw new TypeError(`no fixture for ${type}`);
  return f;
}

export function sample(input: PlanInput, type: EventType, options: { emailId?: string; now?: Date } = {}): Record<string, unknown> & { data: Record<string, unknown> } {
  return buildSample(fixtureOf(input, type), {
    now: options.now ?? input.now,
    id: input.newId('evt'),
    emailId: options.emailId ?? input.newId('em'),
  }) as Record<string, unknown> & { data: Record<string, unknown> };
}

/** A request as OnePush sends it: compact JSON, signed when there is a secret. */
export function signed(label: string, body: string, secret: string | undefined): PlannedRequest {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (secret !== undefined) headers[SIGNATURE_HEADER] = sign(body, secret);
  return { label, headers, body };
}

export function unsigned(label: string, body: string, signature?: string): PlannedRequest {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (signature !== undefined) headers[SIGNATURE_HEADER] = signature;
  return { label, headers, body };
}

/** The secret of a case that cannot be planned without one (such cases are skipped before planning). */
export function needSecret(input: PlanInput, name: string): string {
  if (input.secret === undefined) throw new TypeError(`case ${name} needs a secret`);
  return input.secret;
}

/**
 * An event whose compact JSON is exactly `bytes` long, by adding tags (`tag_0000`…) of 100 characters each and
 * padding the last one. ASCII only, so characters are bytes.
 */
export function largeEvent(event: Record<string, unknown> & { data: Record<string, unknown> }, bytes: number): Record<string, unknown> {
  const big = structuredClone(event);
  const tags: Record<string, string> = { ...((big.data.tags as Record<string, string> | undefined) ?? {}) };
  big.data.tags = tags;
  const baseLength = JSON.stringify(big).length;
  const value = 'x'.repeat(100);
  // One more tag adds `"tag_0000":"xxx…",` = 14 + 100 characters (the first one may save the comma; padded below).
  const count = Math.max(1, Math.floor((bytes - baseLength) / 114));
  for (let i = 0; i < count; i++) tags[`tag_${String(i).padStart(4, '0')}`] = value;
  const missing = bytes - JSON.stringify(big).length;
  const lastKey = `tag_${String(count - 1).padStart(4, '0')}`;
  if (missing > 0) tags[lastKey] = value + 'x'.repeat(missing);
  else if (missing < 0) tags[lastKey] = value.slice(0, Math.max(0, value.length + missing));
  return big;
}
