import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { explain, sign, verify } from '../src/core/signature.js';
import { loadVectors } from './helpers/vectors.js';
import { junkHeaders } from './helpers/junk-headers.js';

// The pure signature core (issue #2): known vectors computed by openssl, verify's junk handling, and one test
// per `explain` variant of SPEC.md §2.

const SECRET = 'whsec_test_secret';
const BODY = '{"id":"evt_1","type":"email.sent","created_at":"2026-11-26T15:55:55.123Z","data":{"to":["jane@example.com"],"b":1,"a":2}}';
const hmacHex = (body: string | Buffer, key: string | Buffer): string => createHmac('sha256', key).update(body).digest('hex');

describe('sign: known vectors (openssl dgst -sha256 -hmac)', () => {
  const { secret, vectors } = loadVectors();
  for (const v of vectors) {
    test(`${v.file} (${v.bytes} bytes)`, () => {
      const bytes = readFileSync(v.path);
      assert.equal(bytes.length, v.bytes);
      assert.equal(sign(bytes, secret), v.signature);
      assert.equal(verify(bytes, secret, v.signature), true);
      assert.equal(verify(bytes, secret, v.signature.toUpperCase()), true);
    });
  }
  test('a string body is signed as its UTF-8 bytes', () => {
    const v = vectors.find((x) => x.file === 'unicode.json');
    assert.ok(v);
    assert.equal(sign(readFileSync(v.path, 'utf8'), secret), v.signature);
  });
  test('lowercase hex, 64 characters', () => {
    assert.match(sign(BODY, SECRET), /^[0-9a-f]{64}$/);
  });
});

describe('verify: never throws on a bad header', () => {
  const good = sign(BODY, SECRET);
  const junk = junkHeaders(good);
  for (const [name, header] of junk) {
    test(name, () => {
      assert.equal(verify(BODY, SECRET, header as string), false);
    });
  }
  test('wrong secret and tampered body are false', () => {
    assert.equal(verify(BODY, 'other', good), false);
    assert.equal(verify(BODY.replace('evt_1', 'evt_2'), SECRET, good), false);
    assert.equal(verify(`${BODY} `, SECRET, good), false);
  });
  test('a valid signature in either case is true', () => {
    assert.equal(verify(BODY, SECRET, good), true);
    assert.equal(verify(BODY, SECRET, good.toUpperCase()), true);
    assert.equal(verify(Buffer.from(BODY), SECRET, good), true);
  });
  test('is constant-time: every well-formed header is compared whole, by crypto.timingSafeEqual on two 32-byte digests', async () => {
    // crypto.timingSafeEqual watched (node:crypto's own export, seen by ESM imports once synced): each verify of a
    // 64-hex header must make exactly one call on two 32-byte buffers (after the length check: never a throw), and
    // decide on nothing else: no early-exit comparison of strings or buffers before it.
    const crypto = (await import('node:crypto')).default;
    const { syncBuiltinESMExports } = await import('node:module');
    const real = crypto.timingSafeEqual;
    const calls: Array<[number, number]> = [];
    crypto.timingSafeEqual = (a, b) => {
      calls.push([a.byteLength, b.byteLength]);
      return real(a, b);
    };
    syncBuiltinESMExports();
    try {
      const good = hmacHex(BODY, SECRET);
      const flip = (i: number): string => `${good.slice(0, i)}${good[i] === '0' ? '1' : '0'}${good.slice(i + 1)}`;
      const cases: Array<[string, boolean]> = [
        [good, true],
        [good.toUpperCase(), true],
        [flip(0), false],
        [flip(63), false],
        ['0'.repeat(64), false],
        [hmacHex(BODY, 'another secret'), false],
      ];
      for (const [header, expected] of cases) {
        calls.length = 0;
        assert.equal(verify(BODY, SECRET, header), expected, header);
        assert.deepEqual(calls, [[32, 32]], `one whole comparison for ${header}`);
      }
      // Not 64 hex characters: false at once (nothing secret is compared), never a throw.
      for (const header of ['', good.slice(0, 63), `${good}0`, 'g'.repeat(64)]) {
        calls.length = 0;
        assert.equal(verify(BODY, SECRET, header), false);
        assert.deepEqual(calls, []);
      }
    } finally {
      crypto.timingSafeEqual = real;
      syncBuiltinESMExports();
    }
  });
});

