// The inspector's page: plain DOM, no framework. Everything shown comes from hostile data (payloads, headers, the
// app's responses), so it only ever goes in through textContent and attribute setters (dom.ts): no innerHTML, no
// link built from data (the one link is the download, built from a record number). The server's CSP allows this
// script and app.css, nothing else (no inline style attribute, no inline script).
import { setBounded } from '../core/bounded.js';
import {
  filterQuery,
  isEmptyFilter,
  parseFilter,
  rowMatcher,
  type ActionResult,
  type CurlRequest,
  type ForwardUpdate,
  type InspectDetail,
  type InspectFilter,
  type InspectInfo,
  type InspectRow,
  type LiveBatch,
  type RecordPage,
  type ReplayRequest,
  type RowForward,
  type SendRequest,
} from '../core/inspect-model.js';
import { byId, clear, fill, h, option } from './dom.js';
import { clock, forwardText, plural, statusClass, statusText } from './format.js';
import { highlightJson } from './json-view.js';

/** Rows asked per page. */
const PAGE = 100;
/** The most rows kept in the DOM (older ones stay reachable through "older"). */
const MAX_DOM = 200;
const API = '/_onepush/api';

const token = document.querySelector<HTMLMetaElement>('meta[name="onepush-token"]')?.content ?? '';

