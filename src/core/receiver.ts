import { isUtf8 } from 'node:buffer';
import { isEventType } from './event-types.js';
import { JsonDepthError, parseJson } from './json.js';
import { validateEvent, type SchemaIssue } from './schemas.js';
import { verify } from './signature.js';

// What the listener answers to one request, without any I/O: the HTTP adapter hands in
// the method, the raw body and the signature header; time is a parameter.

/** One request, as the HTTP adapter read it. */
export interface IncomingWebhook {
  method: string;
  /** The raw body bytes; null when the request was refused before its body was read (413). */
  body: Buffer | null;
  /** The x-onepush-signature header. */
  signature: string | undefined;
  /** How many different x-onepush-signature values the request carried, when more than one (refused: 401). */
  conflictingSignatures?: number;
}

/** How the listener classified a request: the answer and what to show. */
export interface Classification {
  status: 200 | 400 | 401 | 403 | 405 | 413 | 431 | 503 | 508;
  /** Why it was refused or flagged; null when all is fine. */
  reason: string | null;
  /** true/false with a secret, null without one (or when there was no body to check). */
  verified: boolean | null;
  /** The event id and type when the body is a JSON object that has them. */
  id: string | null;
  type: string | null;
  knownType: boolean;
  schemaIssues: SchemaIssue[];
  /** The parsed body when it is a JSON object. */
  payload: Record<string, unknown> | null;
  /** The payload as one line of JSON: the body text itself when it has no line break (cheap), else re-serialised. */
  payloadText: string | null;
  /** The body decoded, when it is valid UTF-8 (so the capture need not check and decode it again); else null. */
  bodyText: string | null;
  /** The JSON answer body. */
  answer: string;
}

/** The listener's answer for a body over the listener's size limit. */
export function tooLarge(maxBody: number, declared: number | undefined): Classification {
  const reason = declared === undefined ? `body larger than the listener's limit (${maxBody} bytes)` : `body of ${declared} bytes is larger than the listener's limit (${maxBody} bytes)`;
  return refusal(413, reason, null);
}

/** A refusal with a JSON reason (503 when the listener could not save the request). */
export function refused(status: Classification['status'], reason: string): Classification {
  return refusal(status, reason, null);
}

function refusal(status: Classification['status'], reason: string, verified: boolean | null): Classification {
  return {
    status,
    reason,
    verified,
    id: null,
    type: null,
    knownType: false,
    schemaIssues: [],
    payload: null,
    payloadText: null,
    bodyText: null,
    answer: JSON.stringify({ error: ERRORS[status] ?? 'refused', reason }),
  };
}

const ERRORS: Record<number, string> = {
  400: 'bad request',
  401: 'invalid signature',
  403: 'forbidden',
  405: 'method not allowed',
  413: 'payload too large',
  431: 'headers too large',
  503: 'not saved',
  508: 'loop detected',
};

/**
 * Classifies one request: 405 for another method than POST, 400 for a body that is not a JSON object, 401 for a
 * missing or wrong signature when a secret is set (verified over the raw bytes, never a re-serialisation), else
 * 200 `{"received":true,"id":…}`. Unknown types and schema issues are flagged, not refused: the answer never
 * depends on them, so with `checkSchema` false the zod check is left out (schemaIssues empty) for the caller to
 * run later, off the answer's path, with `acceptedChecks`.
 */
