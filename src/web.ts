// onepush-cli/web: `sign` and `verify` on Web Crypto (crypto.subtle) and TextEncoder only, for handlers that run
// where node:crypto is not (edge runtimes, Workers, Deno, Bun, browsers) or where a Request's ArrayBuffer is what
// there is. Same signature as the Node build (src/core/signature.ts), asynchronous. Imports nothing: the build
// (scripts/build.mjs) fails if dist/web.js mentions a `node:` module or Buffer.

/** The bytes to sign: a string is taken as its UTF-8 bytes; any typed array or DataView as its bytes. */
export type WebBody = string | Uint8Array | ArrayBuffer | ArrayBufferView;

const encoder = new TextEncoder();
const HEX = '0123456789abcdef';
const HEX_64 = /^[0-9a-fA-F]{64}$/;

// `instanceof` would fail for bytes made in another realm (an iframe, a vm context): ask the brand instead.
const isArrayBuffer = (x: unknown): x is ArrayBuffer => Object.prototype.toString.call(x) === '[object ArrayBuffer]';

function bytesOf(body: unknown): Uint8Array<ArrayBuffer> {
  if (typeof body === 'string') return encoder.encode(body);
  if (isArrayBuffer(body)) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) {
    const view = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
    // Web Crypto takes bytes of an ArrayBuffer: a view of a SharedArrayBuffer is copied.
    return isArrayBuffer(view.buffer) ? (view as Uint8Array<ArrayBuffer>) : view.slice();
  }
  throw new TypeError('body must be a string, a Uint8Array or an ArrayBuffer');
}

async function hmac(body: unknown, secret: unknown): Promise<Uint8Array> {
  const data = bytesOf(body);
  if (typeof secret !== 'string') throw new TypeError('secret must be a string');
  // Web Crypto refuses an empty HMAC key; HMAC pads a short key with zeros to the block size (64 bytes for
  // SHA-256), so the empty key and 64 zero bytes are the same key.
  const raw = secret === '' ? new Uint8Array(64) : encoder.encode(secret);
  const key = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign']);
  return new Uint8Array(await crypto.subtle.sign('HMAC', key, data));
}

/** Lowercase hex HMAC-SHA256 of the exact body bytes, keyed by the secret's UTF-8 bytes. */
export async function sign(body: WebBody, secret: string): Promise<string> {
  let out = '';
  for (const b of await hmac(body, secret)) out += HEX[b >> 4]! + HEX[b & 15]!;
  return out;
}

/**
 * True when `header` is the hex HMAC-SHA256 of `body` (either case). Every byte of the digest is compared, without
 * an early exit; a missing, empty, short, long or non-hex header is false, never a rejection.
 */
export async function verify(body: WebBody, secret: string, header: string | null | undefined): Promise<boolean> {
  const expected = await hmac(body, secret);
  if (typeof header !== 'string' || !HEX_64.test(header)) return false;
  let diff = 0;
  for (let i = 0; i < 32; i++) diff |= expected[i]! ^ parseInt(header.slice(2 * i, 2 * i + 2), 16);
  return diff === 0;
}