// ---------------------------------------------------------------------------------------------------------------
// API

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: { 'x-onepush-token': token }, cache: 'no-store' };
  if (body !== undefined) {
    init.headers = { 'x-onepush-token': token, 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const res = await fetch(path, init);
  const text = await res.text();
  if (!res.ok) {
    let message = text.trim() || res.statusText;
    try {
      const j = JSON.parse(text) as unknown;
      if (j !== null && typeof j === 'object' && typeof (j as { error?: unknown }).error === 'string') message = (j as { error: string }).error;
    } catch {
      // not JSON: the text as is
    }
    throw new ApiError(res.status, `${res.status}: ${message.slice(0, 2000)}`);
  }
  return JSON.parse(text) as T;
}

const errorText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

// ---------------------------------------------------------------------------------------------------------------
// The DOM (built once)

const statusOptions: Array<[string, string]> = [
  ['', 'any'],
  ['2xx', '2xx'],
  ['4xx', '4xx'],
  ['5xx', '5xx'],
  ['401', '401'],
  ['400', '400'],
];

function labelled(text: string, control: HTMLElement): HTMLLabelElement {
  return h('label', { class: 'field' }, h('span', { class: 'field-label', text }), control);
}

const ui = (() => {
  const filterType = h('input', { id: 'filter-type', attrs: { type: 'text', placeholder: 'email.b*, email.opened', spellcheck: 'false', autocomplete: 'off' } });
  const filterStatus = h('select', { id: 'filter-status' }, ...statusOptions.map(([v, l]) => option(v, l)));
  const filterVerified = h(
    'select',
    { id: 'filter-verified' },
    option('', 'any'),
    option('valid', 'valid'),
    option('invalid', 'invalid'),
    option('unverified', 'unverified'),
  );
  const filterEndpoint = h('select', { id: 'filter-endpoint' }, option('', 'any'));
  const endpointField = labelled('endpoint', filterEndpoint);
  endpointField.hidden = true;
  const search = h('input', { id: 'search', attrs: { type: 'search', placeholder: 'id, email id or recipient  ( / )', spellcheck: 'false', autocomplete: 'off' } });

  const header = h(
    'header',
    { id: 'top' },
    h('h1', { text: 'onepush inspector' }),
    h('span', { id: 'mode', class: 'pill', text: '…' }),
    h('span', { id: 'sources', class: 'muted mono' }),
    h('span', { class: 'spacer' }),
    h('span', { id: 'indexing', class: 'pill warn', text: 'indexing…', attrs: { hidden: '' } }),
    h('span', { id: 'total', class: 'muted' }),
    h('span', { id: 'status', class: 'conn conn-connecting', text: 'connecting…', attrs: { role: 'status' } }),
  );

  const filters = h(
    'div',
    { id: 'filters', attrs: { role: 'search' } },
    labelled('type', filterType),
    labelled('status', filterStatus),
    labelled('signature', filterVerified),
    endpointField,
    h('label', { class: 'field grow' }, h('span', { class: 'field-label', text: 'search' }), search),
  );

  const replayUrl = h('input', { id: 'replay-url', attrs: { type: 'text', spellcheck: 'false', autocomplete: 'off', 'aria-label': 'replay to' } });
  const replaySigning = h(
    'select',
    { id: 'replay-signing', attrs: { 'aria-label': 'replay signing' } },
    option('sign', 're-signed'),
    option('original', 'original bytes and signature'),
  );
  const replayAll = h('button', { id: 'replay-all', text: 'Replay all matching', attrs: { type: 'button' } });
  const toolbar = h(
    'div',
    { id: 'toolbar' },
    h('button', { id: 'newer', text: '← newer', attrs: { type: 'button' } }),
    h('button', { id: 'older', text: 'older →', attrs: { type: 'button' } }),
    h('span', { id: 'count', class: 'muted' }),
    h('button', { id: 'new-notice', class: 'notice', attrs: { type: 'button', hidden: '' } }),
    h('span', { class: 'spacer' }),
    h('label', { class: 'field grow-url' }, h('span', { class: 'field-label', text: 'replay to' }), replayUrl),
    replaySigning,
    replayAll,
  );

  const actionResult = h('div', { id: 'action-result', attrs: { role: 'status', 'aria-live': 'polite', hidden: '' } });

  // A grid of divs, not a <table>: each row is its own layout container (content-visibility: auto), so
  // putting rows on top relays out only the rows on screen.
  const tbody = h('div', { id: 'rows', attrs: { role: 'rowgroup' } });
  const list = h(
    'div',
    { id: 'list', attrs: { role: 'table', 'aria-label': 'requests, newest first' } },
    h(
      'div',
      { class: 'list-head', attrs: { role: 'row' } },
      ...['time', 'type', 'id', 'recipient', 'sig', 'status', 'marks', 'forwards'].map((c) => h('div', { class: `col-${c}`, text: c, attrs: { role: 'columnheader' } })),
    ),
    tbody,
  );
  const empty = h('p', { id: 'empty', class: 'muted', attrs: { hidden: '' } });
  const more = h('button', { id: 'more', text: 'keep searching older', attrs: { type: 'button', hidden: '' } });
  const listWrap = h('div', { id: 'list-wrap', attrs: { tabindex: '-1' } }, list, empty, more);

  const detail = h('aside', { id: 'detail', attrs: { hidden: '', 'aria-label': 'record detail' } });

  document.body.append(header, filters, toolbar, actionResult, h('main', { id: 'main' }, listWrap, detail));
  return { filterType, filterStatus, filterVerified, filterEndpoint, endpointField, search, replayUrl, replaySigning, replayAll, actionResult, tbody, listWrap, empty, more, detail };
})();

// ---------------------------------------------------------------------------------------------------------------
// State

let info: InspectInfo | null = null;
let filter: InspectFilter = {};
let matches = rowMatcher(filter);
/** The `before` of each newer page (a stack: "newer" pops), with the position of its first row. */
let newerStack: Array<{ before: number | undefined; offset: number }> = [];
let current: { before: number | undefined; offset: number } = { before: undefined, offset: 0 };
/** `before` for the next older page (null: nothing older). */
let olderCursor: number | null = null;
let loadSeq = 0;
let loading = false;
/** Rows looked at by the server for the current view (filtered). */
let scanned = 0;
let total = 0;
/** On the first page: the highest record number accounted for (live rows above it are new). */
let newestN = -1;
/** Live rows parsed, waiting for the next frame (oldest first). */
let liveQueue: InspectRow[] = [];
/** Live batches as received (the SSE data, unparsed: a burst is parsed newest first, and only as far as shown). */
let rawBatches: string[] = [];
/**
 * Live rows accepted but not in the DOM yet: each batch newest first, put just above its anchor (the row that was
 * on top when it came; null: at the end), a few per frame. Inserting before the same anchor keeps a batch in order,
 * and a newer batch's anchor is above every row of an older one, so the list stays newest first.
 */
let batches: Array<{ rows: InspectRow[]; anchor: Element | null }> = [];
/** Forward updates of rows not rendered yet (bounded). */
const pendingForwards = new Map<number, RowForward[]>();
let framePending = false;
let newWhileAway = 0;
const rowEls = new Map<number, HTMLDivElement>();
const rowData = new Map<number, InspectRow>();
let selected: HTMLDivElement | null = null;
let detailN: number | null = null;
let detail: InspectDetail | null = null;
let editing = false;
let detailSeq = 0;

const isFirstPage = (): boolean => current.before === undefined;

// ---------------------------------------------------------------------------------------------------------------
// Rows

function cell(cls: string, text: string, title?: string): HTMLDivElement {
  const td = document.createElement('div');
  td.className = cls;
  td.setAttribute('role', 'cell');
  td.textContent = text;
  if (title !== undefined) td.title = title;
  return td;
}

function badge(cls: string, text: string, title: string): HTMLSpanElement {
  return h('span', { class: `badge ${cls}`, text, title });
}

function fillForwards(td: HTMLDivElement, forwards: RowForward[]): void {
  clear(td);
  for (const f of forwards) td.appendChild(badge(`fw fw-${f.outcome}`, forwardText(f), f.url));
}

function renderRow(r: InspectRow): HTMLDivElement {
  const tr = document.createElement('div');
  tr.className = 'row';
  tr.setAttribute('role', 'row');
  const pending = pendingForwards.get(r.n);
  if (pending !== undefined) {
    r.forwards = pending;
    pendingForwards.delete(r.n);
  }
  tr.dataset.n = String(r.n);
  const type = cell(`type kind-${r.kind ?? 'unknown'}`, r.type ?? `${r.method} ${r.path}`, r.type ?? undefined);
  const verified = cell(
    `verified ${r.verified === true ? 'v-yes' : r.verified === false ? 'v-no' : 'v-none'}`,
    r.verified === true ? '✔' : r.verified === false ? '✘' : '–',
    r.verified === null ? 'signature not checked' : (r.reason ?? (r.verified ? 'valid signature' : 'invalid signature')),
  );
  const marks = cell('marks', '');
  if (r.duplicate) marks.appendChild(badge('mark-dup', 'dup', 'a redelivery of an id seen before'));
  if (r.schema_issues > 0) marks.appendChild(badge('mark-schema', 'schema', plural(r.schema_issues, 'schema issue')));
  const forwards = cell('forwards', '');
  fillForwards(forwards, r.forwards);
  tr.append(
    cell('time', clock(r.received_at), r.received_at),
    type,
    cell('id', r.id ?? '–', r.id ?? undefined),
    cell('recipient', r.recipient ?? '', r.recipient ?? undefined),
    verified,
    cell(`status ${statusClass(r.status)}`, String(r.status), statusText(r.status)),
    marks,
    forwards,
  );
  rowEls.set(r.n, tr);
  rowData.set(r.n, r);
  return tr;
}

function forget(tr: HTMLDivElement): void {
  const n = Number(tr.dataset.n);
  rowEls.delete(n);
  rowData.delete(n);
  if (tr === selected) selected = null;
}

function clearRows(): void {
  batches = [];
  clear(ui.tbody);
  rowEls.clear();
  rowData.clear();
  selected = null;
}

function rowCount(): number {
  return ui.tbody.childElementCount;
}

/** Drops the oldest rows past MAX_DOM; "older" then goes on from the oldest row kept. */
function trimRows(): void {
  let dropped = false;
  while (ui.tbody.childElementCount > MAX_DOM) {
    const last = ui.tbody.lastElementChild as HTMLDivElement;
    forget(last);
    last.remove();
    dropped = true;
  }
  if (dropped) {
    const oldest = ui.tbody.lastElementChild as HTMLDivElement | null;
    if (oldest !== null) olderCursor = Number(oldest.dataset.n);
    ui.more.hidden = true;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Pages

async function loadPage(before: number | undefined, append = false): Promise<void> {
  const seq = ++loadSeq;
  loading = true;
  pendingForwards.clear();
  const parts = [`limit=${PAGE}`];
  if (before !== undefined) parts.push(`before=${before}`);
  const fq = filterQuery(filter);
  if (fq !== '') parts.push(fq);
  setCount('loading…');
  let page: RecordPage;
  try {
    page = await api<RecordPage>('GET', `${API}/records?${parts.join('&')}`);
  } catch (e) {
    if (seq !== loadSeq) return;
    loading = false;
    setCount(`could not load the records: ${errorText(e)}`);
    return;
  }
  if (seq !== loadSeq) return;
  loading = false;
  total = Math.max(total, page.total);
  if (!append) {
    const keep = selected?.dataset.n;
    clearRows();
    scanned = 0;
    if (isFirstPage()) {
      newestN = page.newest ?? -1;
      newWhileAway = 0;
      liveQueue = liveQueue.filter((r) => r.n > newestN && matches(r));
    } else liveQueue = [];
    if (keep !== undefined) pendingSelect = Number(keep);
  }
  scanned += page.scanned;
  const frag = document.createDocumentFragment();
  for (const r of page.rows) if (!rowEls.has(r.n)) frag.appendChild(renderRow(r));
  ui.tbody.appendChild(frag);
  olderCursor = page.next;
  ui.more.hidden = !(!isEmptyFilter(filter) && page.rows.length < PAGE && page.next !== null);
  if (pendingSelect !== null) {
    const tr = rowEls.get(pendingSelect);
    if (tr !== undefined) select(tr, false);
    pendingSelect = null;
  }
  updatePaging();
  renderTotals();
  scheduleFrame();
}
let pendingSelect: number | null = null;

/** Sets an element's text only when it changes (a burst updates the counters every frame). */
function setText(e: HTMLElement, text: string): void {
  if (e.textContent !== text) e.textContent = text;
}

function setCount(text: string): void {
  setText(byId('count'), text);
}

function updatePaging(): void {
  const newer = byId('newer') as HTMLButtonElement;
  const older = byId('older') as HTMLButtonElement;
  if (newer.disabled !== (newerStack.length === 0)) newer.disabled = newerStack.length === 0;
  if (older.disabled !== (olderCursor === null)) older.disabled = olderCursor === null;
  const n = rowCount();
  if (!isEmptyFilter(filter)) {
    setCount(`${n.toLocaleString('en-US')} matching (scanned ${scanned.toLocaleString('en-US')})`);
  } else if (n === 0) {
    setCount(`no records (${total.toLocaleString('en-US')} in all)`);
  } else {
    setCount(`showing ${(current.offset + 1).toLocaleString('en-US')}–${(current.offset + n).toLocaleString('en-US')} of ${total.toLocaleString('en-US')}`);
  }
  const empty = n !== 0 || loading;
  if (ui.empty.hidden !== empty) ui.empty.hidden = empty;
  setText(ui.empty, isEmptyFilter(filter) ? 'No records yet: send a webhook to the listener.' : 'Nothing matches the filter on this page.');
  const notice = byId('new-notice');
  if (notice.hidden !== (newWhileAway === 0)) notice.hidden = newWhileAway === 0;
  setText(notice, `${newWhileAway.toLocaleString('en-US')} new — show`);
}

function goFirst(): void {
  newerStack = [];
  current = { before: undefined, offset: 0 };
  newWhileAway = 0;
  void loadPage(undefined);
  ui.listWrap.scrollTop = 0;
}

function goOlder(): void {
  if (olderCursor === null) return;
  newerStack.push(current);
  current = { before: olderCursor, offset: current.offset + rowCount() };
  void loadPage(current.before);
  ui.listWrap.scrollTop = 0;
}

function goNewer(): void {
  const prev = newerStack.pop();
  if (prev === undefined) return;
  current = prev;
  if (isFirstPage()) newWhileAway = 0;
  void loadPage(current.before);
  ui.listWrap.scrollTop = 0;
}

// ---------------------------------------------------------------------------------------------------------------
// Filters (kept in the URL hash)

function readFilterControls(): InspectFilter {
  const f: InspectFilter = {};
  const type = ui.filterType.value.trim();
  if (type !== '') f.type = type;
  if (ui.filterStatus.value !== '') f.status = ui.filterStatus.value;
  const v = ui.filterVerified.value;
  if (v === 'valid' || v === 'invalid' || v === 'unverified') f.verified = v;
  if (ui.filterEndpoint.value !== '') f.endpoint = ui.filterEndpoint.value;
  const q = ui.search.value.trim();
  if (q !== '') f.q = q;
  return f;
}

function ensureOption(select: HTMLSelectElement, value: string): void {
  if (value !== '' && ![...select.options].some((o) => o.value === value)) select.appendChild(option(value, value));
}

function writeFilterControls(f: InspectFilter): void {
  ui.filterType.value = f.type ?? '';
  ensureOption(ui.filterStatus, f.status ?? '');
  ui.filterStatus.value = f.status ?? '';
  ui.filterVerified.value = f.verified ?? '';
  ensureOption(ui.filterEndpoint, f.endpoint ?? '');
  ui.filterEndpoint.value = f.endpoint ?? '';
  if (f.endpoint !== undefined) ui.endpointField.hidden = false;
  ui.search.value = f.q ?? '';
}

function applyFilter(f: InspectFilter): void {
  filter = f;
  matches = rowMatcher(f);
  const q = filterQuery(f);
  if (location.hash.slice(1) !== q) history.replaceState(null, '', q === '' ? location.pathname + location.search : `#${q}`);
  liveQueue = [];
  goFirst();
}

let filterTimer: number | undefined;
function onFilterInput(debounce: boolean): void {
  window.clearTimeout(filterTimer);
  const run = (): void => {
    const f = readFilterControls();
    if (filterQuery(f) !== filterQuery(filter)) applyFilter(f);
  };
  if (debounce) filterTimer = window.setTimeout(run, 200);
  else run();
}

ui.filterType.addEventListener('input', () => onFilterInput(true));
ui.search.addEventListener('input', () => onFilterInput(true));
for (const s of [ui.filterStatus, ui.filterVerified, ui.filterEndpoint]) s.addEventListener('change', () => onFilterInput(false));
window.addEventListener('hashchange', () => {
  const f = parseFilter(new URLSearchParams(location.hash.slice(1)));
  if (filterQuery(f) === filterQuery(filter)) return;
  writeFilterControls(f);
  applyFilter(f);
});

// ---------------------------------------------------------------------------------------------------------------
// Header

function renderTotals(): void {
  setText(byId('total'), plural(total, 'record'));
}

function renderInfo(i: InspectInfo): void {
  byId('mode').textContent = i.mode;
  const sources = byId('sources');
  sources.textContent = i.sources.length === 0 ? (i.url ?? '') : i.sources.join(', ');
  sources.title = i.sources.length === 0 ? (i.url !== null ? 'the webhook URL' : '') : i.sources.join('\n');
  byId('indexing').hidden = !i.indexing;
  total = Math.max(total, i.total);
  renderTotals();
  // endpoints
  const keep = ui.filterEndpoint.value;
  clear(ui.filterEndpoint);
  ui.filterEndpoint.appendChild(option('', 'any'));
  for (const e of i.endpoints) ui.filterEndpoint.appendChild(option(e, e));
  ensureOption(ui.filterEndpoint, keep);
  ui.filterEndpoint.value = keep;
  ui.endpointField.hidden = i.endpoints.length === 0 && keep === '';
  ui.replayUrl.placeholder = i.endpoints.length > 0 ? 'the forward target' : 'http://localhost:3000/webhooks';
  ui.replayUrl.title = i.endpoints.length > 0 ? `empty: ${i.endpoints.join(', ')}` : '';
}

async function loadInfo(): Promise<void> {
  try {
    const i = await api<InspectInfo>('GET', `${API}/info`);
    info = i;
    renderInfo(i);
    if (detail !== null) renderSendSigning();
    // While the capture files are counted only the total grows (pages are read from the end, newest first).
    if (i.indexing) window.setTimeout(() => void loadInfo(), 1000);
  } catch (e) {
    byId('mode').textContent = 'offline';
    setCount(`could not reach the inspector: ${errorText(e)}`);
    window.setTimeout(() => void loadInfo(), 3000);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Live updates: queued, rendered at most once per animation frame

/**
 * The list is redrawn at most every MIN_REDRAW_MS: the first rows after a quiet spell show at once, a stream of
 * them is drawn in steps (each redraw repaints the whole list, which is what costs in a burst).
 */
const MIN_REDRAW_MS = 100;
let lastRedraw = -Infinity;

function scheduleFrame(): void {
  if (framePending) return;
  framePending = true;
  const wait = lastRedraw + MIN_REDRAW_MS - performance.now();
  if (wait > 0) window.setTimeout(() => requestAnimationFrame(flushLive), wait);
  else requestAnimationFrame(flushLive);
}

/** Time one frame may spend parsing live batches. */
const PARSE_BUDGET_MS = 4;

/** Whether the live rows are shown as they come (first page, not loading a page). */
const showingLive = (): boolean => isFirstPage() && !loading;

function takeBatch(raw: string): LiveBatch | null {
  try {
    const b = JSON.parse(raw) as LiveBatch;
    total = Math.max(total, b.total);
    return b;
  } catch {
    return null; // a malformed batch: skipped
  }
}

/**
 * Parses the queued batches. On the first page: newest first, only until a screenful of matching rows is found or
 * the frame's parsing budget is spent; the older batches left are dropped, and so are the rows shown below them, so
 * that the list stays one run of the newest records and "older" goes on from its end (nothing is lost: it is all on
 * the server).
 */
function drainRaw(): void {
  if (rawBatches.length === 0 || loading) return;
  if (isFirstPage()) {
    const start = performance.now();
    const found: InspectRow[] = [];
    let oldestSeen = Infinity;
    let i = rawBatches.length - 1;
    let cut = false;
    for (; i >= 0; i--) {
      if (found.length >= PAGE || performance.now() - start > PARSE_BUDGET_MS) {
        cut = true;
        break;
      }
      const b = takeBatch(rawBatches[i] as string);
      if (b === null) continue;
      for (let j = b.rows.length - 1; j >= 0; j--) {
        const r = b.rows[j] as InspectRow;
        if (r.n <= newestN) continue;
        if (found.length >= PAGE) {
          cut = true;
          break;
        }
        oldestSeen = Math.min(oldestSeen, r.n);
        if (matches(r)) found.push(r);
      }
    }
    rawBatches = [];
    found.reverse();
    if (cut && Number.isFinite(oldestSeen)) {
      // a gap below the rows found: start the list afresh from them
      clearRows();
      liveQueue = found;
      olderCursor = oldestSeen;
      ui.more.hidden = true;
    } else liveQueue = liveQueue.length === 0 ? found : liveQueue.concat(found);
    return;
  }
  // Paged back: every batch is counted for the "N new" notice, a slice of them per frame.
  const start = performance.now();
  let i = 0;
  for (; i < rawBatches.length && performance.now() - start < PARSE_BUDGET_MS; i++) {
    const b = takeBatch(rawBatches[i] as string);
    if (b !== null) for (const r of b.rows) if (matches(r)) newWhileAway++;
  }
  rawBatches = rawBatches.slice(i);
  if (rawBatches.length > 0) scheduleFrame();
}

/** Time one frame may spend building rows. */
const RENDER_BUDGET_MS = 4;


function flushLive(): void {
  framePending = false;
  drainRaw();
  renderTotals();
  if (!showingLive()) {
    updatePaging();
    return;
  }
  const rows = liveQueue.filter((r) => r.n > newestN);
  liveQueue = [];
  if (rows.length > 0) {
    for (const r of rows) newestN = Math.max(newestN, r.n);
    batches.unshift({ rows: rows.reverse(), anchor: ui.tbody.firstElementChild });
  }
  if (batches.length === 0) return;
  const start = performance.now();
  lastRedraw = start;
  while (batches.length > 0 && performance.now() - start < RENDER_BUDGET_MS) {
    const b = batches[0] as (typeof batches)[number];
    if (b.anchor !== null && !b.anchor.isConnected) {
      // its anchor went past the bottom of the list: so would these (older) rows
      batches.shift();
      continue;
    }
    const frag = document.createDocumentFragment();
    let k = 0;
    for (; k < b.rows.length && (k & 7 || performance.now() - start < RENDER_BUDGET_MS); k++) {
      const r = b.rows[k] as InspectRow;
      if (!rowEls.has(r.n)) frag.appendChild(renderRow(r));
    }
    b.rows = b.rows.slice(k);
    ui.tbody.insertBefore(frag, b.anchor);
    if (b.rows.length === 0) batches.shift();
  }
  trimRows();
  updatePaging();
  if (batches.length > 0) scheduleFrame();
}

function onRows(raw: string): void {
  rawBatches.push(raw);
  scheduleFrame();
}

let detailRefresh: number | undefined;
function onForwards(updates: ForwardUpdate[]): void {
  for (const u of updates) {
    const r = rowData.get(u.n);
    if (r !== undefined) r.forwards = u.forwards;
    else {
      // not rendered yet (or not parsed yet): applied when it is
      setBounded(pendingForwards, u.n, u.forwards, 1000);
    }
    const tr = rowEls.get(u.n);
    const td = tr?.querySelector<HTMLDivElement>('.forwards');
    if (td) fillForwards(td, u.forwards);
    if (u.n === detailN) {
      window.clearTimeout(detailRefresh);
      detailRefresh = window.setTimeout(() => {
        if (detailN === u.n) void openDetail(u.n, { keepScroll: true });
      }, 150);
    }
  }
}

function setConn(state: 'connecting' | 'live' | 'reconnecting' | 'closed', text: string): void {
  const s = byId('status');
  s.className = `conn conn-${state}`;
  s.textContent = text;
}

function connect(): void {
  const es = new EventSource(`${API}/stream?token=${encodeURIComponent(token)}`);
  es.addEventListener('open', () => setConn('live', 'live'));
  es.addEventListener('error', () => {
    if (es.readyState === EventSource.CLOSED) {
      setConn('closed', 'disconnected');
      window.setTimeout(connect, 3000);
    } else setConn('reconnecting', 'reconnecting…');
  });
  es.addEventListener('rows', (ev) => onRows((ev as MessageEvent<string>).data));
  es.addEventListener('forwards', (ev) => {
    try {
      onForwards(JSON.parse((ev as MessageEvent<string>).data) as ForwardUpdate[]);
    } catch {
      // skipped
    }
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Selection

function select(tr: HTMLDivElement | null, scroll = true): void {
  selected?.classList.remove('selected');
  selected?.removeAttribute('aria-selected');
  selected = tr;
  if (tr === null) return;
  tr.classList.add('selected');
  tr.setAttribute('aria-selected', 'true');
  if (scroll) tr.scrollIntoView({ block: 'nearest' });
}

function move(delta: 1 | -1): void {
  const rows = ui.tbody;
  let next: Element | null;
  if (selected === null || !selected.isConnected) next = delta > 0 ? rows.firstElementChild : rows.lastElementChild;
  else next = delta > 0 ? selected.nextElementSibling : selected.previousElementSibling;
  if (next instanceof HTMLDivElement) select(next);
}

ui.tbody.addEventListener('click', (ev) => {
  const tr = (ev.target as Element).closest<HTMLDivElement>('.row');
  if (tr === null) return;
  select(tr, false);
  void openDetail(Number(tr.dataset.n));
});

// ---------------------------------------------------------------------------------------------------------------
// Detail

function section(title: string, ...children: HTMLElement[]): HTMLElement {
  return h('section', { class: 'detail-section' }, h('h3', { text: title }), ...children);
}

function verificationView(d: InspectDetail): HTMLElement {
  const v = d.verification;
  const word = !v.checked ? 'unchecked' : v.valid === true ? 'valid' : v.valid === false ? 'invalid' : 'unchecked';
  return h(
    'div',
    { id: 'detail-verification', class: `verification ver-${word}` },
    h('span', { class: 'ver-word', text: word }),
    ' ',
    h('span', { class: 'ver-message', text: v.message }),
    ' ',
    // The stable code (as `verify --explain --json` gives it) when it says more than the word.
    v.code === word || v.code === 'unchecked' ? null : h('code', { class: 'ver-code muted', text: `(${v.code})` }),
  );
}

function headersView(d: InspectDetail): HTMLElement {
  const table = h('table', { id: 'detail-headers', class: 'kv' });
  const tbody = h('tbody');
  for (const [name, value] of d.headers) tbody.appendChild(h('tr', {}, h('th', { text: name }), h('td', { text: value })));
  if (d.headers.length === 0) tbody.appendChild(h('tr', {}, h('td', { class: 'muted', text: 'no headers' })));
  table.appendChild(tbody);
  return table;
}

function bodyView(d: InspectDetail): HTMLElement {
  const pretty = h('pre', { id: 'detail-body-pretty', class: 'body json' });
  const raw = h('pre', { id: 'detail-body-raw', class: 'body' });
  if (d.body.text === null) {
    pretty.textContent = `the body was not read (${plural(d.body.size, 'byte')})`;
    raw.textContent = pretty.textContent;
  } else {
    if (d.body.pretty !== null) pretty.appendChild(highlightJson(d.body.pretty));
    else pretty.textContent = d.body.encoding === 'base64' ? '(not UTF-8: see raw, base64)' : '(not JSON: see raw)';
    raw.textContent = d.body.text;
  }
  raw.hidden = true;
  const tabPretty = h('button', { id: 'tab-pretty', class: 'tab active', text: 'pretty', attrs: { type: 'button', role: 'tab', 'aria-selected': 'true' } });
  const tabRaw = h('button', {
    id: 'tab-raw',
    class: 'tab',
    text: d.body.encoding === 'base64' ? 'raw (base64)' : 'raw',
    attrs: { type: 'button', role: 'tab', 'aria-selected': 'false' },
  });
  const show = (which: 'pretty' | 'raw'): void => {
    pretty.hidden = which !== 'pretty';
    raw.hidden = which !== 'raw';
    tabPretty.classList.toggle('active', which === 'pretty');
    tabRaw.classList.toggle('active', which === 'raw');
    tabPretty.setAttribute('aria-selected', String(which === 'pretty'));
    tabRaw.setAttribute('aria-selected', String(which === 'raw'));
  };
  tabPretty.addEventListener('click', () => show('pretty'));
  tabRaw.addEventListener('click', () => show('raw'));
  return h(
    'div',
    { class: 'body-tabs' },
    h('div', { class: 'tabs', attrs: { role: 'tablist' } }, tabPretty, tabRaw, h('span', { class: 'muted', text: plural(d.body.size, 'byte') })),
    pretty,
    raw,
  );
}

function schemaView(d: InspectDetail): HTMLElement {
  const box = h('div', { id: 'detail-schema' });
  if (d.schema_issues.length === 0) box.appendChild(h('p', { class: 'muted', text: 'no schema issues' }));
  else {
    const ul = h('ul', { class: 'issues' });
    for (const i of d.schema_issues) ul.appendChild(h('li', {}, h('code', { text: i.path || '(root)' }), ' ', h('span', { text: i.message })));
    box.appendChild(ul);
  }
  return box;
}

function attemptsView(d: InspectDetail): HTMLElement {
  const box = h('div', { id: 'detail-attempts' });
  if (d.attempts.length === 0) {
    box.appendChild(h('p', { class: 'muted', text: 'not forwarded' }));
    return box;
  }
  for (const a of d.attempts) {
    const line = h(
      'div',
      { class: 'attempt-line' },
      h('span', { class: `badge fw fw-${a.outcome}`, text: a.outcome.replace('_', ' ') }),
      h('span', { class: `status ${statusClass(a.status)}`, text: a.status === null ? 'no answer' : statusText(a.status) }),
      h('span', { class: 'muted', text: `attempt #${a.attempt}` }),
      h('span', { class: 'muted', text: `${Math.round(a.latency_ms)} ms` }),
      h('code', { class: 'attempt-url', text: a.url }),
    );
    const notes = [a.error, a.message, a.retry_in_ms !== null ? `retry in ${Math.round(a.retry_in_ms)} ms` : null].filter((x): x is string => x !== null && x !== '');
    box.appendChild(
      h(
        'div',
        { class: 'attempt' },
        line,
        notes.length > 0 ? h('div', { class: 'attempt-note', text: notes.join(' — ') }) : null,
        h('details', {}, h('summary', { text: `response (${a.response.length.toLocaleString('en-US')} chars)` }), h('pre', { class: 'body', text: a.response })),
      ),
    );
  }
  return box;
}

function lifecycleView(d: InspectDetail): HTMLElement {
  const ol = h('ol', { id: 'detail-lifecycle' });
  if (d.lifecycle.length === 0) ol.appendChild(h('li', { class: 'muted', text: 'no email id' }));
  for (const e of d.lifecycle) {
    const b = h(
      'button',
      { class: `lifecycle-item${e.n === d.row.n ? ' current' : ''}`, attrs: { type: 'button', 'data-n': String(e.n) } },
      h('span', { class: 'time', text: clock(e.received_at) }),
      h('span', { class: `type kind-${e.kind ?? 'unknown'}`, text: e.type ?? '(no type)' }),
      h('span', { class: `status ${statusClass(e.status)}`, text: String(e.status) }),
    );
    if (e.n === d.row.n) b.setAttribute('aria-current', 'true');
    b.addEventListener('click', () => {
      const tr = rowEls.get(e.n);
      if (tr !== undefined) select(tr);
      void openDetail(e.n);
    });
    ol.appendChild(h('li', {}, b));
  }
  return ol;
}

function renderSendSigning(): void {
  const s = document.getElementById('send-signing') as HTMLSelectElement | null;
  if (s === null) return;
  const verifying = info?.verifying === true;
  const sign = s.querySelector<HTMLOptionElement>('option[value="sign"]');
  if (sign !== null) sign.disabled = !verifying;
  if (!verifying && s.value === 'sign') s.value = 'unsigned';
}

function actionsView(d: InspectDetail): HTMLElement {
  const n = d.row.n;
  const replay = h('button', { id: 'replay', class: 'primary', text: 'Replay', attrs: { type: 'button' } });
  replay.addEventListener('click', () => void replayRecords([n]));
  const edit = h('button', { id: 'edit', text: editing ? 'Close editor' : 'Edit and send', attrs: { type: 'button', 'aria-expanded': String(editing) } });
  const curl = h('button', { id: 'curl', text: 'curl', attrs: { type: 'button' } });
  const download = h('a', { id: 'download', class: 'button', text: 'Download body', attrs: { download: '' } });
  if (Number.isSafeInteger(n) && n >= 0) download.href = `${API}/records/${n}/body?token=${encodeURIComponent(token)}`;

  const editor = h('textarea', { id: 'editor', attrs: { spellcheck: 'false', rows: '14', 'aria-label': 'body to send' } });
  editor.value = d.body.pretty ?? d.body.text ?? '';
  const editorError = h('div', { id: 'editor-error', class: 'error', attrs: { role: 'alert', hidden: '' } });
  const sendSigning = h(
    'select',
    { id: 'send-signing', attrs: { 'aria-label': 'send signing' } },
    option('sign', "signed with the listener's secret"),
    option('unsigned', 'unsigned'),
    option('wrong', 'wrong signature'),
  );
  const send = h('button', { id: 'send', class: 'primary', text: 'Send', attrs: { type: 'button' } });
  const validate = (): boolean => {
    try {
      JSON.parse(editor.value);
      editorError.hidden = true;
      editorError.textContent = '';
      send.disabled = false;
      return true;
    } catch (e) {
      editorError.hidden = false;
      editorError.textContent = errorText(e);
      send.disabled = true;
      return false;
    }
  };
  editor.addEventListener('input', validate);
  const editorBox = h('div', { id: 'editor-box', attrs: editing ? {} : { hidden: '' } }, editor, editorError, h('div', { class: 'row-controls' }, sendSigning, send));
  edit.addEventListener('click', () => {
    editing = !editing;
    editorBox.hidden = !editing;
    edit.textContent = editing ? 'Close editor' : 'Edit and send';
    edit.setAttribute('aria-expanded', String(editing));
    if (editing) {
      validate();
      editor.focus();
    }
  });
  send.addEventListener('click', () => {
    if (!validate()) return;
    const req: SendRequest = { body: editor.value, signing: sendSigning.value as 'sign' | 'unsigned' | 'wrong' };
    const url = targetUrl();
    if (url !== undefined) req.url = url;
    void runAction('send', () => api<ActionResult>('POST', `${API}/send`, req));
  });

  const curlText = h('textarea', { id: 'curl-text', attrs: { readonly: '', rows: '5', spellcheck: 'false', 'aria-label': 'curl command' } });
  const copy = h('button', { id: 'copy', text: 'Copy', attrs: { type: 'button' } });
  const curlBox = h('div', { id: 'curl-box', attrs: { hidden: '' } }, curlText, copy);
  curl.addEventListener('click', () => {
    const req: CurlRequest = {};
    if (editing) {
      req.body = editor.value;
      req.signing = sendSigning.value as 'sign' | 'unsigned' | 'wrong';
    } else {
      req.record = n;
      req.signing = ui.replaySigning.value as 'sign' | 'original';
    }
    const url = targetUrl();
    if (url !== undefined) req.url = url;
    curlBox.hidden = false;
    curlText.value = 'asking for the command…';
    api<{ command: string }>('POST', `${API}/curl`, req).then(
      (r) => {
        curlText.value = r.command;
      },
      (e: unknown) => {
        curlText.value = `could not build the command: ${errorText(e)}`;
      },
    );
  });
  copy.addEventListener('click', () => {
    const fallback = (): void => {
      curlText.focus();
      curlText.select();
      copy.textContent = 'Selected: press Ctrl+C';
    };
    if (navigator.clipboard?.writeText) {
      navigator.clipboard.writeText(curlText.value).then(() => {
        copy.textContent = 'Copied';
        window.setTimeout(() => (copy.textContent = 'Copy'), 1500);
      }, fallback);
    } else fallback();
  });

  const box = h(
    'div',
    { id: 'detail-actions' },
    h('div', { class: 'row-controls' }, replay, edit, curl, download, h('span', { class: 'muted hint', text: 'replays to “replay to” above' })),
    editorBox,
    curlBox,
  );
  // after it is in the document
  queueMicrotask(() => {
    renderSendSigning();
    if (info?.verifying !== true) sendSigning.value = 'unsigned';
    if (editing) validate();
  });
  return box;
}

function renderDetail(d: InspectDetail): void {
  const r = d.row;
  const close = h('button', { id: 'detail-close', class: 'icon', text: '✕', title: 'close (Esc)', attrs: { type: 'button', 'aria-label': 'close' } });
  close.addEventListener('click', closeDetail);
  const meta = [`#${r.n}`, clock(r.received_at), `${r.method} ${r.path}`, statusText(r.status), r.source ?? ''].filter((x) => x !== '').join(' · ');
  fill(
    ui.detail,
    h(
      'div',
      { class: 'detail-head' },
      h('h2', { id: 'detail-title' }, h('span', { class: `type kind-${r.kind ?? 'unknown'}`, text: r.type ?? '(no type)' }), ' ', h('code', { class: 'id', text: r.id ?? '(no id)' })),
      close,
    ),
    h('p', { class: 'muted detail-meta', text: meta }),
    actionsView(d),
    section('Signature', verificationView(d)),
    section('Body', bodyView(d)),
    section('Schema', schemaView(d)),
    section('Forwarding', attemptsView(d)),
    section('Lifecycle of this email', lifecycleView(d)),
    section('Headers', headersView(d)),
  );
}

async function openDetail(n: number, opts: { keepScroll?: boolean } = {}): Promise<void> {
  const seq = ++detailSeq;
  if (detailN !== n) editing = false;
  detailN = n;
  ui.detail.hidden = false;
  document.body.classList.add('with-detail');
  if (!opts.keepScroll) {
    fill(ui.detail, h('p', { class: 'muted', text: 'loading…' }));
  }
  try {
    const d = await api<InspectDetail>('GET', `${API}/records/${n}`);
    if (seq !== detailSeq) return;
    const scroll = ui.detail.scrollTop;
    // keep what is being typed in the editor across a refresh
    const draft = editing ? (document.getElementById('editor') as HTMLTextAreaElement | null)?.value : undefined;
    detail = d;
    renderDetail(d);
    if (draft !== undefined) (byId('editor') as HTMLTextAreaElement).value = draft;
    if (opts.keepScroll) ui.detail.scrollTop = scroll;
    else ui.detail.scrollTop = 0;
  } catch (e) {
    if (seq !== detailSeq) return;
    detail = null;
    const close = h('button', { id: 'detail-close', class: 'icon', text: '✕', attrs: { type: 'button', 'aria-label': 'close' } });
    close.addEventListener('click', closeDetail);
    fill(ui.detail, h('div', { class: 'detail-head' }, h('h2', { id: 'detail-title', text: `record #${n}` }), close), h('p', { class: 'error', text: errorText(e) }));
  }
}

function closeDetail(): void {
  detailSeq++;
  detailN = null;
  detail = null;
  editing = false;
  ui.detail.hidden = true;
  document.body.classList.remove('with-detail');
  clear(ui.detail);
  (selected ?? ui.listWrap).focus({ preventScroll: true });
}

// ---------------------------------------------------------------------------------------------------------------
// Actions

function targetUrl(): string | undefined {
  const u = ui.replayUrl.value.trim();
  return u === '' ? undefined : u;
}

function showResult(what: string, content: HTMLElement[]): void {
  const close = h('button', { class: 'icon', text: '✕', attrs: { type: 'button', 'aria-label': 'dismiss' } });
  close.addEventListener('click', () => {
    ui.actionResult.hidden = true;
    clear(ui.actionResult);
  });
  fill(ui.actionResult, h('div', { class: 'result-head' }, h('strong', { text: what }), close), ...content);
  ui.actionResult.hidden = false;
}

function resultView(r: ActionResult): HTMLElement[] {
  const out: HTMLElement[] = [];
  const one = r.sent.length === 1 ? r.sent[0] : undefined;
  let summary: string;
  if (one !== undefined) {
    summary = one.status !== null ? `sent 1: ${statusText(one.status)} in ${Math.round(one.latency_ms)} ms` : `sent 1: failed: ${one.error ?? 'no answer'}`;
  } else {
    summary = `sent ${r.sent.length.toLocaleString('en-US')}: ${r.ok.toLocaleString('en-US')} ok, ${r.failed.toLocaleString('en-US')} failed`;
  }
  if (r.truncated > 0) summary += ` (${plural(r.truncated, 'more record')} matched but not sent: past the limit)`;
  out.push(h('p', { class: `result-summary ${r.failed > 0 ? 'bad' : 'good'}`, text: summary }));
  const list = h('ul', { class: 'result-list' });
  // every failure, and the successes only when there are few
  const shown = r.sent.filter((s) => !s.ok || r.sent.length <= 20).slice(0, 200);
  for (const s of shown) {
    const what = [s.n !== null ? `#${s.n}` : null, s.id].filter((x) => x !== null).join(' ');
    const outcome = s.status !== null ? statusText(s.status) : (s.error ?? 'no answer');
    list.appendChild(
      h(
        'li',
        { class: s.ok ? 'good' : 'bad' },
        h('span', { class: 'mono', text: what === '' ? 'edited body' : what }),
        ' → ',
        h('code', { text: s.url }),
        `: ${outcome} in ${Math.round(s.latency_ms)} ms`,
        s.error !== null && s.status !== null ? ` (${s.error})` : '',
        h('details', {}, h('summary', { text: 'response' }), h('pre', { class: 'body', text: s.response === '' ? '(empty)' : s.response })),
      ),
    );
  }
  if (shown.length < r.sent.length) list.appendChild(h('li', { class: 'muted', text: `${plural(r.sent.length - shown.length, 'more request')} not listed` }));
  out.push(list);
  return out;
}

let actionBusy = false;
async function runAction(what: string, call: () => Promise<ActionResult>): Promise<void> {
  if (actionBusy) return;
  actionBusy = true;
  showResult(`${what}…`, []);
  try {
    showResult(what, resultView(await call()));
  } catch (e) {
    showResult(`${what} failed`, [h('p', { class: 'result-summary bad', text: errorText(e) })]);
  } finally {
    actionBusy = false;
  }
}

function replayRecords(records: number[]): Promise<void> {
  const req: ReplayRequest = { records, signing: ui.replaySigning.value as 'sign' | 'original' };
  const url = targetUrl();
  if (url !== undefined) req.url = url;
  return runAction(`replay #${records.join(', #')}`, () => api<ActionResult>('POST', `${API}/replay`, req));
}

ui.replayAll.addEventListener('click', () => {
  const url = targetUrl() ?? (info !== null && info.endpoints.length > 0 ? 'the forward target' : '(no target)');
  const n = rowCount();
  const count = isEmptyFilter(filter)
    ? plural(total, 'record')
    : olderCursor === null && isFirstPage()
      ? `${plural(n, 'record')} matching`
      : `every record matching (${n.toLocaleString('en-US')} found so far)`;
  if (!confirm(`Replay ${count} to ${url}? (at most 10,000)`)) return;
  const req: ReplayRequest = { filter: { ...filter }, signing: ui.replaySigning.value as 'sign' | 'original' };
  const target = targetUrl();
  if (target !== undefined) req.url = target;
  void runAction('replay all matching', () => api<ActionResult>('POST', `${API}/replay`, req));
});

// ---------------------------------------------------------------------------------------------------------------
// Keyboard

function typing(t: EventTarget | null): boolean {
  if (!(t instanceof HTMLElement)) return false;
  return t.isContentEditable || t instanceof HTMLInputElement || t instanceof HTMLTextAreaElement || t instanceof HTMLSelectElement;
}

document.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape') {
    if (!ui.detail.hidden) {
      ev.preventDefault();
      closeDetail();
    } else if (typing(ev.target)) (ev.target as HTMLElement).blur();
    return;
  }
  if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(ev.target)) return;
  switch (ev.key) {
    case 'j':
    case 'ArrowDown':
      ev.preventDefault();
      move(1);
      break;
    case 'k':
    case 'ArrowUp':
      ev.preventDefault();
      move(-1);
      break;
    case 'Enter':
      if (selected !== null && !(ev.target instanceof HTMLButtonElement || ev.target instanceof HTMLAnchorElement)) {
        ev.preventDefault();
        void openDetail(Number(selected.dataset.n));
      }
      break;
    case 'r':
      if (selected !== null) {
        ev.preventDefault();
        void replayRecords([Number(selected.dataset.n)]);
      }
      break;
    case '/':
      ev.preventDefault();
      ui.search.focus();
      ui.search.select();
      break;
  }
});

byId('older').addEventListener('click', goOlder);
byId('newer').addEventListener('click', goNewer);
byId('new-notice').addEventListener('click', goFirst);
ui.more.addEventListener('click', () => {
  if (olderCursor === null) return;
  ui.more.hidden = true;
  void loadPage(olderCursor, true);
});

// ---------------------------------------------------------------------------------------------------------------
// Start

const initial = parseFilter(new URLSearchParams(location.hash.slice(1)));
writeFilterControls(initial);
filter = initial;
matches = rowMatcher(initial);
ui.replayUrl.placeholder = 'http://localhost:3000/webhooks';
updatePaging();
void loadInfo();
void loadPage(undefined);
connect();
