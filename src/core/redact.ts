import { createHmac } from 'node:crypto';
import { isUtf8 } from 'node:buffer';
import { isIPv4, isIPv6 } from 'node:net';
import { captureBody, type Capture } from './capture.js';
import { parseJson } from './json.js';
import { sign } from './signature.js';

// Captures made safe to commit (issue 17): personal data replaced by stable fakes, bodies re-signed.
//
// What is personal: email addresses (anywhere, `%40`-encoded ones too), display names (of `Name <addr>` mailboxes
// and of name fields), subjects, IPv4 and IPv6 addresses (anywhere: payloads, headers such as x-forwarded-for, the
// path), user agents, and the whole value of a field named like an address (to, from, cc, bcc, reply_to,
// recipient, sender, email, address). A name or subject learnt from one event is also replaced wherever it appears
// in a later string (a diagnostic that quotes the subject). Ids, types, times, tags, URLs (but the addresses and IPs
// in them) and everything else are kept, so lifecycles still line up.
//
// A fake is derived from HMAC-SHA256(seed, kind + original): the same original has the same fake within a run and
// in every run with the same seed (addresses compared without case). Fakes use reserved names only: addresses
// @example.com, IPv4 in 198.18.0.0/15 (RFC 2544), IPv6 in 2001:db8::/32 (RFC 3849). Two originals never share a fake
// in a run (a collision moves the later one on).

/** The seed when none is given: fixtures made twice from one log are byte-identical. */
export const DEFAULT_REDACT_SEED = 'onepush-redact-v1';

type Kind = 'email' | 'name' | 'subject' | 'ip4' | 'ip6' | 'ua';

const ADDRESS_KEYS = new Set(['to', 'from', 'cc', 'bcc', 'replyto', 'recipient', 'recipients', 'sender', 'email', 'emailaddress', 'address', 'envelopefrom', 'envelopeto', 'returnpath']);
const NAME_KEYS = new Set(['name', 'displayname', 'firstname', 'lastname', 'fullname', 'givenname', 'familyname', 'fromname', 'toname', 'recipientname', 'sendername']);
const SUBJECT_KEYS = new Set(['subject']);
const IP_KEYS = new Set(['ip', 'ipaddress', 'clientip', 'remoteip', 'remoteaddr', 'remoteaddress', 'sourceip']);
const UA_KEYS = new Set(['useragent']);
/** Headers onepush rewrites itself, not scanned. */
const OWN_HEADERS = new Set(['x-onepush-signature', 'content-length']);

const normKey = (key: string): string => key.toLowerCase().replace(/[-_\s]/g, '');

const EMAIL = /[A-Za-z0-9._%+-]+(?:@|%40)[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+/gi;
/** `Display Name <addr>` or `"Display, Name" <addr>`: the name part. */
const MAILBOX = /(?:"((?:[^"\\]|\\.)*)"|(\p{L}[\p{L}\p{M}\p{N} .'’-]*?))\s*<[^<>\s@]+@[^<>\s]+>/gu;
const IP4 = /(?<![\d.])(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(?!\.?\d)/g;
const IP6 = /(?<![0-9A-Za-z:.])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?:%[0-9A-Za-z]+)?(?![0-9A-Za-z:])/g;

const escapeRe = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What redacting one capture did. */
export interface RedactedCapture {
  capture: Capture;
  /** Set when a body that is not JSON held personal data and was replaced. */
  bodyReplaced?: boolean;
}

/** A redactor for one run: its map of originals to fakes grows as captures go through it. */
export class Redactor {
  private readonly fakes = new Map<string, string>();
  private readonly taken = new Set<string>();
  /** Names and subjects seen so far, replaced wherever they appear later (longest first). */
  private readonly known = new Map<string, Kind>();
  private knownRe: RegExp | undefined;

  constructor(
    private readonly secret: string,
    private readonly seed: string = DEFAULT_REDACT_SEED,
  ) {}

  /** The fake of `original`: the same every time for one original (in any run with this seed). */
  fake(kind: Kind, original: string): string {
    const key = `${kind}\0${kind === 'email' ? original.toLowerCase() : original}`;
    const had = this.fakes.get(key);
    if (had !== undefined) return had;
    let made = '';
    for (let attempt = 0; ; attempt++) {
      const h = createHmac('sha256', this.seed).update(`${key}\0${attempt}`).digest();
      made = this.make(kind, h);
      if (!this.taken.has(made) && made.toLowerCase() !== original.toLowerCase()) break;
    }
    this.fakes.set(key, made);
    this.taken.add(made);
    return made;
  }

