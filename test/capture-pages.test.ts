import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { CapturePages } from '../src/adapters/capture-pages.js';
import { acceptedIdOf, curlCommand } from '../src/app/inspect.js';
import { setBounded } from '../src/core/bounded.js';
import { encodeCapture } from '../src/core/capture.js';
import { filterQuery, parseFilter, rowMatcher, type InspectRow } from '../src/core/inspect-model.js';

// The inspector's paging of capture logs (src/adapters/capture-pages.ts) and its pure helpers.

const dir = mkdtempSync(join(tmpdir(), 'onepush-pages-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let k = 0;
const file = (text: string): string => {
  const path = join(dir, `log-${k++}.ndjson`);
  writeFileSync(path, text);
  return path;
};

/** Every line, newest first, paging `limit` at a time. */
function allPages(pages: CapturePages, limit: number): string[] {
  const out: string[] = [];
  let before: number | null = null;
  for (;;) {
    const { lines, next } = pages.before(before, limit);
    out.push(...lines.map((l) => l.text));
    if (next === null) return out;
    assert.ok(lines.length > 0, 'a page with nothing in it must be the last');
    before = next;
  }
}

describe('CapturePages: capture logs read as pages from the end', () => {
  test('pages newest first, each line once, across files and page sizes', () => {
    const a = Array.from({ length: 250 }, (_, i) => `a${i}`);
    const b = Array.from({ length: 10 }, (_, i) => `b${i}`);
    const pages = new CapturePages([file(`${a.join('\n')}\n`), file(`${b.join('\n')}\n`)]);
    try {
      const expected = [...a, ...b].reverse();
      for (const limit of [1, 7, 100, 1000]) assert.deepEqual(allPages(pages, limit), expected, `limit ${limit}`);
    } finally {
      pages.close();
    }
  });

  test('a record is named by where its line starts, and line(n) reads exactly it; any other n is no record', () => {
    const pages = new CapturePages([file('first\nsecond line\nthird\n')]);
    try {
      const { lines } = pages.before(null, 10);
      assert.deepEqual(lines.map((l) => [l.n, l.text]), [[18, 'third'], [6, 'second line'], [0, 'first']]);
      assert.equal(pages.line(6)?.text, 'second line');
      for (const n of [1, 7, 19, 24, -1, 1.5, Number.MAX_SAFE_INTEGER + 2]) assert.equal(pages.line(n), undefined, String(n));
    } finally {
      pages.close();
    }
  });

  test('a line being written (no newline yet) is not a record; a line longer than one read is read whole', () => {
    const long = 'x'.repeat(3 * 1024 * 1024);
    const pages = new CapturePages([file(`one\n${long}\nhalf a li`)]);
    try {
      const texts = allPages(pages, 10);
      assert.deepEqual(texts.map((t) => t.length), [long.length, 3]);
      assert.equal(pages.line(4)?.text.length, long.length);
    } finally {
      pages.close();
    }
  });

  test('counting runs in the background and reaches every line; visit sees each whole line once', async () => {
    const lines = Array.from({ length: 20_000 }, (_, i) => `line ${i}`);
    const pages = new CapturePages([file(`${lines.join('\n')}\n`)]);
    try {
      const seen: string[] = [];
      await pages.count((bytes, start, end) => seen.push(bytes.toString('utf8', start, end)));
      assert.deepEqual(pages.total, { lines: 20_000, complete: true });
      assert.deepEqual(seen, lines);
    } finally {
      pages.close();
    }
  });

  test('a growing log: new lines are taken in by refresh (the newest `keep`), counted and paged', async () => {
    const path = file('a\n');
    const pages = new CapturePages([path], true);
    try {
      await pages.count();
      appendFileSync(path, 'b\nc\nd\npartial');
      const seen: number[] = [];
      const fresh = pages.refresh((_b, _s, _e, n) => seen.push(n), 2);
      assert.deepEqual(fresh.map((l) => l.text), ['c', 'd']);
      assert.deepEqual(seen, [2, 4, 6]);
      assert.equal(pages.total.lines, 4);
      assert.deepEqual(allPages(pages, 2), ['d', 'c', 'b', 'a']);
      appendFileSync(path, ' line\n');
      assert.deepEqual(pages.refresh(() => {}, 10).map((l) => l.text), ['partial line']);
    } finally {
      pages.close();
    }
  });

  test('a growing log deleted and started again: its last lines, then the new file, are read on', async () => {
    const path = file('a\n');
    const pages = new CapturePages([path], true);
    try {
      await pages.count();
      appendFileSync(path, 'b\n');
      renameSync(path, `${path}.old`);
      writeFileSync(path, 'c\n');
      assert.deepEqual(pages.refresh(() => {}, 10).map((l) => l.text), ['b', 'c']);
      assert.deepEqual(allPages(pages, 1), ['c', 'b', 'a']);
      assert.equal(pages.total.lines, 3);
    } finally {
      pages.close();
    }
  });

  test('a growing log truncated and written again: the old records name nothing (never other lines), the new ones page', async () => {
    const path = file('aaaa\nbbbb\n');
    const pages = new CapturePages([path], true);
    try {
      await pages.count();
      writeFileSync(path, 'c\n');
      assert.deepEqual(pages.refresh(() => {}, 10).map((l) => [l.n, l.text]), [[10, 'c']]);
      assert.equal(pages.line(0), undefined, 'record 0 was "aaaa": it is gone, not "c"');
      assert.deepEqual(allPages(pages, 1), ['c']);
    } finally {
      pages.close();
    }
  });

  test('a file that cannot be paged is an error naming it: missing, a folder', () => {
    assert.throws(() => new CapturePages([join(dir, 'missing.ndjson')]), /cannot read .*missing\.ndjson: /);
    assert.throws(() => new CapturePages([dir]), /not a regular file/);
  });
});

describe('the inspector\'s pure helpers', () => {
  const capture = (body: string, status = 200): Buffer =>
    Buffer.from(encodeCapture({ receivedAt: new Date(0), method: 'POST', path: '/', headers: { 'x-note': '"id":"evt_header"' }, body: Buffer.from(body), verified: true, status }).slice(0, -1));

  test('setBounded keeps the newest entries: never more than cap and a quarter, the oldest out first, down to cap', () => {
    const m = new Map<number, number>();
    for (let i = 0; i < 1000; i++) {
      setBounded(m, i, i * 2, 100);
      assert.ok(m.size <= 125, `size ${m.size} after ${i + 1}`);
    }
    const keys = [...m.keys()];
    assert.equal(keys[keys.length - 1], 999);
    assert.deepEqual(keys, Array.from({ length: keys.length }, (_, j) => 1000 - keys.length + j), 'the newest, in order');
    assert.ok(keys.length >= 100);
    setBounded(m, 5, 1, 100);
    assert.equal(m.get(5), 1, 'a key set again is kept (as the newest)');
  });

  test('acceptedIdOf: the event id of an accepted line, never one from a header or a refused line', () => {
    const line = capture('{"id":"evt_1","type":"email.sent","data":{"id":"inner"}}');
    assert.equal(acceptedIdOf(line, 0, line.length), 'evt_1');
    const refused = capture('{"id":"evt_2"}', 401);
    assert.equal(acceptedIdOf(refused, 0, refused.length), null);
    const noId = capture('{"type":"email.sent"}');
    assert.equal(acceptedIdOf(noId, 0, noId.length), null);
  });

  test('curlCommand: bash gets the exact bytes (quotes, a body with control characters through base64)', () => {
    const plain = curlCommand('http://localhost:3000/x', { 'x-onepush-signature': 'ab' }, Buffer.from(`{"a":"it's"}`));
    assert.match(plain, /--data-binary '\{"a":"it'\\''s"\}'$/);
    const binary = curlCommand('http://localhost:3000/x', {}, Buffer.from([0x7b, 0x1b, 0xff, 0x7d]));
    assert.match(binary, /^printf %s exv\/fQ== \| base64 -d \| curl /);
  });

  test('rowMatcher: type globs, status classes, verification, endpoint and search all narrow; the query round-trips', () => {
    const row = (over: Partial<InspectRow>): InspectRow => ({
      n: 0, seq: null, received_at: '', method: 'POST', path: '/', status: 200, verified: true, reason: null, id: 'evt_1', type: 'email.bounced',
      kind: 'problem', email_id: 'em_1', recipient: 'Bob@Example.com', duplicate: false, schema_issues: 0, size: 1, forwards: [], source: null, ...over,
    });
    const rows = [row({}), row({ n: 1, status: 401, verified: false, type: 'email.sent', id: 'evt_2' }), row({ n: 2, verified: null, forwards: [{ url: 'http://a/', outcome: 'delivered', status: 200, attempts: 1 }] })];
    const ns = (f: Parameters<typeof rowMatcher>[0]): number[] => rows.filter(rowMatcher(f)).map((r) => r.n);
    assert.deepEqual(ns({ type: 'email.b*' }), [0, 2]);
    assert.deepEqual(ns({ status: '4xx' }), [1]);
    assert.deepEqual(ns({ status: '200' }), [0, 2]);
    assert.deepEqual(ns({ status: 'nonsense' }), []);
    assert.deepEqual(ns({ verified: 'invalid' }), [1]);
    assert.deepEqual(ns({ verified: 'unverified' }), [2]);
    assert.deepEqual(ns({ endpoint: 'http://a/' }), [2]);
    assert.deepEqual(ns({ q: 'bob@example' }), [0, 1, 2]);
    assert.deepEqual(ns({ q: 'em_9' }), []);
    assert.deepEqual(ns({ q: 'EVT_2' }), [1]);
    const f = { type: 'email.*', status: '2xx', verified: 'valid' as const, q: 'a b&c' };
    assert.deepEqual(parseFilter(new URLSearchParams(filterQuery(f))), f);
    assert.deepEqual(parseFilter(new URLSearchParams('verified=maybe&type=&x=1')), {});
  });
});
