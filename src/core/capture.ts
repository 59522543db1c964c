import { isUtf8 } from 'node:buffer';
import { jsonProblem, parseJson } from './json.js';

// The capture format v1: one JSON object per request, one per line of the capture log.

/** One captured request. `body` is null only for a request refused before its body was read (413). */
export interface Capture {
  v: 1;
  received_at: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body: string | null;
  body_encoding: 'utf8' | 'base64';
  /** true/false when a secret was set, null when signatures were not checked. */
  verified: boolean | null;
  status: number;
  /** Why the request was refused, when it was. */
  reason?: string;
  /** The declared content-length of a body that was not read. */
  declared_size?: number;
  /** Set by `onepush redact` on a capture whose body it replaced (a body that is not JSON held personal data). */
  redacted?: string;
}

export interface CaptureInput {
  /** When it arrived: a Date, or its toISOString() already made. */
  receivedAt: Date | string;
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: Uint8Array | null;
  /** `body` already decoded by the caller, who checked it is valid UTF-8 (saves checking and decoding it twice). */
  bodyText?: string | null;
  verified: boolean | null;
  status: number;
  reason?: string | undefined;
  declaredSize?: number | undefined;
}

/** A line that is not a valid capture; `message` says what is wrong with it. */
export class CaptureError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CaptureError';
  }
}

/** Header values as strings (repeated headers joined with ", "), names lowercase. */
export function flattenHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

/** The capture of one request, as one NDJSON line (with its trailing newline). */
export function encodeCapture(input: CaptureInput): string {
  const line = encodeCaptureParts(input);
  return typeof line === 'string' ? line : line.join('');
}

/** Bodies from this size on are kept as a part of their own (see encodeCaptureParts). */
export const LARGE_BODY = 64 * 1024;

/**
 * The line of encodeCapture: the line itself for a small body, and for a body of LARGE_BODY or more three parts whose
 * concatenation is the line (before the body, the body's JSON string, after), so a writer can write them as they
 * are, without first copying a large line into one string.
 */
export function encodeCaptureParts(input: CaptureInput): string | [head: string, body: string, tail: string] {
  let body: string | null = null;
  let encoding: Capture['body_encoding'] = 'utf8';
  if (input.body !== null && input.bodyText != null) body = input.bodyText;
  else if (input.body !== null) {
    const buf = Buffer.from(input.body.buffer, input.body.byteOffset, input.body.byteLength);
    if (isUtf8(buf)) body = buf.toString('utf8');
    else {
      body = buf.toString('base64');
      encoding = 'base64';
    }
  }
  // Built by hand, in the field order of `Capture` (same bytes as JSON.stringify of the object): `listen` encodes
  // one line per request, and this is on its hot path (bench/listen.bench.ts).
  const head = `{"v":1,"received_at":${typeof input.receivedAt === 'string' ? JSON.stringify(input.receivedAt) : `"${input.receivedAt.toISOString()}"`},"method":${JSON.stringify(input.method)},"path":${JSON.stringify(input.path)},"headers":${JSON.stringify(plainHeaders(input.headers))},"body":`;
  let tail = `,"body_encoding":"${encoding}","verified":${input.verified},"status":${input.status}`;
  if (input.reason !== undefined) tail += `,"reason":${JSON.stringify(input.reason)}`;
  if (input.declaredSize !== undefined) tail += `,"declared_size":${input.declaredSize}`;
  tail += '}\n';
  if (body === null) return `${head}null${tail}`;
  const json = JSON.stringify(body);
  return json.length >= LARGE_BODY ? [head, json, tail] : `${head}${json}${tail}`;
}

/** The headers as they are when already flat and lowercase (node:http's own), else flattened. */
function plainHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string | string[] | undefined> {
  for (const name in headers) {
    if (typeof headers[name] !== 'string' || name !== name.toLowerCase()) return flattenHeaders(headers);
  }
  return headers;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Checks that a parsed object is a v1 capture; throws CaptureError naming the first problem. */
export function asCapture(value: unknown): Capture {
  if (!isRecord(value)) throw new CaptureError('not a JSON object');
  if (value.v !== 1) throw new CaptureError(value.v === undefined ? 'not a capture (no "v" field)' : `unsupported capture version ${JSON.stringify(value.v)} (this onepush reads v1)`);
  const need = (field: string, ok: boolean, what: string): void => {
    if (!ok) throw new CaptureError(`capture field "${field}" ${value[field] === undefined ? 'is missing' : `must be ${what}`}`);
  };
  need('received_at', typeof value.received_at === 'string' && !Number.isNaN(Date.parse(value.received_at)), 'an ISO time');
  need('method', typeof value.method === 'string', 'a string');
  need('path', typeof value.path === 'string', 'a string');
  need('headers', isRecord(value.headers) && Object.values(value.headers).every((h) => typeof h === 'string'), 'an object of strings');
  need('body', typeof value.body === 'string' || value.body === null, 'a string or null');
  need('body_encoding', value.body_encoding === 'utf8' || value.body_encoding === 'base64', '"utf8" or "base64"');
  need('verified', typeof value.verified === 'boolean' || value.verified === null, 'true, false or null');
  need('status', Number.isInteger(value.status), 'an integer');
  if (value.reason !== undefined) need('reason', typeof value.reason === 'string', 'a string');
  if (value.declared_size !== undefined) need('declared_size', Number.isInteger(value.declared_size), 'an integer');
  return value as unknown as Capture;
}

/** Parses one line of a capture log; throws CaptureError with a clear reason for a bad line. */
export function decodeCapture(line: string): Capture {
  let parsed: unknown;
  try {
    parsed = parseJson(line);
  } catch (e) {
    throw new CaptureError(jsonProblem(e));
  }
  return asCapture(parsed);
}

/** The exact body bytes of a capture (empty for a request whose body was not read). */
export function captureBody(capture: Capture): Buffer {
  if (capture.body === null) return Buffer.alloc(0);
  return Buffer.from(capture.body, capture.body_encoding === 'base64' ? 'base64' : 'utf8');
}
