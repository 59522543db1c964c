import { NotACaptureLog, readCaptureLog } from '../adapters/capture-log.js';
import { captureBody } from '../core/capture.js';
import { parseJson } from '../core/json.js';
import { explain, verify, type Explanation } from '../core/signature.js';

// The verify use case: a body against a signature, or every capture of a capture log against the signature it
// was received with. Streams: a log of any size is read a line at a time.

/** The verdict on one body. */
export interface VerifyResult {
  /** The file (`-` for stdin). */
  source: string;
  /** The capture log line, for captures. */
  line?: number;
  /** The event id, when the body has one. */
  id?: string;
  valid: boolean;
  /** Set when the body could not be checked (a capture of a request refused before its body was read). */
  skipped?: boolean;
  code: Explanation['code'] | 'no-body';
  message: string;
}

export interface VerifyOptions {
  secret: string;
  /** Name the cause of a mismatch (re-serialised JSON, a trailing newline, another encoding, …). */
  explain?: boolean;
}

/** The input is not a capture log (its first line is not a capture), or a line of it is malformed. */
export { NotACaptureLog };

/** Verifies one body against a signature header value. */
export function verifyBody(body: Buffer | string, signature: string | undefined, options: VerifyOptions): Pick<VerifyResult, 'valid' | 'code' | 'message'> {
  if (options.explain) {
    const e = explain(body, options.secret, signature);
    return { valid: e.valid, code: e.code, message: e.message };
  }
  if (verify(body, options.secret, signature)) return { valid: true, code: 'valid', message: 'valid signature' };
  if (signature === undefined || signature.trim() === '') return { valid: false, code: 'missing', message: 'no signature: the x-onepush-signature header is missing or empty' };
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) {
    const n = [...signature].length;
    return { valid: false, code: 'not-hex', message: `the signature is not a 64-character hex digest (got ${n} character${n === 1 ? '' : 's'})` };
  }
  return { valid: false, code: 'no-match', message: 'signature does not match the body' };
}

function idOf(body: Buffer): string | undefined {
  try {
    const id = (parseJson(body.toString('utf8')) as { id?: unknown } | null)?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies every capture of a capture log (a file, or `-` for `stdin`), in order. A torn last line (a crash
 * mid-write) is passed to `onTorn` and skipped; any other malformed line throws NotACaptureLog.
 */
export async function* verifyCaptureLog(
  file: string,
  options: VerifyOptions & { stdin?: () => NodeJS.ReadableStream; onTorn?: (line: number) => void },
): AsyncGenerator<VerifyResult> {
  for await (const { capture, line } of readCaptureLog(file, options.stdin ?? (() => process.stdin), options.onTorn)) {
    const base = { source: file, line };
    if (capture.body === null) {
      yield { ...base, valid: false, skipped: true, code: 'no-body', message: `skipped: the body was not captured (answered ${capture.status})` };
      continue;
    }
    const body = captureBody(capture);
    const id = idOf(body);
    yield { ...base, ...(id === undefined ? {} : { id }), ...verifyBody(body, capture.headers['x-onepush-signature'], options) };
  }
}
