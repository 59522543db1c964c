import assert from 'node:assert/strict';
import { isUtf8 } from 'node:buffer';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { describe, test } from 'node:test';
import { Chalk } from 'chalk';
import fc from 'fast-check';
import type { ForwardResult } from '../src/adapters/forwarder.js';
import { splitLines, type Line } from '../src/adapters/lines.js';
import { outputRenderer, type OutputItem, type OutputSettings } from '../src/commands/listen-output.js';
import { bannerLines, responseLines, eventJson, eventLines, forwardLine, summaryLines, utcClock } from '../src/commands/listen-render.js';
import { captureBody, CaptureError, decodeCapture, encodeCapture, type CaptureInput } from '../src/core/capture.js';
import { cell, escapeControls, jsonSafe, shellArg, terminalSafe } from '../src/core/display.js';
import { isOnepushError } from '../src/core/errors.js';
import { EVENT_TYPES } from '../src/core/event-types.js';
import { JsonDepthError, MAX_JSON_DEPTH, parseJson, withinDepth } from '../src/core/json.js';
import { classify, parseSize, type IncomingWebhook } from '../src/core/receiver.js';
import { parseSince, readReplayLine } from '../src/core/replay-select.js';
import { explain, sign, verify } from '../src/core/signature.js';
import { resolveTarget } from '../src/core/target.js';
import { listenEvent, type ListenEvent, type ListenSummary } from '../src/app/listen.js';

// Property/fuzz tests: random and adversarial bodies, headers, capture lines, fixtures and responses thrown at the
// receiver core, the capture codec, the line reader and every renderer of `listen`. None may throw anything but its
// typed error, none may print a control character.
//
// FC_RUNS sets the runs per property (default below: the file takes a few seconds on 2 cores); the costlier
// properties run a fraction of it. FC_SEED replays a failing run (with the seed fast-check printed).

const DEFAULT_RUNS = 500;

function envRuns(): number {
  const raw = process.env.FC_RUNS;
  if (raw === undefined || raw.trim() === '') return DEFAULT_RUNS;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`FC_RUNS must be a positive integer (got ${JSON.stringify(raw)})`);
  return n;
}

function envSeed(): number | undefined {
  const raw = process.env.FC_SEED;
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n)) throw new Error(`FC_SEED must be an integer (got ${JSON.stringify(raw)})`);
  return n;
}

const RUNS = envRuns();
const SEED = envSeed();

/** fast-check parameters: FC_RUNS scaled by the property's cost (1 = cheap). */
function runs(weight = 1): { numRuns: number; seed?: number } {
  const numRuns = Math.max(1, Math.round(RUNS * weight));
  return SEED === undefined ? { numRuns } : { numRuns, seed: SEED };
}

// ---------------------------------------------------------------------------------------------------------------
// Oracles

/** What must never reach a terminal raw: C0, DEL, C1, and the invisible characters that reorder or hide text. */
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** Characters JSON.stringify leaves raw that a terminal would act on. */
const JSON_UNSAFE = /[\u007f-\u009f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
/** The SGR parameters of onepush's own styles. */
const OUR_SGR = new Set(['0', '1', '2', '22', '31', '32', '33', '34', '35', '36', '39', '90']);
const SGR = /\u001b\[([0-9;]*)m/g;

function assertNoUnsafe(text: string, what: string): void {
  const m = UNSAFE.exec(text);
  if (m) assert.fail(`${what}: raw U+${m[0].charCodeAt(0).toString(16).padStart(4, '0')} at ${m.index} in ${JSON.stringify(text)}`);
}

/** `text` without our own SGR sequences (any other SGR is left, so its ESC is caught as unsafe). */
function withoutOurSgr(text: string): string {
  return text.replace(SGR, (m, params: string) => (params.split(';').every((p) => OUR_SGR.has(p)) ? '' : m));
}

/** Only our SGR sequences may carry an ESC; nothing else unsafe. */
function assertOnlyOurSgr(text: string, what: string): void {
  assertNoUnsafe(withoutOurSgr(text), what);
}

/** How deep arrays and objects nest in a JSON value (0 for a scalar); iterative, so any depth is fine. */
function depthOf(value: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (v !== null && typeof v === 'object') {
      const inner = d + 1;
      if (inner > max) max = inner;
      for (const child of Object.values(v)) stack.push([child, inner]);
    }
  }
  return max;
}

/** The JSON value `v` stands for (-0 is 0, undefined members dropped). */
const normal = (v: unknown): unknown => JSON.parse(JSON.stringify(v)) as unknown;

const hmacHex = (body: string | Uint8Array, secret: string | Buffer): string => createHmac('sha256', secret).update(body).digest('hex');

// ---------------------------------------------------------------------------------------------------------------
// Adversarial generators

/** Characters a hostile sender would use: controls, C1, bidi, separators, lone surrogates, quotes and brackets. */
const HOSTILE_CHARS = [
  '\x1b', '\x07', '\x9b', '\x85', '\x00', '\x7f', '\x08', '\x0c', '\r', '\n', '\t', '\u202e', '\u202a', '\u2066', '\u2069',
  '\u061c', '\u200e', '\u200f', '\u2028', '\u2029', '\ufeff', '\ud800', '\udfff', '"', '\\', "'", '[', ']', '{', '}',
  ';', 'm', ':', ' ', '%', '$', '`', '#', '-', '…', 'é', '😀', 'a', 'Z', '0', '9',
];
/** Whole sequences: colours (ours and not), titles, hyperlinks, clears, shell tricks. */
const HOSTILE_PIECES = [
  '\x1b[31m', '\x1b[0m', '\x1b[8m', '\x1b[5m', '\x1b[1;31m', '\x1b[m', '\x1b[', '\x1b[2J', '\x1b[3J', '\x1bc', '\x9b31m',
  '\x1b]0;pwned\x07', '\x1b]8;;http://evil.test\x1b\\link\x1b]8;;\x1b\\', "'; rm -rf ~ #", '$(id)', '`id`', '\r\n', 'whsec_',
  'sha256=', '--', 'evt_', 'http://u:p@h/', '\\u001b', '\\x1b', '":', '\\"', '"}', '{"a":', '[[', ']]',
];

/** One UTF-16 code unit, lone surrogates included. */
const utf16Unit = fc.integer({ min: 0, max: 0xffff }).map((n) => String.fromCharCode(n));
const hostileUnit = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_CHARS) },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_PIECES) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 1, arbitrary: utf16Unit },
);
/** Strings rich in control characters. */
const controlRich = fc.array(hostileUnit, { maxLength: 40 }).map((a) => a.join(''));
/** Any adversarial string. */
const hostileText = fc.oneof(
  { weight: 4, arbitrary: controlRich },
  { weight: 1, arbitrary: fc.string({ unit: 'binary' }) },
  { weight: 1, arbitrary: fc.string({ unit: utf16Unit }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary-ascii' }) },
  { weight: 1, arbitrary: fc.string() },
);
/** Keys that trip code treating parsed JSON as trusted objects. */
const hostileKey = fc.oneof(
  { weight: 3, arbitrary: hostileText },
  { weight: 1, arbitrary: fc.constantFrom('toString', 'valueOf', '__proto__', 'constructor', 'toJSON', 'hasOwnProperty', 'id', 'type', 'data', 'v', 'kind', 'payload') },
);
const jsonScalar = fc.oneof(
  { weight: 3, arbitrary: hostileText },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => (Object.is(d, -0) ? 0 : d)) },
  { weight: 1, arbitrary: fc.boolean() },
  { weight: 1, arbitrary: fc.constant(null) },
);
/** Random JSON values with hostile strings and keys (objects with an ordinary prototype, as JSON.parse makes them). */
const { value: hostileJson } = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { maxDepth: 4, depthSize: 'small' },
    jsonScalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(hostileKey, tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
}));
/** Any JSON value fast-check makes, plus ours. */
const anyJson = fc.oneof(hostileJson, fc.jsonValue({ maxDepth: 6 }), fc.jsonValue({ maxDepth: 3, stringUnit: hostileUnit }));