export function classify(req: IncomingWebhook, secret: string | undefined, checkSchema = true): Classification {
  if (req.method !== 'POST') return refusal(405, `method ${req.method} not allowed: OnePush webhooks are POST requests`, null);
  const body = req.body;
  if (body === null) return refusal(400, 'no body', null);
  const verified = secret === undefined ? null : verify(body, secret, req.signature);
  // JSON is UTF-8 (RFC 8259): decoding other bytes would silently turn them into U+FFFD and accept a body the
  // sender never meant.
  if (!isUtf8(body)) return refusal(400, 'body is not valid UTF-8: a webhook carries a JSON event', verified);
  const text = body.toString('utf8');
  let parsed: unknown;
  try {
    parsed = parseJson(text);
  } catch (e) {
    if (e instanceof JsonDepthError) return refusal(400, `body is ${e.message}: no OnePush event nests that deep`, verified);
    return refusal(400, body.length === 0 ? 'empty body: a webhook carries a JSON event' : 'body is not valid JSON', verified);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    return refusal(400, `body is JSON but not an object (${parsed === null ? 'null' : Array.isArray(parsed) ? 'an array' : typeof parsed})`, verified);
  }
  const payload = parsed as Record<string, unknown>;
  const id = typeof payload.id === 'string' ? payload.id : null;
  const type = typeof payload.type === 'string' ? payload.type : null;
  // A raw line break or tab can only be whitespace between tokens (JSON escapes them in strings): then the one-line
  // form is made anew, so an NDJSON line never carries a control character.
  const payloadText = text.includes('\n') || text.includes('\r') || text.includes('\t') ? JSON.stringify(payload) : text;
  const knownType = isEventType(type);
  // Plain object literals of one shape (not spreads): this runs once per request.
  if (verified === false || (req.conflictingSignatures !== undefined && secret !== undefined)) {
    const reason =
      req.conflictingSignatures !== undefined
        ? `${req.conflictingSignatures} different x-onepush-signature headers: OnePush sends one`
        : req.signature === undefined || req.signature === ''
          ? 'missing x-onepush-signature header'
          : 'signature does not match the body';
    return { status: 401, reason, verified: false, id, type, knownType, schemaIssues: [], payload, payloadText, bodyText: text, answer: JSON.stringify({ error: 'invalid signature', reason }) };
  }
  const { issues, reason } = acceptedChecks(checkSchema ? payload : null, id, type, knownType);
  return { status: 200, reason, verified, id, type, knownType, schemaIssues: issues, payload, payloadText, bodyText: text, answer: `{"received":true,"id":${JSON.stringify(id)}}` };
}

/**
 * What is flagged on an accepted event (answered 200 all the same): an unknown or missing type, the schema issues
 * of a known type (checked when `payload` is given), a missing id. `reason` sums them up, null when all is fine.
 */
export function acceptedChecks(payload: Record<string, unknown> | null, id: string | null, type: string | null, knownType: boolean): { issues: SchemaIssue[]; reason: string | null } {
  const issues = knownType && payload !== null ? validateEvent(payload).issues : [];
  let reason: string | null = null;
  if (!knownType) reason = type === null ? 'no "type" field' : `unknown event type ${type}`;
  else if (issues.length > 0) reason = `schema: ${issues.map((i) => `${i.path} ${i.message}`).join('; ')}`;
  if (id === null && reason === null) reason = 'no "id" field';
  return { issues, reason };
}

/**
 * Remembers event ids to flag redeliveries, with a value of the first sighting (its time); holds at
 * most `limit` ids, forgetting the oldest.
 */
export class DuplicateTracker<T = number> {
  private readonly seen = new Map<string, T>();
  /**
   * One iterator over the ids, oldest first, kept across calls: a new `keys()` per eviction would walk past every
   * id deleted before it (a Map keeps their slots until it is rehashed), which made each eviction cost up to the
   * limit and a million ids take over a minute. Only ids it has returned are deleted, so it never runs dry.
   */
  private oldest: Iterator<string> = this.seen.keys();
  constructor(private readonly limit = 100_000) {}

  /** Records `id` first seen with `first`; returns the value of its first sighting, or undefined for a new id. */
  see(id: string, first: T): T | undefined {
    const earlier = this.seen.get(id);
    if (earlier !== undefined) return earlier;
    if (this.seen.size >= this.limit && this.seen.size > 0) {
      let next = this.oldest.next();
      if (next.done === true) {
        this.oldest = this.seen.keys();
        next = this.oldest.next();
      }
      if (next.done !== true) this.seen.delete(next.value);
    }
    this.seen.set(id, first);
    return undefined;
  }
}

/** Parses a body size limit: bytes, or a number with kb/mb (1024-based), e.g. 512kb, 1mb. Undefined if invalid. */
export function parseSize(text: string): number | undefined {
  const m = /^\s*(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib)?\s*$/i.exec(text);
  if (!m) return undefined;
  const unit = (m[2] ?? 'b').toLowerCase();
  const factor = unit.startsWith('m') ? 1024 * 1024 : unit.startsWith('k') ? 1024 : 1;
  const n = Math.floor(Number(m[1]) * factor);
  return n >= 1 ? n : undefined;
}
