import { asCapture, captureBody, type Capture } from './capture.js';
import { emailOf, kindOf, type InspectAttempt, type InspectDetail, type InspectRow, type RowForward } from './inspect-model.js';
import { parseJson } from './json.js';
import { validateEvent } from './schemas.js';
import { explain } from './signature.js';

// What the inspector shows of a capture: its row and its detail. Pure: the server reads the line, this makes the
// view (the same checks and the same `explain` as the CLI).

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A capture and what its body holds. */
export interface ReadCapture {
  capture: Capture;
  body: Buffer;
  payload: Record<string, unknown> | null;
}

/** Reads a capture line; null for a line that is not one (it is left out of the list, as replay skips it). */
export function readCaptureLine(text: string): ReadCapture | null {
  let value: unknown;
  try {
    value = parseJson(text);
  } catch {
    return null;
  }
  let capture: Capture;
  try {
    capture = asCapture(value);
  } catch {
    return null;
  }
  const body = captureBody(capture);
  let payload: Record<string, unknown> | null = null;
  if (capture.body !== null && capture.body_encoding === 'utf8') {
    try {
      const parsed = parseJson(capture.body);
      if (isRecord(parsed)) payload = parsed;
    } catch {
      // not JSON: shown as text
    }
  }
  return { capture, body, payload };
}

/** The row of a capture (schema issues checked for accepted events of a known type). */
export function rowOf(read: ReadCapture, n: number, source: string | null, extra: { seq?: number | null; duplicate?: boolean; forwards?: RowForward[] } = {}): InspectRow {
  const { capture, body, payload } = read;
  const id = payload !== null && typeof payload.id === 'string' ? payload.id : null;
  const type = payload !== null && typeof payload.type === 'string' ? payload.type : null;
  const kind = kindOf(type);
  const schema = capture.status === 200 && kind !== null && payload !== null ? validateEvent(payload).issues.length : 0;
  return {
    n,
    seq: extra.seq ?? null,
    received_at: capture.received_at,
    method: capture.method,
    path: capture.path,
    status: capture.status,
    verified: capture.verified,
    reason: capture.reason ?? null,
    id,
    type,
    kind,
    ...emailOf(payload),
    duplicate: extra.duplicate ?? false,
    schema_issues: schema,
    size: capture.body === null ? (capture.declared_size ?? 0) : body.length,
    forwards: extra.forwards ?? [],
    source,
  };
}

/** The verification of a capture in words: `explain` with the secret, or why it was not checked. */
export function verificationOf(read: ReadCapture, secret: string | undefined): InspectDetail['verification'] {
  const { capture, body } = read;
  if (capture.body === null) return { checked: false, valid: null, code: 'unchecked', message: `the body was not read (${capture.reason ?? `status ${capture.status}`})` };
  const header = capture.headers['x-onepush-signature'];
  if (secret === undefined) {
    return {
      checked: false,
      valid: capture.verified,
      code: 'unchecked',
      message: capture.verified === null ? 'not checked: no secret was set' : `checked when received (${capture.verified ? 'valid' : 'invalid'}); give a secret to explain it`,
    };
  }
  const e = explain(body, secret, header);
  return { checked: true, valid: e.valid, code: e.code, message: e.message };
}

/** The detail of a capture. */
export function detailOf(
  read: ReadCapture,
  row: InspectRow,
  secret: string | undefined,
  attempts: InspectAttempt[],
  lifecycle: InspectDetail['lifecycle'],
): InspectDetail {
  const { capture, payload } = read;
  const issues = capture.status === 200 && row.kind !== null && payload !== null ? validateEvent(payload).issues : [];
  return {
    row,
    headers: Object.entries(capture.headers),
    body: {
      text: capture.body,
      encoding: capture.body_encoding,
      pretty: payload === null ? null : JSON.stringify(payload, null, 2),
      size: row.size,
    },
    verification: verificationOf(read, secret),
    schema_issues: issues,
    attempts,
    lifecycle,
  };
}