/** A field of an event: mostly a hostile string, sometimes any JSON. */
const fieldValue = fc.oneof({ weight: 4, arbitrary: hostileText }, { weight: 1, arbitrary: fc.integer() }, { weight: 1, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: hostileJson });

const FIXED_DATE = '2026-11-26T15:55:00.000Z';
const isoDate = fc.oneof(fc.constant(FIXED_DATE), fc.date({ noInvalidDate: true }).map((d) => d.toISOString()));

const FIXTURES: Record<string, unknown>[] = EVENT_TYPES.map((t) => JSON.parse(readFileSync(new URL(`../fixtures/${t}.json`, import.meta.url), 'utf8')) as Record<string, unknown>);

function leafPaths(value: unknown, path: string[] = [], out: string[][] = []): string[][] {
  if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) leafPaths(v, [...path, k], out);
  } else out.push(path);
  return out;
}

function setPath(root: Record<string, unknown>, path: string[], value: unknown): void {
  let node: Record<string, unknown> = root;
  for (const k of path.slice(0, -1)) node = node[k] as Record<string, unknown>;
  const last = path[path.length - 1];
  if (last !== undefined) node[last] = value;
}

/** A real fixture with a few of its leaves replaced by hostile values. */
const fixtureEvent = fc.tuple(fc.constantFrom(...FIXTURES), fc.array(fc.tuple(fc.nat(), fieldValue), { maxLength: 4 })).map(([fixture, edits]) => {
  const copy = structuredClone(fixture);
  const paths = leafPaths(copy);
  for (const [i, v] of edits) setPath(copy, paths[i % paths.length] as string[], v);
  return copy;
});

/** An event-shaped payload with every field the renderers show drawn from the hostile generators. */
const shapedEvent: fc.Arbitrary<Record<string, unknown>> = fc.record(
  {
    id: fieldValue,
    type: fc.oneof(fc.constantFrom(...EVENT_TYPES), fieldValue),
    created_at: fc.oneof(isoDate, fieldValue),
    data: fc.oneof(
      { weight: 4, arbitrary: fc.record(
        {
          to: fc.oneof(fieldValue, fc.array(fieldValue, { maxLength: 3 })),
          from: fieldValue,
          subject: fieldValue,
          delivery: fc.record({ smtp_response: fieldValue, mx_host: fieldValue }, { requiredKeys: [], noNullPrototype: true }),
          open: fc.record({ ip: fieldValue, user_agent: fieldValue }, { requiredKeys: [], noNullPrototype: true }),
          click: fc.record({ url: fieldValue, ip: fieldValue }, { requiredKeys: [], noNullPrototype: true }),
          bounce: fc.record({ type: fieldValue, smtp_code: fieldValue, enhanced_status: fieldValue, diagnostic: fieldValue }, { requiredKeys: [], noNullPrototype: true }),
          complaint: fc.record({ feedback_type: fieldValue, provider: fieldValue }, { requiredKeys: [], noNullPrototype: true }),
          unsubscribe: fc.record({ method: fieldValue, list: fieldValue }, { requiredKeys: [], noNullPrototype: true }),
        },
        { requiredKeys: [], noNullPrototype: true },
      ) },
      { weight: 1, arbitrary: fieldValue },
    ),
  },
  { requiredKeys: [], noNullPrototype: true },
);
const eventPayload = fc.oneof(shapedEvent, fixtureEvent, fc.dictionary(hostileKey, hostileJson, { maxKeys: 5, noNullPrototype: true }));

/** JSON text of a value: compact, pretty (tabs, CRLF), or on one line with tabs or spaces between its tokens. */
const jsonText = fc.tuple(fc.oneof(anyJson, eventPayload), fc.constantFrom('compact', 'pretty', 'tabs', 'crlf', 'one line, tabs', 'one line, spaces')).map(([v, layout]) => {
  const text = (indent: string | number | undefined): string => JSON.stringify(v, null, indent) ?? 'null';
  switch (layout) {
    case 'pretty':
      return text(2);
    case 'tabs':
      return text('\t');
    case 'crlf':
      return text(2).replace(/\n/g, '\r\n');
    // Structural line breaks only: a line break inside a string is escaped.
    case 'one line, tabs':
      return text('\t').replace(/\n/g, '');
    case 'one line, spaces':
      return text(1).replace(/\n/g, ' ');
    default:
      return text(undefined);
  }
});

interface DeepJson {
  text: string;
  /** How deep its brackets nest. */
  depth: number;
  /** All brackets closed (valid JSON). */
  closed: boolean;
  /** The top level is an object. */
  object: boolean;
}

/** JSON nested up to 20,000 (or 40,000) deep, with and without line breaks, closed or cut short. */
const deepJson: fc.Arbitrary<DeepJson> = fc
  .record({
    n: fc.oneof(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 1, max: 20_000 })),
    kind: fc.constantFrom('array', 'object', 'mixed'),
    sep: fc.constantFrom('', ' ', '\n', '\r\n', '\t'),
    wrap: fc.boolean(),
    cut: fc.option(fc.integer({ min: 1, max: 1000 }), { nil: undefined, freq: 4 }),
  })
  .map(({ n, kind, sep, wrap, cut }) => {
    const [open, inner, close, per] = kind === 'array' ? ['[', '', ']', 1] : kind === 'object' ? ['{"a":', '1', '}', 1] : ['{"a":[', '', ']}', 2];
    let closing = (sep + close).repeat(n);
    if (cut !== undefined) closing = closing.slice(0, Math.max(0, closing.length - cut));
    const core = (open + sep).repeat(n) + inner + closing;
    const closed = cut === undefined;
    const text = wrap ? `{"id":"evt_deep","type":"email.sent",${sep}"data":${core}${closed ? '}' : ''}` : core;
    return { text, depth: n * (per as number) + (wrap ? 1 : 0), closed, object: wrap || kind !== 'array' };
  });

