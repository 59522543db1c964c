import { createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeCapture } from '../../src/core/capture.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

// Large capture logs, made fast: one template capture line per event type (the fixtures, as `listen --save`
// writes them), each line a template with its own id, written through one buffered stream.

const PLACEHOLDER = 'evt_@@@@@@@@@@@@@@@@@@@@@@@@@@';

/** The id of line `i` of a generated log: as long as a real one, and sorted as the lines are. */
export function bigLogId(i: number): string {
  return `evt_${String(i).padStart(26, '0')}`;
}

/** The fixtures' types, in a fixed order: line `i` has type `BIG_LOG_TYPES[i % length]`. */
export const BIG_LOG_TYPES: string[] = readdirSync(join(ROOT, 'fixtures'))
  .filter((f) => /^email\.[a-z]+\.json$/.test(f))
  .sort()
  .map((f) => f.slice(0, -'.json'.length));

/**
 * Writes `lines` capture lines to `file` (line i: type BIG_LOG_TYPES[i % n], id bigLogId(i)), signed with
 * `secret` when given (the template's signature: it matches the template body, not a line's own id, so the lines
 * are captured as valid but do not re-verify; they are for paging, not for signatures). Resolves with the bytes
 * written.
 */
export async function writeBigCaptureLog(file: string, lines: number, secret = 'whsec_big'): Promise<number> {
  const templates = BIG_LOG_TYPES.map((type) => {
    const event = JSON.parse(readFileSync(join(ROOT, 'fixtures', `${type}.json`), 'utf8')) as Record<string, unknown>;
    event.id = PLACEHOLDER;
    const body = JSON.stringify(event);
    const line = encodeCapture({
      receivedAt: '2026-11-30T12:00:00.000Z',
      method: 'POST',
      path: '/webhooks/onepush',
      headers: { host: 'localhost:4242', 'content-type': 'application/json', 'user-agent': 'OnePush-Webhooks/1.0', 'x-onepush-signature': createHmac('sha256', secret).update(body).digest('hex') },
      body: Buffer.from(body),
      bodyText: body,
      verified: true,
      status: 200,
    });
    const parts = line.split(PLACEHOLDER);
    if (parts.length !== 2) throw new Error(`the template of ${type} holds its id ${parts.length - 1} times`);
    return parts as [string, string];
  });
  const out = createWriteStream(file, { highWaterMark: 1 << 20 });
  let bytes = 0;
  let chunk = '';
  for (let i = 0; i < lines; i++) {
    const [head, tail] = templates[i % templates.length] as [string, string];
    chunk += head + bigLogId(i) + tail;
    if (chunk.length >= 1 << 20) {
      bytes += chunk.length;
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  bytes += chunk.length;
  out.end(chunk);
  await once(out, 'finish');
  return bytes;
}