  private make(kind: Kind, h: Buffer): string {
    const hex = h.toString('hex');
    switch (kind) {
      case 'email':
        return `user-${hex.slice(0, 10)}@example.com`;
      case 'name':
        return `Name ${hex.slice(0, 8).toUpperCase()}`;
      case 'subject':
        return `Subject ${hex.slice(0, 10)}`;
      case 'ua':
        return `Mozilla/5.0 (redacted ${hex.slice(0, 8)})`;
      case 'ip4': {
        // 198.18.0.0/15: 198.18.x.y and 198.19.x.y.
        const n = h.readUInt32BE(0) % (1 << 17);
        return `198.${18 + (n >> 16)}.${(n >> 8) & 255}.${n & 255}`;
      }
      case 'ip6':
        return `2001:db8:${[0, 2, 4, 6].map((i) => h.readUInt16BE(i).toString(16)).join(':')}::${h.readUInt16BE(8).toString(16)}`;
    }
  }

  private learn(kind: 'name' | 'subject', value: string): void {
    const v = value.trim();
    if (v.length < 2 || this.known.has(v)) return;
    this.known.set(v, kind);
    this.knownRe = undefined;
  }

  /** Replaces the IPs, addresses and mailbox names found in free text, then the names and subjects already known. */
  scrub(text: string): string {
    let out = text;
    if (out.includes('<')) {
      out = out.replace(MAILBOX, (whole, quoted: string | undefined, bare: string | undefined) => {
        const name = (quoted ?? bare ?? '').trim();
        return name === '' ? whole : whole.replace(name, this.fake('name', name));
      });
    }
    if (out.includes('@') || /%40/i.test(out)) {
      out = out.replace(EMAIL, (m) => {
        const encoded = !m.includes('@');
        const fake = this.fake('email', encoded ? m.replace(/%40/i, '@') : m);
        return encoded ? fake.replace('@', '%40') : fake;
      });
    }
    if (/\d\.\d/.test(out)) out = out.replace(IP4, (m) => (isIPv4(m) ? this.fake('ip4', m) : m));
    if (out.includes(':')) {
      out = out.replace(IP6, (m) => {
        const bare = m.replace(/%.*$/, '');
        return isIPv6(bare) ? this.fake('ip6', bare.toLowerCase()) : m;
      });
    }
    if (this.known.size > 0) {
      this.knownRe ??= new RegExp(
        [...this.known.keys()]
          .sort((a, b) => b.length - a.length)
          .map((k) => `(?<![\\p{L}\\p{N}])${escapeRe(k)}(?![\\p{L}\\p{N}])`)
          .join('|'),
        'gu',
      );
      out = out.replace(this.knownRe, (m) => this.fake(this.known.get(m) ?? 'name', m));
    }
    return out;
  }

  /** First pass over a JSON value: the names and subjects it holds, so the second pass replaces them anywhere. */
  private collect(value: unknown, key: string): void {
    const stack: Array<[unknown, string]> = [[value, key]];
    while (stack.length > 0) {
      const [v, k] = stack.pop() as [unknown, string];
      if (typeof v === 'string') {
        if (NAME_KEYS.has(k)) this.learn('name', v);
        else if (SUBJECT_KEYS.has(k)) this.learn('subject', v);
        else if (v.includes('<')) for (const m of v.matchAll(MAILBOX)) this.learn('name', (m[1] ?? m[2] ?? '').trim());
      } else if (Array.isArray(v)) for (const item of v) stack.push([item, k]);
      else if (v !== null && typeof v === 'object') for (const [ck, cv] of Object.entries(v)) stack.push([cv, normKey(ck)]);
    }
  }

  /** A string field, by its key: a whole replacement for a named personal field, else scrubbed. */
  private field(v: string, k: string): string {
    if (v === '') return v;
    if (SUBJECT_KEYS.has(k)) return this.fake('subject', v);
    if (NAME_KEYS.has(k)) return this.fake('name', v.trim());
    if (UA_KEYS.has(k)) return this.fake('ua', v);
    if (IP_KEYS.has(k)) {
      if (isIPv4(v)) return this.fake('ip4', v);
      if (isIPv6(v)) return this.fake('ip6', v.toLowerCase());
    }
    const scrubbed = this.scrub(v);
    // An address field that held no address onepush recognises is still someone's: replaced whole.
    if (ADDRESS_KEYS.has(k) && scrubbed === v) return this.fake('email', v);
    return scrubbed;
  }