interface Edit {
  at: number;
  op: 'delete' | 'insert' | 'replace';
  unit: string;
}
const edits = fc.array(fc.record({ at: fc.nat(), op: fc.constantFrom<Edit['op']>('delete', 'insert', 'replace'), unit: hostileUnit }), { minLength: 1, maxLength: 4 });

/** `text` with a few characters deleted, inserted or replaced. */
function mutate(text: string, list: Edit[]): string {
  let s = text;
  for (const e of list) {
    const i = e.at % (s.length + 1);
    if (e.op === 'insert') s = s.slice(0, i) + e.unit + s.slice(i);
    else if (e.op === 'delete') s = s.slice(0, i) + s.slice(i + 1);
    else s = s.slice(0, i) + e.unit + s.slice(i + 1);
  }
  return s;
}

const mutatedJson = fc.tuple(jsonText, edits).map(([t, e]) => mutate(t, e));

/** Request bodies: bytes, strings, JSON, events, deep JSON, broken JSON. */
const bodyBytes: fc.Arbitrary<Buffer> = fc.oneof(
  fc.uint8Array({ maxLength: 256 }).map((u) => Buffer.from(u)),
  hostileText.map((s) => Buffer.from(s)),
  jsonText.map((s) => Buffer.from(s)),
  eventPayload.map((p) => Buffer.from(JSON.stringify(p))),
  deepJson.map((d) => Buffer.from(d.text)),
  mutatedJson.map((s) => Buffer.from(s)),
  fc.constant(Buffer.alloc(0)),
);

const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((u) => Buffer.from(u).toString('hex'));
const secretArb = fc.oneof(fc.constant('whsec_test'), hostileText, hex64.map((h) => `whsec_${Buffer.from(h, 'hex').toString('base64')}`), hostileText.map((s) => ` ${s}\n`));
/** A signature header: missing, empty, hostile, or hex/base64/prefixed/padded forms. */
const headerArb: fc.Arbitrary<string | undefined> = fc.oneof(
  fc.constant(undefined),
  fc.constant(''),
  hostileText,
  hex64,
  hex64.map((h) => h.toUpperCase()),
  hex64.map((h) => `sha256=${h}`),
  hex64.map((h) => `x-onepush-signature: ${h}`),
  hex64.map((h) => ` ${h}\r\n`),
  hex64.map((h) => Buffer.from(h, 'hex').toString('base64')),
  hex64.map((h) => Buffer.from(h, 'hex').toString('base64url')),
);

const STATUSES = [200, 400, 401, 403, 405, 413, 431, 503, 508] as const;

const headersArb = fc
  .dictionary(fc.oneof(hostileText, fc.constantFrom('content-type', 'x-onepush-signature', 'user-agent')), fc.oneof(hostileText, fc.array(hostileText, { maxLength: 3 })), { maxKeys: 4, noNullPrototype: true })
  .map((h) => h as IncomingHttpHeaders);

/** A ListenEvent with every string field hostile; payloadText made as the listener makes it for a re-serialised body. */
const listenEventArb: fc.Arbitrary<ListenEvent> = fc
  .record({
    seq: fc.nat(),
    received_at: isoDate,
    method: fc.oneof(fc.constant('POST'), hostileText),
    path: fc.oneof(fc.constant('/webhooks/onepush'), hostileText),
    status: fc.constantFrom(...STATUSES),
    verified: fc.constantFrom(true, false, null),
    reason: fc.option(hostileText, { nil: null }),
    id: fc.option(hostileText, { nil: null }),
    type: fc.option(fc.oneof(fc.constantFrom(...EVENT_TYPES), hostileText), { nil: null }),
    known_type: fc.boolean(),
    first_seen_at: fc.option(isoDate, { nil: null }),
    schema_issues: fc.array(fc.record({ path: hostileText, message: hostileText }), { maxLength: 3 }),
    size: fc.nat(),
    payload: fc.option(eventPayload, { nil: null }),
    headers: headersArb,
  })
  .map((r): ListenEvent => ({ kind: 'event', ...r, duplicate: r.first_seen_at !== null, payloadText: r.payload === null ? null : JSON.stringify(r.payload) }));

/** A ListenEvent the way `listen` makes one: classify (no schema check, as the CLI) a hostile request. */
const classifiedEventArb: fc.Arbitrary<ListenEvent> = fc
  .record({
    seq: fc.nat(),
    received_at: isoDate,
    method: fc.oneof({ weight: 4, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: hostileText }),
    path: fc.oneof(fc.constant('/webhooks/onepush'), hostileText),
    body: bodyBytes,
    secret: fc.option(secretArb, { nil: undefined }),
    signature: headerArb,
    headers: headersArb,
    first_seen_at: fc.option(isoDate, { nil: null }),
  })
  .map((r) => listenEvent(classify({ method: r.method, body: r.body, signature: r.signature }, r.secret, false), r.seq, r, r.received_at, r.body.length, r.first_seen_at));

/** The record listen-output's toRecord makes of an event (not exported: the same 14 fields, in order). */
type EventRecord = Exclude<OutputItem, string>;
function toRecord(ev: ListenEvent, verbose: boolean): EventRecord {
  return [ev.seq, ev.received_at, ev.method, ev.path, ev.status, ev.verified, ev.reason, ev.id, ev.type, ev.known_type, ev.first_seen_at, ev.size, verbose ? ev.headers : null, ev.payloadText];
}

const forwardResultArb: fc.Arbitrary<ForwardResult> = fc.record({
  kind: fc.constant('forward' as const),
  seq: fc.nat(),
  id: fc.option(hostileText, { nil: null }),
  type: fc.option(hostileText, { nil: null }),
  url: hostileText,
  attempt: fc.nat({ max: 1000 }),
  outcome: fc.constantFrom('delivered' as const, 'retrying' as const, 'rejected' as const, 'given_up' as const),
  status: fc.option(fc.integer({ min: 100, max: 599 }), { nil: null }),
  latency_ms: fc.nat({ max: 1e7 }),
  error: fc.option(hostileText, { nil: null }),
  message: fc.option(hostileText, { nil: null }),
  retry_in_ms: fc.option(fc.nat({ max: 1e9 }), { nil: null }),
  queued: fc.nat({ max: 1e6 }),
  response: hostileText,
});

const savePath = fc.oneof(fc.constant('.onepush/events.ndjson'), fc.constant('/tmp/it is here.ndjson'), hostileText);

const summaryArb: fc.Arbitrary<ListenSummary> = fc.record({
  kind: fc.constant('summary' as const),
  received: fc.nat(),
  accepted: fc.nat(),
  valid: fc.nat(),
  invalid: fc.nat(),
  unverified: fc.nat(),
  rejected: fc.nat(),
  duplicates: fc.nat(),
  forwarded: fc.nat(),
  forward_failed: fc.nat(),
  queued: fc.nat({ max: 12 }),
  given_up_ids: fc.array(hostileText, { maxLength: 3 }),
  queued_ids: fc.array(fc.oneof(hostileText, hostileText.map((s) => `#${s}`)), { maxLength: 8 }),
  save: fc.option(savePath, { nil: null }),
  callback_errors: fc.nat(),
  duration_ms: fc.nat({ max: 1e10 }),
});