describe('explain: names the cause of each variant', () => {
  const check = (header: string, code: string, words: RegExp, body: string | Buffer = BODY, secret = SECRET): void => {
    const e = explain(body, secret, header);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, words);
  };
  const parsed = JSON.parse(BODY) as Record<string, unknown>;

  test('valid', () => {
    const e = explain(BODY, SECRET, sign(BODY, SECRET));
    assert.deepEqual(e, { valid: true, code: 'valid', message: 'valid signature' });
  });
  test('re-serialised: pretty-printed JSON', () => {
    check(hmacHex(JSON.stringify(parsed, null, 2), SECRET), 're-serialised', /re-serialised.*pretty-printed with 2 spaces/);
  });
  test('re-serialised: compact JSON of a pretty body', () => {
    const pretty = JSON.stringify(parsed, null, 2);
    check(hmacHex(JSON.stringify(parsed), SECRET), 're-serialised', /re-serialised.*compact/, pretty);
  });
  test('re-serialised: keys in another order', () => {
    const sorted = JSON.stringify(parsed, Object.keys(flattenKeys(parsed)).sort());
    check(hmacHex(sorted, SECRET), 're-serialised', /sorted keys/);
  });
  test('trailing newline in the body', () => {
    check(hmacHex(BODY, SECRET), 'trailing-newline', /trailing newline/, `${BODY}\n`);
  });
  test('trailing newline in the signed body', () => {
    check(hmacHex(`${BODY}\n`, SECRET), 'missing-newline', /ended with a newline/);
  });
  test('CRLF line endings', () => {
    const lf = JSON.stringify(parsed, null, 2);
    check(hmacHex(lf, SECRET), 'crlf', /CRLF/, lf.replace(/\n/g, '\r\n'));
  });
  test('secret with surrounding whitespace (given here)', () => {
    check(hmacHex(BODY, SECRET), 'secret-whitespace', /whitespace/, BODY, `${SECRET}\n`);
  });
  test('secret with surrounding whitespace (used by the signer)', () => {
    check(hmacHex(BODY, `${SECRET}\n`), 'secret-whitespace', /whitespace/);
  });
  test('whsec_ secret base64-decoded by the signer', () => {
    const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
    check(hmacHex(BODY, Buffer.from(secret.slice(6), 'base64')), 'whsec-base64', /base64-decoded.*whsec_/, BODY, secret);
  });
  test('upper-case hex', () => {
    const e = explain(BODY, SECRET, sign(BODY, SECRET).toUpperCase());
    assert.equal(e.valid, true);
    assert.equal(e.code, 'hex-case');
    assert.match(e.message, /upper-case hex/);
  });
  test('base64 encoding of the digest', () => {
    check(Buffer.from(sign(BODY, SECRET), 'hex').toString('base64'), 'base64', /base64/);
  });
  test('base64url encoding of the digest', () => {
    check(Buffer.from(sign(BODY, SECRET), 'hex').toString('base64url'), 'base64', /base64/);
  });
  test('sha256= prefix', () => {
    check(`sha256=${sign(BODY, SECRET)}`, 'prefix', /sha256=.*prefix/);
  });
  test('the whole header line given as the value', () => {
    check(`x-onepush-signature: ${sign(BODY, SECRET)}`, 'prefix', /whole header line/);
  });
  test('signature with surrounding whitespace', () => {
    check(` ${sign(BODY, SECRET)}\n`, 'header-whitespace', /signature has surrounding whitespace/);
  });
  test('two causes at once are both named', () => {
    const e = explain(`${BODY}\n`, SECRET, `sha256=${sign(BODY, SECRET)}`);
    assert.equal(e.code, 'prefix');
    assert.match(e.message, /prefix.*and.*trailing newline/);
  });
  test('wrong secret: no known variant matched', () => {
    check(sign(BODY, 'another secret'), 'no-match', /no known variant matched/);
  });
  test('tampered body: no known variant matched', () => {
    check(sign(BODY.replace('evt_1', 'evt_2'), SECRET), 'no-match', /no known variant matched/);
  });
  test('junk header: not hex, no known variant matched', () => {
    for (const h of ['xyz', 'a'.repeat(63), '🎉'.repeat(32), 'a'.repeat(128)]) {
      const e = explain(BODY, SECRET, h);
      assert.equal(e.valid, false);
      assert.equal(e.code, 'not-hex', h);
      assert.match(e.message, /no known variant matched/);
    }
  });
  test('missing header', () => {
    for (const h of ['', '  ', undefined, null]) assert.equal(explain(BODY, SECRET, h).code, 'missing');
  });
  test('a non-JSON binary body does not throw', () => {
    const bin = Buffer.from([0, 255, 1, 254, 10]);
    assert.equal(explain(bin, SECRET, sign(bin, 'x')).code, 'no-match');
    assert.equal(explain(bin, SECRET, hmacHex(bin.subarray(0, 4), SECRET)).code, 'trailing-newline');
  });
});

/** Every key name at any depth (a replacer array for JSON.stringify with sorted keys). */
function flattenKeys(value: unknown, out: Record<string, true> = {}): Record<string, true> {
  if (Array.isArray(value)) for (const v of value) flattenKeys(v, out);
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      out[k] = true;
      flattenKeys(v, out);
    }
  }
  return out;
}
