import { LARGE_PAYLOAD_BYTES, UNKNOWN_TYPE, type CaseName } from './check-cases.js';
import { EVENT_TYPES, type EventType } from './event-types.js';
import { buildSample, type Fixture } from './samples.js';
import { sign } from './signature.js';

// The requests each case of `onepush check` sends (issue #6). Pure: fixtures, secret, time and an id source
// are handed in, so a plan is deterministic given them.

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
}

const SIGNATURE_HEADER = 'x-onepush-signature';

function fixtureOf(input: PlanInput, type: EventType): Fixture {
  const f = input.fixtures.get(type);
  if (!f) throw new TypeError(`no fixture for ${type}`);
  return f;
}

function sample(input: PlanInput, type: EventType, options: { emailId?: string; now?: Date } = {}): Record<string, unknown> & { data: Record<string, unknown> } {
  return buildSample(fixtureOf(input, type), {
    now: options.now ?? input.now,
    id: input.newId('evt'),
    emailId: options.emailId ?? input.newId('em'),
  }) as Record<string, unknown> & { data: Record<string, unknown> };
}

/** A request as OnePush sends it: compact JSON, signed when there is a secret (SPEC.md §1). */
function signed(label: string, body: string, secret: string | undefined): PlannedRequest {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (secret !== undefined) headers[SIGNATURE_HEADER] = sign(body, secret);
  return { label, headers, body };
}

function unsigned(label: string, body: string, signature?: string): PlannedRequest {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (signature !== undefined) headers[SIGNATURE_HEADER] = signature;
  return { label, headers, body };
}

function needSecret(input: PlanInput, name: CaseName): string {
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

/** The requests one case sends, in order. `latency` sends a probe only when the run sent nothing else. */
export function planCase(name: CaseName, input: PlanInput): PlannedRequest[] {
  const { secret } = input;
  switch (name) {
    case 'valid-events':
      return EVENT_TYPES.map((type) => signed(type, JSON.stringify(sample(input, type)), secret));
    case 'unsigned':
      needSecret(input, name);
      return [unsigned('unsigned request', JSON.stringify(sample(input, 'email.delivered')))];
    case 'wrong-signature': {
      const key = needSecret(input, name);
      const body = JSON.stringify(sample(input, 'email.delivered'));
      const other = JSON.stringify(sample(input, 'email.delivered'));
      return [
        // Well-formed hex, but made with another key.
        unsigned('wrong signature', body, sign(body, `not-${key}`)),
        // Half of the right signature: a length check is needed before timingSafeEqual, and a prefix compare accepts it.
        unsigned('truncated signature', other, sign(other, key).slice(0, 32)),
      ];
    }
    case 'tampered': {
      const key = needSecret(input, name);
      const original = sample(input, 'email.delivered');
      const tampered = structuredClone(original);
      tampered.data.to = ['attacker@evil.test'];
      tampered.data.subject = 'Reset your password';
      return [unsigned('tampered body', JSON.stringify(tampered), sign(JSON.stringify(original), key))];
    }
    case 'duplicate': {
      const body = JSON.stringify(sample(input, 'email.delivered'));
      return [signed('first delivery', body, secret), signed('second delivery', body, secret)];
    }
    case 'unknown-type': {
      const event = sample(input, 'email.sent');
      event.type = UNKNOWN_TYPE;
      event.data.delay = { smtp_response: '450 4.7.1 Greylisted, try again later', next_attempt_at: new Date(input.now.getTime() + 300_000).toISOString() };
      return [signed(UNKNOWN_TYPE, JSON.stringify(event), secret)];
    }
    case 'out-of-order': {
      const emailId = input.newId('em');
      // Delivered happened first (an earlier created_at) but arrives second, as retries and parallel queues do.
      const opened = sample(input, 'email.opened', { emailId });
      const delivered = sample(input, 'email.delivered', { emailId, now: new Date(input.now.getTime() - 1000) });
      return [signed('email.opened', JSON.stringify(opened), secret), signed('email.delivered', JSON.stringify(delivered), secret)];
    }
    case 'large-payload':
      return [signed('large event', JSON.stringify(largeEvent(sample(input, 'email.delivered'), LARGE_PAYLOAD_BYTES)), secret)];
    case 'non-compact': {
      const key = needSecret(input, name);
      return [signed('indented body', JSON.stringify(sample(input, 'email.delivered'), null, 2), key)];
    }
    case 'latency':
      return [signed('email.delivered', JSON.stringify(sample(input, 'email.delivered')), secret)];
  }
}