const plainChalk = new Chalk({ level: 0 });
const colourChalk = new Chalk({ level: 1 });

// ---------------------------------------------------------------------------------------------------------------

describe('receiver core: classify', () => {
  test('classify: any body and signature gets an answer, never an exception', () => {
    fc.assert(
      fc.property(
        fc.oneof({ weight: 4, arbitrary: fc.constant('POST') }, { weight: 1, arbitrary: hostileText }),
        fc.option(bodyBytes, { nil: null, freq: 10 }),
        headerArb,
        fc.option(secretArb, { nil: undefined }),
        fc.option(fc.integer({ min: 2, max: 50 }), { nil: undefined, freq: 5 }),
        fc.boolean(),
        fc.boolean(),
        (method, body, header, secret, conflicting, checkSchema, signIt) => {
          const signature = signIt && body !== null && secret !== undefined ? sign(body, secret) : header;
          const req: IncomingWebhook = { method, body, signature, ...(conflicting === undefined ? {} : { conflictingSignatures: conflicting }) };
          const r = classify(req, secret, checkSchema);
          assert.ok((STATUSES as readonly number[]).includes(r.status), `status ${r.status}`);
          const answer = JSON.parse(r.answer) as Record<string, unknown>;
          if (method !== 'POST') assert.equal(r.status, 405);
          if (r.status === 200) {
            assert.ok(r.payload !== null && typeof r.payload === 'object' && !Array.isArray(r.payload), 'a 200 has an object payload');
            assert.deepEqual(answer, { received: true, id: r.id });
            assert.equal(r.reason === null || typeof r.reason === 'string', true);
          } else {
            assert.equal(typeof answer.error, 'string');
            assert.equal(typeof answer.reason, 'string');
          }
          if (r.payload !== null) {
            assert.ok(r.payloadText !== null);
            assert.ok(!/[\r\n]/.test(r.payloadText), 'payloadText is one line');
            // Same JSON value; compared as JSON text, since re-serialising a body with line breaks writes -0 as 0
            // (JSON.stringify does), which is the same JSON number.
            assert.equal(JSON.stringify(JSON.parse(r.payloadText)), JSON.stringify(r.payload));
          }
          // Conflicting signature headers make a JSON object a 401 with verified false, whatever the one given says.
          if (method === 'POST' && body !== null) {
            assert.equal(r.verified, secret === undefined ? null : conflicting !== undefined && r.payload !== null ? false : verify(body, secret, signature));
          }
          if (secret !== undefined && conflicting !== undefined && r.payload !== null) assert.equal(r.status, 401);
        },
      ),
      runs(1),
    );
  });

  test('classify: a body nested deeper than MAX_JSON_DEPTH is a 400 saying so', () => {
    fc.assert(
      fc.property(deepJson, fc.option(fc.constant('whsec_test'), { nil: undefined }), (d, secret) => {
        const body = Buffer.from(d.text);
        const r = classify({ method: 'POST', body, signature: secret === undefined ? undefined : sign(body, secret) }, secret);
        JSON.parse(r.answer);
        if (d.depth > MAX_JSON_DEPTH) {
          assert.equal(r.status, 400);
          assert.match(r.reason ?? '', /nested deeper/);
        } else if (!d.closed) assert.equal(r.status, 400);
        else assert.equal(r.status, d.object ? 200 : 400);
      }),
      runs(0.5),
    );
  });
});

describe('capture codec', () => {
  const headerName = hostileText.filter((k) => k.toLowerCase() !== '__proto__');
  const captureInput: fc.Arbitrary<CaptureInput> = fc
    .record({
      date: fc.date({ noInvalidDate: true }),
      asString: fc.boolean(),
      method: fc.oneof(fc.constant('POST'), hostileText),
      path: fc.oneof(fc.constant('/webhooks/onepush'), hostileText),
      headers: fc.dictionary(headerName, fc.oneof(hostileText, fc.array(hostileText, { maxLength: 3 }), fc.constant(undefined)), { maxKeys: 5, noNullPrototype: true }),
      body: fc.option(bodyBytes, { nil: null, freq: 8 }),
      giveText: fc.boolean(),
      verified: fc.constantFrom(true, false, null),
      status: fc.integer(),
      reason: fc.option(hostileText, { nil: undefined }),
      declaredSize: fc.option(fc.nat(), { nil: undefined }),
    })
    .map((r) => {
      const input: CaptureInput = {
        receivedAt: r.asString ? r.date.toISOString() : r.date,
        method: r.method,
        path: r.path,
        headers: r.headers,
        body: r.body,
        verified: r.verified,
        status: r.status,
        reason: r.reason,
        declaredSize: r.declaredSize,
      };
      // As the listener does: the decoded text, when the body is valid UTF-8.
      if (r.giveText && r.body !== null && isUtf8(r.body)) input.bodyText = r.body.toString('utf8');
      return input;
    });

  /** The headers a capture must hold: names lowercase, repeated values joined, undefined left out. */
  function expectedHeaders(headers: CaptureInput['headers']): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(headers)) {
      if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
    }
    return out;
  }

  test('decodeCapture: any string decodes or throws CaptureError, nothing else', () => {
    const captureLike = fc
      .record(
        {
          v: fc.oneof(fc.constant(1), fieldValue),
          received_at: fc.oneof(isoDate, fieldValue),
          method: fc.oneof(fc.constant('POST'), fieldValue),
          path: fieldValue,
          headers: fc.oneof(fc.dictionary(hostileKey, fc.oneof(hostileText, fieldValue), { maxKeys: 3, noNullPrototype: true }), fieldValue),
          body: fc.oneof(fc.constant(null), fieldValue),
          body_encoding: fc.oneof(fc.constantFrom('utf8', 'base64'), fieldValue),
          verified: fc.oneof(fc.constantFrom(true, false, null), fieldValue),
          status: fc.oneof(fc.integer(), fieldValue),
          reason: fieldValue,
          declared_size: fieldValue,
        },
        { requiredKeys: [], noNullPrototype: true },
      )
      .map((o) => JSON.stringify(o));
    const text = fc.oneof(hostileText, jsonText, mutatedJson, captureLike, fc.tuple(captureLike, edits).map(([t, e]) => mutate(t, e)), deepJson.map((d) => d.text));
    fc.assert(
      fc.property(text, (line) => {
        try {
          const c = decodeCapture(line);
          assert.equal(c.v, 1);
          captureBody(c);
        } catch (e) {
          if (!(e instanceof CaptureError)) throw e;
        }
      }),
      runs(1),
    );
  });

  test('encodeCapture/decodeCapture: any request round-trips, in one line', () => {
    fc.assert(
      fc.property(captureInput, (input) => {
        const encoded = encodeCapture(input);
        assert.equal(encoded.indexOf('\n'), encoded.length - 1, 'exactly one newline, at the end');
        const c = decodeCapture(encoded.slice(0, -1));
        const bytes = input.body === null ? Buffer.alloc(0) : Buffer.from(input.body);
        assert.ok(captureBody(c).equals(bytes), 'the exact body bytes');
        assert.equal(c.body === null, input.body === null);
        if (input.body !== null) assert.equal(c.body_encoding, isUtf8(input.body) ? 'utf8' : 'base64');
        assert.equal(c.status, input.status);
        assert.equal(c.verified, input.verified);
        assert.equal(c.method, input.method);
        assert.equal(c.path, input.path);
        assert.equal(c.reason, input.reason);
        assert.equal(c.declared_size, input.declaredSize);
        assert.equal(Date.parse(c.received_at), new Date(input.receivedAt).getTime());
        assert.deepStrictEqual({ ...c.headers }, expectedHeaders(input.headers));
      }),
      runs(1),
    );
  });

  test('decodeCapture: a capture line cut anywhere is a CaptureError', () => {
    fc.assert(
      fc.property(captureInput, fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), (input, cuts) => {
        const line = encodeCapture(input).slice(0, -1);
        for (const cut of cuts) {
          const k = cut % line.length;
          assert.throws(() => decodeCapture(line.slice(0, k)), CaptureError, `cut at ${k} of ${line.length}`);
        }
      }),
      runs(1),
    );
  });

  test('decodeCapture: a mutated capture line decodes or is a CaptureError', () => {
    fc.assert(
      fc.property(captureInput, edits, (input, list) => {
        const line = mutate(encodeCapture(input).slice(0, -1), list);
        try {
          captureBody(decodeCapture(line));
        } catch (e) {
          if (!(e instanceof CaptureError)) throw e;
        }
      }),
      runs(1),
    );
  });

  test('capture log: lines written by encodeCapture read back through splitLines, however the bytes are chunked', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(captureInput, { minLength: 1, maxLength: 5 }), fc.array(fc.nat(), { maxLength: 10 }), async (inputs, cuts) => {
        const log = Buffer.from(inputs.map(encodeCapture).join(''));
        const lines = await collect(chunked(log, cuts));
        assert.equal(lines.length, inputs.length);
        lines.forEach((l, i) => {
          const input = inputs[i] as CaptureInput;
          assert.equal(l.terminated, true);
          const c = decodeCapture(l.text);
          assert.ok(captureBody(c).equals(input.body === null ? Buffer.alloc(0) : Buffer.from(input.body)));
          assert.equal(c.status, input.status);
        });
      }),
      runs(0.5),
    );
  });
});

