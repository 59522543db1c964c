import { isUtf8 } from 'node:buffer';
import { createHmac, timingSafeEqual } from 'node:crypto';
import { parseJson } from './json.js';

/** Bytes to sign: a string is taken as its UTF-8 bytes. */
export type Body = string | Uint8Array;

const HEX_64 = /^[0-9a-fA-F]{64}$/;

function hmac(body: Body, key: string | Uint8Array): Buffer {
  return createHmac('sha256', key).update(body).digest();
}

function checkArgs(body: unknown, secret: unknown): void {
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) {
    throw new TypeError('body must be a string or a Uint8Array');
  }
  if (typeof secret !== 'string') throw new TypeError('secret must be a string');
}

/** Lowercase hex HMAC-SHA256 of the exact body bytes, keyed by the secret's UTF-8 bytes. */
export function sign(body: Body, secret: string): string {
  checkArgs(body, secret);
  return hmac(body, secret).toString('hex');
}

/**
 * True when `header` is the hex HMAC-SHA256 of `body` (either case). Constant-time; any header of the
 * wrong length or alphabet, empty or missing, is simply false, never a throw.
 */
export function verify(body: Body, secret: string, header: string | null | undefined): boolean {
  checkArgs(body, secret);
  if (typeof header !== 'string' || !HEX_64.test(header)) return false;
  return timingSafeEqual(hmac(body, secret), Buffer.from(header, 'hex'));
}

/** What `explain` found; `code` is stable for scripts, `message` is for people. */
export interface Explanation {
  valid: boolean;
  code:
    | 'valid'
    | 'hex-case'
    | 'missing'
    | 'prefix'
    | 'base64'
    | 're-serialised'
    | 'trailing-newline'
    | 'missing-newline'
    | 'crlf'
    | 'secret-whitespace'
    | 'whsec-base64'
    | 'not-hex'
    | 'header-whitespace'
    | 'no-match';
  message: string;
}

interface BodyVariant {
  code: Explanation['code'] | null;
  bytes: Buffer;
  what: string;
}

function bodyVariants(raw: Buffer): BodyVariant[] {
  const variants: BodyVariant[] = [{ code: null, bytes: raw, what: '' }];
  const add = (code: Explanation['code'], bytes: Buffer | string, what: string): void => {
    const b = typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : bytes;
    if (!variants.some((v) => v.bytes.equals(b))) variants.push({ code, bytes: b, what });
  };
  // Newline variants work on the bytes, so a body that is not UTF-8 keeps its exact bytes.
  const LF = 0x0a;
  const CR = 0x0d;
  if (raw.length > 0 && raw[raw.length - 1] === LF) {
    const cut = raw.length > 1 && raw[raw.length - 2] === CR ? 2 : 1;
    add('trailing-newline', raw.subarray(0, raw.length - cut), 'the body has a trailing newline that was not signed (an editor, `echo` or a heredoc added it)');
  } else {
    add('missing-newline', Buffer.concat([raw, Buffer.from([LF])]), 'the signed body ended with a newline that this body lacks');
  }
  // Text variants only for text: decoding other bytes as UTF-8 would change them.
  if (!isUtf8(raw)) return variants;
  const text = raw.toString('utf8');
  if (text.includes('\r\n')) {
    add('crlf', text.replace(/\r\n/g, '\n'), 'the body has CRLF line endings where the signed body had LF');
  } else if (text.includes('\n')) {
    add('crlf', text.replace(/\n/g, '\r\n'), 'the signed body had CRLF line endings where this one has LF');
  }
  let parsed: unknown;
  try {
    // Within the nesting limit: the re-serialised forms below walk the value.
    parsed = parseJson(text);
  } catch {
    return variants;
  }
  const sorted = sortKeys(parsed);
  const forms: Array<[unknown, string | number | undefined, string]> = [
    [parsed, undefined, 'compact JSON.stringify'],
    [parsed, 2, 'JSON pretty-printed with 2 spaces'],
    [parsed, 4, 'JSON pretty-printed with 4 spaces'],
    [parsed, '\t', 'JSON pretty-printed with tabs'],
    [sorted, undefined, 'compact JSON with sorted keys'],
    [sorted, 2, 'pretty JSON with sorted keys'],
  ];
  for (const [value, indent, name] of forms) {
    const s = JSON.stringify(value, null, indent);
    add('re-serialised', s, `the signature was made over a re-serialised body (${name}), not these exact bytes`);
    add('re-serialised', `${s}\n`, `the signature was made over a re-serialised body (${name} plus a newline), not these exact bytes`);
  }
  return variants;
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(value).sort()) out[k] = sortKeys((value as Record<string, unknown>)[k]);
    return out;
  }
  return value;
}