  /** The JSON value with its personal data replaced (keys too), without recursion (any depth parseJson allows). */
  redactJson(root: unknown): unknown {
    this.collect(root, '');
    const holder: { v: unknown } = { v: root };
    const stack: Array<[Record<string, unknown> | unknown[], string | number, string]> = [[holder as Record<string, unknown>, 'v', '']];
    while (stack.length > 0) {
      const [parent, slot, k] = stack.pop() as [Record<string, unknown> | unknown[], string | number, string];
      const v = (parent as Record<string | number, unknown>)[slot];
      if (typeof v === 'string') (parent as Record<string | number, unknown>)[slot] = this.field(v, k);
      else if (Array.isArray(v)) for (let i = 0; i < v.length; i++) stack.push([v, i, k]);
      else if (v !== null && typeof v === 'object') {
        const obj = v as Record<string, unknown>;
        // No prototype: a "__proto__" key of the payload stays a key.
        const rebuilt = Object.create(null) as Record<string, unknown>;
        let renamed = false;
        for (const [ck, cv] of Object.entries(obj)) {
          const nk = this.scrub(ck);
          if (nk !== ck) renamed = true;
          rebuilt[nk] = cv;
        }
        const target = renamed ? rebuilt : obj;
        (parent as Record<string | number, unknown>)[slot] = target;
        for (const ck of Object.keys(target)) stack.push([target, ck, normKey(ck)]);
      }
    }
    return holder.v;
  }

  /**
   * One capture redacted: its JSON body re-serialised (compact) with fakes and re-signed with the secret (the
   * captured `x-onepush-signature` replaced: `verified` true; a capture sent unsigned stays unsigned, one whose
   * signature was invalid keeps it and `verified: false`); header values, the path and the reason scrubbed; `content-length` made the new body's. A body that is not
   * JSON is kept when the patterns find nothing personal in it, else replaced by an empty body (`bodyReplaced`).
   */
  redactCapture(capture: Capture): RedactedCapture {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(capture.headers)) headers[name] = OWN_HEADERS.has(name) ? value : this.scrub(value);
    let body = capture.body;
    let encoding = capture.body_encoding;
    let bodyReplaced = false;
    if (capture.body !== null) {
      const bytes = captureBody(capture);
      let parsed: unknown;
      let json = false;
      if (isUtf8(bytes)) {
        try {
          parsed = parseJson(bytes.toString('utf8'));
          json = true;
        } catch {
          json = false;
        }
      }
      if (json) {
        body = JSON.stringify(this.redactJson(parsed));
        encoding = 'utf8';
      } else {
        const text = bytes.toString(isUtf8(bytes) ? 'utf8' : 'latin1');
        if (this.scrub(text) !== text) {
          body = '';
          encoding = 'utf8';
          bodyReplaced = true;
        }
      }
    }
    const bodyBytes = body === null ? Buffer.alloc(0) : Buffer.from(body, encoding === 'base64' ? 'base64' : 'utf8');
    if ('content-length' in headers && body !== null) headers['content-length'] = String(bodyBytes.length);
    // Re-signed unless it was invalid: a capture that failed verification keeps its signature, which matches the new
    // body no better (a fixture of a bad signature stays one).
    let verified = capture.verified;
    if (body !== null && 'x-onepush-signature' in headers && capture.verified !== false) {
      headers['x-onepush-signature'] = sign(bodyBytes, this.secret);
      verified = true;
    }
    const out: Capture = {
      v: 1,
      received_at: capture.received_at,
      method: capture.method,
      path: this.scrub(capture.path),
      headers,
      body,
      body_encoding: encoding,
      verified,
      status: capture.status,
    };
    if (capture.reason !== undefined) out.reason = this.scrub(capture.reason);
    if (capture.declared_size !== undefined) out.declared_size = capture.declared_size;
    // Fields of a later capture version onepush does not know are not kept: they could hold anything.
    if (bodyReplaced) out.redacted = 'body replaced: not JSON, and it held personal data';
    return bodyReplaced ? { capture: out, bodyReplaced } : { capture: out };
  }
}