/** `bytes` as a stream cut at the given positions (empty chunks included). */
async function* chunked(bytes: Uint8Array, cuts: number[]): AsyncGenerator<Buffer> {
  const points = cuts.map((c) => c % (bytes.length + 1)).sort((a, b) => a - b);
  let start = 0;
  for (const p of points) {
    yield Buffer.from(bytes.subarray(start, p));
    start = p;
  }
  yield Buffer.from(bytes.subarray(start));
}

async function collect(stream: AsyncIterable<Buffer>, maxBytes?: number): Promise<Line[]> {
  const out: Line[] = [];
  for await (const l of splitLines(stream, maxBytes === undefined ? {} : { maxBytes })) out.push(l);
  return out;
}

/**
 * The lines of `bytes`, simply: split on \n, a \r before it dropped, a last piece without \n kept (unterminated) when
 * not empty, numbered from 1; a piece over `maxBytes` (counted before the \r is dropped) is `tooLong` with empty text.
 */
function referenceLines(bytes: Uint8Array, maxBytes = Infinity): Line[] {
  const buf = Buffer.from(bytes);
  const out: Line[] = [];
  let start = 0;
  let number = 0;
  const piece = (end: number, terminated: boolean): void => {
    number++;
    const b = buf.subarray(start, end);
    if (b.length > maxBytes) out.push({ text: '', number, terminated, tooLong: b.length });
    else {
      const cut = terminated && b.length > 0 && b[b.length - 1] === 13 ? b.length - 1 : b.length;
      out.push({ text: b.toString('utf8', 0, cut), number, terminated });
    }
  };
  for (let i = 0; i < buf.length; i++) {
    if (buf[i] === 10) {
      piece(i, true);
      start = i + 1;
    }
  }
  if (start < buf.length) piece(buf.length, false);
  return out;
}

describe('line reader: splitLines', () => {
  /** Bytes rich in \n, \r and pieces of multi-byte UTF-8. */
  const lineBytes = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.array(fc.oneof(fc.constantFrom(10, 13, 10, 0x61, 0xe2, 0x80, 0xa8, 0xf0, 0x9f, 0xff), fc.integer({ min: 0, max: 255 })), { maxLength: 300 }).map((a) => Uint8Array.from(a)),
    fc.array(fc.oneof(hostileText, fc.constantFrom('\n', '\r\n', '\r', '')), { maxLength: 20 }).map((a) => new Uint8Array(Buffer.from(a.join('')))),
  );
  const cutsArb = fc.array(fc.nat(), { maxLength: 20 });

  test('splitLines: any bytes in any chunking give the reference lines', async () => {
    await fc.assert(
      fc.asyncProperty(lineBytes, cutsArb, async (bytes, cuts) => {
        assert.deepStrictEqual(await collect(chunked(bytes, cuts)), referenceLines(bytes));
      }),
      runs(1),
    );
  });

  test('splitLines: with a small maxBytes, long lines come out tooLong and the next lines are intact', async () => {
    await fc.assert(
      fc.asyncProperty(lineBytes, cutsArb, fc.integer({ min: 1, max: 64 }), async (bytes, cuts, maxBytes) => {
        assert.deepStrictEqual(await collect(chunked(bytes, cuts), maxBytes), referenceLines(bytes, maxBytes));
      }),
      runs(1),
    );
  });
});