interface SecretVariant {
  code: Explanation['code'] | null;
  key: string | Buffer;
  what: string;
}

function secretVariants(secret: string): SecretVariant[] {
  const out: SecretVariant[] = [{ code: null, key: secret, what: '' }];
  const trimmed = secret.trim();
  if (trimmed !== secret) {
    out.push({ code: 'secret-whitespace', key: trimmed, what: 'the secret given here has surrounding whitespace (a newline from a file or `echo`?) that the signer did not use' });
  } else {
    for (const s of [`${secret}\n`, ` ${secret}`, `${secret} `]) {
      out.push({ code: 'secret-whitespace', key: s, what: 'the signer used the secret with surrounding whitespace (a newline from a file or `echo`?)' });
    }
  }
  if (trimmed.startsWith('whsec_')) {
    const decoded = Buffer.from(trimmed.slice('whsec_'.length), 'base64');
    if (decoded.length > 0) {
      out.push({ code: 'whsec-base64', key: decoded, what: 'the signer base64-decoded the part after `whsec_` (the Standard Webhooks/Svix habit); OnePush uses the whole secret literally as the key' });
    }
  }
  return out;
}

interface HeaderForm {
  code: Explanation['code'] | null;
  digest: Buffer;
  what: string;
}

function headerForms(header: string): HeaderForm[] {
  // The whole header line pasted as the value (`onepush sign --header` prints it) is a prefix too.
  const line = /^\s*x-onepush-signature\s*:\s*/i.exec(header);
  const h = (line ? header.slice(line[0].length) : header).trim();
  const forms: HeaderForm[] = [];
  const prefixed = /^sha256[=:]/i.test(h);
  const bare = prefixed ? h.slice(7) : h;
  if (HEX_64.test(bare)) {
    let code: Explanation['code'] | null = null;
    let what = '';
    if (line) {
      code = 'prefix';
      what = 'the value is the whole header line: pass only the hex after `x-onepush-signature:`';
    } else if (prefixed) {
      code = 'prefix';
      what = `the header has a \`${h.slice(0, 7)}\` prefix (GitHub's habit); OnePush sends bare hex`;
    } else if (h !== header) {
      code = 'header-whitespace';
      what = 'the signature has surrounding whitespace (a newline from a file or a copy-paste?)';
    }
    forms.push({ code, digest: Buffer.from(bare, 'hex'), what });
  } else if (/^[A-Za-z0-9+/_-]{43}=?$/.test(bare)) {
    const digest = Buffer.from(bare.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
    if (digest.length === 32) {
      forms.push({ code: 'base64', digest, what: 'the header is base64 (Shopify/Standard Webhooks habit); OnePush sends lowercase hex' });
    }
  }
  return forms;
}

/**
 * Why `header` does not verify `body` with `secret`: tries the usual mistakes of a receiver (`verify --explain`)
 * and names the first that explains the header, or says no known variant matched.
 */
export function explain(body: Body, secret: string, header: string | null | undefined): Explanation {
  checkArgs(body, secret);
  if (typeof header !== 'string' || header.trim() === '') {
    return { valid: false, code: 'missing', message: 'no signature: the x-onepush-signature header is missing or empty' };
  }
  if (verify(body, secret, header)) {
    if (/[A-F]/.test(header)) {
      return { valid: true, code: 'hex-case', message: 'valid, but in upper-case hex: OnePush sends lowercase, and a receiver comparing strings would reject it' };
    }
    return { valid: true, code: 'valid', message: 'valid signature' };
  }
  const forms = headerForms(header);
  if (forms.length === 0) {
    return {
      valid: false,
      code: 'not-hex',
      message: `the signature is not a 64-character hex digest (got ${[...header].length} character${[...header].length === 1 ? '' : 's'}); no known variant matched`,
    };
  }
  const raw = Buffer.from(body);
  const bodies = bodyVariants(raw);
  const secrets = secretVariants(secret);
  // Most likely first: exact body and secret with another header form, then one change at a time.
  for (const b of bodies) {
    for (const s of secrets) {
      const digest = hmac(b.bytes, s.key);
      for (const f of forms) {
        if (!digest.equals(f.digest)) continue;
        const causes = [f, b, s].filter((x) => x.code !== null);
        const first = causes[0];
        if (!first || first.code === null) continue;
        return { valid: false, code: first.code, message: causes.map((c) => c.what).join('; and ') };
      }
    }
  }
  return {
    valid: false,
    code: 'no-match',
    message: 'no known variant matched: the wrong secret, or a different body than the one that was signed',
  };
}
