import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { encodeCapture } from '../../src/core/capture.js';

// Large capture logs, made fast (the inspector's API and browser tests): one template capture line per event
// type, each line the template with its own id, written through one buffered stream.

/** The types of a generated log, in order: line `i` has type `BIG_LOG_TYPES[i % length]`. */
export const BIG_LOG_TYPES = ['email.sent', 'email.delivered', 'email.opened', 'email.clicked', 'email.bounced'];

/** The event id of line `i` of a generated log (its email id is em_ and the same digits). */
export function bigLogId(i: number): string {
  return `evt_${String(i).padStart(7, '0')}`;
}

/**
 * Writes a capture log of `count` accepted, unverified lines (line i: type BIG_LOG_TYPES[i % 5], id bigLogId(i),
 * recipient big@example.com); resolves with each template's line length in bytes (newline included), by type.
 */
export async function writeBigCaptureLog(file: string, count: number): Promise<number[]> {
  const templates = BIG_LOG_TYPES.map((type) => {
    const body = JSON.stringify({ id: 'evt_@@@@@@@', type, created_at: '2026-11-26T15:55:55.123Z', data: { email_id: 'em_@@@@@@@', to: ['big@example.com'] } });
    const line = encodeCapture({ receivedAt: '2026-11-30T12:00:00.000Z', method: 'POST', path: '/webhooks/onepush', headers: { 'content-type': 'application/json' }, body: Buffer.from(body), verified: null, status: 200 });
    // The line without its newline (encodeCapture ends it with one).
    return line.replace(/\n$/, '').split('@@@@@@@');
  });
  const out = createWriteStream(file);
  const lengths = templates.map((t) => Buffer.byteLength(t.join('0000000')) + 1);
  let chunk = '';
  for (let i = 0; i < count; i++) {
    const id = String(i).padStart(7, '0');
    chunk += `${(templates[i % templates.length] as string[]).join(id)}\n`;
    if (chunk.length > 1 << 20) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
  return lengths;
}