describe('JSON with a nesting limit', () => {
  /** Strings full of brackets, quotes and backslashes: they must not count as nesting. */
  const bracketText = fc.string({ unit: fc.constantFrom('[', '{', ']', '}', '"', '\\', 'a', ':', ',') });
  const { value: bracketJson } = fc.letrec<{ value: unknown }>((tie) => ({
    value: fc.oneof(
      { maxDepth: 8, depthSize: 'medium' },
      fc.oneof(bracketText, fc.integer(), fc.constant(null)),
      fc.array(tie('value'), { maxLength: 3 }),
      fc.dictionary(bracketText, tie('value'), { maxKeys: 3, noNullPrototype: true }),
    ),
  }));
  /** A chain nested n deep (arrays and objects mixed) with a bracket-rich string at the bottom. */
  const chain = fc.tuple(fc.array(fc.boolean(), { maxLength: 150 }), bracketText).map(([levels, s]) => {
    let v: unknown = s;
    for (const array of levels) v = array ? [v] : { k: v };
    return v;
  });

  test('withinDepth: agrees with the depth of the value, compact or pretty', () => {
    fc.assert(
      fc.property(fc.oneof(anyJson, bracketJson, chain), fc.integer({ min: 0, max: 160 }), fc.constantFrom<undefined | number | string>(undefined, 2, '\t'), (value, limit, indent) => {
        const text = JSON.stringify(value, null, indent) ?? 'null';
        assert.equal(withinDepth(text, limit), depthOf(value) <= limit, `depth ${depthOf(value)}, limit ${limit}`);
      }),
      runs(1),
    );
  });

  test('withinDepth: brackets inside string literals do not count', () => {
    fc.assert(
      fc.property(bracketText, fc.integer({ min: 0, max: 3 }), (s, limit) => {
        assert.equal(withinDepth(JSON.stringify(s), 0), true);
        assert.equal(withinDepth(JSON.stringify({ [s]: s, a: [s] }), limit), limit >= 2);
      }),
      runs(1),
    );
  });

  test('parseJson: any string parses or throws SyntaxError or JsonDepthError', () => {
    fc.assert(
      fc.property(fc.oneof(hostileText, jsonText, mutatedJson, deepJson.map((d) => d.text)), (text) => {
        try {
          parseJson(text);
        } catch (e) {
          if (!(e instanceof SyntaxError) && !(e instanceof JsonDepthError)) throw e;
        }
      }),
      runs(1),
    );
  });

  test('parseJson: deep JSON is refused with JsonDepthError exactly when over the limit', () => {
    fc.assert(
      fc.property(deepJson, (d) => {
        if (d.depth > MAX_JSON_DEPTH) assert.throws(() => parseJson(d.text), JsonDepthError);
        else if (d.closed) parseJson(d.text);
        else assert.throws(() => parseJson(d.text), SyntaxError);
      }),
      runs(0.5),
    );
  });
});

describe('replay lines: readReplayLine', () => {
  /** A valid capture object with a few of its fields (and reason/declared_size) replaced by hostile JSON. */
  const hostileCapture = fc
    .record({
      body: fc.oneof({ weight: 3, arbitrary: fc.constant(null) }, hostileText, deepJson.map((d) => d.text), eventPayload.map((p) => JSON.stringify(p))),
      encoding: fc.constantFrom('utf8', 'base64'),
      overrides: fc.option(fc.dictionary(fc.constantFrom('received_at', 'method', 'path', 'headers', 'body', 'body_encoding', 'verified', 'status', 'reason', 'declared_size'), fieldValue, { maxKeys: 2, noNullPrototype: true }), { nil: {}, freq: 2 }),
      // A refused request's reason is shown in the skip message: make it any JSON, objects with odd keys included.
      reason: fc.option(
        fc.oneof(hostileText, hostileJson, { weight: 2, arbitrary: fc.dictionary(fc.oneof(hostileKey, fc.constantFrom('toString', 'valueOf')), fieldValue, { minKeys: 1, maxKeys: 2, noNullPrototype: true }) }),
        { nil: undefined },
      ),
    })
    .map(({ body, encoding, overrides, reason }) => {
      const capture: Record<string, unknown> = { v: 1, received_at: FIXED_DATE, method: 'POST', path: '/', headers: {}, body, body_encoding: encoding, verified: null, status: 413 };
      if (reason !== undefined) capture.reason = reason;
      return JSON.stringify(Object.assign(capture, overrides));
    });
  const listenLine = fc
    .record(
      { kind: fc.oneof(fc.constantFrom('event', 'ready', 'summary'), fieldValue), payload: fc.oneof(eventPayload, fieldValue), event: fieldValue, body: fieldValue, received_at: fc.oneof(isoDate, fieldValue), time: fieldValue, id: fieldValue, type: fieldValue },
      { requiredKeys: ['kind'], noNullPrototype: true },
    )
    .map((o) => JSON.stringify(o));
  const anyLine = fc.oneof(hostileText, jsonText, mutatedJson, { weight: 3, arbitrary: hostileCapture }, listenLine, eventPayload.map((p) => JSON.stringify(p)), deepJson.map((d) => d.text));

  test('readReplayLine: any line gives an outcome or a CaptureError, nothing else', () => {
    fc.assert(
      fc.property(anyLine, fc.oneof(fc.constant('-'), hostileText), fc.nat(), (text, source, line) => {
        try {
          readReplayLine(text, source, line);
        } catch (e) {
          if (!(e instanceof CaptureError)) throw e;
        }
      }),
      runs(1),
    );
  });

  test('readReplayLine: a capture whose body is deep JSON is skipped, and a deep line is a CaptureError', () => {
    fc.assert(
      fc.property(deepJson, (d) => {
        const capture = encodeCapture({ receivedAt: FIXED_DATE, method: 'POST', path: '/', headers: {}, body: Buffer.from(d.text), verified: null, status: 200 }).slice(0, -1);
        const outcome = readReplayLine(capture, 'events.ndjson', 1);
        if (d.depth > MAX_JSON_DEPTH) {
          assert.equal(outcome.kind, 'skip');
          assert.match(outcome.kind === 'skip' ? outcome.message : '', /nested deeper/);
          assert.throws(() => readReplayLine(d.text, 'events.ndjson', 1), CaptureError);
          assert.throws(() => readReplayLine(`{"kind":"event","payload":${d.text}}`, 'events.ndjson', 1), CaptureError);
        } else assert.equal(outcome.kind, d.closed && d.object ? 'item' : 'skip');
      }),
      runs(0.5),
    );
  });
});

describe('display helpers', () => {
  const maybeSgr = fc.oneof(controlRich, hostileText, fc.array(fc.oneof(fc.constantFrom('\x1b[', '\x1b', '[', 'm', ';', '0', '1', '2', '3', '5', '8', '9', '22', '31', '39', '90', '38;5;1', '\x9b'), hostileUnit), { maxLength: 30 }).map((a) => a.join('')));

  test('escapeControls: no unsafe character comes out, and safe text is left alone', () => {
    fc.assert(
      fc.property(hostileText, (s) => {
        const out = escapeControls(s);
        assertNoUnsafe(out, 'escapeControls');
        if (!UNSAFE.test(s)) assert.equal(out, s);
      }),
      runs(2),
    );
  });

  test('cell: escaped, and cut to max with the cut said', () => {
    fc.assert(
      fc.property(fc.oneof(hostileText, fc.array(hostileText, { maxLength: 20 }).map((a) => a.join(''))), fc.option(fc.integer({ min: 0, max: 300 }), { nil: undefined }), (s, max) => {
        const out = cell(s, max);
        assertNoUnsafe(out, 'cell');
        const safe = escapeControls(s);
        if (max === undefined || safe.length <= max) assert.equal(out, safe);
        else {
          assert.match(out, /…\(\+[\d,]+ chars\)$/);
          if (max >= 20) assert.ok(out.length <= max, `length ${out.length} > max ${max}`);
        }
      }),
      runs(2),
    );
  });

  test('jsonSafe: the same JSON value, with no DEL, C1, bidi or line separator raw', () => {
    fc.assert(
      fc.property(fc.oneof(anyJson, eventPayload), fc.constantFrom<undefined | number>(undefined, 2), (v, indent) => {
        const text = JSON.stringify(v, null, indent) ?? 'null';
        const safe = jsonSafe(text);
        assert.ok(!JSON_UNSAFE.test(safe), `raw character in ${JSON.stringify(safe)}`);
        if (indent === undefined) assertNoUnsafe(safe, 'jsonSafe of compact JSON');
        assert.deepStrictEqual(JSON.parse(safe), normal(v));
      }),
      runs(2),
    );
  });

  test('terminalSafe: without colour nothing unsafe; with colour only our SGR sequences', () => {
    fc.assert(
      fc.property(maybeSgr, (s) => {
        assertNoUnsafe(terminalSafe(s, false), 'terminalSafe(colour=false)');
        const coloured = terminalSafe(s, true);
        assertOnlyOurSgr(coloured, 'terminalSafe(colour=true)');
        if (!UNSAFE.test(s)) assert.equal(coloured, s);
      }),
      runs(2),
    );
  });

  test('shellArg: a plain token or one single-quoted word that the shell reads back as the escaped text', () => {
    fc.assert(
      fc.property(fc.oneof(hostileText, fc.constantFrom('', "'", "''", 'evt_01', '-rf', 'a b', '$HOME')), (s) => {
        const out = shellArg(s);
        assertNoUnsafe(out, 'shellArg');
        const expected = escapeControls(s);
        if (/^[\w./:@%+=,-]+$/.test(out)) assert.equal(out, expected);
        else {
          assert.ok(out.length >= 2 && out.startsWith("'") && out.endsWith("'"), `not quoted: ${JSON.stringify(out)}`);
          const parts = out.slice(1, -1).split(`'\\''`);
          assert.ok(parts.every((p) => !p.includes("'")), `a quote left open: ${JSON.stringify(out)}`);
          assert.equal(parts.join("'"), expected);
        }
      }),
      runs(2),
    );
  });
});

describe('listen renderers', () => {
  /** Rendered without and with colour: the plain lines carry no control character, the coloured ones only our SGR and nothing more. */
  function checkLines(render: (c: typeof plainChalk) => string[], what: string): void {
    const plain = render(plainChalk);
    for (const line of plain) assertNoUnsafe(line, what);
    const coloured = render(colourChalk);
    for (const line of coloured) assertOnlyOurSgr(line, `${what} (colour)`);
    assert.deepStrictEqual(coloured.map(withoutOurSgr), plain, `${what}: colour changed more than SGR`);
  }

  test('eventLines: no line of any event carries a control character, verbose or not, colour or not', () => {
    fc.assert(
      fc.property(fc.oneof(listenEventArb, classifiedEventArb), fc.boolean(), fc.option(savePath, { nil: null }), (ev, verbose, save) => {
        checkLines((c) => eventLines(ev, { c, clock: utcClock, verbose, save }), 'eventLines');
      }),
      runs(1),
    );
  });

  test('eventJson: through jsonSafe, one JSON line with the event in it', () => {
    fc.assert(
      fc.property(listenEventArb, fc.boolean(), (ev, verbose) => {
        const line = jsonSafe(eventJson(ev, verbose));
        assertNoUnsafe(line, 'eventJson');
        const parsed = JSON.parse(line) as Record<string, unknown>;
        assert.equal(parsed.method, normal(ev.method));
        assert.equal(parsed.path, normal(ev.path));
        assert.equal(parsed.id, normal(ev.id));
        assert.equal(parsed.reason, normal(ev.reason));
        assert.deepStrictEqual(parsed.payload, normal(ev.payload));
        if (verbose) assert.deepStrictEqual(parsed.headers, normal(ev.headers));
      }),
      runs(1),
    );
  });

  const settingsArb: fc.Arbitrary<OutputSettings> = fc.record({
    json: fc.boolean(),
    verbose: fc.boolean(),
    level: fc.constantFrom(0 as const, 1 as const),
    localTime: fc.constant(false),
    save: fc.option(savePath, { nil: null }),
  });

  /** Items as listen posts them: events as records, and rendered lines (JSON lines with --json). */
  function itemsArb(events: fc.Arbitrary<ListenEvent>, s: OutputSettings): fc.Arbitrary<OutputItem[]> {
    const line = s.json ? fc.oneof(forwardResultArb, anyJson).map((v) => JSON.stringify(v) ?? 'null') : fc.oneof(hostileText, fc.tuple(forwardResultArb, fc.constantFrom(plainChalk, colourChalk)).map(([r, c]) => forwardLine(r, c)));
    return fc.array(fc.oneof({ weight: 3, arbitrary: events.map((ev) => toRecord(ev, s.verbose)) }, { weight: 1, arbitrary: line }), { minLength: 1, maxLength: 4 });
  }

  function checkOutput(s: OutputSettings, items: OutputItem[]): void {
    const text = outputRenderer(s)(items);
    assert.ok(text.endsWith('\n'));
    for (const line of text.slice(0, -1).split('\n')) {
      if (s.level === 1 && !s.json) assertOnlyOurSgr(line, 'outputRenderer (colour)');
      else assertNoUnsafe(line, `outputRenderer (${s.json ? 'json' : 'plain'})`);
      if (s.json && items.every((i) => typeof i !== 'string')) JSON.parse(line);
    }
  }

  test('outputRenderer: never throws, and prints no control character but our colours', () => {
    fc.assert(
      fc.property(settingsArb.chain((s) => fc.tuple(fc.constant(s), itemsArb(listenEventArb, s))), ([s, items]) => checkOutput(s, items)),
      runs(0.5),
    );
  });

  test('outputRenderer: colour adds nothing but our SGR sequences to the plain text', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.option(savePath, { nil: null }), fc.array(listenEventArb, { minLength: 1, maxLength: 3 }), (verbose, save, events) => {
        const settings = { json: false, verbose, localTime: false, save };
        const items = events.map((ev) => toRecord(ev, verbose));
        const plain = outputRenderer({ ...settings, level: 0 })(items);
        const coloured = outputRenderer({ ...settings, level: 1 })(items);
        assert.equal(withoutOurSgr(coloured), plain);
      }),
      runs(0.5),
    );
  });

  test('outputRenderer: events classified from hostile requests (the CLI path), pretty, print no control character but our colours', () => {
    fc.assert(
      fc.property(settingsArb.map((s) => ({ ...s, json: false })).chain((s) => fc.tuple(fc.constant(s), itemsArb(classifiedEventArb, s))), ([s, items]) => checkOutput(s, items)),
      runs(0.5),
    );
  });

  test(
    'outputRenderer: events classified from hostile requests (the CLI path), --json, print no control character',
    () => {
      fc.assert(
        fc.property(settingsArb.map((s) => ({ ...s, json: true })).chain((s) => fc.tuple(fc.constant(s), itemsArb(classifiedEventArb, s))), ([s, items]) => checkOutput(s, items)),
        runs(0.5),
      );
    },
  );

  test('forwardLine: no control character from the app answer, error or id', () => {
    fc.assert(
      fc.property(forwardResultArb, fc.boolean(), savePath, hostileText, fc.integer({ min: 0, max: 400 }), (r, signed, save, to, width) =>
        checkLines((c) => [forwardLine(r, c), forwardLine(r, c, { signed, save, forwardTo: to, width, maxAttempts: 3 }), ...responseLines(r.response, c)], 'forwardLine'),
      ),
      runs(2),
    );
  });

  test('summaryLines: no control character from queued ids, save path or target', () => {
    fc.assert(
      fc.property(summaryArb, fc.option(fc.oneof(fc.constant('http://localhost:3000/webhooks/onepush'), hostileText), { nil: null }), (s, forwardTo) => {
        checkLines((c) => summaryLines(s, forwardTo, c), 'summaryLines');
      }),
      runs(1),
    );
  });

  test('bannerLines: no control character from the URL, save path, forward target or filter', () => {
    fc.assert(
      fc.property(hostileText, fc.option(hostileText, { nil: null }), fc.option(hostileText, { nil: null }), fc.option(hostileText, { nil: null }), (url, save, forwardTo, events) => {
        checkLines((c) => bannerLines({ version: '0.1.0', url, host: '127.0.0.1', secretMask: 'whse…', save, forwardTo, events, maxBody: 1_048_576 }, c), 'bannerLines');
      }),
      runs(1),
    );
  });
});

describe('signatures', () => {
  const body = fc.oneof(bodyBytes, hostileText);

  test('verify: never throws, true exactly for the hex HMAC of the body', () => {
    fc.assert(
      fc.property(body, secretArb, headerArb, fc.boolean(), (b, secret, header, useRight) => {
        const right = hmacHex(b, secret);
        const h = useRight ? (header === undefined ? right : right.toUpperCase()) : header;
        assert.equal(verify(b, secret, h), typeof h === 'string' && /^[0-9a-f]{64}$/i.test(h) && h.toLowerCase() === right);
      }),
      runs(1),
    );
  });

  test('explain: never throws for any body, secret and header, and agrees with verify', () => {
    const CODES = new Set(['valid', 'hex-case', 'missing', 'prefix', 'base64', 're-serialised', 'trailing-newline', 'missing-newline', 'crlf', 'secret-whitespace', 'whsec-base64', 'not-hex', 'header-whitespace', 'no-match']);
    /** Headers made the wrong ways explain knows about, so its search runs, over bodies deep or not. */
    const variantHeader = (b: Buffer | string, secret: string): fc.Arbitrary<string | null | undefined> => {
      const bytes = Buffer.from(b);
      return fc.oneof(
        headerArb,
        fc.constant(null),
        fc.constant(`sha256=${hmacHex(bytes, secret)}`),
        fc.constant(hmacHex(Buffer.concat([bytes, Buffer.from('\n')]), secret)),
        fc.constant(hmacHex(bytes, secret.trim())),
        fc.constant(Buffer.from(hmacHex(bytes, secret), 'hex').toString('base64')),
        fc.constant(hmacHex(bytes.toString('utf8').replace(/\n/g, '\r\n'), secret)),
      );
    };
    fc.assert(
      fc.property(
        fc.tuple(fc.oneof(body, deepJson.map((d) => d.text)), secretArb).chain(([b, secret]) => fc.tuple(fc.constant(b), fc.constant(secret), variantHeader(b, secret))),
        ([b, secret, header]) => {
          const e = explain(b, secret, header);
          assert.ok(CODES.has(e.code), e.code);
          assert.equal(typeof e.message, 'string');
          assert.equal(e.valid, verify(b, secret, header));
        },
      ),
      runs(0.5),
    );
  });
});

describe('flags', () => {
  const targetText = fc.oneof(
    hostileText,
    fc.webUrl(),
    fc.tuple(fc.option(fc.oneof(fc.constantFrom('localhost', '127.0.0.1', '[::1]', 'example.test', '', '[zz]'), hostileText), { nil: '' }), fc.option(fc.oneof(fc.nat({ max: 99999 }).map(String), fc.constant('99999999999999999999')), { nil: undefined }), fc.option(fc.oneof(fc.constant('/x'), hostileText.map((s) => `/${s}`)), { nil: '' }), fc.constantFrom('', 'http://', 'https://', 'ftp://', 'a+b.c-d://', 'http://u:p@')).map(
      ([host, port, path, scheme]) => `${scheme}${host}${port === undefined ? '' : `:${port}`}${path}`,
    ),
  );

  test('resolveTarget: an http(s) URL or an OnepushError, nothing else', () => {
    fc.assert(
      fc.property(targetText, (text) => {
        try {
          const url = resolveTarget(text);
          assert.ok(url.protocol === 'http:' || url.protocol === 'https:', url.href);
        } catch (e) {
          if (!isOnepushError(e)) throw e;
        }
      }),
      runs(1),
    );
  });

  test('parseSize: never throws; undefined or a whole number of bytes', () => {
    const sizeText = fc.oneof(hostileText, fc.tuple(fc.constantFrom('', ' ', '\t'), fc.oneof(fc.nat().map(String), fc.double({ noNaN: true }).map(String), fc.constant('9'.repeat(400))), fc.constantFrom('', 'b', 'kb', 'KiB', 'm', 'MB', 'gb', ' k', 'kb\n')).map((a) => a.join('')));
    fc.assert(
      fc.property(sizeText, (text) => {
        const n = parseSize(text);
        assert.ok(n === undefined || (n >= 1 && Math.floor(n) === n), `parseSize(${JSON.stringify(text)}) = ${n}`);
      }),
      runs(2),
    );
  });

  test('parseSince: a time or a TypeError, nothing else', () => {
    const sinceText = fc.oneof(
      hostileText,
      fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
      fc.tuple(fc.oneof(fc.nat().map(String), fc.double({ noNaN: true, min: 0 }).map(String), fc.constant('9'.repeat(400))), fc.constantFrom('s', 'm', 'h', 'd', 'w', 'y', 'M', ' h ', '')).map((a) => a.join('')),
      fc.tuple(fc.constantFrom('2026-01-01', '2026-13-45', '0000-00-00', '9999-12-31'), hostileText).map((a) => a.join('')),
    );
    fc.assert(
      fc.property(sinceText, fc.integer({ min: 0, max: 8.64e15 }), (text, now) => {
        try {
          const t = parseSince(text, now);
          assert.equal(typeof t, 'number');
          assert.ok(!Number.isNaN(t));
        } catch (e) {
          if (!(e instanceof TypeError)) throw e;
        }
      }),
      runs(2),
    );
  });
});
